// SPDX-License-Identifier: GPL-2.0
/* Frame generators of the packet fuzzer; see frame_gen.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "frame_gen.h"
#include "packet.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_LLDP 0x88cc
#define TPID_9100 0x9100

#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* The truncated class cuts one base frame of at most TRUNC_SPAN bytes to 0, 1,
 * ..., TRUNC_SPAN - 1 bytes on consecutive indexes: every offset, every header.
 */
#define TRUNC_SPAN 160
/* Base frames of a class are drawn from streams apart from the frames' own. */
#define BASE_STREAM 64

/* A function, not a macro: arguments that draw random numbers are drawn once. */
static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static struct gen_target targets[GEN_MAX_TARGETS];
static size_t target_count;

void gen_set_targets(const struct gen_target *list, size_t count)
{
	target_count = min_size(count, (size_t)GEN_MAX_TARGETS);
	memcpy(targets, list, target_count * sizeof(*targets));
}

static struct gen_target6 targets6[GEN_MAX_TARGETS];
static size_t target6_count;

void gen_set_targets6(const struct gen_target6 *list, size_t count)
{
	target6_count = min_size(count, (size_t)GEN_MAX_TARGETS);
	memcpy(targets6, list, target6_count * sizeof(*targets6));
}

/* --- building a frame -------------------------------------------------------------- */

/* Everything a built frame is made of: what packet.c's builder takes, but the
 * random parts, which frame_build() draws. ethertype ETHERTYPE_IPV4 builds an
 * IPv4 packet from pkt; any other gets pkt.payload_len random bytes.
 * pkt.payload_len and pkt.padding are cut when the frame would exceed FRAME_MAX.
 */
struct frame_spec {
	struct pkt_spec pkt;
	uint16_t tpids[PKT_MAX_TAGS]; /* pkt.tag_count VLAN tags, outermost first */
	uint16_t ethertype;           /* behind the tags */
	uint8_t ip_options[40];       /* pkt.ip_options_len of them */
};

static void fill_random(struct rng *r, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = rng_byte(r);
}

static uint32_t rng_u32(struct rng *r)
{
	uint8_t b[4];

	fill_random(r, b, 4);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Builds @s with packet.c's builder: what is random here (VLAN IDs, payload,
 * TCP sequence numbers and options, padding) is drawn first, in the order of
 * the frame, then handed to it.
 */
static void frame_build(struct rng *r, const struct frame_spec *s, struct frame *f,
			struct pkt_layout *lay)
{
	uint8_t payload[FRAME_MAX], tcp_options[40], *padding;
	size_t l3 = 14 + 4 * s->pkt.tag_count, room, i;
	struct pkt_spec p = s->pkt;

	for (i = 0; i < p.tag_count; i++)
		p.tags[i] = (struct pkt_tag){ s->tpids[i], (uint16_t)rng_below(r, 4096) };
	p.payload = payload;
	if (s->ethertype != ETHERTYPE_IPV4) {
		/* 0 stands for IPv4 in a pkt_spec: that ethertype is written below. */
		p.ethertype = s->ethertype ? s->ethertype : 0xffff;
		p.payload_len = min_size(p.payload_len, FRAME_MAX - l3);
		p.padding = 0;
		fill_random(r, payload, p.payload_len);
		pkt_build(&p, f->data, FRAME_MAX);
		pkt_put16(f->data + l3 - 2, s->ethertype);
		f->len = pkt_layout(&p, lay);
		return;
	}
	p.ethertype = 0;
	p.ip_options = s->ip_options;
	if (p.proto != IPPROTO_TCP)
		p.tcp_options_len = 0;
	p.payload_len = p.padding = 0;
	pkt_layout(&p, lay);
	room = FRAME_MAX - lay->payload;
	p.payload_len = min_size(s->pkt.payload_len, room);
	p.padding = min_size(s->pkt.padding, room - p.payload_len);
	fill_random(r, payload, p.payload_len);
	if (p.proto == IPPROTO_TCP) {
		p.tcp_seq = rng_u32(r);
		p.tcp_ack = rng_u32(r);
		/* Options: NOPs, with random kinds now and then. */
		if (p.tcp_options_len && rng_one_in(r, 2)) {
			fill_random(r, tcp_options, p.tcp_options_len);
			p.tcp_options = tcp_options;
		}
	}
	f->len = pkt_build(&p, f->data, FRAME_MAX);
	pkt_layout(&p, lay);
	padding = f->data + lay->ip_end;
	fill_random(r, padding, p.padding);
	/* Real padding is mostly zeros. */
	if (rng_one_in(r, 2))
		memset(padding, 0, p.padding);
}

/* --- random specs ------------------------------------------------------------------ */

static const uint8_t lb_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0xf0, 0x00 };

