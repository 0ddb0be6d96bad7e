// SPDX-License-Identifier: GPL-2.0
/* frame_capture: the receiver of plain (not tunnelled) IPv4 UDP and TCP
 * frames, for tests of the traffic senders. Captures with AF_PACKET on one
 * interface, checks every frame (IPv4 header checksum, total length = frame
 * length - 14, UDP length, UDP or TCP checksum) and counts it under its flow.
 *
 *   frame_capture -i IFNAME [-R READY_FILE]
 *
 * Runs until SIGTERM/SIGINT, reads what is still queued, then prints one line
 * per flow, in the order first seen
 *   flow udp 10.0.0.1:10000 10.0.0.2:5000 7
 * and a closing line
 *   capture frames=N bad=N other=N socket_drops=N flows=N min_bytes=N max_bytes=N
 * frames: well-formed UDP/TCP frames (the flows' sum); other: frames of
 * anything else (ARP, IPv6, ...); min/max_bytes: the shortest and longest
 * well-formed frame (0 when none). Each bad frame is reported on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flow_tally.h"
#include "packet.h"

static unsigned long frames, bad, other, min_len, max_len;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *check_frame(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14, *l4;
	size_t ihl, tot;

	if (len < 14 || pkt_get16(f + 12) != ETH_P_IP)
		return "";
	if (len < 34 || ip[0] >> 4 != 4 || (ip[0] & 0xf) < 5)
		return "not an IPv4 header";
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = pkt_get16(ip + 2);
	if (tot != len - 14 || tot < ihl)
		return "IPv4 total length is not the frame's length - 14";
	if (pkt_csum(ip, ihl))
		return "IPv4 header checksum";
	if (ip[9] != IPPROTO_UDP && ip[9] != IPPROTO_TCP)
		return "";
	l4 = ip + ihl;
	if (tot - ihl < (ip[9] == IPPROTO_UDP ? 8u : 20u))
		return "L4 header cut short";
	if (ip[9] == IPPROTO_UDP && pkt_get16(l4 + 4) != tot - ihl)
		return "UDP length";
	if ((ip[9] == IPPROTO_TCP || pkt_get16(l4 + 6)) && l4_segment_check(ip, l4, tot - ihl))
		return ip[9] == IPPROTO_UDP ? "UDP checksum" : "TCP checksum";
	return NULL;
}

static void take(const uint8_t *f, size_t len)
{
	const char *why = check_frame(f, len);
	const uint8_t *ip = f + 14, *l4 = ip + (ip[0] & 0xf) * 4;
	uint32_t src, dst;

	if (why && !*why) {
		other++;
		return;
	}
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	if (!why && !flow_tally(ip[9], src, dst, pkt_get16(l4), pkt_get16(l4 + 2)))
		why = "more flows than the table holds";
	if (why) {
		bad++;
		fprintf(stderr, "frame_capture: bad frame of %zu bytes: %s\n", len, why);
		return;
	}
	frames++;
	if (!min_len || len < min_len)
		min_len = len;
	if (len > max_len)
		max_len = len;
}

/* Reads every frame queued now. */
static int drain(int fd)
{
	static uint8_t buf[65536];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC)) >= 0)
		take(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
	return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *ready = NULL;
	struct tpacket_stats st = { 0 };
	socklen_t st_len = sizeof(st);
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd, opt, one = 1, size = 64 << 20, err;

	while ((opt = getopt(argc, argv, "i:R:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'R': ready = optarg; break;
		default: goto usage;
		}
	}
	if (!ifname)
		goto usage;
	addr.sll_ifindex = (int)if_nametoindex(ifname);
	if (!addr.sll_ifindex) {
		fprintf(stderr, "frame_capture: Failed to find interface %s: %s\n", ifname,
			strerror(errno));
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "frame_capture: Failed to open a capture on %s: %s\n", ifname,
			strerror(errno));
		return 1;
	}
	/* A burst at full rate must fit: what the socket cannot take is lost
	 * (socket_drops), and the test would undercount.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 100) > 0 && (err = drain(fd))) {
			fprintf(stderr, "frame_capture: Failed to read frames: %s\n", strerror(-err));
			return 1;
		}
	}
	drain(fd);
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &st_len);
	flow_tally_print();
	printf("capture frames=%lu bad=%lu other=%lu socket_drops=%u flows=%zu min_bytes=%lu "
	       "max_bytes=%lu\n",
	       frames, bad, other, st.tp_drops, flow_tally_count, min_len, max_len);
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: frame_capture -i IFNAME [-R READY_FILE]\n");
	return 2;
}
