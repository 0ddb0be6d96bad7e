/* SPDX-License-Identifier: GPL-2.0 */
/* parse's IPv6 half: the fixed header, the extension headers, UDP or TCP, the
 * vips6 lookup (vip_addrs6 for ICMPv6) and the checks of an IPv6 VIP frame. Included by parse.bpf.c
 * behind the helpers both halves share (parse_pass, use_vip, read_ports,
 * l2_frame_check, hand_on, ...); the policy is at the top of parse.bpf.c.
 */
#ifndef LB_PARSE_IPV6_BPF_H
#define LB_PARSE_IPV6_BPF_H

/* The counter of a walk that stopped short (parse_ipv6_exthdrs()). */
static __always_inline enum lb_counter ipv6_ext_reason(int walk)
{
	switch (walk) {
	case LB_IPV6_EXT_LIMIT:
		return LB_C_PARSE_PASS_IPV6_EXT_LIMIT;
	case LB_IPV6_EXT_TRUNCATED:
		return LB_C_PARSE_PASS_IPV6_EXT_TRUNCATED;
	case LB_IPV6_EXT_UNKNOWN:
		return LB_C_PARSE_PASS_IPV6_EXT_UNKNOWN;
	default:
		return LB_C_PARSE_PASS_MALFORMED;
	}
}

/* A source no client's packet can have (RFC 4291, 2.5 and 2.7; RFC 8200):
 * unspecified ::, loopback ::1, IPv4-mapped ::ffff:0:0/96 (never on the
 * wire), multicast ff00::/8, and link-local fe80::/10, which no router
 * forwards (a balancer is one); and the VIP itself (the "land" attack). Four
 * words compared. The addresses are 4-byte aligned in the context.
 */
static __always_inline bool src6_is_martian(const __u8 *src, const __u8 *dst)
{
	const __u32 *s = (const __u32 *)src, *d = (const __u32 *)dst;

	if (src[0] == 0xff || (src[0] == 0xfe && (src[1] & 0xc0) == 0x80))
		return true;
	if (!(s[0] | s[1]) &&
	    (s[2] == bpf_htonl(0xffff) || (!s[2] && (!s[3] || s[3] == bpf_htonl(1)))))
		return true;
	return !((s[0] ^ d[0]) | (s[1] ^ d[1]) | (s[2] ^ d[2]) | (s[3] ^ d[3]));
}

/* IPv4's find_vip(): the exact VIP, the port wildcard, else a reply to an
 * IPv6 NAT mapping (nat_reply6; one entry when no IPv6 VIP uses NAT).
 */
static __always_inline int find_vip6(struct lb_packet_ctx *pkt, __u8 gen)
{
	struct lb_vip *vip;

	vip = vip6_lookup(pkt->flow6.dst, pkt->flow6.dport, pkt->flow6.proto, gen);
	if (!vip)
		vip = vip6_lookup(pkt->flow6.dst, 0, pkt->flow6.proto, gen);
	if (vip) {
		use_vip(pkt, vip);
		return LB_CONTINUE;
	}
	if (bpf_map_lookup_elem(&nat_reply6, &pkt->flow6)) {
		pkt->flags |= LB_CTX_F_NAT_REPLY;
		return LB_CONTINUE;
	}
	return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
}

/* IPv4's parse_fragment() for a fragment header's @frag_off. */
static __always_inline int parse_fragment6(struct hdr_cursor *nh, void *data_end, __u16 frag_off,
					   int l4_len, struct lb_packet_ctx *pkt, __u8 gen)
{
	struct lb_vip *vip;
	__be16 *ports;

	vip = vip6_lookup(pkt->flow6.dst, 0, pkt->flow6.proto, gen);
	if (vip) {
		use_vip(pkt, vip);
		pkt->flags |= LB_CTX_F_FRAGMENT;
		if (frag_off & LB_IP6_OFFSET)
			pkt->flags |= LB_CTX_F_LATER_FRAGMENT;
		return LB_CONTINUE;
	}
	if (frag_off & LB_IP6_OFFSET)
		return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
	ports = fragment_ports(nh, data_end, l4_len);
	if (ports && vip6_lookup(pkt->flow6.dst, ports[1], pkt->flow6.proto, gen))
		return parse_pass(LB_C_PARSE_PASS_FRAGMENT);
	return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
}

/* The ICMPv6 types the icmp stage handles: echo requests and the errors. */
static __always_inline bool icmp6_type_handled(__u8 type)
{
	return (type >= LB_ICMPV6_DEST_UNREACH && type <= LB_ICMPV6_PARAMPROB) ||
	       type == LB_ICMPV6_ECHO_REQUEST;
}

/* ICMPv6 to nat_source6 (no VIP address), @type its first byte: an error
 * (1-4, not in fragments) about a NAT mapping, which the icmp stage
 * translates for the client, with LB_CTX_F_NAT_REPLY; anything else (NDP,
 * echo, ...) is the kernel's, as before. Returns XDP_PASS or LB_CONTINUE.
 */
