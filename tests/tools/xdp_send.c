// SPDX-License-Identifier: GPL-2.0
/* xdp_send: high-rate traffic generator out of one interface, without the stack.
 *
 *   xdp_send -i IFNAME -D DST_MAC -d VIP [-p PORT] [-P udp|tcp] [-f FLOWS] [-s FRAME_BYTES]
 *            (-n COUNT | -t SECONDS) [-r PPS] [-T THREADS] [-a SRC] [-b SPORT_BASE] [-l]
 *            [-M auto|live|afxdp|packet]
 *
 * It builds one Ethernet/IPv4/UDP-or-TCP frame toward VIP:PORT; each frame
 * sent is a copy that becomes the next flow (source port, then source
 * address, counted up), with the whole header written anew (see
 * xdp_send.bpf.c on recycled pages). -M picks how copies reach IFNAME:
 *
 *   live    XDP live frames (xdp_send_live.c): BPF_PROG_TEST_RUN with
 *           BPF_F_TEST_XDP_LIVE_FRAMES runs xdp_send.bpf.c over page-pool copies
 *           and XDP_TX transmits them. No socket, no qdisc; on a veth the peer
 *           takes them only with an XDP program attached (docs/kernels.md).
 *   afxdp   an AF_XDP socket in copy mode (xdp_send_afxdp.c), TX only: frames
 *           written into its UMEM go through the driver's normal xmit path.
 *   packet  AF_PACKET, sendmmsg() with PACKET_QDISC_BYPASS (xdp_send_packet.c).
 *   auto    (default) live; when the kernel refuses live frames (EPERM,
 *           EOPNOTSUPP or EINVAL from a probe run that transmits nothing), afxdp;
 *           when no AF_XDP socket can be set up, packet. It says on stderr
 *           which it uses and why it fell back. A method given with -M that
 *           fails is an error, never a fallback.
 * XDP_SEND_REFUSE=live[,afxdp,...] makes the methods named refuse as the kernel
 * would (EPERM): it lets tests take auto's fallbacks on kernels that have
 * every method.
 *
 *   -i IFNAME        interface to send out of (its MAC is the source MAC)
 *   -D MAC           destination MAC: the balancer's interface
 *   -d VIP -p PORT   destination (port default 5000); -P tcp sends ACK segments
 *   -f FLOWS         distinct flows (default 1): source ports SPORT_BASE.. (default
 *                    10000), then the next source addresses; frames go round-robin
 *   -s BYTES         frame length, Ethernet header to payload, no FCS (default 64)
 *   -n COUNT         frames in all, or -t SECONDS: for that long (both: first to end)
 *   -r PPS           at most this rate in all (default: as fast as the CPU goes)
 *   -T THREADS       sending threads, one per CPU (default 1); afxdp: one socket
 *                    per thread on queues 0..THREADS-1, so IFNAME needs that
 *                    many TX queues
 *   -a SRC           first source address (default: the interface's IPv4 address)
 *   -l               also print "flow SRC:SPORT FRAMES" per flow
 *   -M METHOD        see above (default auto)
 *
 * Ends with one line for scripts (keys are only ever added at its end):
 *   xdp_send frames=N seconds=S pps=R mbit_s=M frame_bytes=B flows=F threads=T
 *            xmit=X xmit_errors=E method=live|afxdp|packet
 * frames: frames handed to the interface: live, the program's own count;
 * afxdp, the UMEM's completions (waited for at the end); packet, what
 * sendmmsg() reported taken. xmit / xmit_errors: what the driver reports
 * having taken or refused in that time: live, its ethtool counters named
 * *xdp_xmit / *xdp_xmit_errors (as veth has); afxdp and packet, the
 * interface's tx_packets and tx_dropped + tx_errors (frames of other senders
 * on it count too); "-" when the driver has none.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "xdp_send.h"

#define MAX_THREADS 256
/* An unpaced call asks for this many frames: each method takes what it can. */
#define UNPACED_ASK (1ULL << 32)

volatile sig_atomic_t stop;
double deadline;

static const struct send_method *const methods[] = { &live_method, &afxdp_method,
						     &packet_method };

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

double now_s(void)
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
		"                [-a SRC] [-b SPORT_BASE] [-l] [-M auto|live|afxdp|packet]\n"
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

/* Through netlink (getifaddrs), not /sys/class/net: under nsenter --net the
 * latter still shows the host's interfaces. getifaddrs has the 32-bit
 * counters: a run of more than 2^32 frames would see them wrap.
 */
