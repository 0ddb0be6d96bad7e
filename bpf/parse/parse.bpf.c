// SPDX-License-Identifier: GPL-2.0
/* placeholder while the stage is written */
#include "stage.bpf.h"
SEC("xdp")
int xdp_lb_parse(struct xdp_md *ctx)
{
	return lb_next_stage(ctx, LB_SLOT_LB, LB_C_PARSE_PASS_NO_LB_STAGE);
}
char LICENSE[] SEC("license") = "GPL";
