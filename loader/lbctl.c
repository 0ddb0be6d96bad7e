// SPDX-License-Identifier: GPL-2.0
/* lbctl: look at a loaded xdp-lb.
 *
 *   lbctl status IFNAME          mode, stage programs, VIPs and backends
 *   lbctl stats IFNAME [--json]  stage counters and per-backend figures
 *   lbctl flows IFNAME           the flow table: 5-tuple -> backend
 *   lbctl swap IFNAME SLOT STAGE put another stage into a slot, e.g. swap veth1 encap gue
 *   lbctl encap IFNAME STAGE     the same for the encap slot: encap veth1 gue
 *
 * Commands may be shortened to any unambiguous prefix (st is ambiguous, sta
 * is status, stats needs stats).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "counter_names.h"
#include "lb_structs_common.h"
#include "log.h"
#include "maps.h"
#include "pins.h"
#include "pipeline.h"
#include "stages.h"

struct ctl {
	const char *ifname;
	char pin_dir[128];
	struct lb_maps maps;
	bool json;
	const char *args[2]; /* positional arguments after IFNAME */
	int arg_count;
};

/* A VIP as read back from the maps. */
struct vip_view {
	struct lb_vip_key key;
	struct lb_vip vip;
	struct lb_pool pool;
};

static void vip_label(const struct lb_vip_key *key, char *buf, size_t len)
{
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &key->addr, addr, sizeof(addr));
	if (key->port)
		snprintf(buf, len, "%s:%u/%s", addr, ntohs(key->port), lb_proto_name(key->proto));
	else
		snprintf(buf, len, "%s:*/%s", addr, lb_proto_name(key->proto));
}

/* Reads every VIP of the live config generation with its live pool; returns
 * the count.
 */
static int read_vips(const struct ctl *ctl, struct vip_view *out, int cap)
{
	struct lb_vip_key key, prev_key, *prev = NULL;
	__u32 zero = 0, gen = 0;
	int n = 0;

	bpf_map_lookup_elem(ctl->maps.fd[LB_MAP_CONFIG_GEN], &zero, &gen);
	while (n < cap && bpf_map_get_next_key(ctl->maps.fd[LB_MAP_VIPS], prev, &key) == 0) {
		prev_key = key;
		prev = &prev_key;
		if (key.gen != (gen & 1))
			continue;
		out[n].key = key;
		if (bpf_map_lookup_elem(ctl->maps.fd[LB_MAP_VIPS], &key, &out[n].vip) ||
		    bpf_map_lookup_elem(ctl->maps.fd[LB_MAP_POOLS], &out[n].vip.pool_id,
					&out[n].pool))
			continue;
		n++;
	}
	return n;
}

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

static int cmd_status(struct ctl *ctl)
{
	static struct vip_view vips[LB_MAX_VIPS];
	int ifindex = (int)if_nametoindex(ctl->ifname), n, i;
	struct lb_attachment att = { 0 };
	char name[64], label[64], addr[INET_ADDRSTRLEN];
	__u32 slot, j;

	if (ifindex)
		lb_attachment_query(ifindex, &att);
	printf("%s: %s, %s mode, parse %s\n", ctl->ifname,
	       !att.found ? "parse NOT attached" : att.legacy ? "single-program (legacy)" :
								"libxdp dispatcher",
	       att.mode == XDP_MODE_SKB ? "skb" : "native",
	       att.found ? LB_PARSE_PROG_NAME : "-");
	if (att.found)
		printf("  parse  %-16s id %-6u priority %d (%d XDP programs on %s)\n",
		       LB_PARSE_PROG_NAME, att.parse_id, att.parse_prio, att.program_count,
		       ctl->ifname);
	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		const struct lb_stage_def *def = lb_slot_stage(&ctl->maps, ctl->pin_dir, slot);
		__u32 id = lb_slot_prog_id(&ctl->maps, slot);
		char names[128];

		prog_name_by_id(id, name, sizeof(name));
		lb_stage_names(slot, names, sizeof(names));
		printf("  %-6s %-16s id %-6u stage %-12s (available: %s)\n", lb_slot_name(slot),
		       name, id, def ? def->name : "?", names);
	}
	n = read_vips(ctl, vips, LB_MAX_VIPS);
	for (i = 0; i < n; i++) {
		vip_label(&vips[i].key, label, sizeof(label));
		printf("  VIP %s (id %u, pool %u): %u backends\n", label, vips[i].vip.vip_id,
		       vips[i].vip.pool_id, vips[i].pool.backend_count);
		for (j = 0; j < vips[i].pool.backend_count && j < LB_MAX_BACKENDS_PER_VIP; j++) {
			__u32 id = vips[i].pool.backend_ids[j];
			struct lb_backend be = { 0 };

			bpf_map_lookup_elem(ctl->maps.fd[LB_MAP_BACKENDS], &id, &be);
			inet_ntop(AF_INET, &be.addr, addr, sizeof(addr));
			printf("    backend %-4u %-15s %-5s weight %u\n", id, addr,
			       lb_state_name(be.state), be.weight);
		}
	}
	printf("  flows in table: %llu\n", (unsigned long long)count_flows(ctl));
	return 0;
}

