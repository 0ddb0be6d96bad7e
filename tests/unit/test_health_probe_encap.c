// SPDX-License-Identifier: GPL-2.0
/* lb_probe_encap (bpf/health/probe_encap.bpf.c), the LWT program that wraps
 * xdp-lbd's health probes through the tunnel, in two halves:
 *
 * - BPF_PROG_TEST_RUN, table-driven: every packet it refuses (no mark, a mark
 *   that is not a probe's, a probe of an empty backend slot, a packet it
 *   cannot wrap) ends in BPF_DROP with its probe.* counter, the VIP's drop
 *   counter where the backend names one, and the packet unchanged. Only
 *   refusals: a test run gives the skb no route, and bpf_lwt_push_encap()
 *   reads the route's device (kernels without the fix for it dereference
 *   NULL), so no case here may reach the push.
 * - The wrapping itself, for real: in a network namespace of the test's own,
 *   a veth pair hc0/hc1, the backend a hop away (so only a probe the
 *   kernel routes again by its outer destination arrives), xdp-lbd's rule
 *   and a route `VIP/32 encap bpf xmit`
 *   made with xdp-lbd's own netlink code (loader/lbd_routes.c); a socket
 *   marked as xdp-lbd marks a probe sends to the VIP, and an AF_PACKET socket
 *   on hc1 receives what went out of hc0: every byte of the outer IPv4 (and
 *   UDP for GUE) header, checksum included, and the inner packet as sent.
 *   The same for an IPv6 backend: IPv4-in-IPv6 from the IPv4 route (the
 *   kernel routes the pushed IPv6 header as IPv6) and IPv6-in-IPv6 from a
 *   route `VIP6/128 encap bpf xmit` and the IPv6 rule, every byte of the
 *   outer IPv6 header, flow label included.
 *   An unmarked packet to the VIP never meets the route.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flow_hash_common.h"
#include "lb_consts_common.h"
#include "lb_counters_common.h"
#include "lb_structs_common.h"
#include "lbd_routes.h"
#include "packet.h"
#include "probe_encap.skel.h"
#include "stage_fixture.h"
#include "test_harness.h"
#include "xdp_test_run.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MARK_BASE 0x12340000U  /* not the default: the program takes its tunable */
#define BACKEND_ID 5           /* an UP backend of VIP id VIP_ID */
#define EMPTY_ID 6             /* an empty slot */
#define BACKEND6_ID 7          /* an UP IPv6 backend of VIP id VIP_ID */
#define VIP_ID 3
#define GUE_PORT 6080
#define TABLE 100
#define PRIORITY 100
#define VIP "10.9.9.9"
#define VIP_PORT 7777
#define LOCAL "10.9.0.1"       /* hc0: the probe's source */
#define GATEWAY "10.9.0.2"     /* behind hc1, by a permanent neighbour entry */
#define BACKEND_NET "10.9.5.0/24"
#define BACKEND "10.9.5.2"     /* routed via GATEWAY: reached only if the kernel
				* routes the wrapped probe again (BPF_LWT_REROUTE) */
#define OUTER_SRC "10.9.0.77"
/* The same for IPv6 (hc0's IPv6 address, BACKEND6 behind GATEWAY6), and the
 * IPv6 VIP, whose route is an IPv6 one.
 */
#define VIP6 "fd09:9::9"
#define LOCAL6 "fd09::1"
#define GATEWAY6 "fd09::2"
#define BACKEND6_NET "fd09:5::/64"
#define BACKEND6 "fd09:5::2"
#define OUTER_SRC6 "fd09::77"

/* The program with outer sources @outer_src and @outer_src6 (NULL: none),
 * backend BACKEND_ID at BACKEND and BACKEND6_ID at BACKEND6.
 */
static struct probe_encap_bpf *load(__be32 outer_src, const char *outer_src6)
{
	struct lb_backend be = {
		.addr = pkt_ip(BACKEND), .state = LB_BACKEND_UP, .vip_id = VIP_ID, .weight = 1,
	};
	struct lb_backend be6 = {
		.state = LB_BACKEND_UP, .flags = LB_BACKEND_F_IPV6, .vip_id = VIP_ID, .weight = 1,
	};
	struct probe_encap_bpf *skel = probe_encap_bpf__open();
	__u32 id = BACKEND_ID, id6 = BACKEND6_ID;

