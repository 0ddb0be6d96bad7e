// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the scheduling policies (the stages in bpf/lb/) and the Maglev builder.
 *
 * Each case builds a small balancer the way lb-load does, without an
 * interface: parse creates the shared maps, the whole stage library is loaded
 * into its slots (lb_stages_install), a config text is applied with
 * lb_apply_config, and the test sink stands in the encap slot to record the
 * backend each packet was handed to. Frames go through parse under
 * BPF_PROG_TEST_RUN, so the VIP's policy really picks the stage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "apply.h"
#include "config.h"
#include "flow_hash_common.h"
#include "lb_structs_common.h"
#include "maglev.h"
#include "packet.h"
#include "parse.skel.h"
#include "pipeline.h"
#include "sink_record.h"
#include "state.h"
#include "stage_fixture.h"
#include "test_harness.h"
#include "xdp_test_run.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VIP_ADDR "10.0.0.100"
#define BALANCE_FLOWS 100000

/* One balancer: maps, every stage, the sink in the encap slot. */
struct balancer {
	struct parse_bpf *parse;
	struct lb_maps maps;
	struct lb_stages stages;
	struct stage_sink sink;
	int prog_fd;
};

/* What one frame did. */
struct outcome {
	uint32_t verdict;
	uint32_t backend_id; /* LB_NO_BACKEND unless handed to the sink */
	uint32_t backend_addr;
};

static void balancer_close(struct balancer *b)
{
	sink_detach(&b->sink);
	lb_stages_destroy(&b->stages);
	lb_maps_close(&b->maps);
	parse_bpf__destroy(b->parse);
	memset(b, 0, sizeof(*b));
	lb_maps_init(&b->maps);
}

