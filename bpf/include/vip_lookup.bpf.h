/* SPDX-License-Identifier: GPL-2.0 */
/* Finding a VIP in the vips (vips6) map: the config generation to read, one lookup.
 * parse finds the VIP of every frame; the icmp stage the VIP of the packet an
 * ICMP error quotes.
 */
#ifndef LB_VIP_LOOKUP_BPF_H
#define LB_VIP_LOOKUP_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb_maps.bpf.h"

/* The config generation to read VIPs from. Read once per packet, so every
 * lookup of one packet sees the same config even when a reload flips it.
 */
static __always_inline __u8 config_generation(void)
{
	__u32 key = 0, *gen = bpf_map_lookup_elem(&config_gen, &key);

	return gen ? (__u8)(*gen & 1) : 0;
}

/* One vips lookup; port 0 asks for the wildcard entry. */
static __always_inline struct lb_vip *vip_lookup(__be32 addr, __be16 port, __u8 proto, __u8 gen)
{
	struct lb_vip_key key = { .addr = addr, .port = port, .proto = proto, .gen = gen };

	return bpf_map_lookup_elem(&vips, &key);
}

/* One vips6 lookup; port 0 asks for the wildcard entry. */
static __always_inline struct lb_vip *vip6_lookup(const __u8 *addr, __be16 port, __u8 proto,
						  __u8 gen)
{
	struct lb_vip6_key key = { .port = port, .proto = proto, .gen = gen };

	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	return bpf_map_lookup_elem(&vips6, &key);
}

#endif /* LB_VIP_LOOKUP_BPF_H */
