// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the IPIP encap stage: output bytes, next-hop verdicts, counters.
 *
 * The network namespace, the backends, the expected-frame builder and the case
 * runner are shared with the GUE test: see encap_fixture.h. IPIP adds no
 * header of its own behind the outer IPv4 header (RFC 2003), and one golden
 * case spells its bytes out by hand.
 */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "encap_fixture.h"
#include "ipip.skel.h"
#include "packet.h"
#include "test_harness.h"
#include "xdp_test_run.h"

static struct encap_fixture fx;
static struct ipip_bpf *skel;        /* outer source = client (default) */
static struct ipip_bpf *skel_lb_src; /* outer_src_addr = LB_ADDR */
static struct ipip_bpf *skel_cached; /* next hops cached for NEXT_HOP_TTL_NS */
static struct ipip_bpf *skel_via_stack; /* ingress_tx_via_stack = 1 */
static struct ipip_bpf *skel_icmp_limited; /* ICMP errors: burst 2, then 1 per 1000 s */

#define ICMP_LIMITED_BURST 2
#define ICMP_LIMITED_INTERVAL_NS 1000000000000ULL

#define NEXT_HOP_TTL_NS 1000000000ULL /* long enough for an `ip` run, even under ASan */

/* The tables below state what the FIB answers for each packet, so those loads
 * ask it every time (nexthop_cache_ns 0); test_next_hop_cache covers the cache.
 */
static int load_uncached(void)
{
	skel = ipip_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->lb_tunables.nexthop_cache_ns = 0;
	/* As lb-load sets it: lbt0's, the static-MAC backends' limit. */
	skel->rodata->lb_tunables.ingress_mtu = LBT0_MTU;
	return ipip_bpf__load(skel);
}

/* Later loads share every map of the first; only .rodata differs. */
static int load_second(struct ipip_bpf **out, __be32 outer_src, __u64 cache_ns,
		       __u8 via_stack)
{
	int err;

	*out = ipip_bpf__open();
	if (!*out)
		return -errno;
	(*out)->rodata->lb_tunables.outer_src_addr = outer_src;
	(*out)->rodata->lb_tunables.nexthop_cache_ns = cache_ns;
	(*out)->rodata->lb_tunables.ingress_tx_via_stack = via_stack;
	(*out)->rodata->lb_tunables.ingress_mtu = LBT0_MTU;
	err = encap_share_maps((*out)->obj, skel->obj);
	return err ? err : ipip_bpf__load(*out);
}

/* A load whose ICMP bucket holds 2 messages and refills one per 1000 s. */
static int load_icmp_limited(void)
{
	int err;

	skel_icmp_limited = ipip_bpf__open();
	if (!skel_icmp_limited)
		return -errno;
	skel_icmp_limited->rodata->lb_tunables.nexthop_cache_ns = 0;
	skel_icmp_limited->rodata->lb_tunables.ingress_mtu = LBT0_MTU;
	skel_icmp_limited->rodata->lb_tunables.icmp_burst = ICMP_LIMITED_BURST;
	skel_icmp_limited->rodata->lb_tunables.icmp_interval_ns = ICMP_LIMITED_INTERVAL_NS;
	err = encap_share_maps(skel_icmp_limited->obj, skel->obj);
	return err ? err : ipip_bpf__load(skel_icmp_limited);
}

static void fixture_setup(void)
{
	if (geteuid() != 0 || encap_net_setup(&fx))
		return;
	if (fixture_step(&fx.status, load_uncached(), "open and load ipip_bpf") ||
	    fixture_step(&fx.status, load_second(&skel_lb_src, pkt_ip(LB_ADDR), 0, 0),
			 "load ipip_bpf with outer_src_addr") ||
	    fixture_step(&fx.status, load_second(&skel_cached, 0, NEXT_HOP_TTL_NS, 0),
			 "load ipip_bpf with a next-hop cache") ||
	    fixture_step(&fx.status, load_second(&skel_via_stack, 0, 0, 1),
			 "load ipip_bpf with ingress_tx_via_stack") ||
	    fixture_step(&fx.status, load_icmp_limited(), "load ipip_bpf with an ICMP limit") ||
	    fixture_step(&fx.status, encap_maps_setup(&fx, skel->obj), "fill backends"))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel->progs.xdp_lb_ipip);
	fx.stage.prog_fd_lb_source = bpf_program__fd(skel_lb_src->progs.xdp_lb_ipip);
	fx.stage.outer_protocol = IPPROTO_IPIP;
}

