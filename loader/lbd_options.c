// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's command line; see lbd_options.h. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "input.h"
#include "lbd_options.h"
#include "lbd_routes.h"

const char lbd_usage[] =
	"Usage: xdp-lbd [--config FILE] [--listen ADDR:PORT] [--textfile PATH]\n"
	"               [--interval SECONDS] [--announce-table TABLE] IFNAME\n"
	"       xdp-lbd --withdraw [--announce-table TABLE] [options] IFNAME\n"
	"       xdp-lbd --version | --help\n"
	"Serves the metrics of the xdp-lb loaded on IFNAME (lb-load loads it; this daemon\n"
	"reads its pinned maps) and runs the health checks of --config: a backend that\n"
	"fails them is set down until it passes them again.\n"
	"  --listen ADDR:PORT  serve Prometheus text at http://ADDR:PORT/metrics\n"
	"                      (an IPv4 address, or [IPv6]; the documented port is 9671)\n"
	"  --textfile PATH     write the same metrics to PATH every interval (PATH.tmp, then\n"
	"                      renamed), for node_exporter's textfile collector (*.prom)\n"
	"  --interval SECONDS  textfile period and retry period while nothing is loaded\n"
	"                      on IFNAME (default 5, 0.1 to 3600)\n"
	"  --config FILE       the config lb-load loaded: its VIPs' health_check blocks say\n"
	"                      what to probe; SIGHUP reads it again\n"
	"  --announce-table TABLE  keep a route (/32, protocol 250) per VIP address in\n"
	"                      routing table TABLE (1 to 4294967294, not 253-255) while\n"
	"                      IFNAME is loaded and the VIP has a backend up, for BIRD to\n"
	"                      announce; withdrawn at unload and when xdp-lbd stops\n"
	"  --withdraw          remove those routes of TABLE and exit, serving nothing (the\n"
	"                      unit's ExecStopPost: a daemon that crashed left them); the\n"
	"                      other options are checked and ignored, no TABLE: nothing to do\n"
	"Exit status: 0 stopped by SIGTERM or SIGINT, 1 runtime failure, 2 usage error.\n";

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* "ADDR:PORT" with an IPv4 address, or "[ADDR]:PORT" with an IPv6 one. Names
 * are not resolved: a daemon should not wait on DNS to start, and an address
 * says exactly which interface the port is open on.
 */
static int parse_listen(const char *s, struct lbd_options *out, char *err, size_t len)
{
	char host[INET6_ADDRSTRLEN + 2], quoted[LB_QUOTED_LEN], why[LB_INPUT_ERR_LEN];
	const char *colon, *port_text;
	unsigned long port;
	size_t host_len;

	lb_quote(quoted, sizeof(quoted), s);
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return fail(err, len, "--listen: %s: expected [IPv6 address]:PORT", quoted);
		host_len = (size_t)(close - s - 1);
		colon = close + 1;
		if (host_len >= sizeof(host))
			return fail(err, len, "--listen: %s is not an IPv6 address", quoted);
		memcpy(host, s + 1, host_len);
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return fail(err, len,
				    "--listen: %s has no port: expected ADDR:PORT, e.g. "
				    "127.0.0.1:%d", quoted, LBD_DEFAULT_PORT);
		host_len = (size_t)(colon - s);
		if (host_len >= sizeof(host))
			return fail(err, len, "--listen: %s is not an IPv4 address", quoted);
		memcpy(host, s, host_len);
	}
	host[host_len] = '\0';
	port_text = colon + 1;
	if (lb_parse_uint(port_text, 1, 65535, &port, why, sizeof(why)))
		return fail(err, len, "--listen: port %s", why);

	memset(&out->listen_addr, 0, sizeof(out->listen_addr));
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->listen_addr;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return fail(err, len, "--listen: %s is not an IPv6 address",
				    lb_quote(quoted, sizeof(quoted), host));
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		out->listen_addr_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&out->listen_addr;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return fail(err, len,
				    "--listen: %s is not an IPv4 address (names are not "
				    "resolved; IPv6 is written [ADDR]:PORT)",
				    lb_quote(quoted, sizeof(quoted), host));
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		out->listen_addr_len = sizeof(*a);
	}
	snprintf(out->listen_text, sizeof(out->listen_text), "%s", s);
	out->listen = true;
	return 0;
}

/* A routing table number. The kernel's own tables are refused: routes in
 * main would take part in forwarding, local and default belong to the kernel.
 */