static int sum_percpu_u64(int fd, __u32 key, __u64 *out)
{
	int cpus = libbpf_num_possible_cpus(), cpu;
	__u64 *vals = calloc((size_t)cpus, sizeof(*vals));

	*out = 0;
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		free(vals);
		return -errno;
	}
	for (cpu = 0; cpu < cpus; cpu++)
		*out += vals[cpu];
	free(vals);
	return 0;
}

static int backend_stats_sum(int fd, __u32 id, struct lb_backend_stats *out)
{
	int cpus = libbpf_num_possible_cpus(), cpu;
	struct lb_backend_stats *vals = calloc((size_t)cpus, sizeof(*vals));

	memset(out, 0, sizeof(*out));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &id, vals)) {
		free(vals);
		return -errno;
	}
	for (cpu = 0; cpu < cpus; cpu++) {
		out->packets += vals[cpu].packets;
		out->bytes += vals[cpu].bytes;
		out->new_flows += vals[cpu].new_flows;
	}
	free(vals);
	return 0;
}

static void print_counters_text(const struct ctl *ctl)
{
	const char *stage = "";
	__u32 id;
	__u64 v;

	for (id = 0; id < LB_COUNTER_MAX; id++) {
		if (strcmp(stage, lb_counter_stage(id))) {
			stage = lb_counter_stage(id);
			printf("%s%s:", id ? "\n" : "", stage);
		}
		sum_percpu_u64(ctl->maps.fd[LB_MAP_COUNTERS], id, &v);
		printf(" %s=%llu", lb_counter_reason(id), (unsigned long long)v);
	}
	printf("\n");
}

static void print_counters_json(const struct ctl *ctl)
{
	const char *stage = NULL;
	__u32 id;
	__u64 v;

	printf("\"counters\": {");
	for (id = 0; id < LB_COUNTER_MAX; id++) {
		if (!stage || strcmp(stage, lb_counter_stage(id))) {
			printf("%s\"%s\": {", stage ? "}, " : "", lb_counter_stage(id));
			stage = lb_counter_stage(id);
		} else {
			printf(", ");
		}
		sum_percpu_u64(ctl->maps.fd[LB_MAP_COUNTERS], id, &v);
		printf("\"%s\": %llu", lb_counter_reason(id), (unsigned long long)v);
	}
	printf("}}");
}

