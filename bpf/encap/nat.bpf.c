// SPDX-License-Identifier: GPL-2.0
/* NAT stage: full NAT of client -> VIP packets to the backend, and of the backend's replies back.
 *
 * Forward (from lb, a VIP with `forwarding: nat`):
 *   client:cport -> VIP:vport   becomes   nat_source:nport -> backend:vport
 * Reply (from parse, LB_CTX_F_NAT_REPLY: the 5-tuple is in nat_reply):
 *   backend:vport -> nat_source:nport   becomes   VIP:vport -> client:cport
 *
 * The backends need no change: they see an ordinary connection from the
 * balancer and answer it, so replies come back whatever their routes. IPv4 and
 * TCP/UDP checksums are updated incrementally; the frame keeps its length.
 *
 * An IPv6 VIP's packets (LB_CTX_F_IPV6) take the same steps with IPv6
 * addresses: nat_source6, nat_reply6/nat_forward6 (nat_state6.bpf.h), the L4
 * checksum only (nat_rewrite6.bpf.h), the hop limit for the TTL, the next hop
 * from nexthop6.bpf.h. A packet with extension headers is not translated.
 *
 * A NAT balancer is a router hop, in both directions: a packet that arrives
 * with TTL 0 or 1 is dropped (nat.drop_ttl_exceeded; no ICMP time exceeded
 * yet), and one this stage sends itself (XDP_TX, XDP_REDIRECT) leaves with its
 * TTL one lower. One it hands to the kernel (XDP_PASS: no neighbour yet, or an
 * egress that takes no XDP frames) keeps its TTL: the kernel forwards it and
 * takes the one off itself, so the hop is counted once either way.
 *
 * The next hop and the verdict come from nexthop.bpf.h and count under the
 * encap counters (encap.tx, encap.redirect, ...), as for ipip and gue. As
 * there, the FIB is asked before the frame changes, so a dropped frame is the
 * frame that came in. Port allocation and expiry: nat_state.bpf.h.
 */
#include <linux/in.h>

#include "encap.bpf.h"
#include "encap6.bpf.h"
#include "nat_rewrite6.bpf.h"
#include "nat_state6.bpf.h"

/* The TCP or UDP header NAT rewrites, where parse found it: whole in the frame
 * and in the IPv4 packet, or NULL (a context that does not describe the frame).
 */
static __always_inline void *nat_l4_header(struct xdp_md *ctx, const struct lb_packet_ctx *packet)
{
	if (packet->flow.proto == IPPROTO_TCP)
		return lb_ctx_l4(ctx, packet, sizeof(struct tcphdr));
	return lb_ctx_l4(ctx, packet, sizeof(struct udphdr));
}

/* Ends a NAT packet: the route is resolved, @to is written, MACs set. @iph
 * and @l4 are lb_ctx_ipv4()'s and nat_l4_header()'s answers for @packet.
 */
static __always_inline int nat_send(struct xdp_md *ctx, const struct lb_packet_ctx *packet,
				    struct iphdr *iph, void *l4, const struct nat_tuple *to,
				    struct next_hop *hop)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;

	if ((void *)(eth + 1) > data_end ||
	    nat_rewrite(iph, l4, data_end, packet->flow.proto, to))
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	if (hop->action != XDP_PASS)
		nat_ttl_decrement(iph);
	next_hop_set_macs(eth, hop);
	return next_hop_send(hop);
}

/* Client -> VIP: to the backend lb chose, from nat_source:allocated port. */
static __always_inline int nat_forward_packet(struct xdp_md *ctx)
{
	struct next_hop hop = {};
	struct encap_job job;
	struct nat_tuple to;
	struct iphdr route;
	void *l4;
	int action;

	action = encap_begin(ctx, &job);
	if (action != LB_CONTINUE)
		return action;
	/* Only a first fragment carries the ports: none can be translated. */
	if (job.packet->flags & LB_CTX_F_FRAGMENT)
		return ENCAP_DROP(NAT_DROP_FRAGMENT);
	l4 = nat_l4_header(ctx, job.packet);
	if (!l4)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	if (!lb_tunables.nat_src_addr)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	if (nat_ttl_expired(job.inner))
		return ENCAP_DROP(NAT_DROP_TTL_EXCEEDED);
	/* The packet as it will leave, for the FIB (addresses, TOS, length). */
	route = *job.inner;
	route.saddr = lb_tunables.nat_src_addr;
	route.daddr = job.backend->addr;
	action = next_hop_resolve(ctx, &route, job.packet->backend_id, job.backend,
				  job.packet->now_ns, &hop);
	if (action != LB_CONTINUE)
		return action;

	/* The backend listens on the VIP's port (the client's, for a
	 * port-wildcard VIP).
	 */
	to.saddr = lb_tunables.nat_src_addr;
	to.daddr = job.backend->addr;
	to.dport = job.packet->flow.dport;
	to.sport = nat_port_for(&job.packet->flow, to.daddr, to.dport);
	if (!to.sport)
		return ENCAP_DROP(NAT_DROP_NO_PORT);
	return nat_send(ctx, job.packet, job.inner, l4, &to, &hop);
}

