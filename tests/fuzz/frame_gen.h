/* SPDX-License-Identifier: GPL-2.0 */
/* Frame generators of the packet fuzzer: random bytes, valid frames aimed at
 * the VIPs, and mutations of those (truncation, IPv4 header fields, fragments,
 * VLAN stacks, IPv6, UDP lengths, TCP data offsets, byte flips).
 *
 * A generator draws everything from the stream it is given, so a frame is a
 * function of (seed, class, index) alone; see fuzz_rng.h.
 */
#ifndef FUZZ_FRAME_GEN_H
#define FUZZ_FRAME_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz_rng.h"

/* The largest frame BPF_PROG_TEST_RUN hands an XDP program in one piece: a
 * page less the 256-byte headroom and the 320-byte skb_shared_info tailroom.
 * Longer input goes into fragments, which a non-frags program never sees.
 */
#define FRAME_MAX 3520
/* Shorter input is refused by BPF_PROG_TEST_RUN (EINVAL) before any program runs. */
#define FRAME_MIN 14

struct frame {
	uint8_t data[FRAME_MAX];
	size_t len;
};

/* A VIP the generators aim at; port 0 is the wildcard (any port). */
struct gen_target {
	uint32_t addr; /* network byte order */
	uint16_t port; /* host byte order */
	uint8_t proto; /* IPPROTO_UDP or IPPROTO_TCP */
};

/* What a generator call knows besides its random stream. */
struct gen_call {
	uint64_t seed;  /* of the run: some generators derive a shared base frame */
	uint32_t class; /* index into frame_classes */
	uint64_t index; /* of the frame within its class */
};

struct frame_class {
	const char *name;
	void (*generate)(struct rng *r, const struct gen_call *call, struct frame *f);
};

extern const struct frame_class frame_classes[];
extern const size_t frame_class_count;

/* Whether @class runs with the gue stage in the encap slot, not ipip. */
bool frame_class_gue(uint32_t class);

/* The VIPs to aim at; the table is copied. At most GEN_MAX_TARGETS. */
#define GEN_MAX_TARGETS 16
void gen_set_targets(const struct gen_target *targets, size_t count);

/* An IPv6 VIP the class ipv6-vip aims at; port 0 is the wildcard. */
struct gen_target6 {
	uint8_t addr6[16];
	uint16_t port; /* host byte order */
	uint8_t proto; /* IPPROTO_UDP or IPPROTO_TCP */
};

/* The IPv6 VIPs to aim at; the table is copied. At most GEN_MAX_TARGETS. */
void gen_set_targets6(const struct gen_target6 *targets, size_t count);

/* IPv6 NAT mappings as their replies' 5-tuples (backend -> nat_source6), which
 * the fuzzer installs in nat_reply6 and the class nat6-reply answers; ports in
 * host byte order. The last one's backend is link-local: a martian source.
 */
struct gen_nat6 {
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t proto;
};

extern const struct gen_nat6 gen_nat6_replies[];
extern const size_t gen_nat6_reply_count;

/* Builds frame @index of class @class of the run @seed into @f. */
void gen_frame(uint64_t seed, uint32_t class, uint64_t index, struct frame *f);

#endif /* FUZZ_FRAME_GEN_H */
