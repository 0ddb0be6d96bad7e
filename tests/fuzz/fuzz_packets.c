// SPDX-License-Identifier: GPL-2.0
/* Packet fuzzer: random and mutated frames through the whole pipeline (parse ->
 * least-loaded -> IPIP) under BPF_PROG_TEST_RUN, every frame checked against
 * the documented behaviour. See docs/fuzzing.md.
 *
 *   fuzz_packets [-s SEED] [-n COUNT] [-t CLASS] [-i INDEX] [-x HEX] [-v]
 *
 * -n frames in all, shared by the generator classes (one test case each);
 * -t runs the classes whose name contains CLASS; -i only frame INDEX of each;
 * -x runs one frame given in hex; -v prints every frame.
 *
 * Checked on every frame: the test run succeeds and never returns XDP_ABORTED;
 * exactly the counters the documented rules predict move (one parse counter,
 * one lb outcome for a VIP frame, one encap counter when it reaches encap);
 * the verdict follows from them; a frame that passes or is dropped leaves
 * byte-identical; a frame sent on carries a valid outer header with the input's
 * IPv4 or IPv6 packet unchanged behind it, a too-big one the ICMP or ICMPv6
 * answer; parse's context is the one the rules give; a new flow goes to an up
 * backend of its VIP and a known flow keeps its backend. At the end, per-backend packets, bytes and flows add up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counter_names.h"
#include "encap_model.h"
#include "frame_gen.h"
#include "fuzz_flows.h"
#include "fuzz_pipeline.h"
#include "icmp_model.h"
#include "packet.h"
#include "parse_model.h"
#include "test_harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SUITE "fuzz-packets"
#define DEFAULT_SEED 1
#define DEFAULT_COUNT 50000
/* Failing frames reported in full per case; the rest are counted. */
#define REPORTS_PER_CASE 3
#define OUT_ROOM 64 /* the frame grows by the outer header */

static struct {
	uint64_t seed;
	uint64_t count;     /* frames in all */
	long long index;    /* -1: all */
	const char *hex;    /* -x */
	bool verbose;
	const char *filter; /* -t, handed to test_main() */
} opt = { .seed = DEFAULT_SEED, .count = DEFAULT_COUNT, .index = -1 };

static struct fuzz_pipeline pipeline;
static bool pipeline_ready;

/* What the frames did so far, for the accounting case. */
static struct {
	uint64_t counters[LB_COUNTER_MAX]; /* the map's values after the last frame */
	uint64_t packets[LB_MAX_BACKENDS], bytes[LB_MAX_BACKENDS], new_flows[LB_MAX_BACKENDS];
	struct flow_model flows;
	uint64_t frames, refused;
} seen;

/* Per case: what happened, for its summary line. */
static struct {
	uint64_t frames, failed, refused;
	uint64_t verdicts[XDP_REDIRECT + 1];
	uint64_t parse[LB_COUNTER_MAX];
} tally;

static const char *verdict_name(uint32_t verdict)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };

	return verdict < ARRAY_SIZE(names) ? names[verdict] : "XDP_?";
}

static const char *counter_name(enum lb_counter id, char *buf, size_t len)
{
	if (id >= LB_COUNTER_MAX)
		return "none";
	snprintf(buf, len, "%s.%s", lb_counter_stage(id), lb_counter_reason(id));
	return buf;
}

/* --- the kernel side -------------------------------------------------------------- */

struct run_result {
	int err;
	uint32_t verdict;
	uint8_t out[FRAME_MAX + OUT_ROOM];
	uint32_t out_len;
};

static void frame_run(const uint8_t *in, size_t len, struct run_result *res)
{
	struct xdp_md ctx_in = { .data_end = (uint32_t)len,
				 .ingress_ifindex = (uint32_t)pipeline.ingress };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)len,
		    .data_out = res->out, .data_size_out = sizeof(res->out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .repeat = 1);

	res->err = bpf_prog_test_run_opts(pipeline.parse_prog_fd, &opts) ? -errno : 0;
	res->verdict = opts.retval;
	res->out_len = opts.data_size_out;
}

/* The counters map summed over all CPUs, in one batch lookup. */
static int counters_now(uint64_t out[LB_COUNTER_MAX])
{
	static uint64_t *values;
	__u32 keys[LB_COUNTER_MAX], count = LB_COUNTER_MAX, next;
	LIBBPF_OPTS(bpf_map_batch_opts, batch);
	int err, cpu;
	__u32 i;

	if (!values)
		values = calloc((size_t)LB_COUNTER_MAX * pipeline.cpus, sizeof(*values));
	if (!values)
		return -ENOMEM;
	err = bpf_map_lookup_batch(pipeline.maps.fd[LB_MAP_COUNTERS], NULL, &next, keys, values,
				   &count, &batch);
	/* ENOENT: the batch reached the end of the array, which is the point. */
	if (err && errno != ENOENT)
		return -errno;
	if (count != LB_COUNTER_MAX)
		return -EIO;
	for (i = 0; i < count; i++) {
		out[keys[i]] = 0;
		for (cpu = 0; cpu < pipeline.cpus; cpu++)
			out[keys[i]] += values[(size_t)i * pipeline.cpus + cpu];
	}
	return 0;
}

