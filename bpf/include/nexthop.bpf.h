/* SPDX-License-Identifier: GPL-2.0 */
/* Next hop of an encapsulated packet, shared by the encap stages: FIB lookup,
 * MAC addresses, and the choice of XDP_TX, XDP_REDIRECT or XDP_PASS.
 *
 * An encap stage builds its outer IPv4 header, calls next_hop_resolve() BEFORE
 * it changes the frame (so that every drop leaves the frame as it came), pushes
 * its headers, calls next_hop_set_macs() on the moved Ethernet header and ends
 * with next_hop_send(). Each path through these counts exactly one encap
 * counter.
 */
#ifndef LB_NEXTHOP_BPF_H
#define LB_NEXTHOP_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "icmp6_too_big.bpf.h"
#include "parsing.bpf.h"
#include "stage.bpf.h"

#ifndef AF_INET
#define AF_INET 2 /* BPF programs have no libc socket headers */
#endif

/* A backend's next hop, as the FIB answered it, is reused for
 * lb_tunables.nexthop_cache_ns before the FIB is asked again (per CPU); 0 asks
 * the FIB for every packet. Timed with the coarse clock (jiffies): a fraction
 * of bpf_ktime_get_ns()'s cost, and a few milliseconds are nothing against 100.
 */

/* One backend's cached FIB answer. Only successful lookups are cached: a
 * missing neighbour or route is looked up again on every packet.
 */
struct next_hop_entry {
	__u64 expires_ns;
	/* The backend address it was looked up for: IPv4 in the first word, or
	 * IPv6 (nexthop6.bpf.h). A backend slot changes address, or family, only
	 * through a reload, which loads new programs with empty caches: the
	 * check guards a stale context, and an IPv4 lookup compares one word.
	 */
	union {
		__be32 daddr;
		__u8 daddr6[16];
	};
	__u32 ingress_ifindex; /* and the interface it was looked up from */
	__u32 ifindex;
	__u32 mtu;             /* the route's MTU: larger packets are dropped */
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
};

/* Per encap program and per CPU, so no CPU writes another's entry and a reload
 * (new programs) starts empty.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct next_hop_entry);
} next_hop_cache SEC(".maps");

/* Where and how an encapsulated frame leaves. */
struct next_hop {
	__u32 ifindex;       /* egress interface from the FIB */
	__u32 action;        /* XDP_TX, XDP_REDIRECT, or XDP_PASS: the stack forwards it */
	__u32 pass_reason;   /* with XDP_PASS: the encap counter that says why */
	__u32 mtu;           /* the route's MTU, when the FIB answered FRAG_NEEDED */
	__u8 dmac[ETH_ALEN]; /* MACs to write; with XDP_PASS the frame keeps its own */
	__u8 smac[ETH_ALEN];
};

/* Hands the encapsulated frame to the kernel, counted as @reason: it keeps the
 * Ethernet header it came with, addressed to this host, and the kernel
 * forwards it by its own routes and neighbours (lb-load makes sure the
 * interface forwards and accepts the frame's source).
 */
static __always_inline int next_hop_via_stack(struct next_hop *hop, enum lb_counter reason)
{
	hop->action = XDP_PASS;
	hop->pass_reason = reason;
	return LB_CONTINUE;
}

/* Counts @reason, for the packet's VIP too, and drops: the one way an encap
 * or nat stage drops a frame (ENCAP_DROP(ID)). The context is looked up
 * again here: a drop is rare, and the callers need not carry it.
 */
static __always_inline int encap_drop(enum lb_counter reason, enum lb_vip_drop vip_drop)
{
	lb_count_vip_drop(reason, vip_drop, lb_drop_vip_id(lb_packet_ctx()));
	return XDP_DROP;
}

#define ENCAP_DROP(ID) encap_drop(LB_C_##ID, LB_VD_##ID)

/* Asks the FIB @params (either family) and reads back into @hop what a
 * next hop needs. Only ifindex and the MACs are read back: the kernel
 * overwrites the destination with the gateway and tot_len with the MTU
 * (mtu_result, read when the packet is too big). Returns the
 * BPF_FIB_LKUP_RET_* code.
 */
static __always_inline int next_hop_fib_ask(struct xdp_md *ctx, struct bpf_fib_lookup *params,
					    struct next_hop *hop)
{
	int rc = bpf_fib_lookup(ctx, params, sizeof(*params), 0);

