// SPDX-License-Identifier: GPL-2.0
/* The far end of the balancer's interface in the veth throughput run: counts
 * each arriving frame under its backend (the outer destination of an IPIP
 * frame; 0 for any other frame, e.g. what the bare reflector sends back) and
 * drops it. The counting is the same work in both runs, so it cancels out of
 * their ratio.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Outer IPv4 destination (network byte order), or 0 -> frames seen. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4097);
	__type(key, __u32);
	__type(value, __u64);
} frames_by_backend SEC(".maps");

static __always_inline __u32 backend_of(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_IPIP)
		return 0;
	return ip->daddr;
}

SEC("xdp")
int xdp_backend_sink(struct xdp_md *ctx)
{
	__u32 key = backend_of(ctx);
	__u64 one = 1, *count;

	count = bpf_map_lookup_elem(&frames_by_backend, &key);
	if (count) {
		*count += 1; /* per CPU: no race */
		return XDP_DROP;
	}
	/* First frame of this backend on this CPU. Per-CPU hash entries exist
	 * for all CPUs at once, so another CPU may have created it meanwhile.
	 */
	if (bpf_map_update_elem(&frames_by_backend, &key, &one, BPF_NOEXIST)) {
		count = bpf_map_lookup_elem(&frames_by_backend, &key);
		if (count)
			*count += 1;
	}
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
