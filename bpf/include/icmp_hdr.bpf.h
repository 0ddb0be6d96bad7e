/* SPDX-License-Identifier: GPL-2.0 */
/* The ICMP header and the types the stages use (RFC 792), and ICMPv6's
 * (RFC 4443). linux/icmp.h and linux/icmpv6.h pull in libc's socket headers,
 * which a BPF target does not have.
 */
#ifndef LB_ICMP_HDR_BPF_H
#define LB_ICMP_HDR_BPF_H

#include <linux/types.h>

#define LB_ICMP_ECHOREPLY 0
#define LB_ICMP_DEST_UNREACH 3
#define LB_ICMP_FRAG_NEEDED 4 /* code of LB_ICMP_DEST_UNREACH */
#define LB_ICMP_ECHO 8
#define LB_ICMP_TIME_EXCEEDED 11

struct lb_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	union {
		struct {
			__be16 id, sequence;
		} echo;
		struct {
			__be16 unused, mtu; /* "fragmentation needed": next-hop MTU (RFC 1191) */
		} frag;
	} un;
};

/* ICMPv6: next header 58, the errors (RFC 4443, 3) and echo (4.1, 4.2). */
#define LB_IPPROTO_ICMPV6 58
#define LB_ICMPV6_DEST_UNREACH 1
#define LB_ICMPV6_PKT_TOOBIG 2 /* code 0 */
#define LB_ICMPV6_TIME_EXCEED 3
#define LB_ICMPV6_PARAMPROB 4
#define LB_ICMPV6_ECHO_REQUEST 128
#define LB_ICMPV6_ECHO_REPLY 129

struct lb_icmp6hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 mtu; /* "packet too big": the MTU of the next-hop link (RFC 4443, 3.2) */
};

#endif /* LB_ICMP_HDR_BPF_H */
