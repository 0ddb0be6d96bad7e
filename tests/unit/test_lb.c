// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the least-loaded lb stages under BPF_PROG_TEST_RUN: least-loaded
 * (bpf/lb/least_loaded.bpf.c, recent packets per unit of weight) and
 * least-packets-per-flow (bpf/lb/packets_per_flow.bpf.c, the original metric),
 * which share the flow table and the scan (bpf/include/least_loaded.bpf.h).
 *
 * The stage runs alone: each test writes the packet context parse would have
 * written (on every CPU, since the test run may land on any), fills pools,
 * backends and backend_load directly, and puts the test sink in the encap slot
 * to see which backend the stage handed on. Every case loads a fresh stage so
 * that no map state leaks from one case to the next.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lb_structs_common.h"
#include "least_loaded.skel.h"
#include "packets_per_flow.skel.h"
#include "packet.h"
#include "sink_record.h"
#include "flow_hash_common.h"
#include "stage_fixture.h"
#include "test_harness.h"
#include "xdp_test_run.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NSEC_PER_SEC 1000000000LL

#define TEST_VIP_ID 3
/* The VIP's second pool: a stage that derived the pool from vip_id would miss it. */
#define TEST_POOL_ID (TEST_VIP_ID * LB_POOLS_PER_VIP + 1)
#define OTHER_VIP_ID 4

/* Two-backend scenarios: A starts idle and takes the first flow, B is busy. */
#define BACKEND_A 10
#define BACKEND_B 11
#define BUSY_PACKETS 1000

struct lb_fixture {
	struct least_loaded_bpf *lb;      /* one of the two stages is loaded */
	struct packets_per_flow_bpf *ppf;
	struct bpf_object *obj;           /* the loaded one's */
	struct stage_sink sink; /* in the encap slot */
	int prog_fd;
	int ctx_fd, counters_fd, pools_fd, backends_fd, load_fd, stats_fd, flows_fd;
	int vip_drops_fd;
};

/* What one packet did. */
struct lb_outcome {
	uint32_t verdict;
	uint64_t sink_hits;  /* 1 when the stage tail-called the encap slot */
	uint32_t backend_id; /* ctx.backend_id as the sink received it */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	/* The stage stamps flows with bpf_ktime_get_coarse_ns(), which is
	 * CLOCK_MONOTONIC_COARSE: the same clock keeps t0 <= stamp <= t1 exact.
	 */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void fixture_close(struct lb_fixture *fx)
{
	sink_detach(&fx->sink);
	least_loaded_bpf__destroy(fx->lb);
	packets_per_flow_bpf__destroy(fx->ppf);
	memset(fx, 0, sizeof(*fx));
}

/* lb_tunables.possible_cpus of the next fixture: 0 (unknown) sums backend_load
 * with bpf_loop up to the last CPU, the CPU count as the loader sets it with
 * the unrolled sum. Both must choose alike.
 */
static __u32 fixture_possible_cpus;

/* The stage the next fixture loads: least-loaded, or least-packets-per-flow. */
static bool fixture_packets_per_flow;

static int map_fd(struct bpf_object *obj, const char *name)
{
	return bpf_map__fd(bpf_object__find_map_by_name(obj, name));
}

static void fixture_load(struct lb_fixture *fx, uint64_t flow_timeout_ns,
			 struct fixture_status *status)
{
	struct lb_tunables *tunables;
	int err;

	if (fixture_packets_per_flow) {
		fx->ppf = packets_per_flow_bpf__open();
		if (fixture_step(status, fx->ppf ? 0 : -errno, "open packets_per_flow_bpf"))
			return;
		fx->obj = fx->ppf->obj;
		tunables = &fx->ppf->rodata->lb_tunables;
	} else {
		fx->lb = least_loaded_bpf__open();
		if (fixture_step(status, fx->lb ? 0 : -errno, "open least_loaded_bpf"))
			return;
		fx->obj = fx->lb->obj;
		tunables = &fx->lb->rodata->lb_tunables;
	}
	if (flow_timeout_ns)
		tunables->flow_timeout_ns = flow_timeout_ns;
	tunables->possible_cpus = fixture_possible_cpus;
	err = fx->ppf ? packets_per_flow_bpf__load(fx->ppf) : least_loaded_bpf__load(fx->lb);
	if (fixture_step(status, err, "load the stage"))
		return;
	fx->prog_fd = fx->ppf ? bpf_program__fd(fx->ppf->progs.xdp_lb_lppf)
			      : bpf_program__fd(fx->lb->progs.xdp_lb_lload);
	fx->ctx_fd = map_fd(fx->obj, "packet_ctx");
	fx->counters_fd = map_fd(fx->obj, "counters");
	fx->pools_fd = map_fd(fx->obj, "pools");
	fx->backends_fd = map_fd(fx->obj, "backends");
	fx->load_fd = map_fd(fx->obj, "backend_load");
	fx->stats_fd = map_fd(fx->obj, "backend_stats");
	fx->flows_fd = map_fd(fx->obj, "flows");
	fx->vip_drops_fd = map_fd(fx->obj, "vip_drops");
	fixture_step(status, sink_attach(&fx->sink, fx->obj, LB_SLOT_ENCAP),
		     "put the sink in the encap slot");
}

/* Loads the stage (with @flow_timeout_ns, 0 = the default) and the sink. */
static bool fixture_open(struct lb_fixture *fx, uint64_t flow_timeout_ns)
{
	struct fixture_status status = {};

	memset(fx, 0, sizeof(*fx));
	if (geteuid() == 0)
		fixture_load(fx, flow_timeout_ns, &status);
	if (fixture_ready(&status, __FILE__, __LINE__))
		return true;
	fixture_close(fx);
	return false;
}

static void backend_put(struct lb_fixture *fx, __u32 id, __u8 state, __u32 vip_id, __u32 weight)
{
	struct lb_backend backend = {
		.addr = htonl(0x0a010000 | id),
		.state = state,
		.vip_id = vip_id,
		.weight = weight,
	};

	ASSERT_OK(bpf_map_update_elem(fx->backends_fd, &id, &backend, BPF_ANY), "write backend");
}

/* The load window of @ns on the stage's clock (CLOCK_MONOTONIC_COARSE). */
static __u64 window_of(int64_t ns)
{
	return (__u64)ns >> LB_LOAD_WINDOW_SHIFT;
}

/* Waits for the next load window when less than half of this one is left. A
 * case that writes figures of "this window" or "the window before", and then
 * checks a choice or reads them back, runs well within half a window, so the
 * figures cannot age under it.
 */
static void window_fresh(void)
{
	const int64_t window_ns = 1LL << LB_LOAD_WINDOW_SHIFT;
	int64_t into = now_ns() & (window_ns - 1);
	struct timespec wait;

	if (into < window_ns / 2)
		return;
	wait.tv_sec = 0;
	wait.tv_nsec = (long)(window_ns - into) + 5000000; /* past one coarse tick */
	while (wait.tv_nsec >= NSEC_PER_SEC) {
		wait.tv_sec++;
		wait.tv_nsec -= NSEC_PER_SEC;
	}
	nanosleep(&wait, NULL);
}

/* One CPU's share of a backend's recent packets: @current in a window @age
 * windows before the present one, @previous in the window before that.
 */
struct cpu_window {
	__u64 current, previous;
	__u32 age;
};

static bool cpu_window_empty(struct cpu_window w)
{
	return !w.current && !w.previous;
}

/* Writes backend_load of @id: its whole-life @packets and @flows, and the
 * recent packets of CPU 0 (@first) and of the last CPU (@last). The policies
 * weigh the sum over the CPUs, so a stage that read one CPU's share alone
 * would choose wrong. On a machine of one CPU both go to it, which works when
 * one is empty or both are of the same window.
 */
static void load_put_windows(struct lb_fixture *fx, __u32 id, __u64 packets, __u64 flows,
			     struct cpu_window first, struct cpu_window last)
{
	int cpus = libbpf_num_possible_cpus();
	struct lb_backend_load *load = calloc(cpus > 0 ? (size_t)cpus : 1, sizeof(*load));
	__u64 window = window_of(now_ns());

	if (!ASSERT_TRUE(load != NULL && cpus > 0, "allocate backend_load")) {
		free(load);
		return;
	}
	if (cpus == 1) {
		ASSERT_TRUE(cpu_window_empty(first) || cpu_window_empty(last) ||
			    first.age == last.age, "one CPU holds both windows");
		if (cpu_window_empty(first))
			first.age = last.age;
		first.current += last.current;
		first.previous += last.previous;
		last = first;
		last.current = last.previous = 0;
	}
	load[cpus - 1].packets = packets / 2;
	load[cpus - 1].flows = flows / 2;
	load[cpus - 1].window = window - last.age;
	load[cpus - 1].window_packets = last.current;
	load[cpus - 1].prev_window_packets = last.previous;
	load[0].packets += packets - packets / 2;
	load[0].flows += flows - flows / 2;
	load[0].window = window - first.age;
	load[0].window_packets += first.current;
	load[0].prev_window_packets += first.previous;
	ASSERT_OK(bpf_map_update_elem(fx->load_fd, &id, load, BPF_ANY), "write backend_load");
	free(load);
}

/* A backend that carried @packets in @flows, all of them in this load window
 * (so both metrics see the same order of backends).
 */
static void load_put(struct lb_fixture *fx, __u32 id, __u64 packets, __u64 flows)
{
	struct cpu_window first = { .current = packets - packets / 2 };
	struct cpu_window last = { .current = packets / 2 };

	load_put_windows(fx, id, packets, flows, first, last);
}

/* backend_load of @id summed over all CPUs (window: the sum, meaningless). */
static struct lb_backend_load load_get(struct lb_fixture *fx, __u32 id)
{
	struct lb_backend_load load = {};

