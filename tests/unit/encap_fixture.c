// SPDX-License-Identifier: GPL-2.0
/* Network, backends and case runner of the encap stage tests; see encap_fixture.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counter_names.h"
#include "encap_fixture.h"
#include "packet.h"
#include "test_harness.h"

#define LBT0_MAC "02:00:00:00:00:0a"
#define LBT2_MAC "02:00:00:00:00:2a"
#define NEIGH_MAC "02:00:00:00:01:01"
#define LBT2_NEIGH_MAC "02:00:00:00:09:01"

const uint8_t lbt0_mac[6] = { 0x02, 0, 0, 0, 0x00, 0x0a };
const uint8_t lbt2_mac[6] = { 0x02, 0, 0, 0, 0x00, 0x2a };
const uint8_t neigh_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
const uint8_t lbt2_neigh_mac[6] = { 0x02, 0, 0, 0, 0x09, 0x01 };
const uint8_t static_mac[6] = { 0x02, 0, 0, 0, 0x0f, 0x01 };
const uint8_t static_mac_2[6] = { 0x02, 0, 0, 0, 0x0f, 0x03 };

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
	/* IPv6 beside it, for test_ipip6.c */
	"ip -6 addr add " LB6_ADDR "/64 dev lbt0 nodad",
	"ip -6 neigh add " NEIGH6_ADDR " lladdr " NEIGH_MAC " dev lbt0 nud permanent",
	"ip -6 route add 2001:db8:9::/64 dev lbt2",
	"ip -6 neigh add " LBT2_NEIGH6_ADDR " lladdr " LBT2_NEIGH_MAC " dev lbt2 nud permanent",
	"ip -6 route add blackhole 2001:db8:dead::/48",
};

#define FWD_ALL "/proc/sys/net/ipv4/conf/all/forwarding"
#define FWD_LBT0 "/proc/sys/net/ipv4/conf/lbt0/forwarding"
#define FWD6_ALL "/proc/sys/net/ipv6/conf/all/forwarding"

void encap_run_expect(struct encap_fixture *fx, int prog_fd, const uint8_t *in, size_t len,
		      uint32_t verdict, const uint8_t *expected, enum lb_counter counter,
		      const char *what)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta delta = { counter, 1 };
	struct xdp_result res;

	counters_read(fx->counters_fd, before);
	xdp_run(prog_fd, in, len, fx->lbt0, &res);
	counters_read(fx->counters_fd, after);
	if (!ASSERT_OK(res.err, what))
		return;
	ASSERT_STREQ(xdp_verdict_name(res.verdict), xdp_verdict_name(verdict), what);
	ASSERT_BYTES(res.out, res.out_len, expected ? expected : in, len, what);
	counters_expect(before, after, &delta, 1, what);
}

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

int write_sysctl(const char *path, const char *value)
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

int encap_net_setup(struct encap_fixture *fx)
{
	char command[256];
	size_t i;

	if (fixture_step(&fx->status, unshare(CLONE_NEWNET) ? -errno : 0, "unshare(CLONE_NEWNET)"))
		return fx->status.err;
	for (i = 0; i < ARRAY_SIZE(net_setup); i++) {
		snprintf(command, sizeof(command), "%s >/dev/null 2>&1", net_setup[i]);
		if (fixture_step(&fx->status, system(command) ? -EIO : 0, net_setup[i]))
			return fx->status.err;
	}
	if (fixture_step(&fx->status, write_sysctl(FWD_ALL, "1"), FWD_ALL) ||
	    fixture_step(&fx->status, write_sysctl(FWD_LBT0, "1"), FWD_LBT0) ||
	    fixture_step(&fx->status, write_sysctl(FWD6_ALL, "1"), FWD6_ALL) ||
	    fixture_step(&fx->status, write_sysctl(FWD6_LBT0, "1"), FWD6_LBT0))
		return fx->status.err;
	fx->lbt0 = (int)if_nametoindex("lbt0");
	fx->lbt2 = (int)if_nametoindex("lbt2");
	return fixture_step(&fx->status, fx->lbt0 && fx->lbt2 ? 0 : -ENODEV,
			    "if_nametoindex(lbt0, lbt2)");
}

