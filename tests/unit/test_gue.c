// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the GUE encap stage: output bytes, UDP source ports, next-hop
 * verdicts, counters.
 *
 * GUE "direct IP" (variant 1) puts a UDP header between the outer IPv4 header
 * and the inner IPv4 packet, which follows with no GUE header of its own:
 *
 *   [L2, tag kept][outer IPv4, protocol 17][UDP: sport, gue_port, len, 0][inner IPv4]
 *
 * UDP source port: 49152 + the low 14 bits of the flow hash of the packet
 * context's flow key; length: inner total length + 8; checksum 0 (RFC 768
 * allows it over IPv4). The network namespace, the backends and the case
 * runner are shared with the IPIP test: see encap_fixture.h. Two loads of the
 * stage share all maps: the defaults (port 6080, the client as outer source)
 * and a configured one (port 7000, outer source LB_ADDR).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "encap_fixture.h"
#include "flow_hash_common.h"
#include "gue.skel.h"
#include "packet.h"
#include "test_harness.h"
#include "xdp_test_run.h"

/* Written out here rather than taken from lb_consts_common.h, so that a change
 * there shows up as a failing test.
 */
#define GUE_DEFAULT_PORT 6080     /* the stage's default: the usual fou port */
#define GUE_CONFIGURED_PORT 7000  /* set through the skeleton in the second load */
#define GUE_SPORT_BASE 0xc000     /* 49152: the first dynamic port */
#define GUE_SPORT_HASH_BITS 0x3fff

static struct encap_fixture fx;
static struct gue_bpf *skel;            /* gue_port 6080, outer source = client */
static struct gue_bpf *skel_configured; /* gue_port 7000, outer source = LB_ADDR */

/* The UDP source port a packet with context flow key @flow must get. */
static uint16_t expected_source_port(const struct lb_flow_key *flow)
{
	return (uint16_t)(GUE_SPORT_BASE | (lb_flow_hash(flow) & GUE_SPORT_HASH_BITS));
}

/* The UDP header behind the outer IPv4 header; see encap_stage.own_headers. */
static size_t gue_udp_header(const struct encap_case *c, const struct lb_packet_ctx *ctx,
			     const uint8_t *inner, uint8_t *out)
{
	pkt_put16(out, expected_source_port(&ctx->flow));
	pkt_put16(out + 2, c->lb_source ? GUE_CONFIGURED_PORT : GUE_DEFAULT_PORT);
	pkt_put16(out + 4, (uint16_t)(pkt_get16(inner + 2) + 8)); /* UDP header + inner packet */
	pkt_put16(out + 6, 0);                                 /* no checksum */
	return 8;
}

/* The second load shares every map of the first; only .rodata differs. */
static int load_configured(void)
{
	int err;

	skel_configured = gue_bpf__open();
	if (!skel_configured)
		return -errno;
	skel_configured->rodata->lb_tunables.outer_src_addr = pkt_ip(LB_ADDR);
	skel_configured->rodata->lb_tunables.gue_port = htons(GUE_CONFIGURED_PORT);
	skel_configured->rodata->lb_tunables.nexthop_cache_ns = 0;
	skel_configured->rodata->lb_tunables.ingress_mtu = LBT0_MTU;
	err = encap_share_maps(skel_configured->obj, skel->obj);
	return err ? err : gue_bpf__load(skel_configured);
}

static void fixture_setup(void)
{
	if (geteuid() != 0 || encap_net_setup(&fx))
		return;
	/* The tables state what the FIB answers for each packet: no next-hop
	 * cache here (test_encap.c covers it; the code is shared).
	 */
	skel = gue_bpf__open();
	if (skel) {
		skel->rodata->lb_tunables.nexthop_cache_ns = 0;
		/* As lb-load sets it: lbt0's, the static-MAC backends' limit. */
		skel->rodata->lb_tunables.ingress_mtu = LBT0_MTU;
	}
	if (fixture_step(&fx.status, skel ? gue_bpf__load(skel) : -errno, "open and load gue_bpf") ||
	    fixture_step(&fx.status, load_configured(), "load gue_bpf, tunables set") ||
	    fixture_step(&fx.status, encap_maps_setup(&fx, skel->obj), "fill backends"))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel->progs.xdp_lb_gue);
	fx.stage.prog_fd_lb_source = bpf_program__fd(skel_configured->progs.xdp_lb_gue);
	fx.stage.outer_protocol = IPPROTO_UDP;
	fx.stage.own_len = 8; /* the UDP header */
	fx.stage.own_headers = gue_udp_header;
}

static void fixture_teardown(void)
{
	gue_bpf__destroy(skel_configured);
	gue_bpf__destroy(skel);
}

static void test_outer_headers(void)
{
	REQUIRE_FIXTURE(&fx.status);
	encap_run_cases(&fx, encap_format_cases, encap_format_case_count);
}

static void test_next_hop(void)
{
	REQUIRE_FIXTURE(&fx.status);
	encap_run_cases(&fx, encap_next_hop_cases, encap_next_hop_case_count);
}

