// SPDX-License-Identifier: GPL-2.0
/* ipip_capture: a backend's receiver. Captures frames on an interface
 * (AF_PACKET, so no ipip or fou module is needed) and checks every tunnelled
 * frame: IPIP (protocol 4), and with -g PORT also GUE direct IP (UDP to PORT,
 * checksum 0, source port 49152-65535, UDP length = inner length + 8).
 * Outer IPv4 header: IHL 5, TTL 64 (-t: another, e.g. 63 for frames the
 * balancer's kernel forwarded, which decrements it), checksum, total length, destination =
 * this backend, source as expected, TOS and DF equal to the inner header's.
 * Inner packet: IPv4 and UDP/TCP checksums intact.
 * With an IPv6 BACKEND_IP: IPv6-in-IPv6 instead (next header 41): outer hop
 * limit 64 (-t), payload length = the inner packet's, destination = this
 * backend, source the inner one's (or -o), traffic class the inner one's, the
 * flow label the same for every frame of a flow; inner UDP/TCP checksums
 * intact. Its flows are listed under the last 32 bits of their addresses;
 * IPv4 frames count as other (another capture checks the IPv4 address's).
 * Also, to an IPv6 BACKEND_IP, IPv4-in-IPv6 (next header 4): the same outer
 * checks, the traffic class the inner TOS, the source -o (an IPv4 client
 * cannot be one), the inner IPv4 header and UDP/TCP checksums intact.
 * With -g PORT also GUE over IPv6 to an IPv6 BACKEND_IP (next header 17, UDP
 * to PORT): the same checks of the outer and inner headers, the inner packet
 * IPv6 (gue6) or IPv4 (gue46) behind the UDP header, whose length is the
 * inner packet's + 8, source port 49152-65535, and checksum not 0 and right
 * over the pseudo-header and the whole segment (IPv6 requires it).
 *
 *   ipip_capture -i IFNAME -b BACKEND_IP [-o OUTER_SRC|client] [-g GUE_PORT] [-t TTL]
 *                [-R READY_FILE]
 *
 * Runs until SIGTERM/SIGINT, then prints one line per inner flow
 *   flow udp 10.0.0.1:10000 123.168.9.8:5000 7
 * and a closing line (fields are only ever added at its end)
 *   capture ipip=N bad=N other=N gue=N socket_drops=N flows=N packets=N untracked=N ipip6=N
 *           ipip46=N gue6=N gue46=N
 * flows and packets: the inner flows and well-formed frames this backend got;
 * untracked: frames of flows beyond the first FLOW_TALLY_MAX (counted, not listed).
 * Each bad frame is reported on stderr with the reason.
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

static unsigned long untracked;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The outer TTL every frame must carry (-t). */
static int expected_ttl = 64;

/* Returns NULL when the frame is a correct tunnelled frame, else the reason.
 * @tunnel_len is the outer headers' length: 20 (IPIP) or 28 (GUE).
 */
static const char *check(const uint8_t *f, size_t len, size_t tunnel_len, uint32_t backend,
			 uint32_t outer_src, int outer_is_client)
{
	const uint8_t *o = f + 14, *in;
	size_t in_ihl, in_len;
	uint32_t osrc, odst, isrc;

	if (len < 14 + tunnel_len + 20)
		return "frame too short for the tunnel";
	if (o[0] != 0x45)
		return "outer version/IHL is not 4/5";
	if (o[8] != expected_ttl)
		return "outer TTL is not the expected one (-t)";
	if (pkt_csum(o, 20) != 0)
		return "outer header checksum wrong";
	memcpy(&osrc, o + 12, 4);
	memcpy(&odst, o + 16, 4);
	if (odst != backend)
		return "outer destination is not this backend";
	in = o + tunnel_len;
	if ((in[0] >> 4) != 4)
		return "inner packet is not IPv4";
	in_ihl = (size_t)(in[0] & 0x0f) * 4;
	in_len = pkt_get16(in + 2);
	if (pkt_get16(o + 2) != in_len + tunnel_len)
		return "outer total length != inner + outer headers";
	if (14 + tunnel_len + in_len > len)
		return "frame shorter than the outer total length";
	if (tunnel_len == 28) {
		if (pkt_get16(o + 24) != in_len + 8)
			return "GUE: UDP length != inner length + 8";
		if (pkt_get16(o + 26) != 0)
			return "GUE: UDP checksum is not 0";
		if (pkt_get16(o + 20) < 49152)
			return "GUE: source port outside 49152-65535";
	}
	if (o[1] != in[1])
		return "outer TOS differs from inner";
	if ((pkt_get16(o + 6) & 0x4000) != (pkt_get16(in + 6) & 0x4000) || (pkt_get16(o + 6) & 0xbfff))
		return "outer DF/fragment bits not copied from inner DF";
	if (pkt_csum(in, in_ihl) != 0)
		return "inner header checksum wrong";
	memcpy(&isrc, in + 12, 4);
	if (outer_is_client ? osrc != isrc : osrc != outer_src)
		return "outer source is not the expected one";
	if ((in[9] == IPPROTO_UDP || in[9] == IPPROTO_TCP) && l4_segment_check(in, in + in_ihl, in_len - in_ihl))
		return "inner L4 checksum wrong (payload damaged)";
	return NULL;
}

