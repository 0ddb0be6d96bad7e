/* SPDX-License-Identifier: GPL-2.0 */
/* Growing a frame at the front under its L2 header: what every stage that
 * puts headers in front of an IPv4 packet does (the encap stages' outer
 * headers, the ICMP "fragmentation needed" the balancer answers with).
 *
 *   before: [L2 (14, or 18 with an 802.1Q tag)][IPv4 ...]
 *   after:  [L2, same tag][@len new bytes][IPv4 ...]
 */
#ifndef LB_FRAME_BPF_H
#define LB_FRAME_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#include "parsing.bpf.h"

#define FRAME_L2_TAGGED_LEN (ETH_HLEN + sizeof(struct vlan_hdr))

/* Grows the frame at the front by @len bytes (a constant at every call site,
 * at least 20) and moves the L2 header (tag included; @l3_offset is 14 or 18,
 * from a context the caller checked) to the new start. Returns where the @len
 * new bytes go, or NULL when the frame could not grow (no headroom): it is
 * then unchanged. With @dmac (and @smac) the moved L2 header gets these
 * MACs; NULL keeps the frame's own.
 */
static __always_inline void *frame_push_front(struct xdp_md *ctx, __u32 l3_offset,
					      const __u32 len, const __u8 *dmac, const __u8 *smac)
{
	struct ethhdr *eth;
	void *slot;
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -(int)len))
		return NULL;
	/* adjust_head invalidated every packet pointer: derive them again. The
	 * frame held l3_offset + 20 bytes before it grew, so this check only
	 * shows the verifier what is already true.
	 */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + FRAME_L2_TAGGED_LEN + len > data_end)
		return NULL;

	/* Constant sizes for the copy and constant offsets for the slot, which
	 * the check above covers (a variable offset the compiler knows to be 14
	 * or 18 would need a check it then drops as redundant). The old L2
	 * header starts @len (>= 20) bytes in and is at most 18 long, so source
	 * and destination do not overlap.
	 */
	if (l3_offset == ETH_HLEN) {
		__builtin_memcpy(data, data + len, ETH_HLEN);
		slot = data + ETH_HLEN;
	} else {
		__builtin_memcpy(data, data + len, FRAME_L2_TAGGED_LEN);
		slot = data + FRAME_L2_TAGGED_LEN;
	}
	if (dmac) {
		eth = data;
		__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	}
	return slot;
}

#endif /* LB_FRAME_BPF_H */
