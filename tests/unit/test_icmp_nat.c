// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the icmp stage's NAT translation (icmp_nat.bpf.h): ICMP
 * errors about a `forwarding: nat` VIP's packets, both ways, byte-exact.
 *
 * The network is the encap tests' (encap_fixture.h): the backend 10.0.1.1 and
 * the client 10.0.0.1 have permanent neighbours on lbt0, so both directions
 * leave by XDP_TX. nat_source is the balancer's 10.0.0.10. The golden frames
 * are spelled out byte by byte (made with an independent Python script and
 * checked by hand); every output is also checked here by summing its
 * checksums afresh (RFC 1071): outer IPv4 header, ICMP message, quoted IPv4
 * header and, when the quote holds the whole packet, quoted UDP/TCP segment.
 * The other cases build the expected frame from the translated packet's
 * spec, with every checksum computed from scratch, never incrementally.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "encap_fixture.h"
#include "icmp.skel.h"
#include "packet.h"
#include "test_harness.h"
#include "xdp_test_run.h"

#define VIP "10.0.0.100"
#define ROUTER "10.0.0.254" /* a router on the client's side */
#define NAT_SOURCE LB_ADDR
#define BACKEND NEIGH_ADDR
#define VIP_PORT 80
#define CLIENT_PORT 1234
#define NAT_PORT 20000
#define VIP_UDP_ID 1
#define VIP_TCP_ID 2
/* IPv6: nat_source6 is the balancer's LB6_ADDR, the backend NEIGH6_ADDR. */
#define VIP6 "2001:db8::100"
#define CLIENT6 "2001:db8:0:1::c1"
#define ROUTER6 "2001:db8:0:1::fe"
#define NAT_SOURCE6 LB6_ADDR
#define BACKEND6 NEIGH6_ADDR
#define VIP6_UDP_ID 3

static const uint8_t client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static struct encap_fixture fx;
static struct icmp_bpf *skel;
static int prog_fd, nat_reply_fd, nat_forward_fd;

/* A router's "fragmentation needed" (MTU 1400) about the translated reply
 * VIP:80 -> CLIENT:1234 (UDP, DF, id 0x1234, TTL 63, payload de ad be ef).
 */
static const uint8_t to_backend_in[74] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
	0x65, 0x60, 0x0a, 0x00, 0x00, 0xfe, 0x0a, 0x00, 0x00, 0x64, 0x03, 0x04,
	0x0c, 0x06, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x00, 0x20, 0x12, 0x34,
	0x40, 0x00, 0x3f, 0x11, 0x15, 0x35, 0x0a, 0x00, 0x00, 0x64, 0x0a, 0x00,
	0x00, 0x01, 0x00, 0x50, 0x04, 0xd2, 0x00, 0x0c, 0x48, 0xb2, 0xde, 0xad,
	0xbe, 0xef,
};

/* ... as the backend gets it: MACs to it, 10.0.0.10 -> 10.0.1.1, TTL 63,
 * header checksum 0x66b7; ICMP checksum 0x0cac, MTU kept; the quote is
 * 10.0.1.1:80 -> 10.0.0.10:20000, its header checksum 0x148f, UDP 0xfebd.
 */
static const uint8_t to_backend_out[74] = {
	0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x01,
	0x66, 0xb7, 0x0a, 0x00, 0x00, 0x0a, 0x0a, 0x00, 0x01, 0x01, 0x03, 0x04,
	0x0c, 0xac, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x00, 0x20, 0x12, 0x34,
	0x40, 0x00, 0x3f, 0x11, 0x14, 0x8f, 0x0a, 0x00, 0x01, 0x01, 0x0a, 0x00,
	0x00, 0x0a, 0x00, 0x50, 0x4e, 0x20, 0x00, 0x0c, 0xfe, 0xbd, 0xde, 0xad,
	0xbe, 0xef,
};

/* The backend's "port unreachable" about 10.0.0.10:20000 -> 10.0.1.1:80
 * (UDP, DF, id 0x1234, TTL 64, payload de ad be ef).
 */
static const uint8_t to_client_in[74] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01,
	0x65, 0xb7, 0x0a, 0x00, 0x01, 0x01, 0x0a, 0x00, 0x00, 0x0a, 0x03, 0x03,
	0x12, 0x25, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x20, 0x12, 0x34,
	0x40, 0x00, 0x40, 0x11, 0x13, 0x8f, 0x0a, 0x00, 0x00, 0x0a, 0x0a, 0x00,
	0x01, 0x01, 0x4e, 0x20, 0x00, 0x50, 0x00, 0x0c, 0xfe, 0xbd, 0xde, 0xad,
	0xbe, 0xef,
};

/* ... as the client gets it: MACs to it, VIP -> CLIENT, TTL 63, header
 * checksum 0x675d; ICMP checksum 0x117f; the quote is 10.0.0.1:1234 ->
 * 10.0.0.100:80, its header checksum 0x1435, UDP 0x48b2.
 */
