// SPDX-License-Identifier: GPL-2.0
/* lb stage, Maglev policy: a new flow's backend comes from the VIP's lookup table. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flow_hash_common.h"
#include "flow_table.bpf.h"
#include "pick.bpf.h"

/* The table (loader/maglev.c) maps hash positions to backends so that every
 * backend owns about its weighted share of positions and a backend's removal
 * moves little else: balancers with the same config agree on new flows, and
 * agree again after a backend goes. Established flows still stay in the flow
 * table, so they survive backend changes that move their table positions.
 */
static __always_inline __u32 maglev_pick(struct lb_sched *s, struct lb_maglev_table *table)
{
	__u32 hash = lb_ctx_flow_hash(s->ctx), index, id;

	index = hash % table->size;
	/* index < size <= LB_MAGLEV_MAX_SIZE, which the compiler knows and the
	 * verifier does not: hide the value so the check stays in.
	 */
	barrier_var(index);
	if (index >= LB_MAGLEV_MAX_SIZE)
		return LB_NO_BACKEND;
	id = table->backend_ids[index];
	if (lb_backend_takes_new(id, s->ctx->vip_id))
		return id;
	/* A table out of step with the backends (cannot happen through the
	 * loader, which writes both before the VIP switches): any UP backend.
	 */
	return lb_first_up_from(s->pool, s->ctx->vip_id, hash);
}

SEC("xdp")
int xdp_lb_maglev(struct xdp_md *xdp)
{
	struct lb_maglev_table *table;
	struct lb_sched s;
	int action = lb_sched_begin(xdp, &s);
	__u32 table_id;

	if (action != LB_CONTINUE)
		return action;
	table_id = s.ctx->maglev_table;
	table = bpf_map_lookup_elem(&maglev_tables, &table_id);
	/* A Maglev VIP without a table is a loader bug: pass, counted, not drop. */
	if (!table || !table->size || table->size > LB_MAGLEV_MAX_SIZE) {
		lb_count(LB_C_LB_PASS_NO_TABLE);
		return XDP_PASS;
	}
	return lb_sched_place(xdp, &s, maglev_pick(&s, table), 0);
}

char LICENSE[] SEC("license") = "GPL";
