/* SPDX-License-Identifier: GPL-2.0 */
/* icmp_nat.bpf.h for IPv6 NAT VIPs: ICMPv6 errors (1-4) translated both ways
 * by the same rules (docs/nat.md, "ICMP errors"), with nat_forward6,
 * nat_reply6 and nat_source6. Included by icmp.bpf.c behind icmp_nat.bpf.h
 * and icmp6.bpf.h's struct icmp6_error_head; kept apart from icmp6.bpf.h,
 * which only calls in here.
 *
 * IPv6 has no header checksum; the ICMPv6 checksum covers a pseudo-header
 * with the outer addresses (RFC 8200 8.1, RFC 4443 2.3), so it is updated for
 * the outer addresses too, besides every quoted word that changed. The hop
 * limit is the nat stage's rule. An outer packet with extension headers is
 * dropped as the nat stage drops one (nat.drop_ext_header): a routing header
 * would put another destination into the pseudo-header.
 */
#ifndef LB_ICMP6_NAT_BPF_H
#define LB_ICMP6_NAT_BPF_H

#include "nat_rewrite6.bpf.h"
#include "nat_state6.bpf.h"
#include "nexthop6.bpf.h"

/* icmp_nat_job for IPv6: the quote's and the outer header's new fields. */
struct icmp6_nat_job {
	struct nat_tuple6 quote;
	__u8 outer_src[16];
	__u8 outer_dst[16];
	enum lb_counter sent;
};

/* The quoted UDP or TCP checksum behind @ports (the quoted packet's, a TCP
 * or UDP header right behind its fixed IPv6 header) inside the ICMPv6 packet
 * and the frame, or NULL: the quote may end before it.
 */
static __always_inline __sum16 *icmp6_nat_quoted_l4_check(struct xdp_md *ctx,
							  const struct lb_packet_ctx *pkt,
							  __be16 *ports, __u8 proto)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 end = (__u32)pkt->l3_offset + pkt->ip_tot_len;
	__sum16 *check;

	check = (void *)ports + (proto == IPPROTO_TCP ? __builtin_offsetof(struct tcphdr, check) :
							__builtin_offsetof(struct udphdr, check));
	if ((void *)(check + 1) > data_end || (void *)(check + 1) > data + end)
		return NULL;
	return check;
}

/* Writes @to into the quote (@quoted, its @ports, its L4 checksum @l4_check or
 * NULL) and returns ~m + m' of every 16-bit word that changed.
 */
static __always_inline __u32 icmp6_nat_quote_rewrite(struct ipv6hdr *quoted, __be16 *ports,
						     __sum16 *l4_check,
						     const struct nat_tuple6 *to)
{
	__u32 addr_delta =
		nat6_addr_word_delta((const __u32 *)&quoted->saddr, (const __u32 *)to->saddr) +
		nat6_addr_word_delta((const __u32 *)&quoted->daddr, (const __u32 *)to->daddr);
	__u32 delta = addr_delta + icmp_nat_quote_ports(ports, l4_check, quoted->nexthdr,
							addr_delta, to->sport, to->dport);

	__builtin_memcpy(&quoted->saddr, to->saddr, sizeof(quoted->saddr));
	__builtin_memcpy(&quoted->daddr, to->daddr, sizeof(quoted->daddr));
	return delta;
}

/* icmp_nat_send() for IPv6: translates the error as @job says and sends it
 * to the next hop of its new destination. @head and @ports are
 * icmp6_error_forward()'s. Returns the final action, counted.
 */
