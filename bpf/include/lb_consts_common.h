/* SPDX-License-Identifier: GPL-2.0 */
/* Limits, slot numbers and enum values shared by the BPF stages and the loader.
 *
 * Every limit sits behind #ifndef so a test build can shrink or grow it. The
 * loader checks a config against these same numbers, so an over-limit config
 * is rejected with a message instead of failing inside the kernel.
 */
#ifndef LB_CONSTS_COMMON_H
#define LB_CONSTS_COMMON_H

#include <linux/types.h>

/* How many VIPs (address, port, protocol) one interface can serve. */
#ifndef LB_MAX_VIPS
#define LB_MAX_VIPS 256
#endif

/* The vips map holds two config generations (see struct lb_vip_key.gen). */
#define LB_CONFIG_GENERATIONS 2

/* How many backends one VIP can have. */
#ifndef LB_MAX_BACKENDS_PER_VIP
#define LB_MAX_BACKENDS_PER_VIP 1024
#endif

/* Backend slots in all: a backend listed under two VIPs takes two slots. */
#ifndef LB_MAX_BACKENDS
#define LB_MAX_BACKENDS 4096
#endif

/* Each VIP owns two backend pools; a reload writes the one not in use and then
 * flips the VIP to it with one atomic hash update, so a packet never sees a
 * half-written backend list.
 */
#define LB_POOLS_PER_VIP 2
#define LB_MAX_POOLS (LB_MAX_VIPS * LB_POOLS_PER_VIP)

/* Least-loaded looks at this many backends per new flow: a pool this small
 * is scanned whole (exact); a larger one at this many positions picked by the
 * flow's hash, so a new flow costs the same with 8 or 1024 backends.
 */
#ifndef LB_LEAST_LOADED_CANDIDATES
#define LB_LEAST_LOADED_CANDIDATES 8
#endif

/* least-loaded's load windows: 2^30 ns (1.07 s) of the coarse monotonic clock,
 * numbered by a shift (no division per packet). A backend's load is its packets
 * of the current window and the one before it, so it follows traffic of the
 * last one to two seconds and forgets older traffic.
 */
#ifndef LB_LOAD_WINDOW_SHIFT
#define LB_LOAD_WINDOW_SHIFT 30
#endif

/* IPv6 extension headers parse walks in front of the UDP/TCP header: at most
 * this many, and this many bytes of them together. A chain beyond either is
 * passed to the stack, counted (parse.pass_ipv6_ext_limit). Real traffic
 * carries one or two small ones (RFC 7045, RFC 9098: long chains are dropped
 * on the Internet anyway); the bounds keep the walk an unrolled loop and the
 * L4 offset a constant range the verifier accepts behind every stage.
 */
#ifndef LB_IPV6_MAX_EXT_HDRS
#define LB_IPV6_MAX_EXT_HDRS 6
#endif
#ifndef LB_IPV6_MAX_EXT_LEN
#define LB_IPV6_MAX_EXT_LEN 256
#endif

/* Default size of the flow table (LRU: the least recently seen flow goes first). */
#ifndef LB_DEFAULT_FLOW_TABLE_SIZE
#define LB_DEFAULT_FLOW_TABLE_SIZE 65536
#endif

/* Default idle time after which a UDP flow is scheduled again, in seconds. */
#ifndef LB_DEFAULT_FLOW_TIMEOUT_S
#define LB_DEFAULT_FLOW_TIMEOUT_S 30
#endif

/* A flow's last-seen time is only rewritten when it is this stale, so that a
 * busy flow does not dirty its shared cache line on every packet.
 */
#ifndef LB_FLOW_TOUCH_NS
#define LB_FLOW_TOUCH_NS 1000000000ULL
#endif

/* Egress interfaces the encap stage may redirect to (devmap entries). */
#ifndef LB_MAX_TX_PORTS
#define LB_MAX_TX_PORTS 256
#endif

