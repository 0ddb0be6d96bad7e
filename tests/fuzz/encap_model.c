// SPDX-License-Identifier: GPL-2.0
/* The documented encap outcomes and the outer header check; see encap_model.h. */
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "encap_model.h"
#include "flow_hash_common.h"
#include "packet.h"

#define OUTER_LEN 20
#define OUTER_LEN6 40
#define IPPROTO_IPV4_ 4 /* an IPv6 next header */
#define IPPROTO_IPV6_ 41
/* The longest ICMP answer: an ICMPv6 packet too big, L2 (18 at most), 48
 * bytes and its quote (IPv4's fragmentation needed is at most 128).
 */
#define FRAME_MAX_ICMP (18 + 48 + PKT_PTB_QUOTE_MAX)
#define IPV6_MIN_MTU 1280
#define OUTER_TTL 64
#define IPPROTO_IPIP_ 4
#define IP_DF_HIGH_BYTE 0x40 /* DF in the first byte of frag_off */
#define IP_DF 0x4000
#define IP_OFFSET 0x1fff
#define GUE_UDP_LEN 8
#define GUE_SPORT_BASE 0xc000
#define GUE_SPORT_HASH_BITS 0x3fff

/* Notes the rule that decided; returns its counter. */
static enum lb_counter rule(struct encap_expect *out, enum lb_counter counter, const char *why)
{
	out->why = why;
	return counter;
}

/* Too big for @limit once encapsulated (docs/operations.md, "Packets too big
 * once encapsulated"): without DF the kernel gets it, encapsulated, to
 * fragment; with DF the client gets ICMP "fragmentation needed" carrying the
 * limit less the outer header; never about an ICMP error the icmp stage
 * forwards, nor about a later fragment. An IPv6 packet has no DF (no router
 * fragments it): ICMPv6 "packet too big", never advertising less than 1280.
 */
static enum lb_counter too_big(const uint8_t *frame, const struct lb_packet_ctx *ctx,
			       uint32_t limit, uint32_t outer_len, struct encap_expect *out)
{
	uint16_t frag = pkt_get16(frame + ctx->l3_offset + 6);

	if (ctx->flags & LB_CTX_F_IPV6) {
		if (ctx->flags & (LB_CTX_F_ICMP_ERROR | LB_CTX_F_LATER_FRAGMENT))
			return rule(out, LB_C_ENCAP_DROP_MTU, "too big, IPv6: no ICMPv6 about it");
		out->frag_needed = true;
		out->icmp_mtu = limit > outer_len + IPV6_MIN_MTU ? limit - outer_len : IPV6_MIN_MTU;
		return rule(out, LB_C_ENCAP_ICMP6_PACKET_TOO_BIG,
			    "too big, IPv6: ICMPv6 packet too big");
	}
	if (!(frag & IP_DF))
		return rule(out, LB_C_ENCAP_PASS_TOO_BIG_NO_DF, "too big, no DF: the kernel fragments");
	if ((ctx->flags & LB_CTX_F_ICMP_ERROR) || (frag & IP_OFFSET))
		return rule(out, LB_C_ENCAP_DROP_MTU, "too big, DF: no ICMP about it");
	out->frag_needed = true;
	out->icmp_mtu = (uint16_t)(limit - outer_len);
	return rule(out, LB_C_ENCAP_ICMP_FRAG_NEEDED, "too big, DF: ICMP fragmentation needed");
}

/* A backend with a static MAC skips the FIB: back out of the ingress, to its
 * MAC, from the frame's destination MAC (the ingress interface's: the frame
 * was sent to this host), within the ingress MTU. Otherwise the order is the
 * kernel FIB's, as the table in docs/architecture.md lists it: route first,
 * then the MTU of the egress, then the neighbour. An IPv6 backend's outer
 * header is 40 bytes; without an outer_source6 to send from, the stage drops
 * an IPv4 packet for it (an IPv6 one goes from the client's address), and an
 * IPv6 packet for an IPv4 backend. GUE adds its 8-byte UDP header (@gue).
 */