	ASSERT_OK(percpu_sum_u64(fx->load_fd, &id, &load, sizeof(load)), "read backend_load");
	return load;
}

/* Recent packets of @id as least-loaded reads them now: per CPU, both
 * windows when its window is the present one, its window_packets when that is
 * the window before, nothing when older.
 */
static __u64 recent_get(struct lb_fixture *fx, __u32 id)
{
	int cpus = libbpf_num_possible_cpus(), cpu;
	struct lb_backend_load *load = calloc(cpus > 0 ? (size_t)cpus : 1, sizeof(*load));
	__u64 window = window_of(now_ns()), recent = 0;

	if (!ASSERT_TRUE(load != NULL && cpus > 0, "allocate backend_load") ||
	    !ASSERT_OK(bpf_map_lookup_elem(fx->load_fd, &id, load), "read backend_load")) {
		free(load);
		return 0;
	}
	for (cpu = 0; cpu < cpus; cpu++) {
		if (load[cpu].window == window)
			recent += load[cpu].window_packets + load[cpu].prev_window_packets;
		else if (load[cpu].window + 1 == window)
			recent += load[cpu].window_packets;
	}
	free(load);
	return recent;
}

/* Two load windows go by without traffic for @id: its recent packets age out,
 * its whole-life figures stay (what the stage reads after a quiet while).
 */
static void load_idle(struct lb_fixture *fx, __u32 id)
{
	int cpus = libbpf_num_possible_cpus(), cpu;
	struct lb_backend_load *load = calloc(cpus > 0 ? (size_t)cpus : 1, sizeof(*load));

	if (!ASSERT_TRUE(load != NULL && cpus > 0, "allocate backend_load") ||
	    !ASSERT_OK(bpf_map_lookup_elem(fx->load_fd, &id, load), "read backend_load")) {
		free(load);
		return;
	}
	for (cpu = 0; cpu < cpus; cpu++)
		load[cpu].window = window_of(now_ns()) - 2;
	ASSERT_OK(bpf_map_update_elem(fx->load_fd, &id, load, BPF_ANY), "write backend_load");
	free(load);
}

/* backend_stats of @id summed over all CPUs. */
static struct lb_backend_stats stats_get(struct lb_fixture *fx, __u32 id)
{
	struct lb_backend_stats sum;

	ASSERT_OK(percpu_sum_u64(fx->stats_fd, &id, &sum, sizeof(sum)), "read backend_stats");
	return sum;
}

static void pool_put(struct lb_fixture *fx, __u32 pool_id, const __u32 *ids, __u32 count)
{
	struct lb_pool *pool = calloc(1, sizeof(*pool));

	if (!ASSERT_TRUE(pool != NULL, "allocate pool"))
		return;
	pool->backend_count = count;
	memcpy(pool->backend_ids, ids, count * sizeof(*ids));
	ASSERT_OK(bpf_map_update_elem(fx->pools_fd, &pool_id, pool, BPF_ANY), "write pool");
	free(pool);
}

/* The usual two-backend pool: A idle, B busy with one flow. */
static void pool_put_a_b(struct lb_fixture *fx)
{
	static const __u32 ids[] = { BACKEND_A, BACKEND_B };

	backend_put(fx, BACKEND_A, LB_BACKEND_UP, TEST_VIP_ID, 1);
	backend_put(fx, BACKEND_B, LB_BACKEND_UP, TEST_VIP_ID, 1);
	load_put(fx, BACKEND_B, BUSY_PACKETS, 1);
	pool_put(fx, TEST_POOL_ID, ids, ARRAY_SIZE(ids));
}

/* A distinct 5-tuple per @n: 10.0.x.y:(1024 + n) -> 10.0.0.100:80. */
static struct lb_flow_key flow_key(__u32 n, __u8 proto)
{
	struct lb_flow_key key = {
		.src = htonl(0x0a000001 + n),
		.dst = pkt_ip("10.0.0.100"),
		.sport = htons((__u16)(1024 + n)),
		.dport = htons(80),
		.proto = proto,
	};

	return key;
}

static int flow_get(struct lb_fixture *fx, const struct lb_flow_key *key, struct lb_flow *flow)
{
	return bpf_map_lookup_elem(fx->flows_fd, key, flow) ? -errno : 0;
}

static void flow_put(struct lb_fixture *fx, const struct lb_flow_key *key, __u32 backend_id,
		     uint64_t last_seen_ns)
{
	struct lb_flow flow = { .backend_id = backend_id, .last_seen_ns = last_seen_ns };

	ASSERT_OK(bpf_map_update_elem(fx->flows_fd, key, &flow, BPF_ANY), "write flow");
}

/* Runs one packet of @key for @pool_id; ctx.frame_len is @frame_len, which
 * need not match the frame: it proves the stage counts what parse saw.
 */
static void send_to_pool(struct lb_fixture *fx, const struct lb_flow_key *key, __u32 pool_id,
			 __u32 frame_len, struct lb_outcome *out)
{
	struct lb_packet_ctx ctx = {
		.flow = *key,
		.l4_proto = key->proto,
		.vip_id = TEST_VIP_ID,
		.pool_id = pool_id,
		.backend_id = LB_NO_BACKEND,
		.l3_offset = 14,
		.l4_offset = 14 + 20,
		.frame_len = frame_len,
	};
	struct sink_record record = {};
	struct xdp_result *res = calloc(1, sizeof(*res));
	uint8_t frame[PKT_MAX];
	struct pkt_spec spec;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!ASSERT_TRUE(res != NULL, "allocate result"))
		return;
	pkt_spec_udp(&spec);
	spec.src = key->src;
	spec.dst = key->dst;
	spec.proto = key->proto;
	spec.sport = ntohs(key->sport);
	spec.dport = ntohs(key->dport);
	len = pkt_build(&spec, frame, sizeof(frame));
	ctx.ip_tot_len = (__u16)(len - 14);
	ASSERT_OK(ctx_write_all_cpus(fx->ctx_fd, &ctx), "write packet_ctx");
	ASSERT_OK(sink_record_clear(&fx->sink), "clear sink");

	xdp_run(fx->prog_fd, frame, len, 0, res);
	ASSERT_OK(res->err, "bpf_prog_test_run");
	out->verdict = res->verdict;
	if (ASSERT_OK(sink_record_read(&fx->sink, &record), "read sink")) {
		out->sink_hits = record.hits;
		out->backend_id = record.ctx.backend_id;
	}
	free(res);
}

/* Sends one packet of @key (frame_len 100) and checks that it was handed on
 * with @backend_id (or, for LB_NO_BACKEND, dropped) and that exactly the
 * counter @reason moved.
 */
static void expect_step(struct lb_fixture *fx, const struct lb_flow_key *key, __u32 backend_id,
			enum lb_counter reason, const char *what)
{
	struct counter_delta delta = { reason, 1 };
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct lb_outcome out;
	char msg[160];

	counters_read(fx->counters_fd, before);
	send_to_pool(fx, key, TEST_POOL_ID, 100, &out);
	counters_read(fx->counters_fd, after);

	snprintf(msg, sizeof(msg), "%s: verdict", what);
	if (backend_id == LB_NO_BACKEND) {
		ASSERT_EQ(out.verdict, XDP_DROP, msg);
		snprintf(msg, sizeof(msg), "%s: sink not reached", what);
		ASSERT_EQ(out.sink_hits, 0, msg);
	} else {
		ASSERT_EQ(out.verdict, XDP_TX, msg);
		snprintf(msg, sizeof(msg), "%s: sink reached once", what);
		ASSERT_EQ(out.sink_hits, 1, msg);
		snprintf(msg, sizeof(msg), "%s: backend handed on", what);
		ASSERT_EQ(out.backend_id, backend_id, msg);
	}
	snprintf(msg, sizeof(msg), "%s: counters", what);
	counters_expect(before, after, &delta, 1, msg);
}

/* Checks the flows map entry of @key: its backend, and its last_seen_ns in
 * [@seen_min, @seen_max].
 */
