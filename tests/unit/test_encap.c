// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the IPIP encap stage: output bytes, next-hop verdicts, counters.
 *
 * The stage asks the kernel FIB for the next hop, so main() first moves the
 * process into a network namespace of its own (unshare): the veth pairs,
 * routes and neighbours below live there and vanish with the process.
 *
 *   lbt0 (02:00:00:00:00:0a, 10.0.0.10/16, MTU 1500) -- lbt1   ingress of every frame
 *     neighbour 10.0.1.1 -> 02:00:00:00:01:01 (permanent)
 *   lbt2 (02:00:00:00:00:2a) -- lbt3, route 10.9.0.0/16 dev lbt2
 *     neighbour 10.9.0.1 -> 02:00:00:00:09:01 (permanent)
 *   blackhole 198.51.100.0/24; no default route
 *
 * Expected frames are built here from the input, field by field (see
 * expected_encap()), and one golden case spells its bytes out by hand.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ipip.skel.h"
#include "lb_structs_common.h"
#include "packet.h"
#include "stage_fixture.h"
#include "test_harness.h"
#include "xdp_test_run.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define CLIENT "10.0.0.1"
#define LB_ADDR "10.0.0.10"
#define NEIGH_ADDR "10.0.1.1"
#define NO_NEIGH_ADDR "10.0.1.2"
#define STATIC_NO_NEIGH_ADDR "10.0.1.3"
#define LBT2_NEIGH_ADDR "10.9.0.1"
#define LBT2_NO_NEIGH_ADDR "10.9.0.2"
#define NO_ROUTE_ADDR "192.0.2.1"
#define STATIC_NO_ROUTE_ADDR "192.0.2.2"
#define BLACKHOLE_ADDR "198.51.100.1"

#define LBT0_MAC "02:00:00:00:00:0a"
#define LBT2_MAC "02:00:00:00:00:2a"
#define NEIGH_MAC "02:00:00:00:01:01"
#define LBT2_NEIGH_MAC "02:00:00:00:09:01"

static const uint8_t lbt0_mac[6] = { 0x02, 0, 0, 0, 0x00, 0x0a };
static const uint8_t lbt2_mac[6] = { 0x02, 0, 0, 0, 0x00, 0x2a };
static const uint8_t neigh_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t lbt2_neigh_mac[6] = { 0x02, 0, 0, 0, 0x09, 0x01 };
static const uint8_t static_mac[6] = { 0x02, 0, 0, 0, 0x0f, 0x01 };
static const uint8_t static_mac_2[6] = { 0x02, 0, 0, 0, 0x0f, 0x03 };

/* The network namespace; each command must succeed. */
static const char *const net_setup[] = {
	"ip link set lo up",
	"ip link add lbt0 address " LBT0_MAC " mtu 1500 type veth peer name lbt1",
	"ip link add lbt2 address " LBT2_MAC " type veth peer name lbt3",
	"ip addr add " LB_ADDR "/16 dev lbt0",
	"ip link set lbt0 up",
	"ip link set lbt1 up",
	"ip link set lbt2 up",
	"ip link set lbt3 up",
	"ip route add 10.9.0.0/16 dev lbt2",
	"ip route add blackhole 198.51.100.0/24",
	"ip neigh add " NEIGH_ADDR " lladdr " NEIGH_MAC " dev lbt0 nud permanent",
	"ip neigh add " LBT2_NEIGH_ADDR " lladdr " LBT2_NEIGH_MAC " dev lbt2 nud permanent",
};

#define FWD_ALL "/proc/sys/net/ipv4/conf/all/forwarding"
#define FWD_LBT0 "/proc/sys/net/ipv4/conf/lbt0/forwarding"

