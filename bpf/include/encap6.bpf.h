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

/* Fills @outer: an IPv6 header carrying @nexthdr to the backend, whose payload
 * is @extra bytes of the stage's own headers plus the inner packet
 * (lb_outer_ipv6(): traffic class copied, flow label from the flow hash);
 * source outer_source6, or the client's address.
 */
static __always_inline void encap_outer_ipv6(const struct encap6_job *job, __u8 nexthdr,
					     __u16 extra, struct ipv6hdr *outer)
{
	const struct ipv6hdr *inner = job->inner;
	__u8 tclass = (__u8)(inner->priority << 4) | (inner->flow_lbl[0] >> 4);
	const void *saddr = job->packet->flow6.src;
	__u32 fixed[4];

	if (lb_outer_src6_set()) {
		lb_outer_src6_copy(fixed);
		saddr = fixed;
	}
	lb_outer_ipv6(tclass, lb_ctx_flow_hash(job->packet), job->packet->ip_tot_len + extra,
		      nexthdr, saddr, job->backend->addr6, outer);
}

/* encap_outer_ipv6() for an IPv4 packet to an IPv6 backend (IPv4-in-IPv6):
 * traffic class the inner TOS, flow label from the IPv4 flow hash, source
 * always outer_source6, since the client's IPv4 address cannot be an IPv6
 * source. The config requires outer_source6 for such a VIP; a program loaded
 * without one drops (drop_bad_ctx) rather than send from ::. Returns
 * LB_CONTINUE with @outer filled, or XDP_DROP.
 */
static __always_inline int encap_outer_ipv6_of_ipv4(const struct encap_job *job, __u8 nexthdr,
						    __u16 extra, struct ipv6hdr *outer)
{
	__u32 saddr[4];

	if (!lb_outer_src6_set())
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	lb_outer_src6_copy(saddr);
	lb_outer_ipv6(job->inner->tos, lb_flow_hash(&job->packet->flow),
		      job->packet->ip_tot_len + extra, nexthdr, saddr, job->backend->addr6, outer);
	return LB_CONTINUE;
}

/* The outer IPv6 header in front of @packet, whose backend is IPv6 (RFC 2473
 * for ipip; gue adds its UDP header behind it): in front of an IPv6 packet,
 * untouched, its extension headers included, next header @nexthdr6; or in
 * front of an IPv4 one (encap_outer_ipv6_of_ipv4()), next header @nexthdr4.
 * @extra bytes of the stage's own headers come between. Sets @backend,
 * @l3_offset and @inner (the inner IP header, its fixed part proven to the
 * verifier). Returns LB_CONTINUE, or XDP_DROP counted.
 */
static __always_inline int encap6_outer(struct xdp_md *ctx, struct lb_packet_ctx *packet,
					__u8 nexthdr6, __u8 nexthdr4, __u16 extra,
					struct ipv6hdr *outer, const struct lb_backend **backend,
					__u32 *l3_offset, const void **inner)
{
	struct encap6_job job6;
	struct encap_job job;
	int action;

	if (packet->flags & LB_CTX_F_IPV6) {
		action = encap6_begin(ctx, packet, &job6);
		if (action != LB_CONTINUE)
			return action;
		encap_outer_ipv6(&job6, nexthdr6, extra, outer);
		*backend = job6.backend;
		*l3_offset = job6.l3_offset;
		*inner = job6.inner;
		return LB_CONTINUE;
	}
	action = encap_begin_any(ctx, &job);
	if (action != LB_CONTINUE)
		return action;
	*backend = job.backend;
	*l3_offset = job.l3_offset;
	*inner = job.inner;
	return encap_outer_ipv6_of_ipv4(&job, nexthdr4, extra, outer);
}

/* Whether @packet goes to an IPv6 backend: an IPv6 packet's always; an IPv4
 * packet's by its backend (an array lookup the verifier inlines).
 */
static __always_inline bool encap_outer_is_ipv6(const struct lb_packet_ctx *packet)
{
	const struct lb_backend *backend;

	if (packet->flags & LB_CTX_F_IPV6)
		return true;
	backend = encap_backend(packet);
	return backend && (backend->flags & LB_BACKEND_F_IPV6);
}

/* encap_push() of the @len bytes of outer headers at @outer, an IPv6 one
 * first (@len a constant at every call site): written into the frame, the
 * EtherType in front of them (the tag's inner one) set to IPv6, as an IPv4
 * packet's said IPv4, whichever L2 header the frame keeps. Returns where they
 * went, or NULL after counting the drop.
 */
static __always_inline void *encap6_push(struct xdp_md *ctx, __u32 l3_offset, const void *outer,
					 const __u32 len, const struct next_hop *hop)
{
	void *slot = encap_push(ctx, l3_offset, len, hop);

	if (!slot)
		return NULL;
	__builtin_memcpy(slot, outer, len);
	*((__be16 *)slot - 1) = bpf_htons(ETH_P_IPV6);
	return slot;
}

#endif /* LB_ENCAP6_BPF_H */
