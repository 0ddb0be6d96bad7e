/* SPDX-License-Identifier: GPL-2.0 */
/* The read model of a loaded interface's figures: one sample of its pinned maps
 * (counters summed over CPUs, the live VIPs and their backends, the flow table
 * walked once) and of the drops outside them. Every presentation (lbctl stats,
 * xdp-lbd's metrics) reads through here. Reading only looks up maps: it never
 * writes one, so a sample does not disturb the data path.
 */
#ifndef LB_STATS_H
#define LB_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "lb_consts_common.h"
#include "lb_counters_common.h"
#include "lb_structs_common.h"
#include "health.h"
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
	struct lb_backend_health health; /* xdp-lbd's probes (health.h); zero: unprobed */
};

struct lb_stats_vip {
	struct lb_vip_key key; /* an IPv6 VIP's port, protocol and generation (addr 0) */
	bool ipv6;
	struct lb_vip6_key key6; /* an IPv6 VIP's whole key */
	__u32 vip_id;
	__u32 policy;        /* enum lb_policy */
	__u64 drops[LB_VIP_DROP_MAX]; /* summed over CPUs, enum lb_vip_drop */
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

/* A VIP's figures: the sum of its backends'. */
struct lb_stats_vip_sum {
	__u64 packets, bytes, active_flows, total_flows;
};

void lb_stats_vip_sum(const struct lb_stats_sample *s, const struct lb_stats_vip *vip,
		      struct lb_stats_vip_sum *out);

/* "10.0.0.100:80/tcp", or with @addr6 (an IPv6 VIP's address, else NULL)
 * "[2001:db8::100]:80/tcp"; a port wildcard shows "*" as its port. At most
 * LB_VIP_LABEL_LEN bytes with the NUL.
 */
#define LB_VIP_LABEL_LEN 64
void lb_vip_label(const struct lb_vip_key *key, const __u8 *addr6, char *buf, size_t len);

/* A backend's address as text, either family (INET6_ADDRSTRLEN bytes). */
const char *lb_backend_addr_text(const struct lb_backend *be, char *buf, size_t len);

#endif /* LB_STATS_H */
