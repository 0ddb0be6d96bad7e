// SPDX-License-Identifier: GPL-2.0
/* Frame builder for tests; see packet.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"

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
	spec->payload_len = 32;
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

static void put16(uint8_t *p, uint16_t host)
{
	p[0] = host >> 8;
	p[1] = host & 0xff;
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	size_t l2 = s->vlan ? 18 : 14, ihl = 20 + s->ip_options_len, l4 = 0, i;
	uint16_t ethertype = s->ethertype ? s->ethertype : 0x0800;
	uint8_t *ip, *seg;
	size_t total;

	if (s->ethertype) {
		total = l2 + s->payload_len;
	} else {
		if (s->proto == IPPROTO_UDP)
			l4 = 8;
		else if (s->proto == IPPROTO_TCP)
			l4 = 20;
		total = l2 + ihl + l4 + s->payload_len;
	}
	if (total > cap || s->ip_options_len > 40 || s->ip_options_len % 4)
		return 0;
	memset(buf, 0, total);
	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	if (s->vlan) {
		put16(buf + 12, 0x8100);
		put16(buf + 14, s->vlan_tci);
		put16(buf + 16, ethertype);
	} else {
		put16(buf + 12, ethertype);
	}
	if (s->ethertype) {
		for (i = 0; i < s->payload_len; i++)
			buf[l2 + i] = (uint8_t)i;
		return total;
	}

	ip = buf + l2;
	ip[0] = 0x40 | (uint8_t)(ihl / 4);
	ip[1] = s->tos;
	put16(ip + 2, (uint16_t)(ihl + l4 + s->payload_len));
	put16(ip + 4, s->ip_id);
	put16(ip + 6, s->frag_off);
	ip[8] = s->ttl;
	ip[9] = s->proto;
	memcpy(ip + 12, &s->src, 4);
	memcpy(ip + 16, &s->dst, 4);
	if (s->ip_options_len)
		memcpy(ip + 20, s->ip_options, s->ip_options_len);

	seg = ip + ihl;
	for (i = 0; i < s->payload_len; i++)
		seg[l4 + i] = (uint8_t)i;
	if (s->proto == IPPROTO_UDP) {
		put16(seg, s->sport);
		put16(seg + 2, s->dport);
		put16(seg + 4, (uint16_t)(l4 + s->payload_len));
		uint16_t csum = pkt_l4_csum(s->src, s->dst, s->proto, seg, l4 + s->payload_len);

		/* UDP sends a computed 0 as 0xffff: 0 means "no checksum". */
		memcpy(seg + 6, csum ? &csum : (uint16_t[]){ 0xffff }, 2);
	} else if (s->proto == IPPROTO_TCP) {
		put16(seg, s->sport);
		put16(seg + 2, s->dport);
		put16(seg + 4, 0x0001); /* sequence 1 */
		seg[12] = 5 << 4;       /* data offset: 20 bytes */
		seg[13] = s->tcp_flags ? s->tcp_flags : 0x10;
		put16(seg + 14, 65535);
		memcpy(seg + 16, (uint16_t[]){ pkt_l4_csum(s->src, s->dst, s->proto, seg,
						       l4 + s->payload_len) },
		       2);
	}
	memcpy(ip + 10, (uint16_t[]){ pkt_csum(ip, ihl) }, 2);
	return total;
}
