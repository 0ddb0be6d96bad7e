/* SPDX-License-Identifier: GPL-2.0 */
/* What every encap stage does the same way: find the backend and the inner
 * packet, build the outer IPv4 header, and push headers in front of the inner
 * packet. A stage adds only its own format (IPIP: nothing more; GUE: a UDP
 * header) and the next hop comes from nexthop.bpf.h.
 *
 *   before: [L2 (14, or 18 with an 802.1Q tag)][inner IPv4 ...]
 *   after:  [L2, same tag, next-hop MACs][outer headers][inner IPv4 ...]
 */
#ifndef LB_ENCAP_BPF_H
#define LB_ENCAP_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "csum.bpf.h"
#include "frame.bpf.h"
#include "nexthop.bpf.h"
#include "parsing.bpf.h"
#include "stage.bpf.h"
#include "tunnel.bpf.h"

/* The backend lb chose, or NULL when the slot is out of range or unused. */
static __always_inline const struct lb_backend *encap_backend(const struct lb_packet_ctx *packet)
{
	__u32 id = packet->backend_id;
	const struct lb_backend *backend = bpf_map_lookup_elem(&backends, &id);

	if (!backend || backend->state == LB_BACKEND_EMPTY)
		return NULL;
	return backend;
}

/* What an encap stage works on: the context, its backend, the inner packet. */
struct encap_job {
	struct lb_packet_ctx *packet;
	const struct lb_backend *backend;
	struct iphdr *inner;
	__u32 l3_offset;
};

/* The start of every encap stage: @job filled, or XDP_DROP (counted as
 * drop_bad_ctx) when the context names no backend or does not match the frame.
 * The backend may be of either family: ipip tunnels an IPv4 packet to an IPv6
 * backend (IPv4-in-IPv6); encap_begin() is for the stages that cannot.
 * Returns LB_CONTINUE to go on.
 */
static __always_inline int encap_begin_any(struct xdp_md *ctx, struct encap_job *job)
{
	job->packet = lb_packet_ctx();
	if (!job->packet)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	job->l3_offset = job->packet->l3_offset;
	job->backend = encap_backend(job->packet);
	job->inner = lb_ctx_ipv4(ctx, job->packet);
	if (!job->backend || !job->inner)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	return LB_CONTINUE;
}

/* encap_begin_any() for a stage that carries IPv4 to IPv4 backends only (gue,
 * nat): an IPv6 backend is never configured for them, but the backends map
 * is not the stage's to trust.
 */
static __always_inline int encap_begin(struct xdp_md *ctx, struct encap_job *job)
{
	int action = encap_begin_any(ctx, job);

	if (action == LB_CONTINUE && (job->backend->flags & LB_BACKEND_F_IPV6))
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	return action;
}

/* Fills @outer, checksum included (tunnel.bpf.h): an IPv4 header carrying
 * @protocol to @daddr whose payload is @extra bytes of the stage's own headers
 * plus the inner packet @job->inner. @saddr 0 means the client's address (the
 * inner source). Length and source come from the context.
 */
static __always_inline void encap_outer_ipv4(const struct encap_job *job, __be32 saddr,
					     __be32 daddr, __u8 protocol, __u16 extra,
					     struct iphdr *outer)
{
	lb_outer_ipv4(job->inner, job->packet->ip_tot_len, saddr ? saddr : job->packet->flow.src,
		      daddr, protocol, extra, outer);
}

/* Grows the frame at the front by @len bytes (a constant at every call site),
 * moves the L2 header (tag included) to the new start and writes the next
 * hop's MACs. Returns where the @len bytes of outer headers go, or NULL after
 * counting the drop. The caller writes its headers there.
 */
static __always_inline void *encap_push(struct xdp_md *ctx, __u32 l3_offset, const __u32 len,
					const struct next_hop *hop)
{
	/* A frame for the stack keeps the Ethernet header it came with. */
	bool own_l2 = hop->action == XDP_PASS;
	void *slot = frame_push_front(ctx, l3_offset, len, own_l2 ? NULL : hop->dmac,
				      hop->smac);

	if (!slot)
		ENCAP_DROP(ENCAP_DROP_HEADROOM);
	return slot;
}

#endif /* LB_ENCAP_BPF_H */
