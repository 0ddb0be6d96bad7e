// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the IPIP encap stage with IPv6 backends: IPv6-in-IPv6 and
 * IPv4-in-IPv6 (RFC 2473).
 *
 * The network namespace of encap_fixture.h, with its IPv6 addresses, routes and
 * neighbours; IPv6 backends in slots of their own. The expected frame is
 * assembled here field by field from RFC 8200 and RFC 2473 (expected6()): the
 * L2 header with the next hop's MACs, an outer IPv6 header (traffic class
 * copied, flow label from the flow hash, payload length the inner packet's,
 * next header 41, hop limit 64, the client's or the configured source, the
 * backend's address), then the inner packet unchanged. One golden case spells
 * every byte out by hand.
 *
 * IPv4-in-IPv6: an IPv4 VIP's packet to an IPv6 backend (expected46()): the
 * same outer header with next header 4, the traffic class the inner TOS, the
 * flow label from the IPv4 flow hash, the source always outer_source6 (the
 * IPv4 client cannot be one), the EtherType IPv6; too big, the IPv4 rules
 * with 40 bytes of overhead (ICMP "fragmentation needed" carrying the limit
 * less 40). The IPv4 frames and contexts are encap_fixture.h's.
 */
#define _GNU_SOURCE /* sched_setaffinity, cpu_set_t */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "encap_fixture.h"
#include "flow_hash_common.h"
#include "ipip.skel.h"
#include "packet.h"
#include "test_harness.h"
#include "xdp_test_run.h"

static struct encap_fixture fx;
static struct ipip_bpf *skel;        /* outer source = client, FIB asked every time */
static struct ipip_bpf *skel_lb_src; /* outer_src_addr6 = LB6_ADDR */
static struct ipip_bpf *skel_cached; /* next hops cached */
static struct ipip_bpf *skel_small;  /* ingress_mtu SMALL_MTU (static MACs' limit) */
static struct ipip_bpf *skel_limited; /* ICMP errors: burst 2, then 1 per 1000 s */
static struct ipip_bpf *skel_via_stack; /* ingress_tx_via_stack = 1 */

#define ICMP_LIMITED_BURST 2
#define ICMP_LIMITED_INTERVAL_NS 1000000000000ULL

/* An ingress MTU under IPv6's 1280 + 40: "packet too big" then carries 1280,
 * and a packet too big for it can be shorter than the most an ICMPv6 error
 * quotes, so the answer quotes it whole.
 */
#define SMALL_MTU 1000
static struct ipip_bpf *skel_cached46; /* next hops cached, outer_src_addr6 = LB6_ADDR */

#define CLIENT6 "2001:db8::1"

static int load(struct ipip_bpf **out, const char *outer_src6, __u64 cache_ns, __u32 mtu)
{
	int err;

	*out = ipip_bpf__open();
	if (!*out)
		return -errno;
	(*out)->rodata->lb_tunables.ingress_tx_via_stack = out == &skel_via_stack;
	if (out == &skel_limited) {
		(*out)->rodata->lb_tunables.icmp_burst = ICMP_LIMITED_BURST;
		(*out)->rodata->lb_tunables.icmp_interval_ns = ICMP_LIMITED_INTERVAL_NS;
	}
	(*out)->rodata->lb_tunables.nexthop_cache_ns = cache_ns;
	(*out)->rodata->lb_tunables.ingress_mtu = mtu;
	if (outer_src6)
		pkt_ip6(outer_src6, (uint8_t *)(*out)->rodata->lb_tunables.outer_src_addr6);
	err = skel && *out != skel ? encap_share_maps((*out)->obj, skel->obj) : 0;
	return err ? err : ipip_bpf__load(*out);
}

static void fixture_setup(void)
{
	if (geteuid() != 0 || encap_net_setup(&fx))
		return;
	if (fixture_step(&fx.status, load(&skel, NULL, 0, LBT0_MTU), "load ipip_bpf") ||
	    fixture_step(&fx.status, load(&skel_lb_src, LB6_ADDR, 0, LBT0_MTU),
			 "load ipip_bpf with outer_src_addr6") ||
	    fixture_step(&fx.status, load(&skel_cached, NULL, 1000000000ULL, LBT0_MTU),
			 "load ipip_bpf with a next-hop cache") ||
	    fixture_step(&fx.status, load(&skel_small, NULL, 0, SMALL_MTU),
			 "load ipip_bpf with a small ingress MTU") ||
	    fixture_step(&fx.status, load(&skel_limited, NULL, 0, LBT0_MTU),
			 "load ipip_bpf with an ICMP limit") ||
	    fixture_step(&fx.status, load(&skel_via_stack, NULL, 0, LBT0_MTU),
			 "load ipip_bpf with ingress_tx_via_stack") ||
	    fixture_step(&fx.status, load(&skel_cached46, LB6_ADDR, 1000000000ULL, LBT0_MTU),
			 "load ipip_bpf with a next-hop cache and outer_src_addr6") ||
	    fixture_step(&fx.status, encap_maps_setup(&fx, skel->obj), "fill backends") ||
	    fixture_step(&fx.status, encap_backends6_setup(&fx), "fill IPv6 backends"))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel->progs.xdp_lb_ipip);
}

static void fixture_teardown(void)
{
	ipip_bpf__destroy(skel_via_stack);
	ipip_bpf__destroy(skel_limited);
	ipip_bpf__destroy(skel_small);
	ipip_bpf__destroy(skel_cached46);
	ipip_bpf__destroy(skel_cached);
	ipip_bpf__destroy(skel_lb_src);
	ipip_bpf__destroy(skel);
}

