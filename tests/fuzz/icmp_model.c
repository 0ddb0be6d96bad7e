// SPDX-License-Identifier: GPL-2.0
/* The icmp stage's documented rules; see icmp_model.h.
 *
 * A fragment goes to the kernel (pass_fragment), so does an ICMP header that
 * is not whole inside the IPv4 packet (pass_other). An echo request is
 * answered when the address's icmp_echo is on, else passed (pass_echo_off).
 * A destination unreachable or time exceeded quotes a packet: a quote without
 * a whole IPv4 header of version 4 (IHL >= 5) and the 4 bytes of ports behind
 * it is pass_error_malformed; one not sent from this address, or not UDP or
 * TCP, or whose (address, source port, protocol) is no VIP's (exact, then the
 * port wildcard) is pass_error_no_vip; a later fragment is pass_error_no_flow;
 * the rest names a flow, the quote reversed. Any other type: pass_other.
 *
 * ICMPv6 (LB_CTX_F_IPV6) the same way: an echo request (128) behind extension
 * headers is pass_echo_ext_hdrs; the errors are types 1-4, their quote an IPv6
 * header (40 bytes, version 6) sent from this address whose extension headers
 * are walked as parse walks a packet's, up to the end of the ICMPv6 packet: a
 * chain cut short, hop-by-hop not first or two fragment headers is
 * pass_error_malformed, more than 6 headers or 256 bytes or one not walked
 * pass_error_ext_hdrs; then UDP or TCP (else pass_error_no_vip), a later
 * fragment pass_error_no_flow, 4 bytes of ports inside the packet (else
 * pass_error_malformed), an IPv6 VIP's port (else pass_error_no_vip).
 *
 * A NAT VIP's error would be translated (icmp.nat_error_to_backend) when the
 * nat stage's mapping of the flow is live, else pass_error_no_flow; an error
 * to nat_source quoting a live mapping, icmp.nat_error_to_client. The
 * fuzzer's config has neither a NAT VIP nor nat_source (parse then hands no
 * ICMP to nat_source on), so the model below knows encapsulating VIPs only;
 * test_icmp_nat.c covers the translation.
 */
#include <netinet/in.h>
#include <string.h>

#include "icmp_model.h"
#include "packet.h"

#define IP_OFFSET 0x1fff
#define ICMP_ECHO 8
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define IP6_OFFSET 0xfff8
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROB 4
#define ICMP6_ECHO_REQUEST 128

static void to_kernel(struct icmp_expect *out, enum lb_counter counter, const char *why)
{
	out->outcome = ICMP_TO_KERNEL;
	out->counter = counter;
	out->why = why;
}

static void error_model(const uint8_t *frame, const struct lb_packet_ctx *ctx,
			const struct model_vip *vips, size_t vip_count, struct icmp_expect *out)
{
	size_t end = (size_t)ctx->l3_offset + ctx->ip_tot_len, l4 = ctx->l4_offset;
	const uint8_t *quoted = frame + l4 + 8;
	size_t ports;
	uint32_t saddr;

	if (l4 + 8 + 20 > end)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_MALFORMED, "quote without an IPv4 header");
	if (quoted[0] >> 4 != 4 || (quoted[0] & 0x0f) < 5)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_MALFORMED, "quote: version or IHL");
	memcpy(&saddr, quoted + 12, 4);
	if (saddr != ctx->flow.dst || (quoted[9] != IPPROTO_UDP && quoted[9] != IPPROTO_TCP))
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_NO_VIP,
				 "quote: not UDP/TCP from this address");
	if (pkt_get16(quoted + 6) & IP_OFFSET)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_NO_FLOW, "quote: a later fragment");
	ports = l4 + 8 + (size_t)(quoted[0] & 0x0f) * 4;
	if (ports + 4 > end)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_MALFORMED, "quote: ports cut off");

	memset(&out->flow, 0, sizeof(out->flow));
	memcpy(&out->flow.src, quoted + 16, 4);
	out->flow.dst = saddr;
	memcpy(&out->flow.sport, frame + ports + 2, 2);
	memcpy(&out->flow.dport, frame + ports, 2);
	out->flow.proto = quoted[9];
	out->vip = model_vip_find(vips, vip_count, saddr, ntohs(out->flow.dport), out->flow.proto);
	if (out->vip < 0)
		out->vip = model_vip_find(vips, vip_count, saddr, 0, out->flow.proto);
	if (out->vip < 0)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_NO_VIP, "quote: no VIP's port");
	/* The fuzzer's config has no NAT VIP: every VIP encapsulates. */
	out->outcome = ICMP_FORWARD;
	out->why = "error about a VIP's packet";
}