/* Backend slots the cases point at. */
enum {
	B_NEIGH,            /* next hop known: XDP_TX on lbt0 */
	B_STATIC,           /* same address, static MAC beats the neighbour's */
	B_NO_NEIGH,         /* on lbt0's subnet, no neighbour: to the stack */
	B_STATIC_NO_NEIGH,  /* no neighbour, but a static MAC */
	B_NO_ROUTE,         /* nothing routes there */
	B_STATIC_NO_ROUTE,  /* no route, static MAC: still no route */
	B_VIA_LBT2,         /* egress lbt2: XDP_REDIRECT */
	B_EMPTY,            /* unused slot */
	B_DRAIN,            /* draining backends still get their flows' packets */
	B_LOCAL,            /* the LB's own address: the FIB does not forward */
	B_BLACKHOLE,        /* blackhole route */
	B_STATIC_LBT2,      /* static MAC, no neighbour, egress lbt2: to the stack */
	B_OUT_OF_RANGE = LB_MAX_BACKENDS,
};

static const struct {
	uint32_t id;
	const char *addr;
	uint8_t state;
	const uint8_t *mac; /* static MAC, or NULL */
} test_backends[] = {
	{ B_NEIGH, NEIGH_ADDR, LB_BACKEND_UP, NULL },
	{ B_STATIC, NEIGH_ADDR, LB_BACKEND_UP, static_mac },
	{ B_NO_NEIGH, NO_NEIGH_ADDR, LB_BACKEND_UP, NULL },
	{ B_STATIC_NO_NEIGH, STATIC_NO_NEIGH_ADDR, LB_BACKEND_UP, static_mac_2 },
	{ B_NO_ROUTE, NO_ROUTE_ADDR, LB_BACKEND_UP, NULL },
	{ B_STATIC_NO_ROUTE, STATIC_NO_ROUTE_ADDR, LB_BACKEND_UP, static_mac },
	{ B_VIA_LBT2, LBT2_NEIGH_ADDR, LB_BACKEND_UP, NULL },
	{ B_EMPTY, NEIGH_ADDR, LB_BACKEND_EMPTY, NULL },
	{ B_DRAIN, NEIGH_ADDR, LB_BACKEND_DRAIN, NULL },
	{ B_LOCAL, LB_ADDR, LB_BACKEND_UP, NULL },
	{ B_BLACKHOLE, BLACKHOLE_ADDR, LB_BACKEND_UP, NULL },
	{ B_STATIC_LBT2, LBT2_NO_NEIGH_ADDR, LB_BACKEND_UP, static_mac },
};

static const char *backend_addr(uint32_t id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(test_backends); i++)
		if (test_backends[i].id == id)
			return test_backends[i].addr;
	return "0.0.0.0";
}

/* Everything the cases need: two loads of the stage sharing all maps. */
static struct {
	struct ipip_bpf *skel;        /* outer source = client (default) */
	struct ipip_bpf *skel_lb_src; /* outer_src_addr = LB_ADDR */
	int ctx_fd, counters_fd, backends_fd, tx_ports_fd;
	int lbt0, lbt2;
	struct fixture_status status;
} fx;

static int write_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(value, f) < 0)
		err = -EIO;
	if (fclose(f))
		err = -errno;
	return err;
}

static int net_namespace_setup(void)
{
	char command[256];
	size_t i;

	if (fixture_step(&fx.status, unshare(CLONE_NEWNET) ? -errno : 0, "unshare(CLONE_NEWNET)"))
		return fx.status.err;
	for (i = 0; i < ARRAY_SIZE(net_setup); i++) {
		snprintf(command, sizeof(command), "%s >/dev/null 2>&1", net_setup[i]);
		if (fixture_step(&fx.status, system(command) ? -EIO : 0, net_setup[i]))
			return fx.status.err;
	}
	if (fixture_step(&fx.status, write_sysctl(FWD_ALL, "1"), FWD_ALL) ||
	    fixture_step(&fx.status, write_sysctl(FWD_LBT0, "1"), FWD_LBT0))
		return fx.status.err;
	fx.lbt0 = (int)if_nametoindex("lbt0");
	fx.lbt2 = (int)if_nametoindex("lbt2");
	return fixture_step(&fx.status, fx.lbt0 && fx.lbt2 ? 0 : -ENODEV,
			    "if_nametoindex(lbt0, lbt2)");
}

