// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the parse stage: which frames reach lb, with which context. */
#include <errno.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lb_structs_common.h"
#include "packet.h"
#include "parse.skel.h"
#include "sink_record.h"
#include "stage_fixture.h"
#include "test_harness.h"
#include "xdp_test_run.h"

#define CLIENT "10.0.0.1"
#define CLIENT_PORT 1234
#define VIP_A "10.0.0.100"
#define VIP_B "10.0.0.101"
#define NOT_A_VIP "10.0.0.200"

/* IPv4 frag_off values, host byte order. */
#define DF 0x4000
#define MF 0x2000
#define FRAG_AT(bytes) ((bytes) / 8)

/* payload_len of a frame_desc: 0 takes this default, NO_PAYLOAD means none. */
#define DEFAULT_PAYLOAD 32
#define NO_PAYLOAD SIZE_MAX

/* The VIPs every case runs against. */
static const struct {
	const char *addr;
	uint16_t port; /* 0: any port */
	uint8_t proto;
	uint32_t vip_id, pool_id;
} test_vips[] = {
	{ VIP_A, 80, IPPROTO_UDP, 1, 2 },
	{ VIP_A, 0, IPPROTO_TCP, 2, 4 },
	{ VIP_B, 0, IPPROTO_UDP, 3, 6 },
	{ VIP_A, 53, IPPROTO_TCP, 4, 8 }, /* beats VIP_A's TCP wildcard on port 53 */
};

/* IPv6: the client, two VIP addresses, one address of no VIP. */
#define CLIENT6 "2001:db8::1"
#define VIP6_A "2001:db8::100"
#define VIP6_B "2001:db8::101"
#define NOT_A_VIP6 "2001:db8::200"

/* The IPv6 VIPs every case runs against (vips6), ids beside the IPv4 ones. */
static const struct {
	const char *addr;
	uint16_t port; /* 0: any port */
	uint8_t proto;
	uint32_t vip_id, pool_id;
} test_vips6[] = {
	{ VIP6_A, 80, IPPROTO_UDP, 5, 10 },
	{ VIP6_A, 0, IPPROTO_TCP, 6, 12 },
	{ VIP6_B, 0, IPPROTO_UDP, 7, 14 },
};

/* The balancer's MAC: the loader's lb_if_mac, and every test frame's destination
 * unless a case says otherwise (pkt_spec_udp()).
 */
static const uint8_t lb_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };

/* Everything the tests need from parse and the sink in its lb slot. */
static struct {
	struct parse_bpf *parse;
	/* A second load with lb_if_mac left 0 (an older loader, unit tests
	 * elsewhere), sharing every map of the first.
	 */
	struct parse_bpf *parse_no_mac;
	struct stage_sink sink;
	int prog_fd, prog_fd_no_mac, ctx_fd, counters_fd;
	struct fixture_status status;
} fx;

/* The program run_case() runs: fx.prog_fd unless a test switches. */
static int run_prog_fd;
/* The sink run_case() expects a handed-on frame in: fx.sink (the lb slot's)
 * unless a test switches.
 */
static struct stage_sink *run_sink = &fx.sink;

static int vips_fill(int vips_fd)
{
	struct lb_vip_key key;
	struct lb_vip vip = { 0 }; /* policy 0: least-loaded, in the lb slot */
	size_t i;

	for (i = 0; i < sizeof(test_vips) / sizeof(test_vips[0]); i++) {
		memset(&key, 0, sizeof(key));
		key.addr = pkt_ip(test_vips[i].addr);
		key.port = htons(test_vips[i].port);
		key.proto = test_vips[i].proto;
		vip.vip_id = test_vips[i].vip_id;
		vip.pool_id = test_vips[i].pool_id;
		if (bpf_map_update_elem(vips_fd, &key, &vip, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

static int vips6_fill(int vips6_fd)
{
	struct lb_vip6_key key6;
	struct lb_vip vip = { 0 };
	size_t i;

	for (i = 0; i < sizeof(test_vips6) / sizeof(test_vips6[0]); i++) {
		memset(&key6, 0, sizeof(key6));
		pkt_ip6(test_vips6[i].addr, key6.addr);
		key6.port = htons(test_vips6[i].port);
		key6.proto = test_vips6[i].proto;
		vip.vip_id = test_vips6[i].vip_id;
		vip.pool_id = test_vips6[i].pool_id;
		if (bpf_map_update_elem(vips6_fd, &key6, &vip, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

/* Makes @second (opened) use every map of @first (loaded) but its own data
 * sections, so the two loads differ only in their load-time constants.
 */
static int share_maps(struct bpf_object *second, const struct bpf_object *first)
{
	struct bpf_map *map, *mine;
	int err;

	bpf_object__for_each_map(map, first) {
		if (bpf_map__is_internal(map))
			continue;
		mine = bpf_object__find_map_by_name(second, bpf_map__name(map));
		if (!mine)
			return -ENOENT;
		err = bpf_map__reuse_fd(mine, bpf_map__fd(map));
		if (err)
			return err;
	}
	return 0;
}

static int load_parse(void)
{
	fx.parse = parse_bpf__open();
	if (!fx.parse)
		return -errno;
	memcpy((void *)fx.parse->rodata->lb_if_mac, lb_mac, sizeof(lb_mac));
	return parse_bpf__load(fx.parse);
}

static int load_parse_no_mac(void)
{
	int err;

	fx.parse_no_mac = parse_bpf__open();
	if (!fx.parse_no_mac)
		return -errno;
	err = share_maps(fx.parse_no_mac->obj, fx.parse->obj);
	return err ? err : parse_bpf__load(fx.parse_no_mac);
}

/* Loads parse, and the sink sharing its stage_slots and packet_ctx, with the
 * sink in the lb slot and the VIPs above in place.
 */
static void fixture_setup(void)
{
	if (fixture_step(&fx.status, load_parse(), "load parse") ||
	    fixture_step(&fx.status, load_parse_no_mac(), "load parse without a MAC") ||
	    fixture_step(&fx.status, sink_attach(&fx.sink, fx.parse->obj, LB_SLOT_LB),
			 "put the sink in the lb slot"))
		return;
	fx.prog_fd = bpf_program__fd(fx.parse->progs.xdp_lb_parse);
	fx.prog_fd_no_mac = bpf_program__fd(fx.parse_no_mac->progs.xdp_lb_parse);
	run_prog_fd = fx.prog_fd;
	fx.ctx_fd = bpf_map__fd(fx.parse->maps.packet_ctx);
	fx.counters_fd = bpf_map__fd(fx.parse->maps.counters);
	if (fixture_step(&fx.status, vips_fill(bpf_map__fd(fx.parse->maps.vips)), "fill vips"))
		return;
	fixture_step(&fx.status, vips6_fill(bpf_map__fd(fx.parse->maps.vips6)), "fill vips6");
}

static void fixture_teardown(void)
{
	sink_detach(&fx.sink);
	parse_bpf__destroy(fx.parse_no_mac);
	parse_bpf__destroy(fx.parse);
}

/* Sets the packet context of every CPU to 0xff bytes: a stale context. */
static int packet_ctx_poison(void)
{
	struct lb_packet_ctx stale;

	memset(&stale, 0xff, sizeof(stale));
	return ctx_write_all_cpus(fx.ctx_fd, &stale);
}

/* A raw edit of the built frame, to break what the builder gets right. */
struct byte_patch {
	uint8_t at;  /* offset from the start of the IPv4 header */
	uint8_t len; /* 0: no patch */
	uint8_t bytes[2];
};

/* A test frame: the client's UDP frame of pkt_spec_udp() with these changes. */
struct frame_desc {
	const uint8_t *dst_mac; /* NULL: the balancer's, lb_mac */
	uint16_t ethertype;    /* 0: IPv4 from the fields below; else raw payload */
	int vlan_tags;         /* 0, 1, or 2 802.1Q tags (QinQ) */
	uint8_t proto;         /* IPPROTO_UDP, _TCP, _ICMP (an echo request), or raw payload */
	const char *src;       /* source address; NULL: CLIENT */
	const char *dst;       /* destination address */
	uint16_t dport;
	uint8_t tcp_flags;     /* 0: ACK */
	uint16_t frag_off;     /* DF, MF, FRAG_AT() */
	size_t ip_options_len; /* NOP options */
	size_t payload_len;    /* L4 payload; 0: DEFAULT_PAYLOAD; NO_PAYLOAD */
	size_t padding;        /* zero bytes after the IPv4 packet (Ethernet padding) */
	struct byte_patch patch;
	uint16_t csum_xor;     /* flipped in the IPv4 header checksum, after the patch */
};

static size_t frame_build(const struct frame_desc *d, uint8_t *buf)
{
	static const uint8_t nop_options[40] = { [0 ... 39] = 1 };
	struct pkt_layout lay;
	struct pkt_spec spec;
	int i;

	pkt_spec_udp(&spec);
	if (d->dst_mac)
		memcpy(spec.dst_mac, d->dst_mac, ETH_ALEN);
	if (d->src)
		spec.src = pkt_ip(d->src);
	spec.ethertype = d->ethertype;
	/* QinQ: an outer 802.1Q tag with TCI 200 in front of the inner one (100). */
	for (i = d->vlan_tags; i > 0; i--)
		spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, (uint16_t)(100 * i) };
	spec.proto = d->proto;
	spec.dst = pkt_ip(d->dst ? d->dst : VIP_A);
	spec.dport = d->dport;
	if (d->tcp_flags)
		spec.tcp_flags = d->tcp_flags;
	spec.frag_off = d->frag_off;
	spec.ip_options = nop_options;
	spec.ip_options_len = d->ip_options_len;
	spec.payload_len = d->payload_len == NO_PAYLOAD ? 0 :
			   d->payload_len ? d->payload_len : DEFAULT_PAYLOAD;
	spec.padding = d->padding;
	spec.ip_csum_xor = d->csum_xor;
	if (!pkt_layout(&spec, &lay) || !pkt_build(&spec, buf, PKT_MAX))
		return 0;
	/* No patch touches the checksum, so flipping it first changes nothing. */
	memcpy(buf + lay.l3 + d->patch.at, d->patch.bytes, d->patch.len);
	return lay.len;
}

#define FLOW(dst_, sport_, dport_, proto_)                                             \
	{                                                                              \
		.src = pkt_ip(CLIENT), .dst = pkt_ip(dst_), .sport = htons(sport_),    \
		.dport = htons(dport_), .proto = (proto_)                              \
	}

#define FLOW_FROM(src_, dst_, sport_, dport_, proto_)                                  \
	{                                                                              \
		.src = pkt_ip(src_), .dst = pkt_ip(dst_), .sport = htons(sport_),      \
		.dport = htons(dport_), .proto = (proto_)                              \
	}

/* Every field but the flow key (a braced list: it cannot be passed on). */
#define VIP_CTX_FIELDS(vip_, pool_, l3_offset_, ip_options_, tot_len_, frame_len_, flags_) \
	.vip_id = (vip_), .pool_id = (pool_), .backend_id = LB_NO_BACKEND,            \
	.l3_offset = (l3_offset_), .l4_offset = (l3_offset_) + 20 + (ip_options_),     \
	.ip_tot_len = (tot_len_), .frame_len = (frame_len_), .flags = (flags_)

/* The context parse writes for a VIP frame with @ip_options_ bytes of IPv4
 * options: the L4 offset is behind them.
 */
#define VIP_CTX_OPT(flow_, vip_, pool_, l3_offset_, ip_options_, tot_len_, frame_len_, flags_) \
	{ .flow = flow_, .l4_proto = ((struct lb_flow_key)flow_).proto,                 \
	  VIP_CTX_FIELDS(vip_, pool_, l3_offset_, ip_options_, tot_len_, frame_len_, flags_) }

/* ... and without IPv4 options. */
#define VIP_CTX(flow_, vip_, pool_, l3_offset_, tot_len_, frame_len_, flags_)          \
	{ .flow = flow_, .l4_proto = ((struct lb_flow_key)flow_).proto,                 \
	  VIP_CTX_FIELDS(vip_, pool_, l3_offset_, 0, tot_len_, frame_len_, flags_) }

struct parse_case {
	const char *name;
	struct frame_desc frame;
	uint32_t verdict;         /* XDP_TX: handed on to the sink in the lb slot */
	struct lb_packet_ctx ctx; /* what the sink saw, byte for byte (XDP_TX only) */
	enum lb_counter counter;  /* the one counter that moves, by 1 */
};

static char what_buf[160];

static const char *what(const char *name, const char *item)
{
	snprintf(what_buf, sizeof(what_buf), "%s: %s", name, item);
	return what_buf;
}

/* Runs frame @in of @len bytes and checks verdict, frame, counters and the
 * sink's record against case @c (whose own frame is not used).
 */
static void run_frame(const struct parse_case *c, const uint8_t *in, size_t len)
{
	static struct xdp_result res;
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct counter_delta delta = { c->counter, 1 };
	struct sink_record rec_before, rec_after;
	bool ok = true;

	if (!ASSERT_TRUE(len > 0, what(c->name, "frame built")))
		return;
	sink_record_read(run_sink, &rec_before);
	counters_read(fx.counters_fd, before);
	xdp_run(run_prog_fd, in, len, 0, &res);
	counters_read(fx.counters_fd, after);
	sink_record_read(run_sink, &rec_after);

	ok &= ASSERT_OK(res.err, what(c->name, "test run"));
	ok &= ASSERT_STREQ(xdp_verdict_name(res.verdict), xdp_verdict_name(c->verdict),
			   what(c->name, "verdict"));
	ok &= ASSERT_BYTES(res.out, res.out_len, in, len, what(c->name, "frame unchanged"));
	ok &= counters_expect(before, after, &delta, 1, c->name);
	if (c->verdict == XDP_TX) {
		ok &= ASSERT_EQ(rec_after.hits - rec_before.hits, 1, what(c->name, "sink hits"));
		ok &= ASSERT_BYTES(&rec_after.ctx, sizeof(rec_after.ctx), &c->ctx, sizeof(c->ctx),
				   what(c->name, "packet context"));
		ok &= ASSERT_EQ(rec_after.frame_len, len, what(c->name, "frame length at lb"));
	} else {
		ok &= ASSERT_EQ(rec_after.hits - rec_before.hits, 0, what(c->name, "sink hits"));
	}
	if (!ok)
		test_hexdump(what(c->name, "input frame"), in, len);
}

/* Runs one case's frame. */
static void run_case(const struct parse_case *c)
{
	static uint8_t in[PKT_MAX];

	run_frame(c, in, frame_build(&c->frame, in));
}

static void run_cases(const struct parse_case *cases, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		run_case(&cases[i]);
}

#define RUN_CASES(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

/* UDP frame of the defaults: 20 + 8 + 32 = 60 IP bytes, 74 in the frame. */
#define UDP_TOT 60
#define UDP_FRAME 74
/* TCP: 20 + 20 + 32 = 72 IP bytes, 86 in the frame. */
#define TCP_TOT 72
#define TCP_FRAME 86

static void test_vip_lookup(void)
{
	const struct parse_case cases[] = {
		{ "UDP to an exact VIP",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 }, XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, UDP_TOT,
			  UDP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "UDP to a port-wildcard VIP",
		  { .proto = IPPROTO_UDP, .dst = VIP_B, .dport = 5000 }, XDP_TX,
		  VIP_CTX(FLOW(VIP_B, CLIENT_PORT, 5000, IPPROTO_UDP), 3, 6, 14, UDP_TOT,
			  UDP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "TCP to a port-wildcard VIP",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443 }, XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 443, IPPROTO_TCP), 2, 4, 14, TCP_TOT,
			  TCP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "exact VIP beats the wildcard",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 53 }, XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 53, IPPROTO_TCP), 4, 8, 14, TCP_TOT,
			  TCP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "protocol is in the key: TCP to the UDP VIP's port takes the TCP wildcard",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 80 }, XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_TCP), 2, 4, 14, TCP_TOT,
			  TCP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "protocol is in the key: UDP to the TCP-only port 53",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 53 }, XDP_PASS, {},
		  LB_C_PARSE_PASS_NOT_VIP },
		{ "protocol is in the key: TCP to a UDP-only wildcard",
		  { .proto = IPPROTO_TCP, .dst = VIP_B, .dport = 80 }, XDP_PASS, {},
		  LB_C_PARSE_PASS_NOT_VIP },
		{ "address that is no VIP",
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP, .dport = 80 }, XDP_PASS, {},
		  LB_C_PARSE_PASS_NOT_VIP },
		{ "VIP address, another port, no wildcard",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 81 }, XDP_PASS, {},
		  LB_C_PARSE_PASS_NOT_VIP },
		{ "ICMP to a VIP address not in vip_addrs (test_icmp adds it)",
		  { .proto = IPPROTO_ICMP, .dst = VIP_A }, XDP_PASS, {},
		  LB_C_PARSE_PASS_NOT_VIP },
		{ "DF alone is not a fragment",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .frag_off = DF }, XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, UDP_TOT,
			  UDP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES(cases);
}