static void expect_flow(struct lb_fixture *fx, const struct lb_flow_key *key, __u32 backend_id,
			int64_t seen_min, int64_t seen_max, const char *what)
{
	struct lb_flow flow;
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: flow entry present", what);
	if (!ASSERT_OK(flow_get(fx, key, &flow), msg))
		return;
	snprintf(msg, sizeof(msg), "%s: flow entry backend", what);
	ASSERT_EQ(flow.backend_id, backend_id, msg);
	snprintf(msg, sizeof(msg), "%s: flow last_seen_ns in [%lld, %lld], got %llu", what,
		 (long long)seen_min, (long long)seen_max, (unsigned long long)flow.last_seen_ns);
	ASSERT_TRUE((int64_t)flow.last_seen_ns >= seen_min &&
		    (int64_t)flow.last_seen_ns <= seen_max, msg);
}

/* --- least-loaded choice ----------------------------------------------------- */

struct backend_setup {
	__u32 id;
	__u8 state;
	bool other_vip; /* owned by OTHER_VIP_ID instead of the packet's VIP */
	__u32 weight;
	__u64 packets, flows; /* backend_load before the packet */
	bool windows;   /* recent packets as below, else @packets in this window */
	struct cpu_window first, last; /* CPU 0's and the last CPU's */
};

#define BACKEND(id_, state_, weight_, packets_, flows_)                                 \
	{ .id = (id_), .state = (state_), .weight = (weight_), .packets = (packets_),  \
	  .flows = (flows_) }
#define UP LB_BACKEND_UP
/* Recent packets only: @cur0 on CPU 0 and @cur1 on the last CPU, in this window. */
#define RECENT(id_, weight_, cur0_, cur1_)                                               \
	{ .id = (id_), .state = UP, .weight = (weight_), .windows = true,               \
	  .first = { .current = (cur0_) }, .last = { .current = (cur1_) } }
/* Recent packets as two CPU windows (current, previous, age). */
#define WINDOWS(id_, cur0_, prev0_, age0_, cur1_, prev1_, age1_)                         \
	{ .id = (id_), .state = UP, .weight = 1, .windows = true,                       \
	  .first = { (cur0_), (prev0_), (age0_) }, .last = { (cur1_), (prev1_), (age1_) } }

struct choice_case {
	const char *name;
	struct backend_setup backends[6];
	__u32 count;        /* pool entries */
	int expected_index; /* the pool index chosen; -1: dropped */
};

/* least-packets-per-flow: the original project's metric (in these cases every
 * backend's packets are also in this load window, see load_put()).
 */
static const struct choice_case choice_cases[] = {
	{ "lowest packets per flow wins",
	  { BACKEND(1, UP, 1, 100, 10), BACKEND(2, UP, 1, 50, 10), BACKEND(3, UP, 1, 80, 10) },
	  3, 1 },
	{ "a backend with no flows has load 0, whatever its packets",
	  { BACKEND(1, UP, 1, 1, 1), BACKEND(2, UP, 1, 5000, 0), BACKEND(3, UP, 1, 2, 1) },
	  3, 1 },
	{ "fixed point: 4/3 beats 3/2 and 5/3 (all 1 in integers)",
	  { BACKEND(1, UP, 1, 3, 2), BACKEND(2, UP, 1, 5, 3), BACKEND(3, UP, 1, 4, 3) },
	  3, 2 },
	{ "no rounding: (10^12 + 1) / 10^12 beats 10^12 / (10^12 - 1) (equal in 16.16 fixed point)",
	  { BACKEND(1, UP, 1, 1000000000000ULL, 999999999999ULL),
	    BACKEND(2, UP, 1, 1000000000001ULL, 1000000000000ULL) },
	  2, 1 },
	{ "products past 64 bits: 2^63 / (2^62 + 1) beats (2^63 - 2) / (2^62 - 1) = 2",
	  { BACKEND(1, UP, 1, 0x7ffffffffffffffeULL, 0x3fffffffffffffffULL),
	    BACKEND(2, UP, 1, 0x8000000000000000ULL, 0x4000000000000001ULL) },
	  2, 1 },
	{ "products past 64 bits: (2^62 + 1) / 2^32 loses to 2^62 / 2^32",
	  { BACKEND(1, UP, 1, 0x4000000000000001ULL, 0x100000000ULL),
	    BACKEND(2, UP, 1, 0x4000000000000000ULL, 0x100000000ULL) },
	  2, 1 },
	{ "equal load: fewer flows wins",
	  { BACKEND(1, UP, 1, 20, 2), BACKEND(2, UP, 1, 10, 1) }, 2, 1 },
	{ "equal load and flows: lower pool index wins, not lower id",
	  { BACKEND(9, UP, 1, 10, 1), BACKEND(4, UP, 1, 10, 1), BACKEND(6, UP, 1, 10, 1) },
	  3, 0 },
	{ "weight does not scale the load: 100/10 beats 300/10 at weight 4",
	  { BACKEND(1, UP, 1, 100, 10), BACKEND(2, UP, 4, 300, 10) }, 2, 0 },
	{ "equal load: fewer flows per weight wins (10/2 beats 6/1)",
	  { BACKEND(1, UP, 1, 60, 6), BACKEND(2, UP, 2, 100, 10) }, 2, 1 },
	{ "equal load: fewer flows per weight wins (4/1 beats 10/2)",
	  { BACKEND(1, UP, 2, 100, 10), BACKEND(2, UP, 1, 40, 4) }, 2, 1 },
	{ "equal load, equal flows per weight: lower pool index",
	  { BACKEND(1, UP, 2, 80, 8), BACKEND(2, UP, 1, 40, 4) }, 2, 0 },
	{ "weight 0 counts as 1 (5/0 loses to 4/1)",
	  { BACKEND(1, UP, 0, 50, 5), BACKEND(2, UP, 1, 40, 4) }, 2, 1 },
	{ "weight 0 counts as 1 (3/0 beats 4/1)",
	  { BACKEND(1, UP, 0, 30, 3), BACKEND(2, UP, 1, 40, 4) }, 2, 0 },
	{ "only UP takes new flows: idle DRAIN, DOWN, EMPTY are skipped",
	  { BACKEND(1, LB_BACKEND_DRAIN, 1, 0, 0), BACKEND(2, LB_BACKEND_DOWN, 1, 0, 0),
	    BACKEND(3, LB_BACKEND_EMPTY, 1, 0, 0), BACKEND(4, UP, 1, 100, 1) },
	  4, 3 },
	{ "an idle backend of another VIP is skipped",
	  { { .id = 1, .state = UP, .other_vip = true, .weight = 1 },
	    BACKEND(2, UP, 1, 100, 1) },
	  2, 1 },
	{ "ids past the backend table are ignored",
	  { BACKEND(LB_MAX_BACKENDS, UP, 1, 0, 0), BACKEND(0xfffffff0, UP, 1, 0, 0),
	    BACKEND(5, UP, 1, 100, 1) },
	  3, 2 },
	{ "no UP backend: dropped",
	  { BACKEND(1, LB_BACKEND_DRAIN, 1, 0, 0), BACKEND(2, LB_BACKEND_DOWN, 1, 0, 0) }, 2, -1 },
	{ "empty pool: dropped", { BACKEND(1, UP, 1, 0, 0) }, 0, -1 },
};

/* least-loaded: recent packets (this load window and the one before) per unit
 * of weight. Sums over CPU 0 and the last CPU, whose windows may differ.
 */
static const struct choice_case recent_cases[] = {
	{ "fewest recent packets wins (summed over the CPUs)",
	  { RECENT(1, 1, 60, 40), RECENT(2, 1, 10, 80), RECENT(3, 1, 95, 0) }, 3, 1 },
	{ "per unit of weight: 300 at weight 4 beats 100 at weight 1",
	  { RECENT(1, 1, 50, 50), RECENT(2, 4, 150, 150) }, 2, 1 },
	{ "per unit of weight, exactly: 301 at weight 3 loses to 100 at weight 1",
	  { RECENT(1, 1, 50, 50), RECENT(2, 3, 151, 150) }, 2, 0 },
	{ "whole-life packets per flow do not count: 10 recent beats 20",
	  { { .id = 1, .state = UP, .weight = 1, .packets = 1000000, .flows = 1, .windows = true,
	      .first = { .current = 10 } },
	    { .id = 2, .state = UP, .weight = 1, .windows = true, .first = { .current = 20 } } },
	  2, 0 },
	{ "the previous window counts: 0 + 100 loses to 60",
	  { WINDOWS(1, 0, 100, 0, 0, 0, 0), WINDOWS(2, 60, 0, 0, 0, 0, 0) }, 2, 1 },
	{ "a CPU whose window is the previous one: its packets count (100 loses to 60)",
	  { WINDOWS(1, 100, 0, 1, 0, 0, 0), WINDOWS(2, 60, 0, 0, 0, 0, 0) }, 2, 1 },
	{ "... but not the window before that (1000 two windows ago beats 10)",
	  { WINDOWS(1, 0, 1000, 1, 0, 0, 0), WINDOWS(2, 10, 0, 0, 0, 0, 0) }, 2, 0 },
	{ "traffic two windows old is forgotten, per CPU (40 + old 1000 beats 50)",
	  { WINDOWS(1, 40, 0, 0, 1000, 1000, 2), WINDOWS(2, 25, 0, 0, 25, 0, 0) }, 2, 0 },
	{ "equal recent load: fewer flows per weight wins",
	  { { .id = 1, .state = UP, .weight = 1, .packets = 9, .flows = 3, .windows = true,
	      .first = { .current = 5 } },
	    { .id = 2, .state = UP, .weight = 1, .packets = 9, .flows = 2, .windows = true,
	      .first = { .current = 5 } } },
	  2, 1 },
	{ "idle backends tie: the earlier one",
	  { RECENT(7, 1, 0, 0), RECENT(5, 1, 0, 0) }, 2, 0 },
	{ "only UP takes new flows: idle DRAIN and DOWN are skipped",
	  { { .id = 1, .state = LB_BACKEND_DRAIN, .weight = 1, .windows = true },
	    { .id = 2, .state = LB_BACKEND_DOWN, .weight = 1, .windows = true },
	    RECENT(3, 1, 500, 500) },
	  3, 2 },
};

