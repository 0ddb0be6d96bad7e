/* SPDX-License-Identifier: GPL-2.0 */
/* The verdict and reason counters of every stage, listed once.
 *
 * LB_COUNTERS(X) expands X(ID, "stage", "reason") for each counter: the BPF side
 * uses the IDs as indexes into the per-CPU counters map, the loader and the
 * tests use the names. Add a counter here and both sides know it.
 */
#ifndef LB_COUNTERS_COMMON_H
#define LB_COUNTERS_COMMON_H

#define LB_COUNTERS(X)                                                                 \
	/* parse: where each frame went */                                             \
	X(PARSE_TO_LB, "parse", "to_lb")                  /* VIP packet entered lb */  \
	X(PARSE_PASS_NOT_IPV4, "parse", "pass_not_ipv4")  /* not IP: ARP, LLDP, ... */ \
	X(PARSE_PASS_NOT_VIP, "parse", "pass_not_vip")    /* IP, no VIP matched */     \
	X(PARSE_PASS_MALFORMED, "parse", "pass_malformed") /* truncated or bad header */ \
	X(PARSE_PASS_FRAGMENT, "parse", "pass_fragment")  /* 1st fragment, port VIP */ \
	X(PARSE_PASS_NO_LB_STAGE, "parse", "pass_no_lb_stage") /* lb slot empty, to_lb too */ \
	X(PARSE_PASS_BAD_POLICY, "parse", "pass_bad_policy") /* VIP names no policy */ \
	X(PARSE_TO_NAT_REPLY, "parse", "to_nat_reply")    /* reply to a NAT mapping */ \
	X(PARSE_PASS_NO_NAT_STAGE, "parse", "pass_no_nat_stage") /* nat slot empty */ \
	X(PARSE_PASS_L2_NOT_UNICAST, "parse", "pass_l2_not_unicast") /* bcast/mcast MAC */ \
	X(PARSE_PASS_L2_OTHER_HOST, "parse", "pass_l2_other_host") /* not our MAC */ \
	X(PARSE_DROP_BAD_IP_CSUM, "parse", "drop_bad_ip_csum") /* IPv4 header checksum */ \
	X(PARSE_DROP_MARTIAN_SRC, "parse", "drop_martian_src") /* 0/8, 127/8, 224/3, VIP */ \
	X(PARSE_TO_ICMP, "parse", "to_icmp")              /* ICMP to a VIP address */ \
	X(PARSE_PASS_NO_ICMP_STAGE, "parse", "pass_no_icmp_stage") /* icmp slot empty */ \
	X(PARSE_PASS_ICMP6_OTHER, "parse", "pass_icmp6_other") /* ICMPv6 to a VIP address \
	  the icmp stage does not handle: NDP, MLD, ... */                              \
	/* parse, IPv6: extension-header chains it does not walk to the end */       \
	X(PARSE_PASS_IPV6_EXT_LIMIT, "parse", "pass_ipv6_ext_limit") /* > 6 or 256 B */ \
	X(PARSE_PASS_IPV6_EXT_TRUNCATED, "parse", "pass_ipv6_ext_truncated") /* cut short */ \
	X(PARSE_PASS_IPV6_EXT_UNKNOWN, "parse", "pass_ipv6_ext_unknown") /* AH, mobility.. */ \
	/* lb: how the backend was found */                                            \
	X(LB_FLOW_HIT, "lb", "flow_hit")                  /* established flow */       \
	X(LB_FLOW_NEW, "lb", "flow_new")                  /* first packet of a flow */ \
	X(LB_FLOW_EXPIRED, "lb", "flow_expired")          /* idle UDP flow re-chosen */ \
	X(LB_FLOW_BACKEND_GONE, "lb", "flow_backend_gone") /* down, emptied, reused */ \
	X(LB_FLOW_UPDATE_FAILED, "lb", "flow_update_failed") /* flow not stored */      \
	X(LB_DROP_NO_BACKEND, "lb", "drop_no_backend")    /* no backend is up */       \
	X(LB_PASS_NO_VIP, "lb", "pass_no_vip")            /* pool id out of range */  \
	X(LB_PASS_NO_ENCAP_STAGE, "lb", "pass_no_encap_stage") /* encap/nat slot empty */ \
	X(LB_STATELESS, "lb", "stateless")                /* hash: placed, not stored */ \
	X(LB_PASS_NO_TABLE, "lb", "pass_no_table")        /* Maglev VIP, no table */   \
	/* encap: what happened to the encapsulated frame */                           \
	X(ENCAP_TX, "encap", "tx")                        /* XDP_TX, same port */      \
	X(ENCAP_REDIRECT, "encap", "redirect")            /* XDP_REDIRECT, devmap */   \
	X(ENCAP_PASS_NO_NEIGH, "encap", "pass_no_neigh")  /* stack resolves the MAC */ \
	X(ENCAP_DROP_MTU, "encap", "drop_mtu")            /* too big once encapsulated */ \
	X(ENCAP_DROP_NO_ROUTE, "encap", "drop_no_route")  /* FIB: no route */          \
	X(ENCAP_DROP_FWD_DISABLED, "encap", "drop_fwd_disabled") /* forwarding off */ \
	X(ENCAP_PASS_TO_STACK, "encap", "pass_to_stack")  /* egress takes no XDP frames */ \
	X(ENCAP_DROP_HEADROOM, "encap", "drop_headroom")  /* adjust_head failed */     \
	X(ENCAP_DROP_BAD_CTX, "encap", "drop_bad_ctx")    /* context/backend invalid */ \
	X(ENCAP_ICMP_FRAG_NEEDED, "encap", "icmp_frag_needed") /* too big, DF: ICMP sent */ \
	X(ENCAP_DROP_ICMP_RATE_LIMITED, "encap", "drop_icmp_rate_limited") /* too big, DF, \
	  no ICMP token left */                                                         \
	X(ENCAP_PASS_TOO_BIG_NO_DF, "encap", "pass_too_big_no_df") /* kernel fragments */ \
	X(ENCAP_ICMP6_PACKET_TOO_BIG, "encap", "icmp6_packet_too_big") /* IPv6 too big: \
	  ICMPv6 sent */                                                                 \
	X(ENCAP_DROP_CSUM_TOO_LONG, "encap", "drop_csum_too_long") /* GUE over IPv6: \
	  frame too long to checksum */                                                 \
	/* nat: why a NAT packet went nowhere (its sends count as encap's) */          \
	X(NAT_DROP_NO_PORT, "nat", "drop_no_port")        /* every port tried taken */ \
	X(NAT_DROP_FRAGMENT, "nat", "drop_fragment")      /* ports unknown, no NAT */  \
	X(NAT_PASS_NO_STATE, "nat", "pass_no_state")      /* reply's mapping expired */ \
	X(NAT_DROP_TTL_EXCEEDED, "nat", "drop_ttl_exceeded") /* TTL <= 1: not forwarded */ \
	X(NAT_DROP_EXT_HEADER, "nat", "drop_ext_header")  /* IPv6 ext. headers: no NAT */ \
	/* probe: xdp-lbd's health probes through the tunnel (LWT program) */         \
	X(PROBE_ENCAP_IPIP, "probe", "encap_ipip")        /* sent IPIP to its backend */ \
	X(PROBE_ENCAP_IPIP6, "probe", "encap_ipip6")      /* sent IP-in-IPv6 to its IPv6 \
	  backend */                                                                     \
	X(PROBE_ENCAP_GUE, "probe", "encap_gue")          /* sent GUE to its backend */ \
	X(PROBE_ENCAP_GUE6, "probe", "encap_gue6")        /* sent GUE over IPv6 to its IPv6 backend */ \
	X(PROBE_DROP_UNKNOWN_MARK, "probe", "drop_unknown_mark") /* no probe's mark */ \
	X(PROBE_DROP_MALFORMED, "probe", "drop_malformed") /* cut, or not wrappable */ \
	X(PROBE_DROP_ENCAP_FAILED, "probe", "drop_encap_failed") /* no room for headers */ \
	/* icmp: ICMP addressed to a VIP address (bpf/encap/icmp.bpf.c) */             \
	X(ICMP_ECHO_REPLY, "icmp", "echo_reply")          /* answered, XDP_TX */       \
	X(ICMP_PASS_ECHO_OFF, "icmp", "pass_echo_off")    /* icmp_echo: false */       \
	X(ICMP_PASS_ECHO_NO_TX, "icmp", "pass_echo_no_tx") /* ingress takes no XDP_TX */ \
	X(ICMP_PASS_ECHO_EXT_HDRS, "icmp", "pass_echo_ext_hdrs") /* ICMPv6 echo request \
	  behind extension headers */                                                   \
	X(ICMP_ERROR_TO_BACKEND, "icmp", "error_to_backend") /* to the flow's backend */ \
	X(ICMP_PASS_ERROR_NO_FLOW, "icmp", "pass_error_no_flow") /* no flow, no backend */ \
	X(ICMP_PASS_ERROR_NO_VIP, "icmp", "pass_error_no_vip") /* quoted port no VIP's */ \
	X(ICMP_PASS_ERROR_MALFORMED, "icmp", "pass_error_malformed") /* quote cut/bad */ \
	X(ICMP_NAT_ERROR_TO_BACKEND, "icmp", "nat_error_to_backend") /* NAT VIP's reply: \
	  translated for the backend */                                                 \
	X(ICMP_NAT_ERROR_TO_CLIENT, "icmp", "nat_error_to_client") /* to nat_source(6): \
	  translated for the client */                                                  \
	X(ICMP_PASS_ERROR_EXT_HDRS, "icmp", "pass_error_ext_hdrs") /* quoted extension \
	  headers not walked: > 6 or 256 B, AH.. */                                     \
	X(ICMP_PASS_FRAGMENT, "icmp", "pass_fragment")    /* ICMP in fragments */      \
	X(ICMP_PASS_OTHER, "icmp", "pass_other")          /* other types, truncated */ \
	X(ICMP_PASS_NO_ENCAP_STAGE, "icmp", "pass_no_encap_stage") /* encap slot empty */ \
	X(ICMP_DROP_BAD_CTX, "icmp", "drop_bad_ctx")      /* context invalid */

