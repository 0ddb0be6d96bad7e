// SPDX-License-Identifier: GPL-2.0
/* lb stage, least-packets-per-flow policy (the original project's least-loaded):
 * keeps a flow on its backend; a new flow goes to the UP backend with the lowest
 * packets / flows since it was set up (bpf/include/least_loaded.bpf.h).
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

#include "flow_table.bpf.h"
#include "least_loaded.bpf.h"

SEC("xdp")
int xdp_lb_lppf(struct xdp_md *xdp)
{
	struct lb_sched s;
	int action = lb_sched_begin(xdp, &s);
	__u32 backend_id;

	if (action != LB_CONTINUE)
		return action;
	backend_id = lb_least_loaded_pick(s.pool, s.ctx->vip_id, s.ctx, s.now,
					  LB_METRIC_PACKETS_PER_FLOW);
	return lb_sched_place(xdp, &s, backend_id, 0);
}

char LICENSE[] SEC("license") = "GPL";