static int balancer_apply(struct balancer *b, const char *config_text)
{
	struct lb_apply_result res;
	char err[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;
	int ret;

	if (lb_config_parse("test", config_text, strlen(config_text), &cfg, err, sizeof(err))) {
		test_fail(__FILE__, __LINE__, "config: %s", err);
		return -EINVAL;
	}
	ret = lb_apply_config(&b->maps, &cfg, &res, err, sizeof(err));
	if (ret)
		test_fail(__FILE__, __LINE__, "apply: %s", err);
	lb_config_free(&cfg);
	return ret;
}

static void balancer_load(struct balancer *b, struct fixture_status *st)
{
	const struct lb_stage_def *selected[LB_SLOT_COUNT] = { NULL };
	struct lb_tunables tunables = {
		.flow_timeout_ns = LB_DEFAULT_FLOW_TIMEOUT_S * 1000000000ULL,
		.nexthop_cache_ns = LB_NEXTHOP_CACHE_NS,
		.gue_port = htons(LB_DEFAULT_GUE_PORT),
	};
	char err[256];

	b->parse = parse_bpf__open_and_load();
	if (fixture_step(st, b->parse ? 0 : -errno, "load parse"))
		return;
	b->prog_fd = bpf_program__fd(b->parse->progs.xdp_lb_parse);
	if (fixture_step(st, lb_maps_adopt(b->parse->obj, &b->maps), "take the maps") ||
	    fixture_step(st, lb_stages_install(&b->stages, &b->maps, &tunables, selected, true, err,
					       sizeof(err)),
			 "install the stage library"))
		return;
	fixture_step(st, sink_attach(&b->sink, b->parse->obj, LB_SLOT_ENCAP),
		     "put the sink in the encap slot");
}

/* Loads a balancer and applies @config_text; false (case skipped or failed) if not. */
static bool balancer_open(struct balancer *b, const char *config_text)
{
	struct fixture_status st = {};

	memset(b, 0, sizeof(*b));
	lb_maps_init(&b->maps);
	if (geteuid() == 0)
		balancer_load(b, &st);
	if (!fixture_ready(&st, __FILE__, __LINE__)) {
		balancer_close(b);
		return false;
	}
	if (balancer_apply(b, config_text)) {
		balancer_close(b);
		return false;
	}
	return true;
}

/* The client address of flow @n: 11.x.y.z, distinct for n < 2^24. Not 10/8,
 * where flow 99 would come from the VIP itself, which parse drops as a
 * martian source.
 */
static uint32_t client_addr(uint32_t n)
{
	return htonl(0x0b000000 | ((n + 1) & 0xffffff));
}

/* Runs the frame of @spec through @b: the verdict and, when the sink got it,
 * the backend in *@out and its slot in *@be (zero otherwise).
 */
static void run_spec(struct balancer *b, const struct pkt_spec *spec, struct outcome *out,
		     struct lb_backend *be)
{
	static struct xdp_result res;
	uint8_t frame[PKT_MAX];
	struct sink_record rec;
	uint64_t hits_before;
	size_t len = pkt_build(spec, frame, sizeof(frame));

	memset(out, 0, sizeof(*out));
	memset(be, 0, sizeof(*be));
	out->backend_id = LB_NO_BACKEND;
	sink_record_read(&b->sink, &rec);
	hits_before = rec.hits;
	xdp_run(b->prog_fd, frame, len, 0, &res);
	out->verdict = res.verdict;
	if (res.err || res.verdict != XDP_TX || sink_record_read(&b->sink, &rec) ||
	    rec.hits != hits_before + 1)
		return;
	out->backend_id = rec.ctx.backend_id;
	bpf_map_lookup_elem(b->maps.fd[LB_MAP_BACKENDS], &out->backend_id, be);
}

/* Flow @n: client_addr(n):(1024 + n % 60000) -> VIP:@port. */
static void send_flow(struct balancer *b, uint32_t n, uint16_t port, uint8_t proto,
		      uint8_t tcp_flags, struct outcome *out)
{
	struct lb_backend be;
	struct pkt_spec spec;

	pkt_spec_udp(&spec);
	spec.src = client_addr(n);
	spec.dst = pkt_ip(VIP_ADDR);
	spec.sport = (uint16_t)(1024 + n % 60000);
	spec.dport = port;
	spec.proto = proto;
	if (tcp_flags) /* 0: pkt_spec_udp()'s ACK */
		spec.tcp_flags = tcp_flags;
	run_spec(b, &spec, out, &be);
	out->backend_addr = be.addr;
}

/* The VIP entry of (VIP_ADDR, @port, @proto) in the live generation. */
static int vip_get(struct balancer *b, uint16_t port, uint8_t proto, struct lb_vip_key *key,
		   struct lb_vip *vip)
{
	__u32 zero = 0, gen = 0;

	bpf_map_lookup_elem(b->maps.fd[LB_MAP_CONFIG_GEN], &zero, &gen);
	memset(key, 0, sizeof(*key));
	key->addr = pkt_ip(VIP_ADDR);
	key->port = htons(port);
	key->proto = proto;
	key->gen = (__u8)(gen & 1);
	return bpf_map_lookup_elem(b->maps.fd[LB_MAP_VIPS], key, vip) ? -errno : 0;
}

/* What lbctl policy does: one update of the live entry (Maglev: a table
 * first, by lbctl's own lb_maglev_table_for_live()).
 */
static int vip_set_policy(struct balancer *b, uint16_t port, uint8_t proto, uint16_t policy)
{
	static struct lb_state state;
	struct lb_state_vip view;
	int err = vip_get(b, port, proto, &view.key, &view.vip);

	if (!err)
		err = lb_state_read(&b->maps, &state);
	if (err)
		return err;
	if (policy == LB_POLICY_MAGLEV && view.vip.maglev_table == LB_NO_TABLE) {
		err = lb_maglev_table_for_live(&b->maps, &state, &view, &view.vip.maglev_table);
		if (err)
			return err;
	}
	view.vip.policy = policy;
	return bpf_map_update_elem(b->maps.fd[LB_MAP_VIPS], &view.key, &view.vip, BPF_EXIST) ?
		       -errno : 0;
}

static uint64_t flows_in_table(struct balancer *b)
{
	struct lb_flow_key key, prev, *p = NULL;
	uint64_t n = 0;

	while (!bpf_map_get_next_key(b->maps.fd[LB_MAP_FLOWS], p, &key)) {
		prev = key;
		p = &prev;
		n++;
	}
	return n;
}

static int64_t conns_of(struct balancer *b, uint32_t id)
{
	struct lb_backend_conns conns = {};

	bpf_map_lookup_elem(b->maps.fd[LB_MAP_BACKEND_CONNS], &id, &conns);
	return conns.active;
}

/* Index of @addr in @addrs (backends written 10.1.0.1, 10.1.0.2, ...), or -1. */
static int backend_index(uint32_t addr, int count)
{
	int i;

	for (i = 0; i < count; i++)
		if (addr == htonl(0x0a010001 + i))
			return i;
	return -1;
}

/* --- dispatch: each VIP's own policy, all at once ---------------------------------- */

static const char per_vip_config[] =
	"vips:\n"
	"  - {address: 10.0.0.100, port: 1001, protocol: tcp, policy: least-loaded,\n"
	"     backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2}, {ip: 10.1.0.3}, {ip: 10.1.0.4}]}\n"
	"  - {address: 10.0.0.100, port: 1002, protocol: tcp, policy: round-robin,\n"
	"     backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2}, {ip: 10.1.0.3}, {ip: 10.1.0.4}]}\n"
	"  - {address: 10.0.0.100, port: 1003, protocol: tcp, policy: weighted-round-robin,\n"
	"     backends: [{ip: 10.1.0.1, weight: 1}, {ip: 10.1.0.2, weight: 3}]}\n"
	"  - {address: 10.0.0.100, port: 1004, protocol: tcp, policy: hash,\n"
	"     backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2}, {ip: 10.1.0.3}, {ip: 10.1.0.4}]}\n"
	"  - {address: 10.0.0.100, port: 1005, protocol: tcp,\n"
	"     policy: {type: maglev, table_size: 251},\n"
	"     backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2}, {ip: 10.1.0.3}, {ip: 10.1.0.4}]}\n"
	"  - {address: 10.0.0.100, port: 1006, protocol: tcp, policy: least-conn,\n"
	"     backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2}, {ip: 10.1.0.3}, {ip: 10.1.0.4}]}\n"
	"  - {address: 10.0.0.100, port: 1007, protocol: tcp, policy: least-packets-per-flow,\n"
	"     backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2}, {ip: 10.1.0.3}, {ip: 10.1.0.4}]}\n";

/* Seven VIPs on one balancer, one per policy, each showing its own stage's mark. */
static void test_policies_per_vip(void)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	int rr[4] = {}, wrr[4] = {}, lconn[4] = {}, lload[4] = {}, lppf[4] = {};
	struct lb_maglev_table *table = calloc(1, sizeof(*table));
	struct lb_vip_key key;
	struct lb_vip vip;
	struct balancer b;
	struct outcome o;
	uint32_t n, table_id;
	char msg[96];
	int i;

	if (!ASSERT_TRUE(table != NULL, "allocate") || !balancer_open(&b, per_vip_config)) {
		free(table);
		return;
	}
	for (n = 0; n < 16; n++) {
		send_flow(&b, n, 1002, IPPROTO_TCP, 0, &o);
		i = backend_index(o.backend_addr, 4);
		if (ASSERT_TRUE(i >= 0, "round-robin: handed to one of its backends"))
			rr[i]++;
		send_flow(&b, n, 1003, IPPROTO_TCP, 0, &o);
		i = backend_index(o.backend_addr, 2);
		if (ASSERT_TRUE(i >= 0, "weighted round-robin: one of its backends"))
			wrr[i]++;
		send_flow(&b, n, 1006, IPPROTO_TCP, 0, &o);
		i = backend_index(o.backend_addr, 4);
		if (ASSERT_TRUE(i >= 0, "least-conn: one of its backends"))
			lconn[i]++;
		send_flow(&b, n, 1001, IPPROTO_TCP, 0, &o);
		i = backend_index(o.backend_addr, 4);
		if (ASSERT_TRUE(i >= 0, "least-loaded: one of its backends"))
			lload[i]++;
		send_flow(&b, n, 1007, IPPROTO_TCP, 0, &o);
		i = backend_index(o.backend_addr, 4);
		if (ASSERT_TRUE(i >= 0, "least-packets-per-flow: one of its backends"))
			lppf[i]++;
	}
	for (i = 0; i < 4; i++) {
		snprintf(msg, sizeof(msg), "round-robin: backend %d of 4 took 16/4 flows", i);
		ASSERT_EQ(rr[i], 4, msg);
		snprintf(msg, sizeof(msg), "least-conn: backend %d of 4 took 16/4 flows", i);
		ASSERT_EQ(lconn[i], 4, msg);
		/* One packet per flow: each new flow's packet makes its backend
		 * the busiest (least-loaded), or ties it (packets per flow 1).
		 */
		snprintf(msg, sizeof(msg), "least-loaded: backend %d of 4 took 16/4 flows", i);
		ASSERT_EQ(lload[i], 4, msg);
		snprintf(msg, sizeof(msg), "least-packets-per-flow: backend %d of 4 took 16/4", i);
		ASSERT_EQ(lppf[i], 4, msg);
	}
	ASSERT_EQ(wrr[0], 4, "weighted round-robin: weight 1 of 4 took 4 of 16");
	ASSERT_EQ(wrr[1], 12, "weighted round-robin: weight 3 of 4 took 12 of 16");
	ASSERT_EQ(flows_in_table(&b), 80, "stateful policies stored their 80 flows");

	/* hash: stored nothing, counted stateless, the userspace hash's choice. */
	counters_read(b.maps.fd[LB_MAP_COUNTERS], before);
	for (n = 0; n < 16; n++) {
		struct lb_flow_key fk = {
			.src = client_addr(n), .dst = pkt_ip(VIP_ADDR),
			.sport = htons((uint16_t)(1024 + n)), .dport = htons(1004),
			.proto = IPPROTO_TCP,
		};

		send_flow(&b, n, 1004, IPPROTO_TCP, 0, &o);
		ASSERT_EQ(backend_index(o.backend_addr, 4), lb_flow_hash(&fk) % 4,
			  "hash: backend = flow hash mod 4");
	}
	counters_read(b.maps.fd[LB_MAP_COUNTERS], after);
	ASSERT_EQ(after[LB_C_LB_STATELESS] - before[LB_C_LB_STATELESS], 16, "lb.stateless");
	ASSERT_EQ(after[LB_C_LB_FLOW_NEW] - before[LB_C_LB_FLOW_NEW], 0, "hash: no lb.flow_new");
	ASSERT_EQ(flows_in_table(&b), 80, "hash stored no flow");

	/* maglev: the loader's table decides. */
	if (ASSERT_OK(vip_get(&b, 1005, IPPROTO_TCP, &key, &vip), "read the maglev VIP") &&
	    ASSERT_EQ(vip.policy, LB_POLICY_MAGLEV, "VIP entry policy") &&
	    ASSERT_TRUE(vip.maglev_table < LB_MAGLEV_TABLES, "maglev VIP has a table")) {
		table_id = vip.maglev_table;
		ASSERT_OK(bpf_map_lookup_elem(b.maps.fd[LB_MAP_MAGLEV_TABLES], &table_id, table),
			  "read the table");
		ASSERT_EQ(table->size, 251, "table_size from the config");
		for (n = 0; n < 16; n++) {
			struct lb_flow_key fk = {
				.src = client_addr(n), .dst = pkt_ip(VIP_ADDR),
				.sport = htons((uint16_t)(1024 + n)), .dport = htons(1005),
				.proto = IPPROTO_TCP,
			};

			send_flow(&b, n, 1005, IPPROTO_TCP, 0, &o);
			ASSERT_EQ(o.backend_id, table->backend_ids[lb_flow_hash(&fk) % table->size],
				  "maglev: backend = table[hash mod size]");
		}
	}
	/* least-loaded still runs in the lb slot. */
	counters_read(b.maps.fd[LB_MAP_COUNTERS], before);
	send_flow(&b, 16, 1001, IPPROTO_TCP, 0, &o);
	counters_read(b.maps.fd[LB_MAP_COUNTERS], after);
	ASSERT_EQ(o.verdict, XDP_TX, "least-loaded VIP handed on");
	ASSERT_EQ(after[LB_C_LB_FLOW_NEW] - before[LB_C_LB_FLOW_NEW], 1, "least-loaded new flow");
	free(table);
	balancer_close(&b);
}

