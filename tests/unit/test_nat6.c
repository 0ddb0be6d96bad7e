// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the NAT stage with IPv6 VIPs: both directions byte-exact,
 * the L4 checksum, the hop limit, ports, state in nat_reply6, counters.
 *
 * The encap tests' namespace (encap_fixture.h) with its IPv6 routes,
 * neighbours and backends; the client CLIENT6 gets a permanent neighbour on
 * lbt0 so replies can be sent to it. Expected frames are the input with the
 * four NAT fields replaced, the hop limit one lower and the TCP or UDP
 * checksum computed again from scratch over IPv6's pseudo-header (RFC 8200
 * 8.1), never from the stage's incremental update; one golden pair is spelt
 * out byte by byte, its checksums worked out apart from the test library.
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

#define VIP6 "2001:db8::100" /* pkt_spec_udp6()'s destination */
#define CLIENT6 "2001:db8:0:1::c1"
#define NAT_SOURCE6 LB6_ADDR
#define VIP_PORT 80

static const uint8_t client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static struct encap_fixture fx;
static struct nat_bpf *skel;
static struct nat_bpf *skel_no_source; /* loaded without nat_source6 */
static int nat_reply6_fd, nat_forward6_fd;

static int load_nat(struct nat_bpf **out, bool source6)
{
	int err;

	*out = nat_bpf__open();
	if (!*out)
		return -errno;
	(*out)->rodata->lb_tunables.nexthop_cache_ns = 0;
	(*out)->rodata->lb_tunables.ingress_mtu = LBT0_MTU;
	(*out)->rodata->lb_tunables.nat_src_addr = pkt_ip(LB_ADDR);
	if (source6)
		pkt_ip6(NAT_SOURCE6, (uint8_t *)(*out)->rodata->lb_tunables.nat_src_addr6);
	err = *out != skel ? encap_share_maps((*out)->obj, skel->obj) : 0;
	return err ? err : nat_bpf__load(*out);
}

static int add_client_neighbour(void)
{
	return system("ip -6 neigh replace " CLIENT6 " lladdr 02:00:00:00:00:01 dev lbt0 "
		      "nud permanent >/dev/null 2>&1") ? -EIO : 0;
}

static void fixture_setup(void)
{
	if (geteuid() != 0 || encap_net_setup(&fx))
		return;
	if (fixture_step(&fx.status, load_nat(&skel, true), "open and load nat_bpf") ||
	    fixture_step(&fx.status, load_nat(&skel_no_source, false),
			 "load nat_bpf without nat_source6") ||
	    fixture_step(&fx.status, encap_maps_setup(&fx, skel->obj), "fill backends") ||
	    fixture_step(&fx.status, encap_backends6_setup(&fx), "fill IPv6 backends") ||
	    fixture_step(&fx.status, add_client_neighbour(), "client neighbour"))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel->progs.xdp_lb_nat);
	nat_reply6_fd = bpf_map__fd(skel->maps.nat_reply6);
	nat_forward6_fd = bpf_map__fd(skel->maps.nat_forward6);
}

static void fixture_teardown(void)
{
	nat_bpf__destroy(skel_no_source);
	nat_bpf__destroy(skel);
}

/* A frame of @proto from @src:@sport to @dst:@dport, MACs @smac -> lbt0,
 * hop limit 64, checksums right; its layout into @lay.
 */
static size_t frame6(uint8_t proto, const char *src, uint16_t sport, const char *dst,
		     uint16_t dport, const uint8_t *smac, uint8_t *frame, struct pkt_layout *lay)
{
	struct pkt_spec spec;

	pkt_spec_udp6(&spec);
	spec.proto = proto;
	pkt_ip6(src, spec.src6);
	pkt_ip6(dst, spec.dst6);
	spec.sport = sport;
	spec.dport = dport;
	memcpy(spec.dst_mac, lbt0_mac, 6);
	memcpy(spec.src_mac, smac, 6);
	pkt_layout(&spec, lay);
	return pkt_build(&spec, frame, PKT_MAX);
}

static size_t client_frame(uint8_t proto, uint16_t sport, uint8_t *frame, struct pkt_layout *lay)
{
	return frame6(proto, CLIENT6, sport, VIP6, VIP_PORT, client_mac, frame, lay);
}

