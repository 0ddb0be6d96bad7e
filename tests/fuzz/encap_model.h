/* SPDX-License-Identifier: GPL-2.0 */
/* What the IPIP encap stage must do with a frame for a given backend, from the
 * next-hop table of docs/architecture.md ("encap: IPIP"), and a check of the
 * frame it sends: outer header field by field, inner packet byte for byte.
 * An IPv6 backend gets the IPv4 packet behind an outer IPv6 header
 * (IPv4-in-IPv6, 40 bytes), from outer_source6; an IPv6 VIP's packet (the
 * inner packet IPv6, an IPv6 backend) the same way (IPv6-in-IPv6), from
 * outer_source6 or else the client's address, a packet too big answered with
 * ICMPv6 "packet too big" instead of IPv4's rules. The gue stage the same with a
 * UDP header behind the outer one (8 bytes more): checksum 0 over IPv4; over
 * IPv6 the checksum the stage derives from the inner packet's own, or, for a
 * fragment, an ICMP error or UDP without a checksum, the sum over the frame
 * (its Ethernet padding cut first).
 */
#ifndef FUZZ_ENCAP_MODEL_H
#define FUZZ_ENCAP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_pipeline.h"
#include "lb_counters_common.h"

struct encap_expect {
	enum lb_counter counter;
	uint32_t verdict;
	bool encapsulated;  /* sent on with the outer header; else dropped as it came */
	bool set_macs;      /* the L2 header gets dmac/smac; else it stays the frame's */
	bool inner6;        /* the inner packet is IPv6 (an IPv6 VIP's) */
	bool frag_needed;   /* answered with ICMP "fragmentation needed", or for an
			     * inner IPv6 packet ICMPv6 "packet too big" (XDP_TX) */
	uint32_t icmp_mtu;  /* ... carrying this next-hop MTU */
	uint8_t dmac[6], smac[6];
	bool outer6;        /* IPv4- or IPv6-in-IPv6: the outer header is IPv6 ... */
	uint8_t src6[16], dst6[16];
	uint32_t label;     /* ... with this flow label */
	uint16_t gue_port;  /* GUE: a UDP header to this port (host order); 0: IPIP */
	uint16_t sport;     /* ... from this source port */
	bool walked;        /* GUE over IPv6: the frame summed, its padding cut */
	const char *why;
};

/* The outcome for @frame (the context @ctx encap gets) sent to @backend;
 * @ingress_mtu is the ingress interface's, the limit of a backend with a
 * static MAC; @outer_src6 the outer source of an IPv6 backend's tunnel;
 * @gue_port the gue stage's port when it is in the encap slot, else 0 (ipip).
 */
void encap_model(const struct fuzz_backend *backend, int ingress, const uint8_t *frame,
		 const struct lb_packet_ctx *ctx, uint32_t ingress_mtu, const uint8_t *outer_src6,
		 uint16_t gue_port, struct encap_expect *out);

/* Checks that @out is @in encapsulated as @exp says, the inner IP packet at
 * @l3 behind an outer header from @outer_src to @outer_dst (for an outer IPv6
 * header, exp's addresses), or the ICMP answer to @in. Returns NULL, or what
 * is wrong in @buf.
 */
const char *encap_check(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len,
			size_t l3, const struct encap_expect *exp, uint32_t outer_src,
			uint32_t outer_dst, char *buf, size_t buf_len);

#endif /* FUZZ_ENCAP_MODEL_H */
