// SPDX-License-Identifier: GPL-2.0
/* xdp_send -M packet: AF_PACKET, the last resort. sendmmsg() of a batch of
 * frames on a SOCK_RAW socket bound to the interface, with
 * PACKET_QDISC_BYPASS (straight to the driver, as the other methods go).
 * Measured here it beat a PACKET_TX_RING (TPACKET_V2): 0.71 against 0.55
 * Mpps (docs/kernels.md), and it is simpler. sendmmsg() says how many frames
 * the kernel took; a frame it refused (ENOBUFS: the driver dropped it,
 * EAGAIN: the socket's buffer is full) is sent again, so the frames taken are
 * always the first ones of the flow sequence.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>

#include "xdp_send.h"

#define BATCH 64
/* Room for a batch of the largest frames in flight, and then some. */
#define SNDBUF (4 << 20)

struct packet_sender {
	int fd;
	uint8_t frame[BATCH][PKT_MAX];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
	unsigned long long taken; /* the flow sequence so far */
};

static int packet_setup(const struct args *a, char *why, size_t why_len)
{
	(void)a;
	(void)why;
	(void)why_len;
	return 0;
}

static int packet_open(struct sender *s, char *why, size_t why_len)
{
	const struct args *a = s->args;
	/* Protocol 0: the socket receives nothing, it only sends. */
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_ifindex = a->ifindex };
	struct packet_sender *p = calloc(1, sizeof(*p));
	int one = 1, size = SNDBUF, err, i;

	if (!p) {
		snprintf(why, why_len, "allocate an AF_PACKET sender");
		return -ENOMEM;
	}
	p->fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (p->fd < 0) {
		err = -errno;
		snprintf(why, why_len, "create an AF_PACKET socket");
		free(p);
		return err;
	}
	if (bind(p->fd, (struct sockaddr *)&addr, sizeof(addr))) {
		snprintf(why, why_len, "bind an AF_PACKET socket to %s", a->ifname);
		goto fail;
	}
	if (setsockopt(p->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		snprintf(why, why_len, "set PACKET_QDISC_BYPASS on the AF_PACKET socket");
		goto fail;
	}
	/* Not fatal: the default buffer only means more EAGAIN. */
	if (setsockopt(p->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	for (i = 0; i < BATCH; i++) {
		memcpy(p->frame[i], a->frame, a->frame_len);
		p->iov[i].iov_base = p->frame[i];
		p->iov[i].iov_len = a->frame_len;
		p->msg[i].msg_hdr.msg_iov = &p->iov[i];
		p->msg[i].msg_hdr.msg_iovlen = 1;
	}
	s->priv = p;
	return 0;
fail:
	err = -errno;
	close(p->fd);
	free(p);
	return err;
}

static long long packet_send(struct sender *s, unsigned long long n)
{
	const struct args *a = s->args;
	struct packet_sender *p = s->priv;
	struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };
	unsigned int i, count = n < BATCH ? (unsigned int)n : BATCH;
	int sent;

	for (i = 0; i < count; i++)
		flow_headers(a, p->frame[i], (uint32_t)((p->taken + i) % a->flows));
	sent = sendmmsg(p->fd, p->msg, count, MSG_DONTWAIT);
	if (sent < 0) {
		if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
			return -errno;
		/* Let the driver or the socket's buffer drain a little. */
		poll(&pfd, 1, 1);
		return 0;
	}
	p->taken += (unsigned int)sent;
	return sent;
}

static void packet_finish(struct sender *s)
{
	s->frames = ((struct packet_sender *)s->priv)->taken;
}

static void packet_close(struct sender *s)
{
	struct packet_sender *p = s->priv;

	if (!p)
		return;
	close(p->fd);
	free(p);
	s->priv = NULL;
}

static void packet_teardown(void)
{
}

const struct send_method packet_method = {
	.name = "packet",
	.label = "AF_PACKET (sendmmsg)",
	.lead = 0.002,
	.setup = packet_setup,
	.open = packet_open,
	.send = packet_send,
	.finish = packet_finish,
	.close = packet_close,
	.teardown = packet_teardown,
	.counters = link_tx_counters,
};
