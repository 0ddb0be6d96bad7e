/* SPDX-License-Identifier: GPL-2.0 */
/* What every stage does the same way: count, fetch the context, check it, hand on.
 *
 * The stage contract: what each slot may assume of the packet context (struct
 * lb_packet_ctx, one per CPU) and what it must leave.
 *
 * parse (the entry): checks the frame and writes the whole context in one
 *   store before its tail call, for a frame that is: Ethernet with at most one
 *   802.1Q tag; at l3_offset (14, or 18 behind the tag) an IPv4 header of
 *   version 4, IHL >= 5 and a right header checksum, carrying TCP or UDP
 *   (flow.proto; ICMP to the icmp slot only, below); ip_tot_len at least the header and inside the frame
 *   (l3_offset + ip_tot_len <= frame_len, the frame's length as parse saw it);
 *   l4_offset = l3_offset + IHL * 4. For a whole packet (no LB_CTX_F_FRAGMENT)
 *   the whole UDP header (8 bytes) or TCP header (doff * 4 bytes) lies at
 *   l4_offset inside ip_tot_len, and flow holds its ports; a fragment has
 *   ports 0 and fragment data at l4_offset. parse never changes the frame.
 *   l4_proto is flow.proto. With LB_CTX_F_IPV6 instead: at l3_offset an IPv6
 *   header of version 6, ip_tot_len = 40 + its payload length inside the
 *   frame; l4_offset behind the fixed header and at most LB_IPV6_MAX_EXT_HDRS
 *   extension headers of LB_IPV6_MAX_EXT_LEN bytes in all (so at most
 *   LB_L4_OFFSET_MAX6), inside ip_tot_len; flow6 is the key (flow6.proto =
 *   l4_proto), with the same rules for ports and fragments, and
 *   LB_CTX_F_LATER_FRAGMENT on a fragment with an offset; the bytes of the
 *   union behind flow are the IPv4 key's when the flag is clear (zero).
 * lb (a policy slot): may assume all of that. It reads the frame at most at
 *   the offsets parse recorded (least-conn's TCP flags) and never changes it;
 *   it must leave backend_id (a backends slot of the packet's VIP) and now_ns
 *   set, and every other field as parse wrote it.
 * forwarding (encap: ipip, gue; nat): may assume all of the above; ends the
 *   chain. encap changes only what lies in front of l3_offset (it pushes its
 *   headers there and moves the L2 header); nat only the IPv4 header and the
 *   ports and checksum of the L4 header at l4_offset.
 * A NAT reply goes from parse to nat directly (LB_CTX_F_NAT_REPLY): no lb ran,
 *   so backend_id is LB_NO_BACKEND and now_ns 0.
 * icmp: ICMP (flow.proto 1) to a VIP address goes from parse to the icmp slot:
 *   the IPv4 checks above hold, vip_id is the address's first VIP, ports are
 *   0, nothing of the ICMP message is checked (l4_offset is where it starts;
 *   LB_CTX_F_FRAGMENT for a fragment). So does ICMPv6 (LB_CTX_F_IPV6,
 *   flow6.proto 58) to an IPv6 VIP address, with the IPv6 checks above, whose
 *   first 4 bytes lie inside the packet and whose type is an echo request or
 *   an error (1-4), unless it is a fragment. An error about a flow goes on to the
 *   encap slot with flow, the VIP's fields, backend_id and now_ns set for that
 *   flow and LB_CTX_F_ICMP_ERROR; offsets and lengths still the ICMP packet's,
 *   so encap wraps the whole ICMP packet. ICMP to nat_source (no VIP address),
 *   and an ICMPv6 error (1-4, no fragment) to nat_source6, comes the same way
 *   with LB_CTX_F_NAT_REPLY and vip_id 0; an error about
 *   a NAT mapping, either way, the icmp stage translates and sends itself
 *   (icmp_nat.bpf.h), as nat would: only the IPv4 header and the ICMP
 *   message's checksum and quote change. An encap stage may instead answer a
 *   packet that is too big with an ICMP error built in its frame
 *   (icmp_frag.bpf.h; icmp6_too_big.bpf.h for IPv6): it then replaces the
 *   frame's contents behind the L2 header.
 *
 * "May assume" covers the packet's contents: no later stage parses the frame
 * again or checks again what parse checked (version, IHL, lengths, protocol,
 * checksum); offsets and lengths come from the context. What no stage skips
 * are the checks that keep a context which does not describe this frame (a
 * test writes any bytes it likes into the map; a future stage could be wrong)
 * from reading or writing outside the frame or in the wrong place: such a
 * context ends in a counted drop with the frame as it came, never in
 * XDP_ABORTED and never in a changed frame. lb_ctx_ipv4() and lb_ctx_l4() are
 * those checks: compares of the context's own fields, which are in registers
 * anyway, and the data_end checks the verifier needs; neither reads the packet.
 */
