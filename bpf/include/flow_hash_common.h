/* SPDX-License-Identifier: GPL-2.0 */
/* The flow hash: Bob Jenkins' lookup3 mix over the 5-tuple, the function the
 * kernel calls jhash_3words. Shared with userspace so tests (and, later,
 * stateless policies in other balancers) compute the same value.
 */
#ifndef LB_FLOW_HASH_COMMON_H
#define LB_FLOW_HASH_COMMON_H

#include <linux/types.h>
#include "lb_structs_common.h"

#define LB_FLOW_HASH_INITVAL 0xdeadbeefU

static inline __u32 lb_rol32(__u32 word, unsigned int shift)
{
	return (word << shift) | (word >> ((-shift) & 31));
}

/* lookup3's final mix of three words. */
static inline __u32 lb_hash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	a += LB_FLOW_HASH_INITVAL + (3 << 2) + initval;
	b += LB_FLOW_HASH_INITVAL + (3 << 2) + initval;
	c += LB_FLOW_HASH_INITVAL + (3 << 2) + initval;
	c ^= b; c -= lb_rol32(b, 14);
	a ^= c; a -= lb_rol32(c, 11);
	b ^= a; b -= lb_rol32(a, 25);
	c ^= b; c -= lb_rol32(b, 16);
	a ^= c; a -= lb_rol32(c, 4);
	b ^= a; b -= lb_rol32(a, 14);
	c ^= b; c -= lb_rol32(b, 24);
	return c;
}

/* Hash of a flow key; the protocol is the seed so TCP and UDP differ. */
static inline __u32 lb_flow_hash(const struct lb_flow_key *flow)
{
	__u32 ports = ((__u32)flow->sport << 16) | flow->dport;

	return lb_hash_3words(flow->src, flow->dst, ports, flow->proto);
}

/* An IPv6 address (4-byte aligned) folded to one word: its four words, read
 * in host order as IPv4's one word is, through lookup3's mix. The flow hash's
 * and the Maglev table's (a backend's identity) alike.
 */
static inline __u32 lb_addr6_hash(const __u8 *addr)
{
	const __u32 *w = (const __u32 *)addr;

	return lb_hash_3words(w[0], w[1], w[2], w[3]);
}

/* Hash of an IPv6 flow key: each address folded to one word by the same mix
 * (its four words read in host order, as IPv4's one word is), then mixed with
 * the ports and the protocol as IPv4's key is. A function of the 5-tuple only,
 * so every balancer (and a test) computes the same value.
 */
static inline __u32 lb_flow_hash6(const struct lb_flow6_key *flow)
{
	__u32 ports = ((__u32)flow->sport << 16) | flow->dport;

	return lb_hash_3words(lb_addr6_hash(flow->src), lb_addr6_hash(flow->dst), ports,
			      flow->proto);
}

/* The flow hash of a packet: its family's key. */
static inline __u32 lb_ctx_flow_hash(const struct lb_packet_ctx *ctx)
{
	if (ctx->flags & LB_CTX_F_IPV6)
		return lb_flow_hash6(&ctx->flow6);
	return lb_flow_hash(&ctx->flow);
}

/* Seed of the candidate positions, apart from the flow hash's own. */
#define LB_SAMPLE_SEED 0x5a17e5edU

/* The @i-th candidate position of a flow in a pool of @count (> 0) backends:
 * spread like random picks, but the same for the same flow, so tests (and a
 * second balancer) can tell which backends a new flow looked at.
 */
static inline __u32 lb_sample_index(__u32 flow_hash, __u32 i, __u32 count)
{
	return lb_hash_3words(flow_hash, i, count, LB_SAMPLE_SEED) % count;
}

#endif /* LB_FLOW_HASH_COMMON_H */