/* Sets up @backends as the pool of TEST_POOL_ID, sends the first packet of a
 * new flow and checks the choice, the flow entry, every backend's load and
 * stats, and the counters.
 */
static void check_choice(const char *name, const struct backend_setup *backends, __u32 count,
			 int expected_index)
{
	const struct lb_flow_key key = flow_key(0, IPPROTO_UDP);
	__u32 *ids = calloc(count + 1, sizeof(*ids));
	__u32 chosen = expected_index < 0 ? LB_NO_BACKEND : backends[expected_index].id;
	struct lb_fixture fx;
	struct lb_flow flow;
	__u64 *recent_before = calloc(count + 1, sizeof(*recent_before));
	int64_t t0, t1;
	char msg[160];
	__u32 i;

	if (!ASSERT_TRUE(ids != NULL && recent_before != NULL, "allocate ids") ||
	    !fixture_open(&fx, 0)) {
		free(ids);
		free(recent_before);
		return;
	}
	window_fresh();
	/* The "empty pool" row still writes its backend: the count alone hides it. */
	for (i = 0; i < (count ? count : 1); i++) {
		const struct backend_setup *b = &backends[i];

		ids[i] = b->id;
		if (b->id >= LB_MAX_BACKENDS)
			continue;
		backend_put(&fx, b->id, b->state, b->other_vip ? OTHER_VIP_ID : TEST_VIP_ID,
			    b->weight);
		if (b->windows)
			load_put_windows(&fx, b->id, b->packets, b->flows, b->first, b->last);
		else
			load_put(&fx, b->id, b->packets, b->flows);
	}
	pool_put(&fx, TEST_POOL_ID, ids, count);
	for (i = 0; i < count; i++)
		if (backends[i].id < LB_MAX_BACKENDS)
			recent_before[i] = recent_get(&fx, backends[i].id);

	t0 = now_ns();
	expect_step(&fx, &key, chosen,
		    expected_index < 0 ? LB_C_LB_DROP_NO_BACKEND : LB_C_LB_FLOW_NEW, name);
	t1 = now_ns();
	if (expected_index >= 0) {
		expect_flow(&fx, &key, chosen, t0, t1, name);
	} else {
		snprintf(msg, sizeof(msg), "%s: no flow entry", name);
		ASSERT_EQ(flow_get(&fx, &key, &flow), -ENOENT, msg);
	}
	/* A drop is the VIP's too (vip_drops), and nothing else is. */
	{
		struct lb_vip_drops drops;
		__u32 vip = TEST_VIP_ID, d;

		ASSERT_OK(percpu_sum_u64(fx.vip_drops_fd, &vip, &drops, sizeof(drops)),
			  "read vip_drops");
		for (d = 0; d < LB_VIP_DROP_MAX; d++) {
			snprintf(msg, sizeof(msg), "%s: the VIP's drop %u", name, d);
			ASSERT_EQ(drops.count[d],
				  d == LB_VD_LB_DROP_NO_BACKEND && expected_index < 0, msg);
		}
	}

	for (i = 0; i < count; i++) {
		const struct backend_setup *b = &backends[i];
		bool is_chosen = (int)i == expected_index;
		struct lb_backend_load load;
		struct lb_backend_stats stats;

		if (b->id >= LB_MAX_BACKENDS)
			continue;
		load = load_get(&fx, b->id);
		stats = stats_get(&fx, b->id);
		snprintf(msg, sizeof(msg), "%s: backend %u load.packets", name, b->id);
		ASSERT_EQ(load.packets, b->packets + is_chosen, msg);
		snprintf(msg, sizeof(msg), "%s: backend %u load.flows", name, b->id);
		ASSERT_EQ(load.flows, b->flows + is_chosen, msg);
		snprintf(msg, sizeof(msg), "%s: backend %u recent packets", name, b->id);
		ASSERT_EQ(recent_get(&fx, b->id), recent_before[i] + is_chosen, msg);
		snprintf(msg, sizeof(msg), "%s: backend %u stats.packets", name, b->id);
		ASSERT_EQ(stats.packets, is_chosen, msg);
		snprintf(msg, sizeof(msg), "%s: backend %u stats.bytes", name, b->id);
		ASSERT_EQ(stats.bytes, is_chosen ? 100 : 0, msg);
		snprintf(msg, sizeof(msg), "%s: backend %u stats.new_flows", name, b->id);
		ASSERT_EQ(stats.new_flows, is_chosen, msg);
	}
	fixture_close(&fx);
	free(ids);
	free(recent_before);
}

/* Whether @c has a backend whose two CPUs hold figures of different windows,
 * which a machine of one CPU cannot hold.
 */
static bool needs_two_cpus(const struct choice_case *c)
{
	__u32 i;

	for (i = 0; i < c->count && i < ARRAY_SIZE(c->backends); i++) {
		const struct backend_setup *b = &c->backends[i];

		if (b->windows && !cpu_window_empty(b->first) && !cpu_window_empty(b->last) &&
		    b->first.age != b->last.age)
			return true;
	}
	return false;
}

/* Both ways of summing the CPUs (bpf_loop, unrolled) must choose alike. */
static void check_choice_table(const struct choice_case *cases, size_t n)
{
	__u32 cpus[] = { 0, (__u32)libbpf_num_possible_cpus() };
	size_t i, c;

	for (c = 0; c < ARRAY_SIZE(cpus); c++) {
		fixture_possible_cpus = cpus[c];
		for (i = 0; i < n; i++) {
			if (needs_two_cpus(&cases[i]) && libbpf_num_possible_cpus() < 2) {
				printf("    not on one CPU: %s\n", cases[i].name);
				continue;
			}
			check_choice(cases[i].name, cases[i].backends, cases[i].count,
				     cases[i].expected_index);
		}
	}
	fixture_possible_cpus = 0;
}

static void test_least_loaded_choice(void)
{
	check_choice_table(recent_cases, ARRAY_SIZE(recent_cases));
}

static void test_packets_per_flow_choice(void)
{
	fixture_packets_per_flow = true;
	check_choice_table(choice_cases, ARRAY_SIZE(choice_cases));
	fixture_packets_per_flow = false;
}

/* The positions least-loaded weighs for check_choice()'s flow in a pool of
 * @count > LB_LEAST_LOADED_CANDIDATES, from the same shared functions.
 */
static void candidates_of(__u32 count, __u32 pos[LB_LEAST_LOADED_CANDIDATES])
{
	const struct lb_flow_key key = flow_key(0, IPPROTO_UDP);
	__u32 hash = lb_flow_hash(&key), i;

	for (i = 0; i < LB_LEAST_LOADED_CANDIDATES; i++)
		pos[i] = lb_sample_index(hash, i, count);
}

static bool is_candidate(const __u32 pos[LB_LEAST_LOADED_CANDIDATES], __u32 index)
{
	__u32 i;

	for (i = 0; i < LB_LEAST_LOADED_CANDIDATES; i++)
		if (pos[i] == index)
			return true;
	return false;
}

/* A pool of @count UP backends with scattered ids (so the pool's indirection
 * is exercised), each at load 100/1.
 */
static struct backend_setup *pool_setup(__u32 count)
{
	struct backend_setup *backends = calloc(count, sizeof(*backends));
	__u32 i;

	for (i = 0; backends && i < count; i++) {
		struct backend_setup b = BACKEND(3 * i + 1, UP, 1, 100, 1);

		backends[i] = b;
	}
	return backends;
}

/* A pool up to LB_LEAST_LOADED_CANDIDATES is scanned whole: the last one wins
 * when it is the least loaded.
 */
static void test_small_pool_exact(void)
{
	struct backend_setup *backends = pool_setup(LB_LEAST_LOADED_CANDIDATES);

	if (!ASSERT_TRUE(backends != NULL, "allocate backends"))
		return;
	backends[LB_LEAST_LOADED_CANDIDATES - 1].packets = 99;
	check_choice("8 backends, the last least loaded", backends, LB_LEAST_LOADED_CANDIDATES,
		     LB_LEAST_LOADED_CANDIDATES - 1);
	free(backends);
}