int encap_share_maps(struct bpf_object *second, const struct bpf_object *first)
{
	struct bpf_map *map, *shared;
	int err;

	bpf_object__for_each_map(map, second) {
		if (bpf_map__is_internal(map))
			continue;
		shared = bpf_object__find_map_by_name(first, bpf_map__name(map));
		err = shared ? bpf_map__reuse_fd(map, bpf_map__fd(shared)) : -ENOENT;
		if (err)
			return err;
	}
	return 0;
}

static int fill_backends(int backends_fd)
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
		if (bpf_map_update_elem(backends_fd, &test_backends[i].id, &backend, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int map_fd(const struct bpf_object *obj, const char *name)
{
	const struct bpf_map *map = bpf_object__find_map_by_name(obj, name);

	return map ? bpf_map__fd(map) : -ENOENT;
}

int encap_maps_setup(struct encap_fixture *fx, const struct bpf_object *stage_obj)
{
	fx->ctx_fd = map_fd(stage_obj, "packet_ctx");
	fx->counters_fd = map_fd(stage_obj, "counters");
	fx->backends_fd = map_fd(stage_obj, "backends");
	fx->tx_ports_fd = map_fd(stage_obj, "tx_ports");
	fx->vip_drops_fd = map_fd(stage_obj, "vip_drops");
	if (fx->ctx_fd < 0 || fx->counters_fd < 0 || fx->backends_fd < 0 || fx->tx_ports_fd < 0 ||
	    fx->vip_drops_fd < 0)
		return -ENOENT;
	return fill_backends(fx->backends_fd);
}

/* CLOCK_MONOTONIC_COARSE, the clock of bpf_ktime_get_coarse_ns(). */
static uint64_t coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const struct {
	uint32_t id;
	const char *addr;
	const uint8_t *mac;
} backends6[] = {
	{ B6_NEIGH, NEIGH6_ADDR, NULL },
	{ B6_STATIC, NEIGH6_ADDR, static_mac },
	{ B6_NO_NEIGH, NO_NEIGH6_ADDR, NULL },
	{ B6_VIA_LBT2, LBT2_NEIGH6_ADDR, NULL },
	{ B6_NO_ROUTE, NO_ROUTE6_ADDR, NULL },
	{ B6_BLACKHOLE, BLACKHOLE6_ADDR, NULL },
	{ B6_LOCAL, LB6_ADDR, NULL },
};

const char *encap_backend6_addr(uint32_t id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(backends6); i++)
		if (backends6[i].id == id)
			return backends6[i].addr;
	return "::";
}

int encap_backends6_setup(struct encap_fixture *fx)
{
	struct lb_backend be;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(backends6); i++) {
		memset(&be, 0, sizeof(be));
		pkt_ip6(backends6[i].addr, be.addr6);
		be.flags = LB_BACKEND_F_IPV6;
		be.state = LB_BACKEND_UP;
		be.weight = 1;
		if (backends6[i].mac) {
			memcpy(be.mac, backends6[i].mac, 6);
			be.flags |= LB_BACKEND_F_STATIC_MAC;
		}
		if (bpf_map_update_elem(fx->backends_fd, &backends6[i].id, &be, BPF_ANY))
			return -errno;
	}
	return 0;
}

void encap_ctx6_from_frame(uint32_t backend_id, uint8_t proto, bool fragment,
			   const uint8_t *frame, size_t len, const struct pkt_layout *lay,
			   struct lb_packet_ctx *ctx)
{
	const uint8_t *ip = frame + lay->l3;

	memset(ctx, 0, sizeof(*ctx));
	ctx->backend_id = backend_id;
	ctx->l3_offset = (uint16_t)lay->l3;
	ctx->l4_offset = (uint16_t)lay->l4;
	ctx->frame_len = (uint32_t)len;
	ctx->flags = LB_CTX_F_IPV6 | (fragment ? LB_CTX_F_FRAGMENT : 0);
	ctx->ip_tot_len = (uint16_t)(40 + pkt_get16(ip + 4));
	memcpy(ctx->flow6.src, ip + 8, 16);
	memcpy(ctx->flow6.dst, ip + 24, 16);
	ctx->flow6.proto = proto;
	ctx->l4_proto = proto;
	if (!fragment) {
		memcpy(&ctx->flow6.sport, frame + lay->l4, 2);
		memcpy(&ctx->flow6.dport, frame + lay->l4 + 2, 2);
	}
}

