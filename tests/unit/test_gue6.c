// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the GUE encap stage with IPv6 backends: an IPv6 VIP's packet
 * (IPv6 in UDP over IPv6, fou ipproto 41) and an IPv4 VIP's (IPv4 in UDP over
 * IPv6, ipproto 4).
 *
 *   [L2, tag kept, EtherType IPv6][outer IPv6, next header 17]
 *   [UDP: sport, gue_port, len, checksum][inner packet]
 *
 * The expected frame is assembled here field by field (expected()): the outer
 * IPv6 header as ipip's (traffic class copied, flow label from the flow hash,
 * hop limit 64, the client's or outer_source6 as the source), the UDP header
 * as GUE over IPv4 has it, and a UDP checksum that IPv6 requires (RFC 8200
 * 8.1). That checksum is computed here over the pseudo-header and the whole
 * UDP segment (pkt_l4_csum6()), a plain sum over every byte, not the stage's
 * way: the stage derives the inner packet's sum from its own TCP or UDP
 * checksum and sums the frame only where that does not hold (fragments, ICMP
 * errors, extension headers, UDP without a checksum). Every output's
 * checksum is also checked to verify as a receiver verifies it. Two golden
 * cases spell every byte out by hand.
 *
 * The network namespace, the backends and the IPv4 frames are encap_fixture.h's.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "encap_fixture.h"
#include "flow_hash_common.h"
#include "gue.skel.h"
#include "packet.h"
#include "test_harness.h"
#include "xdp_test_run.h"

#define GUE_DEFAULT_PORT 6080
#define GUE_CONFIGURED_PORT 7000
#define GUE_SPORT_BASE 0xc000
#define GUE_SPORT_HASH_BITS 0x3fff
/* The outer IPv6 and UDP headers: what the MTU check adds. */
#define GUE6_OVERHEAD 48

static struct encap_fixture fx;
static struct gue_bpf *skel;        /* port 6080, the client as outer source */
static struct gue_bpf *skel_lb_src; /* port 7000, outer_src_addr6 = LB6_ADDR */

static int load(struct gue_bpf **out, bool lb_source)
{
	int err;

	*out = gue_bpf__open();
	if (!*out)
		return -errno;
	(*out)->rodata->lb_tunables.nexthop_cache_ns = 0;
	(*out)->rodata->lb_tunables.ingress_mtu = LBT0_MTU;
	if (lb_source) {
		pkt_ip6(LB6_ADDR, (uint8_t *)(*out)->rodata->lb_tunables.outer_src_addr6);
		(*out)->rodata->lb_tunables.gue_port = htons(GUE_CONFIGURED_PORT);
	}
	err = *out != skel ? encap_share_maps((*out)->obj, skel->obj) : 0;
	return err ? err : gue_bpf__load(*out);
}

static void fixture_setup(void)
{
	if (geteuid() != 0 || encap_net_setup(&fx))
		return;
	if (fixture_step(&fx.status, load(&skel, false), "load gue_bpf") ||
	    fixture_step(&fx.status, load(&skel_lb_src, true), "load gue_bpf, outer_src_addr6") ||
	    fixture_step(&fx.status, encap_maps_setup(&fx, skel->obj), "fill backends") ||
	    fixture_step(&fx.status, encap_backends6_setup(&fx), "fill IPv6 backends"))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel->progs.xdp_lb_gue);
}

static void fixture_teardown(void)
{
	gue_bpf__destroy(skel_lb_src);
	gue_bpf__destroy(skel);
}

struct gue6_case {
	const char *name;
	/* input: pkt_spec_udp6(), or pkt_spec_udp() with .ipv4, and these changes */
	int ipv4;
	uint8_t proto;          /* 0: UDP */
	uint8_t tclass;         /* IPv4: the TOS */
	int vlan;
	size_t payload_len;     /* 0: 32 bytes */
	size_t padding;
	struct pkt_ext6 ext[2];
	size_t ext_count;
	uint16_t frag_off;      /* IPv4, host order */
	int ip_options;         /* IPv4: 8 bytes of options */
	int udp_csum_zero;      /* the inner UDP checksum 0 ("none" in IPv4) */
	int icmp_error;         /* an ICMP(v6) error the icmp stage forwards */
	int mtu_edge;           /* the outer packet exactly lbt0's MTU, or one byte more */
	uint16_t client_low;    /* IPv6: the client address's last 16 bits, 0: 1 */
	/* context and environment */
	uint32_t backend_id;
	int lb_source;          /* the load with outer_source6 and port 7000 */
	int lbt2_tx_port;
	/* expectations */
	uint32_t verdict;
	enum expect_frame out;
	const uint8_t *dmac, *smac;
	enum lb_counter counter;
	int cut_padding;        /* the frame was summed: padding cut behind it */
};