static size_t reply_frame(uint8_t proto, const char *backend, uint16_t nat_port, uint8_t *frame,
			  struct pkt_layout *lay)
{
	return frame6(proto, backend, VIP_PORT, NAT_SOURCE6, nat_port, neigh_mac, frame, lay);
}

/* How the hop limit of a translated frame changes (docs/nat.md). */
enum hop_rule {
	HOP_KEPT,
	HOP_ONE_OFF,
};

/* Writes the NAT fields into @frame (laid out as @lay, no extension headers):
 * MACs, addresses, ports, the hop limit by @hop and the L4 checksum from
 * scratch. A UDP checksum of 0 stays 0.
 */
static void expected6(uint8_t *frame, const struct pkt_layout *lay, const uint8_t *dmac,
		      const uint8_t *smac, const char *saddr, const char *daddr, uint16_t sport,
		      uint16_t dport, enum hop_rule hop)
{
	uint8_t *ip = frame + lay->l3, *l4 = frame + lay->l4;
	uint8_t proto = ip[6];
	size_t l4_len = lay->ip_end - lay->l4, at = proto == IPPROTO_TCP ? 16 : 6;
	bool udp_none = proto == IPPROTO_UDP && !l4[at] && !l4[at + 1];
	uint16_t check;

	memcpy(frame, dmac, 6);
	memcpy(frame + 6, smac, 6);
	pkt_ip6(saddr, ip + 8);
	pkt_ip6(daddr, ip + 24);
	if (hop == HOP_ONE_OFF)
		ip[7]--;
	pkt_put16(l4, sport);
	pkt_put16(l4 + 2, dport);
	if (udp_none)
		return;
	l4[at] = l4[at + 1] = 0;
	check = pkt_l4_csum6(ip + 8, ip + 24, proto, l4, l4_len);
	if (proto == IPPROTO_UDP && !check)
		check = 0xffff;
	memcpy(l4 + at, &check, 2);
}

/* The context parse (and lb, choosing @backend_id) writes for @frame. */
static void write_ctx(const uint8_t *frame, size_t len, const struct pkt_layout *lay,
		      uint32_t backend_id, uint32_t flags)
{
	struct lb_packet_ctx ctx;

	encap_ctx6_from_frame(backend_id, frame[lay->l3 + 6], flags & LB_CTX_F_FRAGMENT, frame,
			      len, lay, &ctx);
	ctx.flags |= flags;
	ctx.forwarding = LB_FORWARD_NAT;
	ctx_write_all_cpus(fx.ctx_fd, &ctx);
}

/* Runs @in through the stage: verdict, output bytes (@expected, or the input
 * when NULL), exactly @counter moved by one.
 */
static void run_expect(const uint8_t *in, size_t len, uint32_t verdict, const uint8_t *expected,
		       enum lb_counter counter, const char *what)
{
	encap_run_expect(&fx, fx.stage.prog_fd, in, len, verdict, expected, counter, what);
}

static struct lb_flow6_key client_key(uint8_t proto, uint16_t sport)
{
	struct lb_flow6_key key = {
		.sport = htons(sport),
		.dport = htons(VIP_PORT),
		.proto = proto,
	};

	pkt_ip6(CLIENT6, key.src);
	pkt_ip6(VIP6, key.dst);
	return key;
}

/* The @i-th port the stage tries for the client flow @proto CLIENT6:@sport -> VIP6:80. */
static uint16_t candidate_port(uint8_t proto, uint16_t sport, uint32_t i)
{
	struct lb_flow6_key key = client_key(proto, sport);

	return (uint16_t)(LB_NAT_PORT_MIN +
			  (lb_flow_hash6(&key) + i * 2654435761U) % LB_NAT_PORT_COUNT);
}

static struct lb_flow6_key reply_key(uint8_t proto, const char *backend, uint16_t nat_port)
{
	struct lb_flow6_key key = {
		.sport = htons(VIP_PORT),
		.dport = htons(nat_port),
		.proto = proto,
	};

	pkt_ip6(backend, key.src);
	pkt_ip6(NAT_SOURCE6, key.dst);
	return key;
}

