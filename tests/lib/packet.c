// SPDX-License-Identifier: GPL-2.0
/* Frame builder for tests, fuzzers, tools and benchmarks; see packet.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"

#define ETHERTYPE_IPV4 0x0800
#define ICMP_ECHO_REQUEST 8
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129

void pkt_spec_udp(struct pkt_spec *spec)
{
	static const uint8_t lb_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
	static const uint8_t client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

	memset(spec, 0, sizeof(*spec));
	memcpy(spec->dst_mac, lb_mac, 6);
	memcpy(spec->src_mac, client_mac, 6);
	spec->src = pkt_ip("10.0.0.1");
	spec->dst = pkt_ip("10.0.0.100");
	spec->proto = IPPROTO_UDP;
	spec->sport = 1234;
	spec->dport = 80;
	spec->ttl = 64;
	spec->ip_id = 0x1234;
	spec->tcp_flags = 0x10; /* ACK */
	spec->tcp_seq = 1 << 16;
	spec->payload_len = 32;
}

void pkt_spec_udp6(struct pkt_spec *spec)
{
	pkt_spec_udp(spec);
	spec->ipv6 = true;
	spec->src = spec->dst = 0;
	pkt_ip6("2001:db8::1", spec->src6);
	pkt_ip6("2001:db8::100", spec->dst6);
}

void pkt_ip6(const char *text, uint8_t *out)
{
	if (inet_pton(AF_INET6, text, out) != 1) {
		fprintf(stderr, "pkt_ip6: bad address '%s'\n", text);
		abort();
	}
}

uint32_t pkt_ip(const char *dotted)
{
	struct in_addr addr;

	if (inet_pton(AF_INET, dotted, &addr) != 1) {
		fprintf(stderr, "pkt_ip: bad address '%s'\n", dotted);
		abort();
	}
	return addr.s_addr;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

uint16_t pkt_csum(const void *data, size_t len)
{
	return csum_fold(csum_add(0, data, len));
}

uint16_t pkt_l4_csum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *seg,
		     size_t len)
{
	uint8_t pseudo[12];
	uint16_t l4_len = htons((uint16_t)len);

	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &dst, 4);
	pseudo[8] = 0;
	pseudo[9] = proto;
	memcpy(pseudo + 10, &l4_len, 2);
	return csum_fold(csum_add(csum_add(0, pseudo, sizeof(pseudo)), seg, len));
}

uint16_t pkt_l4_csum6(const uint8_t *src, const uint8_t *dst, uint8_t proto, const uint8_t *seg,
		      size_t len)
{
	uint8_t pseudo[40] = { 0 };
	uint32_t l4_len = htonl((uint32_t)len);

	memcpy(pseudo, src, 16);
	memcpy(pseudo + 16, dst, 16);
	memcpy(pseudo + 32, &l4_len, 4);
	pseudo[39] = proto;
	return csum_fold(csum_add(csum_add(0, pseudo, sizeof(pseudo)), seg, len));
}

void pkt_ipv4_csum_fix(uint8_t *ip)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	uint16_t csum;

	memset(ip + 10, 0, 2);
	csum = pkt_csum(ip, ihl);
	memcpy(ip + 10, &csum, 2);
}

/* The length of the L4 header pkt_build() writes for @s (0: none, raw payload). */
static size_t l4_header_len(const struct pkt_spec *s)
{
	switch (s->proto) {
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	case IPPROTO_TCP:
		return 20 + s->tcp_options_len;
	default:
		return 0;
	}
}

/* The bytes of one IPv6 extension header pkt_build() writes. */
static size_t ext6_len(const struct pkt_ext6 *e)
{
	return e->type == 44 ? 8 : ((size_t)e->hdrlen + 1) * 8;
}

static size_t layout_ipv6(const struct pkt_spec *s, struct pkt_layout *lay)
{
	size_t ext = 0, l4_len = l4_header_len(s), i;

	if (s->ext6_count > PKT_MAX_EXT6)
		return 0;
	for (i = 0; i < s->ext6_count; i++)
		ext += ext6_len(&s->ext6[i]);
	lay->l4 = lay->l3 + 40 + ext;
	lay->payload = lay->l4 + l4_len;
	lay->ip_end = lay->payload + s->payload_len;
	lay->len = lay->ip_end + s->padding;
	return lay->len;
}

