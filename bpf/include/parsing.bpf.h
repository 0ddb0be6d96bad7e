/* SPDX-License-Identifier: GPL-2.0 */
/* Header parsers over a cursor.
 *
 * The rule for every parse_* helper below: it checks that the whole header lies
 * inside [cursor, data_end), advances the cursor past it, and returns the next
 * protocol (host byte order) or the header's own useful value; it returns -1
 * when the header is truncated or malformed, and then leaves the cursor alone.
 */
#ifndef LB_PARSING_BPF_H
#define LB_PARSING_BPF_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lb_consts_common.h"

/* IPv4 frag_off bits, host byte order: don't fragment, more fragments,
 * fragment offset (net/ip.h is not uapi).
 */
#ifndef IP_DF
#define IP_DF 0x4000
#endif
#define LB_IP_MF 0x2000
#define LB_IP_OFFSET 0x1fff

struct hdr_cursor {
	void *pos;
};

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* Ethernet plus at most one 802.1Q tag. Returns the EtherType behind them.
 * *vlan_tagged is set when a tag was skipped. A second tag (QinQ) is not
 * followed: its EtherType (0x8100) is returned, which no caller treats as IPv4.
 */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct ethhdr **ethhdr, int *vlan_tagged)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vlan;
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = bpf_ntohs(eth->h_proto);
	*vlan_tagged = 0;
	if (proto == ETH_P_8021Q) {
		vlan = (void *)(eth + 1);
		if ((void *)(vlan + 1) > data_end)
			return -1;
		proto = bpf_ntohs(vlan->encapsulated_proto);
		*vlan_tagged = 1;
		nh->pos = vlan + 1;
	} else {
		nh->pos = eth + 1;
	}
	*ethhdr = eth;
	return proto;
}

/* IPv4 with options. Returns the L4 protocol. Rejects version != 4, IHL < 5,
 * a header longer than the frame, and a total length that is shorter than the
 * header or longer than the frame (a frame may carry Ethernet padding beyond
 * the total length, so shorter frames are the only error).
 */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr)
{
	struct iphdr *iph = nh->pos;
	__u32 hdr_len, tot_len;

	if ((void *)(iph + 1) > data_end)
		return -1;
	if (iph->version != 4 || iph->ihl < 5)
		return -1;
	hdr_len = iph->ihl * 4;
	if ((void *)iph + hdr_len > data_end)
		return -1;
	tot_len = bpf_ntohs(iph->tot_len);
	/* The 6.1 verifier forgets the range of a byte-swapped value and then
	 * refuses the pointer math below; the compiler knows it is < 65536 and
	 * would drop a plain mask, so hide the value from it first.
	 */
	barrier_var(tot_len);
	tot_len &= 0xffff;
	if (tot_len < hdr_len || (void *)iph + tot_len > data_end)
		return -1;
	nh->pos = (void *)iph + hdr_len;
	*iphdr = iph;
	return iph->protocol;
}

/* IPv6's fixed header. Returns its next header. Rejects version != 6 and an
 * IPv6 packet (40 bytes + payload length) longer than the frame (Ethernet
 * padding may follow it). Payload length 0 passes here: what the next header
 * names must then fit in 0 bytes, which a caller's length checks refuse.
 */
static __always_inline int parse_ipv6hdr(struct hdr_cursor *nh, void *data_end,
					 struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = nh->pos;
	__u32 payload_len;

	if ((void *)(ip6h + 1) > data_end)
		return -1;
	if (ip6h->version != 6)
		return -1;
	payload_len = bpf_ntohs(ip6h->payload_len);
	/* As in parse_iphdr(): the 6.1 verifier forgets a swapped value's range. */
	barrier_var(payload_len);
	payload_len &= 0xffff;
	if ((void *)(ip6h + 1) + payload_len > data_end)
		return -1;
	nh->pos = ip6h + 1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

/* The IPv6 fragment header (RFC 8200, 4.5); the kernel's uapi has none. */
struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3, 2 reserved bits, M */
	__be32 identification;
};

/* frag_off bits, host byte order. */
#define LB_IP6_MF 0x0001
#define LB_IP6_OFFSET 0xfff8

/* Why parse_ipv6_exthdrs() stopped short of the upper-layer header. */
#define LB_IPV6_EXT_TRUNCATED (-1) /* a header beyond the frame or the payload length */
#define LB_IPV6_EXT_LIMIT (-2)     /* more than LB_IPV6_MAX_EXT_HDRS, or _LEN bytes */
#define LB_IPV6_EXT_UNKNOWN (-3)   /* an extension header it does not walk (AH, ...) */
#define LB_IPV6_EXT_MALFORMED (-4) /* hop-by-hop not first, a second fragment header */