struct ipip6_case {
	const char *name;
	/* input: pkt_spec_udp6() with these changes */
	uint8_t proto;         /* 0: UDP */
	uint8_t tclass;
	uint32_t flow_label;   /* the inner packet's: not copied */
	uint8_t hop_limit;     /* 0: 64 */
	int vlan;
	size_t payload_len;    /* 0: 32 bytes */
	size_t padding;
	struct pkt_ext6 ext[3];
	size_t ext_count;
	int ipv4;              /* an IPv4 frame (pkt_spec_udp) under an IPv6 context */
	/* context and environment */
	uint32_t backend_id;
	int lb_source;         /* the load with outer_src_addr6 */
	int small_mtu;         /* the load with ingress_mtu SMALL_MTU */
	int limited;           /* the load with the ICMP limit */
	int via_stack;         /* the load with ingress_tx_via_stack */
	int icmp_error;        /* the context of an ICMP error the icmp stage forwards */
	int lbt2_tx_port;
	int forwarding_off;    /* lbt0's IPv6 forwarding off during the run */
	int mtu_edge;          /* the outer packet exactly lbt0's MTU, or one byte more
				* (SMALL_MTU's with small_mtu) */
	int l3_offset, l4_offset, frame_len_delta;
	int no_ipv6_flag;      /* the context without LB_CTX_F_IPV6 */
	/* expectations */
	uint32_t verdict;
	enum expect_frame out;
	const uint8_t *dmac, *smac;
	enum lb_counter counter;
	uint32_t mtu;          /* OUT_ICMP6_TOO_BIG: the MTU it carries */
};

static size_t case_frame(const struct ipip6_case *c, uint8_t *frame, struct pkt_layout *lay)
{
	struct pkt_spec spec;

	if (c->ipv4)
		pkt_spec_udp(&spec);
	else
		pkt_spec_udp6(&spec);
	if (c->proto)
		spec.proto = c->proto;
	spec.tos = c->tclass;
	spec.flow_label = c->flow_label;
	if (c->hop_limit)
		spec.ttl = c->hop_limit;
	if (c->vlan)
		spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, 100 };
	if (c->payload_len)
		spec.payload_len = c->payload_len;
	if (c->mtu_edge) /* outer 40 + inner 40 + UDP 8 + payload = MTU (+1) */
		spec.payload_len = (c->small_mtu ? SMALL_MTU : LBT0_MTU) - 40 - 40 - 8 +
				   (c->mtu_edge == MTU_EXCEEDED);
	for (size_t i = 0; c->mtu_edge && i < c->ext_count; i++)
		spec.payload_len -= c->ext[i].type == 44 ? 8 : 8 * (c->ext[i].hdrlen + 1);
	spec.padding = c->padding;
	memcpy(spec.ext6, c->ext, sizeof(c->ext));
	spec.ext6_count = c->ext_count;
	pkt_layout(&spec, lay);
	return pkt_build(&spec, frame, PKT_MAX);
}

/* The context parse and lb leave for the IPv6 frame of @c. */
static void ctx6_from_frame(const struct ipip6_case *c, const uint8_t *frame, size_t len,
			    const struct pkt_layout *lay, struct lb_packet_ctx *ctx)
{
	bool fragment = false, later = false;
	size_t i;

	for (i = 0; i < c->ext_count; i++)
		if (c->ext[i].type == 44 && (c->ext[i].frag_off & 0xfff9)) {
			fragment = true;
			later |= (c->ext[i].frag_off & 0xfff8) != 0;
		}
	encap_ctx6_from_frame(c->backend_id, c->proto ? c->proto : IPPROTO_UDP, fragment, frame,
			      len, lay, ctx);
	if (later)
		ctx->flags |= LB_CTX_F_LATER_FRAGMENT;
	if (c->icmp_error)
		ctx->flags |= LB_CTX_F_ICMP_ERROR;
}

/* @in's packet behind the L2 header (MACs @dmac/@smac, NULL keeps the
 * frame's own; the EtherType IPv6) and an outer IPv6 header carrying
 * @nexthdr: traffic class @tclass, flow label @label, payload length the
 * inner packet's @inner_len, hop limit 64, @src to @dst. Returns the length.
 */
static size_t expected_outer6(const uint8_t *in, size_t in_len, size_t l2_len,
			      const uint8_t *dmac, const uint8_t *smac, uint8_t tclass,
			      uint32_t label, uint16_t inner_len, uint8_t nexthdr, const char *src,
			      const char *dst, uint8_t *out)
{
	uint8_t *outer = out + l2_len;

	encap_expected_l2(in, l2_len, dmac, smac, out);
	pkt_put16(out + l2_len - 2, 0x86dd);               /* EtherType: IPv6 */
	outer[0] = (uint8_t)(0x60 | tclass >> 4);           /* version 6, traffic class */
	outer[1] = (uint8_t)(tclass << 4 | label >> 16);    /* ..., flow label */
	pkt_put16(outer + 2, (uint16_t)label);
	pkt_put16(outer + 4, inner_len);                    /* payload: the inner packet */
	outer[6] = nexthdr;
	outer[7] = 64;                                      /* hop limit */
	pkt_ip6(src, outer + 8);
	pkt_ip6(dst, outer + 24);
	memcpy(outer + 40, in + l2_len, in_len - l2_len);
	return in_len + 40;
}