/* parse's context on the CPU the frame ran on. */
static int packet_ctx_now(struct lb_packet_ctx *ctx)
{
	static struct lb_packet_ctx *values;
	__u32 zero = 0;

	if (!values)
		values = calloc((size_t)pipeline.cpus, sizeof(*values));
	if (!values)
		return -ENOMEM;
	if (bpf_map_lookup_elem(pipeline.maps.fd[LB_MAP_PACKET_CTX], &zero, values))
		return -errno;
	*ctx = values[pipeline.cpu];
	return 0;
}

/* --- one frame -------------------------------------------------------------------- */

struct frame_id {
	int class; /* -1: given with -x */
	uint64_t index;
};

/* Everything about one frame that a failure report shows. */
struct frame_report {
	const char *label; /* "valid#123" */
	const struct frame_id *id;
	char problems[1024]; /* one line each */
	size_t used;
	char expected[256];
};

static void problem(struct frame_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct frame_report *rep, const char *fmt, ...)
{
	size_t room = sizeof(rep->problems) - rep->used;
	char *at = rep->problems + rep->used;
	va_list ap;
	int n;

	if (room < 16)
		return;
	n = snprintf(at, room, "      - ");
	va_start(ap, fmt);
	n += vsnprintf(at + n, room - (size_t)n, fmt, ap);
	va_end(ap);
	if ((size_t)n + 2 > room)
		n = (int)room - 2; /* cut short: the line still ends */
	at[n] = '\n';
	at[n + 1] = '\0';
	rep->used += (size_t)n + 1;
}