static void fixture_teardown(void)
{
	ipip_bpf__destroy(skel_icmp_limited);
	ipip_bpf__destroy(skel_via_stack);
	ipip_bpf__destroy(skel_cached);
	ipip_bpf__destroy(skel_lb_src);
	ipip_bpf__destroy(skel);
}

static void test_outer_header_format(void)
{
	REQUIRE_FIXTURE(&fx.status);
	encap_run_cases(&fx, encap_format_cases, encap_format_case_count);
}

static void test_next_hop(void)
{
	REQUIRE_FIXTURE(&fx.status);
	encap_run_cases(&fx, encap_next_hop_cases, encap_next_hop_case_count);
}

/* The ingress cannot send XDP_TX frames (a veth whose peer runs no XDP
 * program): what would leave by XDP_TX goes to the kernel instead, keeping the
 * Ethernet header it came with; redirects and drops are as without the flag.
 */
static const struct encap_case via_stack_cases[] = {
	{ .name = "neighbour behind the ingress: XDP_PASS, the kernel forwards it",
	  .backend_id = B_NEIGH, .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2,
	  .counter = LB_C_ENCAP_PASS_TO_STACK },
	{ .name = "static MAC behind the ingress: XDP_PASS as well", .backend_id = B_STATIC,
	  .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2, .counter = LB_C_ENCAP_PASS_TO_STACK },
	{ .name = "VLAN: XDP_PASS, tag kept", .vlan = 1, .backend_id = B_NEIGH,
	  .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2, .counter = LB_C_ENCAP_PASS_TO_STACK },
	{ .name = "no neighbour: still pass_no_neigh", .backend_id = B_NO_NEIGH,
	  .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2, .counter = LB_C_ENCAP_PASS_NO_NEIGH },
	{ .name = "egress lbt2 in tx_ports: still XDP_REDIRECT", .backend_id = B_VIA_LBT2,
	  .lbt2_tx_port = 1, .verdict = XDP_REDIRECT, .out = OUT_ENCAP, .dmac = lbt2_neigh_mac,
	  .smac = lbt2_mac, .counter = LB_C_ENCAP_REDIRECT },
	{ .name = "no route: still dropped", .backend_id = B_NO_ROUTE, DROPPED(DROP_NO_ROUTE) },
	{ .name = "too big, DF: the ICMP answer goes to the kernel, own Ethernet header",
	  .mtu_edge = MTU_EXCEEDED, .frag_off = 0x4000, .backend_id = B_NEIGH,
	  .verdict = XDP_PASS, .out = OUT_ICMP_FRAG_OWN_L2,
	  .counter = LB_C_ENCAP_ICMP_FRAG_NEEDED },
};

static void test_ingress_tx_via_stack(void)
{
	int default_fd = fx.stage.prog_fd;

	REQUIRE_FIXTURE(&fx.status);
	fx.stage.prog_fd = bpf_program__fd(skel_via_stack->progs.xdp_lb_ipip);
	encap_run_cases(&fx, via_stack_cases, ARRAY_SIZE(via_stack_cases));
	fx.stage.prog_fd = default_fd;
}

static void test_bad_context(void)
{
	REQUIRE_FIXTURE(&fx.status);
	encap_run_cases(&fx, encap_bad_ctx_cases, encap_bad_ctx_case_count);
}