/* Whether a mapping holds @port toward @backend. */
static bool port_taken(uint8_t proto, const char *backend, uint16_t port)
{
	struct lb_flow6_key key = reply_key(proto, backend, port);
	struct lb_nat_reply6 entry;

	return !bpf_map_lookup_elem(nat_reply6_fd, &key, &entry);
}

/* Forward, then the backend's reply, for one protocol: both frames byte-exact,
 * the port the flow's first candidate, kept by its next packet, the state
 * naming the client and the VIP.
 */
static void nat6_round_trip(uint8_t proto, uint16_t sport)
{
	uint8_t in[PKT_MAX], want[PKT_MAX], addr[16];
	uint16_t port = candidate_port(proto, sport, 0);
	struct lb_flow6_key key = reply_key(proto, NEIGH6_ADDR, port);
	struct lb_flow6_key ckey = client_key(proto, sport);
	struct lb_nat_forward6 fwd;
	struct lb_nat_reply6 entry;
	struct pkt_layout lay;
	size_t len;

	len = client_frame(proto, sport, in, &lay);
	memcpy(want, in, len);
	expected6(want, &lay, neigh_mac, lbt0_mac, NAT_SOURCE6, NEIGH6_ADDR, port, VIP_PORT,
		  HOP_ONE_OFF);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "forward: to the backend");
	if (!ASSERT_OK(bpf_map_lookup_elem(nat_reply6_fd, &key, &entry), "reply state stored"))
		return;
	pkt_ip6(CLIENT6, addr);
	ASSERT_BYTES(entry.client_addr, 16, addr, 16, "state: client address");
	ASSERT_EQ(entry.client_port, htons(sport), "state: client port");
	pkt_ip6(VIP6, addr);
	ASSERT_BYTES(entry.vip_addr, 16, addr, 16, "state: VIP address");
	ASSERT_EQ(entry.vip_port, htons(VIP_PORT), "state: VIP port");
	if (ASSERT_OK(bpf_map_lookup_elem(nat_forward6_fd, &ckey, &fwd), "forward state stored")) {
		pkt_ip6(NEIGH6_ADDR, addr);
		ASSERT_BYTES(fwd.backend_addr, 16, addr, 16, "forward state: backend");
		ASSERT_EQ(fwd.nat_port, htons(port), "forward state: port");
	}
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "forward again: the same port");

	len = reply_frame(proto, NEIGH6_ADDR, port, in, &lay);
	memcpy(want, in, len);
	expected6(want, &lay, client_mac, lbt0_mac, VIP6, CLIENT6, VIP_PORT, sport, HOP_ONE_OFF);
	write_ctx(in, len, &lay, LB_NO_BACKEND, LB_CTX_F_NAT_REPLY);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "reply: back to the client");
}

static void test_tcp6_round_trip(void)
{
	REQUIRE_FIXTURE(&fx.status);
	nat6_round_trip(IPPROTO_TCP, 41001);
}

static void test_udp6_round_trip(void)
{
	REQUIRE_FIXTURE(&fx.status);
	nat6_round_trip(IPPROTO_UDP, 41002);
}

/* The golden pair, every byte by hand: UDP [2001:db8:0:1::c1]:1234 ->
 * [2001:db8::100]:80, payload de ad be ef, hop limit 64, through a mapping on
 * port 16500 (0x4074) toward [2001:db8:0:1::1:1]:80, and the backend's reply.
 * The UDP checksums (0xffe2 from the client, 0xc5ee toward the backend) were
 * summed apart from this code: the pseudo-header's addresses, length 12 and
 * next header 17, then the 12 bytes of UDP.
 */
#define GOLDEN_ETH(dst, src) dst, src, 0x86, 0xdd
#define MAC_LBT0 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a
#define MAC_CLIENT 0x02, 0x00, 0x00, 0x00, 0x00, 0x01
#define MAC_NEIGH 0x02, 0x00, 0x00, 0x00, 0x01, 0x01
#define IP6_HEAD(hop) 0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 17, hop
#define A_CLIENT 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xc1
#define A_VIP 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00
#define A_NAT 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x10
#define A_NEIGH 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1
#define PAYLOAD 0xde, 0xad, 0xbe, 0xef