void encap_ctx_from_frame(uint32_t backend_id, uint16_t l3_offset, const uint8_t *frame,
			  size_t len, struct lb_packet_ctx *ctx)
{
	const uint8_t *ip;
	size_t ihl;

	memset(ctx, 0, sizeof(*ctx));
	ctx->backend_id = backend_id;
	/* As lb stamps it: the clock the next-hop cache expires by. */
	ctx->now_ns = coarse_now_ns();
	ctx->l3_offset = l3_offset;
	ctx->frame_len = (uint32_t)len;
	ctx->flags = 0;
	if (len < l3_offset + 20u)
		return;
	ip = frame + l3_offset;
	ctx->ip_tot_len = pkt_get16(ip + 2);
	ctx->l4_offset = (uint16_t)(l3_offset + (ip[0] & 0x0f) * 4);
	ctx->flow.proto = ip[9];
	ctx->l4_proto = ip[9];
	memcpy(&ctx->flow.src, ip + 12, 4);
	memcpy(&ctx->flow.dst, ip + 16, 4);
	/* Like parse: only a whole packet has ports to hash (MF or an offset
	 * makes a fragment), and they are copied in network byte order.
	 */
	if (pkt_get16(ip + 6) & 0x3fff) {
		ctx->flags |= LB_CTX_F_FRAGMENT;
		return;
	}
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if ((ctx->flow.proto == IPPROTO_UDP || ctx->flow.proto == IPPROTO_TCP) &&
	    l3_offset + ihl + 4 <= len) {
		memcpy(&ctx->flow.sport, ip + ihl, 2);
		memcpy(&ctx->flow.dport, ip + ihl + 2, 2);
	}
}

void encap_expected_l2(const uint8_t *in, size_t l2_len, const uint8_t *dmac,
		       const uint8_t *smac, uint8_t *out)
{
	memcpy(out, in, l2_len);
	if (dmac)
		memcpy(out, dmac, 6);
	if (smac)
		memcpy(out + 6, smac, 6);
}

size_t encap_expected(const uint8_t *in, size_t in_len, size_t l2_len, const uint8_t *dmac,
		      const uint8_t *smac, uint32_t outer_src, uint32_t outer_dst,
		      uint8_t protocol, const uint8_t *own, size_t own_len, uint8_t *out)
{
	const uint8_t *inner = in + l2_len;
	uint8_t *outer = out + l2_len;
	uint16_t csum;

	encap_expected_l2(in, l2_len, dmac, smac, out);
	outer[0] = 0x45;                                         /* version 4, IHL 5 */
	outer[1] = inner[1];                                     /* TOS */
	pkt_put16(outer + 2, (uint16_t)(pkt_get16(inner + 2) + 20 + own_len)); /* total length */
	outer[4] = inner[4];                                     /* id */
	outer[5] = inner[5];
	outer[6] = inner[6] & 0x40;                              /* DF, nothing else */
	outer[7] = 0;
	outer[8] = 64;                                           /* TTL */
	outer[9] = protocol;
	outer[10] = 0;
	outer[11] = 0;
	memcpy(outer + 12, &outer_src, 4);
	memcpy(outer + 16, &outer_dst, 4);
	csum = pkt_csum(outer, 20);
	memcpy(outer + 10, &csum, 2);
	memcpy(outer + 20, own, own_len);
	memcpy(outer + 20 + own_len, inner, in_len - l2_len);
	return in_len + 20 + own_len;
}

