/* SPDX-License-Identifier: GPL-2.0 */
/* Map keys and values, and the per-packet context the stages hand on.
 * Shared with the loader: fixed-width types only, no pointers, explicit padding
 * so that BPF and userspace agree on every byte.
 */
#ifndef LB_STRUCTS_COMMON_H
#define LB_STRUCTS_COMMON_H

#include <linux/types.h>
#include "lb_consts_common.h"
#include "lb_counters_common.h"

/* vips map key. port 0 is the wildcard entry: any port of that address and
 * protocol. Address and port are in network byte order. gen is the config
 * generation (0 or 1) the entry belongs to: parse only sees the generation
 * config_gen names, so a reload writes the other one and switches all VIPs at
 * once by flipping that one word.
 */
struct lb_vip_key {
	__be32 addr;
	__be16 port;
	__u8 proto; /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 gen;
};

/* vips6 map key: an IPv6 VIP, as lb_vip_key (port 0 the wildcard, gen the
 * config generation). Its value is the same struct lb_vip: vip_id is one id
 * space for both families, so pools, backends, stats and the policies'
 * per-VIP state stay keyed by id.
 */
struct lb_vip6_key {
	__u8 addr[16];
	__be16 port;
	__u8 proto; /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 gen;
};

/* vips map value. The whole value is replaced in one update, so a packet sees
 * a VIP's pool, policy and Maglev table of one moment.
 */
struct lb_vip {
	__u32 vip_id;       /* 0 .. LB_MAX_VIPS-1, stable across reloads */
	__u32 pool_id;      /* the pool in use: vip_id * LB_POOLS_PER_VIP + generation */
	__u16 policy;       /* enum lb_policy: which lb stage parse hands on to */
	__u16 maglev_table; /* index into maglev_tables, LB_NO_TABLE if none */
	__u8 forwarding;    /* enum lb_forwarding: the slot lb hands on to */
	__u8 pad[3];
};

/* pool_weights map value, one per pool and written with it: what the weighted
 * policies (weighted round-robin, hash) need. Only UP backends of weight >= 1
 * count, so a DRAIN or DOWN backend has no share of new flows.
 */
struct lb_pool_weights {
	__u32 total;  /* sum of the counted weights; 0: no backend takes new flows */
	__u32 stride; /* coprime with total: spreads round-robin tickets over the cycle */
	/* cumulative[i]: the counted weights of pool entries 0..i */
	__u32 cumulative[LB_MAX_BACKENDS_PER_VIP];
};

/* maglev_tables map value: one VIP's lookup table, built by the loader. */
struct lb_maglev_table {
	__u32 size; /* a prime <= LB_MAGLEV_MAX_SIZE; entries past it are unused */
	__u32 pad;
	__u32 backend_ids[LB_MAGLEV_MAX_SIZE]; /* LB_NO_BACKEND: no backend is up */
};

/* vip_sched map value: per-VIP state of round-robin, shared by all CPUs. */
struct lb_vip_sched {
	__u64 ticket; /* next round-robin ticket, taken with an atomic add */
};

/* backend_conns map value: least-conn's active flows of a backend (atomic). A
 * flow placed by least-conn adds 1 and subtracts it once when it ends (TCP FIN
 * or RST seen) or is rescheduled. Signed: a backend slot reset under a flow
 * that then ends goes below 0, which least-conn reads as 0.
 */
struct lb_backend_conns {
	__s64 active;
};

/* pools map value: the backends of one VIP, as ids into the backends map. */
struct lb_pool {
	__u32 backend_count;
	__u32 pad;
	__u32 backend_ids[LB_MAX_BACKENDS_PER_VIP];
};

/* backends map value. 32 bytes: the IPv6 address shares the first 16 with
 * the IPv4 one (12 bytes more per slot than an IPv4-only record, 8 once the
 * array's 8-byte value stride is counted: 32 KiB over LB_MAX_BACKENDS).
 */
struct lb_backend {
	union {
		__be32 addr;    /* IPv4 tunnel destination */
		__u8 addr6[16]; /* IPv6 tunnel destination, when LB_BACKEND_F_IPV6 */
	};
	__u8 mac[6];    /* next-hop MAC when LB_BACKEND_F_STATIC_MAC */
	__u8 state;     /* enum lb_backend_state */
	__u8 flags;     /* LB_BACKEND_F_* */
	__u32 vip_id;   /* owner VIP: a flow whose backend slot moved on is rescheduled */
	__u32 weight;   /* >= 1; least-loaded's load is recent packets per unit of it */
};