static int cmd_stats(struct ctl *ctl)
{
	static struct vip_view vips[LB_MAX_VIPS];
	char label[64], addr[INET_ADDRSTRLEN];
	int n = read_vips(ctl, vips, LB_MAX_VIPS), i, first = 1;
	__u32 j;

	if (ctl->json) {
		printf("{\"interface\": \"%s\", ", ctl->ifname);
		print_counters_json(ctl);
		printf(", \"backends\": [");
	} else {
		print_counters_text(ctl);
		printf("%-22s %-15s %-5s %12s %14s %10s %10s\n", "VIP", "backend", "state",
		       "packets", "bytes", "new_flows", "load");
	}
	for (i = 0; i < n; i++) {
		vip_label(&vips[i].key, label, sizeof(label));
		for (j = 0; j < vips[i].pool.backend_count && j < LB_MAX_BACKENDS_PER_VIP; j++) {
			__u32 id = vips[i].pool.backend_ids[j];
			struct lb_backend be = { 0 };
			struct lb_backend_load load = { 0 };
			struct lb_backend_stats st;

			bpf_map_lookup_elem(ctl->maps.fd[LB_MAP_BACKENDS], &id, &be);
			bpf_map_lookup_elem(ctl->maps.fd[LB_MAP_BACKEND_LOAD], &id, &load);
			backend_stats_sum(ctl->maps.fd[LB_MAP_BACKEND_STATS], id, &st);
			inet_ntop(AF_INET, &be.addr, addr, sizeof(addr));
			if (ctl->json) {
				printf("%s{\"vip\": \"%s\", \"id\": %u, \"address\": \"%s\", "
				       "\"state\": \"%s\", \"weight\": %u, \"packets\": %llu, "
				       "\"bytes\": %llu, \"new_flows\": %llu, "
				       "\"load_packets\": %llu, \"load_flows\": %llu}",
				       first ? "" : ", ", label, id, addr, lb_state_name(be.state),
				       be.weight, (unsigned long long)st.packets,
				       (unsigned long long)st.bytes,
				       (unsigned long long)st.new_flows,
				       (unsigned long long)load.packets,
				       (unsigned long long)load.flows);
				first = 0;
			} else {
				printf("%-22s %-15s %-5s %12llu %14llu %10llu %10.2f\n", label, addr,
				       lb_state_name(be.state), (unsigned long long)st.packets,
				       (unsigned long long)st.bytes,
				       (unsigned long long)st.new_flows,
				       load.flows ? (double)load.packets / (double)load.flows : 0.0);
			}
		}
	}
	if (ctl->json)
		printf("], \"flows\": %llu}\n", (unsigned long long)count_flows(ctl));
	return 0;
}

static int cmd_flows(struct ctl *ctl)
{
	struct lb_flow_key key, saved, *prev = NULL;
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], be_addr[INET_ADDRSTRLEN];

	while (bpf_map_get_next_key(ctl->maps.fd[LB_MAP_FLOWS], prev, &key) == 0) {
		struct lb_flow flow;
		struct lb_backend be = { 0 };

		saved = key;
		prev = &saved;
		if (bpf_map_lookup_elem(ctl->maps.fd[LB_MAP_FLOWS], &key, &flow))
			continue;
		bpf_map_lookup_elem(ctl->maps.fd[LB_MAP_BACKENDS], &flow.backend_id, &be);
		inet_ntop(AF_INET, &key.src, src, sizeof(src));
		inet_ntop(AF_INET, &key.dst, dst, sizeof(dst));
		inet_ntop(AF_INET, &be.addr, be_addr, sizeof(be_addr));
		printf("%s %s:%u -> %s:%u backend %u %s\n", lb_proto_name(key.proto), src,
		       ntohs(key.sport), dst, ntohs(key.dport), flow.backend_id, be_addr);
	}
	return 0;
}

/* Puts stage STAGE into slot SLOT: one atomic prog-array update with the
 * program lb-load already verified and pinned. Flows and config are untouched.
 */