	if (!ASSERT_TRUE(skel != NULL, "open the probe encap object"))
		return NULL;
	pkt_ip6(BACKEND6, be6.addr6);
	skel->rodata->lb_tunables.probe_mark = MARK_BASE;
	skel->rodata->lb_tunables.gue_port = htons(GUE_PORT);
	skel->rodata->lb_tunables.outer_src_addr = outer_src;
	if (outer_src6)
		pkt_ip6(outer_src6, skel->rodata->lb_tunables.outer_src_addr6);
	if (!ASSERT_OK(probe_encap_bpf__load(skel), "load lb_probe_encap (LWT_XMIT)") ||
	    !ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.backends), &id, &be, BPF_ANY),
		       "backend 5") ||
	    !ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.backends), &id6, &be6,
					   BPF_ANY), "IPv6 backend 7")) {
		probe_encap_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* --- refusals under BPF_PROG_TEST_RUN ------------------------------------------- */

/* (Shorter than an IPv4 header the test run itself refuses, EINVAL; a route
 * never hands one over.)
 */
enum damage {
	INTACT, VERSION_6, IHL_4, LONGER_TOT_LEN,
	NO_UDP_CHECKSUM, /* IPv4 UDP's check 0 */
	FRAGMENT,        /* IPv4 MF set */
	NOT_TCP_UDP,     /* ICMP's protocol number (IPv4) or next header (IPv6) */
};

struct refusal_case {
	const char *what;
	__u32 mark;
	enum damage damage;
	enum lb_counter counter;
	bool vip_drop;         /* counted for VIP_ID too */
	bool ipv6;             /* an IPv6 probe (LONGER_TOT_LEN: its payload length) */
	bool source6;          /* the program loaded with outer_source6 */
};

static const struct refusal_case refusals[] = {
	{ "an unmarked packet", 0, INTACT, LB_C_PROBE_DROP_UNKNOWN_MARK, false, false, false },
	{ "another program's mark", 0x00004005, INTACT, LB_C_PROBE_DROP_UNKNOWN_MARK, false, false,
	  false },
	{ "our mark with a bit of the mask changed", (MARK_BASE ^ 0x2000) | BACKEND_ID, INTACT,
	  LB_C_PROBE_DROP_UNKNOWN_MARK, false, false, false },
	{ "a probe of an empty backend slot", MARK_BASE | EMPTY_ID, INTACT,
	  LB_C_PROBE_DROP_UNKNOWN_MARK, false, false, false },
	{ "a GUE probe of an empty backend slot", MARK_BASE | LB_PROBE_MARK_GUE | EMPTY_ID,
	  INTACT, LB_C_PROBE_DROP_UNKNOWN_MARK, false, false, false },
	{ "a probe with IP version 6", MARK_BASE | BACKEND_ID, VERSION_6,
	  LB_C_PROBE_DROP_MALFORMED, true, false, false },
	{ "a probe with IHL 4", MARK_BASE | LB_PROBE_MARK_GUE | BACKEND_ID, IHL_4,
	  LB_C_PROBE_DROP_MALFORMED, true, false, false },
	{ "a probe whose total length exceeds the packet", MARK_BASE | BACKEND_ID,
	  LONGER_TOT_LEN, LB_C_PROBE_DROP_MALFORMED, true, false, false },
	{ "an IPv6 probe whose payload length exceeds the packet", MARK_BASE | BACKEND6_ID,
	  LONGER_TOT_LEN, LB_C_PROBE_DROP_MALFORMED, true, true, false },
	{ "an IPv6 probe of an IPv4 backend", MARK_BASE | BACKEND_ID, INTACT,
	  LB_C_PROBE_DROP_MALFORMED, true, true, false },
	/* GUE over IPv6 only where the inner checksum gives the UDP checksum:
	 * never sent with one the backend would reject.
	 */
	{ "a GUE IPv6 probe neither TCP nor UDP", MARK_BASE | LB_PROBE_MARK_GUE | BACKEND6_ID,
	  NOT_TCP_UDP, LB_C_PROBE_DROP_MALFORMED, true, true, false },
	{ "a GUE IPv4 probe neither TCP nor UDP of an IPv6 backend",
	  MARK_BASE | LB_PROBE_MARK_GUE | BACKEND6_ID, NOT_TCP_UDP, LB_C_PROBE_DROP_MALFORMED,
	  true, false, true },
	{ "a GUE IPv4 UDP probe without a checksum of an IPv6 backend",
	  MARK_BASE | LB_PROBE_MARK_GUE | BACKEND6_ID, NO_UDP_CHECKSUM, LB_C_PROBE_DROP_MALFORMED,
	  true, false, true },
	{ "a GUE IPv4 probe fragment of an IPv6 backend",
	  MARK_BASE | LB_PROBE_MARK_GUE | BACKEND6_ID, FRAGMENT, LB_C_PROBE_DROP_MALFORMED, true,
	  false, true },
	/* The config asks for outer_source6 there; a program without one drops. */
	{ "a GUE IPv4 probe of an IPv6 backend without outer_source6",
	  MARK_BASE | LB_PROBE_MARK_GUE | BACKEND6_ID, INTACT, LB_C_PROBE_DROP_ENCAP_FAILED, true,
	  false, false },
	{ "an IPv4 probe of an IPv6 backend without outer_source6", MARK_BASE | BACKEND6_ID,
	  INTACT, LB_C_PROBE_DROP_ENCAP_FAILED, true, false, false },
};

/* An Ethernet frame (a test run of an L3 program takes one and pulls the
 * header) with a UDP probe to the VIP, damaged as @damage says.
 */
static size_t refusal_frame(enum damage damage, bool ipv6, uint8_t *buf, size_t cap)
{
	struct pkt_spec spec;
	struct pkt_layout lay;
	size_t len;

	if (ipv6) {
		pkt_spec_udp6(&spec);
		pkt_ip6(LOCAL6, spec.src6);
		pkt_ip6(VIP6, spec.dst6);
	} else {
		pkt_spec_udp(&spec);
		spec.src = pkt_ip(LOCAL);
		spec.dst = pkt_ip(VIP);
	}
	spec.dport = VIP_PORT;
	spec.payload_len = 16;
	len = pkt_build(&spec, buf, cap);
	pkt_layout(&spec, &lay);
	switch (damage) {
	case INTACT:
		break;
	case VERSION_6:
		buf[lay.l3] = 0x65;
		break;
	case IHL_4:
		buf[lay.l3] = 0x44;
		break;
	case LONGER_TOT_LEN:
		if (ipv6) {
			pkt_put16(buf + lay.l3 + 4, (uint16_t)(len - lay.l3 - 40 + 4));
			break;
		}
		pkt_put16(buf + lay.l3 + 2, (uint16_t)(len - lay.l3 + 4));
		pkt_ipv4_csum_fix(buf + lay.l3);
		break;
	case NO_UDP_CHECKSUM:
		pkt_put16(buf + lay.l4 + 6, 0);
		break;
	case FRAGMENT:
		pkt_put16(buf + lay.l3 + 6, 0x2000);
		pkt_ipv4_csum_fix(buf + lay.l3);
		break;
	case NOT_TCP_UDP:
		if (ipv6) {
			buf[lay.l3 + 6] = IPPROTO_ICMPV6;
		} else {
			buf[lay.l3 + 9] = IPPROTO_ICMP;
			pkt_ipv4_csum_fix(buf + lay.l3);
		}
		break;
	}
	return len;
}

static void test_refusals(void)
{
	struct probe_encap_bpf *skel_plain = load(0, NULL), *skel6 = load(0, OUTER_SRC6), *skel;
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct lb_vip_drops drops_before, drops_after;
	uint8_t in[256], out[512];
	__u32 vip_id = VIP_ID;
	size_t i, in_len;

	if (!skel_plain || !skel6)
		goto out;
	for (i = 0; i < ARRAY_SIZE(refusals); i++) {
		const struct refusal_case *c = &refusals[i];
		struct __sk_buff ctx = { .mark = c->mark };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
		struct counter_delta want = { c->counter, 1 };
		enum lb_vip_drop vd = c->counter == LB_C_PROBE_DROP_MALFORMED ?
					      LB_VD_PROBE_DROP_MALFORMED :
				      c->counter == LB_C_PROBE_DROP_ENCAP_FAILED ?
					      LB_VD_PROBE_DROP_ENCAP_FAILED :
					      LB_VD_PROBE_DROP_UNKNOWN_MARK;
		char what[160];

		skel = c->source6 ? skel6 : skel_plain;
		in_len = refusal_frame(c->damage, c->ipv6, in, sizeof(in));
		opts.data_in = in;
		opts.data_size_in = (__u32)in_len;
		counters_read(bpf_map__fd(skel->maps.counters), before);
		percpu_sum_u64(bpf_map__fd(skel->maps.vip_drops), &vip_id, &drops_before,
			       sizeof(drops_before));
		snprintf(what, sizeof(what), "%s: test run", c->what);
		if (!ASSERT_OK(bpf_prog_test_run_opts(
				       bpf_program__fd(skel->progs.lb_probe_encap), &opts), what))
			continue;
		counters_read(bpf_map__fd(skel->maps.counters), after);
		percpu_sum_u64(bpf_map__fd(skel->maps.vip_drops), &vip_id, &drops_after,
			       sizeof(drops_after));
		snprintf(what, sizeof(what), "%s: BPF_DROP", c->what);
		ASSERT_EQ(opts.retval, BPF_DROP, what);
		snprintf(what, sizeof(what), "%s: counters", c->what);
		counters_expect(before, after, &want, 1, what);
		snprintf(what, sizeof(what), "%s: counted for its VIP", c->what);
		ASSERT_EQ(drops_after.count[vd] - drops_before.count[vd], c->vip_drop ? 1 : 0, what);
		/* The L3 packet comes back behind a zeroed L2 header of the test run's. */
		snprintf(what, sizeof(what), "%s: the packet unchanged", c->what);
		if (ASSERT_EQ(opts.data_size_out, in_len, what))
			ASSERT_BYTES(out + ETH_HLEN, in_len - ETH_HLEN, in + ETH_HLEN,
				     in_len - ETH_HLEN, what);
	}
out:
	probe_encap_bpf__destroy(skel_plain);
	probe_encap_bpf__destroy(skel6);
}

/* --- the wrapping, through a route ---------------------------------------------- */

static int wire_state; /* 0 not tried, 1 up, -1 no namespace (not root), -2 setup failed */

/* The test's own namespace: hc0 (LOCAL/24) -- hc1, GATEWAY a permanent
 * neighbour of hc0 and BACKEND's subnet routed via it, no IPv6 (its chatter
 * would only be skipped).
 */
static int wire(void)
{
	if (wire_state)
		return wire_state;
	wire_state = -1;
	if (unshare(CLONE_NEWNET))
		return wire_state;
	wire_state = -2;
	if (system("sysctl -qw net.ipv6.conf.default.disable_ipv6=1 && ip link set lo up && "
		   "ip link add hc0 type veth peer name hc1 && "
		   "ip addr add " LOCAL "/24 dev hc0 && ip link set hc0 up && ip link set hc1 up && "
		   "ip neigh add " GATEWAY " lladdr 02:00:00:00:00:02 dev hc0 nud permanent && "
		   "ip route add " BACKEND_NET " via " GATEWAY " && "
		   /* IPv6 on hc0 only (hc1 stays quiet): its address, a permanent
		    * neighbour and BACKEND6's subnet behind it.
		    */
		   "sysctl -qw net.ipv6.conf.hc0.disable_ipv6=0 && "
		   "ip addr add " LOCAL6 "/64 dev hc0 nodad && "
		   "ip neigh add " GATEWAY6 " lladdr 02:00:00:00:00:02 dev hc0 nud permanent && "
		   "ip -6 route add " BACKEND6_NET " via " GATEWAY6))
		return wire_state;
	wire_state = 1;
	return wire_state;
}

/* In a test: true with the wire up; a skip without a namespace of our own. */
#define WIRE_OR_SKIP()                                                                   \
	do {                                                                             \
		if (wire() == -1)                                                        \
			TEST_SKIP("no network namespace of our own (needs root)");       \
		if (!ASSERT_EQ(wire(), 1, "veth pair, addresses and routes (ip)"))      \
			return;                                                          \
	} while (0)

/* xdp-lbd's rule of @family and a route to the VIP of that family (VIP/32 or
 * VIP6/128) through @skel's program, named by its id as xdp-lbd names it: the
 * kernel tells LWT states apart by name, and would keep an older program of
 * the same name in a replaced route. @nl is opened unless it is already.
 */
static int route(struct lbd_routes *nl, struct probe_encap_bpf *skel, int family)
{
	struct lbd_rule rule = { .family = family, .priority = PRIORITY, .mark = MARK_BASE,
				 .mask = LB_PROBE_MARK_MASK };
	struct lbd_addr vip = lbd_addr_v4(pkt_ip(VIP));
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	char name[64];
	int err;

	err = bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.lb_probe_encap), &info,
				     &info_len);
	if (err)
		return err;
	snprintf(name, sizeof(name), "lb_probe_encap-%u", info.id);
	if (family == AF_INET6) {
		vip.family = AF_INET6;
		pkt_ip6(VIP6, vip.v6);
	}
	err = nl->nl ? 0 : lbd_routes_open(nl, TABLE);
	if (err)
		return err;
	if (lbd_rule_check(nl, &rule) == 0) {
		err = lbd_rule_add(nl, &rule);
		if (err)
			return err;
	}
	return lbd_routes_add_bpf(nl, &vip, (int)if_nametoindex("hc0"),
				  bpf_program__fd(skel->progs.lb_probe_encap), name, 28);
}

