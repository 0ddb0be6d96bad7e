// SPDX-License-Identifier: GPL-2.0
/* Parse stage: the pipeline's entry; finds the VIP of a frame, hands it to its policy's lb stage.
 *
 * NAT replies: a whole TCP or UDP frame that matches no VIP but whose 5-tuple
 * is in nat_reply (a backend answering a NATed flow at nat_source) goes to the
 * NAT stage instead, with LB_CTX_F_NAT_REPLY set (docs/nat.md).
 *
 * ICMP to a VIP address (vip_addrs: any address that carries a VIP) goes to
 * the icmp stage, after the same checks as a VIP frame (find_vip_addr()); so
 * does ICMP to nat_source (errors about NAT mappings, LB_CTX_F_NAT_REPLY).
 *
 * ICMPv6 to an IPv6 VIP address (vip_addrs6) goes there too, but only the
 * types the stage handles (echo request, the four errors) and fragments;
 * NDP, MLD and every other type stay with the kernel untouched, before any
 * frame check (parse.pass_icmp6_other). ICMPv6 errors (1-4) to nat_source6
 * go there too (LB_CTX_F_NAT_REPLY), any other ICMPv6 to it is not a VIP's.
 *
 * parse never changes a frame. A frame that is not for a VIP (ARP, NDP,
 * ICMP to other addresses, other addresses and ports) and a malformed frame
 * leave with XDP_PASS exactly as they came, counted by reason, so the next
 * XDP program and the kernel stack still see them. Only a VIP frame (or a NAT
 * reply, or ICMP to a VIP address) goes on, and only after the checks of
 * vip_frame_check(): a frame not sent to this host's MAC address is passed
 * too; a frame with a broken IPv4 header checksum or an impossible source
 * address is dropped, the only frames parse drops.
 *
 * Fragment policy: an IPv4 fragment (MF set or fragment offset != 0) is never
 * matched or hashed on ports, because only the first fragment carries them.
 * A fragment is looked up as the port-wildcard VIP (address, port 0, protocol)
 * only. On a match it enters the pipeline with ports 0 in the flow key and
 * LB_CTX_F_FRAGMENT set, so every fragment from one source to that VIP lands
 * on the same backend, which reassembles the datagram. Without a wildcard VIP
 * the fragment goes to the stack: a first fragment (offset 0) whose ports can
 * be read and match a port-specific VIP is counted as pass_fragment (VIP
 * traffic the balancer cannot serve); any other fragment as pass_not_vip,
 * since a later fragment cannot be told apart from non-VIP traffic.
 *
 * IPv6 (parse_ipv6_frame()): the fixed header, then the extension headers
 * (hop-by-hop, routing, destination options, fragment; at most
 * LB_IPV6_MAX_EXT_HDRS and LB_IPV6_MAX_EXT_LEN bytes), then UDP or TCP,
 * looked up in vips6 as IPv4 is in vips. The fragment policy is IPv4's, the
 * fragment header's offset and M bit standing for IPv4's: an atomic fragment
 * (offset 0, M clear: RFC 6946) is a whole packet. A whole frame that matches
 * no IPv6 VIP is looked up in nat_reply6, as IPv4's in nat_reply. The hop
 * limit is left alone, as IPv4's TTL is (the nat stage takes one off).
 */
#include <linux/in.h>
#include <stdbool.h>

#include "csum.bpf.h"
#include "icmp_hdr.bpf.h"
#include "parsing.bpf.h"
#include "stage.bpf.h"
#include "nat_state6.bpf.h"
#include "vip_lookup.bpf.h"

/* parse_l3(): the frame is IPv6, l3_offset set; parse_ipv6_frame() goes on. */
#define PARSE_IPV6 (-2)

/* The MAC address of the interface parse is attached to, its six bytes as
 * they lie in a frame, set by the loader; 16-bit words so that the compare
 * below is three loads and three XORs. All zeros (unit tests, an older loader)
 * means unknown: the destination MAC of a VIP frame is then only checked for
 * the group bit. The address is read when parse is attached; a MAC changed
 * later needs lb-load --unload and a new load (docs/operations.md).
 */
