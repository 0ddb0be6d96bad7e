// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the NAT stage: both directions byte-exact, checksums, ports, state, counters.
 *
 * The network namespace and backends are the encap tests' (encap_fixture.h);
 * the client 10.0.0.1 gets a permanent neighbour on lbt0 so replies can be
 * sent to it. Expected frames are the input with the four NAT fields replaced
 * and every checksum computed again from scratch (RFC 791, 768, 793), never
 * from the stage's incremental update; the input frames carry valid checksums.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "encap_fixture.h"
#include "flow_hash_common.h"
#include "nat.skel.h"
#include "packet.h"
#include "test_harness.h"
#include "xdp_test_run.h"

#define VIP "10.0.0.100" /* pkt_spec_udp()'s destination */
#define VIP_PORT 80
#define CLIENT_PORT 1234
#define NAT_SOURCE LB_ADDR

static const uint8_t client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static struct encap_fixture fx;
static struct nat_bpf *skel;
static int nat_reply_fd, nat_forward_fd;

static int load_nat(void)
{
	skel = nat_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->lb_tunables.nexthop_cache_ns = 0;
	skel->rodata->lb_tunables.ingress_mtu = LBT0_MTU;
	skel->rodata->lb_tunables.nat_src_addr = pkt_ip(NAT_SOURCE);
	return nat_bpf__load(skel);
}

static int add_client_neighbour(void)
{
	return system("ip neigh replace " CLIENT " lladdr 02:00:00:00:00:01 dev lbt0 "
		      "nud permanent >/dev/null 2>&1") ? -EIO : 0;
}

static void fixture_setup(void)
{
	if (geteuid() != 0 || encap_net_setup(&fx))
		return;
	if (fixture_step(&fx.status, load_nat(), "open and load nat_bpf") ||
	    fixture_step(&fx.status, encap_maps_setup(&fx, skel->obj), "fill backends") ||
	    fixture_step(&fx.status, add_client_neighbour(), "client neighbour"))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel->progs.xdp_lb_nat);
	nat_reply_fd = bpf_map__fd(skel->maps.nat_reply);
	nat_forward_fd = bpf_map__fd(skel->maps.nat_forward);
}

static void fixture_teardown(void)
{
	nat_bpf__destroy(skel);
}

/* The client's frame: @proto from CLIENT:@sport to VIP:80 (valid checksums). */
static size_t client_frame(uint8_t proto, uint16_t sport, uint8_t *frame)
{
	struct pkt_spec spec;

	pkt_spec_udp(&spec);
	spec.proto = proto;
	spec.sport = sport;
	memcpy(spec.dst_mac, lbt0_mac, 6);
	memcpy(spec.src_mac, client_mac, 6);
	return pkt_build(&spec, frame, PKT_MAX);
}

/* The backend's reply: @proto from @backend:80 to NAT_SOURCE:@nat_port. */
static size_t reply_frame(uint8_t proto, const char *backend, uint16_t nat_port,
			  uint8_t *frame)
{
	struct pkt_spec spec;

	pkt_spec_udp(&spec);
	spec.proto = proto;
	spec.src = pkt_ip(backend);
	spec.dst = pkt_ip(NAT_SOURCE);
	spec.sport = VIP_PORT;
	spec.dport = nat_port;
	memcpy(spec.dst_mac, lbt0_mac, 6);
	memcpy(spec.src_mac, neigh_mac, 6);
	return pkt_build(&spec, frame, PKT_MAX);
}

/* Offset of the L4 checksum in a frame without tag or IP options. */
static size_t l4_check_offset(uint8_t proto)
{
	return 14 + 20 + (proto == IPPROTO_TCP ? 16 : 6);
}

/* How the TTL of a translated frame changes (docs/nat.md): one off when the
 * stage sends it itself, none when it hands it to the kernel, which forwards
 * it and takes the one off there.
 */
enum ttl_rule {
	TTL_KEPT,
	TTL_ONE_OFF,
};

/* Writes the NAT fields into @frame, whose IPv4 header (no options) is at
 * @l3, the TTL by @ttl and every checksum from scratch: what a correct NAT
 * leaves. A UDP checksum of 0 stays 0.
 */
