// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's messages, with journal levels under systemd; see lbd_log.h. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lbd_log.h"

static bool to_journal;

/* systemd sets JOURNAL_STREAM=DEVICE:INODE for a service whose stderr it
 * connects to the journal. The variable is inherited by children whose stderr
 * may be elsewhere, so it counts only when stderr is that very stream.
 */
void lbd_log_setup(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	to_journal = env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && !fstat(2, &st) &&
		     (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void lbd_log(enum lbd_level level, const char *fmt, ...)
{
	va_list ap;

	if (to_journal)
		fprintf(stderr, "<%d>", (int)level);
	else if (level == LBD_ERR)
		fputs("Error: ", stderr);
	else if (level == LBD_WARN)
		fputs("Warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
