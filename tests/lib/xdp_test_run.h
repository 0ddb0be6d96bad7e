/* SPDX-License-Identifier: GPL-2.0 */
/* Running frames through one XDP program with BPF_PROG_TEST_RUN, and reading
 * the stage counters around it.
 */
#ifndef TEST_XDP_TEST_RUN_H
#define TEST_XDP_TEST_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "lb_counters_common.h"
#include "packet.h"

struct xdp_result {
	int err;          /* 0, or -errno from bpf_prog_test_run_opts */
	uint32_t verdict; /* the program's return value */
	uint8_t out[PKT_MAX + 256];
	uint32_t out_len;
};

/* Runs @in once (repeat 1) through @prog_fd. @ingress_ifindex 0 leaves the
 * ingress interface at the kernel's default (loopback).
 */
void xdp_run(int prog_fd, const void *in, size_t in_len, int ingress_ifindex,
	     struct xdp_result *res);

/* The stage counters summed over all CPUs. */
void counters_read(int counters_fd, uint64_t out[LB_COUNTER_MAX]);

struct counter_delta {
	enum lb_counter id;
	uint64_t delta;
};

/* Checks that between @before and @after exactly the counters in @expected
 * moved, each by its delta, and that every other counter stayed put; reports
 * each difference by name. Returns 1 when all match.
 */
int counters_expect(const uint64_t before[LB_COUNTER_MAX], const uint64_t after[LB_COUNTER_MAX],
		    const struct counter_delta *expected, size_t count, const char *what);

/* "XDP_PASS" etc. */
const char *xdp_verdict_name(uint32_t verdict);

#endif /* TEST_XDP_TEST_RUN_H */