static void random_unicast_mac(struct rng *r, uint8_t *mac)
{
	fill_random(r, mac, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

/* Clients come from a small pool, 32 sources with 8 ports each, so that flows
 * repeat and established flows are tested as much as new ones.
 */
static uint32_t client_addr(struct rng *r)
{
	return htonl(0x0a010000 | rng_range(r, 1, 32));
}

static uint16_t client_port(struct rng *r)
{
	return (uint16_t)(1024 + rng_below(r, 8));
}

/* A destination port for a wildcard VIP: a few common ones, now and then any. */
static uint16_t any_port(struct rng *r)
{
	static const uint16_t common[] = { 0, 22, 53, 80, 123, 443, 4789, 8080 };

	if (rng_one_in(r, 4))
		return (uint16_t)rng_next(r);
	return common[rng_below(r, ARRAY_SIZE(common))];
}

/* An address no VIP has: the LB's own, a neighbour of the VIPs, any. */
static uint32_t non_vip_addr(struct rng *r)
{
	switch (rng_below(r, 3)) {
	case 0:
		return htonl(0x0a00000a); /* 10.0.0.10, the balancer's address */
	case 1:
		return htonl(0x0a000067); /* 10.0.0.103 */
	default:
		return (uint32_t)rng_next(r);
	}
}

static size_t random_payload_len(struct rng *r)
{
	switch (rng_below(r, 8)) {
	case 0 ... 3:
		return rng_below(r, 65);
	case 4 ... 6:
		return rng_range(r, 65, 1472);
	default:
		return rng_range(r, 1473, FRAME_MAX);
	}
}

static void random_ip_options(struct rng *r, struct frame_spec *s)
{
	static const uint8_t router_alert[4] = { 0x94, 0x04, 0x00, 0x00 };
	size_t i;

	s->pkt.ip_options_len = 4 * rng_range(r, 1, 10);
	switch (rng_below(r, 3)) {
	case 0: /* NOPs and an end-of-list */
		memset(s->ip_options, 1, s->pkt.ip_options_len);
		s->ip_options[s->pkt.ip_options_len - 1] = 0;
		break;
	case 1: /* router alert, then NOPs */
		memset(s->ip_options, 1, s->pkt.ip_options_len);
		memcpy(s->ip_options, router_alert, sizeof(router_alert));
		break;
	default:
		for (i = 0; i < s->pkt.ip_options_len; i++)
			s->ip_options[i] = rng_byte(r);
	}
}

static uint8_t random_tcp_flags(struct rng *r)
{
	static const uint8_t common[] = { TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK, TCP_PSH | TCP_ACK,
					  TCP_FIN | TCP_ACK, TCP_RST };

	if (rng_one_in(r, 8))
		return rng_byte(r);
	return common[rng_below(r, ARRAY_SIZE(common))];
}

/* Points @s at @t: address, protocol and (for a wildcard VIP, any) port. */
static void aim_at(struct rng *r, struct frame_spec *s, const struct gen_target *t)
{
	s->pkt.dst = t->addr;
	s->pkt.proto = t->proto;
	if (!t->port)
		s->pkt.dport = any_port(r);
	else
		s->pkt.dport = rng_one_in(r, 8) ? any_port(r) : t->port;
}

/* A well-formed UDP or TCP frame: to a VIP seven times in eight, else to an
 * address no VIP has. One VLAN tag, IP options, TCP options, Ethernet padding
 * and DF now and then; payloads mostly short, sometimes up to FRAME_MAX.
 */
static void spec_valid(struct rng *r, struct frame_spec *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->pkt.dst_mac, lb_mac, 6);
	if (rng_one_in(r, 8))
		random_unicast_mac(r, s->pkt.dst_mac);
	random_unicast_mac(r, s->pkt.src_mac);
	if (rng_one_in(r, 4)) {
		s->tpids[0] = PKT_TPID_8021Q;
		s->pkt.tag_count = 1;
	}
	s->ethertype = ETHERTYPE_IPV4;
	s->pkt.src = client_addr(r);
	s->pkt.sport = client_port(r);
	if (target_count && !rng_one_in(r, 8)) {
		aim_at(r, s, &targets[rng_below(r, (uint32_t)target_count)]);
	} else {
		s->pkt.dst = non_vip_addr(r);
		s->pkt.proto = rng_one_in(r, 2) ? IPPROTO_UDP : IPPROTO_TCP;
		s->pkt.dport = any_port(r);
	}
	s->pkt.tos = rng_one_in(r, 4) ? rng_byte(r) : 0;
	s->pkt.ttl = (uint8_t)rng_range(r, 1, 255);
	s->pkt.ip_id = (uint16_t)rng_next(r);
	s->pkt.frag_off = rng_one_in(r, 2) ? IP_DF : 0;
	if (rng_one_in(r, 4))
		random_ip_options(r, s);
	s->pkt.tcp_flags = random_tcp_flags(r);
	if (rng_one_in(r, 4))
		s->pkt.tcp_options_len = 4 * rng_range(r, 1, 10);
	s->pkt.payload_len = random_payload_len(r);
	if (rng_one_in(r, 8))
		s->pkt.padding = rng_range(r, 1, 40);
}

/* spec_valid() aimed at a VIP of protocol @proto, when there is one. */
static void spec_valid_proto(struct rng *r, struct frame_spec *s, uint8_t proto)
{
	size_t i, start, n = target_count;

	spec_valid(r, s);
	start = n ? rng_below(r, (uint32_t)n) : 0;
	for (i = 0; i < n; i++) {
		const struct gen_target *t = &targets[(start + i) % n];

		if (t->proto == proto) {
			aim_at(r, s, t);
			return;
		}
	}
	s->pkt.proto = proto;
}

/* --- the classes ------------------------------------------------------------------- */

static void gen_random_bytes(struct rng *r, const struct gen_call *call, struct frame *f)
{
	(void)call;
	f->len = rng_range(r, FRAME_MIN, rng_one_in(r, 2) ? 128 : FRAME_MAX);
	fill_random(r, f->data, f->len);
	/* Now and then the start of an IPv4 header, so the bytes get past Ethernet. */
	switch (rng_below(r, 4)) {
	case 1:
		pkt_put16(f->data + 12, ETHERTYPE_IPV4);
		break;
	case 2:
		pkt_put16(f->data + 12, ETHERTYPE_IPV4);
		if (f->len > 14)
			f->data[14] = 0x45;
		break;
	case 3:
		pkt_put16(f->data + 12, PKT_TPID_8021Q);
		if (f->len >= 19) {
			pkt_put16(f->data + 16, ETHERTYPE_IPV4);
			f->data[18] = 0x45;
		}
		break;
	}
}

static void gen_valid(struct rng *r, const struct gen_call *call, struct frame *f)
{
	struct pkt_layout lay;
	struct frame_spec s;

	(void)call;
	spec_valid(r, &s);
	frame_build(r, &s, f, &lay);
}

static void gen_truncated(struct rng *r, const struct gen_call *call, struct frame *f)
{
	struct rng base = rng_for(call->seed, call->class + BASE_STREAM, call->index / TRUNC_SPAN);
	size_t cut = call->index % TRUNC_SPAN;
	struct pkt_layout lay;
	struct frame_spec s;

	(void)r;
	/* Short enough that every cut of it fits the span: at most
	 * 18 + 60 + 60 + 16 = 154 bytes.
	 */
	spec_valid(&base, &s);
	s.pkt.payload_len = rng_below(&base, 17);
	s.pkt.padding = 0;
	frame_build(&base, &s, f, &lay);
	if (cut > f->len)
		memset(f->data + f->len, 0, cut - f->len); /* past the end: padding */
	f->len = cut;
}

/* A total length worth trying for an IPv4 header at @ip of a frame @frame_len long. */
static uint16_t odd_tot_len(struct rng *r, const uint8_t *ip, size_t l3, size_t frame_len)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4, real = pkt_get16(ip + 2), in_frame = frame_len - l3;

	switch (rng_below(r, 10)) {
	case 0:
		return 0;
	case 1:
		return (uint16_t)rng_below(r, 20);
	case 2:
		return (uint16_t)(ihl - 1);
	case 3:
		return (uint16_t)ihl;
	case 4:
		return (uint16_t)(real - 1);
	case 5:
		return (uint16_t)(real + 1);
	case 6:
		return (uint16_t)in_frame;
	case 7:
		return (uint16_t)(in_frame + rng_range(r, 1, 8));
	case 8:
		return 65535;
	default:
		return (uint16_t)rng_next(r);
	}
}

