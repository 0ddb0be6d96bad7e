/* SPDX-License-Identifier: GPL-2.0 */
/* xdp-lbd's messages: one line each on stderr. Under systemd (stderr is the
 * journal: JOURNAL_STREAM names it) each line starts with its sd-daemon level,
 * "<3>" error, "<4>" warning, "<6>" info, "<7>" debug, so the journal stores
 * the level; elsewhere errors and warnings read "Error: " and "Warning: ".
 */
#ifndef LBD_LOG_H
#define LBD_LOG_H

enum lbd_level {
	LBD_ERR = 3,
	LBD_WARN = 4,
	LBD_INFO = 6,
	LBD_DEBUG = 7,
};

/* Finds out once whether stderr is the journal. */
void lbd_log_setup(void);

void lbd_log(enum lbd_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* LBD_LOG_H */
