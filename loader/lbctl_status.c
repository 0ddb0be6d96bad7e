// SPDX-License-Identifier: GPL-2.0
/* `lbctl status`: reads what runs on the interface into one report, judges it
 * (the exit code a monitoring check reads), then prints it as text or JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "config.h"
#include "health.h"
#include "host.h"
#include "lbctl.h"
#include "lbctl_stats.h"
#include "log.h"
#include "pipeline.h"
#include "stages.h"

#define PROBLEM_LEN 192
#define MAX_PROBLEMS (1 + LB_SLOT_COUNT + LB_MAX_VIPS)

struct status_slot {
	__u32 prog_id; /* 0: empty */
	char prog_name[64];
	const struct lb_stage_def *stage;
};

struct status_vip {
	const struct lb_state_vip *view;
	__u32 by_state[LB_BACKEND_DOWN + 1]; /* backends per enum lb_backend_state */
	struct lb_backend backends[LB_MAX_BACKENDS_PER_VIP];
	__u32 backend_count;
};

struct status_problem {
	int exit_code;
	char text[PROBLEM_LEN];
};

struct status_report {
	struct lb_attachment att;
	struct status_slot slots[LB_SLOT_COUNT];
	bool host_known;
	struct lb_host_state host;
	struct status_vip vips[LB_MAX_VIPS];
	size_t vip_count;
	__u64 flows;
	struct status_problem problems[MAX_PROBLEMS];
	size_t problem_count;
	int exit_code; /* the smallest of the problems', or LBCTL_EXIT_OK */
};

static void prog_name_by_id(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	int fd;

	snprintf(buf, len, "(empty)");
	if (!id)
		return;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len))
		snprintf(buf, len, "%s", info.name);
	close(fd);
}

static __u64 count_flows(const struct ctl *ctl)
{
	struct lb_flow_key key, saved, *prev = NULL;
	__u64 n = 0;

	while (bpf_map_get_next_key(ctl->maps.fd[LB_MAP_FLOWS], prev, &key) == 0) {
		saved = key;
		prev = &saved;
		n++;
	}
	return n;
}

static void problem(struct status_report *r, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct status_report *r, int exit_code, const char *fmt, ...)
{
	struct status_problem *p;
	va_list ap;

	if (r->problem_count >= MAX_PROBLEMS)
		return;
	p = &r->problems[r->problem_count++];
	p->exit_code = exit_code;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
	if (r->exit_code == LBCTL_EXIT_OK || exit_code < r->exit_code)
		r->exit_code = exit_code;
}

/* 0, or -errno when the VIPs cannot be read (then nothing can be judged). */
static int read_report(const struct ctl *ctl, struct status_report *r)
{
	static struct lb_state st;
	const struct lb_state *state = &st;
	int ifindex = (int)if_nametoindex(ctl->ifname), err;
	__u32 slot, j;
	size_t i;

	memset(r, 0, sizeof(*r));
	err = lb_state_read(&ctl->maps, &st);
	if (err)
		return err;
	if (ifindex)
		lb_attachment_query(ifindex, &r->att);
	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		struct status_slot *s = &r->slots[slot];

		s->stage = lb_slot_stage(&ctl->maps, ctl->pin_dir, slot);
		s->prog_id = lb_slot_prog_id(&ctl->maps, slot);
		prog_name_by_id(s->prog_id, s->prog_name, sizeof(s->prog_name));
	}
	r->host_known = !lb_host_state_read(&ctl->maps, &r->host);
	for (i = 0; i < state->live_count; i++) {
		struct status_vip *v = &r->vips[r->vip_count++];

		v->view = &state->live[i];
		for (j = 0; j < v->view->pool.backend_count && j < LB_MAX_BACKENDS_PER_VIP; j++) {
			__u32 id = v->view->pool.backend_ids[j];
			struct lb_backend *be = &v->backends[v->backend_count++];

			bpf_map_lookup_elem(ctl->maps.fd[LB_MAP_BACKENDS], &id, be);
			if (be->state <= LB_BACKEND_DOWN)
				v->by_state[be->state]++;
		}
	}
	r->flows = count_flows(ctl);
	return 0;
}

