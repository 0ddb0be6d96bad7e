// SPDX-License-Identifier: GPL-2.0
/* Encap stage, IPIP: wraps the IPv4 packet in an outer IPv4 header (protocol 4)
 * to the backend lb chose and sends it to the next hop.
 *
 *   before: [L2 (14, or 18 with an 802.1Q tag)][inner IPv4 ...]
 *   after:  [L2, same tag, next-hop MACs][outer IPv4, 20 bytes][inner IPv4 ...]
 *
 * IP-in-IP to the backend's family: an IPv6 backend gets an outer IPv6 header
 * (40 bytes) instead, next header 41 for an IPv6 VIP's packet (IPv6-in-IPv6)
 * and 4 for an IPv4 VIP's (IPv4-in-IPv6, how a fleet with IPv6 addresses only
 * is reached): ipip6(), encap6_outer(). One stage, since `forwarding: ipip` names the format,
 * not the family, and one encap slot serves every VIP of the interface.
 *
 * The inner packet is never touched. All checks and the next-hop lookup happen
 * before the frame changes, so a dropped frame is always the frame that came in.
 */
#include <linux/in.h>

#include "encap.bpf.h"
#include "encap6.bpf.h"

/* The outer source, lb_tunables.outer_src_addr: 0 keeps the client's address,
 * so the backend sees and answers the client directly; an LB address makes the
 * tunnel pass source-address filters on the way.
 */

/* An IPv6 backend's packet: the outer IPv6 header, its next hop, sent. */
static __always_inline int ipip6(struct xdp_md *ctx, struct lb_packet_ctx *packet)
{
	const struct lb_backend *backend = NULL;
	const void *inner = NULL;
	struct next_hop hop = {};
	struct ipv6hdr outer = {};
	__u32 l3_offset = 0;
	int action;

	action = encap6_outer(ctx, packet, IPPROTO_IPV6, IPPROTO_IPIP, 0, &outer, &backend,
			      &l3_offset, &inner);
	if (action != LB_CONTINUE)
		return action;
	action = next_hop6_resolve(ctx, &outer, packet->backend_id, backend, packet->now_ns, &hop);
	if (action != LB_CONTINUE)
		return action;
	if (!encap6_push(ctx, l3_offset, &outer, sizeof(outer), &hop))
		return XDP_DROP;
	return next_hop_send(&hop);
}

SEC("xdp")
int xdp_lb_ipip(struct xdp_md *ctx)
{
	struct lb_packet_ctx *packet = lb_packet_ctx();
	struct next_hop hop = {};
	struct iphdr outer = {};
	struct encap_job job;
	struct iphdr *slot;
	int action;

	if (packet && encap_outer_is_ipv6(packet))
		return ipip6(ctx, packet);
	action = encap_begin(ctx, &job);
	if (action != LB_CONTINUE)
		return action;
	encap_outer_ipv4(&job, lb_tunables.outer_src_addr, job.backend->addr, IPPROTO_IPIP, 0, &outer);

	action = next_hop_resolve(ctx, &outer, job.packet->backend_id, job.backend,
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
