/* SPDX-License-Identifier: GPL-2.0 */
/* Every map of an interface's state, listed once.
 *
 * LB_MAPS(X) expands X(ID, name, OWNER) for each map:
 *   name   the map's name in the stage objects and its pin under
 *          /sys/fs/bpf/xdp-lb/<ifname>/ (at most 15 characters: the kernel
 *          cuts longer names);
 *   OWNER  SHARED: defined in bpf/include/lb_maps.bpf.h; the loader creates it
 *          once from the first stage object, hands the same fd to every
 *          other object and pins it (xdp-lbd's probe encapsulation program,
 *          bpf/health/, gets the pinned ones too);
 *          LOADER: created and pinned by lb-load itself, in no stage object
 *          (the fuzzer and the tests that build a pipeline skip it);
 *          OWN: each program that defines it keeps its own, never shared nor
 *          pinned, so a reload (new programs) starts with an empty one.
 * The loader expands the enum lb_map, the names and the owners from it
 * (loader/maps.c); opening, sharing, pinning and removing the pins walk it.
 * tests/unit/test_registry.c fails when the list and the maps in the built
 * objects disagree. Adding a map: its definition in lb_maps.bpf.h and one
 * line here.
 */
#ifndef LB_MAPS_COMMON_H
#define LB_MAPS_COMMON_H

#define LB_MAPS(X)                                                                       \
	X(STAGE_SLOTS, stage_slots, SHARED)     /* prog array of the stages */         \
	X(PACKET_CTX, packet_ctx, SHARED)       /* per-packet context */               \
	X(COUNTERS, counters, SHARED)           /* enum lb_counter */                  \
	X(VIP_DROPS, vip_drops, SHARED)         /* drops per VIP: LB_VIP_DROPS */      \
	X(VIPS, vips, SHARED)                   /* VIP lookup, two generations */      \
	X(POOLS, pools, SHARED)                 /* backend pools, two per VIP */       \
	X(BACKENDS, backends, SHARED)           /* backend slots */                    \
	X(BACKEND_LOAD, backend_load, SHARED)   /* least-loaded's figures */           \
	X(BACKEND_STATS, backend_stats, SHARED) /* per-CPU traffic per backend */      \
	X(FLOWS, flows, SHARED)                 /* flow table, sized by the config */  \
	X(VIPS6, vips6, SHARED)                 /* IPv6 VIP lookup, two generations */ \
	X(FLOWS6, flows6, SHARED)               /* IPv6 flow table, sized by config */ \
	X(TX_PORTS, tx_ports, SHARED)           /* devmap of egress ports */           \
	X(CONFIG_GEN, config_gen, SHARED)       /* VIP generation in use */            \
	X(POOL_WEIGHTS, pool_weights, SHARED)   /* weighted policies' weights */       \
	X(MAGLEV_TABLES, maglev_tables, SHARED) /* Maglev lookup tables */             \
	X(VIP_SCHED, vip_sched, SHARED)         /* round-robin state per VIP */        \
	X(BACKEND_CONNS, backend_conns, SHARED) /* least-conn's active flows */        \
	X(NAT_REPLY, nat_reply, SHARED)         /* NAT state, reply direction */       \
	X(NAT_FORWARD, nat_forward, SHARED)     /* NAT state, forward direction */     \
	X(NAT_REPLY6, nat_reply6, SHARED)       /* IPv6 NAT state, reply direction */  \
	X(NAT_FORWARD6, nat_forward6, SHARED)   /* IPv6 NAT state, forward direction */\
	X(VIP_ADDRS, vip_addrs, SHARED)         /* VIP addresses: ICMP settings */     \
	X(VIP_ADDRS6, vip_addrs6, SHARED)       /* IPv6 VIP addresses: ICMPv6 settings */ \
	X(HOST_STATE, host_state, LOADER)       /* what lb-load set: loader/host.h */ \
	X(BACKEND_HEALTH, backend_health, LOADER) /* probe results: loader/health.h */ \
	X(NEXT_HOP_CACHE, next_hop_cache, OWN)  /* encap's per-CPU FIB answers */     \
	X(ICMP_TOKENS, icmp_tokens, OWN)        /* encap's per-CPU ICMP rate limit */

#endif /* LB_MAPS_COMMON_H */
