/* SPDX-License-Identifier: GPL-2.0 */
/* xdp-lbd's command line, parsed without side effects (like cli.h): the parser
 * fills a struct or returns -1 with one line saying what is wrong; it prints
 * nothing and touches no file. Every value is checked here, where it enters.
 *
 *   xdp-lbd [--config FILE] [--listen ADDR:PORT] [--textfile PATH]
 *           [--interval SECONDS] [--announce-table TABLE] [--probe-table TABLE]
 *           [--probe-priority PRIORITY] [--probe-mark MARK] IFNAME
 *   xdp-lbd --withdraw [--announce-table TABLE] [...] IFNAME
 *   xdp-lbd --version | --help
 */
#ifndef LBD_OPTIONS_H
#define LBD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define LBD_ERR_LEN 512
/* --interval: how often the textfile is written and a missing load is looked
 * for again. Bounds keep it meaningful: below 0.1 s the daemon would mostly
 * sample, above an hour a restarted balancer would go unseen for too long.
 */
#define LBD_INTERVAL_DEFAULT_NS 5000000000ULL
#define LBD_INTERVAL_MIN_NS 100000000ULL
#define LBD_INTERVAL_MAX_NS 3600000000000ULL
/* --announce-table: none given. */
#define LBD_NO_ANNOUNCE 0
/* The metrics port operators are told to use (docs/operations.md). */
#define LBD_DEFAULT_PORT 9671

struct lbd_options {
	const char *ifname;
	const char *config_path;   /* NULL: none */
	const char *textfile_path; /* NULL: no textfile */
	bool listen;               /* --listen given */
	struct sockaddr_storage listen_addr;
	socklen_t listen_addr_len;
	char listen_text[64];      /* "127.0.0.1:9671", "[::1]:9671" for messages */
	uint64_t interval_ns;
	uint32_t announce_table;   /* LBD_NO_ANNOUNCE: VIPs are not announced */
	uint32_t probe_table;      /* the probes through the tunnel (lbd_tunnel.h) */
	uint32_t probe_priority;
	uint32_t probe_mark;
	bool withdraw;             /* --withdraw: remove the routes, then exit */
	bool help;
	bool version;
};

/* argv[0] is the program; argv is not changed. 0, or -1 with @err. */
int lbd_parse_args(int argc, char *const *argv, struct lbd_options *out, char *err, size_t len);

/* The usage text (--help). */
extern const char lbd_usage[];

#endif /* LBD_OPTIONS_H */
