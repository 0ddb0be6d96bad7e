// SPDX-License-Identifier: GPL-2.0
/* Health probes through the tunnel: an LWT program (routes `VIP/32 encap bpf
 * xmit` and `VIP/128 encap bpf xmit`, in xdp-lbd's probe table) that wraps
 * xdp-lbd's probe of a backend, a packet its own socket sends to VIP:port, in
 * the headers the XDP encap stages put in front of a client's packet to that
 * backend:
 *
 *   before: [inner IPv4 or IPv6, probe -> VIP:port ...]
 *   after:  [outer IPv4 -> backend][UDP -> gue_port, GUE only][inner IPv4 ...]
 *           [outer IPv6 -> IPv6 backend][UDP, GUE only][inner IPv4 or IPv6 ...]
 *
 * and has the kernel route it again by the outer destination (BPF_LWT_REROUTE),
 * so the neighbour resolved is the backend's, never the VIP's. The outer
 * family is the backend's, whatever the route's: the kernel routes a pushed
 * IPv6 header as IPv6 (bpf_lwt_xmit_reroute() looks at the new skb->protocol),
 * so an IPv4 VIP's IPv6 backend gets IPv4-in-IPv6 (or GUE over IPv6) as the
 * encap stages write it. GUE over IPv6 carries the UDP checksum IPv6 requires,
 * from the inner packet's own checksum as the gue stage computes it.
 * The backend decapsulates it like client traffic and answers from the VIP
 * straight to the probe's socket; a backend without its tunnel, its VIP or its
 * fou port fails.
 *
 * Which backend and which format come from the socket's mark (SO_MARK, set by
 * xdp-lbd): lb_tunables.probe_mark | LB_PROBE_MARK_GUE if GUE | backend id
 * (lb_consts_common.h). The address is the backend's entry in the shared
 * backends map, the outer sources and GUE port the stages' own tunables. A
 * packet whose mark names no backend, or that is not one this program can
 * wrap (an IPv6 probe of an IPv4 backend; for GUE over IPv6, a packet whose
 * own checksum does not give the UDP checksum), is dropped and counted
 * (probe.*): never sent unwrapped to the VIP.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "stage.bpf.h"
#include "tunnel.bpf.h"

struct probe_gue_outer {
	struct iphdr ip;
	struct udphdr udp;
};

struct probe_gue6_outer {
	struct ipv6hdr ip;
	struct udphdr udp;
};

/* The ports behind an L4 header at @offset of protocol @proto, for TCP and
 * UDP, into @ports (left zero otherwise): the flow as the data path hashes it.
 */
static __always_inline void probe_ports(struct __sk_buff *skb, __u32 offset, __u8 proto,
					__be16 *ports)
{
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) &&
	    bpf_skb_load_bytes(skb, offset, ports, 2 * sizeof(__be16))) {
		ports[0] = 0;
		ports[1] = 0;
	}
}

/* The inner IPv4 flow as the data path hashes it (GUE's source port, the
 * flow label of IPv4-in-IPv6): addresses, protocol, ports.
 */
static __always_inline void probe_flow(struct __sk_buff *skb, const struct iphdr *inner,
				       struct lb_flow_key *flow)
{
	__be16 ports[2] = {};

	probe_ports(skb, inner->ihl * 4, inner->protocol, ports);
	flow->src = inner->saddr;
	flow->dst = inner->daddr;
	flow->proto = inner->protocol;
	flow->sport = ports[0];
	flow->dport = ports[1];
}

/* outer_source6, or the @fallback source (NULL: none, which IPv4-in-IPv6 needs
 * since an IPv4 source cannot be an IPv6 one) into @saddr. False without one.
 */
static __always_inline bool probe_source6(const void *fallback, __u32 *saddr)
{
	if (lb_outer_src6_set()) {
		lb_outer_src6_copy(saddr);
		return true;
	}
	if (!fallback)
		return false;
	__builtin_memcpy(saddr, fallback, 16);
	return true;
}

/* Pushes @len bytes of @outer and counts @sent, or drops counted. */
static __always_inline int probe_push(struct __sk_buff *skb, void *outer, __u32 len,
				      enum lb_counter sent, __u32 vip_id)
{
	/* The kernel moves the inner headers' offsets with it, so a checksum
	 * left to the device (CHECKSUM_PARTIAL from a local socket) is still
	 * completed, by the device or by the stack when it cannot.
	 */
	if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, outer, len)) {
		LB_COUNT_VIP_DROP(PROBE_DROP_ENCAP_FAILED, vip_id);
		return BPF_DROP;
	}
	lb_count(sent);
	return BPF_LWT_REROUTE;
}

