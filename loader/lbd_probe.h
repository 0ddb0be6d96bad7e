/* SPDX-License-Identifier: GPL-2.0 */
/* One health probe of one backend, non-blocking: a socket, the steps of its
 * check (connect; send; read the answer) driven by readiness events, and a
 * deadline. The caller (lbd_health.c) waits on the socket in its epoll set
 * and calls lbd_probe_ready() on each event, lbd_probe_expire() at the
 * deadline. Nothing here blocks or sleeps.
 *
 * What each type proves (docs/operations.md, "Health checks"):
 *   tcp   the backend accepts a TCP connection on the port (SYN, SYN-ACK);
 *   udp   a datagram to the port gets a reply whose first bytes are `expect`
 *         (an ICMP port unreachable fails at once; silence fails at the timeout);
 *   http  GET <path> HTTP/1.0 gets a status line with the status expected.
 */
#ifndef LBD_PROBE_H
#define LBD_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "config.h"
#include "health.h"
#include "lbd_addr.h"

/* Bytes of an HTTP answer read to find its status line. */
#define LBD_PROBE_BUF 512

struct lbd_probe_result {
	bool ok;
	char text[LB_HEALTH_RESULT_LEN]; /* "connected", "connect: Connection refused", ... */
};

struct lbd_probe {
	int fd;                /* -1: no probe in flight */
	uint8_t type;          /* enum lb_health_type */
	bool connected;        /* tcp/http: the connection is up (http: request sent) */
	uint64_t deadline_ns;  /* CLOCK_MONOTONIC */
	size_t got;            /* bytes of buf read so far */
	char buf[LBD_PROBE_BUF];
};

void lbd_probe_init(struct lbd_probe *p);

/* Starts a probe of @addr (IPv4 or IPv6) as @hc says, to end by @now_ns +
 * timeout, from a socket marked @mark (SO_MARK; 0 none: a probe through the
 * tunnel is addressed to the VIP and marked for its backend, lbd_tunnel.h).
 * 0: in flight, wait for lbd_probe_events(); 1: finished already (@res says
 * how, e.g. no route); -errno: could not start (no socket: not the backend's
 * fault, nothing to count).
 */
int lbd_probe_start(struct lbd_probe *p, const struct lb_health_config *hc,
		    const struct lbd_addr *addr, uint32_t mark, uint64_t now_ns,
		    struct lbd_probe_result *res);

/* The epoll events the probe waits for now. */
uint32_t lbd_probe_events(const struct lbd_probe *p);

/* @events happened on the probe's socket. 1: finished (@res), the socket is
 * closed; 0: still in flight (its events may have changed).
 */
int lbd_probe_ready(struct lbd_probe *p, const struct lb_health_config *hc, uint32_t events,
		    struct lbd_probe_result *res);

/* The deadline passed: the probe failed; the socket is closed. */
void lbd_probe_expire(struct lbd_probe *p, const struct lb_health_config *hc,
		      struct lbd_probe_result *res);

/* Closes a probe in flight without a result. */
void lbd_probe_cancel(struct lbd_probe *p);

#endif /* LBD_PROBE_H */
