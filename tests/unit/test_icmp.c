// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the icmp stage: echo replies, ICMP errors handed to the
 * encap slot (a test sink there) with the context of the flow they quote, and
 * everything the stage leaves to the kernel, with its counter; for ICMP to
 * IPv4 VIP addresses and ICMPv6 to IPv6 ones.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "icmp.skel.h"
#include "lb_structs_common.h"
#include "packet.h"
#include "sink_record.h"
#include "stage_fixture.h"
#include "test_harness.h"
#include "xdp_test_run.h"

#define CLIENT "10.0.0.1"
#define ROUTER "192.0.2.254"
#define VIP_ECHO "10.0.0.100"   /* echo on: udp/80, tcp every port, a nat udp/53 */
#define VIP_QUIET "10.0.0.101"  /* icmp_echo: false */
#define BACKEND "10.0.1.1"
#define CLIENT_PORT 40000

#define VIP_UDP_ID 1
#define VIP_TCP_ID 2
#define VIP_NAT_ID 3
#define VIP_QUIET_ID 4
#define B_UP 5
#define B_DOWN 6
#define B_OTHER_VIP 7
#define B_TCP 8

/* IPv6: VIP6_ECHO carries udp/80 and tcp on every port, VIP6_QUIET has icmp_echo: false. */
#define CLIENT6 "2001:db8::1"
#define ROUTER6 "2001:db8:ff::fe"
#define VIP6_ECHO "2001:db8::100"
#define VIP6_QUIET "2001:db8::101"
#define VIP6_UDP_ID 11
#define VIP6_TCP_ID 12
#define VIP6_QUIET_ID 13
#define B6_UP 14
#define B6_DOWN 15
#define B6_OTHER_VIP 16
#define B6_TCP 17

static struct {
	struct icmp_bpf *skel;
	struct icmp_bpf *skel_via_stack; /* ingress_tx_via_stack = 1 */
	struct stage_sink encap_sink;
	int ctx_fd, counters_fd, vip_drops_fd;
	struct fixture_status status;
} fx;

static int vip_add(int fd, const char *addr, uint16_t port, uint8_t proto, uint32_t id,
		   uint8_t forwarding)
{
	struct lb_vip_key key = { .addr = pkt_ip(addr), .port = htons(port), .proto = proto };
	struct lb_vip vip = { .vip_id = id, .pool_id = id * 2, .forwarding = forwarding,
			      .maglev_table = LB_NO_TABLE };

	return bpf_map_update_elem(fd, &key, &vip, BPF_ANY) ? -errno : 0;
}

static int backend_add(int fd, uint32_t id, uint32_t vip_id, uint8_t state)
{
	struct lb_backend be = { .addr = pkt_ip(BACKEND), .state = state, .vip_id = vip_id,
				 .weight = 1 };

	return bpf_map_update_elem(fd, &id, &be, BPF_ANY) ? -errno : 0;
}

/* The flow CLIENT:@cport -> @vip:@vport on @backend_id. */
static int flow_add(int fd, const char *vip, uint16_t cport, uint16_t vport, uint8_t proto,
		    uint32_t backend_id)
{
	struct lb_flow_key key = { .src = pkt_ip(CLIENT), .dst = pkt_ip(vip),
				   .sport = htons(cport), .dport = htons(vport), .proto = proto };
	struct lb_flow flow = { .backend_id = backend_id };

	return bpf_map_update_elem(fd, &key, &flow, BPF_ANY) ? -errno : 0;
}

static int vip6_add(int fd, const char *addr, uint16_t port, uint8_t proto, uint32_t id)
{
	struct lb_vip6_key key = { .port = htons(port), .proto = proto };
	struct lb_vip vip = { .vip_id = id, .pool_id = id * 2, .forwarding = LB_FORWARD_ENCAP,
			      .maglev_table = LB_NO_TABLE };

	pkt_ip6(addr, key.addr);
	return bpf_map_update_elem(fd, &key, &vip, BPF_ANY) ? -errno : 0;
}

/* The flow CLIENT6:@cport -> @vip:@vport on @backend_id. */
static int flow6_add(int fd, const char *vip, uint16_t cport, uint16_t vport, uint8_t proto,
		     uint32_t backend_id)
{
	struct lb_flow6_key key = { .sport = htons(cport), .dport = htons(vport), .proto = proto };
	struct lb_flow flow = { .backend_id = backend_id };

	pkt_ip6(CLIENT6, key.src);
	pkt_ip6(vip, key.dst);
	return bpf_map_update_elem(fd, &key, &flow, BPF_ANY) ? -errno : 0;
}

static int addr6_add(int fd, const char *addr, uint32_t vip_id, uint32_t flags)
{
	struct lb_vip_addr value = { .vip_id = vip_id, .flags = flags };
	struct lb_vip_addr6_key key;

	pkt_ip6(addr, key.addr);
	return bpf_map_update_elem(fd, &key, &value, BPF_ANY) ? -errno : 0;
}

/* The IPv6 half of the fixture: addresses, VIPs, backends, flows as IPv4's. */
static int maps_fill6(void)
{
	int vips = bpf_map__fd(fx.skel->maps.vips6), flows = bpf_map__fd(fx.skel->maps.flows6);
	int backends = bpf_map__fd(fx.skel->maps.backends);
	int addrs = bpf_map__fd(fx.skel->maps.vip_addrs6);
	int err;

	err = addr6_add(addrs, VIP6_ECHO, VIP6_UDP_ID, LB_VIP_ADDR_F_ECHO);
	err = err ?: addr6_add(addrs, VIP6_QUIET, VIP6_QUIET_ID, 0);
	err = err ?: vip6_add(vips, VIP6_ECHO, 80, IPPROTO_UDP, VIP6_UDP_ID);
	err = err ?: vip6_add(vips, VIP6_ECHO, 0, IPPROTO_TCP, VIP6_TCP_ID);
	err = err ?: vip6_add(vips, VIP6_QUIET, 80, IPPROTO_UDP, VIP6_QUIET_ID);
	err = err ?: backend_add(backends, B6_UP, VIP6_UDP_ID, LB_BACKEND_UP);
	err = err ?: backend_add(backends, B6_DOWN, VIP6_UDP_ID, LB_BACKEND_DOWN);
	err = err ?: backend_add(backends, B6_OTHER_VIP, VIP6_QUIET_ID, LB_BACKEND_UP);
	err = err ?: backend_add(backends, B6_TCP, VIP6_TCP_ID, LB_BACKEND_DRAIN);
	err = err ?: flow6_add(flows, VIP6_ECHO, CLIENT_PORT, 80, IPPROTO_UDP, B6_UP);
	err = err ?: flow6_add(flows, VIP6_ECHO, CLIENT_PORT, 443, IPPROTO_TCP, B6_TCP);
	err = err ?: flow6_add(flows, VIP6_ECHO, CLIENT_PORT + 1, 80, IPPROTO_UDP, B6_DOWN);
	err = err ?: flow6_add(flows, VIP6_ECHO, CLIENT_PORT + 2, 80, IPPROTO_UDP, B6_OTHER_VIP);
	return err;
}