/* Bytes worked out by hand: encap_golden_in to backend 10.0.1.1 behind
 * 02:00:00:00:01:01.
 *   outer header checksum: ~(4500+0034+1234+4000+4004+0a00+0001+0a00+0101) = 1391
 */
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
	REQUIRE_FIXTURE(&fx.status);
	encap_run_golden(&fx, golden_out, sizeof(golden_out));
}

/* Bytes worked out by hand: 10.0.0.1:1234 -> 10.0.0.100:80, UDP, DF, id
 * 0x1234, 1453 bytes of payload (0, 1, 2, ...): 1481 bytes of IPv4, 1501 once
 * encapsulated, one more than lbt0's 1500. The answer: ICMP "fragmentation
 * needed", next-hop MTU 1500 - 20 = 1480 (05c8), from the VIP to the client,
 * MACs swapped, quoting the client's IPv4 header and UDP header.
 *   client's header checksum: ~(4500+05c9+1234+4000+4011+0a00+0001+0a00+0064) = 0e8c
 *   client's UDP checksum (payload summed by pkt_l4_csum): c2bd
 *   new header checksum: ~(45c0+0038+0000+0000+4001+0a00+0064+0a00+0001) = 65a1
 *   ICMP checksum: ~(0304+0000+0000+05c8 + [client's header: ffff, a right
 *     header sums to that] + 04d2+0050+05b5+c2bd) = ~d660 = 299f
 */
static const uint8_t golden_frag_needed[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x00,
	0x45, 0xc0, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0x65, 0xa1,
	0x0a, 0x00, 0x00, 0x64, 0x0a, 0x00, 0x00, 0x01,
	0x03, 0x04, 0x29, 0x9f, 0x00, 0x00, 0x05, 0xc8,
	0x45, 0x00, 0x05, 0xc9, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x0e, 0x8c,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x64,
	0x04, 0xd2, 0x00, 0x50, 0x05, 0xb5, 0xc2, 0xbd,
};

static void test_frag_needed_golden(void)
{
	uint8_t frame[PKT_MAX];
	struct lb_packet_ctx ctx;
	struct pkt_spec spec;
	size_t len;

	REQUIRE_FIXTURE(&fx.status);
	pkt_spec_udp(&spec);
	spec.payload_len = 1453;
	spec.frag_off = 0x4000;
	len = pkt_build(&spec, frame, sizeof(frame));
	if (!ASSERT_EQ(len, 14 + 1481, "input length"))
		return;
	encap_ctx_from_frame(B_NEIGH, 14, frame, len, &ctx);
	encap_run_expect_tx(&fx, &ctx, frame, len, golden_frag_needed, sizeof(golden_frag_needed),
			    LB_C_ENCAP_ICMP_FRAG_NEEDED, "golden ICMP fragmentation needed");
}

/* The next-hop cache: the FIB's answer for a backend is reused until it
 * expires, MTU included, then asked again. Run with the cached load.
 */
static void test_next_hop_cache(void)
{
	static const uint8_t new_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x99 };
	const struct encap_case first = { .name = "first packet: from the FIB",
					  .backend_id = B_NEIGH, TX_VIA_NEIGH };
	const struct encap_case cached = { .name = "neighbour changed, within the TTL: cached MAC",
					   .backend_id = B_NEIGH, TX_VIA_NEIGH };
	const struct encap_case too_big = { .name = "from the cache: inner 1481 still too big",
					    .mtu_edge = MTU_EXCEEDED, .frag_off = 0x4000,
					    .backend_id = B_NEIGH, FRAG_NEEDED };
	const struct encap_case refreshed = { .name = "after the TTL: the FIB's new MAC",
					      .backend_id = B_NEIGH, .verdict = XDP_TX,
					      .out = OUT_ENCAP, .dmac = new_mac, .smac = lbt0_mac,
					      .counter = LB_C_ENCAP_TX };
	int uncached_fd = fx.stage.prog_fd;
	static struct xdp_result res;
	cpu_set_t all;

	REQUIRE_FIXTURE(&fx.status);
	if (!stay_on_one_cpu(&all))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel_cached->progs.xdp_lb_ipip);
	encap_run_case(&fx, &first, &res);
	ASSERT_OK(system("ip neigh replace " NEIGH_ADDR " lladdr 02:00:00:00:01:99 dev lbt0 "
			 "nud permanent"),
		  "change the neighbour's MAC");
	encap_run_case(&fx, &cached, &res);
	encap_run_case(&fx, &too_big, &res);
	usleep(NEXT_HOP_TTL_NS / 1000 + 50000);
	encap_run_case(&fx, &refreshed, &res);
	ASSERT_OK(system("ip neigh replace " NEIGH_ADDR " lladdr 02:00:00:00:01:01 dev lbt0 "
			 "nud permanent"),
		  "restore the neighbour's MAC");
	fx.stage.prog_fd = uncached_fd;
	sched_setaffinity(0, sizeof(all), &all);
}

