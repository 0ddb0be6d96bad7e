// SPDX-License-Identifier: GPL-2.0
/* Command-line parsing of lb-load and lbctl; see cli.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "input.h"

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* @arg is option @name, alone or as "@name=VALUE"; *value is then VALUE or NULL. */
static bool option_is(const char *arg, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) || (arg[n] && arg[n] != '='))
		return false;
	*value = arg[n] ? arg + n + 1 : NULL;
	return true;
}

/* --- lb-load ------------------------------------------------------------------------ */

#define LB_LOAD_USAGE                                                                   \
	"lb-load [--mode native|skb] [-v] CONFIG IFNAME, or lb-load --unload [-v] IFNAME, or " \
	"lb-load --check CONFIG"

static int lb_load_mode(const char *value, struct lb_load_args *out, bool *mode_given, char *err,
			size_t len)
{
	char shown[LB_QUOTED_LEN];

	if (*mode_given)
		return fail(err, len, "--mode is given twice");
	*mode_given = true;
	if (!strcmp(value, "native"))
		out->skb_mode = false;
	else if (!strcmp(value, "skb"))
		out->skb_mode = true;
	else
		return fail(err, len, "--mode must be native or skb, not %s",
			    lb_quote(shown, sizeof(shown), value));
	return 0;
}

/* One argument starting with '-': a long option, or short ones bundled (-uv, -mskb). */
static int lb_load_option(int argc, char *const *argv, int *i, struct lb_load_args *out,
			  bool *mode_given, char *err, size_t len)
{
	const char *arg = argv[*i], *value;
	char shown[LB_QUOTED_LEN], flag[3] = "-";
	size_t c;

	if (arg[1] == '-') {
		if (option_is(arg, "--mode", &value)) {
			if (!value && *i + 1 >= argc)
				return fail(err, len, "--mode needs a value: native or skb");
			return lb_load_mode(value ? value : argv[++*i], out, mode_given, err, len);
		}
		if (option_is(arg, "--unload", &value))
			out->unload = true;
		else if (option_is(arg, "--check", &value))
			out->check = true;
		else if (option_is(arg, "--verbose", &value))
			out->verbose = true;
		else if (option_is(arg, "--help", &value))
			out->help = true;
		else if (option_is(arg, "--version", &value))
			out->version = true;
		else
			return fail(err, len, "unknown option %s (lb-load --help lists them)",
				    lb_quote(shown, sizeof(shown), arg));
		if (value)
			return fail(err, len, "%.*s takes no value", (int)(value - 1 - arg), arg);
		return 0;
	}
	for (c = 1; arg[c]; c++) {
		switch (arg[c]) {
		case 'u':
			out->unload = true;
			break;
		case 'v':
			out->verbose = true;
			break;
		case 'h':
			out->help = true;
			return 0;
		case 'm':
			/* The rest of the argument, or the next one, is the mode. */
			if (arg[c + 1])
				return lb_load_mode(arg + c + 1, out, mode_given, err, len);
			if (*i + 1 >= argc)
				return fail(err, len, "-m needs a value: native or skb");
			return lb_load_mode(argv[++*i], out, mode_given, err, len);
		default:
			flag[1] = arg[c];
			return fail(err, len, "unknown option %s (lb-load --help lists them)",
				    lb_quote(shown, sizeof(shown), flag));
		}
	}
	return 0;
}

int lb_load_parse_args(int argc, char *const *argv, struct lb_load_args *out, char *err,
		       size_t err_len)
{
	const char *positional[2];
	char why[LB_INPUT_ERR_LEN], shown[LB_QUOTED_LEN];
	bool options_done = false, mode_given = false;
	int i, count = 0;

	memset(out, 0, sizeof(*out));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && !strcmp(arg, "--")) {
			options_done = true;
		} else if (!options_done && arg[0] == '-' && arg[1]) {
			if (lb_load_option(argc, argv, &i, out, &mode_given, err, err_len))
				return -1;
			/* The first of --help and --version wins; nothing else counts. */
			if (out->help || out->version)
				return 0;
		} else if (count < 2) {
			positional[count++] = arg;
		} else {
			return fail(err, err_len, "unexpected argument %s; usage: " LB_LOAD_USAGE,
				    lb_quote(shown, sizeof(shown), arg));
		}
	}
	if (out->check) {
		if (out->unload)
			return fail(err, err_len, "--check and --unload do not go together");
		if (mode_given)
			return fail(err, err_len, "--mode does not apply to --check");
		if (count != 1)
			return fail(err, err_len, "--check takes one CONFIG and no IFNAME; usage: "
				    LB_LOAD_USAGE);
		out->config_path = positional[0];
		return 0;
	}
	if (out->unload) {
		if (mode_given)
			return fail(err, err_len, "--mode does not apply to --unload");
		if (count != 1)
			return fail(err, err_len, "--unload takes one IFNAME; usage: " LB_LOAD_USAGE);
		out->ifname = positional[0];
	} else {
		if (count != 2)
			return fail(err, err_len, "expected CONFIG IFNAME; usage: " LB_LOAD_USAGE);
		out->config_path = positional[0];
		out->ifname = positional[1];
	}
	if (lb_ifname_check(out->ifname, why, sizeof(why)))
		return fail(err, err_len, "%s", why);
	return 0;
}