/* Default run priority in the libxdp dispatcher (lower runs first). */
#ifndef LB_DEFAULT_PRIORITY
#define LB_DEFAULT_PRIORITY 50
#endif

/* How long an encap stage reuses a backend's next hop as the FIB answered it
 * (100 ms): a route or neighbour change reaches traffic within this time.
 */
#ifndef LB_NEXTHOP_CACHE_NS
#define LB_NEXTHOP_CACHE_NS 100000000ULL
#endif

/* Outer IPv4 header TTL of encapsulated packets. */
#define LB_OUTER_TTL 64

/* The stage library, listed once: the scheduling policies and the forwarding
 * stages, each one SEC("xdp") program in bpf/lb/<object>.bpf.c or
 * bpf/encap/<object>.bpf.c. The slots of the stage prog array, the policy
 * enum, the config's `policy:` and `encap:` words, parse's tail calls,
 * lbctl's names and the loader's stage table all expand these lists; the
 * build makes a skeleton of every .bpf.c there, and tests/unit/test_registry.c
 * fails when the two disagree. Adding a policy: bpf/lb/<object>.bpf.c and one
 * LB_POLICIES line (docs/architecture.md, "Adding a stage").
 *
 * LB_POLICIES(X): X(ID, "config name", SLOT, "slot name", object, program)
 *   in policy number order; each policy has a slot of its own whose number is
 *   the policy's. Policy 0 is the default, so a zeroed VIP means least-loaded.
 * LB_FORWARDING_SLOTS(X): X(SLOT, "slot name"), after the policy slots.
 * LB_FORWARDING_STAGES(X): X("name", SLOT, object, program); the first stage
 *   of a slot is its default.
 */
#define LB_POLICIES(X)                                                                   \
	X(LEAST_LOADED, "least-loaded", LB, "lb", least_loaded, xdp_lb_lload)            \
	X(ROUND_ROBIN, "round-robin", RR, "rr", round_robin, xdp_lb_rr)                  \
	X(WEIGHTED_RR, "weighted-round-robin", WRR, "wrr", weighted_rr, xdp_lb_wrr)      \
	X(HASH, "hash", HASH, "hash", hash, xdp_lb_hash) /* 5-tuple hash, stateless */   \
	X(MAGLEV, "maglev", MAGLEV, "maglev", maglev, xdp_lb_maglev)                     \
	X(LEAST_CONN, "least-conn", LCONN, "lconn", least_conn, xdp_lb_lconn)            \
	X(PACKETS_PER_FLOW, "least-packets-per-flow", LPPF, "lppf", packets_per_flow,    \
	  xdp_lb_lppf) /* the original project's least-loaded metric */

#define LB_FORWARDING_SLOTS(X)                                                           \
	X(ENCAP, "encap") /* the interface's encapsulation */                          \
	X(NAT, "nat")     /* NAT forwarding, both directions (docs/nat.md) */     \
	X(ICMP, "icmp")   /* ICMP to a VIP address: echo, errors about flows */

#define LB_FORWARDING_STAGES(X)                                                          \
	X("ipip", ENCAP, ipip, xdp_lb_ipip)                                              \
	X("gue", ENCAP, gue, xdp_lb_gue)                                                 \
	X("nat", NAT, nat, xdp_lb_nat)                                                   \
	X("icmp", ICMP, icmp, xdp_lb_icmp)

/* Slots of the stage prog array. parse is attached to the interface, so it has
 * no slot; it tail-calls the slot of the VIP's scheduling policy, which
 * tail-calls the VIP's forwarding slot (ENCAP or NAT).
 */
#define LB_POLICY_SLOT_ENTRY(id, name, slot, slot_name, object, program) LB_SLOT_##slot,
#define LB_FORWARDING_SLOT_ENTRY(slot, slot_name) LB_SLOT_##slot,
enum lb_stage_slot {
	LB_POLICIES(LB_POLICY_SLOT_ENTRY)
	LB_FORWARDING_SLOTS(LB_FORWARDING_SLOT_ENTRY)
	LB_SLOT_COUNT,
};
#undef LB_POLICY_SLOT_ENTRY
#undef LB_FORWARDING_SLOT_ENTRY