static enum lb_counter decide(const struct fuzz_backend *backend, int ingress,
			      const uint8_t *frame, const struct lb_packet_ctx *ctx,
			      uint32_t ingress_mtu, const uint8_t *outer_src6, bool gue,
			      struct encap_expect *out)
{
	static const uint8_t unset6[16];
	const struct fuzz_route *route = &backend->route;
	uint32_t outer_len = (route->ipv6 ? OUTER_LEN6 : OUTER_LEN) + (gue ? GUE_UDP_LEN : 0);

	bool inner6 = ctx->flags & LB_CTX_F_IPV6;

	if (inner6 && !route->ipv6)
		return rule(out, LB_C_ENCAP_DROP_BAD_CTX, "IPv6 packet, IPv4 backend");
	if (!inner6 && route->ipv6 && !memcmp(outer_src6, unset6, 16))
		return rule(out, LB_C_ENCAP_DROP_BAD_CTX, "IPv6 backend, no outer_source6");
	if (backend->entry.flags & LB_BACKEND_F_STATIC_MAC) {
		if ((uint32_t)ctx->ip_tot_len + outer_len > ingress_mtu)
			return too_big(frame, ctx, ingress_mtu, outer_len, out);
		out->set_macs = true;
		memcpy(out->dmac, backend->entry.mac, 6);
		memcpy(out->smac, frame, 6);
		return rule(out, LB_C_ENCAP_TX, "static MAC: out of the ingress, no FIB");
	}
	if (!route->egress)
		return rule(out, LB_C_ENCAP_DROP_NO_ROUTE, "no route to the backend");
	if ((uint32_t)ctx->ip_tot_len + outer_len > route->egress_mtu)
		return too_big(frame, ctx, route->egress_mtu, outer_len, out);
	if (route->has_neigh) {
		/* A port that cannot send XDP frames: the kernel forwards the
		 * frame, which keeps the Ethernet header it came with.
		 */
		if (route->egress != ingress && !route->in_tx_ports)
			return rule(out, LB_C_ENCAP_PASS_TO_STACK, "egress not in tx_ports");
		out->set_macs = true;
		memcpy(out->dmac, route->neigh_mac, 6);
		memcpy(out->smac, route->egress_mac, 6);
		if (route->egress == ingress)
			return rule(out, LB_C_ENCAP_TX, "neighbour behind the ingress");
		return rule(out, LB_C_ENCAP_REDIRECT, "neighbour behind another port");
	}
	return rule(out, LB_C_ENCAP_PASS_NO_NEIGH, "no neighbour: the kernel forwards it");
}

/* Whether the gue stage over IPv6 sums the frame for the UDP checksum: where
 * the inner packet's own checksum does not give the sum of its L4 segment (an
 * ICMP error it forwards, a fragment, no TCP or UDP, UDP without checksum,
 * IPv6 extension headers in front of it).
 */
static bool gue6_walks(const uint8_t *frame, const struct lb_packet_ctx *ctx)
{
	if (ctx->flags & (LB_CTX_F_ICMP_ERROR | LB_CTX_F_FRAGMENT))
		return true;
	if ((ctx->flags & LB_CTX_F_IPV6) && ctx->l4_offset != ctx->l3_offset + OUTER_LEN6)
		return true;
	if (ctx->l4_proto == IPPROTO_UDP)
		return pkt_get16(frame + ctx->l4_offset + 6) == 0;
	return ctx->l4_proto != IPPROTO_TCP;
}