static const uint8_t to_client_out[74] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x01,
	0x67, 0x5d, 0x0a, 0x00, 0x00, 0x64, 0x0a, 0x00, 0x00, 0x01, 0x03, 0x03,
	0x11, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x20, 0x12, 0x34,
	0x40, 0x00, 0x40, 0x11, 0x14, 0x35, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
	0x00, 0x64, 0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0x48, 0xb2, 0xde, 0xad,
	0xbe, 0xef,
};

/* IPv6: a router's "packet too big" (MTU 1400) about the translated reply
 * [VIP6]:80 -> [CLIENT6]:1234 (UDP, hop limit 63, payload de ad be ef);
 * ICMPv6 checksum 0x2972, quoted UDP 0xffe2.
 */
static const uint8_t to_backend6_in[114] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x3a, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0xfe, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x29, 0x72, 0x00, 0x00,
	0x05, 0x78, 0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xc1, 0x00, 0x50, 0x04, 0xd2, 0x00, 0x0c,
	0xff, 0xe2, 0xde, 0xad, 0xbe, 0xef,
};
/* ... as the backend gets it: [NAT_SOURCE6] -> [BACKEND6], hop limit 63,
 * ICMPv6 checksum 0x2b5d (pseudo-header with the new addresses); the quote
 * [BACKEND6]:80 -> [NAT_SOURCE6]:20000, UDP 0xb842.
 */
static const uint8_t to_backend6_out[114] = {
	0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x3a, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x02, 0x00, 0x2b, 0x5d, 0x00, 0x00,
	0x05, 0x78, 0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x50, 0x4e, 0x20, 0x00, 0x0c,
	0xb8, 0x42, 0xde, 0xad, 0xbe, 0xef,
};
/* The backend's "port unreachable" (1/4) about [NAT_SOURCE6]:20000 ->
 * [BACKEND6]:80; ICMPv6 checksum 0x31d0.
 */
static const uint8_t to_client6_in[114] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x3a, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01, 0x04, 0x31, 0xd0, 0x00, 0x00,
	0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x4e, 0x20, 0x00, 0x50, 0x00, 0x0c,
	0xb8, 0x42, 0xde, 0xad, 0xbe, 0xef,
};
/* ... as the client gets it: [VIP6] -> [CLIENT6], hop limit 63, ICMPv6
 * checksum 0x3022; the quote [CLIENT6]:1234 -> [VIP6]:80, UDP 0xffe2.
 */
static const uint8_t to_client6_out[114] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x3a, 0x3f, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xc1, 0x01, 0x04, 0x30, 0x22, 0x00, 0x00,
	0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0xc1, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c,
	0xff, 0xe2, 0xde, 0xad, 0xbe, 0xef,
};

static int load_icmp(void)
{
	skel = icmp_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->lb_tunables.nexthop_cache_ns = 0;
	skel->rodata->lb_tunables.ingress_mtu = LBT0_MTU;
	skel->rodata->lb_tunables.nat_src_addr = pkt_ip(NAT_SOURCE);
	pkt_ip6(NAT_SOURCE6, (uint8_t *)skel->rodata->lb_tunables.nat_src_addr6);
	return icmp_bpf__load(skel);
}

static int vip_add(uint16_t port, uint8_t proto, uint32_t id)
{
	struct lb_vip_key key = { .addr = pkt_ip(VIP), .port = htons(port), .proto = proto };
	struct lb_vip vip = { .vip_id = id, .pool_id = id, .forwarding = LB_FORWARD_NAT,
			      .maglev_table = LB_NO_TABLE };
	struct lb_vip_addr addr = { .vip_id = id, .flags = LB_VIP_ADDR_F_ECHO };

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.vips), &key, &vip, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.vip_addrs), &key.addr, &addr, BPF_ANY))
		return -errno;
	return 0;
}

static int vip6_add(uint16_t port, uint8_t proto, uint32_t id)
{
	struct lb_vip6_key key = { .port = htons(port), .proto = proto };
	struct lb_vip vip = { .vip_id = id, .pool_id = id, .forwarding = LB_FORWARD_NAT,
			      .maglev_table = LB_NO_TABLE };

	pkt_ip6(VIP6, key.addr);
	return bpf_map_update_elem(bpf_map__fd(skel->maps.vips6), &key, &vip, BPF_ANY) ? -errno :
											  0;
}

static void fixture_setup(void)
{
	if (geteuid() != 0 || encap_net_setup(&fx))
		return;
	if (fixture_step(&fx.status, load_icmp(), "open and load icmp_bpf") ||
	    fixture_step(&fx.status, encap_maps_setup(&fx, skel->obj), "fill backends") ||
	    fixture_step(&fx.status,
			 system("ip neigh replace " CLIENT " lladdr 02:00:00:00:00:01 dev lbt0 "
				"nud permanent >/dev/null 2>&1") ? -EIO : 0,
			 "client neighbour") ||
	    fixture_step(&fx.status, vip_add(VIP_PORT, IPPROTO_UDP, VIP_UDP_ID), "UDP VIP") ||
	    fixture_step(&fx.status, vip_add(VIP_PORT, IPPROTO_TCP, VIP_TCP_ID), "TCP VIP") ||
	    fixture_step(&fx.status, vip6_add(VIP_PORT, IPPROTO_UDP, VIP6_UDP_ID), "IPv6 VIP") ||
	    fixture_step(&fx.status,
			 system("ip -6 neigh replace " CLIENT6 " lladdr 02:00:00:00:00:01 dev lbt0 "
				"nud permanent >/dev/null 2>&1") ? -EIO : 0,
			 "IPv6 client neighbour"))
		return;
	prog_fd = bpf_program__fd(skel->progs.xdp_lb_icmp);
	nat_reply_fd = bpf_map__fd(skel->maps.nat_reply);
	nat_forward_fd = bpf_map__fd(skel->maps.nat_forward);
}

