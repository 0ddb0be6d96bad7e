/* SPDX-License-Identifier: GPL-2.0 */
/* A small seeded random source: every frame of a run is drawn from its own
 * stream, derived from (seed, class, index), so one frame can be rebuilt alone
 * from the numbers a failure prints, without replaying the frames before it.
 */
#ifndef FUZZ_RNG_H
#define FUZZ_RNG_H

#include <stdbool.h>
#include <stdint.h>

struct rng {
	uint64_t state;
};

/* splitmix64: one multiply-xorshift step per draw; full period, and good
 * enough mixing that neighbouring seeds give unrelated streams.
 */
static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The stream of frame @index of generator @class in the run @seed. */
static inline struct rng rng_for(uint64_t seed, uint32_t class, uint64_t index)
{
	struct rng r = { seed };

	r.state = rng_next(&r) ^ ((uint64_t)class << 56) ^ index;
	rng_next(&r);
	return r;
}

/* Uniform in [0, n); n > 0. The modulo bias is below 2^-32 for the small n used here. */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

/* Uniform in [lo, hi]. */
static inline uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

/* True once in @n draws on average. */
static inline bool rng_one_in(struct rng *r, uint32_t n)
{
	return rng_below(r, n) == 0;
}

static inline uint8_t rng_byte(struct rng *r)
{
	return (uint8_t)rng_next(r);
}

#endif /* FUZZ_RNG_H */