static int maps_fill(void)
{
	int vips = bpf_map__fd(fx.skel->maps.vips), flows = bpf_map__fd(fx.skel->maps.flows);
	int backends = bpf_map__fd(fx.skel->maps.backends);
	int addrs = bpf_map__fd(fx.skel->maps.vip_addrs);
	struct lb_vip_addr echo = { .vip_id = VIP_UDP_ID, .flags = LB_VIP_ADDR_F_ECHO };
	struct lb_vip_addr quiet = { .vip_id = VIP_QUIET_ID, .flags = 0 };
	__be32 a = pkt_ip(VIP_ECHO), q = pkt_ip(VIP_QUIET);
	int err;

	if (bpf_map_update_elem(addrs, &a, &echo, BPF_ANY) ||
	    bpf_map_update_elem(addrs, &q, &quiet, BPF_ANY))
		return -errno;
	err = vip_add(vips, VIP_ECHO, 80, IPPROTO_UDP, VIP_UDP_ID, LB_FORWARD_ENCAP);
	err = err ?: vip_add(vips, VIP_ECHO, 0, IPPROTO_TCP, VIP_TCP_ID, LB_FORWARD_ENCAP);
	err = err ?: vip_add(vips, VIP_ECHO, 53, IPPROTO_UDP, VIP_NAT_ID, LB_FORWARD_NAT);
	err = err ?: vip_add(vips, VIP_QUIET, 80, IPPROTO_UDP, VIP_QUIET_ID, LB_FORWARD_ENCAP);
	err = err ?: backend_add(backends, B_UP, VIP_UDP_ID, LB_BACKEND_UP);
	err = err ?: backend_add(backends, B_DOWN, VIP_UDP_ID, LB_BACKEND_DOWN);
	err = err ?: backend_add(backends, B_OTHER_VIP, VIP_QUIET_ID, LB_BACKEND_UP);
	err = err ?: backend_add(backends, B_TCP, VIP_TCP_ID, LB_BACKEND_DRAIN);
	/* Flows: the UDP VIP's on B_UP; a TCP one on a draining backend; one on a down backend, one
	 * on a backend of another VIP (its slot was reused), a NAT VIP's.
	 */
	err = err ?: flow_add(flows, VIP_ECHO, CLIENT_PORT, 80, IPPROTO_UDP, B_UP);
	err = err ?: flow_add(flows, VIP_ECHO, CLIENT_PORT, 443, IPPROTO_TCP, B_TCP);
	err = err ?: flow_add(flows, VIP_ECHO, CLIENT_PORT + 1, 80, IPPROTO_UDP, B_DOWN);
	err = err ?: flow_add(flows, VIP_ECHO, CLIENT_PORT + 2, 80, IPPROTO_UDP, B_OTHER_VIP);
	err = err ?: flow_add(flows, VIP_ECHO, CLIENT_PORT, 53, IPPROTO_UDP, B_UP);
	return err;
}

static int load_via_stack(void)
{
	struct bpf_map *map, *mine;
	int err;

	fx.skel_via_stack = icmp_bpf__open();
	if (!fx.skel_via_stack)
		return -errno;
	fx.skel_via_stack->rodata->lb_tunables.ingress_tx_via_stack = 1;
	bpf_object__for_each_map(map, fx.skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		mine = bpf_object__find_map_by_name(fx.skel_via_stack->obj, bpf_map__name(map));
		if (!mine)
			return -ENOENT;
		err = bpf_map__reuse_fd(mine, bpf_map__fd(map));
		if (err)
			return err;
	}
	return icmp_bpf__load(fx.skel_via_stack);
}

static void fixture_setup(void)
{
	fx.skel = icmp_bpf__open_and_load();
	if (fixture_step(&fx.status, fx.skel ? 0 : -errno, "open and load icmp_bpf") ||
	    fixture_step(&fx.status, load_via_stack(), "load icmp_bpf with ingress_tx_via_stack") ||
	    fixture_step(&fx.status, sink_attach(&fx.encap_sink, fx.skel->obj, LB_SLOT_ENCAP),
			 "put the sink in the encap slot") ||
	    fixture_step(&fx.status, maps_fill(), "fill VIPs, backends, flows") ||
	    fixture_step(&fx.status, maps_fill6(), "fill IPv6 VIPs, backends, flows"))
		return;
	fx.ctx_fd = bpf_map__fd(fx.skel->maps.packet_ctx);
	fx.counters_fd = bpf_map__fd(fx.skel->maps.counters);
	fx.vip_drops_fd = bpf_map__fd(fx.skel->maps.vip_drops);
}

static void fixture_teardown(void)
{
	sink_detach(&fx.encap_sink);
	icmp_bpf__destroy(fx.skel_via_stack);
	icmp_bpf__destroy(fx.skel);
}

/* The context parse writes for an ICMP frame (l3 at @l3, 20-byte header). */
static void ctx_of(const uint8_t *frame, size_t len, size_t l3, uint32_t vip_id,
		   struct lb_packet_ctx *ctx)
{
	const uint8_t *ip = frame + l3;

	memset(ctx, 0, sizeof(*ctx));
	memcpy(&ctx->flow.src, ip + 12, 4);
	memcpy(&ctx->flow.dst, ip + 16, 4);
	ctx->flow.proto = IPPROTO_ICMP;
	ctx->vip_id = vip_id;
	ctx->backend_id = LB_NO_BACKEND;
	ctx->frame_len = (uint32_t)len;
	ctx->l3_offset = (uint16_t)l3;
	ctx->l4_offset = (uint16_t)(l3 + (ip[0] & 0x0f) * 4);
	ctx->ip_tot_len = pkt_get16(ip + 2);
	if (pkt_get16(ip + 6) & 0x3fff)
		ctx->flags |= LB_CTX_F_FRAGMENT;
}

/* The client's echo request to VIP_ECHO (id 1234, sequence 80, 32 bytes). */
static void echo_spec(struct pkt_spec *spec)
{
	pkt_spec_udp(spec);
	spec->proto = IPPROTO_ICMP;
}

/* Builds @spec (addresses and protocol set) as the ICMP or ICMPv6 error
 * @icmp quoting @quoted (its first @quote_max bytes, 0: whole), in a VLAN
 * tag if @vlan. Returns the frame length.
 */
static size_t error_build(struct pkt_spec *spec, const struct pkt_icmp *icmp,
			  const struct pkt_spec *quoted, size_t quote_max, int vlan, uint8_t *frame)
{
	static uint8_t quote[PKT_MAX];

	spec->icmp = icmp;
	spec->payload_len = pkt_quote(quoted, quote_max, quote, sizeof(quote));
	spec->payload = quote;
	if (vlan)
		spec->tags[spec->tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, 100 };
	return spec->payload_len ? pkt_build(spec, frame, PKT_MAX) : 0;
}

/* An ICMP error from ROUTER to @vip quoting @quoted (error_build()). */
static size_t error_frame(const struct pkt_icmp *icmp, const char *vip,
			  const struct pkt_spec *quoted, size_t quote_max, int vlan, uint8_t *frame)
{
	struct pkt_spec spec;

	pkt_spec_udp(&spec);
	spec.src = pkt_ip(ROUTER);
	spec.dst = pkt_ip(vip);
	spec.proto = IPPROTO_ICMP;
	return error_build(&spec, icmp, quoted, quote_max, vlan, frame);
}

/* The packet a backend sent and a router complains about: @vip:@vport ->
 * CLIENT:@cport, 1400 bytes of payload, DF.
 */
static void reply_spec(struct pkt_spec *spec, const char *vip, uint16_t vport, uint16_t cport,
		       uint8_t proto)
{
	pkt_spec_udp(spec);
	spec->src = pkt_ip(vip);
	spec->dst = pkt_ip(CLIENT);
	spec->sport = vport;
	spec->dport = cport;
	spec->proto = proto;
	spec->frag_off = 0x4000;
	spec->payload_len = 1400;
}

enum expect {
	EXPECT_PASS,    /* XDP_PASS, frame unchanged, the sink not run */
	EXPECT_REPLY,   /* XDP_TX, the frame given */
	EXPECT_ENCAP,   /* handed to the encap slot (the sink: XDP_TX), frame unchanged */
	EXPECT_DROP,    /* XDP_DROP, frame unchanged */
};

struct icmp_run {
	const char *name;
	const uint8_t *frame;
	size_t len;
	const struct lb_packet_ctx *ctx; /* written to every CPU */
	int prog_fd;
	enum expect expect;
	const uint8_t *want; /* EXPECT_REPLY: the output */
	size_t want_len;
	const struct lb_packet_ctx *want_ctx; /* EXPECT_ENCAP: what the sink saw */
	const struct counter_delta *deltas;
	size_t delta_count;
};

