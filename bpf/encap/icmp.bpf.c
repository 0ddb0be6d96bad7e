// SPDX-License-Identifier: GPL-2.0
/* ICMP stage: ICMP addressed to a VIP address, which parse hands here
 * (LB_SLOT_ICMP) whatever its type. Two jobs (docs/operations.md, "ICMP"):
 *
 * Echo requests are answered here, as the host behind the VIP would answer
 * them, when the address's icmp_echo is on (the default): addresses swapped,
 * type 8 -> 0, TTL 64, both checksums updated incrementally, MACs swapped,
 * XDP_TX. The request's ICMP checksum is not verified (that would need a sum
 * over the whole message): an incremental update keeps a wrong checksum
 * wrong, so the client's stack drops such a reply as it would the request.
 *
 * Errors (destination unreachable, "fragmentation needed" among them, and
 * time exceeded) about a VIP's flow go to the backend that owns the flow.
 * With direct server return a router on the client's side complains about the
 * backend's replies (VIP:vport -> client:cport), so the error arrives here
 * addressed to the VIP and quotes that packet. Reversed, the quote is the
 * flow table's key (client:cport -> VIP:vport); the flow's backend gets the
 * whole ICMP packet in the VIP's encapsulation (the encap slot, ipip or gue),
 * and its kernel, which sent the packet, learns the path MTU or the error.
 *
 * Errors about a NAT VIP's replies, and errors to nat_source about the
 * packets it sent to backends, are translated both ways and sent on here
 * (icmp_nat.bpf.h).
 *
 * Everything else goes to the kernel (XDP_PASS, unchanged), counted by reason:
 * fragments, other types, quotes that are cut short or are no IPv4 packet
 * from this address, quotes of no VIP, and of no flow or live NAT mapping.
 * Only a context that does not describe the frame is dropped
 * (icmp.drop_bad_ctx), never XDP_ABORTED.
 *
 * ICMPv6 to an IPv6 VIP address (LB_CTX_F_IPV6) is icmp6.bpf.h's, the same
 * two jobs with the flow lookup and the hand-over to the encap slot shared.
 */
#include "icmp_hdr.bpf.h"
#include <linux/in.h>

#include "csum.bpf.h"
#include "parsing.bpf.h"
#include "stage.bpf.h"
#include "vip_lookup.bpf.h"

/* TTL of the echo replies: a new packet from this host. */
#define ICMP_ECHO_TTL 64

/* The ICMP header and the fixed part of the IPv4 header it quotes. */
struct icmp_error_head {
	struct lb_icmphdr icmp;
	struct iphdr quoted;
};

/* A context that does not describe the frame: dropped as it came, counted
 * for its VIP too.
 */
#define ICMP_DROP_BAD_CTX_OF(pkt)                                                        \
	({                                                                               \
		LB_COUNT_VIP_DROP(ICMP_DROP_BAD_CTX, lb_drop_vip_id(pkt));               \
		XDP_DROP;                                                                \
	})

/* The frame goes to the kernel unchanged: count why. */
static __always_inline int icmp_pass(enum lb_counter reason)
{
	lb_count(reason);
	return XDP_PASS;
}

/* Echo request -> echo reply, in place. Returns the final action, counted. */
static __always_inline int icmp_echo_reply(struct xdp_md *ctx, const struct lb_packet_ctx *pkt,
					   struct iphdr *iph, struct lb_icmphdr *icmph)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct lb_vip_addr *addr;
	__u8 mac[ETH_ALEN];
	__u16 *word, old;
	__be32 addr_tmp;

	addr = bpf_map_lookup_elem(&vip_addrs, &pkt->flow.dst);
	if (!addr || !(addr->flags & LB_VIP_ADDR_F_ECHO))
		return icmp_pass(LB_C_ICMP_PASS_ECHO_OFF);
	/* A veth whose peer runs no XDP program drops XDP_TX frames: the
	 * request goes to the kernel, which answers it if the address is its own.
	 */
	if (lb_tunables.ingress_tx_via_stack)
		return icmp_pass(LB_C_ICMP_PASS_ECHO_NO_TX);
	if ((void *)(eth + 1) > data_end || (void *)(icmph + 1) > data_end)
		return ICMP_DROP_BAD_CTX_OF(pkt);

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	/* Swapped addresses leave the header's sum as it is. */
	addr_tmp = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = addr_tmp;
	/* TTL and protocol share a 16-bit word, type and code another. */
	word = (__u16 *)&iph->ttl;
	old = *word;
	iph->ttl = ICMP_ECHO_TTL;
	iph->check = csum_apply(iph->check, (__u16)~old + *word);
	word = (__u16 *)icmph;
	old = *word;
	icmph->type = LB_ICMP_ECHOREPLY;
	icmph->checksum = csum_apply(icmph->checksum, (__u16)~old + *word);
	lb_count(LB_C_ICMP_ECHO_REPLY);
	return XDP_TX;
}