static int config_gen_set(__u32 gen)
{
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(fx.parse->maps.config_gen), &zero, &gen, BPF_ANY)
		       ? -errno
		       : 0;
}

/* parse sees only the VIPs of the generation config_gen names: a reload
 * switches every VIP at once by flipping it.
 */
static void test_config_generation(void)
{
	const struct parse_case generation_0[] = {
		{ "generation 0: its VIP matches",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 }, XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, UDP_TOT,
			  UDP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "generation 0: generation 1's VIP does not",
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP, .dport = 7 }, XDP_PASS, {},
		  LB_C_PARSE_PASS_NOT_VIP },
	};
	const struct parse_case generation_1[] = {
		{ "generation 1: its VIP matches",
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP, .dport = 7 }, XDP_TX,
		  VIP_CTX(FLOW(NOT_A_VIP, CLIENT_PORT, 7, IPPROTO_UDP), 9, 18, 14, UDP_TOT,
			  UDP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "generation 1: generation 0's VIP does not",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 }, XDP_PASS, {},
		  LB_C_PARSE_PASS_NOT_VIP },
		{ "generation 1: nor its wildcard",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443 }, XDP_PASS, {},
		  LB_C_PARSE_PASS_NOT_VIP },
	};
	struct lb_vip_key key = { .addr = pkt_ip(NOT_A_VIP), .port = htons(7),
				  .proto = IPPROTO_UDP, .gen = 1 };
	struct lb_vip vip = { .vip_id = 9, .pool_id = 18 };
	int vips_fd;

	REQUIRE_FIXTURE(&fx.status);
	vips_fd = bpf_map__fd(fx.parse->maps.vips);
	if (!ASSERT_OK(bpf_map_update_elem(vips_fd, &key, &vip, BPF_NOEXIST), "add a gen-1 VIP"))
		return;
	RUN_CASES(generation_0);
	if (ASSERT_OK(config_gen_set(1), "switch to generation 1"))
		RUN_CASES(generation_1);
	ASSERT_OK(config_gen_set(0), "switch back to generation 0");
	ASSERT_OK(bpf_map_delete_elem(vips_fd, &key), "remove the gen-1 VIP");
}

static void test_tcp_syn_flag(void)
{
	const struct parse_case cases[] = {
		{ "TCP SYN: a new connection",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443, .tcp_flags = 0x02 },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 443, IPPROTO_TCP), 2, 4, 14, TCP_TOT,
			  TCP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "TCP SYN+ACK: not a new connection",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443, .tcp_flags = 0x12 },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 443, IPPROTO_TCP), 2, 4, 14, TCP_TOT,
			  TCP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "TCP FIN+ACK: no SYN",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443, .tcp_flags = 0x11 },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 443, IPPROTO_TCP), 2, 4, 14, TCP_TOT,
			  TCP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES(cases);
}

static void test_layer2(void)
{
	const struct parse_case cases[] = {
		{ "ARP", { .ethertype = ETH_P_ARP, .payload_len = 28 }, XDP_PASS, {},
		  LB_C_PARSE_PASS_NOT_IPV4 },
		{ "IPv6 EtherType, not an IPv6 header behind it",
		  { .ethertype = ETH_P_IPV6, .payload_len = 48 }, XDP_PASS, {},
		  LB_C_PARSE_PASS_MALFORMED },
		{ "VLAN-tagged UDP to a VIP",
		  { .vlan_tags = 1, .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 }, XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 18, UDP_TOT,
			  UDP_FRAME + 4, 0),
		  LB_C_PARSE_TO_LB },
		{ "VLAN-tagged ARP", { .vlan_tags = 1, .ethertype = ETH_P_ARP, .payload_len = 28 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_IPV4 },
		{ "QinQ (two tags) to a VIP is not followed",
		  { .vlan_tags = 2, .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 }, XDP_PASS,
		  {}, LB_C_PARSE_PASS_NOT_IPV4 },
		{ "Ethernet padding after a short IPv4 packet",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .payload_len = NO_PAYLOAD,
		    .padding = 18 },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, 28, 60, 0),
		  LB_C_PARSE_TO_LB },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES(cases);
}