/* The flow label of each IPv6 flow seen, by the flow's tally position. */
static uint32_t labels[FLOW_TALLY_MAX];
static bool label_seen[FLOW_TALLY_MAX];

/* GUE over IPv6's UDP header at @udp in front of an inner packet of @in_len
 * bytes, to @port; the checksum over the outer header @o's addresses.
 */
static const char *check_gue6_udp(const uint8_t *o, const uint8_t *udp, size_t in_len,
				  uint16_t port)
{
	if (pkt_get16(udp + 2) != port)
		return "GUE6: UDP destination is not the GUE port";
	if (pkt_get16(udp + 4) != in_len + 8)
		return "GUE6: UDP length != inner length + 8";
	if (pkt_get16(udp) < 49152)
		return "GUE6: source port outside 49152-65535";
	if (pkt_get16(udp + 6) == 0)
		return "GUE6: UDP checksum 0 (IPv6 requires one)";
	if (pkt_l4_csum6(o + 8, o + 24, IPPROTO_UDP, udp, in_len + 8))
		return "GUE6: UDP checksum wrong";
	return NULL;
}

/* The outer IPv6 header's checks shared by both inner families: version, hop
 * limit, destination, and an inner packet of @in_len bytes inside the frame
 * behind @tunnel_len bytes of outer headers (40; GUE 48: its UDP header too,
 * checked to port @gue_port).
 */
static const char *check_outer6(const uint8_t *o, size_t len, size_t in_len, size_t tunnel_len,
				const uint8_t *backend6, uint16_t gue_port)
{
	if (o[0] >> 4 != 6)
		return "outer version is not 6";
	if (o[7] != expected_ttl)
		return "outer hop limit is not the expected one (-t)";
	if (memcmp(o + 24, backend6, 16))
		return "outer destination is not this backend";
	if (pkt_get16(o + 4) != in_len + tunnel_len - 40)
		return "outer payload length != the inner packet's length (+ UDP)";
	if (14 + tunnel_len + in_len > len)
		return "frame shorter than the outer payload length";
	return tunnel_len == 48 ? check_gue6_udp(o, o + 40, in_len, gue_port) : NULL;
}

/* check() for IPv6-in-IPv6 to @backend6 (GUE over IPv6 with @tunnel_len 48);
 * see the top of the file.
 */
static const char *check6(const uint8_t *f, size_t len, size_t tunnel_len,
			  const uint8_t *backend6, const uint8_t *outer_src6, int outer_is_client,
			  uint16_t gue_port)
{
	const uint8_t *o = f + 14, *in = o + tunnel_len;
	const char *why;
	size_t in_len;

	if (len < 14 + tunnel_len + 40)
		return "frame too short for IPv6-in-IPv6";
	if (in[0] >> 4 != 6)
		return "inner packet is not IPv6";
	in_len = 40 + (size_t)pkt_get16(in + 4);
	why = check_outer6(o, len, in_len, tunnel_len, backend6, gue_port);
	if (why)
		return why;
	if (((o[0] & 0x0f) << 4 | o[1] >> 4) != ((in[0] & 0x0f) << 4 | in[1] >> 4))
		return "outer traffic class differs from inner";
	if (outer_is_client ? memcmp(o + 8, in + 8, 16) : memcmp(o + 8, outer_src6, 16))
		return "outer source is not the expected one";
	if ((in[6] == IPPROTO_UDP || in[6] == IPPROTO_TCP) &&
	    pkt_l4_csum6(in + 8, in + 24, in[6], in + 40, in_len - 40))
		return "inner L4 checksum wrong (payload damaged)";
	return NULL;
}

/* check() for IPv4-in-IPv6 to @backend6 from @outer_src6 (GUE with
 * @tunnel_len 48).
 */
