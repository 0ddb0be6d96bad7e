/* SPDX-License-Identifier: GPL-2.0 */
/* The command lines of lb-load and lbctl, parsed without side effects: a parser
 * fills a struct, or returns -1 with one line saying what is wrong; it prints
 * nothing, exits nowhere and touches no file, so that main() acts on the result
 * and the CLI fuzzer (tests/fuzz/fuzz_cli.c) can call it on any argv. Every
 * interface name, number and VIP is checked here, before any path is built.
 */
#ifndef LB_CLI_H
#define LB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_CLI_ERR_LEN 512

/* --- lb-load ------------------------------------------------------------------------ */

struct lb_load_args {
	const char *config_path; /* NULL with --unload */
	const char *ifname;      /* NULL with --check */
	bool skb_mode;           /* --mode skb; native otherwise */
	bool unload;
	bool check;              /* --check CONFIG: validate only, no interface */
	bool verbose;
	bool help;               /* -h: show the usage, nothing else is set */
	bool version;            /* --version: show it, nothing else is set */
};

/* argv[0] is the program. argv is not changed. 0 or -1 with @err. */
int lb_load_parse_args(int argc, char *const *argv, struct lb_load_args *out, char *err,
		       size_t err_len);

/* --- lbctl -------------------------------------------------------------------------- */

enum lbctl_cmd {
	LBCTL_STATUS,
	LBCTL_STATS,
	LBCTL_FLOWS,
	LBCTL_SWAP,
	LBCTL_ENCAP,
	LBCTL_POLICY,
	LBCTL_CMD_COUNT,
};

struct lbctl_command_def {
	const char *name;
	int args;             /* positional arguments after IFNAME */
	const char *synopsis; /* "swap IFNAME SLOT STAGE" */
	const char *summary;
};

extern const struct lbctl_command_def lbctl_commands[LBCTL_CMD_COUNT];

/* --watch: 0.05 s to an hour; --count: a million refreshes (14 hours at the
 * shortest period; without --count it runs until stopped).
 */
#define LBCTL_WATCH_MIN_NS 50000000ULL
#define LBCTL_WATCH_MAX_NS 3600000000000ULL
#define LBCTL_WATCH_DEFAULT_NS 1000000000ULL
#define LBCTL_COUNT_MAX 1000000UL

/* A VIP as `lbctl policy` takes it: ADDR[:PORT|:*][/udp|/tcp]. */
struct lb_vip_spec {
	uint32_t addr; /* network byte order */
	int port;      /* -1: any port; 0 (written "*"): the every-port entry */
	int proto;     /* -1: either; else IPPROTO_UDP or IPPROTO_TCP */
};

struct lbctl_args {
	enum lbctl_cmd cmd;
	bool help;           /* -h: help of cmd, or (no command) the usage */
	bool version;        /* --version (alone): nothing else is set */
	bool has_cmd;        /* cmd is set (false only with help) */
	bool verbose;
	bool json;           /* stats only */
	uint64_t watch_ns;   /* stats: refresh period, 0 = print once */
	unsigned long count; /* stats: refreshes before exiting, 0 = until killed */
	const char *ifname;
	const char *args[2]; /* positional arguments after IFNAME */
	int arg_count;
	struct lb_vip_spec vip; /* policy: args[0], parsed */
};

/* argv[0] is the program, argv[1] the command (or -h). 0 or -1 with @err. */
int lbctl_parse_args(int argc, char *const *argv, struct lbctl_args *out, char *err,
		     size_t err_len);

/* 0 with *out, or -1 with @why saying what is wrong with @spec. */
int lb_parse_vip_spec(const char *spec, struct lb_vip_spec *out, char *why, size_t len);

#endif /* LB_CLI_H */
