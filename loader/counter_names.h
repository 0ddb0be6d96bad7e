/* SPDX-License-Identifier: GPL-2.0 */
/* Names of the stage counters (lb_counters_common.h), for output and tests. */
#ifndef LB_COUNTER_NAMES_H
#define LB_COUNTER_NAMES_H

#include "lb_counters_common.h"

/* "parse", "lb" or "encap"; NULL for an id out of range. */
const char *lb_counter_stage(unsigned int id);
/* The reason, e.g. "pass_not_vip"; NULL for an id out of range. */
const char *lb_counter_reason(unsigned int id);

#endif /* LB_COUNTER_NAMES_H */
