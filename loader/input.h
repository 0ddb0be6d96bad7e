/* SPDX-License-Identifier: GPL-2.0 */
/* Names and numbers from outside (command lines): each is checked whole, where it
 * enters, before anything is built from it. Every check fills @why with one line
 * that quotes the input and names the rule it breaks, e.g.
 *     "../victim" is not a valid interface name: it contains '/'
 *     "1.9" has a fraction, expected a whole number 1..1000000
 * docs/operations.md, "Inputs", lists where each input is checked.
 */
#ifndef LB_INPUT_H
#define LB_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any message of this file. */
#define LB_INPUT_ERR_LEN 256
/* Characters of an input shown in a message; longer ones are cut with "...". */
#define LB_QUOTE_CHARS 40
/* Room for a quoted input: each character may take 4 bytes escaped. */
#define LB_QUOTED_LEN (LB_QUOTE_CHARS * 4 + 8)

/* @s in double quotes on one printable line: quotes and backslashes escaped,
 * \t \n \r as such, other control and non-ASCII bytes as \xNN. Returns @out.
 */
const char *lb_quote(char *out, size_t len, const char *s);

/* The kernel's rules for an interface name (dev_valid_name()): not empty, shorter
 * than IFNAMSIZ (at most 15 bytes), not "." or "..", no '/', ':' or whitespace.
 * Pin, lock and sysctl paths are built from the name, so one that breaks them
 * could name a path outside xdp-lb's own. 0, or -1 with @why.
 */
int lb_ifname_check(const char *name, char *why, size_t len);

/* A whole decimal number @min..@max: digits only, no sign, no spaces, no 0x, no
 * fraction or exponent; leading zeros are decimal. 0 with *out set, or -1 with
 * @why.
 */
int lb_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out,
		  char *why, size_t len);

/* Seconds as a decimal number, "2" or "0.25" (at most 9 decimals: nanoseconds),
 * @min_ns..@max_ns; the same forms as lb_parse_uint() refused, and exponents,
 * "inf" and "nan" too (strtod would take them). 0 with *out_ns set, or -1 with @why.
 */
int lb_parse_seconds(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns,
		     char *why, size_t len);

#endif /* LB_INPUT_H */