static void run(const struct icmp_run *r)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct sink_record rec_before, rec_after;
	static struct xdp_result res;
	bool ok = true;

	if (!ASSERT_TRUE(r->len > 0, r->name) ||
	    !ASSERT_OK(ctx_write_all_cpus(fx.ctx_fd, r->ctx), r->name))
		return;
	sink_record_read(&fx.encap_sink, &rec_before);
	counters_read(fx.counters_fd, before);
	xdp_run(r->prog_fd, r->frame, r->len, 0, &res);
	counters_read(fx.counters_fd, after);
	sink_record_read(&fx.encap_sink, &rec_after);
	ok &= ASSERT_OK(res.err, r->name);
	ok &= counters_expect(before, after, r->deltas, r->delta_count, r->name);
	ok &= ASSERT_EQ(rec_after.hits - rec_before.hits, r->expect == EXPECT_ENCAP, r->name);
	switch (r->expect) {
	case EXPECT_REPLY:
		ok &= ASSERT_STREQ(xdp_verdict_name(res.verdict), "XDP_TX", r->name);
		ok &= ASSERT_BYTES(res.out, res.out_len, r->want, r->want_len, r->name);
		break;
	case EXPECT_ENCAP:
		ok &= ASSERT_STREQ(xdp_verdict_name(res.verdict), "XDP_TX", r->name);
		ok &= ASSERT_BYTES(res.out, res.out_len, r->frame, r->len, r->name);
		/* The stage reads the clock for the encap slot's next-hop cache. */
		ok &= ASSERT_TRUE(rec_after.ctx.now_ns != 0, r->name);
		rec_after.ctx.now_ns = 0;
		ok &= ASSERT_BYTES(&rec_after.ctx, sizeof(rec_after.ctx), r->want_ctx,
				   sizeof(*r->want_ctx), r->name);
		break;
	case EXPECT_PASS:
	case EXPECT_DROP:
		ok &= ASSERT_STREQ(xdp_verdict_name(res.verdict),
				   r->expect == EXPECT_PASS ? "XDP_PASS" : "XDP_DROP", r->name);
		ok &= ASSERT_BYTES(res.out, res.out_len, r->frame, r->len, r->name);
		break;
	}
	if (!ok)
		test_hexdump("input", r->frame, r->len);
}

/* Bytes worked out by hand: an echo request 10.0.0.1 -> 10.0.0.100, id 1234,
 * sequence 80, 4 bytes of payload, IP id 0x1234, TTL 5.
 *   header checksum: ~(4500+0020+1234+0000+0501+0000+0a00+0001+0a00+0064) = 8f45
 *   ICMP checksum: ~(0800+0000+04d2+0050+0001+0203) = f0d9
 * The reply: MACs and addresses swapped, TTL 64, type 0.
 *   header checksum: ~(4500+0020+1234+0000+4001+0000+0a00+0064+0a00+0001) = 5445
 *   ICMP checksum: ~(0000+0000+04d2+0050+0001+0203) = f8d9
 */
static const uint8_t golden_echo[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x00, 0x00, 0x05, 0x01, 0x8f, 0x45,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x64,
	0x08, 0x00, 0xf0, 0xd9, 0x04, 0xd2, 0x00, 0x50, 0x00, 0x01, 0x02, 0x03,
};
static const uint8_t golden_echo_reply[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x00, 0x00, 0x40, 0x01, 0x54, 0x45,
	0x0a, 0x00, 0x00, 0x64, 0x0a, 0x00, 0x00, 0x01,
	0x00, 0x00, 0xf8, 0xd9, 0x04, 0xd2, 0x00, 0x50, 0x00, 0x01, 0x02, 0x03,
};

static void test_echo_golden(void)
{
	const struct counter_delta replied = { LB_C_ICMP_ECHO_REPLY, 1 };
	uint8_t built[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec spec;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	echo_spec(&spec);
	spec.ttl = 5;
	spec.payload_len = 4;
	len = pkt_build(&spec, built, sizeof(built));
	ASSERT_BYTES(built, len, golden_echo, sizeof(golden_echo), "pkt_build vs hand-made input");
	ctx_of(golden_echo, sizeof(golden_echo), 14, VIP_UDP_ID, &ctx);
	run(&(struct icmp_run){ "golden echo reply", golden_echo, sizeof(golden_echo), &ctx,
				bpf_program__fd(fx.skel->progs.xdp_lb_icmp), EXPECT_REPLY,
				golden_echo_reply, sizeof(golden_echo_reply), NULL, &replied, 1 });
}

static void test_echo(void)
{
	static const uint8_t options[8] = { 1, 1, 1, 1, 1, 1, 1, 0 };
	const struct counter_delta replied = { LB_C_ICMP_ECHO_REPLY, 1 };
	const struct counter_delta off = { LB_C_ICMP_PASS_ECHO_OFF, 1 };
	const struct counter_delta no_tx = { LB_C_ICMP_PASS_ECHO_NO_TX, 1 };
	int fd = bpf_program__fd(fx.skel->progs.xdp_lb_icmp);
	static uint8_t frame[PKT_MAX], want[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec spec;
	size_t len, l3;
	int i;

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < 4; i++) {
		static const char *const names[] = {
			"echo, 1000 bytes", "echo behind a VLAN tag", "echo with IP options",
			"echo with a bad ICMP checksum: the reply's is as bad",
		};
		echo_spec(&spec);
		spec.payload_len = i == 0 ? 1000 : 33;
		if (i == 1)
			spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, 7 };
		if (i == 2) {
			spec.ip_options = options;
			spec.ip_options_len = sizeof(options);
		}
		if (i == 3)
			spec.l4_csum_xor = 0x0101;
		len = pkt_build(&spec, frame, sizeof(frame));
		l3 = i == 1 ? 18 : 14;
		ctx_of(frame, len, l3, VIP_UDP_ID, &ctx);
		pkt_echo_reply(frame, len, l3, want);
		run(&(struct icmp_run){ names[i], frame, len, &ctx, fd, EXPECT_REPLY, want, len,
					NULL, &replied, 1 });
	}

	echo_spec(&spec);
	spec.dst = pkt_ip(VIP_QUIET);
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx_of(frame, len, 14, VIP_QUIET_ID, &ctx);
	run(&(struct icmp_run){ "icmp_echo false: the kernel's", frame, len, &ctx, fd,
				EXPECT_PASS, NULL, 0, NULL, &off, 1 });

	spec.dst = pkt_ip(VIP_ECHO);
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx_of(frame, len, 14, VIP_UDP_ID, &ctx);
	run(&(struct icmp_run){ "ingress takes no XDP_TX: the kernel's", frame, len, &ctx,
				bpf_program__fd(fx.skel_via_stack->progs.xdp_lb_icmp),
				EXPECT_PASS, NULL, 0, NULL, &no_tx, 1 });
}

/* The context the encap slot gets for an error about @vip's flow from
 * CLIENT:@cport to @vport: the flow's key, its backend, the VIP's fields;
 * offsets and lengths still the ICMP packet's.
 */
static void forward_ctx(const struct lb_packet_ctx *in, uint16_t cport, uint16_t vport,
			uint8_t proto, uint32_t vip_id, uint32_t backend_id,
			struct lb_packet_ctx *out)
{
	*out = *in;
	memset(&out->flow, 0, sizeof(out->flow));
	out->flow.src = pkt_ip(CLIENT);
	out->flow.dst = pkt_ip(VIP_ECHO);
	out->flow.sport = htons(cport);
	out->flow.dport = htons(vport);
	out->flow.proto = proto;
	out->vip_id = vip_id;
	out->pool_id = vip_id * 2;
	out->maglev_table = LB_NO_TABLE;
	out->forwarding = LB_FORWARD_ENCAP;
	out->backend_id = backend_id;
	out->flags |= LB_CTX_F_ICMP_ERROR;
}

