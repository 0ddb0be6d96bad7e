// SPDX-License-Identifier: GPL-2.0
/* lb stage, hash policy: the backend is a function of the 5-tuple, nothing is stored. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flow_hash_common.h"
#include "flow_table.bpf.h"
#include "pick.bpf.h"

/* Weighted: the flow hash modulo the total weight, mapped through the pool's
 * cumulative weights (at equal weights: the hash modulo the UP backends). Any
 * balancer with the same config computes the same backend for a flow.
 */
static __always_inline __u32 hash_pick(struct lb_sched *s)
{
	struct lb_pool_weights *weights = bpf_map_lookup_elem(&pool_weights, &s->ctx->pool_id);

	if (!weights || !weights->total)
		return LB_NO_BACKEND;
	return lb_weighted_pick(s->pool, weights, s->ctx->vip_id,
				lb_ctx_flow_hash(s->ctx) % weights->total);
}

/* Stateless: a flow the table does not know is hashed on every packet and
 * never written to the table, so the VIP costs no flow-table memory and
 * several balancers behind ECMP agree without sharing anything. The table is
 * still read first: a flow another policy placed before the VIP was switched
 * to hash keeps its backend.
 */
SEC("xdp")
int xdp_lb_hash(struct xdp_md *xdp)
{
	struct lb_sched s;
	int action = lb_sched_begin(xdp, &s);
	__u32 backend_id;

	if (action != LB_CONTINUE)
		return action;
	backend_id = hash_pick(&s);
	if (backend_id == LB_NO_BACKEND) {
		LB_COUNT_VIP_DROP(LB_DROP_NO_BACKEND, s.ctx->vip_id);
		return XDP_DROP;
	}
	/* Which packet is a flow's first is unknown here: no new flow counted. */
	return lb_sched_forward(xdp, &s, backend_id, LB_C_LB_STATELESS, false);
}

char LICENSE[] SEC("license") = "GPL";