bool link_tx_counters(const char *ifname, unsigned long long *xmit, unsigned long long *errs)
{
	struct ifaddrs *list, *ifa;
	bool found = false;

	*xmit = *errs = 0;
	if (getifaddrs(&list))
		return false;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		const struct rtnl_link_stats *st = ifa->ifa_data;

		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_PACKET || !st ||
		    strcmp(ifa->ifa_name, ifname))
			continue;
		*xmit = st->tx_packets;
		*errs = (unsigned long long)st->tx_dropped + st->tx_errors;
		found = true;
		break;
	}
	freeifaddrs(list);
	return found;
}

/* One's complement update of @check for @words 16-bit words going @from ->
 * @to (RFC 1624: HC' = ~(~HC + ~m + m')), all in network byte order.
 */
static uint16_t csum_replace(uint16_t check, const uint16_t *from, const uint16_t *to,
			     int words)
{
	uint32_t sum = (uint16_t)~check;
	int i;

	for (i = 0; i < words; i++)
		sum += (uint16_t)~from[i] + (uint32_t)to[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The userspace twin of xdp_send.bpf.c: the whole header template first (a
 * frame buffer may hold an earlier flow's headers), then the flow's source
 * address and port, checksums updated from the template's.
 */
void flow_headers(const struct args *a, uint8_t *frame, uint32_t flow)
{
	uint8_t *ip = frame + 14, *l4 = ip + 20, *l4_check;
	uint16_t old[3], new[3], check;
	uint32_t src = htonl(ntohl(a->src) + flow / a->ports_per_source);
	uint16_t sport = htons((uint16_t)(a->sport_base + flow % a->ports_per_source));

	memcpy(frame, a->frame, TEMPLATE_HEAD);
	memcpy(old, ip + 12, 4);
	memcpy(old + 2, l4, 2);
	memcpy(new, &src, 4);
	memcpy(new + 2, &sport, 2);
	memcpy(ip + 12, &src, 4);
	memcpy(l4, &sport, 2);
	memcpy(&check, ip + 10, 2);
	check = csum_replace(check, old, new, 2);
	memcpy(ip + 10, &check, 2);

	/* The L4 checksum covers the pseudo header's source address too. */
	l4_check = l4 + (a->proto == IPPROTO_TCP ? 16 : 6);
	memcpy(&check, l4_check, 2);
	if (a->proto == IPPROTO_UDP && !check)
		return; /* sent without a checksum */
	check = csum_replace(check, old, new, 3);
	/* UDP writes a computed 0 as 0xffff: 0 means "no checksum". */
	if (a->proto == IPPROTO_UDP && !check)
		check = 0xffff;
	memcpy(l4_check, &check, 2);
}

/* Frames due by @lead seconds from now at the sender's rate (paced), or a
 * request for as many as the method can take (unpaced). Never past the quota.
 */
static unsigned long long frames_due(const struct sender *s, double lead,
				     unsigned long long done, double start)
{
	double until, want, cap;

	if (!s->pps)
		return s->quota ? s->quota - done : UNPACED_ASK;
	until = now_s() + lead;
	if (deadline && until > deadline)
		until = deadline;
	want = (until - start) * s->pps - (double)done;
	/* Behind a rate the CPU cannot reach: no ever longer catch-up calls
	 * that would overshoot the deadline.
	 */
	cap = s->pps * 2 * lead;
	if (want > cap)
		want = cap < 1 ? 1 : cap;
	want += 1e-6; /* 9999.9999 frames due are 10000 */
	if (want < 1)
		return 0;
	if (s->quota && want > (double)(s->quota - done))
		want = (double)(s->quota - done);
	return (unsigned long long)want;
}

static const struct send_method *method; /* the one in use */

/* One thread on one CPU: sends until its quota, the deadline or a signal,
 * paced to its share of the rate.
 */
static void *send_loop(void *arg)
{
	struct sender *s = arg;
	struct timespec idle = { .tv_nsec = method->lead > 0.01 ? 1000000 : 100000 };
	unsigned long long done = 0, n;
	double start;
	long long taken;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(s->cpu, &cpus);
	/* Live frames are counted per CPU: a thread must not move. */
	s->err = pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (s->err)
		return NULL;
	start = now_s();
	while (!stop && (!s->quota || done < s->quota) && (!deadline || now_s() < deadline)) {
		n = frames_due(s, method->lead, done, start);
		if (!n) {
			nanosleep(&idle, NULL);
			continue;
		}
		taken = method->send(s, n);
		if (taken < 0) {
			if (taken != -EINTR)
				s->err = (int)-taken;
			break;
		}
		done += (unsigned long long)taken;
	}
	method->finish(s);
	return NULL;
}

static const struct option long_options[] = {
	{ "method", required_argument, NULL, 'M' },
	{ 0 },
};

static int parse_args(int argc, char **argv, struct args *a)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "i:D:d:p:P:f:s:n:t:r:T:a:b:lM:", long_options,
				  NULL)) != -1) {
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
		case 'M': a->method_name = optarg; break;
		default: return usage();
		}
	}
	if (strcmp(a->method_name, "auto") && strcmp(a->method_name, "live") &&
	    strcmp(a->method_name, "afxdp") && strcmp(a->method_name, "packet")) {
		fprintf(stderr, "xdp_send: -M %s: the method is auto, live, afxdp or packet\n",
			a->method_name);
		return 2;
	}
	if (!a->ifname || !a->have_dst_mac || !a->dst || !a->flows ||
	    (!a->count && a->seconds <= 0) || !a->threads || a->threads > MAX_THREADS ||
	    a->pps < 0 || !a->sport_base)
		return usage();
	/* 60: Ethernet's minimum, and more than the 54 header bytes rewritten
	 * in every frame.
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

static int build_template(struct args *a)
{
	struct pkt_spec spec;

	pkt_spec_udp(&spec);
	memcpy(spec.dst_mac, a->dst_mac, 6);
	memcpy(spec.src_mac, a->src_mac, 6);
	spec.src = a->src;
	spec.dst = a->dst;
	spec.proto = a->proto;
	spec.sport = a->sport_base;
	spec.dport = a->port;
	spec.frag_off = 0x4000; /* DF, as most stacks send */
	spec.tcp_flags = 0x10;  /* ACK: the middle of a connection */
	spec.payload_len = a->frame_len - 14 - 20 - (a->proto == IPPROTO_TCP ? 20 : 8);
	if (pkt_build(&spec, a->frame, sizeof(a->frame)) != a->frame_len)
		return -EINVAL;
	/* Source ports first; past port 65535 the next source address. */
	a->ports_per_source = 65536U - a->sport_base;
	if (a->flows < a->ports_per_source)
		a->ports_per_source = a->flows;
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