/* What a monitoring check must hear about, each with its exit code. */
static void judge(const struct ctl *ctl, struct status_report *r)
{
	char label[64];
	__u32 slot;
	size_t i;

	if (!r->att.found)
		problem(r, LBCTL_EXIT_DATA_PATH, "parse is not attached to %s: nothing is balanced",
			ctl->ifname);
	for (slot = 0; slot < LB_SLOT_COUNT; slot++)
		if (!r->slots[slot].prog_id)
			problem(r, LBCTL_EXIT_DATA_PATH,
				"slot %s is empty: packets that need it are passed unbalanced "
				"(lb-load fills every slot)", lb_slot_name(slot));
	for (i = 0; i < r->vip_count; i++) {
		const struct status_vip *v = &r->vips[i];

		if (v->by_state[LB_BACKEND_UP])
			continue;
		lb_vip_label(&v->view->key, v->view->ipv6 ? v->view->key6.addr : NULL, label,
			     sizeof(label));
		problem(r, LBCTL_EXIT_NO_BACKEND,
			"VIP %s has no up backend (%u drain, %u down): its new flows are dropped",
			label, v->by_state[LB_BACKEND_DRAIN], v->by_state[LB_BACKEND_DOWN]);
	}
}

/* --- text --------------------------------------------------------------------------- */

/* How balanced frames leave, and what lb-load changed on the host. */
static void print_host_state(const struct status_report *r)
{
	if (!r->host_known)
		return;
	printf("  frames leave %s\n",
	       r->host.flags & LB_HOST_F_TX_VIA_STACK ?
		       "through the kernel's forwarding: the veth peer runs no XDP program, so "
		       "it would drop XDP_TX frames (load again once it has one)" :
		       "by XDP_TX or XDP_REDIRECT");
	if (r->host.flags & (LB_HOST_F_FORWARDING_SET | LB_HOST_F_ACCEPT_LOCAL_SET))
		printf("  set by lb-load, restored at unload:%s%s\n",
		       r->host.flags & LB_HOST_F_FORWARDING_SET ? " IPv4 forwarding" : "",
		       r->host.flags & LB_HOST_F_ACCEPT_LOCAL_SET ? " accept_local" : "");
}

/* What xdp-lbd's probes found (health.h), after a backend's line; nothing
 * for a backend never probed.
 */
static void print_health(const struct ctl *ctl, __u32 id, const struct lb_backend *be)
{
	struct lb_backend_health rec;
	char since[32] = "?";
	struct tm tm;
	time_t t;

	if (lb_health_read(&ctl->maps, id, be->addr, be->vip_id, &rec) ||
	    rec.health == LB_HEALTH_UNPROBED)
		return;
	t = (time_t)rec.since_s;
	if (gmtime_r(&t, &tm))
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("  health %s since %s (%llds), last probe %s: %s", lb_health_name(rec.health),
	       since, (long long)(time(NULL) - t), rec.last_ok ? "ok" : "failed",
	       rec.last_result);
}

