/* SPDX-License-Identifier: GPL-2.0 */
/* The icmp stage's IPv6 half: ICMPv6 addressed to an IPv6 VIP address, which
 * parse hands over (LB_CTX_F_IPV6) only for echo requests, the four error
 * types and fragments. Included by icmp.bpf.c behind the helpers both halves
 * share (icmp_pass, icmp_flow_backend, icmp_to_backend).
 *
 * Echo requests (128) are answered in place when the address's icmp_echo is
 * on: addresses swapped, type 129, hop limit 64, MACs swapped, XDP_TX. The
 * ICMPv6 checksum covers the pseudo-header (RFC 8200, 8.1), whose sum does not
 * change when the addresses swap, so only the type's word is updated
 * incrementally (RFC 1624); the hop limit is not covered. A request behind
 * extension headers goes to the kernel: a reply must not carry them back
 * (a routing header would send it elsewhere).
 *
 * Errors (1 destination unreachable, 2 packet too big, 3 time exceeded,
 * 4 parameter problem) quoting a packet this VIP address sent go to the flow's
 * backend as IPv4's do: the quote reversed is the flows6 key. The quote's
 * extension headers are walked as parse walks a packet's (parse_ipv6_exthdrs():
 * hop-by-hop, routing, destination options, fragment; at most
 * LB_IPV6_MAX_EXT_HDRS headers of LB_IPV6_MAX_EXT_LEN bytes) to its TCP or UDP
 * ports. A quoted first fragment carries them; a later one does not (no flow,
 * as IPv4's); a chain cut short or malformed is a malformed quote, and one the
 * walk does not follow (too long, AH, ...) is counted as such. Errors about
 * an IPv6 NAT VIP's replies, and errors to nat_source6, are translated
 * (icmp6_nat.bpf.h) when the quote has no extension header: the nat stage
 * sends none, so a quote with one is no NAT flow's.
 */
#ifndef LB_ICMP6_BPF_H
#define LB_ICMP6_BPF_H

/* Hop limit of the echo replies: a new packet from this host. */
#define ICMP6_ECHO_HOP_LIMIT 64

/* The ICMPv6 error header and the fixed IPv6 header it quotes. */
struct icmp6_error_head {
	struct lb_icmp6hdr icmp;
	struct ipv6hdr quoted;
};

/* The largest offset of the quoted ports: the quote's fixed header behind the
 * ICMPv6 header at the largest l4_offset, and its extension headers.
 */
#define ICMP6_QUOTE_PORTS_MAX (LB_L4_OFFSET_MAX6 + sizeof(struct icmp6_error_head) + LB_IPV6_MAX_EXT_LEN)
/* ... as a mask the verifier tracks (see lb_ctx_l4_within()). */
#define ICMP6_QUOTE_PORTS_BOUND 0x3ffU
_Static_assert(ICMP6_QUOTE_PORTS_MAX <= ICMP6_QUOTE_PORTS_BOUND, "the mask covers the offset");

/* Whether two IPv6 addresses (4-byte aligned) are equal: four words. */
static __always_inline bool icmp6_addr_eq(const void *a, const void *b)
{
	const __u32 *x = a, *y = b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]));
}

