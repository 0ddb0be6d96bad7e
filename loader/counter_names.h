/* SPDX-License-Identifier: GPL-2.0 */
/* Names of the stage counters (lb_counters_common.h), for output and tests. */
#ifndef LB_COUNTER_NAMES_H
#define LB_COUNTER_NAMES_H

#include "lb_counters_common.h"

/* "parse", "lb" or "encap"; NULL for an id out of range. */
const char *lb_counter_stage(unsigned int id);
/* The reason, e.g. "pass_not_vip"; NULL for an id out of range. */
const char *lb_counter_reason(unsigned int id);
/* The counter (enum lb_counter) of per-VIP drop @vip_drop (enum lb_vip_drop);
 * LB_COUNTER_MAX for one out of range.
 */
unsigned int lb_vip_drop_counter(unsigned int vip_drop);

#endif /* LB_COUNTER_NAMES_H */
