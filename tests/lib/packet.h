/* SPDX-License-Identifier: GPL-2.0 */
/* Builds test frames: Ethernet (+802.1Q), IPv4 (+options, fragments), UDP or
 * TCP, with correct checksums, so each test states only what it varies.
 */
#ifndef TEST_PACKET_H
#define TEST_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

struct pkt_spec {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	int vlan;                /* 1: one 802.1Q tag with vlan_tci */
	uint16_t vlan_tci;
	uint16_t ethertype;      /* 0 = IPv4 built from the fields below; else a raw
				  * payload of payload_len bytes follows the header */
	uint32_t src, dst;       /* IPv4, network byte order */
	uint8_t proto;           /* IPPROTO_UDP, IPPROTO_TCP, or any: raw payload */
	uint16_t sport, dport;   /* host byte order */
	uint8_t tos, ttl;
	uint16_t ip_id;          /* host byte order */
	uint16_t frag_off;       /* host order, flags included (0x4000 DF, 0x2000 MF) */
	const uint8_t *ip_options; /* ip_options_len bytes, a multiple of 4, <= 40 */
	size_t ip_options_len;
	uint8_t tcp_flags;       /* TCP only; 0 means ACK */
	size_t payload_len;      /* L4 payload, filled with a counting pattern */
};

/* A UDP frame 10.0.0.1:1234 -> 10.0.0.100:80 with a 32-byte payload. */
void pkt_spec_udp(struct pkt_spec *spec);

/* Writes the frame into buf and returns its length (0 when it does not fit). */
size_t pkt_build(const struct pkt_spec *spec, uint8_t *buf, size_t cap);

/* Internet checksum of len bytes (folded, complemented, network byte order). */
uint16_t pkt_csum(const void *data, size_t len);

/* TCP/UDP checksum over the IPv4 pseudo header (@src, @dst network order) and
 * @len bytes of segment, network byte order: with the segment's checksum field
 * 0, the value to write there; with it filled in, 0 when the segment is intact.
 */
uint16_t pkt_l4_csum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *seg,
		     size_t len);

/* Parses "a.b.c.d" into network byte order; aborts on a typo in a test. */
uint32_t pkt_ip(const char *dotted);

#endif /* TEST_PACKET_H */