static void gen_ipv4_header(struct rng *r, const struct gen_call *call, struct frame *f)
{
	static const uint8_t protocols[] = { 0, 1, 4, 6, 17, 41, 47, 50, 132, 255 };
	static const uint32_t addresses[] = { 0x00000000, 0xffffffff, 0xe0000001, 0x7f000001,
					      0x0a000064 };
	struct pkt_layout lay;
	struct frame_spec s;
	uint8_t *ip;
	int i, changes;
	size_t k;

	(void)call;
	spec_valid(r, &s);
	if (rng_one_in(r, 2))
		random_ip_options(r, &s);
	if (rng_one_in(r, 2))
		s.pkt.payload_len = rng_below(r, 65);
	frame_build(r, &s, f, &lay);
	ip = f->data + lay.l3;
	changes = (int)rng_range(r, 1, 3);
	for (i = 0; i < changes; i++) {
		switch (rng_below(r, 8)) {
		case 0: /* IHL, without moving what follows */
			ip[0] = (uint8_t)((ip[0] & 0xf0) | rng_below(r, 16));
			break;
		case 1:
			pkt_put16(ip + 2, odd_tot_len(r, ip, lay.l3, f->len));
			break;
		case 2:
			ip[0] = (uint8_t)((ip[0] & 0x0f) | rng_below(r, 16) << 4);
			break;
		case 3:
			pkt_put16(ip + 6, (uint16_t)rng_next(r));
			break;
		case 4:
			ip[9] = rng_one_in(r, 4) ? rng_byte(r)
						 : protocols[rng_below(r, ARRAY_SIZE(protocols))];
			break;
		case 5: {
			uint32_t addr = htonl(addresses[rng_below(r, ARRAY_SIZE(addresses))]);

			memcpy(ip + (rng_one_in(r, 2) ? 12 : 16), &addr, 4);
			break;
		}
		case 6: /* the frame ends inside the IPv4 header or just behind it */
			k = (size_t)(ip[0] & 0x0f) * 4 + 9;
			f->len = min_size(f->len, lay.l3 + rng_below(r, (uint32_t)k));
			f->len = f->len < FRAME_MIN ? FRAME_MIN : f->len;
			break;
		default: /* bytes behind the packet */
			if (f->len < FRAME_MAX - 64) {
				fill_random(r, f->data + f->len, 64);
				f->len += rng_range(r, 1, 64);
			}
		}
	}
	if (rng_one_in(r, 2))
		pkt_ipv4_csum_fix(ip);
}

static void gen_fragments(struct rng *r, const struct gen_call *call, struct frame *f)
{
	struct pkt_layout lay;
	struct frame_spec s;
	size_t ihl, keep;
	uint16_t offset = (uint16_t)rng_range(r, 1, IP_OFFSET);
	uint8_t *ip;

	(void)call;
	spec_valid(r, &s);
	switch (rng_below(r, 6)) {
	case 0:
	case 1:
		s.pkt.frag_off = IP_MF; /* first fragment: the L4 header is there */
		break;
	case 2:
		s.pkt.frag_off = IP_MF | offset;
		break;
	case 3:
		s.pkt.frag_off = offset; /* last fragment */
		break;
	case 4:
		s.pkt.frag_off = IP_DF | IP_MF | (rng_one_in(r, 2) ? offset : 0);
		break;
	default:
		s.pkt.frag_off = (uint16_t)(rng_next(r) & (IP_MF | IP_OFFSET)) | IP_MF;
	}
	frame_build(r, &s, f, &lay);
	ip = f->data + lay.l3;
	if (rng_one_in(r, 4)) {
		/* A tiny fragment: 0..7 bytes of IP payload, so maybe not even both
		 * ports; the frame keeps its bytes behind as padding, or ends there.
		 */
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		keep = rng_below(r, 8);
		if (ihl + keep < pkt_get16(ip + 2)) {
			pkt_put16(ip + 2, (uint16_t)(ihl + keep));
			pkt_ipv4_csum_fix(ip);
			if (rng_one_in(r, 2))
				f->len = lay.l3 + ihl + keep;
		}
	}
}

static void gen_vlan_stacks(struct rng *r, const struct gen_call *call, struct frame *f)
{
	static const uint16_t tpids[] = { PKT_TPID_8021Q, PKT_TPID_8021Q, PKT_TPID_8021AD, TPID_9100 };
	static const uint16_t inner[] = { ETHERTYPE_ARP, ETHERTYPE_IPV6, PKT_TPID_8021Q,
					  ETHERTYPE_LLDP };
	struct pkt_layout lay;
	struct frame_spec s;
	size_t i;

	(void)call;
	spec_valid(r, &s);
	s.pkt.tag_count = rng_below(r, 5);
	for (i = 0; i < s.pkt.tag_count; i++)
		s.tpids[i] = rng_one_in(r, 8) ? (uint16_t)rng_next(r)
					      : tpids[rng_below(r, ARRAY_SIZE(tpids))];
	if (rng_one_in(r, 4)) {
		s.ethertype = rng_one_in(r, 4) ? (uint16_t)rng_next(r)
					       : inner[rng_below(r, ARRAY_SIZE(inner))];
		s.pkt.payload_len = rng_below(r, 100);
	}
	frame_build(r, &s, f, &lay);
}

/* An IPv6 extension header of @len bytes (a multiple of 8) announcing @next. */
static size_t put_ipv6_ext(struct rng *r, uint8_t *p, uint8_t type, uint8_t next, size_t len)
{
	fill_random(r, p, len);
	p[0] = next;
	if (type == 44) { /* fragment header: always 8 bytes */
		p[1] = 0;
		return 8;
	}
	if (type == 51) /* AH counts 4-byte words, less 2 */
		p[1] = (uint8_t)(len / 4 - 2);
	else
		p[1] = (uint8_t)(len / 8 - 1);
	return len;
}