size_t pkt_layout(const struct pkt_spec *s, struct pkt_layout *lay)
{
	size_t l4_len;

	memset(lay, 0, sizeof(*lay));
	if (s->tag_count > PKT_MAX_TAGS || s->ip_options_len > 40 || s->ip_options_len % 4 ||
	    s->tcp_options_len > 40 || s->tcp_options_len % 4)
		return 0;
	lay->l3 = 14 + 4 * s->tag_count;
	if (s->ipv6 && !s->ethertype)
		return layout_ipv6(s, lay);
	if (s->ethertype) {
		lay->payload = lay->l3;
		lay->ip_end = lay->l3 + s->payload_len;
	} else {
		l4_len = l4_header_len(s);
		lay->l4 = l4_len ? lay->l3 + 20 + s->ip_options_len : 0;
		lay->payload = lay->l3 + 20 + s->ip_options_len + l4_len;
		lay->ip_end = lay->payload + s->payload_len;
	}
	lay->len = lay->ip_end + s->padding;
	return lay->len;
}

/* A checksum as the spec wants it: right, or flipped by @xor. */
static void put_csum(uint8_t *at, uint16_t right, uint16_t xor)
{
	uint16_t csum = right ^ htons(xor);

	memcpy(at, &csum, 2);
}

/* The UDP/TCP checksum of @seg over the spec's family's pseudo header. */
static uint16_t l4_csum(const struct pkt_spec *s, const uint8_t *seg, size_t seg_len)
{
	if (s->ipv6)
		return pkt_l4_csum6(s->src6, s->dst6, s->proto, seg, seg_len);
	return pkt_l4_csum(s->src, s->dst, s->proto, seg, seg_len);
}

static void build_l4(const struct pkt_spec *s, uint8_t *seg, size_t seg_len)
{
	uint16_t csum;

	switch (s->proto) {
	case IPPROTO_UDP:
		pkt_put16(seg, s->sport);
		pkt_put16(seg + 2, s->dport);
		pkt_put16(seg + 4, (uint16_t)seg_len);
		csum = l4_csum(s, seg, seg_len);
		/* UDP sends a computed 0 as 0xffff: 0 means "no checksum". */
		put_csum(seg + 6, csum ? csum : 0xffff, s->l4_csum_xor);
		break;
	case IPPROTO_TCP:
		pkt_put16(seg, s->sport);
		pkt_put16(seg + 2, s->dport);
		pkt_put16(seg + 4, (uint16_t)(s->tcp_seq >> 16));
		pkt_put16(seg + 6, (uint16_t)s->tcp_seq);
		pkt_put16(seg + 8, (uint16_t)(s->tcp_ack >> 16));
		pkt_put16(seg + 10, (uint16_t)s->tcp_ack);
		seg[12] = (uint8_t)((20 + s->tcp_options_len) / 4 << 4); /* data offset */
		seg[13] = s->tcp_flags;
		pkt_put16(seg + 14, 65535);
		if (s->tcp_options)
			memcpy(seg + 20, s->tcp_options, s->tcp_options_len);
		else
			memset(seg + 20, 1, s->tcp_options_len); /* NOPs */
		put_csum(seg + 16, l4_csum(s, seg, seg_len), s->l4_csum_xor);
		break;
	case IPPROTO_ICMP:
		if (s->icmp) {
			seg[0] = s->icmp->type;
			seg[1] = s->icmp->code;
			pkt_put16(seg + 6, s->icmp->mtu);
		} else {
			seg[0] = ICMP_ECHO_REQUEST;
			pkt_put16(seg + 4, s->sport);
			pkt_put16(seg + 6, s->dport);
		}
		put_csum(seg + 2, pkt_csum(seg, seg_len), s->l4_csum_xor);
		break;
	case IPPROTO_ICMPV6:
		if (s->icmp) {
			seg[0] = s->icmp->type;
			seg[1] = s->icmp->code;
			pkt_put16(seg + 6, s->icmp->mtu);
		} else {
			seg[0] = ICMP6_ECHO_REQUEST;
			pkt_put16(seg + 4, s->sport);
			pkt_put16(seg + 6, s->dport);
		}
		put_csum(seg + 2, l4_csum(s, seg, seg_len), s->l4_csum_xor);
		break;
	}
}