/* The second load shares every map of the first; only .rodata differs. */
static int load_with_lb_source(void)
{
	struct bpf_map *map, *shared;
	int err;

	fx.skel_lb_src = ipip_bpf__open();
	if (!fx.skel_lb_src)
		return -errno;
	fx.skel_lb_src->rodata->outer_src_addr = pkt_ip(LB_ADDR);
	bpf_object__for_each_map(map, fx.skel_lb_src->obj) {
		if (bpf_map__is_internal(map))
			continue;
		shared = bpf_object__find_map_by_name(fx.skel->obj, bpf_map__name(map));
		err = shared ? bpf_map__reuse_fd(map, bpf_map__fd(shared)) : -ENOENT;
		if (err)
			return err;
	}
	return ipip_bpf__load(fx.skel_lb_src);
}

static int fill_backends(void)
{
	struct lb_backend backend;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(test_backends); i++) {
		memset(&backend, 0, sizeof(backend));
		backend.addr = pkt_ip(test_backends[i].addr);
		backend.state = test_backends[i].state;
		backend.weight = 1;
		if (test_backends[i].mac) {
			memcpy(backend.mac, test_backends[i].mac, 6);
			backend.flags = LB_BACKEND_F_STATIC_MAC;
		}
		if (bpf_map_update_elem(fx.backends_fd, &test_backends[i].id, &backend, BPF_ANY))
			return -errno;
	}
	return 0;
}

static void fixture_setup(void)
{
	if (geteuid() != 0 || net_namespace_setup())
		return;
	fx.skel = ipip_bpf__open_and_load();
	if (fixture_step(&fx.status, fx.skel ? 0 : -errno, "open and load ipip_bpf"))
		return;
	fx.ctx_fd = bpf_map__fd(fx.skel->maps.packet_ctx);
	fx.counters_fd = bpf_map__fd(fx.skel->maps.counters);
	fx.backends_fd = bpf_map__fd(fx.skel->maps.backends);
	fx.tx_ports_fd = bpf_map__fd(fx.skel->maps.tx_ports);
	if (fixture_step(&fx.status, load_with_lb_source(), "load ipip_bpf with outer_src_addr"))
		return;
	fixture_step(&fx.status, fill_backends(), "fill backends");
}

static void fixture_teardown(void)
{
	ipip_bpf__destroy(fx.skel_lb_src);
	ipip_bpf__destroy(fx.skel);
}

/* Writes the packet context parse and lb would leave, on every CPU: the test
 * run may land on any of them.
 */
static int packet_ctx_set(uint32_t backend_id, uint16_t l3_offset, const uint8_t *frame,
			  size_t len)
{
	struct lb_packet_ctx one = {
		.backend_id = backend_id,
		.l3_offset = l3_offset,
		.frame_len = (uint32_t)len,
		.flags = l3_offset == 18 ? LB_CTX_F_VLAN : 0,
	};

	if (len >= l3_offset + 20u) {
		one.ip_tot_len = (uint16_t)(frame[l3_offset + 2] << 8 | frame[l3_offset + 3]);
		one.flow.proto = frame[l3_offset + 9];
		memcpy(&one.flow.src, frame + l3_offset + 12, 4);
		memcpy(&one.flow.dst, frame + l3_offset + 16, 4);
	}
	return ctx_write_all_cpus(fx.ctx_fd, &one);
}

static int tx_port_set(int ifindex, int present)
{
	struct bpf_devmap_val value = { .ifindex = (uint32_t)ifindex };
	uint32_t key = (uint32_t)ifindex;

	if (present)
		return bpf_map_update_elem(fx.tx_ports_fd, &key, &value, BPF_ANY) ? -errno : 0;
	if (bpf_map_delete_elem(fx.tx_ports_fd, &key) && errno != ENOENT)
		return -errno;
	return 0;
}

static void put16(uint8_t *p, uint16_t host)
{
	p[0] = (uint8_t)(host >> 8);
	p[1] = (uint8_t)host;
}

/* What encap must make of @in, assembled field by field from RFC 2003 and the
 * brief, not from the BPF code: the L2 header with @dmac/@smac (NULL keeps the
 * frame's own), an outer IPv4 header, then everything behind the old L2 header
 * unchanged. Returns the length.
 */
