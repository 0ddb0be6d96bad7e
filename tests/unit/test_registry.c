// SPDX-License-Identifier: GPL-2.0
/* The stage registry (LB_POLICIES, LB_FORWARDING_SLOTS and LB_FORWARDING_STAGES
 * in lb_consts_common.h) against what the build made and what the docs say:
 * every .bpf.c under bpf/lb/ and bpf/encap/ is in the library exactly once,
 * every entry names a program its object really has, every slot can be
 * filled, every policy and program is documented, and the map list
 * (LB_MAPS in lb_maps_common.h) names exactly the maps the objects define. Needs no privileges:
 * objects are opened, never loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "lb_consts_common.h"
#include "maps.h"
#include "parse.skel.h"
#include "probe_encap.skel.h"
#include "stage_skels.h"
#include "stages.h"
#include "test_harness.h"

/* Whether @word is one of the space-separated words of @list. */
static bool in_list(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
			return true;
		p += len;
	}
	return false;
}

static void test_every_built_stage_is_in_the_library_once(void)
{
	char built[] = LB_BUILT_STAGE_OBJECTS, *save, *object;
	char msg[160];
	size_t i, found;

	for (object = strtok_r(built, " ", &save); object; object = strtok_r(NULL, " ", &save)) {
		for (i = 0, found = 0; i < lb_stage_def_count; i++)
			found += !strcmp(lb_stage_defs[i].object, object);
		snprintf(msg, sizeof(msg), "bpf/*/%s.bpf.c is in the stage library once", object);
		ASSERT_EQ(found, 1, msg);
	}
	for (i = 0; i < lb_stage_def_count; i++) {
		snprintf(msg, sizeof(msg), "stage %s: its object %s is built", lb_stage_defs[i].name,
			 lb_stage_defs[i].object);
		ASSERT_TRUE(in_list(LB_BUILT_STAGE_OBJECTS, lb_stage_defs[i].object), msg);
	}
}

/* The program an entry names is in its object, as SEC("xdp"), and its name
 * survives the kernel's 15 characters.
 */
static void test_every_entry_names_a_program_of_its_object(void)
{
	char msg[160];
	size_t i;

	for (i = 0; i < lb_stage_def_count; i++) {
		const struct lb_stage_def *def = &lb_stage_defs[i];
		struct bpf_object *obj;
		struct bpf_program *prog;
		const void *bytes;
		size_t size;

		bytes = def->elf_bytes(&size);
		obj = bpf_object__open_mem(bytes, size, NULL);
		snprintf(msg, sizeof(msg), "open the object of stage %s", def->name);
		if (!ASSERT_TRUE(obj != NULL, msg))
			continue;
		prog = bpf_object__find_program_by_name(obj, def->prog_name);
		snprintf(msg, sizeof(msg), "stage %s: program %s in %s.bpf.c", def->name,
			 def->prog_name, def->object);
		if (ASSERT_TRUE(prog != NULL, msg)) {
			snprintf(msg, sizeof(msg), "stage %s: program %s is SEC(\"xdp\")", def->name,
				 def->prog_name);
			ASSERT_STREQ(bpf_program__section_name(prog), "xdp", msg);
		}
		snprintf(msg, sizeof(msg), "program %s fits the kernel's 15 characters",
			 def->prog_name);
		ASSERT_TRUE(strlen(def->prog_name) <= 15, msg);
		bpf_object__close(obj);
	}
}

static void test_every_slot_has_a_name_and_a_stage(void)
{
	char msg[96];
	__u32 slot;

	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		snprintf(msg, sizeof(msg), "slot %u has a name", slot);
		if (!ASSERT_TRUE(lb_slot_name(slot) != NULL, msg))
			continue;
		snprintf(msg, sizeof(msg), "slot %s has a stage", lb_slot_name(slot));
		ASSERT_TRUE(lb_stage_default(slot) != NULL, msg);
		snprintf(msg, sizeof(msg), "slot %s found by its name", lb_slot_name(slot));
		ASSERT_EQ(lb_slot_by_name(lb_slot_name(slot)), slot, msg);
	}
	ASSERT_TRUE(lb_slot_name(LB_SLOT_COUNT) == NULL, "no name past the last slot");
}

/* Each policy: its own slot (number = policy), its stage there under the
 * config's name, and the config reads and writes that name.
 */
static void test_policies_slots_and_config_agree(void)
{
	char msg[128];
	int policy;

	for (policy = 0; policy < LB_POLICY_COUNT; policy++) {
		const char *name = lb_policy_name((uint8_t)policy);

		snprintf(msg, sizeof(msg), "policy %d's slot", policy);
		ASSERT_EQ(lb_policy_slot((__u32)policy), policy, msg);
		snprintf(msg, sizeof(msg), "policy %s is read back by the config", name);
		ASSERT_EQ(lb_policy_by_name(name), policy, msg);
		snprintf(msg, sizeof(msg), "policy %s has its stage in its slot", name);
		ASSERT_TRUE(lb_stage_find(lb_policy_slot((__u32)policy), name) != NULL, msg);
	}
	ASSERT_EQ(lb_policy_slot(LB_POLICY_COUNT), LB_SLOT_COUNT, "no slot for a bad policy");
	ASSERT_EQ(lb_policy_by_name("no-such-policy"), -1, "an unknown policy");
}

/* The programs beside the stages, each in an object of its own. */
static const struct {
	const char *object, *prog_name;
	const void *(*elf_bytes)(size_t *size);
} others[] = {
	{ "probe_encap", "lb_probe_encap", probe_encap_bpf__elf_bytes }, /* xdp-lbd's */
};