/* The IPv6 header and extension headers at @ip, up to lay->l4. */
static void build_ipv6(const struct pkt_spec *s, const struct pkt_layout *lay, uint8_t *ip)
{
	uint8_t *at = ip + 40, *next = ip + 6;
	const struct pkt_ext6 *e;
	size_t i, len;

	ip[0] = (uint8_t)(0x60 | s->tos >> 4);
	ip[1] = (uint8_t)(s->tos << 4 | (s->flow_label >> 16 & 0x0f));
	pkt_put16(ip + 2, (uint16_t)s->flow_label);
	pkt_put16(ip + 4, (uint16_t)(lay->ip_end - lay->l3 - 40));
	ip[7] = s->ttl;
	memcpy(ip + 8, s->src6, 16);
	memcpy(ip + 24, s->dst6, 16);
	for (i = 0; i < s->ext6_count; i++) {
		e = &s->ext6[i];
		len = ext6_len(e);
		*next = e->type;
		next = at;
		memset(at, 0, len);
		if (e->type == 44) {
			pkt_put16(at + 2, e->frag_off);
			memcpy(at + 4, "\x12\x34\x56\x78", 4); /* identification */
		} else {
			at[1] = e->hdrlen;
			if (e->type == 43) {
				at[2] = 4; /* routing type: segment routing, 0 left */
			} else if (len > 2) {
				at[2] = 1; /* PadN over the rest */
				at[3] = (uint8_t)(len - 4);
			}
		}
		at += len;
	}
	*next = s->proto;
}

size_t pkt_quote(const struct pkt_spec *inner, size_t max, uint8_t *out, size_t cap)
{
	uint8_t frame[PKT_MAX];
	struct pkt_layout lay;
	size_t len;

	if (!pkt_build(inner, frame, sizeof(frame)) || !pkt_layout(inner, &lay))
		return 0;
	len = lay.ip_end - lay.l3;
	if (max && max < len)
		len = max;
	if (len > cap)
		return 0;
	memcpy(out, frame + lay.l3, len);
	return len;
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	uint16_t ethertype = s->ethertype ? s->ethertype :
			     s->ipv6 ? PKT_ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
	size_t ihl = 20 + s->ip_options_len, i;
	struct pkt_layout lay;
	uint8_t *ip;

	if (!pkt_layout(s, &lay) || lay.len > cap)
		return 0;
	memset(buf, 0, lay.len);
	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	for (i = 0; i < s->tag_count; i++) {
		pkt_put16(buf + 12 + 4 * i, s->tags[i].tpid);
		pkt_put16(buf + 14 + 4 * i, s->tags[i].tci);
	}
	pkt_put16(buf + lay.l3 - 2, ethertype);
	if (s->payload)
		memcpy(buf + lay.payload, s->payload, s->payload_len);
	else
		for (i = 0; i < s->payload_len; i++)
			buf[lay.payload + i] = (uint8_t)i;
	if (s->ethertype)
		return lay.len;

	ip = buf + lay.l3;
	if (s->ipv6) {
		build_ipv6(s, &lay, ip);
		if (lay.l4 && l4_header_len(s))
			build_l4(s, buf + lay.l4, lay.ip_end - lay.l4);
		return lay.len;
	}
	ip[0] = 0x40 | (uint8_t)(ihl / 4);
	ip[1] = s->tos;
	pkt_put16(ip + 2, (uint16_t)(lay.ip_end - lay.l3));
	pkt_put16(ip + 4, s->ip_id);
	pkt_put16(ip + 6, s->frag_off);
	ip[8] = s->ttl;
	ip[9] = s->proto;
	memcpy(ip + 12, &s->src, 4);
	memcpy(ip + 16, &s->dst, 4);
	if (s->ip_options_len)
		memcpy(ip + 20, s->ip_options, s->ip_options_len);
	if (lay.l4)
		build_l4(s, buf + lay.l4, lay.ip_end - lay.l4);
	put_csum(ip + 10, pkt_csum(ip, ihl), s->ip_csum_xor);
	return lay.len;
}

