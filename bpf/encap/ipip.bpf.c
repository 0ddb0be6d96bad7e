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
 * is reached): ipip6(). One stage, since `forwarding: ipip` names the format,
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

/* The outer IPv6 header of @packet, whose backend is IPv6 (RFC 2473): in
 * front of an IPv6 packet, untouched, its extension headers included; or in
 * front of an IPv4 one (encap_outer_ipv6_of_ipv4()). Sets @backend and
 * @l3_offset. Returns LB_CONTINUE, or XDP_DROP counted.
 */
static __always_inline int ipip6_outer(struct xdp_md *ctx, struct lb_packet_ctx *packet,
				       struct ipv6hdr *outer, const struct lb_backend **backend,
				       __u32 *l3_offset)
{
	struct encap6_job job6;
	struct encap_job job;
	int action;

	if (packet->flags & LB_CTX_F_IPV6) {
		action = encap6_begin(ctx, packet, &job6);
		if (action != LB_CONTINUE)
			return action;
		encap_outer_ipv6(&job6, IPPROTO_IPV6, 0, outer);
		*backend = job6.backend;
		*l3_offset = job6.l3_offset;
		return LB_CONTINUE;
	}
	action = encap_begin_any(ctx, &job);
	if (action != LB_CONTINUE)
		return action;
	*backend = job.backend;
	*l3_offset = job.l3_offset;
	return encap_outer_ipv6_of_ipv4(&job, IPPROTO_IPIP, 0, outer);
}

/* An IPv6 backend's packet: the outer IPv6 header, its next hop, sent. */
static __always_inline int ipip6(struct xdp_md *ctx, struct lb_packet_ctx *packet)
{
	const struct lb_backend *backend = NULL;
	struct next_hop hop = {};
	struct ipv6hdr outer = {};
	struct ipv6hdr *slot;
	__u32 l3_offset = 0;
	int action;

	action = ipip6_outer(ctx, packet, &outer, &backend, &l3_offset);
	if (action != LB_CONTINUE)
		return action;
	action = next_hop6_resolve(ctx, &outer, packet->backend_id, backend, packet->now_ns, &hop);
	if (action != LB_CONTINUE)
		return action;
	slot = encap_push(ctx, l3_offset, sizeof(outer), &hop);
	if (!slot)
		return XDP_DROP;
	*slot = outer;
	/* The EtherType (the tag's inner one) in front of the outer header: an
	 * IPv4 packet's said IPv4, whichever L2 header the frame keeps.
	 */
	*((__be16 *)slot - 1) = bpf_htons(ETH_P_IPV6);
	return next_hop_send(&hop);
}

/* Whether @packet goes to an IPv6 backend: an IPv6 packet's always; an IPv4
 * packet's by its backend (an array lookup the verifier inlines).
 */
static __always_inline bool ipip_outer_ipv6(const struct lb_packet_ctx *packet)
{
	const struct lb_backend *backend;

	if (packet->flags & LB_CTX_F_IPV6)
		return true;
	backend = encap_backend(packet);
	return backend && (backend->flags & LB_BACKEND_F_IPV6);
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

	if (packet && ipip_outer_ipv6(packet))
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