static void test_errors_to_backend(void)
{
	const struct pkt_icmp frag = { 3, 4, 1400 }, unreach = { 3, 1, 0 }, ttl = { 11, 0, 0 };
	const struct counter_delta sent = { LB_C_ICMP_ERROR_TO_BACKEND, 1 };
	int fd = bpf_program__fd(fx.skel->progs.xdp_lb_icmp);
	static uint8_t opts[12] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 };
	static uint8_t frame[PKT_MAX];
	struct lb_packet_ctx ctx, want;
	struct pkt_spec quoted;
	size_t len;
	struct {
		const char *name;
		const struct pkt_icmp *icmp;
		uint16_t vport;
		uint8_t proto;
		uint32_t vip_id, backend_id;
		size_t quote_max;
		int vlan, options;
	} cases[] = {
		{ "frag needed about a UDP reply, 8 bytes quoted", &frag, 80, IPPROTO_UDP,
		  VIP_UDP_ID, B_UP, 28, 0, 0 },
		{ "frag needed about a TCP reply: the wildcard VIP's flow, draining backend",
		  &frag, 443, IPPROTO_TCP, VIP_TCP_ID, B_TCP, 28, 0, 0 },
		{ "host unreachable, the whole packet quoted", &unreach, 80, IPPROTO_UDP,
		  VIP_UDP_ID, B_UP, 0, 0, 0 },
		{ "time exceeded, behind a VLAN tag", &ttl, 80, IPPROTO_UDP, VIP_UDP_ID, B_UP, 576,
		  1, 0 },
		{ "quoted header with options", &frag, 80, IPPROTO_UDP, VIP_UDP_ID, B_UP, 0, 0, 1 },
	};
	size_t i;

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reply_spec(&quoted, VIP_ECHO, cases[i].vport, CLIENT_PORT, cases[i].proto);
		if (cases[i].options) {
			quoted.ip_options = opts;
			quoted.ip_options_len = sizeof(opts);
		}
		len = error_frame(cases[i].icmp, VIP_ECHO, &quoted, cases[i].quote_max,
				  cases[i].vlan, frame);
		ctx_of(frame, len, cases[i].vlan ? 18 : 14, VIP_UDP_ID, &ctx);
		forward_ctx(&ctx, CLIENT_PORT, cases[i].vport, cases[i].proto, cases[i].vip_id,
			    cases[i].backend_id, &want);
		run(&(struct icmp_run){ cases[i].name, frame, len, &ctx, fd, EXPECT_ENCAP, NULL, 0,
					&want, &sent, 1 });
	}
}

/* Everything the stage leaves to the kernel, and what it drops. */
static void test_errors_not_forwarded(void)
{
	const struct pkt_icmp frag = { 3, 4, 1400 }, redirect = { 5, 1, 0 };
	int fd = bpf_program__fd(fx.skel->progs.xdp_lb_icmp);
	static uint8_t frame[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec quoted;
	size_t len;
	struct {
		const char *name;
		const struct pkt_icmp *icmp;
		const char *src;   /* the quoted packet's source (VIP_ECHO) */
		uint16_t vport, cport;
		uint8_t proto;
		uint16_t frag_off; /* of the quoted packet */
		size_t quote_max;
		enum lb_counter counter;
	} cases[] = {
		{ "no flow for the quoted packet", &frag, VIP_ECHO, 80, CLIENT_PORT + 9,
		  IPPROTO_UDP, 0x4000, 28, LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "the flow's backend is down", &frag, VIP_ECHO, 80, CLIENT_PORT + 1, IPPROTO_UDP,
		  0x4000, 28, LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "the flow's backend slot now another VIP's", &frag, VIP_ECHO, 80,
		  CLIENT_PORT + 2, IPPROTO_UDP, 0x4000, 28, LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "quoted packet a later fragment: no ports", &frag, VIP_ECHO, 80, CLIENT_PORT,
		  IPPROTO_UDP, 185, 28, LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "quoted packet of a NAT VIP without a mapping", &frag, VIP_ECHO, 53, CLIENT_PORT,
		  IPPROTO_UDP, 0x4000, 28, LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "quoted port of no VIP", &frag, VIP_ECHO, 81, CLIENT_PORT, IPPROTO_UDP, 0x4000,
		  28, LB_C_ICMP_PASS_ERROR_NO_VIP },
		{ "quoted source another address", &frag, CLIENT, 80, CLIENT_PORT, IPPROTO_UDP,
		  0x4000, 28, LB_C_ICMP_PASS_ERROR_NO_VIP },
		{ "quoted packet ICMP", &frag, VIP_ECHO, 0, 0, IPPROTO_ICMP, 0, 28,
		  LB_C_ICMP_PASS_ERROR_NO_VIP },
		{ "quote cut inside the ports", &frag, VIP_ECHO, 80, CLIENT_PORT, IPPROTO_UDP,
		  0x4000, 23, LB_C_ICMP_PASS_ERROR_MALFORMED },
		{ "quote cut inside the IPv4 header", &frag, VIP_ECHO, 80, CLIENT_PORT,
		  IPPROTO_UDP, 0x4000, 12, LB_C_ICMP_PASS_ERROR_MALFORMED },
		{ "redirect: another type", &redirect, VIP_ECHO, 80, CLIENT_PORT, IPPROTO_UDP,
		  0x4000, 28, LB_C_ICMP_PASS_OTHER },
	};
	size_t i;

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct counter_delta d = { cases[i].counter, 1 };

		reply_spec(&quoted, cases[i].src, cases[i].vport, cases[i].cport, cases[i].proto);
		quoted.frag_off = cases[i].frag_off;
		len = error_frame(cases[i].icmp, VIP_ECHO, &quoted, cases[i].quote_max, 0, frame);
		ctx_of(frame, len, 14, VIP_UDP_ID, &ctx);
		run(&(struct icmp_run){ cases[i].name, frame, len, &ctx, fd, EXPECT_PASS, NULL, 0,
					NULL, &d, 1 });
	}

	/* A quote whose version is not 4: patched into a built frame. */
	reply_spec(&quoted, VIP_ECHO, 80, CLIENT_PORT, IPPROTO_UDP);
	len = error_frame(&frag, VIP_ECHO, &quoted, 28, 0, frame);
	frame[14 + 20 + 8] = 0x65;
	ctx_of(frame, len, 14, VIP_UDP_ID, &ctx);
	run(&(struct icmp_run){ "quoted version 6", frame, len, &ctx, fd, EXPECT_PASS, NULL, 0,
				NULL, &(struct counter_delta){ LB_C_ICMP_PASS_ERROR_MALFORMED, 1 },
				1 });
}