/* Whether the inner packet's own checksum gives its sum for GUE over IPv6's
 * UDP checksum (tunnel.bpf.h, lb_lco_sum4/6()): TCP, or UDP with a checksum,
 * the L4 header at @l4_off. xdp-lbd's probes are whole TCP or UDP packets from
 * sockets that checksum; anything else is refused rather than sent with a
 * checksum the backend would reject. A CHECKSUM_PARTIAL packet's field holds
 * the pseudo-header seed, which is not 0 either.
 */
static __always_inline bool probe_lco_ok(struct __sk_buff *skb, __u32 l4_off, __u8 proto)
{
	__sum16 check = 0;

	if (proto == IPPROTO_TCP)
		return true;
	return proto == IPPROTO_UDP &&
	       !bpf_skb_load_bytes(skb, l4_off + offsetof(struct udphdr, check), &check,
				   sizeof(check)) &&
	       check;
}

/* GUE over IPv6 in front of a probe, as the gue stage writes it for an IPv6
 * backend: outer IPv6 from @saddr with traffic class @tclass and the flow label
 * from @flow_hash, UDP from the port the hash gives to the GUE port, its
 * checksum from the inner packet's sum @inner_sum.
 */
static __always_inline int probe_push_gue6(struct __sk_buff *skb, const struct lb_backend *backend,
					   __u8 tclass, __u32 flow_hash, const __u32 *saddr,
					   __u32 inner_sum)
{
	struct probe_gue6_outer outer = {};

	lb_outer_ipv6(tclass, flow_hash, (__u16)(skb->len + sizeof(outer.udp)), IPPROTO_UDP, saddr,
		      backend->addr6, &outer.ip);
	outer.udp.source = lb_gue_source_port_of(flow_hash);
	outer.udp.dest = lb_tunables.gue_port;
	outer.udp.len = bpf_htons(skb->len + sizeof(outer.udp));
	outer.udp.check = lb_udp6_check(&outer.ip, &outer.udp, inner_sum);
	return probe_push(skb, &outer, sizeof(outer), LB_C_PROBE_ENCAP_GUE6, backend->vip_id);
}

/* An IPv4 probe (an IPv4 VIP's): IPv4 or IPv4-in-IPv6 by the backend's family. */
static __always_inline int probe_wrap4(struct __sk_buff *skb, const struct lb_backend *backend,
				       bool gue)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct probe_gue_outer outer = {};
	struct lb_flow_key flow = {};
	struct iphdr *inner = data;
	struct ipv6hdr outer6 = {};
	__u32 saddr6[4];

	/* This only shows the verifier the header, and refuses one whose
	 * length does not match the skb.
	 */
	if ((void *)(inner + 1) > data_end || inner->version != 4 || inner->ihl < 5 ||
	    bpf_ntohs(inner->tot_len) != skb->len) {
		LB_COUNT_VIP_DROP(PROBE_DROP_MALFORMED, backend->vip_id);
		return BPF_DROP;
	}
	probe_flow(skb, inner, &flow);
	if (backend->flags & LB_BACKEND_F_IPV6) {
		/* The config asks for outer_source6 for such a VIP (as the
		 * ipip stage, which drops without one).
		 */
		if (!probe_source6(NULL, saddr6)) {
			LB_COUNT_VIP_DROP(PROBE_DROP_ENCAP_FAILED, backend->vip_id);
			return BPF_DROP;
		}
		if (gue) {
			if ((inner->frag_off & bpf_htons(0x3fff)) /* MF, offset */ ||
			    !probe_lco_ok(skb, inner->ihl * 4, inner->protocol)) {
				LB_COUNT_VIP_DROP(PROBE_DROP_MALFORMED, backend->vip_id);
				return BPF_DROP;
			}
			return probe_push_gue6(skb, backend, inner->tos, lb_flow_hash(&flow),
					       saddr6,
					       lb_lco_sum4(inner->saddr, inner->daddr,
							   skb->len - inner->ihl * 4,
							   inner->protocol));
		}
		lb_outer_ipv6(inner->tos, lb_flow_hash(&flow), (__u16)skb->len, IPPROTO_IPIP,
			      saddr6, backend->addr6, &outer6);
		return probe_push(skb, &outer6, sizeof(outer6), LB_C_PROBE_ENCAP_IPIP6,
				  backend->vip_id);
	}
	if (!gue) {
		lb_outer_ipv4(inner, skb->len,
			      lb_tunables.outer_src_addr ? lb_tunables.outer_src_addr : inner->saddr,
			      backend->addr, IPPROTO_IPIP, 0, &outer.ip);
		return probe_push(skb, &outer.ip, sizeof(outer.ip), LB_C_PROBE_ENCAP_IPIP,
				  backend->vip_id);
	}
	lb_outer_ipv4(inner, skb->len,
		      lb_tunables.outer_src_addr ? lb_tunables.outer_src_addr : inner->saddr,
		      backend->addr, IPPROTO_UDP, sizeof(outer.udp), &outer.ip);
	outer.udp.source = lb_gue_source_port(&flow);
	outer.udp.dest = lb_tunables.gue_port;
	outer.udp.len = bpf_htons(skb->len + sizeof(outer.udp));
	outer.udp.check = 0; /* as the GUE stage: IPv4 allows it (RFC 768) */
	return probe_push(skb, &outer, sizeof(outer), LB_C_PROBE_ENCAP_GUE, backend->vip_id);
}