static size_t case_frame(const struct gue6_case *c, uint8_t *frame, struct pkt_layout *lay)
{
	static const uint8_t options[8] = { 0x01, 0x01, 0x01, 0x00, 0x01, 0x01, 0x01, 0x00 };
	static const struct pkt_icmp unreachable4 = { 3, 1, 0 }, unreachable6 = { 1, 3, 0 };
	size_t l3_len, l4_len, i;
	struct pkt_spec spec;

	if (c->ipv4)
		pkt_spec_udp(&spec);
	else
		pkt_spec_udp6(&spec);
	if (c->proto)
		spec.proto = c->proto;
	if (c->icmp_error) {
		spec.proto = c->ipv4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
		spec.icmp = c->ipv4 ? &unreachable4 : &unreachable6;
	}
	spec.tos = c->tclass;
	spec.frag_off = c->frag_off;
	if (c->ip_options) {
		spec.ip_options = options;
		spec.ip_options_len = sizeof(options);
	}
	if (c->vlan)
		spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, 100 };
	if (c->payload_len)
		spec.payload_len = c->payload_len;
	if (c->client_low)
		pkt_put16(spec.src6 + 14, c->client_low);
	memcpy(spec.ext6, c->ext, sizeof(c->ext));
	spec.ext6_count = c->ext_count;
	if (c->mtu_edge) { /* outer 48 + inner IP header + L4 header + payload */
		l3_len = c->ipv4 ? 20 : 40;
		for (i = 0; i < c->ext_count; i++)
			l3_len += c->ext[i].type == 44 ? 8 : 8 * (c->ext[i].hdrlen + 1u);
		l4_len = spec.proto == IPPROTO_TCP ? 20 : 8;
		spec.payload_len = LBT0_MTU - GUE6_OVERHEAD - l3_len - l4_len +
				   (c->mtu_edge == MTU_EXCEEDED);
	}
	spec.padding = c->padding;
	pkt_layout(&spec, lay);
	if (!pkt_build(&spec, frame, PKT_MAX))
		return 0;
	if (c->udp_csum_zero)
		pkt_put16(frame + lay->l4 + 6, 0);
	return lay->len;
}

/* The context parse, lb (and for an error the icmp stage) leave for @c's frame. */
static void case_ctx(const struct gue6_case *c, const uint8_t *frame, size_t len,
		     const struct pkt_layout *lay, struct lb_packet_ctx *ctx)
{
	bool fragment = false;
	size_t i;

	if (c->ipv4) {
		encap_ctx_from_frame(c->backend_id, (uint16_t)lay->l3, frame, len, ctx);
	} else {
		for (i = 0; i < c->ext_count; i++)
			if (c->ext[i].type == 44)
				fragment = true;
		encap_ctx6_from_frame(c->backend_id, frame[lay->l3 + 6], fragment, frame, len, lay,
				      ctx);
		ctx->l4_proto = ctx->flow6.proto = c->icmp_error ? IPPROTO_ICMPV6 :
					     c->proto ? c->proto : IPPROTO_UDP;
		for (i = 0; i < c->ext_count; i++)
			if (c->ext[i].type == 44 && (c->ext[i].frag_off & 0xfff8))
				ctx->flags |= LB_CTX_F_LATER_FRAGMENT;
	}
	if (c->icmp_error)
		ctx->flags |= LB_CTX_F_ICMP_ERROR;
}

/* Whether the last expected() checksum was computed as 0, sent as 0xffff. */
static bool expected_sum_zero;

/* The UDP checksum over IPv6 of the segment at @udp (its check field 0),
 * network byte order: summed over every byte, a computed 0 sent as 0xffff
 * (RFC 8200 8.1).
 */
static uint16_t udp6_check(const uint8_t *outer, const uint8_t *udp, size_t len)
{
	uint16_t check = pkt_l4_csum6(outer + 8, outer + 24, IPPROTO_UDP, udp, len);

	expected_sum_zero = !check;
	return check ? check : 0xffff;
}

