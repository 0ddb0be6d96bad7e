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

#define LBCTL_OPTION_DEF(id, name, letter, arg, help) \
	[LBCTL_OPT_##id] = { name, letter, arg, help },
const struct lbctl_option_def lbctl_options[LBCTL_OPT_MAX] = { LBCTL_OPTIONS(LBCTL_OPTION_DEF) };
#undef LBCTL_OPTION_DEF

#define LBCTL_FLOW_SORT_NAME(id, name) [LBCTL_SORT_##id] = name,
const char *const lbctl_flow_sort_names[LBCTL_SORT_MAX] = {
	LBCTL_FLOW_SORTS(LBCTL_FLOW_SORT_NAME)
};
#undef LBCTL_FLOW_SORT_NAME

const struct lbctl_command_def lbctl_commands[LBCTL_CMD_COUNT] = {
	[LBCTL_STATUS] = { "status", 0, "status IFNAME",
			   "mode, stage programs, VIPs, backends; the exit code says what is wrong",
			   LBCTL_OPT(JSON) },
	[LBCTL_STATS] = { "stats", 0, "stats IFNAME",
			  "figures per VIP and backend, passes and drops",
			  LBCTL_OPT(JSON) | LBCTL_OPT(WATCH) | LBCTL_OPT(COUNT) |
				  LBCTL_OPT(RESET) },
	[LBCTL_FLOWS] = { "flows", 0, "flows IFNAME", "the flow table",
			  LBCTL_OPT(JSON) | LBCTL_OPT(VIP) | LBCTL_OPT(BACKEND) | LBCTL_OPT(SORT) |
				  LBCTL_OPT(LIMIT) },
	[LBCTL_SWAP] = { "swap", 2, "swap IFNAME SLOT STAGE", "put STAGE into SLOT at once", 0 },
	[LBCTL_ENCAP] = { "encap", 1, "encap IFNAME STAGE", "swap the encap stage: ipip or gue",
			  0 },
	[LBCTL_POLICY] = { "policy", 2, "policy IFNAME VIP POLICY",
			   "switch one VIP's policy, VIP as ADDR[:PORT|:*][/udp|/tcp]", 0 },
};

void lbctl_synopsis(enum lbctl_cmd cmd, char *buf, size_t len)
{
	const struct lbctl_command_def *def = &lbctl_commands[cmd];
	size_t used;
	int o;

	snprintf(buf, len, "%s", def->synopsis);
	for (o = 0; o < LBCTL_OPT_MAX; o++) {
		const struct lbctl_option_def *opt = &lbctl_options[o];

		if (!(def->options & (1u << o)))
			continue;
		used = strlen(buf);
		snprintf(buf + used, len - used, " [%s%s%s]", opt->name, opt->arg ? " " : "",
			 opt->arg ? opt->arg : "");
	}
}

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

/* Which option @arg is: "-v", "--json", "--count=2" (*value "2"). -1: none. */
static int lookup_option(const char *arg, const char **value)
{
	int o;

	*value = NULL;
	for (o = 0; o < LBCTL_OPT_MAX; o++) {
		const struct lbctl_option_def *opt = &lbctl_options[o];

		if ((opt->letter && arg[0] == '-' && arg[1] == opt->letter && !arg[2]) ||
		    option_is(arg, opt->name, value))
			return o;
	}
	return -1;
}

/* "lbctl stats does" or "lbctl status, stats and flows do": who takes option @o. */
static void takers(int o, char *buf, size_t len)
{
	int i, count = 0, n = 0;
	size_t used;

	for (i = 0; i < LBCTL_CMD_COUNT; i++)
		count += !!(lbctl_commands[i].options & (1u << o));
	snprintf(buf, len, "%slbctl", count == 1 ? "only " : "");
	for (i = 0; i < LBCTL_CMD_COUNT; i++) {
		if (!(lbctl_commands[i].options & (1u << o)))
			continue;
		n++;
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", n == 1 ? " " : n == count ? " and " : ", ",
			 lbctl_commands[i].name);
	}
	used = strlen(buf);
	snprintf(buf + used, len - used, " %s", count == 1 ? "does" : "do");
}

