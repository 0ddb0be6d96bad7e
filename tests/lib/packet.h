/* SPDX-License-Identifier: GPL-2.0 */
/* The one frame builder of the unit tests, the fuzzers, the traffic tools and
 * the benchmarks: Ethernet (+ any stack of VLAN tags), IPv4 (+ options,
 * fragments) or IPv6 (+ extension headers), then UDP, TCP (+ options), ICMP or
 * ICMPv6 (echo request, or any message with spec.icmp) or any other protocol's raw
 * payload. Checksums come out right unless a case asks for them wrong; a case
 * that breaks more (lengths, versions, cuts) edits the built frame at the
 * offsets pkt_layout() gives and, where it wants, fixes the IPv4 checksum
 * again with pkt_ipv4_csum_fix().
 */
#ifndef TEST_PACKET_H
#define TEST_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048
#define PKT_MAX_TAGS 4
#define PKT_MAX_EXT6 8

#define PKT_ETHERTYPE_IPV6 0x86dd

#define PKT_TPID_8021Q 0x8100
#define PKT_TPID_8021AD 0x88a8

/* One IPv6 extension header in front of the L4 header; pkt_build() chains
 * their next-header fields. type: 0 hop-by-hop, 60 destination options (PadN
 * inside), 43 routing (type 4, segments left 0), 44 fragment (frag_off), or
 * any other (raw bytes of the length below, next header and length filled).
 */
struct pkt_ext6 {
	uint8_t type;
	uint8_t hdrlen;    /* the header's length field: (hdrlen + 1) * 8 bytes (not fragment) */
	uint16_t frag_off; /* fragment: offset in bytes | M bit (1), host order */
};

/* One VLAN tag: its TPID and TCI, host byte order. */
struct pkt_tag {
	uint16_t tpid, tci;
};

/* An ICMP message other than the default echo request: type, code and the
 * second word (RFC 792: unused, or the next-hop MTU of "fragmentation needed",
 * RFC 1191); the payload (e.g. a quote, pkt_quote()) follows the 8-byte header.
 */
struct pkt_icmp {
	uint8_t type, code;
	uint16_t mtu; /* host byte order; the header's last two bytes */
};

struct pkt_spec {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	struct pkt_tag tags[PKT_MAX_TAGS]; /* in front of the ethertype, outermost first */
	size_t tag_count;
	uint16_t ethertype;      /* 0 = IPv4 built from the fields below; else a raw
				  * payload of payload_len bytes follows the header */
	uint32_t src, dst;       /* IPv4, network byte order */
	uint8_t proto;           /* IPPROTO_UDP, _TCP, _ICMP (an echo request), _ICMPV6
				  * (IPv6 only, the same), or any other: the raw
				  * payload right behind the IP header */
	uint16_t sport, dport;   /* host byte order; ICMP: the echo's id and sequence */
	const struct pkt_icmp *icmp; /* ICMP, ICMPv6: this message; NULL an echo request */
	uint8_t tos, ttl;
	uint16_t ip_id;          /* host byte order */
	uint16_t frag_off;       /* host order, flags included (0x4000 DF, 0x2000 MF) */
	const uint8_t *ip_options; /* ip_options_len bytes, a multiple of 4, <= 40 */
	size_t ip_options_len;
	uint8_t tcp_flags;       /* TCP only, as they are */
	uint32_t tcp_seq, tcp_ack; /* host byte order */
	const uint8_t *tcp_options; /* tcp_options_len bytes; NULL: that many NOPs */
	size_t tcp_options_len;  /* a multiple of 4, <= 40 */
	const uint8_t *payload;  /* payload_len bytes; NULL: a counting pattern */
	size_t payload_len;      /* L4 payload (or the raw payload) */
	size_t padding;          /* zero bytes behind the IPv4 packet (Ethernet padding) */
	/* Deliberately wrong: flipped in the computed checksum (IPv4 header, and
	 * UDP/TCP/ICMP). 0: right. A UDP checksum flipped to 0 means "none".
	 */
	uint16_t ip_csum_xor, l4_csum_xor;
	/* IPv6 instead of IPv4 (ethertype 0): src6/dst6, tos as the traffic
	 * class, ttl as the hop limit, the extension headers below in front of
	 * the L4 header (proto). IPv4's fields (options, frag_off, ip_id) unused.
	 */
	bool ipv6;
	uint8_t src6[16], dst6[16];
	uint32_t flow_label;     /* 20 bits */
	struct pkt_ext6 ext6[PKT_MAX_EXT6];
	size_t ext6_count;
};

/* Where the headers of a frame built from a spec start; l4 is 0 without a
 * UDP/TCP/ICMP header, l3 and ip_end bound the IP packet (the raw payload).
 * IPv6: l4 is behind the extension headers (also for another protocol's raw
 * payload, where it equals payload).
 */
struct pkt_layout {
	size_t l3, l4, payload, ip_end, len;
};

