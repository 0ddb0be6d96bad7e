/* SPDX-License-Identifier: GPL-2.0 */
/* The icmp stage's NAT part, IPv4: errors about the packets of a
 * `forwarding: nat` VIP, translated both ways as the nat stage translates the
 * packets themselves (docs/nat.md, "ICMP errors"). Included by icmp.bpf.c
 * behind icmp_pass() and struct icmp_error_head.
 *
 * To the backend: an error from the client's side, addressed to the VIP,
 * quoting a reply the nat stage translated (VIP:vport -> client:cport). The
 * quote reversed is the client's 5-tuple, whose nat_forward entry names the
 * mapping; its nat_reply entry must still be the client's and live, as the
 * nat stage checks it. The quote becomes the packet the backend sent
 * (backend:port -> nat_source:nport), the outer header an error from
 * nat_source to the backend (Linux conntrack's choice): the backend's kernel
 * finds its own socket in the quote (path MTU, ECONNREFUSED), and the error
 * comes from the peer of that socket, which the backend can route to and a
 * stateful filter on it relates to the connection.
 *
 * To the client: an error from the backends' side, addressed to nat_source,
 * quoting nat_source:nport -> backend:port (the backend's port unreachable, a
 * router's "fragmentation needed" between balancer and backend). The quote
 * is a nat_reply key reversed; the quote becomes the client's packet
 * (client:cport -> VIP:vport), the outer header an error from the VIP to the
 * client: the addresses behind the balancer need not be routable from the
 * client, and the VIP is the one address the client's flow knows.
 *
 * Checksums are updated incrementally (RFC 1624): the quoted IPv4 header's,
 * the quoted UDP or TCP checksum when the quote holds it (a UDP checksum of
 * 0 stays 0), the ICMP checksum for every quoted word that changed (it does
 * not cover the outer header), the outer header's. Nothing else changes: a
 * "fragmentation needed" keeps its MTU (NAT adds no header), the frame its
 * length. The TTL is the nat stage's rule (a router hop: <= 1 dropped as
 * nat.drop_ttl_exceeded, one off when the stage sends the frame itself); the
 * next hop an uncached FIB lookup, as for a NAT reply, counted as encap.*.
 * An error that is too big for the next hop is dropped (encap.drop_mtu):
 * never an ICMP error about an ICMP error.
 */
#ifndef LB_ICMP_NAT_BPF_H
#define LB_ICMP_NAT_BPF_H

#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "nat_rewrite.bpf.h"
#include "nat_state.bpf.h"
#include "nexthop.bpf.h"

/* The new fields of a translated error: the quoted packet's addresses and
 * ports, the outer header's addresses.
 */
struct icmp_nat_job {
	struct nat_tuple quote;
	__be32 outer_src;
	__be32 outer_dst;
	enum lb_counter sent; /* the direction's counter, once the next hop is known */
};

/* Whether @quoted is a packet nat_source sent and the error came to
 * nat_source: an error from the backends' side. False without a nat_source.
 */
static __always_inline bool icmp_nat_quotes_source(const struct lb_packet_ctx *pkt,
						   const struct iphdr *quoted)
{
	__be32 nat_source = lb_tunables.nat_src_addr;

	return nat_source && quoted->saddr == nat_source && pkt->flow.dst == nat_source;
}

/* The quoted UDP or TCP checksum, or NULL when the quote ends before it:
 * RFC 792 asks for 8 bytes behind the IP header, which hold a TCP header's
 * ports and sequence number only.
 */
static __always_inline __sum16 *icmp_nat_quoted_l4_check(struct xdp_md *ctx,
							 const struct lb_packet_ctx *pkt,
							 const struct iphdr *quoted)
{
	return icmp_quote_at(ctx, pkt, quoted,
			     quoted->protocol == IPPROTO_TCP ?
				     __builtin_offsetof(struct tcphdr, check) :
				     __builtin_offsetof(struct udphdr, check),
			     sizeof(__sum16));
}

/* Writes @sport and @dport into the quote's @ports, with its L4 checksum
 * @l4_check (NULL: not in the quote) updated for them and the addresses'
 * @addr_delta, and returns ~m + m' of the words that changed. Both families.
 */
static __always_inline __u32 icmp_nat_quote_ports(__be16 *ports, __sum16 *l4_check, __u8 proto,
						  __u32 addr_delta, __be16 sport, __be16 dport)
{
	__u32 delta = (__u16)~ports[0] + (__u16)~ports[1] + sport + dport;
	__sum16 old;

	if (!l4_check) {
		ports[0] = sport;
		ports[1] = dport;
		return delta;
	}
	old = *l4_check;
	nat_l4_update(l4_check, ports, proto, addr_delta, sport, dport);
	return delta + (__u16)~old + *l4_check;
}

/* Writes @to into the quote (@quoted, its @ports, its L4 checksum @l4_check
 * or NULL) with the quote's own checksums updated, and returns ~m + m' of
 * every 16-bit word that changed: the ICMP checksum's delta.
 */
static __always_inline __u32 icmp_nat_quote_rewrite(struct iphdr *quoted, __be16 *ports,
						    __sum16 *l4_check, const struct nat_tuple *to)
{
	struct nat_tuple from = { .saddr = quoted->saddr, .daddr = quoted->daddr };
	__u32 addr_delta = nat_addr_delta(&from, to);
	__u32 delta = addr_delta;
	__sum16 old = quoted->check;

	quoted->check = csum_apply(old, addr_delta);
	delta += (__u16)~old + quoted->check;
	delta += icmp_nat_quote_ports(ports, l4_check, quoted->protocol, addr_delta, to->sport,
				      to->dport);
	quoted->saddr = to->saddr;
	quoted->daddr = to->daddr;
	return delta;
}

