// SPDX-License-Identifier: GPL-2.0
/* The cases of prog_cost; see cost_cases.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../tests/unit/sink_record.h"
#include "cost_cases.h"
#include "counter_names.h"
#include "packet.h"
#include "stage_fixture.h"
#include "xdp_test_run.h"

/* Source addresses: flows filled in at the start, and new flows. Disjoint,
 * and outside every address the network of cost_pipeline.h uses.
 */
#define ESTABLISHED_BASE 0x0a800000U /* 10.128.0.0 */
#define NEW_FLOW_BASE 0x0a400000U    /* 10.64.0.0 */
#define CLIENT_PORT 40000

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

size_t bench_flow_frame(__u32 source, uint8_t *frame)
{
	struct pkt_spec spec;

	pkt_spec_udp(&spec);
	spec.src = htonl(source);
	spec.dst = pkt_ip(BENCH_VIP);
	spec.sport = CLIENT_PORT;
	spec.dport = BENCH_VIP_PORT;
	spec.payload_len = BENCH_PAYLOAD_BYTES;
	return pkt_build(&spec, frame, PKT_MAX);
}

/* The flow key parse writes for bench_flow_frame(@source). */
static void flow_key(__u32 source, struct lb_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	key->src = htonl(source);
	key->dst = pkt_ip(BENCH_VIP);
	key->sport = htons(CLIENT_PORT);
	key->dport = htons(BENCH_VIP_PORT);
	key->proto = IPPROTO_UDP;
}

static int frame_new_flow(void *arg, size_t i, uint8_t *frame)
{
	(void)arg;
	return bench_flow_frame(NEW_FLOW_BASE + (__u32)i, frame) ? 0 : -EMSGSIZE;
}

/* Established flows across the whole table: consecutive calls hit flows
 * whose entries lie far apart, as packets of many clients do.
 */
static int frame_spread(void *arg, size_t i, uint8_t *frame)
{
	const struct bench_env *env = arg;
	__u32 source = ESTABLISHED_BASE + (__u32)(i % env->occupancy);

	return bench_flow_frame(source, frame) ? 0 : -EMSGSIZE;
}

/* lb alone on a new flow: the context parse would write for it. */
static int ctx_new_flow(void *arg, size_t i, uint8_t *frame)
{
	struct bench_env *env = arg;
	struct lb_packet_ctx ctx = env->ctx;

	(void)frame;
	flow_key(NEW_FLOW_BASE + (__u32)i, &ctx.flow);
	ctx.backend_id = LB_NO_BACKEND;
	return ctx_write_all_cpus(env->p.maps.fd[LB_MAP_PACKET_CTX], &ctx);
}

/* Removes the batch's new flows, so the table stays at its occupancy. Every
 * one must be there: lb stored each.
 */
static int delete_new_flows(void *arg, size_t first, size_t count)
{
	struct bench_env *env = arg;
	__u32 n = (__u32)count;
	size_t i;

	if (env->p.stateless) /* nothing was stored */
		return 0;
	for (i = 0; i < count; i++)
		flow_key(NEW_FLOW_BASE + (__u32)(first + i), &env->keys[i]);
	if (bpf_map_delete_batch(env->p.maps.fd[LB_MAP_FLOWS], env->keys, &n, NULL))
		return -errno;
	return n == count ? 0 : -ENOENT;
}