static void hex_line(const char *title, const uint8_t *p, size_t len)
{
	size_t i;

	printf("      %s (%zu bytes): ", title, len);
	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static void report(const struct frame_report *rep, const uint8_t *in, size_t len,
		   const struct run_result *res, const uint64_t delta[LB_COUNTER_MAX])
{
	char name[64];
	int i;

	tally.failed++;
	test_fail(__FILE__, __LINE__, "frame %s", rep->label);
	if (tally.failed > REPORTS_PER_CASE)
		return;
	printf("%s", rep->problems);
	printf("      expected: %s\n", rep->expected);
	printf("      actual:   %s, counters moved:", verdict_name(res->verdict));
	for (i = 0; i < LB_COUNTER_MAX; i++)
		if (delta[i])
			printf(" %s%s", counter_name(i, name, sizeof(name)),
			       delta[i] > 1 ? " (more than once)" : "");
	printf("\n");
	if (rep->id->class >= 0)
		printf("      replay:   fuzz_packets -s 0x%llx -t %s -i %llu\n",
		       (unsigned long long)opt.seed, frame_classes[rep->id->class].name,
		       (unsigned long long)rep->id->index);
	hex_line("input", in, len);
	if (!res->err)
		hex_line("output", res->out, res->out_len);
}

/* The lb outcome the frame must have, given what the flow model knows.
 * Returns the counter; *may_be_new says that flow_new is also right (the LRU
 * table has been near full, so the flow may have been evicted).
 */
static enum lb_counter lb_expect(const struct fuzz_vip *vip, const struct flow_any_key *key,
				 uint32_t *backend, bool *may_be_new)
{
	const struct flow_slot *slot;
	size_t i;
	bool any_up = false;

	*may_be_new = false;
	for (i = 0; i < vip->backend_count; i++) {
		const struct fuzz_backend *b = fuzz_backend_find(&pipeline, vip->backend_ids[i]);

		any_up |= b && b->entry.state == LB_BACKEND_UP && b->entry.vip_id == vip->vip_id;
	}
	if (!any_up)
		return LB_C_LB_DROP_NO_BACKEND;
	slot = flow_model_find(&seen.flows, key);
	if (!slot)
		return LB_C_LB_FLOW_NEW;
	*backend = slot->backend_id;
	*may_be_new = flow_model_overflowed(&seen.flows, pipeline.flow_table_size);
	return LB_C_LB_FLOW_HIT;
}

/* The first lb counter that moved, LB_COUNTER_MAX when none did. */
static enum lb_counter lb_moved(const uint64_t delta[LB_COUNTER_MAX])
{
	int id;

	for (id = 0; id < LB_COUNTER_MAX; id++)
		if (delta[id] && !strcmp(lb_counter_stage(id), "lb"))
			return id;
	return LB_COUNTER_MAX;
}

static bool backend_is_up_in(const struct fuzz_vip *vip, uint32_t id)
{
	const struct fuzz_backend *b = fuzz_backend_find(&pipeline, id);
	size_t i;

	if (!b || b->entry.state != LB_BACKEND_UP || b->entry.vip_id != vip->vip_id)
		return false;
	for (i = 0; i < vip->backend_count; i++)
		if (vip->backend_ids[i] == id)
			return true;
	return false;
}

/* Checks parse's context against the model's; the caller checks lb's backend_id. */
static void ctx_check(struct frame_report *rep, const struct parse_expect *pe,
		      const struct fuzz_vip *vip, const struct lb_packet_ctx *got)
{
	struct lb_packet_ctx want = pe->ctx;

	want.vip_id = vip->vip_id;
	want.pool_id = vip->pool_id;
	if (want.flags & LB_CTX_F_IPV6 ? memcmp(&want.flow6, &got->flow6, sizeof(want.flow6))
				       : memcmp(&want.flow, &got->flow, sizeof(want.flow)))
		problem(rep, "context flow key differs from the frame's 5-tuple");
	if (want.vip_id != got->vip_id || want.pool_id != got->pool_id)
		problem(rep, "context VIP %u pool %u, expected VIP %u pool %u", got->vip_id,
			got->pool_id, want.vip_id, want.pool_id);
	if (want.l3_offset != got->l3_offset || want.l4_offset != got->l4_offset ||
	    want.ip_tot_len != got->ip_tot_len || want.frame_len != got->frame_len)
		problem(rep,
			"context offsets: l3 %u l4 %u tot_len %u frame_len %u, expected %u %u %u %u",
			got->l3_offset, got->l4_offset, got->ip_tot_len, got->frame_len,
			want.l3_offset, want.l4_offset, want.ip_tot_len, want.frame_len);
	if (want.flags != got->flags)
		problem(rep, "context flags 0x%x, expected 0x%x", got->flags, want.flags);
}

/* What the frame must do in lb and encap. Fills @want (counter deltas) and
 * the verdict and encap expectation; accounts the packet to its backend.
 */
static void vip_frame_expect(struct frame_report *rep, const uint8_t *in, size_t len,
			     const struct parse_expect *pe, const uint64_t delta[LB_COUNTER_MAX],
			     uint64_t want[LB_COUNTER_MAX], uint32_t *verdict,
			     struct encap_expect *encap, const struct fuzz_backend **to)
{
	const struct fuzz_vip *vip = &pipeline.vips[pe->vip];
	const struct flow_any_key key = flow_key_of(&pe->ctx);
	enum lb_counter lb_want, lb_got = lb_moved(delta);
	const struct fuzz_backend *backend;
	struct lb_packet_ctx ctx;
	uint32_t known = LB_NO_BACKEND;
	bool may_be_new;
	char a[64], b[64];
	int err;

	*to = NULL;
	err = packet_ctx_now(&ctx);
	if (err) {
		problem(rep, "cannot read the packet context: %s", strerror(-err));
		return;
	}
	ctx_check(rep, pe, vip, &ctx);
	lb_want = lb_expect(vip, &key, &known, &may_be_new);
	if (lb_got == LB_C_LB_FLOW_NEW && may_be_new)
		lb_want = LB_C_LB_FLOW_NEW;
	want[lb_want] = 1;
	if (lb_got != lb_want) {
		problem(rep, "lb moved %s, expected %s", counter_name(lb_got, a, sizeof(a)),
			counter_name(lb_want, b, sizeof(b)));
		/* Go on from what lb did, so the report shows what followed. */
		if (lb_got != LB_C_LB_FLOW_HIT && lb_got != LB_C_LB_FLOW_NEW &&
		    lb_got != LB_C_LB_DROP_NO_BACKEND)
			return;
		lb_want = lb_got;
	}
	if (lb_want == LB_C_LB_DROP_NO_BACKEND) {
		*verdict = XDP_DROP;
		if (ctx.backend_id != LB_NO_BACKEND)
			problem(rep, "no backend is up, yet the context names backend %u",
				ctx.backend_id);
		return;
	}
	if (lb_want == LB_C_LB_FLOW_HIT && ctx.backend_id != known)
		problem(rep, "established flow moved from backend %u to %u", known, ctx.backend_id);
	if (!backend_is_up_in(vip, ctx.backend_id) && lb_want != LB_C_LB_FLOW_HIT)
		problem(rep, "new flow went to backend %u, not an up backend of VIP %u",
			ctx.backend_id, vip->vip_id);
	backend = fuzz_backend_find(&pipeline, ctx.backend_id);
	if (!backend) {
		problem(rep, "lb handed on backend %u, which the pipeline does not have",
			ctx.backend_id);
		return;
	}
	if (lb_want == LB_C_LB_FLOW_NEW) {
		flow_model_set(&seen.flows, &key, ctx.backend_id);
		seen.new_flows[ctx.backend_id]++;
	}
	seen.packets[ctx.backend_id]++;
	seen.bytes[ctx.backend_id] += len;

	encap_model(backend, pipeline.ingress, in, &pe->ctx, FUZZ_LINK_MTU, pipeline.outer_src6,
		    pipeline.encap_gue ? pipeline.gue_port : 0, encap);
	want[encap->counter] = 1;
	*verdict = encap->verdict;
	*to = backend;
}

/* What an ICMP frame to a VIP address must do in the icmp stage, and for an
 * error about a known flow in encap. Fills @want and the verdict, @ie what the
 * stage must do, @encap and @to what encap must send.
 */
static void icmp_frame_expect(struct frame_report *rep, const uint8_t *in,
			      const struct parse_expect *pe, const uint64_t delta[LB_COUNTER_MAX],
			      uint64_t want[LB_COUNTER_MAX], uint32_t *verdict,
			      struct icmp_expect *ie, struct encap_expect *encap,
			      const struct fuzz_backend **to)
{
	const struct fuzz_backend *backend;
	const struct flow_slot *slot;
	struct lb_packet_ctx parsed = pe->ctx, ctx;
	struct flow_any_key key;
	uint32_t vip_id;
	bool named;
	int err;

	*to = NULL;
	icmp_model(in, &pe->ctx, pipeline.model_vips, pipeline.vip_count, pe->vip, ie);
	err = packet_ctx_now(&ctx);
	if (err) {
		problem(rep, "cannot read the packet context: %s", strerror(-err));
		return;
	}
	parsed.vip_id = pipeline.vips[pe->vip].vip_id;
	if (ie->outcome != ICMP_FORWARD && memcmp(&parsed, &ctx, sizeof(ctx)))
		problem(rep, "context differs from the one parse must hand the icmp stage");
	if (ie->outcome == ICMP_TO_KERNEL) {
		want[ie->counter] = 1;
		return;
	}
	if (ie->outcome == ICMP_REPLY) {
		want[LB_C_ICMP_ECHO_REPLY] = 1;
		*verdict = XDP_TX;
		return;
	}
	/* An error about a flow: the flow table decides. A flow the fuzzer saw
	 * may have been evicted once the table filled up.
	 */
	key = ie->ipv6 ? flow_key_v6(&ie->flow6) : flow_key_v4(&ie->flow);
	slot = flow_model_find(&seen.flows, &key);
	vip_id = pipeline.vips[ie->vip].vip_id;
	backend = slot ? fuzz_backend_find(&pipeline, slot->backend_id) : NULL;
	if (!backend || backend->entry.vip_id != vip_id ||
	    (backend->entry.state != LB_BACKEND_UP && backend->entry.state != LB_BACKEND_DRAIN) ||
	    (flow_model_overflowed(&seen.flows, pipeline.flow_table_size) &&
	     delta[LB_C_ICMP_PASS_ERROR_NO_FLOW])) {
		ie->outcome = ICMP_TO_KERNEL;
		ie->counter = LB_C_ICMP_PASS_ERROR_NO_FLOW;
		ie->why = "error about a flow the table does not hold";
		want[ie->counter] = 1;
		return;
	}
	want[LB_C_ICMP_ERROR_TO_BACKEND] = 1;
	named = ie->ipv6 ? !memcmp(&ctx.flow6, &ie->flow6, sizeof(ctx.flow6))
			 : !memcmp(&ctx.flow, &ie->flow, sizeof(ctx.flow));
	if (!named || ctx.backend_id != backend->id || ctx.vip_id != vip_id ||
	    !(ctx.flags & LB_CTX_F_ICMP_ERROR))
		problem(rep, "context handed to encap does not name the quoted flow's backend %u",
			backend->id);
	parsed.flags |= LB_CTX_F_ICMP_ERROR;
	/* encap gets the quoted flow's key, which an IPv6 backend's flow label is hashed from. */
	if (ie->ipv6)
		parsed.flow6 = ie->flow6;
	else
		parsed.flow = ie->flow;
	encap_model(backend, pipeline.ingress, in, &parsed, FUZZ_LINK_MTU, pipeline.outer_src6,
		    pipeline.encap_gue ? pipeline.gue_port : 0, encap);
	want[encap->counter] = 1;
	*verdict = encap->verdict;
	*to = backend;
}

/* "parse.to_lb (why), backend 10.0.1.1: why -> XDP_TX" into rep->expected. */
static void expectation_text(struct frame_report *rep, const struct parse_expect *pe,
			     const struct fuzz_backend *backend, const struct encap_expect *encap,
			     uint32_t verdict)
{
	char name[64], addr[INET6_ADDRSTRLEN] = "";

	if (backend && backend->route.ipv6)
		inet_ntop(AF_INET6, backend->entry.addr6, addr, sizeof(addr));
	else if (backend)
		inet_ntop(AF_INET, &backend->entry.addr, addr, sizeof(addr));
	snprintf(rep->expected, sizeof(rep->expected), "%s (%s)%s%s%s%s -> %s",
		 counter_name(pe->counter, name, sizeof(name)), pe->why,
		 backend ? ", backend " : "", addr, backend ? ": " : "",
		 backend ? encap->why : "", verdict_name(verdict));
}

/* Runs one frame and checks it; a failure is reported with everything needed
 * to replay it.
 */
static void frame_check(const uint8_t *in, size_t len, const struct frame_id *id,
			const char *label)
{
	static struct run_result res;
	uint64_t now[LB_COUNTER_MAX], delta[LB_COUNTER_MAX], want[LB_COUNTER_MAX] = { 0 };
	struct frame_report rep = { .label = label, .id = id };
	const struct fuzz_backend *backend = NULL;
	struct encap_expect encap = { 0 };
	struct icmp_expect ie = { 0 };
	uint32_t verdict = XDP_PASS, outer_src;
	static uint8_t reply[FRAME_MAX];
	struct parse_expect pe;
	char name[64], why[160];
	const char *wrong;
	int i;

	parse_model(in, len, pipeline.model_vips, pipeline.vip_count, pipeline.if_mac, &pe);
	frame_run(in, len, &res);
	if (counters_now(now)) {
		problem(&rep, "cannot read the counters");
		memcpy(now, seen.counters, sizeof(now));
	}
	for (i = 0; i < LB_COUNTER_MAX; i++)
		delta[i] = now[i] - seen.counters[i];
	memcpy(seen.counters, now, sizeof(now));
	seen.frames++;
	tally.frames++;

	want[pe.counter] = 1;
	/* A frame parse does not hand on leaves by its counter: pass_* or drop_*. */
	if (!strncmp(lb_counter_reason(pe.counter), "drop_", 5))
		verdict = XDP_DROP;
	if (res.err)
		problem(&rep, "BPF_PROG_TEST_RUN failed: %s", strerror(-res.err));
	if (!res.err && res.verdict == XDP_ABORTED)
		problem(&rep, "XDP_ABORTED");
	if (!res.err && pe.counter == LB_C_PARSE_TO_LB)
		vip_frame_expect(&rep, in, len, &pe, delta, want, &verdict, &encap, &backend);
	if (!res.err && pe.counter == LB_C_PARSE_TO_ICMP)
		icmp_frame_expect(&rep, in, &pe, delta, want, &verdict, &ie, &encap, &backend);
	/* The pipeline's nat slot is empty: a NAT reply goes to the stack as it came. */
	if (pe.counter == LB_C_PARSE_TO_NAT_REPLY)
		want[LB_C_PARSE_PASS_NO_NAT_STAGE] = 1;
	for (i = 0; i < LB_COUNTER_MAX; i++)
		if (delta[i] != want[i])
			problem(&rep, "counter %s moved by %llu, expected %llu",
				counter_name(i, name, sizeof(name)), (unsigned long long)delta[i],
				(unsigned long long)want[i]);
	if (!res.err && res.verdict != verdict)
		problem(&rep, "verdict %s, expected %s", verdict_name(res.verdict),
			verdict_name(verdict));
	/* The outer source: the client's, for an ICMP error the one of the
	 * flow it names.
	 */
	outer_src = ie.outcome == ICMP_FORWARD ? ie.flow.src : pe.ctx.flow.src;
	if (!res.err && backend && (encap.encapsulated || encap.frag_needed)) {
		wrong = encap_check(in, len, res.out, res.out_len, pe.ctx.l3_offset, &encap,
				    outer_src, backend->entry.addr, why, sizeof(why));
		if (wrong)
			problem(&rep, "sent frame: %s", wrong);
	} else if (!res.err && pe.counter == LB_C_PARSE_TO_ICMP && ie.outcome == ICMP_REPLY) {
		pkt_echo_reply(in, len, pe.ctx.l3_offset, reply);
		if (res.out_len != len || memcmp(res.out, reply, len))
			problem(&rep, "not the echo reply expected");
	} else if (!res.err && (res.out_len != len || memcmp(res.out, in, len))) {
		problem(&rep, "frame changed, expected it to leave byte-identical");
	}

	if (res.verdict <= XDP_REDIRECT && !res.err)
		tally.verdicts[res.verdict]++;
	tally.parse[pe.counter]++;
	expectation_text(&rep, &pe, backend, &encap, verdict);
	if (opt.verbose)
		printf("    %s: %s, expected %s\n", label, verdict_name(res.verdict), rep.expected);
	if (rep.used)
		report(&rep, in, len, &res, delta);
}

/* BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header. */
static void short_frame_check(const uint8_t *in, size_t len, const char *label)
{
	static struct run_result res;

	frame_run(in, len, &res);
	tally.frames++;
	tally.refused++;
	seen.refused++;
	if (res.err != -EINVAL)
		test_fail(__FILE__, __LINE__,
			  "frame %s: %zu bytes: test run gave %s (verdict %s), expected EINVAL",
			  label, len, res.err ? strerror(-res.err) : "success",
			  verdict_name(res.verdict));
}

/* --- cases -------------------------------------------------------------------------- */

static bool pipeline_usable(void)
{
	if (geteuid() != 0) {
		test_skip("needs root (BPF, network namespace)");
		return false;
	}
	if (!pipeline_ready) {
		test_fail(__FILE__, __LINE__, "set-up: %s: %s", pipeline.failed_step,
			  strerror(-pipeline.err));
		return false;
	}
	return true;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

static void tally_print(const char *name, double seconds)
{
	char counter[64];
	int i;

	printf("    %s: %llu frames in %.2f s:", name, (unsigned long long)tally.frames, seconds);
	for (i = 0; i <= XDP_REDIRECT; i++)
		if (tally.verdicts[i])
			printf(" %s %llu", verdict_name(i), (unsigned long long)tally.verdicts[i]);
	if (tally.refused)
		printf(" refused %llu", (unsigned long long)tally.refused);
	printf(";");
	for (i = 0; i < LB_COUNTER_MAX; i++)
		if (tally.parse[i])
			printf(" %s %llu", counter_name(i, counter, sizeof(counter)),
			       (unsigned long long)tally.parse[i]);
	printf("\n");
	if (tally.failed > REPORTS_PER_CASE)
		printf("    ... %llu failing frames in all\n", (unsigned long long)tally.failed);
}

static uint64_t frames_per_class(void)
{
	return (opt.count + frame_class_count - 1) / frame_class_count;
}

static void run_class(uint32_t class)
{
	static struct frame f;
	uint64_t index, first = 0, end = frames_per_class();
	struct frame_id id = { (int)class, 0 };
	struct timespec start;
	char label[64];

	if (!pipeline_usable())
		return;
	if (fuzz_pipeline_encap(&pipeline, frame_class_gue(class))) {
		test_fail(__FILE__, __LINE__, "put %s into the encap slot: %s",
			  frame_class_gue(class) ? "gue" : "ipip", strerror(-pipeline.err));
		return;
	}
	memset(&tally, 0, sizeof(tally));
	if (opt.index >= 0) {
		first = (uint64_t)opt.index;
		end = first + 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (index = first; index < end; index++) {
		gen_frame(opt.seed, class, index, &f);
		id.index = index;
		snprintf(label, sizeof(label), "%s#%llu", frame_classes[class].name,
			 (unsigned long long)index);
		if (f.len < FRAME_MIN)
			short_frame_check(f.data, f.len, label);
		else
			frame_check(f.data, f.len, &id, label);
	}
	tally_print(frame_classes[class].name, seconds_since(&start));
	fuzz_pipeline_encap(&pipeline, false);
}

/* One case per generator class; test_main takes plain functions. */
#define CLASS_CASE(n)                   \
	static void class_case_##n(void) \
	{                               \
		run_class(n);           \
	}
CLASS_CASE(0)
CLASS_CASE(1)
CLASS_CASE(2)
CLASS_CASE(3)
CLASS_CASE(4)
CLASS_CASE(5)
CLASS_CASE(6)
CLASS_CASE(7)
CLASS_CASE(8)
CLASS_CASE(9)
CLASS_CASE(10)
CLASS_CASE(11)
CLASS_CASE(12)
CLASS_CASE(13)
CLASS_CASE(14)
CLASS_CASE(15)
CLASS_CASE(16)
CLASS_CASE(17)
CLASS_CASE(18)
CLASS_CASE(19)

static void (*const class_cases[])(void) = {
	class_case_0, class_case_1, class_case_2, class_case_3, class_case_4,  class_case_5,
	class_case_6, class_case_7, class_case_8, class_case_9, class_case_10, class_case_11,
	class_case_12, class_case_13, class_case_14, class_case_15, class_case_16, class_case_17,
	class_case_18, class_case_19,
};

static int hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0;
	unsigned int byte;

	while (*hex) {
		if (*hex == ' ' || *hex == ':') {
			hex++;
			continue;
		}
		if (n == cap || sscanf(hex, "%2x", &byte) != 1 || !hex[1])
			return -EINVAL;
		out[n++] = (uint8_t)byte;
		hex += 2;
	}
	*len = n;
	return 0;
}

static void given_frame_case(void)
{
	static struct frame f;
	struct frame_id id = { -1, 0 };

	if (!pipeline_usable())
		return;
	memset(&tally, 0, sizeof(tally));
	if (hex_decode(opt.hex, f.data, sizeof(f.data), &f.len)) {
		test_fail(__FILE__, __LINE__, "-x: not a frame in hex: %s", opt.hex);
		return;
	}
	if (f.len < FRAME_MIN)
		short_frame_check(f.data, f.len, "given");
	else
		frame_check(f.data, f.len, &id, "given");
	tally_print("given", 0);
}

/* Every counter that moved during the run, by name. */
static void counters_print(void)
{
	char name[64];
	int i, shown = 0;

	printf("    counters:");
	for (i = 0; i < LB_COUNTER_MAX; i++) {
		if (!seen.counters[i])
			continue;
		printf("%s %s %llu", shown++ % 4 ? "," : "\n     ",
		       counter_name(i, name, sizeof(name)), (unsigned long long)seen.counters[i]);
	}
	printf("\n");
}

/* "<what> <name>" for an assertion message; valid until the next call. */
static const char *field(const char *what, const char *name)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s %s", what, name);
	return buf;
}

/* Per-backend figures the lb stage keeps must match what the frames did. */
static void accounting_case(void)
{
	int stats_fd = pipeline.maps.fd[LB_MAP_BACKEND_STATS];
	int load_fd = pipeline.maps.fd[LB_MAP_BACKEND_LOAD];
	struct lb_backend_stats *stats;
	struct lb_backend_load load, *loads;
	size_t i;
	int cpu;

	if (!pipeline_usable())
		return;
	stats = calloc((size_t)pipeline.cpus, sizeof(*stats));
	loads = calloc((size_t)pipeline.cpus, sizeof(*loads));
	if (!ASSERT_TRUE(stats != NULL && loads != NULL, "allocate")) {
		free(stats);
		free(loads);
		return;
	}
	for (i = 0; i < pipeline.backend_count; i++) {
		uint32_t id = pipeline.backends[i].id;
		struct lb_backend_stats sum = { 0 };
		const struct fuzz_route *route = &pipeline.backends[i].route;
		char what[96], addr[INET6_ADDRSTRLEN];

		inet_ntop(route->ipv6 ? AF_INET6 : AF_INET,
			  route->ipv6 ? (const void *)route->addr6 : (const void *)&route->addr,
			  addr, sizeof(addr));
		snprintf(what, sizeof(what), "backend %u (%s)", id, addr);
		if (!ASSERT_OK(bpf_map_lookup_elem(stats_fd, &id, stats), what) ||
		    !ASSERT_OK(bpf_map_lookup_elem(load_fd, &id, loads), what))
			break;
		/* Both per CPU: the figures are the sums. */
		memset(&load, 0, sizeof(load));
		for (cpu = 0; cpu < pipeline.cpus; cpu++) {
			load.packets += loads[cpu].packets;
			load.flows += loads[cpu].flows;
			sum.packets += stats[cpu].packets;
			sum.bytes += stats[cpu].bytes;
			sum.new_flows += stats[cpu].new_flows;
		}
		ASSERT_EQ(sum.packets, seen.packets[id], field(what, "backend_stats.packets"));
		ASSERT_EQ(sum.bytes, seen.bytes[id], field(what, "backend_stats.bytes"));
		ASSERT_EQ(sum.new_flows, seen.new_flows[id],
			  field(what, "backend_stats.new_flows"));
		ASSERT_EQ(load.packets, seen.packets[id], field(what, "backend_load.packets"));
		ASSERT_EQ(load.flows, seen.new_flows[id], field(what, "backend_load.flows"));
		if (seen.packets[id])
			printf("    %s: %llu packets, %llu flows\n", what,
			       (unsigned long long)sum.packets, (unsigned long long)sum.new_flows);
	}
	free(stats);
	free(loads);
	counters_print();
	printf("    %llu frames ran, %llu refused; %zu distinct flows (table %u%s)\n",
	       (unsigned long long)seen.frames, (unsigned long long)seen.refused,
	       seen.flows.count, pipeline.flow_table_size,
	       flow_model_overflowed(&seen.flows, pipeline.flow_table_size)
		       ? ": near full, evictions allowed"
		       : "");
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-s SEED] [-n COUNT] [-t CLASS] [-i INDEX] [-x HEX] [-v]\n"
		"  -s SEED   random seed (default %d); the run prints it\n"
		"  -n COUNT  frames in all, shared by the classes (default %d)\n"
		"  -t CLASS  only the classes whose name contains CLASS\n"
		"  -i INDEX  only frame INDEX of each class (replays a failure)\n"
		"  -x HEX    run this one frame\n"
		"  -v        print every frame\n",
		prog, DEFAULT_SEED, DEFAULT_COUNT);
}