/* A larger pool is judged on the flow's candidates only: the least loaded of
 * them wins even when a backend elsewhere is less loaded still. That is what
 * keeps a new flow's cost flat as pools grow.
 */
static void test_large_pool_candidates(void)
{
	static const __u32 sizes[] = { LB_LEAST_LOADED_CANDIDATES + 1, 64, LB_MAX_BACKENDS_PER_VIP };
	__u32 pos[LB_LEAST_LOADED_CANDIDATES], s, i, elsewhere;
	char name[96];

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct backend_setup *backends = pool_setup(sizes[s]);

		if (!ASSERT_TRUE(backends != NULL, "allocate backends"))
			return;
		candidates_of(sizes[s], pos);
		for (elsewhere = 0; is_candidate(pos, elsewhere); elsewhere++)
			;
		backends[elsewhere].packets = 1;      /* least loaded, not a candidate */
		backends[pos[5]].packets = 50;        /* least loaded candidate */
		for (i = 0; i < 5; i++)               /* an earlier equal one would win */
			if (pos[i] == pos[5])
				backends[pos[5]].packets = 100;
		snprintf(name, sizeof(name), "%u backends: the least loaded of the flow's candidates",
			 sizes[s]);
		check_choice(name, backends, sizes[s],
			     backends[pos[5]].packets == 50 ? (int)pos[5] : (int)pos[0]);
		free(backends);
	}
}

/* No candidate UP: the whole pool is scanned, so a flow is only dropped when no
 * backend at all is UP. The one UP backend sits late in a full pool.
 */
static void test_large_pool_fallback_scan(void)
{
	__u32 count = LB_MAX_BACKENDS_PER_VIP, pos[LB_LEAST_LOADED_CANDIDATES], i, up;
	struct backend_setup *backends = pool_setup(count);

	if (!ASSERT_TRUE(backends != NULL, "allocate backends"))
		return;
	candidates_of(count, pos);
	for (i = 0; i < count; i++)
		backends[i].state = LB_BACKEND_DOWN;
	for (up = count - 1; is_candidate(pos, up); up--)
		;
	backends[up].state = UP;
	check_choice("1024 backends, only a non-candidate near the end UP", backends, count,
		     (int)up);
	backends[up].state = LB_BACKEND_DRAIN;
	check_choice("1024 backends, none UP: dropped", backends, count, -1);
	free(backends);
}

/* Balance of the candidate rule with alike flows over 1024 backends: the
 * busiest and the idlest stay within a few flows of the mean.
 */
static void test_large_pool_balance(void)
{
	enum { BACKENDS = LB_MAX_BACKENDS_PER_VIP, PER_BACKEND = 16, FLOWS = BACKENDS * PER_BACKEND };
	__u32 *ids = calloc(BACKENDS, sizeof(*ids)), f, b;
	__u64 min_flows = UINT64_MAX, max_flows = 0;
	struct lb_outcome out;
	struct lb_fixture fx;

	if (!ASSERT_TRUE(ids != NULL, "allocate ids") || !fixture_open(&fx, 0)) {
		free(ids);
		return;
	}
	for (b = 0; b < BACKENDS; b++) {
		ids[b] = b;
		backend_put(&fx, ids[b], LB_BACKEND_UP, TEST_VIP_ID, 1);
	}
	pool_put(&fx, TEST_POOL_ID, ids, BACKENDS);
	for (f = 0; f < FLOWS; f++) {
		const struct lb_flow_key key = flow_key(f, IPPROTO_UDP);

		send_to_pool(&fx, &key, TEST_POOL_ID, 64, &out);
	}
	for (b = 0; b < BACKENDS; b++) {
		__u64 flows = load_get(&fx, ids[b]).flows;

		min_flows = flows < min_flows ? flows : min_flows;
		max_flows = flows > max_flows ? flows : max_flows;
	}
	printf("    %u flows over %u backends: min %llu, max %llu flows (mean %u)\n", FLOWS,
	       BACKENDS, (unsigned long long)min_flows, (unsigned long long)max_flows, PER_BACKEND);
	ASSERT_TRUE(max_flows <= PER_BACKEND + 2, "busiest backend within 2 flows of the mean");
	ASSERT_TRUE(min_flows + 2 >= PER_BACKEND, "idlest backend within 2 flows of the mean");
	fixture_close(&fx);
	free(ids);
}

/* --- established flows --------------------------------------------------------- */

/* Once placed, a flow stays even when another backend becomes far less loaded. */
static void test_sticky_flow(void)
{
	const struct lb_flow_key key = flow_key(0, IPPROTO_UDP);
	struct lb_backend_stats stats;
	struct lb_fixture fx;
	int i;

	if (!fixture_open(&fx, 0))
		return;
	pool_put_a_b(&fx);
	expect_step(&fx, &key, BACKEND_A, LB_C_LB_FLOW_NEW, "first packet");
	load_put(&fx, BACKEND_A, 1000000, 1);
	load_put(&fx, BACKEND_B, 0, 0);
	for (i = 0; i < 3; i++)
		expect_step(&fx, &key, BACKEND_A, LB_C_LB_FLOW_HIT, "later packet");
	expect_flow(&fx, &key, BACKEND_A, 0, INT64_MAX, "after 4 packets");
	ASSERT_EQ(load_get(&fx, BACKEND_A).packets, 1000003, "A load.packets");
	ASSERT_EQ(load_get(&fx, BACKEND_A).flows, 1, "A load.flows: hits add no flow");
	stats = stats_get(&fx, BACKEND_A);
	ASSERT_EQ(stats.packets, 4, "A stats.packets");
	ASSERT_EQ(stats.new_flows, 1, "A stats.new_flows");
	ASSERT_EQ(stats_get(&fx, BACKEND_B).packets, 0, "B stats.packets");
	fixture_close(&fx);
}

/* Idle time and last_seen_ns handling of an established flow. */
struct idle_case {
	const char *name;
	uint64_t flow_timeout_ns; /* 0: the default, LB_DEFAULT_FLOW_TIMEOUT_S */
	__u8 proto;
	int64_t last_seen_offset; /* written as now + offset before the packet */
	bool expired;             /* LB_FLOW_EXPIRED and moved to B, else a hit on A */
	bool stamp_refreshed;     /* last_seen_ns rewritten to the packet's time */
};

static const struct idle_case idle_cases[] = {
	{ "UDP idle 31 s > 30 s default: scheduled again", 0, IPPROTO_UDP,
	  -31 * NSEC_PER_SEC, true, true },
	{ "UDP idle 29 s < 30 s default: kept", 0, IPPROTO_UDP, -29 * NSEC_PER_SEC, false,
	  true },
	{ "TCP idle 10 min: kept (TCP has no idle timeout)", 0, IPPROTO_TCP,
	  -600 * NSEC_PER_SEC, false, true },
	{ "timeout 2 s: UDP idle 3 s scheduled again", 2 * NSEC_PER_SEC, IPPROTO_UDP,
	  -3 * NSEC_PER_SEC, true, true },
	{ "timeout 2 s: UDP idle 1.5 s kept", 2 * NSEC_PER_SEC, IPPROTO_UDP,
	  -3 * NSEC_PER_SEC / 2, false, true },
	{ "timeout 2 s: TCP idle 3 s kept", 2 * NSEC_PER_SEC, IPPROTO_TCP, -3 * NSEC_PER_SEC,
	  false, true },
	{ "stamp 0.5 s old: not rewritten", 0, IPPROTO_UDP, -NSEC_PER_SEC / 2, false, false },
	{ "stamp 2 s old: rewritten", 0, IPPROTO_UDP, -2 * NSEC_PER_SEC, false, true },
	{ "stamp 10 s ahead (another CPU's clock): kept, not rewritten", 0, IPPROTO_UDP,
	  10 * NSEC_PER_SEC, false, false },
};

static void check_idle(const struct idle_case *c)
{
	const struct lb_flow_key key = flow_key(0, c->proto);
	struct lb_fixture fx;
	int64_t stamp, t0, t1;
	char msg[160];

	if (!fixture_open(&fx, c->flow_timeout_ns))
		return;
	pool_put_a_b(&fx);
	expect_step(&fx, &key, BACKEND_A, LB_C_LB_FLOW_NEW, c->name);
	/* Now B is the better choice for anything scheduled again. */
	load_put(&fx, BACKEND_A, 100 * BUSY_PACKETS, 1);
	/* Monotonic time starts at boot: a machine up for less than the offset
	 * gets a stamp at boot, which is still idle for longer than 30 s.
	 */
	stamp = now_ns() + c->last_seen_offset;
	if (stamp < 1)
		stamp = 1;
	flow_put(&fx, &key, BACKEND_A, stamp);

	t0 = now_ns();
	expect_step(&fx, &key, c->expired ? BACKEND_B : BACKEND_A,
		    c->expired ? LB_C_LB_FLOW_EXPIRED : LB_C_LB_FLOW_HIT, c->name);
	t1 = now_ns();
	if (c->stamp_refreshed)
		expect_flow(&fx, &key, c->expired ? BACKEND_B : BACKEND_A, t0, t1, c->name);
	else
		expect_flow(&fx, &key, BACKEND_A, stamp, stamp, c->name);
	snprintf(msg, sizeof(msg), "%s: B load.flows", c->name);
	ASSERT_EQ(load_get(&fx, BACKEND_B).flows, 1 + c->expired, msg);
	snprintf(msg, sizeof(msg), "%s: B stats.new_flows", c->name);
	ASSERT_EQ(stats_get(&fx, BACKEND_B).new_flows, c->expired, msg);
	snprintf(msg, sizeof(msg), "%s: A stats.packets", c->name);
	ASSERT_EQ(stats_get(&fx, BACKEND_A).packets, 2 - c->expired, msg);
	fixture_close(&fx);
}