static void print_text(const struct ctl *ctl, const struct status_report *r)
{
	const struct lb_attachment *att = &r->att;
	char label[64], addr[INET6_ADDRSTRLEN], names[128];
	__u32 slot, j;
	size_t i;

	printf("%s: %s, %s mode, parse %s\n", ctl->ifname,
	       !att->found ? "parse NOT attached" : att->legacy ? "single-program (legacy)" :
								  "libxdp dispatcher",
	       att->mode == XDP_MODE_SKB ? "skb" : "native", att->found ? LB_PARSE_PROG_NAME : "-");
	if (att->found && att->legacy)
		printf("  parse  %-16s id %-6u (a single program: no run order)\n",
		       LB_PARSE_PROG_NAME, att->parse_id);
	else if (att->found)
		printf("  parse  %-16s id %-6u priority %d (%d XDP programs on %s)\n",
		       LB_PARSE_PROG_NAME, att->parse_id, att->parse_prio, att->program_count,
		       ctl->ifname);
	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		const struct status_slot *s = &r->slots[slot];

		lb_stage_names(slot, names, sizeof(names));
		printf("  %-6s %-16s id %-6u stage %-12s (available: %s)\n", lb_slot_name(slot),
		       s->prog_name, s->prog_id, s->stage ? s->stage->name : "?", names);
	}
	print_host_state(r);
	for (i = 0; i < r->vip_count; i++) {
		const struct status_vip *v = &r->vips[i];

		lb_vip_label(&v->view->key, v->view->ipv6 ? v->view->key6.addr : NULL, label,
			     sizeof(label));
		printf("  VIP %s (id %u, pool %u): %u backends\n", label, v->view->vip.vip_id,
		       v->view->vip.pool_id, v->view->pool.backend_count);
		printf("    policy %s", lb_policy_name((__u8)v->view->vip.policy));
		if (v->view->vip.policy == LB_POLICY_MAGLEV)
			printf(" (table %u)", v->view->vip.maglev_table);
		printf("\n");
		for (j = 0; j < v->backend_count; j++) {
			lb_backend_addr_text(&v->backends[j], addr, sizeof(addr));
			printf("    backend %-4u %-15s %-5s weight %u",
			       v->view->pool.backend_ids[j], addr,
			       lb_state_name(v->backends[j].state), v->backends[j].weight);
			print_health(ctl, v->view->pool.backend_ids[j], &v->backends[j]);
			printf("\n");
		}
	}
	printf("  flows in table: %llu\n", (unsigned long long)r->flows);
	for (i = 0; i < r->problem_count; i++)
		printf("  warning: %s (exit %d)\n", r->problems[i].text, r->problems[i].exit_code);
}

/* --- JSON (docs/json.md) --------------------------------------------------------------- */

static json_object *json_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *json_slots(const struct status_report *r)
{
	json_object *slots = json_object_new_array();
	char names[128];
	__u32 slot;

	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		const struct status_slot *s = &r->slots[slot];
		json_object *o = json_object_new_object(), *available = json_object_new_array();
		char *save = NULL, *name;

		json_object_object_add(o, "slot", json_object_new_string(lb_slot_name(slot)));
		json_object_object_add(o, "program",
				       json_str_or_null(s->prog_id ? s->prog_name : NULL));
		json_object_object_add(o, "id", json_object_new_int64(s->prog_id));
		json_object_object_add(o, "stage",
				       json_str_or_null(s->stage ? s->stage->name : NULL));
		lb_stage_names(slot, names, sizeof(names));
		for (name = strtok_r(names, " ", &save); name; name = strtok_r(NULL, " ", &save))
			json_object_array_add(available, json_object_new_string(name));
		json_object_object_add(o, "available", available);
		json_object_array_add(slots, o);
	}
	return slots;
}

/* A backend's health (docs/json.md): null when never probed. */
static json_object *json_health(const struct ctl *ctl, __u32 id, const struct lb_backend *be)
{
	struct lb_backend_health rec;
	json_object *o;

	if (lb_health_read(&ctl->maps, id, be->addr, be->vip_id, &rec) ||
	    rec.health == LB_HEALTH_UNPROBED)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "state", json_object_new_string(lb_health_name(rec.health)));
	json_object_object_add(o, "since", json_object_new_int64((int64_t)rec.since_s));
	json_object_object_add(o, "last_probe_ok", json_object_new_boolean(rec.last_ok));
	json_object_object_add(o, "last_result", json_object_new_string(rec.last_result));
	return o;
}