static void fixture_teardown(void)
{
	icmp_bpf__destroy(skel);
}

/* CLOCK_MONOTONIC_COARSE, the clock of bpf_ktime_get_coarse_ns(). */
static uint64_t coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What the nat stage leaves for the flow @client_addr:@cport -> VIP:80
 * (@proto) given NAT_PORT toward BACKEND:80, last seen at @seen (0: now).
 * The reply entry's client port is @owner_port: another flow's when it
 * differs from @cport (the port was taken over).
 */
static void mapping_add(uint8_t proto, const char *client_addr, uint16_t cport,
			uint16_t owner_port, uint64_t seen)
{
	struct lb_flow_key client = { .src = pkt_ip(client_addr), .dst = pkt_ip(VIP),
				      .sport = htons(cport), .dport = htons(VIP_PORT),
				      .proto = proto };
	struct lb_flow_key reply = { .src = pkt_ip(BACKEND), .dst = pkt_ip(NAT_SOURCE),
				     .sport = htons(VIP_PORT), .dport = htons(NAT_PORT),
				     .proto = proto };
	struct lb_nat_forward fwd = { .backend_addr = pkt_ip(BACKEND),
				      .backend_port = htons(VIP_PORT),
				      .nat_port = htons(NAT_PORT) };
	struct lb_nat_reply entry = { .client_addr = pkt_ip(client_addr),
				      .vip_addr = pkt_ip(VIP),
				      .client_port = htons(owner_port),
				      .vip_port = htons(VIP_PORT),
				      .last_seen_ns = seen ? seen : coarse_now_ns() };

	ASSERT_OK(bpf_map_update_elem(nat_forward_fd, &client, &fwd, BPF_ANY), "nat_forward");
	ASSERT_OK(bpf_map_update_elem(nat_reply_fd, &reply, &entry, BPF_ANY), "nat_reply");
}

/* mapping_add() for IPv6: [CLIENT6]:@cport -> [VIP6]:80 on NAT_PORT toward
 * [BACKEND6]:80, UDP, last seen at @seen (0: now).
 */
static void mapping6_add(uint16_t cport, uint64_t seen)
{
	struct lb_flow6_key client = { .sport = htons(cport), .dport = htons(VIP_PORT),
				       .proto = IPPROTO_UDP };
	struct lb_flow6_key reply = { .sport = htons(VIP_PORT), .dport = htons(NAT_PORT),
				      .proto = IPPROTO_UDP };
	struct lb_nat_forward6 fwd = { .backend_port = htons(VIP_PORT),
				       .nat_port = htons(NAT_PORT) };
	struct lb_nat_reply6 entry = { .client_port = htons(cport), .vip_port = htons(VIP_PORT),
				       .last_seen_ns = seen ? seen : coarse_now_ns() };

	pkt_ip6(CLIENT6, client.src);
	pkt_ip6(VIP6, client.dst);
	pkt_ip6(BACKEND6, reply.src);
	pkt_ip6(NAT_SOURCE6, reply.dst);
	pkt_ip6(BACKEND6, fwd.backend_addr);
	pkt_ip6(CLIENT6, entry.client_addr);
	pkt_ip6(VIP6, entry.vip_addr);
	ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.nat_forward6), &client, &fwd,
				      BPF_ANY), "nat_forward6");
	ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.nat_reply6), &reply, &entry,
				      BPF_ANY), "nat_reply6");
}

static void map_clear(int fd, void *key)
{
	while (!bpf_map_get_next_key(fd, NULL, key))
		bpf_map_delete_elem(fd, key);
}

static void mappings_clear(void)
{
	struct lb_flow6_key key6;
	struct lb_flow_key key;

	map_clear(nat_forward_fd, &key);
	map_clear(nat_reply_fd, &key);
	map_clear(bpf_map__fd(skel->maps.nat_forward6), &key6);
	map_clear(bpf_map__fd(skel->maps.nat_reply6), &key6);
}

/* The context parse writes for the ICMP frame @in (no tag, no options):
 * to nat_source, when it is no VIP address, with LB_CTX_F_NAT_REPLY.
 */
