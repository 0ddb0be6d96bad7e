// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's messages, with journal levels under systemd; see lbd_log.h. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "lbd_log.h"
#include "log.h"

static bool to_journal;

void lbd_log_setup(void)
{
	to_journal = lb_is_journal_stream(2);
}

/* One write() per line: the journal (or a file several writers share) gets
 * whole lines, never a prefix from one and the text from another.
 */
void lbd_log(enum lbd_level level, const char *fmt, ...)
{
	char line[1024];
	size_t n = 0;
	va_list ap;
	int len;

	if (to_journal)
		n = (size_t)snprintf(line, sizeof(line), "<%d>", (int)level);
	else if (level == LBD_ERR)
		n = (size_t)snprintf(line, sizeof(line), "Error: ");
	else if (level == LBD_WARN)
		n = (size_t)snprintf(line, sizeof(line), "Warning: ");
	va_start(ap, fmt);
	len = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		len = 0;
	n += (size_t)len < sizeof(line) - n - 1 ? (size_t)len : sizeof(line) - n - 2;
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
	fflush(stderr);
}
