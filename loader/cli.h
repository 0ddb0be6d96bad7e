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

/* lbctl's options, one list: the parser, each command's --help and synopsis,
 * and the "does not take" errors are expanded from it. Each command names the
 * options it takes in lbctl_commands[].options; -v and -h every command takes.
 * X(ID, long name, short letter or 0, ARGUMENT shown in the help or NULL, help)
 */
#define LBCTL_OPTIONS(X)                                                                       \
	X(VERBOSE, "--verbose", 'v', NULL, "libbpf and libxdp messages")                       \
	X(HELP, "--help", 'h', NULL, "this help")                                              \
	X(JSON, "--json", 0, NULL, "print JSON instead of text (docs/json.md)")                \
	X(WATCH, "--watch", 0, "[S]", "refresh every S seconds, 0.05 to 3600 (default 1)")    \
	X(COUNT, "--count", 0, "N", "stop after N refreshes, 1 to 1000000 (implies --watch)") \
	X(RESET, "--reset", 0, NULL, "zero the counters lbctl stats shows, print nothing else") \
	X(VIP, "--vip", 0, "ADDR[:PORT][/udp|/tcp]", "only flows to this VIP")                \
	X(BACKEND, "--backend", 0, "ADDR", "only flows on this backend")                      \
	X(SORT, "--sort", 0, "KEY", "order: vip (default), client, backend, age, idle")       \
	X(LIMIT, "--limit", 0, "N", "show at most N flows, 1 to 100000000")

#define LBCTL_OPTION_ENUM(id, name, letter, arg, help) LBCTL_OPT_##id,
enum lbctl_option { LBCTL_OPTIONS(LBCTL_OPTION_ENUM) LBCTL_OPT_MAX };
#undef LBCTL_OPTION_ENUM

#define LBCTL_OPT(id) (1u << LBCTL_OPT_##id)

struct lbctl_option_def {
	const char *name;  /* "--watch" */
	char letter;       /* 'v' for -v, 0: none */
	const char *arg;   /* "N", "[S]" (optional), NULL: a flag */
	const char *help;
};

extern const struct lbctl_option_def lbctl_options[LBCTL_OPT_MAX];

struct lbctl_command_def {
	const char *name;
	int args;             /* positional arguments after IFNAME */
	const char *synopsis; /* "swap IFNAME SLOT STAGE": the positional part */
	const char *summary;
	unsigned int options; /* LBCTL_OPT()s it takes besides -v and -h */
};

extern const struct lbctl_command_def lbctl_commands[LBCTL_CMD_COUNT];

/* "lbctl stats IFNAME [--json] [--watch [S]] ...": @cmd's whole synopsis. */
void lbctl_synopsis(enum lbctl_cmd cmd, char *buf, size_t len);

/* --watch: 0.05 s to an hour; --count: a million refreshes (14 hours at the
 * shortest period; without --count it runs until stopped).
 */
#define LBCTL_WATCH_MIN_NS 50000000ULL
#define LBCTL_WATCH_MAX_NS 3600000000000ULL
#define LBCTL_WATCH_DEFAULT_NS 1000000000ULL
#define LBCTL_COUNT_MAX 1000000UL
#define LBCTL_LIMIT_MAX 100000000UL

/* lbctl flows --sort: every key breaks ties by VIP, then client. */
#define LBCTL_FLOW_SORTS(X)                                                      \
	X(VIP, "vip")         /* VIP address, port, protocol, then client */     \
	X(CLIENT, "client")   /* client address and port */                      \
	X(BACKEND, "backend") /* backend id */                                   \
	X(AGE, "age")         /* oldest first: longest in the table */           \
	X(IDLE, "idle")       /* longest without a packet first */

#define LBCTL_FLOW_SORT_ENUM(id, name) LBCTL_SORT_##id,
enum lbctl_flow_sort { LBCTL_FLOW_SORTS(LBCTL_FLOW_SORT_ENUM) LBCTL_SORT_MAX };
#undef LBCTL_FLOW_SORT_ENUM

extern const char *const lbctl_flow_sort_names[LBCTL_SORT_MAX];

/* A VIP as `lbctl policy` takes it: ADDR[:PORT|:*][/udp|/tcp], an IPv6
 * address in brackets ([2001:db8::1]:80/tcp, [2001:db8::1]/udp).
 */
struct lb_vip_spec {
	uint32_t addr; /* network byte order; 0 when ipv6 */
	bool ipv6;
	uint8_t addr6[16];
	int port;      /* -1: any port; 0 (written "*"): the every-port entry */
	int proto;     /* -1: either; else IPPROTO_UDP or IPPROTO_TCP */
};

struct lbctl_args {
	enum lbctl_cmd cmd;
	bool help;           /* -h: help of cmd, or (no command) the usage */
	bool version;        /* --version (alone): nothing else is set */
	bool has_cmd;        /* cmd is set (false only with help) */
	unsigned int given;  /* LBCTL_OPT()s on the command line */
	bool verbose;
	bool json;           /* status, stats, flows */
	bool reset;          /* stats --reset */
	uint64_t watch_ns;   /* stats: refresh period, 0 = print once */
	unsigned long count; /* stats: refreshes before exiting, 0 = until killed */
	const char *ifname;
	const char *args[2]; /* positional arguments after IFNAME */
	int arg_count;
	struct lb_vip_spec vip; /* policy: args[0], parsed; flows: --vip */
	uint32_t backend;       /* flows --backend, network byte order */
	bool backend_ipv6;      /* flows --backend is IPv6: backend6 */
	uint8_t backend6[16];
	enum lbctl_flow_sort sort;
	unsigned long limit;    /* flows --limit, 0 = every flow */
};

/* argv[0] is the program, argv[1] the command (or -h). 0 or -1 with @err. */
int lbctl_parse_args(int argc, char *const *argv, struct lbctl_args *out, char *err,
		     size_t err_len);

/* 0 with *out, or -1 with @why saying what is wrong with @spec. */
int lb_parse_vip_spec(const char *spec, struct lb_vip_spec *out, char *why, size_t len);

#endif /* LB_CLI_H */