static void expected_frame_at(uint8_t *frame, size_t l3, const uint8_t *dmac,
			      const uint8_t *smac, uint32_t saddr, uint32_t daddr, uint16_t sport,
			      uint16_t dport, enum ttl_rule ttl)
{
	uint8_t *ip = frame + l3, *l4 = ip + 20;
	uint8_t proto = ip[9];
	uint16_t l4_len = pkt_get16(ip + 2) - 20, check;
	size_t check_at = l4_check_offset(proto) - 14 + l3;
	int udp_none = proto == IPPROTO_UDP && !frame[check_at] && !frame[check_at + 1];

	memcpy(frame, dmac, 6);
	memcpy(frame + 6, smac, 6);
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	if (ttl == TTL_ONE_OFF)
		ip[8]--;
	pkt_ipv4_csum_fix(ip);
	pkt_put16(l4, sport);
	pkt_put16(l4 + 2, dport);
	if (udp_none)
		return;
	frame[check_at] = frame[check_at + 1] = 0;
	check = pkt_l4_csum(saddr, daddr, proto, l4, l4_len);
	if (proto == IPPROTO_UDP && !check)
		check = 0xffff;
	memcpy(frame + check_at, &check, 2);
}

/* expected_frame_at() for a frame without a tag. */
static void expected_frame(uint8_t *frame, size_t len, const uint8_t *dmac, const uint8_t *smac,
			   uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
			   enum ttl_rule ttl)
{
	(void)len;
	expected_frame_at(frame, 14, dmac, smac, saddr, daddr, sport, dport, ttl);
}

/* "@name: @item" for an assertion message; valid until the next call. */
static const char *what_case(const char *name, const char *item)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "%s: %s", name, item);
	return buf;
}

/* The flow key parse writes for @frame (a whole packet). */
static void write_ctx(const uint8_t *frame, size_t len, uint32_t backend_id, uint32_t flags)
{
	struct lb_packet_ctx ctx;

	encap_ctx_from_frame(backend_id, 14, frame, len, &ctx);
	ctx.flags |= flags;
	ctx.forwarding = LB_FORWARD_NAT;
	ctx_write_all_cpus(fx.ctx_fd, &ctx);
}

/* Runs @in; checks verdict, output bytes (@expected, or the input when NULL)
 * and that exactly @counter moved by one.
 */
static void run_expect(const uint8_t *in, size_t len, uint32_t verdict, const uint8_t *expected,
		       enum lb_counter counter, const char *what)
{
	encap_run_expect(&fx, fx.stage.prog_fd, in, len, verdict, expected, counter, what);
}

/* The @i-th port the stage tries for the client flow @proto CLIENT:@sport -> VIP:80. */
static uint16_t candidate_port(uint8_t proto, uint16_t sport, uint32_t i)
{
	struct lb_flow_key key = {
		.src = pkt_ip(CLIENT),
		.dst = pkt_ip(VIP),
		.sport = htons(sport),
		.dport = htons(VIP_PORT),
		.proto = proto,
	};

	return (uint16_t)(LB_NAT_PORT_MIN +
			  (lb_flow_hash(&key) + i * 2654435761U) % LB_NAT_PORT_COUNT);
}

static struct lb_flow_key reply_key(uint8_t proto, const char *backend, uint16_t nat_port)
{
	struct lb_flow_key key = {
		.src = pkt_ip(backend),
		.dst = pkt_ip(NAT_SOURCE),
		.sport = htons(VIP_PORT),
		.dport = htons(nat_port),
		.proto = proto,
	};

	return key;
}

/* Forward, then the backend's reply, for one protocol: both frames byte-exact,
 * the port from the first candidate, kept by the flow's next packet.
 */