static size_t expected_encap(const uint8_t *in, size_t in_len, size_t l2_len, const uint8_t *dmac,
			     const uint8_t *smac, uint32_t outer_src, uint32_t outer_dst,
			     uint8_t *out)
{
	const uint8_t *inner = in + l2_len;
	uint8_t *outer = out + l2_len;
	uint16_t csum;

	memcpy(out, in, l2_len);
	if (dmac)
		memcpy(out, dmac, 6);
	if (smac)
		memcpy(out + 6, smac, 6);
	outer[0] = 0x45;                                         /* version 4, IHL 5 */
	outer[1] = inner[1];                                     /* TOS */
	put16(outer + 2, (uint16_t)((inner[2] << 8 | inner[3]) + 20)); /* total length */
	outer[4] = inner[4];                                     /* id */
	outer[5] = inner[5];
	outer[6] = inner[6] & 0x40;                              /* DF, nothing else */
	outer[7] = 0;
	outer[8] = 64;                                           /* TTL */
	outer[9] = 4;                                            /* IPPROTO_IPIP */
	outer[10] = 0;
	outer[11] = 0;
	memcpy(outer + 12, &outer_src, 4);
	memcpy(outer + 16, &outer_dst, 4);
	csum = pkt_csum(outer, 20);
	memcpy(outer + 10, &csum, 2);
	memcpy(outer + 20, inner, in_len - l2_len);
	return in_len + 20;
}

enum expect_frame {
	OUT_UNCHANGED,   /* dropped: the frame as it came */
	OUT_ENCAP,       /* encapsulated, MACs set to dmac/smac */
	OUT_ENCAP_OWN_L2 /* encapsulated, the original Ethernet header kept */
};

struct encap_case {
	const char *name;
	/* input: the default UDP frame (pkt_spec_udp) with these changes */
	uint8_t proto;      /* 0: UDP */
	uint8_t tos;
	uint16_t frag_off;  /* host order, 0x4000 DF, 0x2000 MF */
	int vlan;           /* one 802.1Q tag */
	int ip_options;     /* 8 bytes of IP options */
	size_t payload_len; /* 0: 32 bytes */
	size_t padding;     /* zero bytes behind the IP packet (Ethernet padding) */
	size_t cut;         /* bytes cut off the end: a truncated IP packet */
	int qinq;           /* an 802.1ad tag in front of the 802.1Q one (needs .vlan) */
	uint8_t version;    /* IP version field, 0: 4 */
	uint16_t tot_len;   /* IP total length field, 0: the real one */
	/* context and environment */
	uint32_t backend_id;
	int l3_offset;      /* 0: the frame's own (14, or 18 with a tag) */
	int lb_source;      /* run the load with outer_src_addr = LB_ADDR */
	int lbt2_tx_port;   /* lbt2 is in tx_ports */
	int forwarding_off; /* lbt0 forwarding is 0 during the run */
	/* expectations */
	uint32_t verdict;
	enum expect_frame out;
	const uint8_t *dmac, *smac;
	enum lb_counter counter;
};

static size_t case_frame(const struct encap_case *c, uint8_t *frame, size_t cap)
{
	static const uint8_t options[8] = { 0x94, 0x04, 0x00, 0x00,  /* router alert */
					    0x01, 0x01, 0x01, 0x00 }; /* NOP x3, EOL */
	struct pkt_spec spec;
	size_t len;

	pkt_spec_udp(&spec);
	if (c->proto)
		spec.proto = c->proto;
	spec.tos = c->tos;
	spec.frag_off = c->frag_off;
	spec.vlan = c->vlan;
	spec.vlan_tci = 100;
	if (c->ip_options) {
		spec.ip_options = options;
		spec.ip_options_len = sizeof(options);
	}
	if (c->payload_len)
		spec.payload_len = c->payload_len;
	len = pkt_build(&spec, frame, cap);
	if (!len || len + c->padding > cap || c->cut >= len)
		return 0;
	memset(frame + len, 0, c->padding);
	len += c->padding - c->cut;
	if (c->version)
		frame[c->vlan ? 18 : 14] = (uint8_t)(c->version << 4 | 5);
	if (c->tot_len)
		put16(frame + (c->vlan ? 18 : 14) + 2, c->tot_len);
	if (c->qinq && len + 4 <= cap) {
		memmove(frame + 16, frame + 12, len - 12);
		put16(frame + 12, 0x88a8);
		put16(frame + 14, 200);
		len += 4;
	}
	return len;
}