static void write_ctx(const uint8_t *in, size_t len)
{
	struct lb_packet_ctx ctx = { .backend_id = LB_NO_BACKEND };
	struct lb_vip_addr addr;
	uint8_t source6[16];

	if (pkt_get16(in + 12) == PKT_ETHERTYPE_IPV6) {
		memcpy(ctx.flow6.src, in + 22, 16);
		memcpy(ctx.flow6.dst, in + 38, 16);
		ctx.flow6.proto = 58;
		ctx.l4_proto = 58;
		ctx.l3_offset = 14;
		ctx.l4_offset = 54;
		ctx.ip_tot_len = (uint16_t)(40 + pkt_get16(in + 18));
		ctx.frame_len = (uint32_t)len;
		ctx.flags = LB_CTX_F_IPV6;
		pkt_ip6(NAT_SOURCE6, source6);
		if (!memcmp(ctx.flow6.dst, source6, 16))
			ctx.flags |= LB_CTX_F_NAT_REPLY;
		else
			ctx.vip_id = VIP6_UDP_ID;
		ctx_write_all_cpus(fx.ctx_fd, &ctx);
		return;
	}
	memcpy(&ctx.flow.src, in + 26, 4);
	memcpy(&ctx.flow.dst, in + 30, 4);
	ctx.flow.proto = IPPROTO_ICMP;
	ctx.l4_proto = IPPROTO_ICMP;
	ctx.l3_offset = 14;
	ctx.l4_offset = 34;
	ctx.ip_tot_len = pkt_get16(in + 16);
	ctx.frame_len = (uint32_t)len;
	/* As parse: a VIP address's first VIP, else nat_source's flag. */
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.vip_addrs), &ctx.flow.dst, &addr))
		ctx.vip_id = addr.vip_id;
	else if (ctx.flow.dst == pkt_ip(NAT_SOURCE))
		ctx.flags = LB_CTX_F_NAT_REPLY;
	ctx_write_all_cpus(fx.ctx_fd, &ctx);
}

/* check_sums() for an IPv6 frame (no extension headers): the ICMPv6
 * checksum over its pseudo-header, and the quoted segment's when whole.
 */
static void check_sums6(const uint8_t *f, size_t len, const char *what)
{
	const uint8_t *ip = f + 14, *icmp = ip + 40, *quoted = icmp + 8;
	size_t icmp_len = pkt_get16(ip + 4), qlen = pkt_get16(quoted + 4);
	char label[160];

	if (!ASSERT_TRUE(len >= 14 + 40 + 8 + 40 && len >= 14 + 40 + icmp_len, what))
		return;
	snprintf(label, sizeof(label), "%s: ICMPv6 checksum", what);
	ASSERT_EQ(pkt_l4_csum6(ip + 8, ip + 24, 58, icmp, icmp_len), 0, label);
	if (icmp_len - 8 - 40 < qlen)
		return;
	snprintf(label, sizeof(label), "%s: quoted L4 checksum", what);
	ASSERT_EQ(pkt_l4_csum6(quoted + 8, quoted + 24, quoted[6], quoted + 40, qlen), 0, label);
}

/* Sums the checksums of the translated frame @f (IPv4 at 14, no options)
 * afresh: each must come to 0 (RFC 1071).
 */
static void check_sums(const uint8_t *f, size_t len, const char *what)
{
	const uint8_t *ip = f + 14, *icmp = ip + 20, *quoted = icmp + 8;
	size_t icmp_len = pkt_get16(ip + 2) - 20, quote_len = icmp_len - 8;
	size_t qhl = (size_t)(quoted[0] & 0x0f) * 4, qtot = pkt_get16(quoted + 2);
	uint32_t qsrc, qdst;
	char label[160];

	if (len >= 14 && pkt_get16(f + 12) == PKT_ETHERTYPE_IPV6)
		return check_sums6(f, len, what);
	if (!ASSERT_TRUE(len >= 14 + 20 + 8 + 20, what))
		return;
	snprintf(label, sizeof(label), "%s: outer header checksum", what);
	ASSERT_EQ(pkt_csum(ip, 20), 0, label);
	snprintf(label, sizeof(label), "%s: ICMP checksum", what);
	ASSERT_EQ(pkt_csum(icmp, icmp_len), 0, label);
	snprintf(label, sizeof(label), "%s: quoted header checksum", what);
	ASSERT_EQ(pkt_csum(quoted, qhl), 0, label);
	/* A quote of the whole packet holds its whole segment: sum it too. */
	if (quote_len < qtot || (quoted[9] == IPPROTO_UDP && !pkt_get16(quoted + qhl + 6)))
		return;
	memcpy(&qsrc, quoted + 12, 4);
	memcpy(&qdst, quoted + 16, 4);
	snprintf(label, sizeof(label), "%s: quoted L4 checksum", what);
	ASSERT_EQ(pkt_l4_csum(qsrc, qdst, quoted[9], quoted + qhl, qtot - qhl), 0, label);
}

/* Runs @in and checks verdict, bytes (@want, or @in when NULL) and that exactly
 * @c1 and @c2 (LB_COUNTER_MAX: none) moved, by one each.
 */