/* What the stage must make of @in (see the top of the file): @ip_end is where
 * the inner packet ends, padding behind it kept unless @cut_padding.
 */
static size_t expected(const struct gue6_case *c, const uint8_t *in, size_t in_len,
		       const struct pkt_layout *lay, const struct lb_packet_ctx *ctx,
		       const uint8_t *dmac, const uint8_t *smac, uint8_t *out)
{
	const uint8_t *inner = in + lay->l3;
	size_t l2_len = lay->l3, inner_len = lay->ip_end - lay->l3;
	size_t tail = c->cut_padding ? lay->ip_end : in_len;
	uint8_t *outer = out + l2_len, *udp = outer + 40;
	uint32_t hash = c->ipv4 ? lb_flow_hash(&ctx->flow) : lb_flow_hash6(&ctx->flow6);
	uint8_t tclass = c->ipv4 ? inner[1] : (uint8_t)((inner[0] & 0x0f) << 4 | inner[1] >> 4);
	uint32_t label = hash & 0xfffff;
	uint16_t check;

	encap_expected_l2(in, l2_len, dmac, smac, out);
	pkt_put16(out + l2_len - 2, 0x86dd);
	outer[0] = (uint8_t)(0x60 | tclass >> 4);
	outer[1] = (uint8_t)(tclass << 4 | label >> 16);
	pkt_put16(outer + 2, (uint16_t)label);
	pkt_put16(outer + 4, (uint16_t)(8 + inner_len));
	outer[6] = IPPROTO_UDP;
	outer[7] = 64;
	if (c->lb_source)
		pkt_ip6(LB6_ADDR, outer + 8);
	else
		memcpy(outer + 8, inner + 8, 16); /* the client's */
	pkt_ip6(encap_backend6_addr(c->backend_id), outer + 24);
	pkt_put16(udp, (uint16_t)(GUE_SPORT_BASE | (hash & GUE_SPORT_HASH_BITS)));
	pkt_put16(udp + 2, c->lb_source ? GUE_CONFIGURED_PORT : GUE_DEFAULT_PORT);
	pkt_put16(udp + 4, (uint16_t)(8 + inner_len));
	pkt_put16(udp + 6, 0);
	memcpy(udp + 8, inner, tail - lay->l3);
	check = udp6_check(outer, udp, 8 + inner_len);
	memcpy(udp + 6, &check, sizeof(check));
	return l2_len + GUE6_OVERHEAD + (tail - lay->l3);
}

/* The output's UDP checksum verifies as a receiver checks it: the sum over
 * the pseudo-header and the segment (check included) is all ones.
 */
static void check_udp6_verifies(const uint8_t *frame, size_t len, size_t l2_len, const char *what)
{
	const uint8_t *outer = frame + l2_len;
	size_t udp_len;

	if (!ASSERT_TRUE(len >= l2_len + GUE6_OVERHEAD, what))
		return;
	udp_len = pkt_get16(outer + 44);
	if (!ASSERT_TRUE(l2_len + 40 + udp_len <= len, what))
		return;
	ASSERT_TRUE(pkt_get16(outer + 46) != 0, what);
	ASSERT_EQ(pkt_l4_csum6(outer + 8, outer + 24, IPPROTO_UDP, outer + 40, udp_len), 0, what);
}

