/* SPDX-License-Identifier: GPL-2.0 */
/* What the parse stage must do with a frame, worked out in userspace from the
 * documented rules (docs/architecture.md "parse", docs/operations.md
 * "Counters"), not from the BPF code: the parse counter it moves (a drop_
 * counter means XDP_DROP, any other XDP_PASS unless to_lb) and, for a VIP
 * frame, the packet context it hands to lb. The fuzzer compares the real
 * pipeline with this on every frame.
 */
#ifndef FUZZ_PARSE_MODEL_H
#define FUZZ_PARSE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_counters_common.h"
#include "lb_structs_common.h"

/* A VIP as parse looks it up. */
struct model_vip {
	uint32_t addr; /* network byte order */
	uint16_t port; /* host byte order, 0 = every port */
	uint8_t proto;
	bool ipv6;          /* an IPv6 VIP: addr6, not addr */
	uint8_t addr6[16];
	bool icmp_echo;     /* the address answers echo requests */
};

struct parse_expect {
	enum lb_counter counter; /* the one parse counter the frame moves */
	int vip;                 /* index into the VIP table, -1 unless to_lb or to_icmp
				  * (then the address's first VIP) */
	struct lb_packet_ctx ctx; /* what parse hands on, when to_lb or to_icmp (vip_id
				   * and pool_id left to the caller) */
	const char *why;         /* the rule that decided, for messages */
};

/* Classifies @len bytes of @frame against @vips, for a parse that knows its
 * interface's MAC @if_mac (NULL: unknown, as when the loader sets none).
 */
/* The index of VIP (@addr, @port, @proto) in @vips (port 0: the wildcard
 * entry), or -1.
 */
int model_vip_find(const struct model_vip *vips, size_t count, uint32_t addr, uint16_t port,
		   uint8_t proto);

/* ... among the IPv6 VIPs, @addr 16 bytes. */
int model_vip_find6(const struct model_vip *vips, size_t count, const uint8_t *addr,
		    uint16_t port, uint8_t proto);

/* How a walk of IPv6 extension headers ended (docs/operations.md, IPv6):
 * hop-by-hop, routing, destination options and fragment headers walked, at
 * most 6 of them and 256 bytes, each inside @len and @payload_len bytes.
 */
enum model_walk6 {
	MODEL_WALK6_DONE,      /* *next is the upper layer at *pos (a later fragment's data) */
	MODEL_WALK6_TRUNCATED, /* a header beyond the frame or the payload length */
	MODEL_WALK6_LIMIT,     /* more than 6 headers or 256 bytes */
	MODEL_WALK6_UNKNOWN,   /* authentication, mobility, HIP, shim6, 253, 254 */
	MODEL_WALK6_MALFORMED, /* hop-by-hop not first, two fragment headers */
};

/* The headers from @pos (behind a fixed header whose next header is *next);
 * *frag_off gets a fragment header's field, *why the rule that stopped it.
 */
enum model_walk6 model_walk6(const uint8_t *frame, size_t len, size_t payload_len, size_t *pos,
			     uint8_t *next, uint16_t *frag_off, const char **why);

void parse_model(const uint8_t *frame, size_t len, const struct model_vip *vips,
		 size_t vip_count, const uint8_t *if_mac, struct parse_expect *out);

/* The IPv6 NAT mappings in nat_reply6 (their reply 5-tuples), which parse
 * hands to the nat slot; the table is copied, at most MODEL_MAX_NAT6.
 */
#define MODEL_MAX_NAT6 8
void parse_model_set_nat6(const struct lb_flow6_key *replies, size_t count);

#endif /* FUZZ_PARSE_MODEL_H */