static void run_expect(const uint8_t *in, size_t len, uint32_t verdict, const uint8_t *want,
		       enum lb_counter c1, enum lb_counter c2, const char *what)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta deltas[] = { { c1, 1 }, { c2, 1 } };
	struct xdp_result res;

	write_ctx(in, len);
	counters_read(fx.counters_fd, before);
	xdp_run(prog_fd, in, len, fx.lbt0, &res);
	counters_read(fx.counters_fd, after);
	if (!ASSERT_OK(res.err, what))
		return;
	ASSERT_STREQ(xdp_verdict_name(res.verdict), xdp_verdict_name(verdict), what);
	ASSERT_BYTES(res.out, res.out_len, want ? want : in, len, what);
	counters_expect(before, after, deltas, c2 == LB_COUNTER_MAX ? 1 : 2, what);
	if (want)
		check_sums(res.out, res.out_len, what);
}

static void test_golden_to_backend(void)
{
	REQUIRE_FIXTURE(&fx.status);
	mappings_clear();
	mapping_add(IPPROTO_UDP, CLIENT, CLIENT_PORT, CLIENT_PORT, 0);
	check_sums(to_backend_in, sizeof(to_backend_in), "golden input");
	run_expect(to_backend_in, sizeof(to_backend_in), XDP_TX, to_backend_out,
		   LB_C_ICMP_NAT_ERROR_TO_BACKEND, LB_C_ENCAP_TX, "frag needed to the backend");
}

static void test_golden_to_client(void)
{
	REQUIRE_FIXTURE(&fx.status);
	mappings_clear();
	mapping_add(IPPROTO_UDP, CLIENT, CLIENT_PORT, CLIENT_PORT, 0);
	check_sums(to_client_in, sizeof(to_client_in), "golden input");
	run_expect(to_client_in, sizeof(to_client_in), XDP_TX, to_client_out,
		   LB_C_ICMP_NAT_ERROR_TO_CLIENT, LB_C_ENCAP_TX, "port unreachable to the client");
}

/* The packet an error quotes: @proto @src:@sport -> @dst:@dport, DF, 1000
 * bytes of payload, TTL 61.
 */
static void quoted_spec(struct pkt_spec *q, uint8_t proto, const char *src, uint16_t sport,
			const char *dst, uint16_t dport)
{
	pkt_spec_udp(q);
	q->proto = proto;
	q->src = pkt_ip(src);
	q->dst = pkt_ip(dst);
	q->sport = sport;
	q->dport = dport;
	q->frag_off = 0x4000;
	q->ttl = 61;
	q->payload_len = 1000;
}

/* The error @icmp from @src to @dst with MACs @dmac <- @smac and TTL @ttl,
 * quoting @quote_max bytes (0: all) of @q. Returns the frame length.
 */
static size_t error_frame(const struct pkt_icmp *icmp, const char *src, const char *dst,
			  const uint8_t *dmac, const uint8_t *smac, uint8_t ttl,
			  const struct pkt_spec *q, size_t quote_max, uint8_t *frame)
{
	static uint8_t quote[PKT_MAX];
	struct pkt_spec spec;

	pkt_spec_udp(&spec);
	memcpy(spec.dst_mac, dmac, 6);
	memcpy(spec.src_mac, smac, 6);
	spec.src = pkt_ip(src);
	spec.dst = pkt_ip(dst);
	spec.ttl = ttl;
	spec.proto = IPPROTO_ICMP;
	spec.icmp = icmp;
	spec.payload_len = pkt_quote(q, quote_max, quote, sizeof(quote));
	spec.payload = quote;
	return spec.payload_len ? pkt_build(&spec, frame, PKT_MAX) : 0;
}

/* Zeroes the quoted UDP checksum ("none") of @f and sums the ICMP checksum
 * again: a sender that sent no UDP checksum.
 */
static void quoted_udp_check_none(uint8_t *f)
{
	uint8_t *icmp = f + 34;
	uint16_t check;

	memset(icmp + 8 + 20 + 6, 0, 2);
	memset(icmp + 2, 0, 2);
	check = pkt_csum(icmp, pkt_get16(f + 16) - 20);
	memcpy(icmp + 2, &check, 2);
}

