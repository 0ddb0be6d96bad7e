// SPDX-License-Identifier: GPL-2.0
/* The stage library and a generic stage loader; see stages.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "lb_consts_common.h"
#include "log.h"
#include "stage_skels.h"
#include "stages.h"

/* The library, from the lists in lb_consts_common.h: each policy's stage in
 * its own slot (named as the config's `policy:` spells it), then the
 * forwarding stages.
 */
#define POLICY_STAGE_DEF(id, name, slot, slot_name, object, program)                     \
	{ name, LB_SLOT_##slot, #program, object##_bpf__elf_bytes, #object },
#define FORWARDING_STAGE_DEF(name, slot, object, program)                                \
	{ name, LB_SLOT_##slot, #program, object##_bpf__elf_bytes, #object },
const struct lb_stage_def lb_stage_defs[] = {
	LB_POLICIES(POLICY_STAGE_DEF)
	LB_FORWARDING_STAGES(FORWARDING_STAGE_DEF)
};
const size_t lb_stage_def_count = sizeof(lb_stage_defs) / sizeof(lb_stage_defs[0]);

#define POLICY_SLOT_NAME(id, name, slot, slot_name, object, program) [LB_SLOT_##slot] = slot_name,
#define FORWARDING_SLOT_NAME(slot, slot_name) [LB_SLOT_##slot] = slot_name,
static const char *const slot_names[LB_SLOT_COUNT] = {
	LB_POLICIES(POLICY_SLOT_NAME)
	LB_FORWARDING_SLOTS(FORWARDING_SLOT_NAME)
};

const char *lb_slot_name(__u32 slot)
{
	return slot < LB_SLOT_COUNT ? slot_names[slot] : NULL;
}

int lb_slot_by_name(const char *name)
{
	int slot;

	for (slot = 0; slot < LB_SLOT_COUNT; slot++)
		if (!strcmp(slot_names[slot], name))
			return slot;
	return -1;
}

const struct lb_stage_def *lb_stage_find(__u32 slot, const char *name)
{
	size_t i;

	for (i = 0; i < lb_stage_def_count; i++)
		if (lb_stage_defs[i].slot == slot && !strcmp(lb_stage_defs[i].name, name))
			return &lb_stage_defs[i];
	return NULL;
}

const struct lb_stage_def *lb_stage_default(__u32 slot)
{
	size_t i;

	for (i = 0; i < lb_stage_def_count; i++)
		if (lb_stage_defs[i].slot == slot)
			return &lb_stage_defs[i];
	return NULL;
}

void lb_stage_names(__u32 slot, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < lb_stage_def_count && used < len; i++)
		if (lb_stage_defs[i].slot == slot)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
						 lb_stage_defs[i].name);
}

void lb_stage_pin_path(const char *pin_dir, const struct lb_stage_def *def, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%s/stage_%s_%s", pin_dir, lb_slot_name(def->slot), def->name);
}

/* Writes @t over the `const volatile struct lb_tunables lb_tunables` of @obj
 * (not loaded yet). -ENOENT when the object has no such variable, -EINVAL
 * when it is of another size: a stage built against another contract.
 */
static int set_tunables(struct bpf_object *obj, const struct lb_tunables *t)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vsi;
	const struct btf_type *sec;
	struct bpf_map *map;
	size_t data_size;
	void *data;
	int id, i;

	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -ENOENT;
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, (__u32)id);
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map) && strstr(bpf_map__name(map), ".rodata"))
			break;
	}
	if (!map)
		return -ENOENT;
	data = (void *)bpf_map__initial_value(map, &data_size);
	vsi = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vsi++) {
		const struct btf_type *var = btf__type_by_id(btf, vsi->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), "lb_tunables"))
			continue;
		if (vsi->size != sizeof(*t) || !data || vsi->offset + sizeof(*t) > data_size)
			return -EINVAL;
		memcpy((char *)data + vsi->offset, t, sizeof(*t));
		return 0;
	}
	return -ENOENT;
}

int lb_stage_load(const struct lb_stage_def *def, const struct lb_maps *maps,
		  const struct lb_tunables *tunables, enum bpf_attach_type type,
		  struct lb_stage *st)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = def->prog_name);
	struct lb_tunables own;
	struct bpf_program *prog;
	const void *bytes;
	size_t size;
	int err;

	memset(st, 0, sizeof(*st));
	st->def = def;
	st->prog_fd = -1;
	bytes = def->elf_bytes(&size);
	st->obj = bpf_object__open_mem(bytes, size, &opts);
	if (!st->obj) {
		err = -errno;
		goto fail;
	}
	prog = bpf_object__find_program_by_name(st->obj, def->prog_name);
	if (!prog) {
		err = -ENOENT;
		goto fail;
	}
	bpf_program__set_expected_attach_type(prog, type);
	/* A fact of the machine, not a setting: filled here for every caller. */
	own = *tunables;
	if (libbpf_num_possible_cpus() > 0)
		own.possible_cpus = (__u32)libbpf_num_possible_cpus();
	err = set_tunables(st->obj, &own);
	if (err)
		lb_err("stage %s has no lb_tunables of %zu bytes (%s): it was built against "
		       "another lb_tunables_common.h",
		       def->name, sizeof(*tunables), strerror(-err));
	if (!err)
		err = lb_maps_reuse(st->obj, maps);
	if (!err)
		err = bpf_object__load(st->obj);
	if (err)
		goto fail;
	st->prog_fd = bpf_program__fd(prog);
	return 0;
fail:
	lb_stage_close(st);
	return err;
}

void lb_stage_close(struct lb_stage *st)
{
	bpf_object__close(st->obj);
	st->obj = NULL;
	st->prog_fd = -1;
}