size_t pkt_frag_needed(const uint8_t *in, size_t l2_len, int swap_macs, uint16_t mtu,
		       uint8_t *out)
{
	const uint8_t *client = in + l2_len;
	size_t quote_len = (size_t)(client[0] & 0x0f) * 4 + 8;
	uint8_t *ip = out + l2_len, *icmp = ip + 20;
	uint16_t csum;

	memcpy(out, in, l2_len);
	if (swap_macs) {
		memcpy(out, in + 6, 6);
		memcpy(out + 6, in, 6);
	}
	memset(ip, 0, 28);
	ip[0] = 0x45;                                    /* version 4, IHL 5 */
	ip[1] = 0xc0;                                    /* internetwork control */
	pkt_put16(ip + 2, (uint16_t)(28 + quote_len));   /* total length; id 0, no flags */
	ip[8] = 64;                                      /* TTL */
	ip[9] = 1;                                       /* ICMP */
	memcpy(ip + 12, client + 16, 4);                 /* from the VIP */
	memcpy(ip + 16, client + 12, 4);                 /* to the client */
	csum = pkt_csum(ip, 20);
	memcpy(ip + 10, &csum, 2);
	icmp[0] = 3;                                     /* destination unreachable */
	icmp[1] = 4;                                     /* fragmentation needed */
	pkt_put16(icmp + 6, mtu);                        /* next-hop MTU, RFC 1191 */
	memcpy(icmp + 8, client, quote_len);
	csum = pkt_csum(icmp, 8 + quote_len);
	memcpy(icmp + 2, &csum, 2);
	return l2_len + 28 + quote_len;
}

size_t pkt_packet_too_big(const uint8_t *in, size_t l2_len, int swap_macs, uint32_t mtu,
			  uint8_t *out)
{
	const uint8_t *client = in + l2_len;
	size_t quote_len = 40 + (size_t)pkt_get16(client + 4);
	uint8_t *ip = out + l2_len, *icmp = ip + 40;
	uint16_t csum;

	if (quote_len > PKT_PTB_QUOTE_MAX)
		quote_len = PKT_PTB_QUOTE_MAX;
	memcpy(out, in, l2_len);
	if (swap_macs) {
		memcpy(out, in + 6, 6);
		memcpy(out + 6, in, 6);
	}
	memset(ip, 0, 48);
	ip[0] = 0x60;                                    /* version 6, class 0, label 0 */
	pkt_put16(ip + 4, (uint16_t)(8 + quote_len));   /* payload length */
	ip[6] = 58;                                      /* ICMPv6 */
	ip[7] = 64;                                      /* hop limit */
	memcpy(ip + 8, client + 24, 16);                 /* from the VIP */
	memcpy(ip + 24, client + 8, 16);                 /* to the client */
	icmp[0] = 2;                                     /* packet too big, code 0 */
	icmp[4] = (uint8_t)(mtu >> 24);                  /* MTU, 32 bits */
	icmp[5] = (uint8_t)(mtu >> 16);
	pkt_put16(icmp + 6, (uint16_t)mtu);
	memcpy(icmp + 8, client, quote_len);
	csum = pkt_l4_csum6(ip + 8, ip + 24, 58, icmp, 8 + quote_len);
	memcpy(icmp + 2, &csum, 2);
	return l2_len + 48 + quote_len;
}

size_t pkt_echo_reply(const uint8_t *in, size_t len, size_t l3, uint8_t *out)
{
	uint8_t *ip = out + l3, *icmp;
	uint16_t old_word, new_word;
	uint32_t sum;

	memcpy(out, in, len);
	memcpy(out, in + 6, 6);
	memcpy(out + 6, in, 6);
	if (ip[0] >> 4 == 6) {
		/* No extension headers: the ICMPv6 header right behind. */
		memcpy(ip + 8, in + l3 + 24, 16);
		memcpy(ip + 24, in + l3 + 8, 16);
		ip[7] = 64;
		icmp = ip + 40;
		old_word = ICMP6_ECHO_REQUEST << 8;
		new_word = ICMP6_ECHO_REPLY << 8;
	} else {
		memcpy(ip + 12, in + l3 + 16, 4);
		memcpy(ip + 16, in + l3 + 12, 4);
		ip[8] = 64;
		pkt_ipv4_csum_fix(ip);
		icmp = ip + (size_t)(ip[0] & 0x0f) * 4;
		old_word = ICMP_ECHO_REQUEST << 8;
		new_word = 0;
	}
	icmp[0] = (uint8_t)(new_word >> 8);
	/* Incremental (RFC 1624): a wrong checksum stays as wrong. */
	sum = (uint16_t)~pkt_get16(icmp + 2) + (uint16_t)~old_word + new_word;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	pkt_put16(icmp + 2, (uint16_t)~sum);
	return len;
}
