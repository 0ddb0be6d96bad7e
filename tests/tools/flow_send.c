// SPDX-License-Identifier: GPL-2.0
/* flow_send: sends N flows x M packets of UDP or TCP to a VIP through the
 * kernel's routing (a raw IPv4 or IPv6 socket: an IPv6 VIP and SRC hold a
 * colon), so each flow has a known 5-tuple.
 *
 *   flow_send -d VIP [-p PORT] [-P udp|tcp] [-f FLOWS] [-n PACKETS] [-s BYTES|MIN-MAX]
 *             [-b SPORT_BASE] [-r PPS] [-m MAX_PACKETS] [-S SEED] [-a SRC]
 *
 * Flow i uses source port SPORT_BASE + i; packets are interleaved across
 * flows. With -m, flow i sends a random 1..MAX packets instead of -n; with
 * -s MIN-MAX each packet carries a random MIN..MAX bytes of payload (both
 * seeded by -S, so a run can be repeated). TCP flows open with a SYN, then
 * send ACK segments. -r paces to PPS packets a second (default 20000).
 * Prints "sent P packets in F flows" and, per flow, "flow SPORT PACKETS".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "packet.h"

struct args {
	uint32_t dst, src;
	bool ipv6;
	uint8_t dst6[16], src6[16];
	uint16_t port, sport_base;
	uint8_t proto;
	unsigned int flows, packets, max_packets, seed, pps;
	size_t size, max_size; /* payload bytes; random in size..max_size when larger */
};

static int usage(void)
{
	fprintf(stderr, "usage: flow_send -d VIP [-p PORT] [-P udp|tcp] [-f FLOWS] [-n PACKETS]\n"
			"                 [-s BYTES|MIN-MAX] [-b SPORT_BASE] [-r PPS] [-m MAX] "
			"[-S SEED] [-a SRC]\n");
	return 2;
}

/* The source address the kernel would use toward @dst. */
static uint32_t route_source(uint32_t dst)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = dst,
				  .sin_port = htons(9) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		perror("flow_send: no route to the VIP");
		exit(1);
	}
	close(fd);
	return sa.sin_addr.s_addr;
}

/* The same for an IPv6 @dst. */
static void route_source6(const uint8_t *dst, uint8_t *src)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	memcpy(&sa.sin6_addr, dst, 16);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		perror("flow_send: no route to the VIP");
		exit(1);
	}
	close(fd);
	memcpy(src, &sa.sin6_addr, 16);
}

/* -d and -a: IPv4, or IPv6 when the text holds a colon. */
static void read_addr(const char *text, uint32_t *addr, uint8_t *addr6, bool *ipv6)
{
	*ipv6 = strchr(text, ':') != NULL;
	if (*ipv6)
		pkt_ip6(text, addr6);
	else
		*addr = pkt_ip(text);
}

/* Sends @frame (@len bytes, Ethernet first) to @a's VIP through the raw socket. */
static int send_ip(int fd, const struct args *a, const uint8_t *frame, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = a->dst };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6 };

	memcpy(&to6.sin6_addr, a->dst6, 16);
	/* The kernel adds the link layer: send from the IP header on. */
	if (a->ipv6)
		return (int)sendto(fd, frame + 14, len - 14, 0, (struct sockaddr *)&to6,
				   sizeof(to6));
	return (int)sendto(fd, frame + 14, len - 14, 0, (struct sockaddr *)&to, sizeof(to));
}