static void test_flow_idle_time(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(idle_cases); i++)
		check_idle(&idle_cases[i]);
}

/* What an established flow on A, and a new flow, do after A changes. */
struct change_case {
	const char *name;
	__u8 state;            /* A's state after the flow was placed */
	__u32 vip_id;          /* A's owner after the flow was placed */
	__u32 flow_backend;    /* the flow entry's backend_id after; 0 = A */
	enum lb_counter reason; /* what the flow's next packet counts */
	__u32 old_flow_to;     /* where that packet goes */
	__u32 new_flow_to;     /* where a new flow goes */
};

static const struct change_case change_cases[] = {
	{ "A stays UP: flow kept, A still least loaded", LB_BACKEND_UP, TEST_VIP_ID, 0,
	  LB_C_LB_FLOW_HIT, BACKEND_A, BACKEND_A },
	{ "A drains: flow kept, no new flow", LB_BACKEND_DRAIN, TEST_VIP_ID, 0, LB_C_LB_FLOW_HIT,
	  BACKEND_A, BACKEND_B },
	{ "A down: flow moved, no new flow", LB_BACKEND_DOWN, TEST_VIP_ID, 0,
	  LB_C_LB_FLOW_BACKEND_GONE, BACKEND_B, BACKEND_B },
	{ "A slot emptied: flow moved", LB_BACKEND_EMPTY, TEST_VIP_ID, 0,
	  LB_C_LB_FLOW_BACKEND_GONE, BACKEND_B, BACKEND_B },
	{ "A slot now owned by another VIP: flow moved", LB_BACKEND_UP, OTHER_VIP_ID, 0,
	  LB_C_LB_FLOW_BACKEND_GONE, BACKEND_B, BACKEND_B },
	{ "flow names a backend past the table: scheduled again", LB_BACKEND_UP, TEST_VIP_ID,
	  LB_MAX_BACKENDS, LB_C_LB_FLOW_BACKEND_GONE, BACKEND_A, BACKEND_A },
};

static void check_change(const struct change_case *c)
{
	const struct lb_flow_key old_key = flow_key(0, IPPROTO_TCP);
	const struct lb_flow_key new_key = flow_key(1, IPPROTO_TCP);
	bool moved = c->reason != LB_C_LB_FLOW_HIT;
	struct lb_fixture fx;
	char msg[160];

	if (!fixture_open(&fx, 0))
		return;
	pool_put_a_b(&fx);
	expect_step(&fx, &old_key, BACKEND_A, LB_C_LB_FLOW_NEW, c->name);
	backend_put(&fx, BACKEND_A, c->state, c->vip_id, 1);
	if (c->flow_backend)
		flow_put(&fx, &old_key, c->flow_backend, now_ns());

	expect_step(&fx, &old_key, c->old_flow_to, c->reason, c->name);
	expect_flow(&fx, &old_key, c->old_flow_to, 0, INT64_MAX, c->name);
	snprintf(msg, sizeof(msg), "%s: %s load.flows", c->name,
		 c->old_flow_to == BACKEND_A ? "A" : "B");
	ASSERT_EQ(load_get(&fx, c->old_flow_to).flows,
		  c->old_flow_to == BACKEND_A ? 1 + moved : 2, msg);
	expect_step(&fx, &new_key, c->new_flow_to, LB_C_LB_FLOW_NEW, c->name);
	fixture_close(&fx);
}

static void test_backend_changes(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(change_cases); i++)
		check_change(&change_cases[i]);
}

/* With nothing UP, an established flow on a DOWN backend is dropped, and
 * dropping is all that is counted: no flow_backend_gone, no load, no store.
 */
static void test_no_backend_drop(void)
{
	const struct lb_flow_key key = flow_key(0, IPPROTO_UDP);
	struct lb_fixture fx;
	int64_t stamp;

	if (!fixture_open(&fx, 0))
		return;
	pool_put_a_b(&fx);
	backend_put(&fx, BACKEND_A, LB_BACKEND_DOWN, TEST_VIP_ID, 1);
	backend_put(&fx, BACKEND_B, LB_BACKEND_DRAIN, TEST_VIP_ID, 1);
	stamp = now_ns() - 5 * NSEC_PER_SEC;
	flow_put(&fx, &key, BACKEND_A, stamp);
	expect_step(&fx, &key, LB_NO_BACKEND, LB_C_LB_DROP_NO_BACKEND, "flow on a DOWN backend");
	expect_flow(&fx, &key, BACKEND_A, stamp, stamp, "flow entry untouched");
	ASSERT_EQ(load_get(&fx, BACKEND_A).packets, 0, "A load.packets");
	ASSERT_EQ(load_get(&fx, BACKEND_B).packets, BUSY_PACKETS, "B load.packets");
	ASSERT_EQ(load_get(&fx, BACKEND_B).flows, 1, "B load.flows");
	ASSERT_EQ(stats_get(&fx, BACKEND_A).packets + stats_get(&fx, BACKEND_B).packets, 0,
		  "stats.packets");
	fixture_close(&fx);
}

/* --- fall-through paths ------------------------------------------------------- */

static void test_pool_missing(void)
{
	const struct lb_flow_key key = flow_key(0, IPPROTO_UDP);
	const struct counter_delta delta[] = { { LB_C_LB_PASS_NO_VIP, 1 } };
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct lb_outcome out;
	struct lb_fixture fx;
	struct lb_flow flow;

	if (!fixture_open(&fx, 0))
		return;
	pool_put_a_b(&fx);
	counters_read(fx.counters_fd, before);
	send_to_pool(&fx, &key, LB_MAX_POOLS, 100, &out);
	counters_read(fx.counters_fd, after);
	ASSERT_EQ(out.verdict, XDP_PASS, "verdict");
	ASSERT_EQ(out.sink_hits, 0, "sink not reached");
	counters_expect(before, after, delta, ARRAY_SIZE(delta), "counters");
	ASSERT_EQ(flow_get(&fx, &key, &flow), -ENOENT, "no flow entry");
	ASSERT_EQ(load_get(&fx, BACKEND_A).packets, 0, "A load.packets");
	fixture_close(&fx);
}

/* An empty encap slot passes the frame up, counted, with the work done. */
static void test_encap_slot_empty(void)
{
	const struct lb_flow_key key = flow_key(0, IPPROTO_UDP);
	const struct counter_delta delta[] = {
		{ LB_C_LB_FLOW_NEW, 1 },
		{ LB_C_LB_PASS_NO_ENCAP_STAGE, 1 },
	};
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct lb_packet_ctx *percpu = NULL;
	struct lb_outcome out;
	struct lb_fixture fx;
	int cpu, cpus, written = 0;

	if (!fixture_open(&fx, 0))
		return;
	pool_put_a_b(&fx);
	ASSERT_OK(sink_slot_empty(&fx.sink), "empty the encap slot");
	counters_read(fx.counters_fd, before);
	send_to_pool(&fx, &key, TEST_POOL_ID, 100, &out);
	counters_read(fx.counters_fd, after);
	ASSERT_EQ(out.verdict, XDP_PASS, "verdict");
	ASSERT_EQ(out.sink_hits, 0, "sink not reached");
	counters_expect(before, after, delta, ARRAY_SIZE(delta), "counters");
	expect_flow(&fx, &key, BACKEND_A, 0, INT64_MAX, "flow stored anyway");

	/* The stage ran on one CPU: that CPU's context names the backend. */
	if (ASSERT_OK(ctx_read_all_cpus(fx.ctx_fd, &percpu, &cpus), "read ctx")) {
		for (cpu = 0; cpu < cpus; cpu++)
			written += percpu[cpu].backend_id == BACKEND_A;
		ASSERT_EQ(written, 1, "contexts with backend_id = A");
	}
	free(percpu);
	fixture_close(&fx);
}

/* --- accounting ------------------------------------------------------------------ */

