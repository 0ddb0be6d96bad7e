// SPDX-License-Identifier: GPL-2.0
/* Timed repeat=1 test runs and their statistics; see cost_run.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "cost_run.h"
#include "packet.h"
#include "xdp_test_run.h"

int cost_call(int prog_fd, const uint8_t *frame, size_t len, int ifindex, __u32 *verdict,
	      __u32 *duration_ns)
{
	struct xdp_md ctx_in = { .data_end = (__u32)len, .ingress_ifindex = (__u32)ifindex };
	/* No data_out: the copy back to userspace is not part of the run, and
	 * leaving it out keeps each call short.
	 */
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	*verdict = opts.retval;
	*duration_ns = opts.duration;
	return 0;
}

static int compare_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @ns in place. */
static void stats_compute(__u32 *ns, size_t n, struct cost_stats *st)
{
	size_t kept = n - n / 100, i;
	double all = 0, trimmed = 0;

	memset(st, 0, sizeof(*st));
	if (!n)
		return;
	qsort(ns, n, sizeof(*ns), compare_u32);
	for (i = 0; i < n; i++) {
		all += ns[i];
		if (i < kept)
			trimmed += ns[i];
	}
	st->calls = n;
	st->mean = all / (double)n;
	st->trimmed_mean = trimmed / (double)kept;
	st->median = ns[n / 2];
	st->p99 = ns[n * 99 / 100];
}

/* One batch of calls @first .. @first + @count - 1 of @c (or, @floor_fd >= 0,
 * of the floor on @c's frame), durations into @ns.
 */
static int run_batch(const struct cost_case *c, int floor_fd, int ifindex, size_t first,
		     size_t count, __u32 *ns, char *err, size_t err_len)
{
	static uint8_t frame[PKT_MAX];
	int prog_fd = floor_fd >= 0 ? floor_fd : c->prog_fd;
	__u32 want = floor_fd >= 0 ? XDP_TX : c->verdict, verdict;
	size_t i;
	int rc;

	if (c->frame_len > sizeof(frame))
		return -EMSGSIZE;
	memcpy(frame, c->frame, c->frame_len);
	for (i = first; i < first + count; i++) {
		if (floor_fd < 0 && c->before_call) {
			rc = c->before_call(c->arg, i, frame);
			if (rc) {
				snprintf(err, err_len, "%s: preparing call %zu: %s", c->name, i,
					 strerror(-rc));
				return rc;
			}
		}
		rc = cost_call(prog_fd, frame, c->frame_len, ifindex, &verdict, &ns[i]);
		if (rc) {
			snprintf(err, err_len, "%s: test run %zu: %s", c->name, i, strerror(-rc));
			return rc;
		}
		/* A wrong verdict means another path than the one named was
		 * timed (a drop, a pass to the stack): the figure would lie.
		 */
		if (verdict != want) {
			snprintf(err, err_len, "%s%s: call %zu returned %s, expected %s", c->name,
				 floor_fd >= 0 ? " (floor)" : "", i, xdp_verdict_name(verdict),
				 xdp_verdict_name(want));
			return -EPROTO;
		}
	}
	return 0;
}

int cost_measure(const struct cost_case *c, int floor_fd, int ifindex, size_t calls,
		 size_t rounds, struct cost_result *res, char *err, size_t err_len)
{
	__u32 *case_ns = calloc(calls, sizeof(*case_ns));
	__u32 *floor_ns = calloc(calls, sizeof(*floor_ns));
	size_t round, first = 0, count;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (!case_ns || !floor_ns) {
		rc = -ENOMEM;
		snprintf(err, err_len, "%s: %s", c->name, strerror(ENOMEM));
	}
	for (round = 0; !rc && round < rounds; round++, first += count) {
		count = calls / rounds + (round < calls % rounds);
		rc = run_batch(c, floor_fd, ifindex, first, count, floor_ns, err, err_len);
		if (!rc)
			rc = run_batch(c, -1, ifindex, first, count, case_ns, err, err_len);
		if (!rc && c->after_batch) {
			rc = c->after_batch(c->arg, first, count);
			if (rc)
				snprintf(err, err_len, "%s: after batch %zu: %s", c->name, round,
					 strerror(-rc));
		}
	}
	if (!rc) {
		stats_compute(case_ns, calls, &res->stats);
		stats_compute(floor_ns, calls, &res->floor);
		res->ratio = res->floor.trimmed_mean > 0
				     ? res->stats.trimmed_mean / res->floor.trimmed_mean
				     : 0;
	}
	free(case_ns);
	free(floor_ns);
	return rc;
}
