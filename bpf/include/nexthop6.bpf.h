/* SPDX-License-Identifier: GPL-2.0 */
/* The next hop of an IPv6-in-IPv6 packet: nexthop.bpf.h's steps for an outer
 * IPv6 header (FIB lookup AF_INET6, the per-CPU cache keyed by backend id,
 * the route's MTU), ending in the same port choice, counters and send.
 */
#ifndef LB_NEXTHOP6_BPF_H
#define LB_NEXTHOP6_BPF_H

#include <linux/ipv6.h>

#include "nexthop.bpf.h"

#ifndef AF_INET6
#define AF_INET6 10
#endif

/* The outer packet's length: the fixed header and its payload. */
static __always_inline __u32 next_hop6_len(const struct ipv6hdr *outer)
{
	return sizeof(*outer) + bpf_ntohs(outer->payload_len);
}

/* bpf_fib_lookup's question for @outer as if it had arrived on the ingress
 * interface, asking about a packet of @tot_len bytes (the kernel checks the
 * egress MTU against it).
 */
static __always_inline void next_hop6_params(struct xdp_md *ctx, const struct ipv6hdr *outer,
					     __u32 tot_len, struct bpf_fib_lookup *params)
{
	params->family = AF_INET6;
	params->flowinfo = *(const __be32 *)outer & bpf_htonl(0x0fffffff);
	params->l4_protocol = outer->nexthdr;
	params->tot_len = tot_len;
	params->ifindex = ctx->ingress_ifindex;
	__builtin_memcpy(params->ipv6_src, &outer->saddr, sizeof(params->ipv6_src));
	__builtin_memcpy(params->ipv6_dst, &outer->daddr, sizeof(params->ipv6_dst));
}

/* next_hop_fib() for IPv6. */
static __always_inline int next_hop6_fib(struct xdp_md *ctx, const struct ipv6hdr *outer,
					 struct next_hop *hop)
{
	struct bpf_fib_lookup params = {};

	next_hop6_params(ctx, outer, next_hop6_len(outer), &params);
	return next_hop_fib_ask(ctx, &params, hop);
}

/* next_hop_route_mtu() for IPv6. */
static __always_inline __u32 next_hop6_route_mtu(struct xdp_md *ctx, const struct ipv6hdr *outer)
{
	struct bpf_fib_lookup params = {};

	next_hop6_params(ctx, outer, 0xffff, &params);
	return next_hop_fib_mtu(ctx, &params);
}

/* next_hop_cache_get() for IPv6: the entry must be for the whole address. */
static __always_inline int next_hop6_cache_get(struct xdp_md *ctx, const struct ipv6hdr *outer,
					       __u32 backend_id, __u64 now, struct next_hop *hop,
					       __u32 *mtu)
{
	struct next_hop_entry *entry = next_hop_cache_entry(ctx, backend_id, now);
	const __u32 *want = (const __u32 *)&outer->daddr;
	const __u32 *have;

	if (!entry)
		return 0;
	have = (const __u32 *)entry->daddr6;
	if ((have[0] ^ want[0]) | (have[1] ^ want[1]) | (have[2] ^ want[2]) |
	    (have[3] ^ want[3]))
		return 0;
	return next_hop_cache_hit(entry, hop, mtu);
}

/* next_hop_cache_put() for IPv6. */
static __always_inline void next_hop6_cache_put(struct xdp_md *ctx, const struct ipv6hdr *outer,
						__u32 backend_id, __u64 now,
						const struct next_hop *hop)
{
	struct next_hop_entry *entry = next_hop_cache_slot(backend_id);

	if (!entry)
		return;
	__builtin_memcpy(entry->daddr6, &outer->daddr, sizeof(entry->daddr6));
	next_hop_cache_fill(ctx, entry, hop, next_hop6_route_mtu(ctx, outer), now);
}

/* next_hop_resolve() for a frame carrying @outer, an IPv6 header: the same
 * static-MAC path, cache, FIB verdicts and MTU checks (the 40-byte outer
 * header counted in its length).
 */
static __always_inline int next_hop6_resolve(struct xdp_md *ctx, const struct ipv6hdr *outer,
					     __u32 backend_id, const struct lb_backend *backend,
					     __u64 now, struct next_hop *hop)
{
	__u32 mtu;
	int rc;

	if (backend->flags & LB_BACKEND_F_STATIC_MAC)
		return next_hop_static(ctx, next_hop6_len(outer), backend, hop);
	if (next_hop6_cache_get(ctx, outer, backend_id, now, hop, &mtu)) {
		if (next_hop6_len(outer) > mtu)
			return next_hop_too_big(ctx, next_hop6_len(outer), mtu, hop);
		return next_hop_choose_port(ctx, hop);
	}
	rc = next_hop6_fib(ctx, outer, hop);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS)
		next_hop6_cache_put(ctx, outer, backend_id, now, hop);
	return next_hop_fib_verdict(ctx, rc, next_hop6_len(outer), hop);
}

#endif /* LB_NEXTHOP6_BPF_H */