/* backend_load map value, one per CPU (plain adds: no CPU writes another's).
 * The policies that weigh it read the sum over all CPUs: least-loaded the
 * packets of the last two load windows (window, window_packets,
 * prev_window_packets), least-packets-per-flow packets / flows.
 */
struct lb_backend_load {
	__u64 packets; /* since the backend's slot was set up */
	__u64 flows;   /* flows placed on it, ditto */
	__u64 window;  /* load window (coarse ns >> LB_LOAD_WINDOW_SHIFT) of window_packets */
	__u64 window_packets;      /* packets this CPU counted in that window */
	__u64 prev_window_packets; /* in the window before it (0 when this CPU had none) */
};

/* backend_stats map value (per CPU): what the operator reads. */
struct lb_backend_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
};

/* vip_drops map value (per CPU): one VIP's drops by reason, enum lb_vip_drop. */
struct lb_vip_drops {
	__u64 count[LB_VIP_DROP_MAX];
};

/* flows map key: the 5-tuple in network byte order. Fragments carry ports 0. */
struct lb_flow_key {
	__be32 src;
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* flows6 map key: an IPv6 flow's 5-tuple, network byte order; 40 bytes. A
 * map of its own, so an IPv4 flow's key (and the flows map's entry) stays 16.
 * Fragments carry ports 0, as in lb_flow_key.
 */
struct lb_flow6_key {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
} __attribute__((aligned(4))); /* the hash reads the addresses as words */

/* flows map value: 16 bytes, the least the kernel's hash element holds for
 * these fields (values are rounded up to 8 bytes; docs/performance.md,
 * "Memory"). The flags share a 64-bit word with the backend id and the
 * creation time, since BPF's atomics need 64 bits without ALU32: clearing a
 * flag with an atomic and leaves the rest of the word as it is, and only
 * lb_flow_store() writes the rest, as a whole new value.
 */
struct lb_flow {
	union {
		struct {
			__u32 backend_id;
			/* LB_FLOW_CREATED_MASK: CLOCK_MONOTONIC_COARSE seconds when
			 * placed, lbctl flows' age (31 bits: 68 years of uptime);
			 * the top bit LB_FLOW_F_COUNTED (in id_word).
			 */
			__u32 created_s_flags;
		};
		__u64 id_word; /* both, for the atomic on the flags */
	};
	__u64 last_seen_ns; /* bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC_COARSE) */
};

/* A flow's creation time, seconds of CLOCK_MONOTONIC_COARSE. */
static inline __u32 lb_flow_created_s(const struct lb_flow *flow)
{
	return flow->created_s_flags & LB_FLOW_CREATED_MASK;
}

/* Per-packet context (one per CPU, packet_ctx map): what parse found, handed
 * on so that later stages need not parse the frame again. parse writes every
 * field of it on every packet before the first tail call; lb fills backend_id
 * and now_ns; the forwarding stage reads it. A tail-call chain runs on one CPU
 * without preemption, so a per-CPU slot cannot be overwritten by another
 * packet while in use. What each stage may assume of it and must check:
 * stage.bpf.h. 80 bytes, no implicit padding (per-CPU values are 8-byte
 * strided; checked below).
 *
 * The flow key is the packet's family's: flow for IPv4, flow6 for IPv6
 * (LB_CTX_F_IPV6 set). They share the first bytes; an IPv4 packet leaves the
 * rest of the union zero, as parse builds the context whole.
 */