/* Translates the error as @job says and sends it to the next hop of its new
 * outer destination. @head and @ports are icmp_error_forward()'s, found in
 * the frame @pkt describes. Returns the final action, counted.
 */
static __always_inline int icmp_nat_send(struct xdp_md *ctx, struct lb_packet_ctx *pkt,
					 struct icmp_error_head *head, __be16 *ports,
					 const struct icmp_nat_job *job)
{
	/* No backend entry: no static MAC, and an id past the cache's end. */
	const struct lb_backend no_backend = {};
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct nat_tuple outer_from, outer_to;
	struct next_hop hop = {};
	struct iphdr *iph, route;
	__sum16 *l4_check;
	__u32 delta;
	int action;

	iph = lb_ctx_ipv4(ctx, pkt);
	if (!iph || (void *)(eth + 1) > data_end)
		return ICMP_DROP_BAD_CTX_OF(pkt);
	if (nat_ttl_expired(iph))
		return ENCAP_DROP(NAT_DROP_TTL_EXCEEDED);
	/* next_hop_too_big() answers no ICMP error with another. */
	pkt->flags |= LB_CTX_F_ICMP_ERROR;
	route = *iph;
	route.saddr = job->outer_src;
	route.daddr = job->outer_dst;
	action = next_hop_resolve(ctx, &route, LB_MAX_BACKENDS, &no_backend,
				  bpf_ktime_get_coarse_ns(), &hop);
	if (action != LB_CONTINUE)
		return action;
	lb_count(job->sent);

	l4_check = icmp_nat_quoted_l4_check(ctx, pkt, &head->quoted);
	delta = icmp_nat_quote_rewrite(&head->quoted, ports, l4_check, &job->quote);
	head->icmp.checksum = csum_apply(head->icmp.checksum, delta);
	outer_from.saddr = iph->saddr;
	outer_from.daddr = iph->daddr;
	outer_to.saddr = job->outer_src;
	outer_to.daddr = job->outer_dst;
	iph->check = csum_apply(iph->check, nat_addr_delta(&outer_from, &outer_to));
	iph->saddr = job->outer_src;
	iph->daddr = job->outer_dst;
	if (hop.action != XDP_PASS)
		nat_ttl_decrement(iph);
	next_hop_set_macs(eth, &hop);
	return next_hop_send(&hop);
}

/* An error about a NAT VIP's reply (@client: the quote reversed, the client's
 * 5-tuple; @vip its VIP): to the mapping's backend, from nat_source. Fills
 * @job and returns LB_CONTINUE, or the final action, counted.
 */
static __always_inline int icmp_nat_to_backend(struct lb_packet_ctx *pkt,
					       const struct lb_flow_key *client,
					       const struct lb_vip *vip, struct icmp_nat_job *job)
{
	struct lb_nat_forward *fwd = bpf_map_lookup_elem(&nat_forward, client);
	struct lb_nat_reply *entry;
	struct lb_flow_key key;

	if (!fwd || !lb_tunables.nat_src_addr)
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	nat_reply_key(&key, client->proto, fwd->backend_addr, fwd->backend_port, fwd->nat_port);
	entry = bpf_map_lookup_elem(&nat_reply, &key);
	/* Evicted, taken over, or expired: the backend's socket is gone too. */
	if (!entry || !nat_owned_by(entry, client) ||
	    nat_expired(entry->last_seen_ns, client->proto, bpf_ktime_get_coarse_ns()))
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	job->quote.saddr = key.src;
	job->quote.daddr = key.dst;
	job->quote.sport = key.sport;
	job->quote.dport = key.dport;
	job->outer_src = key.dst;
	job->outer_dst = key.src;
	/* Drops from here on count for the VIP the error is about. */
	pkt->vip_id = vip->vip_id;
	job->sent = LB_C_ICMP_NAT_ERROR_TO_BACKEND;
	return LB_CONTINUE;
}

/* An error about a packet nat_source sent to a backend (@quoted and its
 * @ports; icmp_nat_quotes_source()): to the mapping's client, from the VIP.
 * Fills @job and returns true, or false when no live mapping has the quoted
 * 5-tuple (nothing counted: where nat_source is a VIP address too, the quote
 * may be a VIP's reply instead).
 */
static __always_inline bool icmp_nat_to_client(struct lb_packet_ctx *pkt,
					       const struct iphdr *quoted, const __be16 *ports,
					       struct icmp_nat_job *job)
{
	struct lb_flow_key key = {};
	struct lb_nat_reply *entry;

	key.src = quoted->daddr;
	key.dst = quoted->saddr;
	key.sport = ports[1];
	key.dport = ports[0];
	key.proto = quoted->protocol;
	entry = bpf_map_lookup_elem(&nat_reply, &key);
	if (!entry || nat_expired(entry->last_seen_ns, key.proto, bpf_ktime_get_coarse_ns()))
		return false;
	job->quote.saddr = entry->client_addr;
	job->quote.daddr = entry->vip_addr;
	job->quote.sport = entry->client_port;
	job->quote.dport = entry->vip_port;
	job->outer_src = entry->vip_addr;
	job->outer_dst = entry->client_addr;
	/* A mapping, not a VIP: drops count globally only (lb_drop_vip_id()). */
	pkt->flags |= LB_CTX_F_NAT_REPLY;
	job->sent = LB_C_ICMP_NAT_ERROR_TO_CLIENT;
	return true;
}

#endif /* LB_ICMP_NAT_BPF_H */