/* The value of option @o: "--count=2", or the next argument "--count 2". */
static int option_value(int argc, char *const *argv, int *i, const char *name, int o,
			const char **value, char *err, size_t len)
{
	if (*value)
		return 0;
	if (*i + 1 >= argc)
		return fail(err, len, "lbctl %s: %s needs a value: %s", name, lbctl_options[o].name,
			    lbctl_options[o].arg);
	*value = argv[++*i];
	return 0;
}

static int flows_vip(const char *value, struct lb_vip_spec *vip, char *err, size_t len)
{
	char why[LB_INPUT_ERR_LEN];

	if (lb_parse_vip_spec(value, vip, why, sizeof(why)))
		return fail(err, len, "lbctl flows: --vip: %s", why);
	/* A flow has the port its packets carry; "*" names an entry of the
	 * vips map, which no flow does.
	 */
	if (vip->port == 0)
		return fail(err, len, "lbctl flows: --vip: a flow has a port, give it or none, "
			    "not \"*\"");
	return 0;
}

static int flows_backend(const char *value, struct lbctl_args *out, char *err, size_t len)
{
	char shown[LB_QUOTED_LEN];
	struct in_addr in;

	if (strlen(value) < INET6_ADDRSTRLEN && inet_pton(AF_INET6, value, out->backend6) == 1) {
		out->backend_ipv6 = true;
		return 0;
	}
	if (strlen(value) >= INET_ADDRSTRLEN || inet_pton(AF_INET, value, &in) != 1)
		return fail(err, len, "lbctl flows: --backend: %s is not an IPv4 or IPv6 address",
			    lb_quote(shown, sizeof(shown), value));
	out->backend = in.s_addr;
	return 0;
}

static int flows_sort(const char *value, enum lbctl_flow_sort *sort, char *err, size_t len)
{
	char shown[LB_QUOTED_LEN];
	int s;

	for (s = 0; s < LBCTL_SORT_MAX; s++) {
		if (!strcmp(value, lbctl_flow_sort_names[s])) {
			*sort = (enum lbctl_flow_sort)s;
			return 0;
		}
	}
	return fail(err, len, "lbctl flows: --sort: %s is not a key, expected one of: vip, "
		    "client, backend, age, idle", lb_quote(shown, sizeof(shown), value));
}

static int lbctl_option(int argc, char *const *argv, int *i, struct lbctl_args *out, char *err,
			size_t len)
{
	const char *arg = argv[*i], *name = lbctl_commands[out->cmd].name, *value;
	char shown[LB_QUOTED_LEN], why[LB_INPUT_ERR_LEN], who[96];
	int o = lookup_option(arg, &value);

	if (o < 0)
		return fail(err, len, "lbctl %s: unknown option %s (lbctl %s --help lists its "
			    "options)", name, lb_quote(shown, sizeof(shown), arg), name);
	if (o != LBCTL_OPT_VERBOSE && o != LBCTL_OPT_HELP &&
	    !(lbctl_commands[out->cmd].options & (1u << o))) {
		takers(o, who, sizeof(who));
		return fail(err, len, "lbctl %s does not take %s (%s)", name, lbctl_options[o].name,
			    who);
	}
	if (value && !lbctl_options[o].arg)
		return fail(err, len, "lbctl %s: %s takes no value", name, lbctl_options[o].name);
	if ((out->given & (1u << o)) && lbctl_options[o].arg)
		return fail(err, len, "lbctl %s: %s is given twice", name, lbctl_options[o].name);
	out->given |= 1u << o;
	switch (o) {
	case LBCTL_OPT_VERBOSE:
		out->verbose = true;
		break;
	case LBCTL_OPT_HELP:
		out->help = true;
		break;
	case LBCTL_OPT_JSON:
		out->json = true;
		break;
	case LBCTL_OPT_RESET:
		out->reset = true;
		break;
	case LBCTL_OPT_WATCH:
		/* The period is optional: "--watch", "--watch 2", "--watch=0.5". */
		if (!value && *i + 1 < argc && looks_numeric(argv[*i + 1]))
			value = argv[++*i];
		out->watch_ns = LBCTL_WATCH_DEFAULT_NS;
		if (value && lb_parse_seconds(value, LBCTL_WATCH_MIN_NS, LBCTL_WATCH_MAX_NS,
					      &out->watch_ns, why, sizeof(why)))
			return fail(err, len, "lbctl %s: --watch: %s", name, why);
		break;
	case LBCTL_OPT_COUNT:
		if (!value && *i + 1 >= argc)
			return fail(err, len, "lbctl %s: --count needs a number of refreshes", name);
		if (option_value(argc, argv, i, name, o, &value, err, len))
			return -1;
		if (lb_parse_uint(value, 1, LBCTL_COUNT_MAX, &out->count, why, sizeof(why)))
			return fail(err, len, "lbctl %s: --count: %s", name, why);
		break;
	case LBCTL_OPT_LIMIT:
		if (option_value(argc, argv, i, name, o, &value, err, len))
			return -1;
		if (lb_parse_uint(value, 1, LBCTL_LIMIT_MAX, &out->limit, why, sizeof(why)))
			return fail(err, len, "lbctl %s: --limit: %s", name, why);
		break;
	case LBCTL_OPT_VIP:
		if (option_value(argc, argv, i, name, o, &value, err, len))
			return -1;
		return flows_vip(value, &out->vip, err, len);
	case LBCTL_OPT_BACKEND:
		if (option_value(argc, argv, i, name, o, &value, err, len))
			return -1;
		return flows_backend(value, out, err, len);
	case LBCTL_OPT_SORT:
		if (option_value(argc, argv, i, name, o, &value, err, len))
			return -1;
		return flows_sort(value, &out->sort, err, len);
	}
	return 0;
}