/* This CPU's next-hop cache entry of @backend_id, as @stage's map holds it. */
static int cache_entry_here(struct ipip_bpf *stage, __u32 backend_id, __u64 *expires_ns)
{
	int cpus = libbpf_num_possible_cpus(), cpu = sched_getcpu();
	struct {
		__u64 expires_ns;
		__u8 rest[40]; /* struct next_hop_entry is BPF-only: only its first field is read */
	} *values;
	int err = 0;

	if (cpus <= 0 || cpu < 0 || cpu >= cpus)
		return -EINVAL;
	values = calloc((size_t)cpus, sizeof(*values));
	if (!values)
		return -ENOMEM;
	if (bpf_map__value_size(stage->maps.next_hop_cache) != sizeof(*values))
		err = -EMSGSIZE;
	else if (bpf_map_lookup_elem(bpf_map__fd(stage->maps.next_hop_cache), &backend_id, values))
		err = -errno;
	else
		*expires_ns = values[cpu].expires_ns;
	free(values);
	return err;
}

/* Empties the next-hop cache entry of @backend_id on every CPU. */
static int cache_entry_clear(struct ipip_bpf *stage, __u32 backend_id)
{
	return percpu_zero(stage->maps.next_hop_cache, backend_id);
}

/* A backend with a static MAC takes no part in the next-hop step: with the
 * cache on, a neighbour's backend fills its entry and a static MAC's never
 * does, and the FIB's answers that would stop a packet (no route, forwarding
 * off; the next-hop cases) do not stop it. The bytes: static MAC, ingress MAC.
 */
static void test_static_mac_no_lookup(void)
{
	const struct encap_case neigh = { .name = "neighbour's backend: from the FIB, cached",
					   .backend_id = B_NEIGH, TX_VIA_NEIGH };
	const struct encap_case fixed = { .name = "static MAC: no cache, no FIB",
					  .backend_id = B_STATIC_LBT2, .verdict = XDP_TX,
					  .out = OUT_ENCAP, .dmac = static_mac, .smac = lbt0_mac,
					  .counter = LB_C_ENCAP_TX };
	const struct encap_case fixed_neigh = { .name = "static MAC with a neighbour: no cache",
						.backend_id = B_STATIC, .verdict = XDP_TX,
						.out = OUT_ENCAP, .dmac = static_mac,
						.smac = lbt0_mac, .counter = LB_C_ENCAP_TX };
	int uncached_fd = fx.stage.prog_fd;
	static struct xdp_result res;
	__u64 expires = 1;
	cpu_set_t all;
	int i;

	REQUIRE_FIXTURE(&fx.status);
	if (!stay_on_one_cpu(&all))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel_cached->progs.xdp_lb_ipip);
	/* Nothing left from test_next_hop_cache, which shares the map. */
	ASSERT_OK(cache_entry_clear(skel_cached, B_NEIGH), "clear the neighbour's entry");
	ASSERT_OK(cache_entry_clear(skel_cached, B_STATIC_LBT2), "clear the static MAC's entry");
	ASSERT_OK(cache_entry_clear(skel_cached, B_STATIC), "clear the static MAC's entry");
	for (i = 0; i < 3; i++) {
		encap_run_case(&fx, &fixed, &res);
		encap_run_case(&fx, &fixed_neigh, &res);
	}
	if (ASSERT_OK(cache_entry_here(skel_cached, B_STATIC_LBT2, &expires), "read the cache"))
		ASSERT_EQ(expires, 0, "static MAC: its cache entry never written");
	if (ASSERT_OK(cache_entry_here(skel_cached, B_STATIC, &expires), "read the cache"))
		ASSERT_EQ(expires, 0, "static MAC with a neighbour: its cache entry never written");
	encap_run_case(&fx, &neigh, &res);
	if (ASSERT_OK(cache_entry_here(skel_cached, B_NEIGH, &expires), "read the cache"))
		ASSERT_TRUE(expires != 0, "neighbour's backend: its cache entry written");
	fx.stage.prog_fd = uncached_fd;
	sched_setaffinity(0, sizeof(all), &all);
}

