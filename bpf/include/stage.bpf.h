/* SPDX-License-Identifier: GPL-2.0 */
/* What every stage does the same way: count, fetch the context, hand on. */
#ifndef LB_STAGE_BPF_H
#define LB_STAGE_BPF_H

#include <bpf/bpf_endian.h>

#include "lb_maps.bpf.h"
#include "lb_tunables_common.h"

/* This program's load-time settings, written by the loader before load
 * (lb_tunables_common.h). The defaults below serve the unit tests, which set
 * only what a case needs.
 */
const volatile struct lb_tunables lb_tunables = {
	.flow_timeout_ns = LB_DEFAULT_FLOW_TIMEOUT_S * 1000000000ULL,
	.nexthop_cache_ns = LB_NEXTHOP_CACHE_NS,
	.gue_port = bpf_htons(LB_DEFAULT_GUE_PORT),
};

/* A stage's helpers return either a final XDP action (>= 0: the packet is done,
 * counted) or LB_CONTINUE: not done, go on. The caller writes
 *	action = helper(...);
 *	if (action != LB_CONTINUE)
 *		return action;
 * (Parsing helpers over a cursor have their own rule: parsing.bpf.h.)
 */
#define LB_CONTINUE (-1)

/* Bumps one per-CPU counter; per-CPU, so a plain add is race-free. */
static __always_inline void lb_count(enum lb_counter id)
{
	__u32 key = id;
	__u64 *value = bpf_map_lookup_elem(&counters, &key);

	if (value)
		*value += 1;
}

/* Counts drop @id globally and, for VIP @vip_id, as per-VIP drop @vip_drop
 * (the same reason's index in LB_VIP_DROPS; use LB_COUNT_VIP_DROP()). Only
 * this CPU's copy is written. An id beyond the map (no VIP) counts globally.
 */
static __always_inline void lb_count_vip_drop(enum lb_counter id, enum lb_vip_drop vip_drop,
					      __u32 vip_id)
{
	struct lb_vip_drops *drops;

	lb_count(id);
	drops = bpf_map_lookup_elem(&vip_drops, &vip_id);
	if (drops && vip_drop < LB_VIP_DROP_MAX)
		drops->count[vip_drop] += 1;
}

#define LB_COUNT_VIP_DROP(ID, vip_id) lb_count_vip_drop(LB_C_##ID, LB_VD_##ID, (vip_id))

/* The VIP id a context's drops count for: none (LB_MAX_VIPS, beyond the
 * map) for a NAT reply, which matched a mapping, not a VIP.
 */
static __always_inline __u32 lb_drop_vip_id(const struct lb_packet_ctx *pkt)
{
	return pkt && !(pkt->flags & LB_CTX_F_NAT_REPLY) ? pkt->vip_id : LB_MAX_VIPS;
}

/* This CPU's packet context. Never NULL in practice; callers still check
 * because the verifier requires it.
 */
static __always_inline struct lb_packet_ctx *lb_packet_ctx(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&packet_ctx, &key);
}

/* Tail-calls the stage in @slot. Returns only when the slot is empty: the
 * fall-through is counted under @fallthrough and the frame goes on to the next
 * program or the stack, never dropped silently.
 */
static __always_inline int lb_next_stage(struct xdp_md *ctx, __u32 slot,
					 enum lb_counter fallthrough)
{
	bpf_tail_call(ctx, &stage_slots, slot);
	lb_count(fallthrough);
	return XDP_PASS;
}

#endif /* LB_STAGE_BPF_H */