	hop->ifindex = params->ifindex;
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		hop->mtu = params->mtu_result;
	__builtin_memcpy(hop->dmac, params->dmac, ETH_ALEN);
	__builtin_memcpy(hop->smac, params->smac, ETH_ALEN);
	return rc;
}

/* The route's MTU from @params asked with the largest length (either family),
 * which the kernel answers with FRAG_NEEDED and the MTU; 0xffff otherwise.
 */
static __always_inline __u32 next_hop_fib_mtu(struct xdp_md *ctx, struct bpf_fib_lookup *params)
{
	if (bpf_fib_lookup(ctx, params, sizeof(*params), 0) == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return params->mtu_result;
	return 0xffff;
}

/* Routes @outer as if it had arrived on the ingress interface. Fills
 * hop->ifindex, and the MACs when the neighbour is known. Returns the
 * BPF_FIB_LKUP_RET_* code, or < 0 when the kernel rejects the arguments.
 */
static __always_inline int next_hop_fib(struct xdp_md *ctx, const struct iphdr *outer,
					struct next_hop *hop)
{
	struct bpf_fib_lookup params = {};

	params.family = AF_INET;
	params.tos = outer->tos;
	params.l4_protocol = outer->protocol;
	/* The encapsulated length: the kernel checks it against the egress MTU. */
	params.tot_len = bpf_ntohs(outer->tot_len);
	params.ifindex = ctx->ingress_ifindex;
	params.ipv4_src = outer->saddr;
	params.ipv4_dst = outer->daddr;
	return next_hop_fib_ask(ctx, &params, hop);
}

/* The MTU of the route to @outer's destination: a lookup with the largest
 * length, which the kernel answers with FRAG_NEEDED and the MTU. Only on a
 * cache refresh.
 */
static __always_inline __u32 next_hop_route_mtu(struct xdp_md *ctx, const struct iphdr *outer)
{
	struct bpf_fib_lookup params = {};

	params.family = AF_INET;
	params.tos = outer->tos;
	params.l4_protocol = outer->protocol;
	params.tot_len = 0xffff;
	params.ifindex = ctx->ingress_ifindex;
	params.ipv4_src = outer->saddr;
	params.ipv4_dst = outer->daddr;
	return next_hop_fib_mtu(ctx, &params);
}

/* The cache entry of @backend_id if it may answer at time @now (the coarse
 * clock): cached from this ingress and not expired. Whether it was looked up
 * for the address the packet goes to is the caller's check, by family.
 */
static __always_inline struct next_hop_entry *next_hop_cache_entry(struct xdp_md *ctx,
								   __u32 backend_id, __u64 now)
{
	struct next_hop_entry *entry;

	if (!lb_tunables.nexthop_cache_ns)
		return NULL;
	entry = bpf_map_lookup_elem(&next_hop_cache, &backend_id);
	if (!entry || entry->ingress_ifindex != ctx->ingress_ifindex || now >= entry->expires_ns)
		return NULL;
	return entry;
}

/* A hit: @entry's next hop into @hop, its route MTU into @mtu. Returns 1. */
static __always_inline int next_hop_cache_hit(const struct next_hop_entry *entry,
					      struct next_hop *hop, __u32 *mtu)
{
	hop->ifindex = entry->ifindex;
	__builtin_memcpy(hop->dmac, entry->dmac, ETH_ALEN);
	__builtin_memcpy(hop->smac, entry->smac, ETH_ALEN);
	*mtu = entry->mtu;
	return 1;
}

/* The cache entry of @backend_id to write a successful lookup into, or NULL
 * when the cache is off.
 */
static __always_inline struct next_hop_entry *next_hop_cache_slot(__u32 backend_id)
{
	if (!lb_tunables.nexthop_cache_ns)
		return NULL;
	return bpf_map_lookup_elem(&next_hop_cache, &backend_id);
}

/* Writes the lookup's answer @hop, made at @now from this ingress, and the
 * route's MTU @route_mtu into @entry (its address is the caller's, by
 * family), valid for lb_tunables.nexthop_cache_ns.
 */
static __always_inline void next_hop_cache_fill(struct xdp_md *ctx, struct next_hop_entry *entry,
						const struct next_hop *hop, __u32 route_mtu,
						__u64 now)
{
	entry->ingress_ifindex = ctx->ingress_ifindex;
	entry->ifindex = hop->ifindex;
	entry->mtu = route_mtu;
	__builtin_memcpy(entry->dmac, hop->dmac, ETH_ALEN);
	__builtin_memcpy(entry->smac, hop->smac, ETH_ALEN);
	entry->expires_ns = now + lb_tunables.nexthop_cache_ns;
}

/* The cached next hop of @backend_id at time @now (the coarse clock): 1 on a
 * hit (@hop filled), 0 on a miss.
 */
static __always_inline int next_hop_cache_get(struct xdp_md *ctx, const struct iphdr *outer,
					      __u32 backend_id, __u64 now, struct next_hop *hop,
					      __u32 *mtu)
{
	struct next_hop_entry *entry = next_hop_cache_entry(ctx, backend_id, now);

	if (!entry || entry->daddr != outer->daddr)
		return 0;
	return next_hop_cache_hit(entry, hop, mtu);
}

/* Remembers a successful lookup of @backend_id, made at @now, for
 * lb_tunables.nexthop_cache_ns.
 */
static __always_inline void next_hop_cache_put(struct xdp_md *ctx, const struct iphdr *outer,
					       __u32 backend_id, __u64 now,
					       const struct next_hop *hop)
{
	struct next_hop_entry *entry = next_hop_cache_slot(backend_id);

	if (!entry)
		return;
	entry->daddr = outer->daddr;
	next_hop_cache_fill(ctx, entry, hop, next_hop_route_mtu(ctx, outer), now);
}

/* Copies the destination MAC of the frame as it arrived, i.e. the address of
 * the ingress interface (the frame was sent to this host). Returns 0, or -1
 * when the frame has no Ethernet header.
 */
static __always_inline int next_hop_ingress_mac(struct xdp_md *ctx, __u8 *mac)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	return 0;
}

