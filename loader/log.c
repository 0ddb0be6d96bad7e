// SPDX-License-Identifier: GPL-2.0
/* Message output and capture of library logs; see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

bool lb_verbose;


#define LIBXDP_LINES 32
#define LIBXDP_LINE_LEN 256
static char libxdp_lines[LIBXDP_LINES][LIBXDP_LINE_LEN];
static int libxdp_line_count;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	/* libbpf warns about every failed probe and retry; lb-load reports the
	 * failure that matters in one line, so libbpf only speaks with -v.
	 */
	(void)level;
	if (!lb_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list args)
{
	char line[LIBXDP_LINE_LEN];
	size_t len;

	vsnprintf(line, sizeof(line), fmt, args);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (libxdp_line_count < LIBXDP_LINES)
		memcpy(libxdp_lines[libxdp_line_count++], line, len + 1);
	(void)level;
	if (lb_verbose)
		fprintf(stderr, "%s\n", line);
	return 0;
}

/* systemd sets JOURNAL_STREAM=DEVICE:INODE for a service whose output it
 * connects to the journal. Children inherit the variable with their output
 * maybe elsewhere, so a stream counts only when it is that very one.
 */
bool lb_is_journal_stream(int fd)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && !fstat(fd, &st) &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Whether @stream (stdout or stderr) is the journal's: then each line starts
 * with its syslog level, which journald takes off and stores. Found out at
 * the first message, which may come before lb_log_setup() (a usage error).
 */
static bool to_journal(FILE *stream)
{
	static int out = -1, err = -1;
	int *known = stream == stdout ? &out : &err;

	if (*known < 0)
		*known = lb_is_journal_stream(fileno(stream));
	return *known;
}

void lb_log_setup(bool verbose)
{
	lb_verbose = verbose;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

const char *lb_libxdp_line(const char *needle)
{
	int i;

	for (i = libxdp_line_count - 1; i >= 0; i--)
		if (strstr(libxdp_lines[i], needle))
			return libxdp_lines[i];
	return NULL;
}

void lb_libxdp_lines_clear(void)
{
	libxdp_line_count = 0;
}

/* @level: the syslog level ("<3>"), written only to the journal. */
#define LOG_BODY(stream, level, prefix)               \
	do {                                          \
		va_list ap;                           \
		if (to_journal(stream))               \
			fputs(level, stream);         \
		fputs(prefix, stream);                \
		va_start(ap, fmt);                    \
		vfprintf(stream, fmt, ap);            \
		va_end(ap);                           \
		fputc('\n', stream);                  \
	} while (0)

void lb_err(const char *fmt, ...)
{
	LOG_BODY(stderr, "<3>", "Error: ");
}

void lb_err_line(const char *fmt, ...)
{
	LOG_BODY(stderr, "<3>", "");
}

void lb_warn(const char *fmt, ...)
{
	LOG_BODY(stderr, "<4>", "Warning: ");
}

void lb_info(const char *fmt, ...)
{
	LOG_BODY(stdout, "<6>", "");
}

void lb_debug(const char *fmt, ...)
{
	if (lb_verbose)
		LOG_BODY(stderr, "<7>", "debug: ");
}