/* @size bytes at @at bytes into the quoted packet's L4 header, behind its
 * IPv4 header (options included): inside the ICMP packet and the frame, or
 * NULL. The ports are the first 4 (icmp_quoted_ports()); a NAT translation
 * also reads the L4 checksum, which a quote may not hold (icmp_nat.bpf.h).
 */
static __always_inline void *icmp_quote_at(struct xdp_md *ctx, const struct lb_packet_ctx *pkt,
					   const struct iphdr *quoted, __u32 at, __u32 size)
{
	void *data_end = (void *)(long)ctx->data_end;
	__u32 offset = pkt->l4_offset;
	void *p;

	/* Bounded for the verifier: lb_ctx_l4() checked it already. */
	if (offset > LB_L4_OFFSET_MAX)
		return NULL;
	offset += sizeof(struct lb_icmphdr) + quoted->ihl * 4 + at;
	if (offset + size > (__u32)pkt->l3_offset + pkt->ip_tot_len)
		return NULL;
	p = (void *)(long)ctx->data + offset;
	if (p + size > data_end)
		return NULL;
	barrier_var(p);
	return p;
}

/* The ports of the quoted packet: 4 bytes inside the ICMP packet and the
 * frame, or NULL.
 */
static __always_inline __be16 *icmp_quoted_ports(struct xdp_md *ctx,
						 const struct lb_packet_ctx *pkt,
						 const struct iphdr *quoted)
{
	return icmp_quote_at(ctx, pkt, quoted, 0, 4);
}

/* The backend of @flow (NULL: none) of @vip as lb would keep it: still the
 * VIP's, up or draining; else LB_NO_BACKEND (its next packet is scheduled
 * anew anyway).
 */
static __always_inline __u32 icmp_flow_backend(const struct lb_flow *flow,
					       const struct lb_vip *vip)
{
	const struct lb_backend *backend;
	__u32 backend_id;

	if (!flow)
		return LB_NO_BACKEND;
	backend_id = flow->backend_id;
	backend = bpf_map_lookup_elem(&backends, &backend_id);
	if (!backend || backend->vip_id != vip->vip_id ||
	    (backend->state != LB_BACKEND_UP && backend->state != LB_BACKEND_DRAIN))
		return LB_NO_BACKEND;
	return backend_id;
}

/* Hands the error to the encap slot for @backend_id of @vip; the caller has
 * put the flow's key in the context. The context now names the flow and its
 * backend; offsets and lengths still describe the ICMP packet, which encap
 * wraps whole. The flow key gives GUE the flow's own source port, so the
 * error takes the flow's path, and the outer source the client's address (as
 * the flow's packets have it unless outer_source is set).
 */
static __always_inline int icmp_to_backend(struct xdp_md *ctx, struct lb_packet_ctx *pkt,
					   const struct lb_vip *vip, __u32 backend_id)
{
	pkt->vip_id = vip->vip_id;
	pkt->pool_id = vip->pool_id;
	pkt->policy = vip->policy;
	pkt->maglev_table = vip->maglev_table;
	pkt->forwarding = vip->forwarding;
	pkt->backend_id = backend_id;
	pkt->now_ns = bpf_ktime_get_coarse_ns();
	pkt->flags |= LB_CTX_F_ICMP_ERROR;
	lb_count(LB_C_ICMP_ERROR_TO_BACKEND);
	return lb_next_stage(ctx, LB_SLOT_ENCAP, LB_C_ICMP_PASS_NO_ENCAP_STAGE);
}

#include "icmp_nat.bpf.h"

/* An error about a VIP's flow: to the flow's backend through the encap slot;
 * about a NAT VIP's reply, or a packet nat_source sent, translated
 * (icmp_nat.bpf.h). Returns the final action, counted, or the tail call's.
 */