static const char *check46(const uint8_t *f, size_t len, size_t tunnel_len,
			   const uint8_t *backend6, const uint8_t *outer_src6, uint16_t gue_port)
{
	const uint8_t *o = f + 14, *in = o + tunnel_len;
	const char *why;
	size_t in_ihl, in_len;

	if (len < 14 + tunnel_len + 20)
		return "frame too short for IPv4-in-IPv6";
	if (in[0] >> 4 != 4)
		return "inner packet is not IPv4";
	in_ihl = (size_t)(in[0] & 0x0f) * 4;
	in_len = pkt_get16(in + 2);
	why = check_outer6(o, len, in_len, tunnel_len, backend6, gue_port);
	if (why)
		return why;
	if (((o[0] & 0x0f) << 4 | o[1] >> 4) != in[1])
		return "outer traffic class differs from the inner TOS";
	if (memcmp(o + 8, outer_src6, 16))
		return "outer source is not outer_source6 (-o)";
	if (pkt_csum(in, in_ihl) != 0)
		return "inner header checksum wrong";
	if ((in[9] == IPPROTO_UDP || in[9] == IPPROTO_TCP) &&
	    l4_segment_check(in, in + in_ihl, in_len - in_ihl))
		return "inner L4 checksum wrong (payload damaged)";
	return NULL;
}

/* Tallies a frame of an inner flow under an outer IPv6 header whose flow label
 * is @label; false (with @why) when the label differs from the one its flow
 * had so far. A linear search for the flow's position: the IPv6 tests send
 * hundreds of flows, not millions.
 */
static bool tally_label(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport,
			uint16_t dport, uint32_t label, const char **why)
{
	size_t i;

	if (!flow_tally(proto, src, dst, sport, dport)) {
		untracked++;
		return true;
	}
	for (i = 0; i < flow_tally_count; i++) {
		const struct flow_count *c = &flow_tally_flows[i];

		if (c->proto != proto || c->src != src || c->dst != dst || c->sport != sport ||
		    c->dport != dport)
			continue;
		if (label_seen[i] && labels[i] != label) {
			*why = "flow label changed within a flow";
			return false;
		}
		label_seen[i] = true;
		labels[i] = label;
		break;
	}
	return true;
}

/* The outer flow label of frame @f. */
static uint32_t outer_label(const uint8_t *f)
{
	return (uint32_t)(f[14 + 1] & 0x0f) << 16 | pkt_get16(f + 14 + 2);
}

/* Tallies an IPv6-in-IPv6 frame's inner flow (the last 32 bits of its
 * addresses), the inner packet @tunnel_len bytes behind the L2 header's end.
 */
static bool tally6(const uint8_t *f, size_t tunnel_len, const char **why)
{
	const uint8_t *in = f + 14 + tunnel_len;
	bool l4 = in[6] == IPPROTO_UDP || in[6] == IPPROTO_TCP;
	uint32_t src, dst;

	memcpy(&src, in + 20, 4);
	memcpy(&dst, in + 36, 4);
	return tally_label(in[6], src, dst, l4 ? pkt_get16(in + 40) : 0,
			   l4 ? pkt_get16(in + 42) : 0, outer_label(f), why);
}