static int options_parse(int argc, char **argv)
{
	char *end;
	int c;

	while ((c = getopt(argc, argv, "s:n:t:i:x:vh")) != -1) {
		switch (c) {
		case 's':
			opt.seed = strtoull(optarg, &end, 0);
			break;
		case 'n':
			opt.count = strtoull(optarg, &end, 0);
			break;
		case 'i':
			opt.index = strtoll(optarg, &end, 0);
			break;
		case 't':
			opt.filter = optarg;
			continue;
		case 'x':
			opt.hex = optarg;
			continue;
		case 'v':
			opt.verbose = true;
			continue;
		default:
			usage(argv[0]);
			return -1;
		}
		if (*end || end == optarg) {
			usage(argv[0]);
			return -1;
		}
	}
	return 0;
}

/* The IPv6 NAT mappings of gen_nat6_replies into nat_reply6 and the model. */
static int nat6_mappings_install(void)
{
	struct lb_flow6_key keys[MODEL_MAX_NAT6];
	struct lb_nat_reply6 entry = { 0 };
	size_t i;

	if (gen_nat6_reply_count > MODEL_MAX_NAT6)
		return -E2BIG;
	for (i = 0; i < gen_nat6_reply_count; i++) {
		const struct gen_nat6 *m = &gen_nat6_replies[i];

		memset(&keys[i], 0, sizeof(keys[i]));
		pkt_ip6(m->src, keys[i].src);
		pkt_ip6(m->dst, keys[i].dst);
		keys[i].sport = htons(m->sport);
		keys[i].dport = htons(m->dport);
		keys[i].proto = m->proto;
		if (bpf_map_update_elem(pipeline.maps.fd[LB_MAP_NAT_REPLY6], &keys[i], &entry,
					BPF_ANY))
			return -errno;
	}
	parse_model_set_nat6(keys, gen_nat6_reply_count);
	return 0;
}