static __always_inline int icmp6_nat_send(struct xdp_md *ctx, struct lb_packet_ctx *pkt,
					  struct icmp6_error_head *head, __be16 *ports,
					  const struct icmp6_nat_job *job)
{
	const struct lb_backend no_backend = {};
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct ipv6hdr *ip6h, route;
	struct next_hop hop = {};
	__sum16 *l4_check;
	__u32 delta;
	int action;

	ip6h = lb_ctx_ipv6(ctx, pkt);
	if (!ip6h || (void *)(eth + 1) > data_end)
		return ICMP_DROP_BAD_CTX_OF(pkt);
	if (pkt->l4_offset != pkt->l3_offset + sizeof(*ip6h))
		return ENCAP_DROP(NAT_DROP_EXT_HEADER);
	if (nat6_hop_limit_expired(ip6h))
		return ENCAP_DROP(NAT_DROP_TTL_EXCEEDED);
	pkt->flags |= LB_CTX_F_ICMP_ERROR;
	route = *ip6h;
	__builtin_memcpy(&route.saddr, job->outer_src, sizeof(route.saddr));
	__builtin_memcpy(&route.daddr, job->outer_dst, sizeof(route.daddr));
	action = next_hop6_resolve(ctx, &route, LB_MAX_BACKENDS, &no_backend,
				   bpf_ktime_get_coarse_ns(), &hop);
	if (action != LB_CONTINUE)
		return action;
	lb_count(job->sent);

	l4_check = icmp6_nat_quoted_l4_check(ctx, pkt, ports, head->quoted.nexthdr);
	delta = icmp6_nat_quote_rewrite(&head->quoted, ports, l4_check, &job->quote);
	delta += nat6_addr_word_delta((const __u32 *)&ip6h->saddr, (const __u32 *)job->outer_src) +
		 nat6_addr_word_delta((const __u32 *)&ip6h->daddr, (const __u32 *)job->outer_dst);
	head->icmp.checksum = csum_apply(head->icmp.checksum, delta);
	__builtin_memcpy(&ip6h->saddr, job->outer_src, sizeof(ip6h->saddr));
	__builtin_memcpy(&ip6h->daddr, job->outer_dst, sizeof(ip6h->daddr));
	if (hop.action != XDP_PASS)
		ip6h->hop_limit--;
	next_hop_set_macs(eth, &hop);
	return next_hop_send(&hop);
}

/* icmp_nat_to_backend() for IPv6: @client is the quote reversed. */
static __always_inline int icmp6_nat_to_backend(struct lb_packet_ctx *pkt,
						const struct lb_flow6_key *client,
						const struct lb_vip *vip, struct icmp6_nat_job *job)
{
	struct lb_nat_forward6 *fwd = bpf_map_lookup_elem(&nat_forward6, client);
	struct lb_nat_reply6 *entry;
	struct lb_flow6_key key;

	if (!fwd || !nat6_has_source())
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	nat6_reply_key(&key, client->proto, fwd->backend_addr, fwd->backend_port, fwd->nat_port);
	entry = bpf_map_lookup_elem(&nat_reply6, &key);
	if (!entry || !nat6_owned_by(entry, client) ||
	    nat_expired(entry->last_seen_ns, client->proto, bpf_ktime_get_coarse_ns()))
		return icmp_pass(LB_C_ICMP_PASS_ERROR_NO_FLOW);
	__builtin_memcpy(job->quote.saddr, key.src, sizeof(job->quote.saddr));
	__builtin_memcpy(job->quote.daddr, key.dst, sizeof(job->quote.daddr));
	job->quote.sport = key.sport;
	job->quote.dport = key.dport;
	__builtin_memcpy(job->outer_src, key.dst, sizeof(job->outer_src));
	__builtin_memcpy(job->outer_dst, key.src, sizeof(job->outer_dst));
	pkt->vip_id = vip->vip_id;
	job->sent = LB_C_ICMP_NAT_ERROR_TO_BACKEND;
	return LB_CONTINUE;
}

/* icmp_nat_to_client() for IPv6: @quoted (from nat_source6) and its @ports.
 * True with @job filled, false when no live mapping has the quoted 5-tuple.
 */
static __always_inline bool icmp6_nat_to_client(struct lb_packet_ctx *pkt,
						const struct ipv6hdr *quoted, const __be16 *ports,
						struct icmp6_nat_job *job)
{
	struct lb_flow6_key key = {};
	struct lb_nat_reply6 *entry;

	__builtin_memcpy(key.src, &quoted->daddr, sizeof(key.src));
	__builtin_memcpy(key.dst, &quoted->saddr, sizeof(key.dst));
	key.sport = ports[1];
	key.dport = ports[0];
	key.proto = quoted->nexthdr;
	entry = bpf_map_lookup_elem(&nat_reply6, &key);
	if (!entry || nat_expired(entry->last_seen_ns, key.proto, bpf_ktime_get_coarse_ns()))
		return false;
	__builtin_memcpy(job->quote.saddr, entry->client_addr, sizeof(job->quote.saddr));
	__builtin_memcpy(job->quote.daddr, entry->vip_addr, sizeof(job->quote.daddr));
	job->quote.sport = entry->client_port;
	job->quote.dport = entry->vip_port;
	__builtin_memcpy(job->outer_src, entry->vip_addr, sizeof(job->outer_src));
	__builtin_memcpy(job->outer_dst, entry->client_addr, sizeof(job->outer_dst));
	pkt->flags |= LB_CTX_F_NAT_REPLY;
	job->sent = LB_C_ICMP_NAT_ERROR_TO_CLIENT;
	return true;
}

#endif /* LB_ICMP6_NAT_BPF_H */