/* A VIP entry naming no policy, and a Maglev VIP without a table: passed, counted. */
static void test_bad_policy_and_missing_table(void)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	const struct counter_delta bad[] = { { LB_C_PARSE_PASS_BAD_POLICY, 1 } };
	const struct counter_delta no_table[] = {
		{ LB_C_PARSE_TO_LB, 1 },
		{ LB_C_LB_PASS_NO_TABLE, 1 },
	};
	struct lb_vip_key key;
	struct lb_vip vip;
	struct balancer b;
	struct outcome o;

	if (!balancer_open(&b, per_vip_config))
		return;
	ASSERT_OK(vip_get(&b, 1002, IPPROTO_TCP, &key, &vip), "read VIP");
	vip.policy = LB_POLICY_COUNT;
	ASSERT_OK(bpf_map_update_elem(b.maps.fd[LB_MAP_VIPS], &key, &vip, BPF_EXIST), "write");
	counters_read(b.maps.fd[LB_MAP_COUNTERS], before);
	send_flow(&b, 1, 1002, IPPROTO_TCP, 0, &o);
	counters_read(b.maps.fd[LB_MAP_COUNTERS], after);
	ASSERT_EQ(o.verdict, XDP_PASS, "unknown policy: XDP_PASS");
	counters_expect(before, after, bad, ARRAY_SIZE(bad), "unknown policy counters");

	ASSERT_OK(vip_get(&b, 1005, IPPROTO_TCP, &key, &vip), "read VIP");
	vip.maglev_table = LB_NO_TABLE;
	ASSERT_OK(bpf_map_update_elem(b.maps.fd[LB_MAP_VIPS], &key, &vip, BPF_EXIST), "write");
	counters_read(b.maps.fd[LB_MAP_COUNTERS], before);
	send_flow(&b, 1, 1005, IPPROTO_TCP, 0, &o);
	counters_read(b.maps.fd[LB_MAP_COUNTERS], after);
	ASSERT_EQ(o.verdict, XDP_PASS, "no table: XDP_PASS");
	counters_expect(before, after, no_table, ARRAY_SIZE(no_table), "no table counters");
	balancer_close(&b);
}

/* --- balance with 100,000 flows ------------------------------------------------------ */

/* Sends BALANCE_FLOWS new UDP flows to port 2000 and counts them per backend. */
static void spread(struct balancer *b, int count, uint64_t *placed)
{
	struct outcome o;
	uint32_t n;
	int i, lost = 0;

	memset(placed, 0, sizeof(*placed) * count);
	for (n = 0; n < BALANCE_FLOWS; n++) {
		send_flow(b, n, 2000, IPPROTO_UDP, 0, &o);
		i = backend_index(o.backend_addr, count);
		if (i < 0)
			lost++;
		else
			placed[i]++;
	}
	ASSERT_EQ(lost, 0, "every flow handed to a backend of the VIP");
}

static void weighted_config(char *buf, size_t len, const char *policy, const uint32_t *weights,
			    int count)
{
	size_t used;
	int i;

	used = (size_t)snprintf(buf, len, "vips:\n  - address: %s\n    port: 2000\n"
				"    policy: %s\n    backends:\n", VIP_ADDR, policy);
	for (i = 0; i < count; i++)
		used += (size_t)snprintf(buf + used, len - used,
					 "      - {ip: 10.1.0.%d, weight: %u}\n", i + 1,
					 weights[i]);
}

/* Every backend within 5% of its weighted share of BALANCE_FLOWS. */
static void check_balance(const char *policy, const uint32_t *weights, int count)
{
	uint64_t placed[8];
	uint32_t total = 0;
	struct balancer b;
	char config[1024], msg[160];
	int i;

	weighted_config(config, sizeof(config), policy, weights, count);
	if (!balancer_open(&b, config))
		return;
	spread(&b, count, placed);
	for (i = 0; i < count; i++)
		total += weights[i];
	for (i = 0; i < count; i++) {
		double share = (double)BALANCE_FLOWS * weights[i] / total;
		double off = ((double)placed[i] - share) / share;

		snprintf(msg, sizeof(msg), "%s: backend %d (weight %u) %llu flows, share %.0f, "
			 "off by %+.2f%%", policy, i, weights[i], (unsigned long long)placed[i],
			 share, off * 100);
		printf("    %s\n", msg);
		ASSERT_TRUE(off <= 0.05 && off >= -0.05, msg);
	}
	balancer_close(&b);
}

static void test_hash_balance(void)
{
	static const uint32_t even[] = { 1, 1, 1, 1, 1, 1, 1 };
	static const uint32_t weighted[] = { 1, 2, 3, 4 };

	check_balance("hash", even, ARRAY_SIZE(even));
	check_balance("hash", weighted, ARRAY_SIZE(weighted));
}

static void test_maglev_balance(void)
{
	static const uint32_t even[] = { 1, 1, 1, 1, 1, 1, 1 };
	static const uint32_t weighted[] = { 1, 2, 3, 4 };

	check_balance("maglev", even, ARRAY_SIZE(even));
	check_balance("maglev", weighted, ARRAY_SIZE(weighted));
}

/* Round-robin: 100,000 flows over 7 backends (one drained, one down among 9),
 * every UP backend exactly its share, rounded either way.
 */
static void test_round_robin_exact(void)
{
	static const char config[] =
		"vips:\n  - address: 10.0.0.100\n    port: 2000\n    policy: round-robin\n"
		"    backends:\n"
		"      - {ip: 10.1.0.1}\n      - {ip: 10.1.0.2}\n      - {ip: 10.1.0.3}\n"
		"      - {ip: 10.1.0.4, state: drain}\n      - {ip: 10.1.0.5}\n"
		"      - {ip: 10.1.0.6, weight: 0}\n      - {ip: 10.1.0.7}\n"
		"      - {ip: 10.1.0.8}\n      - {ip: 10.1.0.9}\n";
	uint64_t placed[9], low = BALANCE_FLOWS / 7, high = (BALANCE_FLOWS + 6) / 7;
	struct balancer b;
	char msg[96];
	int i;

	if (!balancer_open(&b, config))
		return;
	spread(&b, 9, placed);
	for (i = 0; i < 9; i++) {
		snprintf(msg, sizeof(msg), "backend %d: %llu flows", i + 1,
			 (unsigned long long)placed[i]);
		if (i == 3 || i == 5)
			ASSERT_EQ(placed[i], 0, msg);
		else
			ASSERT_TRUE(placed[i] == low || placed[i] == high, msg);
	}
	balancer_close(&b);
}