size_t encap_case_frame(const struct encap_case *c, uint8_t *frame, size_t cap)
{
	static const uint8_t options[8] = { 0x94, 0x04, 0x00, 0x00,  /* router alert */
					    0x01, 0x01, 0x01, 0x00 }; /* NOP x3, EOL */
	struct pkt_layout lay;
	struct pkt_spec spec;
	size_t len;

	pkt_spec_udp(&spec);
	if (c->proto)
		spec.proto = c->proto;
	spec.tos = c->tos;
	spec.frag_off = c->frag_off;
	if (c->qinq) /* an 802.1ad tag in front of the 802.1Q one */
		spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021AD, 200 };
	if (c->vlan)
		spec.tags[spec.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, 100 };
	if (c->ip_options) {
		spec.ip_options = options;
		spec.ip_options_len = sizeof(options);
	}
	if (c->payload_len)
		spec.payload_len = c->payload_len;
	if (c->sport)
		spec.sport = c->sport;
	spec.padding = c->padding;
	len = pkt_build(&spec, frame, cap);
	pkt_layout(&spec, &lay);
	if (!len || c->cut >= lay.ip_end)
		return 0;
	len -= c->cut;
	/* Written over the built header: its checksum stays that of the right one. */
	if (c->version)
		frame[lay.l3] = (uint8_t)(c->version << 4 | 5);
	if (c->tot_len)
		pkt_put16(frame + lay.l3 + 2, c->tot_len);
	return len;
}

static int tx_port_set(const struct encap_fixture *fx, int ifindex, int present)
{
	struct bpf_devmap_val value = { .ifindex = (uint32_t)ifindex };
	uint32_t key = (uint32_t)ifindex;

	if (present)
		return bpf_map_update_elem(fx->tx_ports_fd, &key, &value, BPF_ANY) ? -errno : 0;
	if (bpf_map_delete_elem(fx->tx_ports_fd, &key) && errno != ENOENT)
		return -errno;
	return 0;
}

void encap_run_case(struct encap_fixture *fx, const struct encap_case *asked,
		    struct xdp_result *res)
{
	struct encap_case sized = *asked;
	const struct encap_case *c = &sized;
	const struct encap_stage *stage = &fx->stage;
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta delta = { c->counter, 1 };
	size_t l2_len = c->vlan ? 18 : 14, len, want_len, own_len = 0;
	uint8_t frame[PKT_MAX], want[PKT_MAX + 20 + ENCAP_OWN_HEADERS_MAX];
	uint8_t own[ENCAP_OWN_HEADERS_MAX];
	struct lb_packet_ctx ctx;
	struct lb_vip_drops drops_before, drops_after;
	uint32_t outer_src, d;
	uint16_t l3_offset;

	memset(res, 0, sizeof(*res));
	/* The inner packet: MTU minus outer IPv4 and the stage's headers (+1
	 * to exceed); its payload: that minus the inner IPv4 and UDP headers.
	 */
	if (c->mtu_edge)
		sized.payload_len = LBT0_MTU - 20 - stage->own_len - 20 - 8 +
				    (c->mtu_edge == MTU_EXCEEDED);
	len = encap_case_frame(c, frame, sizeof(frame));
	if (!ASSERT_TRUE(len > 0, c->name))
		return;
	l3_offset = c->l3_offset ? (uint16_t)c->l3_offset : (uint16_t)l2_len;
	encap_ctx_from_frame(c->backend_id, l3_offset, frame, len, &ctx);
	if (c->ctx_sport)
		ctx.flow.sport = htons(c->ctx_sport);
	if (c->l4_offset)
		ctx.l4_offset = (uint16_t)c->l4_offset;
	if (c->ctx_fit) /* lengths that pass every compare: only the frame can tell */
		ctx.ip_tot_len = (uint16_t)(len - l3_offset);
	ctx.frame_len += (uint32_t)c->frame_len_delta;
	if (!ASSERT_OK(ctx_write_all_cpus(fx->ctx_fd, &ctx), c->name) ||
	    !ASSERT_OK(tx_port_set(fx, fx->lbt2, c->lbt2_tx_port), c->name))
		return;
	if (c->forwarding_off && !ASSERT_OK(write_sysctl(FWD_LBT0, "0"), c->name))
		return;

