// SPDX-License-Identifier: GPL-2.0
/* lb stage, weighted round-robin policy: new flows in proportion to the backends' weights. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flow_table.bpf.h"
#include "pick.bpf.h"

/* Ticket t of the VIP's shared counter becomes weighted position
 * (t mod total) * stride mod total. The stride is coprime with the total
 * weight (the loader picks it), so every run of `total` tickets visits each
 * position once: each backend gets exactly its weight's share per cycle, and
 * a heavy backend's turns are spread over the cycle instead of coming in a row.
 */
static __always_inline __u32 weighted_rr_pick(struct lb_sched *s)
{
	struct lb_vip_sched *sched = bpf_map_lookup_elem(&vip_sched, &s->ctx->vip_id);
	struct lb_pool_weights *weights = bpf_map_lookup_elem(&pool_weights, &s->ctx->pool_id);
	__u64 ticket, pos;

	if (!sched || !weights || !weights->total)
		return LB_NO_BACKEND;
	ticket = __sync_fetch_and_add(&sched->ticket, 1);
	/* total < 2^26 (1024 x 65535), so the product cannot overflow. */
	pos = (ticket % weights->total) * weights->stride % weights->total;
	return lb_weighted_pick(s->pool, weights, s->ctx->vip_id, (__u32)pos);
}

SEC("xdp")
int xdp_lb_wrr(struct xdp_md *xdp)
{
	struct lb_sched s;
	int action = lb_sched_begin(xdp, &s);

	if (action != LB_CONTINUE)
		return action;
	return lb_sched_place(xdp, &s, weighted_rr_pick(&s), 0);
}

char LICENSE[] SEC("license") = "GPL";