/* What the stage must make of @in (RFC 2473): see the top of the file. */
static size_t expected6(const uint8_t *in, size_t in_len, size_t l2_len, const uint8_t *dmac,
			const uint8_t *smac, const struct lb_packet_ctx *ctx, const char *src,
			const char *dst, uint8_t *out)
{
	const uint8_t *inner = in + l2_len;
	uint8_t tclass = (uint8_t)((inner[0] & 0x0f) << 4 | inner[1] >> 4);

	return expected_outer6(in, in_len, l2_len, dmac, smac, tclass,
			       lb_flow_hash6(&ctx->flow6) & 0xfffff, ctx->ip_tot_len, 41, src, dst,
			       out);
}

static void run_case(const struct ipip6_case *c)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta delta = { c->counter, 1 };
	uint8_t frame[PKT_MAX], want[PKT_MAX + 40];
	size_t len, want_len, l2_len = c->vlan ? 18 : 14;
	static struct xdp_result res;
	struct lb_packet_ctx ctx;
	struct pkt_layout lay;
	int prog_fd = c->lb_source ? bpf_program__fd(skel_lb_src->progs.xdp_lb_ipip) :
		      c->small_mtu ? bpf_program__fd(skel_small->progs.xdp_lb_ipip) :
		      c->limited ? bpf_program__fd(skel_limited->progs.xdp_lb_ipip) :
		      c->via_stack ? bpf_program__fd(skel_via_stack->progs.xdp_lb_ipip) :
				     fx.stage.prog_fd;
	struct bpf_devmap_val port = { .ifindex = (uint32_t)fx.lbt2 };
	uint32_t lbt2 = (uint32_t)fx.lbt2;

	len = case_frame(c, frame, &lay);
	if (!ASSERT_TRUE(len > 0, c->name))
		return;
	ctx6_from_frame(c, frame, len, &lay, &ctx);
	if (c->l3_offset)
		ctx.l3_offset = (uint16_t)c->l3_offset;
	if (c->l4_offset)
		ctx.l4_offset = (uint16_t)c->l4_offset;
	if (c->no_ipv6_flag)
		ctx.flags &= ~LB_CTX_F_IPV6;
	ctx.frame_len += (uint32_t)c->frame_len_delta;
	if (!ASSERT_OK(ctx_write_all_cpus(fx.ctx_fd, &ctx), c->name))
		return;
	if (c->lbt2_tx_port)
		bpf_map_update_elem(fx.tx_ports_fd, &lbt2, &port, BPF_ANY);
	if (c->forwarding_off)
		write_sysctl(FWD6_LBT0, "0");
	counters_read(fx.counters_fd, before);
	xdp_run(prog_fd, frame, len, fx.lbt0, &res);
	counters_read(fx.counters_fd, after);
	if (c->forwarding_off)
		write_sysctl(FWD6_LBT0, "1");
	bpf_map_delete_elem(fx.tx_ports_fd, &lbt2);
	if (!ASSERT_OK(res.err, c->name))
		return;
	if (res.verdict != c->verdict)
		test_fail(__FILE__, __LINE__, "%s: verdict %s, expected %s", c->name,
			  xdp_verdict_name(res.verdict), xdp_verdict_name(c->verdict));
	counters_expect(before, after, &delta, 1, c->name);
	if (c->out == OUT_UNCHANGED) {
		if (!ASSERT_BYTES(res.out, res.out_len, frame, len, c->name))
			test_hexdump("input", frame, len);
		return;
	}
	if (c->out == OUT_ICMP6_TOO_BIG || c->out == OUT_ICMP6_TOO_BIG_OWN_L2) {
		want_len = pkt_packet_too_big(frame, l2_len, c->out == OUT_ICMP6_TOO_BIG, c->mtu,
					      want);
		if (!ASSERT_BYTES(res.out, res.out_len, want, want_len, c->name))
			test_hexdump("input", frame, len);
		return;
	}
	want_len = expected6(frame, len, l2_len, c->out == OUT_ENCAP ? c->dmac : NULL,
			     c->out == OUT_ENCAP ? c->smac : NULL, &ctx,
			     c->lb_source ? LB6_ADDR : CLIENT6, encap_backend6_addr(c->backend_id), want);
	if (!ASSERT_BYTES(res.out, res.out_len, want, want_len, c->name))
		test_hexdump("input", frame, len);
}

static void run_cases(const struct ipip6_case *cases, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		run_case(&cases[i]);
}

/* Too big once encapsulated: ICMPv6 "packet too big" by XDP_TX. */
#define TOO_BIG6(m) .verdict = XDP_TX, .out = OUT_ICMP6_TOO_BIG, .mtu = (m), \
		    .counter = LB_C_ENCAP_ICMP6_PACKET_TOO_BIG

#define TX6 .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = neigh_mac, .smac = lbt0_mac, \
	    .counter = LB_C_ENCAP_TX

