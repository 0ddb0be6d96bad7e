/* SPDX-License-Identifier: GPL-2.0 */
/* encap.bpf.h's steps for an IPv6 VIP's packet: its IPv6 backend, the inner
 * IPv6 packet, and the outer IPv6 header in front of it.
 *
 *   before: [L2 (14, or 18 with an 802.1Q tag)][inner IPv6 ...]
 *   after:  [L2, same tag, next-hop MACs][outer IPv6, 40 bytes][inner IPv6 ...]
 */
#ifndef LB_ENCAP6_BPF_H
#define LB_ENCAP6_BPF_H

#include <linux/ipv6.h>

#include "encap.bpf.h"
#include "flow_hash_common.h"
#include "nexthop6.bpf.h"

/* The flow label's 20 bits. */
#define LB_FLOW_LABEL_MASK 0xfffff

struct encap6_job {
	struct lb_packet_ctx *packet;
	const struct lb_backend *backend;
	struct ipv6hdr *inner;
	__u32 l3_offset;
};

/* encap_begin() for @packet, an IPv6 one: XDP_DROP (drop_bad_ctx) when it
 * names no IPv6 backend or does not match the frame, else LB_CONTINUE.
 */
static __always_inline int encap6_begin(struct xdp_md *ctx, struct lb_packet_ctx *packet,
					struct encap6_job *job)
{
	job->packet = packet;
	job->l3_offset = packet->l3_offset;
	job->backend = encap_backend(packet);
	job->inner = lb_ctx_ipv6(ctx, packet);
	if (!job->backend || !job->inner || !(job->backend->flags & LB_BACKEND_F_IPV6))
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	return LB_CONTINUE;
}

/* Whether lb_tunables.outer_src_addr6 names a source: all zero keeps the
 * client's. A constant to the verifier, which drops the branch not taken.
 */
static __always_inline bool encap6_fixed_source(void)
{
	const volatile __u32 *w = (const volatile __u32 *)lb_tunables.outer_src_addr6;

	return w[0] | w[1] | w[2] | w[3];
}

/* Fills @outer: an IPv6 header carrying @nexthdr to the backend, whose payload
 * is @extra bytes of the stage's own headers plus the inner packet. Traffic
 * class copied from the inner header (as IPv4's TOS is); the flow label from
 * the flow hash, so ECMP and RSS on the way to the backends spread flows while
 * a flow keeps its path; hop limit LB_OUTER_TTL; source outer_source6, or the
 * client's address.
 */
static __always_inline void encap_outer_ipv6(const struct encap6_job *job, __u8 nexthdr,
					     __u16 extra, struct ipv6hdr *outer)
{
	const struct ipv6hdr *inner = job->inner;
	__u32 label = lb_ctx_flow_hash(job->packet) & LB_FLOW_LABEL_MASK;

	outer->version = 6;
	outer->priority = inner->priority;
	outer->flow_lbl[0] = (inner->flow_lbl[0] & 0xf0) | (__u8)(label >> 16);
	outer->flow_lbl[1] = (__u8)(label >> 8);
	outer->flow_lbl[2] = (__u8)label;
	outer->payload_len = bpf_htons(job->packet->ip_tot_len + extra);
	outer->nexthdr = nexthdr;
	outer->hop_limit = LB_OUTER_TTL;
	if (encap6_fixed_source())
		__builtin_memcpy(&outer->saddr, (const void *)lb_tunables.outer_src_addr6,
				 sizeof(outer->saddr));
	else
		__builtin_memcpy(&outer->saddr, job->packet->flow6.src, sizeof(outer->saddr));
	__builtin_memcpy(&outer->daddr, job->backend->addr6, sizeof(outer->daddr));
}

#endif /* LB_ENCAP6_BPF_H */
