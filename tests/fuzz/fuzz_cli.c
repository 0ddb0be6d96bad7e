// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the command-line parsers of lb-load, lbctl and xdp-lbd
 * (lb_load_parse_args(), lbctl_parse_args(), loader/cli.c; lbd_parse_args(),
 * loader/lbd_options.c) and the checks they use (loader/input.c), on any argv.
 *
 * Input: the first byte picks the tool (bit 1 set: xdp-lbd; else even: lb-load,
 * odd: lbctl); the rest is split at NUL bytes into at most MAX_ARGS arguments
 * after argv[0].
 *
 * Built with clang -fsanitize=fuzzer,address,undefined (make fuzz). Besides
 * crashes, memory errors and undefined behaviour, a broken promise of cli.h
 * aborts:
 *   - the parser returns 0 or -1, leaves argv as it was and gives the same
 *     answer twice (it keeps no state);
 *   - refused: one line of printable ASCII, not cut short by the buffer;
 *   - accepted: an interface name the kernel would take (checked against a
 *     separate rendering of the kernel's dev_valid_name()), numbers within
 *     their documented ranges, options only where a command takes them
 *     (lbctl_commands[].options) and no option's value without the option; a
 *     listen address with a family and a port;
 *   - lb_parse_uint() and lb_parse_seconds() agree, on every argument, with
 *     oracles written from their documented rules (strtoull, strtold).
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "input.h"
#include "lbd_options.h"

#define MAX_ARGS 16

static void broken(const char *what, const char *message, int argc, char **argv)
{
	int i;

	fprintf(stderr, "fuzz_cli: %s\n  message: \"%s\"\n  argv:", what, message);
	for (i = 0; i < argc; i++)
		fprintf(stderr, " [%s]", argv[i]);
	fprintf(stderr, "\n");
	abort();
}

/* The kernel's dev_valid_name() (net/core/dev.c), from its rules: whitespace
 * is its isspace(), which takes Latin-1's no-break space too.
 */
static bool kernel_valid_name(const char *name)
{
	size_t n = strlen(name), i;

	if (!n || n >= 16 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0)
			return false;
	}
	return true;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* A whole decimal number within min..max, by strtoull. */
static bool uint_oracle(const char *s, unsigned long min, unsigned long max,
			unsigned long long *value)
{
	errno = 0;
	if (!all_digits(s))
		return false;
	*value = strtoull(s, NULL, 10);
	return errno != ERANGE && *value >= min && *value <= max;
}

/* "2", "0.25": digits, and at most 9 decimals after a dot. */
static bool seconds_form(const char *s)
{
	const char *dot = strchr(s, '.');

	if (!dot)
		return all_digits(s);
	return dot > s && strspn(s, "0123456789") == (size_t)(dot - s) && all_digits(dot + 1) &&
	       strlen(dot + 1) <= 9;
}

static void check_message(const char *err, size_t len, int argc, char **argv)
{
	const char *p;

	if (!err[0])
		broken("refused without a message", err, argc, argv);
	if (strlen(err) >= len - 1)
		broken("message fills its buffer (cut short?)", err, argc, argv);
	for (p = err; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			broken("message holds a control or non-ASCII byte", err, argc, argv);
}

static void check_numbers(const char *s, int argc, char **argv)
{
	char why[LB_INPUT_ERR_LEN];
	unsigned long long expected;
	unsigned long value;
	uint64_t ns;
	bool ok;

	ok = uint_oracle(s, 1, LBCTL_COUNT_MAX, &expected);
	if (lb_parse_uint(s, 1, LBCTL_COUNT_MAX, &value, why, sizeof(why)) != (ok ? 0 : -1))
		broken("lb_parse_uint disagrees with strtoull", s, argc, argv);
	if (ok && value != expected)
		broken("lb_parse_uint read another value", s, argc, argv);
	if (!ok)
		check_message(why, sizeof(why), argc, argv);

	/* Seconds: D+ or D+.D{1,9}; the value compared by strtold, within 1 ns. */
	ok = seconds_form(s);
	if (!lb_parse_seconds(s, LBCTL_WATCH_MIN_NS, LBCTL_WATCH_MAX_NS, &ns, why, sizeof(why))) {
		if (!ok)
			broken("lb_parse_seconds took a form it refuses", s, argc, argv);
		if (fabsl(strtold(s, NULL) * 1e9L - (long double)ns) > 1 ||
		    ns < LBCTL_WATCH_MIN_NS || ns > LBCTL_WATCH_MAX_NS)
			broken("lb_parse_seconds read another value", s, argc, argv);
		return;
	}
	check_message(why, sizeof(why), argc, argv);
	if (ok && strtold(s, NULL) * 1e9L > LBCTL_WATCH_MIN_NS + 1 &&
	    strtold(s, NULL) * 1e9L < LBCTL_WATCH_MAX_NS - 1)
		broken("lb_parse_seconds refused seconds within its range", s, argc, argv);
}

static bool is_argument(const char *s, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (s == argv[i])
			return true;
	return false;
}

static void check_lb_load(int argc, char **argv)
{
	struct lb_load_args args, again;
	char err[LB_CLI_ERR_LEN], err2[LB_CLI_ERR_LEN];
	int ret = lb_load_parse_args(argc, argv, &args, err, sizeof(err));

	if (ret != lb_load_parse_args(argc, argv, &again, err2, sizeof(err2)) ||
	    (ret ? strcmp(err, err2) : memcmp(&args, &again, sizeof(args))))
		broken("lb-load: a second parse differs", err, argc, argv);
	if (ret == -1) {
		check_message(err, sizeof(err), argc, argv);
		return;
	}
	if (ret)
		broken("lb-load: returned neither 0 nor -1", err, argc, argv);
	if (args.help || args.version)
		return;
	if (args.check) {
		if (args.ifname || args.unload || args.skb_mode || !args.config_path ||
		    !is_argument(args.config_path, argc, argv))
			broken("lb-load: --check with IFNAME, --unload or --mode, or no CONFIG", "",
			       argc, argv);
		return;
	}
	if (!args.ifname || !is_argument(args.ifname, argc, argv) ||
	    !kernel_valid_name(args.ifname))
		broken("lb-load: accepted an interface name the kernel refuses", "", argc, argv);
	if (args.unload ? args.config_path != NULL || args.skb_mode :
			  !args.config_path || !is_argument(args.config_path, argc, argv))
		broken("lb-load: CONFIG or --mode where they do not belong", "", argc, argv);
}

static void check_lbctl(int argc, char **argv)
{
	struct lbctl_args args, again;
	char err[LB_CLI_ERR_LEN], err2[LB_CLI_ERR_LEN];
	int ret = lbctl_parse_args(argc, argv, &args, err, sizeof(err)), i;

	if (ret != lbctl_parse_args(argc, argv, &again, err2, sizeof(err2)) ||
	    (ret ? strcmp(err, err2) : memcmp(&args, &again, sizeof(args))))
		broken("lbctl: a second parse differs", err, argc, argv);
	if (ret == -1) {
		check_message(err, sizeof(err), argc, argv);
		return;
	}
	if (ret)
		broken("lbctl: returned neither 0 nor -1", err, argc, argv);
	if (args.help)
		return;
	if (args.version) {
		if (argc != 2)
			broken("lbctl: --version accepted with arguments", "", argc, argv);
		return;
	}
	if (!args.has_cmd || args.cmd >= LBCTL_CMD_COUNT)
		broken("lbctl: accepted without a command", "", argc, argv);
	if (!args.ifname || !is_argument(args.ifname, argc, argv) ||
	    !kernel_valid_name(args.ifname))
		broken("lbctl: accepted an interface name the kernel refuses", "", argc, argv);
	if (args.arg_count != lbctl_commands[args.cmd].args)
		broken("lbctl: accepted the wrong number of arguments", "", argc, argv);
	for (i = 0; i < args.arg_count; i++)
		if (!is_argument(args.args[i], argc, argv))
			broken("lbctl: an argument that is not in argv", "", argc, argv);
	if (args.given & ~(lbctl_commands[args.cmd].options | LBCTL_OPT(VERBOSE) | LBCTL_OPT(HELP)))
		broken("lbctl: an option accepted by a command that does not take it", "", argc,
		       argv);
	if ((args.json && !(args.given & LBCTL_OPT(JSON))) ||
	    (args.reset && !(args.given & LBCTL_OPT(RESET))) ||
	    (args.watch_ns && !(args.given & (LBCTL_OPT(WATCH) | LBCTL_OPT(COUNT)))) ||
	    (args.count && !(args.given & LBCTL_OPT(COUNT))) ||
	    (args.limit && !(args.given & LBCTL_OPT(LIMIT))) ||
	    (args.sort != LBCTL_SORT_VIP && !(args.given & LBCTL_OPT(SORT))))
		broken("lbctl: an option's value set without the option", "", argc, argv);
	if (args.reset && (args.json || args.watch_ns))
		broken("lbctl: --reset accepted with figures to print", "", argc, argv);
	if (args.limit > LBCTL_LIMIT_MAX || args.sort >= LBCTL_SORT_MAX)
		broken("lbctl: --limit or --sort out of range", "", argc, argv);
	if ((args.given & LBCTL_OPT(VIP)) && args.vip.port == 0)
		broken("lbctl: flows --vip with the every-port \"*\"", "", argc, argv);
	if (args.watch_ns && (args.watch_ns < LBCTL_WATCH_MIN_NS ||
			      args.watch_ns > LBCTL_WATCH_MAX_NS))
		broken("lbctl: --watch out of range", "", argc, argv);
	if (args.count > LBCTL_COUNT_MAX || (args.count && !args.watch_ns))
		broken("lbctl: --count out of range or without a period", "", argc, argv);
	if (args.cmd == LBCTL_POLICY &&
	    (args.vip.port < -1 || args.vip.port > 65535 ||
	     (args.vip.proto != -1 && args.vip.proto != IPPROTO_UDP &&
	      args.vip.proto != IPPROTO_TCP)))
		broken("lbctl: a VIP out of range", "", argc, argv);
}

static void check_xdp_lbd(int argc, char **argv)
{
	struct lbd_options opt, again;
	char err[LBD_ERR_LEN], err2[LBD_ERR_LEN];
	int ret = lbd_parse_args(argc, argv, &opt, err, sizeof(err));

	if (ret != lbd_parse_args(argc, argv, &again, err2, sizeof(err2)) ||
	    (ret ? strcmp(err, err2) : memcmp(&opt, &again, sizeof(opt))))
		broken("xdp-lbd: a second parse differs", err, argc, argv);
	if (ret == -1) {
		check_message(err, sizeof(err), argc, argv);
		return;
	}
	if (ret)
		broken("xdp-lbd: returned neither 0 nor -1", err, argc, argv);
	if (opt.help || opt.version)
		return;
	if (!opt.ifname || !is_argument(opt.ifname, argc, argv) || !kernel_valid_name(opt.ifname))
		broken("xdp-lbd: accepted an interface name the kernel refuses", "", argc, argv);
	if (opt.interval_ns < LBD_INTERVAL_MIN_NS || opt.interval_ns > LBD_INTERVAL_MAX_NS)
		broken("xdp-lbd: --interval out of range", "", argc, argv);
	if ((opt.config_path && !*opt.config_path) || (opt.textfile_path && !*opt.textfile_path))
		broken("xdp-lbd: an empty file name accepted", "", argc, argv);
	if (opt.listen) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&opt.listen_addr;
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&opt.listen_addr;

		bool v4 = in->sin_family == AF_INET, v6 = in->sin_family == AF_INET6;

		if (v4 ? !in->sin_port || opt.listen_addr_len != sizeof(*in) :
		    v6 ? !in6->sin6_port || opt.listen_addr_len != sizeof(*in6) : true)
			broken("xdp-lbd: a listen address without family or port", "", argc, argv);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char lb_load_name[] = "lb-load", lbctl_name[] = "lbctl", lbd_name[] = "xdp-lbd";
	char *argv[MAX_ARGS + 2], *copy[MAX_ARGS + 2], *text, *p, *end;
	char why[LB_INPUT_ERR_LEN];
	int argc = 1, i;
	bool lbctl, lbd;

	if (!size)
		return 0;
	lbd = data[0] & 2;
	lbctl = !lbd && (data[0] & 1);
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	argv[0] = lbd ? lbd_name : lbctl ? lbctl_name : lb_load_name;
	/* One byte is argv[0] alone; every NUL after it starts another argument. */
	for (p = text, end = text + size - 1; size > 1 && argc <= MAX_ARGS; argc++) {
		argv[argc] = p;
		p += strlen(p);
		if (p == end)
			break;
		p++;
	}
	if (size > 1 && argc <= MAX_ARGS)
		argc++;
	argv[argc] = NULL;
	memcpy(copy, argv, sizeof(copy));

	for (i = 1; i < argc; i++)
		check_numbers(argv[i], argc, argv);
	if (lbd)
		check_xdp_lbd(argc, argv);
	else if (lbctl)
		check_lbctl(argc, argv);
	else
		check_lb_load(argc, argv);
	if (memcmp(copy, argv, sizeof(copy)))
		broken("the parser changed argv", "", argc, argv);
	for (i = 1; i < argc; i++)
		if ((lb_ifname_check(argv[i], why, sizeof(why)) == 0) != kernel_valid_name(argv[i]))
			broken("lb_ifname_check disagrees with the kernel's rules", argv[i], argc,
			       argv);
	free(text);
	return 0;
}