static void pace(unsigned int pps, unsigned long sent, const struct timespec *start)
{
	struct timespec now, wait;
	double due, elapsed;

	if (!pps)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	due = (double)sent / pps;
	elapsed = (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
	if (due > elapsed) {
		wait.tv_sec = (time_t)(due - elapsed);
		wait.tv_nsec = (long)((due - elapsed - (double)wait.tv_sec) * 1e9);
		nanosleep(&wait, NULL);
	}
}

int main(int argc, char **argv)
{
	struct args a = { .port = 5000, .proto = IPPROTO_UDP, .flows = 1, .packets = 1,
			  .sport_base = 10000, .size = 64, .pps = 20000, .seed = 1 };
	unsigned int *todo, *done, i, round;
	unsigned long total = 0;
	struct timespec start;
	uint8_t frame[PKT_MAX];
	bool src_ipv6 = false;
	int fd, opt, one = 1;

	while ((opt = getopt(argc, argv, "d:p:P:f:n:s:b:r:m:S:a:")) != -1) {
		switch (opt) {
		case 'd': read_addr(optarg, &a.dst, a.dst6, &a.ipv6); break;
		case 'a': read_addr(optarg, &a.src, a.src6, &src_ipv6); break;
		case 'p': a.port = (uint16_t)atoi(optarg); break;
		case 'P': a.proto = !strcmp(optarg, "tcp") ? IPPROTO_TCP : IPPROTO_UDP; break;
		case 'f': a.flows = (unsigned int)atoi(optarg); break;
		case 'n': a.packets = (unsigned int)atoi(optarg); break;
		case 's':
			a.size = (size_t)atoi(optarg);
			a.max_size = strchr(optarg, '-') ? (size_t)atoi(strchr(optarg, '-') + 1)
							 : a.size;
			break;
		case 'b': a.sport_base = (uint16_t)atoi(optarg); break;
		case 'r': a.pps = (unsigned int)atoi(optarg); break;
		case 'm': a.max_packets = (unsigned int)atoi(optarg); break;
		case 'S': a.seed = (unsigned int)atoi(optarg); break;
		default: return usage();
		}
	}
	if (!a.max_size)
		a.max_size = a.size;
	if ((!a.dst && !a.ipv6) || !a.flows || a.flows > 65535U - a.sport_base ||
	    a.max_size > 1400 || a.max_size < a.size)
		return usage();
	if ((a.src || src_ipv6) && src_ipv6 != a.ipv6) {
		fprintf(stderr, "flow_send: -a and -d must be of one family\n");
		return 2;
	}
	if (a.ipv6 && !src_ipv6)
		route_source6(a.dst6, a.src6);
	else if (!a.ipv6 && !a.src)
		a.src = route_source(a.dst);

	todo = calloc(a.flows, sizeof(*todo));
	done = calloc(a.flows, sizeof(*done));
	if (!todo || !done)
		return 1;
	srand(a.seed);
	for (i = 0; i < a.flows; i++)
		todo[i] = a.max_packets ? 1 + (unsigned int)rand() % a.max_packets : a.packets;

	/* IPPROTO_RAW: we write the IP header (IPv6's implies IPV6_HDRINCL). */
	fd = socket(a.ipv6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || (!a.ipv6 && setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)))) {
		perror("flow_send: raw socket (needs root)");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (round = 0;; round++) {
		int any = 0;

		for (i = 0; i < a.flows; i++) {
			struct pkt_spec s;
			size_t len;

			if (done[i] == todo[i])
				continue;
			any = 1;
			if (a.ipv6) {
				pkt_spec_udp6(&s);
				memcpy(s.src6, a.src6, 16);
				memcpy(s.dst6, a.dst6, 16);
			} else {
				pkt_spec_udp(&s);
				s.src = a.src;
				s.dst = a.dst;
			}
			s.proto = a.proto;
			s.sport = (uint16_t)(a.sport_base + i);
			s.dport = a.port;
			s.ip_id = (uint16_t)(round * a.flows + i);
			s.frag_off = 0x4000; /* DF, as most stacks send */
			s.payload_len = a.size;
			if (a.max_size > a.size)
				s.payload_len += (size_t)rand() % (a.max_size - a.size + 1);
			if (a.proto == IPPROTO_TCP)
				s.tcp_flags = done[i] == 0 ? 0x02 /* SYN */ : 0x10 /* ACK */;
			len = pkt_build(&s, frame, sizeof(frame));
			if (send_ip(fd, &a, frame, len) < 0) {
				perror("flow_send: sendto");
				return 1;
			}
			done[i]++;
			total++;
			pace(a.pps, total, &start);
		}
		if (!any)
			break;
	}
	printf("sent %lu packets in %u flows\n", total, a.flows);
	for (i = 0; i < a.flows; i++)
		printf("flow %u %u\n", a.sport_base + i, done[i]);
	free(todo);
	free(done);
	close(fd);
	return 0;
}