/* An IPv6 probe (an IPv6 VIP's, whose backends are IPv6): IPv6-in-IPv6, from
 * outer_source6 or the probe's own source, as the ipip stage writes it.
 */
static __always_inline int probe_wrap6(struct __sk_buff *skb, const struct lb_backend *backend,
				       bool gue)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct lb_flow6_key flow = {};
	struct ipv6hdr *inner = data;
	struct ipv6hdr outer = {};
	__be16 ports[2] = {};
	__u32 saddr[4];
	__u8 tclass;

	if ((void *)(inner + 1) > data_end || inner->version != 6 ||
	    bpf_ntohs(inner->payload_len) + sizeof(*inner) != skb->len) {
		LB_COUNT_VIP_DROP(PROBE_DROP_MALFORMED, backend->vip_id);
		return BPF_DROP;
	}
	/* An IPv4 backend cannot carry IPv6. */
	if (!(backend->flags & LB_BACKEND_F_IPV6)) {
		LB_COUNT_VIP_DROP(PROBE_DROP_MALFORMED, backend->vip_id);
		return BPF_DROP;
	}
	/* A probe's socket writes no extension header: the ports follow. */
	probe_ports(skb, sizeof(*inner), inner->nexthdr, ports);
	__builtin_memcpy(flow.src, &inner->saddr, sizeof(flow.src));
	__builtin_memcpy(flow.dst, &inner->daddr, sizeof(flow.dst));
	flow.proto = inner->nexthdr;
	flow.sport = ports[0];
	flow.dport = ports[1];
	probe_source6(&inner->saddr, saddr);
	tclass = (__u8)(inner->priority << 4) | (inner->flow_lbl[0] >> 4);
	if (gue) {
		if (!probe_lco_ok(skb, sizeof(*inner), inner->nexthdr)) {
			LB_COUNT_VIP_DROP(PROBE_DROP_MALFORMED, backend->vip_id);
			return BPF_DROP;
		}
		return probe_push_gue6(skb, backend, tclass, lb_flow_hash6(&flow), saddr,
				       lb_lco_sum6(inner));
	}
	lb_outer_ipv6(tclass, lb_flow_hash6(&flow), (__u16)skb->len, IPPROTO_IPV6, saddr,
		      backend->addr6, &outer);
	return probe_push(skb, &outer, sizeof(outer), LB_C_PROBE_ENCAP_IPIP6, backend->vip_id);
}

SEC("lwt_xmit")
int lb_probe_encap(struct __sk_buff *skb)
{
	const struct lb_backend *backend;
	__u32 mark = skb->mark, id;
	bool gue;

	id = mark & LB_PROBE_MARK_ID_MASK;
	backend = bpf_map_lookup_elem(&backends, &id);
	if (!lb_tunables.probe_mark || (mark & LB_PROBE_MARK_MASK) != lb_tunables.probe_mark ||
	    !backend || backend->state == LB_BACKEND_EMPTY) {
		LB_COUNT_VIP_DROP(PROBE_DROP_UNKNOWN_MARK, LB_MAX_VIPS);
		return BPF_DROP;
	}
	gue = mark & LB_PROBE_MARK_GUE;
	/* The route's family: an IPv4 route hands over IPv4, an IPv6 one IPv6. */
	if (skb->protocol == bpf_htons(ETH_P_IPV6))
		return probe_wrap6(skb, backend, gue);
	return probe_wrap4(skb, backend, gue);
}

char LICENSE[] SEC("license") = "GPL";