void encap_model(const struct fuzz_backend *backend, int ingress, const uint8_t *frame,
		 const struct lb_packet_ctx *ctx, uint32_t ingress_mtu, const uint8_t *outer_src6,
		 uint16_t gue_port, struct encap_expect *out)
{
	static const uint8_t unset6[16];

	memset(out, 0, sizeof(*out));
	out->inner6 = ctx->flags & LB_CTX_F_IPV6;
	out->counter = decide(backend, ingress, frame, ctx, ingress_mtu, outer_src6, gue_port,
			      out);
	if (gue_port) {
		out->gue_port = gue_port;
		out->sport = (uint16_t)(GUE_SPORT_BASE |
					(lb_ctx_flow_hash(ctx) & GUE_SPORT_HASH_BITS));
		out->walked = backend->route.ipv6 && gue6_walks(frame, ctx);
	}
	if (backend->route.ipv6) {
		/* The flow label from the hash of the flow encap was given; an
		 * IPv6 packet without outer_source6 goes from its client.
		 */
		out->outer6 = true;
		out->label = lb_ctx_flow_hash(ctx) & 0xfffff;
		memcpy(out->src6, out->inner6 && !memcmp(outer_src6, unset6, 16) ?
			   ctx->flow6.src : outer_src6, 16);
		memcpy(out->dst6, backend->route.addr6, 16);
	}
	switch (out->counter) {
	case LB_C_ENCAP_TX:
		out->verdict = XDP_TX;
		break;
	case LB_C_ENCAP_REDIRECT:
		out->verdict = XDP_REDIRECT;
		break;
	case LB_C_ENCAP_PASS_NO_NEIGH:
	case LB_C_ENCAP_PASS_TO_STACK:
	case LB_C_ENCAP_PASS_TOO_BIG_NO_DF:
		out->verdict = XDP_PASS;
		out->set_macs = false;
		break;
	case LB_C_ENCAP_ICMP_FRAG_NEEDED:
	case LB_C_ENCAP_ICMP6_PACKET_TOO_BIG:
		out->verdict = XDP_TX;
		out->set_macs = false;
		out->encapsulated = false;
		return;
	default:
		/* A drop leaves the frame as it came. */
		out->verdict = XDP_DROP;
		out->set_macs = false;
	}
	out->encapsulated = out->verdict != XDP_DROP;
}

#define WRONG(...) (snprintf(buf, buf_len, __VA_ARGS__), buf)

/* The one's complement sum over the IPv4 pseudo-header (@src, @dst, @proto)
 * and the @len bytes of L4 segment @seg, checksum field included, folded to
 * 16 bits, mod 0xffff (0xffff and 0 are both zero): 0 for an intact segment.
 */
static uint32_t sum_mod(const uint8_t *src, const uint8_t *dst, uint8_t proto,
			const uint8_t *seg, size_t len)
{
	uint32_t s, d;
	uint16_t check;

	memcpy(&s, src, 4);
	memcpy(&d, dst, 4);
	check = pkt_l4_csum(s, d, proto, seg, len);

	/* pkt_l4_csum*() complement the folded sum, in network byte order. */
	return (uint16_t)~ntohs(check) % 0xffff;
}

/* The IP packet at @inner (IPv6: @inner6): its length, header included. */
static size_t inner_len(const uint8_t *inner, bool inner6)
{
	return inner6 ? OUTER_LEN6 + (size_t)pkt_get16(inner + 4) : pkt_get16(inner + 2);
}

/* sum_mod() of the inner packet at @inner: its L4 segment behind the fixed
 * header (IPv6: no extension headers, else the stage sums the frame) with its
 * family's pseudo-header.
 */
static uint32_t inner_sum_mod(const uint8_t *inner, bool inner6)
{
	size_t len = inner_len(inner, inner6), ihl = (size_t)(inner[0] & 0x0f) * 4;
	uint16_t check;

	if (!inner6)
		return sum_mod(inner + 12, inner + 16, inner[9], inner + ihl, len - ihl);
	check = pkt_l4_csum6(inner + 8, inner + 24, inner[6], inner + OUTER_LEN6,
			     len - OUTER_LEN6);
	return (uint16_t)~ntohs(check) % 0xffff;
}

/* The traffic class of the inner packet at @inner: IPv4's TOS, IPv6's own. */
static uint8_t inner_tclass(const uint8_t *inner, bool inner6)
{
	return inner6 ? (uint8_t)((inner[0] & 0x0f) << 4 | inner[1] >> 4) : inner[1];
}

/* The UDP checksum the gue stage must write over IPv6 for the IP packet at
 * @inner (IPv6: @inner6) behind @udp (its first 6 bytes as sent) and the outer header @outer.
 * Summed over the frame: the plain checksum over the pseudo-header and the
 * segment (a computed 0 sent as 0xffff). Else derived from the inner L4
 * checksum, which leaves the outer checksum as right or wrong as the inner
 * one: it must make the outer sum (mod 0xffff) the inner one's, and a result
 * of 0 sends the stage to summing the frame instead.
 */