	counters_read(fx->counters_fd, before);
	percpu_sum_u64(fx->vip_drops_fd, &ctx.vip_id, &drops_before, sizeof(drops_before));
	xdp_run(c->lb_source ? stage->prog_fd_lb_source : stage->prog_fd, frame, len, fx->lbt0,
		res);
	counters_read(fx->counters_fd, after);
	percpu_sum_u64(fx->vip_drops_fd, &ctx.vip_id, &drops_after, sizeof(drops_after));
	/* A drop counts for the context's VIP too (vip_drops), nothing else does. */
	for (d = 0; d < LB_VIP_DROP_MAX; d++) {
		char what[160];

		snprintf(what, sizeof(what), "%s: the VIP's %s.%s", c->name,
			 lb_counter_stage(lb_vip_drop_counter(d)),
			 lb_counter_reason(lb_vip_drop_counter(d)));
		ASSERT_EQ(drops_after.count[d] - drops_before.count[d],
			  lb_vip_drop_counter(d) == (unsigned int)c->counter, what);
	}

	if (c->forwarding_off)
		ASSERT_OK(write_sysctl(FWD_LBT0, "1"), c->name);
	tx_port_set(fx, fx->lbt2, 0);
	if (!ASSERT_OK(res->err, c->name))
		return;
	if (res->verdict != c->verdict)
		test_fail(__FILE__, __LINE__, "%s: verdict %s, expected %s", c->name,
			  xdp_verdict_name(res->verdict), xdp_verdict_name(c->verdict));
	counters_expect(before, after, &delta, 1, c->name);

	if (c->out == OUT_UNCHANGED) {
		if (!ASSERT_BYTES(res->out, res->out_len, frame, len, c->name))
			test_hexdump("input", frame, len);
		return;
	}
	if (c->out == OUT_ICMP_FRAG || c->out == OUT_ICMP_FRAG_OWN_L2) {
		/* The limit (lbt0's MTU, the route's or the ingress') less
		 * what the stage adds in front of the packet.
		 */
		want_len = pkt_frag_needed(frame, l2_len, c->out == OUT_ICMP_FRAG,
					   (uint16_t)(LBT0_MTU - 20 - stage->own_len), want);
		if (!ASSERT_BYTES(res->out, res->out_len, want, want_len, c->name))
			test_hexdump("input", frame, len);
		/* Right checksums sum to 0: the IPv4 header, the ICMP message. */
		if (res->out_len == want_len) {
			ASSERT_EQ(pkt_csum(res->out + l2_len, 20), 0, c->name);
			ASSERT_EQ(pkt_csum(res->out + l2_len + 20, want_len - l2_len - 20), 0,
				  c->name);
		}
		return;
	}
	if (stage->own_headers)
		own_len = stage->own_headers(c, &ctx, frame + l2_len, own);
	outer_src = c->lb_source ? pkt_ip(LB_ADDR) : pkt_ip(CLIENT);
	want_len = encap_expected(frame, len, l2_len, c->out == OUT_ENCAP ? c->dmac : NULL,
				  c->out == OUT_ENCAP ? c->smac : NULL, outer_src,
				  pkt_ip(backend_addr(c->backend_id)), stage->outer_protocol, own,
				  own_len, want);
	if (!ASSERT_BYTES(res->out, res->out_len, want, want_len, c->name))
		test_hexdump("input", frame, len);
	/* A correct header checksum makes the sum over the header 0. */
	if (res->out_len >= l2_len + 20)
		ASSERT_EQ(pkt_csum(res->out + l2_len, 20), 0, c->name);
}

/* What the outer headers and the frame look like. All go to B_NEIGH (XDP_TX). */
const struct encap_case encap_format_cases[] = {
	{ .name = "plain UDP", .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "plain TCP", .proto = IPPROTO_TCP, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "TOS and DF copied", .tos = 0xb8, .frag_off = 0x4000, .backend_id = B_NEIGH,
	  TX_VIA_NEIGH },
	{ .name = "inner fragment (MF, offset): outer frag_off 0, flow key without ports",
	  .frag_off = 0x2000 | 185, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "last fragment (offset, no MF): outer frag_off 0", .frag_off = 370,
	  .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "inner IP options preserved, counted in the outer lengths", .ip_options = 1,
	  .frag_off = 0x4000, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "VLAN tag kept", .vlan = 1, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "VLAN tag kept, TCP with options", .vlan = 1, .proto = IPPROTO_TCP,
	  .ip_options = 1, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "Ethernet padding: behind the inner packet, not in the outer lengths",
	  .payload_len = 2, .padding = 16, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "second load's tunables (outer source = LB address)", .lb_source = 1,
	  .tos = 0x10, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "second load's tunables, VLAN", .lb_source = 1, .vlan = 1,
	  .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "second load's tunables, VLAN, TCP", .lb_source = 1, .vlan = 1,
	  .proto = IPPROTO_TCP, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "draining backend still gets its packets", .backend_id = B_DRAIN,
	  TX_VIA_NEIGH },
};
const size_t encap_format_case_count = ARRAY_SIZE(encap_format_cases);