#ifndef LB_STAGE_BPF_H
#define LB_STAGE_BPF_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>

#include "lb_maps.bpf.h"
#include "lb_tunables_common.h"

/* This program's load-time settings, written by the loader before load
 * (lb_tunables_common.h). The defaults below serve the unit tests, which set
 * only what a case needs.
 */
const volatile struct lb_tunables lb_tunables = {
	.flow_timeout_ns = LB_DEFAULT_FLOW_TIMEOUT_S * 1000000000ULL,
	.nexthop_cache_ns = LB_NEXTHOP_CACHE_NS,
	.gue_port = bpf_htons(LB_DEFAULT_GUE_PORT),
	.icmp_burst = LB_DEFAULT_ICMP_BURST,
	.icmp_interval_ns = 1000000000ULL / LB_DEFAULT_ICMP_RATE,
};

/* A stage's helpers return either a final XDP action (>= 0: the packet is done,
 * counted) or LB_CONTINUE: not done, go on. The caller writes
 *	action = helper(...);
 *	if (action != LB_CONTINUE)
 *		return action;
 * (Parsing helpers over a cursor have their own rule: parsing.bpf.h.)
 */
#define LB_CONTINUE (-1)

/* Bumps one per-CPU counter; per-CPU, so a plain add is race-free. */
static __always_inline void lb_count(enum lb_counter id)
{
	__u32 key = id;
	__u64 *value = bpf_map_lookup_elem(&counters, &key);

	if (value)
		*value += 1;
}

/* Counts drop @id globally and, for VIP @vip_id, as per-VIP drop @vip_drop
 * (the same reason's index in LB_VIP_DROPS; use LB_COUNT_VIP_DROP()). Only
 * this CPU's copy is written. An id beyond the map (no VIP) counts globally.
 */
static __always_inline void lb_count_vip_drop(enum lb_counter id, enum lb_vip_drop vip_drop,
					      __u32 vip_id)
{
	struct lb_vip_drops *drops;

	lb_count(id);
	drops = bpf_map_lookup_elem(&vip_drops, &vip_id);
	if (drops && vip_drop < LB_VIP_DROP_MAX)
		drops->count[vip_drop] += 1;
}

#define LB_COUNT_VIP_DROP(ID, vip_id) lb_count_vip_drop(LB_C_##ID, LB_VD_##ID, (vip_id))

/* The VIP id a context's drops count for: none (LB_MAX_VIPS, beyond the
 * map) for a NAT reply, which matched a mapping, not a VIP.
 */
static __always_inline __u32 lb_drop_vip_id(const struct lb_packet_ctx *pkt)
{
	return pkt && !(pkt->flags & LB_CTX_F_NAT_REPLY) ? pkt->vip_id : LB_MAX_VIPS;
}

/* This CPU's packet context. Never NULL in practice; callers still check
 * because the verifier requires it.
 */
static __always_inline struct lb_packet_ctx *lb_packet_ctx(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&packet_ctx, &key);
}

/* Whether @l3 is an IP header's offset parse hands on: 14, or 18 behind one
 * 802.1Q tag. One test of (l3 - 14) & ~4, not two compares: Debian 13's
 * kernel (6.12) lost the value of a register copied between two compares of
 * one number (the verifier's "REG INVARIANTS VIOLATION"), and a packet
 * pointer moved by it became a plain number ("invalid mem access 'scalar'").
 */