/* Weighted round-robin is exact per cycle of the total weight. */
static void test_weighted_round_robin_exact(void)
{
	static const uint32_t weights[] = { 1, 2, 5, 0 };
	uint64_t placed[4];
	struct balancer b;
	char config[1024];

	weighted_config(config, sizeof(config), "weighted-round-robin", weights, 4);
	if (!balancer_open(&b, config))
		return;
	spread(&b, 4, placed);
	/* 100,000 = 12,500 cycles of 8. */
	ASSERT_EQ(placed[0], 12500, "weight 1");
	ASSERT_EQ(placed[1], 25000, "weight 2");
	ASSERT_EQ(placed[2], 62500, "weight 5");
	ASSERT_EQ(placed[3], 0, "weight 0 (drain)");
	balancer_close(&b);
}

/* --- two balancers agree ----------------------------------------------------------- */

static const char agree_config[] =
	"vips:\n"
	"  - {address: 10.0.0.100, port: 2000, protocol: udp, policy: hash,\n"
	"     backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2, weight: 3}, {ip: 10.1.0.3},\n"
	"                {ip: 10.1.0.4, weight: 2}, {ip: 10.1.0.5}]}\n"
	"  - {address: 10.0.0.100, port: 2001, protocol: udp, policy: maglev,\n"
	"     backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2, weight: 3}, {ip: 10.1.0.3},\n"
	"                {ip: 10.1.0.4, weight: 2}, {ip: 10.1.0.5}]}\n";

/* Balancer two had another config before: its VIP and backend ids and its
 * Maglev table slots differ from balancer one's.
 */
static const char other_history_config[] =
	"vips:\n"
	"  - {address: 10.0.0.99, policy: maglev, backends: [{ip: 10.9.0.1}, {ip: 10.9.0.2}]}\n"
	"  - {address: 10.0.0.98, backends: [{ip: 10.9.0.3}, {ip: 10.9.0.4}, {ip: 10.9.0.5}]}\n"
	"  - {address: 10.0.0.100, port: 2001, protocol: udp, policy: maglev,\n"
	"     backends: [{ip: 10.1.0.5}, {ip: 10.1.0.4}]}\n";

static void test_two_balancers_agree(void)
{
	struct balancer one, two;
	struct outcome a, c;
	uint32_t n, port, differ = 0, ids_differ = 0, sent = 0;

	if (!balancer_open(&one, agree_config))
		return;
	if (!balancer_open(&two, other_history_config)) {
		balancer_close(&one);
		return;
	}
	if (!ASSERT_OK(balancer_apply(&two, agree_config), "balancer two: apply the config"))
		goto out;
	for (port = 2000; port <= 2001; port++) {
		for (n = 0; n < 5000; n++) {
			send_flow(&one, n, (uint16_t)port, IPPROTO_UDP, 0, &a);
			send_flow(&two, n, (uint16_t)port, IPPROTO_UDP, 0, &c);
			sent++;
			differ += !a.backend_addr || a.backend_addr != c.backend_addr;
			ids_differ += a.backend_id != c.backend_id;
		}
	}
	printf("    %u flows: %u sent to different backends; backend ids differed for %u\n",
	       sent, differ, ids_differ);
	ASSERT_EQ(differ, 0, "flows the two balancers send to different backends");
	ASSERT_TRUE(ids_differ > 0, "the balancers' ids differ (their histories did)");
out:
	balancer_close(&one);
	balancer_close(&two);
}

/* --- switching a VIP's policy -------------------------------------------------------- */

/* 300 established flows keep their backend through every policy in turn. */
static void test_switch_keeps_flows(void)
{
	static const char config[] =
		"vips:\n  - address: 10.0.0.100\n    port: 2000\n    protocol: tcp\n"
		"    backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2}, {ip: 10.1.0.3}, {ip: 10.1.0.4},\n"
		"               {ip: 10.1.0.5}]\n";
	static const uint16_t order[] = {
		LB_POLICY_ROUND_ROBIN, LB_POLICY_HASH, LB_POLICY_MAGLEV, LB_POLICY_LEAST_CONN,
		LB_POLICY_WEIGHTED_RR, LB_POLICY_PACKETS_PER_FLOW, LB_POLICY_LEAST_LOADED,
	};
	enum { FLOWS = 300 };
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	uint32_t first[FLOWS], n, moved;
	struct balancer b;
	struct outcome o;
	char msg[96];
	size_t p;

	if (!balancer_open(&b, config))
		return;
	for (n = 0; n < FLOWS; n++) {
		send_flow(&b, n, 2000, IPPROTO_TCP, 0x02, &o);
		first[n] = o.backend_id;
	}
	for (p = 0; p < ARRAY_SIZE(order); p++) {
		const struct counter_delta hits[] = {
			{ LB_C_PARSE_TO_LB, FLOWS }, { LB_C_LB_FLOW_HIT, FLOWS },
		};

		ASSERT_OK(vip_set_policy(&b, 2000, IPPROTO_TCP, order[p]), "switch the policy");
		counters_read(b.maps.fd[LB_MAP_COUNTERS], before);
		for (moved = 0, n = 0; n < FLOWS; n++) {
			send_flow(&b, n, 2000, IPPROTO_TCP, 0, &o);
			moved += o.backend_id != first[n];
		}
		counters_read(b.maps.fd[LB_MAP_COUNTERS], after);
		snprintf(msg, sizeof(msg), "after switching to %s: flows moved",
			 lb_policy_name((uint8_t)order[p]));
		ASSERT_EQ(moved, 0, msg);
		snprintf(msg, sizeof(msg), "after switching to %s: counters",
			 lb_policy_name((uint8_t)order[p]));
		counters_expect(before, after, hits, ARRAY_SIZE(hits), msg);
	}
	balancer_close(&b);
}

/* --- least-conn ------------------------------------------------------------------- */

/* Every flow entry: counted unless it is on @ended (whose flows saw their
 * FIN), and the backend id and creation time, which share the flag's word,
 * kept by the atomic clear.
 */
static void check_flow_flags(const struct balancer *b, uint32_t ended)
{
	struct lb_flow_key key, *prev = NULL;
	struct timespec ts;
	uint32_t now_s;
	struct lb_flow flow;
	int entries = 0;

	/* CLOCK_MONOTONIC_COARSE: the clock of bpf_ktime_get_coarse_ns(). */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now_s = (uint32_t)ts.tv_sec & LB_FLOW_CREATED_MASK;
	while (!bpf_map_get_next_key(b->maps.fd[LB_MAP_FLOWS], prev, &key)) {
		prev = &key;
		if (!ASSERT_OK(bpf_map_lookup_elem(b->maps.fd[LB_MAP_FLOWS], &key, &flow),
			       "flow entry read"))
			return;
		entries++;
		ASSERT_EQ(!!(flow.id_word & LB_FLOW_F_COUNTED), flow.backend_id != ended,
			  "counted unless its FIN was seen");
		ASSERT_TRUE(flow.backend_id < LB_MAX_BACKENDS, "backend id kept");
		ASSERT_TRUE(lb_flow_created_s(&flow) <= now_s &&
				    lb_flow_created_s(&flow) + 60 >= now_s,
			    "creation time kept (within the last minute)");
	}
	ASSERT_EQ(entries, 8, "flow entries");
}