int main(int argc, char **argv)
{
	struct test_case cases[ARRAY_SIZE(class_cases) + 1];
	char *pass_on[4] = { argv[0], "-t", NULL, NULL };
	size_t i, count = 0;
	int status;

	if (options_parse(argc, argv))
		return 2;
	if (frame_class_count > ARRAY_SIZE(class_cases)) {
		fprintf(stderr, "more generator classes than cases\n");
		return 2;
	}
	if (opt.hex) {
		cases[count++] = (struct test_case){ "given", given_frame_case };
	} else {
		for (i = 0; i < frame_class_count; i++)
			cases[count++] =
				(struct test_case){ frame_classes[i].name, class_cases[i] };
		cases[count++] = (struct test_case){ "accounting", accounting_case };
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("%s: seed 0x%llx, %llu frames per class, %zu classes\n", SUITE,
	       (unsigned long long)opt.seed, (unsigned long long)frames_per_class(),
	       frame_class_count);

	if (geteuid() == 0) {
		pipeline_ready = !fuzz_pipeline_setup(&pipeline) && !counters_now(seen.counters) &&
			     !flow_model_init(&seen.flows) && !nat6_mappings_install();
		if (pipeline_ready) {
			struct gen_target targets[FUZZ_MAX_VIPS];
			struct gen_target6 targets6[FUZZ_MAX_VIPS];
			size_t n = 0, n6 = 0;

			for (i = 0; i < pipeline.vip_count; i++) {
				const struct model_vip *v = &pipeline.model_vips[i];

				if (!v->ipv6) {
					targets[n++] = (struct gen_target){ v->addr, v->port,
									    v->proto };
					continue;
				}
				targets6[n6] = (struct gen_target6){ .port = v->port,
								     .proto = v->proto };
				memcpy(targets6[n6++].addr6, v->addr6, 16);
			}
			gen_set_targets(targets, n);
			gen_set_targets6(targets6, n6);
		} else if (!pipeline.err) {
			snprintf(pipeline.failed_step, sizeof(pipeline.failed_step),
				 "read the counters");
			pipeline.err = -EIO;
		}
	}
	/* test_main takes the case filter; the other options are ours. */
	optind = 0;
	pass_on[2] = (char *)opt.filter;
	status = test_main(SUITE, cases, count, opt.filter ? 3 : 1, pass_on);
	fuzz_pipeline_teardown(&pipeline);
	flow_model_free(&seen.flows);
	return status;
}