/* backend_load and backend_stats over a sequence of packets of three flows. */
static void test_accounting_sequence(void)
{
	static const struct {
		__u32 flow;
		__u32 frame_len;
		__u32 backend_id;
		enum lb_counter reason;
	} steps[] = {
		{ 0, 100, BACKEND_A, LB_C_LB_FLOW_NEW },
		{ 0, 200, BACKEND_A, LB_C_LB_FLOW_HIT },
		/* A: 2 packets/1 flow; B: 0/0 -> B. */
		{ 1, 300, BACKEND_B, LB_C_LB_FLOW_NEW },
		{ 0, 400, BACKEND_A, LB_C_LB_FLOW_HIT },
		{ 1, 50, BACKEND_B, LB_C_LB_FLOW_HIT },
		/* A: 3/1; B: 2/1 -> B. */
		{ 2, 60, BACKEND_B, LB_C_LB_FLOW_NEW },
		{ 2, 70, BACKEND_B, LB_C_LB_FLOW_HIT },
		/* A: 3/1; B: 4/2 -> B (2 < 3). */
		{ 3, 1500, BACKEND_B, LB_C_LB_FLOW_NEW },
	};
	static const __u32 ids[] = { BACKEND_A, BACKEND_B };
	struct lb_backend_stats stats;
	struct lb_backend_load load;
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct lb_outcome out;
	struct lb_fixture fx;
	size_t i;

	/* The choices in the comments are packets per flow's. */
	fixture_packets_per_flow = true;
	if (!fixture_open(&fx, 0)) {
		fixture_packets_per_flow = false;
		return;
	}
	fixture_packets_per_flow = false;
	window_fresh();
	backend_put(&fx, BACKEND_A, LB_BACKEND_UP, TEST_VIP_ID, 1);
	backend_put(&fx, BACKEND_B, LB_BACKEND_UP, TEST_VIP_ID, 1);
	pool_put(&fx, TEST_POOL_ID, ids, ARRAY_SIZE(ids));
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct lb_flow_key key = flow_key(steps[i].flow, IPPROTO_UDP);
		const struct counter_delta delta = { steps[i].reason, 1 };
		char msg[64];

		counters_read(fx.counters_fd, before);
		send_to_pool(&fx, &key, TEST_POOL_ID, steps[i].frame_len, &out);
		counters_read(fx.counters_fd, after);
		snprintf(msg, sizeof(msg), "step %zu: verdict", i);
		ASSERT_EQ(out.verdict, XDP_TX, msg);
		snprintf(msg, sizeof(msg), "step %zu: backend", i);
		ASSERT_EQ(out.backend_id, steps[i].backend_id, msg);
		snprintf(msg, sizeof(msg), "step %zu: counters", i);
		counters_expect(before, after, &delta, 1, msg);
	}
	load = load_get(&fx, BACKEND_A);
	ASSERT_EQ(load.packets, 3, "A load.packets");
	ASSERT_EQ(load.flows, 1, "A load.flows");
	load = load_get(&fx, BACKEND_B);
	ASSERT_EQ(load.packets, 5, "B load.packets");
	ASSERT_EQ(load.flows, 3, "B load.flows");
	/* Every packet also counts in its CPU's load window (least-loaded's figure). */
	ASSERT_EQ(recent_get(&fx, BACKEND_A), 3, "A recent packets");
	ASSERT_EQ(recent_get(&fx, BACKEND_B), 5, "B recent packets");
	stats = stats_get(&fx, BACKEND_A);
	ASSERT_EQ(stats.packets, 3, "A stats.packets");
	ASSERT_EQ(stats.bytes, 100 + 200 + 400, "A stats.bytes (ctx frame_len)");
	ASSERT_EQ(stats.new_flows, 1, "A stats.new_flows");
	stats = stats_get(&fx, BACKEND_B);
	ASSERT_EQ(stats.packets, 5, "B stats.packets");
	ASSERT_EQ(stats.bytes, 300 + 50 + 60 + 70 + 1500, "B stats.bytes (ctx frame_len)");
	ASSERT_EQ(stats.new_flows, 3, "B stats.new_flows");
	fixture_close(&fx);
}

/* Equal-size flows: least-loaded with the fewer-flows tie-break spreads them
 * so that per-backend flow counts differ by at most one.
 */
static void test_even_spread(void)
{
	enum { BACKENDS = 7, FLOWS = 1000, PACKETS_PER_FLOW = 3 };
	const struct counter_delta delta[] = {
		{ LB_C_LB_FLOW_NEW, FLOWS },
		{ LB_C_LB_FLOW_HIT, FLOWS * (PACKETS_PER_FLOW - 1) },
	};
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	__u64 min_flows = UINT64_MAX, max_flows = 0, sum_flows = 0, forwarded = 0;
	__u32 ids[BACKENDS], placed[BACKENDS] = {}, f, b;
	struct lb_outcome out;
	struct lb_fixture fx;
	int p;

	if (!fixture_open(&fx, 0))
		return;
	for (b = 0; b < BACKENDS; b++) {
		ids[b] = 100 + b;
		backend_put(&fx, ids[b], LB_BACKEND_UP, TEST_VIP_ID, 1);
	}
	pool_put(&fx, TEST_POOL_ID, ids, BACKENDS);
	counters_read(fx.counters_fd, before);
	for (f = 0; f < FLOWS; f++) {
		const struct lb_flow_key key = flow_key(f, f % 2 ? IPPROTO_TCP : IPPROTO_UDP);
		__u32 first = LB_NO_BACKEND;

		for (p = 0; p < PACKETS_PER_FLOW; p++) {
			send_to_pool(&fx, &key, TEST_POOL_ID, 64, &out);
			forwarded += out.verdict == XDP_TX && out.sink_hits == 1;
			if (p == 0)
				first = out.backend_id;
			else if (out.backend_id != first)
				ASSERT_EQ(out.backend_id, first, "flow changed backend");
		}
		if (first >= 100 && first < 100 + BACKENDS)
			placed[first - 100]++;
	}
	counters_read(fx.counters_fd, after);
	counters_expect(before, after, delta, ARRAY_SIZE(delta), "counters");
	ASSERT_EQ(forwarded, FLOWS * PACKETS_PER_FLOW, "packets handed on");
	for (b = 0; b < BACKENDS; b++) {
		struct lb_backend_load load = load_get(&fx, ids[b]);
		struct lb_backend_stats stats = stats_get(&fx, ids[b]);

		ASSERT_EQ(load.flows, placed[b], "load.flows = flows the sink saw");
		ASSERT_EQ(stats.new_flows, placed[b], "stats.new_flows = flows the sink saw");
		ASSERT_EQ(load.packets, placed[b] * PACKETS_PER_FLOW, "load.packets");
		min_flows = load.flows < min_flows ? load.flows : min_flows;
		max_flows = load.flows > max_flows ? load.flows : max_flows;
		sum_flows += load.flows;
	}
	ASSERT_EQ(sum_flows, FLOWS, "flows placed");
	if (!ASSERT_TRUE(max_flows - min_flows <= 1, "flow counts differ by at most 1"))
		printf("    min %llu, max %llu\n", (unsigned long long)min_flows,
		       (unsigned long long)max_flows);
	fixture_close(&fx);
}

/* Weights 1, 2 and 5 with alike flows: new flows follow the weights, each
 * backend within one flow of its share.
 */
static void test_weighted_spread(void)
{
	enum { BACKENDS = 3, FLOWS = 800, PACKETS_PER_FLOW = 2 };
	static const __u32 weights[BACKENDS] = { 1, 2, 5 };
	__u32 ids[BACKENDS], b, f, weight_sum = 0;
	struct lb_outcome out;
	struct lb_fixture fx;
	int p;

	if (!fixture_open(&fx, 0))
		return;
	for (b = 0; b < BACKENDS; b++) {
		ids[b] = 200 + b;
		weight_sum += weights[b];
		backend_put(&fx, ids[b], LB_BACKEND_UP, TEST_VIP_ID, weights[b]);
	}
	pool_put(&fx, TEST_POOL_ID, ids, BACKENDS);
	for (f = 0; f < FLOWS; f++) {
		const struct lb_flow_key key = flow_key(f, IPPROTO_UDP);

		for (p = 0; p < PACKETS_PER_FLOW; p++)
			send_to_pool(&fx, &key, TEST_POOL_ID, 64, &out);
	}
	for (b = 0; b < BACKENDS; b++) {
		__u64 flows = load_get(&fx, ids[b]).flows;
		__u64 share = (__u64)FLOWS * weights[b] / weight_sum;

		if (!ASSERT_TRUE(flows + 1 >= share && flows <= share + 1,
				 "flows within one of the weighted share"))
			printf("    weight %u: %llu flows, share %llu\n", weights[b],
			       (unsigned long long)flows, (unsigned long long)share);
	}
	fixture_close(&fx);
}


/* --- herding: bursts of new flows ------------------------------------------------ */

#define BURST_FLOWS 1000

/* A pool of @count UP backends of weight 1, ids 300.. */
static void burst_pool(struct lb_fixture *fx, __u32 *ids, __u32 count)
{
	__u32 b;

	for (b = 0; b < count; b++) {
		ids[b] = 300 + b;
		backend_put(fx, ids[b], LB_BACKEND_UP, TEST_VIP_ID, 1);
	}
	pool_put(fx, TEST_POOL_ID, ids, count);
}