/* XDP_TX back out of the ingress interface, or XDP_REDIRECT to another one. A
 * port that cannot send XDP frames (the ingress with lb_tunables.ingress_tx_via_stack, or
 * a port the loader left out of tx_ports) gets the frame through the kernel.
 */
static __always_inline int next_hop_choose_port(struct xdp_md *ctx, struct next_hop *hop)
{
	if (hop->ifindex == ctx->ingress_ifindex) {
		/* A veth whose peer runs no XDP program drops XDP_TX frames
		 * (seen only in its driver counters): the loader sets this.
		 */
		if (lb_tunables.ingress_tx_via_stack)
			return next_hop_via_stack(hop, LB_C_ENCAP_PASS_TO_STACK);
		hop->action = XDP_TX;
		return LB_CONTINUE;
	}
	if (!bpf_map_lookup_elem(&tx_ports, &hop->ifindex))
		return next_hop_via_stack(hop, LB_C_ENCAP_PASS_TO_STACK);
	hop->action = XDP_REDIRECT;
	return LB_CONTINUE;
}

/* The packet carrying @outer would leave bigger than @mtu, the limit of its
 * egress (the route's MTU, or the ingress MTU for a static MAC), which is a
 * black hole for a client that never learns it (RFC 2923). What happens
 * (docs/operations.md, "Packets too big once encapsulated"):
 *
 * - IPv4, DF clear: the kernel may fragment it. The stage encapsulates as
 *   usual (the outer header copies DF, clear) and hands the frame to the
 *   kernel, which forwards it and fragments the outer packet: LB_CONTINUE with
 *   @hop set to XDP_PASS, counted as encap.pass_too_big_no_df.
 * - IPv4, DF set: answered at once with ICMP "fragmentation needed" carrying
 *   @mtu less what the stage adds (the encapsulation's 20 or 28 bytes, 0 for
 *   NAT), never below 68, so the client's next packets fit:
 *   encap.icmp_frag_needed.
 * - IPv6 (no DF: no router fragments it): answered with ICMPv6 "packet too
 *   big" carrying @mtu less the encapsulation's 40 bytes, never below 1280:
 *   encap.icmp6_packet_too_big.
 * - Either answer leaves by XDP_TX back out of the ingress (or, when the
 *   ingress takes no XDP_TX frames, XDP_PASS: the kernel forwards it). At
 *   most icmp_burst at once and icmp_rate per second per CPU, both families
 *   together: past that the packet is dropped without an answer,
 *   encap.drop_icmp_rate_limited; the client's next full-size packet tries
 *   again.
 * - Never an ICMP error about an ICMP error (RFC 1122, 3.2.2; RFC 4443,
 *   2.4 (e); the icmp stage forwarding one to a backend) or about a fragment
 *   other than the first (RFC 1812, 4.3.2.7): dropped, encap.drop_mtu.
 */