static int swap_slot(struct ctl *ctl, const char *slot_name, const char *stage_name)
{
	const struct lb_stage_def *def, *before;
	char names[128];
	int slot, lock_fd, err;

	slot = lb_slot_by_name(slot_name);
	if (slot < 0) {
		lb_err("unknown slot \"%s\", expected lb or encap", slot_name);
		return -EINVAL;
	}
	def = lb_stage_find((__u32)slot, stage_name);
	if (!def) {
		lb_stage_names((__u32)slot, names, sizeof(names));
		lb_err("no stage \"%s\" for slot %s, expected one of: %s", stage_name, slot_name,
		       names);
		return -EINVAL;
	}
	/* The same lock as lb-load: a reload replaces the pins we read. */
	lock_fd = lb_lock_interface(ctl->ifname);
	if (lock_fd < 0) {
		lb_err("another lb-load or lbctl is changing %s right now; try again", ctl->ifname);
		return lock_fd;
	}
	before = lb_slot_stage(&ctl->maps, ctl->pin_dir, (__u32)slot);
	err = lb_stage_activate(&ctl->maps, ctl->pin_dir, def);
	close(lock_fd);
	if (err) {
		lb_err("Failed to put stage %s into slot %s of %s: %s", def->name, slot_name,
		       ctl->ifname, strerror(-err));
		return err;
	}
	printf("%s: slot %s now runs %s (%s id %u), was %s\n", ctl->ifname, slot_name,
	       def->name, def->prog_name, lb_slot_prog_id(&ctl->maps, (__u32)slot),
	       before ? before->name : "?");
	return 0;
}

static int cmd_swap(struct ctl *ctl)
{
	return swap_slot(ctl, ctl->args[0], ctl->args[1]);
}

static int cmd_encap(struct ctl *ctl)
{
	return swap_slot(ctl, "encap", ctl->args[0]);
}

static const struct command {
	const char *name;
	int (*run)(struct ctl *ctl);
	int args; /* positional arguments after IFNAME */
	const char *help;
} commands[] = {
	{ "status", cmd_status, 0, "status IFNAME          mode, stage programs, VIPs, backends" },
	{ "stats", cmd_stats, 0, "stats IFNAME [--json]  counters and per-backend figures" },
	{ "flows", cmd_flows, 0, "flows IFNAME           the flow table" },
	{ "swap", cmd_swap, 2, "swap IFNAME SLOT STAGE put STAGE into SLOT (lb, encap) at once" },
	{ "encap", cmd_encap, 1, "encap IFNAME STAGE     swap the encap stage: ipip or gue" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: lbctl COMMAND IFNAME [options]   (-v: libbpf messages)\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  lbctl %s\n", commands[i].help);
}

/* Exact name, or the only command the prefix starts. */
static const struct command *find_command(const char *word)
{
	const struct command *match = NULL;
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(commands[i].name, word))
			return &commands[i];
		if (!strncmp(commands[i].name, word, strlen(word))) {
			if (match)
				return NULL;
			match = &commands[i];
		}
	}
	return match;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	struct ctl ctl = { 0 };
	const char *missing;
	bool verbose = false;
	int i, err;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		lb_err("unknown or ambiguous command \"%s\"", argv[1]);
		usage(stderr);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			ctl.json = true;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: lbctl %s\n", cmd->help);
			return 0;
		} else if (!ctl.ifname && argv[i][0] != '-') {
			ctl.ifname = argv[i];
		} else if (ctl.ifname && argv[i][0] != '-' && ctl.arg_count < 2) {
			ctl.args[ctl.arg_count++] = argv[i];
		} else {
			lb_err("unexpected argument \"%s\"", argv[i]);
			return 2;
		}
	}
	if (!ctl.ifname) {
		lb_err("lbctl %s needs an interface name", cmd->name);
		return 2;
	}
	if (ctl.arg_count != cmd->args) {
		lb_err("usage: lbctl %s", cmd->help);
		return 2;
	}
	lb_log_setup(verbose);
	if (geteuid() != 0) {
		lb_err("lbctl must run as root: it reads pinned BPF maps");
		return 1;
	}
	lb_pin_dir(ctl.ifname, ctl.pin_dir, sizeof(ctl.pin_dir));
	err = lb_maps_open_pinned(ctl.pin_dir, &ctl.maps, &missing);
	if (err) {
		lb_err("xdp-lb is not loaded on %s (no state under %s%s%s)", ctl.ifname, ctl.pin_dir,
		       missing ? ": missing " : "", missing ? missing : "");
		return 1;
	}
	err = cmd->run(&ctl);
	lb_maps_close(&ctl.maps);
	return err ? 1 : 0;
}