static int capture_open(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct timeval tv = { .tv_sec = 1 };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0)
		return -1;
	sll.sll_ifindex = (int)if_nametoindex("hc1");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One case on the wire: the program, xdp-lbd's rule and route of a family
 * to the VIP, and the capture on hc1.
 */
struct wire_run {
	struct probe_encap_bpf *skel;
	struct lbd_routes nl;
	int cap;
};

/* Sets @run up for case @what: the program with the outer sources given (see
 * load()), the route of @family. False (asserted) when something failed;
 * wire_end() in any case.
 */
static bool wire_begin(struct wire_run *run, const char *what, __be32 outer_src,
		       const char *outer_src6, int family)
{
	char text[160];

	memset(run, 0, sizeof(*run));
	run->cap = -1;
	run->skel = load(outer_src, outer_src6);
	if (!run->skel)
		return false;
	run->cap = capture_open();
	snprintf(text, sizeof(text), "%s: rule and route of xdp-lbd's netlink code", what);
	return ASSERT_TRUE(run->cap >= 0, "AF_PACKET socket on hc1") &&
	       ASSERT_OK(route(&run->nl, run->skel, family), text);
}

static void wire_end(struct wire_run *run)
{
	if (run->cap >= 0)
		close(run->cap);
	lbd_routes_close(&run->nl);
	probe_encap_bpf__destroy(run->skel);
}

