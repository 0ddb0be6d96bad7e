/* SPDX-License-Identifier: GPL-2.0 */
/* The cases prog_cost times on one loaded pipeline: each stage alone (the
 * test sink in the next slot, the per-CPU context filled as the stage before
 * would leave it) and the whole pipeline, on established and on new flows.
 *
 * The flow table is first filled with one packet of each of `occupancy` flows
 * sent through the pipeline, so it holds what lb itself stored. New flows
 * have source addresses of their own and are deleted after each batch, so the
 * table stays at its occupancy. Every case checks that each call returned its
 * verdict and that its counters moved once per call.
 */
#ifndef BENCH_COST_CASES_H
#define BENCH_COST_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "cost_pipeline.h"
#include "cost_run.h"
#include "lb_structs_common.h"

enum bench_case {
	CASE_PARSE,                /* parse, sink in the lb slot */
	CASE_LB_ESTABLISHED,       /* lb on a flow in the table, sink in the encap slot */
	CASE_LB_NEW,               /* lb on a new flow each call */
	CASE_ENCAP,                /* encap (IPIP) of an established flow's packet */
	CASE_PIPELINE_ESTABLISHED, /* parse -> lb -> encap, one flow in the table */
	CASE_PIPELINE_SPREAD,      /* the same, each call another flow of the table */
	CASE_PIPELINE_NEW,         /* the same, a new flow each call */
	CASE_PIPELINE_TWO_CPUS,    /* pipeline, established, the same flow on another CPU at once */
	CASE_COUNT,
};

/* JSON keys of the cases. */
extern const char *const bench_case_names[CASE_COUNT];

/* Everything the cases of one (backends, occupancy) share. */
struct bench_env {
	struct bench_pipeline p;
	int ifindex, floor_fd;
	int cpu, other_cpu;         /* the timed calls' CPU; the second CPU's, -1 if none */
	size_t occupancy;
	size_t calls, rounds;       /* per case; see cost_measure() */
	struct lb_packet_ctx ctx;   /* the established flow's context as a stage left it */
	struct lb_flow_key *keys;   /* room for the new flows of one batch */
};

/* Every frame is 106 bytes: Ethernet, IPv4, UDP and 64 bytes of payload, the
 * size of the reference figures (docs/performance.md).
 */
#define BENCH_PAYLOAD_BYTES 64

/* The frame of flow @source (host order): UDP from 10.x port 40000 to the
 * VIP. Returns its length.
 */
size_t bench_flow_frame(__u32 source, uint8_t *frame);

/* Fills the flow table with env->occupancy flows. 0, or -errno with @err. */
int bench_fill_flow_table(struct bench_env *env, char *err, size_t err_len);

/* Times every case into @res; @spread receives how the pipeline's new flows
 * were spread over the backends. 0, or -errno with @err.
 */
int bench_run_cases(struct bench_env *env, struct cost_result res[CASE_COUNT],
		    struct flow_spread *spread, char *err, size_t err_len);

#endif /* BENCH_COST_CASES_H */