#define LB_COUNTER_ENUM_ENTRY(id, stage, reason) LB_C_##id,
enum lb_counter {
	LB_COUNTERS(LB_COUNTER_ENUM_ENTRY)
	LB_COUNTER_MAX,
};
#undef LB_COUNTER_ENUM_ENTRY

/* The drops also counted per VIP (vip_drops map), by the ID of LB_COUNTERS:
 * every drop_* counter of a packet whose VIP is known. A NAT reply has no VIP
 * id (it matched a mapping, not a VIP): its drops count only above.
 * tests/unit/test_metrics.c checks that every drop_* counter is listed here.
 */
#define LB_VIP_DROPS(X)                                                                \
	X(PARSE_DROP_BAD_IP_CSUM)                                                      \
	X(PARSE_DROP_MARTIAN_SRC)                                                      \
	X(LB_DROP_NO_BACKEND)                                                          \
	X(ENCAP_DROP_MTU)                                                              \
	X(ENCAP_DROP_NO_ROUTE)                                                         \
	X(ENCAP_DROP_FWD_DISABLED)                                                     \
	X(ENCAP_DROP_HEADROOM)                                                         \
	X(ENCAP_DROP_BAD_CTX)                                                          \
	X(NAT_DROP_NO_PORT)                                                            \
	X(NAT_DROP_FRAGMENT)                                                           \
	X(NAT_DROP_TTL_EXCEEDED)                                                       \
	X(NAT_DROP_EXT_HEADER)                                                         \
	X(PROBE_DROP_UNKNOWN_MARK)                                                     \
	X(PROBE_DROP_MALFORMED)                                                        \
	X(PROBE_DROP_ENCAP_FAILED)                                                     \
	X(ENCAP_DROP_ICMP_RATE_LIMITED)                                                \
	X(ENCAP_DROP_CSUM_TOO_LONG)                                                        \
	X(ICMP_DROP_BAD_CTX)

#define LB_VIP_DROP_ENUM_ENTRY(id) LB_VD_##id,
enum lb_vip_drop {
	LB_VIP_DROPS(LB_VIP_DROP_ENUM_ENTRY)
	LB_VIP_DROP_MAX,
};
#undef LB_VIP_DROP_ENUM_ENTRY

#endif /* LB_COUNTERS_COMMON_H */