/* Both directions, both protocols, whole and cut quotes, a UDP checksum of 0. */
static void test_translations(void)
{
	static const struct pkt_icmp frag = { 3, 4, 1280 }, unreach = { 3, 3, 0 }, ttl = { 11, 0, 0 };
	static uint8_t in[PKT_MAX], want[PKT_MAX];
	static const struct {
		const char *name;
		int to_client;
		uint8_t proto;
		const struct pkt_icmp *icmp;
		size_t quote_max;
		int udp_check_none;
	} cases[] = {
		{ "to backend, UDP, whole quote", 0, IPPROTO_UDP, &frag, 0, 0 },
		{ "to backend, UDP, 28-byte quote", 0, IPPROTO_UDP, &ttl, 28, 0 },
		{ "to backend, UDP, no checksum", 0, IPPROTO_UDP, &frag, 0, 1 },
		{ "to backend, TCP, whole quote", 0, IPPROTO_TCP, &frag, 0, 0 },
		{ "to backend, TCP, 28 bytes: no checksum quoted", 0, IPPROTO_TCP, &frag, 28, 0 },
		{ "to backend, TCP, 38 bytes: checksum just inside", 0, IPPROTO_TCP, &frag, 38, 0 },
		{ "to client, UDP, whole quote", 1, IPPROTO_UDP, &unreach, 0, 0 },
		{ "to client, UDP, no checksum", 1, IPPROTO_UDP, &unreach, 0, 1 },
		{ "to client, TCP, 28-byte quote", 1, IPPROTO_TCP, &frag, 28, 0 },
		{ "to client, TCP, whole quote", 1, IPPROTO_TCP, &unreach, 0, 0 },
	};
	struct pkt_spec q_in, q_out;
	size_t i, len, want_len;

	REQUIRE_FIXTURE(&fx.status);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		mappings_clear();
		mapping_add(cases[i].proto, CLIENT, CLIENT_PORT, CLIENT_PORT, 0);
		if (cases[i].to_client) {
			quoted_spec(&q_in, cases[i].proto, NAT_SOURCE, NAT_PORT, BACKEND, VIP_PORT);
			quoted_spec(&q_out, cases[i].proto, CLIENT, CLIENT_PORT, VIP, VIP_PORT);
			len = error_frame(cases[i].icmp, BACKEND, NAT_SOURCE, lbt0_mac, neigh_mac,
					  64, &q_in, cases[i].quote_max, in);
			want_len = error_frame(cases[i].icmp, VIP, CLIENT, client_mac, lbt0_mac,
					       63, &q_out, cases[i].quote_max, want);
		} else {
			quoted_spec(&q_in, cases[i].proto, VIP, VIP_PORT, CLIENT, CLIENT_PORT);
			quoted_spec(&q_out, cases[i].proto, BACKEND, VIP_PORT, NAT_SOURCE, NAT_PORT);
			len = error_frame(cases[i].icmp, ROUTER, VIP, lbt0_mac, client_mac, 64,
					  &q_in, cases[i].quote_max, in);
			want_len = error_frame(cases[i].icmp, NAT_SOURCE, BACKEND, neigh_mac,
					       lbt0_mac, 63, &q_out, cases[i].quote_max, want);
		}
		if (!ASSERT_TRUE(len && len == want_len, cases[i].name))
			continue;
		if (cases[i].udp_check_none) {
			quoted_udp_check_none(in);
			quoted_udp_check_none(want);
		}
		run_expect(in, len, XDP_TX, want,
			   cases[i].to_client ? LB_C_ICMP_NAT_ERROR_TO_CLIENT :
						LB_C_ICMP_NAT_ERROR_TO_BACKEND,
			   LB_C_ENCAP_TX, cases[i].name);
	}
}

/* What is not translated goes to the kernel unchanged, counted by reason;
 * what cannot be sent is dropped unchanged.
 */