static uint16_t gue6_check(const uint8_t *outer, const uint8_t *udp, const uint8_t *inner,
			   bool inner6, bool walked)
{
	static uint8_t seg[GUE_UDP_LEN + OUTER_LEN6 + 65536];
	size_t len = inner_len(inner, inner6);
	uint32_t full, derived;

	memcpy(seg, udp, 6);
	memset(seg + 6, 0, 2);
	memcpy(seg + GUE_UDP_LEN, inner, len);
	/* The checksum field's value that makes the outer sum all ones. */
	full = ntohs(pkt_l4_csum6(outer + 8, outer + 24, IPPROTO_UDP, seg, GUE_UDP_LEN + len));
	if (!walked) {
		derived = (full + inner_sum_mod(inner, inner6)) % 0xffff;
		if (derived)
			return (uint16_t)derived;
	}
	return full ? (uint16_t)full : 0xffff;
}

/* The GUE UDP header at @udp in front of the inner packet at @inner (over
 * IPv6 @outer6, else NULL): ports, length and checksum as @exp says.
 */
static const char *gue_udp_check(const uint8_t *udp, const uint8_t *inner, const uint8_t *outer6,
				 const struct encap_expect *exp, char *buf, size_t buf_len)
{
	uint16_t check = outer6 ? gue6_check(outer6, udp, inner, exp->inner6, exp->walked) : 0;
	size_t len = inner_len(inner, exp->inner6);

	if (pkt_get16(udp) != exp->sport || pkt_get16(udp + 2) != exp->gue_port)
		return WRONG("GUE ports %u -> %u, expected %u -> %u", pkt_get16(udp),
			     pkt_get16(udp + 2), exp->sport, exp->gue_port);
	if (pkt_get16(udp + 4) != len + GUE_UDP_LEN)
		return WRONG("GUE UDP length %u, expected the inner %zu + 8", pkt_get16(udp + 4),
			     len);
	if (pkt_get16(udp + 6) != check)
		return WRONG("GUE UDP checksum 0x%04x, expected 0x%04x%s", pkt_get16(udp + 6),
			     check, outer6 ? (exp->walked ? " (summed)" : " (derived)") : "");
	return NULL;
}

/* encap_check() behind the MACs of an IPv4- or IPv6-in-IPv6 frame: the
 * EtherType IPv6 (the tag kept), version 6, traffic class the inner packet's
 * (IPv4's TOS), the flow label, payload length the inner packet's (and GUE's
 * UDP header), next header 4 or 41 (GUE: 17), hop limit 64, the addresses,
 * the inner packet and what follows it unchanged (GUE's summed frames:
 * nothing follows).
 */
static const char *encap_check6(const uint8_t *in, size_t in_len, const uint8_t *out, size_t l3,
				const struct encap_expect *exp, char *buf, size_t buf_len)
{
	const uint8_t *inner = in + l3, *outer = out + l3;
	uint32_t label = (uint32_t)(outer[1] & 0x0f) << 16 | pkt_get16(outer + 2);
	size_t own = exp->gue_port ? GUE_UDP_LEN : 0, len = inner_len(inner, exp->inner6);
	uint8_t next = exp->gue_port ? IPPROTO_UDP : exp->inner6 ? IPPROTO_IPV6_ : IPPROTO_IPV4_;
	uint8_t tclass = inner_tclass(inner, exp->inner6);
	const char *wrong;

	if (memcmp(out + 12, in + 12, l3 - 14) || pkt_get16(out + l3 - 2) != 0x86dd)
		return WRONG("VLAN tag changed or EtherType 0x%04x, expected IPv6",
			     pkt_get16(out + l3 - 2));
	if (outer[0] >> 4 != 6)
		return WRONG("outer version %u, expected 6", outer[0] >> 4);
	if (inner_tclass(outer, true) != tclass)
		return WRONG("outer traffic class 0x%02x, expected the inner 0x%02x",
			     inner_tclass(outer, true), tclass);
	if (label != exp->label)
		return WRONG("flow label 0x%05x, expected 0x%05x", label, exp->label);
	if (pkt_get16(outer + 4) != len + own)
		return WRONG("outer payload length %u, expected the inner length %zu + %zu",
			     pkt_get16(outer + 4), len, own);
	if (outer[6] != next || outer[7] != OUTER_TTL)
		return WRONG("outer next header %u hop limit %u, expected %d and %d", outer[6],
			     outer[7], next, OUTER_TTL);
	if (memcmp(outer + 8, exp->src6, 16) || memcmp(outer + 24, exp->dst6, 16))
		return WRONG("outer IPv6 addresses");
	if (exp->gue_port) {
		wrong = gue_udp_check(outer + OUTER_LEN6, inner, outer, exp, buf, buf_len);
		if (wrong)
			return wrong;
	}
	if (memcmp(outer + OUTER_LEN6 + own, inner, exp->walked ? len : in_len - l3))
		return WRONG("the inner packet (or the padding behind it) changed");
	return NULL;
}