static void nat_round_trip(uint8_t proto, uint16_t sport)
{
	uint8_t in[PKT_MAX], want[PKT_MAX];
	uint16_t port = candidate_port(proto, sport, 0);
	struct lb_flow_key key = reply_key(proto, NEIGH_ADDR, port);
	struct lb_nat_reply entry;
	size_t len;

	len = client_frame(proto, sport, in);
	memcpy(want, in, len);
	expected_frame(want, len, neigh_mac, lbt0_mac, pkt_ip(NAT_SOURCE), pkt_ip(NEIGH_ADDR),
		       port, VIP_PORT, TTL_ONE_OFF);
	write_ctx(in, len, B_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "forward: to the backend");
	if (!ASSERT_OK(bpf_map_lookup_elem(nat_reply_fd, &key, &entry), "reply state stored"))
		return;
	ASSERT_EQ(entry.client_addr, pkt_ip(CLIENT), "state: client address");
	ASSERT_EQ(entry.client_port, htons(sport), "state: client port");
	ASSERT_EQ(entry.vip_addr, pkt_ip(VIP), "state: VIP address");
	ASSERT_EQ(entry.vip_port, htons(VIP_PORT), "state: VIP port");
	write_ctx(in, len, B_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "forward again: the same port");

	len = reply_frame(proto, NEIGH_ADDR, port, in);
	memcpy(want, in, len);
	expected_frame(want, len, client_mac, lbt0_mac, pkt_ip(VIP), pkt_ip(CLIENT), VIP_PORT,
		       sport, TTL_ONE_OFF);
	write_ctx(in, len, LB_NO_BACKEND, LB_CTX_F_NAT_REPLY);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "reply: back to the client");
}

static void test_tcp_round_trip(void)
{
	REQUIRE_FIXTURE(&fx.status);
	nat_round_trip(IPPROTO_TCP, 40001);
}

static void test_udp_round_trip(void)
{
	REQUIRE_FIXTURE(&fx.status);
	nat_round_trip(IPPROTO_UDP, 40002);
}

/* A UDP checksum of 0 (none) is not made up by NAT. */
static void test_udp_without_checksum(void)
{
	uint8_t in[PKT_MAX], want[PKT_MAX];
	uint16_t sport = 40003, port = candidate_port(IPPROTO_UDP, sport, 0);
	size_t len, at = l4_check_offset(IPPROTO_UDP);

	REQUIRE_FIXTURE(&fx.status);
	len = client_frame(IPPROTO_UDP, sport, in);
	in[at] = in[at + 1] = 0;
	memcpy(want, in, len);
	expected_frame(want, len, neigh_mac, lbt0_mac, pkt_ip(NAT_SOURCE), pkt_ip(NEIGH_ADDR),
		       port, VIP_PORT, TTL_ONE_OFF);
	ASSERT_TRUE(!want[at] && !want[at + 1], "expected checksum stays 0");
	write_ctx(in, len, B_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "UDP checksum 0");
}

/* A taken port is skipped; an expired UDP mapping is taken over, a TCP one
 * (expires by LRU only) is not; every candidate taken: dropped, unchanged.
 */