/* Contexts no encap stage may trust: encap_begin() checks them for all. */
const struct encap_case encap_next_hop_cases[] = {
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
	{ .name = "static MAC, routed via lbt2: no FIB asked, out of the ingress to the MAC",
	  .backend_id = B_STATIC_LBT2, .lbt2_tx_port = 1, .verdict = XDP_TX, .out = OUT_ENCAP,
	  .dmac = static_mac, .smac = lbt0_mac, .counter = LB_C_ENCAP_TX },
	{ .name = "static MAC, VLAN: tag kept, out of the ingress to the MAC", .vlan = 1,
	  .backend_id = B_STATIC, .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = static_mac,
	  .smac = lbt0_mac, .counter = LB_C_ENCAP_TX },
	{ .name = "static MAC, forwarding off: no FIB asked, XDP_TX", .forwarding_off = 1,
	  .backend_id = B_STATIC, .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = static_mac,
	  .smac = lbt0_mac, .counter = LB_C_ENCAP_TX },
	{ .name = "static MAC: encapsulated = ingress MTU 1500 fits", .mtu_edge = MTU_FITS,
	  .frag_off = 0x4000, .backend_id = B_STATIC, .verdict = XDP_TX, .out = OUT_ENCAP,
	  .dmac = static_mac, .smac = lbt0_mac, .counter = LB_C_ENCAP_TX },
	{ .name = "static MAC: ingress MTU + 1, DF: ICMP fragmentation needed",
	  .mtu_edge = MTU_EXCEEDED, .frag_off = 0x4000, .backend_id = B_STATIC, FRAG_NEEDED },
	{ .name = "static MAC: ingress MTU + 1, no DF: to the kernel to fragment",
	  .mtu_edge = MTU_EXCEEDED, .backend_id = B_STATIC, TOO_BIG_NO_DF },
	{ .name = "egress lbt2 in tx_ports: XDP_REDIRECT with lbt2's MACs",
	  .backend_id = B_VIA_LBT2, .lbt2_tx_port = 1, .verdict = XDP_REDIRECT,
	  .out = OUT_ENCAP, .dmac = lbt2_neigh_mac, .smac = lbt2_mac,
	  .counter = LB_C_ENCAP_REDIRECT },
	{ .name = "egress lbt2 not in tx_ports: XDP_PASS, the kernel forwards it",
	  .backend_id = B_VIA_LBT2, .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2,
	  .counter = LB_C_ENCAP_PASS_TO_STACK },
	{ .name = "no route", .backend_id = B_NO_ROUTE, DROPPED(DROP_NO_ROUTE) },
	{ .name = "static MAC, no route: no FIB asked, XDP_TX", .backend_id = B_STATIC_NO_ROUTE,
	  .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = static_mac, .smac = lbt0_mac,
	  .counter = LB_C_ENCAP_TX },
	{ .name = "blackhole route", .backend_id = B_BLACKHOLE, DROPPED(DROP_NO_ROUTE) },
	{ .name = "backend is a local address", .backend_id = B_LOCAL,
	  DROPPED(DROP_NO_ROUTE) },
	{ .name = "MTU: encapsulated = lbt0 MTU 1500 fits", .mtu_edge = MTU_FITS,
	  .frag_off = 0x4000, .backend_id = B_NEIGH, TX_VIA_NEIGH },
	{ .name = "MTU: lbt0 MTU + 1, DF: ICMP fragmentation needed to the client",
	  .mtu_edge = MTU_EXCEEDED, .frag_off = 0x4000, .backend_id = B_NEIGH, FRAG_NEEDED },
	{ .name = "MTU + 1, DF, TCP: the quote holds ports and sequence number",
	  .mtu_edge = MTU_EXCEEDED, .proto = IPPROTO_TCP, .frag_off = 0x4000,
	  .backend_id = B_NEIGH, FRAG_NEEDED },
	{ .name = "MTU + 1, DF, IP options: quoted whole", .mtu_edge = MTU_EXCEEDED,
	  .ip_options = 1, .frag_off = 0x4000, .backend_id = B_NEIGH, FRAG_NEEDED },
	{ .name = "MTU + 1, DF, VLAN: the answer keeps the tag", .mtu_edge = MTU_EXCEEDED,
	  .vlan = 1, .frag_off = 0x4000, .backend_id = B_NEIGH, FRAG_NEEDED },
	{ .name = "MTU + 1, DF, Ethernet padding: not quoted", .mtu_edge = MTU_EXCEEDED,
	  .padding = 6, .frag_off = 0x4000, .backend_id = B_NEIGH, FRAG_NEEDED },
	{ .name = "MTU + 1, no DF: encapsulated, to the kernel, which fragments it",
	  .mtu_edge = MTU_EXCEEDED, .backend_id = B_NEIGH, TOO_BIG_NO_DF },
	{ .name = "MTU + 1, first fragment without DF: to the kernel as well",
	  .mtu_edge = MTU_EXCEEDED, .frag_off = 0x2000, .backend_id = B_NEIGH, TOO_BIG_NO_DF },
	{ .name = "MTU + 1, DF and a fragment offset: no ICMP about a later fragment",
	  .mtu_edge = MTU_EXCEEDED, .frag_off = 0x4000 | 185, .backend_id = B_NEIGH,
	  DROPPED(DROP_MTU) },
	{ .name = "forwarding off on lbt0", .forwarding_off = 1, .backend_id = B_NEIGH,
	  DROPPED(DROP_FWD_DISABLED) },
};
const size_t encap_next_hop_case_count = ARRAY_SIZE(encap_next_hop_cases);