/* An ICMPv6 error's quote (see the top). */
static void error6_model(const uint8_t *frame, const struct lb_packet_ctx *ctx,
			 const struct model_vip *vips, size_t vip_count, struct icmp_expect *out)
{
	size_t end = (size_t)ctx->l3_offset + ctx->ip_tot_len, l4 = ctx->l4_offset;
	size_t pos = l4 + 8 + 40;
	const uint8_t *quoted = frame + l4 + 8;
	const char *why = NULL;
	uint16_t frag_off = 0;
	uint8_t next;

	if (pos > end)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_MALFORMED, "quote without an IPv6 header");
	if (quoted[0] >> 4 != 6)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_MALFORMED, "quote: version");
	if (memcmp(quoted + 8, ctx->flow6.dst, 16))
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_NO_VIP, "quote: not from this address");
	next = quoted[6];
	switch (model_walk6(frame, ctx->frame_len, end - pos, &pos, &next, &frag_off, &why)) {
	case MODEL_WALK6_DONE:
		break;
	case MODEL_WALK6_LIMIT:
	case MODEL_WALK6_UNKNOWN:
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_EXT_HDRS, why);
	default:
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_MALFORMED, why);
	}
	if (next != IPPROTO_UDP && next != IPPROTO_TCP)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_NO_VIP, "quote: not UDP/TCP");
	if (frag_off & IP6_OFFSET)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_NO_FLOW, "quote: a later fragment");
	if (pos + 4 > end)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_MALFORMED, "quote: ports cut off");

	memset(&out->flow6, 0, sizeof(out->flow6));
	out->ipv6 = true;
	memcpy(out->flow6.src, quoted + 24, 16);
	memcpy(out->flow6.dst, quoted + 8, 16);
	memcpy(&out->flow6.sport, frame + pos + 2, 2);
	memcpy(&out->flow6.dport, frame + pos, 2);
	out->flow6.proto = next;
	out->vip = model_vip_find6(vips, vip_count, out->flow6.dst, ntohs(out->flow6.dport), next);
	if (out->vip < 0)
		out->vip = model_vip_find6(vips, vip_count, out->flow6.dst, 0, next);
	if (out->vip < 0)
		return to_kernel(out, LB_C_ICMP_PASS_ERROR_NO_VIP, "quote: no IPv6 VIP's port");
	/* The fuzzer's IPv6 VIPs encapsulate too. */
	out->outcome = ICMP_FORWARD;
	out->why = "ICMPv6 error about a VIP's packet";
}

/* ICMPv6 to an IPv6 VIP address; the header is whole (checked by the caller). */
static void icmp6_model(const uint8_t *frame, const struct lb_packet_ctx *ctx,
			const struct model_vip *vips, size_t vip_count, int addr_vip,
			struct icmp_expect *out)
{
	const uint8_t *icmp = frame + ctx->l4_offset;

	switch (icmp[0]) {
	case ICMP6_ECHO_REQUEST:
		if (!vips[addr_vip].icmp_echo)
			return to_kernel(out, LB_C_ICMP_PASS_ECHO_OFF, "echo request, icmp_echo off");
		if (ctx->l4_offset != ctx->l3_offset + 40)
			return to_kernel(out, LB_C_ICMP_PASS_ECHO_EXT_HDRS,
					 "echo request behind extension headers");
		out->outcome = ICMP_REPLY;
		out->why = "ICMPv6 echo request: answered";
		return;
	case ICMP6_DEST_UNREACH:
	case ICMP6_PACKET_TOO_BIG:
	case ICMP6_TIME_EXCEEDED:
	case ICMP6_PARAM_PROB:
		return error6_model(frame, ctx, vips, vip_count, out);
	default:
		return to_kernel(out, LB_C_ICMP_PASS_OTHER, "another ICMPv6 type");
	}
}

void icmp_model(const uint8_t *frame, const struct lb_packet_ctx *ctx,
		const struct model_vip *vips, size_t vip_count, int addr_vip,
		struct icmp_expect *out)
{
	size_t end = (size_t)ctx->l3_offset + ctx->ip_tot_len;
	const uint8_t *icmp = frame + ctx->l4_offset;

	memset(out, 0, sizeof(*out));
	out->vip = -1;
	if (ctx->flags & LB_CTX_F_FRAGMENT)
		return to_kernel(out, LB_C_ICMP_PASS_FRAGMENT, "ICMP in fragments");
	if ((size_t)ctx->l4_offset + 8 > end)
		return to_kernel(out, LB_C_ICMP_PASS_OTHER, "ICMP header cut short");
	if (ctx->flags & LB_CTX_F_IPV6)
		return icmp6_model(frame, ctx, vips, vip_count, addr_vip, out);
	switch (icmp[0]) {
	case ICMP_ECHO:
		if (!vips[addr_vip].icmp_echo)
			return to_kernel(out, LB_C_ICMP_PASS_ECHO_OFF, "echo request, icmp_echo off");
		out->outcome = ICMP_REPLY;
		out->why = "echo request: answered";
		return;
	case ICMP_DEST_UNREACH:
	case ICMP_TIME_EXCEEDED:
		return error_model(frame, ctx, vips, vip_count, out);
	default:
		return to_kernel(out, LB_C_ICMP_PASS_OTHER, "another ICMP type");
	}
}
