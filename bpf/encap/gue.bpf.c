// SPDX-License-Identifier: GPL-2.0
/* Encap stage, GUE "direct IP" (variant 1): the inner IP packet in UDP, its
 * header right behind the UDP header, as the Linux fou module decapsulates it
 * (`ip fou add port 6080 ipproto 4`, or `ipproto 41 -6` for IPv6 in IPv6).
 *
 *   before: [L2 (14, or 18 with an 802.1Q tag)][inner IPv4 ...]
 *   after:  [L2, same tag, next-hop MACs][outer IPv4][UDP -> gue_port][inner IPv4 ...]
 *
 * Why UDP: ECMP routers and NIC RSS hash on the UDP ports, and the source port
 * is derived from the inner flow, so flows spread over paths and receive queues
 * while every packet of one flow keeps one path. IPIP gives them nothing to
 * hash but the two addresses.
 *
 * Over IPv4 the UDP checksum is 0: IPv4 allows it (RFC 768), the inner packet
 * carries its own checksums, and computing one over the whole payload would
 * cost more than the rest of the stage.
 *
 * An IPv6 backend gets an outer IPv6 header instead (gue6(), as ipip picks the
 * outer family): an IPv6 VIP's packet (fou ipproto 41) or an IPv4 VIP's
 * (ipproto 4, source outer_source6). IPv6 requires the UDP checksum (RFC 8200
 * 8.1; the zero checksum of RFC 6935 is not offered), and it is computed
 * without a pass over the payload where the inner packet's own checksum gives
 * its sum (gue6_inner_sum()), by a bounded walk otherwise (lb_gue6_checksum()).
 */
#include <linux/in.h>
#include <linux/udp.h>

#include "encap.bpf.h"
#include "encap6.bpf.h"

struct gue_outer {
	struct iphdr ip;
	struct udphdr udp;
};

struct gue6_outer {
	struct ipv6hdr ip;
	struct udphdr udp;
};

/* The longest outer packet lb_gue6_checksum() sums, from its IPv6 header on:
 * a jumbo frame's. It sums after the MTU check, so only a path with a larger
 * MTU than that could bring a longer one (encap.drop_csum_too_long).
 */
#define GUE6_CSUM_MAX 9216

/* The one's complement sum, not folded, of the inner packet of @packet as the
 * outer UDP checksum covers it (inner IP header and L4 segment), into *@sum,
 * from its headers alone (tunnel.bpf.h, lb_lco_sum4/6()). @inner is the inner
 * IP header, encap6_outer()'s; parse checked an inner IPv4 header's checksum,
 * options included. Returns 0, or -1 where the inner checksum does not give
 * the sum: an ICMP error the icmp stage forwards, a fragment, UDP without a
 * checksum, IPv6 extension headers; lb_gue6_checksum() then sums the frame.
 */
static __always_inline int gue6_inner_sum(struct xdp_md *ctx, const struct lb_packet_ctx *packet,
					  const void *inner, __u32 *sum)
{
	__u32 l4_len = packet->ip_tot_len - (packet->l4_offset - packet->l3_offset);
	bool ipv6 = packet->flags & LB_CTX_F_IPV6;
	const struct iphdr *ip = inner;
	const struct udphdr *udp;

	if (packet->flags & (LB_CTX_F_ICMP_ERROR | LB_CTX_F_FRAGMENT))
		return -1;
	if (packet->l4_proto == IPPROTO_UDP) {
		udp = ipv6 ? lb_ctx_l4_6(ctx, packet, sizeof(*udp)) :
			     lb_ctx_l4(ctx, packet, sizeof(*udp));
		if (!udp || !udp->check)
			return -1;
	} else if (packet->l4_proto != IPPROTO_TCP) {
		return -1;
	}
	if (ipv6) {
		if (packet->l4_offset != packet->l3_offset + sizeof(struct ipv6hdr))
			return -1;
		*sum = lb_lco_sum6(inner);
		return 0;
	}
	*sum = lb_lco_sum4(ip->saddr, ip->daddr, l4_len, packet->l4_proto);
	return 0;
}

/* Writes the UDP checksum of the GUE packet at @l3 of the frame, whose outer
 * IPv6 and UDP headers are in place with check 0, by summing the frame: for
 * the packets whose inner checksum does not give the inner sum. Cuts Ethernet
 * padding behind the packet first, which the sum must not cover. The span
 * starts at the outer IPv6 header, so it is never shorter than csum_span()
 * needs; that header's first 8 bytes are not the pseudo-header's, so their
 * complements start the sum (its payload length is the UDP length, which the
 * pseudo-header has too). Returns 0, or -1 when the frame is longer than
 * GUE6_CSUM_MAX or does not hold the packet.
 *
 * A global function on purpose, like lb_icmp6_checksum(): the verifier checks
 * its loop once, on its own.
 */