static void test_least_conn_counts(void)
{
	static const char config[] =
		"vips:\n  - address: 10.0.0.100\n    port: 2000\n    protocol: tcp\n"
		"    policy: least-conn\n"
		"    backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2, weight: 2}, {ip: 10.1.0.3}]\n";
	uint32_t ids[3] = { LB_NO_BACKEND, LB_NO_BACKEND, LB_NO_BACKEND }, n;
	int placed[3] = {}, i;
	struct balancer b;
	struct outcome o;

	if (!balancer_open(&b, config))
		return;
	/* 8 flows: active/weight balances to 2, 4, 2. */
	for (n = 0; n < 8; n++) {
		send_flow(&b, n, 2000, IPPROTO_TCP, 0x02, &o);
		i = backend_index(o.backend_addr, 3);
		if (!ASSERT_TRUE(i >= 0, "placed on a backend of the VIP"))
			goto out;
		placed[i]++;
		ids[i] = o.backend_id;
	}
	ASSERT_EQ(placed[0], 2, "weight 1: 2 flows");
	ASSERT_EQ(placed[1], 4, "weight 2: 4 flows");
	ASSERT_EQ(placed[2], 2, "weight 1: 2 flows");
	ASSERT_EQ(conns_of(&b, ids[0]), 2, "backend 1 active");
	ASSERT_EQ(conns_of(&b, ids[1]), 4, "backend 2 active");

	/* FIN of every flow on backend 1, twice (a retransmitted FIN): -1 each, once. */
	for (n = 0; n < 8; n++) {
		struct outcome again;

		send_flow(&b, n, 2000, IPPROTO_TCP, 0x02, &o); /* where is it? */
		if (o.backend_id != ids[0])
			continue;
		send_flow(&b, n, 2000, IPPROTO_TCP, 0x11, &again);
		ASSERT_EQ(again.backend_id, ids[0], "the FIN still reaches the flow's backend");
		send_flow(&b, n, 2000, IPPROTO_TCP, 0x11, &again);
		send_flow(&b, n, 2000, IPPROTO_TCP, 0x14, &again); /* then an RST */
		ASSERT_EQ(again.backend_id, ids[0], "packets after the FIN: same backend");
	}
	ASSERT_EQ(conns_of(&b, ids[0]), 0, "backend 1 active after its flows' FINs");
	ASSERT_EQ(conns_of(&b, ids[1]), 4, "backend 2 untouched");
	check_flow_flags(&b, ids[0]);
	/* Backend 1 is now least connected: the next two new flows go there. */
	send_flow(&b, 100, 2000, IPPROTO_TCP, 0x02, &o);
	ASSERT_EQ(o.backend_id, ids[0], "next new flow: the backend whose flows ended");
	send_flow(&b, 101, 2000, IPPROTO_TCP, 0x02, &o);
	ASSERT_EQ(o.backend_id, ids[0], "and the one after");
	ASSERT_EQ(conns_of(&b, ids[0]), 2, "backend 1 active again");
out:
	balancer_close(&b);
}

/* An idle UDP flow rescheduled leaves its old backend's count. */
static void test_least_conn_expiry(void)
{
	static const char config[] =
		"vips:\n  - address: 10.0.0.100\n    port: 2000\n    policy: least-conn\n"
		"    backends: [{ip: 10.1.0.1}, {ip: 10.1.0.2}]\n";
	struct lb_flow_key key = {
		.src = client_addr(0), .dst = pkt_ip(VIP_ADDR), .sport = htons(1024),
		.dport = htons(2000), .proto = IPPROTO_UDP,
	};
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct outcome o, o2, again;
	struct lb_flow flow;
	struct balancer b;

	if (!balancer_open(&b, config))
		return;
	send_flow(&b, 0, 2000, IPPROTO_UDP, 0, &o);
	send_flow(&b, 1, 2000, IPPROTO_UDP, 0, &o2);
	ASSERT_TRUE(o.backend_id != o2.backend_id, "two flows on two backends");
	ASSERT_EQ(conns_of(&b, o.backend_id), 1, "first backend active");
	/* The first flow went quiet for longer than the 30 s timeout. */
	if (ASSERT_OK(bpf_map_lookup_elem(b.maps.fd[LB_MAP_FLOWS], &key, &flow), "read flow")) {
		flow.last_seen_ns = 1;
		ASSERT_OK(bpf_map_update_elem(b.maps.fd[LB_MAP_FLOWS], &key, &flow, BPF_EXIST),
			  "age the flow");
	}
	counters_read(b.maps.fd[LB_MAP_COUNTERS], before);
	send_flow(&b, 0, 2000, IPPROTO_UDP, 0, &again);
	counters_read(b.maps.fd[LB_MAP_COUNTERS], after);
	ASSERT_EQ(after[LB_C_LB_FLOW_EXPIRED] - before[LB_C_LB_FLOW_EXPIRED], 1, "lb.flow_expired");
	/* Its old backend dropped to 0 active and so took it again (ties go to
	 * the earlier backend); without the -1 it would now count 2.
	 */
	ASSERT_EQ(again.backend_id, o.backend_id, "rescheduled onto the emptier backend");
	ASSERT_EQ(conns_of(&b, o.backend_id), 1, "old backend: -1 then +1");
	ASSERT_EQ(conns_of(&b, o2.backend_id), 1, "other backend untouched");
	balancer_close(&b);
}

/* --- IPv6 flows under every policy ------------------------------------------------- */

#define VIP6_ADDR "2001:db8::100"

/* The client address of IPv6 flow @n: 2001:db8:c::/64 with n + 1 in its last word. */
static void client6_addr(uint32_t n, uint8_t *addr)
{
	uint32_t last = htonl(n + 1);

	pkt_ip6("2001:db8:c::", addr);
	memcpy(addr + 12, &last, 4);
}

/* IPv6 flow @n: client6_addr(n):(1024 + n % 60000) -> [VIP6_ADDR]:@port. The
 * backend's address lands in out->backend_addr6.
 */
static void send_flow6(struct balancer *b, uint32_t n, uint16_t port, uint8_t proto,
		       uint8_t tcp_flags, struct outcome *out, uint8_t *backend_addr6)
{
	struct lb_backend be;
	struct pkt_spec spec;

	memset(backend_addr6, 0, 16);
	pkt_spec_udp6(&spec);
	client6_addr(n, spec.src6);
	pkt_ip6(VIP6_ADDR, spec.dst6);
	spec.sport = (uint16_t)(1024 + n % 60000);
	spec.dport = port;
	spec.proto = proto;
	if (tcp_flags)
		spec.tcp_flags = tcp_flags;
	run_spec(b, &spec, out, &be);
	if (be.flags & LB_BACKEND_F_IPV6)
		memcpy(backend_addr6, be.addr6, 16);
}

/* Index of @addr6 among 2001:db8:1::1, ::2, ... (@count of them), or -1. */
static int backend6_index(const uint8_t *addr6, int count)
{
	uint8_t want[16];
	int i;

	for (i = 0; i < count; i++) {
		pkt_ip6("2001:db8:1::", want);
		want[15] = (uint8_t)(i + 1);
		if (!memcmp(addr6, want, 16))
			return i;
	}
	return -1;
}

/* The IPv6 flow key of send_flow6(@n, @port, @proto). */
static struct lb_flow6_key flow6_key(uint32_t n, uint16_t port, uint8_t proto)
{
	struct lb_flow6_key key = {
		.sport = htons((uint16_t)(1024 + n % 60000)), .dport = htons(port), .proto = proto,
	};

	client6_addr(n, key.src);
	pkt_ip6(VIP6_ADDR, key.dst);
	return key;
}