const struct encap_case encap_bad_ctx_cases[] = {
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
	{ .name = "IPv4 header cut short", .payload_len = 1, .cut = 1 + 8 + 10,
	  .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "IPv4 total length below the header size", .tot_len = 19,
	  .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "IPv4 total length beyond the frame", .cut = 1, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "context of a longer frame (frame_len + 1)", .frame_len_delta = 1,
	  .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "context of a shorter frame (frame_len - 1)", .frame_len_delta = -1,
	  .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "l4_offset inside the IPv4 header", .l4_offset = 14 + 19, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "l4_offset more than 60 bytes behind l3_offset", .l4_offset = 14 + 64,
	  .payload_len = 100, .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "l4_offset past data_end", .l4_offset = 0xffff, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "l4_offset beyond the IPv4 total length", .l4_offset = 14 + 24,
	  .tot_len = 22, .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "tagged frame, l3_offset 14 and l4_offset 34 (an untagged parse's)",
	  .vlan = 1, .l3_offset = 14, .l4_offset = 34, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "tagged frame, l3_offset 18, l4_offset 34 (the untagged one's)", .vlan = 1,
	  .l4_offset = 34, .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "untagged frame, l3_offset 18, l4_offset 38 (a tagged parse's)",
	  .l3_offset = 18, .l4_offset = 38, .backend_id = B_NEIGH, DROPPED(DROP_BAD_CTX) },
	{ .name = "untagged frame, a tagged parse's context whose lengths fit",
	  .l3_offset = 18, .l4_offset = 38, .ctx_fit = 1, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
	{ .name = "tagged frame, an untagged parse's context whose lengths fit", .vlan = 1,
	  .l3_offset = 14, .l4_offset = 34, .ctx_fit = 1, .backend_id = B_NEIGH,
	  DROPPED(DROP_BAD_CTX) },
};
const size_t encap_bad_ctx_case_count = ARRAY_SIZE(encap_bad_ctx_cases);

void encap_run_cases(struct encap_fixture *fx, const struct encap_case *cases, size_t count)
{
	struct xdp_result res;
	size_t i;

	for (i = 0; i < count; i++)
		encap_run_case(fx, &cases[i], &res);
}

/* Bytes worked out by hand: 10.0.0.1:1234 -> 10.0.0.100:80, UDP, 4 bytes
 * of payload, DF, id 0x1234.
 *   header checksum: ~(4500+0020+1234+4000+4011+0a00+0001+0a00+0064) = 1435
 *   UDP checksum: ~(0a00+0001+0a00+0064+0011+000c + 04d2+0050+000c + 0001+0203) = e44b
 */
const uint8_t encap_golden_in[ENCAP_GOLDEN_IN_LEN] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x14, 0x35,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x64,
	0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0xe4, 0x4b, 0x00, 0x01, 0x02, 0x03,
};