/* Scheduling policies (struct lb_vip.policy), one lb stage program each. */
#define LB_POLICY_ENUM_ENTRY(id, name, slot, slot_name, object, program) LB_POLICY_##id,
enum lb_policy {
	LB_POLICIES(LB_POLICY_ENUM_ENTRY)
	LB_POLICY_COUNT,
};
#undef LB_POLICY_ENUM_ENTRY

/* The prog-array slot of @policy (the policy's own number); LB_SLOT_COUNT
 * (never filled) when invalid.
 */
static inline __u32 lb_policy_slot(__u32 policy)
{
	return policy < LB_POLICY_COUNT ? policy : LB_SLOT_COUNT;
}

/* Maglev lookup tables: the size is a prime per VIP (config), at most this. */
#ifndef LB_MAGLEV_MAX_SIZE
#define LB_MAGLEV_MAX_SIZE 65537
#endif
#define LB_MAGLEV_DEFAULT_SIZE 65537

/* How many VIPs may use Maglev at once. Each has two tables, like its pools: a
 * reload builds the new one while the old one serves, so 2 x 8 tables of 256
 * KiB = 4 MiB in all.
 */
#ifndef LB_MAGLEV_MAX_VIPS
#define LB_MAGLEV_MAX_VIPS 8
#endif
#define LB_MAGLEV_TABLES (LB_MAGLEV_MAX_VIPS * 2)
#define LB_NO_TABLE 0xffff /* struct lb_vip.maglev_table of a VIP without one */

/* Round-robin draws this many tickets before it scans for any UP backend: a
 * ticket that lands on a DRAIN or DOWN backend is thrown away, so the UP
 * backends still share new flows exactly evenly.
 */
#ifndef LB_RR_DRAWS
#define LB_RR_DRAWS 4
#endif

/* Backend states. 0 is an unused slot, so a zeroed entry is never chosen. */
enum lb_backend_state {
	LB_BACKEND_EMPTY = 0,
	LB_BACKEND_UP = 1,    /* takes new flows and keeps its flows */
	LB_BACKEND_DRAIN = 2, /* keeps its flows, takes no new ones */
	LB_BACKEND_DOWN = 3,  /* takes nothing: its flows are scheduled again */
};

/* struct lb_backend.flags */
#define LB_BACKEND_F_STATIC_MAC (1U << 0) /* use .mac as next hop, not the FIB's */
#define LB_BACKEND_F_IPV6 (1U << 1)       /* .addr6 is the destination (IPv6-in-IPv6) */

/* Encapsulation formats, one encap stage program each. */
enum lb_encap_type {
	LB_ENCAP_IPIP = 0,
	LB_ENCAP_GUE = 1,
};

/* How a VIP's packets reach the backend (struct lb_vip.forwarding): 0 is the
 * encap slot's stage (ipip or gue, the interface's encap), so a zeroed VIP
 * entry, and a context that does not set it, mean encapsulation.
 */
enum lb_forwarding {
	LB_FORWARD_ENCAP = 0,
	LB_FORWARD_NAT = 1, /* full NAT: unmodified backends, replies via the balancer */
};

/* NAT source ports: LB_NAT_PORT_MIN .. LB_NAT_PORT_MIN + LB_NAT_PORT_COUNT - 1,
 * below Linux's default ephemeral range (32768-60999), so a nat_source that is
 * also the balancer's own address does not share ports with its sockets.
 */
#ifndef LB_NAT_PORT_MIN
#define LB_NAT_PORT_MIN 16384
#endif
#ifndef LB_NAT_PORT_COUNT
#define LB_NAT_PORT_COUNT 16384
#endif