static uint64_t entries_of(int map_fd, size_t key_size)
{
	uint8_t key[64], prev[64];
	uint64_t n = 0;
	void *p = NULL;

	while (!bpf_map_get_next_key(map_fd, p, key)) {
		memcpy(prev, key, key_size);
		p = prev;
		n++;
	}
	return n;
}

#define B6 "[{ip: 2001:db8:1::1}, {ip: 2001:db8:1::2}, {ip: 2001:db8:1::3}, {ip: 2001:db8:1::4}]"

static const char per_vip6_config[] =
	"vips:\n"
	"  - {address: 2001:db8::100, port: 1001, protocol: tcp, policy: least-loaded,\n"
	"     backends: " B6 "}\n"
	"  - {address: 2001:db8::100, port: 1002, protocol: tcp, policy: round-robin,\n"
	"     backends: " B6 "}\n"
	"  - {address: 2001:db8::100, port: 1003, protocol: tcp, policy: weighted-round-robin,\n"
	"     backends: [{ip: 2001:db8:1::1, weight: 1}, {ip: 2001:db8:1::2, weight: 3}]}\n"
	"  - {address: 2001:db8::100, port: 1004, protocol: tcp, policy: hash,\n"
	"     backends: " B6 "}\n"
	"  - {address: 2001:db8::100, port: 1005, protocol: tcp,\n"
	"     policy: {type: maglev, table_size: 251},\n"
	"     backends: [{ip: 2001:db8:1::1}, {ip: 2001:db8:1::2, weight: 2}, {ip: 2001:db8:1::3},\n"
	"                {ip: 2001:db8:1::4}]}\n"
	"  - {address: 2001:db8::100, port: 1006, protocol: tcp, policy: least-conn,\n"
	"     backends: " B6 "}\n"
	"  - {address: 2001:db8::100, port: 1007, protocol: tcp, policy: least-packets-per-flow,\n"
	"     backends: " B6 "}\n"
	/* The same port over IPv4: its own VIP, its own flows. */
	"  - {address: 10.0.0.100, port: 1001, protocol: tcp, backends: [{ip: 10.1.0.1}]}\n";

/* Seven IPv6 VIPs, one per policy: each balances as its IPv4 twin does, in
 * flows6; hash and Maglev pick what the test computes on its own.
 */
static void test_ipv6_policies(void)
{
	static const struct { uint16_t port; const char *name; int count, want[4]; } even[] = {
		{ 1001, "least-loaded", 4, { 4, 4, 4, 4 } },
		{ 1002, "round-robin", 4, { 4, 4, 4, 4 } },
		{ 1003, "weighted-round-robin", 2, { 4, 12 } },
		{ 1006, "least-conn", 4, { 4, 4, 4, 4 } },
		{ 1007, "least-packets-per-flow", 4, { 4, 4, 4, 4 } },
	};
	struct lb_maglev_table *table = calloc(1, sizeof(*table));
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct lb_maglev_backend mb[4];
	uint32_t *own = calloc(251, sizeof(*own)), n, first[16];
	uint8_t addr6[16], again6[16];
	struct lb_vip6_key key6 = {};
	struct lb_flow6_key fk;
	struct balancer b;
	struct outcome o, again;
	struct lb_vip vip;
	__u32 zero = 0, gen = 0, table_id;
	int placed[4], i;
	size_t p;
	char msg[128];

	if (!ASSERT_TRUE(table && own, "allocate") || !balancer_open(&b, per_vip6_config))
		goto out_free;
	for (p = 0; p < ARRAY_SIZE(even); p++) {
		memset(placed, 0, sizeof(placed));
		for (n = 0; n < 16; n++) {
			send_flow6(&b, n, even[p].port, IPPROTO_TCP, 0x02, &o, addr6);
			i = backend6_index(addr6, even[p].count);
			snprintf(msg, sizeof(msg), "%s: flow %u to an IPv6 backend of its VIP",
				 even[p].name, n);
			if (ASSERT_TRUE(i >= 0, msg))
				placed[i]++;
			first[n] = o.backend_id;
		}
		for (i = 0; i < even[p].count; i++) {
			snprintf(msg, sizeof(msg), "%s: backend %d took %d of 16", even[p].name, i,
				 even[p].want[i]);
			ASSERT_EQ(placed[i], even[p].want[i], msg);
		}
		/* Established: the flows6 entry keeps each flow where it went. */
		counters_read(b.maps.fd[LB_MAP_COUNTERS], before);
		for (n = 0; n < 16; n++) {
			send_flow6(&b, n, even[p].port, IPPROTO_TCP, 0, &again, again6);
			snprintf(msg, sizeof(msg), "%s: flow %u stays", even[p].name, n);
			ASSERT_EQ(again.backend_id, first[n], msg);
		}
		counters_read(b.maps.fd[LB_MAP_COUNTERS], after);
		snprintf(msg, sizeof(msg), "%s: 16 lb.flow_hit", even[p].name);
		ASSERT_EQ(after[LB_C_LB_FLOW_HIT] - before[LB_C_LB_FLOW_HIT], 16, msg);
	}
	ASSERT_EQ(entries_of(b.maps.fd[LB_MAP_FLOWS6], sizeof(struct lb_flow6_key)), 80,
		  "flows6 holds the 80 stateful IPv6 flows");
	ASSERT_EQ(entries_of(b.maps.fd[LB_MAP_FLOWS], sizeof(struct lb_flow_key)), 0,
		  "flows holds no IPv6 flow");

	/* least-conn: the FIN of an IPv6 flow takes it out of its backend's count. */
	send_flow6(&b, 0, 1006, IPPROTO_TCP, 0, &o, addr6);
	ASSERT_EQ(conns_of(&b, o.backend_id), 4, "least-conn: 4 active on flow 0's backend");
	send_flow6(&b, 0, 1006, IPPROTO_TCP, 0x11, &again, again6);
	ASSERT_EQ(again.backend_id, o.backend_id, "least-conn: the FIN reaches the backend");
	ASSERT_EQ(conns_of(&b, o.backend_id), 3, "least-conn: 3 active after the FIN");

	/* hash: the test's own lb_flow_hash6() picks the same backend. */
	for (n = 0; n < 16; n++) {
		fk = flow6_key(n, 1004, IPPROTO_TCP);
		send_flow6(&b, n, 1004, IPPROTO_TCP, 0, &o, addr6);
		ASSERT_EQ(backend6_index(addr6, 4), (int)(lb_flow_hash6(&fk) % 4),
			  "hash: backend = IPv6 flow hash mod 4");
	}

	/* maglev: the balancer's table is the one the test builds from the
	 * backends' addresses, and a flow goes to table[hash mod size].
	 */
	bpf_map_lookup_elem(b.maps.fd[LB_MAP_CONFIG_GEN], &zero, &gen);
	pkt_ip6(VIP6_ADDR, key6.addr);
	key6.port = htons(1005);
	key6.proto = IPPROTO_TCP;
	key6.gen = (__u8)(gen & 1);
	if (!ASSERT_OK(bpf_map_lookup_elem(b.maps.fd[LB_MAP_VIPS6], &key6, &vip),
		       "read the maglev VIP from vips6") ||
	    !ASSERT_TRUE(vip.maglev_table < LB_MAGLEV_TABLES, "maglev VIP has a table"))
		goto out;
	table_id = vip.maglev_table;
	ASSERT_OK(bpf_map_lookup_elem(b.maps.fd[LB_MAP_MAGLEV_TABLES], &table_id, table),
		  "read the table");
	for (i = 0; i < 4; i++) {
		struct lb_pool pool;

		pkt_ip6("2001:db8:1::", addr6);
		addr6[15] = (uint8_t)(i + 1);
		/* Ids from the pool, identities from the addresses alone. */
		bpf_map_lookup_elem(b.maps.fd[LB_MAP_POOLS], &vip.pool_id, &pool);
		mb[i] = (struct lb_maglev_backend){ lb_addr6_hash(addr6), i == 1 ? 2 : 1,
						    pool.backend_ids[i] };
	}
	ASSERT_OK(lb_maglev_build(mb, 4, 251, own), "build the table in the test");
	ASSERT_BYTES(table->backend_ids, 251 * sizeof(*own), own, 251 * sizeof(*own),
		     "maglev: the balancer's IPv6 table = the test's");
	for (n = 0; n < 16; n++) {
		fk = flow6_key(n, 1005, IPPROTO_TCP);
		send_flow6(&b, n, 1005, IPPROTO_TCP, 0x02, &o, addr6);
		ASSERT_EQ(o.backend_id, own[lb_flow_hash6(&fk) % 251],
			  "maglev: backend = table[IPv6 flow hash mod size]");
	}
out:
	balancer_close(&b);
out_free:
	free(table);
	free(own);
}