int bench_fill_flow_table(struct bench_env *env, char *err, size_t err_len)
{
	/* A stateless policy (hash) stores nothing: every packet counts as that. */
	enum lb_counter stored = env->p.stateless ? LB_C_LB_STATELESS : LB_C_LB_FLOW_NEW;
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	uint8_t frame[PKT_MAX];
	__u32 verdict, ns;
	size_t i, len;
	int rc;

	counters_read(env->p.maps.fd[LB_MAP_COUNTERS], before);
	for (i = 0; i < env->occupancy; i++) {
		len = bench_flow_frame(ESTABLISHED_BASE + (__u32)i, frame);
		rc = cost_call(env->p.parse_fd, frame, len, env->ifindex, &verdict, &ns);
		if (rc) {
			snprintf(err, err_len, "filling flow %zu: test run: %s", i, strerror(-rc));
			return rc;
		}
		if (verdict != XDP_TX) {
			snprintf(err, err_len, "filling flow %zu: the pipeline returned %s, "
				 "not XDP_TX", i, xdp_verdict_name(verdict));
			return -EPROTO;
		}
	}
	counters_read(env->p.maps.fd[LB_MAP_COUNTERS], after);
	if (after[stored] - before[stored] != env->occupancy ||
	    after[LB_C_LB_FLOW_UPDATE_FAILED] != before[LB_C_LB_FLOW_UPDATE_FAILED]) {
		snprintf(err, err_len, "filling: %zu flows sent, lb counted %llu as %s",
			 env->occupancy, (unsigned long long)(after[stored] - before[stored]),
			 lb_counter_reason(stored));
		return -EPROTO;
	}
	return 0;
}

/* The counters of one CPU: a test run counts on the CPU that calls it, and
 * the two-CPU case has the other CPU count too.
 */
static void counters_read_cpu(int counters_fd, int cpu, uint64_t out[LB_COUNTER_MAX])
{
	int cpus = libbpf_num_possible_cpus();
	uint64_t *percpu = calloc(cpus > 0 ? (size_t)cpus : 1, sizeof(*percpu));
	__u32 id;

	for (id = 0; id < LB_COUNTER_MAX; id++) {
		out[id] = 0;
		if (percpu && cpu < cpus && !bpf_map_lookup_elem(counters_fd, &id, percpu))
			out[id] = percpu[cpu];
	}
	free(percpu);
}

/* Measures @c and checks that each of @counters moved once per call. */
static int measure(struct bench_env *env, const struct cost_case *c,
		   const enum lb_counter *counters, size_t counter_count, struct cost_result *res,
		   char *err, size_t err_len)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	size_t i, calls = env->calls;
	int rc;

	counters_read_cpu(env->p.maps.fd[LB_MAP_COUNTERS], env->cpu, before);
	rc = cost_measure(c, env->floor_fd, env->ifindex, calls, env->rounds, res, err, err_len);
	if (rc)
		return rc;
	counters_read_cpu(env->p.maps.fd[LB_MAP_COUNTERS], env->cpu, after);
	for (i = 0; i < counter_count; i++) {
		uint64_t moved = after[counters[i]] - before[counters[i]];

		if (moved == calls)
			continue;
		snprintf(err, err_len, "%s: counter %s.%s moved %llu times in %zu calls", c->name,
			 lb_counter_stage(counters[i]), lb_counter_reason(counters[i]),
			 (unsigned long long)moved, calls);
		return -EPROTO;
	}
	return 0;
}

const char *const bench_case_names[CASE_COUNT] = {
	[CASE_PARSE] = "parse",
	[CASE_LB_ESTABLISHED] = "lb_established",
	[CASE_LB_NEW] = "lb_new",
	[CASE_ENCAP] = "encap",
	[CASE_PIPELINE_ESTABLISHED] = "pipeline_established",
	[CASE_PIPELINE_SPREAD] = "pipeline_established_spread",
	[CASE_PIPELINE_NEW] = "pipeline_new",
	[CASE_PIPELINE_TWO_CPUS] = "pipeline_established_two_cpus",
};

/* parse alone and lb alone, each with the test sink in the next slot, then
 * encap alone on the context lb left (the backend chosen).
 */