/* Whether @nexthdr names an extension header parse_ipv6_exthdrs() walks
 * (1), one it does not (-1: authentication (its length counts 4-byte units),
 * mobility, HIP, shim6, the experimental 253 and 254), or an upper-layer
 * protocol (0; "no next header", 59, is one: nothing follows it).
 */
static __always_inline int ipv6_ext_kind(int nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
		return 1;
	case IPPROTO_AH:
	case IPPROTO_MH:
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253:
	case 254:
		return -1;
	default:
		return 0;
	}
}

/* IPv6 extension headers from the cursor (behind the fixed header) up to the
 * upper-layer header. Breaks this file's rule for its failures: returns the
 * upper-layer protocol, or one of LB_IPV6_EXT_* (the cursor is then
 * anywhere). @payload_len bounds the walk as the frame does. A fragment header
 * sets *frag_off (host order, LB_IP6_*); behind a later fragment's (offset
 * != 0) no header follows, so its next header is returned as the protocol.
 * At most LB_IPV6_MAX_EXT_HDRS headers: an unrolled loop, each step a
 * bounded jump the verifier follows.
 */
static __always_inline int parse_ipv6_exthdrs(struct hdr_cursor *nh, void *data_end,
					      __u32 payload_len, int nexthdr, __u16 *frag_off)
{
	struct ipv6_frag_hdr *frag;
	struct ipv6_opt_hdr *opt;
	__u32 used = 0, len;
	bool fragment = false;
	int i;

#pragma clang loop unroll(full)
	for (i = 0; i < LB_IPV6_MAX_EXT_HDRS; i++) {
		if (ipv6_ext_kind(nexthdr) < 0)
			return LB_IPV6_EXT_UNKNOWN;
		if (!ipv6_ext_kind(nexthdr))
			return nexthdr;
		/* Hop-by-hop options only ever come first (RFC 8200, 4.1). */
		if (nexthdr == IPPROTO_HOPOPTS && i)
			return LB_IPV6_EXT_MALFORMED;
		if (nexthdr == IPPROTO_FRAGMENT) {
			frag = nh->pos;
			/* Its 8 bytes count too: a stage relies on the L4 header
			 * at most LB_IPV6_MAX_EXT_LEN bytes behind the fixed one.
			 */
			if (used + sizeof(*frag) > LB_IPV6_MAX_EXT_LEN)
				return LB_IPV6_EXT_LIMIT;
			if ((void *)(frag + 1) > data_end || used + sizeof(*frag) > payload_len)
				return LB_IPV6_EXT_TRUNCATED;
			if (fragment)
				return LB_IPV6_EXT_MALFORMED;
			fragment = true;
			*frag_off = bpf_ntohs(frag->frag_off);
			nexthdr = frag->nexthdr;
			nh->pos = frag + 1;
			used += sizeof(*frag);
			if (*frag_off & LB_IP6_OFFSET)
				return nexthdr;
			continue;
		}
		/* Hop-by-hop, routing, destination options: 8 bytes and more. */
		opt = nh->pos;
		if ((void *)opt + 8 > data_end)
			return LB_IPV6_EXT_TRUNCATED;
		len = ((__u32)opt->hdrlen + 1) * 8;
		if (used + len > LB_IPV6_MAX_EXT_LEN)
			return LB_IPV6_EXT_LIMIT;
		if (used + len > payload_len || nh->pos + len > data_end)
			return LB_IPV6_EXT_TRUNCATED;
		nexthdr = opt->nexthdr;
		nh->pos += len;
		used += len;
	}
	if (ipv6_ext_kind(nexthdr) < 0)
		return LB_IPV6_EXT_UNKNOWN;
	return ipv6_ext_kind(nexthdr) ? LB_IPV6_EXT_LIMIT : nexthdr;
}

/* UDP. Returns the UDP length field (header included), which must be at least
 * the header size.
 */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr)
{
	struct udphdr *udph = nh->pos;
	int len;

	if ((void *)(udph + 1) > data_end)
		return -1;
	len = bpf_ntohs(udph->len);
	if (len < (int)sizeof(*udph))
		return -1;
	nh->pos = udph + 1;
	*udphdr = udph;
	return len;
}

/* TCP with options. Returns the header length; rejects a data offset below 5
 * or a header longer than the frame.
 */
static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end,
					struct tcphdr **tcphdr)
{
	struct tcphdr *tcph = nh->pos;
	int len;

	if ((void *)(tcph + 1) > data_end)
		return -1;
	len = tcph->doff * 4;
	if (len < (int)sizeof(*tcph))
		return -1;
	if ((void *)tcph + len > data_end)
		return -1;
	nh->pos = (void *)tcph + len;
	*tcphdr = tcph;
	return len;
}

#endif /* LB_PARSING_BPF_H */
