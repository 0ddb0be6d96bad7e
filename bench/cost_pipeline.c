// SPDX-License-Identifier: GPL-2.0
/* The pipeline of lb-load, loaded for test runs; see cost_pipeline.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "apply.h"
#include "cost_pipeline.h"
#include "netdev.h"
#include "parse.skel.h"
#include "stage_fixture.h"

/* Each must succeed; see the picture in cost_pipeline.h. */
static const char *const net_commands[] = {
	"ip link set lo up",
	"ip link add bench0 type veth peer name bench1",
	"ip addr add 10.0.0.10/16 dev bench0",
	"ip link set bench0 up",
	"ip link set bench1 up",
	"ip neigh add 10.0.0.2 lladdr " BENCH_NEXT_HOP_MAC " dev bench0 nud permanent",
	"ip route add 10.1.0.0/16 via 10.0.0.2",
	"sysctl -qw net.ipv4.conf.all.forwarding=1",
	"sysctl -qw net.ipv4.conf.bench0.forwarding=1",
};

int bench_net_setup(char *err, size_t err_len)
{
	char command[192];
	size_t i;
	int ifindex;

	if (unshare(CLONE_NEWNET)) {
		snprintf(err, err_len, "Failed to unshare the network namespace: %s",
			 strerror(errno));
		return -errno;
	}
	for (i = 0; i < sizeof(net_commands) / sizeof(net_commands[0]); i++) {
		snprintf(command, sizeof(command), "%s >/dev/null 2>&1", net_commands[i]);
		if (system(command)) {
			snprintf(err, err_len, "Failed to set up the network: %s", net_commands[i]);
			return -EIO;
		}
	}
	ifindex = (int)if_nametoindex("bench0");
	if (!ifindex) {
		snprintf(err, err_len, "Failed to find bench0: %s", strerror(errno));
		return -ENODEV;
	}
	return ifindex;
}

/* One UDP VIP with @backends backends 10.1.x.y; a long flow timeout so that
 * no flow filled at the start expires while the cases run (the timed paths
 * are the same for any timeout).
 */
static char *config_text(const char *policy, size_t backends, __u32 flow_table_size,
			 const char *backend_mac)
{
	size_t len = 320 + backends * 64, used, i;
	char *text = malloc(len);

	if (!text)
		return NULL;
	used = (size_t)snprintf(text, len,
				"flow_timeout: 3600\nflow_table_size: %u\nvips:\n"
				"  - address: %s\n    port: %u\n    protocol: udp\n"
				"    policy: %s\n    backends:\n",
				flow_table_size, BENCH_VIP, BENCH_VIP_PORT, policy);
	for (i = 0; i < backends; i++) {
		used += (size_t)snprintf(text + used, len - used, "      - ip: 10.1.%zu.%zu\n",
					 i / 250, i % 250 + 1);
		if (backend_mac)
			used += (size_t)snprintf(text + used, len - used, "        mac: %s\n",
						 backend_mac);
	}
	return text;
}

/* parse creates every shared map, as lb_parse_attach() has it do. */
static int parse_load(struct bench_pipeline *p, __u32 flow_table_size)
{
	int err;

	p->parse = parse_bpf__open();
	if (!p->parse)
		return -errno;
	err = bpf_map__set_max_entries(p->parse->maps.flows, flow_table_size);
	if (!err)
		err = parse_bpf__load(p->parse);
	if (!err)
		err = lb_maps_adopt(p->parse->obj, &p->maps);
	if (err)
		return err;
	p->parse_fd = bpf_program__fd(p->parse->progs.xdp_lb_parse);
	p->parse_obj = p->parse->obj;
	return 0;
}

static const struct lb_stage *stage_of(const struct lb_stages *st, const struct lb_stage_def *d)
{
	size_t i;

	for (i = 0; i < st->count; i++)
		if (st->stage[i].def == d)
			return &st->stage[i];
	return NULL;
}