/* Runs one case and checks verdict, bytes, outer checksum and counters. */
static void run_case(const struct encap_case *c)
{
	struct ipip_bpf *skel = c->lb_source ? fx.skel_lb_src : fx.skel;
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta delta = { c->counter, 1 };
	size_t l2_len = c->vlan ? 18 : 14, len, want_len;
	uint8_t frame[PKT_MAX], want[PKT_MAX + 64];
	struct xdp_result res;
	uint32_t outer_src;
	uint16_t l3_offset;

	len = case_frame(c, frame, sizeof(frame));
	if (!ASSERT_TRUE(len > 0, c->name))
		return;
	l3_offset = c->l3_offset ? (uint16_t)c->l3_offset : (uint16_t)l2_len;
	if (!ASSERT_OK(packet_ctx_set(c->backend_id, l3_offset, frame, len), c->name) ||
	    !ASSERT_OK(tx_port_set(fx.lbt2, c->lbt2_tx_port), c->name))
		return;
	if (c->forwarding_off && !ASSERT_OK(write_sysctl(FWD_LBT0, "0"), c->name))
		return;

	counters_read(fx.counters_fd, before);
	xdp_run(bpf_program__fd(skel->progs.xdp_lb_ipip), frame, len, fx.lbt0, &res);
	counters_read(fx.counters_fd, after);

	if (c->forwarding_off)
		ASSERT_OK(write_sysctl(FWD_LBT0, "1"), c->name);
	tx_port_set(fx.lbt2, 0);
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
	outer_src = c->lb_source ? pkt_ip(LB_ADDR) : pkt_ip(CLIENT);
	want_len = expected_encap(frame, len, l2_len, c->out == OUT_ENCAP ? c->dmac : NULL,
				  c->out == OUT_ENCAP ? c->smac : NULL, outer_src,
				  pkt_ip(backend_addr(c->backend_id)), want);
	if (!ASSERT_BYTES(res.out, res.out_len, want, want_len, c->name))
		test_hexdump("input", frame, len);
	/* A correct header checksum makes the sum over the header 0. */
	if (res.out_len >= l2_len + 20)
		ASSERT_EQ(pkt_csum(res.out + l2_len, 20), 0, c->name);
}

static void run_cases(const struct encap_case *cases, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		run_case(&cases[i]);
}

#define TX_VIA_NEIGH .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = neigh_mac, .smac = lbt0_mac, \
		     .counter = LB_C_ENCAP_TX
#define DROPPED(reason) .verdict = XDP_DROP, .out = OUT_UNCHANGED, .counter = LB_C_ENCAP_##reason

/* What the outer header and the frame look like. All go to B_NEIGH (XDP_TX). */
static const struct encap_case format_cases[] = {
	{ .name = "plain UDP", .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "plain TCP", .proto = IPPROTO_TCP, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "TOS and DF copied", .tos = 0xb8, .frag_off = 0x4000, .backend_id = B_NEIGH,
	  TX_VIA_NEIGH },
	{ .name = "inner fragment (MF, offset): outer frag_off 0", .frag_off = 0x2000 | 185,
	  .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "last fragment (offset, no MF): outer frag_off 0", .frag_off = 370,
	  .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "inner IP options preserved", .ip_options = 1, .frag_off = 0x4000,
	  .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "VLAN tag kept", .vlan = 1, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "VLAN tag kept, TCP with options", .vlan = 1, .proto = IPPROTO_TCP,
	  .ip_options = 1, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "Ethernet padding stays behind the inner packet", .payload_len = 2,
	  .padding = 16, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "outer source = configured LB address", .lb_source = 1, .tos = 0x10,
	  .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "outer source = configured LB address, VLAN", .lb_source = 1, .vlan = 1,
	  .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "draining backend still gets its packets", .backend_id = B_DRAIN,
	  TX_VIA_NEIGH },
	{ .name = "MTU: inner 1480 + 20 = lbt0 MTU 1500 fits", .payload_len = 1480 - 28,
	  .frag_off = 0x4000, .backend_id = B_NEIGH, TX_VIA_NEIGH },
};

