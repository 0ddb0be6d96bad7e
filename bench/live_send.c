// SPDX-License-Identifier: GPL-2.0
/* live_send: the benchmark's traffic generator. Sends 64-byte UDP frames of
 * FLOWS flows out of IFNAME as fast as one CPU can, with XDP live frames
 * (BPF_PROG_TEST_RUN, BPF_F_TEST_XDP_LIVE_FRAMES), until SIGINT or SECONDS.
 *
 *   live_send -i IFNAME -D DST_MAC -s SRC -d VIP [-p PORT] [-f FLOWS] [-t SECONDS]
 *             [-c CPU]
 *
 * Flow n has source port 10000 + n. Ends with one line:
 *   live_send frames=N seconds=S pps=R
 * tests/tools/xdp_send does more, but rewrites only the fields it varies,
 * which breaks once the receiver has encapsulated a page that then comes back
 * to the sender (see live_send.bpf.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "live_send.skel.h"
#include "packet.h"

#define FRAME_LEN 64
/* Frames per test run. Each run sets up and tears down its own page pool,
 * which costs more than the syscall: runs of 64k frames halved the rate on
 * veth. A signal ends a run at once (EINTR); the deadline is seen between runs.
 */
#define FRAMES_PER_RUN (1U << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: live_send -i IFNAME -D DST_MAC -s SRC -d VIP [-p PORT] [-f FLOWS] "
			"[-t SECONDS] [-c CPU]\n");
	return 2;
}

/* The frame every page starts as; UDP checksum 0 ("none"), see the program. */
static void build_frame(const uint8_t *dst_mac, const char *src, const char *vip, int port,
			uint8_t *frame)
{
	struct pkt_spec spec;

	pkt_spec_udp(&spec);
	memcpy(spec.dst_mac, dst_mac, 6);
	spec.src = pkt_ip(src);
	spec.dst = pkt_ip(vip);
	spec.sport = 10000;
	spec.dport = (uint16_t)port;
	spec.payload_len = FRAME_LEN - 14 - 20 - 8;
	pkt_build(&spec, frame, FRAME_LEN);
	frame[14 + 20 + 6] = 0;
	frame[14 + 20 + 7] = 0;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *src = NULL, *vip = NULL;
	uint8_t dst_mac[6], frame[FRAME_LEN];
	struct live_send_bpf *skel;
	double seconds = 0, start, deadline;
	unsigned long flows = 1;
	unsigned long long frames = 0;
	int port = 5000, cpu = 0, have_mac = 0, ifindex, c, err, i, cpus;
	struct xdp_md ctx = { .data_end = FRAME_LEN };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = FRAME_LEN,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = FRAMES_PER_RUN,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	__u64 *per_cpu;
	__u32 zero = 0;
	cpu_set_t set;

	while ((c = getopt(argc, argv, "i:D:s:d:p:f:t:c:")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'D': have_mac = !parse_mac(optarg, dst_mac); break;
		case 's': src = optarg; break;
		case 'd': vip = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'f': flows = strtoul(optarg, NULL, 10); break;
		case 't': seconds = atof(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		default: return usage();
		}
	}
	if (!ifname || !have_mac || !src || !vip || !flows || flows > 55535 || port <= 0 ||
	    port > 65535)
		return usage();
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "live_send: Failed to find interface %s: %s\n", ifname,
			strerror(errno));
		return 1;
	}
	/* The program counts per CPU, and one CPU is what is measured. */
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "live_send: Failed to pin to CPU %d: %s\n", cpu, strerror(errno));
		return 1;
	}
	build_frame(dst_mac, src, vip, port, frame);

	skel = live_send_bpf__open();
	if (!skel) {
		fprintf(stderr, "live_send: Failed to open the program: %s\n", strerror(errno));
		return 1;
	}
	memcpy((void *)skel->rodata->header_words, frame, sizeof(skel->rodata->header_words));
	skel->rodata->flow_count = (__u32)flows;
	err = live_send_bpf__load(skel);
	if (err) {
		fprintf(stderr, "live_send: Failed to load the program: %s\n", strerror(-err));
		goto out;
	}

	/* XDP_TX of a live-frames run leaves through the ingress interface. */
	ctx.ingress_ifindex = (__u32)ifindex;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	start = now_s();
	deadline = seconds > 0 ? start + seconds : 0;
	while (!stop && (!deadline || now_s() < deadline)) {
		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_live_send), &opts)) {
			if (errno == EINTR)
				break;
			err = -errno;
			fprintf(stderr, "live_send: Failed to run the program: %s\n",
				strerror(errno));
			goto out;
		}
	}
	seconds = now_s() - start;

	cpus = libbpf_num_possible_cpus();
	per_cpu = calloc((size_t)cpus, sizeof(*per_cpu));
	if (!per_cpu || bpf_map_lookup_elem(bpf_map__fd(skel->maps.frames_sent), &zero, per_cpu)) {
		err = per_cpu ? -errno : -ENOMEM;
		fprintf(stderr, "live_send: Failed to read the frame count: %s\n", strerror(-err));
		free(per_cpu);
		goto out;
	}
	for (i = 0; i < cpus; i++)
		frames += per_cpu[i];
	free(per_cpu);
	printf("live_send frames=%llu seconds=%.3f pps=%.0f\n", frames, seconds,
	       frames / seconds);
out:
	live_send_bpf__destroy(skel);
	return err ? 1 : 0;
}
