// SPDX-License-Identifier: GPL-2.0
/* Reads the figures of a loaded interface from its pinned maps (stats.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "host.h"
#include "state.h"
#include "stats.h"

/* Flow table entries fetched per batch syscall. A hash map's batch must hold
 * at least one whole bucket; a bucket of this many entries does not happen.
 */
#define FLOW_BATCH 4096

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static int percpu_u64_sum(int fd, __u32 key, __u64 *out)
{
	int cpus = libbpf_num_possible_cpus(), cpu, err = 0;
	__u64 *vals = calloc((size_t)cpus, sizeof(*vals));

	*out = 0;
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals))
		err = -errno;
	for (cpu = 0; !err && cpu < cpus; cpu++)
		*out += vals[cpu];
	free(vals);
	return err;
}

/* backend_load's whole-life packets and flows of @id summed over the CPUs
 * (least-packets-per-flow's load; least-loaded's windows are not shown).
 */
static int backend_load_sum(int fd, __u32 id, struct lb_backend_load *out)
{
	int cpus = libbpf_num_possible_cpus(), cpu, err = 0;
	struct lb_backend_load *vals = calloc(cpus > 0 ? (size_t)cpus : 1, sizeof(*vals));

	memset(out, 0, sizeof(*out));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &id, vals))
		err = -errno;
	for (cpu = 0; !err && cpu < cpus; cpu++) {
		out->packets += vals[cpu].packets;
		out->flows += vals[cpu].flows;
	}
	free(vals);
	return err;
}

static int backend_stats_sum(int fd, __u32 id, struct lb_backend_stats *out)
{
	int cpus = libbpf_num_possible_cpus(), cpu, err = 0;
	struct lb_backend_stats *vals = calloc((size_t)cpus, sizeof(*vals));

	memset(out, 0, sizeof(*out));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &id, vals))
		err = -errno;
	for (cpu = 0; !err && cpu < cpus; cpu++) {
		out->packets += vals[cpu].packets;
		out->bytes += vals[cpu].bytes;
		out->new_flows += vals[cpu].new_flows;
	}
	free(vals);
	return err;
}

static int vip_drops_sum(int fd, __u32 vip_id, __u64 *out)
{
	int cpus = libbpf_num_possible_cpus(), cpu, err = 0, i;
	struct lb_vip_drops *vals = calloc((size_t)cpus, sizeof(*vals));

	memset(out, 0, sizeof(__u64) * LB_VIP_DROP_MAX);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &vip_id, vals))
		err = -errno;
	for (cpu = 0; !err && cpu < cpus; cpu++)
		for (i = 0; i < LB_VIP_DROP_MAX; i++)
			out[i] += vals[cpu].count[i];
	free(vals);
	return err;
}

static void count_flow(__u64 *per_backend, __u64 *total, const struct lb_flow *flow)
{
	(*total)++;
	if (flow->backend_id < LB_MAX_BACKENDS)
		per_backend[flow->backend_id]++;
}

/* The flow table one entry at a time: kernels without batch operations. */
static void walk_flows_one_by_one(int fd, __u64 *per_backend, __u64 *total)
{
	struct lb_flow_key key, saved, *prev = NULL;
	struct lb_flow flow;

	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		saved = key;
		prev = &saved;
		if (!bpf_map_lookup_elem(fd, &key, &flow))
			count_flow(per_backend, total, &flow);
	}
}

/* Counts the flow table's entries per backend: "active flows" are the flows
 * the table holds, idle ones included until LRU eviction removes them.
 */
static void walk_flows(int fd, __u64 *per_backend, __u64 *total)
{
	struct lb_flow_key *keys = calloc(FLOW_BATCH, sizeof(*keys));
	struct lb_flow *vals = calloc(FLOW_BATCH, sizeof(*vals));
	__u32 batch = 0, count, i;
	bool first = true;
	int err;

	*total = 0;
	if (!keys || !vals)
		goto out;
	do {
		count = FLOW_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &count,
					   NULL);
		if (err && errno != ENOENT) {
			/* Nothing counted yet when the first batch fails. */
			if (first)
				walk_flows_one_by_one(fd, per_backend, total);
			break;
		}
		first = false;
		for (i = 0; i < count; i++)
			count_flow(per_backend, total, &vals[i]);
	} while (!err);