/* --- lbctl -------------------------------------------------------------------------- */

const struct lbctl_command_def lbctl_commands[LBCTL_CMD_COUNT] = {
	[LBCTL_STATUS] = { "status", 0, "status IFNAME", "mode, stage programs, VIPs, backends" },
	[LBCTL_STATS] = { "stats", 0, "stats IFNAME [--json] [--watch [S]] [--count N]",
			  "figures per VIP and backend, passes and drops" },
	[LBCTL_FLOWS] = { "flows", 0, "flows IFNAME", "the flow table" },
	[LBCTL_SWAP] = { "swap", 2, "swap IFNAME SLOT STAGE", "put STAGE into SLOT at once" },
	[LBCTL_ENCAP] = { "encap", 1, "encap IFNAME STAGE", "swap the encap stage: ipip or gue" },
	[LBCTL_POLICY] = { "policy", 2, "policy IFNAME VIP POLICY",
			   "switch one VIP's policy, VIP as ADDR[:PORT|:*][/udp|/tcp]" },
};

/* Exact name, or the only command the prefix starts. */
static int find_command(const char *word, enum lbctl_cmd *cmd, char *err, size_t len)
{
	char shown[LB_QUOTED_LEN], names[64] = "";
	int i, matches = 0;

	for (i = 0; i < LBCTL_CMD_COUNT; i++) {
		if (!strcmp(lbctl_commands[i].name, word)) {
			*cmd = (enum lbctl_cmd)i;
			return 0;
		}
		if (*word && !strncmp(lbctl_commands[i].name, word, strlen(word))) {
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 matches ? " or " : "", lbctl_commands[i].name);
			*cmd = (enum lbctl_cmd)i;
			matches++;
		}
	}
	if (matches == 1)
		return 0;
	lb_quote(shown, sizeof(shown), word);
	if (matches)
		return fail(err, len, "ambiguous command %s: %s", shown, names);
	return fail(err, len, "unknown command %s", shown);
}

/* The next argument is --watch's period when it looks like a number (a
 * negative one included, to be refused as such): "--watch 2", not "--watch -v".
 */
static bool looks_numeric(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	return (*s >= '0' && *s <= '9') || *s == '.';
}

/* The options lbctl knows; the last three are stats' own. */
enum lbctl_option_kind { OPT_VERBOSE, OPT_HELP, OPT_JSON, OPT_WATCH, OPT_COUNT };

static const char *const lbctl_option_names[] = {
	[OPT_VERBOSE] = "--verbose", [OPT_HELP] = "--help", [OPT_JSON] = "--json",
	[OPT_WATCH] = "--watch",     [OPT_COUNT] = "--count",
};

static int lbctl_option(int argc, char *const *argv, int *i, struct lbctl_args *out,
			bool *watch_given, bool *count_given, char *err, size_t len)
{
	const char *arg = argv[*i], *name = lbctl_commands[out->cmd].name, *value = NULL;
	char shown[LB_QUOTED_LEN], why[LB_INPUT_ERR_LEN];
	enum lbctl_option_kind kind;

	if (!strcmp(arg, "-v"))
		kind = OPT_VERBOSE;
	else if (!strcmp(arg, "-h"))
		kind = OPT_HELP;
	else {
		for (kind = OPT_VERBOSE; kind <= OPT_COUNT; kind++)
			if (option_is(arg, lbctl_option_names[kind], &value))
				break;
		if (kind > OPT_COUNT)
			return fail(err, len, "lbctl %s: unknown option %s", name,
				    lb_quote(shown, sizeof(shown), arg));
	}
	if (kind >= OPT_JSON && out->cmd != LBCTL_STATS)
		return fail(err, len, "lbctl %s does not take %s (only lbctl stats does)", name,
			    lbctl_option_names[kind]);
	if (value && kind <= OPT_JSON)
		return fail(err, len, "lbctl %s: %s takes no value", name, lbctl_option_names[kind]);
	switch (kind) {
	case OPT_VERBOSE:
		out->verbose = true;
		break;
	case OPT_HELP:
		out->help = true;
		break;
	case OPT_JSON:
		out->json = true;
		break;
	case OPT_WATCH:
		if (*watch_given)
			return fail(err, len, "lbctl %s: --watch is given twice", name);
		*watch_given = true;
		/* The period is optional: "--watch", "--watch 2", "--watch=0.5". */
		if (!value && *i + 1 < argc && looks_numeric(argv[*i + 1]))
			value = argv[++*i];
		out->watch_ns = LBCTL_WATCH_DEFAULT_NS;
		if (value && lb_parse_seconds(value, LBCTL_WATCH_MIN_NS, LBCTL_WATCH_MAX_NS,
					      &out->watch_ns, why, sizeof(why)))
			return fail(err, len, "lbctl %s: --watch: %s", name, why);
		break;
	case OPT_COUNT:
		if (*count_given)
			return fail(err, len, "lbctl %s: --count is given twice", name);
		*count_given = true;
		if (!value && *i + 1 >= argc)
			return fail(err, len, "lbctl %s: --count needs a number of refreshes", name);
		if (!value)
			value = argv[++*i];
		if (lb_parse_uint(value, 1, LBCTL_COUNT_MAX, &out->count, why, sizeof(why)))
			return fail(err, len, "lbctl %s: --count: %s", name, why);
		break;
	}
	return 0;
}

