// SPDX-License-Identifier: GPL-2.0
/* Counter names, expanded from the one list in lb_counters_common.h. */
#include "counter_names.h"

#define STAGE_NAME(id, stage, reason) [LB_C_##id] = stage,
#define REASON_NAME(id, stage, reason) [LB_C_##id] = reason,
static const char *const stages[LB_COUNTER_MAX] = { LB_COUNTERS(STAGE_NAME) };
static const char *const reasons[LB_COUNTER_MAX] = { LB_COUNTERS(REASON_NAME) };

#define VIP_DROP_COUNTER(id) [LB_VD_##id] = LB_C_##id,
static const unsigned int vip_drop_counters[LB_VIP_DROP_MAX] = { LB_VIP_DROPS(VIP_DROP_COUNTER) };

unsigned int lb_vip_drop_counter(unsigned int vip_drop)
{
	return vip_drop < LB_VIP_DROP_MAX ? vip_drop_counters[vip_drop] : LB_COUNTER_MAX;
}

const char *lb_counter_stage(unsigned int id)
{
	return id < LB_COUNTER_MAX ? stages[id] : 0;
}

const char *lb_counter_reason(unsigned int id)
{
	return id < LB_COUNTER_MAX ? reasons[id] : 0;
}