static const uint8_t golden_client[] = {
	GOLDEN_ETH(MAC_LBT0, MAC_CLIENT), IP6_HEAD(64), A_CLIENT, A_VIP,
	0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0xff, 0xe2, PAYLOAD,
};
static const uint8_t golden_to_backend[] = {
	GOLDEN_ETH(MAC_NEIGH, MAC_LBT0), IP6_HEAD(63), A_NAT, A_NEIGH,
	0x40, 0x74, 0x00, 0x50, 0x00, 0x0c, 0xc5, 0xee, PAYLOAD,
};
static const uint8_t golden_reply[] = {
	GOLDEN_ETH(MAC_LBT0, MAC_NEIGH), IP6_HEAD(64), A_NEIGH, A_NAT,
	0x00, 0x50, 0x40, 0x74, 0x00, 0x0c, 0xc5, 0xee, PAYLOAD,
};
static const uint8_t golden_to_client[] = {
	GOLDEN_ETH(MAC_CLIENT, MAC_LBT0), IP6_HEAD(63), A_VIP, A_CLIENT,
	0x00, 0x50, 0x04, 0xd2, 0x00, 0x0c, 0xff, 0xe2, PAYLOAD,
};

static void test_golden(void)
{
	const uint16_t port = 16500;
	struct lb_flow6_key ckey = client_key(IPPROTO_UDP, 1234);
	struct lb_flow6_key rkey = reply_key(IPPROTO_UDP, NEIGH6_ADDR, port);
	struct lb_nat_forward6 fwd = { .backend_port = htons(VIP_PORT), .nat_port = htons(port) };
	struct lb_nat_reply6 entry = {
		.client_port = htons(1234),
		.vip_port = htons(VIP_PORT),
		.last_seen_ns = ~0ULL >> 1, /* live */
	};
	struct pkt_layout lay = { .l3 = 14, .l4 = 54, .ip_end = 66, .len = 66 };
	uint8_t in[sizeof(golden_client)];

	REQUIRE_FIXTURE(&fx.status);
	_Static_assert(sizeof(golden_client) == 66, "golden: 14 + 40 + 8 + 4 bytes");
	pkt_ip6(NEIGH6_ADDR, fwd.backend_addr);
	pkt_ip6(CLIENT6, entry.client_addr);
	pkt_ip6(VIP6, entry.vip_addr);
	ASSERT_OK(bpf_map_update_elem(nat_forward6_fd, &ckey, &fwd, BPF_ANY), "forward mapping");
	ASSERT_OK(bpf_map_update_elem(nat_reply6_fd, &rkey, &entry, BPF_ANY), "reply mapping");

	memcpy(in, golden_client, sizeof(in));
	write_ctx(in, sizeof(in), &lay, B6_NEIGH, 0);
	run_expect(in, sizeof(in), XDP_TX, golden_to_backend, LB_C_ENCAP_TX,
		   "golden: client -> backend");
	memcpy(in, golden_reply, sizeof(in));
	write_ctx(in, sizeof(in), &lay, LB_NO_BACKEND, LB_CTX_F_NAT_REPLY);
	run_expect(in, sizeof(in), XDP_TX, golden_to_client, LB_C_ENCAP_TX,
		   "golden: reply -> client");
}

/* A UDP checksum of 0 (not allowed in IPv6) is not made up by NAT. */
static void test_udp_without_checksum(void)
{
	uint8_t in[PKT_MAX], want[PKT_MAX];
	uint16_t sport = 41003, port = candidate_port(IPPROTO_UDP, sport, 0);
	struct pkt_layout lay;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	len = client_frame(IPPROTO_UDP, sport, in, &lay);
	in[lay.l4 + 6] = in[lay.l4 + 7] = 0;
	memcpy(want, in, len);
	expected6(want, &lay, neigh_mac, lbt0_mac, NAT_SOURCE6, NEIGH6_ADDR, port, VIP_PORT,
		  HOP_ONE_OFF);
	ASSERT_TRUE(!want[lay.l4 + 6] && !want[lay.l4 + 7], "expected checksum stays 0");
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "UDP checksum 0");
}

/* IPv4's port rules in nat_reply6: a taken port is skipped, every candidate
 * taken drops the packet unchanged.
 */