/* Backend -> nat_source: back to the client, from the VIP. The route to a
 * client is not cached (the next-hop cache is per backend): one FIB lookup.
 */
static __always_inline int nat_reply_packet(struct xdp_md *ctx, struct lb_packet_ctx *packet)
{
	/* No backend entry: no static MAC, and an id past the cache's end. */
	const struct lb_backend no_backend = {};
	struct next_hop hop = {};
	struct lb_nat_reply *entry;
	struct nat_tuple to;
	struct iphdr *iph;
	struct iphdr route;
	void *l4;
	/* No lb stage ran for a reply: the clock is read here, once. */
	__u64 now = bpf_ktime_get_coarse_ns();
	int action;

	iph = lb_ctx_ipv4(ctx, packet);
	l4 = iph ? nat_l4_header(ctx, packet) : NULL;
	if (!l4)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	entry = bpf_map_lookup_elem(&nat_reply, &packet->flow);
	/* Evicted since parse, or a UDP mapping past its timeout: not ours. */
	if (!entry || nat_expired(entry->last_seen_ns, packet->flow.proto, now)) {
		lb_count(LB_C_NAT_PASS_NO_STATE);
		return XDP_PASS;
	}
	if (nat_ttl_expired(iph))
		return ENCAP_DROP(NAT_DROP_TTL_EXCEEDED);
	to.saddr = entry->vip_addr;
	to.daddr = entry->client_addr;
	to.sport = entry->vip_port;
	to.dport = entry->client_port;
	route = *iph;
	route.saddr = to.saddr;
	route.daddr = to.daddr;
	action = next_hop_resolve(ctx, &route, LB_MAX_BACKENDS, &no_backend, now, &hop);
	if (action != LB_CONTINUE)
		return action;
	nat_touch(&entry->last_seen_ns, now);
	return nat_send(ctx, packet, iph, l4, &to, &hop);
}

/* The TCP or UDP header of an IPv6 packet right behind its fixed header, or
 * NULL. Extension headers are refused by the callers before: a routing header
 * would put another destination into the checksum's pseudo-header.
 */
static __always_inline void *nat6_l4_header(struct xdp_md *ctx, const struct lb_packet_ctx *packet)
{
	if (packet->flow6.proto == IPPROTO_TCP)
		return lb_ctx_l4_6(ctx, packet, sizeof(struct tcphdr));
	return lb_ctx_l4_6(ctx, packet, sizeof(struct udphdr));
}

/* nat_send() for IPv6: @ip6h and @l4 are lb_ctx_ipv6()'s and
 * nat6_l4_header()'s answers; the hop limit, like IPv4's TTL, one lower
 * when the stage sends the frame itself.
 */
static __always_inline int nat6_send(struct xdp_md *ctx, const struct lb_packet_ctx *packet,
				     struct ipv6hdr *ip6h, void *l4, const struct nat_tuple6 *to,
				     struct next_hop *hop)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;

	if ((void *)(eth + 1) > data_end ||
	    nat6_rewrite(ip6h, l4, data_end, packet->flow6.proto, to))
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	if (hop->action != XDP_PASS)
		ip6h->hop_limit--;
	next_hop_set_macs(eth, hop);
	return next_hop_send(hop);
}

/* The checks both IPv6 directions make before anything is decided: the
 * header right behind the fixed one, a whole packet, a hop left. Returns
 * LB_CONTINUE or a counted drop.
 */
static __always_inline int nat6_check(const struct lb_packet_ctx *packet,
				      const struct ipv6hdr *ip6h)
{
	if (packet->flags & LB_CTX_F_FRAGMENT)
		return ENCAP_DROP(NAT_DROP_FRAGMENT);
	if (packet->l4_offset != packet->l3_offset + sizeof(*ip6h))
		return ENCAP_DROP(NAT_DROP_EXT_HEADER);
	if (nat6_hop_limit_expired(ip6h))
		return ENCAP_DROP(NAT_DROP_TTL_EXCEEDED);
	return LB_CONTINUE;
}