int lbctl_parse_args(int argc, char *const *argv, struct lbctl_args *out, char *err,
		     size_t err_len)
{
	char shown[LB_QUOTED_LEN], why[LB_INPUT_ERR_LEN];
	bool options_done = false, watch_given = false, count_given = false;
	const struct lbctl_command_def *def;
	int i;

	memset(out, 0, sizeof(*out));
	if (argc < 2)
		return fail(err, err_len, "no command given");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		out->help = true;
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		if (argc > 2)
			return fail(err, err_len, "lbctl --version takes no arguments");
		out->version = true;
		return 0;
	}
	if (find_command(argv[1], &out->cmd, err, err_len))
		return -1;
	out->has_cmd = true;
	def = &lbctl_commands[out->cmd];
	for (i = 2; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && !strcmp(arg, "--")) {
			options_done = true;
		} else if (!options_done && arg[0] == '-' && arg[1]) {
			if (lbctl_option(argc, argv, &i, out, &watch_given, &count_given, err,
					 err_len))
				return -1;
			if (out->help)
				return 0;
		} else if (!out->ifname) {
			if (lb_ifname_check(arg, why, sizeof(why)))
				return fail(err, err_len, "%s", why);
			out->ifname = arg;
		} else if (out->arg_count < def->args) {
			out->args[out->arg_count++] = arg;
		} else {
			return fail(err, err_len, "lbctl %s: unexpected argument %s, usage: lbctl %s",
				    def->name, lb_quote(shown, sizeof(shown), arg), def->synopsis);
		}
	}
	if (!out->ifname)
		return fail(err, err_len, "lbctl %s needs an interface name, usage: lbctl %s",
			    def->name, def->synopsis);
	if (out->arg_count < def->args)
		return fail(err, err_len, "lbctl %s: missing arguments, usage: lbctl %s", def->name,
			    def->synopsis);
	if (out->count && !out->watch_ns)
		out->watch_ns = LBCTL_WATCH_DEFAULT_NS;
	if (out->cmd == LBCTL_POLICY && lb_parse_vip_spec(out->args[0], &out->vip, why,
							   sizeof(why)))
		return fail(err, err_len, "lbctl policy: %s", why);
	return 0;
}

int lb_parse_vip_spec(const char *spec, struct lb_vip_spec *out, char *why, size_t len)
{
	char shown[LB_QUOTED_LEN], text[LB_INPUT_ERR_LEN], number_why[LB_INPUT_ERR_LEN];
	char problem[LB_INPUT_ERR_LEN * 2] = "";
	size_t addr_len = strcspn(spec, ":/"), port_len;
	const char *slash = strchr(spec, '/');
	unsigned long number;
	struct in_addr in;

	out->port = -1;
	out->proto = -1;
	if (slash && !strcmp(slash + 1, "udp"))
		out->proto = IPPROTO_UDP;
	else if (slash && !strcmp(slash + 1, "tcp"))
		out->proto = IPPROTO_TCP;
	else if (slash)
		snprintf(problem, sizeof(problem), "protocol %s is not udp or tcp",
			 lb_quote(shown, sizeof(shown), slash + 1));
	if (!problem[0] && spec[addr_len] == ':') {
		port_len = (slash ? (size_t)(slash - spec) : strlen(spec)) - addr_len - 1;
		snprintf(text, sizeof(text), "%.*s", (int)port_len, spec + addr_len + 1);
		if (port_len >= sizeof(text))
			snprintf(problem, sizeof(problem), "port %s is out of range, expected a whole "
				 "number 0..65535", lb_quote(shown, sizeof(shown), text));
		else if (!strcmp(text, "*"))
			out->port = 0;
		else if (lb_parse_uint(text, 0, 65535, &number, number_why, sizeof(number_why)))
			snprintf(problem, sizeof(problem), "port %s", number_why);
		else
			out->port = (int)number;
	}
	if (!problem[0]) {
		snprintf(text, sizeof(text), "%.*s", (int)addr_len, spec);
		if (addr_len >= INET_ADDRSTRLEN || inet_pton(AF_INET, text, &in) != 1)
			snprintf(problem, sizeof(problem), "address %s is not an IPv4 address",
				 lb_quote(shown, sizeof(shown), text));
		else
			out->addr = in.s_addr;
	}
	if (!problem[0])
		return 0;
	snprintf(why, len, "%s is not a VIP (ADDR[:PORT|:*][/udp|/tcp]): %s",
		 lb_quote(shown, sizeof(shown), spec), problem);
	return -1;
}
