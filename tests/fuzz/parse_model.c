// SPDX-License-Identifier: GPL-2.0
/* The documented parse rules, as a userspace reference; see parse_model.h.
 *
 * From docs/architecture.md: Ethernet plus at most one 802.1Q tag, IPv4
 * (options allowed), UDP or TCP. Malformed (truncated, bad IHL, total length
 * beyond the frame, UDP length beyond the IP payload, TCP data offset out of
 * range) passes as pass_malformed; not IPv4 as pass_not_ipv4; IPv4 that is not
 * a VIP's (another protocol, address or port) as pass_not_vip. VIP lookup by
 * (address, port, protocol), then the port wildcard. Fragments match only the
 * wildcard VIP, with ports 0 in the flow key; without one a first fragment
 * whose ports match a port VIP is pass_fragment, any other pass_not_vip.
 * A frame that matched a VIP (a fragment too) is then judged, in this order:
 * Ethernet destination with the group bit set: pass_l2_not_unicast; another
 * unicast MAC than the interface's (when that is known): pass_l2_other_host;
 * a wrong IPv4 header checksum, options included: drop_bad_ip_csum; a source
 * in 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 or 240.0.0.0/4, or equal to the
 * destination: drop_martian_src.
 * ICMP to an address that carries a VIP (any port, any protocol) goes to the
 * icmp slot (to_icmp) after the same checks, whatever its type and length,
 * fragments flagged; ICMP to another address is pass_not_vip.
 *
 * IPv6 (classify6()): the fixed header (version 6, 40 bytes + payload length
 * inside the frame, else pass_malformed), then extension headers: hop-by-hop
 * (first only, else pass_malformed), routing and destination options
 * ((length + 1) * 8 bytes), fragment (8 bytes, one only, else pass_malformed;
 * behind a later fragment's nothing is read); at most 6 of them and 256 bytes
 * (pass_ipv6_ext_limit), each inside the frame and the payload length
 * (pass_ipv6_ext_truncated); authentication, mobility, HIP, shim6, 253 and
 * 254 are not walked (pass_ipv6_ext_unknown). Then UDP or TCP as IPv4's,
 * looked up among the IPv6 VIPs, the same fragment rules by the fragment
 * header's offset and M bit, the same Ethernet destination checks, no header
 * checksum, and a martian source: ::, ::1, ::ffff:0:0/96, ff00::/8,
 * fe80::/10, or the destination. A whole UDP or TCP packet that matches no
 * IPv6 VIP but a mapping of nat_reply6 by its 5-tuple is a NAT reply: the same
 * checks, then to_nat_reply.
 * ICMPv6 to an address that carries an IPv6 VIP: a fragment, or a whole
 * message whose first 4 bytes lie inside the frame and the payload
 * (pass_malformed) and whose type is an echo request (128) or an error (1-4)
 * goes to the icmp slot after the same checks; any other type (neighbour
 * discovery, MLD, ...) is pass_icmp6_other before them. ICMPv6 to another
 * address is pass_not_vip.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "packet.h"
#include "parse_model.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IP6_MF 0x0001
#define IP6_OFFSET 0xfff8
#define IP6_MAX_EXT_HDRS 6
#define IP6_MAX_EXT_LEN 256
#define TPID_8021Q 0x8100
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

int model_vip_find(const struct model_vip *vips, size_t count, uint32_t addr, uint16_t port,
		   uint8_t proto)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!vips[i].ipv6 && vips[i].addr == addr && vips[i].port == port &&
		    vips[i].proto == proto)
			return (int)i;
	return -1;
}

int model_vip_find6(const struct model_vip *vips, size_t count, const uint8_t *addr,
		    uint16_t port, uint8_t proto)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (vips[i].ipv6 && !memcmp(vips[i].addr6, addr, 16) && vips[i].port == port &&
		    vips[i].proto == proto)
			return (int)i;
	return -1;
}

/* The first VIP of address @addr, whatever its port and protocol. */
static int addr_find(const struct model_vip *vips, size_t count, uint32_t addr)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!vips[i].ipv6 && vips[i].addr == addr)
			return (int)i;
	return -1;
}

