/* SPDX-License-Identifier: GPL-2.0 */
/* The documented icmp stage rules (docs/operations.md, "ICMP" and "ICMPv6 to
 * IPv6 VIP addresses"), as a userspace
 * reference for the packet fuzzer: what the stage does with an ICMP frame parse
 * handed it, short of the flow lookup, which the fuzzer's flow record answers.
 */
#ifndef FUZZ_ICMP_MODEL_H
#define FUZZ_ICMP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_counters_common.h"
#include "lb_structs_common.h"
#include "parse_model.h"

enum icmp_outcome {
	ICMP_TO_KERNEL, /* XDP_PASS, unchanged, counted as .counter */
	ICMP_REPLY,     /* echo reply by XDP_TX: icmp.echo_reply */
	ICMP_FORWARD,   /* an error about .flow: to its backend if the flow is known */
};

struct icmp_expect {
	enum icmp_outcome outcome;
	enum lb_counter counter; /* ICMP_TO_KERNEL's */
	union {                   /* ICMP_FORWARD: the flow table key the quote names */
		struct lb_flow_key flow;
		struct lb_flow6_key flow6; /* ipv6 */
	};
	bool ipv6;                /* ICMPv6 (LB_CTX_F_IPV6): flow6 */
	int vip;                 /* ICMP_FORWARD: the quoted packet's VIP (index) */
	const char *why;
};

/* @ctx is what parse handed on (offsets, addresses, flags), @addr_vip the
 * first VIP of the frame's destination address.
 */
void icmp_model(const uint8_t *frame, const struct lb_packet_ctx *ctx,
		const struct model_vip *vips, size_t vip_count, int addr_vip,
		struct icmp_expect *out);

#endif /* FUZZ_ICMP_MODEL_H */