/* Two balancers with different histories send every IPv6 flow to the same backend. */
static void test_ipv6_two_balancers_agree(void)
{
	static const char config[] =
		"vips:\n"
		"  - {address: 2001:db8::100, port: 2000, protocol: udp, policy: hash,\n"
		"     backends: [{ip: 2001:db8:1::1}, {ip: 2001:db8:1::2, weight: 3},\n"
		"                {ip: 2001:db8:1::3}, {ip: 2001:db8:1::4, weight: 2}]}\n"
		"  - {address: 2001:db8::100, port: 2001, protocol: udp, policy: maglev,\n"
		"     backends: [{ip: 2001:db8:1::1}, {ip: 2001:db8:1::2, weight: 3},\n"
		"                {ip: 2001:db8:1::3}, {ip: 2001:db8:1::4, weight: 2}]}\n";
	static const char history[] =
		"vips:\n"
		"  - {address: 2001:db8::99, policy: maglev,\n"
		"     backends: [{ip: 2001:db8:9::1}, {ip: 2001:db8:9::2}]}\n"
		"  - {address: 10.0.0.98, backends: [{ip: 10.9.0.3}, {ip: 10.9.0.4}]}\n"
		"  - {address: 2001:db8::100, port: 2001, protocol: udp, policy: maglev,\n"
		"     backends: [{ip: 2001:db8:1::4}, {ip: 2001:db8:1::3}]}\n";
	uint8_t a6[16], c6[16], zero6[16] = { 0 };
	uint32_t n, port, differ = 0, ids_differ = 0;
	struct balancer one, two;
	struct outcome a, c;

	if (!balancer_open(&one, config))
		return;
	if (!balancer_open(&two, history)) {
		balancer_close(&one);
		return;
	}
	if (!ASSERT_OK(balancer_apply(&two, config), "balancer two: apply the config"))
		goto out;
	for (port = 2000; port <= 2001; port++) {
		for (n = 0; n < 5000; n++) {
			send_flow6(&one, n, (uint16_t)port, IPPROTO_UDP, 0, &a, a6);
			send_flow6(&two, n, (uint16_t)port, IPPROTO_UDP, 0, &c, c6);
			differ += !memcmp(a6, zero6, 16) || memcmp(a6, c6, 16);
			ids_differ += a.backend_id != c.backend_id;
		}
	}
	printf("    10000 IPv6 flows: %u to different backends; ids differed for %u\n", differ,
	       ids_differ);
	ASSERT_EQ(differ, 0, "IPv6 flows the two balancers send to different backends");
	ASSERT_TRUE(ids_differ > 0, "the balancers' ids differ (their histories did)");
out:
	balancer_close(&one);
	balancer_close(&two);
}

/* --- Maglev tables (userspace) ------------------------------------------------------ */

#define DISRUPT_FLOWS 100000

/* Removing one of N backends: how many of the other backends' positions move. */
static void test_maglev_disruption(void)
{
	static const int backend_counts[] = { 5, 10, 50, 100 };
	const uint32_t size = LB_MAGLEV_DEFAULT_SIZE;
	struct lb_maglev_backend list[100];
	uint32_t *before = calloc(size, sizeof(*before));
	uint32_t *after = calloc(size, sizeof(*after));
	char msg[200];
	size_t c;
	int i;

	if (!ASSERT_TRUE(before && after, "allocate"))
		goto out;
	for (c = 0; c < ARRAY_SIZE(backend_counts); c++) {
		int n = backend_counts[c], removed = n / 2;
		uint32_t others = 0, moved = 0, f;
		double bound = 1.0 / n + 0.02;

		for (i = 0; i < n; i++)
			list[i] = (struct lb_maglev_backend){ htonl(0x0a010001 + i), 1,
							      (uint32_t)i };
		ASSERT_OK(lb_maglev_build(list, (size_t)n, size, before), "build");
		list[removed].weight = 0; /* gone */
		ASSERT_OK(lb_maglev_build(list, (size_t)n, size, after), "build without one");
		for (f = 0; f < DISRUPT_FLOWS; f++) {
			struct lb_flow_key key = {
				.src = htonl(0x0b000000 + f), .dst = pkt_ip(VIP_ADDR),
				.sport = htons((uint16_t)(f * 7)), .dport = htons(80),
				.proto = IPPROTO_TCP,
			};
			uint32_t pos = lb_flow_hash(&key) % size;

			if (before[pos] == (uint32_t)removed)
				continue;
			others++;
			moved += after[pos] != before[pos];
		}
		snprintf(msg, sizeof(msg),
			 "table %u, 1 of %d backends removed: %u of %u other flows moved "
			 "(%.2f%%, bound 1/N + 2%% = %.2f%%)",
			 size, n, moved, others, 100.0 * moved / others, 100 * bound);
		printf("    %s\n", msg);
		ASSERT_TRUE((double)moved / others <= bound, msg);
	}
out:
	free(before);
	free(after);
}

/* Same backends in another order and with other ids: the same address at
 * every position. Weighted shares within one position per unit of weight.
 */
static void test_maglev_table_properties(void)
{
	static const uint32_t weights[] = { 1, 2, 3, 4, 0 };
	struct lb_maglev_backend list[5], shuffled[5];
	uint32_t *a = calloc(LB_MAGLEV_MAX_SIZE, sizeof(*a));
	uint32_t *b = calloc(LB_MAGLEV_MAX_SIZE, sizeof(*b));
	uint32_t owned[5] = {}, pos, size = 65537;
	char msg[96];
	int i;

	if (!ASSERT_TRUE(a && b, "allocate"))
		goto out;
	for (i = 0; i < 5; i++) {
		list[i] = (struct lb_maglev_backend){ htonl(0x0a010001 + i), weights[i],
						      (uint32_t)i };
		/* Reverse order, ids 100 + i. */
		shuffled[4 - i] = (struct lb_maglev_backend){ htonl(0x0a010001 + i), weights[i],
							      100 + (uint32_t)i };
	}
	ASSERT_OK(lb_maglev_build(list, 5, size, a), "build");
	ASSERT_OK(lb_maglev_build(shuffled, 5, size, b), "build shuffled");
	for (pos = 0; pos < size; pos++) {
		if (!ASSERT_EQ(b[pos], a[pos] + 100, "same backend at every position"))
			break;
		if (a[pos] < 5)
			owned[a[pos]]++;
	}
	for (i = 0; i < 5; i++) {
		double share = (double)size * weights[i] / 10;

		snprintf(msg, sizeof(msg), "weight %u owns %u of %u positions (share %.1f)",
			 weights[i], owned[i], size, share);
		ASSERT_TRUE(owned[i] >= share - weights[i] - 1 &&
			    owned[i] <= share + weights[i] + 1, msg);
	}
	ASSERT_EQ(lb_maglev_build(list, 5, 65536, a), -EINVAL, "a size that is not prime");
	ASSERT_EQ(lb_maglev_build(list, 5, 3, a), -E2BIG, "fewer positions than backends");
	list[0].weight = list[1].weight = list[2].weight = list[3].weight = 0;
	ASSERT_OK(lb_maglev_build(list, 4, 7, a), "no backend with weight");
	for (pos = 0; pos < 7; pos++)
		ASSERT_EQ(a[pos], LB_NO_BACKEND, "empty table entry");
out:
	free(a);
	free(b);
}