static int parse_table(const char *s, struct lbd_options *out, char *err, size_t len)
{
	char why[LB_INPUT_ERR_LEN];
	unsigned long table;

	if (lb_parse_uint(s, LBD_TABLE_MIN, LBD_TABLE_MAX, &table, why, sizeof(why)))
		return fail(err, len, "--announce-table: %s", why);
	if (table >= 253 && table <= 255)
		return fail(err, len, "--announce-table: %lu is the kernel's %s table; give a "
			    "table of its own, e.g. 100", table,
			    table == 253 ? "default" : table == 254 ? "main" : "local");
	out->announce_table = (uint32_t)table;
	return 0;
}

enum option_id {
	OPT_CONFIG, OPT_LISTEN, OPT_TEXTFILE, OPT_INTERVAL, OPT_ANNOUNCE_TABLE, OPT_WITHDRAW,
	OPT_HELP, OPT_VERSION
};

static const struct {
	const char *name;
	bool has_value;
} options[] = {
	[OPT_CONFIG] = { "--config", true },     [OPT_LISTEN] = { "--listen", true },
	[OPT_TEXTFILE] = { "--textfile", true }, [OPT_INTERVAL] = { "--interval", true },
	[OPT_ANNOUNCE_TABLE] = { "--announce-table", true },
	[OPT_WITHDRAW] = { "--withdraw", false },
	[OPT_HELP] = { "--help", false },        [OPT_VERSION] = { "--version", false },
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

/* The option @arg names ("--listen" or "--listen=..."), or -1. *value gets
 * what follows '='.
 */
static int find_option(const char *arg, const char **value)
{
	size_t i, n;

	*value = NULL;
	for (i = 0; i < OPTION_COUNT; i++) {
		n = strlen(options[i].name);
		if (strncmp(arg, options[i].name, n))
			continue;
		if (arg[n] == '\0')
			return (int)i;
		if (arg[n] == '=' && options[i].has_value) {
			*value = arg + n + 1;
			return (int)i;
		}
	}
	return -1;
}

int lbd_parse_args(int argc, char *const *argv, struct lbd_options *out, char *err, size_t len)
{
	char quoted[LB_QUOTED_LEN], quoted2[LB_QUOTED_LEN], why[LB_INPUT_ERR_LEN];
	bool given[OPTION_COUNT] = { false };
	int i, id;

	memset(out, 0, sizeof(*out));
	out->interval_ns = LBD_INTERVAL_DEFAULT_NS;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *value;

		if (arg[0] != '-' || arg[1] == '\0') {
			if (out->ifname)
				return fail(err, len, "one interface only: %s and %s",
					    lb_quote(quoted2, sizeof(quoted2), out->ifname),
					    lb_quote(quoted, sizeof(quoted), arg));
			if (lb_ifname_check(arg, why, sizeof(why)))
				return fail(err, len, "%s", why);
			out->ifname = arg;
			continue;
		}
		if (!strcmp(arg, "-h"))
			arg = "--help";
		id = find_option(arg, &value);
		if (id < 0)
			return fail(err, len, "unknown option %s",
				    lb_quote(quoted, sizeof(quoted), arg));
		if (given[id])
			return fail(err, len, "%s given twice", options[id].name);
		given[id] = true;
		if (options[id].has_value && !value) {
			if (i + 1 >= argc)
				return fail(err, len, "%s needs a value", options[id].name);
			value = argv[++i];
		}
		switch ((enum option_id)id) {
		case OPT_CONFIG:
			if (!*value)
				return fail(err, len, "--config: the file name is empty");
			out->config_path = value;
			break;
		case OPT_LISTEN:
			if (parse_listen(value, out, err, len))
				return -1;
			break;
		case OPT_TEXTFILE:
			if (!*value)
				return fail(err, len, "--textfile: the file name is empty");
			out->textfile_path = value;
			break;
		case OPT_INTERVAL:
			if (lb_parse_seconds(value, LBD_INTERVAL_MIN_NS, LBD_INTERVAL_MAX_NS,
					     &out->interval_ns, why, sizeof(why)))
				return fail(err, len, "--interval: %s", why);
			break;
		case OPT_ANNOUNCE_TABLE:
			if (parse_table(value, out, err, len))
				return -1;
			break;
		case OPT_WITHDRAW:
			out->withdraw = true;
			break;
		case OPT_HELP:
			out->help = true;
			break;
		case OPT_VERSION:
			out->version = true;
			break;
		}
	}
	if (out->help || out->version)
		return 0;
	if (!out->ifname)
		return fail(err, len, "no interface given: xdp-lbd [options] IFNAME");
	return 0;
}
