// SPDX-License-Identifier: GPL-2.0
/* xdp_send -M live: XDP live frames. BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES runs xdp_send.bpf.c over page-pool copies of the
 * template; each copy becomes the next flow and its XDP_TX transmits it out of
 * the test run's ingress interface. The program counts per CPU, so each
 * sender thread stays on its CPU and its frames are that CPU's count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "netdev.h"
#include "xdp_send.h"
#include "xdp_send.skel.h"

/* Test run sizes (see run_size()). */
#define UNPACED_RUN_S 0.1
#define MIN_RUN 1024.0
#define MAX_RUN 16777216.0

struct live_sender {
	struct xdp_md ctx;
	struct bpf_test_run_opts opts;
	double measured_pps; /* unpaced runs: the rate so far */
};

static struct xdp_send_bpf *skel;

static int live_setup(const struct args *a, char *why, size_t why_len)
{
	struct xdp_md ctx = { .data_end = (__u32)a->frame_len,
			      .ingress_ifindex = (__u32)a->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, probe, .data_in = a->frame,
		    .data_size_in = (__u32)a->frame_len, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .repeat = 1);
	int err;

	skel = xdp_send_bpf__open();
	if (!skel) {
		snprintf(why, why_len, "open the BPF program");
		return -errno;
	}
	skel->rodata->flow_count = a->flows;
	skel->rodata->ports_per_source = a->ports_per_source;
	skel->rodata->sport_base = a->sport_base;
	skel->rodata->src_base = ntohl(a->src);
	/* Written into every frame first: see xdp_send.bpf.c. Frames are at
	 * least 60 bytes, so the head never runs past one.
	 */
	memcpy((void *)skel->rodata->template_head, a->frame, sizeof(skel->rodata->template_head));
	err = xdp_send_bpf__load(skel);
	if (err) {
		snprintf(why, why_len, "load the BPF program");
		goto fail;
	}
	/* Whether the kernel takes live frames at all, from a program that
	 * drops its one frame: nothing is transmitted or counted.
	 */
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_send_probe), &probe)) {
		err = -errno;
		snprintf(why, why_len, "run live frames on %s", a->ifname);
		goto fail;
	}
	return 0;
fail:
	xdp_send_bpf__destroy(skel);
	skel = NULL;
	return err;
}

static int live_open(struct sender *s, char *why, size_t why_len)
{
	struct live_sender *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(why, why_len, "allocate a sender");
		return -ENOMEM;
	}
	l->ctx.data_end = (__u32)s->args->frame_len;
	l->ctx.ingress_ifindex = (__u32)s->args->ifindex;
	l->opts.sz = sizeof(l->opts);
	l->opts.data_in = s->args->frame;
	l->opts.data_size_in = (__u32)s->args->frame_len;
	l->opts.ctx_in = &l->ctx;
	l->opts.ctx_size_in = sizeof(l->ctx);
	l->opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	l->opts.batch_size = 64;
	l->measured_pps = MIN_RUN / UNPACED_RUN_S;
	s->priv = l;
	return 0;
}

/* An unpaced run: about UNPACED_RUN_S of frames at the rate measured so far,
 * and at most half the time left (the rate varies: frames a full queue
 * refuses cost far less than frames it takes). A test run costs tens of
 * milliseconds of set-up and teardown on some kernels, so runs are long.
 */
static unsigned long long run_size(const struct live_sender *l)
{
	double want = l->measured_pps * UNPACED_RUN_S, t = now_s();

	if (deadline && want > l->measured_pps * (deadline - t) / 2)
		want = l->measured_pps * (deadline - t) / 2;
	if (want < MIN_RUN)
		want = MIN_RUN;
	if (want > MAX_RUN)
		want = MAX_RUN;
	return (unsigned long long)want;
}

static long long live_send(struct sender *s, unsigned long long n)
{
	struct live_sender *l = s->priv;
	double t, rate;

	if (!s->pps && n > run_size(l))
		n = run_size(l);
	if (n > (unsigned long long)MAX_RUN)
		n = (unsigned long long)MAX_RUN;
	l->opts.repeat = (__u32)n;
	t = now_s();
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_send_flows), &l->opts))
		return -errno;
	t = now_s() - t;
	/* A slower run counts at once, a faster one only gradually. */
	if (n >= MIN_RUN && t > 0) {
		rate = (double)n / t;
		l->measured_pps = rate < l->measured_pps * 1.5 ? rate : l->measured_pps * 1.5;
	}
	return (long long)n;
}

/* The program's own count: exact even when a signal cut a run short. */
static void live_finish(struct sender *s)
{
	int cpus = libbpf_num_possible_cpus();
	__u64 *per_cpu = calloc((size_t)(cpus > 0 ? cpus : 1), sizeof(*per_cpu));
	__u32 zero = 0;

	if (per_cpu && !bpf_map__lookup_elem(skel->maps.sequence, &zero, sizeof(zero), per_cpu,
					     (size_t)cpus * sizeof(*per_cpu), 0))
		s->frames = per_cpu[s->cpu];
	free(per_cpu);
}

static void live_close(struct sender *s)
{
	free(s->priv);
	s->priv = NULL;
}

static void live_teardown(void)
{
	xdp_send_bpf__destroy(skel);
	skel = NULL;
}

struct xmit_counters {
	unsigned long long xmit, errs;
	bool found;
};

static bool ends_with(const char *name, const char *end)
{
	size_t len = strlen(name), end_len = strlen(end);

	return len >= end_len && !strcmp(name + len - end_len, end);
}

static void add_xmit_counter(const char *name, __u64 value, void *arg)
{
	struct xmit_counters *c = arg;

	if (ends_with(name, "xdp_xmit")) {
		c->xmit += value;
		c->found = true;
	} else if (ends_with(name, "xdp_xmit_errors")) {
		c->errs += value;
	}
}

/* Sums the driver's ethtool counters whose names end in "xdp_xmit" and
 * "xdp_xmit_errors": live frames leave through the driver's XDP transmit.
 * Returns false when it has none.
 */
static bool live_counters(const char *ifname, unsigned long long *xmit, unsigned long long *errs)
{
	struct xmit_counters c = { 0 };

	lb_ethtool_stats(ifname, add_xmit_counter, &c);
	*xmit = c.xmit;
	*errs = c.errs;
	return c.found;
}

const struct send_method live_method = {
	.name = "live",
	.label = "live frames",
	/* A paced run holds what is due up to 50 ms ahead: set-up and teardown
	 * of a test run would make smaller runs miss the rate.
	 */
	.lead = 0.05,
	.setup = live_setup,
	.open = live_open,
	.send = live_send,
	.finish = live_finish,
	.close = live_close,
	.teardown = live_teardown,
	.counters = live_counters,
};