/* nat_forward_packet() for an IPv6 VIP: client -> VIP becomes
 * nat_source6:port -> backend, on the VIP's port.
 */
static __always_inline int nat6_forward_packet(struct xdp_md *ctx, struct lb_packet_ctx *packet)
{
	struct next_hop hop = {};
	struct encap6_job job;
	struct nat_tuple6 to;
	struct ipv6hdr route;
	void *l4;
	int action;

	action = encap6_begin(ctx, packet, &job);
	if (action != LB_CONTINUE)
		return action;
	action = nat6_check(packet, job.inner);
	if (action != LB_CONTINUE)
		return action;
	l4 = nat6_l4_header(ctx, packet);
	if (!l4 || !nat6_has_source())
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	/* The packet as it will leave, for the FIB. */
	route = *job.inner;
	nat6_source((__u8 *)&route.saddr);
	__builtin_memcpy(&route.daddr, job.backend->addr6, sizeof(route.daddr));
	action = next_hop6_resolve(ctx, &route, packet->backend_id, job.backend, packet->now_ns,
				   &hop);
	if (action != LB_CONTINUE)
		return action;

	__builtin_memcpy(to.saddr, &route.saddr, sizeof(to.saddr));
	__builtin_memcpy(to.daddr, &route.daddr, sizeof(to.daddr));
	to.dport = packet->flow6.dport;
	to.sport = nat6_port_for(&packet->flow6, job.backend->addr6, to.dport);
	if (!to.sport)
		return ENCAP_DROP(NAT_DROP_NO_PORT);
	return nat6_send(ctx, packet, job.inner, l4, &to, &hop);
}

/* nat_reply_packet() for a reply in nat_reply6: backend -> nat_source6
 * becomes VIP -> client.
 */
static __always_inline int nat6_reply_packet(struct xdp_md *ctx, struct lb_packet_ctx *packet)
{
	const struct lb_backend no_backend = {};
	struct next_hop hop = {};
	struct lb_nat_reply6 *entry;
	struct nat_tuple6 to;
	struct ipv6hdr *ip6h;
	struct ipv6hdr route;
	__u64 now = bpf_ktime_get_coarse_ns();
	void *l4;
	int action;

	ip6h = lb_ctx_ipv6(ctx, packet);
	l4 = ip6h ? nat6_l4_header(ctx, packet) : NULL;
	if (!l4)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	entry = bpf_map_lookup_elem(&nat_reply6, &packet->flow6);
	if (!entry || nat_expired(entry->last_seen_ns, packet->flow6.proto, now)) {
		lb_count(LB_C_NAT_PASS_NO_STATE);
		return XDP_PASS;
	}
	action = nat6_check(packet, ip6h);
	if (action != LB_CONTINUE)
		return action;
	__builtin_memcpy(to.saddr, entry->vip_addr, sizeof(to.saddr));
	__builtin_memcpy(to.daddr, entry->client_addr, sizeof(to.daddr));
	to.sport = entry->vip_port;
	to.dport = entry->client_port;
	route = *ip6h;
	__builtin_memcpy(&route.saddr, to.saddr, sizeof(route.saddr));
	__builtin_memcpy(&route.daddr, to.daddr, sizeof(route.daddr));
	action = next_hop6_resolve(ctx, &route, LB_MAX_BACKENDS, &no_backend, now, &hop);
	if (action != LB_CONTINUE)
		return action;
	nat_touch(&entry->last_seen_ns, now);
	return nat6_send(ctx, packet, ip6h, l4, &to, &hop);
}

SEC("xdp")
int xdp_lb_nat(struct xdp_md *ctx)
{
	struct lb_packet_ctx *packet = lb_packet_ctx();

	if (!packet)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	if (packet->flags & LB_CTX_F_IPV6) {
		if (packet->flags & LB_CTX_F_NAT_REPLY)
			return nat6_reply_packet(ctx, packet);
		return nat6_forward_packet(ctx, packet);
	}
	if (packet->flags & LB_CTX_F_NAT_REPLY)
		return nat_reply_packet(ctx, packet);
	return nat_forward_packet(ctx);
}

char LICENSE[] SEC("license") = "GPL";