static __always_inline int lb_l3_offset_ok(__u32 l3)
{
	return !((l3 - ETH_HLEN) & ~4U);
}

/* The header at @l3, an offset lb_l3_offset_ok() passed, with a constant
 * offset on each path: the verifier then knows the pointer's offset exactly,
 * which reading the EtherType in front of it needs (see above for why not
 * data + l3).
 */
static __always_inline void *lb_l3_header(void *data, __u32 l3)
{
	if (l3 == ETH_HLEN)
		return data + ETH_HLEN;
	return data + ETH_HLEN + 4;
}

/* The IPv4 header @pkt names in the frame of @xdp, with its 20 fixed bytes
 * proven to the verifier; NULL when the context cannot describe this frame:
 * another length than parse saw, an L2 header other than 14 or 18 bytes, an
 * L4 offset not 20 to 60 bytes behind l3_offset or beyond ip_tot_len, an IPv4
 * packet that does not fit the frame, or EtherTypes that say another L2
 * layout. Those two (or one) EtherTypes are all it reads of the packet, from
 * the first cache line, which every stage touches anyway: a stage moves or
 * rewrites the frame by these offsets, and a context of a tagged frame on an
 * untagged one (or back) could otherwise pass every compare of lengths. What
 * parse checked of the IPv4 header's contents holds (the contract above).
 */
static __always_inline struct iphdr *lb_ctx_ipv4(struct xdp_md *xdp,
						 const struct lb_packet_ctx *pkt)
{
	void *data_end = (void *)(long)xdp->data_end;
	void *data = (void *)(long)xdp->data;
	__u32 l3 = pkt->l3_offset, l4 = pkt->l4_offset, tot_len = pkt->ip_tot_len;
	struct iphdr *iph;

	if (data_end - data != pkt->frame_len)
		return NULL;
	if (!lb_l3_offset_ok(l3))
		return NULL;
	if (l4 < l3 + sizeof(*iph) || l4 > l3 + 60 || l4 - l3 > tot_len ||
	    l3 + tot_len > pkt->frame_len)
		return NULL;
	iph = lb_l3_header(data, l3);
	/* True after the compares above; the verifier needs it said this way. */
	if ((void *)(iph + 1) > data_end)
		return NULL;
	/* The EtherType right in front of the IPv4 header, and the tag's TPID. */
	if (*((__be16 *)iph - 1) != bpf_htons(ETH_P_IP))
		return NULL;
	if (l3 != ETH_HLEN && ((struct ethhdr *)data)->h_proto != bpf_htons(ETH_P_8021Q))
		return NULL;
	return iph;
}

/* lb_ctx_ipv4() for a context with LB_CTX_F_IPV6: the IPv6 header it names,
 * its 40 bytes proven; NULL when the context cannot describe this frame (the
 * same checks, an L4 offset 40 to 40 + LB_IPV6_MAX_EXT_LEN bytes behind
 * l3_offset, the IPv6 EtherType).
 */
static __always_inline struct ipv6hdr *lb_ctx_ipv6(struct xdp_md *xdp,
						   const struct lb_packet_ctx *pkt)
{
	void *data_end = (void *)(long)xdp->data_end;
	void *data = (void *)(long)xdp->data;
	__u32 l3 = pkt->l3_offset, l4 = pkt->l4_offset, tot_len = pkt->ip_tot_len;
	struct ipv6hdr *ip6h;

	if (data_end - data != pkt->frame_len || !(pkt->flags & LB_CTX_F_IPV6))
		return NULL;
	if (!lb_l3_offset_ok(l3))
		return NULL;
	if (l4 < l3 + sizeof(*ip6h) || l4 > l3 + sizeof(*ip6h) + LB_IPV6_MAX_EXT_LEN ||
	    l4 - l3 > tot_len || l3 + tot_len > pkt->frame_len)
		return NULL;
	ip6h = lb_l3_header(data, l3);
	if ((void *)(ip6h + 1) > data_end)
		return NULL;
	if (*((__be16 *)ip6h - 1) != bpf_htons(ETH_P_IPV6))
		return NULL;
	if (l3 != ETH_HLEN && ((struct ethhdr *)data)->h_proto != bpf_htons(ETH_P_8021Q))
		return NULL;
	return ip6h;
}

