/* SPDX-License-Identifier: GPL-2.0 */
/* The least-loaded family's choice: the UP backend with the lowest load among a
 * new flow's candidates, the load read from backend_load summed over the CPUs.
 * Two metrics, one policy stage each: least-loaded (recent packets per unit of
 * weight) and least-packets-per-flow (the original project's packets / flows).
 */
#ifndef LB_LEAST_LOADED_BPF_H
#define LB_LEAST_LOADED_BPF_H

#include <stdbool.h>

#include "flow_hash_common.h"
#include "pick.bpf.h"
#include "stage.bpf.h"

/* What a backend's load is (struct lb_scan.metric). */
enum lb_load_metric {
	/* least-loaded: packets of the current and the previous load window
	 * (LB_LOAD_WINDOW_SHIFT) per unit of weight.
	 */
	LB_METRIC_RECENT_PACKETS,
	/* least-packets-per-flow: packets / flows since the backend was set up. */
	LB_METRIC_PACKETS_PER_FLOW,
};

/* backend_load's per-CPU values are summed over lb_tunables.possible_cpus
 * CPUs: unrolled up to this many (no callback per CPU), through bpf_loop
 * beyond. Unknown (0, as in unit tests that set no tunables): bpf_loop up to
 * the first CPU the kernel has no value for, at most LB_LOAD_MAX_CPUS.
 */
#define LB_LOAD_UNROLLED_CPUS 8 /* as many as LB_LOAD_ADD_IF lines below */
#define LB_LOAD_MAX_CPUS 8192

/* A fraction num / den compared by cross-multiplication, never divided: a
 * 64-bit division costs tens of cycles per candidate, and a fixed-point
 * quotient rounds loads that differ apart into a tie. den 0 is "infinite",
 * the start of a scan: any real figure (den >= 1) compares below it.
 */
struct lb_fraction {
	__u64 num, den;
};

/* a * b as 128 bits (hi, lo), from 32-bit halves: BPF has no 128-bit multiply. */
struct lb_u128 {
	__u64 hi, lo;
};

static __always_inline struct lb_u128 lb_mul_64(__u64 a, __u64 b)
{
	__u64 a_lo = (__u32)a, a_hi = a >> 32, b_lo = (__u32)b, b_hi = b >> 32;
	__u64 lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi;
	/* At most 3 * (2^32 - 1) + (2^32 - 1)^2 < 2^64: no carry is lost. */
	__u64 cross = (lo_lo >> 32) + (__u32)hi_lo + lo_hi;
	struct lb_u128 r = {
		.hi = a_hi * b_hi + (hi_lo >> 32) + (cross >> 32),
		.lo = (cross << 32) | (__u32)lo_lo,
	};

	return r;
}

/* -1, 0 or 1 as @x is below, equal to or above @y (exactly, whatever the sizes). */
static __always_inline int lb_fraction_cmp(struct lb_fraction x, struct lb_fraction y)
{
	struct lb_u128 left, right;

	/* All four below 2^32 (fewer than 4 billion packets per backend): the
	 * products fit in 64 bits, one multiply each.
	 */
	if (!((x.num | x.den | y.num | y.den) >> 32)) {
		__u64 l = x.num * y.den, r = y.num * x.den;

		return l < r ? -1 : l > r;
	}
	left = lb_mul_64(x.num, y.den);
	right = lb_mul_64(y.num, x.den);

	if (left.hi != right.hi)
		return left.hi < right.hi ? -1 : 1;
	if (left.lo != right.lo)
		return left.lo < right.lo ? -1 : 1;
	return 0;
}

/* The state of one least-loaded scan: numbers only, since
 * lb_least_loaded_scan() takes it as a global function's argument (to the
 * verifier the memory behind such an argument holds nothing it knows).
 */
struct lb_scan {
	__u64 window; /* the load window of the packet's time */
	__u32 vip_id;
	__u32 this_cpu;
	__u32 metric; /* enum lb_load_metric */
	__u32 best_id; /* LB_NO_BACKEND until an UP backend is seen */
	struct lb_fraction best_load;
	struct lb_fraction best_share; /* flows per unit of weight */
};

/* What the full scan's bpf_loop callback needs: the pool and the scan. */
struct lb_scan_pool {
	struct lb_pool *pool;
	struct lb_scan scan;
};

/* Where a scan starts: any real backend compares below it. On purpose there is
 * no "best_id == LB_NO_BACKEND" test in the callback: a verifier that walks
 * the callback once, with the caller's initial stack (older kernels did), sees
 * that test as always true and removes the load comparisons as dead code.
 */