static void gen_ipv6(struct rng *r, const struct gen_call *call, struct frame *f)
{
	static const uint8_t ext_types[] = { 0, 43, 44, 60, 60, 43, 51, 135 };
	static const uint8_t last_types[] = { 17, 6, 58, 59, 4 };
	uint8_t chain[9], *ip6, *p;
	uint32_t v4 = target_count ? targets[rng_below(r, (uint32_t)target_count)].addr
				   : htonl(0x0a000064);
	struct pkt_layout lay;
	struct frame_spec s;
	size_t i, ext_count, l3, payload;

	(void)call;
	spec_valid(r, &s);
	s.ethertype = rng_one_in(r, 8) ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6; /* v6 behind 0x0800 */
	s.pkt.payload_len = 0;
	frame_build(r, &s, f, &lay);
	l3 = lay.l3;
	ip6 = f->data + l3;
	memset(ip6, 0, 40);
	ip6[0] = 0x60 | rng_below(r, 16);
	ip6[7] = (uint8_t)rng_range(r, 1, 255);
	fill_random(r, ip6 + 8, 16); /* source */
	/* Destination: a VIP as v4-mapped or NAT64 address, or anything. */
	switch (rng_below(r, 3)) {
	case 0:
		ip6[34] = 0xff;
		ip6[35] = 0xff;
		memcpy(ip6 + 36, &v4, 4);
		break;
	case 1:
		pkt_put16(ip6 + 24, 0x0064);
		pkt_put16(ip6 + 26, 0xff9b);
		memcpy(ip6 + 36, &v4, 4);
		break;
	default:
		fill_random(r, ip6 + 24, 16);
	}
	/* Up to 8 headers, past parse's limit of 6 (and, now and then, of 256 bytes). */
	ext_count = rng_below(r, 9);
	for (i = 0; i < ext_count; i++)
		chain[i] = ext_types[rng_below(r, ARRAY_SIZE(ext_types))];
	chain[ext_count] = last_types[rng_below(r, ARRAY_SIZE(last_types))];
	ip6[6] = chain[0];
	p = ip6 + 40;
	for (i = 0; i < ext_count; i++)
		p += put_ipv6_ext(r, p, chain[i], chain[i + 1],
				  8 * rng_range(r, 1, rng_one_in(r, 8) ? 40 : 4));
	/* The upper layer: a UDP or TCP header to a VIP port, or random bytes. */
	payload = rng_below(r, 200);
	fill_random(r, p, payload + 20);
	if (chain[ext_count] == 17 || chain[ext_count] == 6) {
		pkt_put16(p, client_port(r));
		pkt_put16(p + 2, any_port(r));
	}
	if (chain[ext_count] == 17)
		pkt_put16(p + 4, (uint16_t)(8 + payload));
	if (chain[ext_count] == 6)
		p[12] = 5 << 4;
	p += payload + 20;
	f->len = (size_t)(p - f->data);
	pkt_put16(ip6 + 4, (uint16_t)(f->len - l3 - 40));
	if (rng_one_in(r, 8))
		pkt_put16(ip6 + 4, (uint16_t)rng_next(r));
	else if (rng_one_in(r, 8)) /* shorter: the packet ends inside the chain, or L4 */
		pkt_put16(ip6 + 4, (uint16_t)rng_below(r, (uint32_t)(f->len - l3 - 40)));
}

static void gen_udp_length(struct rng *r, const struct gen_call *call, struct frame *f)
{
	struct pkt_layout lay;
	struct frame_spec s;
	uint16_t real, ulen;
	size_t ihl;
	uint8_t *ip;

	(void)call;
	spec_valid_proto(r, &s, IPPROTO_UDP);
	s.pkt.payload_len = rng_one_in(r, 4) ? 0 : rng_below(r, 65); /* 0: zero-length UDP */
	frame_build(r, &s, f, &lay);
	ip = f->data + lay.l3;
	real = pkt_get16(f->data + lay.l4 + 4);
	switch (rng_below(r, 9)) {
	case 0:
		ulen = 0;
		break;
	case 1:
		ulen = (uint16_t)rng_range(r, 1, 7);
		break;
	case 2:
		ulen = 8;
		break;
	case 3:
		ulen = real; /* as built */
		break;
	case 4: /* shorter than the payload: the rest is trailing data */
		ulen = (uint16_t)(real > 8 ? rng_range(r, 8, real - 1) : 8);
		break;
	case 5: /* oversized: beyond the IP payload */
		ulen = (uint16_t)(real + rng_range(r, 1, 16));
		break;
	case 6:
		ulen = 65535;
		break;
	case 7: /* as big as the frame's bytes behind the UDP header, padding included */
		ulen = (uint16_t)(f->len - lay.l4);
		break;
	default:
		ulen = (uint16_t)rng_next(r);
	}
	pkt_put16(f->data + lay.l4 + 4, ulen);
	if (rng_one_in(r, 4)) {
		/* The IPv4 packet ends inside the UDP header or payload. */
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		pkt_put16(ip + 2, (uint16_t)(ihl + rng_below(r, real + 1u)));
		pkt_ipv4_csum_fix(ip);
	}
}

static void gen_tcp_offset(struct rng *r, const struct gen_call *call, struct frame *f)
{
	struct pkt_layout lay;
	struct frame_spec s;
	size_t ihl, seg_len;
	uint8_t *ip, *tcp;

	(void)call;
	spec_valid_proto(r, &s, IPPROTO_TCP);
	s.pkt.tcp_options_len = 4 * rng_below(r, 11);
	s.pkt.payload_len = rng_one_in(r, 2) ? 0 : rng_below(r, 33);
	frame_build(r, &s, f, &lay);
	ip = f->data + lay.l3;
	tcp = f->data + lay.l4;
	tcp[12] = (uint8_t)(rng_below(r, 16) << 4 | (tcp[12] & 0x0f));
	if (rng_one_in(r, 4))
		tcp[13] = rng_byte(r);
	switch (rng_below(r, 4)) {
	case 0: /* the IPv4 packet ends inside the TCP header */
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		seg_len = pkt_get16(ip + 2) - ihl;
		pkt_put16(ip + 2, (uint16_t)(ihl + rng_below(r, (uint32_t)seg_len + 1)));
		pkt_ipv4_csum_fix(ip);
		break;
	case 1: /* so does the frame */
		f->len = lay.l4 + rng_below(r, (uint32_t)(f->len - lay.l4 + 1));
		f->len = f->len < FRAME_MIN ? FRAME_MIN : f->len;
		break;
	}
}

static void gen_byte_flips(struct rng *r, const struct gen_call *call, struct frame *f)
{
	static const uint8_t interesting[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 0x45, 0x08, 0x81 };
	struct pkt_layout lay;
	struct frame_spec s;
	size_t pos, k;
	int i, flips;

	(void)call;
	spec_valid(r, &s);
	frame_build(r, &s, f, &lay);
	flips = (int)rng_range(r, 1, 8);
	for (i = 0; i < flips; i++) {
		/* Mostly in the headers, where a flip changes the verdict. */
		pos = rng_one_in(r, 4) ? rng_below(r, (uint32_t)f->len)
				       : rng_below(r, (uint32_t)min_size(f->len, (size_t)80));
		switch (rng_below(r, 16)) {
		case 0 ... 7:
			f->data[pos] ^= (uint8_t)(1 << rng_below(r, 8));
			break;
		case 8 ... 10:
			f->data[pos] = rng_byte(r);
			break;
		case 11 ... 12:
			f->data[pos] = interesting[rng_below(r, ARRAY_SIZE(interesting))];
			break;
		case 13: /* bytes go missing: every header behind moves */
			k = min_size((size_t)rng_range(r, 1, 8), f->len - pos);
			if (f->len - k < FRAME_MIN)
				break;
			memmove(f->data + pos, f->data + pos + k, f->len - pos - k);
			f->len -= k;
			break;
		case 14: /* bytes appear */
			k = rng_range(r, 1, 8);
			if (f->len + k > FRAME_MAX)
				break;
			memmove(f->data + pos + k, f->data + pos, f->len - pos);
			fill_random(r, f->data + pos, k);
			f->len += k;
			break;
		default:
			f->len = pos < FRAME_MIN ? FRAME_MIN : pos;
		}
	}
}