/* Echo request -> echo reply, in place. Returns the final action, counted. */
static __always_inline int icmp6_echo_reply(struct xdp_md *ctx, const struct lb_packet_ctx *pkt,
					    struct ipv6hdr *ip6h, struct lb_icmp6hdr *icmph)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct lb_vip_addr6_key key;
	struct lb_vip_addr *addr;
	struct in6_addr addr_tmp;
	__u8 mac[ETH_ALEN];
	__u16 *word, old;

	__builtin_memcpy(key.addr, pkt->flow6.dst, sizeof(key.addr));
	addr = bpf_map_lookup_elem(&vip_addrs6, &key);
	if (!addr || !(addr->flags & LB_VIP_ADDR_F_ECHO))
		return icmp_pass(LB_C_ICMP_PASS_ECHO_OFF);
	/* As IPv4's: a veth whose peer runs no XDP program drops XDP_TX frames. */
	if (lb_tunables.ingress_tx_via_stack)
		return icmp_pass(LB_C_ICMP_PASS_ECHO_NO_TX);
	if (pkt->l4_offset != pkt->l3_offset + sizeof(*ip6h))
		return icmp_pass(LB_C_ICMP_PASS_ECHO_EXT_HDRS);
	if ((void *)(eth + 1) > data_end || (void *)(icmph + 1) > data_end)
		return ICMP_DROP_BAD_CTX_OF(pkt);

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr_tmp = ip6h->saddr;
	ip6h->saddr = ip6h->daddr;
	ip6h->daddr = addr_tmp;
	ip6h->hop_limit = ICMP6_ECHO_HOP_LIMIT;
	/* Type and code share a 16-bit word. */
	word = (__u16 *)icmph;
	old = *word;
	icmph->type = LB_ICMPV6_ECHO_REPLY;
	icmph->checksum = csum_apply(icmph->checksum, (__u16)~old + *word);
	lb_count(LB_C_ICMP_ECHO_REPLY);
	return XDP_TX;
}

/* The quoted packet's ports behind its extension headers, walked from @head's
 * quoted header up to the end of the ICMPv6 packet (not of the frame: padding
 * may follow). Returns LB_CONTINUE with *ports (4 bytes in the packet) and
 * *proto set, or the counter of a quote that names no flow.
 */
static __always_inline int icmp6_quote_ports(struct xdp_md *ctx, const struct lb_packet_ctx *pkt,
					     struct icmp6_error_head *head, __be16 **ports,
					     __u8 *proto)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 end = (__u32)pkt->l3_offset + pkt->ip_tot_len;
	struct hdr_cursor nh = { .pos = head + 1 };
	__u16 frag_off = 0;
	__u32 offset;
	int next;

	offset = (void *)(head + 1) - data;
	/* lb_ctx_l4_6() put the head inside the packet: end >= offset. */
	next = parse_ipv6_exthdrs(&nh, data_end, end - offset, head->quoted.nexthdr, &frag_off);
	switch (next) {
	case LB_IPV6_EXT_LIMIT:
	case LB_IPV6_EXT_UNKNOWN:
		return LB_C_ICMP_PASS_ERROR_EXT_HDRS;
	case LB_IPV6_EXT_TRUNCATED:
	case LB_IPV6_EXT_MALFORMED:
		return LB_C_ICMP_PASS_ERROR_MALFORMED;
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		break;
	default:
		return LB_C_ICMP_PASS_ERROR_NO_VIP;
	}
	/* A later fragment carries no ports: no flow to find. */
	if (frag_off & LB_IP6_OFFSET)
		return LB_C_ICMP_PASS_ERROR_NO_FLOW;
	/* The walk's end as an offset the verifier can bound whatever the
	 * loop did to the pointer (Debian 13's kernel is strict about packet
	 * offsets computed in loops): tested, then masked behind a barrier as
	 * lb_ctx_l4_within() does.
	 */
	offset = nh.pos - data;
	if (offset > ICMP6_QUOTE_PORTS_MAX || offset + 4 > end)
		return LB_C_ICMP_PASS_ERROR_MALFORMED;
	barrier_var(offset);
	offset &= ICMP6_QUOTE_PORTS_BOUND;
	*ports = data + offset;
	barrier_var(*ports);
	if ((void *)(*ports + 2) > data_end)
		return LB_C_ICMP_PASS_ERROR_MALFORMED;
	*proto = next;
	return LB_CONTINUE;
}

#include "icmp6_nat.bpf.h"

/* An error about an IPv6 VIP's flow: to the flow's backend through the encap
 * slot; about an IPv6 NAT VIP's reply or a packet nat_source6 sent,
 * translated (icmp6_nat.bpf.h). Returns the final action, counted, or the
 * tail call's.
 */
