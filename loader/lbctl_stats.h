/* SPDX-License-Identifier: GPL-2.0 */
/* The figures of `lbctl stats`: a sample of the maps, rates between two samples, text, JSON. */
#ifndef LB_LBCTL_STATS_H
#define LB_LBCTL_STATS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "lb_counters_common.h"
#include "lb_structs_common.h"
#include "maps.h"
#include "netdev.h"

/* One backend slot of a VIP's live pool. */
struct lb_stats_backend {
	__u32 id;
	__u32 vip_index;                /* into lb_stats_sample.vips */
	struct lb_backend config;
	struct lb_backend_stats totals; /* summed over CPUs */
	struct lb_backend_load load;
	__u64 active_flows;             /* flow table entries naming this backend */
};

struct lb_stats_vip {
	struct lb_vip_key key;
	__u32 vip_id;
	__u32 first_backend; /* its backends: [first_backend, first_backend + backend_count) */
	__u32 backend_count;
};

struct lb_stats_sample {
	__u64 time_ns; /* CLOCK_MONOTONIC when the sample was taken */
	__u64 counters[LB_COUNTER_MAX];
	struct lb_stats_vip vips[LB_MAX_VIPS];
	__u32 vip_count;
	struct lb_stats_backend backends[LB_MAX_BACKENDS];
	__u32 backend_count;
	__u64 flows_in_table;
	/* Drops outside our counters since the load (netdev.h): the driver's XDP
	 * errors and the interface's drops, then the kernel's IP counters of
	 * this namespace (all of its traffic, not only ours).
	 */
	struct lb_drop_stats outside;
};

/* Reads counters, the live config generation's VIPs and backends, walks the
 * flow table once, and reads @ifname's drops outside our counters. 0 or -errno.
 */
int lb_stats_sample(const struct lb_maps *maps, const char *ifname, struct lb_stats_sample *out);

/* Prints @now; with @prev (an earlier sample) also packets/s and Mbit/s. */
void lb_stats_print_text(FILE *out, const char *ifname, const struct lb_stats_sample *now,
			 const struct lb_stats_sample *prev);
/* The same as one JSON object on one line. */
void lb_stats_print_json(FILE *out, const char *ifname, const struct lb_stats_sample *now,
			 const struct lb_stats_sample *prev);

/* "10.0.0.100:80/tcp"; a port wildcard shows "*" as its port. */
void lb_vip_label(const struct lb_vip_key *key, char *buf, size_t len);

#endif /* LB_LBCTL_STATS_H */