static void test_bad_context(void)
{
	REQUIRE_FIXTURE(&fx.status);
	encap_run_cases(&fx, encap_bad_ctx_cases, encap_bad_ctx_case_count);
}

/* Runs the UDP flow CLIENT:@sport -> VIP:80 to B_NEIGH, whose context carries
 * @ctx_sport instead when not 0, through the checks of every case; returns the
 * UDP source port of the output (0 when there is none).
 */
static uint16_t run_flow(uint16_t sport, uint16_t ctx_sport, const char *name)
{
	const struct encap_case c = { .name = name, .sport = sport, .ctx_sport = ctx_sport,
				      .backend_id = B_NEIGH, TX_VIA_NEIGH };
	struct xdp_result res;

	encap_run_case(&fx, &c, &res);
	if (res.out_len < 14 + 20 + 8)
		return 0;
	return pkt_get16(res.out + 14 + 20);
}

#define SPREAD_FLOWS 64

static void test_source_port(void)
{
	uint16_t first, again, other, from_ctx, port, bits_one = 0, bits_zero = 0;
	char name[64];
	int i;

	REQUIRE_FIXTURE(&fx.status);
	first = run_flow(1234, 0, "flow sport 1234");
	again = run_flow(1234, 0, "flow sport 1234 again");
	other = run_flow(1235, 0, "flow sport 1235");
	ASSERT_EQ(again, first, "the same flow keeps its source port");
	ASSERT_TRUE(other != first, "flows differing only in source port");

	/* The context's flow key decides, not the frame: a frame of the first
	 * flow whose context names the second flow gets the second's port.
	 */
	from_ctx = run_flow(1234, 1235, "frame sport 1234, context sport 1235");
	ASSERT_EQ(from_ctx, other, "source port from the context's flow key");

	/* Every port in the dynamic range, and each of the 14 hash bits both
	 * set and clear across flows: no bit of the hash is lost to the mask.
	 */
	for (i = 0; i < SPREAD_FLOWS; i++) {
		snprintf(name, sizeof(name), "flow sport %d", 40000 + i);
		port = run_flow((uint16_t)(40000 + i), 0, name);
		if (!ASSERT_TRUE(port >= 49152, name))
			continue;
		bits_one |= port;
		bits_zero |= (uint16_t)~port;
	}
	ASSERT_EQ(bits_one & bits_zero & GUE_SPORT_HASH_BITS, GUE_SPORT_HASH_BITS,
		  "each of the 14 low bits varies across flows");
}

/* Bytes worked out by hand: encap_golden_in (10.0.0.1:1234 -> 10.0.0.100:80,
 * UDP, 4 bytes of payload, DF, id 0x1234) to backend 10.0.1.1 behind
 * 02:00:00:00:01:01, default load: port 6080 = 0x17c0, client source.
 *   outer header: total length 0x20 + 28 = 0x3c, protocol 0x11,
 *     checksum ~(4500+003c+1234+4000+4011+0a00+0001+0a00+0101) = 137c
 *   UDP: length 0x20 + 8 = 0x28, checksum 0
 *   source port: lookup3's jhash_3words(a, b, c, initval = protocol 17) over
 *     the key's words as a little-endian CPU loads them: a = src 0x0100000a,
 *     b = dst 0x6400000a, c = sport << 16 | dport = 0xd2045000. An independent
 *     transcription of the kernel's include/linux/jhash.h gives 0xdf7f2a2f;
 *     0xc000 | (0x2a2f) = 0xea2f (59951).
 */
#define GOLDEN_FLOW_HASH 0xdf7f2a2fU

static const uint8_t golden_out[] = {
	0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x13, 0x7c,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x01, 0x01,
	0xea, 0x2f, 0x17, 0xc0, 0x00, 0x28, 0x00, 0x00,
	0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x14, 0x35,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x64,
	0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0xe4, 0x4b, 0x00, 0x01, 0x02, 0x03,
};

static void test_golden_bytes(void)
{
	struct lb_packet_ctx ctx;
	uint32_t hash;

	REQUIRE_FIXTURE(&fx.status);
	encap_ctx_from_frame(B_NEIGH, 14, encap_golden_in, ENCAP_GOLDEN_IN_LEN, &ctx);
	/* Names a change of the hash function before the bytes below show it. */
	hash = lb_flow_hash(&ctx.flow);
	if (hash != GOLDEN_FLOW_HASH)
		test_fail(__FILE__, __LINE__, "golden flow: lb_flow_hash %#010x, expected %#010x",
			  hash, GOLDEN_FLOW_HASH);
	encap_run_golden(&fx, golden_out, sizeof(golden_out));
}

static const struct test_case cases[] = {
	TEST_CASE(test_golden_bytes),
	TEST_CASE(test_outer_headers),
	TEST_CASE(test_source_port),
	TEST_CASE(test_next_hop),
	TEST_CASE(test_bad_context),
};

int main(int argc, char **argv)
{
	int status;

	/* The namespace first: the FIB lookups must see only this test's network. */
	fixture_setup();
	status = test_main("gue", cases, ARRAY_SIZE(cases), argc, argv);
	fixture_teardown();
	return status;
}
