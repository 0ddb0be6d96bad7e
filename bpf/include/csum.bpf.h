/* SPDX-License-Identifier: GPL-2.0 */
/* Internet checksum of the IPv4 headers the encap stages build. */
#ifndef LB_CSUM_BPF_H
#define LB_CSUM_BPF_H

#include <linux/types.h>
#include <linux/ip.h>

/* Folds a 32-bit one's complement sum to 16 bits and complements it. Two folds
 * are enough for any sum of fewer than 65537 16-bit words.
 */
static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Header checksum of an IPv4 header WITHOUT options (20 bytes) whose check
 * field is zero. The one's complement sum does not depend on byte order, so the
 * words are added as they lie in memory and the result is ready to store.
 * A fixed length keeps the loop fully unrolled: no bounds for the verifier.
 */
static __always_inline __sum16 ipv4_header_csum(const struct iphdr *iph)
{
	const __u16 *word = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / sizeof(*word)); i++)
		sum += word[i];
	return (__sum16)csum_fold32(sum);
}

#endif /* LB_CSUM_BPF_H */