/* --- which Maglev table: one rule for a reload and lbctl policy ------------------- */

/* The table the live entry of VIP port @port names (LB_NO_TABLE if none). */
static int table_of(struct balancer *b, uint16_t port)
{
	struct lb_vip_key key;
	struct lb_vip vip;

	return vip_get(b, port, IPPROTO_UDP, &key, &vip) ? -1 : vip.maglev_table;
}

/* A reload (lb_apply_config) and lbctl policy (lb_maglev_table_for_live) both
 * take the lowest tables no live entry names (lb_maglev_alloc_take): each
 * avoids the other's, a stale entry's table is free to both, and what the
 * allocator predicts from the state is what the reload then writes.
 */
static void test_maglev_tables_one_rule(void)
{
	static const char config[] =
		"vips:\n"
		"  - {address: 10.0.0.100, port: 3001, policy: maglev,\n"
		"     backends: [{ip: 10.1.0.1}]}\n"
		"  - {address: 10.0.0.100, port: 3002, policy: hash, backends: [{ip: 10.1.0.2}]}\n"
		"  - {address: 10.0.0.100, port: 3003, policy: maglev,\n"
		"     backends: [{ip: 10.1.0.3}]}\n";
	static struct lb_state state;
	struct lb_maglev_alloc alloc;
	struct lb_vip_key key;
	struct lb_vip vip;
	struct balancer b;
	struct outcome o;
	int predicted[2], i;

	if (!balancer_open(&b, config))
		return;
	ASSERT_EQ(table_of(&b, 3001), 0, "first load: 3001 takes table 0");
	ASSERT_EQ(table_of(&b, 3003), 1, "first load: 3003 takes table 1");

	ASSERT_OK(vip_set_policy(&b, 3002, IPPROTO_UDP, LB_POLICY_MAGLEV), "lbctl policy maglev");
	ASSERT_EQ(table_of(&b, 3002), 2, "lbctl: the lowest table no live entry names");
	send_flow(&b, 1, 3002, IPPROTO_UDP, 0, &o);
	ASSERT_EQ(o.backend_addr, pkt_ip("10.1.0.2"), "lbctl's table is filled and read");

	if (!ASSERT_OK(balancer_apply(&b, config), "reload"))
		goto out;
	ASSERT_EQ(table_of(&b, 3001), 3, "reload: 3001 avoids lbctl's table 2 too");
	ASSERT_EQ(table_of(&b, 3003), 4, "reload: 3003 takes the next one");
	ASSERT_EQ(table_of(&b, 3002), LB_NO_TABLE, "reload: 3002 is hash again, no table");

	ASSERT_OK(vip_set_policy(&b, 3002, IPPROTO_UDP, LB_POLICY_MAGLEV), "lbctl again");
	ASSERT_EQ(table_of(&b, 3002), 0, "lbctl: the previous generation's table 0 is free");

	/* A stale entry (the other generation, as a killed reload leaves it)
	 * naming table 1: invisible to parse, so free to both writers.
	 */
	ASSERT_OK(vip_get(&b, 3001, IPPROTO_UDP, &key, &vip), "read VIP 3001");
	key.gen ^= 1;
	vip.maglev_table = 1;
	ASSERT_OK(bpf_map_update_elem(b.maps.fd[LB_MAP_VIPS], &key, &vip, BPF_NOEXIST),
		  "write a stale entry");
	if (!ASSERT_OK(lb_state_read(&b.maps, &state), "read the state"))
		goto out;
	ASSERT_EQ(state.stale_count, 1, "one stale entry");
	lb_maglev_alloc_init(&alloc, &state, true);
	ASSERT_EQ(lb_maglev_alloc_take(&alloc), 1, "lbctl would take the stale entry's table");
	lb_maglev_alloc_init(&alloc, &state, false);
	for (i = 0; i < 2; i++)
		predicted[i] = lb_maglev_alloc_take(&alloc);
	ASSERT_EQ(predicted[0], 1, "a reload would too");
	if (!ASSERT_OK(balancer_apply(&b, config), "reload over the stale entry"))
		goto out;
	ASSERT_EQ(table_of(&b, 3001), predicted[0], "reload: 3001 got the predicted table");
	ASSERT_EQ(table_of(&b, 3003), predicted[1], "reload: 3003 got the predicted table");
	ASSERT_OK(lb_state_read(&b.maps, &state), "read the state again");
	ASSERT_EQ(state.stale_count, 0, "the reload removed the stale entry");
out:
	balancer_close(&b);
}

/* The limit: a generation names at most LB_MAGLEV_MAX_VIPS tables, so a full
 * live generation refuses lbctl, and the next generation still has room.
 */
static void test_maglev_table_limit(void)
{
	static struct lb_state state;
	struct lb_maglev_alloc alloc;
	size_t i;

	memset(&state, 0, sizeof(state));
	for (i = 0; i < LB_MAGLEV_MAX_VIPS; i++)
		state.live[state.live_count++].vip.maglev_table = (__u16)(2 * i);
	state.live[state.live_count++].vip.maglev_table = LB_NO_TABLE;
	lb_maglev_alloc_init(&alloc, &state, true);
	ASSERT_EQ(lb_maglev_alloc_take(&alloc), -EDQUOT, "a full live generation: lbctl refused");
	lb_maglev_alloc_init(&alloc, &state, false);
	for (i = 0; i < LB_MAGLEV_MAX_VIPS; i++)
		ASSERT_EQ(lb_maglev_alloc_take(&alloc), (int)(2 * i + 1),
			  "a reload takes the tables the live generation leaves");
	ASSERT_EQ(lb_maglev_alloc_take(&alloc), -EDQUOT, "and no more than its limit");
}

static const struct test_case cases[] = {
	TEST_CASE(test_policies_per_vip),
	TEST_CASE(test_bad_policy_and_missing_table),
	TEST_CASE(test_round_robin_exact),
	TEST_CASE(test_weighted_round_robin_exact),
	TEST_CASE(test_hash_balance),
	TEST_CASE(test_maglev_balance),
	TEST_CASE(test_two_balancers_agree),
	TEST_CASE(test_switch_keeps_flows),
	TEST_CASE(test_least_conn_counts),
	TEST_CASE(test_least_conn_expiry),
	TEST_CASE(test_maglev_disruption),
	TEST_CASE(test_maglev_table_properties),
	TEST_CASE(test_maglev_tables_one_rule),
	TEST_CASE(test_maglev_table_limit),
	TEST_CASE(test_ipv6_policies),
	TEST_CASE(test_ipv6_two_balancers_agree),
};

int main(int argc, char **argv)
{
	return test_main("policies", cases, ARRAY_SIZE(cases), argc, argv);
}