static void test_port_collisions(void)
{
	struct lb_nat_reply other = {
		.client_addr = pkt_ip("10.0.0.77"), .client_port = htons(999),
		.vip_addr = pkt_ip(VIP), .vip_port = htons(VIP_PORT),
	};
	uint8_t in[PKT_MAX], want[PKT_MAX];
	struct lb_flow_key key;
	struct lb_nat_reply got;
	uint16_t sport;
	size_t len;
	uint32_t i;

	REQUIRE_FIXTURE(&fx.status);
	/* Live (last seen now-ish: far in the future never expires). */
	other.last_seen_ns = ~0ULL >> 1;
	sport = 40010;
	key = reply_key(IPPROTO_TCP, NEIGH_ADDR, candidate_port(IPPROTO_TCP, sport, 0));
	ASSERT_OK(bpf_map_update_elem(nat_reply_fd, &key, &other, BPF_ANY), "occupy port 0");
	len = client_frame(IPPROTO_TCP, sport, in);
	memcpy(want, in, len);
	expected_frame(want, len, neigh_mac, lbt0_mac, pkt_ip(NAT_SOURCE), pkt_ip(NEIGH_ADDR),
		       candidate_port(IPPROTO_TCP, sport, 1), VIP_PORT, TTL_ONE_OFF);
	write_ctx(in, len, B_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "taken port skipped");
	ASSERT_OK(bpf_map_lookup_elem(nat_reply_fd, &key, &got), "other mapping kept");
	ASSERT_EQ(got.client_addr, other.client_addr, "other mapping untouched");

	/* Idle since boot: expired for UDP, not for TCP. */
	other.last_seen_ns = 1;
	sport = 40011;
	key = reply_key(IPPROTO_UDP, NEIGH_ADDR, candidate_port(IPPROTO_UDP, sport, 0));
	ASSERT_OK(bpf_map_update_elem(nat_reply_fd, &key, &other, BPF_ANY), "stale UDP port");
	len = client_frame(IPPROTO_UDP, sport, in);
	memcpy(want, in, len);
	expected_frame(want, len, neigh_mac, lbt0_mac, pkt_ip(NAT_SOURCE), pkt_ip(NEIGH_ADDR),
		       candidate_port(IPPROTO_UDP, sport, 0), VIP_PORT, TTL_ONE_OFF);
	write_ctx(in, len, B_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "expired UDP port taken over");
	ASSERT_OK(bpf_map_lookup_elem(nat_reply_fd, &key, &got), "taken-over mapping");
	ASSERT_EQ(got.client_port, htons(sport), "taken-over mapping names the new client");

	sport = 40012;
	key = reply_key(IPPROTO_TCP, NEIGH_ADDR, candidate_port(IPPROTO_TCP, sport, 0));
	ASSERT_OK(bpf_map_update_elem(nat_reply_fd, &key, &other, BPF_ANY), "idle TCP port");
	len = client_frame(IPPROTO_TCP, sport, in);
	memcpy(want, in, len);
	expected_frame(want, len, neigh_mac, lbt0_mac, pkt_ip(NAT_SOURCE), pkt_ip(NEIGH_ADDR),
		       candidate_port(IPPROTO_TCP, sport, 1), VIP_PORT, TTL_ONE_OFF);
	write_ctx(in, len, B_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "idle TCP port not taken over");

	other.last_seen_ns = ~0ULL >> 1;
	sport = 40013;
	for (i = 0; i < LB_NAT_PORT_TRIES; i++) {
		key = reply_key(IPPROTO_TCP, NEIGH_ADDR, candidate_port(IPPROTO_TCP, sport, i));
		ASSERT_OK(bpf_map_update_elem(nat_reply_fd, &key, &other, BPF_ANY),
			  "occupy every candidate");
	}
	len = client_frame(IPPROTO_TCP, sport, in);
	write_ctx(in, len, B_NEIGH, 0);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_NO_PORT, "no port free: dropped");
}

/* Frames NAT cannot or must not translate leave as they came. */
static void test_untranslatable(void)
{
	uint8_t in[PKT_MAX];
	struct pkt_spec spec;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	pkt_spec_udp(&spec);
	spec.frag_off = 0x2000;
	memcpy(spec.dst_mac, lbt0_mac, 6);
	len = pkt_build(&spec, in, PKT_MAX);
	write_ctx(in, len, B_NEIGH, LB_CTX_F_FRAGMENT);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_FRAGMENT, "fragment dropped");

	len = reply_frame(IPPROTO_TCP, NEIGH_ADDR, 16000, in);
	write_ctx(in, len, LB_NO_BACKEND, LB_CTX_F_NAT_REPLY);
	run_expect(in, len, XDP_PASS, NULL, LB_C_NAT_PASS_NO_STATE, "reply without state");

	len = client_frame(IPPROTO_TCP, 40020, in);
	write_ctx(in, len, B_NO_ROUTE, 0);
	run_expect(in, len, XDP_DROP, NULL, LB_C_ENCAP_DROP_NO_ROUTE, "no route to backend");
}

/* Sets the TTL of @frame (no tag) and its IPv4 header checksum, from scratch. */
static void frame_set_ttl(uint8_t *frame, uint8_t ttl)
{
	uint8_t *ip = frame + 14;
	uint16_t check;

	ip[8] = ttl;
	ip[10] = ip[11] = 0;
	check = pkt_csum(ip, 20);
	memcpy(ip + 10, &check, 2);
}

/* Whether a mapping holds @port for backend @backend_addr. */
static bool port_taken(uint8_t proto, const char *backend, uint16_t port)
{
	struct lb_flow_key key = reply_key(proto, backend, port);
	struct lb_nat_reply entry;

	return !bpf_map_lookup_elem(nat_reply_fd, &key, &entry);
}

struct ttl_case {
	const char *name;
	int reply;           /* the backend's reply to a mapping; else the client's packet */
	int no_state;        /* reply: to a port no mapping holds */
	uint32_t backend_id; /* client's packet: the backend lb chose */
	uint8_t ttl;         /* on arrival */
	uint32_t verdict;
	enum lb_counter counter;
	enum ttl_rule rule;  /* sent (XDP_TX) or handed to the kernel (XDP_PASS, translated) */
};