out:
	free(keys);
	free(vals);
}

/* The drops counted outside our maps since the load: now minus what host_state
 * recorded at the load (a counter that went down, as when a driver's queues
 * were reconfigured, counts from 0).
 */
static void sample_outside(const struct lb_maps *maps, const char *ifname,
			   struct lb_drop_stats *out)
{
	struct lb_host_state host;
	unsigned int i;

	if (lb_drop_stats_read(ifname, out) || lb_host_state_read(maps, &host))
		return;
	for (i = 0; i < out->count; i++) {
		__u64 base = lb_drop_stat_get(&host.baseline, out->stat[i].name);

		if (out->stat[i].value >= base)
			out->stat[i].value -= base;
	}
}

int lb_stats_sample(const struct lb_maps *maps, const char *ifname, struct lb_stats_sample *out)
{
	static __u64 active[LB_MAX_BACKENDS];
	static struct lb_state state;
	__u32 id, j;
	size_t k;
	int err;

	memset(out, 0, sizeof(*out));
	out->time_ns = now_ns();
	for (id = 0; id < LB_COUNTER_MAX; id++) {
		err = percpu_u64_sum(maps->fd[LB_MAP_COUNTERS], id, &out->counters[id]);
		if (err)
			return err;
	}
	memset(active, 0, sizeof(active));
	walk_flows(maps->fd[LB_MAP_FLOWS], active, &out->flows_in_table);
	sample_outside(maps, ifname, &out->outside);

	/* Only the generation parse reads: the other is a past or an
	 * unfinished config.
	 */
	err = lb_state_read(maps, &state);
	if (err)
		return err;
	for (k = 0; k < state.live_count && out->vip_count < LB_MAX_VIPS; k++) {
		const struct lb_state_vip *live = &state.live[k];
		struct lb_stats_vip *vip = &out->vips[out->vip_count];

		vip->key = live->key;
		vip->vip_id = live->vip.vip_id;
		vip->policy = live->vip.policy;
		vip_drops_sum(maps->fd[LB_MAP_VIP_DROPS], vip->vip_id, vip->drops);
		vip->first_backend = out->backend_count;
		for (j = 0; j < live->pool.backend_count && j < LB_MAX_BACKENDS_PER_VIP &&
			    out->backend_count < LB_MAX_BACKENDS; j++) {
			struct lb_stats_backend *b = &out->backends[out->backend_count++];

			b->id = live->pool.backend_ids[j];
			b->vip_index = out->vip_count;
			bpf_map_lookup_elem(maps->fd[LB_MAP_BACKENDS], &b->id, &b->config);
			backend_load_sum(maps->fd[LB_MAP_BACKEND_LOAD], b->id, &b->load);
			backend_stats_sum(maps->fd[LB_MAP_BACKEND_STATS], b->id, &b->totals);
			b->active_flows = b->id < LB_MAX_BACKENDS ? active[b->id] : 0;
			lb_health_read(maps, b->id, b->config.addr, b->config.vip_id, &b->health);
		}
		vip->backend_count = out->backend_count - vip->first_backend;
		out->vip_count++;
	}
	return 0;
}

void lb_vip_label(const struct lb_vip_key *key, char *buf, size_t len)
{
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &key->addr, addr, sizeof(addr));
	if (key->port)
		snprintf(buf, len, "%s:%u/%s", addr, ntohs(key->port), lb_proto_name(key->proto));
	else
		snprintf(buf, len, "%s:*/%s", addr, lb_proto_name(key->proto));
}

void lb_stats_vip_sum(const struct lb_stats_sample *s, const struct lb_stats_vip *vip,
		      struct lb_stats_vip_sum *out)
{
	__u32 i;

	memset(out, 0, sizeof(*out));
	for (i = vip->first_backend; i < vip->first_backend + vip->backend_count; i++) {
		const struct lb_stats_backend *b = &s->backends[i];

		out->packets += b->totals.packets;
		out->bytes += b->totals.bytes;
		out->active_flows += b->active_flows;
		out->total_flows += b->totals.new_flows;
	}
}