static int run_stage_cases(struct bench_env *env, struct cost_result *res, char *err,
			   size_t err_len)
{
	static const enum lb_counter to_lb[] = { LB_C_PARSE_TO_LB };
	static const enum lb_counter tx[] = { LB_C_ENCAP_TX };
	const enum lb_counter hit[] = { env->p.stateless ? LB_C_LB_STATELESS : LB_C_LB_FLOW_HIT };
	const enum lb_counter new_flow[] = { env->p.stateless ? LB_C_LB_STATELESS
							      : LB_C_LB_FLOW_NEW };
	uint8_t frame[PKT_MAX];
	size_t len = bench_flow_frame(ESTABLISHED_BASE, frame);
	struct cost_case c = { .frame = frame, .frame_len = len, .verdict = XDP_TX, .arg = env };
	struct stage_sink sink;
	struct sink_record rec;
	int rc;

	rc = sink_attach(&sink, env->p.parse_obj, env->p.lb_slot);
	if (rc) {
		snprintf(err, err_len, "Failed to put the sink after parse: %s", strerror(-rc));
		return rc;
	}
	c.name = bench_case_names[CASE_PARSE];
	c.prog_fd = env->p.parse_fd;
	rc = measure(env, &c, to_lb, ARRAY_SIZE(to_lb), &res[CASE_PARSE], err, err_len);
	if (!rc)
		rc = sink_record_read(&sink, &rec);
	sink_detach(&sink);
	if (!rc)
		rc = bench_slot_set(&env->p, env->p.lb_slot, env->p.lb_fd);
	if (rc)
		return rc;

	env->ctx = rec.ctx;
	rc = sink_attach(&sink, env->p.lb_obj, LB_SLOT_ENCAP);
	if (!rc)
		rc = ctx_write_all_cpus(env->p.maps.fd[LB_MAP_PACKET_CTX], &env->ctx);
	if (rc) {
		snprintf(err, err_len, "Failed to put the sink after lb: %s", strerror(-rc));
		return rc;
	}
	c.name = bench_case_names[CASE_LB_ESTABLISHED];
	c.prog_fd = env->p.lb_fd;
	rc = measure(env, &c, hit, ARRAY_SIZE(hit), &res[CASE_LB_ESTABLISHED], err, err_len);
	if (!rc)
		rc = sink_record_read(&sink, &rec);
	if (!rc)
		rc = bench_backend_figures_reset(&env->p);
	if (!rc) {
		c.name = bench_case_names[CASE_LB_NEW];
		c.before_call = ctx_new_flow;
		c.after_batch = delete_new_flows;
		rc = measure(env, &c, new_flow, ARRAY_SIZE(new_flow), &res[CASE_LB_NEW], err,
			     err_len);
	}
	sink_detach(&sink);
	if (!rc)
		rc = bench_slot_set(&env->p, LB_SLOT_ENCAP, env->p.encap_fd);
	if (rc)
		return rc;

	/* encap alone reads the context lb left for the established flow. */
	env->ctx = rec.ctx;
	rc = ctx_write_all_cpus(env->p.maps.fd[LB_MAP_PACKET_CTX], &env->ctx);
	if (rc)
		return rc;
	c = (struct cost_case){ .name = bench_case_names[CASE_ENCAP], .prog_fd = env->p.encap_fd,
				.frame = frame, .frame_len = len, .verdict = XDP_TX };
	return measure(env, &c, tx, ARRAY_SIZE(tx), &res[CASE_ENCAP], err, err_len);
}

/* The second CPU of the two-CPU case: the same frame through the pipeline,
 * call after call, until told to stop.
 */
struct second_cpu {
	pthread_t thread;
	int prog_fd, ifindex, cpu;
	const uint8_t *frame;
	size_t frame_len;
	atomic_bool stop;
	atomic_size_t calls; /* calls made */
	size_t wrong;        /* calls that failed or were not XDP_TX */
};

static void *second_cpu_run(void *arg)
{
	struct second_cpu *sc = arg;
	__u32 verdict, ns;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(sc->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		sc->wrong = 1;
		return NULL;
	}
	while (!atomic_load(&sc->stop)) {
		atomic_fetch_add(&sc->calls, 1);
		if (cost_call(sc->prog_fd, sc->frame, sc->frame_len, sc->ifindex, &verdict, &ns) ||
		    verdict != XDP_TX)
			sc->wrong++;
	}
	return NULL;
}

/* pipeline, established, while another CPU sends the same flow through the
 * pipeline without pause: whatever both CPUs write per packet (a shared
 * counter, the flow entry) shows as the difference to the one-CPU case.
 */
static int run_two_cpus(struct bench_env *env, struct cost_case *c,
			const enum lb_counter *counters, size_t counter_count,
			struct cost_result *res, char *err, size_t err_len)
{
	struct second_cpu sc = { .prog_fd = c->prog_fd, .ifindex = env->ifindex,
				 .cpu = env->other_cpu, .frame = c->frame,
				 .frame_len = c->frame_len };
	int rc = 0, i;

