// SPDX-License-Identifier: GPL-2.0
/* The cases of prog_cost; see cost_cases.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

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

	for (i = 0; i < count; i++)
		flow_key(NEW_FLOW_BASE + (__u32)(first + i), &env->keys[i]);
	if (bpf_map_delete_batch(env->p.maps.fd[LB_MAP_FLOWS], env->keys, &n, NULL))
		return -errno;
	return n == count ? 0 : -ENOENT;
}

int bench_fill_flow_table(struct bench_env *env, char *err, size_t err_len)
{
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
	if (after[LB_C_LB_FLOW_NEW] - before[LB_C_LB_FLOW_NEW] != env->occupancy ||
	    after[LB_C_LB_FLOW_UPDATE_FAILED] != before[LB_C_LB_FLOW_UPDATE_FAILED]) {
		snprintf(err, err_len, "filling: %zu flows sent, lb stored %llu", env->occupancy,
			 (unsigned long long)(after[LB_C_LB_FLOW_NEW] - before[LB_C_LB_FLOW_NEW]));
		return -EPROTO;
	}
	return 0;
}

/* Measures @c and checks that each of @counters moved once per call. */
static int measure(struct bench_env *env, const struct cost_case *c,
		   const enum lb_counter *counters, size_t counter_count, struct cost_result *res,
		   char *err, size_t err_len)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	size_t i, calls = env->calls;
	int rc;

	counters_read(env->p.maps.fd[LB_MAP_COUNTERS], before);
	rc = cost_measure(c, env->floor_fd, env->ifindex, calls, env->rounds, res, err, err_len);
	if (rc)
		return rc;
	counters_read(env->p.maps.fd[LB_MAP_COUNTERS], after);
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
};

/* parse alone and lb alone, each with the test sink in the next slot, then
 * encap alone on the context lb left (the backend chosen).
 */
static int run_stage_cases(struct bench_env *env, struct cost_result *res, char *err,
			   size_t err_len)
{
	static const enum lb_counter to_lb[] = { LB_C_PARSE_TO_LB };
	static const enum lb_counter hit[] = { LB_C_LB_FLOW_HIT };
	static const enum lb_counter new_flow[] = { LB_C_LB_FLOW_NEW };
	static const enum lb_counter tx[] = { LB_C_ENCAP_TX };
	uint8_t frame[PKT_MAX];
	size_t len = bench_flow_frame(ESTABLISHED_BASE, frame);
	struct cost_case c = { .frame = frame, .frame_len = len, .verdict = XDP_TX, .arg = env };
	struct stage_sink sink;
	struct sink_record rec;
	int rc;

	rc = sink_attach(&sink, env->p.parse_obj, LB_SLOT_LB);
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
		rc = bench_slot_set(&env->p, LB_SLOT_LB, env->p.lb_fd);
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

static int run_pipeline_cases(struct bench_env *env, struct cost_result *res,
			      struct flow_spread *spread, char *err, size_t err_len)
{
	static const enum lb_counter hit_tx[] = { LB_C_LB_FLOW_HIT, LB_C_ENCAP_TX };
	static const enum lb_counter new_tx[] = { LB_C_LB_FLOW_NEW, LB_C_ENCAP_TX };
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