const volatile __u16 lb_if_mac[ETH_ALEN / 2] = {};

/* The frame leaves the pipeline: count why and hand it on unchanged. */
static __always_inline int parse_pass(enum lb_counter reason)
{
	lb_count(reason);
	return XDP_PASS;
}

/* A VIP frame (or NAT reply) is dropped as it came: count why, for its VIP too. */
#define PARSE_DROP(ID, pkt)                                                              \
	({                                                                               \
		LB_COUNT_VIP_DROP(ID, lb_drop_vip_id(pkt));                              \
		XDP_DROP;                                                                \
	})

static __always_inline void use_vip(struct lb_packet_ctx *pkt, const struct lb_vip *vip)
{
	pkt->vip_id = vip->vip_id;
	pkt->pool_id = vip->pool_id;
	pkt->policy = vip->policy;
	pkt->maglev_table = vip->maglev_table;
	pkt->forwarding = vip->forwarding;
}

/* Ethernet (+ one VLAN tag) and IPv4 up to the L4 header. Fills the addresses,
 * protocol, offsets and lengths of @pkt, which later stages use instead of
 * parsing the frame again (the contract: stage.bpf.h). Returns XDP_PASS or LB_CONTINUE.
 */
static __always_inline int parse_l3(struct hdr_cursor *nh, void *data, void *data_end,
				    struct lb_packet_ctx *pkt, struct iphdr **iph)
{
	struct ethhdr *eth;
	int vlan_tagged, proto;

	proto = parse_ethhdr(nh, data_end, &eth, &vlan_tagged);
	/* Shorter than its Ethernet header or VLAN tag: broken, not another protocol. */
	if (proto < 0)
		return parse_pass(LB_C_PARSE_PASS_MALFORMED);
	pkt->l3_offset = nh->pos - data;
	if (proto == ETH_P_IPV6)
		return PARSE_IPV6;
	if (proto != ETH_P_IP)
		return parse_pass(LB_C_PARSE_PASS_NOT_IPV4);

	if (parse_iphdr(nh, data_end, iph) < 0)
		return parse_pass(LB_C_PARSE_PASS_MALFORMED);
	pkt->l4_offset = nh->pos - data;
	proto = (*iph)->protocol;
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP && proto != IPPROTO_ICMP)
		return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
	pkt->flow.src = (*iph)->saddr;
	pkt->flow.dst = (*iph)->daddr;
	pkt->flow.proto = proto;
	pkt->l4_proto = proto;
	pkt->ip_tot_len = bpf_ntohs((*iph)->tot_len);
	pkt->frame_len = data_end - data;
	return LB_CONTINUE;
}

/* The source and destination port (2 bytes each, leading UDP and TCP
 * headers) of a first fragment at @nh, or NULL when they do not lie in both
 * the frame and the @l4_len bytes of IP payload.
 */
static __always_inline __be16 *fragment_ports(struct hdr_cursor *nh, void *data_end, int l4_len)
{
	__be16 *ports = nh->pos;

	if ((void *)(ports + 2) > data_end || l4_len < 4)
		return NULL;
	return ports;
}

/* A fragment, see the policy at the top. @nh is at the L4 header of a first
 * fragment, or at fragment data. Returns XDP_PASS or LB_CONTINUE.
 */
static __always_inline int parse_fragment(struct hdr_cursor *nh, void *data_end,
					  struct iphdr *iph, struct lb_packet_ctx *pkt, __u8 gen)
{
	int l4_len = pkt->ip_tot_len - iph->ihl * 4;
	struct lb_vip *vip;
	__be16 *ports;