__noinline int lb_gue6_checksum(struct xdp_md *ctx, __u32 l3)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct gue6_outer *outer;
	__u32 end, sum;
	const __u16 *w;
	__u16 check;

	if (!lb_l3_offset_ok(l3)) /* stage.bpf.h: why not two compares */
		return -1;
	outer = lb_l3_header(data, l3);
	if ((void *)(outer + 1) > data_end)
		return -1;
	end = l3 + sizeof(outer->ip) + bpf_ntohs(outer->ip.payload_len);
	if (end > data_end - data)
		return -1;
	if (end < data_end - data) {
		if (bpf_xdp_adjust_tail(ctx, (int)end - (int)(data_end - data)))
			return -1;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		outer = lb_l3_header(data, l3);
		if ((void *)(outer + 1) > data_end)
			return -1;
	}
	outer->udp.check = 0;
	w = (const __u16 *)&outer->ip;
	sum = (__u16)~w[0] + (__u16)~w[1] + (__u16)~w[3] + bpf_htons(IPPROTO_UDP);
	if (csum_span(&outer->ip, data_end, &sum, GUE6_CSUM_MAX))
		return -1;
	check = csum_fold32(sum);
	outer->udp.check = check ? check : 0xffff;
	return 0;
}

/* An IPv6 backend's packet: outer IPv6 and UDP headers, the UDP checksum, its
 * next hop (48 bytes of overhead in the MTU check), sent.
 */
static __always_inline int gue6(struct xdp_md *ctx, struct lb_packet_ctx *packet)
{
	const struct lb_backend *backend = NULL;
	struct gue6_outer outer = {};
	const void *inner = NULL;
	struct next_hop hop = {};
	struct gue6_outer *slot;
	__u32 l3_offset = 0, inner_sum = 0;
	int action;

	action = encap6_outer(ctx, packet, IPPROTO_UDP, IPPROTO_UDP, sizeof(outer.udp),
			      &outer.ip, &backend, &l3_offset, &inner);
	if (action != LB_CONTINUE)
		return action;
	outer.udp.source = lb_gue_source_port_of(lb_ctx_flow_hash(packet));
	outer.udp.dest = lb_tunables.gue_port;
	outer.udp.len = bpf_htons(packet->ip_tot_len + sizeof(outer.udp));
	/* Else check 0: lb_gue6_checksum() sums the frame once it is built. */
	if (!gue6_inner_sum(ctx, packet, inner, &inner_sum))
		outer.udp.check = lb_udp6_check(&outer.ip, &outer.udp, inner_sum);

	action = next_hop6_resolve(ctx, &outer.ip, packet->backend_id, backend, packet->now_ns,
				   &hop);
	if (action != LB_CONTINUE)
		return action;
	slot = encap6_push(ctx, l3_offset, &outer, sizeof(outer), &hop);
	if (!slot)
		return XDP_DROP;
	/* Check 0 marks a checksum still to be summed: a computed one never is. */
	if (!slot->udp.check && lb_gue6_checksum(ctx, l3_offset))
		return ENCAP_DROP(ENCAP_DROP_CSUM_TOO_LONG);
	return next_hop_send(&hop);
}

SEC("xdp")
int xdp_lb_gue(struct xdp_md *ctx)
{
	struct lb_packet_ctx *packet = lb_packet_ctx();
	struct gue_outer outer = {};
	struct next_hop hop = {};
	struct gue_outer *slot;
	struct encap_job job;
	int action;

	if (packet && encap_outer_is_ipv6(packet))
		return gue6(ctx, packet);
	action = encap_begin(ctx, &job);
	if (action != LB_CONTINUE)
		return action;
	encap_outer_ipv4(&job, lb_tunables.outer_src_addr, job.backend->addr, IPPROTO_UDP,
			 sizeof(outer.udp), &outer.ip);
	outer.udp.source = lb_gue_source_port(&job.packet->flow);
	outer.udp.dest = lb_tunables.gue_port;
	outer.udp.len = bpf_htons(job.packet->ip_tot_len + sizeof(outer.udp));
	outer.udp.check = 0;

	action = next_hop_resolve(ctx, &outer.ip, job.packet->backend_id, job.backend,
				  job.packet->now_ns, &hop);
	if (action != LB_CONTINUE)
		return action;
	slot = encap_push(ctx, job.l3_offset, sizeof(outer), &hop);
	if (!slot)
		return XDP_DROP;
	*slot = outer;
	return next_hop_send(&hop);
}

char LICENSE[] SEC("license") = "GPL";