/* The token bucket: a burst of ICMP_LIMITED_BURST answers, then each too-big
 * packet is dropped without one (drop_icmp_rate_limited) until it refills.
 * Per CPU, so the runs stay on one.
 */
static void test_icmp_rate_limit(void)
{
	const struct encap_case answered = { .name = "within the burst: answered",
					     .mtu_edge = MTU_EXCEEDED, .frag_off = 0x4000,
					     .backend_id = B_NEIGH, FRAG_NEEDED };
	const struct encap_case limited = { .name = "past the burst: dropped, no ICMP",
					    .mtu_edge = MTU_EXCEEDED, .frag_off = 0x4000,
					    .backend_id = B_NEIGH, DROPPED(DROP_ICMP_RATE_LIMITED) };
	const struct encap_case no_df = { .name = "past the burst, no DF: still to the kernel",
					  .mtu_edge = MTU_EXCEEDED, .backend_id = B_NEIGH,
					  TOO_BIG_NO_DF };
	const struct encap_case fits = { .name = "past the burst, fits: still sent",
					 .mtu_edge = MTU_FITS, .frag_off = 0x4000,
					 .backend_id = B_NEIGH, TX_VIA_NEIGH };
	int default_fd = fx.stage.prog_fd;
	static struct xdp_result res;
	cpu_set_t all;
	int i;

	REQUIRE_FIXTURE(&fx.status);
	if (!stay_on_one_cpu(&all))
		return;
	fx.stage.prog_fd = bpf_program__fd(skel_icmp_limited->progs.xdp_lb_ipip);
	/* The loads share their maps: a bucket the other tests drew from
	 * starts full again (last_ns 0 means unused).
	 */
	ASSERT_OK(percpu_zero(skel_icmp_limited->maps.icmp_tokens, 0), "empty the ICMP bucket");
	for (i = 0; i < ICMP_LIMITED_BURST; i++)
		encap_run_case(&fx, &answered, &res);
	for (i = 0; i < 3; i++)
		encap_run_case(&fx, &limited, &res);
	encap_run_case(&fx, &no_df, &res);
	encap_run_case(&fx, &fits, &res);
	fx.stage.prog_fd = default_fd;
	/* Leave the shared bucket full: a test run after this one gets its
	 * answers whatever the order of the cases.
	 */
	ASSERT_OK(percpu_zero(skel_icmp_limited->maps.icmp_tokens, 0), "refill the ICMP bucket");
	sched_setaffinity(0, sizeof(all), &all);
}

static const struct test_case cases[] = {
	TEST_CASE(test_golden_bytes),
	TEST_CASE(test_outer_header_format),
	TEST_CASE(test_next_hop),
	TEST_CASE(test_ingress_tx_via_stack),
	TEST_CASE(test_bad_context),
	TEST_CASE(test_next_hop_cache),
	TEST_CASE(test_static_mac_no_lookup),
	TEST_CASE(test_frag_needed_golden),
	TEST_CASE(test_icmp_rate_limit),
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
