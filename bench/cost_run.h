/* SPDX-License-Identifier: GPL-2.0 */
/* Per-packet cost of one XDP program under BPF_PROG_TEST_RUN, timed next to
 * the floor program in the same run.
 *
 * Every call runs one frame once (repeat = 1) and keeps the duration the
 * kernel reports for it. repeat > 1 would time the program on its own output:
 * a stage that pushes an outer header would see, from the second repetition
 * on, the frame it already encapsulated. The calls of a case alternate, batch
 * by batch, with calls of the floor program on the same frame, so that both
 * see the same machine: a ratio of two figures measured minutes apart on a
 * shared machine means little.
 */
#ifndef BENCH_COST_RUN_H
#define BENCH_COST_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

/* Summary of the durations of many calls, in nanoseconds. */
struct cost_stats {
	size_t calls;
	double mean;         /* all calls */
	double trimmed_mean; /* without the slowest 1%: interrupts, softirqs */
	double median;
	double p99;
};

/* What a case runs, and what every call of it must return. */
struct cost_case {
	const char *name;     /* JSON key, e.g. "pipeline_new" */
	int prog_fd;
	const uint8_t *frame; /* what every call starts from; the floor runs it too */
	size_t frame_len;
	__u32 verdict;
	/* Before call @i, not timed: may rewrite @frame (a copy of ->frame)
	 * or per-CPU state. NULL: every call sends ->frame as it is.
	 */
	int (*before_call)(void *arg, size_t i, uint8_t *frame);
	/* After each batch, calls @first .. @first + @count - 1, not timed. */
	int (*after_batch)(void *arg, size_t first, size_t count);
	void *arg;
};

struct cost_result {
	struct cost_stats stats;
	struct cost_stats floor; /* the floor's calls interleaved with this case */
	double ratio;            /* stats.trimmed_mean / floor.trimmed_mean */
};

/* Runs @frame once through @prog_fd as if it arrived on @ifindex. Returns 0
 * with the verdict and the kernel's duration, or -errno.
 */
int cost_call(int prog_fd, const uint8_t *frame, size_t len, int ifindex, __u32 *verdict,
	      __u32 *duration_ns);

/* @calls calls of @c and as many of @floor_fd, in @rounds alternating batches.
 * Returns 0, or -errno with a message in @err (a call failed, or returned
 * another verdict than the case's).
 */
int cost_measure(const struct cost_case *c, int floor_fd, int ifindex, size_t calls,
		 size_t rounds, struct cost_result *res, char *err, size_t err_len);

#endif /* BENCH_COST_RUN_H */