#define LB_SCAN_START ((struct lb_fraction){ .num = 1, .den = 0 })

/* One backend's backend_load summed over the CPUs, through bpf_loop. */
struct lb_load_sum {
	__u32 id;
	__u32 this_cpu; /* read with a plain lookup, which newer kernels inline */
	__u64 window;   /* the current load window */
	__u64 packets, flows;
	__u64 recent; /* packets of the current and the previous window */
};

/* One CPU's recent packets: @current and @previous are its window_packets and
 * prev_window_packets, @age how many windows ago its window was. A CPU's
 * figures are of the window it last counted in: the current one (both count),
 * the previous one (its window_packets are the previous window's), or older
 * (nothing recent).
 *
 * A global function on purpose: the verifier checks it once, on its own, and
 * the caller sees one unknown number. Inlined, its branches multiplied the
 * paths of the scan per CPU and candidate (measured on 6.18, instructions
 * processed for xdp_lb_lload: 300k instead of 162k before the windows with 8
 * CPUs unrolled; 143k this way). Arguments are plain numbers, which every
 * kernel with global functions (5.6) takes.
 */
__noinline __u64 lb_window_packets(__u64 current, __u64 previous, __u64 age)
{
	if (age > 1)
		return 0;
	return age ? current : current + previous;
}

/* Adds @cpu's share to @sum. 1 past the last possible CPU, else 0. Other
 * CPUs' shares take a helper call each, this CPU's share a plain lookup.
 */
static __always_inline long lb_load_add(__u32 cpu, struct lb_load_sum *sum)
{
	struct lb_backend_load *load;

	if (cpu == sum->this_cpu)
		load = bpf_map_lookup_elem(&backend_load, &sum->id);
	else
		load = bpf_map_lookup_percpu_elem(&backend_load, &sum->id, cpu);
	if (!load)
		return 1;
	sum->packets += load->packets;
	sum->flows += load->flows;
	/* Read without a lock while that CPU may move its window on: a torn
	 * read misjudges one choice.
	 */
	sum->recent += lb_window_packets(load->window_packets, load->prev_window_packets,
					 sum->window - load->window);
	return 0;
}

static long lb_load_add_cpu(__u32 cpu, void *data)
{
	return lb_load_add(cpu, data);
}

/* CPU @n's share, written out once per CPU: compilers do not always unroll a
 * loop here (clang 14 left one in the bpf_loop callback, which 6.1's verifier
 * refuses as a back-edge; clang 19 refused to unroll it at all).
 */
#define LB_LOAD_ADD_IF(n)                                                                \
	if ((n) < cpus)                                                                  \
		lb_load_add((n), sum);

/* @sum->id's backend_load over every CPU. */
static __always_inline void lb_load_sum(struct lb_load_sum *sum)
{
	__u32 cpus = lb_tunables.possible_cpus;

	/* possible_cpus is a load-time constant: the verifier keeps one branch,
	 * and of the unrolled one only the CPUs there are.
	 */
	if (cpus && cpus <= LB_LOAD_UNROLLED_CPUS) {
		LB_LOAD_ADD_IF(0) LB_LOAD_ADD_IF(1) LB_LOAD_ADD_IF(2) LB_LOAD_ADD_IF(3)
		LB_LOAD_ADD_IF(4) LB_LOAD_ADD_IF(5) LB_LOAD_ADD_IF(6) LB_LOAD_ADD_IF(7)
		return;
	}
	bpf_loop(cpus ? cpus : LB_LOAD_MAX_CPUS, lb_load_add_cpu, sum, 0);
}

/* Weighs backend @id against the best candidate so far. Returns 0. */
static __always_inline int lb_consider(struct lb_scan *scan, __u32 id)
{
	struct lb_load_sum sum = { .id = id };
	struct lb_backend *backend;
	struct lb_fraction load, share;
	int order;

	if (id >= LB_MAX_BACKENDS)
		return 0;
	sum.this_cpu = scan->this_cpu;
	sum.window = scan->window;
	backend = bpf_map_lookup_elem(&backends, &id);
	if (!backend || backend->state != LB_BACKEND_UP || backend->vip_id != scan->vip_id)
		return 0;
	lb_load_sum(&sum);
	share.num = sum.flows;
	share.den = backend->weight ? backend->weight : 1;
	if (scan->metric == LB_METRIC_RECENT_PACKETS) {
		/* Traffic of the last one to two seconds per unit of weight. A
		 * new flow adds its first packet at once, so a burst of new
		 * flows spreads instead of following one backend's figure.
		 */
		load.num = sum.recent;
		load.den = share.den;
	} else {
		/* The original project's load: packets per flow, not weighted
		 * (0 for a backend without flows). It is an average flow size,
		 * so dividing it by a weight would make the heaviest backend
		 * look least loaded for ever and take every new flow.
		 */
		load.num = sum.flows ? sum.packets : 0;
		load.den = sum.flows ? sum.flows : 1;
	}
	/* Ties go to the backend with the fewest flows per unit of weight: when
	 * flows are alike every backend has the same load, and this spreads new
	 * flows in proportion to the weights (evenly at equal weights).
	 * Remaining ties keep the earlier candidate (strict <): deterministic.
	 */
	order = lb_fraction_cmp(load, scan->best_load);
	if (order < 0 || (order == 0 && lb_fraction_cmp(share, scan->best_share) < 0)) {
		scan->best_id = id;
		scan->best_load = load;
		scan->best_share = share;
	}
	return 0;
}