/* The first IPv6 VIP of address @addr, whatever its port and protocol. */
static int addr_find6(const struct model_vip *vips, size_t count, const uint8_t *addr)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (vips[i].ipv6 && !memcmp(vips[i].addr6, addr, 16))
			return (int)i;
	return -1;
}

/* Notes the rule that decided; returns its counter. */
static enum lb_counter rule(struct parse_expect *out, enum lb_counter counter, const char *why)
{
	out->why = why;
	return counter;
}

/* The fragment rules. @l4 and @l4_len: where the L4 header of a first fragment
 * would be, and how much IP payload there is.
 */
static enum lb_counter fragment(const uint8_t *frame, size_t len, const struct model_vip *vips,
				size_t count, size_t l4, size_t l4_len, bool first,
				struct parse_expect *out)
{
	struct lb_packet_ctx *ctx = &out->ctx;

	out->vip = model_vip_find(vips, count, ctx->flow.dst, 0, ctx->flow.proto);
	if (out->vip >= 0) {
		ctx->flags |= LB_CTX_F_FRAGMENT;
		return rule(out, LB_C_PARSE_TO_LB, "fragment to a wildcard VIP");
	}
	if (!first)
		return rule(out, LB_C_PARSE_PASS_NOT_VIP, "later fragment, no wildcard VIP");
	if (l4 + 4 > len || l4_len < 4)
		return rule(out, LB_C_PARSE_PASS_NOT_VIP, "first fragment without both ports");
	if (model_vip_find(vips, count, ctx->flow.dst, pkt_get16(frame + l4 + 2),
			   ctx->flow.proto) >= 0)
		return rule(out, LB_C_PARSE_PASS_FRAGMENT, "first fragment to a port VIP");
	return rule(out, LB_C_PARSE_PASS_NOT_VIP, "first fragment, no VIP");
}

/* The ports of a whole packet: the L4 header must lie inside the IP payload.
 * Returns pass_malformed, or LB_COUNTER_MAX when the ports are in the context.
 */
static enum lb_counter ports(const uint8_t *frame, size_t len, size_t l4, size_t l4_len,
			     uint8_t proto, uint16_t *sport, uint16_t *dport,
			     struct parse_expect *out)
{
	size_t hdr_len;

	if (proto == IPPROTO_UDP) {
		if (l4 + 8 > len)
			return rule(out, LB_C_PARSE_PASS_MALFORMED, "UDP header truncated");
		hdr_len = pkt_get16(frame + l4 + 4);
		if (hdr_len < 8 || hdr_len > l4_len)
			return rule(out, LB_C_PARSE_PASS_MALFORMED, "UDP length out of range");
	} else {
		if (l4 + 20 > len)
			return rule(out, LB_C_PARSE_PASS_MALFORMED, "TCP header truncated");
		hdr_len = (size_t)(frame[l4 + 12] >> 4) * 4;
		if (hdr_len < 20 || l4 + hdr_len > len || hdr_len > l4_len)
			return rule(out, LB_C_PARSE_PASS_MALFORMED, "TCP data offset out of range");
	}
	memcpy(sport, frame + l4, 2);
	memcpy(dport, frame + l4 + 2, 2);
	return LB_COUNTER_MAX;
}

/* What a frame that matched a VIP must pass before it is balanced. @l3 and
 * @ihl: the IPv4 header, checked whole in the frame. Returns the counter, or
 * LB_COUNTER_MAX to go on.
 */
/* The Ethernet destination of a VIP frame, both families. */
static enum lb_counter l2_frame(const uint8_t *frame, const uint8_t *if_mac,
				struct parse_expect *out)
{
	if (frame[0] & 1)
		return rule(out, LB_C_PARSE_PASS_L2_NOT_UNICAST, "VIP, group destination MAC");
	if (if_mac && memcmp(frame, if_mac, 6))
		return rule(out, LB_C_PARSE_PASS_L2_OTHER_HOST, "VIP, another host's MAC");
	return LB_COUNTER_MAX;
}