/* The largest l4_offset parse writes: one VLAN tag and 60 bytes of IPv4 header. */
#define LB_L4_OFFSET_MAX (ETH_HLEN + 4 + 60)
/* ... and of an IPv6 packet: one VLAN tag, 40 bytes and the extension headers. */
#define LB_L4_OFFSET_MAX6 (ETH_HLEN + 4 + 40 + LB_IPV6_MAX_EXT_LEN)
/* A mask at least both limits: lb_ctx_l4_within() says its bound with it. */
#define LB_L4_OFFSET_BOUND 0x1ffU
_Static_assert(LB_L4_OFFSET_MAX <= LB_L4_OFFSET_BOUND && LB_L4_OFFSET_MAX6 <= LB_L4_OFFSET_BOUND,
	       "LB_L4_OFFSET_BOUND covers both limits");

/* The L4 header of a whole packet at @pkt's l4_offset, @size bytes of it (a
 * constant) inside both the frame and the IP packet, the offset at most @max
 * (a constant); NULL if they are not. lb_ctx_l4() and lb_ctx_l4_6() below.
 */
static __always_inline void *lb_ctx_l4_within(struct xdp_md *xdp, const struct lb_packet_ctx *pkt,
					      const __u32 size, const __u32 max)
{
	void *data_end = (void *)(long)xdp->data_end;
	__u32 l4_offset = pkt->l4_offset;
	void *l4;

	/* Also what the verifier needs: with an offset of up to 65535 it
	 * cannot prove any access behind it, however data_end compares. Opaque
	 * to clang, which otherwise drops this test as implied by the caller's
	 * lb_ctx_ipv4() (clang 19 did, and Debian 13's kernel then refused the
	 * ipip stage: the data_end check proved nothing). So the bound is also
	 * said as a mask the verifier tracks, of a value clang cannot see
	 * through; it changes nothing for an offset that passed the test.
	 */
	if (l4_offset > max)
		return NULL;
	barrier_var(l4_offset);
	l4_offset &= LB_L4_OFFSET_BOUND;
	if (l4_offset + size > (__u32)pkt->l3_offset + pkt->ip_tot_len)
		return NULL;
	l4 = (void *)(long)xdp->data + l4_offset;
	/* The pointer opaque to clang before the check and after it, so the
	 * check and the use are of this one register: clang 19 and 21 would
	 * otherwise compute data + l4_offset (+ size) again, in a register the
	 * verifier knows no range for (Debian 13's and unstable's kernels
	 * refused the NAT stage, and Debian 13's the ipip stage's
	 * "fragmentation needed" quote: "R1 offset is outside of the packet").
	 */
	barrier_var(l4);
	if (l4 + size > data_end)
		return NULL;
	barrier_var(l4);
	return l4;
}

/* The L4 header of an IPv4 packet (behind at most 60 bytes of header). The
 * caller has checked the context with lb_ctx_ipv4(), or only reads.
 */
static __always_inline void *lb_ctx_l4(struct xdp_md *xdp, const struct lb_packet_ctx *pkt,
				       const __u32 size)
{
	return lb_ctx_l4_within(xdp, pkt, size, LB_L4_OFFSET_MAX);
}

/* ... of an IPv6 packet, whose L4 header may lie behind extension headers. A
 * stage that also changes the frame checks the context with lb_ctx_ipv6() first.
 */
static __always_inline void *lb_ctx_l4_6(struct xdp_md *xdp, const struct lb_packet_ctx *pkt,
					 const __u32 size)
{
	return lb_ctx_l4_within(xdp, pkt, size, LB_L4_OFFSET_MAX6);
}

/* Tail-calls the stage in @slot. Returns only when the slot is empty: the
 * fall-through is counted under @fallthrough and the frame goes on to the next
 * program or the stack, never dropped silently.
 */
static __always_inline int lb_next_stage(struct xdp_md *ctx, __u32 slot,
					 enum lb_counter fallthrough)
{
	bpf_tail_call(ctx, &stage_slots, slot);
	lb_count(fallthrough);
	return XDP_PASS;
}

#endif /* LB_STAGE_BPF_H */
