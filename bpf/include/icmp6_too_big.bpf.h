/* SPDX-License-Identifier: GPL-2.0 */
/* ICMPv6 "packet too big" (type 2, code 0, RFC 4443 3.2 and RFC 8201), which
 * a forwarding stage answers with when an IPv6 VIP's packet would leave bigger
 * than its egress allows once encapsulated: IPv6 routers never fragment, so
 * every such packet gets one (icmp_frag.bpf.h is IPv4's counterpart, and
 * shares its per-CPU token bucket).
 *
 * Built in the frame itself, like IPv4's: the frame grows by 48 bytes at the
 * front for the new IPv6 and ICMPv6 headers, and is cut behind as much of the
 * client's packet as keeps the answer within the IPv6 minimum MTU (RFC 4443
 * 2.4 (c)): 1280 - 48 = 1232 bytes, extension headers included.
 *
 *   before: [L2][client's IPv6 packet ...]
 *   after:  [L2, MACs swapped][IPv6 VIP -> client][ICMPv6 2/0, MTU][client's packet, <= 1232 bytes]
 */
#ifndef LB_ICMP6_TOO_BIG_BPF_H
#define LB_ICMP6_TOO_BIG_BPF_H

#include <linux/ipv6.h>

#include "icmp_frag.bpf.h"

/* The new headers in front of the quote. */
struct icmp6_too_big_headers {
	struct ipv6hdr ip;
	struct lb_icmp6hdr icmp;
};

/* The IPv6 minimum link MTU (RFC 8200, 5): never advertised lower, and the
 * most an ICMPv6 error may fill.
 */
#define ICMP6_MIN_MTU 1280
#define ICMP6_TOO_BIG_QUOTE_MAX (ICMP6_MIN_MTU - sizeof(struct icmp6_too_big_headers))

_Static_assert(ICMP6_MIN_MTU - __builtin_offsetof(struct ipv6hdr, saddr) == CSUM_TO_END_MAX,
	       "csum_to_end() sums a whole ICMPv6 error of the minimum MTU");

/* Writes the ICMPv6 checksum of the message icmp6_too_big_build() left behind
 * the IPv6 header at @l3, which ends the frame: over the pseudo-header
 * (RFC 8200, 8.1: the addresses, the upper-layer length and next header 58)
 * and the whole message. The addresses lie right in front of the message, so
 * one span from the source address to the frame's end holds both. Returns 0,
 * or -1 when the frame holds no such message.
 *
 * A global function on purpose, like lb_least_loaded_scan(): the verifier
 * checks its loop once, on its own, not again at each of the six places a
 * packet is found too big (static MAC, cached next hop, FIB; each family).
 * It reads only what it checks: the context is the frame's.
 */
__noinline int lb_icmp6_checksum(struct xdp_md *ctx, __u32 l3)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct icmp6_too_big_headers *msg;
	__u32 sum, len;

	if (!lb_l3_offset_ok(l3)) /* stage.bpf.h: why not two compares */
		return -1;
	msg = lb_l3_header(data, l3);
	if ((void *)(msg + 1) > data_end)
		return -1;
	/* The upper-layer length is below 1280 (csum_to_end() refuses more):
	 * its 32-bit field is one word of zeros and this one.
	 */
	len = data_end - (void *)&msg->icmp;
	sum = bpf_htons(len) + bpf_htons(LB_IPPROTO_ICMPV6);
	msg->icmp.checksum = 0;
	if (csum_to_end(&msg->ip.saddr, data_end, &sum))
		return -1;
	msg->icmp.checksum = csum_fold32(sum);
	return 0;
}

/* Turns the frame of @pkt, an IPv6 one, into the ICMPv6 "packet too big"
 * about it, with @mtu as the MTU: from the packet's destination (the VIP) to
 * its source, MACs swapped unless @keep_l2 (the kernel then forwards it).
 * Returns 0, or -1 when the context does not describe the frame or the frame
 * cannot be grown or cut (the frame may then be changed: the caller drops it).
 */
static __always_inline int icmp6_too_big_build(struct xdp_md *ctx,
					       const struct lb_packet_ctx *pkt, __u32 mtu,
					       bool keep_l2)
{
	struct icmp6_too_big_headers hdr = {};
	__u8 client_mac[ETH_ALEN], own_mac[ETH_ALEN];
	__u32 l3 = pkt->l3_offset, quote_len;
	struct icmp6_too_big_headers *slot;
	struct ipv6hdr *client;
	struct ethhdr *eth;

	client = lb_ctx_ipv6(ctx, pkt);
	if (!client)
		return -1;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return -1;
	__builtin_memcpy(client_mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(own_mac, eth->h_dest, ETH_ALEN);
	quote_len = pkt->ip_tot_len;
	if (quote_len > ICMP6_TOO_BIG_QUOTE_MAX)
		quote_len = ICMP6_TOO_BIG_QUOTE_MAX;

	hdr.ip.version = 6;
	hdr.ip.payload_len = bpf_htons(sizeof(hdr.icmp) + quote_len);
	hdr.ip.nexthdr = LB_IPPROTO_ICMPV6;
	hdr.ip.hop_limit = LB_OUTER_TTL;
	hdr.ip.saddr = client->daddr;
	hdr.ip.daddr = client->saddr;
	hdr.icmp.type = LB_ICMPV6_PKT_TOOBIG;
	hdr.icmp.mtu = bpf_htonl(mtu);

	slot = frame_push_front(ctx, l3, sizeof(hdr), keep_l2 ? NULL : client_mac, own_mac);
	if (!slot)
		return -1;
	*slot = hdr;
	/* Cut behind the quote. The frame was frame_len long (lb_ctx_ipv6()
	 * checked) before it grew.
	 */
	if (bpf_xdp_adjust_tail(ctx, (int)(l3 + quote_len) - (int)pkt->frame_len))
		return -1;

	return lb_icmp6_checksum(ctx, l3);
}

#endif /* LB_ICMP6_TOO_BIG_BPF_H */
