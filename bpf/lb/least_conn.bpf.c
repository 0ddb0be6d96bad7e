// SPDX-License-Identifier: GPL-2.0
/* lb stage, least-connections policy: a new flow goes to the backend with the
 * fewest active flows per unit of weight.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flow_hash_common.h"
#include "flow_table.bpf.h"
#include "pick.bpf.h"

/* Where a scan starts: above any real backend's active * weight product (active
 * flows stay far below 2^40, weights below 2^16). No "best_id == LB_NO_BACKEND"
 * test in the callback, for the reason least_loaded.bpf.c gives.
 */
#define LCONN_SCAN_START (1ULL << 40)

/* The state of one least-conn scan, carried through bpf_loop. */
struct lconn_scan {
	struct lb_pool *pool;
	__u32 vip_id;
	__u32 best_id;
	__u64 best_active;
	__u64 best_weight;
};

/* Weighs backend @id against the best so far: fewer active flows per unit of
 * weight wins, compared as active_a * weight_b < active_b * weight_a so no
 * division rounds two backends together. Ties keep the earlier candidate.
 */
static __always_inline void lconn_consider(struct lconn_scan *scan, __u32 id)
{
	struct lb_backend_conns *conns;
	struct lb_backend *backend;
	__u64 weight;
	__s64 active;

	if (id >= LB_MAX_BACKENDS)
		return;
	backend = bpf_map_lookup_elem(&backends, &id);
	if (!backend || backend->state != LB_BACKEND_UP || backend->vip_id != scan->vip_id)
		return;
	conns = bpf_map_lookup_elem(&backend_conns, &id);
	if (!conns)
		return;
	active = conns->active;
	if (active < 0)
		active = 0;
	weight = backend->weight ? backend->weight : 1;
	if ((__u64)active * scan->best_weight < scan->best_active * weight) {
		scan->best_id = id;
		scan->best_active = (__u64)active;
		scan->best_weight = weight;
	}
}

static long lconn_scan_one(__u32 index, void *data)
{
	struct lconn_scan *scan = data;

	if (index >= LB_MAX_BACKENDS_PER_VIP)
		return 1;
	lconn_consider(scan, scan->pool->backend_ids[index]);
	return 0;
}

/* Like least-loaded: a pool of up to LB_LEAST_LOADED_CANDIDATES is scanned
 * whole; a larger one is judged on that many positions picked by the flow's
 * hash, then scanned whole only if none of them is UP.
 */
static __always_inline __u32 least_conn_pick(struct lb_sched *s)
{
	struct lconn_scan scan = {
		.pool = s->pool,
		.vip_id = s->ctx->vip_id,
		.best_id = LB_NO_BACKEND,
		.best_active = LCONN_SCAN_START,
		.best_weight = 1,
	};
	__u32 count = lb_pool_count(s->pool), hash = lb_ctx_flow_hash(s->ctx), i, pos;

#pragma unroll
	for (i = 0; i < LB_LEAST_LOADED_CANDIDATES; i++) {
		if (!lb_candidate(i, count, hash, &pos))
			break;
		lconn_consider(&scan, s->pool->backend_ids[pos]);
	}
	if (scan.best_id == LB_NO_BACKEND && count > LB_LEAST_LOADED_CANDIDATES)
		bpf_loop(count, lconn_scan_one, &scan, 0);
	return scan.best_id;
}

/* The flow counts as active on its backend until a FIN or RST is seen, it
 * expires (UDP) or is moved (backend gone): see flow_table.bpf.h. A flow the
 * LRU table evicts cannot be seen leaving and stays counted.
 */
SEC("xdp")
int xdp_lb_lconn(struct xdp_md *xdp)
{
	struct lb_sched s;
	int action = lb_sched_begin(xdp, &s);

	if (action != LB_CONTINUE)
		return action;
	return lb_sched_place(xdp, &s, least_conn_pick(&s), LB_FLOW_F_COUNTED);
}

char LICENSE[] SEC("license") = "GPL";