/* A NAT balancer is a router hop (docs/nat.md): TTL 0 and 1 are dropped before
 * anything else is decided and no mapping is made for them; a frame the stage
 * sends leaves with its TTL one lower, one it hands to the kernel keeps it.
 * Every output is compared with a frame whose checksums are computed from
 * scratch. Each client case is a flow of its own, so its port is the flow's
 * first candidate.
 */
static void test_ttl(void)
{
	static const struct ttl_case cases[] = {
		{ "client, TTL 64: sent with 63", 0, 0, B_NEIGH, 64, XDP_TX, LB_C_ENCAP_TX,
		  TTL_ONE_OFF },
		{ "client, TTL 2: sent with 1", 0, 0, B_NEIGH, 2, XDP_TX, LB_C_ENCAP_TX,
		  TTL_ONE_OFF },
		{ "client, TTL 255: sent with 254", 0, 0, B_NEIGH, 255, XDP_TX, LB_C_ENCAP_TX,
		  TTL_ONE_OFF },
		{ "client, TTL 1: dropped", 0, 0, B_NEIGH, 1, XDP_DROP,
		  LB_C_NAT_DROP_TTL_EXCEEDED, TTL_KEPT },
		{ "client, TTL 0: dropped", 0, 0, B_NEIGH, 0, XDP_DROP,
		  LB_C_NAT_DROP_TTL_EXCEEDED, TTL_KEPT },
		{ "client, no neighbour, TTL 64: to the kernel with 64", 0, 0, B_NO_NEIGH, 64,
		  XDP_PASS, LB_C_ENCAP_PASS_NO_NEIGH, TTL_KEPT },
		{ "client, no neighbour, TTL 1: dropped, not handed to the kernel", 0, 0,
		  B_NO_NEIGH, 1, XDP_DROP, LB_C_NAT_DROP_TTL_EXCEEDED, TTL_KEPT },
		{ "client, no route, TTL 1: the TTL is judged first", 0, 0, B_NO_ROUTE, 1,
		  XDP_DROP, LB_C_NAT_DROP_TTL_EXCEEDED, TTL_KEPT },
		{ "reply, TTL 64: sent with 63", 1, 0, 0, 64, XDP_TX, LB_C_ENCAP_TX, TTL_ONE_OFF },
		{ "reply, TTL 2: sent with 1", 1, 0, 0, 2, XDP_TX, LB_C_ENCAP_TX, TTL_ONE_OFF },
		{ "reply, TTL 1: dropped", 1, 0, 0, 1, XDP_DROP, LB_C_NAT_DROP_TTL_EXCEEDED,
		  TTL_KEPT },
		{ "reply, TTL 0: dropped", 1, 0, 0, 0, XDP_DROP, LB_C_NAT_DROP_TTL_EXCEEDED,
		  TTL_KEPT },
		{ "reply without a mapping, TTL 1: not ours, to the stack", 1, 1, 0, 1, XDP_PASS,
		  LB_C_NAT_PASS_NO_STATE, TTL_KEPT },
	};
	const uint16_t mapped_sport = 40100;
	uint16_t mapped_port = candidate_port(IPPROTO_TCP, mapped_sport, 0);
	uint8_t in[PKT_MAX], want[PKT_MAX];
	size_t i, len;

	REQUIRE_FIXTURE(&fx.status);
	/* The mapping the replies answer. */
	len = client_frame(IPPROTO_TCP, mapped_sport, in);
	memcpy(want, in, len);
	expected_frame(want, len, neigh_mac, lbt0_mac, pkt_ip(NAT_SOURCE), pkt_ip(NEIGH_ADDR),
		       mapped_port, VIP_PORT, TTL_ONE_OFF);
	write_ctx(in, len, B_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "mapping for the replies");

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ttl_case *c = &cases[i];
		uint16_t sport = (uint16_t)(40101 + i);
		const char *backend = c->backend_id == B_NO_NEIGH ? NO_NEIGH_ADDR :
				      c->backend_id == B_NO_ROUTE ? NO_ROUTE_ADDR :
								    NEIGH_ADDR;
		uint16_t port = c->no_state ? 16001 : mapped_port;

		if (c->reply) {
			len = reply_frame(IPPROTO_TCP, NEIGH_ADDR, port, in);
			frame_set_ttl(in, c->ttl);
			memcpy(want, in, len);
			expected_frame(want, len, client_mac, lbt0_mac, pkt_ip(VIP),
				       pkt_ip(CLIENT), VIP_PORT, mapped_sport, c->rule);
			write_ctx(in, len, LB_NO_BACKEND, LB_CTX_F_NAT_REPLY);
		} else {
			port = candidate_port(IPPROTO_TCP, sport, 0);
			len = client_frame(IPPROTO_TCP, sport, in);
			frame_set_ttl(in, c->ttl);
			memcpy(want, in, len);
			/* Handed to the kernel: its own Ethernet header, to this host. */
			expected_frame(want, len, c->verdict == XDP_PASS ? lbt0_mac : neigh_mac,
				       c->verdict == XDP_PASS ? client_mac : lbt0_mac,
				       pkt_ip(NAT_SOURCE), pkt_ip(backend), port, VIP_PORT,
				       c->rule);
			write_ctx(in, len, c->backend_id, 0);
		}
		run_expect(in, len, c->verdict,
			   c->verdict == XDP_DROP || c->counter == LB_C_NAT_PASS_NO_STATE ? NULL
											   : want,
			   c->counter, c->name);
		if (!c->reply && c->verdict == XDP_DROP)
			ASSERT_TRUE(!port_taken(IPPROTO_TCP, backend, port),
				    what_case(c->name, "no mapping made"));
	}
}

