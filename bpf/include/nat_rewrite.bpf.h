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

/* The checksum and the two ports of @l4, a TCP or UDP header (@proto, from
 * the context; nat_l4_header() found it), into *@check and *@ports. Returns
 * 0, or -1 when the header is not whole in the frame: the caller checked
 * that, the checks below show it to the verifier.
 */
static __always_inline int nat_l4_fields(void *l4, void *data_end, __u8 proto,
					 __sum16 **check, __be16 **ports)
{
	struct udphdr *udph;
	struct tcphdr *tcph;

	if (proto == IPPROTO_TCP) {
		tcph = l4;
		if ((void *)(tcph + 1) > data_end)
			return -1;
		*check = &tcph->check;
		*ports = &tcph->source;
	} else {
		udph = l4;
		if ((void *)(udph + 1) > data_end)
			return -1;
		*check = &udph->check;
		*ports = &udph->source;
	}
	/* Said again on the pointers the ports and the checksum are written
	 * through: clang 19 and 21 derive them from @l4 anew, in registers the
	 * verifier has no range for (Debian 13's and unstable's kernels refused
	 * the stage).
	 */
	if ((void *)(*ports + 2) > data_end || (void *)(*check + 1) > data_end)
		return -1;
	return 0;
}

/* Writes @sport and @dport into @ports and updates the L4 checksum at @check
 * for them and for the addresses' @addr_delta (~m + m' of the pseudo-header's
 * addresses). A UDP checksum of 0 means "none" and stays 0; a computed 0 is
 * sent as 0xffff.
 */
static __always_inline void nat_l4_update(__sum16 *check, __be16 *ports, __u8 proto,
					  __u32 addr_delta, __be16 sport, __be16 dport)
{
	__u32 delta = addr_delta + (__u16)~ports[0] + (__u16)~ports[1] + sport + dport;

	if (proto == IPPROTO_TCP || *check) {
		*check = csum_apply(*check, delta);
		if (proto == IPPROTO_UDP && !*check)
			*check = (__sum16)0xffff;
	}
	ports[0] = sport;
	ports[1] = dport;
}

/* Writes @to into the packet: @iph its IPv4 header, @l4 its TCP or UDP
 * header (nat_l4_fields()). Returns 0, or -1 with the packet unchanged.
 */
static __always_inline int nat_rewrite(struct iphdr *iph, void *l4, void *data_end, __u8 proto,
				       const struct nat_tuple *to)
{
	struct nat_tuple from;
	__sum16 *l4_check;
	__be16 *ports;
	__u32 delta;

	if (nat_l4_fields(l4, data_end, proto, &l4_check, &ports))
		return -1;
	from.saddr = iph->saddr;
	from.daddr = iph->daddr;
	delta = nat_addr_delta(&from, to);
	iph->check = csum_apply(iph->check, delta);
	nat_l4_update(l4_check, ports, proto, delta, to->sport, to->dport);
	iph->saddr = to->saddr;
	iph->daddr = to->daddr;
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