/* Sends the first packet of @flows new flows (numbered from @first), one right
 * after the other, and adds up where they went in @placed (by pool index).
 */
static void burst_send(struct lb_fixture *fx, const __u32 *ids, __u32 count, __u32 first,
		       __u32 flows, __u32 *placed)
{
	struct lb_outcome out;
	__u32 f, b;

	for (f = first; f < first + flows; f++) {
		const struct lb_flow_key key = flow_key(f, f % 2 ? IPPROTO_TCP : IPPROTO_UDP);

		send_to_pool(fx, &key, TEST_POOL_ID, 64, &out);
		for (b = 0; b < count; b++)
			placed[b] += out.verdict == XDP_TX && out.backend_id == ids[b];
	}
}

/* Whether @flows new flows in @placed ended within 10% of even over the
 * backends @use marks (all when NULL).
 */
static void expect_even(const __u32 *placed, const bool *use, __u32 count, __u32 flows,
			const char *what)
{
	__u32 b, used = 0;
	char msg[160];

	for (b = 0; b < count; b++)
		used += !use || use[b];
	for (b = 0; b < count; b++) {
		double even = (double)flows / used;

		if (use && !use[b])
			continue;
		printf("    %s: backend %u took %u of %u (even %.1f)\n", what, b, placed[b], flows,
		       even);
		snprintf(msg, sizeof(msg), "%s: backend %u within 10%% of even", what, b);
		ASSERT_TRUE(placed[b] >= even * 0.9 && placed[b] <= even * 1.1, msg);
	}
}

/* The burst: 1000 new flows over 3 idle equal backends. Each new
 * flow's packet counts at once, so the next one sees it.
 */
static void test_burst_idle(void)
{
	__u32 ids[3], placed[3] = {};
	struct lb_fixture fx;

	if (!fixture_open(&fx, 0))
		return;
	burst_pool(&fx, ids, 3);
	burst_send(&fx, ids, 3, 0, BURST_FLOWS, placed);
	expect_even(placed, NULL, 3, BURST_FLOWS, "3 idle backends");
	fixture_close(&fx);
}

/* Idle backends with different histories (whole-life packets per flow 10,
 * 10 and 30) and 1000 new short flows: least-loaded spreads them evenly.
 * least-packets-per-flow herds: each short flow lowers the chosen backend's
 * average further, so it wins every next one (the trade-off its docs state).
 */
static void check_burst_after_history(bool packets_per_flow)
{
	const struct cpu_window old = { .current = 500, .previous = 500, .age = 2 };
	__u32 ids[3], placed[3] = {};
	struct lb_fixture fx;

	fixture_packets_per_flow = packets_per_flow;
	if (!fixture_open(&fx, 0)) {
		fixture_packets_per_flow = false;
		return;
	}
	fixture_packets_per_flow = false;
	burst_pool(&fx, ids, 3);
	load_put_windows(&fx, ids[0], 1000, 100, old, old);
	load_put_windows(&fx, ids[1], 5000, 500, old, old);
	load_put_windows(&fx, ids[2], 3000, 100, old, old);
	burst_send(&fx, ids, 3, 0, BURST_FLOWS, placed);
	if (packets_per_flow) {
		printf("    least-packets-per-flow: %u, %u, %u\n", placed[0], placed[1], placed[2]);
		ASSERT_EQ(placed[0], BURST_FLOWS,
			  "least-packets-per-flow herds: every new flow on the first backend");
	} else {
		expect_even(placed, NULL, 3, BURST_FLOWS, "3 idle backends with a history");
	}
	fixture_close(&fx);
}

static void test_burst_after_history(void)
{
	check_burst_after_history(false);
	check_burst_after_history(true);
}

/* The drain: traffic over 3 backends, then the third drains. Its
 * flows stay; 1000 new flows split evenly over the other two. Later, all
 * idle, it comes back: 1000 new flows split evenly over the three.
 */
static void test_drain_and_back(void)
{
	enum { FLOWS = 300, PACKETS_PER_FLOW = 3 };
	__u32 ids[3], placed[3] = {}, drained_flows = 0, kept = 0, f, b;
	const bool two[3] = { true, true, false };
	struct lb_outcome out;
	struct lb_fixture fx;
	int p;

	if (!fixture_open(&fx, 0))
		return;
	burst_pool(&fx, ids, 3);
	for (f = 0; f < FLOWS; f++) {
		const struct lb_flow_key key = flow_key(f, IPPROTO_TCP);

		for (p = 0; p < PACKETS_PER_FLOW; p++)
			send_to_pool(&fx, &key, TEST_POOL_ID, 64, &out);
		drained_flows += out.backend_id == ids[2];
	}
	ASSERT_TRUE(drained_flows >= FLOWS / 3 - 1 && drained_flows <= FLOWS / 3 + 1,
		    "before the drain: the third backend has its third of the flows");

	backend_put(&fx, ids[2], LB_BACKEND_DRAIN, TEST_VIP_ID, 1);
	for (f = 0; f < FLOWS; f++) {
		const struct lb_flow_key key = flow_key(f, IPPROTO_TCP);
		struct lb_flow flow;

		if (flow_get(&fx, &key, &flow) || flow.backend_id != ids[2])
			continue;
		send_to_pool(&fx, &key, TEST_POOL_ID, 64, &out);
		kept += out.backend_id == ids[2];
	}
	ASSERT_EQ(kept, drained_flows, "the drained backend keeps its flows");
	burst_send(&fx, ids, 3, FLOWS, BURST_FLOWS, placed);
	ASSERT_EQ(placed[2], 0, "the drained backend takes no new flow");
	expect_even(placed, two, 3, BURST_FLOWS, "right after a drain");

	for (b = 0; b < 3; b++) {
		load_idle(&fx, ids[b]);
		placed[b] = 0;
	}
	backend_put(&fx, ids[2], LB_BACKEND_UP, TEST_VIP_ID, 1);
	burst_send(&fx, ids, 3, FLOWS + BURST_FLOWS, BURST_FLOWS, placed);
	expect_even(placed, NULL, 3, BURST_FLOWS, "the drained backend back");
	fixture_close(&fx);
}

/* One backend carries twice the traffic of each other one (its established
 * flow sends two packets for their one) while new flows arrive: it gets fewer
 * of them, and the other two share them evenly.
 */
static void test_twice_the_traffic(void)
{
	enum { STEPS = 300 };
	__u32 ids[3], placed[3] = {}, f, b;
	const bool others[3] = { false, true, true };
	struct lb_flow_key keys[3];
	struct lb_outcome out;
	struct lb_fixture fx;

	if (!fixture_open(&fx, 0))
		return;
	burst_pool(&fx, ids, 3);
	/* Idle backends tie, so these go to the pool's backends in order. */
	for (b = 0; b < 3; b++) {
		keys[b] = flow_key(100000 + b, IPPROTO_TCP);
		send_to_pool(&fx, &keys[b], TEST_POOL_ID, 64, &out);
		ASSERT_EQ(out.backend_id, ids[b], "an established flow per backend");
	}
	for (f = 0; f < STEPS; f++) {
		send_to_pool(&fx, &keys[0], TEST_POOL_ID, 64, &out);
		send_to_pool(&fx, &keys[0], TEST_POOL_ID, 64, &out);
		send_to_pool(&fx, &keys[1], TEST_POOL_ID, 64, &out);
		send_to_pool(&fx, &keys[2], TEST_POOL_ID, 64, &out);
		burst_send(&fx, ids, 3, f, 1, placed);
	}
	printf("    new flows: busy backend %u, the others %u and %u\n", placed[0], placed[1],
	       placed[2]);
	ASSERT_TRUE(placed[0] < placed[1] && placed[0] < placed[2],
		    "the backend with twice the traffic gets fewer new flows");
	expect_even(placed, others, 3, STEPS - placed[0], "the two others");
	fixture_close(&fx);
}

static const struct test_case cases[] = {
	TEST_CASE(test_least_loaded_choice),
	TEST_CASE(test_packets_per_flow_choice),
	TEST_CASE(test_small_pool_exact),
	TEST_CASE(test_large_pool_candidates),
	TEST_CASE(test_large_pool_fallback_scan),
	TEST_CASE(test_large_pool_balance),
	TEST_CASE(test_sticky_flow),
	TEST_CASE(test_flow_idle_time),
	TEST_CASE(test_backend_changes),
	TEST_CASE(test_no_backend_drop),
	TEST_CASE(test_pool_missing),
	TEST_CASE(test_encap_slot_empty),
	TEST_CASE(test_accounting_sequence),
	TEST_CASE(test_even_spread),
	TEST_CASE(test_weighted_spread),
	TEST_CASE(test_burst_idle),
	TEST_CASE(test_burst_after_history),
	TEST_CASE(test_drain_and_back),
	TEST_CASE(test_twice_the_traffic),
};

int main(int argc, char **argv)
{
	return test_main("lb", cases, ARRAY_SIZE(cases), argc, argv);
}