/* Options that exclude each other: --reset prints no figures. */
static int lbctl_check_combination(const struct lbctl_args *out, char *err, size_t len)
{
	static const int not_with_reset[] = { LBCTL_OPT_JSON, LBCTL_OPT_WATCH, LBCTL_OPT_COUNT };
	size_t k;

	if (!out->reset)
		return 0;
	for (k = 0; k < sizeof(not_with_reset) / sizeof(not_with_reset[0]); k++)
		if (out->given & (1u << not_with_reset[k]))
			return fail(err, len, "lbctl stats: --reset prints no figures, it does not "
				    "go with %s", lbctl_options[not_with_reset[k]].name);
	return 0;
}

int lbctl_parse_args(int argc, char *const *argv, struct lbctl_args *out, char *err,
		     size_t err_len)
{
	char shown[LB_QUOTED_LEN], why[LB_INPUT_ERR_LEN], synopsis[256];
	const struct lbctl_command_def *def;
	bool options_done = false;
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
	lbctl_synopsis(out->cmd, synopsis, sizeof(synopsis));
	for (i = 2; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && !strcmp(arg, "--")) {
			options_done = true;
		} else if (!options_done && arg[0] == '-' && arg[1]) {
			if (lbctl_option(argc, argv, &i, out, err, err_len))
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
				    def->name, lb_quote(shown, sizeof(shown), arg), synopsis);
		}
	}
	if (!out->ifname)
		return fail(err, err_len, "lbctl %s needs an interface name, usage: lbctl %s",
			    def->name, synopsis);
	if (out->arg_count < def->args)
		return fail(err, err_len, "lbctl %s: missing arguments, usage: lbctl %s", def->name,
			    synopsis);
	if (lbctl_check_combination(out, err, err_len))
		return -1;
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
	size_t addr_len = strcspn(spec, ":/"), port_len, skip = 0;
	const char *slash = strchr(spec, '/'), *close = NULL;
	unsigned long number;
	struct in_addr in;

	out->port = -1;
	out->proto = -1;
	out->ipv6 = false;
	/* [IPv6]: the address is what the brackets hold; a port may follow. */
	if (spec[0] == '[') {
		close = strchr(spec, ']');
		skip = 1;
		addr_len = close ? (size_t)(close - spec) + 1 : strlen(spec);
		slash = close ? strchr(close, '/') : NULL;
	}
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
	if (!problem[0] && skip) {
		snprintf(text, sizeof(text), "%.*s", close ? (int)(addr_len - 2) : (int)addr_len,
			 spec + 1);
		if (!close || addr_len - 2 >= INET6_ADDRSTRLEN ||
		    inet_pton(AF_INET6, text, out->addr6) != 1)
			snprintf(problem, sizeof(problem), "address [%s] is not an IPv6 address",
				 lb_quote(shown, sizeof(shown), text));
		else
			out->ipv6 = true;
		out->addr = 0;
	} else if (!problem[0]) {
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
