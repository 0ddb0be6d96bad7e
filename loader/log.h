/* SPDX-License-Identifier: GPL-2.0 */
/* Messages of lb-load and lbctl: errors read "Failed to <verb> <object>: <why>";
 * libbpf and libxdp stay quiet unless -v, but libxdp's lines are kept so the
 * summary can say why the dispatcher was not used. Under systemd (the stream
 * is the journal: JOURNAL_STREAM names it) each line starts with its syslog
 * level, "<3>" error, "<4>" warning, "<6>" info, "<7>" debug.
 */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <stdbool.h>

extern bool lb_verbose;

/* Routes libbpf and libxdp output through us; call once at start. */
void lb_log_setup(bool verbose);

void lb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error line as it is, without "Error: " (a config's file:line:col). */
void lb_err_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lb_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whether @fd is the journal's stream (JOURNAL_STREAM names it): a line
 * written there then starts with its syslog level. xdp-lbd's log asks too.
 */
bool lb_is_journal_stream(int fd);

/* The most recent libxdp line containing @needle, or NULL. */
const char *lb_libxdp_line(const char *needle);
/* Forgets the libxdp lines seen so far (before an attach attempt). */
void lb_libxdp_lines_clear(void);

#endif /* LB_LOG_H */