const char *encap_check(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len,
			size_t l3, const struct encap_expect *exp, uint32_t outer_src,
			uint32_t outer_dst, char *buf, size_t buf_len)
{
	const uint8_t *inner = in + l3, *outer = out + l3;
	size_t own = exp->gue_port ? GUE_UDP_LEN : 0;
	size_t outer_len = (exp->outer6 ? OUTER_LEN6 : OUTER_LEN) + own;
	/* A frame GUE summed loses the Ethernet padding behind its packet. */
	size_t want_len = exp->walked ? l3 + inner_len(inner, exp->inner6) + outer_len :
					in_len + outer_len;
	uint8_t protocol = exp->gue_port ? IPPROTO_UDP : IPPROTO_IPIP_;
	static uint8_t want[FRAME_MAX_ICMP];
	const char *wrong;

	if (exp->frag_needed) {
		want_len = exp->inner6 ? pkt_packet_too_big(in, l3, 1, exp->icmp_mtu, want) :
			pkt_frag_needed(in, l3, 1, (uint16_t)exp->icmp_mtu, want);
		if (out_len != want_len || memcmp(out, want, want_len))
			return WRONG("not the ICMP%s expected (%zu bytes, got %zu)",
				     exp->inner6 ? "v6 packet too big" : " fragmentation needed",
				     want_len, out_len);
		return NULL;
	}

	if (out_len != want_len)
		return WRONG("length %zu, expected %zu", out_len, want_len);
	if (memcmp(out, exp->set_macs ? exp->dmac : in, 6))
		return WRONG("destination MAC");
	if (memcmp(out + 6, exp->set_macs ? exp->smac : in + 6, 6))
		return WRONG("source MAC");
	if (exp->outer6)
		return encap_check6(in, in_len, out, l3, exp, buf, buf_len);
	if (memcmp(out + 12, in + 12, l3 - 12))
		return WRONG("EtherType or VLAN tag changed");
	if (outer[0] != 0x45)
		return WRONG("outer version/IHL 0x%02x, expected 0x45", outer[0]);
	if (outer[1] != inner[1])
		return WRONG("outer TOS 0x%02x, expected the inner 0x%02x", outer[1], inner[1]);
	if (pkt_get16(outer + 2) != pkt_get16(inner + 2) + outer_len)
		return WRONG("outer total length %u, expected %u + %zu", pkt_get16(outer + 2),
			     pkt_get16(inner + 2), outer_len);
	if (memcmp(outer + 4, inner + 4, 2))
		return WRONG("outer id differs from the inner one");
	if (outer[6] != (inner[6] & IP_DF_HIGH_BYTE) || outer[7] != 0)
		return WRONG("outer frag_off 0x%04x, expected the inner DF only", pkt_get16(outer + 6));
	if (outer[8] != OUTER_TTL || outer[9] != protocol)
		return WRONG("outer TTL %u protocol %u, expected %d and %d", outer[8], outer[9],
			     OUTER_TTL, protocol);
	if (pkt_csum(outer, OUTER_LEN) != 0) /* a right checksum sums to 0 */
		return WRONG("outer header checksum 0x%04x is wrong", pkt_get16(outer + 10));
	if (memcmp(outer + 12, &outer_src, 4) || memcmp(outer + 16, &outer_dst, 4))
		return WRONG("outer addresses");
	if (exp->gue_port) {
		wrong = gue_udp_check(outer + OUTER_LEN, inner, NULL, exp, buf, buf_len);
		if (wrong)
			return wrong;
	}
	if (memcmp(outer + OUTER_LEN + own, inner, in_len - l3))
		return WRONG("the inner packet (or the padding behind it) changed");
	return NULL;
}