static __always_inline int find_nat_source6(__u8 *type, void *data_end, __u16 frag_off,
					    int l4_len, struct lb_packet_ctx *pkt)
{
	if (!nat6_is_source(pkt->flow6.dst) || (frag_off & (LB_IP6_MF | LB_IP6_OFFSET)) ||
	    (void *)(type + 4) > data_end || l4_len < 4 || *type < LB_ICMPV6_DEST_UNREACH ||
	    *type > LB_ICMPV6_PARAMPROB)
		return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
	pkt->flags |= LB_CTX_F_NAT_REPLY;
	return LB_CONTINUE;
}

/* ICMPv6 to an IPv6 VIP address (vip_addrs6), @nh at the ICMPv6 header or
 * fragment data: the icmp stage's when the stage handles its type (a
 * fragment, whose type a later one does not carry, the stage passes itself,
 * counted). NDP (133-137), MLD (130-132, 143) and the other types are the
 * kernel's. Returns XDP_PASS or LB_CONTINUE.
 */
static __always_inline int find_vip_addr6(struct hdr_cursor *nh, void *data_end, __u16 frag_off,
					  int l4_len, struct lb_packet_ctx *pkt)
{
	struct lb_vip_addr6_key key;
	struct lb_vip_addr *addr;
	__u8 *type = nh->pos;

	__builtin_memcpy(key.addr, pkt->flow6.dst, sizeof(key.addr));
	addr = bpf_map_lookup_elem(&vip_addrs6, &key);
	if (!addr)
		return find_nat_source6(type, data_end, frag_off, l4_len, pkt);
	if (frag_off & (LB_IP6_MF | LB_IP6_OFFSET)) {
		pkt->flags |= LB_CTX_F_FRAGMENT;
		if (frag_off & LB_IP6_OFFSET)
			pkt->flags |= LB_CTX_F_LATER_FRAGMENT;
	} else {
		/* type, code and checksum: the least any ICMPv6 message has */
		if ((void *)(type + 4) > data_end || l4_len < 4)
			return parse_pass(LB_C_PARSE_PASS_MALFORMED);
		if (!icmp6_type_handled(*type))
			return parse_pass(LB_C_PARSE_PASS_ICMP6_OTHER);
	}
	pkt->vip_id = addr->vip_id;
	return LB_CONTINUE;
}

/* An IPv6 frame, @nh behind its L2 header and pkt->l3_offset set: to its
 * VIP's lb stage, or passed (dropped: a martian source) and counted.
 */
static __always_inline int parse_ipv6_frame(struct xdp_md *ctx, struct hdr_cursor *nh,
					    void *data, void *data_end, struct lb_packet_ctx *pkt)
{
	struct ipv6hdr *ip6h;
	__u16 frag_off = 0;
	int proto, l4_len, action;
	__u8 gen;

	proto = parse_ipv6hdr(nh, data_end, &ip6h);
	if (proto < 0)
		return parse_pass(LB_C_PARSE_PASS_MALFORMED);
	pkt->ip_tot_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	proto = parse_ipv6_exthdrs(nh, data_end, bpf_ntohs(ip6h->payload_len), proto, &frag_off);
	if (proto < 0)
		return parse_pass(ipv6_ext_reason(proto));
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP && proto != LB_IPPROTO_ICMPV6)
		return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
	pkt->l4_offset = nh->pos - data;
	l4_len = pkt->ip_tot_len - (pkt->l4_offset - pkt->l3_offset);
	__builtin_memcpy(pkt->flow6.src, &ip6h->saddr, sizeof(pkt->flow6.src));
	__builtin_memcpy(pkt->flow6.dst, &ip6h->daddr, sizeof(pkt->flow6.dst));
	pkt->flow6.proto = proto;
	pkt->l4_proto = proto;
	pkt->frame_len = data_end - data;
	pkt->flags = LB_CTX_F_IPV6;

	gen = config_generation();
	if (proto == LB_IPPROTO_ICMPV6) {
		action = find_vip_addr6(nh, data_end, frag_off, l4_len, pkt);
	} else if (frag_off & (LB_IP6_MF | LB_IP6_OFFSET)) {
		action = parse_fragment6(nh, data_end, frag_off, l4_len, pkt, gen);
	} else {
		action = read_ports(nh, data_end, proto, l4_len, &pkt->flow6.sport,
				    &pkt->flow6.dport);
		if (action == LB_CONTINUE)
			action = find_vip6(pkt, gen);
	}
	if (action != LB_CONTINUE)
		return action;
	/* What vip_frame_check() does for IPv4; IPv6 has no header checksum. */
	action = l2_frame_check(data, data_end);
	if (action != LB_CONTINUE)
		return action;
	if (src6_is_martian(pkt->flow6.src, pkt->flow6.dst))
		return PARSE_DROP(PARSE_DROP_MARTIAN_SRC, pkt);
	if (proto == LB_IPPROTO_ICMPV6)
		return hand_to_icmp(ctx, pkt);
	return hand_on(ctx, pkt);
}

#endif /* LB_PARSE_IPV6_BPF_H */