static void test_port_collisions(void)
{
	struct lb_nat_reply6 other = {
		.client_port = htons(999),
		.vip_port = htons(VIP_PORT),
		.last_seen_ns = ~0ULL >> 1,
	};
	uint8_t in[PKT_MAX], want[PKT_MAX];
	struct lb_flow6_key key;
	struct pkt_layout lay;
	uint16_t sport;
	size_t len;
	uint32_t i;

	REQUIRE_FIXTURE(&fx.status);
	pkt_ip6("2001:db8::77", other.client_addr);
	pkt_ip6(VIP6, other.vip_addr);
	sport = 41010;
	key = reply_key(IPPROTO_TCP, NEIGH6_ADDR, candidate_port(IPPROTO_TCP, sport, 0));
	ASSERT_OK(bpf_map_update_elem(nat_reply6_fd, &key, &other, BPF_ANY), "occupy port 0");
	len = client_frame(IPPROTO_TCP, sport, in, &lay);
	memcpy(want, in, len);
	expected6(want, &lay, neigh_mac, lbt0_mac, NAT_SOURCE6, NEIGH6_ADDR,
		  candidate_port(IPPROTO_TCP, sport, 1), VIP_PORT, HOP_ONE_OFF);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "taken port skipped");

	/* Idle since boot: an expired UDP mapping is taken over. */
	other.last_seen_ns = 1;
	sport = 41011;
	key = reply_key(IPPROTO_UDP, NEIGH6_ADDR, candidate_port(IPPROTO_UDP, sport, 0));
	ASSERT_OK(bpf_map_update_elem(nat_reply6_fd, &key, &other, BPF_ANY), "stale UDP port");
	len = client_frame(IPPROTO_UDP, sport, in, &lay);
	memcpy(want, in, len);
	expected6(want, &lay, neigh_mac, lbt0_mac, NAT_SOURCE6, NEIGH6_ADDR,
		  candidate_port(IPPROTO_UDP, sport, 0), VIP_PORT, HOP_ONE_OFF);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "expired UDP port taken over");

	other.last_seen_ns = ~0ULL >> 1;
	sport = 41013;
	for (i = 0; i < LB_NAT_PORT_TRIES; i++) {
		key = reply_key(IPPROTO_TCP, NEIGH6_ADDR, candidate_port(IPPROTO_TCP, sport, i));
		ASSERT_OK(bpf_map_update_elem(nat_reply6_fd, &key, &other, BPF_ANY),
			  "occupy every candidate");
	}
	len = client_frame(IPPROTO_TCP, sport, in, &lay);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_NO_PORT, "no port free: dropped");
}

/* Sets the hop limit of @frame's IPv6 header. */
static void frame_set_hop(uint8_t *frame, const struct pkt_layout *lay, uint8_t hop)
{
	frame[lay->l3 + 7] = hop;
}

/* Frames NAT cannot or must not translate leave as they came, each counted,
 * and no mapping is made for them.
 */