/* Fragments, cut ICMP headers, contexts that do not describe the frame. */
static void test_other_frames(void)
{
	int fd = bpf_program__fd(fx.skel->progs.xdp_lb_icmp);
	static uint8_t frame[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec spec;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	echo_spec(&spec);
	spec.frag_off = 0x2000;
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx_of(frame, len, 14, VIP_UDP_ID, &ctx);
	run(&(struct icmp_run){ "echo request in fragments: the kernel reassembles", frame, len,
				&ctx, fd, EXPECT_PASS, NULL, 0, NULL,
				&(struct counter_delta){ LB_C_ICMP_PASS_FRAGMENT, 1 }, 1 });

	/* 4 bytes of ICMP: a raw-protocol payload with protocol 1. */
	pkt_spec_udp(&spec);
	spec.payload_len = 4;
	spec.proto = 0xfe; /* built raw, then called ICMP */
	len = pkt_build(&spec, frame, sizeof(frame));
	frame[14 + 9] = IPPROTO_ICMP;
	pkt_ipv4_csum_fix(frame + 14);
	ctx_of(frame, len, 14, VIP_UDP_ID, &ctx);
	run(&(struct icmp_run){ "ICMP header cut short", frame, len, &ctx, fd, EXPECT_PASS, NULL,
				0, NULL, &(struct counter_delta){ LB_C_ICMP_PASS_OTHER, 1 }, 1 });

	echo_spec(&spec);
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx_of(frame, len, 14, VIP_UDP_ID, &ctx);
	ctx.frame_len += 1;
	run(&(struct icmp_run){ "context of a longer frame: dropped as it came", frame, len, &ctx,
				fd, EXPECT_DROP, NULL, 0, NULL,
				&(struct counter_delta){ LB_C_ICMP_DROP_BAD_CTX, 1 }, 1 });
	ctx_of(frame, len, 14, VIP_UDP_ID, &ctx);
	ctx.l3_offset = 18;
	ctx.l4_offset = 38;
	run(&(struct icmp_run){ "context of a tagged frame on an untagged one", frame, len, &ctx,
				fd, EXPECT_DROP, NULL, 0, NULL,
				&(struct counter_delta){ LB_C_ICMP_DROP_BAD_CTX, 1 }, 1 });
	ctx_of(frame, len, 14, VIP_UDP_ID, &ctx);
	ctx.flow.proto = IPPROTO_UDP;
	run(&(struct icmp_run){ "context of a UDP packet", frame, len, &ctx, fd, EXPECT_DROP,
				NULL, 0, NULL,
				&(struct counter_delta){ LB_C_ICMP_DROP_BAD_CTX, 1 }, 1 });
}

/* An empty encap slot: counted twice, passed on unchanged. */
static void test_empty_encap_slot(void)
{
	const struct pkt_icmp frag = { 3, 4, 1400 };
	const struct counter_delta deltas[] = {
		{ LB_C_ICMP_ERROR_TO_BACKEND, 1 },
		{ LB_C_ICMP_PASS_NO_ENCAP_STAGE, 1 },
	};
	static uint8_t frame[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec quoted;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	reply_spec(&quoted, VIP_ECHO, 80, CLIENT_PORT, IPPROTO_UDP);
	len = error_frame(&frag, VIP_ECHO, &quoted, 28, 0, frame);
	ctx_of(frame, len, 14, VIP_UDP_ID, &ctx);
	if (!ASSERT_OK(sink_slot_empty(&fx.encap_sink), "empty the encap slot"))
		return;
	run(&(struct icmp_run){ "encap slot empty", frame, len, &ctx,
				bpf_program__fd(fx.skel->progs.xdp_lb_icmp), EXPECT_PASS, NULL,
				0, NULL, deltas, 2 });
	ASSERT_OK(sink_slot_fill(&fx.encap_sink), "put the sink back");
}

/* --- ICMPv6 ----------------------------------------------------------------------- */

/* The context parse writes for an ICMPv6 frame (IPv6 at @l3, the ICMPv6
 * header behind @ext bytes of extension headers).
 */
static void ctx6_of(const uint8_t *frame, size_t len, size_t l3, size_t ext, uint32_t vip_id,
		    struct lb_packet_ctx *ctx)
{
	const uint8_t *ip = frame + l3;

	memset(ctx, 0, sizeof(*ctx));
	memcpy(ctx->flow6.src, ip + 8, 16);
	memcpy(ctx->flow6.dst, ip + 24, 16);
	ctx->flow6.proto = IPPROTO_ICMPV6;
	ctx->l4_proto = IPPROTO_ICMPV6;
	ctx->vip_id = vip_id;
	ctx->backend_id = LB_NO_BACKEND;
	ctx->frame_len = (uint32_t)len;
	ctx->l3_offset = (uint16_t)l3;
	ctx->l4_offset = (uint16_t)(l3 + 40 + ext);
	ctx->ip_tot_len = (uint16_t)(40 + pkt_get16(ip + 4));
	ctx->flags = LB_CTX_F_IPV6;
}

/* The client's ICMPv6 echo request to VIP6_ECHO (id 1234, sequence 80). */
static void echo6_spec(struct pkt_spec *spec)
{
	pkt_spec_udp6(spec);
	pkt_ip6(CLIENT6, spec->src6);
	pkt_ip6(VIP6_ECHO, spec->dst6);
	spec->proto = IPPROTO_ICMPV6;
}

/* An ICMPv6 error from ROUTER6 to @vip quoting @quoted (error_build()). */
static size_t error6_frame(const struct pkt_icmp *icmp, const char *vip,
			   const struct pkt_spec *quoted, size_t quote_max, int vlan,
			   uint8_t *frame)
{
	struct pkt_spec spec;

	pkt_spec_udp6(&spec);
	pkt_ip6(ROUTER6, spec.src6);
	pkt_ip6(vip, spec.dst6);
	spec.proto = IPPROTO_ICMPV6;
	return error_build(&spec, icmp, quoted, quote_max, vlan, frame);
}

/* The packet a backend sent from @vip:@vport to CLIENT6:@cport, 1400 bytes of payload. */
static void reply6_spec(struct pkt_spec *spec, const char *vip, uint16_t vport, uint16_t cport,
			uint8_t proto)
{
	pkt_spec_udp6(spec);
	pkt_ip6(vip, spec->src6);
	pkt_ip6(CLIENT6, spec->dst6);
	spec->sport = vport;
	spec->dport = cport;
	spec->proto = proto;
	spec->payload_len = 1400;
}

/* Bytes worked out by hand: an echo request 2001:db8::1 -> 2001:db8::100, id
 * 1234, sequence 80, 4 bytes of payload, hop limit 5. The ICMPv6 checksum
 * covers the pseudo-header (addresses, upper-layer length 12, next header 58):
 *   ~(2001+0db8+0001 + 2001+0db8+0100 + 000c + 003a + 8000+0000+04d2+0050+0001+0203)
 *   = ~e3df = 1c20
 * The reply: MACs and addresses swapped (the sum is the same), hop limit 64, type 129:
 *   ~(e3df - 8000 + 8100) = ~e4df = 1b20
 */
static const uint8_t golden_echo6[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x3a, 0x05,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
	0x80, 0x00, 0x1c, 0x20, 0x04, 0xd2, 0x00, 0x50, 0x00, 0x01, 0x02, 0x03,
};
static const uint8_t golden_echo6_reply[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x86, 0xdd,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x3a, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
	0x81, 0x00, 0x1b, 0x20, 0x04, 0xd2, 0x00, 0x50, 0x00, 0x01, 0x02, 0x03,
};

static void test_echo6_golden(void)
{
	const struct counter_delta replied = { LB_C_ICMP_ECHO_REPLY, 1 };
	uint8_t built[PKT_MAX], helper[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec spec;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	echo6_spec(&spec);
	spec.ttl = 5;
	spec.payload_len = 4;
	len = pkt_build(&spec, built, sizeof(built));
	ASSERT_BYTES(built, len, golden_echo6, sizeof(golden_echo6),
		     "pkt_build vs hand-made input");
	pkt_echo_reply(golden_echo6, sizeof(golden_echo6), 14, helper);
	ASSERT_BYTES(helper, sizeof(golden_echo6), golden_echo6_reply, sizeof(golden_echo6_reply),
		     "pkt_echo_reply vs hand-made reply");
	ctx6_of(golden_echo6, sizeof(golden_echo6), 14, 0, VIP6_UDP_ID, &ctx);
	run(&(struct icmp_run){ "golden ICMPv6 echo reply", golden_echo6, sizeof(golden_echo6),
				&ctx, bpf_program__fd(fx.skel->progs.xdp_lb_icmp), EXPECT_REPLY,
				golden_echo6_reply, sizeof(golden_echo6_reply), NULL, &replied,
				1 });
}

static void test_echo6(void)
{
	const struct counter_delta replied = { LB_C_ICMP_ECHO_REPLY, 1 };
	int fd = bpf_program__fd(fx.skel->progs.xdp_lb_icmp);
	static uint8_t frame[PKT_MAX], want[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec spec;
	size_t len, l3;
	int i;

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < 3; i++) {
		static const char *const names[] = {
			"ICMPv6 echo, 1000 bytes", "ICMPv6 echo behind a VLAN tag",
			"ICMPv6 echo with a bad checksum: the reply's is as bad",
		};
		echo6_spec(&spec);
		spec.payload_len = i == 0 ? 1000 : 33;
		if (i == 1)
			spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, 7 };
		if (i == 2)
			spec.l4_csum_xor = 0x0101;
		len = pkt_build(&spec, frame, sizeof(frame));
		l3 = i == 1 ? 18 : 14;
		ctx6_of(frame, len, l3, 0, VIP6_UDP_ID, &ctx);
		pkt_echo_reply(frame, len, l3, want);
		run(&(struct icmp_run){ names[i], frame, len, &ctx, fd, EXPECT_REPLY, want, len,
					NULL, &replied, 1 });
	}

	echo6_spec(&spec);
	pkt_ip6(VIP6_QUIET, spec.dst6);
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx6_of(frame, len, 14, 0, VIP6_QUIET_ID, &ctx);
	run(&(struct icmp_run){ "ICMPv6, icmp_echo false: the kernel's", frame, len, &ctx, fd,
				EXPECT_PASS, NULL, 0, NULL,
				&(struct counter_delta){ LB_C_ICMP_PASS_ECHO_OFF, 1 }, 1 });

	echo6_spec(&spec);
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx6_of(frame, len, 14, 0, VIP6_UDP_ID, &ctx);
	run(&(struct icmp_run){ "ICMPv6, ingress takes no XDP_TX: the kernel's", frame, len, &ctx,
				bpf_program__fd(fx.skel_via_stack->progs.xdp_lb_icmp),
				EXPECT_PASS, NULL, 0, NULL,
				&(struct counter_delta){ LB_C_ICMP_PASS_ECHO_NO_TX, 1 }, 1 });

	/* A reply must not carry a request's extension headers back. */
	echo6_spec(&spec);
	spec.ext6[spec.ext6_count++] = (struct pkt_ext6){ 60, 0, 0 };
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx6_of(frame, len, 14, 8, VIP6_UDP_ID, &ctx);
	run(&(struct icmp_run){ "ICMPv6 echo behind destination options: the kernel's", frame,
				len, &ctx, fd, EXPECT_PASS, NULL, 0, NULL,
				&(struct counter_delta){ LB_C_ICMP_PASS_ECHO_EXT_HDRS, 1 }, 1 });
}

/* The context the encap slot gets for an ICMPv6 error about @vip's flow from
 * CLIENT6:@cport to @vport.
 */
static void forward6_ctx(const struct lb_packet_ctx *in, uint16_t cport, uint16_t vport,
			 uint8_t proto, uint32_t vip_id, uint32_t backend_id,
			 struct lb_packet_ctx *out)
{
	*out = *in;
	memset(&out->flow6, 0, sizeof(out->flow6));
	pkt_ip6(CLIENT6, out->flow6.src);
	pkt_ip6(VIP6_ECHO, out->flow6.dst);
	out->flow6.sport = htons(cport);
	out->flow6.dport = htons(vport);
	out->flow6.proto = proto;
	out->vip_id = vip_id;
	out->pool_id = vip_id * 2;
	out->maglev_table = LB_NO_TABLE;
	out->forwarding = LB_FORWARD_ENCAP;
	out->backend_id = backend_id;
	out->flags |= LB_CTX_F_ICMP_ERROR;
}

static void test_errors6_to_backend(void)
{
	const struct pkt_icmp too_big = { 2, 0, 1400 }, unreach = { 1, 3, 0 }, hops = { 3, 0, 0 },
			      param = { 4, 0, 6 };
	const struct counter_delta sent = { LB_C_ICMP_ERROR_TO_BACKEND, 1 };
	int fd = bpf_program__fd(fx.skel->progs.xdp_lb_icmp);
	static uint8_t frame[PKT_MAX];
	struct lb_packet_ctx ctx, want;
	struct pkt_spec quoted;
	size_t len;
	struct {
		const char *name;
		const struct pkt_icmp *icmp;
		uint16_t vport;
		uint8_t proto;
		uint32_t vip_id, backend_id;
		size_t quote_max;
		int vlan;
	} cases[] = {
		{ "packet too big about a UDP reply, 8 bytes quoted", &too_big, 80, IPPROTO_UDP,
		  VIP6_UDP_ID, B6_UP, 48, 0 },
		{ "packet too big about a TCP reply: the wildcard VIP's flow, draining backend",
		  &too_big, 443, IPPROTO_TCP, VIP6_TCP_ID, B6_TCP, 1232, 0 },
		{ "address unreachable, the whole packet quoted", &unreach, 80, IPPROTO_UDP,
		  VIP6_UDP_ID, B6_UP, 0, 0 },
		{ "time exceeded, behind a VLAN tag", &hops, 80, IPPROTO_UDP, VIP6_UDP_ID, B6_UP,
		  1232, 1 },
		{ "parameter problem", &param, 80, IPPROTO_UDP, VIP6_UDP_ID, B6_UP, 48, 0 },
	};
	size_t i;

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reply6_spec(&quoted, VIP6_ECHO, cases[i].vport, CLIENT_PORT, cases[i].proto);
		len = error6_frame(cases[i].icmp, VIP6_ECHO, &quoted, cases[i].quote_max,
				   cases[i].vlan, frame);
		ctx6_of(frame, len, cases[i].vlan ? 18 : 14, 0, VIP6_UDP_ID, &ctx);
		forward6_ctx(&ctx, CLIENT_PORT, cases[i].vport, cases[i].proto, cases[i].vip_id,
			     cases[i].backend_id, &want);
		run(&(struct icmp_run){ cases[i].name, frame, len, &ctx, fd, EXPECT_ENCAP, NULL, 0,
					&want, &sent, 1 });
	}
}

/* Every ICMPv6 frame the stage leaves to the kernel, and what it drops. */
static void test_errors6_not_forwarded(void)
{
	const struct pkt_icmp too_big = { 2, 0, 1400 }, echo_reply = { 129, 0, 0 };
	int fd = bpf_program__fd(fx.skel->progs.xdp_lb_icmp);
	static uint8_t frame[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec quoted, spec;
	size_t len;
	struct {
		const char *name;
		const struct pkt_icmp *icmp;
		const char *src;   /* the quoted packet's source (VIP6_ECHO) */
		uint16_t vport, cport;
		uint8_t proto;
		int ext;           /* a destination options header in the quote */
		size_t quote_max;
		enum lb_counter counter;
	} cases[] = {
		{ "no flow for the quoted packet", &too_big, VIP6_ECHO, 80, CLIENT_PORT + 9,
		  IPPROTO_UDP, 0, 48, LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "the flow's backend is down", &too_big, VIP6_ECHO, 80, CLIENT_PORT + 1,
		  IPPROTO_UDP, 0, 48, LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "the flow's backend slot now another VIP's", &too_big, VIP6_ECHO, 80,
		  CLIENT_PORT + 2, IPPROTO_UDP, 0, 48, LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "quoted port of no VIP", &too_big, VIP6_ECHO, 81, CLIENT_PORT, IPPROTO_UDP, 0, 48,
		  LB_C_ICMP_PASS_ERROR_NO_VIP },
		{ "quoted source another address", &too_big, CLIENT6, 80, CLIENT_PORT, IPPROTO_UDP,
		  0, 48, LB_C_ICMP_PASS_ERROR_NO_VIP },
		{ "quoted packet ICMPv6", &too_big, VIP6_ECHO, 0, 0, IPPROTO_ICMPV6, 0, 48,
		  LB_C_ICMP_PASS_ERROR_NO_VIP },
		{ "quoted ICMPv6 behind extension headers", &too_big, VIP6_ECHO, 0, 0,
		  IPPROTO_ICMPV6, 1, 0, LB_C_ICMP_PASS_ERROR_NO_VIP },
		{ "quote cut inside the ports", &too_big, VIP6_ECHO, 80, CLIENT_PORT, IPPROTO_UDP,
		  0, 43, LB_C_ICMP_PASS_ERROR_MALFORMED },
		{ "quote cut inside the IPv6 header", &too_big, VIP6_ECHO, 80, CLIENT_PORT,
		  IPPROTO_UDP, 0, 24, LB_C_ICMP_PASS_ERROR_MALFORMED },
		{ "echo reply: another type", &echo_reply, VIP6_ECHO, 80, CLIENT_PORT, IPPROTO_UDP,
		  0, 48, LB_C_ICMP_PASS_OTHER },
	};
	size_t i;

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct counter_delta d = { cases[i].counter, 1 };

		reply6_spec(&quoted, cases[i].src, cases[i].vport, cases[i].cport, cases[i].proto);
		if (cases[i].ext)
			quoted.ext6[quoted.ext6_count++] = (struct pkt_ext6){ 60, 0, 0 };
		len = error6_frame(cases[i].icmp, VIP6_ECHO, &quoted, cases[i].quote_max, 0, frame);
		ctx6_of(frame, len, 14, 0, VIP6_UDP_ID, &ctx);
		run(&(struct icmp_run){ cases[i].name, frame, len, &ctx, fd, EXPECT_PASS, NULL, 0,
					NULL, &d, 1 });
	}

	/* A quote whose version is not 6: patched into a built frame. */
	reply6_spec(&quoted, VIP6_ECHO, 80, CLIENT_PORT, IPPROTO_UDP);
	len = error6_frame(&too_big, VIP6_ECHO, &quoted, 48, 0, frame);
	frame[14 + 40 + 8] = 0x45;
	ctx6_of(frame, len, 14, 0, VIP6_UDP_ID, &ctx);
	run(&(struct icmp_run){ "quoted version 4", frame, len, &ctx, fd, EXPECT_PASS, NULL, 0,
				NULL, &(struct counter_delta){ LB_C_ICMP_PASS_ERROR_MALFORMED, 1 },
				1 });

	/* A fragment: parse flags it, the stage does not read it. */
	echo6_spec(&spec);
	spec.ext6[spec.ext6_count++] = (struct pkt_ext6){ 44, 0, 1 };
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx6_of(frame, len, 14, 8, VIP6_UDP_ID, &ctx);
	ctx.flags |= LB_CTX_F_FRAGMENT;
	run(&(struct icmp_run){ "ICMPv6 echo request in fragments: the kernel reassembles", frame,
				len, &ctx, fd, EXPECT_PASS, NULL, 0, NULL,
				&(struct counter_delta){ LB_C_ICMP_PASS_FRAGMENT, 1 }, 1 });

	/* 4 bytes of ICMPv6: less than the 8 of a header with its second word. */
	echo6_spec(&spec);
	spec.proto = 0xfe; /* built raw, then called ICMPv6 */
	spec.payload_len = 4;
	len = pkt_build(&spec, frame, sizeof(frame));
	frame[14 + 6] = IPPROTO_ICMPV6;
	ctx6_of(frame, len, 14, 0, VIP6_UDP_ID, &ctx);
	run(&(struct icmp_run){ "ICMPv6 header cut short", frame, len, &ctx, fd, EXPECT_PASS,
				NULL, 0, NULL,
				&(struct counter_delta){ LB_C_ICMP_PASS_OTHER, 1 }, 1 });
}

/* Bytes worked out by hand (the sums with a script): ROUTER6 tells VIP6_ECHO
 * "packet too big", MTU 1400, quoting the whole packet the backend sent,
 * 2001:db8::100 -> 2001:db8::1 with hop-by-hop options (next header 60, PadN
 * over 4 bytes), destination options (next header 17, PadN) and UDP 80 ->
 * 40000 with 4 bytes of payload.
 *   quoted UDP checksum: ~(2001+0db8+0100 + 2001+0db8+0001 + 000c + 0011
 *                          + 0050+9c40+000c + 0001+0203) = ~fb30 = 04cf
 *   ICMPv6 checksum over the pseudo-header (ROUTER6, VIP6_ECHO, 76, 58) and
 *   the message: ~15b5 = ea4a
 */
static const uint8_t golden_error6_ext[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x3a, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0xfe,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
	0x02, 0x00, 0xea, 0x4a, 0x00, 0x00, 0x05, 0x78,
	/* the quote: IPv6, next header 0 (hop-by-hop) */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
	0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x11, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x50, 0x9c, 0x40, 0x00, 0x0c, 0x04, 0xcf,
	0x00, 0x01, 0x02, 0x03,
};

static void test_error6_ext_golden(void)
{
	const struct pkt_icmp too_big = { 2, 0, 1400 };
	const struct counter_delta sent = { LB_C_ICMP_ERROR_TO_BACKEND, 1 };
	static uint8_t built[PKT_MAX];
	struct lb_packet_ctx ctx, want;
	struct pkt_spec quoted;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	reply6_spec(&quoted, VIP6_ECHO, 80, CLIENT_PORT, IPPROTO_UDP);
	quoted.payload_len = 4;
	quoted.ext6[quoted.ext6_count++] = (struct pkt_ext6){ 0, 0, 0 };
	quoted.ext6[quoted.ext6_count++] = (struct pkt_ext6){ 60, 0, 0 };
	len = error6_frame(&too_big, VIP6_ECHO, &quoted, 0, 0, built);
	ASSERT_BYTES(built, len, golden_error6_ext, sizeof(golden_error6_ext),
		     "pkt_build vs hand-made error quoting extension headers");
	ctx6_of(golden_error6_ext, sizeof(golden_error6_ext), 14, 0, VIP6_UDP_ID, &ctx);
	forward6_ctx(&ctx, CLIENT_PORT, 80, IPPROTO_UDP, VIP6_UDP_ID, B6_UP, &want);
	run(&(struct icmp_run){ "golden: quote with hop-by-hop and destination options",
				golden_error6_ext, sizeof(golden_error6_ext), &ctx,
				bpf_program__fd(fx.skel->progs.xdp_lb_icmp), EXPECT_ENCAP, NULL, 0,
				&want, &sent, 1 });
}

/* Quotes with extension headers: walked as parse walks a packet's. */
static void test_errors6_quote_ext(void)
{
	const struct pkt_icmp too_big = { 2, 0, 1400 };
	int fd = bpf_program__fd(fx.skel->progs.xdp_lb_icmp);
	static uint8_t frame[PKT_MAX];
	struct lb_packet_ctx ctx, want;
	struct pkt_spec quoted;
	size_t len, i, j;
	enum { HBH = 0, RT = 43, FRAG = 44, AH = 51, DST = 60 };
	struct {
		const char *name;
		struct pkt_ext6 ext[PKT_MAX_EXT6];
		size_t ext_count;
		uint16_t vport;
		uint8_t proto;
		size_t quote_max;
		int vlan;
		enum lb_counter counter; /* LB_C_ICMP_ERROR_TO_BACKEND: forwarded */
	} cases[] = {
		{ "hop-by-hop and destination options", { { HBH, 0, 0 }, { DST, 1, 0 } }, 2, 80,
		  IPPROTO_UDP, 1232, 0, LB_C_ICMP_ERROR_TO_BACKEND },
		{ "first fragment of a TCP reply (M set)", { { FRAG, 0, 1 } }, 1, 443, IPPROTO_TCP,
		  1232, 0, LB_C_ICMP_ERROR_TO_BACKEND },
		{ "first fragment, M clear (a whole packet in one)", { { FRAG, 0, 0 } }, 1, 80,
		  IPPROTO_UDP, 48 + 8, 0, LB_C_ICMP_ERROR_TO_BACKEND },
		{ "routing and destination options behind a VLAN tag",
		  { { RT, 2, 0 }, { DST, 2, 0 } }, 2, 80, IPPROTO_UDP, 1232, 1,
		  LB_C_ICMP_ERROR_TO_BACKEND },
		{ "six headers, the most parse walks",
		  { { HBH, 0, 0 }, { DST, 0, 0 }, { RT, 0, 0 }, { DST, 0, 0 }, { FRAG, 0, 1 },
		    { DST, 0, 0 } }, 6, 80, IPPROTO_UDP, 1232, 0, LB_C_ICMP_ERROR_TO_BACKEND },
		{ "256 bytes of headers, the most parse walks", { { DST, 30, 0 }, { DST, 0, 0 } },
		  2, 80, IPPROTO_UDP, 1232, 0, LB_C_ICMP_ERROR_TO_BACKEND },
		{ "the ports the last 4 bytes of the quote", { { HBH, 0, 0 } }, 1, 80,
		  IPPROTO_UDP, 40 + 8 + 4, 0, LB_C_ICMP_ERROR_TO_BACKEND },
		{ "later fragment: no ports", { { FRAG, 0, 1400 } }, 1, 80, IPPROTO_UDP, 1232, 0,
		  LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "later fragment, the last", { { HBH, 0, 0 }, { FRAG, 0, 1400 | 1 } }, 2, 80,
		  IPPROTO_UDP, 1232, 0, LB_C_ICMP_PASS_ERROR_NO_FLOW },
		{ "chain cut inside destination options", { { HBH, 0, 0 }, { DST, 1, 0 } }, 2, 80,
		  IPPROTO_UDP, 40 + 8 + 10, 0, LB_C_ICMP_PASS_ERROR_MALFORMED },
		{ "chain cut inside the fragment header", { { FRAG, 0, 1 } }, 1, 80, IPPROTO_UDP,
		  40 + 6, 0, LB_C_ICMP_PASS_ERROR_MALFORMED },
		{ "chain cut inside the ports", { { HBH, 0, 0 } }, 1, 80, IPPROTO_UDP,
		  40 + 8 + 3, 0, LB_C_ICMP_PASS_ERROR_MALFORMED },
		{ "hop-by-hop not first", { { DST, 0, 0 }, { HBH, 0, 0 } }, 2, 80, IPPROTO_UDP,
		  1232, 0, LB_C_ICMP_PASS_ERROR_MALFORMED },
		{ "two fragment headers", { { FRAG, 0, 1 }, { FRAG, 0, 1 } }, 2, 80, IPPROTO_UDP,
		  1232, 0, LB_C_ICMP_PASS_ERROR_MALFORMED },
		{ "seven headers: too long a chain",
		  { { HBH, 0, 0 }, { DST, 0, 0 }, { DST, 0, 0 }, { DST, 0, 0 }, { DST, 0, 0 },
		    { DST, 0, 0 }, { DST, 0, 0 } }, 7, 80, IPPROTO_UDP, 1232, 0,
		  LB_C_ICMP_PASS_ERROR_EXT_HDRS },
		{ "264 bytes of headers: too long a chain", { { DST, 32, 0 } }, 1, 80,
		  IPPROTO_UDP, 1232, 0, LB_C_ICMP_PASS_ERROR_EXT_HDRS },
		{ "256 bytes of headers, then a fragment header: too long a chain",
		  { { DST, 30, 0 }, { DST, 0, 0 }, { FRAG, 0, 1 } }, 3, 80, IPPROTO_UDP, 1232, 0,
		  LB_C_ICMP_PASS_ERROR_EXT_HDRS },
		{ "authentication header: not walked", { { HBH, 0, 0 }, { AH, 2, 0 } }, 2, 80,
		  IPPROTO_UDP, 1232, 0, LB_C_ICMP_PASS_ERROR_EXT_HDRS },
		{ "behind the headers a port of no VIP", { { HBH, 0, 0 } }, 1, 81, IPPROTO_UDP,
		  1232, 0, LB_C_ICMP_PASS_ERROR_NO_VIP },
	};

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct counter_delta d = { cases[i].counter, 1 };
		bool sent = cases[i].counter == LB_C_ICMP_ERROR_TO_BACKEND;
		bool tcp = cases[i].proto == IPPROTO_TCP;

		reply6_spec(&quoted, VIP6_ECHO, cases[i].vport, CLIENT_PORT, cases[i].proto);
		for (j = 0; j < cases[i].ext_count; j++)
			quoted.ext6[quoted.ext6_count++] = cases[i].ext[j];
		len = error6_frame(&too_big, VIP6_ECHO, &quoted, cases[i].quote_max, cases[i].vlan,
				   frame);
		ctx6_of(frame, len, cases[i].vlan ? 18 : 14, 0, VIP6_UDP_ID, &ctx);
		forward6_ctx(&ctx, CLIENT_PORT, cases[i].vport, cases[i].proto,
			     tcp ? VIP6_TCP_ID : VIP6_UDP_ID, tcp ? B6_TCP : B6_UP, &want);
		run(&(struct icmp_run){ cases[i].name, frame, len, &ctx, fd,
					sent ? EXPECT_ENCAP : EXPECT_PASS, NULL, 0,
					sent ? &want : NULL, &d, 1 });
	}
}