static void gen_non_vip(struct rng *r, const struct gen_call *call, struct frame *f)
{
	static const uint8_t others[] = { 1, 2, 4, 41, 47, 50, 51, 132 };
	struct pkt_layout lay;
	struct frame_spec s;

	(void)call;
	spec_valid(r, &s);
	switch (rng_below(r, 5)) {
	case 0:
		s.pkt.dst = non_vip_addr(r);
		break;
	case 1: /* a VIP's address, a protocol other than UDP and TCP */
		s.pkt.proto = others[rng_below(r, ARRAY_SIZE(others))];
		break;
	case 2: /* a VIP's address and protocol, another port */
		s.pkt.dport = (uint16_t)rng_next(r);
		break;
	case 3:
		s.ethertype = ETHERTYPE_ARP;
		s.pkt.payload_len = 28;
		break;
	default:
		s.ethertype = rng_one_in(r, 2) ? ETHERTYPE_LLDP : (uint16_t)rng_next(r);
		s.pkt.payload_len = rng_below(r, 200);
	}
	frame_build(r, &s, f, &lay);
}

/* A destination MAC for the addressing class: the balancer's two times in
 * three, else broadcast, a multicast group (IPv4's, IPv6's, any), the
 * balancer's with one bit flipped (the group bit too), or any other host's.
 */
static void addressing_mac(struct rng *r, uint8_t *mac)
{
	memcpy(mac, lb_mac, 6);
	switch (rng_below(r, 18)) {
	case 0:
		memset(mac, 0xff, 6);
		break;
	case 1:
		memcpy(mac, (const uint8_t[]){ 0x01, 0x00, 0x5e }, 3);
		fill_random(r, mac + 3, 3);
		mac[3] &= 0x7f;
		break;
	case 2:
		memcpy(mac, (const uint8_t[]){ 0x33, 0x33 }, 2);
		fill_random(r, mac + 2, 4);
		break;
	case 3:
		fill_random(r, mac, 6);
		mac[0] |= 1;
		break;
	case 4:
		mac[rng_below(r, 6)] ^= (uint8_t)(1 << rng_below(r, 8));
		break;
	case 5:
		random_unicast_mac(r, mac);
		break;
	}
}

/* A source address for the addressing class: a client (or an address just
 * outside a martian range) two times in three, else a martian (0/8, 127/8, 224/4, 240/4 and 255.255.255.255), the destination
 * itself.
 */
static uint32_t addressing_src(struct rng *r, uint32_t dst, uint32_t client)
{
	static const uint32_t edges[] = { 0x01000000, 0x7effffff, 0x80000000, 0xdfffffff };
	static const uint8_t martian_first[] = { 0, 127, 224, 239, 240, 255 };
	uint32_t low = (uint32_t)rng_next(r) & 0x00ffffff;

	switch (rng_below(r, 12)) {
	case 0:
	case 1:
		return htonl((uint32_t)martian_first[rng_below(r, ARRAY_SIZE(martian_first))] << 24 |
			     low);
	case 2:
		return rng_one_in(r, 2) ? htonl(0xffffffff) : htonl(0);
	case 3:
		return dst;
	case 4:
		return htonl(edges[rng_below(r, ARRAY_SIZE(edges))]);
	default:
		return client;
	}
}

/* Valid frames to VIPs that a balancer must still refuse to balance: sent to
 * a group or another host's MAC, with a broken IPv4 header checksum (a field
 * or an option byte changed after it was computed, or the checksum itself),
 * from a martian source or the VIP; now one of these, now several together.
 */
static void gen_addressing(struct rng *r, const struct gen_call *call, struct frame *f)
{
	struct pkt_layout lay;
	struct frame_spec s;
	size_t ihl;
	uint8_t *ip;

	(void)call;
	spec_valid(r, &s);
	if (target_count)
		aim_at(r, &s, &targets[rng_below(r, (uint32_t)target_count)]);
	addressing_mac(r, s.pkt.dst_mac);
	s.pkt.src = addressing_src(r, s.pkt.dst, s.pkt.src);
	if (rng_one_in(r, 3))
		random_ip_options(r, &s);
	if (rng_one_in(r, 8))
		s.pkt.frag_off = IP_MF;
	s.pkt.payload_len = rng_below(r, 200);
	frame_build(r, &s, f, &lay);
	ip = f->data + lay.l3;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	/* Two frames in three keep a right checksum. */
	switch (rng_below(r, 12)) {
	case 0: /* the checksum itself */
		pkt_put16(ip + 10, pkt_get16(ip + 10) ^ (uint16_t)rng_range(r, 1, 0xffff));
		break;
	case 1: /* the TTL, as a router that forgot the checksum */
		ip[8]--;
		break;
	case 2: /* any header byte but version and IHL, lengths and protocol */
		ip[rng_one_in(r, 2) ? 1 : rng_range(r, 4, 8)] ^= (uint8_t)rng_range(r, 1, 255);
		break;
	case 3: /* an option byte */
		if (ihl > 20)
			ip[rng_range(r, 20, (uint32_t)ihl - 1)] ^= (uint8_t)rng_range(r, 1, 255);
		break;
	}
}

/* --- ICMP ------------------------------------------------------------------------- */

/* An echo request: to a VIP address mostly (one has icmp_echo off), of any
 * size, with options, a tag, a wrong ICMP checksum or in fragments now and then.
 */
static void gen_echo(struct rng *r, struct frame *f)
{
	struct pkt_layout lay;
	struct frame_spec s;

	spec_valid(r, &s);
	if (rng_one_in(r, 8))
		s.pkt.dst = non_vip_addr(r);
	s.pkt.proto = IPPROTO_ICMP;
	s.pkt.sport = (uint16_t)rng_next(r); /* the echo's id and sequence */
	s.pkt.dport = (uint16_t)rng_next(r);
	if (rng_one_in(r, 8))
		s.pkt.l4_csum_xor = (uint16_t)rng_range(r, 1, 0xffff);
	if (rng_one_in(r, 16))
		s.pkt.frag_off = IP_MF;
	frame_build(r, &s, f, &lay);
}

/* The frame of a flow to a VIP (the even frames of the icmp class). */
static void spec_flow(struct rng *r, struct frame_spec *s)
{
	spec_valid(r, s);
	if (target_count)
		aim_at(r, s, &targets[rng_below(r, (uint32_t)target_count)]);
	s->pkt.frag_off = 0;
}

/* An ICMP error from a router to the VIP of @flow about the backend's reply
 * to it (VIP:vport -> client:cport): the type mostly destination unreachable
 * or time exceeded; the quote mostly the reply's IPv4 header and 8 bytes or
 * more, now and then cut anywhere or with a byte changed.
 */