/* Bytes worked out by hand: UDP [2001:db8::1]:1234 -> [2001:db8::100]:80, 4
 * bytes of payload.
 *   UDP checksum: ~(2001+0db8+0001 + 2001+0db8+0100 + 000c+0011
 *                   + 04d2+0050+000c + 0001+0203) = ~63c2 = 9c3d
 */
const uint8_t encap_golden_in6[ENCAP_GOLDEN_IN6_LEN] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
	0x04, 0xd2, 0x00, 0x50, 0x00, 0x0c, 0x9c, 0x3d, 0x00, 0x01, 0x02, 0x03,
};

void encap_run_golden(struct encap_fixture *fx, const uint8_t *golden_out, size_t out_len)
{
	uint8_t built[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec spec;
	size_t len;

	/* The hand-made input is the frame the builder makes, so the hand sums
	 * above also check pkt_build, which the other cases rely on.
	 */
	pkt_spec_udp(&spec);
	spec.payload_len = 4;
	spec.frag_off = 0x4000;
	len = pkt_build(&spec, built, sizeof(built));
	ASSERT_BYTES(built, len, encap_golden_in, ENCAP_GOLDEN_IN_LEN,
		     "pkt_build vs hand-made input");

	encap_ctx_from_frame(B_NEIGH, 14, encap_golden_in, ENCAP_GOLDEN_IN_LEN, &ctx);
	encap_run_expect_tx(fx, &ctx, encap_golden_in, ENCAP_GOLDEN_IN_LEN, golden_out, out_len,
			    LB_C_ENCAP_TX, "golden frame");
}

void encap_run_expect_tx(struct encap_fixture *fx, const struct lb_packet_ctx *ctx,
			 const uint8_t *in, size_t in_len, const uint8_t *want, size_t want_len,
			 enum lb_counter counter, const char *what)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta delta = { counter, 1 };
	static struct xdp_result res;

	if (!ASSERT_OK(ctx_write_all_cpus(fx->ctx_fd, ctx), "packet ctx"))
		return;
	counters_read(fx->counters_fd, before);
	xdp_run(fx->stage.prog_fd, in, in_len, fx->lbt0, &res);
	counters_read(fx->counters_fd, after);
	ASSERT_OK(res.err, "test run");
	ASSERT_EQ(res.verdict, XDP_TX, "verdict");
	ASSERT_BYTES(res.out, res.out_len, want, want_len, what);
	counters_expect(before, after, &delta, 1, what);
}

/* Per-CPU state (the next-hop cache, the ICMP bucket) is that of the CPU a
 * test run runs on, this process's: keeps the process on its current CPU,
 * so that a migration between two runs does not look like a cache miss or a
 * full bucket. Saves the old affinity in @all for sched_setaffinity().
 */
bool stay_on_one_cpu(cpu_set_t *all)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	return ASSERT_OK(sched_getaffinity(0, sizeof(*all), all), "read the CPU affinity") &&
	       ASSERT_OK(sched_setaffinity(0, sizeof(one), &one), "stay on one CPU");
}

/* Zeroes entry @key of the per-CPU array @map on every CPU. */
int percpu_zero(const struct bpf_map *map, __u32 key)
{
	int cpus = libbpf_num_possible_cpus(), err = 0;
	void *zero;

	if (cpus <= 0)
		return -EINVAL;
	zero = calloc((size_t)cpus, bpf_map__value_size(map));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(bpf_map__fd(map), &key, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}