	if (env->other_cpu < 0) {
		snprintf(err, err_len, "%s: needs a second CPU", c->name);
		return -ENODEV;
	}
	atomic_init(&sc.stop, false);
	atomic_init(&sc.calls, 0);
	rc = pthread_create(&sc.thread, NULL, second_cpu_run, &sc);
	if (rc) {
		snprintf(err, err_len, "%s: Failed to start the second CPU's thread: %s",
			 c->name, strerror(rc));
		return -rc;
	}
	/* Timed only once the second CPU is at it (up to 2 s for it to start). */
	for (i = 0; i < 2000 && atomic_load(&sc.calls) < 1000 && !sc.wrong; i++)
		usleep(1000);
	if (atomic_load(&sc.calls) >= 1000 && !sc.wrong)
		rc = measure(env, c, counters, counter_count, res, err, err_len);
	atomic_store(&sc.stop, true);
	pthread_join(sc.thread, NULL);
	if (!rc && (sc.wrong || atomic_load(&sc.calls) < 1000)) {
		snprintf(err, err_len, "%s: the second CPU made %zu calls, %zu failed or not "
			 "XDP_TX", c->name, atomic_load(&sc.calls), sc.wrong);
		rc = -EPROTO;
	}
	return rc;
}

static int run_pipeline_cases(struct bench_env *env, struct cost_result *res,
			      struct flow_spread *spread, char *err, size_t err_len)
{
	enum lb_counter hit = env->p.stateless ? LB_C_LB_STATELESS : LB_C_LB_FLOW_HIT;
	const enum lb_counter hit_tx[] = { hit, LB_C_ENCAP_TX };
	const enum lb_counter new_tx[] = { env->p.stateless ? LB_C_LB_STATELESS : LB_C_LB_FLOW_NEW,
					   LB_C_ENCAP_TX };
	uint8_t frame[PKT_MAX];
	size_t len = bench_flow_frame(ESTABLISHED_BASE, frame);
	struct cost_case c = { .prog_fd = env->p.parse_fd, .frame = frame, .frame_len = len,
			       .verdict = XDP_TX, .arg = env };
	int rc;

	c.name = bench_case_names[CASE_PIPELINE_ESTABLISHED];
	rc = measure(env, &c, hit_tx, ARRAY_SIZE(hit_tx), &res[CASE_PIPELINE_ESTABLISHED], err,
		     err_len);
	if (rc)
		return rc;
	c.name = bench_case_names[CASE_PIPELINE_TWO_CPUS];
	rc = run_two_cpus(env, &c, hit_tx, ARRAY_SIZE(hit_tx), &res[CASE_PIPELINE_TWO_CPUS], err,
			  err_len);
	if (rc)
		return rc;
	c.name = bench_case_names[CASE_PIPELINE_ESTABLISHED];
	c.name = bench_case_names[CASE_PIPELINE_SPREAD];
	c.before_call = frame_spread;
	rc = measure(env, &c, hit_tx, ARRAY_SIZE(hit_tx), &res[CASE_PIPELINE_SPREAD], err, err_len);
	if (rc)
		return rc;
	rc = bench_backend_figures_reset(&env->p);
	if (rc)
		return rc;
	c.name = bench_case_names[CASE_PIPELINE_NEW];
	c.before_call = frame_new_flow;
	c.after_batch = delete_new_flows;
	rc = measure(env, &c, new_tx, ARRAY_SIZE(new_tx), &res[CASE_PIPELINE_NEW], err, err_len);
	if (rc)
		return rc;
	/* A stateless policy counts no new flows: no spread to report. */
	if (env->p.stateless) {
		memset(spread, 0, sizeof(*spread));
		return 0;
	}
	return bench_new_flow_spread(&env->p, spread);
}

int bench_run_cases(struct bench_env *env, struct cost_result res[CASE_COUNT],
		    struct flow_spread *spread, char *err, size_t err_len)
{
	int rc = run_stage_cases(env, res, err, err_len);

	if (!rc)
		rc = run_pipeline_cases(env, res, spread, err, err_len);
	return rc;
}
