// SPDX-License-Identifier: GPL-2.0
/* /metrics over HTTP with libmicrohttpd in external-poll mode; see lbd_http.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <microhttpd.h>

#include "lbd_http.h"
#include "lbd_log.h"
#include "lbd_metrics.h"

/* Scrapers are few; a client that opens connections and sends nothing
 * must not hold them for long.
 */
#define HTTP_CONNECTION_LIMIT 32
#define HTTP_CONNECTION_TIMEOUT_S 10

struct lbd_http {
	struct MHD_Daemon *mhd;
	int listen_fd;
	lbd_metrics_fn metrics;
	void *arg;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, void *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result text_reply(struct MHD_Connection *conn, unsigned int status,
				  const char *text)
{
	return reply(conn, status, "text/plain; charset=utf-8", (void *)text, strlen(text),
		     MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	struct lbd_http *http = cls;
	char *text = NULL;
	size_t len = 0;
	int err;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	/* A body (a POST) is not read: the answer is 405 anyway. */
	*upload_size = 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return text_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, "/"))
		return text_reply(conn, MHD_HTTP_OK, "xdp-lbd: metrics at /metrics\n");
	if (strcmp(url, "/metrics"))
		return text_reply(conn, MHD_HTTP_NOT_FOUND, "not found: metrics at /metrics\n");
	err = http->metrics(http->arg, &text, &len);
	if (err) {
		lbd_log(LBD_ERR, "Failed to render the metrics: %s", strerror(-err));
		return text_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "failed to render the metrics\n");
	}
	return reply(conn, MHD_HTTP_OK, LBD_METRICS_CONTENT_TYPE, text, len,
		     MHD_RESPMEM_MUST_FREE);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	lbd_log(LBD_WARN, "HTTP: %s", line);
}

static void ready(void *arg, short revents)
{
	struct lbd_http *http = arg;

	(void)revents;
	MHD_run(http->mhd);
}

/* libmicrohttpd's own timeouts (idle connections) need a call when due. */
static int deadline(void *arg)
{
	struct lbd_http *http = arg;
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(http->mhd, &ms) != MHD_YES)
		return -1;
	return ms > 60000 ? 60000 : (int)ms;
}

/* The socket is ours, so a bind error is reported as the system gives it. */
static int listen_socket(const struct sockaddr *addr, socklen_t len)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, addr, len) || listen(fd, 64)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int lbd_http_start(struct lbd_http **out, struct lbd_loop *loop, const struct sockaddr *addr,
		   socklen_t addr_len, const char *addr_text, lbd_metrics_fn metrics, void *arg,
		   char *err, size_t err_len)
{
	struct lbd_http *http = calloc(1, sizeof(*http));
	const union MHD_DaemonInfo *info;
	int fd, ret;

	*out = NULL;
	if (!http) {
		snprintf(err, err_len, "Failed to listen on %s: %s", addr_text, strerror(ENOMEM));
		return -ENOMEM;
	}
	http->metrics = metrics;
	http->arg = arg;
	fd = listen_socket(addr, addr_len);
	if (fd < 0) {
		snprintf(err, err_len, "Failed to listen on %s: %s", addr_text, strerror(-fd));
		free(http);
		return fd;
	}
	http->listen_fd = fd;
	http->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
				     (addr->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				     0, NULL, NULL, handle, http,
				     /* First, so that every message comes through it. */
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)HTTP_CONNECTION_LIMIT,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned int)HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	info = http->mhd ? MHD_get_daemon_info(http->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		snprintf(err, err_len, "Failed to start the HTTP server on %s (libmicrohttpd)",
			 addr_text);
		lbd_http_stop(http);
		return -EIO;
	}
	ret = lbd_loop_add_fd(loop, info->epoll_fd, POLLIN, ready, deadline, http);
	if (ret) {
		snprintf(err, err_len, "Failed to serve %s: %s", addr_text, strerror(-ret));
		lbd_http_stop(http);
		return ret;
	}
	*out = http;
	return 0;
}

void lbd_http_stop(struct lbd_http *http)
{
	if (!http)
		return;
	/* libmicrohttpd closes the listen socket it was given when it stops;
	 * it is ours to close only when it never started.
	 */
	if (http->mhd)
		MHD_stop_daemon(http->mhd);
	else
		close(http->listen_fd);
	free(http);
}