/* The next IPv4 frame to BACKEND on hc1 (its length), 0 after a second without. */
static size_t capture_next(int fd, uint8_t *buf, size_t cap)
{
	ssize_t n;

	while ((n = recv(fd, buf, cap, 0)) > 0) {
		if ((size_t)n >= ETH_HLEN + 20 && pkt_get16(buf + 12) == ETH_P_IP &&
		    !memcmp(buf + ETH_HLEN + 16, &(__be32){ pkt_ip(BACKEND) }, 4))
			return (size_t)n;
	}
	return 0;
}

/* A datagram to the VIP from a socket marked @mark: its source port, or 0. */
static uint16_t send_probe(__u32 mark, const char *payload)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(VIP_PORT),
				  .sin_addr.s_addr = pkt_ip(VIP) };
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint16_t port = 0;

	if (fd < 0)
		return 0;
	if ((!mark || !setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) &&
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 &&
	    send(fd, payload, strlen(payload), 0) == (ssize_t)strlen(payload) &&
	    !getsockname(fd, (struct sockaddr *)&me, &len))
		port = ntohs(me.sin_port);
	close(fd);
	return port;
}

/* The outer IPv4 header the data path writes in front of @inner. */
static void expected_outer(const uint8_t *inner, uint16_t inner_len, uint8_t proto,
			   uint16_t extra, __be32 saddr, uint8_t *out)
{
	memset(out, 0, 20);
	out[0] = 0x45;
	out[1] = inner[1];
	pkt_put16(out + 2, (uint16_t)(inner_len + 20 + extra));
	memcpy(out + 4, inner + 4, 2);
	out[6] = inner[6] & 0x40; /* DF only */
	out[8] = LB_OUTER_TTL;
	out[9] = proto;
	memcpy(out + 12, &saddr, 4);
	memcpy(out + 16, &(__be32){ pkt_ip(BACKEND) }, 4);
	pkt_ipv4_csum_fix(out);
}

