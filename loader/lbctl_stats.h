/* SPDX-License-Identifier: GPL-2.0 */
/* The figures of `lbctl stats`: a sample of the maps (stats.h) as text or JSON,
 * with rates between two samples.
 */
#ifndef LB_LBCTL_STATS_H
#define LB_LBCTL_STATS_H

#include <stdio.h>

#include "stats.h"

/* Prints @now; with @prev (an earlier sample) also packets/s and Mbit/s. */
void lb_stats_print_text(FILE *out, const char *ifname, const struct lb_stats_sample *now,
			 const struct lb_stats_sample *prev);
/* The same as one JSON object on one line. */
void lb_stats_print_json(FILE *out, const char *ifname, const struct lb_stats_sample *now,
			 const struct lb_stats_sample *prev);

#endif /* LB_LBCTL_STATS_H */
