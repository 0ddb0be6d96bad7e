// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's probes (loader/lbd_probe.c) against servers this test plays
 * itself, step by step, on the loopback of a network namespace of its own
 * (unshare): what each answer makes of a tcp, udp and http probe, and the
 * reason text the log and lbctl status show.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "lbd_probe.h"
#include "test_harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The family every case runs in now: the probes and the servers use its
 * loopback address (127.0.0.1 or ::1).
 */
static int family = AF_INET;

static struct lbd_addr loopback(void)
{
	return family == AF_INET6 ? lbd_addr_v6(in6addr_loopback.s6_addr)
				  : lbd_addr_v4(htonl(INADDR_LOOPBACK));
}

/* A namespace of our own with its loopback up: no other process's ports. */
static bool private_net(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(CLONE_NEWNET))
		return false;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* A server socket on the loopback address of the family, its port in *port. */
static int server(int type, uint16_t *port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr *sa = family == AF_INET6 ? (struct sockaddr *)&sin6 : (struct sockaddr *)&sin;
	socklen_t len = family == AF_INET6 ? sizeof(sin6) : sizeof(sin);
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, sa, len) || (type == SOCK_STREAM && listen(fd, 8)) ||
	    getsockname(fd, sa, &len))
		return -1;
	*port = ntohs(family == AF_INET6 ? sin6.sin6_port : sin.sin_port);
	return fd;
}

static struct lb_health_config check(uint8_t type, uint16_t port)
{
	struct lb_health_config hc = {
		.type = type, .port = port, .interval_ms = 1000, .timeout_ms = 100, .status = 200,
	};

	snprintf(hc.path, sizeof(hc.path), "/healthz");
	memcpy(hc.send, "ping", 4);
	hc.send_len = 4;
	memcpy(hc.expect, "pong", 4);
	hc.expect_len = 4;
	return hc;
}

/* Feeds the probe its socket's events until it has a result (1) or waits
 * for something the test has not done yet (0, after 200 ms without one).
 */
static int drive(struct lbd_probe *p, const struct lb_health_config *hc,
		 struct lbd_probe_result *res)
{
	struct pollfd pfd;
	int i, n;

	for (i = 0; i < 20 && p->fd >= 0; i++) {
		pfd = (struct pollfd){ .fd = p->fd, .events = (short)lbd_probe_events(p) };
		n = poll(&pfd, 1, 10);
		if (n <= 0)
			continue;
		if (lbd_probe_ready(p, hc, (uint32_t)pfd.revents, res))
			return 1;
	}
	return 0;
}

static void test_tcp(void)
{
	struct lbd_probe_result res;
	struct lb_health_config hc;
	struct lbd_addr lo = loopback();
	struct lbd_probe p;
	uint16_t port;
	int srv = server(SOCK_STREAM, &port);

	if (!ASSERT_TRUE(srv >= 0, "tcp server"))
		return;
	hc = check(LB_HEALTH_TCP, port);
	ASSERT_EQ(lbd_probe_start(&p, &hc, &lo, 0, 0, &res), 0, "tcp probe in flight");
	ASSERT_EQ(drive(&p, &hc, &res), 1, "tcp probe done");
	ASSERT_TRUE(res.ok, "listening port: ok");
	ASSERT_STREQ(res.text, "connected", "tcp ok text");
	ASSERT_EQ(p.fd, -1, "socket closed");
	close(srv);

	/* The port closed now: the kernel answers the SYN with a reset. */
	ASSERT_EQ(lbd_probe_start(&p, &hc, &lo, 0, 0, &res) >= 0, 1, "tcp probe started");
	if (p.fd >= 0)
		ASSERT_EQ(drive(&p, &hc, &res), 1, "refused probe done");
	ASSERT_TRUE(!res.ok, "closed port: failed");
	ASSERT_STREQ(res.text, "connect: Connection refused", "refused text");
}

