// SPDX-License-Identifier: GPL-2.0
/* lb stage, least-loaded policy: keeps a flow on its backend; a new flow goes to
 * the UP backend with the fewest packets in the last two load windows per unit
 * of weight (bpf/include/least_loaded.bpf.h).
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

#include "flow_table.bpf.h"
#include "least_loaded.bpf.h"

SEC("xdp")
int xdp_lb_lload(struct xdp_md *xdp)
{
	struct lb_sched s;
	int action = lb_sched_begin(xdp, &s);
	__u32 backend_id;

	if (action != LB_CONTINUE)
		return action;
	backend_id = lb_least_loaded_pick(s.pool, s.ctx->vip_id, s.ctx, s.now,
					  LB_METRIC_RECENT_PACKETS);
	return lb_sched_place(xdp, &s, backend_id, 0);
}

char LICENSE[] SEC("license") = "GPL";