/* The map list (LB_MAPS) against the maps the built objects define: every
 * map of parse, of every stage and of the other programs (xdp-lbd's probe
 * encapsulation) is listed, and not as lb-load's own (LOADER);
 * every map listed as SHARED or OWN is defined by some object (the loader
 * adopts and pins a shared one from there); every shared map is in parse,
 * which the loader loads first; every name survives the kernel's 15
 * characters.
 */
static void test_maps_list_and_objects_agree(void)
{
	size_t defined_by[LB_MAP_COUNT] = { 0 };
	bool in_parse[LB_MAP_COUNT] = { false };
	char msg[160];
	size_t i, stages_end = lb_stage_def_count + 1;
	size_t obj_count = stages_end + sizeof(others) / sizeof(others[0]);
	int m;

	for (i = 0; i < obj_count; i++) {
		const char *object = !i ? "parse" : i < stages_end ? lb_stage_defs[i - 1].object :
								    others[i - stages_end].object;
		const void *bytes;
		struct bpf_object *obj;
		struct bpf_map *map;
		size_t size;

		bytes = !i ? parse_bpf__elf_bytes(&size) :
		       i < stages_end ? lb_stage_defs[i - 1].elf_bytes(&size) :
					others[i - stages_end].elf_bytes(&size);
		obj = bpf_object__open_mem(bytes, size, NULL);
		snprintf(msg, sizeof(msg), "open the object %s", object);
		if (!ASSERT_TRUE(obj != NULL, msg))
			continue;
		bpf_object__for_each_map(map, obj) {
			const char *name = bpf_map__name(map);

			if (bpf_map__is_internal(map))
				continue; /* .rodata, .bss: the object's own globals */
			for (m = 0; m < LB_MAP_COUNT; m++)
				if (!strcmp(lb_map_names[m], name))
					break;
			snprintf(msg, sizeof(msg), "map %s of %s.bpf.c is in LB_MAPS", name,
				 object);
			if (!ASSERT_TRUE(m < LB_MAP_COUNT, msg))
				continue;
			defined_by[m]++;
			snprintf(msg, sizeof(msg), "map %s of %s.bpf.c is not listed as LOADER",
				 name, object);
			ASSERT_TRUE(lb_map_is_shared(m) || !lb_map_is_pinned(m), msg);
			if (!i)
				in_parse[m] = true;
		}
		bpf_object__close(obj);
	}
	for (m = 0; m < LB_MAP_COUNT; m++) {
		snprintf(msg, sizeof(msg), "map %s fits the kernel's 15 characters",
			 lb_map_names[m]);
		ASSERT_TRUE(strlen(lb_map_names[m]) <= 15, msg);
		if (lb_map_is_shared(m)) {
			snprintf(msg, sizeof(msg), "shared map %s is defined by parse.bpf.c",
				 lb_map_names[m]);
			ASSERT_TRUE(in_parse[m], msg);
		} else if (!lb_map_is_pinned(m)) {
			snprintf(msg, sizeof(msg), "map %s (OWN) is defined by a stage object",
				 lb_map_names[m]);
			ASSERT_TRUE(defined_by[m] > 0, msg);
		}
	}
}

/* Whether file @path contains @text. */
static bool file_has(const char *path, const char *text)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, text) != NULL;
}

/* Docs that match the code: every policy in the configuration reference, the
 * policies guide and lbctl's JSON schema, every program in the architecture's
 * stage table.
 */
static void test_every_stage_is_documented(void)
{
	char msg[160], quoted[64];
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(quoted, sizeof(quoted), "`%s`", others[i].prog_name);
		snprintf(msg, sizeof(msg), "docs/architecture.md names program %s",
			 others[i].prog_name);
		ASSERT_TRUE(file_has("docs/architecture.md", quoted), msg);
	}
	for (i = 0; i < lb_stage_def_count; i++) {
		const struct lb_stage_def *def = &lb_stage_defs[i];

		snprintf(quoted, sizeof(quoted), "`%s`", def->prog_name);
		snprintf(msg, sizeof(msg), "docs/architecture.md names program %s", def->prog_name);
		ASSERT_TRUE(file_has("docs/architecture.md", quoted), msg);
		if (def->slot >= LB_POLICY_COUNT)
			continue;
		snprintf(quoted, sizeof(quoted), "`%s`", def->name);
		snprintf(msg, sizeof(msg), "docs/policies.md explains policy %s", def->name);
		ASSERT_TRUE(file_has("docs/policies.md", quoted), msg);
		snprintf(msg, sizeof(msg), "docs/configuration.md lists policy %s", def->name);
		ASSERT_TRUE(file_has("docs/configuration.md", def->name), msg);
		/* lbctl status --json names the policy: the schema's enum must know it. */
		snprintf(quoted, sizeof(quoted), "\"%s\"", def->name);
		snprintf(msg, sizeof(msg), "docs/lbctl.schema.json allows policy %s", def->name);
		ASSERT_TRUE(file_has("docs/lbctl.schema.json", quoted), msg);
	}
}

static const struct test_case cases[] = {
	TEST_CASE(test_every_built_stage_is_in_the_library_once),
	TEST_CASE(test_every_entry_names_a_program_of_its_object),
	TEST_CASE(test_every_slot_has_a_name_and_a_stage),
	TEST_CASE(test_policies_slots_and_config_agree),
	TEST_CASE(test_maps_list_and_objects_agree),
	TEST_CASE(test_every_stage_is_documented),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return test_main("registry", cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