static void test_untranslatable(void)
{
	const uint16_t mapped_sport = 41100;
	uint16_t mapped = candidate_port(IPPROTO_UDP, mapped_sport, 0), sport;
	uint8_t in[PKT_MAX], want[PKT_MAX];
	struct pkt_layout lay;
	struct pkt_spec spec;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	/* A mapping for the replies below. */
	len = client_frame(IPPROTO_UDP, mapped_sport, in, &lay);
	memcpy(want, in, len);
	expected6(want, &lay, neigh_mac, lbt0_mac, NAT_SOURCE6, NEIGH6_ADDR, mapped, VIP_PORT,
		  HOP_ONE_OFF);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "mapping for the replies");

	sport = 41101;
	len = client_frame(IPPROTO_UDP, sport, in, &lay);
	frame_set_hop(in, &lay, 1);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_TTL_EXCEEDED, "hop limit 1: dropped");
	frame_set_hop(in, &lay, 0);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_TTL_EXCEEDED, "hop limit 0: dropped");
	ASSERT_TRUE(!port_taken(IPPROTO_UDP, NEIGH6_ADDR, candidate_port(IPPROTO_UDP, sport, 0)),
		    "hop limit 0 and 1: no mapping made");

	len = reply_frame(IPPROTO_UDP, NEIGH6_ADDR, mapped, in, &lay);
	frame_set_hop(in, &lay, 1);
	write_ctx(in, len, &lay, LB_NO_BACKEND, LB_CTX_F_NAT_REPLY);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_TTL_EXCEEDED, "reply, hop limit 1");

	len = client_frame(IPPROTO_UDP, 41102, in, &lay);
	frame_set_hop(in, &lay, 2);
	memcpy(want, in, len);
	expected6(want, &lay, neigh_mac, lbt0_mac, NAT_SOURCE6, NEIGH6_ADDR,
		  candidate_port(IPPROTO_UDP, 41102, 0), VIP_PORT, HOP_ONE_OFF);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_TX, want, LB_C_ENCAP_TX, "hop limit 2: sent with 1");

	len = client_frame(IPPROTO_UDP, 41103, in, &lay);
	memcpy(want, in, len);
	/* Handed to the kernel: translated, its own Ethernet header, hop limit kept. */
	expected6(want, &lay, lbt0_mac, client_mac, NAT_SOURCE6, NO_NEIGH6_ADDR,
		  candidate_port(IPPROTO_UDP, 41103, 0), VIP_PORT, HOP_KEPT);
	write_ctx(in, len, &lay, B6_NO_NEIGH, 0);
	run_expect(in, len, XDP_PASS, want, LB_C_ENCAP_PASS_NO_NEIGH,
		   "no neighbour: to the kernel, hop limit kept");

	len = reply_frame(IPPROTO_TCP, NEIGH6_ADDR, 16001, in, &lay);
	write_ctx(in, len, &lay, LB_NO_BACKEND, LB_CTX_F_NAT_REPLY);
	run_expect(in, len, XDP_PASS, NULL, LB_C_NAT_PASS_NO_STATE, "reply without state");

	len = client_frame(IPPROTO_TCP, 41104, in, &lay);
	write_ctx(in, len, &lay, B6_NO_ROUTE, 0);
	run_expect(in, len, XDP_DROP, NULL, LB_C_ENCAP_DROP_NO_ROUTE, "no route to backend");

	/* An IPv4 backend slot for an IPv6 packet: not this stage's to trust. */
	len = client_frame(IPPROTO_TCP, 41105, in, &lay);
	write_ctx(in, len, &lay, B_NEIGH, 0);
	run_expect(in, len, XDP_DROP, NULL, LB_C_ENCAP_DROP_BAD_CTX, "IPv4 backend");

	len = client_frame(IPPROTO_TCP, 41106, in, &lay);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	encap_run_expect(&fx, bpf_program__fd(skel_no_source->progs.xdp_lb_nat), in, len,
			 XDP_DROP, NULL, LB_C_ENCAP_DROP_BAD_CTX, "no nat_source6 loaded");

	pkt_spec_udp6(&spec);
	pkt_ip6(CLIENT6, spec.src6);
	memcpy(spec.dst_mac, lbt0_mac, 6);
	spec.ext6[spec.ext6_count++] = (struct pkt_ext6){ 44, 0, 0x0001 };
	pkt_layout(&spec, &lay);
	len = pkt_build(&spec, in, PKT_MAX);
	write_ctx(in, len, &lay, B6_NEIGH, LB_CTX_F_FRAGMENT);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_FRAGMENT, "first fragment dropped");

	/* Hop-by-hop options in front of UDP: a routing header there would
	 * change the checksum's destination, so no extension header is NATed.
	 */
	spec.ext6[0] = (struct pkt_ext6){ 0, 0, 0 };
	spec.sport = 41107;
	pkt_layout(&spec, &lay);
	len = pkt_build(&spec, in, PKT_MAX);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_EXT_HEADER, "extension header dropped");
	spec.ext6[0] = (struct pkt_ext6){ 43, 0, 0 };
	pkt_layout(&spec, &lay);
	len = pkt_build(&spec, in, PKT_MAX);
	write_ctx(in, len, &lay, B6_NEIGH, 0);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_EXT_HEADER, "routing header dropped");
	ASSERT_TRUE(!port_taken(IPPROTO_UDP, NEIGH6_ADDR, candidate_port(IPPROTO_UDP, 41107, 0)),
		    "extension headers: no mapping made");
}

/* A context that does not describe the frame: dropped as drop_bad_ctx, the
 * frame as it came, no mapping made.
 */
