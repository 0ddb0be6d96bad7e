/* SPDX-License-Identifier: GPL-2.0 */
/* The load-time settings of the stages, one typed struct shared with the
 * loader. Every stage program has one `const volatile struct lb_tunables
 * lb_tunables` (stage.bpf.h) in its .rodata; the loader writes it whole
 * through BTF before load and refuses a stage whose variable is missing or of
 * another size (loader/stages.c), so a field cannot be misspelled or forgotten
 * silently. A stage reads the fields it needs and ignores the others; the
 * verifier sees them as constants and drops the code they switch off.
 */
#ifndef LB_TUNABLES_COMMON_H
#define LB_TUNABLES_COMMON_H

#include <linux/types.h>

struct lb_tunables {
	__u64 flow_timeout_ns;     /* lb, nat: idle time after which a UDP flow is new */
	__u64 nexthop_cache_ns;    /* encap, nat: how long a FIB answer is reused; 0 never */
	__be32 outer_src_addr;     /* ipip, gue: outer source; 0 keeps the client's */
	__be32 nat_src_addr;       /* nat: source toward the backends; 0 no nat VIP */
	__be16 gue_port;           /* gue: UDP destination port (the backends' fou port) */
	__u8 ingress_tx_via_stack; /* encap, nat: the ingress takes no XDP_TX frames */
	__u8 pad;
	__u32 possible_cpus;       /* least-loaded: CPUs of per-CPU maps; 0 unknown (set by
				    * lb_stage_load, not by its callers) */
	__u32 ingress_mtu;         /* encap, nat: the ingress interface's MTU when loaded, the
				    * limit for a backend with a static MAC; 0 unknown: no check */
	__u32 icmp_burst;          /* encap, nat: ICMP errors one CPU may send at once */
	__u64 icmp_interval_ns;    /* encap, nat: one token per this many ns (1e9 / icmp_rate);
				    * 0: no ICMP error is sent (every one rate-limited) */
	__u32 probe_mark;          /* probe encap: the mark base of xdp-lbd's tunnel probes
				    * (LB_PROBE_MARK_*); 0 in the stages */
	__u32 pad2;
	__u8 outer_src_addr6[16];  /* ipip, IPv6 VIPs: outer IPv6 source; all 0 keeps the
				    * client's (outer_source6) */
	__u8 nat_src_addr6[16];    /* nat, IPv6 VIPs: source toward the backends
				    * (nat_source6); all 0: no IPv6 nat VIP */
};

#endif /* LB_TUNABLES_COMMON_H */