static void run_case(const struct gue6_case *c)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta delta = { c->counter, 1 };
	static uint8_t frame[PKT_MAX], want[PKT_MAX + GUE6_OVERHEAD];
	struct bpf_devmap_val port = { .ifindex = (uint32_t)fx.lbt2 };
	int prog_fd = c->lb_source ? bpf_program__fd(skel_lb_src->progs.xdp_lb_gue) :
				     fx.stage.prog_fd;
	uint32_t lbt2 = (uint32_t)fx.lbt2;
	static struct xdp_result res;
	struct lb_packet_ctx ctx;
	struct pkt_layout lay;
	size_t len, want_len;

	len = case_frame(c, frame, &lay);
	if (!ASSERT_TRUE(len > 0, c->name))
		return;
	case_ctx(c, frame, len, &lay, &ctx);
	if (!ASSERT_OK(ctx_write_all_cpus(fx.ctx_fd, &ctx), c->name))
		return;
	if (c->lbt2_tx_port)
		bpf_map_update_elem(fx.tx_ports_fd, &lbt2, &port, BPF_ANY);
	counters_read(fx.counters_fd, before);
	xdp_run(prog_fd, frame, len, fx.lbt0, &res);
	counters_read(fx.counters_fd, after);
	bpf_map_delete_elem(fx.tx_ports_fd, &lbt2);
	if (!ASSERT_OK(res.err, c->name))
		return;
	if (res.verdict != c->verdict)
		test_fail(__FILE__, __LINE__, "%s: verdict %s, expected %s", c->name,
			  xdp_verdict_name(res.verdict), xdp_verdict_name(c->verdict));
	counters_expect(before, after, &delta, 1, c->name);
	switch (c->out) {
	case OUT_UNCHANGED:
		want_len = len;
		memcpy(want, frame, len);
		break;
	case OUT_ICMP6_TOO_BIG:
		want_len = pkt_packet_too_big(frame, lay.l3, 1, LBT0_MTU - GUE6_OVERHEAD, want);
		break;
	case OUT_ICMP_FRAG:
		want_len = pkt_frag_needed(frame, lay.l3, 1, LBT0_MTU - GUE6_OVERHEAD, want);
		break;
	default:
		want_len = expected(c, frame, len, &lay, &ctx, c->out == OUT_ENCAP ? c->dmac : NULL,
				    c->out == OUT_ENCAP ? c->smac : NULL, want);
		check_udp6_verifies(res.out, res.out_len, lay.l3, c->name);
	}
	if (!ASSERT_BYTES(res.out, res.out_len, want, want_len, c->name))
		test_hexdump("input", frame, len);
}

static void run_cases(const struct gue6_case *cases, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		run_case(&cases[i]);
}

#define TX6 .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = neigh_mac, .smac = lbt0_mac, \
	    .counter = LB_C_ENCAP_TX
/* The frame summed by lb_gue6_checksum(): padding cut. */
#define WALKED .cut_padding = 1
/* IPv4 in GUE over IPv6: needs outer_source6, the second load. */
#define V4 .ipv4 = 1, .lb_source = 1