/* Tallies an IPv4-in-IPv6 frame's inner flow (ports 0 for a fragment). */
static bool tally46(const uint8_t *f, size_t tunnel_len, const char **why)
{
	const uint8_t *in = f + 14 + tunnel_len;
	size_t ihl = (size_t)(in[0] & 0x0f) * 4;
	bool l4 = (in[9] == IPPROTO_UDP || in[9] == IPPROTO_TCP) &&
		  !(pkt_get16(in + 6) & 0x3fff);
	uint32_t src, dst;

	memcpy(&src, in + 12, 4);
	memcpy(&dst, in + 16, 4);
	return tally_label(in[9], src, dst, l4 ? pkt_get16(in + ihl) : 0,
			   l4 ? pkt_get16(in + ihl + 2) : 0, outer_label(f), why);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *ready = NULL;
	uint32_t backend = 0, outer_src = 0;
	uint8_t backend6[16] = { 0 }, outer_src6[16] = { 0 };
	unsigned long ipip = 0, gue = 0, bad = 0, other = 0, ipip6 = 0, ipip46 = 0;
	unsigned long gue6 = 0, gue46 = 0;
	int ipv6 = 0;
	uint16_t gue_port = 0;
	int outer_is_client = 1, opt, fd;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	uint8_t frame[PKT_MAX + 64];

	while ((opt = getopt(argc, argv, "i:b:o:g:t:R:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'b':
			ipv6 = strchr(optarg, ':') != NULL;
			if (ipv6)
				pkt_ip6(optarg, backend6);
			else
				backend = pkt_ip(optarg);
			break;
		case 'o':
			outer_is_client = !strcmp(optarg, "client");
			if (!outer_is_client && strchr(optarg, ':'))
				pkt_ip6(optarg, outer_src6);
			else if (!outer_is_client)
				outer_src = pkt_ip(optarg);
			break;
		case 'g': gue_port = (uint16_t)atoi(optarg); break;
		case 't': expected_ttl = atoi(optarg); break;
		case 'R': ready = optarg; break;
		default:
			fprintf(stderr, "usage: ipip_capture -i IF -b BACKEND_IP [-o SRC|client] "
					"[-g GUE_PORT] [-t TTL] [-R READY_FILE]\n");
			return 2;
		}
	}
	if (!ifname || (!backend && !ipv6))
		return 2;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (!sll.sll_ifindex || fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("ipip_capture: capture socket");
		return 1;
	}
	/* Bursts of tens of thousands of frames must not overflow the socket
	 * while this process waits for a CPU: a loss here is the test's, not the
	 * balancer's. SO_RCVBUFFORCE (root) goes past rmem_max.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 32 << 20 }, sizeof(int)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ 32 << 20 }, sizeof(int));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (ready) {
		FILE *r = fopen(ready, "w");

		if (r)
			fclose(r);
	}
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t from_len = sizeof(from);
		size_t tunnel_len;
		bool gue_frame;
		const char *why;
		int inner_v;
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recvfrom(fd, frame, sizeof(frame), 0, (struct sockaddr *)&from, &from_len);
		if (n < 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		/* To an IPv6 backend: IPv6-in-IPv6 or IPv4-in-IPv6, in GUE too. */
		gue_frame = ipv6 && gue_port && n >= 14 + 48 && frame[14 + 6] == IPPROTO_UDP &&
			    pkt_get16(frame + 14 + 42) == gue_port;
		tunnel_len = gue_frame ? 48 : 40;
		inner_v = n >= 14 + 49 ? frame[14 + tunnel_len] >> 4 : 0;
		if (ipv6 && n >= 14 + 40 && pkt_get16(frame + 12) == ETH_P_IPV6 &&
		    (frame[14 + 6] == IPPROTO_IPV6 || frame[14 + 6] == IPPROTO_IPIP || gue_frame)) {
			if (gue_frame ? inner_v == 6 : frame[14 + 6] == IPPROTO_IPV6) {
				if (gue_frame)
					gue6++;
				else
					ipip6++;
				why = check6(frame, (size_t)n, tunnel_len, backend6, outer_src6,
					     outer_is_client, gue_port);
				if (!why)
					tally6(frame, tunnel_len, &why);
			} else {
				if (gue_frame)
					gue46++;
				else
					ipip46++;
				why = check46(frame, (size_t)n, tunnel_len, backend6, outer_src6,
					      gue_port);
				if (!why)
					tally46(frame, tunnel_len, &why);
			}
			if (why) {
				bad++;
				fprintf(stderr, "ipip_capture: bad frame (%s)\n", why);
			}
			continue;
		}
		/* An IPv6 backend's capture leaves IPv4 to the IPv4 address's
		 * own capture (a backend with both, as in the demo).
		 */
		if (ipv6 || n < 42 || pkt_get16(frame + 12) != ETH_P_IP) {
			other++;
			continue;
		}
		if (frame[14 + 9] == IPPROTO_IPIP) {
			tunnel_len = 20;
			ipip++;
		} else if (gue_port && frame[14 + 9] == IPPROTO_UDP && frame[14] == 0x45 &&
			   pkt_get16(frame + 14 + 22) == gue_port) {
			tunnel_len = 28;
			gue++;
		} else {
			other++;
			continue;
		}
		why = check(frame, (size_t)n, tunnel_len, backend, outer_src, outer_is_client);
		if (why) {
			bad++;
			fprintf(stderr, "ipip_capture: bad frame (%s)\n", why);
			continue;
		}
		{
			const uint8_t *in = frame + 14 + tunnel_len;
			size_t ihl = (size_t)(in[0] & 0x0f) * 4;
			int frag = (pkt_get16(in + 6) & 0x3fff) != 0;
			uint32_t src, dst;

			memcpy(&src, in + 12, 4);
			memcpy(&dst, in + 16, 4);
			if (!flow_tally(in[9], src, dst, frag ? 0 : pkt_get16(in + ihl),
					frag ? 0 : pkt_get16(in + ihl + 2)))
				untracked++;
		}
	}
	flow_tally_print();
	{
		struct tpacket_stats st = { 0 };
		socklen_t st_len = sizeof(st);

		/* Frames the socket itself dropped (buffer full): nonzero means
		 * this capture undercounts.
		 */
		getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &st_len);
		printf("capture ipip=%lu bad=%lu other=%lu gue=%lu socket_drops=%u flows=%zu "
		       "packets=%lu untracked=%lu ipip6=%lu ipip46=%lu gue6=%lu gue46=%lu\n",
		       ipip, bad, other, gue, st.tp_drops, flow_tally_count,
		       ipip + gue + ipip6 + ipip46 + gue6 + gue46 - bad, untracked, ipip6, ipip46,
		       gue6, gue46);
	}
	close(fd);
	return 0;
}
