/* SPDX-License-Identifier: GPL-2.0 */
/* Rewrites the addresses and ports of a TCP or UDP packet in place, with the
 * IPv4 and L4 checksums updated incrementally (RFC 1624: HC' = ~(~HC + ~m + m')).
 *
 * Every sum below adds 16-bit words as they lie in memory. The one's
 * complement sum does not depend on byte order as long as every word is read
 * the same way, so no byte swapping is needed anywhere.
 */
#ifndef LB_NAT_REWRITE_BPF_H
#define LB_NAT_REWRITE_BPF_H

#include <stdbool.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "csum.bpf.h"

/* The four fields NAT changes. */
struct nat_tuple {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
};

/* The sum of the 16-bit halves of a 32-bit word, as they lie in memory. */
static __always_inline __u32 nat_word_sum(__u32 word)
{
	return (word & 0xffff) + (word >> 16);
}

/* ~m + m' for the addresses only (what the IPv4 header checksum covers). */
static __always_inline __u32 nat_addr_delta(const struct nat_tuple *from,
					    const struct nat_tuple *to)
{
	return nat_word_sum(~from->saddr) + nat_word_sum(~from->daddr) +
	       nat_word_sum(to->saddr) + nat_word_sum(to->daddr);
}

/* ~m + m' for addresses and ports (the L4 checksum covers the pseudo-header). */
static __always_inline __u32 nat_l4_delta(const struct nat_tuple *from,
					  const struct nat_tuple *to)
{
	return nat_addr_delta(from, to) + (__u16)~from->sport + (__u16)~from->dport +
	       to->sport + to->dport;
}

/* Writes @to into the packet: @iph its IPv4 header, @l4 its TCP or UDP
 * header (@proto, from the context; nat_l4_header() found it). A UDP checksum
 * of 0 means "none" and stays 0; a computed 0 is sent as 0xffff. Returns 0, or
 * -1 with the packet unchanged when the L4 header is not whole in the frame:
 * nat_l4_header() checked that, the checks below show it to the verifier.
 */
static __always_inline int nat_rewrite(struct iphdr *iph, void *l4, void *data_end, __u8 proto,
				       const struct nat_tuple *to)
{
	struct nat_tuple from;
	struct udphdr *udph;
	struct tcphdr *tcph;
	__sum16 *l4_check;
	__be16 *ports;

	if (proto == IPPROTO_TCP) {
		tcph = l4;
		if ((void *)(tcph + 1) > data_end)
			return -1;
		l4_check = &tcph->check;
		ports = &tcph->source;
	} else {
		udph = l4;
		if ((void *)(udph + 1) > data_end)
			return -1;
		l4_check = &udph->check;
		ports = &udph->source;
	}
	/* Said again on the pointers the ports and the checksum are written
	 * through: clang 19 and 21 derive them from @l4 anew, in registers the
	 * verifier has no range for (Debian 13's and unstable's kernels refused
	 * the stage).
	 */
	if ((void *)(ports + 2) > data_end || (void *)(l4_check + 1) > data_end)
		return -1;
	from.saddr = iph->saddr;
	from.daddr = iph->daddr;
	from.sport = ports[0];
	from.dport = ports[1];

	iph->check = csum_apply(iph->check, nat_addr_delta(&from, to));
	if (proto == IPPROTO_TCP || *l4_check) {
		*l4_check = csum_apply(*l4_check, nat_l4_delta(&from, to));
		if (proto == IPPROTO_UDP && !*l4_check)
			*l4_check = (__sum16)0xffff;
	}
	iph->saddr = to->saddr;
	iph->daddr = to->daddr;
	ports[0] = to->sport;
	ports[1] = to->dport;
	return 0;
}

/* A router's TTL rule (RFC 1812, 5.3.1): a packet that arrives with TTL 0
 * or 1 must not be forwarded.
 */
static __always_inline bool nat_ttl_expired(const struct iphdr *iph)
{
	return iph->ttl <= 1;
}

/* Takes one off the TTL of @iph (the caller checked it is above 1) and updates
 * the header checksum for it. TTL and protocol share one 16-bit word; it is
 * added as it lies in memory, like every word above.
 */
static __always_inline void nat_ttl_decrement(struct iphdr *iph)
{
	__u16 *word = (__u16 *)&iph->ttl;
	__u16 old = *word;

	iph->ttl--;
	iph->check = csum_apply(iph->check, (__u16)~old + *word);
}

#endif /* LB_NAT_REWRITE_BPF_H */
