/* SPDX-License-Identifier: GPL-2.0 */
/* The tunnel headers as xdp-lb writes them, whoever writes them: the XDP
 * encap stages in front of client packets (encap.bpf.h, gue.bpf.c) and the
 * health probes' LWT program in front of a probe (bpf/health/), so that a
 * probe reaches the backend exactly as client traffic does.
 */
#ifndef LB_TUNNEL_BPF_H
#define LB_TUNNEL_BPF_H

#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

#include "csum.bpf.h"
#include "flow_hash_common.h"
#include "lb_consts_common.h"
#include "stage.bpf.h" /* lb_tunables */

#ifndef IP_DF
#define IP_DF 0x4000 /* "don't fragment" bit of frag_off (net/ip.h is not uapi) */
#endif

/* Fills @outer, checksum included: an IPv4 header from @saddr to @daddr
 * carrying @protocol, whose payload is @extra bytes of the tunnel's own
 * headers plus the @inner_len bytes of the inner packet @inner. Only what is
 * copied as it is (TOS, id, DF) is read from the inner header.
 */
static __always_inline void lb_outer_ipv4(const struct iphdr *inner, __u16 inner_len,
					  __be32 saddr, __be32 daddr, __u8 protocol,
					  __u16 extra, struct iphdr *outer)
{
	outer->version = 4;
	outer->ihl = sizeof(*outer) / 4;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(inner_len + sizeof(*outer) + extra);
	outer->id = inner->id;
	/* Only DF: the outer packet is whole even when the inner one is a
	 * fragment, and a DF inner packet must not be fragmented as outer either.
	 */
	outer->frag_off = inner->frag_off & bpf_htons(IP_DF);
	outer->ttl = LB_OUTER_TTL;
	outer->protocol = protocol;
	outer->check = 0;
	outer->saddr = saddr;
	outer->daddr = daddr;
	outer->check = ipv4_header_csum(outer);
}

/* The flow label's 20 bits. */
#define LB_FLOW_LABEL_MASK 0xfffff

/* Fills @outer: an IPv6 header from @saddr to @daddr (16 bytes each) carrying
 * @nexthdr, whose payload is @payload_len bytes. Traffic class @tclass (the
 * inner packet's, as IPv4's TOS is copied); the flow label from @flow_hash, so
 * ECMP and RSS on the way to the backends spread flows while a flow keeps its
 * path; hop limit LB_OUTER_TTL. IPv6 has no header checksum.
 */
static __always_inline void lb_outer_ipv6(__u8 tclass, __u32 flow_hash, __u16 payload_len,
					  __u8 nexthdr, const void *saddr, const void *daddr,
					  struct ipv6hdr *outer)
{
	__u32 label = flow_hash & LB_FLOW_LABEL_MASK;

	outer->version = 6;
	outer->priority = tclass >> 4;
	outer->flow_lbl[0] = (__u8)(tclass << 4) | (__u8)(label >> 16);
	outer->flow_lbl[1] = (__u8)(label >> 8);
	outer->flow_lbl[2] = (__u8)label;
	outer->payload_len = bpf_htons(payload_len);
	outer->nexthdr = nexthdr;
	outer->hop_limit = LB_OUTER_TTL;
	__builtin_memcpy(&outer->saddr, saddr, sizeof(outer->saddr));
	__builtin_memcpy(&outer->daddr, daddr, sizeof(outer->daddr));
}

/* Whether lb_tunables.outer_src_addr6 (outer_source6) names a source: all
 * zero keeps the client's. A constant to the verifier, which drops the branch
 * not taken.
 */
static __always_inline bool lb_outer_src6_set(void)
{
	const volatile __u32 *w = (const volatile __u32 *)lb_tunables.outer_src_addr6;

	return w[0] | w[1] | w[2] | w[3];
}

/* Copies outer_src_addr6 to @addr word by word through the volatile: a plain
 * copy from the const object lets clang fold in its initializer, all zero.
 */
static __always_inline void lb_outer_src6_copy(__u32 *addr)
{
	const volatile __u32 *w = (const volatile __u32 *)lb_tunables.outer_src_addr6;

	addr[0] = w[0];
	addr[1] = w[1];
	addr[2] = w[2];
	addr[3] = w[3];
}

/* GUE's UDP source port: one in the dynamic range (49152-65535) from the
 * inner flow's hash @flow_hash, so ECMP and RSS spread flows and keep each on
 * one path.
 */
static __always_inline __be16 lb_gue_source_port_of(__u32 flow_hash)
{
	return bpf_htons(LB_GUE_SPORT_BASE | (flow_hash & LB_GUE_SPORT_MASK));
}

/* lb_gue_source_port_of() an IPv4 flow. */
static __always_inline __be16 lb_gue_source_port(const struct lb_flow_key *flow)
{
	return lb_gue_source_port_of(lb_flow_hash(flow));
}

/* GUE over IPv6's UDP checksum without a pass over the payload, for the XDP
 * gue stage and the health probes' LWT program alike. A TCP or UDP segment
 * whose own checksum is (or will be, when the device completes it) right sums
 * to the complement of its pseudo-header's sum (RFC 1071; the kernel's local
 * checksum offload, lco_csum()), so the inner packet's contribution to the
 * outer sum follows from its headers. Neither holds for UDP without a checksum
 * (IPv4's 0), a fragment, or anything but TCP and UDP: callers check that.
 */

/* The unfolded sum an inner IPv4 packet from @saddr to @daddr whose L4 segment
 * of @l4_len bytes and protocol @proto adds: its header, checksum included,
 * sums to zero, its segment to the complement of its pseudo-header.
 */
static __always_inline __u32 lb_lco_sum4(__be32 saddr, __be32 daddr, __u32 l4_len, __u8 proto)
{
	__u32 pseudo = bpf_htons((__u16)l4_len) + bpf_htons(proto);

	pseudo += (saddr & 0xffff) + (saddr >> 16) + (daddr & 0xffff) + (daddr >> 16);
	return csum_fold32(pseudo);
}

/* The same for an inner IPv6 packet whose header @ip6 has no extension header
 * behind it: the addresses are also its pseudo-header's and cancel, leaving
 * the header's first 8 bytes and the complement of length and next header.
 */
static __always_inline __u32 lb_lco_sum6(const struct ipv6hdr *ip6)
{
	const __u16 *w = (const __u16 *)ip6;
	__u32 pseudo = ip6->payload_len + bpf_htons(ip6->nexthdr);

	return w[0] + w[1] + w[2] + w[3] + csum_fold32(pseudo);
}

/* The UDP checksum of the outer IPv6 header @ip and UDP header @udp in front
 * of an inner packet whose sum is @inner_sum (lb_lco_sum4/6()): pseudo-header
 * (addresses, UDP length, next header 17), UDP header, inner packet. One that
 * folds to 0 is sent as 0xffff, as UDP over IPv6 must (RFC 8200 8.1).
 */
static __always_inline __sum16 lb_udp6_check(const struct ipv6hdr *ip, const struct udphdr *udp,
					     __u32 inner_sum)
{
	const __u16 *addr = (const __u16 *)&ip->saddr;
	__u32 sum = inner_sum + udp->len + bpf_htons(IPPROTO_UDP) + udp->source + udp->dest +
		    udp->len;
	__u16 check;
	int i;

#pragma unroll
	for (i = 0; i < 16; i++) /* saddr and daddr, one behind the other */
		sum += addr[i];
	check = csum_fold32(sum);
	return check ? check : 0xffff;
}

#endif /* LB_TUNNEL_BPF_H */
