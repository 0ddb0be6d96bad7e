// SPDX-License-Identifier: GPL-2.0
/* Checks of names and numbers from outside; see input.h. */
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "input.h"

const char *lb_quote(char *out, size_t len, const char *s)
{
	const unsigned char *c = (const unsigned char *)s;
	char buf[LB_QUOTED_LEN];
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; c[i] && i < LB_QUOTE_CHARS; i++) {
		if (c[i] == '"' || c[i] == '\\')
			o += sprintf(buf + o, "\\%c", c[i]);
		else if (c[i] == '\t')
			o += sprintf(buf + o, "\\t");
		else if (c[i] == '\n')
			o += sprintf(buf + o, "\\n");
		else if (c[i] == '\r')
			o += sprintf(buf + o, "\\r");
		else if (c[i] < 0x20 || c[i] >= 0x7f)
			o += sprintf(buf + o, "\\x%02x", c[i]);
		else
			buf[o++] = (char)c[i];
	}
	if (c[i])
		o += sprintf(buf + o, "...");
	buf[o++] = '"';
	buf[o] = '\0';
	snprintf(out, len, "%s", buf);
	return out;
}

/* What the kernel's isspace() takes for whitespace (lib/ctype.c: Latin-1, so the
 * no-break space too), named for a message; NULL for anything else.
 */
static const char *whitespace_name(unsigned char c)
{
	switch (c) {
	case ' ':
		return "a space";
	case '\t':
		return "a tab";
	case '\n':
		return "a newline";
	case '\v':
		return "a vertical tab";
	case '\f':
		return "a form feed";
	case '\r':
		return "a carriage return";
	case 0xa0:
		return "a no-break space, 0xa0";
	default:
		return NULL;
	}
}

int lb_ifname_check(const char *name, char *why, size_t len)
{
	char shown[LB_QUOTED_LEN], rule[64] = "";
	size_t n = strlen(name), i;
	const char *space;

	/* In the kernel's order: the first rule broken is the one named. */
	if (!n) {
		snprintf(rule, sizeof(rule), "it is empty");
	} else if (n >= IFNAMSIZ) {
		snprintf(rule, sizeof(rule), "it is %zu bytes long, the limit is %d", n,
			 IFNAMSIZ - 1);
	} else if (!strcmp(name, ".") || !strcmp(name, "..")) {
		snprintf(rule, sizeof(rule), "\".\" and \"..\" name directories");
	} else {
		for (i = 0; i < n && !rule[0]; i++) {
			space = whitespace_name((unsigned char)name[i]);
			if (name[i] == '/' || name[i] == ':')
				snprintf(rule, sizeof(rule), "it contains '%c'", name[i]);
			else if (space)
				snprintf(rule, sizeof(rule), "it contains whitespace (%s)", space);
		}
	}
	if (!rule[0])
		return 0;
	snprintf(why, len, "%s is not a valid interface name: %s",
		 lb_quote(shown, sizeof(shown), name), rule);
	return -1;
}

/* Why @s is not a plain decimal number: the common mistakes named. */
static const char *number_problem(const char *s)
{
	size_t digits = strspn(s, "0123456789");

	if (!*s)
		return "is empty";
	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9')
		return "is negative";
	if (s[0] == '+' && s[1] >= '0' && s[1] <= '9')
		return "has a sign";
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return "is hexadecimal";
	if (digits && s[digits] == '.' && s[digits + 1] &&
	    strspn(s + digits + 1, "0123456789") == strlen(s + digits + 1))
		return "has a fraction";
	return "is not a decimal number";
}

/* Digits only, no overflow: 0 with *out, or -1 (not digits) or -2 (too big). */
static int digits_value(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long value = 0;
	size_t i;

	if (!n)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (value > (~0ULL - (unsigned)(s[i] - '0')) / 10)
			return -2;
		value = value * 10 + (unsigned)(s[i] - '0');
	}
	*out = value;
	return 0;
}

int lb_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out,
		  char *why, size_t len)
{
	char shown[LB_QUOTED_LEN];
	unsigned long long value = 0;
	int err = digits_value(s, strlen(s), &value);

	if (err == -1) {
		snprintf(why, len, "%s %s, expected a whole number %lu..%lu",
			 lb_quote(shown, sizeof(shown), s), number_problem(s), min, max);
		return -1;
	}
	if (err || value < min || value > max) {
		snprintf(why, len, "%s is out of range, expected a whole number %lu..%lu",
			 lb_quote(shown, sizeof(shown), s), min, max);
		return -1;
	}
	*out = (unsigned long)value;
	return 0;
}

#define NS_PER_S 1000000000ULL

/* "0.05", "3600": seconds without trailing zeros. */
static const char *seconds_text(char *out, size_t len, uint64_t ns)
{
	size_t n;

	n = (size_t)snprintf(out, len, "%llu.%09llu", (unsigned long long)(ns / NS_PER_S),
			     (unsigned long long)(ns % NS_PER_S));
	while (n && out[n - 1] == '0')
		out[--n] = '\0';
	if (n && out[n - 1] == '.')
		out[--n] = '\0';
	return out;
}

int lb_parse_seconds(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns,
		     char *why, size_t len)
{
	char shown[LB_QUOTED_LEN], low[32], high[32];
	size_t whole = strspn(s, "0123456789"), decimals = 0;
	unsigned long long seconds = 0, fraction = 0;
	const char *problem = NULL;
	int err;

	if (s[whole] == '.') {
		decimals = strlen(s + whole + 1);
		if (!decimals || strspn(s + whole + 1, "0123456789") != decimals)
			problem = "is not a decimal number";
		else if (decimals > 9)
			problem = "has more than 9 decimals";
		else
			digits_value(s + whole + 1, decimals, &fraction);
	} else if (s[whole]) {
		problem = number_problem(s);
	}
	if (!whole && !problem)
		problem = *s ? "is not a decimal number" : "is empty";
	if (problem) {
		snprintf(why, len, "%s %s, expected seconds %s..%s", lb_quote(shown, sizeof(shown), s),
			 problem, seconds_text(low, sizeof(low), min_ns),
			 seconds_text(high, sizeof(high), max_ns));
		return -1;
	}
	for (; decimals < 9; decimals++)
		fraction *= 10;
	err = digits_value(s, whole, &seconds);
	if (err || seconds > (~0ULL - fraction) / NS_PER_S ||
	    seconds * NS_PER_S + fraction < min_ns || seconds * NS_PER_S + fraction > max_ns) {
		snprintf(why, len, "%s is out of range, expected seconds %s..%s",
			 lb_quote(shown, sizeof(shown), s), seconds_text(low, sizeof(low), min_ns),
			 seconds_text(high, sizeof(high), max_ns));
		return -1;
	}
	*out_ns = seconds * NS_PER_S + fraction;
	return 0;
}