static __always_inline int icmp6_error_forward(struct xdp_md *ctx, struct lb_packet_ctx *pkt)
{
	struct icmp6_error_head *head;
	struct lb_flow6_key key = {};
	struct icmp6_nat_job job;
	struct ipv6hdr *quoted;
	struct lb_flow *flow;
	struct lb_vip *vip;
	__u32 backend_id;
	__be16 *ports;
	__u8 gen, proto;
	int action, walk;
	bool plain;

	head = lb_ctx_l4_6(ctx, pkt, sizeof(*head));
	if (!head)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_MALFORMED);
	quoted = &head->quoted;
	if (quoted->version != 6)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_MALFORMED);
	/* Only a packet this VIP address sent, TCP or UDP. */
	if (!icmp6_addr_eq(&quoted->saddr, pkt->flow6.dst))
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_VIP);
	walk = icmp6_quote_ports(ctx, pkt, head, &ports, &proto);
	if (walk != LB_CONTINUE)
		return icmp_pass(walk);
	/* TCP or UDP right behind the quote's fixed header, where NAT rewrites it. */
	plain = quoted->nexthdr == IPPROTO_TCP || quoted->nexthdr == IPPROTO_UDP;
	/* From nat_source6: a NAT mapping's, translated (icmp6_nat.bpf.h). */
	if (nat6_is_source(pkt->flow6.dst)) {
		action = LB_CONTINUE;
		if (plain && icmp6_nat_to_client(pkt, quoted, ports, &job))
			goto nat;
		if (pkt->flags & LB_CTX_F_NAT_REPLY)
			return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	}

	__builtin_memcpy(key.src, &quoted->daddr, sizeof(key.src));
	__builtin_memcpy(key.dst, &quoted->saddr, sizeof(key.dst));
	key.sport = ports[1];
	key.dport = ports[0];
	key.proto = proto;
	gen = config_generation();
	vip = vip6_lookup(key.dst, key.dport, key.proto, gen);
	if (!vip)
		vip = vip6_lookup(key.dst, 0, key.proto, gen);
	if (!vip)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_VIP);
	if (vip->forwarding != LB_FORWARD_ENCAP) {
		/* The nat stage sends no extension header (nat.drop_ext_header). */
		if (!plain)
			return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
		action = icmp6_nat_to_backend(pkt, &key, vip, &job);
		goto nat;
	}
	flow = bpf_map_lookup_elem(&flows6, &key);
	backend_id = icmp_flow_backend(flow, vip);
	if (backend_id == LB_NO_BACKEND)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	pkt->flow6 = key;
	return icmp_to_backend(ctx, pkt, vip, backend_id);
nat:
	/* One call site for both directions, as IPv4's. */
	if (action != LB_CONTINUE)
		return action;
	return icmp6_nat_send(ctx, pkt, head, ports, &job);
}

/* The stage for a context with LB_CTX_F_IPV6. */
static __always_inline int icmp6_stage(struct xdp_md *ctx, struct lb_packet_ctx *pkt)
{
	struct lb_icmp6hdr *icmph;
	struct ipv6hdr *ip6h;

	ip6h = lb_ctx_ipv6(ctx, pkt);
	if (!ip6h || pkt->flow6.proto != LB_IPPROTO_ICMPV6)
		return ICMP_DROP_BAD_CTX_OF(pkt);
	if (pkt->flags & LB_CTX_F_FRAGMENT)
		return icmp_pass(LB_C_ICMP_PASS_FRAGMENT);
	icmph = lb_ctx_l4_6(ctx, pkt, sizeof(*icmph));
	if (!icmph)
		return icmp_pass(LB_C_ICMP_PASS_OTHER);
	switch (icmph->type) {
	case LB_ICMPV6_ECHO_REQUEST:
		/* To nat_source6, no VIP address: the kernel's to answer. */
		if (pkt->flags & LB_CTX_F_NAT_REPLY)
			return icmp_pass(LB_C_ICMP_PASS_OTHER);
		return icmp6_echo_reply(ctx, pkt, ip6h, icmph);
	case LB_ICMPV6_DEST_UNREACH:
	case LB_ICMPV6_PKT_TOOBIG:
	case LB_ICMPV6_TIME_EXCEED:
	case LB_ICMPV6_PARAMPROB:
		return icmp6_error_forward(ctx, pkt);
	default:
		return icmp_pass(LB_C_ICMP_PASS_OTHER);
	}
}

#endif /* LB_ICMP6_BPF_H */