static __always_inline int next_hop_too_big(struct xdp_md *ctx, __u32 outer_len, __u32 mtu,
					     struct next_hop *hop)
{
	struct lb_packet_ctx *pkt = lb_packet_ctx();
	__u32 overhead, advertised;
	bool ipv6, keep_l2;
	struct iphdr *iph;

	if (!pkt)
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	ipv6 = pkt->flags & LB_CTX_F_IPV6;
	if (ipv6) {
		if (!lb_ctx_ipv6(ctx, pkt))
			return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
		if (pkt->flags & (LB_CTX_F_ICMP_ERROR | LB_CTX_F_LATER_FRAGMENT))
			return ENCAP_DROP(ENCAP_DROP_MTU);
	} else {
		iph = lb_ctx_ipv4(ctx, pkt);
		if (!iph)
			return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
		if (!(iph->frag_off & bpf_htons(IP_DF)))
			return next_hop_via_stack(hop, LB_C_ENCAP_PASS_TOO_BIG_NO_DF);
		if ((pkt->flags & LB_CTX_F_ICMP_ERROR) || (iph->frag_off & bpf_htons(LB_IP_OFFSET)))
			return ENCAP_DROP(ENCAP_DROP_MTU);
	}
	if (!icmp_token_take(pkt->now_ns ? pkt->now_ns : bpf_ktime_get_coarse_ns()))
		return ENCAP_DROP(ENCAP_DROP_ICMP_RATE_LIMITED);
	/* What the stage adds: outer length less the packet's own. */
	overhead = outer_len - pkt->ip_tot_len;
	keep_l2 = lb_tunables.ingress_tx_via_stack;
	if (ipv6) {
		advertised = mtu > overhead + ICMP6_MIN_MTU ? mtu - overhead : ICMP6_MIN_MTU;
		if (icmp6_too_big_build(ctx, pkt, advertised, keep_l2))
			return ENCAP_DROP(ENCAP_DROP_MTU);
		lb_count(LB_C_ENCAP_ICMP6_PACKET_TOO_BIG);
	} else {
		advertised = mtu > overhead + ICMP_FRAG_MIN_MTU ? mtu - overhead : ICMP_FRAG_MIN_MTU;
		if (advertised > 0xffff)
			advertised = 0xffff;
		if (icmp_frag_needed_build(ctx, pkt, (__u16)advertised, keep_l2))
			return ENCAP_DROP(ENCAP_DROP_MTU);
		lb_count(LB_C_ENCAP_ICMP_FRAG_NEEDED);
	}
	return keep_l2 ? XDP_PASS : XDP_TX;
}

/* The next hop of a backend with a static MAC (LB_BACKEND_F_STATIC_MAC): the
 * backend, or the router in front of it, is on the ingress link, so the frame
 * goes back out of the ingress interface to that MAC, from the ingress
 * interface's own address (the frame's destination MAC: it was sent to this
 * host). No FIB lookup, no next-hop cache, no clock: nothing to resolve per
 * packet. The limit is the ingress MTU as lb-load found it (too big:
 * next_hop_too_big()). Returns a final action (counted) or LB_CONTINUE with
 * @hop filled in.
 */
static __always_inline int next_hop_static(struct xdp_md *ctx, __u32 outer_len,
					   const struct lb_backend *backend, struct next_hop *hop)
{
	__u32 mtu = lb_tunables.ingress_mtu;

	/* DF clear, the kernel fragments it: by its own routes, not to the MAC. */
	if (mtu && outer_len > mtu)
		return next_hop_too_big(ctx, outer_len, mtu, hop);
	/* Cannot fail for a frame parse handed on; checked for the verifier. */
	if (next_hop_ingress_mac(ctx, hop->smac))
		return ENCAP_DROP(ENCAP_DROP_BAD_CTX);
	__builtin_memcpy(hop->dmac, backend->mac, ETH_ALEN);
	hop->ifindex = ctx->ingress_ifindex;
	return next_hop_choose_port(ctx, hop);
}