static enum lb_counter vip_frame(const uint8_t *frame, size_t l3, size_t ihl,
				 const uint8_t *if_mac, struct parse_expect *out)
{
	const struct lb_flow_key *flow = &out->ctx.flow;
	uint8_t first = ((const uint8_t *)&flow->src)[0];
	enum lb_counter counter = l2_frame(frame, if_mac, out);

	if (counter != LB_COUNTER_MAX)
		return counter;
	if (pkt_csum(frame + l3, ihl) != 0) /* a right checksum sums to 0 */
		return rule(out, LB_C_PARSE_DROP_BAD_IP_CSUM, "VIP, wrong IPv4 header checksum");
	if (first == 0 || first == 127 || first >= 224)
		return rule(out, LB_C_PARSE_DROP_MARTIAN_SRC, "VIP, martian source");
	if (flow->src == flow->dst)
		return rule(out, LB_C_PARSE_DROP_MARTIAN_SRC, "VIP, the VIP as source");
	return LB_COUNTER_MAX;
}

/* 1: an extension header the walk follows; -1: one it does not; 0: upper layer. */
static int ext_kind(uint8_t next)
{
	switch (next) {
	case 0: case 43: case 44: case 60:
		return 1;
	case 51: case 135: case 139: case 140: case 253: case 254:
		return -1;
	default:
		return 0;
	}
}

static enum model_walk6 walk_stop(const char **why, enum model_walk6 stop, const char *text)
{
	*why = text;
	return stop;
}

enum model_walk6 model_walk6(const uint8_t *frame, size_t len, size_t payload_len, size_t *pos,
			     uint8_t *next, uint16_t *frag_off, const char **why)
{
	size_t used = 0, hdr_len, i;
	bool fragment = false;

	for (i = 0; i < IP6_MAX_EXT_HDRS; i++) {
		if (ext_kind(*next) < 0)
			return walk_stop(why, MODEL_WALK6_UNKNOWN, "IPv6 header not walked");
		if (!ext_kind(*next))
			return MODEL_WALK6_DONE;
		if (*next == 0 && i)
			return walk_stop(why, MODEL_WALK6_MALFORMED, "hop-by-hop not first");
		if (*next == 44) {
			if (used + 8 > IP6_MAX_EXT_LEN)
				return walk_stop(why, MODEL_WALK6_LIMIT, "over 256 header bytes");
			if (*pos + 8 > len || used + 8 > payload_len)
				return walk_stop(why, MODEL_WALK6_TRUNCATED,
						 "fragment header truncated");
			if (fragment)
				return walk_stop(why, MODEL_WALK6_MALFORMED, "two fragment headers");
			fragment = true;
			*frag_off = pkt_get16(frame + *pos + 2);
			*next = frame[*pos];
			*pos += 8;
			used += 8;
			if (*frag_off & IP6_OFFSET)
				return MODEL_WALK6_DONE;
			continue;
		}
		if (*pos + 8 > len)
			return walk_stop(why, MODEL_WALK6_TRUNCATED, "option header truncated");
		hdr_len = ((size_t)frame[*pos + 1] + 1) * 8;
		if (used + hdr_len > IP6_MAX_EXT_LEN)
			return walk_stop(why, MODEL_WALK6_LIMIT, "over 256 header bytes");
		if (used + hdr_len > payload_len || *pos + hdr_len > len)
			return walk_stop(why, MODEL_WALK6_TRUNCATED, "option header beyond the packet");
		*next = frame[*pos];
		*pos += hdr_len;
		used += hdr_len;
	}
	if (ext_kind(*next) < 0)
		return walk_stop(why, MODEL_WALK6_UNKNOWN, "IPv6 header not walked");
	if (ext_kind(*next))
		return walk_stop(why, MODEL_WALK6_LIMIT, "over 6 extension headers");
	return MODEL_WALK6_DONE;
}

/* parse's counter of a walk that stopped short. */
static enum lb_counter walk6_counter(enum model_walk6 stop)
{
	switch (stop) {
	case MODEL_WALK6_TRUNCATED:
		return LB_C_PARSE_PASS_IPV6_EXT_TRUNCATED;
	case MODEL_WALK6_LIMIT:
		return LB_C_PARSE_PASS_IPV6_EXT_LIMIT;
	case MODEL_WALK6_UNKNOWN:
		return LB_C_PARSE_PASS_IPV6_EXT_UNKNOWN;
	default:
		return LB_C_PARSE_PASS_MALFORMED;
	}
}

