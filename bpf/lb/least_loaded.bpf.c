// SPDX-License-Identifier: GPL-2.0
/* lb stage, least-loaded policy: keeps a flow on its backend, picks one for a new flow. */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

#include "flow_hash_common.h"
#include "flow_table.bpf.h"
#include "pick.bpf.h"

/* Fractional bits of a load figure, so that 3 packets over 2 flows (1.5)
 * still compares above 4 over 3 (1.33) instead of both truncating to 1.
 */
#define LB_LOAD_SHIFT 16

/* The state of one least-loaded scan, carried through bpf_loop. */
struct lb_scan {
	struct lb_pool *pool;
	__u32 vip_id;
	__u32 best_id; /* LB_NO_BACKEND until an UP backend is seen */
	__u64 best_load;
	__u64 best_share; /* flows per unit of weight, fixed point */
};

/* Where a scan starts: any real backend compares below it. On purpose there is
 * no "best_id == LB_NO_BACKEND" test in the callback: a verifier that walks
 * the callback once, with the caller's initial stack (older kernels did), sees
 * that test as always true and removes the load comparisons as dead code.
 */
#define LB_SCAN_START ~0ULL

/* Weighs backend @id against the best candidate so far. */
static __always_inline void lb_consider(struct lb_scan *scan, __u32 id)
{
	struct lb_backend_load *load_entry;
	struct lb_backend *backend;
	__u64 flows, weight, load, share;

	if (id >= LB_MAX_BACKENDS)
		return;
	backend = bpf_map_lookup_elem(&backends, &id);
	if (!backend || backend->state != LB_BACKEND_UP || backend->vip_id != scan->vip_id)
		return;
	load_entry = bpf_map_lookup_elem(&backend_load, &id);
	if (!load_entry)
		return;
	flows = load_entry->flows;
	weight = backend->weight ? backend->weight : 1;
	/* The original project's load: packets per flow, not weighted. It is
	 * an average flow size, so dividing it by a weight would make the
	 * heaviest backend look least loaded for ever and take every new flow.
	 */
	load = flows ? (load_entry->packets << LB_LOAD_SHIFT) / flows : 0;
	share = (flows << LB_LOAD_SHIFT) / weight;
	/* Ties go to the backend with the fewest flows per unit of weight: when
	 * flows are alike every backend has the same load, and this spreads new
	 * flows in proportion to the weights (evenly at equal weights).
	 * Remaining ties keep the earlier candidate (strict <): deterministic.
	 */
	if (load < scan->best_load || (load == scan->best_load && share < scan->best_share)) {
		scan->best_id = id;
		scan->best_load = load;
		scan->best_share = share;
	}
}

/* bpf_loop callback of the full scan: pool entry @index. */
static long lb_scan_one(__u32 index, void *data)
{
	struct lb_scan *scan = data;

	/* bpf_loop gives no bound on index; the verifier needs one here. */
	if (index >= LB_MAX_BACKENDS_PER_VIP)
		return 1;
	lb_consider(scan, scan->pool->backend_ids[index]);
	return 0;
}

/* The least-loaded UP backend of @pool owned by @vip_id among the flow's
 * candidates, or LB_NO_BACKEND. A pool of up to LB_LEAST_LOADED_CANDIDATES is
 * scanned whole: exactly least-loaded. A larger pool is judged on that many
 * positions picked from @flow_hash (the "power of d choices": with d = 8 the
 * busiest backend stays within a few flows of the mean), so a new flow costs
 * the same whatever the pool's size. Only when no candidate is UP is the whole
 * pool scanned (bpf_loop: 1024 iterations walked one by one would exceed the
 * verifier's budget), so a flow is dropped only when no backend at all is UP.
 */
static __always_inline __u32 lb_pick_backend(struct lb_pool *pool, __u32 vip_id,
					     __u32 flow_hash)
{
	struct lb_scan scan = {
		.pool = pool,
		.vip_id = vip_id,
		.best_id = LB_NO_BACKEND,
		.best_load = LB_SCAN_START,
		.best_share = LB_SCAN_START,
	};
	__u32 count = lb_pool_count(pool), i, pos;

#pragma unroll
	for (i = 0; i < LB_LEAST_LOADED_CANDIDATES; i++) {
		if (!lb_candidate(i, count, flow_hash, &pos))
			break;
		lb_consider(&scan, pool->backend_ids[pos]);
	}
	if (scan.best_id == LB_NO_BACKEND && count > LB_LEAST_LOADED_CANDIDATES)
		bpf_loop(count, lb_scan_one, &scan, 0);
	return scan.best_id;
}

SEC("xdp")
int xdp_lb_lload(struct xdp_md *xdp)
{
	struct lb_sched s;
	int action = lb_sched_begin(xdp, &s);
	__u32 backend_id;

	if (action != LB_CONTINUE)
		return action;
	backend_id = lb_pick_backend(s.pool, s.ctx->vip_id, lb_flow_hash(&s.ctx->flow));
	return lb_sched_place(xdp, &s, backend_id, 0);
}

char LICENSE[] SEC("license") = "GPL";