	vip = vip_lookup(pkt->flow.dst, 0, pkt->flow.proto, gen);
	if (vip) {
		use_vip(pkt, vip);
		pkt->flags |= LB_CTX_F_FRAGMENT;
		return LB_CONTINUE;
	}
	if (iph->frag_off & bpf_htons(LB_IP_OFFSET))
		return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
	ports = fragment_ports(nh, data_end, l4_len);
	if (ports && vip_lookup(pkt->flow.dst, ports[1], pkt->flow.proto, gen))
		return parse_pass(LB_C_PARSE_PASS_FRAGMENT);
	return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
}

/* The ports of a whole (unfragmented) UDP or TCP packet, whose L4 header must
 * lie inside the IP payload, not in Ethernet padding. Returns XDP_PASS or LB_CONTINUE.
 */
static __always_inline int read_ports(struct hdr_cursor *nh, void *data_end, __u8 proto,
				      int l4_len, __be16 *sport, __be16 *dport)
{
	struct udphdr *udph;
	struct tcphdr *tcph;
	int len;

	if (proto == IPPROTO_UDP) {
		len = parse_udphdr(nh, data_end, &udph);
		if (len < 0 || len > l4_len)
			return parse_pass(LB_C_PARSE_PASS_MALFORMED);
		*sport = udph->source;
		*dport = udph->dest;
		return LB_CONTINUE;
	}
	len = parse_tcphdr(nh, data_end, &tcph);
	if (len < 0 || len > l4_len)
		return parse_pass(LB_C_PARSE_PASS_MALFORMED);
	*sport = tcph->source;
	*dport = tcph->dest;
	return LB_CONTINUE;
}

static __always_inline int parse_ports(struct hdr_cursor *nh, void *data_end,
				       struct iphdr *iph, struct lb_packet_ctx *pkt)
{
	return read_ports(nh, data_end, pkt->flow.proto, pkt->ip_tot_len - iph->ihl * 4,
			  &pkt->flow.sport, &pkt->flow.dport);
}

/* The exact VIP (address, port, protocol), else the port wildcard. */
static __always_inline int find_vip(struct lb_packet_ctx *pkt, __u8 gen)
{
	struct lb_vip *vip;

	vip = vip_lookup(pkt->flow.dst, pkt->flow.dport, pkt->flow.proto, gen);
	if (!vip)
		vip = vip_lookup(pkt->flow.dst, 0, pkt->flow.proto, gen);
	if (vip) {
		use_vip(pkt, vip);
		return LB_CONTINUE;
	}
	/* Costs non-VIP TCP/UDP traffic one hash lookup; the key holds the
	 * nat_source address, so only replies to NAT mappings can match.
	 */
	if (bpf_map_lookup_elem(&nat_reply, &pkt->flow)) {
		pkt->flags |= LB_CTX_F_NAT_REPLY;
		return LB_CONTINUE;
	}
	return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
}

/* ICMP to a VIP address (any of its VIPs' ports and protocols): the icmp
 * stage's, whatever the type, fragments included; it answers echo requests
 * and sends errors about flows to their backends. So is ICMP to nat_source,
 * with LB_CTX_F_NAT_REPLY (no VIP's): errors from the backends' side about
 * NAT mappings, which the stage translates for the client; one compare with
 * the tunable, on ICMP only. ICMP to any other address is not a VIP's.
 * Returns XDP_PASS or LB_CONTINUE.
 */
static __always_inline int find_vip_addr(struct iphdr *iph, struct lb_packet_ctx *pkt)
{
	struct lb_vip_addr *addr = bpf_map_lookup_elem(&vip_addrs, &pkt->flow.dst);
	__be32 nat_source = lb_tunables.nat_src_addr;

	if (addr)
		pkt->vip_id = addr->vip_id;
	else if (nat_source && pkt->flow.dst == nat_source)
		pkt->flags |= LB_CTX_F_NAT_REPLY;
	else
		return parse_pass(LB_C_PARSE_PASS_NOT_VIP);
	if (iph->frag_off & bpf_htons(LB_IP_MF | LB_IP_OFFSET))
		pkt->flags |= LB_CTX_F_FRAGMENT;
	return LB_CONTINUE;
}

