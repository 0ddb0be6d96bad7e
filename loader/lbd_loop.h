/* SPDX-License-Identifier: GPL-2.0 */
/* xdp-lbd's event loop: one thread, one poll() over every module's file
 * descriptors. A module (the HTTP server, the textfile writer, the pin
 * watcher; the health-check prober of issue 17 next) registers fds it waits
 * on and periodic timers (timerfd); signals arrive through a signalfd, so no
 * handler runs between two statements of a module. Callbacks run one at a
 * time and must not block.
 */
#ifndef LBD_LOOP_H
#define LBD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* Sources of all modules together; a prober with one socket per probe in
 * flight will need more (the array is the only limit).
 */
#define LBD_LOOP_MAX_SOURCES 32

/* @fd is ready (@revents as poll() gives them). */
typedef void (*lbd_ready_fn)(void *arg, short revents);
/* Milliseconds until the source must be called even without an event (-1:
 * no deadline); asked before every poll().
 */
typedef int (*lbd_deadline_fn)(void *arg);
/* A periodic timer fired (@expirations >= 1: more when the loop was late). */
typedef void (*lbd_timer_fn)(void *arg, uint64_t expirations);
/* SIGHUP arrived. */
typedef void (*lbd_hup_fn)(void *arg);

struct lbd_loop_source {
	int fd;
	short events;
	bool owned_fd;            /* a timerfd the loop made: closed with the loop */
	lbd_ready_fn ready;
	lbd_deadline_fn deadline; /* may be NULL */
	lbd_timer_fn timer;       /* timers: called instead of ready */
	void *arg;
};

struct lbd_loop {
	int signal_fd;
	bool stop;
	int stop_signal;          /* what stopped it */
	struct lbd_loop_source sources[LBD_LOOP_MAX_SOURCES];
	int source_count;
	lbd_hup_fn hup[4];
	void *hup_arg[4];
	int hup_count;
};

/* Blocks SIGTERM, SIGINT and SIGHUP and takes them through a signalfd; ignores
 * SIGPIPE (a scraper that hangs up must not kill the daemon). 0 or -errno.
 */
int lbd_loop_init(struct lbd_loop *loop);

/* Calls @ready whenever @fd has @events; @deadline (may be NULL) bounds the
 * wait. 0, or -ENOSPC.
 */
int lbd_loop_add_fd(struct lbd_loop *loop, int fd, short events, lbd_ready_fn ready,
		    lbd_deadline_fn deadline, void *arg);

/* Calls @fire every @period_ns (CLOCK_MONOTONIC), the first time one period
 * from now. 0 or -errno.
 */
int lbd_loop_add_timer(struct lbd_loop *loop, uint64_t period_ns, lbd_timer_fn fire, void *arg);

/* Calls @fn on SIGHUP, in the order registered. 0, or -ENOSPC. */
int lbd_loop_on_hup(struct lbd_loop *loop, lbd_hup_fn fn, void *arg);

/* Runs until SIGTERM or SIGINT (0) or a failing poll() (-errno). */
int lbd_loop_run(struct lbd_loop *loop);

void lbd_loop_close(struct lbd_loop *loop);

#endif /* LBD_LOOP_H */
