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
#include "nexthop.bpf.h"
#include "parsing.bpf.h"
#include "stage.bpf.h"

#ifndef IP_DF
#define IP_DF 0x4000 /* "don't fragment" bit of frag_off (net/ip.h is not uapi) */
#endif

#define ENCAP_L2_TAGGED_LEN (ETH_HLEN + sizeof(struct vlan_hdr))

/* The backend lb chose, or NULL when the slot is out of range or unused. */
static __always_inline const struct lb_backend *encap_backend(const struct lb_packet_ctx *packet)
{
	__u32 id = packet->backend_id;
	const struct lb_backend *backend = bpf_map_lookup_elem(&backends, &id);

	if (!backend || backend->state == LB_BACKEND_EMPTY)
		return NULL;
	return backend;
}

/* The inner IPv4 header at @l3_offset, or NULL when the context does not
 * describe this frame: an L2 length other than 14 or 18, or no whole IPv4
 * packet there. The total length is checked too, as the outer one is built
 * from it and must not wrap.
 */
static __always_inline struct iphdr *encap_inner_header(struct xdp_md *ctx, __u32 l3_offset)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *inner;
	__u32 tot_len;

	if (l3_offset != ETH_HLEN && l3_offset != ENCAP_L2_TAGGED_LEN)
		return NULL;
	inner = data + l3_offset;
	if ((void *)(inner + 1) > data_end)
		return NULL;
	tot_len = bpf_ntohs(inner->tot_len);
	/* As in parse_iphdr(): 6.1's verifier needs the bound again. */
	barrier_var(tot_len);
	tot_len &= 0xffff;
	if (inner->version != 4 || tot_len < sizeof(*inner) || (void *)inner + tot_len > data_end)
		return NULL;
	return inner;
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
 * Returns LB_CONTINUE to go on.
 */
static __always_inline int encap_begin(struct xdp_md *ctx, struct encap_job *job)
{
	job->packet = lb_packet_ctx();
	if (!job->packet)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	job->l3_offset = job->packet->l3_offset;
	job->backend = encap_backend(job->packet);
	job->inner = encap_inner_header(ctx, job->l3_offset);
	if (!job->backend || !job->inner)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	return LB_CONTINUE;
}

/* Fills @outer, checksum included: an IPv4 header carrying @protocol to @daddr
 * whose payload is @extra bytes of the stage's own headers plus @inner.
 * @saddr 0 means the client's address (the inner source).
 */
static __always_inline void encap_outer_ipv4(const struct iphdr *inner, __be32 saddr,
					     __be32 daddr, __u8 protocol, __u16 extra,
					     struct iphdr *outer)
{
	outer->version = 4;
	outer->ihl = sizeof(*outer) / 4;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(*outer) + extra);
	outer->id = inner->id;
	/* Only DF: the outer packet is whole even when the inner one is a
	 * fragment, and a DF inner packet must not be fragmented as outer either.
	 */
	outer->frag_off = inner->frag_off & bpf_htons(IP_DF);
	outer->ttl = LB_OUTER_TTL;
	outer->protocol = protocol;
	outer->check = 0;
	outer->saddr = saddr ? saddr : inner->saddr;
	outer->daddr = daddr;
	outer->check = ipv4_header_csum(outer);
}

/* Grows the frame at the front by @len bytes (a constant at every call site),
 * moves the L2 header (tag included) to the new start and writes the next
 * hop's MACs. Returns where the @len bytes of outer headers go, or NULL after
 * counting the drop. The caller writes its headers there.
 */
static __always_inline void *encap_push(struct xdp_md *ctx, __u32 l3_offset, const __u32 len,
					const struct next_hop *hop)
{
	void *data, *data_end, *slot;

	if (bpf_xdp_adjust_head(ctx, -(int)len)) {
		ENCAP_DROP(ENCAP_DROP_HEADROOM);
		return NULL;
	}
	/* adjust_head invalidated every packet pointer: derive them again. The
	 * frame was checked to hold l3_offset + 20 bytes before it grew, so
	 * these checks only show the verifier what is already true.
	 */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + ENCAP_L2_TAGGED_LEN + len > data_end) {
		ENCAP_DROP(ENCAP_DROP_HEADROOM);
		return NULL;
	}
	/* Constant sizes for the copy; the old L2 header starts @len (>= 20)
	 * bytes in and is at most 18 long, so source and destination do not
	 * overlap.
	 */
	if (l3_offset == ETH_HLEN)
		__builtin_memcpy(data, data + len, ETH_HLEN);
	else
		__builtin_memcpy(data, data + len, ENCAP_L2_TAGGED_LEN);
	slot = data + l3_offset;
	if (slot + len > data_end) {
		ENCAP_DROP(ENCAP_DROP_HEADROOM);
		return NULL;
	}
	next_hop_set_macs(data, hop);
	return slot;
}

#endif /* LB_ENCAP_BPF_H */
