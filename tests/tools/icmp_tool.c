// SPDX-License-Identifier: GPL-2.0
/* icmp_tool: ICMP for the integration and VM tests, where neither ping nor
 * tcpdump may be installed. Raw sockets only, so it runs in any namespace.
 *
 *   icmp_tool echo -d ADDR [-c COUNT] [-s SIZE]
 *       COUNT echo requests (default 3) of SIZE payload bytes, each waiting 1 s
 *       for its reply; prints "echo sent=N replies=N"; exit 0 when all came.
 *   icmp_tool listen [-w SECONDS] [-R READY_FILE]
 *       prints every ICMP message this host receives until SIGTERM or SECONDS:
 *       "icmp from=A type=T code=C mtu=M quote=SRC:SPORT>DST:DPORT/PROTO"
 *       (mtu: the next-hop MTU of "fragmentation needed", else 0; quote: the
 *       packet an error quotes, "-" for none).
 *   icmp_tool error -d ADDR -q SRC:SPORT>DST:DPORT/udp|tcp [-t TYPE] [-C CODE] [-m MTU]
 *       sends one ICMP error (default type 3 code 4, "fragmentation needed",
 *       MTU 1200) to ADDR quoting that packet's IPv4 header and 8 bytes, as a
 *       router on the path would.
 *   icmp_tool udp -d ADDR -p PORT -s SIZE [-D|-N]
 *       sends one UDP datagram of SIZE bytes with DF (-D, the default: the
 *       kernel may not fragment it) or without (-N).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "packet.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: icmp_tool echo -d ADDR [-c COUNT] [-s SIZE]\n"
		"       icmp_tool listen [-w SECONDS] [-R READY_FILE]\n"
		"       icmp_tool error -d ADDR -q SRC:SPORT>DST:DPORT/udp|tcp [-t TYPE] [-C CODE] [-m MTU]\n"
		"       icmp_tool udp -d ADDR -p PORT -s SIZE [-D|-N]\n");
	return 2;
}

static int raw_socket(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	if (fd < 0)
		perror("icmp_tool: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)");
	return fd;
}

static int send_to(int fd, uint32_t addr, const void *msg, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = addr };

	if (sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len) {
		perror("icmp_tool: sendto");
		return -1;
	}
	return 0;
}

/* Receives one IPv4 packet within @ms; its length, 0 on timeout, -1 on error. */
static ssize_t receive(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	if (n <= 0)
		return n < 0 && errno != EINTR ? -1 : 0;
	return recv(fd, buf, cap, 0);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int do_echo(uint32_t addr, int count, size_t size)
{
	uint8_t msg[PKT_MAX], buf[PKT_MAX];
	uint16_t id = (uint16_t)getpid(), csum;
	int fd = raw_socket(), replies = 0, seq;
	long long deadline;
	ssize_t n;

	if (fd < 0 || size + 8 > sizeof(msg))
		return 1;
	for (seq = 1; seq <= count; seq++) {
		memset(msg, 0, 8);
		msg[0] = 8; /* echo request */
		pkt_put16(msg + 4, id);
		pkt_put16(msg + 6, (uint16_t)seq);
		memset(msg + 8, 0xa5, size);
		csum = pkt_csum(msg, 8 + size);
		memcpy(msg + 2, &csum, 2);
		if (send_to(fd, addr, msg, 8 + size))
			return 1;
		deadline = now_ms() + 1000;
		while (now_ms() < deadline) {
			size_t ihl;

			n = receive(fd, buf, sizeof(buf), (int)(deadline - now_ms()));
			if (n <= 0)
				break;
			ihl = (size_t)(buf[0] & 0x0f) * 4;
			if ((size_t)n >= ihl + 8 && !memcmp(buf + 12, &addr, 4) && buf[ihl] == 0 &&
			    pkt_get16(buf + ihl + 4) == id && pkt_get16(buf + ihl + 6) == seq &&
			    pkt_csum(buf + ihl, (size_t)n - ihl) == 0) {
				replies++;
				break;
			}
		}
	}
	printf("echo sent=%d replies=%d\n", count, replies);
	return replies == count ? 0 : 1;
}

static int do_listen(int seconds, const char *ready)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int fd = raw_socket();
	long long end = now_ms() + (long long)seconds * 1000;
	uint8_t buf[PKT_MAX];
	char from[16], qs[16], qd[16];
	ssize_t n;
	FILE *f;

	if (fd < 0)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ready) {
		f = fopen(ready, "w");
		if (f)
			fclose(f);
	}
	while (!stop && (!seconds || now_ms() < end)) {
		size_t ihl, q;
		const uint8_t *icmp;

		n = receive(fd, buf, sizeof(buf), 100);
		if (n < 0)
			return 1;
		if (n < 20)
			continue;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if ((size_t)n < ihl + 8)
			continue;
		icmp = buf + ihl;
		inet_ntop(AF_INET, buf + 12, from, sizeof(from));
		printf("icmp from=%s type=%u code=%u mtu=%u quote=", from, icmp[0], icmp[1],
		       icmp[0] == 3 && icmp[1] == 4 ? pkt_get16(icmp + 6) : 0);
		q = ihl + 8;
		if ((icmp[0] == 3 || icmp[0] == 11) && (size_t)n >= q + 20 &&
		    (size_t)n >= q + (size_t)(buf[q] & 0x0f) * 4 + 4) {
			size_t ports = q + (size_t)(buf[q] & 0x0f) * 4;

			inet_ntop(AF_INET, buf + q + 12, qs, sizeof(qs));
			inet_ntop(AF_INET, buf + q + 16, qd, sizeof(qd));
			printf("%s:%u>%s:%u/%s\n", qs, pkt_get16(buf + ports), qd,
			       pkt_get16(buf + ports + 2),
			       buf[q + 9] == IPPROTO_TCP ? "tcp" : buf[q + 9] == IPPROTO_UDP ? "udp" :
			       "other");
		} else {
			printf("-\n");
		}
	}
	return 0;
}