struct lb_packet_ctx {
	union {
		struct lb_flow_key flow;   /* IPv4 */
		struct lb_flow6_key flow6; /* IPv6: LB_CTX_F_IPV6 */
	};
	__u32 vip_id;
	__u32 pool_id;
	__u32 backend_id; /* set by lb; parse writes LB_NO_BACKEND */
	__u32 frame_len;  /* data_end - data as parse saw it */
	__u32 flags;      /* LB_CTX_F_* */
	__u16 l3_offset;  /* the IP header: 14, or 18 behind one 802.1Q tag */
	__u16 l4_offset;  /* the IPv4 payload: l3_offset + IHL * 4; IPv6: behind
			   * the fixed header and the extension headers (the
			   * TCP/UDP header of a whole packet, fragment data
			   * otherwise) */
	__u16 ip_tot_len; /* the IP packet's length, host byte order: IPv4's total
			   * length; IPv6's 40 + payload length */
	__u16 policy;     /* the VIP's enum lb_policy */
	__u16 maglev_table; /* the VIP's Maglev table, LB_NO_TABLE if none */
	__u8 forwarding;  /* the VIP's enum lb_forwarding */
	__u8 l4_proto;    /* flow.proto or flow6.proto: IPPROTO_UDP or IPPROTO_TCP
			   * (ICMP or ICMPv6 for the icmp slot) */
	/* Set by lb: bpf_ktime_get_coarse_ns() as it handled the packet, so the
	 * forwarding stage's next-hop cache needs no clock read of its own.
	 * parse writes 0.
	 */
	__u64 now_ns;
};

_Static_assert(sizeof(struct lb_flow6_key) == 40, "lb_flow6_key: 40 bytes, no padding");
_Static_assert(sizeof(struct lb_vip6_key) == 20, "lb_vip6_key: 20 bytes, no padding");
_Static_assert(sizeof(struct lb_backend) == 32, "lb_backend: 32 bytes, no padding");
_Static_assert(sizeof(struct lb_packet_ctx) == 80, "lb_packet_ctx: 80 bytes, no padding");
_Static_assert(sizeof(struct lb_packet_ctx) % 8 == 0, "lb_packet_ctx: per-CPU stride");

/* nat_reply map value, keyed by the reply's 5-tuple (backend address and
 * port -> nat_source and the allocated port). It owns the port: a mapping
 * exists while this entry does, and both directions refresh last_seen_ns.
 */
struct lb_nat_reply {
	__be32 client_addr;
	__be32 vip_addr;
	__be16 client_port;
	__be16 vip_port;
	__u32 pad;
	__u64 last_seen_ns; /* bpf_ktime_get_coarse_ns(); UDP expires after flow_timeout */
};

/* nat_forward map value, keyed by the client's 5-tuple: which port the flow
 * was given toward which backend. Only a hint; nat_reply decides whether the
 * mapping still holds.
 */
struct lb_nat_forward {
	__be32 backend_addr;
	__be16 backend_port;
	__be16 nat_port;
};

/* nat_reply6 map value: lb_nat_reply for an IPv6 VIP, keyed by the reply's
 * IPv6 5-tuple (backend address and port -> nat_source6 and the allocated
 * port). 48 bytes.
 */
struct lb_nat_reply6 {
	__u8 client_addr[16];
	__u8 vip_addr[16];
	__be16 client_port;
	__be16 vip_port;
	__u32 pad;
	__u64 last_seen_ns; /* as lb_nat_reply's */
};

/* nat_forward6 map value, keyed by the client's IPv6 5-tuple: lb_nat_forward
 * for an IPv6 VIP.
 */
struct lb_nat_forward6 {
	__u8 backend_addr[16];
	__be16 backend_port;
	__be16 nat_port;
};

_Static_assert(sizeof(struct lb_nat_reply6) == 48, "lb_nat_reply6: 48 bytes, no padding");
_Static_assert(sizeof(struct lb_nat_forward6) == 20, "lb_nat_forward6: 20 bytes, no padding");

/* vip_addrs map value, keyed by a VIP address (__be32): what the address
 * itself does, whatever VIPs (ports, protocols) it carries. parse hands ICMP
 * to the icmp stage only for an address listed here.
 */
struct lb_vip_addr {
	__u32 vip_id; /* the address's first VIP in the config: its drops count there */
	__u32 flags;  /* LB_VIP_ADDR_F_* */
};

/* vip_addrs6 map key: an IPv6 VIP address, network byte order. Its value is
 * struct lb_vip_addr, as for IPv4; parse hands ICMPv6 to the icmp stage only
 * for an address listed there.
 */
struct lb_vip_addr6_key {
	__u8 addr[16];
};

/* icmp_tokens map value (per CPU, per program): the token bucket of the ICMP
 * errors this CPU sends, in nanoseconds of credit (one message costs
 * lb_tunables.icmp_interval_ns).
 */
struct lb_icmp_bucket {
	__u64 credit_ns;
	__u64 last_ns; /* coarse clock at the last refill */
};

#define LB_NO_BACKEND 0xffffffffU

#endif /* LB_STRUCTS_COMMON_H */
