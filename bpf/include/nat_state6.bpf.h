/* SPDX-License-Identifier: GPL-2.0 */
/* nat_state.bpf.h for IPv6 VIPs: the same allocation, claim and expiry, in
 * nat_reply6 (keyed by the reply's IPv6 5-tuple: backend -> nat_source6:port)
 * and nat_forward6 (keyed by the client's). The ports are per backend address
 * and port, as IPv4's; lb_tunables.nat_src_addr6 is nat_source6.
 */
#ifndef LB_NAT_STATE6_BPF_H
#define LB_NAT_STATE6_BPF_H

#include "nat_state.bpf.h"

/* Whether two IPv6 addresses (4-byte aligned) are equal: four words compared. */
static __always_inline bool nat6_addr_eq(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]));
}

/* Whether lb_tunables.nat_src_addr6 names a source: all zero means no IPv6
 * NAT VIP was configured. A constant to the verifier.
 */
static __always_inline bool nat6_has_source(void)
{
	const volatile __u32 *w = (const volatile __u32 *)lb_tunables.nat_src_addr6;

	return w[0] | w[1] | w[2] | w[3];
}

/* Whether @addr (4-byte aligned) is nat_source6; never without one. */
static __always_inline bool nat6_is_source(const __u8 *addr)
{
	const volatile __u32 *w = (const volatile __u32 *)lb_tunables.nat_src_addr6;
	const __u32 *a = (const __u32 *)addr;

	return nat6_has_source() &&
	       !((a[0] ^ w[0]) | (a[1] ^ w[1]) | (a[2] ^ w[2]) | (a[3] ^ w[3]));
}

/* Copies nat_source6 into @out (4-byte aligned), word by word through the
 * volatile tunables: a plain memcpy lets clang fold the default, all zero.
 */
static __always_inline void nat6_source(__u8 *out)
{
	const volatile __u32 *w = (const volatile __u32 *)lb_tunables.nat_src_addr6;
	__u32 *o = (__u32 *)out;

	o[0] = w[0];
	o[1] = w[1];
	o[2] = w[2];
	o[3] = w[3];
}

/* nat_reply_key() for IPv6: backend -> nat_source6:@nat_port. */
static __always_inline void nat6_reply_key(struct lb_flow6_key *key, __u8 proto,
					   const __u8 *backend_addr, __be16 backend_port,
					   __be16 nat_port)
{
	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memcpy(key->src, backend_addr, sizeof(key->src));
	nat6_source(key->dst);
	key->sport = backend_port;
	key->dport = nat_port;
	key->proto = proto;
}

/* nat_owned_by() for IPv6. */
static __always_inline bool nat6_owned_by(const struct lb_nat_reply6 *entry,
					  const struct lb_flow6_key *client)
{
	return nat6_addr_eq(entry->client_addr, client->src) &&
	       entry->client_port == client->sport && nat6_addr_eq(entry->vip_addr, client->dst) &&
	       entry->vip_port == client->dport;
}

/* nat_port_held() for IPv6. */
static __always_inline __be16 nat6_port_held(const struct lb_flow6_key *client,
					     const __u8 *backend_addr, __be16 backend_port,
					     __u64 now)
{
	struct lb_nat_forward6 *fwd = bpf_map_lookup_elem(&nat_forward6, client);
	struct lb_nat_reply6 *entry;
	struct lb_flow6_key key;

	if (!fwd || !nat6_addr_eq(fwd->backend_addr, backend_addr) ||
	    fwd->backend_port != backend_port)
		return 0;
	nat6_reply_key(&key, client->proto, backend_addr, backend_port, fwd->nat_port);
	entry = bpf_map_lookup_elem(&nat_reply6, &key);
	if (!entry || !nat6_owned_by(entry, client) ||
	    nat_expired(entry->last_seen_ns, client->proto, now))
		return 0;
	nat_touch(&entry->last_seen_ns, now);
	return fwd->nat_port;
}

/* nat_port_for() for IPv6: the port @client holds toward
 * [@backend_addr]:@backend_port, or a new one; 0 when none was free.
 */
static __always_inline __be16 nat6_port_for(const struct lb_flow6_key *client,
					    const __u8 *backend_addr, __be16 backend_port)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct lb_nat_reply6 value = {
		.client_port = client->sport,
		.vip_port = client->dport,
		.last_seen_ns = now,
	};
	struct lb_nat_forward6 fwd = { .backend_port = backend_port };
	struct lb_flow6_key key;
	__u32 hash, i;
	__be16 port;

	port = nat6_port_held(client, backend_addr, backend_port, now);
	if (port)
		return port;
	__builtin_memcpy(value.client_addr, client->src, sizeof(value.client_addr));
	__builtin_memcpy(value.vip_addr, client->dst, sizeof(value.vip_addr));
	__builtin_memcpy(fwd.backend_addr, backend_addr, sizeof(fwd.backend_addr));
	hash = lb_flow_hash6(client);
	for (i = 0; i < LB_NAT_PORT_TRIES; i++) {
		port = nat_candidate_port(hash, i);
		nat6_reply_key(&key, client->proto, backend_addr, backend_port, port);
		if (nat_claim(&nat_reply6, &key, &value,
			      __builtin_offsetof(struct lb_nat_reply6, last_seen_ns), client->proto))
			continue;
		fwd.nat_port = port;
		/* As for IPv4: without it only a port is lost. */
		bpf_map_update_elem(&nat_forward6, client, &fwd, BPF_ANY);
		return port;
	}
	return 0;
}

#endif /* LB_NAT_STATE6_BPF_H */