/* "10.0.0.100:80>10.0.0.1:40000/udp" */
static int quote_parse(const char *text, struct pkt_spec *q)
{
	char src[16], dst[16], proto[4];
	unsigned int sport, dport;

	if (sscanf(text, "%15[0-9.]:%u>%15[0-9.]:%u/%3s", src, &sport, dst, &dport, proto) != 5 ||
	    sport > 65535 || dport > 65535)
		return -1;
	pkt_spec_udp(q);
	q->src = pkt_ip(src);
	q->dst = pkt_ip(dst);
	q->sport = (uint16_t)sport;
	q->dport = (uint16_t)dport;
	q->frag_off = 0x4000;
	q->payload_len = 1400;
	if (!strcmp(proto, "tcp"))
		q->proto = IPPROTO_TCP;
	else if (strcmp(proto, "udp"))
		return -1;
	return 0;
}

static int do_error(uint32_t addr, const char *quote_text, int type, int code, int mtu)
{
	uint8_t msg[8 + 68];
	struct pkt_spec q;
	size_t quote_len;
	uint16_t csum;
	int fd;

	if (!quote_text || quote_parse(quote_text, &q)) {
		fprintf(stderr, "icmp_tool: -q SRC:SPORT>DST:DPORT/udp|tcp, got '%s'\n",
			quote_text ? quote_text : "");
		return 2;
	}
	/* RFC 792: the header and the first 8 bytes of the packet. */
	quote_len = pkt_quote(&q, 28, msg + 8, sizeof(msg) - 8);
	memset(msg, 0, 8);
	msg[0] = (uint8_t)type;
	msg[1] = (uint8_t)code;
	if (type == 3 && code == 4)
		pkt_put16(msg + 6, (uint16_t)mtu);
	csum = pkt_csum(msg, 8 + quote_len);
	memcpy(msg + 2, &csum, 2);
	fd = raw_socket();
	if (fd < 0 || !quote_len || send_to(fd, addr, msg, 8 + quote_len))
		return 1;
	printf("error sent type=%d code=%d mtu=%d quote=%s\n", type, code, mtu, quote_text);
	return 0;
}

static int do_udp(uint32_t addr, int port, size_t size, int df)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = addr,
				  .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int pmtu = df ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT;
	static uint8_t payload[65507];
	ssize_t n;

	if (fd < 0 || size > sizeof(payload) ||
	    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu))) {
		perror("icmp_tool: UDP socket");
		return 1;
	}
	memset(payload, 0x5a, size);
	n = sendto(fd, payload, size, 0, (struct sockaddr *)&to, sizeof(to));
	if (n != (ssize_t)size) {
		perror("icmp_tool: sendto");
		return 1;
	}
	printf("udp sent=%zu df=%d\n", size, df);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "", *quote = NULL, *ready = NULL;
	int opt, count = 3, type = 3, code = 4, mtu = 1200, port = 0, seconds = 0, df = 1;
	size_t size = 56;
	uint32_t addr = 0;

	if (argc < 2)
		return usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "d:c:C:s:w:R:q:t:m:p:DN")) != -1) {
		switch (opt) {
		case 'd': addr = pkt_ip(optarg); break;
		case 'c': count = atoi(optarg); break;
		case 'C': code = atoi(optarg); break;
		case 's': size = (size_t)atol(optarg); break;
		case 'w': seconds = atoi(optarg); break;
		case 'R': ready = optarg; break;
		case 'q': quote = optarg; break;
		case 't': type = atoi(optarg); break;
		case 'm': mtu = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'D': df = 1; break;
		case 'N': df = 0; break;
		default: return usage();
		}
	}
	if (!strcmp(mode, "listen"))
		return do_listen(seconds, ready);
	if (!addr)
		return usage();
	if (!strcmp(mode, "echo"))
		return do_echo(addr, count, size);
	if (!strcmp(mode, "error"))
		return do_error(addr, quote, type, code, mtu);
	if (!strcmp(mode, "udp"))
		return port ? do_udp(addr, port, size, df) : usage();
	return usage();
}