/* Frames flow @i received: each sender went round-robin from flow 0. */
static unsigned long long frames_of_flow(const struct sender *senders, unsigned int threads,
					 unsigned int flows, unsigned int i)
{
	unsigned long long n = 0;
	unsigned int t;

	for (t = 0; t < threads; t++)
		n += senders[t].frames / flows + (i < senders[t].frames % flows);
	return n;
}

/* Whether XDP_SEND_REFUSE names method @name. */
static bool refused_by_env(const char *name)
{
	const char *list = getenv("XDP_SEND_REFUSE"), *p;
	size_t len = strlen(name);

	for (p = list; p && (p = strstr(p, name)); p += len)
		if ((p == list || p[-1] == ',') && (p[len] == ',' || !p[len]))
			return true;
	return false;
}

/* Sets method @m up for every sender; on failure undoes what it did. */
static int try_method(const struct send_method *m, const struct args *a,
		      struct sender *senders, char *why, size_t why_len)
{
	unsigned int i;
	int err;

	if (refused_by_env(m->name)) {
		snprintf(why, why_len, "use %s (XDP_SEND_REFUSE=%s)", m->label,
			 getenv("XDP_SEND_REFUSE"));
		return -EPERM;
	}
	err = m->setup(a, why, why_len);
	if (err)
		return err;
	for (i = 0; i < a->threads; i++) {
		err = m->open(&senders[i], why, why_len);
		if (err) {
			while (i--)
				m->close(&senders[i]);
			m->teardown();
			return err;
		}
	}
	return 0;
}

/* The errors with which a kernel refuses live frames as such (524: the
 * kernel's ENOTSUPP, which the bpf syscall can return).
 */
static bool live_refused(int err)
{
	return err == -EPERM || err == -EOPNOTSUPP || err == -EINVAL || err == -524;
}

/* -M: the method asked for, or auto's first that can be set up; says on
 * stderr which and, for auto, why it passed over the others.
 */
