/* SPDX-License-Identifier: GPL-2.0 */
/* Building blocks of the policies' choices: usable backends, weighted positions,
 * and the last-resort scan for any UP backend.
 */
#ifndef LB_PICK_BPF_H
#define LB_PICK_BPF_H

#include <stdbool.h>

#include "flow_hash_common.h"
#include "lb_maps.bpf.h"

_Static_assert((LB_MAX_BACKENDS_PER_VIP & (LB_MAX_BACKENDS_PER_VIP - 1)) == 0,
	       "pool positions are bounded with a mask");

/* A pool position the verifier accepts as an index: @pos is already below the
 * pool's count, but the verifier does not see through % or a binary search.
 * Hide the value from the compiler (it would drop the mask), then mask.
 */
static __always_inline __u32 lb_pool_index(__u32 pos)
{
	barrier_var(pos);
	return pos & (LB_MAX_BACKENDS_PER_VIP - 1);
}

/* How many entries of @pool are real. */
static __always_inline __u32 lb_pool_count(const struct lb_pool *pool)
{
	__u32 count = pool->backend_count;

	return count > LB_MAX_BACKENDS_PER_VIP ? LB_MAX_BACKENDS_PER_VIP : count;
}

/* The @i-th candidate position a new flow weighs in a pool of @count (see
 * LB_LEAST_LOADED_CANDIDATES): every position of a pool that small, else
 * positions picked by @flow_hash, so a new flow costs the same whatever the
 * pool's size. Returns false when the pool has no @i-th candidate.
 */
static __always_inline bool lb_candidate(__u32 i, __u32 count, __u32 flow_hash, __u32 *pos)
{
	if (count <= LB_LEAST_LOADED_CANDIDATES) {
		if (i >= count)
			return false;
		*pos = i;
	} else {
		*pos = lb_sample_index(flow_hash, i, count);
	}
	*pos = lb_pool_index(*pos);
	return true;
}

/* Whether backend @id may take a new flow of @vip_id. */
static __always_inline bool lb_backend_takes_new(__u32 id, __u32 vip_id)
{
	struct lb_backend *backend;

	if (id >= LB_MAX_BACKENDS)
		return false;
	backend = bpf_map_lookup_elem(&backends, &id);
	return backend && backend->state == LB_BACKEND_UP && backend->vip_id == vip_id;
}

/* The state of a scan for the first UP backend, carried through bpf_loop. */
struct lb_first_up {
	struct lb_pool *pool;
	__u32 vip_id;
	__u32 start;
	__u32 count;
	__u32 found; /* LB_NO_BACKEND until one is seen */
};

static long lb_first_up_one(__u32 index, void *data)
{
	struct lb_first_up *scan = data;
	__u32 pos, id;

	/* bpf_loop gives no bound on index; the verifier needs one here. */
	if (index >= LB_MAX_BACKENDS_PER_VIP || !scan->count)
		return 1;
	pos = (scan->start + index) % scan->count;
	id = scan->pool->backend_ids[lb_pool_index(pos)];
	if (!lb_backend_takes_new(id, scan->vip_id))
		return 0;
	scan->found = id;
	return 1;
}

/* The first backend at or after pool position @start (wrapping) that takes new
 * flows, or LB_NO_BACKEND: the fallback when a policy's own pick is not UP.
 * bpf_loop, since walking 1024 positions one by one exceeds the verifier's budget.
 */
static __always_inline __u32 lb_first_up_from(struct lb_pool *pool, __u32 vip_id, __u32 start)
{
	struct lb_first_up scan = {
		.pool = pool,
		.vip_id = vip_id,
		.start = start,
		.count = lb_pool_count(pool),
		.found = LB_NO_BACKEND,
	};

	if (scan.count)
		bpf_loop(scan.count, lb_first_up_one, &scan, 0);
	return scan.found;
}

/* The state of one binary search over cumulative weights, through bpf_loop. */
struct lb_weight_search {
	const struct lb_pool_weights *weights;
	__u32 pos;
	__u32 low, high;
};

static long lb_weight_search_step(__u32 index, void *data)
{
	struct lb_weight_search *search = data;
	__u32 mid;

	if (search->low >= search->high)
		return 1;
	mid = (search->low + search->high) / 2;
	if (search->weights->cumulative[lb_pool_index(mid)] > search->pos)
		search->high = mid;
	else
		search->low = mid + 1;
	return 0;
}

/* The pool position that owns weighted position @pos (< weights->total): the
 * first entry whose cumulative weight exceeds it, by binary search (11 steps
 * cover 1024 entries). In bpf_loop: unrolled, the verifier would follow every
 * combination of halvings and exceed its budget.
 */
static __always_inline __u32 lb_weighted_position(const struct lb_pool_weights *weights,
						  __u32 count, __u32 pos)
{
	struct lb_weight_search search = {
		.weights = weights,
		.pos = pos,
		.low = 0,
		.high = count - 1,
	};

	bpf_loop(11, lb_weight_search_step, &search, 0);
	return lb_pool_index(search.low);
}

/* The backend of weighted position @pos (< @weights->total) in @pool. A stale
 * choice (a backend no longer UP under weights not yet rewritten) falls back to
 * the next UP one.
 */
static __always_inline __u32 lb_weighted_pick(struct lb_pool *pool,
					      const struct lb_pool_weights *weights,
					      __u32 vip_id, __u32 pos)
{
	__u32 count = lb_pool_count(pool), id;

	if (!count)
		return LB_NO_BACKEND;
	pos = lb_weighted_position(weights, count, pos);
	id = pool->backend_ids[pos];
	if (lb_backend_takes_new(id, vip_id))
		return id;
	return lb_first_up_from(pool, vip_id, pos);
}

#endif /* LB_PICK_BPF_H */
