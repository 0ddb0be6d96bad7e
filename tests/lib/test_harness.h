/* SPDX-License-Identifier: GPL-2.0 */
/* A small test runner: named cases, named assertions, TAP-style lines and a
 * closing "N passed, N failed, N skipped" line that tests/run.sh adds up.
 *
 * A case is a function; an assertion failure prints where and why and marks the
 * case failed, but the case goes on so one run shows every broken expectation.
 * TEST_SKIP() ends a case as skipped (for example: not root).
 * Run one case by name: ./test_parse -t <substring>.
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST_CASE(fn) { #fn, fn }

/* State of the case running now; read by the macros below. */
extern int test_case_failed;
extern int test_case_skipped;

void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "offset: expected | actual" rows of hex, marking differing bytes. */
void test_hexdump_diff(const void *expected, size_t expected_len, const void *actual,
		       size_t actual_len);
void test_hexdump(const char *title, const void *buf, size_t len);

/* Runs @cases (or those whose name contains the -t argument), prints one line a
 * case and the closing summary. Returns the process exit status.
 */
int test_main(const char *suite, const struct test_case *cases, size_t count, int argc,
	      char **argv);

#define ASSERT_TRUE(cond, what)                                                     \
	({                                                                          \
		bool ok_ = (cond);                                                  \
		if (!ok_)                                                           \
			test_fail(__FILE__, __LINE__, "%s: expected true: %s", what, \
				  #cond);                                           \
		ok_;                                                                \
	})

#define ASSERT_EQ(actual, expected, what)                                           \
	({                                                                          \
		long long a_ = (long long)(actual), e_ = (long long)(expected);     \
		if (a_ != e_)                                                       \
			test_fail(__FILE__, __LINE__, "%s: expected %lld, got %lld", \
				  what, e_, a_);                                    \
		a_ == e_;                                                           \
	})

#define ASSERT_OK(err, what)                                                        \
	({                                                                          \
		long long r_ = (long long)(err);                                    \
		if (r_)                                                             \
			test_fail(__FILE__, __LINE__, "%s: failed with %lld (%s)",   \
				  what, r_, strerror(r_ < 0 ? (int)-r_ : errno));   \
		r_ == 0;                                                            \
	})

#define ASSERT_STREQ(actual, expected, what)                                        \
	({                                                                          \
		const char *a_ = (actual), *e_ = (expected);                        \
		bool ok_ = a_ && e_ && strcmp(a_, e_) == 0;                         \
		if (!ok_)                                                           \
			test_fail(__FILE__, __LINE__,                               \
				  "%s:\n    expected: \"%s\"\n    actual:   \"%s\"", \
				  what, e_ ? e_ : "(null)", a_ ? a_ : "(null)");    \
		ok_;                                                                \
	})

/* Byte-exact comparison; on mismatch prints both buffers as a hex diff. */
#define ASSERT_BYTES(actual, actual_len, expected, expected_len, what)              \
	({                                                                          \
		size_t al_ = (actual_len), el_ = (expected_len);                    \
		bool ok_ = al_ == el_ && memcmp((actual), (expected), el_) == 0;    \
		if (!ok_) {                                                         \
			test_fail(__FILE__, __LINE__,                               \
				  "%s: bytes differ (expected %zu, got %zu bytes)",  \
				  what, el_, al_);                                  \
			test_hexdump_diff((expected), el_, (actual), al_);          \
		}                                                                   \
		ok_;                                                                \
	})

#define TEST_SKIP(...)                  \
	do {                            \
		test_skip(__VA_ARGS__); \
		return;                 \
	} while (0)

#endif /* TEST_HARNESS_H */
