// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's poll loop: fds, timerfds and a signalfd; see lbd_loop.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "lbd_loop.h"

int lbd_loop_init(struct lbd_loop *loop)
{
	sigset_t set;

	memset(loop, 0, sizeof(*loop));
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	loop->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return loop->signal_fd < 0 ? -errno : 0;
}

static struct lbd_loop_source *new_source(struct lbd_loop *loop)
{
	struct lbd_loop_source *s;

	if (loop->source_count == LBD_LOOP_MAX_SOURCES)
		return NULL;
	s = &loop->sources[loop->source_count++];
	memset(s, 0, sizeof(*s));
	return s;
}

int lbd_loop_add_fd(struct lbd_loop *loop, int fd, short events, lbd_ready_fn ready,
		    lbd_deadline_fn deadline, void *arg)
{
	struct lbd_loop_source *s = new_source(loop);

	if (!s)
		return -ENOSPC;
	s->fd = fd;
	s->events = events;
	s->ready = ready;
	s->deadline = deadline;
	s->arg = arg;
	return 0;
}

int lbd_loop_add_timer(struct lbd_loop *loop, uint64_t period_ns, lbd_timer_fn fire, void *arg)
{
	struct itimerspec spec = { 0 };
	struct lbd_loop_source *s;
	int fd;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	spec.it_interval.tv_sec = (time_t)(period_ns / 1000000000ULL);
	spec.it_interval.tv_nsec = (long)(period_ns % 1000000000ULL);
	spec.it_value = spec.it_interval;
	s = new_source(loop);
	if (!s || timerfd_settime(fd, 0, &spec, NULL)) {
		int err = s ? -errno : -ENOSPC;

		if (s)
			loop->source_count--;
		close(fd);
		return err;
	}
	s->fd = fd;
	s->events = POLLIN;
	s->owned_fd = true;
	s->timer = fire;
	s->arg = arg;
	return 0;
}

int lbd_loop_on_hup(struct lbd_loop *loop, lbd_hup_fn fn, void *arg)
{
	if (loop->hup_count == (int)(sizeof(loop->hup) / sizeof(loop->hup[0])))
		return -ENOSPC;
	loop->hup[loop->hup_count] = fn;
	loop->hup_arg[loop->hup_count++] = arg;
	return 0;
}

static void read_signals(struct lbd_loop *loop)
{
	struct signalfd_siginfo si;
	int i;

	while (read(loop->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			for (i = 0; i < loop->hup_count; i++)
				loop->hup[i](loop->hup_arg[i]);
		} else {
			loop->stop = true;
			loop->stop_signal = (int)si.ssi_signo;
		}
	}
}

static void fire_timer(struct lbd_loop_source *s)
{
	uint64_t expirations;

	if (read(s->fd, &expirations, sizeof(expirations)) == (ssize_t)sizeof(expirations))
		s->timer(s->arg, expirations);
}

int lbd_loop_run(struct lbd_loop *loop)
{
	struct pollfd fds[LBD_LOOP_MAX_SOURCES + 1];
	int i, n, timeout, t;

	while (!loop->stop) {
		/* Sources added by a callback take part from the next round. */
		n = loop->source_count;
		timeout = -1;
		fds[0] = (struct pollfd){ .fd = loop->signal_fd, .events = POLLIN };
		for (i = 0; i < n; i++) {
			struct lbd_loop_source *s = &loop->sources[i];

			fds[i + 1] = (struct pollfd){ .fd = s->fd, .events = s->events };
			t = s->deadline ? s->deadline(s->arg) : -1;
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		if (poll(fds, (nfds_t)n + 1, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* Signals first: a SIGTERM stops the loop before more work. */
		if (fds[0].revents)
			read_signals(loop);
		for (i = 0; i < n && !loop->stop; i++) {
			struct lbd_loop_source *s = &loop->sources[i];

			if (s->timer) {
				if (fds[i + 1].revents)
					fire_timer(s);
			} else if (fds[i + 1].revents ||
				   (s->deadline && s->deadline(s->arg) == 0)) {
				s->ready(s->arg, fds[i + 1].revents);
			}
		}
	}
	return 0;
}

void lbd_loop_close(struct lbd_loop *loop)
{
	int i;

	for (i = 0; i < loop->source_count; i++)
		if (loop->sources[i].owned_fd)
			close(loop->sources[i].fd);
	if (loop->signal_fd > 0)
		close(loop->signal_fd);
	loop->source_count = 0;
}
