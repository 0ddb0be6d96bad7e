// SPDX-License-Identifier: GPL-2.0
/* xdp_send -M afxdp: an AF_XDP socket in copy mode (libxdp's xsk API), TX only.
 *
 * Each sender has its own socket, bound to queue <thread index>, and its own
 * UMEM, every frame of which holds the template (payload included) from the
 * start; a frame's headers are written anew each time it is sent. In copy
 * mode the kernel sends only inside sendto(), a batch per call, through the
 * driver's normal xmit path (so a veth peer needs no XDP program), and hands
 * the frame back on the completion ring when the skb is freed, which can be
 * long after: completions are what the summary counts, and the end waits for
 * them. Zero-copy is not tried: veth refuses it, and copy mode needs no
 * driver support.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include "xdp_send.h"

#define UMEM_FRAMES 4096
#define FRAME_SIZE 2048
#define RING_SIZE 2048
/* Frames put on the TX ring per call at most: libxdp reserves all asked for
 * or none, so a small batch still fits when the ring is nearly full.
 */
#define BATCH 64
/* A queue just released (our previous run) stays busy for about 0.5 s. */
#define BIND_RETRY_S 1.0
/* The end waits this long without a completion before it gives up. */
#define DRAIN_IDLE_S 2.0
/* Frames copy mode sends per sendto() (kernel default 32); older kernels
 * lack the option and keep their default.
 */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif

struct xsk_sender {
	uint8_t *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp;
	uint64_t free_addr[UMEM_FRAMES];
	unsigned int free_count;
	unsigned long long queued;    /* frames put on the TX ring: the flow sequence */
	unsigned long long completed; /* of those, handed back: sent */
};

static unsigned int tx_queues; /* 0: the driver does not say */

/* The interface's TX queues as its driver reports them (ETHTOOL_GCHANNELS). */
static unsigned int count_tx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned int n = 0;

	if (fd < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		n = ch.tx_count + ch.combined_count;
	close(fd);
	return n;
}

static int afxdp_setup(const struct args *a, char *why, size_t why_len)
{
	(void)why;
	(void)why_len;
	tx_queues = count_tx_queues(a->ifname);
	return 0;
}

static int afxdp_open(struct sender *s, char *why, size_t why_len)
{
	const struct args *a = s->args;
	struct xsk_umem_config umem_cfg = { .fill_size = RING_SIZE, .comp_size = RING_SIZE,
					    .frame_size = FRAME_SIZE };
	/* TX only, and no XDP program: without INHIBIT_PROG_LOAD libxdp would
	 * attach its redirect program, which a TX socket does not need.
	 */
	struct xsk_socket_config cfg = { .tx_size = RING_SIZE,
					 .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
					 .bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP };
	struct timespec pause = { .tv_nsec = 50000000 };
	double give_up = now_s() + BIND_RETRY_S;
	struct xsk_sender *x;
	int err, budget = RING_SIZE;
	unsigned int i;

	if (tx_queues && (unsigned int)s->index >= tx_queues) {
		snprintf(why, why_len,
			 "bind an AF_XDP socket to %s queue %d (%s has %u TX queue%s; -T %u needs "
			 "one per thread)",
			 a->ifname, s->index, a->ifname, tx_queues, tx_queues == 1 ? "" : "s",
			 a->threads);
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(why, why_len, "allocate an AF_XDP sender");
		return -ENOMEM;
	}
	x->area = mmap(NULL, (size_t)UMEM_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		err = -errno;
		snprintf(why, why_len, "map the AF_XDP UMEM");
		free(x);
		return err;
	}
	for (i = 0; i < UMEM_FRAMES; i++) {
		memcpy(x->area + (size_t)i * FRAME_SIZE, a->frame, a->frame_len);
		x->free_addr[i] = (uint64_t)i * FRAME_SIZE;
	}
	x->free_count = UMEM_FRAMES;
	s->priv = x;
	err = xsk_umem__create(&x->umem, x->area, (__u64)UMEM_FRAMES * FRAME_SIZE, &x->fill,
			       &x->comp, &umem_cfg);
	if (err) {
		snprintf(why, why_len, "create the AF_XDP UMEM");
		goto fail;
	}
	while ((err = xsk_socket__create(&x->xsk, a->ifname, (__u32)s->index, x->umem, NULL,
					 &x->tx, &cfg)) == -EBUSY && now_s() < give_up)
		nanosleep(&pause, NULL);
	if (err) {
		snprintf(why, why_len, "bind an AF_XDP socket to %s queue %d", a->ifname,
			 s->index);
		goto fail;
	}
	/* More frames per sendto(): fewer system calls (about 5% here). */
	setsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget,
		   sizeof(budget));
	return 0;