/* @reply: what the server answers (NULL: nothing). */
static void udp_case(const char *reply, bool ok, const char *text)
{
	struct lbd_probe_result res;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	struct lb_health_config hc;
	struct lbd_addr lo = loopback();
	struct lbd_probe p;
	char buf[64];
	uint16_t port;
	int srv = server(SOCK_DGRAM, &port);
	ssize_t n;

	if (!ASSERT_TRUE(srv >= 0, text))
		return;
	hc = check(LB_HEALTH_UDP, port);
	ASSERT_EQ(lbd_probe_start(&p, &hc, &lo, 0, 0, &res), 0, text);
	n = recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);
	ASSERT_BYTES(buf, n < 0 ? 0 : (size_t)n, "ping", 4, "the request as configured");
	if (reply)
		sendto(srv, reply, strlen(reply), 0, (struct sockaddr *)&peer, len);
	if (reply) {
		ASSERT_EQ(drive(&p, &hc, &res), 1, text);
	} else {
		ASSERT_EQ(drive(&p, &hc, &res), 0, "no reply: still waiting");
		lbd_probe_expire(&p, &hc, &res);
	}
	ASSERT_EQ(res.ok, ok, text);
	ASSERT_STREQ(res.text, text, text);
	ASSERT_EQ(p.fd, -1, "socket closed");
	close(srv);
}

static void test_udp(void)
{
	struct lbd_probe_result res;
	struct lb_health_config hc;
	struct lbd_addr lo = loopback();
	struct lbd_probe p;
	uint16_t port;
	int srv;

	udp_case("pong and more", true, "reply as expected");
	udp_case("pon", false, "reply of 3 bytes does not begin with the expected 4");
	udp_case("PONG", false, "reply of 4 bytes does not begin with the expected 4");
	udp_case(NULL, false, "no reply within 100 ms");

	/* A closed port: the ICMP port unreachable fails the probe at once. */
	srv = server(SOCK_DGRAM, &port);
	close(srv);
	hc = check(LB_HEALTH_UDP, port);
	ASSERT_EQ(lbd_probe_start(&p, &hc, &lo, 0, 0, &res), 0, "udp to a closed port");
	ASSERT_EQ(drive(&p, &hc, &res), 1, "port unreachable seen");
	ASSERT_TRUE(!res.ok, "closed udp port: failed");
	ASSERT_STREQ(res.text, "recv: Connection refused", "port unreachable text");
}

struct http_case {
	const char *answer[2]; /* written one after the other; NULL: none */
	bool ok;
	const char *text;
};