static void test_not_translated(void)
{
	const struct pkt_icmp frag = { 3, 4, 1280 }, echo = { 8, 0, 0 };
	static uint8_t in[PKT_MAX];
	struct pkt_spec q;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);

	mappings_clear();
	quoted_spec(&q, IPPROTO_UDP, VIP, VIP_PORT, CLIENT, CLIENT_PORT);
	len = error_frame(&frag, ROUTER, VIP, lbt0_mac, client_mac, 64, &q, 0, in);
	run_expect(in, len, XDP_PASS, NULL, LB_C_ICMP_PASS_ERROR_NO_FLOW, LB_COUNTER_MAX,
		   "to backend: no mapping");
	mapping_add(IPPROTO_UDP, CLIENT, CLIENT_PORT, CLIENT_PORT + 1, 0);
	run_expect(in, len, XDP_PASS, NULL, LB_C_ICMP_PASS_ERROR_NO_FLOW, LB_COUNTER_MAX,
		   "to backend: the port now another flow's");
	mappings_clear();
	mapping_add(IPPROTO_UDP, CLIENT, CLIENT_PORT, CLIENT_PORT, 1);
	run_expect(in, len, XDP_PASS, NULL, LB_C_ICMP_PASS_ERROR_NO_FLOW, LB_COUNTER_MAX,
		   "to backend: UDP mapping expired");
	mappings_clear();
	mapping_add(IPPROTO_UDP, CLIENT, CLIENT_PORT, CLIENT_PORT, 0);
	len = error_frame(&frag, ROUTER, VIP, lbt0_mac, client_mac, 64, &q, 22, in);
	run_expect(in, len, XDP_PASS, NULL, LB_C_ICMP_PASS_ERROR_MALFORMED, LB_COUNTER_MAX,
		   "to backend: quote cut inside the ports");
	len = error_frame(&frag, ROUTER, VIP, lbt0_mac, client_mac, 1, &q, 0, in);
	run_expect(in, len, XDP_DROP, NULL, LB_C_NAT_DROP_TTL_EXCEEDED, LB_COUNTER_MAX,
		   "to backend: TTL 1, a router hop");

	quoted_spec(&q, IPPROTO_UDP, NAT_SOURCE, NAT_PORT + 1, BACKEND, VIP_PORT);
	len = error_frame(&frag, BACKEND, NAT_SOURCE, lbt0_mac, neigh_mac, 64, &q, 0, in);
	run_expect(in, len, XDP_PASS, NULL, LB_C_ICMP_PASS_ERROR_NO_FLOW, LB_COUNTER_MAX,
		   "to client: no mapping of that port");
	quoted_spec(&q, IPPROTO_UDP, NAT_SOURCE, NAT_PORT, BACKEND, VIP_PORT);
	len = error_frame(&frag, BACKEND, NAT_SOURCE, lbt0_mac, neigh_mac, 64, &q, 23, in);
	run_expect(in, len, XDP_PASS, NULL, LB_C_ICMP_PASS_ERROR_MALFORMED, LB_COUNTER_MAX,
		   "to client: quote cut inside the ports");
	quoted_spec(&q, IPPROTO_UDP, BACKEND, VIP_PORT, NAT_SOURCE, NAT_PORT);
	len = error_frame(&frag, BACKEND, NAT_SOURCE, lbt0_mac, neigh_mac, 64, &q, 0, in);
	run_expect(in, len, XDP_PASS, NULL, LB_C_ICMP_PASS_ERROR_NO_VIP, LB_COUNTER_MAX,
		   "to nat_source: a quote nat_source did not send");
	len = error_frame(&echo, BACKEND, NAT_SOURCE, lbt0_mac, neigh_mac, 64, &q, 0, in);
	run_expect(in, len, XDP_PASS, NULL, LB_C_ICMP_PASS_OTHER, LB_COUNTER_MAX,
		   "echo request to nat_source: the kernel's");

	/* The client's address has no route: dropped as the nat stage drops. */
	mappings_clear();
	mapping_add(IPPROTO_UDP, NO_ROUTE_ADDR, CLIENT_PORT, CLIENT_PORT, 0);
	quoted_spec(&q, IPPROTO_UDP, NAT_SOURCE, NAT_PORT, BACKEND, VIP_PORT);
	len = error_frame(&frag, BACKEND, NAT_SOURCE, lbt0_mac, neigh_mac, 64, &q, 0, in);
	run_expect(in, len, XDP_DROP, NULL, LB_C_ENCAP_DROP_NO_ROUTE, LB_COUNTER_MAX,
		   "to client: no route to the client");
}

/* nat_source is also a VIP's address (the lab's balancer is both): an error
 * to it quoting that VIP's reply (NAT_SOURCE:81 -> CLIENT:1234) names no
 * nat_reply mapping, so it is taken as one about the VIP's reply and goes to
 * the backend.
 */
static void test_nat_source_is_a_vip(void)
{
	static const struct pkt_icmp frag = { 3, 4, 1280 };
	static uint8_t in[PKT_MAX], want[PKT_MAX];
	struct lb_vip_key vkey = { .addr = pkt_ip(NAT_SOURCE), .port = htons(81),
				   .proto = IPPROTO_UDP };
	struct lb_vip vip = { .vip_id = 9, .pool_id = 9, .forwarding = LB_FORWARD_NAT,
			      .maglev_table = LB_NO_TABLE };
	struct lb_flow_key client = { .src = pkt_ip(CLIENT), .dst = pkt_ip(NAT_SOURCE),
				      .sport = htons(CLIENT_PORT), .dport = htons(81),
				      .proto = IPPROTO_UDP };
	struct lb_flow_key reply = { .src = pkt_ip(BACKEND), .dst = pkt_ip(NAT_SOURCE),
				     .sport = htons(81), .dport = htons(NAT_PORT),
				     .proto = IPPROTO_UDP };
	struct lb_nat_forward fwd = { .backend_addr = pkt_ip(BACKEND), .backend_port = htons(81),
				      .nat_port = htons(NAT_PORT) };
	struct lb_nat_reply entry = { .client_addr = pkt_ip(CLIENT), .vip_addr = pkt_ip(NAT_SOURCE),
				      .client_port = htons(CLIENT_PORT), .vip_port = htons(81),
				      .last_seen_ns = coarse_now_ns() };
	struct lb_vip_addr addr = { .vip_id = 9 };
	struct pkt_spec q_in, q_out;
	size_t len, want_len;

	REQUIRE_FIXTURE(&fx.status);
	mappings_clear();
	ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.vips), &vkey, &vip, BPF_ANY), "VIP");
	ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.vip_addrs), &vkey.addr, &addr,
				      BPF_ANY), "VIP address");
	ASSERT_OK(bpf_map_update_elem(nat_forward_fd, &client, &fwd, BPF_ANY), "nat_forward");
	ASSERT_OK(bpf_map_update_elem(nat_reply_fd, &reply, &entry, BPF_ANY), "nat_reply");
	quoted_spec(&q_in, IPPROTO_UDP, NAT_SOURCE, 81, CLIENT, CLIENT_PORT);
	quoted_spec(&q_out, IPPROTO_UDP, BACKEND, 81, NAT_SOURCE, NAT_PORT);
	len = error_frame(&frag, ROUTER, NAT_SOURCE, lbt0_mac, client_mac, 64, &q_in, 0, in);
	want_len = error_frame(&frag, NAT_SOURCE, BACKEND, neigh_mac, lbt0_mac, 63, &q_out, 0,
			       want);
	if (ASSERT_TRUE(len && len == want_len, "frames built"))
		run_expect(in, len, XDP_TX, want, LB_C_ICMP_NAT_ERROR_TO_BACKEND, LB_C_ENCAP_TX,
			   "error to nat_source about the VIP's reply");
	/* The backends' side still: an error quoting the mapping's packet. */
	mapping_add(IPPROTO_UDP, CLIENT, CLIENT_PORT, CLIENT_PORT, 0);
	quoted_spec(&q_in, IPPROTO_UDP, NAT_SOURCE, NAT_PORT, BACKEND, VIP_PORT);
	quoted_spec(&q_out, IPPROTO_UDP, CLIENT, CLIENT_PORT, VIP, VIP_PORT);
	len = error_frame(&frag, BACKEND, NAT_SOURCE, lbt0_mac, neigh_mac, 64, &q_in, 0, in);
	want_len = error_frame(&frag, VIP, CLIENT, client_mac, lbt0_mac, 63, &q_out, 0, want);
	if (ASSERT_TRUE(len && len == want_len, "frames built"))
		run_expect(in, len, XDP_TX, want, LB_C_ICMP_NAT_ERROR_TO_CLIENT, LB_C_ENCAP_TX,
			   "error to nat_source, a VIP address, about a mapping's packet");
	bpf_map_delete_elem(bpf_map__fd(skel->maps.vips), &vkey);
	bpf_map_delete_elem(bpf_map__fd(skel->maps.vip_addrs), &vkey.addr);
}