/* An IPv6 VIP's packets: the inner checksum gives the sum, or the frame is summed. */
static void test_ipv6_in_gue6(void)
{
	static const struct gue6_case cases[] = {
		{ .name = "UDP", .backend_id = B6_NEIGH, TX6 },
		{ .name = "TCP", .proto = IPPROTO_TCP, .backend_id = B6_NEIGH, TX6 },
		{ .name = "UDP, odd length", .payload_len = 33, .backend_id = B6_NEIGH, TX6 },
		{ .name = "TCP, 1300 bytes of payload", .proto = IPPROTO_TCP, .payload_len = 1300,
		  .backend_id = B6_NEIGH, TX6 },
		{ .name = "traffic class copied", .tclass = 0xb8, .backend_id = B6_NEIGH, TX6 },
		{ .name = "VLAN tag kept", .vlan = 1, .proto = IPPROTO_TCP,
		  .backend_id = B6_NEIGH, TX6 },
		{ .name = "Ethernet padding kept behind, not summed", .payload_len = 2,
		  .padding = 16, .backend_id = B6_NEIGH, TX6 },
		{ .name = "outer_source6 and port 7000", .lb_source = 1, .backend_id = B6_NEIGH,
		  TX6 },
		/* The frame summed (lb_gue6_checksum()). */
		{ .name = "extension headers: summed", .ext = { { 0, 1, 0 }, { 60, 0, 0 } },
		  .ext_count = 2, .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "first fragment: summed", .ext = { { 44, 0, 0x0001 } }, .ext_count = 1,
		  .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "later fragment, odd length: summed", .ext = { { 44, 0, 1448 } },
		  .ext_count = 1, .payload_len = 7, .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "ICMPv6 error forwarded: summed", .icmp_error = 1,
		  .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "UDP checksum 0 (not allowed in IPv6): summed", .udp_csum_zero = 1,
		  .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "summed: Ethernet padding cut", .ext = { { 60, 0, 0 } }, .ext_count = 1,
		  .payload_len = 1, .padding = 13, .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "summed: a 1500-byte packet", .ext = { { 60, 0, 0 } }, .ext_count = 1,
		  .mtu_edge = MTU_FITS, .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "summed, VLAN, outer_source6", .vlan = 1, .lb_source = 1,
		  .icmp_error = 1, .backend_id = B6_NEIGH, TX6, WALKED },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_cases(cases, ARRAY_SIZE(cases));
}

/* An IPv4 VIP's packets to IPv6 backends. */
static void test_ipv4_in_gue6(void)
{
	static const struct gue6_case cases[] = {
		{ .name = "4in6: UDP", V4, .backend_id = B6_NEIGH, TX6 },
		{ .name = "4in6: TCP", V4, .proto = IPPROTO_TCP, .backend_id = B6_NEIGH, TX6 },
		{ .name = "4in6: TOS as the traffic class, DF", V4, .tclass = 0xb8,
		  .frag_off = 0x4000, .backend_id = B6_NEIGH, TX6 },
		{ .name = "4in6: IP options (the header sums to zero)", V4, .ip_options = 1,
		  .proto = IPPROTO_TCP, .backend_id = B6_NEIGH, TX6 },
		{ .name = "4in6: VLAN, odd length", V4, .vlan = 1, .payload_len = 31,
		  .backend_id = B6_NEIGH, TX6 },
		{ .name = "4in6: padding kept", V4, .payload_len = 2, .padding = 16,
		  .backend_id = B6_NEIGH, TX6 },
		{ .name = "4in6: UDP without checksum: summed", V4, .udp_csum_zero = 1,
		  .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "4in6: fragment: summed", V4, .frag_off = 0x2000 | 185,
		  .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "4in6: first fragment, padding cut: summed", V4, .frag_off = 0x2000,
		  .payload_len = 2, .padding = 16, .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "4in6: ICMP error forwarded: summed", V4, .icmp_error = 1,
		  .backend_id = B6_NEIGH, TX6, WALKED },
		{ .name = "4in6: no outer_source6 loaded: never sent from ::", .ipv4 = 1,
		  .backend_id = B6_NEIGH, DROPPED(DROP_BAD_CTX) },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_cases(cases, ARRAY_SIZE(cases));
}

/* The next hop and too big, as ipip's over IPv6 with 48 bytes of overhead. */
static void test_next_hop(void)
{
	static const struct gue6_case cases[] = {
		{ .name = "static MAC", .backend_id = B6_STATIC, .verdict = XDP_TX,
		  .out = OUT_ENCAP, .dmac = static_mac, .smac = lbt0_mac,
		  .counter = LB_C_ENCAP_TX },
		{ .name = "no neighbour: to the stack, own Ethernet header, checksum set",
		  .backend_id = B6_NO_NEIGH, .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2,
		  .counter = LB_C_ENCAP_PASS_NO_NEIGH },
		{ .name = "no neighbour, summed", .icmp_error = 1, .backend_id = B6_NO_NEIGH,
		  .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2,
		  .counter = LB_C_ENCAP_PASS_NO_NEIGH, WALKED },
		{ .name = "egress lbt2 in tx_ports: XDP_REDIRECT", .backend_id = B6_VIA_LBT2,
		  .lbt2_tx_port = 1, .verdict = XDP_REDIRECT, .out = OUT_ENCAP,
		  .dmac = lbt2_neigh_mac, .smac = lbt2_mac, .counter = LB_C_ENCAP_REDIRECT },
		{ .name = "no route", .backend_id = B6_NO_ROUTE, DROPPED(DROP_NO_ROUTE) },
		{ .name = "MTU: outer packet = 1500 fits (48 bytes of overhead)",
		  .mtu_edge = MTU_FITS, .backend_id = B6_NEIGH, TX6 },
		{ .name = "MTU: TCP, outer packet = 1500 fits", .proto = IPPROTO_TCP,
		  .mtu_edge = MTU_FITS, .backend_id = B6_NEIGH, TX6 },
		{ .name = "MTU + 1: packet too big carrying 1452", .mtu_edge = MTU_EXCEEDED,
		  .backend_id = B6_NEIGH, .verdict = XDP_TX, .out = OUT_ICMP6_TOO_BIG,
		  .counter = LB_C_ENCAP_ICMP6_PACKET_TOO_BIG },
		{ .name = "static MAC, ingress MTU + 1: packet too big", .mtu_edge = MTU_EXCEEDED,
		  .backend_id = B6_STATIC, .verdict = XDP_TX, .out = OUT_ICMP6_TOO_BIG,
		  .counter = LB_C_ENCAP_ICMP6_PACKET_TOO_BIG },
		{ .name = "later fragment, MTU + 1: dropped, no ICMPv6",
		  .ext = { { 44, 0, 1448 } }, .ext_count = 1, .mtu_edge = MTU_EXCEEDED,
		  .backend_id = B6_NEIGH, DROPPED(DROP_MTU) },
		{ .name = "4in6: MTU fits", V4, .mtu_edge = MTU_FITS, .backend_id = B6_NEIGH, TX6 },
		{ .name = "4in6: MTU + 1 with DF: frag needed carrying 1452", V4,
		  .frag_off = 0x4000, .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH,
		  FRAG_NEEDED },
		{ .name = "4in6: MTU + 1 without DF: encapsulated for the kernel", V4,
		  .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH, TOO_BIG_NO_DF },
		{ .name = "IPv6 packet, IPv4 backend", .backend_id = B_NEIGH,
		  DROPPED(DROP_BAD_CTX) },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_cases(cases, ARRAY_SIZE(cases));
}

/* Bytes worked out by hand: encap_golden_in6 (UDP [2001:db8::1]:1234 ->
 * [2001:db8::100]:80, 4 bytes of payload, inner UDP checksum 9c3d), to
 * backend 2001:db8:0:1::1:1 behind 02:00:00:00:01:01, default load.
 *   flow label: lb_flow_hash6() & 0xfffff = 0xa381f (test_ipip6.c's); the
 *     hash's low 14 bits 0x381f: source port 0xc000 | 0x381f = f81f
 *   outer: payload length 8 + 52 = 0x3c, next header 0x11, hop limit 64
 *   UDP: f81f -> 17c0 (6080), length 003c
 *   UDP checksum, the sum of 16-bit words (RFC 1071):
 *     pseudo-header: 2001+0db8+0001 (client, 2dba) + 2001+0db8+0001+0001+0001
 *       (backend, 2dbc) + 003c (UDP length) + 0011 = 5bc3
 *     UDP header: f81f+17c0+003c (+ 0000, the checksum) = 1101b
 *     inner IPv6 header: 6000+0000+000c+1140 + 2dba (client) + 2eb9 (VIP)
 *       = cdbf
 *     inner UDP: 04d2+0050+000c+9c3d + 0001+0203 = a36f
 *     5bc3 + 1101b + cdbf + a36f = 2dd0c, folded dd0e, complemented 22f1
 */
static void test_golden_ipv6(void)
{
	const uint8_t *in = encap_golden_in6;
	static const uint8_t out[] = {
		0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x86, 0xdd,
		0x60, 0x0a, 0x38, 0x1f, 0x00, 0x3c, 0x11, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01,
		0xf8, 0x1f, 0x17, 0xc0, 0x00, 0x3c, 0x22, 0xf1,
		0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
		0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0x9c, 0x3d, 0x00, 0x01, 0x02, 0x03,
	};
	const struct gue6_case c = { .payload_len = 4, .backend_id = B6_NEIGH };
	uint8_t built[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_layout lay;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	len = case_frame(&c, built, &lay);
	ASSERT_BYTES(built, len, in, ENCAP_GOLDEN_IN6_LEN, "pkt_build vs hand-made input");
	case_ctx(&c, in, ENCAP_GOLDEN_IN6_LEN, &lay, &ctx);
	ASSERT_EQ(lb_flow_hash6(&ctx.flow6) & 0xfffff, 0xa381f, "the flow label by hand");
	check_udp6_verifies(out, sizeof(out), 14, "the hand-made checksum");
	encap_run_expect_tx(&fx, &ctx, in, ENCAP_GOLDEN_IN6_LEN, out, sizeof(out), LB_C_ENCAP_TX,
			    "golden IPv6-in-GUE6 frame");
}

/* Bytes worked out by hand: encap_golden_in (UDP 10.0.0.1:1234 ->
 * 10.0.0.100:80, DF, 32 bytes, inner UDP checksum e44b) to backend
 * 2001:db8:0:1::1:1, from outer_source6 2001:db8:0:1::10, port 7000 (1b58).
 *   flow label 0xf2a2f (test_ipip6.c's); source port 0xc000 | 0x2a2f = ea2f
 *   outer: payload length 8 + 32 = 0x28, next header 0x11
 *   UDP checksum:
 *     pseudo-header: 2001+0db8+0001+0010 (outer_source6, 2dca) + 2001+0db8+
 *       0001+0001+0001 (backend, 2dbc) + 0028 + 0011 = 5bbf
 *     UDP header: ea2f+1b58+0028 = 105af
 *     inner IPv4 header: 4500+0020+1234+4000+4011+1435+0a00+0001+0a00+0064
 *       = ffff (its checksum is right: it sums to zero)
 *     inner UDP: 04d2+0050+000c+e44b + 0001+0203 = eb7d
 *     5bbf + 105af + ffff + eb7d = 34cea, folded 4ced, complemented b312
 */
static void test_golden_ipv4(void)
{
	static const uint8_t out[] = {
		0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x86, 0xdd,
		0x60, 0x0f, 0x2a, 0x2f, 0x00, 0x28, 0x11, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x00, 0x10,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01,
		0xea, 0x2f, 0x1b, 0x58, 0x00, 0x28, 0xb3, 0x12,
		0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x14, 0x35,
		0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x64,
		0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0xe4, 0x4b, 0x00, 0x01, 0x02, 0x03,
	};
	struct lb_packet_ctx ctx;
	int prog_fd = fx.stage.prog_fd;

	REQUIRE_FIXTURE(&fx.status);
	encap_ctx_from_frame(B6_NEIGH, 14, encap_golden_in, ENCAP_GOLDEN_IN_LEN, &ctx);
	ASSERT_EQ(lb_flow_hash(&ctx.flow) & 0xfffff, 0xf2a2f, "the flow label by hand");
	check_udp6_verifies(out, sizeof(out), 14, "the hand-made checksum");
	fx.stage.prog_fd = bpf_program__fd(skel_lb_src->progs.xdp_lb_gue);
	encap_run_expect_tx(&fx, &ctx, encap_golden_in, ENCAP_GOLDEN_IN_LEN, out, sizeof(out),
			    LB_C_ENCAP_TX, "golden IPv4-in-GUE6 frame");
	fx.stage.prog_fd = prog_fd;
}

/* A sum that folds to all ones makes a checksum of 0, which UDP over IPv6
 * sends as 0xffff (0 would be "none", which IPv6 receivers drop): found by
 * trying client addresses (the outer source), sent once with the inner checksum's sum and once
 * summed (the same frame as an ICMP error's context).
 */
static void test_checksum_zero_sent_as_ones(void)
{
	static uint8_t frame[PKT_MAX], want[PKT_MAX + GUE6_OVERHEAD];
	struct gue6_case c = { .name = "checksum 0 sent as 0xffff", .backend_id = B6_NEIGH,
			       TX6 };
	struct lb_packet_ctx ctx;
	struct pkt_layout lay;
	size_t len = 0, want_len = 0;
	uint32_t low;

	REQUIRE_FIXTURE(&fx.status);
	for (low = 1; low <= 0xffff && !expected_sum_zero; low++) {
		c.client_low = (uint16_t)low;
		len = case_frame(&c, frame, &lay);
		case_ctx(&c, frame, len, &lay, &ctx);
		want_len = expected(&c, frame, len, &lay, &ctx, neigh_mac, lbt0_mac, want);
	}
	if (!ASSERT_TRUE(expected_sum_zero, "a source port whose checksum is 0"))
		return;
	ASSERT_EQ(pkt_get16(want + 14 + 46), 0xffff, "expected checksum");
	encap_run_expect_tx(&fx, &ctx, frame, len, want, want_len, LB_C_ENCAP_TX,
			    "checksum 0 sent as 0xffff, from the inner checksum");
	ctx.flags |= LB_CTX_F_ICMP_ERROR;
	encap_run_expect_tx(&fx, &ctx, frame, len, want, want_len, LB_C_ENCAP_TX,
			    "checksum 0 sent as 0xffff, summed");
}

static const struct test_case cases[] = {
	TEST_CASE(test_golden_ipv6),
	TEST_CASE(test_golden_ipv4),
	TEST_CASE(test_ipv6_in_gue6),
	TEST_CASE(test_ipv4_in_gue6),
	TEST_CASE(test_next_hop),
	TEST_CASE(test_checksum_zero_sent_as_ones),
};

int main(int argc, char **argv)
{
	int status;

	fixture_setup();
	status = test_main("gue6", cases, ARRAY_SIZE(cases), argc, argv);
	fixture_teardown();
	return status;
}
