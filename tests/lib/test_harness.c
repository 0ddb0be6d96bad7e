// SPDX-License-Identifier: GPL-2.0
/* The runner behind test_harness.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_harness.h"

int test_case_failed;
int test_case_skipped;
static char skip_reason[256];

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	test_case_failed = 1;
	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	test_case_skipped = 1;
	va_start(ap, fmt);
	vsnprintf(skip_reason, sizeof(skip_reason), fmt, ap);
	va_end(ap);
}

void test_hexdump(const char *title, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	printf("    %s (%zu bytes):", title, len);
	for (i = 0; i < len; i++)
		printf("%s%02x", i % 16 ? " " : "\n      ", p[i]);
	printf("\n");
}

void test_hexdump_diff(const void *expected, size_t expected_len, const void *actual,
		       size_t actual_len)
{
	const uint8_t *e = expected, *a = actual;
	size_t len = expected_len > actual_len ? expected_len : actual_len;
	size_t row, i;

	printf("    offset  expected                                         | actual\n");
	for (row = 0; row < len; row += 16) {
		printf("    %04zx   ", row);
		for (i = row; i < row + 16; i++) {
			if (i < expected_len)
				printf("%02x%c", e[i],
				       i < actual_len && a[i] == e[i] ? ' ' : '*');
			else
				printf("   ");
		}
		printf(" | ");
		for (i = row; i < row + 16 && i < actual_len; i++)
			printf("%02x ", a[i]);
		printf("\n");
	}
}

int test_main(const char *suite, const struct test_case *cases, size_t count, int argc,
	      char **argv)
{
	const char *filter = NULL;
	int passed = 0, failed = 0, skipped = 0, opt;
	size_t i;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt == 't') {
			filter = optarg;
		} else {
			fprintf(stderr, "usage: %s [-t case-substring]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < count; i++) {
		if (filter && !strstr(cases[i].name, filter))
			continue;
		test_case_failed = 0;
		test_case_skipped = 0;
		cases[i].fn();
		if (test_case_failed) {
			failed++;
			printf("not ok - %s: %s\n", suite, cases[i].name);
		} else if (test_case_skipped) {
			skipped++;
			printf("ok - %s: %s # SKIP %s\n", suite, cases[i].name, skip_reason);
		} else {
			passed++;
			printf("ok - %s: %s\n", suite, cases[i].name);
		}
	}
	printf("%s: %d passed, %d failed, %d skipped\n", suite, passed, failed, skipped);
	return failed ? 1 : 0;
}