/* Every arriving TTL from 2 to 255, both directions: the incremental checksum
 * update of the TTL (and the addresses and ports with it) against one
 * computed from scratch.
 */
static void test_ttl_every_value(void)
{
	const uint16_t sport = 40200;
	uint16_t port = candidate_port(IPPROTO_UDP, sport, 0);
	uint8_t in[PKT_MAX], want[PKT_MAX];
	char label[64];
	size_t len;
	int ttl;

	REQUIRE_FIXTURE(&fx.status);
	for (ttl = 2; ttl <= 255; ttl++) {
		snprintf(label, sizeof(label), "forward, TTL %d", ttl);
		len = client_frame(IPPROTO_UDP, sport, in);
		frame_set_ttl(in, (uint8_t)ttl);
		memcpy(want, in, len);
		expected_frame(want, len, neigh_mac, lbt0_mac, pkt_ip(NAT_SOURCE),
			       pkt_ip(NEIGH_ADDR), port, VIP_PORT, TTL_ONE_OFF);
		write_ctx(in, len, B_NEIGH, 0);
		run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, label);

		snprintf(label, sizeof(label), "reply, TTL %d", ttl);
		len = reply_frame(IPPROTO_UDP, NEIGH_ADDR, port, in);
		frame_set_ttl(in, (uint8_t)ttl);
		memcpy(want, in, len);
		expected_frame(want, len, client_mac, lbt0_mac, pkt_ip(VIP), pkt_ip(CLIENT),
			       VIP_PORT, sport, TTL_ONE_OFF);
		write_ctx(in, len, LB_NO_BACKEND, LB_CTX_F_NAT_REPLY);
		run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, label);
	}
}

/* The client's frame behind one 802.1Q tag (IPv4 at 18). */
static size_t client_frame_tagged(uint8_t proto, uint16_t sport, uint8_t *frame)
{
	struct pkt_spec spec;

	pkt_spec_udp(&spec);
	spec.proto = proto;
	spec.sport = sport;
	spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, 100 };
	memcpy(spec.dst_mac, lbt0_mac, 6);
	memcpy(spec.src_mac, client_mac, 6);
	return pkt_build(&spec, frame, PKT_MAX);
}

/* A tagged frame is translated at the offsets parse recorded (18 and 38):
 * the tag kept, the same bytes as untagged behind it.
 */
