/* SPDX-License-Identifier: GPL-2.0 */
/* NAT mappings: the source port a client flow is given toward its backend,
 * allocated without collisions, and the state that translates replies back.
 *
 * nat_reply (keyed by the reply's 5-tuple: backend ip:port -> nat_source:port)
 * owns the port; nat_forward (keyed by the client's 5-tuple) only remembers
 * which port the flow holds and is checked against nat_reply on every packet.
 * A new port is claimed with BPF_NOEXIST, an atomic insert: two CPUs can never
 * both own one reply 5-tuple.
 *
 * Expiry is the flow table's (flow_table.bpf.h): a UDP mapping idle longer
 * than flow_timeout_ns may be taken over by a new flow; a TCP mapping leaves
 * only by LRU eviction. Both directions refresh last_seen_ns, at most once
 * per LB_FLOW_TOUCH_NS.
 */
#ifndef LB_NAT_STATE_BPF_H
#define LB_NAT_STATE_BPF_H

#include <linux/in.h>
#include <stdbool.h>

#include "flow_hash_common.h"
#include "stage.bpf.h"

/* A UDP mapping may be reused after lb_tunables.flow_timeout_ns idle; NAT
 * writes lb_tunables.nat_src_addr (nat_source in the config) as the source
 * toward backends, and without one (no nat VIP) drops as a bad context.
 */

/* Whether a mapping last seen at @last_seen_ns has expired (see the top of
 * the file). Both families' reply entries end in their last_seen_ns.
 */
static __always_inline bool nat_expired(__u64 last_seen_ns, __u8 proto, __u64 now)
{
	return proto == IPPROTO_UDP && now > last_seen_ns &&
	       now - last_seen_ns > lb_tunables.flow_timeout_ns;
}

/* Keeps a live mapping live; a write at most once per LB_FLOW_TOUCH_NS. */
static __always_inline void nat_touch(__u64 *last_seen_ns, __u64 now)
{
	if (now > *last_seen_ns && now - *last_seen_ns > LB_FLOW_TOUCH_NS)
		*last_seen_ns = now;
}

/* The @i-th port a new flow of hash @hash tries. An odd step visits
 * LB_NAT_PORT_COUNT (a power of two) ports before repeating.
 */
static __always_inline __be16 nat_candidate_port(__u32 hash, __u32 i)
{
	return bpf_htons(LB_NAT_PORT_MIN + ((hash + i * 2654435761U) % LB_NAT_PORT_COUNT));
}

/* The reply 5-tuple of a mapping: backend -> nat_source:@nat_port. */
static __always_inline void nat_reply_key(struct lb_flow_key *key, __u8 proto,
					  __be32 backend_addr, __be16 backend_port,
					  __be16 nat_port)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->src = backend_addr;
	key->dst = lb_tunables.nat_src_addr;
	key->sport = backend_port;
	key->dport = nat_port;
	key->proto = proto;
}

/* Whether @entry is @client's own mapping. */
static __always_inline bool nat_owned_by(const struct lb_nat_reply *entry,
					 const struct lb_flow_key *client)
{
	return entry->client_addr == client->src && entry->client_port == client->sport &&
	       entry->vip_addr == client->dst && entry->vip_port == client->dport;
}

/* The port @client already holds toward @backend_addr:@backend_port, or 0. */
static __always_inline __be16 nat_port_held(const struct lb_flow_key *client,
					    __be32 backend_addr, __be16 backend_port, __u64 now)
{
	struct lb_nat_forward *fwd = bpf_map_lookup_elem(&nat_forward, client);
	struct lb_nat_reply *entry;
	struct lb_flow_key key;

	if (!fwd || fwd->backend_addr != backend_addr || fwd->backend_port != backend_port)
		return 0;
	nat_reply_key(&key, client->proto, backend_addr, backend_port, fwd->nat_port);
	entry = bpf_map_lookup_elem(&nat_reply, &key);
	/* Evicted, expired, or taken over after expiry: the flow needs a new port. */
	if (!entry || !nat_owned_by(entry, client) ||
	    nat_expired(entry->last_seen_ns, client->proto, now))
		return 0;
	nat_touch(&entry->last_seen_ns, now);
	return fwd->nat_port;
}

/* Tries to make @key (a free or expired reply 5-tuple) in @map (nat_reply or
 * nat_reply6) @value's, whose last_seen_ns lies @seen_off bytes in (a
 * constant). Returns 0 when the port is now this flow's.
 */
static __always_inline int nat_claim(void *map, void *key, void *value, const __u32 seen_off,
				     __u8 proto)
{
	__u64 now = *(__u64 *)(value + seen_off);
	__u64 *old_seen, seen;
	void *old;

	if (!bpf_map_update_elem(map, key, value, BPF_NOEXIST))
		return 0;
	old = bpf_map_lookup_elem(map, key);
	if (!old)
		return -1;
	old_seen = old + seen_off;
	if (!nat_expired(*old_seen, proto, now))
		return -1;
	/* Expired: of the CPUs that saw it so, only the one whose
	 * compare-and-swap wins the timestamp takes the port over.
	 */
	seen = *old_seen;
	if (__sync_val_compare_and_swap(old_seen, seen, now) != seen)
		return -1;
	return bpf_map_update_elem(map, key, value, BPF_EXIST) ? -1 : 0;
}

/* The source port of @client's flow toward @backend_addr:@backend_port:
 * the one it holds, or a new one from the flow's hash, probing at most
 * LB_NAT_PORT_TRIES ports. Returns 0 when none was free.
 */
static __always_inline __be16 nat_port_for(const struct lb_flow_key *client,
					   __be32 backend_addr, __be16 backend_port)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct lb_nat_reply value = {
		.client_addr = client->src,
		.client_port = client->sport,
		.vip_addr = client->dst,
		.vip_port = client->dport,
		.last_seen_ns = now,
	};
	struct lb_nat_forward fwd = {
		.backend_addr = backend_addr,
		.backend_port = backend_port,
	};
	struct lb_flow_key key;
	__u32 hash, i;
	__be16 port;

	port = nat_port_held(client, backend_addr, backend_port, now);
	if (port)
		return port;
	hash = lb_flow_hash(client);
	for (i = 0; i < LB_NAT_PORT_TRIES; i++) {
		port = nat_candidate_port(hash, i);
		nat_reply_key(&key, client->proto, backend_addr, backend_port, port);
		if (nat_claim(&nat_reply, &key, &value,
			      __builtin_offsetof(struct lb_nat_reply, last_seen_ns), client->proto))
			continue;
		fwd.nat_port = port;
		/* Without it the next packet claims a port again; the one just
		 * claimed then expires unused. Nothing is lost but a port.
		 */
		bpf_map_update_elem(&nat_forward, client, &fwd, BPF_ANY);
		return port;
	}
	return 0;
}

#endif /* LB_NAT_STATE_BPF_H */
