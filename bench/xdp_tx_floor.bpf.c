// SPDX-License-Identifier: GPL-2.0
/* The floor of every benchmark: a bare XDP_TX, the least an XDP program that
 * sends a frame back can cost. Timed next to the stages under test-run, and
 * attached as the reflector the veth throughput run compares lb-load with.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_tx_floor(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