static void gen_error(struct rng *r, const struct frame_spec *flow, struct frame *f)
{
	static const uint8_t types[] = { 3, 3, 3, 11, 0, 5, 12, 8 };
	uint8_t quote[PKT_MAX];
	struct pkt_icmp icmp;
	struct pkt_spec q, e;
	size_t quote_len;

	pkt_spec_udp(&q);
	q.src = flow->pkt.dst;
	q.dst = flow->pkt.src;
	q.sport = flow->pkt.dport;
	q.dport = flow->pkt.sport;
	q.proto = rng_one_in(r, 16) ? IPPROTO_ICMP : flow->pkt.proto;
	q.frag_off = rng_one_in(r, 8) ? (uint16_t)rng_next(r) & (IP_MF | IP_OFFSET) : IP_DF;
	q.ttl = (uint8_t)rng_range(r, 1, 64);
	q.ip_options = flow->ip_options;
	q.ip_options_len = rng_one_in(r, 4) ? flow->pkt.ip_options_len : 0;
	q.payload_len = rng_range(r, 0, 1400);
	switch (rng_below(r, 8)) {
	case 0: /* cut anywhere */
		quote_len = pkt_quote(&q, rng_range(r, 1, 40), quote, sizeof(quote));
		break;
	case 1: /* up to RFC 1812's 576 bytes */
		quote_len = pkt_quote(&q, 576 - 28, quote, sizeof(quote));
		break;
	default: /* RFC 792: the header and 8 bytes */
		quote_len = pkt_quote(&q, 20 + q.ip_options_len + 8, quote, sizeof(quote));
	}
	if (quote_len && rng_one_in(r, 8))
		quote[rng_below(r, (uint32_t)quote_len)] ^= (uint8_t)rng_range(r, 1, 255);

	icmp.type = types[rng_below(r, ARRAY_SIZE(types))];
	icmp.code = icmp.type == 3 ? (rng_one_in(r, 2) ? 4 : (uint8_t)rng_below(r, 16)) : 0;
	icmp.mtu = icmp.code == 4 ? (uint16_t)rng_range(r, 68, 1500) : 0;
	pkt_spec_udp(&e);
	memcpy(e.dst_mac, lb_mac, 6);
	random_unicast_mac(r, e.src_mac);
	e.src = htonl(0xc0000200 | rng_range(r, 1, 254)); /* a router, 192.0.2.0/24 */
	e.dst = rng_one_in(r, 16) ? non_vip_addr(r) : flow->pkt.dst;
	e.proto = IPPROTO_ICMP;
	e.icmp = &icmp;
	e.payload = quote;
	e.payload_len = quote_len;
	e.ttl = 64;
	if (rng_one_in(r, 4))
		e.tags[e.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, (uint16_t)rng_below(r, 4096) };
	if (rng_one_in(r, 16))
		e.frag_off = IP_MF;
	if (rng_one_in(r, 16))
		e.l4_csum_xor = (uint16_t)rng_range(r, 1, 0xffff);
	f->len = pkt_build(&e, f->data, FRAME_MAX);
}

/* Frames in pairs, for ICMP to VIP addresses: an even frame is an echo
 * request (@echo, one in three) or a flow to a VIP (@flow); the odd frame is
 * an error (@error) about the reply to the frame before, the flow drawn again
 * from its stream (@flow_rng), so that most errors name a flow lb holds; one
 * in three about a flow of the same generator lb need not hold.
 */
static void gen_pair(struct rng *r, const struct gen_call *call, struct frame *f,
		     void (*echo)(struct rng *r, struct frame *f),
		     void (*flow)(struct rng *r, struct frame *f),
		     void (*error)(struct rng *r, struct rng *flow_rng, struct frame *f))
{
	struct rng base;

	if (call->index % 2 == 0) {
		if (rng_one_in(r, 3))
			echo(r, f);
		else
			flow(r, f);
		return;
	}
	/* The even frame's draws again, up to its flow. */
	base = rng_for(call->seed, call->class, call->index - 1);
	if (rng_one_in(&base, 3))
		base = *r;
	error(r, &base, f);
}

static void gen_flow(struct rng *r, struct frame *f)
{
	struct pkt_layout lay;
	struct frame_spec s;

	spec_flow(r, &s);
	frame_build(r, &s, f, &lay);
}

static void gen_flow_error(struct rng *r, struct rng *flow_rng, struct frame *f)
{
	struct frame_spec s;

	spec_flow(flow_rng, &s);
	gen_error(r, &s, f);
}

/* ICMP to IPv4 VIP addresses, in pairs (gen_pair()). */
static void gen_icmp(struct rng *r, const struct gen_call *call, struct frame *f)
{
	gen_pair(r, call, f, gen_echo, gen_flow, gen_flow_error);
}

/* Frames to VIPs sized around the egress MTU once encapsulated (1480 bytes of
 * IPv4 fit a 1500-byte link behind IPIP): with DF (ICMP fragmentation needed
 * when too big), without (the kernel fragments), as later fragments.
 */
static void gen_pmtu(struct rng *r, const struct gen_call *call, struct frame *f)
{
	struct pkt_layout lay;
	struct frame_spec s;
	size_t headers;

	(void)call;
	spec_flow(r, &s);
	s.pkt.frag_off = rng_one_in(r, 3) ? 0 : IP_DF;
	if (rng_one_in(r, 16))
		s.pkt.frag_off |= (uint16_t)rng_range(r, 1, IP_OFFSET);
	headers = 20 + s.pkt.ip_options_len +
		  (s.pkt.proto == IPPROTO_TCP ? 20 + s.pkt.tcp_options_len : 8);
	s.pkt.payload_len = 1480 - headers + rng_range(r, 0, 8) - 4;
	if (rng_one_in(r, 4))
		s.pkt.payload_len = rng_range(r, 1400, 3000);
	frame_build(r, &s, f, &lay);
}

static void gen_ipv6_vip(struct rng *r, const struct gen_call *call, struct frame *f);

/* Frames for the gue stage (the class runs with it in the encap slot): pairs
 * of the icmp, pmtu, fragments, valid and ipv6-vip classes' frames, so that
 * GUE over IPv6, IPv4 and IPv6 inside, takes both ways to its UDP checksum
 * (ICMP errors, fragments, IPv6 extension headers and UDP without a checksum
 * summed; the rest derived from the inner checksum) and its 8 more bytes meet
 * the MTU. A pair keeps one generator: icmp's and ipv6-vip's odd frame draws
 * its even one again. One frame in eight has its last byte changed,
 * mostly a payload byte: an inner checksum then fails, and the outer one GUE
 * derives from it must fail as much.
 */
static void gen_gue(struct rng *r, const struct gen_call *call, struct frame *f)
{
	switch (call->index / 2 % 5) {
	case 0:
		gen_icmp(r, call, f);
		break;
	case 1:
		gen_pmtu(r, call, f);
		break;
	case 2:
		gen_fragments(r, call, f);
		break;
	case 3:
		gen_ipv6_vip(r, call, f);
		break;
	default:
		gen_valid(r, call, f);
	}
	if (f->len > FRAME_MIN && rng_one_in(r, 8))
		f->data[f->len - 1] ^= (uint8_t)rng_range(r, 1, 255);
}

