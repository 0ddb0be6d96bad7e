/* SPDX-License-Identifier: GPL-2.0 */
/* The real pipeline, loaded for test runs the way lb-load loads it: parse
 * creates the shared maps, every stage of the library is loaded against them
 * (lb_stages_install), and a config is applied (lb_apply_config). Only the
 * attachment differs: parse is not attached to an interface but run directly,
 * as the plain XDP program it is in libxdp's single-program mode.
 *
 * The test runs arrive on bench0 in a network namespace of the process's own:
 *
 *   bench0 10.0.0.10/16 (forwarding on) -- bench1
 *   gateway 10.0.0.2 -> 02:00:00:00:00:02 (permanent neighbour)
 *   route 10.1.0.0/16 via 10.0.0.2: every backend, so encap's FIB lookup
 *   succeeds and the frame leaves with XDP_TX
 */
#ifndef BENCH_COST_PIPELINE_H
#define BENCH_COST_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "config.h"
#include "pipeline.h"

struct parse_bpf;

/* The VIP every benchmark frame is sent to: 10.0.0.100, UDP port 80. */
#define BENCH_VIP "10.0.0.100"
#define BENCH_VIP_PORT 80
/* The next hop toward the backends (a permanent neighbour on bench0); also
 * the static MAC of prog_cost -m.
 */
#define BENCH_NEXT_HOP_MAC "02:00:00:00:00:02"

struct bench_pipeline {
	struct lb_maps maps;
	struct parse_bpf *parse;
	struct lb_stages stages;
	struct lb_config cfg;
	int parse_fd, lb_fd, encap_fd;
	struct bpf_object *lb_obj;    /* for a sink in the slot after lb */
	struct bpf_object *parse_obj; /* for a sink in the slot after parse */
	size_t backend_count;
	__u32 lb_slot;  /* the policy's slot: parse tail-calls it */
	bool stateless; /* the policy stores no flow (hash): counts lb.stateless */
};

/* Moves the process into a new network namespace and builds the network
 * above. Returns bench0's ifindex, or -errno with a message in @err.
 */
int bench_net_setup(char *err, size_t err_len);

/* Loads the pipeline with the lb stage named @lb_stage (as the config's
 * `policy:` names it: "least-loaded", "maglev", ...; the VIP gets that policy), IPIP encap, one VIP of @backends backends and a flow
 * table of @flow_table_size entries; every backend with the static `mac:`
 * @backend_mac, or none when NULL. 0, or -errno with a message in @err.
 */
int bench_pipeline_load(struct bench_pipeline *p, const char *lb_stage, size_t backends,
			__u32 flow_table_size, const char *backend_mac, char *err,
			size_t err_len);
void bench_pipeline_close(struct bench_pipeline *p);

/* Puts @prog_fd into @slot of the shared prog array (one atomic update). */
int bench_slot_set(const struct bench_pipeline *p, __u32 slot, int prog_fd);

/* Zeroes backend_load and backend_stats of every backend, so that a new-flow
 * case starts from idle backends.
 */
int bench_backend_figures_reset(const struct bench_pipeline *p);

/* New flows per backend since the last reset: the balance quality of the lb
 * stage (max == min is a perfect spread).
 */
struct flow_spread {
	double max, min, mean;
};

int bench_new_flow_spread(const struct bench_pipeline *p, struct flow_spread *spread);

/* The memory the kernel charges for a map (fdinfo "memlock"), or -errno. */
long long bench_map_memlock(int map_fd);

#endif /* BENCH_COST_PIPELINE_H */