struct wire_case {
	const char *what;
	bool gue;
	const char *outer_src; /* NULL: the tunables' 0, the probe's own source */
};

static void run_wire_case(const struct wire_case *c)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	__be32 outer_src = c->outer_src ? pkt_ip(c->outer_src) : 0;
	uint8_t frame[2048], want[28];
	const uint8_t *outer, *inner;
	struct wire_run run;
	struct counter_delta delta = {
		c->gue ? LB_C_PROBE_ENCAP_GUE : LB_C_PROBE_ENCAP_IPIP, 1 };
	size_t hdr = c->gue ? 28 : 20, n;
	uint16_t sport, inner_len;
	char what[160];

	WIRE_OR_SKIP();
	if (!wire_begin(&run, c->what, outer_src, NULL, AF_INET))
		goto out;
	counters_read(bpf_map__fd(run.skel->maps.counters), before);
	sport = send_probe(MARK_BASE | (c->gue ? LB_PROBE_MARK_GUE : 0) | BACKEND_ID, "probe");
	snprintf(what, sizeof(what), "%s: the marked socket sent", c->what);
	if (!ASSERT_TRUE(sport != 0, what))
		goto out;
	n = capture_next(run.cap, frame, sizeof(frame));
	snprintf(what, sizeof(what), "%s: a frame to the backend left hc0", c->what);
	if (!ASSERT_TRUE(n >= ETH_HLEN + hdr + 20 + 8, what))
		goto out;
	counters_read(bpf_map__fd(run.skel->maps.counters), after);
	snprintf(what, sizeof(what), "%s: counters", c->what);
	counters_expect(before, after, &delta, 1, what);

	outer = frame + ETH_HLEN;
	inner = outer + hdr;
	inner_len = pkt_get16(inner + 2);
	snprintf(what, sizeof(what), "%s: the inner packet is the probe, whole", c->what);
	ASSERT_EQ(n, ETH_HLEN + hdr + inner_len, what);
	ASSERT_TRUE(!memcmp(inner + 12, &(__be32){ pkt_ip(LOCAL) }, 4) &&
		    !memcmp(inner + 16, &(__be32){ pkt_ip(VIP) }, 4) && inner[9] == IPPROTO_UDP &&
		    pkt_get16(inner + 20) == sport && pkt_get16(inner + 22) == VIP_PORT &&
		    !memcmp(inner + 28, "probe", 5), what);

	expected_outer(inner, inner_len, c->gue ? IPPROTO_UDP : IPPROTO_IPIP, c->gue ? 8 : 0,
		       outer_src ? outer_src : pkt_ip(LOCAL), want);
	if (c->gue) {
		struct lb_flow_key flow = { .src = pkt_ip(LOCAL), .dst = pkt_ip(VIP),
					    .proto = IPPROTO_UDP };

		memcpy(&flow.sport, inner + 20, 2);
		memcpy(&flow.dport, inner + 22, 2);
		pkt_put16(want + 20, (uint16_t)(LB_GUE_SPORT_BASE |
						(lb_flow_hash(&flow) & LB_GUE_SPORT_MASK)));
		pkt_put16(want + 22, GUE_PORT);
		pkt_put16(want + 24, (uint16_t)(inner_len + 8));
		pkt_put16(want + 26, 0);
	}
	snprintf(what, sizeof(what), "%s: outer headers as the data path writes them", c->what);
	ASSERT_BYTES(outer, hdr, want, hdr, what);
	snprintf(what, sizeof(what), "%s: the outer checksum verifies", c->what);
	ASSERT_EQ(pkt_csum(outer, 20), 0, what);
