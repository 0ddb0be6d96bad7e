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

/* Sums over the CPUs the first @words 64-bit fields of per-CPU map @fd's value
 * at @key into @out, a value of @value_size bytes (zeroed first, fields after
 * @words stay zero). The kernel hands one value per possible CPU, each padded
 * to 8 bytes.
 */
static int percpu_sum(int fd, __u32 key, void *out, size_t value_size, size_t words)
{
	int cpus = libbpf_num_possible_cpus(), cpu, err = 0;
	size_t stride = (value_size + 7) / 8, i;
	__u64 *vals, *sum = out;

	memset(out, 0, value_size);
	if (cpus <= 0)
		return cpus ? cpus : -EINVAL;
	vals = calloc((size_t)cpus * stride, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals))
		err = -errno;
	for (cpu = 0; !err && cpu < cpus; cpu++)
		for (i = 0; i < words; i++)
			sum[i] += vals[(size_t)cpu * stride + i];
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
		err = percpu_sum(maps->fd[LB_MAP_COUNTERS], id, &out->counters[id],
				 sizeof(out->counters[id]), 1);
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
		percpu_sum(maps->fd[LB_MAP_VIP_DROPS], vip->vip_id, vip->drops,
			   sizeof(struct lb_vip_drops), LB_VIP_DROP_MAX);
		vip->first_backend = out->backend_count;
		for (j = 0; j < live->pool.backend_count && j < LB_MAX_BACKENDS_PER_VIP &&
			    out->backend_count < LB_MAX_BACKENDS; j++) {
			struct lb_stats_backend *b = &out->backends[out->backend_count++];

			b->id = live->pool.backend_ids[j];
			b->vip_index = out->vip_count;
			bpf_map_lookup_elem(maps->fd[LB_MAP_BACKENDS], &b->id, &b->config);
			/* least-packets-per-flow's whole-life packets and flows;
			 * least-loaded's windows are not shown.
			 */
			percpu_sum(maps->fd[LB_MAP_BACKEND_LOAD], b->id, &b->load,
				   sizeof(b->load), 2);
			percpu_sum(maps->fd[LB_MAP_BACKEND_STATS], b->id, &b->totals,
				   sizeof(b->totals), sizeof(b->totals) / sizeof(__u64));
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