static bool martian6(const uint8_t *src, const uint8_t *dst)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (src[0] == 0xff || (src[0] == 0xfe && (src[1] & 0xc0) == 0x80))
		return true;
	if (!memcmp(src, mapped, 12))
		return true;
	if (!memcmp(src, zero, 15) && src[15] <= 1)
		return true;
	return !memcmp(src, dst, 16);
}

/* An IPv6 frame, its header at @l3. */
static struct lb_flow6_key nat6[MODEL_MAX_NAT6];
static size_t nat6_count;

void parse_model_set_nat6(const struct lb_flow6_key *replies, size_t count)
{
	nat6_count = count < MODEL_MAX_NAT6 ? count : MODEL_MAX_NAT6;
	memcpy(nat6, replies, nat6_count * sizeof(*nat6));
}

/* Whether @flow is the reply 5-tuple of an IPv6 NAT mapping. */
static bool nat6_reply(const struct lb_flow6_key *flow)
{
	size_t i;

	for (i = 0; i < nat6_count; i++)
		if (!memcmp(&nat6[i], flow, sizeof(*flow)))
			return true;
	return false;
}

static enum lb_counter classify6(const uint8_t *frame, size_t len, size_t l3,
				 const struct model_vip *vips, size_t vip_count,
				 const uint8_t *if_mac, struct parse_expect *out)
{
	struct lb_packet_ctx *ctx = &out->ctx;
	size_t payload_len, pos = l3 + 40, l4_len;
	struct lb_flow6_key *flow = &ctx->flow6;
	enum lb_counter counter, handed = LB_C_PARSE_TO_LB;
	enum model_walk6 walk;
	uint16_t frag_off = 0;
	uint8_t next;

	if (l3 + 40 > len)
		return rule(out, LB_C_PARSE_PASS_MALFORMED, "IPv6 header truncated");
	if (frame[l3] >> 4 != 6)
		return rule(out, LB_C_PARSE_PASS_MALFORMED, "IPv6 version");
	payload_len = pkt_get16(frame + l3 + 4);
	if (l3 + 40 + payload_len > len)
		return rule(out, LB_C_PARSE_PASS_MALFORMED, "IPv6 payload length");
	next = frame[l3 + 6];
	walk = model_walk6(frame, len, payload_len, &pos, &next, &frag_off, &out->why);
	if (walk != MODEL_WALK6_DONE)
		return walk6_counter(walk);
	if (next != IPPROTO_UDP && next != IPPROTO_TCP && next != IPPROTO_ICMPV6)
		return rule(out, LB_C_PARSE_PASS_NOT_VIP, "IPv6, neither UDP, TCP nor ICMPv6");

	memcpy(flow->src, frame + l3 + 8, 16);
	memcpy(flow->dst, frame + l3 + 24, 16);
	flow->proto = next;
	ctx->l4_proto = next;
	ctx->l3_offset = (uint16_t)l3;
	ctx->l4_offset = (uint16_t)pos;
	ctx->ip_tot_len = (uint16_t)(40 + payload_len);
	ctx->frame_len = (uint32_t)len;
	ctx->flags = LB_CTX_F_IPV6;
	l4_len = 40 + payload_len - (pos - l3);
	if (next == IPPROTO_ICMPV6) {
		out->vip = addr_find6(vips, vip_count, flow->dst);
		if (out->vip < 0)
			return rule(out, LB_C_PARSE_PASS_NOT_VIP, "ICMPv6 to no VIP address");
		if (frag_off & (IP6_MF | IP6_OFFSET)) {
			ctx->flags |= LB_CTX_F_FRAGMENT;
			if (frag_off & IP6_OFFSET)
				ctx->flags |= LB_CTX_F_LATER_FRAGMENT;
		} else if (pos + 4 > len || l4_len < 4) {
			return rule(out, LB_C_PARSE_PASS_MALFORMED, "ICMPv6 header truncated");
		} else if (!((frame[pos] >= 1 && frame[pos] <= 4) || frame[pos] == 128)) {
			return rule(out, LB_C_PARSE_PASS_ICMP6_OTHER, "ICMPv6 type not the stage's");
		}
		counter = rule(out, LB_C_PARSE_TO_ICMP, "ICMPv6 to a VIP address");
	} else if (frag_off & (IP6_MF | IP6_OFFSET)) {
		out->vip = model_vip_find6(vips, vip_count, flow->dst, 0, next);
		if (out->vip >= 0) {
			ctx->flags |= LB_CTX_F_FRAGMENT;
			if (frag_off & IP6_OFFSET)
				ctx->flags |= LB_CTX_F_LATER_FRAGMENT;
			counter = rule(out, LB_C_PARSE_TO_LB, "IPv6 fragment to a wildcard VIP");
		} else if (frag_off & IP6_OFFSET) {
			return rule(out, LB_C_PARSE_PASS_NOT_VIP, "later IPv6 fragment, no VIP");
		} else if (pos + 4 > len || l4_len < 4) {
			return rule(out, LB_C_PARSE_PASS_NOT_VIP, "first IPv6 fragment, no ports");
		} else if (model_vip_find6(vips, vip_count, flow->dst, pkt_get16(frame + pos + 2),
				     next) >= 0) {
			return rule(out, LB_C_PARSE_PASS_FRAGMENT, "first IPv6 fragment, port VIP");
		} else {
			return rule(out, LB_C_PARSE_PASS_NOT_VIP, "first IPv6 fragment, no VIP");
		}
	} else {
		counter = ports(frame, len, pos, l4_len, next, &flow->sport, &flow->dport, out);
		if (counter != LB_COUNTER_MAX)
			return counter;
		out->vip = model_vip_find6(vips, vip_count, flow->dst, ntohs(flow->dport), next);
		if (out->vip < 0)
			out->vip = model_vip_find6(vips, vip_count, flow->dst, 0, next);
		if (out->vip < 0 && nat6_reply(flow)) {
			ctx->flags |= LB_CTX_F_NAT_REPLY;
			handed = rule(out, LB_C_PARSE_TO_NAT_REPLY, "IPv6 reply to a NAT mapping");
		} else if (out->vip < 0) {
			return rule(out, LB_C_PARSE_PASS_NOT_VIP, "no IPv6 VIP");
		} else {
			counter = rule(out, LB_C_PARSE_TO_LB, "IPv6 VIP");
		}
	}
	counter = l2_frame(frame, if_mac, out);
	if (counter != LB_COUNTER_MAX)
		return counter;
	if (martian6(flow->src, flow->dst))
		return rule(out, LB_C_PARSE_DROP_MARTIAN_SRC, "IPv6 VIP, martian source");
	return next == IPPROTO_ICMPV6 ? LB_C_PARSE_TO_ICMP : handed;
}