static const uint8_t mac_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_ipv4_multicast[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t mac_ipv6_multicast[ETH_ALEN] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
/* lb_mac with the group bit set. */
static const uint8_t mac_ours_as_group[ETH_ALEN] = { 0x03, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t mac_zero[ETH_ALEN] = { 0 };
/* lb_mac with one bit (0x04, never the group bit) flipped in byte 0, 1, ... 5. */
static const uint8_t mac_other[ETH_ALEN][ETH_ALEN] = {
	{ 0x06, 0x00, 0x00, 0x00, 0x00, 0x0a }, { 0x02, 0x04, 0x00, 0x00, 0x00, 0x0a },
	{ 0x02, 0x00, 0x04, 0x00, 0x00, 0x0a }, { 0x02, 0x00, 0x00, 0x04, 0x00, 0x0a },
	{ 0x02, 0x00, 0x00, 0x00, 0x04, 0x0a }, { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0e },
};

#define UDP_VIP_CTX \
	VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, UDP_TOT, UDP_FRAME, 0)

/* A VIP frame is balanced only when it was sent to this host alone: a group
 * (broadcast, multicast) destination or another host's MAC is passed
 * untouched. Frames that are no VIP's are classified as before: the Ethernet
 * destination is judged only once the frame is known to be for a VIP, and
 * before anything in its IPv4 header.
 */
static void test_l2_destination(void)
{
	const struct parse_case cases[] = {
		{ "own MAC", { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 }, XDP_TX,
		  UDP_VIP_CTX, LB_C_PARSE_TO_LB },
		{ "broadcast to a VIP",
		  { .dst_mac = mac_broadcast, .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
		{ "IPv4 multicast MAC to a VIP",
		  { .dst_mac = mac_ipv4_multicast, .proto = IPPROTO_TCP, .dst = VIP_A,
		    .dport = 443 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
		{ "IPv6 multicast MAC to a VIP",
		  { .dst_mac = mac_ipv6_multicast, .proto = IPPROTO_UDP, .dst = VIP_B,
		    .dport = 9 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
		{ "own MAC with the group bit set",
		  { .dst_mac = mac_ours_as_group, .proto = IPPROTO_UDP, .dst = VIP_A,
		    .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
		{ "broadcast, VLAN-tagged",
		  { .dst_mac = mac_broadcast, .vlan_tags = 1, .proto = IPPROTO_UDP, .dst = VIP_A,
		    .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
		{ "broadcast fragment to a wildcard VIP",
		  { .dst_mac = mac_broadcast, .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443,
		    .frag_off = MF },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
		{ "another host's MAC, byte 0 differs",
		  { .dst_mac = mac_other[0], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		{ "another host's MAC, byte 1 differs",
		  { .dst_mac = mac_other[1], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		{ "another host's MAC, byte 2 differs",
		  { .dst_mac = mac_other[2], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		{ "another host's MAC, byte 3 differs",
		  { .dst_mac = mac_other[3], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		{ "another host's MAC, byte 4 differs",
		  { .dst_mac = mac_other[4], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		{ "another host's MAC, byte 5 differs, TCP SYN",
		  { .dst_mac = mac_other[5], .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443,
		    .tcp_flags = 0x02 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		{ "all-zero MAC",
		  { .dst_mac = mac_zero, .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		{ "another host's MAC comes before a bad IPv4 checksum",
		  { .dst_mac = mac_other[5], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .csum_xor = 0x0100 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		{ "broadcast comes before a martian source",
		  { .dst_mac = mac_broadcast, .src = "127.0.0.1", .proto = IPPROTO_UDP,
		    .dst = VIP_A, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
		{ "broadcast ARP: not IPv4, as before",
		  { .dst_mac = mac_broadcast, .ethertype = ETH_P_ARP, .payload_len = 28 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_IPV4 },
		{ "broadcast to an address that is no VIP: not a VIP, as before",
		  { .dst_mac = mac_broadcast, .proto = IPPROTO_UDP, .dst = NOT_A_VIP,
		    .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		{ "another host's MAC, malformed: malformed, as before",
		  { .dst_mac = mac_other[0], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .patch = { 0, 1, { 0x44 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "another host's MAC, first fragment to a port VIP: a fragment, as before",
		  { .dst_mac = mac_other[0], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .frag_off = MF },
		  XDP_PASS, {}, LB_C_PARSE_PASS_FRAGMENT },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES(cases);
}

/* lb_if_mac left 0 (no MAC from the loader): any unicast destination is
 * taken, a group destination still is not.
 */
static void test_l2_mac_unknown(void)
{
	const struct parse_case cases[] = {
		{ "MAC unknown: own MAC",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 }, XDP_TX, UDP_VIP_CTX,
		  LB_C_PARSE_TO_LB },
		{ "MAC unknown: another host's MAC is taken",
		  { .dst_mac = mac_other[3], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },
		  XDP_TX, UDP_VIP_CTX, LB_C_PARSE_TO_LB },
		{ "MAC unknown: broadcast still is not",
		  { .dst_mac = mac_broadcast, .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
		{ "MAC unknown: the IPv4 checks stay",
		  { .dst_mac = mac_other[3], .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .csum_xor = 0x0001 },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
	};

	REQUIRE_FIXTURE(&fx.status);
	run_prog_fd = fx.prog_fd_no_mac;
	RUN_CASES(cases);
	run_prog_fd = fx.prog_fd;
}

/* A VIP frame with a wrong IPv4 header checksum is dropped, frame unchanged:
 * the sum covers the options too. The kernel judges other frames' checksums.
 */
static void test_ip_checksum(void)
{
	const struct parse_case cases[] = {
		{ "lowest bit of the checksum flipped",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .csum_xor = 0x0001 },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "highest bit of the checksum flipped, TCP",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443, .csum_xor = 0x8000 },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "checksum complemented",
		  { .proto = IPPROTO_UDP, .dst = VIP_B, .dport = 9, .csum_xor = 0xffff },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "TTL changed, checksum not",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .patch = { 8, 1, { 63 } } },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "source address changed, checksum not",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .patch = { 14, 2, { 0, 2 } } },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "VLAN-tagged",
		  { .vlan_tags = 1, .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .csum_xor = 0x0010 },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "IHL 6, its option byte changed",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .ip_options_len = 4,
		    .patch = { 23, 1, { 0 } } },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "IHL 15, first option byte changed",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .ip_options_len = 40,
		    .patch = { 20, 1, { 0 } } },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "IHL 15, last option byte changed",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .ip_options_len = 40,
		    .patch = { 59, 1, { 0 } } },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "IHL 15, right checksum",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .ip_options_len = 40 },
		  XDP_TX,
		  VIP_CTX_OPT(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, 40, UDP_TOT + 40,
			  UDP_FRAME + 40, 0),
		  LB_C_PARSE_TO_LB },
		{ "fragment to a wildcard VIP",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443, .frag_off = MF,
		    .csum_xor = 0x0001 },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "bad checksum comes before a martian source",
		  { .src = "0.0.0.0", .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .csum_xor = 0x0001 },
		  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "not a VIP: the kernel's to judge",
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP, .dport = 80, .csum_xor = 0x0001 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		{ "first fragment to a port VIP: not balanced, the kernel's to judge",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .frag_off = MF,
		    .csum_xor = 0x0001 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_FRAGMENT },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES(cases);
}

#define MARTIAN(src_)                                                                  \
	{                                                                              \
		"source " src_,                                                        \
		{ .src = src_, .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },      \
		XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC                              \
	}

#define NOT_MARTIAN(src_)                                                              \
	{                                                                              \
		"source " src_ " is fine",                                             \
		{ .src = src_, .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 },      \
		XDP_TX,                                                                \
		VIP_CTX(FLOW_FROM(src_, VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, \
			UDP_TOT, UDP_FRAME, 0),                                        \
		LB_C_PARSE_TO_LB                                                       \
	}

/* Sources no client can have, and the VIP itself, are dropped; each range is
 * tried at both ends, and the addresses just outside it are balanced.
 */
static void test_martian_source(void)
{
	const struct parse_case cases[] = {
		MARTIAN("0.0.0.0"),
		MARTIAN("0.255.255.255"),
		MARTIAN("127.0.0.0"),
		MARTIAN("127.255.255.255"),
		MARTIAN("224.0.0.0"),
		MARTIAN("239.255.255.255"),
		MARTIAN("240.0.0.0"),
		MARTIAN("254.255.255.255"),
		MARTIAN("255.255.255.255"),
		MARTIAN(VIP_A),
		NOT_MARTIAN("1.0.0.0"),
		NOT_MARTIAN("126.255.255.255"),
		NOT_MARTIAN("128.0.0.0"),
		NOT_MARTIAN("223.255.255.255"),
		NOT_MARTIAN("10.0.0.10"),
		{ "another VIP as the source is not recognised",
		  { .src = VIP_B, .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 }, XDP_TX,
		  VIP_CTX(FLOW_FROM(VIP_B, VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14,
			  UDP_TOT, UDP_FRAME, 0),
		  LB_C_PARSE_TO_LB },
		{ "the VIP itself as the source of a wildcard VIP's TCP",
		  { .src = VIP_A, .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443 },
		  XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
		{ "loopback source, fragment to a wildcard VIP, VLAN",
		  { .src = "127.0.0.1", .vlan_tags = 1, .proto = IPPROTO_UDP, .dst = VIP_B,
		    .dport = 9, .frag_off = FRAG_AT(1480) },
		  XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
		{ "loopback source to an address that is no VIP: the kernel's",
		  { .src = "127.0.0.1", .proto = IPPROTO_UDP, .dst = NOT_A_VIP, .dport = 80 },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES(cases);
}

static void test_ip_options(void)
{
	const struct parse_case cases[] = {
		{ "IHL 6: ports found after 4 option bytes",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .ip_options_len = 4 },
		  XDP_TX,
		  VIP_CTX_OPT(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, 4, UDP_TOT + 4,
			  UDP_FRAME + 4, 0),
		  LB_C_PARSE_TO_LB },
		{ "IHL 15: ports found after 40 option bytes",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .ip_options_len = 40 },
		  XDP_TX,
		  VIP_CTX_OPT(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, 40, UDP_TOT + 40,
			  UDP_FRAME + 40, 0),
		  LB_C_PARSE_TO_LB },
		{ "IHL 15, TCP SYN with VLAN tag",
		  { .vlan_tags = 1, .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 53,
		    .tcp_flags = 0x02, .ip_options_len = 40 },
		  XDP_TX,
		  VIP_CTX_OPT(FLOW(VIP_A, CLIENT_PORT, 53, IPPROTO_TCP), 4, 8, 18, 40, TCP_TOT + 40,
			  TCP_FRAME + 44, 0),
		  LB_C_PARSE_TO_LB },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES(cases);
}

/* Each case breaks one header field of a VIP frame; none may reach lb. */
static void test_malformed(void)
{
	const struct parse_case cases[] = {
		{ "IHL 4",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .patch = { 0, 1, { 0x44 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "IP version 6 under EtherType IPv4",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .patch = { 0, 1, { 0x65 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "IHL 15 without the option bytes: header beyond the packet",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .payload_len = NO_PAYLOAD,
		    .patch = { 0, 1, { 0x4f } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "total length one byte beyond the frame",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .patch = { 2, 2, { 0, UDP_TOT + 1 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "total length shorter than the IP header",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .patch = { 2, 2, { 0, 19 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "UDP length one byte beyond the IP payload",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .patch = { 24, 2, { 0, UDP_TOT - 20 + 1 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "UDP length below the UDP header",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .patch = { 24, 2, { 0, 7 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "UDP header in the Ethernet padding, not in the IP packet",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80,
		    .patch = { 2, 2, { 0, 24 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "TCP data offset 4",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443,
		    .patch = { 32, 1, { 0x40 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "TCP data offset 15 beyond the frame",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443, .payload_len = NO_PAYLOAD,
		    .patch = { 32, 1, { 0xf0 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "TCP header in the Ethernet padding, not in the IP packet",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443,
		    .patch = { 2, 2, { 0, 36 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		{ "TCP data offset 15 inside the frame: options are fine",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443,
		    .patch = { 32, 1, { 0xf0 } }, .payload_len = 40 },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 443, IPPROTO_TCP), 2, 4, 14, TCP_TOT + 8,
			  TCP_FRAME + 8, 0),
		  LB_C_PARSE_TO_LB },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES(cases);
}

/* The fragment policy of parse.bpf.c. Later fragments are built with an L4
 * header in their data, so a stage that read ports there would be caught.
 */
static void test_fragments(void)
{
	const struct parse_case cases[] = {
		{ "first fragment to a wildcard VIP: ports 0",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443, .frag_off = MF,
		    .tcp_flags = 0x02 },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_A, 0, 0, IPPROTO_TCP), 2, 4, 14, TCP_TOT, TCP_FRAME,
			  LB_CTX_F_FRAGMENT),
		  LB_C_PARSE_TO_LB },
		{ "middle fragment to a wildcard VIP",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443,
		    .frag_off = MF | FRAG_AT(1480) },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_A, 0, 0, IPPROTO_TCP), 2, 4, 14, TCP_TOT, TCP_FRAME,
			  LB_CTX_F_FRAGMENT),
		  LB_C_PARSE_TO_LB },
		{ "last fragment to a wildcard VIP, VLAN",
		  { .vlan_tags = 1, .proto = IPPROTO_UDP, .dst = VIP_B, .dport = 5000,
		    .frag_off = FRAG_AT(2960) },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_B, 0, 0, IPPROTO_UDP), 3, 6, 18, UDP_TOT, UDP_FRAME + 4,
			  LB_CTX_F_FRAGMENT),
		  LB_C_PARSE_TO_LB },
		{ "fragment to the exact port 53 still takes the TCP wildcard",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 53, .frag_off = MF },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_A, 0, 0, IPPROTO_TCP), 2, 4, 14, TCP_TOT, TCP_FRAME,
			  LB_CTX_F_FRAGMENT),
		  LB_C_PARSE_TO_LB },
		{ "first fragment to a port VIP",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .frag_off = MF },
		  XDP_PASS, {}, LB_C_PARSE_PASS_FRAGMENT },
		{ "later fragment to a port VIP",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .frag_off = FRAG_AT(1480) },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		{ "first fragment to a VIP address, port of no VIP",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 81, .frag_off = MF },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		{ "first fragment to a port VIP, too short for ports",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .frag_off = MF,
		    .patch = { 2, 2, { 0, 23 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		{ "fragment to an address that is no VIP",
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP, .dport = 80, .frag_off = MF },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		{ "malformed IP header of a fragment",
		  { .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 443, .frag_off = MF,
		    .patch = { 0, 1, { 0x44 } } },
		  XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES(cases);
}

/* With the lb slot empty a VIP frame is counted twice and passed on, and the
 * context is still written (on the CPU that ran it; the others keep 0xff).
 */
static void test_empty_lb_slot(void)
{
	const struct frame_desc frame = { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 };
	const struct lb_packet_ctx want = VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP),
						  1, 2, 14, UDP_TOT, UDP_FRAME, 0);
	const struct counter_delta deltas[] = {
		{ LB_C_PARSE_TO_LB, 1 },
		{ LB_C_PARSE_PASS_NO_LB_STAGE, 1 },
	};
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct sink_record rec_before, rec_after;
	static struct xdp_result res;
	struct lb_packet_ctx stale, *percpu = NULL;
	int cpu, cpus, written = 0, untouched = 0;
	uint8_t in[PKT_MAX];
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	memset(&stale, 0xff, sizeof(stale));
	len = frame_build(&frame, in);
	if (!ASSERT_OK(sink_slot_empty(&fx.sink), "empty the lb slot") ||
	    !ASSERT_OK(packet_ctx_poison(), "poison packet_ctx"))
		goto out;
	sink_record_read(&fx.sink, &rec_before);
	counters_read(fx.counters_fd, before);
	xdp_run(fx.prog_fd, in, len, 0, &res);
	counters_read(fx.counters_fd, after);
	sink_record_read(&fx.sink, &rec_after);

	ASSERT_OK(res.err, "test run");
	ASSERT_STREQ(xdp_verdict_name(res.verdict), "XDP_PASS", "verdict");
	ASSERT_BYTES(res.out, res.out_len, in, len, "frame unchanged");
	counters_expect(before, after, deltas, 2, "empty lb slot");
	ASSERT_EQ(rec_after.hits - rec_before.hits, 0, "sink hits");
	if (ASSERT_OK(ctx_read_all_cpus(fx.ctx_fd, &percpu, &cpus), "read packet_ctx")) {
		for (cpu = 0; cpu < cpus; cpu++) {
			if (!memcmp(&percpu[cpu], &want, sizeof(want)))
				written++;
			else if (!memcmp(&percpu[cpu], &stale, sizeof(stale)))
				untouched++;
			else
				ASSERT_BYTES(&percpu[cpu], sizeof(want), &want, sizeof(want),
					     "packet_ctx of a CPU");
		}
		ASSERT_EQ(written, 1, "CPUs whose context was written");
		ASSERT_EQ(untouched, cpus - 1, "CPUs whose context stayed stale");
	}
out:
	ASSERT_OK(sink_slot_fill(&fx.sink), "put the sink back");
	free(percpu);
}

/* A NAT reply @in with the nat slot empty: passed, counted twice. */
static void expect_no_nat_stage(const uint8_t *in, size_t len)
{
	const struct counter_delta no_stage[] = {
		{ LB_C_PARSE_TO_NAT_REPLY, 1 },
		{ LB_C_PARSE_PASS_NO_NAT_STAGE, 1 },
	};
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	static struct xdp_result res;

	counters_read(fx.counters_fd, before);
	xdp_run(fx.prog_fd, in, len, 0, &res);
	counters_read(fx.counters_fd, after);
	ASSERT_STREQ(xdp_verdict_name(res.verdict), "XDP_PASS", "empty nat slot: verdict");
	counters_expect(before, after, no_stage, 2, "empty nat slot");
}

/* A NAT VIP's context names its forwarding; a frame matching no VIP but a
 * nat_reply entry goes to the nat slot, flagged; without the entry (or with an
 * empty nat slot) it is not VIP traffic.
 */
static void test_nat_reply(void)
{
	const struct frame_desc frame = { .proto = IPPROTO_UDP, .dst = NOT_A_VIP, .dport = 7 };
	const struct lb_flow_key flow = FLOW(NOT_A_VIP, CLIENT_PORT, 7, IPPROTO_UDP);
	const struct lb_packet_ctx want = VIP_CTX(FLOW(NOT_A_VIP, CLIENT_PORT, 7, IPPROTO_UDP),
						  0, 0, 14, UDP_TOT, UDP_FRAME,
						  LB_CTX_F_NAT_REPLY);
	const struct counter_delta to_nat = { LB_C_PARSE_TO_NAT_REPLY, 1 };
	const struct counter_delta not_vip = { LB_C_PARSE_PASS_NOT_VIP, 1 };
	struct lb_vip_key key = { .addr = pkt_ip(VIP_B), .port = htons(8080),
				  .proto = IPPROTO_UDP };
	struct lb_vip vip = { .vip_id = 5, .pool_id = 10, .forwarding = LB_FORWARD_NAT };
	struct parse_case nat_vip = {
		"NAT VIP: forwarding in the context",
		{ .proto = IPPROTO_UDP, .dst = VIP_B, .dport = 8080 }, XDP_TX,
		VIP_CTX(FLOW(VIP_B, CLIENT_PORT, 8080, IPPROTO_UDP), 5, 10, 14, UDP_TOT,
			UDP_FRAME, 0),
		LB_C_PARSE_TO_LB,
	};
	struct lb_nat_reply state = { .client_addr = pkt_ip(CLIENT) };
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct sink_record rec_before, rec_after;
	struct stage_sink nat_sink = { 0 };
	static struct xdp_result res;
	int vips_fd, nat_fd;
	uint8_t in[PKT_MAX];
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	vips_fd = bpf_map__fd(fx.parse->maps.vips);
	nat_fd = bpf_map__fd(fx.parse->maps.nat_reply);
	nat_vip.ctx.forwarding = LB_FORWARD_NAT;
	if (ASSERT_OK(bpf_map_update_elem(vips_fd, &key, &vip, BPF_NOEXIST), "add a NAT VIP")) {
		run_case(&nat_vip);
		ASSERT_OK(bpf_map_delete_elem(vips_fd, &key), "remove the NAT VIP");
	}
	if (!ASSERT_OK(sink_attach(&nat_sink, fx.parse->obj, LB_SLOT_NAT), "sink in nat slot"))
		return;
	len = frame_build(&frame, in);

	/* No state: the stack's. */
	counters_read(fx.counters_fd, before);
	xdp_run(fx.prog_fd, in, len, 0, &res);
	counters_read(fx.counters_fd, after);
	ASSERT_STREQ(xdp_verdict_name(res.verdict), "XDP_PASS", "no state: verdict");
	counters_expect(before, after, &not_vip, 1, "no state");

	if (!ASSERT_OK(bpf_map_update_elem(nat_fd, &flow, &state, BPF_ANY), "add NAT state"))
		goto out;
	sink_record_read(&nat_sink, &rec_before);
	counters_read(fx.counters_fd, before);
	xdp_run(fx.prog_fd, in, len, 0, &res);
	counters_read(fx.counters_fd, after);
	sink_record_read(&nat_sink, &rec_after);
	ASSERT_STREQ(xdp_verdict_name(res.verdict), "XDP_TX", "reply: handed to nat");
	ASSERT_BYTES(res.out, res.out_len, in, len, "reply: frame unchanged");
	counters_expect(before, after, &to_nat, 1, "reply");
	ASSERT_EQ(rec_after.hits - rec_before.hits, 1, "nat sink hits");
	ASSERT_BYTES(&rec_after.ctx, sizeof(want), &want, sizeof(want), "reply context");

	/* A reply is judged like a VIP frame before it goes to nat. */
	{
		struct parse_case checked[] = {
			{ "reply to another host's MAC",
			  { .dst_mac = mac_other[2], .proto = IPPROTO_UDP, .dst = NOT_A_VIP,
			    .dport = 7 },
			  XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
			{ "broadcast reply",
			  { .dst_mac = mac_broadcast, .proto = IPPROTO_UDP, .dst = NOT_A_VIP,
			    .dport = 7 },
			  XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
			{ "reply with a bad IPv4 checksum",
			  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP, .dport = 7,
			    .csum_xor = 0x0101 },
			  XDP_DROP, {}, LB_C_PARSE_DROP_BAD_IP_CSUM },
		};

		sink_record_read(&nat_sink, &rec_before);
		run_cases(checked, sizeof(checked) / sizeof(checked[0]));
		sink_record_read(&nat_sink, &rec_after);
		ASSERT_EQ(rec_after.hits - rec_before.hits, 0, "nat sink hits of judged replies");
	}

	if (ASSERT_OK(sink_slot_empty(&nat_sink), "empty the nat slot"))
		expect_no_nat_stage(in, len);
	ASSERT_OK(bpf_map_delete_elem(nat_fd, &flow), "remove NAT state");
out:
	sink_detach(&nat_sink);
}

/* With the icmp slot emptied: frame @in to a VIP address is counted twice and
 * passed unchanged.
 */
static void check_empty_icmp_slot(struct stage_sink *icmp_sink, const uint8_t *in, size_t len)
{
	const struct counter_delta no_stage[] = {
		{ LB_C_PARSE_TO_ICMP, 1 },
		{ LB_C_PARSE_PASS_NO_ICMP_STAGE, 1 },
	};
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	static struct xdp_result res;

	if (!ASSERT_OK(sink_slot_empty(icmp_sink), "empty the icmp slot"))
		return;
	counters_read(fx.counters_fd, before);
	xdp_run(fx.prog_fd, in, len, 0, &res);
	counters_read(fx.counters_fd, after);
	ASSERT_STREQ(xdp_verdict_name(res.verdict), "XDP_PASS", "empty icmp slot: verdict");
	ASSERT_BYTES(res.out, res.out_len, in, len, "empty icmp slot: frame unchanged");
	counters_expect(before, after, no_stage, 2, "empty icmp slot");
}

/* ICMP to a VIP address (vip_addrs) goes to the icmp slot whatever its type,
 * fragments included, after the checks of a VIP frame, with the address's
 * first VIP id and no ports; ICMP to another address stays the stack's; an
 * empty icmp slot is counted and passed.
 */
static void test_icmp(void)
{
	const __be32 addr = pkt_ip(VIP_A);
	const struct lb_vip_addr entry = { .vip_id = 7, .flags = LB_VIP_ADDR_F_ECHO };
	/* An echo request: 8 bytes of ICMP header and 32 of payload. */
	const struct lb_packet_ctx want = VIP_CTX(FLOW(VIP_A, 0, 0, IPPROTO_ICMP), 7, 0, 14,
						  UDP_TOT, UDP_FRAME, 0);
	const struct lb_packet_ctx want_frag = VIP_CTX(FLOW(VIP_A, 0, 0, IPPROTO_ICMP), 7, 0, 14,
						       UDP_TOT, UDP_FRAME, LB_CTX_F_FRAGMENT);
	const struct lb_packet_ctx want_tagged = VIP_CTX(FLOW(VIP_A, 0, 0, IPPROTO_ICMP), 7, 0,
							 18, UDP_TOT, UDP_FRAME + 4, 0);
	const struct parse_case cases[] = {
		{ "echo request to a VIP address: to the icmp slot",
		  { .proto = IPPROTO_ICMP, .dst = VIP_A }, XDP_TX, want, LB_C_PARSE_TO_ICMP },
		{ "ICMP in a VLAN tag", { .vlan_tags = 1, .proto = IPPROTO_ICMP, .dst = VIP_A },
		  XDP_TX, want_tagged, LB_C_PARSE_TO_ICMP },
		{ "ICMP fragment: to the icmp slot, flagged",
		  { .proto = IPPROTO_ICMP, .dst = VIP_A, .frag_off = MF }, XDP_TX, want_frag,
		  LB_C_PARSE_TO_ICMP },
		{ "ICMP to an address that is no VIP's", { .proto = IPPROTO_ICMP, .dst = NOT_A_VIP },
		  XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		{ "ICMP to VIP_B, which has a VIP but no vip_addrs entry",
		  { .proto = IPPROTO_ICMP, .dst = VIP_B }, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		{ "ICMP to another host's MAC",
		  { .dst_mac = mac_other[2], .proto = IPPROTO_ICMP, .dst = VIP_A }, XDP_PASS, {},
		  LB_C_PARSE_PASS_L2_OTHER_HOST },
		{ "ICMP with a bad IPv4 checksum",
		  { .proto = IPPROTO_ICMP, .dst = VIP_A, .csum_xor = 0x0101 }, XDP_DROP, {},
		  LB_C_PARSE_DROP_BAD_IP_CSUM },
		{ "ICMP from a martian source", { .proto = IPPROTO_ICMP, .src = "127.0.0.1",
						  .dst = VIP_A },
		  XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
	};
	const struct frame_desc echo = { .proto = IPPROTO_ICMP, .dst = VIP_A };
	struct stage_sink icmp_sink = { 0 };
	int addrs_fd;
	uint8_t in[PKT_MAX];
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	addrs_fd = bpf_map__fd(fx.parse->maps.vip_addrs);
	if (!ASSERT_OK(bpf_map_update_elem(addrs_fd, &addr, &entry, BPF_NOEXIST), "add VIP_A"))
		return;
	if (!ASSERT_OK(sink_attach(&icmp_sink, fx.parse->obj, LB_SLOT_ICMP), "sink in icmp slot"))
		goto out;
	run_sink = &icmp_sink;
	RUN_CASES(cases);
	run_sink = &fx.sink;

	len = frame_build(&echo, in);
	check_empty_icmp_slot(&icmp_sink, in, len);
	sink_detach(&icmp_sink);
out:
	ASSERT_OK(bpf_map_delete_elem(addrs_fd, &addr), "remove VIP_A");
}

/* parse writes every byte of the context on every VIP packet: after a poisoned
 * context, and after a packet that set more fields and flags.
 */
static void test_every_field_every_packet(void)
{
	const struct parse_case cases[] = {
		{ "all flags and options after a poisoned context",
		  { .vlan_tags = 1, .proto = IPPROTO_TCP, .dst = VIP_A, .dport = 53,
		    .tcp_flags = 0x02, .ip_options_len = 40, .frag_off = MF },
		  XDP_TX,
		  VIP_CTX_OPT(FLOW(VIP_A, 0, 0, IPPROTO_TCP), 2, 4, 18, 40, TCP_TOT + 40,
			  TCP_FRAME + 44, LB_CTX_F_FRAGMENT),
		  LB_C_PARSE_TO_LB },
		{ "plain UDP right after it: nothing of the last context left",
		  { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .payload_len = NO_PAYLOAD },
		  XDP_TX,
		  VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, 28, 42, 0),
		  LB_C_PARSE_TO_LB },
	};

	REQUIRE_FIXTURE(&fx.status);
	if (!ASSERT_OK(packet_ctx_poison(), "poison packet_ctx"))
		return;
	run_case(&cases[0]);
	run_case(&cases[1]);
	/* The fewest fields set, on a poisoned context: the pad bytes too. */
	if (!ASSERT_OK(packet_ctx_poison(), "poison packet_ctx"))
		return;
	run_case(&cases[1]);
}

/* A VIP frame cut at every length: never aborted, never handed on, always
 * passed unchanged and counted as malformed. The kernel refuses to run a frame
 * shorter than an Ethernet header (EINVAL): then nothing may have moved.
 */
static void truncate_every_length(const char *name, const uint8_t *in, size_t full)
{
	const struct counter_delta delta = { LB_C_PARSE_PASS_MALFORMED, 1 };
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct sink_record rec_before, rec_after;
	static struct xdp_result res;
	size_t len;
	char label[160];
	bool ok;

	for (len = 0; len < full; len++) {
		snprintf(label, sizeof(label), "%s cut to %zu bytes", name, len);
		sink_record_read(&fx.sink, &rec_before);
		counters_read(fx.counters_fd, before);
		xdp_run(fx.prog_fd, in, len, 0, &res);
		counters_read(fx.counters_fd, after);
		sink_record_read(&fx.sink, &rec_after);

		ok = ASSERT_EQ(rec_after.hits - rec_before.hits, 0, label);
		if (res.err == -EINVAL && len < 14) {
			ok &= counters_expect(before, after, NULL, 0, label);
		} else {
			ok &= ASSERT_OK(res.err, label);
			ok &= ASSERT_STREQ(xdp_verdict_name(res.verdict), "XDP_PASS", label);
			ok &= ASSERT_BYTES(res.out, res.out_len, in, len, label);
			ok &= counters_expect(before, after, &delta, 1, label);
		}
		if (!ok) {
			test_hexdump("input frame", in, len);
			return; /* one broken length shows it; the rest would repeat it */
		}
	}
}

static void test_truncated(void)
{
	const struct frame_desc udp = { .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80 };
	const struct frame_desc tcp = { .vlan_tags = 1, .proto = IPPROTO_TCP, .dst = VIP_A,
					.dport = 53, .tcp_flags = 0x02, .ip_options_len = 40 };

	uint8_t in[PKT_MAX];

	REQUIRE_FIXTURE(&fx.status);
	truncate_every_length("UDP VIP frame", in, frame_build(&udp, in));
	truncate_every_length("VLAN TCP VIP frame with options", in, frame_build(&tcp, in));
}

/* --- IPv6 -------------------------------------------------------------------------- */

/* An IPv6 test frame: pkt_spec_udp6() with these changes. */
struct frame6_desc {
	const uint8_t *dst_mac; /* NULL: the balancer's, lb_mac */
	int vlan_tags;
	uint8_t proto;          /* IPPROTO_UDP, _TCP, or raw payload */
	const char *src;        /* NULL: CLIENT6 */
	const char *dst;        /* NULL: VIP6_A */
	uint16_t dport;
	uint8_t hop_limit;      /* 0: 64 */
	struct pkt_ext6 ext[PKT_MAX_EXT6];
	size_t ext_count;
	size_t payload_len;     /* 0: DEFAULT_PAYLOAD; NO_PAYLOAD */
	size_t padding;
	struct byte_patch patch; /* from the start of the IPv6 header */
};

static size_t frame6_build(const struct frame6_desc *d, uint8_t *buf)
{
	struct pkt_layout lay;
	struct pkt_spec spec;

	pkt_spec_udp6(&spec);
	if (d->dst_mac)
		memcpy(spec.dst_mac, d->dst_mac, ETH_ALEN);
	if (d->vlan_tags)
		spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, 100 };
	if (d->vlan_tags > 1)
		spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, 200 };
	spec.proto = d->proto;
	pkt_ip6(d->src ? d->src : CLIENT6, spec.src6);
	pkt_ip6(d->dst ? d->dst : VIP6_A, spec.dst6);
	spec.dport = d->dport;
	if (d->hop_limit)
		spec.ttl = d->hop_limit;
	memcpy(spec.ext6, d->ext, sizeof(d->ext));
	spec.ext6_count = d->ext_count;
	spec.payload_len = d->payload_len == NO_PAYLOAD ? 0 :
			   d->payload_len ? d->payload_len : DEFAULT_PAYLOAD;
	spec.padding = d->padding;
	if (!pkt_layout(&spec, &lay) || !pkt_build(&spec, buf, PKT_MAX))
		return 0;
	memcpy(buf + lay.l3 + d->patch.at, d->patch.bytes, d->patch.len);
	return lay.len;
}

/* The context parse writes for an IPv6 VIP frame. */
static struct lb_packet_ctx ctx6(const char *dst, uint16_t sport, uint16_t dport, uint8_t proto,
				 uint32_t vip_id, uint32_t pool_id, uint16_t l3, uint16_t l4,
				 uint16_t tot_len, uint32_t frame_len, uint32_t flags)
{
	struct lb_packet_ctx ctx = {
		.vip_id = vip_id, .pool_id = pool_id, .backend_id = LB_NO_BACKEND,
		.l3_offset = l3, .l4_offset = l4, .ip_tot_len = tot_len,
		.frame_len = frame_len, .flags = LB_CTX_F_IPV6 | flags, .l4_proto = proto,
	};

	pkt_ip6(CLIENT6, ctx.flow6.src);
	pkt_ip6(dst, ctx.flow6.dst);
	ctx.flow6.sport = htons(sport);
	ctx.flow6.dport = htons(dport);
	ctx.flow6.proto = proto;
	return ctx;
}

struct parse6_case {
	struct parse_case c; /* c.frame unused */
	struct frame6_desc frame;
};

static void run_cases6(const struct parse6_case *cases, size_t count)
{
	static uint8_t in[PKT_MAX];
	size_t i;

	for (i = 0; i < count; i++)
		run_frame(&cases[i].c, in, frame6_build(&cases[i].frame, in));
}

#define RUN_CASES6(cases) run_cases6(cases, sizeof(cases) / sizeof(cases[0]))

/* IPv6 UDP frame of the defaults: 40 + 8 + 32 = 80 IP bytes, 94 in the frame. */
#define UDP6_TOT 80
#define UDP6_FRAME 94
/* TCP: 40 + 20 + 32 = 92 IP bytes, 106 in the frame. */
#define TCP6_TOT 92
#define TCP6_FRAME 106

/* Extension headers as pkt_ext6 entries. */
#define HBH(len8) { 0, (len8), 0 }
#define DSTOPT(len8) { 60, (len8), 0 }
#define ROUTING { 43, 0, 0 }
#define FRAG(bytes, mf) { 44, 0, (uint16_t)((bytes) | (mf)) }

static void test_ipv6_vip_lookup(void)
{
	const struct parse6_case cases[] = {
		{ { "IPv6 UDP to an exact VIP", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 54, UDP6_TOT,
			 UDP6_FRAME, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "IPv6 TCP to a wildcard VIP", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 443, IPPROTO_TCP, 6, 12, 14, 54, TCP6_TOT,
			 TCP6_FRAME, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_TCP, .dport = 443 } },
		{ { "IPv6 UDP, VLAN tag, wildcard VIP", {}, XDP_TX,
		    ctx6(VIP6_B, CLIENT_PORT, 9, IPPROTO_UDP, 7, 14, 18, 58, UDP6_TOT,
			 UDP6_FRAME + 4, 0),
		    LB_C_PARSE_TO_LB },
		  { .vlan_tags = 1, .proto = IPPROTO_UDP, .dst = VIP6_B, .dport = 9 } },
		{ { "IPv6 behind two tags is not followed", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_NOT_IPV4 },
		  { .vlan_tags = 2, .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "IPv6 UDP to a VIP address, port of no VIP", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_UDP, .dport = 81 } },
		{ { "IPv6 UDP to no VIP", {}, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP6, .dport = 80 } },
		{ { "IPv6 to the IPv4 VIP's address, mapped: no VIP", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_UDP, .dst = "::ffff:10.0.0.100", .dport = 80 } },
		{ { "ICMPv6 to a VIP address not in vip_addrs6 (test_ipv6_icmp adds it)", {},
		    XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_ICMPV6, .dport = 80 } },
		{ { "hop limit 1 is left alone (the tunnel is one hop)", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 54, UDP6_TOT,
			 UDP6_FRAME, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_UDP, .dport = 80, .hop_limit = 1 } },
		{ { "Ethernet padding behind a short IPv6 packet", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 54, 48, 72, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_UDP, .dport = 80, .payload_len = NO_PAYLOAD,
		    .padding = 10 } },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES6(cases);
}

/* Every extension header kind, chains, and the walk's limits. */
static void test_ipv6_extension_headers(void)
{
	const struct parse6_case cases[] = {
		{ { "hop-by-hop options", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 62, UDP6_TOT + 8,
			 UDP6_FRAME + 8, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { HBH(0) }, .ext_count = 1 } },
		{ { "destination options, 24 bytes", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 78, UDP6_TOT + 24,
			 UDP6_FRAME + 24, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { DSTOPT(2) }, .ext_count = 1 } },
		{ { "routing header, VLAN", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 443, IPPROTO_TCP, 6, 12, 18, 66, TCP6_TOT + 8,
			 TCP6_FRAME + 12, 0),
		    LB_C_PARSE_TO_LB },
		  { .vlan_tags = 1, .proto = IPPROTO_TCP, .dport = 443, .ext = { ROUTING },
		    .ext_count = 1 } },
		{ { "atomic fragment (offset 0, no M): a whole packet", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 62, UDP6_TOT + 8,
			 UDP6_FRAME + 8, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { FRAG(0, 0) }, .ext_count = 1 } },
		{ { "chain: hop-by-hop, destination options, routing, fragment, destination "
		    "options", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 54 + 56,
			 UDP6_TOT + 56, UDP6_FRAME + 56, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_UDP, .dport = 80,
		    .ext = { HBH(1), DSTOPT(0), ROUTING, FRAG(0, 0), DSTOPT(1) },
		    .ext_count = 5 } },
		{ { "six headers, the most walked", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 54 + 48,
			 UDP6_TOT + 48, UDP6_FRAME + 48, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_UDP, .dport = 80,
		    .ext = { HBH(0), DSTOPT(0), ROUTING, DSTOPT(0), ROUTING, DSTOPT(0) },
		    .ext_count = 6 } },
		{ { "seven headers", {}, XDP_PASS, {}, LB_C_PARSE_PASS_IPV6_EXT_LIMIT },
		  { .proto = IPPROTO_UDP, .dport = 80,
		    .ext = { HBH(0), DSTOPT(0), ROUTING, DSTOPT(0), ROUTING, DSTOPT(0),
			     DSTOPT(0) },
		    .ext_count = 7 } },
		{ { "256 bytes of headers, the most walked", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 54 + 256,
			 UDP6_TOT + 256, UDP6_FRAME + 256, 0),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { HBH(15), DSTOPT(15) },
		    .ext_count = 2 } },
		{ { "264 bytes of headers", {}, XDP_PASS, {}, LB_C_PARSE_PASS_IPV6_EXT_LIMIT },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { HBH(15), DSTOPT(15), DSTOPT(0) },
		    .ext_count = 3 } },
		{ { "256 bytes of headers, then a fragment header", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_IPV6_EXT_LIMIT },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { HBH(15), DSTOPT(15), FRAG(0, 0) },
		    .ext_count = 3 } },
		{ { "hop-by-hop not first", {}, XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { DSTOPT(0), HBH(0) },
		    .ext_count = 2 } },
		{ { "two fragment headers", {}, XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { FRAG(0, 0), FRAG(0, 0) },
		    .ext_count = 2 } },
		{ { "authentication header", {}, XDP_PASS, {}, LB_C_PARSE_PASS_IPV6_EXT_UNKNOWN },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { { 51, 2, 0 } }, .ext_count = 1 } },
		{ { "mobility header behind hop-by-hop", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_IPV6_EXT_UNKNOWN },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { HBH(0), { 135, 0, 0 } },
		    .ext_count = 2 } },
		{ { "no next header", {}, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = 59, .dport = 80, .ext = { DSTOPT(0) }, .ext_count = 1 } },
		{ { "header longer than the payload length says",
		    {}, XDP_PASS, {}, LB_C_PARSE_PASS_IPV6_EXT_TRUNCATED },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { DSTOPT(0) }, .ext_count = 1,
		    .payload_len = NO_PAYLOAD, .patch = { 4, 2, { 0, 4 } } } },
		{ { "header behind the frame's end, payload length 16",
		    {}, XDP_PASS, {}, LB_C_PARSE_PASS_IPV6_EXT_TRUNCATED },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { DSTOPT(0), DSTOPT(0) },
		    .ext_count = 2, .payload_len = NO_PAYLOAD,
		    .patch = { 41, 1, { 3 } } } },
		{ { "fragment header cut by the payload length", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_IPV6_EXT_TRUNCATED },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { FRAG(0, 1) }, .ext_count = 1,
		    .payload_len = NO_PAYLOAD, .patch = { 4, 2, { 0, 4 } } } },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES6(cases);
}

/* IPv4's fragment policy, by the fragment header's offset and M bit. */
static void test_ipv6_fragments(void)
{
	const struct parse6_case cases[] = {
		{ { "first fragment to a wildcard VIP: ports 0", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_TCP, 6, 12, 14, 62, TCP6_TOT + 8,
			 TCP6_FRAME + 8, LB_CTX_F_FRAGMENT),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_TCP, .dport = 443, .ext = { FRAG(0, 1) }, .ext_count = 1 } },
		{ { "later fragment to a wildcard VIP, behind hop-by-hop: marked later", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_TCP, 6, 12, 14, 70, TCP6_TOT + 16,
			 TCP6_FRAME + 16, LB_CTX_F_FRAGMENT | LB_CTX_F_LATER_FRAGMENT),
		    LB_C_PARSE_TO_LB },
		  { .proto = IPPROTO_TCP, .dport = 443, .ext = { HBH(0), FRAG(1448, 0) },
		    .ext_count = 2 } },
		{ { "first fragment to a port VIP", {}, XDP_PASS, {}, LB_C_PARSE_PASS_FRAGMENT },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { FRAG(0, 1) }, .ext_count = 1 } },
		{ { "first fragment, destination options behind it", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_FRAGMENT },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { FRAG(0, 1), DSTOPT(0) },
		    .ext_count = 2 } },
		{ { "later fragment to a port VIP", {}, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { FRAG(1448, 1) }, .ext_count = 1 } },
		{ { "first fragment, port of no VIP", {}, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_UDP, .dport = 81, .ext = { FRAG(0, 1) }, .ext_count = 1 } },
		{ { "first fragment too short for ports", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_UDP, .dport = 80, .ext = { FRAG(0, 1) }, .ext_count = 1,
		    .patch = { 4, 2, { 0, 11 } } } },
		{ { "fragment to no VIP", {}, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP6, .dport = 80, .ext = { FRAG(0, 1) },
		    .ext_count = 1 } },
	};

	REQUIRE_FIXTURE(&fx.status);
	RUN_CASES6(cases);
}

/* Headers that are not what they say, L2 destinations and sources no client has. */
static void test_ipv6_checks(void)
{
	const struct parse6_case cases[] = {
		{ { "version 4 in an IPv6 frame", {}, XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		  { .proto = IPPROTO_UDP, .dport = 80, .patch = { 0, 1, { 0x40 } } } },
		{ { "payload length beyond the frame", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_MALFORMED },
		  { .proto = IPPROTO_UDP, .dport = 80, .patch = { 4, 2, { 0, 41 } } } },
		{ { "UDP length beyond the payload", {}, XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		  { .proto = IPPROTO_UDP, .dport = 80, .patch = { 44, 2, { 0, 41 } } } },
		{ { "TCP data offset 4", {}, XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		  { .proto = IPPROTO_TCP, .dport = 443, .patch = { 52, 1, { 0x40 } } } },
		{ { "broadcast destination MAC", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_L2_NOT_UNICAST },
		  { .dst_mac = mac_broadcast, .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "IPv6 multicast MAC", {}, XDP_PASS, {}, LB_C_PARSE_PASS_L2_NOT_UNICAST },
		  { .dst_mac = mac_ipv6_multicast, .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "another host's MAC", {}, XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		  { .dst_mac = mac_other[0], .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "source ::", {}, XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
		  { .src = "::", .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "source ::1", {}, XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
		  { .src = "::1", .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "source ff02::1", {}, XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
		  { .src = "ff02::1", .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "source fe80::1", {}, XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
		  { .src = "fe80::1", .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "source febf::1 (fe80::/10)", {}, XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
		  { .src = "febf::1", .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "source ::ffff:10.0.0.1", {}, XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
		  { .src = "::ffff:10.0.0.1", .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "source the VIP itself", {}, XDP_DROP, {}, LB_C_PARSE_DROP_MARTIAN_SRC },
		  { .src = VIP6_A, .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "source fec0::1 (site-local, not refused)", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 54, UDP6_TOT,
			 UDP6_FRAME, 0),
		    LB_C_PARSE_TO_LB },
		  { .src = "fec0::1", .proto = IPPROTO_UDP, .dport = 80 } },
		{ { "source ::2 (an IPv4-compatible address, not refused)", {}, XDP_TX,
		    ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 54, UDP6_TOT,
			 UDP6_FRAME, 0),
		    LB_C_PARSE_TO_LB },
		  { .src = "::2", .proto = IPPROTO_UDP, .dport = 80 } },
	};
	struct lb_vip_drops before, after;
	__u32 vip_id = 5;
	int drops_fd;
	size_t i;

	REQUIRE_FIXTURE(&fx.status);
	/* The two accepted sources are written into the expected context. */
	pkt_ip6("fec0::1", (uint8_t *)cases[14].c.ctx.flow6.src);
	pkt_ip6("::2", (uint8_t *)cases[15].c.ctx.flow6.src);
	drops_fd = bpf_map__fd(fx.parse->maps.vip_drops);
	percpu_sum_u64(drops_fd, &vip_id, &before, sizeof(before));
	RUN_CASES6(cases);
	percpu_sum_u64(drops_fd, &vip_id, &after, sizeof(after));
	/* Each martian counts for its VIP (id 5) as well. */
	for (i = 0; i < LB_VIP_DROP_MAX; i++)
		ASSERT_EQ(after.count[i] - before.count[i],
			  i == LB_VD_PARSE_DROP_MARTIAN_SRC ? 7 : 0, "IPv6 VIP's drops by reason");
}

/* A context of an IPv6 packet after an IPv4 one and back: every byte rewritten. */
static void test_ipv6_every_field(void)
{
	const struct parse6_case v6 = {
		{ "IPv6 with every header after a poisoned context", {}, XDP_TX,
		  ctx6(VIP6_A, 0, 0, IPPROTO_TCP, 6, 12, 18, 18 + 40 + 56, TCP6_TOT + 56,
		       TCP6_FRAME + 60, LB_CTX_F_FRAGMENT),
		  LB_C_PARSE_TO_LB },
		{ .vlan_tags = 1, .proto = IPPROTO_TCP, .dport = 443,
		  .ext = { HBH(1), DSTOPT(0), ROUTING, FRAG(0, 1), DSTOPT(1) }, .ext_count = 5 }
	};
	const struct parse_case v4 = {
		"plain IPv4 UDP right after it",
		{ .proto = IPPROTO_UDP, .dst = VIP_A, .dport = 80, .payload_len = NO_PAYLOAD },
		XDP_TX, VIP_CTX(FLOW(VIP_A, CLIENT_PORT, 80, IPPROTO_UDP), 1, 2, 14, 28, 42, 0),
		LB_C_PARSE_TO_LB
	};
	const struct parse6_case v6_plain = {
		{ "plain IPv6 UDP after that", {}, XDP_TX,
		  ctx6(VIP6_A, CLIENT_PORT, 80, IPPROTO_UDP, 5, 10, 14, 54, 48, 62, 0),
		  LB_C_PARSE_TO_LB },
		{ .proto = IPPROTO_UDP, .dport = 80, .payload_len = NO_PAYLOAD }
	};

	REQUIRE_FIXTURE(&fx.status);
	if (!ASSERT_OK(packet_ctx_poison(), "poison packet_ctx"))
		return;
	run_cases6(&v6, 1);
	run_case(&v4);
	run_cases6(&v6_plain, 1);
	if (!ASSERT_OK(packet_ctx_poison(), "poison packet_ctx"))
		return;
	run_cases6(&v6_plain, 1);
}

static void test_ipv6_truncated(void)
{
	const struct frame6_desc udp = { .proto = IPPROTO_UDP, .dport = 80 };
	const struct frame6_desc tcp = {
		.vlan_tags = 1, .proto = IPPROTO_TCP, .dport = 443,
		.ext = { HBH(1), ROUTING, FRAG(0, 0), DSTOPT(0) }, .ext_count = 4,
	};
	uint8_t in[PKT_MAX];

	REQUIRE_FIXTURE(&fx.status);
	truncate_every_length("IPv6 UDP VIP frame", in, frame6_build(&udp, in));
	truncate_every_length("IPv6 VLAN TCP VIP frame, four extension headers", in,
			      frame6_build(&tcp, in));
}

/* IPv4's test_nat_reply() for IPv6: a whole frame matching no IPv6 VIP but a
 * nat_reply6 entry goes to the nat slot, flagged, after the checks of a VIP
 * frame; a fragment, another protocol or no entry is not VIP traffic.
 */
static void test_ipv6_nat_reply(void)
{
	const struct parse6_case cases[] = {
		{ { "reply to a NAT mapping", {}, XDP_TX,
		    ctx6(NOT_A_VIP6, CLIENT_PORT, 7, IPPROTO_UDP, 0, 0, 14, 54, UDP6_TOT,
			 UDP6_FRAME, LB_CTX_F_NAT_REPLY),
		    LB_C_PARSE_TO_NAT_REPLY },
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP6, .dport = 7 } },
		{ { "reply behind a destination option", {}, XDP_TX,
		    ctx6(NOT_A_VIP6, CLIENT_PORT, 7, IPPROTO_UDP, 0, 0, 14, 62, UDP6_TOT + 8,
			 UDP6_FRAME + 8, LB_CTX_F_NAT_REPLY),
		    LB_C_PARSE_TO_NAT_REPLY },
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP6, .dport = 7, .ext = { DSTOPT(0) },
		    .ext_count = 1 } },
		{ { "reply to another host's MAC", {}, XDP_PASS, {}, LB_C_PARSE_PASS_L2_OTHER_HOST },
		  { .dst_mac = mac_other[0], .proto = IPPROTO_UDP, .dst = NOT_A_VIP6, .dport = 7 } },
		{ { "TCP to the UDP mapping's ports", {}, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_TCP, .dst = NOT_A_VIP6, .dport = 7 } },
		{ { "another port", {}, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP6, .dport = 8 } },
		{ { "first fragment of a reply", {}, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_UDP, .dst = NOT_A_VIP6, .dport = 7, .ext = { FRAG(0, 1) },
		    .ext_count = 1 } },
	};
	const struct parse6_case no_state = {
		{ "no mapping", {}, XDP_PASS, {}, LB_C_PARSE_PASS_NOT_VIP },
		{ .proto = IPPROTO_UDP, .dst = NOT_A_VIP6, .dport = 7 }
	};
	struct lb_flow6_key flow = { .sport = htons(CLIENT_PORT), .dport = htons(7),
				     .proto = IPPROTO_UDP };
	struct lb_nat_reply6 state = { .client_port = htons(4321) };
	struct stage_sink nat_sink = { 0 };
	uint8_t in[PKT_MAX];
	size_t len;
	int nat_fd;

	REQUIRE_FIXTURE(&fx.status);
	pkt_ip6(CLIENT6, flow.src);
	pkt_ip6(NOT_A_VIP6, flow.dst);
	nat_fd = bpf_map__fd(fx.parse->maps.nat_reply6);
	if (!ASSERT_OK(sink_attach(&nat_sink, fx.parse->obj, LB_SLOT_NAT), "sink in nat slot"))
		return;
	run_sink = &nat_sink;
	run_cases6(&no_state, 1);
	if (!ASSERT_OK(bpf_map_update_elem(nat_fd, &flow, &state, BPF_ANY), "add NAT state"))
		goto out;
	RUN_CASES6(cases);

	len = frame6_build(&no_state.frame, in);
	if (ASSERT_OK(sink_slot_empty(&nat_sink), "empty the nat slot"))
		expect_no_nat_stage(in, len);
	ASSERT_OK(bpf_map_delete_elem(nat_fd, &flow), "remove NAT state");
out:
	run_sink = &fx.sink;
	sink_detach(&nat_sink);
}

/* An ICMPv6 message of @type (code 0) in place of the echo request. */
#define ICMP6_TYPE(type) { 40, 1, { (type) } }

/* ICMPv6 to an IPv6 VIP address (vip_addrs6) goes to the icmp slot when the
 * stage handles its type (echo request, errors 1-4) or is a fragment, after
 * the checks of a VIP frame; NDP, MLD and other types stay the kernel's
 * before any check, even from a link-local source.
 */
static void test_ipv6_icmp(void)
{
	const struct lb_vip_addr entry = { .vip_id = 9, .flags = LB_VIP_ADDR_F_ECHO };
	const struct parse6_case cases[] = {
		{ { "ICMPv6 echo request to a VIP address: to the icmp slot", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_ICMPV6, 9, 0, 14, 54, UDP6_TOT, UDP6_FRAME, 0),
		    LB_C_PARSE_TO_ICMP },
		  { .proto = IPPROTO_ICMPV6 } },
		{ { "ICMPv6 echo request in a VLAN tag", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_ICMPV6, 9, 0, 18, 58, UDP6_TOT, UDP6_FRAME + 4, 0),
		    LB_C_PARSE_TO_ICMP },
		  { .vlan_tags = 1, .proto = IPPROTO_ICMPV6 } },
		{ { "ICMPv6 behind destination options", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_ICMPV6, 9, 0, 14, 62, UDP6_TOT + 8,
			 UDP6_FRAME + 8, 0),
		    LB_C_PARSE_TO_ICMP },
		  { .proto = IPPROTO_ICMPV6, .ext = { DSTOPT(0) }, .ext_count = 1 } },
		{ { "destination unreachable", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_ICMPV6, 9, 0, 14, 54, UDP6_TOT, UDP6_FRAME, 0),
		    LB_C_PARSE_TO_ICMP },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(1) } },
		{ { "packet too big", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_ICMPV6, 9, 0, 14, 54, UDP6_TOT, UDP6_FRAME, 0),
		    LB_C_PARSE_TO_ICMP },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(2) } },
		{ { "time exceeded", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_ICMPV6, 9, 0, 14, 54, UDP6_TOT, UDP6_FRAME, 0),
		    LB_C_PARSE_TO_ICMP },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(3) } },
		{ { "parameter problem", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_ICMPV6, 9, 0, 14, 54, UDP6_TOT, UDP6_FRAME, 0),
		    LB_C_PARSE_TO_ICMP },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(4) } },
		{ { "first fragment: to the icmp slot, flagged", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_ICMPV6, 9, 0, 14, 62, UDP6_TOT + 8,
			 UDP6_FRAME + 8, LB_CTX_F_FRAGMENT),
		    LB_C_PARSE_TO_ICMP },
		  { .proto = IPPROTO_ICMPV6, .ext = { FRAG(0, 1) }, .ext_count = 1 } },
		{ { "later fragment of an NDP-looking type: to the icmp slot, flagged", {}, XDP_TX,
		    ctx6(VIP6_A, 0, 0, IPPROTO_ICMPV6, 9, 0, 14, 62, UDP6_TOT + 8,
			 UDP6_FRAME + 8, LB_CTX_F_FRAGMENT | LB_CTX_F_LATER_FRAGMENT),
		    LB_C_PARSE_TO_ICMP },
		  { .proto = IPPROTO_ICMPV6, .ext = { FRAG(1024, 0) }, .ext_count = 1,
		    .patch = { 48, 1, { 135 } } } },
		{ { "neighbor solicitation: the kernel's", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_ICMP6_OTHER },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(135) } },
		{ { "neighbor advertisement from a link-local source: the kernel's, not dropped",
		    {}, XDP_PASS, {}, LB_C_PARSE_PASS_ICMP6_OTHER },
		  { .proto = IPPROTO_ICMPV6, .src = "fe80::1", .patch = ICMP6_TYPE(136) } },
		{ { "router solicitation", {}, XDP_PASS, {}, LB_C_PARSE_PASS_ICMP6_OTHER },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(133) } },
		{ { "redirect", {}, XDP_PASS, {}, LB_C_PARSE_PASS_ICMP6_OTHER },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(137) } },
		{ { "MLD query", {}, XDP_PASS, {}, LB_C_PARSE_PASS_ICMP6_OTHER },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(130) } },
		{ { "MLDv2 report", {}, XDP_PASS, {}, LB_C_PARSE_PASS_ICMP6_OTHER },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(143) } },
		{ { "echo reply", {}, XDP_PASS, {}, LB_C_PARSE_PASS_ICMP6_OTHER },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(129) } },
		{ { "type 0 (reserved)", {}, XDP_PASS, {}, LB_C_PARSE_PASS_ICMP6_OTHER },
		  { .proto = IPPROTO_ICMPV6, .patch = ICMP6_TYPE(0) } },
		{ { "ICMPv6 of 3 bytes", {}, XDP_PASS, {}, LB_C_PARSE_PASS_MALFORMED },
		  { .proto = 0xfe, .payload_len = 3, .patch = { 6, 1, { IPPROTO_ICMPV6 } } } },
		{ { "ICMPv6 to an address that is no VIP's", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_ICMPV6, .dst = NOT_A_VIP6 } },
		{ { "ICMPv6 to VIP6_B, which has VIPs but no vip_addrs6 entry", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_NOT_VIP },
		  { .proto = IPPROTO_ICMPV6, .dst = VIP6_B } },
		{ { "ICMPv6 echo request to another host's MAC", {}, XDP_PASS, {},
		    LB_C_PARSE_PASS_L2_OTHER_HOST },
		  { .dst_mac = mac_other[2], .proto = IPPROTO_ICMPV6 } },
		{ { "ICMPv6 echo request from a link-local source", {}, XDP_DROP, {},
		    LB_C_PARSE_DROP_MARTIAN_SRC },
		  { .proto = IPPROTO_ICMPV6, .src = "fe80::1" } },
	};
	const struct frame6_desc echo = { .proto = IPPROTO_ICMPV6 };
	struct stage_sink icmp_sink = { 0 };
	struct lb_vip_addr6_key addr;
	uint8_t in[PKT_MAX];
	int addrs_fd;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	pkt_ip6(VIP6_A, addr.addr);
	addrs_fd = bpf_map__fd(fx.parse->maps.vip_addrs6);
	if (!ASSERT_OK(bpf_map_update_elem(addrs_fd, &addr, &entry, BPF_NOEXIST), "add VIP6_A"))
		return;
	if (!ASSERT_OK(sink_attach(&icmp_sink, fx.parse->obj, LB_SLOT_ICMP), "sink in icmp slot"))
		goto out;
	run_sink = &icmp_sink;
	RUN_CASES6(cases);
	run_sink = &fx.sink;

	len = frame6_build(&echo, in);
	check_empty_icmp_slot(&icmp_sink, in, len);
	sink_detach(&icmp_sink);
out:
	ASSERT_OK(bpf_map_delete_elem(addrs_fd, &addr), "remove VIP6_A");
}

int main(int argc, char **argv)
{
	const struct test_case cases[] = {
		TEST_CASE(test_vip_lookup),
		TEST_CASE(test_config_generation),
		TEST_CASE(test_tcp_syn_flag),
		TEST_CASE(test_layer2),
		TEST_CASE(test_l2_destination),
		TEST_CASE(test_l2_mac_unknown),
		TEST_CASE(test_ip_checksum),
		TEST_CASE(test_martian_source),
		TEST_CASE(test_ip_options),
		TEST_CASE(test_malformed),
		TEST_CASE(test_fragments),
		TEST_CASE(test_empty_lb_slot),
		TEST_CASE(test_nat_reply),
		TEST_CASE(test_icmp),
		TEST_CASE(test_every_field_every_packet),
		TEST_CASE(test_truncated),
		TEST_CASE(test_ipv6_vip_lookup),
		TEST_CASE(test_ipv6_extension_headers),
		TEST_CASE(test_ipv6_fragments),
		TEST_CASE(test_ipv6_checks),
		TEST_CASE(test_ipv6_every_field),
		TEST_CASE(test_ipv6_truncated),
		TEST_CASE(test_ipv6_nat_reply),
		TEST_CASE(test_ipv6_icmp),
	};
	int status;

	if (geteuid() == 0)
		fixture_setup();
	status = test_main("parse", cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	fixture_teardown();
	return status;
}