/* A UDP frame 10.0.0.1:1234 -> 10.0.0.100:80 with a 32-byte payload (TCP:
 * sequence 65536, ACK, no options; the golden tables were made with these).
 */
void pkt_spec_udp(struct pkt_spec *spec);

/* The offsets of what pkt_build() writes; returns the frame's length, or 0 when
 * the spec cannot be built (options too long or not a multiple of 4, too many tags).
 */
size_t pkt_layout(const struct pkt_spec *spec, struct pkt_layout *lay);

/* Writes the frame into buf and returns its length (0 when it does not fit). */
size_t pkt_build(const struct pkt_spec *spec, uint8_t *buf, size_t cap);

/* The IPv4 packet of @inner (the frame without its L2 header), at most @max
 * bytes of it (0: whole), into @out: what an ICMP error quotes. Returns its
 * length, 0 when it cannot be built.
 */
size_t pkt_quote(const struct pkt_spec *inner, size_t max, uint8_t *out, size_t cap);

/* The ICMP "fragmentation needed" (RFC 792, RFC 1191) a balancer answers
 * frame @in with, assembled field by field: the L2 header (@l2_len bytes)
 * with the MACs swapped (@swap_macs) or as it came, an IPv4 header from @in's
 * destination to its source (TOS 0xc0, id 0, no flags, TTL 64, protocol 1),
 * ICMP type 3 code 4 with next-hop MTU @mtu, then @in's IPv4 header (options
 * included) and the first 8 bytes of its payload. Returns the length.
 */
size_t pkt_frag_needed(const uint8_t *in, size_t l2_len, int swap_macs, uint16_t mtu,
		       uint8_t *out);

/* The most of the client's packet an ICMPv6 error quotes: what keeps the
 * error within IPv6's minimum MTU of 1280 (RFC 4443, 2.4 (c)).
 */
#define PKT_PTB_QUOTE_MAX (1280 - 40 - 8)

/* The ICMPv6 "packet too big" (RFC 4443, 3.2) a balancer answers the IPv6
 * frame @in with, assembled field by field: the L2 header (@l2_len bytes) with
 * the MACs swapped (@swap_macs) or as it came, an IPv6 header from @in's
 * destination to its source (traffic class 0, flow label 0, next header 58,
 * hop limit 64), ICMPv6 type 2 code 0 with @mtu, then as much of @in's IPv6
 * packet (by its payload length, not the frame's padding) as fits
 * PKT_PTB_QUOTE_MAX; the checksum over the pseudo-header. Returns the length.
 */
size_t pkt_packet_too_big(const uint8_t *in, size_t l2_len, int swap_macs, uint32_t mtu,
			  uint8_t *out);

/* The echo reply to the echo request frame @in (@len bytes, IPv4 at @l3):
 * MACs and addresses swapped, TTL 64 (header checksum computed afresh), type
 * 0, the ICMP checksum by RFC 1624's equation 3, HC' = ~(~HC + ~m + m') with
 * the type and code word m = 0x0800 and m' = 0, so a wrong checksum stays as
 * wrong. Ethernet padding is kept. Returns the length. An IPv6 frame (no
 * extension headers) the same way: hop limit 64, type 128 -> 129 (m = 0x8000,
 * m' = 0x8100); the pseudo-header's sum does not change with the swap.
 */
size_t pkt_echo_reply(const uint8_t *in, size_t len, size_t l3, uint8_t *out);

/* Internet checksum of len bytes (folded, complemented, network byte order). */
uint16_t pkt_csum(const void *data, size_t len);

/* TCP/UDP checksum over the IPv4 pseudo header (@src, @dst network order) and
 * @len bytes of segment, network byte order: with the segment's checksum field
 * 0, the value to write there; with it filled in, 0 when the segment is intact.
 */
uint16_t pkt_l4_csum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *seg,
		     size_t len);

/* The same over IPv6's pseudo header (@src, @dst 16 bytes each). */
uint16_t pkt_l4_csum6(const uint8_t *src, const uint8_t *dst, uint8_t proto, const uint8_t *seg,
		      size_t len);

/* A UDP frame [2001:db8::1]:1234 -> [2001:db8::100]:80, 32 bytes of payload:
 * pkt_spec_udp() in IPv6.
 */
void pkt_spec_udp6(struct pkt_spec *spec);

/* Parses an IPv6 address into @out (16 bytes); aborts on a typo in a test. */
void pkt_ip6(const char *text, uint8_t *out);

/* Writes the right checksum into the IPv4 header at @ip (its IHL says how long). */
void pkt_ipv4_csum_fix(uint8_t *ip);

/* Parses "a.b.c.d" into network byte order; aborts on a typo in a test. */
uint32_t pkt_ip(const char *dotted);

/* Big-endian 16-bit fields, for edits of a built frame. */
static inline void pkt_put16(uint8_t *p, uint16_t host)
{
	p[0] = (uint8_t)(host >> 8);
	p[1] = (uint8_t)host;
}

static inline uint16_t pkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#endif /* TEST_PACKET_H */