/* A client packet too big for the path to its backend: answered from the VIP
 * with ICMPv6 "packet too big" carrying the path's MTU itself (NAT adds no
 * header), nothing translated, no mapping made.
 */
static void test_too_big_answered(void)
{
	uint8_t in[PKT_MAX], want[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_layout lay;
	struct pkt_spec spec;
	size_t len, want_len;

	REQUIRE_FIXTURE(&fx.status);
	pkt_spec_udp6(&spec);
	pkt_ip6(CLIENT6, spec.src6);
	pkt_ip6(VIP6, spec.dst6);
	spec.sport = 41200;
	spec.dport = VIP_PORT;
	memcpy(spec.dst_mac, lbt0_mac, 6);
	memcpy(spec.src_mac, client_mac, 6);
	spec.payload_len = LBT0_MTU - 40 - 8 + 1;
	pkt_layout(&spec, &lay);
	len = pkt_build(&spec, in, sizeof(in));
	encap_ctx6_from_frame(B6_NEIGH, IPPROTO_UDP, false, in, len, &lay, &ctx);
	ctx.forwarding = LB_FORWARD_NAT;
	want_len = pkt_packet_too_big(in, 14, 1, LBT0_MTU, want);
	encap_run_expect_tx(&fx, &ctx, in, len, want, want_len, LB_C_ENCAP_ICMP6_PACKET_TOO_BIG,
			    "IPv6 NAT packet one byte too big");
	ASSERT_TRUE(!port_taken(IPPROTO_UDP, NEIGH6_ADDR, candidate_port(IPPROTO_UDP, 41200, 0)),
		     "no mapping for a packet answered");
}

static void test_bad_context(void)
{
	static const struct {
		const char *name;
		int l3_offset, l4_offset, frame_len_delta, tot_len_delta, no_ipv6_flag;
	} cases[] = {
		{ "l4_offset past data_end", 0, 0xffff, 0, 0, 0 },
		{ "l4_offset inside the IPv6 header", 0, 14 + 20, 0, 0, 0 },
		{ "TCP header beyond ip_tot_len", 0, 0, 0, -42, 0 },
		{ "l3_offset past data_end", 0xfff0, 0, 0, 0, 0 },
		{ "context of a longer frame", 0, 0, 4, 0, 0 },
		{ "context without LB_CTX_F_IPV6", 0, 0, 0, 0, 1 },
	};
	uint8_t in[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_layout lay;
	uint16_t sport;
	size_t i, len;

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		sport = (uint16_t)(41200 + i);
		len = client_frame(IPPROTO_TCP, sport, in, &lay);
		encap_ctx6_from_frame(B6_NEIGH, IPPROTO_TCP, false, in, len, &lay, &ctx);
		if (cases[i].l3_offset)
			ctx.l3_offset = (uint16_t)cases[i].l3_offset;
		if (cases[i].l4_offset)
			ctx.l4_offset = (uint16_t)cases[i].l4_offset;
		ctx.frame_len += (uint32_t)cases[i].frame_len_delta;
		ctx.ip_tot_len = (uint16_t)(ctx.ip_tot_len + cases[i].tot_len_delta);
		if (cases[i].no_ipv6_flag)
			ctx.flags &= ~LB_CTX_F_IPV6;
		ctx.forwarding = LB_FORWARD_NAT;
		ctx_write_all_cpus(fx.ctx_fd, &ctx);
		run_expect(in, len, XDP_DROP, NULL, LB_C_ENCAP_DROP_BAD_CTX, cases[i].name);
		ASSERT_TRUE(!port_taken(IPPROTO_TCP, NEIGH6_ADDR,
					candidate_port(IPPROTO_TCP, sport, 0)),
			    cases[i].name);
	}
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_CASE(test_tcp6_round_trip),
		TEST_CASE(test_udp6_round_trip),
		TEST_CASE(test_golden),
		TEST_CASE(test_udp_without_checksum),
		TEST_CASE(test_port_collisions),
		TEST_CASE(test_untranslatable),
		TEST_CASE(test_too_big_answered),
		TEST_CASE(test_bad_context),
	};
	int status;

	fixture_setup();
	status = test_main("nat6", cases, ARRAY_SIZE(cases), argc, argv);
	fixture_teardown();
	return status;
}