static void test_vlan_tagged(void)
{
	uint8_t in[PKT_MAX], want[PKT_MAX];
	uint16_t sport = 40300, port = candidate_port(IPPROTO_TCP, sport, 0);
	struct lb_packet_ctx ctx;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	len = client_frame_tagged(IPPROTO_TCP, sport, in);
	memcpy(want, in, len);
	expected_frame_at(want, 18, neigh_mac, lbt0_mac, pkt_ip(NAT_SOURCE), pkt_ip(NEIGH_ADDR),
			  port, VIP_PORT, TTL_ONE_OFF);
	encap_ctx_from_frame(B_NEIGH, 18, in, len, &ctx);
	ctx.forwarding = LB_FORWARD_NAT;
	ASSERT_EQ(ctx.l4_offset, 38, "context: L4 behind the tag");
	ctx_write_all_cpus(fx.ctx_fd, &ctx);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "tagged TCP: translated behind the tag");
}

/* A context that does not describe the frame: dropped as drop_bad_ctx, the
 * frame as it came, no mapping made (stage.bpf.h: what a stage never trusts).
 */
struct nat_bad_ctx_case {
	const char *name;
	int tagged;          /* the frame has one 802.1Q tag */
	int l3_offset;       /* the context's, 0: the frame's */
	int l4_offset;       /* the context's, 0: as parse writes it */
	int frame_len_delta; /* added to the context's frame_len */
	int tot_len_delta;   /* added to the context's ip_tot_len */
	int fit;             /* ip_tot_len: the frame's bytes from l3_offset on */
};

static void test_bad_context(void)
{
	static const struct nat_bad_ctx_case cases[] = {
		{ "l4_offset past data_end", 0, 0, 0xffff, 0, 0, 0 },
		{ "l4_offset just past the largest parse writes", 0, 0, 14 + 20 + 61, 0, 0, 0 },
		{ "l4_offset inside the IPv4 header", 0, 0, 14 + 12, 0, 0, 0 },
		{ "TCP header beyond ip_tot_len (the ports inside)", 0, 0, 0, 0, -42, 0 },
		{ "l3_offset past data_end", 0, 0xfff0, 0, 0, 0, 0 },
		{ "context of a longer frame", 0, 0, 0, 4, 0, 0 },
		{ "tagged frame, an untagged parse's offsets", 1, 14, 34, 0, 0, 1 },
		{ "untagged frame, a tagged parse's offsets", 0, 18, 38, 0, 0, 1 },
	};
	uint8_t in[PKT_MAX];
	struct lb_packet_ctx ctx;
	uint16_t sport;
	size_t i, len;

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct nat_bad_ctx_case *c = &cases[i];
		uint16_t l3 = c->l3_offset ? (uint16_t)c->l3_offset : c->tagged ? 18 : 14;

		sport = (uint16_t)(40310 + i);
		len = c->tagged ? client_frame_tagged(IPPROTO_TCP, sport, in) :
				  client_frame(IPPROTO_TCP, sport, in);
		encap_ctx_from_frame(B_NEIGH, l3, in, len, &ctx);
		/* What parse would have written for the frame's real layout. */
		if (c->l3_offset >= 0xff00) {
			ctx.ip_tot_len = (uint16_t)(len - 14);
			ctx.l4_offset = 34;
		}
		if (c->l4_offset)
			ctx.l4_offset = (uint16_t)c->l4_offset;
		ctx.frame_len += (uint32_t)c->frame_len_delta;
		ctx.ip_tot_len = (uint16_t)(ctx.ip_tot_len + c->tot_len_delta);
		if (c->fit)
			ctx.ip_tot_len = (uint16_t)(len - l3);
		ctx.forwarding = LB_FORWARD_NAT;
		ctx_write_all_cpus(fx.ctx_fd, &ctx);
		run_expect(in, len, XDP_DROP, NULL, LB_C_ENCAP_DROP_BAD_CTX, c->name);
		ASSERT_TRUE(!port_taken(IPPROTO_TCP, NEIGH_ADDR, candidate_port(IPPROTO_TCP, sport, 0)),
			    what_case(c->name, "no mapping made"));
	}
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_CASE(test_tcp_round_trip),
		TEST_CASE(test_udp_round_trip),
		TEST_CASE(test_udp_without_checksum),
		TEST_CASE(test_port_collisions),
		TEST_CASE(test_untranslatable),
		TEST_CASE(test_ttl),
		TEST_CASE(test_ttl_every_value),
		TEST_CASE(test_vlan_tagged),
		TEST_CASE(test_bad_context),
	};
	int status;

	fixture_setup();
	status = test_main("nat", cases, ARRAY_SIZE(cases), argc, argv);
	fixture_teardown();
	return status;
}