int bench_pipeline_load(struct bench_pipeline *p, const char *lb_stage, size_t backends,
			__u32 flow_table_size, const char *backend_mac, char *err, size_t err_len)
{
	/* Each policy has a slot of its own: the VIP's policy picks it. */
	int policy = lb_policy_by_name(lb_stage);
	__u32 lb_slot = policy < 0 ? LB_SLOT_COUNT : lb_policy_slot((__u32)policy);
	const struct lb_stage_def *selected[LB_SLOT_COUNT] = {
		[LB_SLOT_ENCAP] = lb_stage_find(LB_SLOT_ENCAP, "ipip"),
	};
	struct lb_tunables tunables = { 0 };
	struct lb_apply_result res;
	const struct lb_stage *lb, *encap;
	char *text;
	int rc;

	memset(p, 0, sizeof(*p));
	lb_maps_init(&p->maps);
	p->backend_count = backends;
	if (lb_slot < LB_SLOT_COUNT)
		selected[lb_slot] = lb_stage_find(lb_slot, lb_stage);
	if (lb_slot >= LB_SLOT_COUNT || !selected[lb_slot] || !selected[LB_SLOT_ENCAP]) {
		char names[160];
		size_t used = 0;

		names[0] = '\0';
		for (policy = 0; policy < LB_POLICY_COUNT && used < sizeof(names); policy++)
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
						 policy ? " " : "", lb_policy_name((uint8_t)policy));
		snprintf(err, err_len, "no lb stage \"%s\" (there are: %s)", lb_stage, names);
		return -ENOENT;
	}
	p->lb_slot = lb_slot;
	p->stateless = policy == LB_POLICY_HASH;
	text = config_text(lb_stage, backends, flow_table_size, backend_mac);
	if (!text)
		return -ENOMEM;
	rc = lb_config_parse("bench", text, strlen(text), &p->cfg, err, err_len);
	free(text);
	if (rc)
		return -EINVAL;
	tunables.flow_timeout_ns = (__u64)p->cfg.flow_timeout_s * 1000000000ULL;
	tunables.nexthop_cache_ns = LB_NEXTHOP_CACHE_NS;
	tunables.outer_src_addr = p->cfg.outer_src;
	tunables.gue_port = htons(p->cfg.gue_port);
	/* As lb-load sets it: the ingress MTU, the limit of static-MAC backends. */
	if (lb_if_mtu_read((int)if_nametoindex("bench0"), &tunables.ingress_mtu))
		tunables.ingress_mtu = 0;

	rc = parse_load(p, flow_table_size);
	if (rc) {
		snprintf(err, err_len, "Failed to load %s: %s", LB_PARSE_PROG_NAME, strerror(-rc));
		goto fail;
	}
	/* parse is a plain XDP program here: the single-program ("legacy") case. */
	rc = lb_stages_install(&p->stages, &p->maps, &tunables, selected, true, err, err_len);
	if (rc)
		goto fail;
	lb = stage_of(&p->stages, selected[lb_slot]);
	encap = stage_of(&p->stages, selected[LB_SLOT_ENCAP]);
	if (!lb || !encap) {
		rc = -ENOENT;
		snprintf(err, err_len, "Failed to find the installed stages");
		goto fail;
	}
	p->lb_fd = lb->prog_fd;
	p->lb_obj = lb->obj;
	p->encap_fd = encap->prog_fd;
	rc = lb_apply_config(&p->maps, &p->cfg, &res, err, err_len);
	if (rc)
		goto fail;
	return 0;
fail:
	bench_pipeline_close(p);
	return rc;
}

void bench_pipeline_close(struct bench_pipeline *p)
{
	lb_stages_destroy(&p->stages);
	parse_bpf__destroy(p->parse);
	p->parse = NULL;
	lb_maps_close(&p->maps);
	lb_config_free(&p->cfg);
}

int bench_slot_set(const struct bench_pipeline *p, __u32 slot, int prog_fd)
{
	if (bpf_map_update_elem(p->maps.fd[LB_MAP_STAGE_SLOTS], &slot, &prog_fd, BPF_ANY))
		return -errno;
	return 0;
}

/* Calls @fn on the id of every backend in use; stops at its first error. */
static int for_each_backend(const struct bench_pipeline *p,
			    int (*fn)(const struct bench_pipeline *p, __u32 id, void *arg),
			    void *arg)
{
	struct lb_backend backend;
	__u32 id;
	int err;

	for (id = 0; id < LB_MAX_BACKENDS; id++) {
		if (bpf_map_lookup_elem(p->maps.fd[LB_MAP_BACKENDS], &id, &backend))
			return -errno;
		if (backend.state == LB_BACKEND_EMPTY)
			continue;
		err = fn(p, id, arg);
		if (err)
			return err;
	}
	return 0;
}

/* @zero: a zeroed per-CPU value as large as the larger of the two maps' */
static int reset_one(const struct bench_pipeline *p, __u32 id, void *zero)
{
	if (bpf_map_update_elem(p->maps.fd[LB_MAP_BACKEND_LOAD], &id, zero, BPF_ANY) ||
	    bpf_map_update_elem(p->maps.fd[LB_MAP_BACKEND_STATS], &id, zero, BPF_ANY))
		return -errno;
	return 0;
}

int bench_backend_figures_reset(const struct bench_pipeline *p)
{
	int cpus = libbpf_num_possible_cpus(), err;
	void *zero_stats;

	if (cpus <= 0)
		return cpus ? cpus : -EINVAL;
	/* One zeroed value per CPU: both are per-CPU arrays; the larger serves both. */
	zero_stats = calloc((size_t)cpus, sizeof(struct lb_backend_stats) >
						  sizeof(struct lb_backend_load) ?
						  sizeof(struct lb_backend_stats) :
						  sizeof(struct lb_backend_load));
	if (!zero_stats)
		return -ENOMEM;
	err = for_each_backend(p, reset_one, zero_stats);
	free(zero_stats);
	return err;
}

struct balance_sums {
	double max, min, total;
	size_t count;
};

static int add_new_flows(const struct bench_pipeline *p, __u32 id, void *arg)
{
	struct balance_sums *sums = arg;
	struct lb_backend_stats stats;
	double flows;
	int err;

	err = percpu_sum_u64(p->maps.fd[LB_MAP_BACKEND_STATS], &id, &stats, sizeof(stats));
	if (err)
		return err;
	flows = (double)stats.new_flows;
	if (!sums->count || flows > sums->max)
		sums->max = flows;
	if (!sums->count || flows < sums->min)
		sums->min = flows;
	sums->total += flows;
	sums->count++;
	return 0;
}

int bench_new_flow_spread(const struct bench_pipeline *p, struct flow_spread *spread)
{
	struct balance_sums sums = { 0 };
	int err;

	memset(spread, 0, sizeof(*spread));
	err = for_each_backend(p, add_new_flows, &sums);
	if (err)
		return err;
	if (!sums.count || sums.total <= 0)
		return -ENODATA;
	spread->max = sums.max;
	spread->min = sums.min;
	spread->mean = sums.total / (double)sums.count;
	return 0;
}

long long bench_map_memlock(int map_fd)
{
	char path[64], line[128];
	long long memlock = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", map_fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &memlock) == 1)
			break;
	fclose(f);
	return memlock;
}