static __always_inline int icmp_error_forward(struct xdp_md *ctx, struct lb_packet_ctx *pkt)
{
	struct icmp_error_head *head;
	struct lb_flow_key key = {};
	struct iphdr *quoted;
	struct lb_flow *flow;
	struct lb_vip *vip;
	__be16 *ports;
	struct icmp_nat_job job;
	__u32 backend_id;
	bool nat_quote;
	int action;

	head = lb_ctx_l4(ctx, pkt, sizeof(*head));
	if (!head)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_MALFORMED);
	quoted = &head->quoted;
	if (quoted->version != 4 || quoted->ihl < 5)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_MALFORMED);
	/* Only a packet this VIP address (or nat_source, to this address)
	 * sent, of a protocol a VIP has.
	 */
	if (quoted->protocol != IPPROTO_TCP && quoted->protocol != IPPROTO_UDP)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_VIP);
	nat_quote = icmp_nat_quotes_source(pkt, quoted);
	if (!nat_quote && quoted->saddr != pkt->flow.dst)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_VIP);
	/* A later fragment carries no ports: no flow to find. */
	if (quoted->frag_off & bpf_htons(LB_IP_OFFSET))
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	ports = icmp_quoted_ports(ctx, pkt, quoted);
	if (!ports)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_MALFORMED);
	if (nat_quote) {
		action = LB_CONTINUE;
		if (icmp_nat_to_client(pkt, quoted, ports, &job))
			goto nat;
		/* Unless nat_source is a VIP address too: then the quote may
		 * be a VIP's reply (VIP:vport -> client:cport).
		 */
		if (pkt->flags & LB_CTX_F_NAT_REPLY)
			return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	}

	key.src = quoted->daddr;
	key.dst = quoted->saddr;
	key.sport = ports[1];
	key.dport = ports[0];
	key.proto = quoted->protocol;
	vip = vip_lookup(key.dst, key.dport, key.proto, config_generation());
	if (!vip)
		vip = vip_lookup(key.dst, 0, key.proto, config_generation());
	if (!vip)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_VIP);
	if (vip->forwarding != LB_FORWARD_ENCAP) {
		action = icmp_nat_to_backend(pkt, &key, vip, &job);
		goto nat;
	}
	flow = bpf_map_lookup_elem(&flows, &key);
	backend_id = icmp_flow_backend(flow, vip);
	if (backend_id == LB_NO_BACKEND)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	pkt->flow = key;
	return icmp_to_backend(ctx, pkt, vip, backend_id);
nat:
	/* One call site for both directions: the verifier walks the send once. */
	if (action != LB_CONTINUE)
		return action;
	return icmp_nat_send(ctx, pkt, head, ports, &job);
}

#include "icmp6.bpf.h"

SEC("xdp")
int xdp_lb_icmp(struct xdp_md *ctx)
{
	struct lb_packet_ctx *pkt = lb_packet_ctx();
	struct lb_icmphdr *icmph;
	struct iphdr *iph;

	if (!pkt)
		return ICMP_DROP_BAD_CTX_OF(pkt);
	if (pkt->flags & LB_CTX_F_IPV6)
		return icmp6_stage(ctx, pkt);
	iph = lb_ctx_ipv4(ctx, pkt);
	if (!iph || pkt->flow.proto != IPPROTO_ICMP)
		return ICMP_DROP_BAD_CTX_OF(pkt);
	/* Neither an echo nor a quote can be read whole from a fragment. */
	if (pkt->flags & LB_CTX_F_FRAGMENT)
		return icmp_pass(LB_C_ICMP_PASS_FRAGMENT);
	icmph = lb_ctx_l4(ctx, pkt, sizeof(*icmph));
	if (!icmph)
		return icmp_pass(LB_C_ICMP_PASS_OTHER);
	switch (icmph->type) {
	case LB_ICMP_ECHO:
		/* To nat_source, no VIP address: the kernel's to answer. */
		if (pkt->flags & LB_CTX_F_NAT_REPLY)
			return icmp_pass(LB_C_ICMP_PASS_OTHER);
		return icmp_echo_reply(ctx, pkt, iph, icmph);
	case LB_ICMP_DEST_UNREACH:
	case LB_ICMP_TIME_EXCEEDED:
		return icmp_error_forward(ctx, pkt);
	default:
		return icmp_pass(LB_C_ICMP_PASS_OTHER);
	}
}

char LICENSE[] SEC("license") = "GPL";