/* Next-hop outcomes: MACs, verdict, and the reason counter. */
static const struct encap_case next_hop_cases[] = {
	{ .name = "static MAC beats the neighbour's", .backend_id = B_STATIC,
	  .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = static_mac, .smac = lbt0_mac,
	  .counter = LB_C_ENCAP_TX },
	{ .name = "static MAC, no neighbour: XDP_TX, source MAC = frame's destination",
	  .backend_id = B_STATIC_NO_NEIGH, .verdict = XDP_TX, .out = OUT_ENCAP,
	  .dmac = static_mac_2, .smac = lbt0_mac, .counter = LB_C_ENCAP_TX },
	{ .name = "no neighbour: XDP_PASS, encapsulated, own Ethernet header",
	  .backend_id = B_NO_NEIGH, .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2,
	  .counter = LB_C_ENCAP_PASS_NO_NEIGH },
	{ .name = "no neighbour, VLAN: XDP_PASS, own Ethernet header and tag", .vlan = 1,
	  .backend_id = B_NO_NEIGH, .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2,
	  .counter = LB_C_ENCAP_PASS_NO_NEIGH },
	{ .name = "static MAC, no neighbour, egress lbt2 (MAC unknown): XDP_PASS",
	  .backend_id = B_STATIC_LBT2, .lbt2_tx_port = 1, .verdict = XDP_PASS,
	  .out = OUT_ENCAP_OWN_L2, .counter = LB_C_ENCAP_PASS_NO_NEIGH },
	{ .name = "egress lbt2 in tx_ports: XDP_REDIRECT with lbt2's MACs",
	  .backend_id = B_VIA_LBT2, .lbt2_tx_port = 1, .verdict = XDP_REDIRECT,
	  .out = OUT_ENCAP, .dmac = lbt2_neigh_mac, .smac = lbt2_mac,
	  .counter = LB_C_ENCAP_REDIRECT },
	{ .name = "egress lbt2 not in tx_ports", .backend_id = B_VIA_LBT2,
	  DROPPED(DROP_NO_TX_PORT) },
	{ .name = "no route", .backend_id = B_NO_ROUTE, DROPPED(DROP_NO_ROUTE) },
	{ .name = "static MAC does not stand in for a route", .backend_id = B_STATIC_NO_ROUTE,
	  DROPPED(DROP_NO_ROUTE) },
	{ .name = "blackhole route", .backend_id = B_BLACKHOLE, DROPPED(DROP_NO_ROUTE) },
	{ .name = "backend is a local address", .backend_id = B_LOCAL,
	  DROPPED(DROP_NO_ROUTE) },
	{ .name = "MTU: inner 1481 + 20 > lbt0 MTU 1500", .payload_len = 1481 - 28,
	  .frag_off = 0x4000, .backend_id = B_NEIGH, DROPPED(DROP_MTU) },
	{ .name = "MTU: also without DF (the LB does not fragment)", .payload_len = 1481 - 28,
	  .backend_id = B_NEIGH, DROPPED(DROP_MTU) },
	{ .name = "forwarding off on lbt0", .forwarding_off = 1, .backend_id = B_NEIGH,
	  DROPPED(DROP_FWD_DISABLED) },
};