/* What the FIB's answer @rc means for the frame, either family, whose outer
 * packet is @outer_len bytes: a port to send from (LB_CONTINUE, @hop filled
 * in), a counted drop, or next_hop_too_big()'s answer.
 */
static __always_inline int next_hop_fib_verdict(struct xdp_md *ctx, int rc, __u32 outer_len,
						struct next_hop *hop)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return next_hop_via_stack(hop, LB_C_ENCAP_PASS_NO_NEIGH);
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return next_hop_too_big(ctx, outer_len, hop->mtu, hop);
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return ENCAP_DROP(ENCAP_DROP_FWD_DISABLED);
	default:
		/* No route, blackhole, unreachable, prohibit, a local address
		 * (NOT_FWDED), ...; < 0 cannot happen with these arguments.
		 */
		return ENCAP_DROP(ENCAP_DROP_NO_ROUTE);
	}
	return next_hop_choose_port(ctx, hop);
}

/* Decides where the frame carrying @outer goes. @now is the coarse clock
 * (bpf_ktime_get_coarse_ns()), read once per packet by whoever read it first:
 * lb for a balanced packet (lb_packet_ctx.now_ns). Returns a final action,
 * counted (XDP_DROP; or XDP_TX/XDP_PASS of the ICMP answer that replaced the
 * frame, next_hop_too_big()), or LB_CONTINUE with @hop filled in; nothing is
 * counted then until next_hop_send().
 *
 * A backend with a static MAC takes next_hop_static(): no lookup at all.
 * Otherwise the next hop comes from the cache or the FIB. Without a neighbour
 * entry the frame goes to the stack (XDP_PASS) with its original Ethernet
 * header, which is addressed to this host: the kernel forwards the
 * encapsulated packet and resolves the neighbour itself. So does a frame whose
 * egress port cannot send XDP frames (next_hop_choose_port()).
 */
static __always_inline int next_hop_resolve(struct xdp_md *ctx, const struct iphdr *outer,
					    __u32 backend_id, const struct lb_backend *backend,
					    __u64 now, struct next_hop *hop)
{
	__u32 mtu;
	int rc;

	if (backend->flags & LB_BACKEND_F_STATIC_MAC)
		return next_hop_static(ctx, bpf_ntohs(outer->tot_len), backend, hop);
	if (next_hop_cache_get(ctx, outer, backend_id, now, hop, &mtu)) {
		if (bpf_ntohs(outer->tot_len) > mtu)
			return next_hop_too_big(ctx, bpf_ntohs(outer->tot_len), mtu, hop);
		return next_hop_choose_port(ctx, hop);
	}
	rc = next_hop_fib(ctx, outer, hop);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS)
		next_hop_cache_put(ctx, outer, backend_id, now, hop);
	return next_hop_fib_verdict(ctx, rc, bpf_ntohs(outer->tot_len), hop);
}

/* Writes the next hop's MACs into the (moved) Ethernet header, unless the frame
 * goes to the stack, which needs the original header.
 */
static __always_inline void next_hop_set_macs(struct ethhdr *eth, const struct next_hop *hop)
{
	if (hop->action == XDP_PASS)
		return;
	__builtin_memcpy(eth->h_dest, hop->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, hop->smac, ETH_ALEN);
}

/* Counts the verdict next_hop_resolve() chose and returns it. */
static __always_inline int next_hop_send(const struct next_hop *hop)
{
	switch (hop->action) {
	case XDP_TX:
		lb_count(LB_C_ENCAP_TX);
		return XDP_TX;
	case XDP_REDIRECT:
		lb_count(LB_C_ENCAP_REDIRECT);
		/* The low bits of the flags are the verdict when the port left
		 * tx_ports since next_hop_resolve(): XDP_DROP, never XDP_ABORTED.
		 */
		return bpf_redirect_map(&tx_ports, hop->ifindex, XDP_DROP);
	default:
		lb_count(hop->pass_reason);
		return XDP_PASS;
	}
}

#endif /* LB_NEXTHOP_BPF_H */