static const struct send_method *choose_method(const struct args *a, struct sender *senders)
{
	bool any = !strcmp(a->method_name, "auto");
	char why[256], fell[768] = "";
	size_t i, used = 0;
	int err;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		const struct send_method *m = methods[i];

		if (!any && strcmp(a->method_name, m->name))
			continue;
		why[0] = 0;
		err = try_method(m, a, senders, why, sizeof(why));
		if (!err) {
			if (any)
				fprintf(stderr, "xdp_send: %susing %s on %s\n", fell, m->label,
					a->ifname);
			else
				fprintf(stderr, "xdp_send: using %s on %s (-M %s)\n", m->label,
					a->ifname, m->name);
			return m;
		}
		if (!any || (m == &live_method && !live_refused(err))) {
			fprintf(stderr, "xdp_send: Failed to %s: %s (method %s)\n", why,
				strerror(-err), m->name);
			return NULL;
		}
		/* The probe's (or the test hook's) refusal says it all; any
		 * other failure names the step.
		 */
		if (refused_by_env(m->name))
			used += (size_t)snprintf(fell + used, sizeof(fell) - used,
						 "%s refused by XDP_SEND_REFUSE (%s); ", m->label,
						 strerror(-err));
		else if (m == &live_method && !strncmp(why, "run ", 4))
			used += (size_t)snprintf(fell + used, sizeof(fell) - used,
						 "%s refused by the kernel (%s); ", m->label,
						 strerror(-err));
		else
			used += (size_t)snprintf(fell + used, sizeof(fell) - used,
						 "%s unavailable (Failed to %s: %s); ", m->label,
						 why, strerror(-err));
		if (used >= sizeof(fell))
			used = sizeof(fell) - 1;
	}
	fprintf(stderr, "xdp_send: Failed to send on %s by any method: %.*s\n", a->ifname,
		used >= 2 ? (int)used - 2 : 0, fell);
	return NULL;
}

int main(int argc, char **argv)
{
	struct args a = { .port = 5000, .proto = IPPROTO_UDP, .flows = 1, .threads = 1,
			  .frame_len = 64, .sport_base = 10000, .method_name = "auto" };
	static struct sender senders[MAX_THREADS];
	static int cpu_list[MAX_THREADS];
	unsigned long long xmit0 = 0, errs0 = 0, xmit1, errs1, frames = 0;
	int err, ncpu;
	unsigned int i;
	bool have_xmit;
	double start, elapsed;

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
	if (build_template(&a)) {
		fprintf(stderr, "xdp_send: Failed to build the frame\n");
		return 1;
	}
	for (i = 0; i < a.threads; i++) {
		struct sender *s = &senders[i];

		s->index = (int)i;
		s->cpu = cpu_list[i];
		s->args = &a;
		s->quota = !a.count ? 0 : a.count / a.threads + (i < a.count % a.threads);
		s->pps = a.pps / a.threads;
	}
	method = choose_method(&a, senders);
	if (!method)
		return 1;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	have_xmit = method->counters(a.ifname, &xmit0, &errs0);
	start = now_s();
	deadline = a.seconds > 0 ? start + a.seconds : 0;
	for (i = 0; i < a.threads; i++) {
		err = pthread_create(&senders[i].thread, NULL, send_loop, &senders[i]);
		if (err) {
			fprintf(stderr, "xdp_send: Failed to start a thread: %s\n", strerror(err));
			stop = 1;
			a.threads = i;
			break;
		}
	}
	for (i = 0; i < a.threads; i++) {
		pthread_join(senders[i].thread, NULL);
		if (senders[i].err && !err)
			err = senders[i].err;
	}
	elapsed = now_s() - start;
	have_xmit = have_xmit && method->counters(a.ifname, &xmit1, &errs1);
	if (err)
		fprintf(stderr, "xdp_send: Failed to send %s on %s: %s\n", method->label, a.ifname,
			strerror(err));

	for (i = 0; i < a.threads; i++)
		frames += senders[i].frames;
	if (a.list_flows) {
		for (i = 0; i < a.flows; i++) {
			struct in_addr src = { htonl(ntohl(a.src) + i / a.ports_per_source) };

			printf("flow %s:%u %llu\n", inet_ntoa(src),
			       a.sport_base + i % a.ports_per_source,
			       frames_of_flow(senders, a.threads, a.flows, i));
		}
	}
	printf("xdp_send frames=%llu seconds=%.3f pps=%.0f mbit_s=%.1f frame_bytes=%zu flows=%u "
	       "threads=%u",
	       frames, elapsed, elapsed > 0 ? (double)frames / elapsed : 0.0,
	       elapsed > 0 ? (double)frames * (double)a.frame_len * 8 / elapsed / 1e6 : 0.0,
	       a.frame_len, a.flows, a.threads);
	if (have_xmit)
		printf(" xmit=%llu xmit_errors=%llu", xmit1 - xmit0, errs1 - errs0);
	else
		printf(" xmit=- xmit_errors=-");
	printf(" method=%s\n", method->name);
	for (i = 0; i < a.threads; i++)
		method->close(&senders[i]);
	method->teardown();
	return err ? 1 : 0;
}