static json_object *json_vips(const struct ctl *ctl, const struct status_report *r)
{
	json_object *vips = json_object_new_array();
	char label[64], addr[INET6_ADDRSTRLEN];
	size_t i;
	__u32 j;

	for (i = 0; i < r->vip_count; i++) {
		const struct status_vip *v = &r->vips[i];
		json_object *o = json_object_new_object(), *backends = json_object_new_array();

		lb_vip_label(&v->view->key, v->view->ipv6 ? v->view->key6.addr : NULL, label,
			     sizeof(label));
		json_object_object_add(o, "vip", json_object_new_string(label));
		json_object_object_add(o, "id", json_object_new_int64(v->view->vip.vip_id));
		json_object_object_add(o, "pool", json_object_new_int64(v->view->vip.pool_id));
		json_object_object_add(o, "policy", json_object_new_string(
			lb_policy_name((__u8)v->view->vip.policy)));
		json_object_object_add(o, "maglev_table",
				       v->view->vip.policy == LB_POLICY_MAGLEV ?
					       json_object_new_int64(v->view->vip.maglev_table) :
					       NULL);
		json_object_object_add(o, "up_backends",
				       json_object_new_int64(v->by_state[LB_BACKEND_UP]));
		for (j = 0; j < v->backend_count; j++) {
			json_object *b = json_object_new_object();

			lb_backend_addr_text(&v->backends[j], addr, sizeof(addr));
			json_object_object_add(b, "id",
					       json_object_new_int64(v->view->pool.backend_ids[j]));
			json_object_object_add(b, "address", json_object_new_string(addr));
			json_object_object_add(b, "state", json_object_new_string(
				lb_state_name(v->backends[j].state)));
			json_object_object_add(b, "weight",
					       json_object_new_int64(v->backends[j].weight));
			json_object_object_add(b, "health",
					       json_health(ctl, v->view->pool.backend_ids[j],
							   &v->backends[j]));
			json_object_array_add(backends, b);
		}
		json_object_object_add(o, "backends", backends);
		json_object_array_add(vips, o);
	}
	return vips;
}

static void print_json(const struct ctl *ctl, const struct status_report *r)
{
	const struct lb_attachment *att = &r->att;
	json_object *root = json_object_new_object(), *parse = NULL, *problems, *host = NULL;
	size_t i;

	json_object_object_add(root, "command", json_object_new_string("status"));
	json_object_object_add(root, "interface", json_object_new_string(ctl->ifname));
	if (att->found) {
		parse = json_object_new_object();
		json_object_object_add(parse, "program",
				       json_object_new_string(LB_PARSE_PROG_NAME));
		json_object_object_add(parse, "id", json_object_new_int64(att->parse_id));
		json_object_object_add(parse, "mode", json_object_new_string(
			att->mode == XDP_MODE_SKB ? "skb" : "native"));
		json_object_object_add(parse, "dispatcher", json_object_new_boolean(!att->legacy));
		json_object_object_add(parse, "priority", att->legacy ? NULL :
					json_object_new_int(att->parse_prio));
		json_object_object_add(parse, "programs_on_interface",
				       json_object_new_int(att->program_count));
	}
	json_object_object_add(root, "parse", parse);
	json_object_object_add(root, "slots", json_slots(r));
	if (r->host_known) {
		host = json_object_new_object();
		json_object_object_add(host, "frames_leave", json_object_new_string(
			r->host.flags & LB_HOST_F_TX_VIA_STACK ? "kernel" : "xdp"));
		json_object_object_add(host, "forwarding_set", json_object_new_boolean(
			r->host.flags & LB_HOST_F_FORWARDING_SET));
		json_object_object_add(host, "accept_local_set", json_object_new_boolean(
			r->host.flags & LB_HOST_F_ACCEPT_LOCAL_SET));
	}
	json_object_object_add(root, "host", host);
	json_object_object_add(root, "vips", json_vips(ctl, r));
	json_object_object_add(root, "flows", json_object_new_int64((int64_t)r->flows));
	problems = json_object_new_array();
	for (i = 0; i < r->problem_count; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "exit_code",
				       json_object_new_int(r->problems[i].exit_code));
		json_object_object_add(p, "problem", json_object_new_string(r->problems[i].text));
		json_object_array_add(problems, p);
	}
	json_object_object_add(root, "problems", problems);
	json_object_object_add(root, "exit_code", json_object_new_int(r->exit_code));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_SPACED |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int lbctl_status(struct ctl *ctl)
{
	/* Large (a VIP's backends each): static, lbctl runs one command. */
	static struct status_report report;

	int err = read_report(ctl, &report);

	if (err) {
		lb_err("Failed to read the VIPs of %s: %s", ctl->ifname, strerror(-err));
		return LBCTL_EXIT_FAILED;
	}
	judge(ctl, &report);
	if (ctl->args.json)
		print_json(ctl, &report);
	else
		print_text(ctl, &report);
	return report.exit_code;
}