/* Whether @mac (2-byte aligned: an Ethernet header's h_dest) is this
 * interface's address; true when that is unknown.
 */
static __always_inline bool mac_is_ours(const __u8 *mac)
{
	const __u16 *word = (const __u16 *)mac;
	__u16 ours0 = lb_if_mac[0], ours1 = lb_if_mac[1], ours2 = lb_if_mac[2];

	if (!(ours0 | ours1 | ours2))
		return true;
	return !((word[0] ^ ours0) | (word[1] ^ ours1) | (word[2] ^ ours2));
}

/* A source no packet from a client can have (RFC 1812, 5.3.7; RFC 1122,
 * 3.2.1.3): "this network" 0.0.0.0/8, loopback 127.0.0.0/8, multicast
 * 224.0.0.0/4 and the reserved 240.0.0.0/4 with the limited broadcast
 * 255.255.255.255 in it; and the packet's own destination, the VIP (a reply
 * would go to the VIP itself: the "land" attack). One byte and one word
 * compared. Another VIP as the source is not recognised: that would need a
 * second lookup.
 */
static __always_inline bool src_is_martian(__be32 src, __be32 dst)
{
	__u8 first = bpf_ntohl(src) >> 24;

	return first == 0 || first == 127 || first >= 224 || src == dst;
}

/* What a balancer checks before it forwards a frame to a VIP (or a NAT
 * reply), in this order:
 *
 * - the Ethernet destination: a broadcast or multicast frame (I/G bit set) is
 *   not addressed to this host alone, and one for another unicast MAC (seen in
 *   promiscuous mode, or flooded by a bridge) not to this host at all. Both
 *   are passed untouched: the stack and the next program decide, as they
 *   would without a balancer (the kernel drops other hosts' frames).
 * - the IPv4 header checksum: a router drops a packet whose checksum is wrong
 *   (RFC 1812, 5.2.2), and so does the kernel. Passing it would only move the
 *   drop; encapsulating it would send it on under a new, valid outer header,
 *   and balance it on addresses that may be the corrupt bytes.
 * - the source address (src_is_martian()): dropped, as a router drops it.
 *
 * Returns XDP_PASS or XDP_DROP, counted, or LB_CONTINUE.
 */
/* The Ethernet part of vip_frame_check(), IPv6's too. */
static __always_inline int l2_frame_check(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	/* parse_ethhdr() checked it; checked again so that the accesses below
	 * are proven here, whatever range the compiler's registers still carry.
	 */
	if ((void *)(eth + 1) > data_end)
		return parse_pass(LB_C_PARSE_PASS_MALFORMED);
	if (eth->h_dest[0] & 1)
		return parse_pass(LB_C_PARSE_PASS_L2_NOT_UNICAST);
	if (!mac_is_ours(eth->h_dest))
		return parse_pass(LB_C_PARSE_PASS_L2_OTHER_HOST);
	return LB_CONTINUE;
}

static __always_inline int vip_frame_check(void *data, void *data_end, struct iphdr *iph,
					   const struct lb_packet_ctx *pkt)
{
	int action = l2_frame_check(data, data_end);

	if (action != LB_CONTINUE)
		return action;
	if (!ipv4_header_csum_ok(iph, data_end))
		return PARSE_DROP(PARSE_DROP_BAD_IP_CSUM, pkt);
	if (src_is_martian(pkt->flow.src, pkt->flow.dst))
		return PARSE_DROP(PARSE_DROP_MARTIAN_SRC, pkt);
	return LB_CONTINUE;
}

