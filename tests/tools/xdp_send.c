// SPDX-License-Identifier: GPL-2.0
/* xdp_send: high-rate traffic generator, XDP live frames (BPF_PROG_TEST_RUN) out of one interface.
 *
 *   xdp_send -i IFNAME -D DST_MAC -d VIP [-p PORT] [-P udp|tcp] [-f FLOWS] [-s FRAME_BYTES]
 *            (-n COUNT | -t SECONDS) [-r PPS] [-T THREADS] [-a SRC] [-b SPORT_BASE] [-l]
 *
 * It builds one Ethernet/IPv4/UDP-or-TCP frame toward VIP:PORT, then runs a
 * tiny XDP program (xdp_send.bpf.c) over page-pool copies of it with
 * BPF_F_TEST_XDP_LIVE_FRAMES: each copy becomes the next flow (source port,
 * then source address, counted up) and is transmitted out of IFNAME
 * (XDP_TX of a test run = redirect out of its ingress interface). No socket,
 * no qdisc: on a veth the frames go straight into the peer, which must have
 * an XDP program attached to take them (docs/kernels.md).
 *
 *   -i IFNAME        interface to send out of (its MAC is the source MAC)
 *   -D MAC           destination MAC: the balancer's interface
 *   -d VIP -p PORT   destination (port default 5000); -P tcp sends ACK segments
 *   -f FLOWS         distinct flows (default 1): source ports SPORT_BASE.. (default
 *                    10000), then the next source addresses; frames go round-robin
 *   -s BYTES         frame length, Ethernet header to payload, no FCS (default 64)
 *   -n COUNT         frames in all, or -t SECONDS: for that long (both: first to end)
 *   -r PPS           at most this rate in all (default: as fast as the CPU goes)
 *   -T THREADS       sending threads, one per CPU (default 1)
 *   -a SRC           first source address (default: the interface's IPv4 address)
 *   -l               also print "flow SRC:SPORT FRAMES" per flow
 *
 * Ends with one line for scripts:
 *   xdp_send frames=N seconds=S pps=R mbit_s=M frame_bytes=B flows=F threads=T xmit=X xmit_errors=E
 * frames: copies the program handed to the interface (its own per-CPU count);
 * xmit / xmit_errors: what the driver reports having taken or refused in that
 * time (ethtool counters named *xdp_xmit / *xdp_xmit_errors, as veth has; "-"
 * when the driver has none).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "packet.h"
#include "xdp_send.skel.h"

#define MAX_THREADS 256
/* Test run sizes (see next_run()). */
#define PACE_LEAD 0.05
#define UNPACED_RUN_S 0.1
#define MIN_RUN 1024.0
#define MAX_RUN 16777216.0

struct args {
	const char *ifname;
	int ifindex;
	uint8_t dst_mac[6], src_mac[6];
	uint32_t dst, src; /* network byte order */
	uint16_t port, sport_base;
	uint8_t proto;
	unsigned int flows, threads;
	size_t frame_len;
	unsigned long long count;
	double seconds, pps;
	bool list_flows, have_dst_mac;
};

struct sender {
	pthread_t thread;
	int cpu, prog_fd, err;
	unsigned long long quota; /* 0: until the deadline */
	double pps;               /* 0: unpaced */
	const uint8_t *frame;
	const struct args *args;
};

static volatile sig_atomic_t stop;
static double deadline; /* monotonic seconds; 0: none */

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

static int usage(void)
{
	fprintf(stderr,
		"usage: xdp_send -i IFNAME -D DST_MAC -d VIP [-p PORT] [-P udp|tcp] [-f FLOWS]\n"
		"                [-s FRAME_BYTES] (-n COUNT | -t SECONDS) [-r PPS] [-T THREADS]\n"
		"                [-a SRC] [-b SPORT_BASE] [-l]\n"
		"(see the top of tests/tools/xdp_send.c)\n");
	return 2;
}

static bool parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6], i;
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return false;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return false;
		mac[i] = (uint8_t)b[i];
	}
	return true;
}

/* The interface's MAC and, when @src is 0, its IPv4 address. */
static int interface_addresses(struct args *a)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		err = -errno;
		goto out;
	}
	memcpy(a->src_mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!a->src) {
		if (ioctl(fd, SIOCGIFADDR, &ifr)) {
			err = -errno;
			goto out;
		}
		a->src = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
	}
out:
	close(fd);
	return err;
}

