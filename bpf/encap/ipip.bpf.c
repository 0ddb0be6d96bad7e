// SPDX-License-Identifier: GPL-2.0
/* Encap stage: wraps the IPv4 packet in an outer IPv4 header (IPIP) to the
 * backend lb chose and sends it to the next hop.
 *
 *   before: [L2 (14, or 18 with an 802.1Q tag)][inner IPv4 ...]
 *   after:  [L2, same tag, next-hop MACs][outer IPv4, 20 bytes][inner IPv4 ...]
 *
 * The inner packet is never touched. All checks and the next-hop lookup happen
 * before the frame changes, so a dropped frame is always the frame that came in.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
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

#define IPIP_L2_TAGGED_LEN (ETH_HLEN + sizeof(struct vlan_hdr))

/* Outer source address, set through the skeleton before load. 0 keeps the
 * client's address, so the backend sees and answers the client directly; an
 * LB address makes the tunnel pass source-address filters on the way.
 */
const volatile __be32 outer_src_addr = 0;

/* The backend lb chose, or NULL when the slot is out of range or unused. */
static __always_inline const struct lb_backend *ipip_backend(const struct lb_packet_ctx *packet)
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
static __always_inline struct iphdr *ipip_inner_header(struct xdp_md *ctx, __u32 l3_offset)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *inner;
	__u32 tot_len;

	if (l3_offset != ETH_HLEN && l3_offset != IPIP_L2_TAGGED_LEN)
		return NULL;
	inner = data + l3_offset;
	if ((void *)(inner + 1) > data_end)
		return NULL;
	tot_len = bpf_ntohs(inner->tot_len);
	if (inner->version != 4 || tot_len < sizeof(*inner) || (void *)inner + tot_len > data_end)
		return NULL;
	return inner;
}

/* Fills @outer for @inner towards @daddr, checksum included. */
static __always_inline void ipip_outer_header(const struct iphdr *inner, __be32 daddr,
					      struct iphdr *outer)
{
	outer->version = 4;
	outer->ihl = sizeof(*outer) / 4;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(*outer));
	outer->id = inner->id;
	/* Only DF: the outer packet is whole even when the inner one is a
	 * fragment, and a DF inner packet must not be fragmented as outer either.
	 */
	outer->frag_off = inner->frag_off & bpf_htons(IP_DF);
	outer->ttl = LB_OUTER_TTL;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = outer_src_addr ? outer_src_addr : inner->saddr;
	outer->daddr = daddr;
	outer->check = ipv4_header_csum(outer);
}

/* Grows the frame at the front by the outer header, moves the L2 header (tag
 * included) to the new start, writes @outer behind it and the next hop's MACs.
 * Returns XDP_DROP (counted) or -1.
 */
static __always_inline int ipip_push_header(struct xdp_md *ctx, __u32 l3_offset,
					    const struct iphdr *outer,
					    const struct next_hop *hop)
{
	void *data, *data_end;
	struct iphdr *slot;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*outer)))
		return encap_drop(LB_C_ENCAP_DROP_HEADROOM);
	/* adjust_head invalidated every packet pointer: derive them again. The
	 * frame was checked to hold l3_offset + 20 bytes before it grew by 20,
	 * so these checks only show the verifier what is already true.
	 */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + IPIP_L2_TAGGED_LEN + sizeof(*outer) > data_end)
		return encap_drop(LB_C_ENCAP_DROP_HEADROOM);
	/* Constant sizes for the copy; the old L2 header starts 20 bytes in and
	 * is at most 18 long, so source and destination do not overlap.
	 */
	if (l3_offset == ETH_HLEN)
		__builtin_memcpy(data, data + sizeof(*outer), ETH_HLEN);
	else
		__builtin_memcpy(data, data + sizeof(*outer), IPIP_L2_TAGGED_LEN);
	slot = data + l3_offset;
	if ((void *)(slot + 1) > data_end)
		return encap_drop(LB_C_ENCAP_DROP_HEADROOM);
	*slot = *outer;
	next_hop_set_macs(data, hop);
	return -1;
}

SEC("xdp")
int xdp_lb_ipip(struct xdp_md *ctx)
{
	struct lb_packet_ctx *packet = lb_packet_ctx();
	const struct lb_backend *backend;
	struct next_hop hop = {};
	struct iphdr outer = {};
	struct iphdr *inner;
	__u32 l3_offset;
	int action;

	if (!packet)
		return encap_drop(LB_C_ENCAP_DROP_BAD_CTX);
	l3_offset = packet->l3_offset;
	backend = ipip_backend(packet);
	inner = ipip_inner_header(ctx, l3_offset);
	if (!backend || !inner)
		return encap_drop(LB_C_ENCAP_DROP_BAD_CTX);
	ipip_outer_header(inner, backend->addr, &outer);

	action = next_hop_resolve(ctx, &outer, backend, &hop);
	if (action >= 0)
		return action;
	action = ipip_push_header(ctx, l3_offset, &outer, &hop);
	if (action >= 0)
		return action;
	return next_hop_send(&hop);
}

char LICENSE[] SEC("license") = "GPL";
