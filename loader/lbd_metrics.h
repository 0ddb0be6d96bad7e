/* SPDX-License-Identifier: GPL-2.0 */
/* xdp-lbd's metrics in the Prometheus text format (version 0.0.4, which
 * node_exporter's textfile collector reads too): names start with xdp_lb_,
 * counters end in _total, sizes are bytes, every family has HELP and TYPE
 * lines, and every series has the label interface="IFNAME" so that the
 * files of several balancers can sit side by side. docs/operations.md lists
 * them. Rendering only formats a sample; it reads no map itself.
 */
#ifndef LBD_METRICS_H
#define LBD_METRICS_H

#include <stdio.h>

#include "lbd_source.h"
#include "stats.h"

#define LBD_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What one scrape shows: @sample and @info when @loaded, else only that the
 * interface has no xdp-lb loaded (xdp_lb_loaded 0).
 */
struct lbd_view {
	const char *ifname;
	bool loaded;
	const struct lb_stats_sample *sample;
	const struct lbd_load_info *info;
};

/* Writes the metrics of @view to @out. 0, or -EIO when @out failed. */
int lbd_metrics_write(FILE *out, const struct lbd_view *view);

/* The same into a malloc'ed buffer (*text, *len); 0 or -errno. */
int lbd_metrics_render(const struct lbd_view *view, char **text, size_t *len);

#endif /* LBD_METRICS_H */