/* Sums the driver's ethtool counters whose names end in "xdp_xmit" and
 * "xdp_xmit_errors". Returns false when it has none.
 */
static bool xmit_counters(const char *ifname, unsigned long long *xmit, unsigned long long *errs)
{
	struct ethtool_sset_info *info;
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *stats = NULL;
	struct ifreq ifr = { 0 };
	bool found = false;
	__u32 n, i;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	*xmit = *errs = 0;
	info = calloc(1, sizeof(*info) + sizeof(__u32));
	if (fd < 0 || !info)
		goto out;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_STATS;
	ifr.ifr_data = (void *)info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) || !info->sset_mask)
		goto out;
	n = info->data[0];
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + (size_t)n * sizeof(__u64));
	if (!names || !stats)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	ifr.ifr_data = (void *)names;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		goto out;
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n;
	ifr.ifr_data = (void *)stats;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		goto out;
	for (i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1] = { 0 };
		size_t len;

		memcpy(name, names->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		len = strlen(name);
		if (len >= 8 && !strcmp(name + len - 8, "xdp_xmit")) {
			*xmit += stats->data[i];
			found = true;
		} else if (len >= 15 && !strcmp(name + len - 15, "xdp_xmit_errors")) {
			*errs += stats->data[i];
		}
	}
out:
	free(info);
	free(names);
	free(stats);
	if (fd >= 0)
		close(fd);
	return found;
}

/* Frames for the next test run. Paced: what is due up to PACE_LEAD seconds
 * ahead (a test run costs tens of milliseconds of set-up and teardown on some
 * kernels, so small runs would never reach the rate). Unpaced: about
 * UNPACED_RUN_S of frames at the rate measured so far, and at most half the
 * time left (the rate varies: frames a full queue refuses cost far less than
 * frames it takes). Never past the quota.
 */
static unsigned long long next_run(const struct sender *s, unsigned long long done, double start,
				   double measured_pps)
{
	double t = now_s(), want;

	if (s->pps) {
		double until = t + PACE_LEAD;

		if (deadline && until > deadline)
			until = deadline;
		want = (until - start) * s->pps - (double)done;
		/* Behind a rate the CPU cannot reach: no ever longer catch-up runs
		 * that would overshoot the deadline.
		 */
		if (want > s->pps * 2 * PACE_LEAD)
			want = s->pps * 2 * PACE_LEAD;
	} else {
		want = measured_pps * UNPACED_RUN_S;
		if (deadline && want > measured_pps * (deadline - t) / 2)
			want = measured_pps * (deadline - t) / 2;
		if (want < MIN_RUN)
			want = MIN_RUN;
		if (want > MAX_RUN)
			want = MAX_RUN;
	}
	want += 1e-6; /* 9999.9999 frames due are 10000 */
	if (want < 1)
		return 0;
	if (s->quota && want > (double)(s->quota - done))
		want = (double)(s->quota - done);
	return (unsigned long long)want;
}

/* One thread on one CPU: test runs until its quota, the deadline or a
 * signal, paced to its share of the rate.
 */
