/* SPDX-License-Identifier: GPL-2.0 */
/* The maps every stage shares. Each stage object declares all of them; the
 * loader creates each map once, hands the same fd to every object
 * (bpf_map__reuse_fd) and pins it under /sys/fs/bpf/xdp-lb/<ifname>/.
 * Every map here has its line in LB_MAPS (lb_maps_common.h), which is what
 * the loader walks; tests/unit/test_registry.c fails when the two disagree.
 * Map names are at most 15 characters: the kernel cuts longer ones.
 */
#ifndef LB_MAPS_BPF_H
#define LB_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "lb_structs_common.h"
#include "lb_counters_common.h"

/* Stage slots (enum lb_stage_slot); the loader fills them. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, LB_SLOT_COUNT);
	__type(key, __u32);
	__type(value, __u32);
} stage_slots SEC(".maps");

/* The per-packet context parse writes and later stages read. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_packet_ctx);
} packet_ctx SEC(".maps");

/* Verdict and reason counters of all stages (enum lb_counter). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Drops by reason per VIP id (lb_counters_common.h, LB_VIP_DROPS); per CPU,
 * so a drop adds to this CPU's copy and no packet writes another CPU's line.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct lb_vip_drops);
} vip_drops SEC(".maps");

/* The config generation parse reads VIPs from: one __u32, 0 or 1. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config_gen SEC(".maps");

/* VIP lookup: (address, port or 0, protocol, generation) -> VIP. Not
 * preallocated, so an update replaces the element under RCU and a reader never
 * sees a torn value. Room for two generations of every VIP.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_VIPS * LB_CONFIG_GENERATIONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lb_vip_key);
	__type(value, struct lb_vip);
} vips SEC(".maps");

/* IPv6 VIP lookup, as vips: (address, port or 0, protocol, generation) ->
 * the same struct lb_vip, its vip_id from the one id space of both families.
 * Full size whatever the config: not preallocated, its only fixed cost is the
 * bucket array, and parse (which reads it) is not loaded again by a reload.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_VIPS * LB_CONFIG_GENERATIONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lb_vip6_key);
	__type(value, struct lb_vip);
} vips6 SEC(".maps");

/* Backend pools, two per VIP (see LB_POOLS_PER_VIP). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_POOLS);
	__type(key, __u32);
	__type(value, struct lb_pool);
} pools SEC(".maps");

/* Backend slots; ids stay stable across reloads while (VIP, address, MAC) do. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_backend);
} backends SEC(".maps");

/* Load of each backend as least-loaded sees it: per CPU, so a packet writes
 * only its own CPU's cache line; least-loaded and lbctl sum the CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_backend_load);
} backend_load SEC(".maps");

/* Per-CPU traffic figures of each backend, for lbctl and tests. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_backend_stats);
} backend_stats SEC(".maps");

/* Flow table: 5-tuple -> backend. LRU: when full, the stalest flow goes. The
 * loader sets max_entries from flow_table_size.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_DEFAULT_FLOW_TABLE_SIZE);
	__type(key, struct lb_flow_key);
	__type(value, struct lb_flow);
} flows SEC(".maps");

/* IPv6 flow table: the IPv6 5-tuple -> backend, the same value as flows. The
 * loader sizes it: flow_table_size entries when a VIP is IPv6, else 1, so an
 * IPv4-only config pays nothing for it (loader/map_sizes.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_DEFAULT_FLOW_TABLE_SIZE);
	__type(key, struct lb_flow6_key);
	__type(value, struct lb_flow);
} flows6 SEC(".maps");

/* Per-pool weights of the weighted policies, written with the pool. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_POOLS);
	__type(key, __u32);
	__type(value, struct lb_pool_weights);
} pool_weights SEC(".maps");

/* Maglev lookup tables, two per Maglev VIP (the one in use and a spare). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAGLEV_TABLES);
	__type(key, __u32);
	__type(value, struct lb_maglev_table);
} maglev_tables SEC(".maps");

/* Round-robin state of each VIP, by vip_id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct lb_vip_sched);
} vip_sched SEC(".maps");

/* Active flows of each backend as least-conn counts them, shared by all CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_backend_conns);
} backend_conns SEC(".maps");

/* NAT state, reply direction: the reply's 5-tuple -> the client and VIP.
 * parse looks it up for frames that match no VIP (docs/nat.md).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_NAT_TABLE_SIZE);
	__type(key, struct lb_flow_key);
	__type(value, struct lb_nat_reply);
} nat_reply SEC(".maps");

/* NAT state, forward direction: the client's 5-tuple -> backend and port. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_NAT_TABLE_SIZE);
	__type(key, struct lb_flow_key);
	__type(value, struct lb_nat_forward);
} nat_forward SEC(".maps");

/* IPv6 NAT state, as nat_reply and nat_forward for IPv6 VIPs. The loader
 * sizes them: LB_NAT_TABLE_SIZE when an IPv6 VIP uses NAT, else 1, so a
 * config without one pays nothing for them (loader/map_sizes.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_NAT_TABLE_SIZE);
	__type(key, struct lb_flow6_key);
	__type(value, struct lb_nat_reply6);
} nat_reply6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_NAT_TABLE_SIZE);
	__type(key, struct lb_flow6_key);
	__type(value, struct lb_nat_forward6);
} nat_forward6 SEC(".maps");

/* VIP addresses (__be32) -> what ICMP to them gets (echo replies on or off).
 * One entry per address however many VIPs it carries; written by the loader
 * before the generation switch, removed after it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_VIPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __be32);
	__type(value, struct lb_vip_addr);
} vip_addrs SEC(".maps");

/* IPv6 VIP addresses -> what ICMPv6 to them gets, as vip_addrs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_VIPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lb_vip_addr6_key);
	__type(value, struct lb_vip_addr);
} vip_addrs6 SEC(".maps");

/* Egress interfaces for XDP_REDIRECT, keyed by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, LB_MAX_TX_PORTS);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_ports SEC(".maps");

#endif /* LB_MAPS_BPF_H */
