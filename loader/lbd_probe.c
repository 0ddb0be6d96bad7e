// SPDX-License-Identifier: GPL-2.0
/* Non-blocking tcp, udp and http probes; see lbd_probe.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "lbd_probe.h"

static void result(struct lbd_probe_result *res, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(struct lbd_probe_result *res, bool ok, const char *fmt, ...)
{
	va_list ap;

	res->ok = ok;
	va_start(ap, fmt);
	vsnprintf(res->text, sizeof(res->text), fmt, ap);
	va_end(ap);
}

void lbd_probe_init(struct lbd_probe *p)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

void lbd_probe_cancel(struct lbd_probe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* Ends the probe with @res already filled: 1 for the callers. */
static int finish(struct lbd_probe *p)
{
	lbd_probe_cancel(p);
	return 1;
}

/* @addr and the check's port as a socket address, its length returned. */
static socklen_t peer_of(const struct lbd_addr *addr, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (addr->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr->v6, sizeof(sin6->sin6_addr));
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = addr->v4;
	return sizeof(*sin);
}

int lbd_probe_start(struct lbd_probe *p, const struct lb_health_config *hc,
		    const struct lbd_addr *addr, uint32_t mark, uint64_t now_ns,
		    struct lbd_probe_result *res)
{
	struct sockaddr_storage peer;
	socklen_t peer_len = peer_of(addr, hc->port, &peer);
	bool udp = hc->type == LB_HEALTH_UDP;
	int err;

	lbd_probe_init(p);
	p->type = hc->type;
	p->deadline_ns = now_ns + (uint64_t)hc->timeout_ms * 1000000ULL;
	p->fd = socket(addr->family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (p->fd < 0)
		return -errno;
	/* Before connect: the route (and so the tunnel) is chosen by the mark. */
	if (mark && setsockopt(p->fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) {
		err = -errno;
		lbd_probe_cancel(p);
		return err;
	}
	/* UDP: a connected socket is told of an ICMP port unreachable. */
	if (connect(p->fd, (struct sockaddr *)&peer, peer_len) && errno != EINPROGRESS) {
		result(res, false, "connect: %s", strerror(errno));
		return finish(p);
	}
	if (!udp)
		return 0;
	p->connected = true;
	if (send(p->fd, hc->send, hc->send_len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		err = errno;
		result(res, false, "send: %s", strerror(err));
		return finish(p);
	}
	return 0;
}

uint32_t lbd_probe_events(const struct lbd_probe *p)
{
	/* Connecting: writable once the handshake is done (or failed). */
	if (p->type != LB_HEALTH_UDP && !p->connected)
		return EPOLLOUT;
	return EPOLLIN;
}

static int socket_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

static int udp_ready(struct lbd_probe *p, const struct lb_health_config *hc,
		     struct lbd_probe_result *res)
{
	ssize_t n = recv(p->fd, p->buf, sizeof(p->buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		/* ECONNREFUSED: the ICMP port unreachable of a closed port. */
		result(res, false, "recv: %s", strerror(errno));
		return finish(p);
	}
	if ((size_t)n < hc->expect_len || memcmp(p->buf, hc->expect, hc->expect_len))
		result(res, false, "reply of %zd bytes does not begin with the expected %zu",
		       n, hc->expect_len);
	else
		result(res, true, "reply as expected");
	return finish(p);
}

/* The Host header's value: the address connected to, an IPv6 one in
 * brackets (RFC 9110: an IP-literal), and the port.
 */
static void http_host(int fd, uint16_t port, char *buf, size_t len)
{
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof(peer);
	char text[LBD_ADDR_STRLEN];
	struct lbd_addr a;

	if (getpeername(fd, (struct sockaddr *)&peer, &peer_len)) {
		snprintf(buf, len, "backend:%u", port);
		return;
	}
	if (peer.ss_family == AF_INET6)
		a = lbd_addr_v6(((struct sockaddr_in6 *)&peer)->sin6_addr.s6_addr);
	else
		a = lbd_addr_v4(((struct sockaddr_in *)&peer)->sin_addr.s_addr);
	lbd_addr_text(&a, text, sizeof(text));
	snprintf(buf, len, a.family == AF_INET6 ? "[%s]:%u" : "%s:%u", text, port);
}

static int http_send(struct lbd_probe *p, const struct lb_health_config *hc,
		     struct lbd_probe_result *res)
{
	char request[LB_HEALTH_PATH_MAX + 160 + LBD_ADDR_STRLEN], host[LBD_ADDR_STRLEN + 8];
	int n;

	http_host(p->fd, hc->port, host, sizeof(host));
	n = snprintf(request, sizeof(request),
		     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: xdp-lbd\r\n"
		     "Connection: close\r\n\r\n", hc->path, host);
	/* A few hundred bytes into an empty socket buffer: sent whole or not at all. */
	if (send(p->fd, request, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
		result(res, false, "send: %s", errno ? strerror(errno) : "short write");
		return finish(p);
	}
	return 0;
}

/* "HTTP/1.1 200 OK": the status as a number, or -1. */
static int status_of(const char *line)
{
	const char *space;

	if (strncmp(line, "HTTP/", 5))
		return -1;
	space = strchr(line, ' ');
	if (!space || space[1] < '1' || space[1] > '5' || space[2] < '0' || space[2] > '9' ||
	    space[3] < '0' || space[3] > '9' || (space[4] != ' ' && space[4] != '\r' &&
						 space[4] != '\n' && space[4] != '\0'))
		return -1;
	return (space[1] - '0') * 100 + (space[2] - '0') * 10 + (space[3] - '0');
}

static int http_read(struct lbd_probe *p, const struct lb_health_config *hc,
		     struct lbd_probe_result *res)
{
	ssize_t n = recv(p->fd, p->buf + p->got, sizeof(p->buf) - 1 - p->got, MSG_DONTWAIT);
	int status;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		result(res, false, "recv: %s", strerror(errno));
		return finish(p);
	}
	p->got += (size_t)n;
	p->buf[p->got] = '\0';
	/* Judge on the first line; more bytes are not needed. */
	if (!strchr(p->buf, '\n') && n && p->got < sizeof(p->buf) - 1)
		return 0;
	status = status_of(p->buf);
	if (status < 0)
		result(res, false, "%s", p->got ? "no HTTP status line in the answer"
						: "closed without an answer");
	else if (status != hc->status)
		result(res, false, "HTTP status %d, expected %u", status, hc->status);
	else
		result(res, true, "HTTP status %d", status);
	return finish(p);
}

int lbd_probe_ready(struct lbd_probe *p, const struct lb_health_config *hc, uint32_t events,
		    struct lbd_probe_result *res)
{
	int err;

	if (p->fd < 0)
		return 0;
	if (p->type == LB_HEALTH_UDP)
		return udp_ready(p, hc, res);
	if (!p->connected) {
		err = socket_error(p->fd);
		if (err) {
			result(res, false, "connect: %s", strerror(err));
			return finish(p);
		}
		if (!(events & EPOLLOUT))
			return 0;
		p->connected = true;
		if (p->type == LB_HEALTH_TCP) {
			result(res, true, "connected");
			return finish(p);
		}
		return http_send(p, hc, res);
	}
	return http_read(p, hc, res);
}

void lbd_probe_expire(struct lbd_probe *p, const struct lb_health_config *hc,
		      struct lbd_probe_result *res)
{
	const char *what = p->type == LB_HEALTH_UDP ? "no reply" :
			   !p->connected ? "no connection" : "no HTTP status";

	result(res, false, "%s within %u ms", what, hc->timeout_ms);
	lbd_probe_cancel(p);
}
