/* SPDX-License-Identifier: GPL-2.0 */
/* Internet checksums: of the IPv4 headers the encap stages build, the check
 * parse makes of every VIP packet's own, incremental updates (RFC 1624), and
 * the sum over the end of a frame an ICMPv6 error needs.
 */
#ifndef LB_CSUM_BPF_H
#define LB_CSUM_BPF_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/ip.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

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

/* The one's complement sum, not folded, of the whole IPv4 header @iph, check
 * field and options included, into *@sum: 0, or -1 when the header is not
 * whole before @data_end. Words are added as they lie in memory.
 *
 * The caller has checked the header whole in the frame (parse_iphdr(),
 * lb_ctx_ipv4()); the checks against @data_end below only show the verifier,
 * which does not carry the bound of a variable header length this far, what
 * is already true. IHL 5..15: at most 10 option words of 4 bytes, a constant
 * bound and constant offsets, so the loop unrolls and every access is checked
 * against a fixed offset, which any verifier follows.
 */
static __always_inline int ipv4_header_sum(const struct iphdr *iph, const void *data_end,
					   __u32 *sum)
{
	const __u16 *word = (const __u16 *)iph;
	__u32 option_words, total = 0;
	int i;

	if ((const void *)(iph + 1) > data_end)
		return -1;
#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / sizeof(*word)); i++)
		total += word[i];
	option_words = iph->ihl - 5;
#pragma unroll
	for (i = 0; i < 10; i++) {
		const __u16 *option = word + 10 + 2 * i;

		if (i >= (int)option_words)
			break;
		if ((const void *)(option + 2) > data_end)
			return -1;
		total += option[0] + option[1];
	}
	*sum = total;
	return 0;
}

/* Whether the header checksum of @iph is right: the one's complement sum of
 * the whole header, check field and options included, is 0xffff (RFC 1071), so
 * folded and complemented it is 0. An all-zero sum, the only other way to get
 * 0, needs version 0: never an IPv4 header.
 *
 * Called on every VIP packet, so it is kept cheap: 10 adds for a header
 * without options, two more per 4-byte option word.
 */
static __always_inline bool ipv4_header_csum_ok(const struct iphdr *iph, const void *data_end)
{
	__u32 sum;

	return !ipv4_header_sum(iph, data_end, &sum) && csum_fold32(sum) == 0;
}

/* A checksum field @check updated by @delta, the sum of ~m + m' over the
 * 16-bit words that changed (RFC 1624: HC' = ~(~HC + ~m + m')), every word
 * added as it lies in memory.
 */
static __always_inline __sum16 csum_apply(__sum16 check, __u32 delta)
{
	return (__sum16)csum_fold32((__u16)~check + delta);
}

/* The longest span csum_to_end() sums: an IPv6 packet of the minimum MTU
 * (1280 bytes) less the first 8 bytes of its header.
 */
#define CSUM_TO_END_MAX 1272
/* What one bpf_csum_diff() call of csum_to_end()'s loop sums. */
#define CSUM_CHUNK 64

/* Adds to *@sum the one's complement sum, not folded, of the bytes from @p to
 * @data_end: at least CSUM_CHUNK, at most @max of them (a constant), @p at an
 * even distance from where the checksummed data starts (a trailing odd byte is
 * padded with zero, RFC 1071). Returns 0, or -1 when the span is shorter or
 * longer or a helper fails.
 *
 * The kernel's bpf_csum_diff() sums a multiple of 4 bytes a call, at most
 * 512. One call takes the length's bits 2 to 5 (a variable size up to 60,
 * proven by the first CSUM_CHUNK bytes), a loop of at most @max / CSUM_CHUNK
 * calls the chunks of CSUM_CHUNK behind them, and the last 0 to 3 bytes are
 * added by hand. The loop's pointer has a range, not a known offset, so the
 * verifier walks each turn once: some hundreds of instructions, where a
 * word-by-word loop behind a chunk loop walked every pair of their counts.
 * Callers keep it in a global function, checked once.
 */
static __always_inline int csum_span(void *p, void *data_end, __u32 *sum, const __u32 max)
{
	__u32 len, head;
	__u16 last = 0;
	__s64 total;
	int i;

	if (p + CSUM_CHUNK > data_end)
		return -1;
	len = data_end - p;
	if (len > max)
		return -1;
	head = len & (CSUM_CHUNK - 4);
	total = bpf_csum_diff(NULL, 0, p, head, *sum);
	if (total < 0)
		return -1;
	p += head;
	for (i = 0; i < (int)(max / CSUM_CHUNK); i++) {
		if (p + CSUM_CHUNK > data_end)
			break;
		total = bpf_csum_diff(NULL, 0, p, CSUM_CHUNK, (__u32)total);
		if (total < 0)
			return -1;
		p += CSUM_CHUNK;
	}
	if (p + 2 <= data_end) {
		total += *(__u16 *)p;
		p += 2;
	}
	if (p + 1 <= data_end) {
		/* The odd byte first in a word, as it would lie in memory. */
		*(__u8 *)&last = *(__u8 *)p;
		total += last;
		p += 1;
	}
	if (p != data_end)
		return -1;
	/* Fold the carries a 64-bit total gathered back into 32 bits. */
	total = (total & 0xffffffff) + (total >> 32);
	total = (total & 0xffffffff) + (total >> 32);
	*sum = (__u32)total;
	return 0;
}

/* csum_span() of an ICMPv6 error: at most CSUM_TO_END_MAX bytes. */
static __always_inline int csum_to_end(void *p, void *data_end, __u32 *sum)
{
	return csum_span(p, data_end, sum, CSUM_TO_END_MAX);
}

#endif /* LB_CSUM_BPF_H */
