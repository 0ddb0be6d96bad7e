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
 * backend as IPv4's do: the quote reversed is the flows6 key. Only a quote
 * whose next header is TCP or UDP right behind its fixed header is read;
 * extension headers in the quote count as no VIP's (as a quoted protocol
 * other than TCP and UDP does). Errors about an IPv6 NAT VIP's replies, and
 * errors to nat_source6, are translated (icmp6_nat.bpf.h).
 */
#ifndef LB_ICMP6_BPF_H
#define LB_ICMP6_BPF_H

/* Hop limit of the echo replies: a new packet from this host. */
#define ICMP6_ECHO_HOP_LIMIT 64

/* The ICMPv6 error header, the fixed IPv6 header it quotes and the quoted
 * packet's ports.
 */
struct icmp6_error_head {
	struct lb_icmp6hdr icmp;
	struct ipv6hdr quoted;
	__be16 ports[2];
};

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
	int action;
	__u8 gen;

	head = lb_ctx_l4_6(ctx, pkt, sizeof(*head));
	if (!head)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_MALFORMED);
	quoted = &head->quoted;
	if (quoted->version != 6)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_MALFORMED);
	/* Only a packet this VIP address sent, TCP or UDP right behind its header. */
	if (!icmp6_addr_eq(&quoted->saddr, pkt->flow6.dst) ||
	    (quoted->nexthdr != IPPROTO_TCP && quoted->nexthdr != IPPROTO_UDP))
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_VIP);
	/* From nat_source6: a NAT mapping's, translated (icmp6_nat.bpf.h). */
	if (nat6_is_source(pkt->flow6.dst)) {
		action = LB_CONTINUE;
		if (icmp6_nat_to_client(pkt, quoted, head->ports, &job))
			goto nat;
		if (pkt->flags & LB_CTX_F_NAT_REPLY)
			return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	}

	__builtin_memcpy(key.src, &quoted->daddr, sizeof(key.src));
	__builtin_memcpy(key.dst, &quoted->saddr, sizeof(key.dst));
	key.sport = head->ports[1];
	key.dport = head->ports[0];
	key.proto = quoted->nexthdr;
	gen = config_generation();
	vip = vip6_lookup(key.dst, key.dport, key.proto, gen);
	if (!vip)
		vip = vip6_lookup(key.dst, 0, key.proto, gen);
	if (!vip)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_VIP);
	if (vip->forwarding != LB_FORWARD_ENCAP) {
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
	return icmp6_nat_send(ctx, pkt, head, head->ports, &job);
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
