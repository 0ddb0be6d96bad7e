/* SPDX-License-Identifier: GPL-2.0 */
/* ICMP "fragmentation needed" (type 3, code 4, RFC 792 and RFC 1191), which a
 * forwarding stage answers with when a packet with DF set would leave bigger
 * than its egress allows, and the per-CPU token bucket that limits them.
 *
 * The answer is built in the frame itself, which needs no copy of the client's
 * packet: the frame grows by 28 bytes at the front for the new IPv4 and ICMP
 * headers, and is cut behind the first 8 bytes of the client's payload.
 *
 *   before: [L2][client's IPv4 header, options included][payload ...]
 *   after:  [L2, MACs swapped][IPv4 VIP -> client][ICMP 3/4, MTU][client's IPv4 header][8 bytes]
 *
 * RFC 792's quote (the header and 64 bits of data) is what Linux, the BSDs and
 * Windows need to find the socket and check a TCP sequence number; quoting up
 * to 576 bytes (RFC 1812, 4.3.2.3) would only add a variable-length copy.
 */
#ifndef LB_ICMP_FRAG_BPF_H
#define LB_ICMP_FRAG_BPF_H

#include <stdbool.h>
#include <linux/bpf.h>
#include "icmp_hdr.bpf.h"
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "csum.bpf.h"
#include "frame.bpf.h"
#include "stage.bpf.h"

/* The new headers in front of the quote. */
struct icmp_frag_headers {
	struct iphdr ip;
	struct lb_icmphdr icmp;
};

/* The client's payload bytes quoted behind its IPv4 header. */
#define ICMP_FRAG_QUOTE_DATA 8

/* IPv4 TOS of the ICMP errors: precedence "internetwork control", as Linux sends its own. */
#define ICMP_FRAG_TOS 0xc0

/* The smallest MTU an IPv4 link may have (RFC 791): never advertised lower. */
#define ICMP_FRAG_MIN_MTU 68

/* Per program and per CPU, so no CPU writes another's bucket; a reload (new
 * programs) starts every bucket full.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_icmp_bucket);
} icmp_tokens SEC(".maps");

/* Takes one token of this CPU's bucket at @now (coarse clock, ns): true when
 * the ICMP error may be sent. The bucket holds at most icmp_burst messages'
 * worth of credit and gains one message per icmp_interval_ns; credit is kept
 * in nanoseconds, so refilling is an add and a compare, no division.
 */
static __always_inline bool icmp_token_take(__u64 now)
{
	__u64 interval = lb_tunables.icmp_interval_ns;
	__u64 cap = interval * lb_tunables.icmp_burst;
	struct lb_icmp_bucket *bucket;
	__u32 key = 0;
	__u64 credit;

	bucket = bpf_map_lookup_elem(&icmp_tokens, &key);
	if (!bucket || !interval)
		return false;
	/* A first use (last 0) finds the bucket full; the clock is monotonic,
	 * so time only adds credit, up to the cap.
	 */
	credit = bucket->credit_ns;
	if (now > bucket->last_ns)
		credit += now - bucket->last_ns;
	if (credit > cap || !bucket->last_ns)
		credit = cap;
	bucket->last_ns = now;
	if (credit < interval) {
		bucket->credit_ns = credit;
		return false;
	}
	bucket->credit_ns = credit - interval;
	return true;
}

/* Turns the frame of @pkt into the ICMP "fragmentation needed" about it, with
 * @mtu as the next-hop MTU: from the packet's destination (the VIP, which the
 * client sent to and expects the path's errors about) to its source, MACs
 * swapped unless @keep_l2 (the kernel then forwards it: the frame stays
 * addressed to this host). Returns 0, or -1 when the context does not describe
 * the frame or the frame cannot be grown or cut (the frame may then be
 * changed: the caller drops it).
 */
static __always_inline int icmp_frag_needed_build(struct xdp_md *ctx,
						  const struct lb_packet_ctx *pkt, __u16 mtu,
						  bool keep_l2)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct icmp_frag_headers hdr = {};
	__u8 client_mac[ETH_ALEN], own_mac[ETH_ALEN];
	__u32 l3 = pkt->l3_offset, quote_len, sum;
	struct icmp_frag_headers *slot;
	struct iphdr *client;
	struct ethhdr *eth;
	__u16 *data8;
	int i;

	client = lb_ctx_ipv4(ctx, pkt);
	if (!client)
		return -1;
	data8 = lb_ctx_l4(ctx, pkt, ICMP_FRAG_QUOTE_DATA);
	if (!data8 || ipv4_header_sum(client, data_end, &sum))
		return -1;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(client_mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(own_mac, eth->h_dest, ETH_ALEN);
	/* The quote: the whole IPv4 header (l4_offset - l3_offset bytes, 20 to
	 * 60) and 8 bytes of payload; its sum goes into the ICMP checksum.
	 */
	quote_len = pkt->l4_offset - l3 + ICMP_FRAG_QUOTE_DATA;
#pragma unroll
	for (i = 0; i < ICMP_FRAG_QUOTE_DATA / 2; i++)
		sum += data8[i];

	hdr.ip.version = 4;
	hdr.ip.ihl = sizeof(hdr.ip) / 4;
	hdr.ip.tos = ICMP_FRAG_TOS;
	hdr.ip.tot_len = bpf_htons(sizeof(hdr) + quote_len);
	hdr.ip.ttl = LB_OUTER_TTL;
	hdr.ip.protocol = IPPROTO_ICMP;
	hdr.ip.saddr = client->daddr;
	hdr.ip.daddr = client->saddr;
	hdr.ip.check = ipv4_header_csum(&hdr.ip);
	hdr.icmp.type = LB_ICMP_DEST_UNREACH;
	hdr.icmp.code = LB_ICMP_FRAG_NEEDED;
	hdr.icmp.un.frag.mtu = bpf_htons(mtu);
	/* The ICMP header's words (checksum 0, unused 0) and the quote's. */
	sum += *(__u16 *)&hdr.icmp + hdr.icmp.un.frag.mtu;
	hdr.icmp.checksum = csum_fold32(sum);

	slot = frame_push_front(ctx, l3, sizeof(hdr), keep_l2 ? NULL : client_mac, own_mac);
	if (!slot)
		return -1;
	*slot = hdr;
	/* Cut behind the quote: ICMP carries no more of the client's packet.
	 * The frame was frame_len long (lb_ctx_ipv4() checked) before it grew.
	 */
	if (bpf_xdp_adjust_tail(ctx, (int)(l3 + quote_len) - (int)pkt->frame_len))
		return -1;
	return 0;
}

#endif /* LB_ICMP_FRAG_BPF_H */
