/* SPDX-License-Identifier: GPL-2.0 */
/* The pipeline the packet fuzzer runs frames through: parse, least-loaded,
 * IPIP and icmp loaded from their skeletons, sharing one set of maps, with lb and encap
 * in their prog-array slots; the maps filled from a config by the loader's own
 * parser and writer (lb_config_parse, lb_apply_config, lb_tx_ports_fill); and
 * a private network namespace whose routes and neighbours give every next-hop
 * outcome of docs/architecture.md to some VIP:
 *
 *   lbf0 (10.0.0.10/16, ingress) -- lbf1   neighbours 10.0.1.1, .2, .6
 *   lbf2 (10.9.0.10/16)          -- lbf3   neighbours 10.9.0.1, .2 (XDP_REDIRECT)
 *   lbf4 (route 10.7.0.0/16)     -- lbf5   neighbour 10.7.0.1, added after
 *                                          tx_ports was filled: not in it
 *   blackhole 198.51.100.0/24; no default route (192.0.2.1 has none)
 *
 * and IPv6 on the same links, for the IPv6 backends of an IPv4 VIP
 * (IPv4-in-IPv6) and of the IPv6 VIP fd00:a::100 (IPv6-in-IPv6; fd00:a::101's
 * has no route):
 *
 *   lbf0 fd00:f::10/64   neighbours fd00:f::1, ::3 (fd00:f::2 has none)
 *   lbf2 fd00:9::10/64   neighbour fd00:9::1 (XDP_REDIRECT)
 *   lbf4 route fd00:7::/64, neighbour fd00:7::1 (not in tx_ports)
 *   nothing routes fd00:dead::/48
 */
#ifndef FUZZ_PIPELINE_H
#define FUZZ_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_structs_common.h"
#include "maps.h"
#include "parse_model.h"

/* The MTU of every link of the namespace, the ingress lbf0 among them. */
#define FUZZ_LINK_MTU 1500
#define FUZZ_MAX_VIPS 16
#define FUZZ_MAX_POOL 16
#define FUZZ_MAX_BACKENDS 64

/* Where the FIB sends a backend's address, as this namespace is set up. */
struct fuzz_route {
	uint32_t addr;          /* network byte order */
	bool ipv6;              /* an IPv6 backend: addr6 instead */
	uint8_t addr6[16];
	int egress;             /* ifindex; 0: no route (or blackhole) */
	bool has_neigh;
	uint8_t neigh_mac[6];
	uint8_t egress_mac[6];
	uint32_t egress_mtu;
	bool in_tx_ports;
};

struct fuzz_backend {
	uint32_t id;
	struct lb_backend entry; /* as the backends map holds it */
	struct fuzz_route route;
};

struct fuzz_vip {
	uint32_t vip_id, pool_id;
	size_t backend_count;
	uint32_t backend_ids[FUZZ_MAX_POOL]; /* the pool, in order */
};

struct fuzz_pipeline {
	struct parse_bpf *parse;
	struct least_loaded_bpf *lb;
	struct ipip_bpf *encap;  /* in the encap slot, unless encap_gue */
	struct gue_bpf *gue;     /* ... the gue stage then (fuzz_pipeline_encap()) */
	bool encap_gue;
	uint16_t gue_port;       /* the config's GUE port, host order */
	struct icmp_bpf *icmp;  /* in the icmp slot: ICMP to VIP addresses */
	struct lb_maps maps;    /* parse's map fds, shared by all three */
	int parse_prog_fd;
	int ingress;            /* lbf0's ifindex: every frame arrives there */
	uint8_t if_mac[6];      /* lbf0's MAC, parse's lb_if_mac */
	int cpu;                /* the process runs on this CPU only */
	int cpus;               /* possible CPUs: per-CPU map values */
	uint32_t flow_table_size;
	uint8_t outer_src6[16]; /* the config's outer_source6 */
	/* What the maps hold after the config was applied. VIPs in config order. */
	size_t vip_count;
	struct model_vip model_vips[FUZZ_MAX_VIPS];
	struct fuzz_vip vips[FUZZ_MAX_VIPS];
	size_t backend_count;
	struct fuzz_backend backends[FUZZ_MAX_BACKENDS];
	/* Set-up: 0, or -errno of the step named in failed_step. */
	int err;
	char failed_step[256];
};

/* Enters a new network namespace (for good: the process stays in it), builds
 * the network, loads the stages and applies the config. Needs root. On
 * failure p->err and p->failed_step say what went wrong.
 */
int fuzz_pipeline_setup(struct fuzz_pipeline *p);
void fuzz_pipeline_teardown(struct fuzz_pipeline *p);

/* The backend in slot @id, or NULL when the pipeline has none there. */
/* Puts the gue stage (@gue) or ipip into the encap slot. 0 or -errno. */
int fuzz_pipeline_encap(struct fuzz_pipeline *p, bool gue);

const struct fuzz_backend *fuzz_backend_find(const struct fuzz_pipeline *p, uint32_t id);

/* The config the fuzzer loads, for messages and docs. */
extern const char fuzz_config_text[];

#endif /* FUZZ_PIPELINE_H */
