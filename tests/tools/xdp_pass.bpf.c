// SPDX-License-Identifier: GPL-2.0
/* XDP_PASS for the far end of a veth pair: a veth only accepts frames that its
 * peer sends with XDP_TX or XDP_REDIRECT when an XDP program is attached to it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