out:
	wire_end(&run);
}

static void test_ipip_on_the_wire(void)
{
	run_wire_case(&(struct wire_case){ "IPIP", false, NULL });
}

static void test_gue_on_the_wire(void)
{
	run_wire_case(&(struct wire_case){ "GUE", true, NULL });
}

static void test_outer_source_on_the_wire(void)
{
	run_wire_case(&(struct wire_case){ "IPIP from outer_source", false, OUTER_SRC });
	run_wire_case(&(struct wire_case){ "GUE from outer_source", true, OUTER_SRC });
}

/* The next IPv6 frame to BACKEND6 on hc1 (its length), 0 after a second
 * without: hc0's own IPv6 chatter (router solicitations, MLD) is skipped.
 */
static size_t capture_next6(int fd, uint8_t *buf, size_t cap)
{
	uint8_t backend6[16];
	ssize_t n;

	pkt_ip6(BACKEND6, backend6);
	while ((n = recv(fd, buf, cap, 0)) > 0) {
		if ((size_t)n >= ETH_HLEN + 40 && pkt_get16(buf + 12) == ETH_P_IPV6 &&
		    !memcmp(buf + ETH_HLEN + 24, backend6, 16))
			return (size_t)n;
	}
	return 0;
}

/* A datagram to [VIP6]:VIP_PORT from a socket marked @mark: its source port, or 0. */
static uint16_t send_probe6(__u32 mark, const char *payload)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(VIP_PORT) };
	struct sockaddr_in6 me;
	socklen_t len = sizeof(me);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint16_t port = 0;

	if (fd < 0)
		return 0;
	pkt_ip6(VIP6, to.sin6_addr.s6_addr);
	if (!setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) &&
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 &&
	    send(fd, payload, strlen(payload), 0) == (ssize_t)strlen(payload) &&
	    !getsockname(fd, (struct sockaddr *)&me, &len))
		port = ntohs(me.sin6_port);
	close(fd);
	return port;
}

/* The outer IPv6 header the ipip stage writes: traffic class @tclass, the flow
 * label from @hash, payload @payload_len, next header @nexthdr, from @saddr to
 * BACKEND6.
 */
static void expected_outer6(uint8_t tclass, __u32 hash, uint16_t payload_len, uint8_t nexthdr,
			    const char *saddr, uint8_t *out)
{
	__u32 label = hash & 0xfffff;

	memset(out, 0, 40);
	out[0] = (uint8_t)(0x60 | tclass >> 4);
	out[1] = (uint8_t)(tclass << 4 | label >> 16);
	out[2] = (uint8_t)(label >> 8);
	out[3] = (uint8_t)label;
	pkt_put16(out + 4, payload_len);
	out[6] = nexthdr;
	out[7] = LB_OUTER_TTL;
	pkt_ip6(saddr, out + 8);
	pkt_ip6(BACKEND6, out + 24);
}