/* Contexts that do not describe the ICMPv6 frame: dropped as it came. */
static void test_bad_ctx6(void)
{
	const struct counter_delta bad = { LB_C_ICMP_DROP_BAD_CTX, 1 };
	int fd = bpf_program__fd(fx.skel->progs.xdp_lb_icmp);
	static uint8_t frame[PKT_MAX], frame4[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec spec;
	size_t len, len4;

	REQUIRE_FIXTURE(&fx.status);
	echo6_spec(&spec);
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx6_of(frame, len, 14, 0, VIP6_UDP_ID, &ctx);
	ctx.frame_len -= 1;
	run(&(struct icmp_run){ "IPv6 context of a shorter frame", frame, len, &ctx, fd,
				EXPECT_DROP, NULL, 0, NULL, &bad, 1 });
	ctx6_of(frame, len, 14, 0, VIP6_UDP_ID, &ctx);
	ctx.flow6.proto = IPPROTO_UDP;
	run(&(struct icmp_run){ "IPv6 context of a UDP packet", frame, len, &ctx, fd, EXPECT_DROP,
				NULL, 0, NULL, &bad, 1 });

	/* An IPv6 context on an IPv4 echo request of the same length. */
	echo_spec(&spec);
	spec.payload_len = 52;
	len4 = pkt_build(&spec, frame4, sizeof(frame4));
	ctx6_of(frame, len, 14, 0, VIP6_UDP_ID, &ctx);
	if (ASSERT_EQ(len4, len, "IPv4 frame as long as the IPv6 one"))
		run(&(struct icmp_run){ "IPv6 context on an IPv4 frame", frame4, len4, &ctx, fd,
					EXPECT_DROP, NULL, 0, NULL, &bad, 1 });
}

static const struct test_case cases[] = {
	TEST_CASE(test_echo_golden),
	TEST_CASE(test_echo),
	TEST_CASE(test_errors_to_backend),
	TEST_CASE(test_errors_not_forwarded),
	TEST_CASE(test_other_frames),
	TEST_CASE(test_empty_encap_slot),
	TEST_CASE(test_echo6_golden),
	TEST_CASE(test_echo6),
	TEST_CASE(test_errors6_to_backend),
	TEST_CASE(test_errors6_not_forwarded),
	TEST_CASE(test_error6_ext_golden),
	TEST_CASE(test_errors6_quote_ext),
	TEST_CASE(test_bad_ctx6),
};

int main(int argc, char **argv)
{
	int status;

	if (geteuid() == 0)
		fixture_setup();
	status = test_main("icmp", cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	fixture_teardown();
	return status;
}