/* --- IPv6 VIPs -------------------------------------------------------------------- */

/* A client of the IPv6 VIPs: 2001:db8::/64, now and then a link-local
 * (martian) one.
 */
static void client6_addr(struct rng *r, uint8_t *addr)
{
	pkt_ip6(rng_one_in(r, 32) ? "fe80::" : "2001:db8::", addr);
	fill_random(r, addr + 8, 8);
}

/* A chain of up to @max extension headers: mostly routing and destination
 * options, hop-by-hop first now and then, a fragment header (a later
 * fragment's when @later allows) and, rarely, what parse does not walk or
 * refuses: an authentication header, hop-by-hop not first, a second fragment
 * header. 8 to 32 bytes each, once in a while about 256 bytes in one.
 */
static void ext6_chain(struct rng *r, struct pkt_spec *p, size_t max, bool later)
{
	size_t i, count = rng_below(r, (uint32_t)max + 1);
	uint32_t pick;
	uint8_t type;

	for (i = 0; i < count && p->ext6_count < PKT_MAX_EXT6; i++) {
		pick = rng_below(r, 32);
		if (pick < 8)
			type = i == 0 ? 0 : 60;
		else if (pick < 11)
			type = 44;
		else if (pick == 11)
			type = 51;
		else if (pick == 12)
			type = 0;
		else
			type = pick & 1 ? 43 : 60;
		if (type == 44)
			p->ext6[p->ext6_count++] = (struct pkt_ext6){
				44, 0, (uint16_t)((later && rng_one_in(r, 3) ?
						   8 * rng_range(r, 1, 1000) : 0) |
						  rng_below(r, 2)) };
		else
			p->ext6[p->ext6_count++] = (struct pkt_ext6){
				type, (uint8_t)(rng_one_in(r, 16) ? rng_range(r, 28, 32)
								  : rng_below(r, 4)), 0 };
	}
}

/* A frame of a flow to an IPv6 VIP: UDP or TCP from a client, any port on a
 * wildcard VIP, any traffic class and flow label (the outer header copies the
 * one, and must not the other), extension headers in front now and then (a later fragment's
 * among them); one in eight around or past what fits the links' MTU once
 * encapsulated (ICMPv6 packet too big, or no answer about a later fragment).
 */
static void spec6_flow(struct rng *r, struct pkt_spec *p)
{
	const struct gen_target6 *t = target6_count ?
		&targets6[rng_below(r, (uint32_t)target6_count)] : NULL;

	pkt_spec_udp6(p);
	memcpy(p->dst_mac, lb_mac, 6);
	random_unicast_mac(r, p->src_mac);
	if (rng_one_in(r, 4))
		p->tags[p->tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q,
							    (uint16_t)rng_below(r, 4096) };
	client6_addr(r, p->src6);
	if (t)
		memcpy(p->dst6, t->addr6, 16);
	p->proto = t ? t->proto : IPPROTO_UDP;
	p->sport = client_port(r);
	p->dport = t && t->port && !rng_one_in(r, 8) ? t->port : any_port(r);
	p->ttl = (uint8_t)rng_range(r, 1, 255);
	p->tos = (uint8_t)rng_below(r, 256);
	p->flow_label = rng_next(r) & 0xfffff;
	p->tcp_flags = random_tcp_flags(r);
	if (rng_one_in(r, 8))
		p->payload_len = rng_range(r, 1390, rng_one_in(r, 2) ? 1430 : 3000);
	else
		p->payload_len = random_payload_len(r) % 1400;
	if (rng_one_in(r, 4))
		ext6_chain(r, p, 3, rng_one_in(r, 2));
}

/* An ICMPv6 echo request to the VIP address of @flow's kind: now and then
 * behind extension headers, in fragments, with a wrong checksum, or to an
 * address no VIP has.
 */
static void gen_echo6(struct rng *r, struct frame *f)
{
	struct pkt_spec p;

	spec6_flow(r, &p);
	p.ext6_count = 0;
	p.proto = IPPROTO_ICMPV6;
	p.sport = (uint16_t)rng_next(r); /* id and sequence */
	p.dport = (uint16_t)rng_next(r);
	if (rng_one_in(r, 4))
		ext6_chain(r, &p, 2, true);
	if (rng_one_in(r, 8))
		p.l4_csum_xor = (uint16_t)rng_range(r, 1, 0xffff);
	if (rng_one_in(r, 16))
		fill_random(r, p.dst6 + 8, 8);
	f->len = pkt_build(&p, f->data, FRAME_MAX);
}

/* An ICMPv6 error from a router to the VIP of @flow about the backend's reply
 * (VIP:vport -> client:cport): mostly the four error types, now and then an
 * echo reply or a neighbour solicitation; the quote the reply's IPv6 header,
 * its extension headers (a chain parse walks, or one too long, cut, or with
 * an authentication header) and 8 bytes or more, now and then cut anywhere, a
 * byte changed, another client port (no flow) or ICMPv6 quoted.
 */
static void gen_error6(struct rng *r, const struct pkt_spec *flow, struct frame *f)
{
	static const uint8_t types[] = { 1, 2, 2, 3, 4, 129, 135, 128 };
	static uint8_t quote[PKT_MAX];
	struct pkt_spec q, e;
	struct pkt_icmp icmp;
	size_t quote_len, headers, i;

	pkt_spec_udp6(&q);
	memcpy(q.src6, flow->dst6, 16);
	memcpy(q.dst6, flow->src6, 16);
	q.sport = flow->dport;
	q.dport = rng_one_in(r, 8) ? client_port(r) : flow->sport;
	q.proto = rng_one_in(r, 16) ? IPPROTO_ICMPV6 : flow->proto;
	q.ttl = 64;
	q.payload_len = rng_range(r, 0, 1400);
	if (rng_one_in(r, 2))
		ext6_chain(r, &q, rng_one_in(r, 4) ? 8 : 3, true);
	headers = 40 + 8;
	for (i = 0; i < q.ext6_count; i++)
		headers += q.ext6[i].type == 44 ? 8 : ((size_t)q.ext6[i].hdrlen + 1) * 8;
	switch (rng_below(r, 8)) {
	case 0: /* cut anywhere */
		quote_len = pkt_quote(&q, rng_range(r, 1, (uint32_t)headers), quote, sizeof(quote));
		break;
	case 1: /* as much as fits 1280 bytes (RFC 4443, 2.4) */
		quote_len = pkt_quote(&q, 1232, quote, sizeof(quote));
		break;
	case 2: /* the whole reply, more than RFC 4443 allows: too big once encapsulated */
		q.payload_len = rng_range(r, 1300, 1500);
		quote_len = pkt_quote(&q, 0, quote, sizeof(quote));
		break;
	default: /* the headers and the ports at least */
		quote_len = pkt_quote(&q, headers + rng_below(r, 16), quote, sizeof(quote));
	}
	if (quote_len && rng_one_in(r, 8))
		quote[rng_below(r, (uint32_t)quote_len)] ^= (uint8_t)rng_range(r, 1, 255);

	icmp.type = types[rng_below(r, ARRAY_SIZE(types))];
	icmp.code = (uint8_t)rng_below(r, 8);
	icmp.mtu = icmp.type == 2 ? (uint16_t)rng_range(r, 1280, 1500) : 0;
	pkt_spec_udp6(&e);
	memcpy(e.dst_mac, lb_mac, 6);
	random_unicast_mac(r, e.src_mac);
	pkt_ip6("2001:db8:ff::", e.src6); /* a router */
	e.src6[15] = (uint8_t)rng_range(r, 1, 254);
	memcpy(e.dst6, flow->dst6, 16);
	if (rng_one_in(r, 16))
		fill_random(r, e.dst6 + 8, 8);
	e.proto = IPPROTO_ICMPV6;
	e.icmp = &icmp;
	e.payload = quote;
	e.payload_len = quote_len;
	e.ttl = 64;
	e.tos = (uint8_t)rng_below(r, 256);
	if (rng_one_in(r, 4))
		e.tags[e.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q, (uint16_t)rng_below(r, 4096) };
	if (rng_one_in(r, 16))
		e.ext6[e.ext6_count++] = (struct pkt_ext6){ 44, 0, 1 }; /* in fragments */
	else if (rng_one_in(r, 16))
		e.ext6[e.ext6_count++] = (struct pkt_ext6){ 60, 0, 0 };
	if (rng_one_in(r, 16))
		e.l4_csum_xor = (uint16_t)rng_range(r, 1, 0xffff);
	f->len = quote_len ? pkt_build(&e, f->data, FRAME_MAX) : 0;
	if (f->len > FRAME_MIN && rng_one_in(r, 32))
		f->len = rng_range(r, FRAME_MIN, (uint32_t)f->len - 1);
}