static void test_golden6_to_backend(void)
{
	REQUIRE_FIXTURE(&fx.status);
	mappings_clear();
	mapping6_add(CLIENT_PORT, 0);
	check_sums(to_backend6_in, sizeof(to_backend6_in), "golden input");
	run_expect(to_backend6_in, sizeof(to_backend6_in), XDP_TX, to_backend6_out,
		   LB_C_ICMP_NAT_ERROR_TO_BACKEND, LB_C_ENCAP_TX, "packet too big to the backend");
}

static void test_golden6_to_client(void)
{
	REQUIRE_FIXTURE(&fx.status);
	mappings_clear();
	mapping6_add(CLIENT_PORT, 0);
	check_sums(to_client6_in, sizeof(to_client6_in), "golden input");
	run_expect(to_client6_in, sizeof(to_client6_in), XDP_TX, to_client6_out,
		   LB_C_ICMP_NAT_ERROR_TO_CLIENT, LB_C_ENCAP_TX, "port unreachable to the client");
}

/* The IPv6 errors not translated: no mapping either way, an expired one, a
 * hop limit of 1.
 */
static void test_not_translated6(void)
{
	static uint8_t in[sizeof(to_backend6_in)];

	REQUIRE_FIXTURE(&fx.status);
	mappings_clear();
	run_expect(to_backend6_in, sizeof(to_backend6_in), XDP_PASS, NULL,
		   LB_C_ICMP_PASS_ERROR_NO_FLOW, LB_COUNTER_MAX, "to backend: no mapping");
	run_expect(to_client6_in, sizeof(to_client6_in), XDP_PASS, NULL,
		   LB_C_ICMP_PASS_ERROR_NO_FLOW, LB_COUNTER_MAX, "to client: no mapping");
	mapping6_add(CLIENT_PORT, 1);
	run_expect(to_backend6_in, sizeof(to_backend6_in), XDP_PASS, NULL,
		   LB_C_ICMP_PASS_ERROR_NO_FLOW, LB_COUNTER_MAX, "to backend: UDP mapping expired");
	run_expect(to_client6_in, sizeof(to_client6_in), XDP_PASS, NULL,
		   LB_C_ICMP_PASS_ERROR_NO_FLOW, LB_COUNTER_MAX, "to client: UDP mapping expired");
	mappings_clear();
	mapping6_add(CLIENT_PORT, 0);
	memcpy(in, to_backend6_in, sizeof(in));
	in[14 + 7] = 1; /* the hop limit, not in the ICMPv6 checksum */
	run_expect(in, sizeof(in), XDP_DROP, NULL, LB_C_NAT_DROP_TTL_EXCEEDED, LB_COUNTER_MAX,
		   "to backend: hop limit 1");
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_CASE(test_golden_to_backend),
		TEST_CASE(test_golden_to_client),
		TEST_CASE(test_translations),
		TEST_CASE(test_not_translated),
		TEST_CASE(test_nat_source_is_a_vip),
		TEST_CASE(test_golden6_to_backend),
		TEST_CASE(test_golden6_to_client),
		TEST_CASE(test_not_translated6),
	};
	int status;

	fixture_setup();
	status = test_main("icmp_nat", cases, ARRAY_SIZE(cases), argc, argv);
	fixture_teardown();
	return status;
}
