// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's command line; see lbd_options.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "input.h"
#include "lbd_options.h"
#include "lb_consts_common.h"
#include "lbd_routes.h"
#include "lbd_tunnel.h"

const char lbd_usage[] =
	"Usage: xdp-lbd [--config FILE] [--listen ADDR:PORT] [--textfile PATH]\n"
	"               [--interval SECONDS] [--announce-table TABLE] [--probe-table TABLE]\n"
	"               [--probe-priority PRIORITY] [--probe-mark MARK] IFNAME\n"
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
	"  --announce-table TABLE  keep a route (/32 or /128, protocol 250) per VIP\n"
	"                      address in routing table TABLE (1 to 4294967294, not\n"
	"                      253-255) while IFNAME is loaded and the VIP has a\n"
	"                      backend up, for BIRD to announce; withdrawn at unload\n"
	"                      and when xdp-lbd stops\n"
	"  --probe-table TABLE routing table of the health probes through the tunnel\n"
	"                      (one route per VIP, protocol 250; default 9671)\n"
	"  --probe-priority PRIORITY  priority of their fwmark rule (1 to 32765,\n"
	"                      default 9671)\n"
	"  --probe-mark MARK   their socket mark base (low 13 bits 0; default 0x96710000):\n"
	"                      MARK/0xffffe000 is xdp-lb's to use\n"
	"  --withdraw          remove those routes of TABLE, and the probe table's routes\n"
	"                      and rule of IFNAME, and exit, serving nothing (the unit's\n"
	"                      ExecStopPost: a daemon that crashed left them); the other\n"
	"                      options are checked and ignored\n"
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
static int parse_table(const char *option, const char *s, uint32_t *out, char *err,
		       size_t len)
{
	char why[LB_INPUT_ERR_LEN];
	unsigned long table;

	if (lb_parse_uint(s, LBD_TABLE_MIN, LBD_TABLE_MAX, &table, why, sizeof(why)))
		return fail(err, len, "%s: %s", option, why);
	if (table >= 253 && table <= 255)
		return fail(err, len, "%s: %lu is the kernel's %s table; give a "
			    "table of its own, e.g. 100", option, table,
			    table == 253 ? "default" : table == 254 ? "main" : "local");
	*out = (uint32_t)table;
	return 0;
}

/* The probes' mark base: decimal or 0x hex, the backend id and format bits
 * (LB_PROBE_MARK_MASK's complement) clear, not 0 (every unmarked packet).
 */
static int parse_mark(const char *s, uint32_t *out, char *err, size_t len)
{
	char quoted[LB_QUOTED_LEN], *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (!*s || *end || errno || v > UINT32_MAX || *s == '-')
		return fail(err, len, "--probe-mark: %s is not a 32-bit number (decimal or 0x hex)",
			    lb_quote(quoted, sizeof(quoted), s));
	if (!v || (v & ~(unsigned long long)LB_PROBE_MARK_MASK))
		return fail(err, len, "--probe-mark: 0x%llx must be non-zero with its low 13 bits "
			    "clear (mask 0x%x), e.g. 0x%x", v, LB_PROBE_MARK_MASK,
			    LB_PROBE_MARK_DEFAULT);
	*out = (uint32_t)v;
	return 0;
}

enum option_id {
	OPT_CONFIG, OPT_LISTEN, OPT_TEXTFILE, OPT_INTERVAL, OPT_ANNOUNCE_TABLE, OPT_PROBE_TABLE,
	OPT_PROBE_PRIORITY, OPT_PROBE_MARK, OPT_WITHDRAW, OPT_HELP, OPT_VERSION
};

static const struct {
	const char *name;
	bool has_value;
} options[] = {
	[OPT_CONFIG] = { "--config", true },     [OPT_LISTEN] = { "--listen", true },
	[OPT_TEXTFILE] = { "--textfile", true }, [OPT_INTERVAL] = { "--interval", true },
	[OPT_ANNOUNCE_TABLE] = { "--announce-table", true },
	[OPT_PROBE_TABLE] = { "--probe-table", true },
	[OPT_PROBE_PRIORITY] = { "--probe-priority", true },
	[OPT_PROBE_MARK] = { "--probe-mark", true },
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
	unsigned long number;
	int i, id;

	memset(out, 0, sizeof(*out));
	out->interval_ns = LBD_INTERVAL_DEFAULT_NS;
	out->probe_table = LBD_PROBE_TABLE_DEFAULT;
	out->probe_priority = LBD_PROBE_PRIORITY_DEFAULT;
	out->probe_mark = LB_PROBE_MARK_DEFAULT;
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
			if (parse_table("--announce-table", value, &out->announce_table, err, len))
				return -1;
			break;
		case OPT_PROBE_TABLE:
			if (parse_table("--probe-table", value, &out->probe_table, err, len))
				return -1;
			break;
		case OPT_PROBE_PRIORITY:
			/* Before the main table's rule (32766), or probes never see ours. */
			if (lb_parse_uint(value, 1, 32765, &number, why, sizeof(why)))
				return fail(err, len, "--probe-priority: %s", why);
			out->probe_priority = (uint32_t)number;
			break;
		case OPT_PROBE_MARK:
			if (parse_mark(value, &out->probe_mark, err, len))
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
	/* Both tables hold routes of protocol 250: each must be the only one. */
	if (out->announce_table == out->probe_table)
		return fail(err, len, "--announce-table and --probe-table are both %u: give each a "
			    "table of its own", out->probe_table);
	return 0;
}