static void *send_loop(void *arg)
{
	struct sender *s = arg;
	const struct args *a = s->args;
	struct xdp_md ctx = { .data_end = (__u32)a->frame_len,
			      .ingress_ifindex = (__u32)a->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = s->frame,
		    .data_size_in = (__u32)a->frame_len, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	unsigned long long done = 0, n;
	double start, measured_pps = MIN_RUN / UNPACED_RUN_S, t;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(s->cpu, &cpus);
	/* The program counts per CPU: a thread must not move. */
	s->err = pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (s->err)
		return NULL;
	start = now_s();
	while (!stop && (!s->quota || done < s->quota) && (!deadline || now_s() < deadline)) {
		n = next_run(s, done, start, measured_pps);
		if (!n) {
			struct timespec ts = { .tv_nsec = 1000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		opts.repeat = (__u32)n;
		t = now_s();
		if (bpf_prog_test_run_opts(s->prog_fd, &opts)) {
			if (errno != EINTR)
				s->err = errno;
			break;
		}
		t = now_s() - t;
		/* A slower run counts at once, a faster one only gradually. */
		if (n >= MIN_RUN && t > 0)
			measured_pps = (double)n / t < measured_pps * 1.5 ? (double)n / t
									   : measured_pps * 1.5;
		done += n;
	}
	return NULL;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	int opt;

	while ((opt = getopt(argc, argv, "i:D:d:p:P:f:s:n:t:r:T:a:b:l")) != -1) {
		switch (opt) {
		case 'i': a->ifname = optarg; break;
		case 'D': a->have_dst_mac = parse_mac(optarg, a->dst_mac); break;
		case 'd': a->dst = pkt_ip(optarg); break;
		case 'p': a->port = (uint16_t)atoi(optarg); break;
		case 'P':
			if (strcmp(optarg, "udp") && strcmp(optarg, "tcp"))
				return usage();
			a->proto = !strcmp(optarg, "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
			break;
		case 'f': a->flows = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 's': a->frame_len = strtoul(optarg, NULL, 10); break;
		case 'n': a->count = strtoull(optarg, NULL, 10); break;
		case 't': a->seconds = strtod(optarg, NULL); break;
		case 'r': a->pps = strtod(optarg, NULL); break;
		case 'T': a->threads = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'a': a->src = pkt_ip(optarg); break;
		case 'b': a->sport_base = (uint16_t)atoi(optarg); break;
		case 'l': a->list_flows = true; break;
		default: return usage();
		}
	}
	if (!a->ifname || !a->have_dst_mac || !a->dst || !a->flows ||
	    (!a->count && a->seconds <= 0) || !a->threads || a->threads > MAX_THREADS ||
	    a->pps < 0 || !a->sport_base)
		return usage();
	/* 60: Ethernet's minimum, and more than the 54 header bytes the BPF
	 * program rewrites in every frame.
	 */
	if (a->frame_len < 60 || a->frame_len > 1514) {
		fprintf(stderr, "xdp_send: -s %zu: a frame is 60 to 1514 bytes\n", a->frame_len);
		return 2;
	}
	a->ifindex = (int)if_nametoindex(a->ifname);
	if (!a->ifindex) {
		fprintf(stderr, "xdp_send: Failed to find interface %s: %s\n", a->ifname,
			strerror(errno));
		return 1;
	}
	return 0;
}

/* The CPUs this process may run on, in order; returns how many. */
static int usable_cpus(int *out, int cap)
{
	cpu_set_t set;
	int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (cpu = 0; cpu < CPU_SETSIZE && n < cap; cpu++)
		if (CPU_ISSET(cpu, &set))
			out[n++] = cpu;
	return n;
}

/* Frames flow @i received: each CPU's run went round-robin from flow 0. */
static unsigned long long frames_of_flow(const __u64 *per_cpu, int cpus, unsigned int flows,
					 unsigned int i)
{
	unsigned long long n = 0;
	int c;

	for (c = 0; c < cpus; c++)
		n += per_cpu[c] / flows + (i < per_cpu[c] % flows);
	return n;
}

int main(int argc, char **argv)
{
	struct args a = { .port = 5000, .proto = IPPROTO_UDP, .flows = 1, .threads = 1,
			  .frame_len = 64, .sport_base = 10000 };
	static struct sender senders[MAX_THREADS];
	static int cpu_list[MAX_THREADS];
	unsigned long long xmit0 = 0, errs0 = 0, xmit1, errs1, frames = 0;
	int err, ncpu_possible, ncpu, fd, i;
	uint8_t frame[PKT_MAX];
	struct xdp_send_bpf *skel;
	struct pkt_spec spec;
	__u64 *per_cpu;
	bool have_xmit;
	double start, elapsed;
	__u32 zero = 0, ports;

	err = parse_args(argc, argv, &a);
	if (err)
		return err;
	err = interface_addresses(&a);
	if (err) {
		fprintf(stderr, "xdp_send: Failed to read the addresses of %s: %s\n", a.ifname,
			strerror(-err));
		return 1;
	}
	ncpu = usable_cpus(cpu_list, MAX_THREADS);
	if ((int)a.threads > ncpu) {
		fprintf(stderr, "xdp_send: -T %u: only %d CPUs to run on\n", a.threads, ncpu);
		return 2;
	}

	pkt_spec_udp(&spec);
	memcpy(spec.dst_mac, a.dst_mac, 6);
	memcpy(spec.src_mac, a.src_mac, 6);
	spec.src = a.src;
	spec.dst = a.dst;
	spec.proto = a.proto;
	spec.sport = a.sport_base;
	spec.dport = a.port;
	spec.frag_off = 0x4000; /* DF, as most stacks send */
	spec.tcp_flags = 0x10;  /* ACK: the middle of a connection */
	spec.payload_len = a.frame_len - 14 - 20 - (a.proto == IPPROTO_TCP ? 20 : 8);
	if (pkt_build(&spec, frame, sizeof(frame)) != a.frame_len) {
		fprintf(stderr, "xdp_send: Failed to build the frame\n");
		return 1;
	}

	skel = xdp_send_bpf__open();
	if (!skel) {
		fprintf(stderr, "xdp_send: Failed to open the BPF program: %s\n", strerror(errno));
		return 1;
	}
	/* Source ports first; past port 65535 the next source address. */
	ports = 65536U - a.sport_base;
	skel->rodata->flow_count = a.flows;
	skel->rodata->ports_per_source = a.flows < ports ? a.flows : ports;
	skel->rodata->sport_base = a.sport_base;
	skel->rodata->src_base = ntohl(a.src);
	/* Written into every frame first: see xdp_send.bpf.c. Frames are at
	 * least 60 bytes, so the head never runs past one.
	 */
	memcpy((void *)skel->rodata->template_head, frame, sizeof(skel->rodata->template_head));
	err = xdp_send_bpf__load(skel);
	if (err) {
		fprintf(stderr, "xdp_send: Failed to load the BPF program: %s\n", strerror(-err));
		goto out;
	}
	ncpu_possible = libbpf_num_possible_cpus();
	per_cpu = calloc((size_t)ncpu_possible, sizeof(*per_cpu));
	if (!per_cpu) {
		err = -ENOMEM;
		goto out;
	}
	fd = bpf_map__fd(skel->maps.sequence);
	bpf_map_update_elem(fd, &zero, per_cpu, BPF_ANY); /* every CPU starts at flow 0 */

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	have_xmit = xmit_counters(a.ifname, &xmit0, &errs0);
	start = now_s();
	deadline = a.seconds > 0 ? start + a.seconds : 0;
	for (i = 0; i < (int)a.threads; i++) {
		struct sender *s = &senders[i];

		s->cpu = cpu_list[i];
		s->prog_fd = bpf_program__fd(skel->progs.xdp_send_flows);
		s->args = &a;
		s->frame = frame;
		s->quota = !a.count ? 0 :
			   a.count / a.threads + ((unsigned long long)i < a.count % a.threads);
		s->pps = a.pps / a.threads;
		err = pthread_create(&s->thread, NULL, send_loop, s);
		if (err) {
			stop = 1;
			a.threads = (unsigned int)i;
			break;
		}
	}
	for (i = 0; i < (int)a.threads; i++) {
		pthread_join(senders[i].thread, NULL);
		if (senders[i].err && !err)
			err = senders[i].err;
	}
	elapsed = now_s() - start;
	have_xmit = have_xmit && xmit_counters(a.ifname, &xmit1, &errs1);
	if (err)
		fprintf(stderr, "xdp_send: Failed to run the XDP program: %s%s\n", strerror(err),
			err == EINVAL ? " (live frames need kernel >= 5.18)" : "");

	/* The program's own count: exact even when a signal cut a run short. */
	bpf_map_lookup_elem(fd, &zero, per_cpu);
	for (i = 0; i < ncpu_possible; i++)
		frames += per_cpu[i];
	if (a.list_flows) {
		for (i = 0; i < (int)a.flows; i++) {
			struct in_addr src = { htonl(ntohl(a.src) + (__u32)i / ports) };

			printf("flow %s:%u %llu\n", inet_ntoa(src), a.sport_base + (__u32)i % ports,
			       frames_of_flow(per_cpu, ncpu_possible, a.flows, (unsigned int)i));
		}
	}
	printf("xdp_send frames=%llu seconds=%.3f pps=%.0f mbit_s=%.1f frame_bytes=%zu flows=%u "
	       "threads=%u",
	       frames, elapsed, elapsed > 0 ? (double)frames / elapsed : 0.0,
	       elapsed > 0 ? (double)frames * (double)a.frame_len * 8 / elapsed / 1e6 : 0.0,
	       a.frame_len, a.flows, a.threads);
	if (have_xmit)
		printf(" xmit=%llu xmit_errors=%llu\n", xmit1 - xmit0, errs1 - errs0);
	else
		printf(" xmit=- xmit_errors=-\n");
	free(per_cpu);
out:
	xdp_send_bpf__destroy(skel);
	return err ? 1 : 0;
}