/* bpf_loop callback of the full scan: pool entry @index. */
static long lb_scan_one(__u32 index, void *data)
{
	struct lb_scan_pool *all = data;

	/* bpf_loop gives no bound on index; the verifier needs one here. */
	if (index >= LB_MAX_BACKENDS_PER_VIP)
		return 1;
	lb_consider(&all->scan, all->pool->backend_ids[index]);
	return 0;
}

/* The scan of lb_least_loaded_pick() from @scan's start, @flow_hash choosing
 * the candidates of a large @pool: the best backend id, or LB_NO_BACKEND.
 *
 * A global function on purpose, like lb_window_packets(): the verifier checks
 * it once, on its own, and the stage sees one call returning a number.
 * Inlined, the candidates' summing and comparisons were walked again in every
 * state the stage reaches the scan in (a new, expired or orphaned flow, each
 * family): 356k instructions processed for xdp_lb_lppf on 6.18 with clang 14
 * once flows had two families, and Debian unstable's kernel (7.2) refused it
 * at the 1M limit built by clang 21. This way 131k. (lb_consider() as the
 * global function instead costs the verifier less, 8k, but a call per
 * candidate: a new flow measured some 30 ns slower; this one call, ~5 ns.)
 * The arguments may be NULL to the verifier, hence the test.
 */
__noinline __u32 lb_least_loaded_scan(struct lb_pool *pool, struct lb_scan *scan, __u32 flow_hash)
{
	struct lb_scan_pool all;
	__u32 count, i, pos;

	if (!pool || !scan)
		return LB_NO_BACKEND;
	all.pool = pool;
	all.scan = *scan;
	count = lb_pool_count(pool);
#pragma unroll
	for (i = 0; i < LB_LEAST_LOADED_CANDIDATES; i++) {
		if (!lb_candidate(i, count, flow_hash, &pos))
			break;
		lb_consider(&all.scan, pool->backend_ids[pos]);
	}
	if (all.scan.best_id == LB_NO_BACKEND && count > LB_LEAST_LOADED_CANDIDATES)
		bpf_loop(count, lb_scan_one, &all, 0);
	return all.scan.best_id;
}

/* The least-loaded UP backend of @pool owned by @vip_id among the flow's
 * candidates by @metric at @now, or LB_NO_BACKEND. A pool of up to LB_LEAST_LOADED_CANDIDATES is
 * scanned whole: exactly least-loaded. A larger pool is judged on that many
 * positions picked from the flow's hash (the "power of d choices": with d = 8 the
 * busiest backend stays within a few flows of the mean), so a new flow costs
 * the same whatever the pool's size. Only when no candidate is UP is the whole
 * pool scanned (bpf_loop: 1024 iterations walked one by one would exceed the
 * verifier's budget), so a flow is dropped only when no backend at all is UP.
 */
static __always_inline __u32 lb_least_loaded_pick(struct lb_pool *pool, __u32 vip_id,
						   const struct lb_packet_ctx *ctx, __u64 now,
						   enum lb_load_metric metric)
{
	struct lb_scan scan = {
		.window = now >> LB_LOAD_WINDOW_SHIFT,
		.vip_id = vip_id,
		.this_cpu = bpf_get_smp_processor_id(),
		.metric = metric,
		.best_id = LB_NO_BACKEND,
		.best_load = LB_SCAN_START,
		.best_share = LB_SCAN_START,
	};
	__u32 flow_hash = 0;

	if (lb_pool_count(pool) > LB_LEAST_LOADED_CANDIDATES)
		flow_hash = lb_ctx_flow_hash(ctx);
	return lb_least_loaded_scan(pool, &scan, flow_hash);
}

#endif /* LB_LEAST_LOADED_BPF_H */