static void gen_flow6(struct rng *r, struct frame *f)
{
	struct pkt_spec p;

	spec6_flow(r, &p);
	f->len = pkt_build(&p, f->data, FRAME_MAX);
}

static void gen_flow6_error(struct rng *r, struct rng *flow_rng, struct frame *f)
{
	struct pkt_spec p;

	spec6_flow(flow_rng, &p);
	gen_error6(r, &p, f);
}

/* The IPv6 VIPs as gen_icmp() does IPv4's: flows, echo requests and ICMPv6
 * errors about the flows' replies, in pairs (gen_pair()).
 */
static void gen_ipv6_vip(struct rng *r, const struct gen_call *call, struct frame *f)
{
	gen_pair(r, call, f, gen_echo6, gen_flow6, gen_flow6_error);
}

const struct gen_nat6 gen_nat6_replies[] = {
	{ "fd00:10::b1", "fd00:10::10", 80, 16384, IPPROTO_TCP },
	{ "fd00:10::b2", "fd00:10::10", 53, 20000, IPPROTO_UDP },
	{ "fe80::b3", "fd00:10::10", 8080, 32767, IPPROTO_TCP },
};

const size_t gen_nat6_reply_count = ARRAY_SIZE(gen_nat6_replies);

/* A backend's IPv6 reply to a NAT mapping (gen_nat6_replies), to the
 * balancer's MAC seven times in eight, one VLAN tag now and then, any hop
 * limit, a random payload; in about half of them one thing that makes it no
 * reply, or one parse still takes: another port or protocol, a destination
 * options header in front of UDP/TCP, a fragment header, a cut.
 */
static void gen_nat6_reply(struct rng *r, const struct gen_call *call, struct frame *f)
{
	const struct gen_nat6 *m = &gen_nat6_replies[rng_below(r, gen_nat6_reply_count)];
	uint8_t payload[256];
	struct pkt_spec p;

	(void)call;
	pkt_spec_udp6(&p);
	memcpy(p.dst_mac, lb_mac, 6);
	if (rng_one_in(r, 8))
		random_unicast_mac(r, p.dst_mac);
	else if (rng_one_in(r, 16))
		p.dst_mac[0] |= 1;
	random_unicast_mac(r, p.src_mac);
	if (rng_one_in(r, 4))
		p.tags[p.tag_count++] = (struct pkt_tag){ PKT_TPID_8021Q,
							  (uint16_t)rng_below(r, 4096) };
	pkt_ip6(m->src, p.src6);
	pkt_ip6(m->dst, p.dst6);
	p.proto = m->proto;
	p.sport = m->sport;
	p.dport = m->dport;
	p.ttl = (uint8_t)rng_below(r, 256);
	p.tcp_flags = random_tcp_flags(r);
	switch (rng_below(r, 10)) {
	case 0:
		p.dport = any_port(r);
		break;
	case 1:
		p.proto = p.proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
		break;
	case 2:
		p.ext6[p.ext6_count++] = (struct pkt_ext6){ 60, (uint8_t)rng_below(r, 3), 0 };
		break;
	case 3:
		p.ext6[p.ext6_count++] = (struct pkt_ext6){
			44, 0, (uint16_t)(8 * rng_below(r, 2) * rng_range(r, 1, 100) |
					  rng_below(r, 2)) };
		break;
	default:
		break;
	}
	p.payload_len = rng_below(r, sizeof(payload));
	fill_random(r, payload, p.payload_len);
	p.payload = payload;
	f->len = pkt_build(&p, f->data, FRAME_MAX);
	if (rng_one_in(r, 16) && f->len > FRAME_MIN)
		f->len = rng_range(r, FRAME_MIN, f->len - 1);
}

const struct frame_class frame_classes[] = {
	{ "random-bytes", gen_random_bytes },
	{ "valid", gen_valid },
	{ "truncated", gen_truncated },
	{ "ipv4-header", gen_ipv4_header },
	{ "fragments", gen_fragments },
	{ "vlan-stacks", gen_vlan_stacks },
	{ "ipv6", gen_ipv6 },
	{ "udp-length", gen_udp_length },
	{ "tcp-offset", gen_tcp_offset },
	{ "byte-flips", gen_byte_flips },
	{ "non-vip", gen_non_vip },
	{ "addressing", gen_addressing },
	{ "icmp", gen_icmp },
	{ "pmtu", gen_pmtu },
	{ "nat6-reply", gen_nat6_reply },
	{ "gue", gen_gue },
	{ "ipv6-vip", gen_ipv6_vip },
};

const size_t frame_class_count = ARRAY_SIZE(frame_classes);

bool frame_class_gue(uint32_t class)
{
	return frame_classes[class].generate == gen_gue;
}

void gen_frame(uint64_t seed, uint32_t class, uint64_t index, struct frame *f)
{
	struct rng r = rng_for(seed, class, index);
	const struct gen_call call = { .seed = seed, .class = class, .index = index };

	f->len = 0;
	frame_classes[class].generate(&r, &call, f);
}
