/* SPDX-License-Identifier: GPL-2.0 */
/* nat_rewrite.bpf.h for an IPv6 packet: the addresses and ports rewritten in
 * place, the TCP or UDP checksum updated incrementally for the pseudo-header's
 * addresses and the ports (RFC 1624, RFC 8200 8.1). IPv6 has no header
 * checksum, and the hop limit is not in the pseudo-header: nothing else to
 * update.
 */
#ifndef LB_NAT_REWRITE6_BPF_H
#define LB_NAT_REWRITE6_BPF_H

#include <linux/ipv6.h>

#include "nat_rewrite.bpf.h"

/* The four fields NAT changes, IPv6. Addresses 4-byte aligned. */
struct nat_tuple6 {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
};

/* ~m + m' for one address replaced: its four words as they lie in memory. */
static __always_inline __u32 nat6_addr_word_delta(const __u32 *from, const __u32 *to)
{
	__u32 sum = 0;
	int i;

	for (i = 0; i < 4; i++)
		sum += nat_word_sum(~from[i]) + nat_word_sum(to[i]);
	return sum;
}

/* Writes @to into the packet: @ip6h its IPv6 header, @l4 its TCP or UDP
 * header right behind it (@proto). The sum of 16 address words and 4 port
 * words stays far below 2^32. Returns 0, or -1 with the packet unchanged.
 * A UDP checksum of 0 (not allowed in IPv6, RFC 8200 8.1) stays 0: the
 * backend drops the packet as the balancer's stack would have.
 */
static __always_inline int nat6_rewrite(struct ipv6hdr *ip6h, void *l4, void *data_end,
					__u8 proto, const struct nat_tuple6 *to)
{
	__sum16 *l4_check;
	__be16 *ports;
	__u32 delta;

	if (nat_l4_fields(l4, data_end, proto, &l4_check, &ports))
		return -1;
	delta = nat6_addr_word_delta((const __u32 *)&ip6h->saddr, (const __u32 *)to->saddr) +
		nat6_addr_word_delta((const __u32 *)&ip6h->daddr, (const __u32 *)to->daddr);
	nat_l4_update(l4_check, ports, proto, delta, to->sport, to->dport);
	__builtin_memcpy(&ip6h->saddr, to->saddr, sizeof(ip6h->saddr));
	__builtin_memcpy(&ip6h->daddr, to->daddr, sizeof(ip6h->daddr));
	return 0;
}

/* nat_ttl_expired() for IPv6's hop limit (RFC 8200 3: a node that forwards
 * decrements it and discards a packet it brings to 0).
 */
static __always_inline bool nat6_hop_limit_expired(const struct ipv6hdr *ip6h)
{
	return ip6h->hop_limit <= 1;
}

#endif /* LB_NAT_REWRITE6_BPF_H */
