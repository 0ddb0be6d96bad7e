/* SPDX-License-Identifier: GPL-2.0 */
/* xdp-lbd's HTTP endpoint (libmicrohttpd, driven by the daemon's own loop, no
 * thread): GET /metrics answers with the metrics of a fresh sample; / points
 * there; anything else is 404, a method other than GET or HEAD 405.
 */
#ifndef LBD_HTTP_H
#define LBD_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "lbd_loop.h"

/* Produces the body of /metrics into a malloc'ed buffer. 0 or -errno. */
typedef int (*lbd_metrics_fn)(void *arg, char **text, size_t *len);

struct lbd_http;

/* Binds @addr, listens, and serves through @loop: *out is the server. 0, or
 * -errno with one line in @err ("Failed to listen on ADDR: why").
 */
int lbd_http_start(struct lbd_http **out, struct lbd_loop *loop, const struct sockaddr *addr,
		   socklen_t addr_len, const char *addr_text, lbd_metrics_fn metrics, void *arg,
		   char *err, size_t err_len);

void lbd_http_stop(struct lbd_http *http);

#endif /* LBD_HTTP_H */
