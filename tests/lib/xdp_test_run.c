// SPDX-License-Identifier: GPL-2.0
/* BPF_PROG_TEST_RUN wrapper and counter checks; see xdp_test_run.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "counter_names.h"
#include "test_harness.h"
#include "xdp_test_run.h"

void xdp_run(int prog_fd, const void *in, size_t in_len, int ingress_ifindex,
	     struct xdp_result *res)
{
	struct xdp_md ctx_in = {
		.data_end = (uint32_t)in_len,
		.ingress_ifindex = (uint32_t)ingress_ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)in_len,
		    .data_out = res->out, .data_size_out = sizeof(res->out), .repeat = 1);

	if (ingress_ifindex) {
		opts.ctx_in = &ctx_in;
		opts.ctx_size_in = sizeof(ctx_in);
	}
	memset(res->out, 0, sizeof(res->out));
	res->err = bpf_prog_test_run_opts(prog_fd, &opts) ? -errno : 0;
	res->verdict = opts.retval;
	res->out_len = opts.data_size_out;
}

void counters_read(int counters_fd, uint64_t out[LB_COUNTER_MAX])
{
	int cpus = libbpf_num_possible_cpus();
	uint64_t *percpu = calloc((size_t)cpus, sizeof(*percpu));
	uint32_t id;
	int cpu;

	for (id = 0; id < LB_COUNTER_MAX; id++) {
		out[id] = 0;
		if (!percpu || bpf_map_lookup_elem(counters_fd, &id, percpu))
			continue;
		for (cpu = 0; cpu < cpus; cpu++)
			out[id] += percpu[cpu];
	}
	free(percpu);
}

int counters_expect(const uint64_t before[LB_COUNTER_MAX], const uint64_t after[LB_COUNTER_MAX],
		    const struct counter_delta *expected, size_t count, const char *what)
{
	int ok = 1;
	uint32_t id;
	size_t i;

	for (id = 0; id < LB_COUNTER_MAX; id++) {
		uint64_t want = 0, got = after[id] - before[id];

		for (i = 0; i < count; i++)
			if (expected[i].id == id)
				want = expected[i].delta;
		if (got != want) {
			test_fail(__FILE__, __LINE__, "%s: counter %s.%s moved by %llu, expected %llu",
				  what, lb_counter_stage(id), lb_counter_reason(id),
				  (unsigned long long)got, (unsigned long long)want);
			ok = 0;
		}
	}
	return ok;
}

const char *xdp_verdict_name(uint32_t verdict)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };

	return verdict < sizeof(names) / sizeof(names[0]) ? names[verdict] : "XDP_?";
}