static const struct http_case http_cases[] = {
	{ { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" }, true, "HTTP status 200" },
	{ { "HTTP/1.0 503 Service Unavailable\r\n\r\n" }, false,
	  "HTTP status 503, expected 200" },
	{ { "HTT", "P/1.1 200 OK\r\n\r\n" }, true, "HTTP status 200" },
	{ { "HTTP/1.1 200\r\n\r\n" }, true, "HTTP status 200" },
	{ { "SSH-2.0-OpenSSH\r\n" }, false, "no HTTP status line in the answer" },
	{ { "HTTP/1.1 2000 OK\r\n" }, false, "no HTTP status line in the answer" },
	{ { NULL }, false, "closed without an answer" },
};

static void http_case(const struct http_case *c)
{
	char buf[512], expected[128];
	struct lbd_probe_result res;
	struct lb_health_config hc;
	struct lbd_addr lo = loopback();
	struct lbd_probe p;
	uint16_t port;
	int srv = server(SOCK_STREAM, &port), conn;
	ssize_t n;
	size_t i;

	if (!ASSERT_TRUE(srv >= 0, c->text))
		return;
	hc = check(LB_HEALTH_HTTP, port);
	ASSERT_EQ(lbd_probe_start(&p, &hc, &lo, 0, 0, &res), 0, c->text);
	conn = accept(srv, NULL, NULL);
	/* Connected, request sent, waiting for the answer. */
	ASSERT_EQ(drive(&p, &hc, &res), 0, c->text);
	n = recv(conn, buf, sizeof(buf) - 1, 0);
	buf[n < 0 ? 0 : n] = '\0';
	snprintf(expected, sizeof(expected),
		 "GET /healthz HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: xdp-lbd\r\n"
		 "Connection: close\r\n\r\n", family == AF_INET6 ? "[::1]" : "127.0.0.1", port);
	ASSERT_STREQ(buf, expected, "the request");
	for (i = 0; i < ARRAY_SIZE(c->answer) && c->answer[i]; i++) {
		send(conn, c->answer[i], strlen(c->answer[i]), 0);
		/* The first half of a split status line is not enough. */
		if (i + 1 < ARRAY_SIZE(c->answer) && c->answer[i + 1])
			ASSERT_EQ(drive(&p, &hc, &res), 0, "half a status line: waiting");
	}
	if (!c->answer[0])
		shutdown(conn, SHUT_WR);
	ASSERT_EQ(drive(&p, &hc, &res), 1, c->text);
	ASSERT_EQ(res.ok, c->ok, c->text);
	ASSERT_STREQ(res.text, c->text, c->text);
	close(conn);
	close(srv);
}

static void test_http(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(http_cases); i++)
		http_case(&http_cases[i]);
}

/* A server that accepts the connection and never answers: the timeout. */
static void test_http_timeout(void)
{
	struct lbd_probe_result res;
	struct lb_health_config hc;
	struct lbd_addr lo = loopback();
	struct lbd_probe p;
	uint16_t port;
	int srv = server(SOCK_STREAM, &port);

	if (!ASSERT_TRUE(srv >= 0, "http server"))
		return;
	hc = check(LB_HEALTH_HTTP, port);
	ASSERT_EQ(lbd_probe_start(&p, &hc, &lo, 0, 1000, &res), 0, "http probe in flight");
	ASSERT_EQ(p.deadline_ns, 1000 + 100 * 1000000ULL, "deadline: start + timeout_ms");
	ASSERT_EQ(drive(&p, &hc, &res), 0, "no answer: waiting");
	lbd_probe_expire(&p, &hc, &res);
	ASSERT_TRUE(!res.ok, "timed out: failed");
	ASSERT_STREQ(res.text, "no HTTP status within 100 ms", "timeout text");
	ASSERT_EQ(p.fd, -1, "socket closed");
	close(srv);
}

/* Every case runs in one namespace of the test's own, made by the first. */
static bool net_ready(void)
{
	static int state; /* 0: not tried, 1: ready, -1: failed */

	if (!state)
		state = private_net() ? 1 : -1;
	return state > 0;
}

/* Runs @body with the probes and servers on @f's loopback address. */
static void in_family(int f, void (*body)(void))
{
	if (!net_ready())
		TEST_SKIP("no network namespace of our own (needs root)");
	family = f;
	body();
}

static void test_tcp_probe(void)
{
	in_family(AF_INET, test_tcp);
}

static void test_udp_probe(void)
{
	in_family(AF_INET, test_udp);
}

static void test_http_probe(void)
{
	in_family(AF_INET, test_http);
}

static void test_http_probe_timeout(void)
{
	in_family(AF_INET, test_http_timeout);
}

/* The same against ::1: an IPv6 VIP's backends are probed at their IPv6
 * address, the HTTP Host in brackets.
 */
static void test_tcp_probe_ipv6(void)
{
	in_family(AF_INET6, test_tcp);
}

static void test_udp_probe_ipv6(void)
{
	in_family(AF_INET6, test_udp);
}

static void test_http_probe_ipv6(void)
{
	in_family(AF_INET6, test_http);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_CASE(test_tcp_probe),
		TEST_CASE(test_udp_probe),
		TEST_CASE(test_http_probe),
		TEST_CASE(test_http_probe_timeout),
		TEST_CASE(test_tcp_probe_ipv6),
		TEST_CASE(test_udp_probe_ipv6),
		TEST_CASE(test_http_probe_ipv6),
	};

	return test_main("probe", cases, ARRAY_SIZE(cases), argc, argv);
}