/* The rules in the documented order; returns the parse counter. */
static enum lb_counter classify(const uint8_t *frame, size_t len, const struct model_vip *vips,
				size_t vip_count, const uint8_t *if_mac, struct parse_expect *out)
{
	struct lb_packet_ctx *ctx = &out->ctx;
	size_t l3 = 14, ihl, tot, l4;
	uint16_t ethertype, frag;
	enum lb_counter counter;

	if (len < 14)
		return rule(out, LB_C_PARSE_PASS_MALFORMED, "Ethernet header truncated");
	ethertype = pkt_get16(frame + 12);
	if (ethertype == TPID_8021Q) {
		if (len < 18)
			return rule(out, LB_C_PARSE_PASS_MALFORMED, "VLAN tag truncated");
		ethertype = pkt_get16(frame + 16);
		l3 = 18;
	}
	if (ethertype == ETHERTYPE_IPV6)
		return classify6(frame, len, l3, vips, vip_count, if_mac, out);
	if (ethertype != ETHERTYPE_IPV4)
		return rule(out, LB_C_PARSE_PASS_NOT_IPV4, "not IP (behind at most one tag)");
	if (l3 + 20 > len)
		return rule(out, LB_C_PARSE_PASS_MALFORMED, "IPv4 header truncated");
	ihl = (size_t)(frame[l3] & 0x0f) * 4;
	if (frame[l3] >> 4 != 4 || ihl < 20)
		return rule(out, LB_C_PARSE_PASS_MALFORMED, "IPv4 version or IHL");
	if (l3 + ihl > len)
		return rule(out, LB_C_PARSE_PASS_MALFORMED, "IPv4 options truncated");
	tot = pkt_get16(frame + l3 + 2);
	if (tot < ihl || l3 + tot > len)
		return rule(out, LB_C_PARSE_PASS_MALFORMED, "IPv4 total length");
	ctx->flow.proto = frame[l3 + 9];
	if (ctx->flow.proto != IPPROTO_UDP && ctx->flow.proto != IPPROTO_TCP &&
	    ctx->flow.proto != IPPROTO_ICMP)
		return rule(out, LB_C_PARSE_PASS_NOT_VIP, "IPv4, neither UDP, TCP nor ICMP");

	memcpy(&ctx->flow.src, frame + l3 + 12, 4);
	memcpy(&ctx->flow.dst, frame + l3 + 16, 4);
	ctx->l4_proto = ctx->flow.proto;
	ctx->l3_offset = (uint16_t)l3;
	ctx->ip_tot_len = (uint16_t)tot;
	ctx->frame_len = (uint32_t)len;
	l4 = l3 + ihl;
	ctx->l4_offset = (uint16_t)l4;
	frag = pkt_get16(frame + l3 + 6);
	if (ctx->flow.proto == IPPROTO_ICMP) {
		out->vip = addr_find(vips, vip_count, ctx->flow.dst);
		if (out->vip < 0)
			return rule(out, LB_C_PARSE_PASS_NOT_VIP, "ICMP to no VIP address");
		if (frag & (IP_MF | IP_OFFSET))
			ctx->flags |= LB_CTX_F_FRAGMENT;
		counter = vip_frame(frame, l3, ihl, if_mac, out);
		return counter == LB_COUNTER_MAX ? rule(out, LB_C_PARSE_TO_ICMP,
							"ICMP to a VIP address") : counter;
	}
	if (frag & (IP_MF | IP_OFFSET)) {
		counter = fragment(frame, len, vips, vip_count, l4, tot - ihl, !(frag & IP_OFFSET),
				   out);
	} else {
		counter = ports(frame, len, l4, tot - ihl, ctx->flow.proto, &ctx->flow.sport,
				&ctx->flow.dport, out);
		if (counter != LB_COUNTER_MAX)
			return counter;
		out->vip = model_vip_find(vips, vip_count, ctx->flow.dst, ntohs(ctx->flow.dport),
					  ctx->flow.proto);
		if (out->vip >= 0)
			counter = rule(out, LB_C_PARSE_TO_LB, "VIP (address, port, protocol)");
		else if ((out->vip = model_vip_find(vips, vip_count, ctx->flow.dst, 0,
						    ctx->flow.proto)) >= 0)
			counter = rule(out, LB_C_PARSE_TO_LB,
				       "VIP (address, wildcard port, protocol)");
		else
			return rule(out, LB_C_PARSE_PASS_NOT_VIP,
				    "no VIP for address, port, protocol");
	}
	if (counter != LB_C_PARSE_TO_LB)
		return counter;
	counter = vip_frame(frame, l3, ihl, if_mac, out);
	return counter == LB_COUNTER_MAX ? LB_C_PARSE_TO_LB : counter;
}

void parse_model(const uint8_t *frame, size_t len, const struct model_vip *vips,
		 size_t vip_count, const uint8_t *if_mac, struct parse_expect *out)
{
	memset(out, 0, sizeof(*out));
	out->vip = -1;
	out->ctx.backend_id = LB_NO_BACKEND;
	out->counter = classify(frame, len, vips, vip_count, if_mac, out);
	/* Only a frame handed on has a context: parse stores nothing else. */
	if (out->counter != LB_C_PARSE_TO_LB && out->counter != LB_C_PARSE_TO_ICMP) {
		out->vip = -1;
		memset(&out->ctx, 0, sizeof(out->ctx));
	}
}