/* One case per policy of LB_POLICIES: its slot, a constant. */
#define POLICY_STAGE(id, name, slot, slot_name, object, program)                         \
	case LB_POLICY_##id:                                                             \
		return lb_next_stage(ctx, LB_SLOT_##slot, LB_C_PARSE_PASS_NO_LB_STAGE);

/* Each policy is its own lb stage: the VIP's policy picks the slot. One tail
 * call per policy, each with a constant key, which the kernel turns into a
 * direct jump; a key known only at run time takes the slower indirect path.
 * The caller has rejected unknown policies.
 */
static __always_inline int to_policy_stage(struct xdp_md *ctx, __u8 policy)
{
	switch (policy) {
	LB_POLICIES(POLICY_STAGE)
	default:
		return parse_pass(LB_C_PARSE_PASS_BAD_POLICY);
	}
}

/* A VIP frame (or NAT reply) that passed every check: the context is stored
 * whole and the frame goes to its policy's lb stage (or to nat).
 */
static __always_inline int hand_on(struct xdp_md *ctx, const struct lb_packet_ctx *pkt)
{
	struct lb_packet_ctx *slot;

	if (pkt->flags & LB_CTX_F_NAT_REPLY) {
		slot = lb_packet_ctx();
		if (!slot)
			return XDP_PASS;
		*slot = *pkt;
		lb_count(LB_C_PARSE_TO_NAT_REPLY);
		return lb_next_stage(ctx, LB_SLOT_NAT, LB_C_PARSE_PASS_NO_NAT_STAGE);
	}
	/* A policy this parse does not know (a newer loader?) is not a reason to
	 * drop: the frame goes to the stack, counted.
	 */
	if (lb_policy_slot(pkt->policy) >= LB_SLOT_COUNT)
		return parse_pass(LB_C_PARSE_PASS_BAD_POLICY);

	slot = lb_packet_ctx();
	if (!slot) /* cannot happen: a one-entry per-CPU array always has entry 0 */
		return XDP_PASS;
	*slot = *pkt;
	lb_count(LB_C_PARSE_TO_LB);
	return to_policy_stage(ctx, pkt->policy);
}

/* ICMP (ICMPv6) to a VIP address that passed every check: to the icmp stage. */
static __always_inline int hand_to_icmp(struct xdp_md *ctx, const struct lb_packet_ctx *pkt)
{
	struct lb_packet_ctx *slot = lb_packet_ctx();

	if (!slot)
		return XDP_PASS;
	*slot = *pkt;
	lb_count(LB_C_PARSE_TO_ICMP);
	return lb_next_stage(ctx, LB_SLOT_ICMP, LB_C_PARSE_PASS_NO_ICMP_STAGE);
}

#include "parse_ipv6.bpf.h"

SEC("xdp")
int xdp_lb_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = data };
	/* Built whole on the stack and stored in one assignment below, so no
	 * byte of an earlier packet's context survives into this one.
	 */
	struct lb_packet_ctx pkt = { .backend_id = LB_NO_BACKEND };
	struct iphdr *iph;
	int action;

	action = parse_l3(&nh, data, data_end, &pkt, &iph);
	if (action == PARSE_IPV6)
		return parse_ipv6_frame(ctx, &nh, data, data_end, &pkt);
	if (action != LB_CONTINUE)
		return action;
	if (pkt.flow.proto == IPPROTO_ICMP) {
		action = find_vip_addr(iph, &pkt);
	} else if (iph->frag_off & bpf_htons(LB_IP_MF | LB_IP_OFFSET)) {
		action = parse_fragment(&nh, data_end, iph, &pkt, config_generation());
	} else {
		action = parse_ports(&nh, data_end, iph, &pkt);
		if (action == LB_CONTINUE)
			action = find_vip(&pkt, config_generation());
	}
	if (action != LB_CONTINUE)
		return action;
	action = vip_frame_check(data, data_end, iph, &pkt);
	if (action != LB_CONTINUE)
		return action;
	if (pkt.flow.proto == IPPROTO_ICMP)
		return hand_to_icmp(ctx, &pkt);
	return hand_on(ctx, &pkt);
}

char LICENSE[] SEC("license") = "GPL";