struct wire6_case {
	const char *what;
	bool inner6;           /* an IPv6 VIP's probe (IPv6 route), else an IPv4 VIP's */
	const char *outer_src6; /* NULL: none, the probe's own source for IPv6 */
	bool gue;              /* GUE over IPv6, else IP-in-IPv6 */
};

/* The UDP header GUE over IPv6 puts at @udp in front of @inner (@inner_len
 * bytes) verifies: the test completes the inner UDP checksum first, as the
 * device or the stack does for a local socket's packet (a veth capture may see
 * it still partial), then sums the outer pseudo-header and the whole segment
 * itself instead of trusting the program's formula.
 */
static bool gue6_checksum_verifies(const uint8_t *outer, size_t inner_len)
{
	uint8_t seg[2048];
	uint8_t *inner = seg + 8;
	bool inner6 = (outer[48] >> 4) == 6;
	size_t l3 = inner6 ? 40 : (size_t)(outer[48] & 0x0f) * 4;
	uint16_t check;

	if (8 + inner_len > sizeof(seg) || pkt_get16(outer + 46) == 0)
		return false;
	memcpy(seg, outer + 40, 8 + inner_len);
	pkt_put16(inner + l3 + 6, 0);
	check = inner6 ? pkt_l4_csum6(inner + 8, inner + 24, IPPROTO_UDP, inner + l3,
				      inner_len - l3) :
			 pkt_l4_csum(*(uint32_t *)(inner + 12), *(uint32_t *)(inner + 16),
				     IPPROTO_UDP, inner + l3, inner_len - l3);
	memcpy(inner + l3 + 6, check ? &check : &(uint16_t){ 0xffff }, 2);
	return pkt_l4_csum6(outer + 8, outer + 24, IPPROTO_UDP, seg, 8 + inner_len) == 0;
}

/* A probe of the IPv6 backend: IPv4-in-IPv6 from the IPv4 route (the kernel
 * routes the pushed IPv6 header as IPv6), or IPv6-in-IPv6 from the IPv6 route.
 */
static void run_wire6_case(const struct wire6_case *c)
{
	uint64_t before[LB_COUNTER_MAX], after[LB_COUNTER_MAX];
	struct counter_delta delta = {
		c->gue ? LB_C_PROBE_ENCAP_GUE6 : LB_C_PROBE_ENCAP_IPIP6, 1 };
	uint8_t frame[2048], want[48], local6[16], vip6[16];
	size_t hdr = c->gue ? 48 : 40;
	__u32 mark = MARK_BASE | (c->gue ? LB_PROBE_MARK_GUE : 0) | BACKEND6_ID;
	const uint8_t *outer, *inner;
	struct wire_run run;
	size_t n, inner_len;
	uint16_t sport;
	char what[160];
	__u32 hash;

	WIRE_OR_SKIP();
	pkt_ip6(LOCAL6, local6);
	pkt_ip6(VIP6, vip6);
	if (!wire_begin(&run, c->what, 0, c->outer_src6, c->inner6 ? AF_INET6 : AF_INET))
		goto out;
	counters_read(bpf_map__fd(run.skel->maps.counters), before);
	sport = c->inner6 ? send_probe6(mark, "probe") : send_probe(mark, "probe");
	snprintf(what, sizeof(what), "%s: the marked socket sent", c->what);
	if (!ASSERT_TRUE(sport != 0, what))
		goto out;
	n = capture_next6(run.cap, frame, sizeof(frame));
	snprintf(what, sizeof(what), "%s: an IPv6 frame to the backend left hc0", c->what);
	if (!ASSERT_TRUE(n >= ETH_HLEN + hdr + (c->inner6 ? 40 : 20) + 8, what))
		goto out;
	counters_read(bpf_map__fd(run.skel->maps.counters), after);
	snprintf(what, sizeof(what), "%s: counters", c->what);
	counters_expect(before, after, &delta, 1, what);

	outer = frame + ETH_HLEN;
	inner = outer + hdr;
	snprintf(what, sizeof(what), "%s: the inner packet is the probe, whole", c->what);
	if (c->inner6) {
		struct lb_flow6_key flow = { .proto = IPPROTO_UDP };

		inner_len = 40 + (size_t)pkt_get16(inner + 4);
		ASSERT_TRUE((inner[0] >> 4) == 6 && !memcmp(inner + 8, local6, 16) &&
			    !memcmp(inner + 24, vip6, 16) && inner[6] == IPPROTO_UDP &&
			    pkt_get16(inner + 40) == sport && pkt_get16(inner + 42) == VIP_PORT &&
			    !memcmp(inner + 48, "probe", 5), what);
		memcpy(flow.src, local6, 16);
		memcpy(flow.dst, vip6, 16);
		memcpy(&flow.sport, inner + 40, 2);
		memcpy(&flow.dport, inner + 42, 2);
		hash = lb_flow_hash6(&flow);
		expected_outer6((uint8_t)((inner[0] & 0x0f) << 4 | inner[1] >> 4), hash,
				(uint16_t)(inner_len + hdr - 40), c->gue ? IPPROTO_UDP : IPPROTO_IPV6,
				c->outer_src6 ? c->outer_src6 : LOCAL6, want);
	} else {
		struct lb_flow_key flow = { .src = pkt_ip(LOCAL), .dst = pkt_ip(VIP),
					    .proto = IPPROTO_UDP };

		inner_len = pkt_get16(inner + 2);
		ASSERT_TRUE((inner[0] >> 4) == 4 &&
			    !memcmp(inner + 12, &(__be32){ pkt_ip(LOCAL) }, 4) &&
			    !memcmp(inner + 16, &(__be32){ pkt_ip(VIP) }, 4) &&
			    inner[9] == IPPROTO_UDP && pkt_get16(inner + 20) == sport &&
			    pkt_get16(inner + 22) == VIP_PORT && !memcmp(inner + 28, "probe", 5),
			    what);
		memcpy(&flow.sport, inner + 20, 2);
		memcpy(&flow.dport, inner + 22, 2);
		hash = lb_flow_hash(&flow);
		expected_outer6(inner[1], hash, (uint16_t)(inner_len + hdr - 40),
				c->gue ? IPPROTO_UDP : IPPROTO_IPIP, c->outer_src6, want);
	}
	if (c->gue) {
		pkt_put16(want + 40, (uint16_t)(LB_GUE_SPORT_BASE | (hash & LB_GUE_SPORT_MASK)));
		pkt_put16(want + 42, GUE_PORT);
		pkt_put16(want + 44, (uint16_t)(inner_len + 8));
		memcpy(want + 46, outer + 46, 2); /* the checksum, verified below */
		snprintf(what, sizeof(what), "%s: the UDP checksum verifies", c->what);
		ASSERT_TRUE(gue6_checksum_verifies(outer, inner_len), what);
	}
	snprintf(what, sizeof(what), "%s: the frame is the outer headers and the probe", c->what);
	ASSERT_EQ(n, ETH_HLEN + hdr + inner_len, what);
	snprintf(what, sizeof(what), "%s: outer headers as the encap stages write them",
		 c->what);
	ASSERT_BYTES(outer, hdr, want, hdr, what);
out:
	wire_end(&run);
}