fail:
	s->priv = NULL;
	if (x->umem)
		xsk_umem__delete(x->umem);
	munmap(x->area, (size_t)UMEM_FRAMES * FRAME_SIZE);
	free(x);
	return err;
}

/* Frames the kernel is done with go back to the free list. */
static void reclaim(struct xsk_sender *x)
{
	__u32 idx, n, i;

	n = xsk_ring_cons__peek(&x->comp, RING_SIZE, &idx);
	for (i = 0; i < n; i++)
		x->free_addr[x->free_count++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	xsk_ring_cons__release(&x->comp, n);
	x->completed += n;
}

/* Copy mode transmits only when asked. EAGAIN (the driver was busy: the
 * frames stay queued), EBUSY (the driver dropped a frame: it is completed
 * anyway and counts in xmit_errors) and ENOBUFS (no skb) are part of the job.
 */
static int kick(struct xsk_sender *x)
{
	if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 ||
	    errno == EAGAIN || errno == EBUSY || errno == ENOBUFS || errno == EINTR)
		return 0;
	return -errno;
}

static long long afxdp_send(struct sender *s, unsigned long long n)
{
	const struct args *a = s->args;
	struct xsk_sender *x = s->priv;
	__u32 idx, got, i;
	int err;

	reclaim(x);
	if (n > BATCH)
		n = BATCH;
	if (n > x->free_count)
		n = x->free_count;
	got = n ? xsk_ring_prod__reserve(&x->tx, (__u32)n, &idx) : 0;
	for (i = 0; i < got; i++) {
		struct xdp_desc *desc = xsk_ring_prod__tx_desc(&x->tx, idx + i);
		uint64_t addr = x->free_addr[--x->free_count];

		flow_headers(a, x->area + addr, (uint32_t)(x->queued++ % a->flows));
		desc->addr = addr;
		desc->len = (__u32)a->frame_len;
	}
	xsk_ring_prod__submit(&x->tx, got);
	err = kick(x);
	return err ? err : (long long)got;
}

/* Waits for the completions of every frame queued: they can come long
 * after the last sendto() (a peer still holding skbs).
 */
static void afxdp_finish(struct sender *s)
{
	struct xsk_sender *x = s->priv;
	struct timespec pause = { .tv_nsec = 100000 };
	unsigned long long before;
	double idle_since = now_s();

	while (x->completed < x->queued && now_s() - idle_since < DRAIN_IDLE_S) {
		before = x->completed;
		if (kick(x))
			break;
		reclaim(x);
		if (x->completed != before)
			idle_since = now_s();
		else
			nanosleep(&pause, NULL);
	}
	s->frames = x->completed;
}

static void afxdp_close(struct sender *s)
{
	struct xsk_sender *x = s->priv;

	if (!x)
		return;
	xsk_socket__delete(x->xsk);
	xsk_umem__delete(x->umem);
	munmap(x->area, (size_t)UMEM_FRAMES * FRAME_SIZE);
	free(x);
	s->priv = NULL;
}

static void afxdp_teardown(void)
{
}

const struct send_method afxdp_method = {
	.name = "afxdp",
	.label = "AF_XDP (copy mode)",
	/* Calls are cheap: pace finely. */
	.lead = 0.002,
	.setup = afxdp_setup,
	.open = afxdp_open,
	.send = afxdp_send,
	.finish = afxdp_finish,
	.close = afxdp_close,
	.teardown = afxdp_teardown,
	.counters = link_tx_counters,
};
