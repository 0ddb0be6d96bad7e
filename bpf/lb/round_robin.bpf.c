// SPDX-License-Identifier: GPL-2.0
/* lb stage, round-robin policy: each new flow goes to the next UP backend of the VIP. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flow_table.bpf.h"
#include "pick.bpf.h"

/* One shared ticket counter per VIP, taken with an atomic add, so the UP
 * backends share new flows exactly evenly across all CPUs. A ticket that lands
 * on a DRAIN or DOWN backend is thrown away and another drawn: handing it to
 * the next UP backend would give that one a double share.
 */
static __always_inline __u32 round_robin_pick(struct lb_sched *s)
{
	struct lb_vip_sched *sched = bpf_map_lookup_elem(&vip_sched, &s->ctx->vip_id);
	__u32 count = lb_pool_count(s->pool), vip_id = s->ctx->vip_id, pos = 0, id, i;

	if (!sched || !count)
		return LB_NO_BACKEND;
	for (i = 0; i < LB_RR_DRAWS; i++) {
		pos = __sync_fetch_and_add(&sched->ticket, 1) % count;
		id = s->pool->backend_ids[lb_pool_index(pos)];
		if (lb_backend_takes_new(id, vip_id))
			return id;
	}
	/* Mostly DRAIN or DOWN: any UP backend rather than a drop. */
	return lb_first_up_from(s->pool, vip_id, pos);
}

SEC("xdp")
int xdp_lb_rr(struct xdp_md *xdp)
{
	struct lb_sched s;
	int action = lb_sched_begin(xdp, &s);

	if (action != LB_CONTINUE)
		return action;
	return lb_sched_place(xdp, &s, round_robin_pick(&s), 0);
}

char LICENSE[] SEC("license") = "GPL";