static void test_outer_header_format(void)
{
	static const struct ipip6_case cases[] = {
		{ .name = "plain UDP", .backend_id = B6_NEIGH, TX6 },
		{ .name = "plain TCP", .proto = IPPROTO_TCP, .backend_id = B6_NEIGH, TX6 },
		{ .name = "traffic class copied, the inner flow label not", .tclass = 0xb8,
		  .flow_label = 0x12345, .backend_id = B6_NEIGH, TX6 },
		{ .name = "hop limit 1: the inner packet untouched", .hop_limit = 1,
		  .backend_id = B6_NEIGH, TX6 },
		{ .name = "extension headers kept inside, counted in the outer length",
		  .ext = { { 0, 1, 0 }, { 43, 0, 0 }, { 60, 0, 0 } }, .ext_count = 3,
		  .backend_id = B6_NEIGH, TX6 },
		{ .name = "first fragment: the flow label from the key without ports",
		  .ext = { { 44, 0, 0x0001 } }, .ext_count = 1, .backend_id = B6_NEIGH, TX6 },
		{ .name = "later fragment behind hop-by-hop",
		  .ext = { { 0, 0, 0 }, { 44, 0, 1448 } }, .ext_count = 2,
		  .backend_id = B6_NEIGH, TX6 },
		{ .name = "VLAN tag kept", .vlan = 1, .backend_id = B6_NEIGH, TX6 },
		{ .name = "Ethernet padding behind the inner packet, not in the outer length",
		  .payload_len = 2, .padding = 16, .backend_id = B6_NEIGH, TX6 },
		{ .name = "outer_source6 as the outer source", .lb_source = 1,
		  .backend_id = B6_NEIGH, TX6 },
		{ .name = "outer_source6, VLAN, TCP", .lb_source = 1, .vlan = 1,
		  .proto = IPPROTO_TCP, .backend_id = B6_NEIGH, TX6 },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_cases(cases, ARRAY_SIZE(cases));
}

static void test_next_hop(void)
{
	static const struct ipip6_case cases[] = {
		{ .name = "static MAC beats the neighbour's", .backend_id = B6_STATIC,
		  .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = static_mac, .smac = lbt0_mac,
		  .counter = LB_C_ENCAP_TX },
		{ .name = "no neighbour: XDP_PASS, encapsulated, own Ethernet header",
		  .backend_id = B6_NO_NEIGH, .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2,
		  .counter = LB_C_ENCAP_PASS_NO_NEIGH },
		{ .name = "egress lbt2 in tx_ports: XDP_REDIRECT with lbt2's MACs",
		  .backend_id = B6_VIA_LBT2, .lbt2_tx_port = 1, .verdict = XDP_REDIRECT,
		  .out = OUT_ENCAP, .dmac = lbt2_neigh_mac, .smac = lbt2_mac,
		  .counter = LB_C_ENCAP_REDIRECT },
		{ .name = "egress lbt2 not in tx_ports: the kernel forwards it",
		  .backend_id = B6_VIA_LBT2, .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2,
		  .counter = LB_C_ENCAP_PASS_TO_STACK },
		{ .name = "no route", .backend_id = B6_NO_ROUTE, DROPPED(DROP_NO_ROUTE) },
		{ .name = "blackhole route", .backend_id = B6_BLACKHOLE, DROPPED(DROP_NO_ROUTE) },
		{ .name = "backend is a local address", .backend_id = B6_LOCAL,
		  DROPPED(DROP_NO_ROUTE) },
		{ .name = "MTU: outer packet = lbt0 MTU 1500 fits (40 bytes of overhead)",
		  .mtu_edge = MTU_FITS, .backend_id = B6_NEIGH, TX6 },
		{ .name = "MTU: outer packet = lbt0 MTU + 1", .mtu_edge = MTU_EXCEEDED,
		  .backend_id = B6_NEIGH, TOO_BIG6(1460) },
		{ .name = "static MAC: ingress MTU + 1", .mtu_edge = MTU_EXCEEDED,
		  .backend_id = B6_STATIC, TOO_BIG6(1460) },
		{ .name = "IPv6 forwarding off on lbt0", .forwarding_off = 1,
		  .backend_id = B6_NEIGH, DROPPED(DROP_FWD_DISABLED) },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_cases(cases, ARRAY_SIZE(cases));
}

/* Too big once encapsulated (docs/operations.md, "Packets too big once
 * encapsulated"): IPv6 has no DF, so every such packet is answered with
 * ICMPv6 "packet too big" carrying the limit less the 40-byte outer header,
 * never below 1280, quoting at most 1232 bytes; except an ICMP error being
 * forwarded and a fragment other than the first.
 */
static void test_packet_too_big(void)
{
	static const struct ipip6_case cases[] = {
		{ .name = "TCP: the quote cut at 1232 bytes", .proto = IPPROTO_TCP,
		  .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH, TOO_BIG6(1460) },
		{ .name = "VLAN tag kept, padding not quoted", .vlan = 1, .padding = 6,
		  .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH, TOO_BIG6(1460) },
		{ .name = "extension headers quoted",
		  .ext = { { 0, 1, 0 }, { 60, 0, 0 } }, .ext_count = 2,
		  .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH, TOO_BIG6(1460) },
		{ .name = "first fragment: answered", .ext = { { 44, 0, 0x0001 } },
		  .ext_count = 1, .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH,
		  TOO_BIG6(1460) },
		{ .name = "later fragment: dropped, no ICMPv6", .ext = { { 44, 0, 1448 } },
		  .ext_count = 1, .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH,
		  DROPPED(DROP_MTU) },
		{ .name = "an ICMP error being forwarded: dropped, no ICMPv6 about it",
		  .icmp_error = 1, .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH,
		  DROPPED(DROP_MTU) },
		{ .name = "small ingress MTU, static MAC: 1280 advertised, quoted whole",
		  .small_mtu = 1, .mtu_edge = MTU_EXCEEDED, .backend_id = B6_STATIC,
		  TOO_BIG6(1280) },
		{ .name = "small ingress MTU, odd length, VLAN", .small_mtu = 1, .vlan = 1,
		  .payload_len = SMALL_MTU - 40 - 40 - 8 + 3, .backend_id = B6_STATIC,
		  TOO_BIG6(1280) },
		{ .name = "ingress takes no XDP_TX: to the kernel, the Ethernet header kept",
		  .via_stack = 1, .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH,
		  .verdict = XDP_PASS, .out = OUT_ICMP6_TOO_BIG_OWN_L2, .mtu = 1460,
		  .counter = LB_C_ENCAP_ICMP6_PACKET_TOO_BIG },
		{ .name = "small ingress MTU: a packet that fits is sent", .small_mtu = 1,
		  .mtu_edge = MTU_FITS, .backend_id = B6_STATIC, .verdict = XDP_TX,
		  .out = OUT_ENCAP, .dmac = static_mac, .smac = lbt0_mac,
		  .counter = LB_C_ENCAP_TX },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_cases(cases, ARRAY_SIZE(cases));
}

/* IPv6 draws on IPv4's token bucket: a burst of ICMP_LIMITED_BURST answers,
 * then each too-big packet is dropped without one until it refills. Per CPU,
 * so the runs stay on one.
 */
static void test_packet_too_big_rate_limit(void)
{
	static const struct ipip6_case answered = { .name = "within the burst: answered",
		.limited = 1, .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH, TOO_BIG6(1460) };
	static const struct ipip6_case limited = { .name = "past the burst: dropped, no ICMPv6",
		.limited = 1, .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH,
		DROPPED(DROP_ICMP_RATE_LIMITED) };
	static const struct ipip6_case fits = { .name = "past the burst, fits: still sent",
		.limited = 1, .mtu_edge = MTU_FITS, .backend_id = B6_NEIGH, TX6 };
	cpu_set_t all;
	int i;

	REQUIRE_FIXTURE(&fx.status);
	if (!stay_on_one_cpu(&all))
		return;
	ASSERT_OK(percpu_zero(skel_limited->maps.icmp_tokens, 0), "start with a full ICMP bucket");
	for (i = 0; i < ICMP_LIMITED_BURST; i++)
		run_case(&answered);
	for (i = 0; i < 3; i++)
		run_case(&limited);
	run_case(&fits);
	/* The loads share the bucket (encap_share_maps()): full again for the
	 * tests that follow, whatever their limits.
	 */
	ASSERT_OK(percpu_zero(skel_limited->maps.icmp_tokens, 0), "refill the ICMP bucket");
	sched_setaffinity(0, sizeof(all), &all);
}

static void test_bad_context(void)
{
	static const struct ipip6_case cases[] = {
		{ .name = "IPv6 packet, IPv4 backend", .backend_id = B_NEIGH,
		  DROPPED(DROP_BAD_CTX) },
		{ .name = "IPv4 packet, IPv6 backend, no outer_source6 loaded", .ipv4 = 1,
		  .no_ipv6_flag = 1, .backend_id = B6_NEIGH, DROPPED(DROP_BAD_CTX) },
		{ .name = "IPv6 context on an IPv4 frame", .ipv4 = 1, .backend_id = B6_NEIGH,
		  DROPPED(DROP_BAD_CTX) },
		{ .name = "IPv6 frame, context without the IPv6 flag", .no_ipv6_flag = 1,
		  .backend_id = B6_NEIGH, DROPPED(DROP_BAD_CTX) },
		{ .name = "l3_offset 18 on an untagged frame", .l3_offset = 18,
		  .backend_id = B6_NEIGH, DROPPED(DROP_BAD_CTX) },
		{ .name = "l4_offset inside the IPv6 header", .l4_offset = 14 + 39,
		  .backend_id = B6_NEIGH, DROPPED(DROP_BAD_CTX) },
		{ .name = "l4_offset past the extension header limit",
		  .l4_offset = 14 + 40 + LB_IPV6_MAX_EXT_LEN + 8, .payload_len = 400,
		  .backend_id = B6_NEIGH, DROPPED(DROP_BAD_CTX) },
		{ .name = "context of a longer frame", .frame_len_delta = 1,
		  .backend_id = B6_NEIGH, DROPPED(DROP_BAD_CTX) },
		{ .name = "EMPTY backend slot", .backend_id = 99, DROPPED(DROP_BAD_CTX) },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_cases(cases, ARRAY_SIZE(cases));
}

/* The cache answers for an IPv6 backend's next packets, keyed by backend id and
 * checked against the whole address.
 */
static void test_next_hop_cache(void)
{
	static const struct ipip6_case neigh = { .name = "cached IPv6 next hop",
						 .backend_id = B6_NEIGH, TX6 };
	static const struct ipip6_case too_big = { .name = "cached: the route's MTU + 1",
						   .mtu_edge = MTU_EXCEEDED,
						   .backend_id = B6_NEIGH, TOO_BIG6(1460) };
	static const struct ipip6_case fits = { .name = "cached: the route's MTU fits",
						.mtu_edge = MTU_FITS, .backend_id = B6_NEIGH, TX6 };
	int default_fd = fx.stage.prog_fd;
	cpu_set_t all;

	REQUIRE_FIXTURE(&fx.status);
	/* The cache is per CPU: a run on another CPU would miss it (it did,
	 * once, under load).
	 */
	if (!stay_on_one_cpu(&all))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel_cached->progs.xdp_lb_ipip);
	run_case(&neigh);
	run_case(&too_big);
	run_case(&fits);
	/* The neighbour's MAC changes: the cache still answers with the old one. */
	ASSERT_OK(system("ip -6 neigh replace " NEIGH6_ADDR " lladdr 02:00:00:00:01:99 dev lbt0 "
			 "nud permanent"),
		  "change the neighbour's MAC");
	run_case(&neigh);
	ASSERT_OK(system("ip -6 neigh replace " NEIGH6_ADDR " lladdr 02:00:00:00:01:01 dev lbt0 "
			 "nud permanent"),
		  "restore the neighbour's MAC");
	fx.stage.prog_fd = default_fd;
	sched_setaffinity(0, sizeof(all), &all);
}

/* Bytes worked out by hand: encap_golden_in6 (UDP [2001:db8::1]:1234 ->
 * [2001:db8::100]:80, 4 bytes of payload, UDP checksum 9c3d) to backend
 * 2001:db8:0:1::1:1 behind 02:00:00:00:01:01.
 *   flow label: lb_flow_hash6() of the 5-tuple & 0xfffff = 0xa381f
 */
static void test_golden_bytes(void)
{
	const uint8_t *in = encap_golden_in6;
	static const uint8_t out[] = {
		0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x86, 0xdd,
		0x60, 0x0a, 0x38, 0x1f, 0x00, 0x34, 0x29, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01,
		0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
		0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0x9c, 0x3d, 0x00, 0x01, 0x02, 0x03,
	};
	const struct ipip6_case c = { .payload_len = 4, .backend_id = B6_NEIGH };
	uint8_t built[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_layout lay;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	len = case_frame(&c, built, &lay);
	ASSERT_BYTES(built, len, in, ENCAP_GOLDEN_IN6_LEN, "pkt_build vs hand-made input");
	ctx6_from_frame(&c, in, ENCAP_GOLDEN_IN6_LEN, &lay, &ctx);
	ASSERT_EQ(lb_flow_hash6(&ctx.flow6) & 0xfffff, 0xa381f, "the flow label by hand");
	encap_run_expect_tx(&fx, &ctx, in, ENCAP_GOLDEN_IN6_LEN, out, sizeof(out), LB_C_ENCAP_TX,
			    "golden frame");
}

/* Bytes worked out by hand: UDP [2001:db8::1]:1234 -> [2001:db8::100]:80,
 * 1413 bytes of payload (0, 1, 2, ...): 1461 bytes of IPv6, 1501 once
 * encapsulated, one more than lbt0's 1500. The answer: ICMPv6 "packet too
 * big", MTU 1500 - 40 = 1460 (05b4), from the VIP to the client, MACs swapped,
 * payload length 8 + 1232 (04d8), quoting the first 1232 bytes of the packet.
 *   client's UDP checksum: 7aeb (pkt_build's; it is quoted, so summed below)
 *   ICMPv6 checksum = ~(pseudo-header + ICMPv6 header + quote):
 *     pseudo-header: 2eb9 (VIP) + 2dba (client) + 04d8 + 003a = 6185
 *     header: 0200 + 0000 (checksum) + 0000 + 05b4 = 07b4
 *     quote: IPv6 header 6000+0000+05cd+1140 + 2dba + 2eb9 = d340;
 *       UDP header 04d2+0050+058d+7aeb = 859a; 1184 bytes of payload, four
 *       runs of 0..255 (each 512 * (0+1+..+127) + (1+3+..+255) = 3fc000)
 *       and 0..159 (512 * 3160 + 6400 = 18c900): 117c900; in all 11921da
 *     6185 + 07b4 + 11921da = 1198b13, folded 8c2c, complemented 73d3
 */
static void test_packet_too_big_golden(void)
{
	static const uint8_t head[] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x86, 0xdd,
		0x60, 0x00, 0x00, 0x00, 0x04, 0xd8, 0x3a, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x02, 0x00, 0x73, 0xd3, 0x00, 0x00, 0x05, 0xb4,
	};
	const struct ipip6_case c = { .payload_len = 1413, .backend_id = B6_NEIGH };
	static uint8_t frame[PKT_MAX], want[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_layout lay;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	len = case_frame(&c, frame, &lay);
	if (!ASSERT_EQ(len, 14 + 1461, "input length") ||
	    !ASSERT_EQ(pkt_get16(frame + 14 + 46), 0x7aeb, "the client's UDP checksum"))
		return;
	memcpy(want, head, sizeof(head));
	memcpy(want + sizeof(head), frame + 14, 1232);
	ctx6_from_frame(&c, frame, len, &lay, &ctx);
	encap_run_expect_tx(&fx, &ctx, frame, len, want, sizeof(head) + 1232,
			    LB_C_ENCAP_ICMP6_PACKET_TOO_BIG, "golden ICMPv6 packet too big");
}

/* IPv4-in-IPv6 cases run on the load with outer_source6 (lb_source 1), or
 * on @ipip46_prog_fd when a test sets it (the cached load).
 */
static int ipip46_prog_fd = -1;

/* What the stage must make of the IPv4 frame @in for an IPv6 backend: see
 * the top of the file. @ctx is the IPv4 context the label is hashed from.
 */
static size_t expected46(const uint8_t *in, size_t in_len, size_t l2_len, const uint8_t *dmac,
			 const uint8_t *smac, const struct lb_packet_ctx *ctx, const char *dst,
			 uint8_t *out)
{
	const uint8_t *inner = in + l2_len;

	return expected_outer6(in, in_len, l2_len, dmac, smac, inner[1],
			       lb_flow_hash(&ctx->flow) & 0xfffff, pkt_get16(inner + 2), 4,
			       LB6_ADDR, dst, out);
}

static void run_case46(const struct encap_case *asked)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta delta = { asked->counter, 1 };
	uint8_t frame[PKT_MAX], want[PKT_MAX + 40];
	struct encap_case c = *asked;
	size_t len, want_len, l2_len = c.vlan ? 18 : 14;
	static struct xdp_result res;
	struct bpf_devmap_val port = { .ifindex = (uint32_t)fx.lbt2 };
	uint32_t lbt2 = (uint32_t)fx.lbt2;
	struct lb_packet_ctx ctx;
	int prog_fd = c.lb_source ? bpf_program__fd(skel_lb_src->progs.xdp_lb_ipip) :
				    fx.stage.prog_fd;

	if (ipip46_prog_fd >= 0)
		prog_fd = ipip46_prog_fd;
	/* outer 40 + inner 20 + UDP 8 + payload = the MTU (+1) */
	if (c.mtu_edge)
		c.payload_len = LBT0_MTU - 40 - 20 - 8 + (c.mtu_edge == MTU_EXCEEDED);
	len = encap_case_frame(&c, frame, sizeof(frame));
	if (!ASSERT_TRUE(len > 0, c.name))
		return;
	encap_ctx_from_frame(c.backend_id, (uint16_t)l2_len, frame, len, &ctx);
	if (!ASSERT_OK(ctx_write_all_cpus(fx.ctx_fd, &ctx), c.name))
		return;
	if (c.lbt2_tx_port)
		bpf_map_update_elem(fx.tx_ports_fd, &lbt2, &port, BPF_ANY);
	if (c.forwarding_off)
		write_sysctl(FWD6_LBT0, "0");
	counters_read(fx.counters_fd, before);
	xdp_run(prog_fd, frame, len, fx.lbt0, &res);
	counters_read(fx.counters_fd, after);
	if (c.forwarding_off)
		write_sysctl(FWD6_LBT0, "1");
	bpf_map_delete_elem(fx.tx_ports_fd, &lbt2);
	if (!ASSERT_OK(res.err, c.name))
		return;
	if (res.verdict != c.verdict)
		test_fail(__FILE__, __LINE__, "%s: verdict %s, expected %s", c.name,
			  xdp_verdict_name(res.verdict), xdp_verdict_name(c.verdict));
	counters_expect(before, after, &delta, 1, c.name);
	if (c.out == OUT_UNCHANGED) {
		want_len = len;
		memcpy(want, frame, len);
	} else if (c.out == OUT_ICMP_FRAG) {
		/* The limit less the 40-byte outer IPv6 header. */
		want_len = pkt_frag_needed(frame, l2_len, 1, LBT0_MTU - 40, want);
		if (res.out_len == want_len)
			ASSERT_EQ(pkt_csum(res.out + l2_len + 20, want_len - l2_len - 20), 0,
				  c.name);
	} else {
		want_len = expected46(frame, len, l2_len, c.out == OUT_ENCAP ? c.dmac : NULL,
				      c.out == OUT_ENCAP ? c.smac : NULL, &ctx,
				      encap_backend6_addr(c.backend_id), want);
	}
	if (!ASSERT_BYTES(res.out, res.out_len, want, want_len, c.name))
		test_hexdump("input", frame, len);
}

static void run_cases46(const struct encap_case *cases, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		run_case46(&cases[i]);
}

#define TX46 .lb_source = 1, TX6

static void test_ipv4_in_ipv6_format(void)
{
	static const struct encap_case cases[] = {
		{ .name = "4in6: plain UDP", .backend_id = B6_NEIGH, TX46 },
		{ .name = "4in6: plain TCP", .proto = IPPROTO_TCP, .backend_id = B6_NEIGH, TX46 },
		{ .name = "4in6: TOS as the traffic class, DF", .tos = 0xb8, .frag_off = 0x4000,
		  .backend_id = B6_NEIGH, TX46 },
		{ .name = "4in6: fragment, the flow label from the key without ports",
		  .frag_off = 0x2000 | 185, .backend_id = B6_NEIGH, TX46 },
		{ .name = "4in6: IP options kept inside, counted in the payload length",
		  .ip_options = 1, .backend_id = B6_NEIGH, TX46 },
		{ .name = "4in6: VLAN tag kept, its EtherType IPv6", .vlan = 1,
		  .proto = IPPROTO_TCP, .backend_id = B6_NEIGH, TX46 },
		{ .name = "4in6: Ethernet padding behind, not in the payload length",
		  .payload_len = 2, .padding = 16, .backend_id = B6_NEIGH, TX46 },
		{ .name = "4in6: no outer_source6 loaded: never sent from ::",
		  .backend_id = B6_NEIGH, DROPPED(DROP_BAD_CTX) },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_cases46(cases, ARRAY_SIZE(cases));
}

static void test_ipv4_in_ipv6_next_hop(void)
{
	static const struct encap_case cases[] = {
		{ .name = "4in6: static MAC", .backend_id = B6_STATIC, .lb_source = 1,
		  .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = static_mac, .smac = lbt0_mac,
		  .counter = LB_C_ENCAP_TX },
		{ .name = "4in6: no neighbour: XDP_PASS, own Ethernet header, EtherType IPv6",
		  .backend_id = B6_NO_NEIGH, .lb_source = 1, .verdict = XDP_PASS,
		  .out = OUT_ENCAP_OWN_L2, .counter = LB_C_ENCAP_PASS_NO_NEIGH },
		{ .name = "4in6: egress lbt2 in tx_ports", .backend_id = B6_VIA_LBT2,
		  .lb_source = 1, .lbt2_tx_port = 1, .verdict = XDP_REDIRECT, .out = OUT_ENCAP,
		  .dmac = lbt2_neigh_mac, .smac = lbt2_mac, .counter = LB_C_ENCAP_REDIRECT },
		{ .name = "4in6: no route", .backend_id = B6_NO_ROUTE, .lb_source = 1,
		  DROPPED(DROP_NO_ROUTE) },
		{ .name = "4in6: blackhole", .backend_id = B6_BLACKHOLE, .lb_source = 1,
		  DROPPED(DROP_NO_ROUTE) },
		{ .name = "4in6: IPv6 forwarding off", .forwarding_off = 1,
		  .backend_id = B6_NEIGH, .lb_source = 1, DROPPED(DROP_FWD_DISABLED) },
		{ .name = "4in6: outer packet = MTU fits", .mtu_edge = MTU_FITS,
		  .backend_id = B6_NEIGH, TX46 },
		{ .name = "4in6: MTU + 1 with DF: frag needed carrying MTU - 40",
		  .mtu_edge = MTU_EXCEEDED, .frag_off = 0x4000, .backend_id = B6_NEIGH,
		  .lb_source = 1, FRAG_NEEDED },
		{ .name = "4in6: MTU + 1 without DF: encapsulated for the kernel to fragment",
		  .mtu_edge = MTU_EXCEEDED, .backend_id = B6_NEIGH, .lb_source = 1,
		  TOO_BIG_NO_DF },
		{ .name = "4in6: MTU + 1, DF, later fragment: dropped, no ICMP",
		  .mtu_edge = MTU_EXCEEDED, .frag_off = 0x4000 | 185, .backend_id = B6_NEIGH,
		  .lb_source = 1, DROPPED(DROP_MTU) },
		{ .name = "4in6: static MAC, ingress MTU + 1 with DF", .mtu_edge = MTU_EXCEEDED,
		  .frag_off = 0x4000, .backend_id = B6_STATIC, .lb_source = 1, FRAG_NEEDED },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_cases46(cases, ARRAY_SIZE(cases));
}

/* The cache answers too, with the route's MTU: too big is still the IPv4 rule. */
static void test_ipv4_in_ipv6_cache(void)
{
	static const struct encap_case cases[] = {
		{ .name = "4in6 cached", .backend_id = B6_NEIGH, TX46 },
		{ .name = "4in6 cached: MTU + 1 with DF", .mtu_edge = MTU_EXCEEDED,
		  .frag_off = 0x4000, .backend_id = B6_NEIGH, .lb_source = 1, FRAG_NEEDED },
		{ .name = "4in6 cached: again", .backend_id = B6_NEIGH, TX46 },
	};

	cpu_set_t all;

	REQUIRE_FIXTURE(&fx.status);
	if (!stay_on_one_cpu(&all)) /* the cache is per CPU */
		return;
	ipip46_prog_fd = bpf_program__fd(skel_cached46->progs.xdp_lb_ipip);
	run_cases46(cases, ARRAY_SIZE(cases));
	ipip46_prog_fd = -1;
	sched_setaffinity(0, sizeof(all), &all);
}

/* Bytes worked out by hand: encap_golden_in (UDP 10.0.0.1:1234 ->
 * 10.0.0.100:80, DF, TOS 0, 32 bytes) to backend 2001:db8:0:1::1:1 behind
 * 02:00:00:00:01:01, from outer_source6 2001:db8:0:1::10.
 *   flow label: lb_flow_hash() of the 5-tuple & 0xfffff = 0xf2a2f
 *   payload length 0x0020, next header 4, hop limit 64; no header checksum
 *   in IPv6, and the inner packet's (0x1435, UDP 0xe44b) untouched.
 */
static void test_ipv4_in_ipv6_golden(void)
{
	static const uint8_t out[] = {
		0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x86, 0xdd,
		0x60, 0x0f, 0x2a, 0x2f, 0x00, 0x20, 0x04, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x00, 0x10,
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01,
		0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x14, 0x35,
		0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x64,
		0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0xe4, 0x4b, 0x00, 0x01, 0x02, 0x03,
	};
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta tx = { LB_C_ENCAP_TX, 1 };
	static struct xdp_result res;
	struct lb_packet_ctx ctx;

	REQUIRE_FIXTURE(&fx.status);
	ASSERT_EQ(pkt_csum(encap_golden_in + 14, 20), 0, "the inner header checksum by hand");
	encap_ctx_from_frame(B6_NEIGH, 14, encap_golden_in, sizeof(encap_golden_in), &ctx);
	ASSERT_EQ(lb_flow_hash(&ctx.flow) & 0xfffff, 0xf2a2f, "the flow label by hand");
	if (!ASSERT_OK(ctx_write_all_cpus(fx.ctx_fd, &ctx), "packet ctx"))
		return;
	counters_read(fx.counters_fd, before);
	xdp_run(bpf_program__fd(skel_lb_src->progs.xdp_lb_ipip), encap_golden_in,
		sizeof(encap_golden_in), fx.lbt0, &res);
	counters_read(fx.counters_fd, after);
	ASSERT_OK(res.err, "test run");
	ASSERT_EQ(res.verdict, XDP_TX, "verdict");
	ASSERT_BYTES(res.out, res.out_len, out, sizeof(out), "golden 4in6 frame");
	counters_expect(before, after, &tx, 1, "golden 4in6 counters");
}

static const struct test_case cases[] = {
	TEST_CASE(test_golden_bytes),
	TEST_CASE(test_outer_header_format),
	TEST_CASE(test_next_hop),
	TEST_CASE(test_packet_too_big),
	TEST_CASE(test_packet_too_big_golden),
	TEST_CASE(test_packet_too_big_rate_limit),
	TEST_CASE(test_bad_context),
	TEST_CASE(test_next_hop_cache),
	TEST_CASE(test_ipv4_in_ipv6_golden),
	TEST_CASE(test_ipv4_in_ipv6_format),
	TEST_CASE(test_ipv4_in_ipv6_next_hop),
	TEST_CASE(test_ipv4_in_ipv6_cache),
};

int main(int argc, char **argv)
{
	int status;

	fixture_setup();
	status = test_main("ipip6", cases, ARRAY_SIZE(cases), argc, argv);
	fixture_teardown();
	return status;
}