static void test_ipv4_in_ipv6_on_the_wire(void)
{
	run_wire6_case(&(struct wire6_case){ "IPv4-in-IPv6", false, OUTER_SRC6, false });
}

static void test_ipv6_in_ipv6_on_the_wire(void)
{
	run_wire6_case(&(struct wire6_case){ "IPv6-in-IPv6", true, NULL, false });
	run_wire6_case(&(struct wire6_case){ "IPv6-in-IPv6 from outer_source6", true,
					     OUTER_SRC6, false });
}

static void test_gue6_on_the_wire(void)
{
	run_wire6_case(&(struct wire6_case){ "IPv4 in GUE over IPv6", false, OUTER_SRC6, true });
	run_wire6_case(&(struct wire6_case){ "IPv6 in GUE over IPv6", true, NULL, true });
	run_wire6_case(&(struct wire6_case){ "IPv6 in GUE over IPv6 from outer_source6", true,
					     OUTER_SRC6, true });
}

/* Without the mark the rule does not match: the VIP has no other route here,
 * so the send fails, and nothing leaves hc0.
 */
static void test_unmarked_never_meets_the_route(void)
{
	struct wire_run run;
	uint8_t frame[2048];

	WIRE_OR_SKIP();
	if (wire_begin(&run, "unmarked", 0, NULL, AF_INET)) {
		ASSERT_EQ(send_probe(0, "plain"), 0, "an unmarked send to the VIP has no route");
		ASSERT_EQ(capture_next(run.cap, frame, sizeof(frame)), 0, "nothing left hc0");
	}
	wire_end(&run);
}

static const struct test_case cases[] = {
	TEST_CASE(test_refusals),
	TEST_CASE(test_ipip_on_the_wire),
	TEST_CASE(test_gue_on_the_wire),
	TEST_CASE(test_outer_source_on_the_wire),
	TEST_CASE(test_ipv4_in_ipv6_on_the_wire),
	TEST_CASE(test_gue6_on_the_wire),
	TEST_CASE(test_ipv6_in_ipv6_on_the_wire),
	TEST_CASE(test_unmarked_never_meets_the_route),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return test_main("health_probe_encap", cases, ARRAY_SIZE(cases), argc, argv);
}