/* Ports a new NAT mapping tries before it gives up (nat.drop_no_port). */
#ifndef LB_NAT_PORT_TRIES
#define LB_NAT_PORT_TRIES 8
#endif

/* Size of each NAT state table (LRU, like the flow table). */
#ifndef LB_NAT_TABLE_SIZE
#define LB_NAT_TABLE_SIZE 65536
#endif

/* Default UDP destination port of GUE (the backends' `ip fou add port`). */
#ifndef LB_DEFAULT_GUE_PORT
#define LB_DEFAULT_GUE_PORT 6080
#endif

/* GUE source ports: 49152 + the low 14 bits of the flow hash. */
#define LB_GUE_SPORT_BASE 0xc000
#define LB_GUE_SPORT_MASK 0x3fff

/* Health probes through the tunnel (bpf/health/probe_encap.bpf.c): xdp-lbd
 * marks each probe's socket (SO_MARK) with
 *	mark base | LB_PROBE_MARK_GUE if GUE | backend id
 * and one policy-routing rule sends every packet whose mark & LB_PROBE_MARK_MASK
 * is the base to xdp-lb's probe table, where a route per VIP hands it to the
 * program. The base is xdp-lbd's --probe-mark: its low 13 bits must be 0.
 */
#define LB_PROBE_MARK_ID_MASK 0x0fffU /* the backend id: LB_MAX_BACKENDS ids */
#define LB_PROBE_MARK_GUE 0x1000U     /* GUE, else IPIP: the encap slot's stage */
#define LB_PROBE_MARK_MASK 0xffffe000U
#ifndef LB_PROBE_MARK_DEFAULT
#define LB_PROBE_MARK_DEFAULT 0x96710000U /* 9671: xdp-lb's port, as the table's number */
#endif
#if LB_MAX_BACKENDS > LB_PROBE_MARK_ID_MASK + 1
#error "a probe mark holds a backend id in LB_PROBE_MARK_ID_MASK"
#endif

/* struct lb_packet_ctx.flags: only what a later stage reads. (A tag shows in
 * l3_offset, 18 instead of 14.)
 */
#define LB_CTX_F_FRAGMENT (1U << 1) /* IPv4 fragment: flow key has no ports */
#define LB_CTX_F_NAT_REPLY (1U << 3) /* a backend's reply to a NAT mapping, no VIP */
#define LB_CTX_F_ICMP_ERROR (1U << 4) /* an ICMP error the icmp stage sends to a flow's
				       * backend: never answered with another ICMP error */
#define LB_CTX_F_IPV6 (1U << 5)      /* IPv6: flow6 is the key, IPv6 at l3_offset */
#define LB_CTX_F_LATER_FRAGMENT (1U << 6) /* IPv6 fragment other than the first (IPv4's
					   * stages read frag_off): never answered
					   * with an ICMP error */

/* struct lb_vip_addr.flags */
#define LB_VIP_ADDR_F_ECHO (1U << 0) /* answer echo requests (config icmp_echo, default on) */

/* ICMP errors the balancer sends itself ("fragmentation needed"), per CPU: a
 * token bucket of LB_DEFAULT_ICMP_BURST messages refilled at
 * LB_DEFAULT_ICMP_RATE per second (config icmp_rate, icmp_burst).
 */
#ifndef LB_DEFAULT_ICMP_RATE
#define LB_DEFAULT_ICMP_RATE 1000
#endif
#ifndef LB_DEFAULT_ICMP_BURST
#define LB_DEFAULT_ICMP_BURST 50
#endif

/* struct lb_flow: the flags, bits of id_word above the backend id and the
 * creation time (created_s_flags & LB_FLOW_CREATED_MASK).
 */
#define LB_FLOW_CREATED_MASK 0x7fffffffU
#define LB_FLOW_F_COUNTED (1ULL << 63) /* counted in backend_conns (least-conn) */

#endif /* LB_CONSTS_COMMON_H */