/* Contexts encap must not trust. */
static const struct encap_case bad_ctx_cases[] = {
	{ .name = "backend id out of range", .backend_id = B_OUT_OF_RANGE,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "backend id LB_NO_BACKEND", .backend_id = LB_NO_BACKEND,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "EMPTY backend", .backend_id = B_EMPTY, DROPPED(DROP_BAD_CTX) },
	{ .name = "l3_offset 16", .l3_offset = 16, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "l3_offset 65535", .l3_offset = 0xffff, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "l3_offset 14 on a tagged frame: no IPv4 there", .vlan = 1, .l3_offset = 14,
	  .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "l3_offset 18 on an untagged frame", .l3_offset = 18, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "l3_offset 22: two tags (QinQ) are not supported", .vlan = 1, .qinq = 1,
	  .l3_offset = 22, .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "IP version 6 at l3_offset", .version = 6, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "IPv4 header cut short", .payload_len = 1, .cut = 1 + 8 + 10,
	  .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "IPv4 total length below the header size", .tot_len = 19,
	  .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "IPv4 total length beyond the frame", .cut = 1, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
};

static void test_outer_header_format(void)
{
	REQUIRE_FIXTURE(&fx.status);
	run_cases(format_cases, ARRAY_SIZE(format_cases));
}

static void test_next_hop(void)
{
	REQUIRE_FIXTURE(&fx.status);
	run_cases(next_hop_cases, ARRAY_SIZE(next_hop_cases));
}

static void test_bad_context(void)
{
	REQUIRE_FIXTURE(&fx.status);
	run_cases(bad_ctx_cases, ARRAY_SIZE(bad_ctx_cases));
}

/* Bytes worked out by hand: 10.0.0.1:1234 -> 10.0.0.100:80, UDP, 4 bytes
 * of payload, DF, id 0x1234, to backend 10.0.1.1 behind 02:00:00:00:01:01.
 *   inner header checksum: ~(4500+0020+1234+4000+4011+0a00+0001+0a00+0064) = 1435
 *   UDP checksum: ~(0a00+0001+0a00+0064+0011+000c + 04d2+0050+000c + 0001+0203) = e44b
 *   outer header checksum: ~(4500+0034+1234+4000+4004+0a00+0001+0a00+0101) = 1391
 */
static const uint8_t golden_in[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x14, 0x35,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x64,
	0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0xe4, 0x4b, 0x00, 0x01, 0x02, 0x03,
};

static const uint8_t golden_out[] = {
	0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x34, 0x12, 0x34, 0x40, 0x00, 0x40, 0x04, 0x13, 0x91,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x01, 0x01,
	0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x14, 0x35,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x64,
	0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0xe4, 0x4b, 0x00, 0x01, 0x02, 0x03,
};

static void test_golden_bytes(void)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta tx = { LB_C_ENCAP_TX, 1 };
	uint8_t built[PKT_MAX];
	struct pkt_spec spec;
	struct xdp_result res;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	/* The hand-made input is the frame the builder makes, so the hand sums
	 * above also check pkt_build, which the other cases rely on.
	 */
	pkt_spec_udp(&spec);
	spec.payload_len = 4;
	spec.frag_off = 0x4000;
	len = pkt_build(&spec, built, sizeof(built));
	ASSERT_BYTES(built, len, golden_in, sizeof(golden_in), "pkt_build vs hand-made input");

	if (!ASSERT_OK(packet_ctx_set(B_NEIGH, 14, golden_in, sizeof(golden_in)), "packet ctx"))
		return;
	counters_read(fx.counters_fd, before);
	xdp_run(bpf_program__fd(fx.skel->progs.xdp_lb_ipip), golden_in, sizeof(golden_in), fx.lbt0,
		&res);
	counters_read(fx.counters_fd, after);
	ASSERT_OK(res.err, "test run");
	ASSERT_EQ(res.verdict, XDP_TX, "verdict");
	ASSERT_BYTES(res.out, res.out_len, golden_out, sizeof(golden_out), "golden frame");
	counters_expect(before, after, &tx, 1, "golden counters");
}

static const struct test_case cases[] = {
	TEST_CASE(test_golden_bytes),
	TEST_CASE(test_outer_header_format),
	TEST_CASE(test_next_hop),
	TEST_CASE(test_bad_context),
};

int main(int argc, char **argv)
{
	int status;

	/* The namespace first: the FIB lookups must see only this test's network. */
	fixture_setup();
	status = test_main("encap", cases, ARRAY_SIZE(cases), argc, argv);
	fixture_teardown();
	return status;
}
