// SPDX-License-Identifier: GPL-2.0
/* "Another XDP program" for the VM suite: counts IPv4 UDP and TCP packets by destination
 * port and passes every frame on, so a test can tell which traffic reached it in the
 * dispatcher's chain. Loaded with xdp-loader; the map is pinned under its --pin-path.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_FRAGMENT_OFFSET 0x1fff

/* Packets seen per destination port; UDP and TCP share it (the tests use distinct ports). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} port_packets SEC(".maps");

SEC("xdp")
int xdp_port_count(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *ports; /* TCP's header starts with the same two ports */
	__u64 *count;
	__u32 port;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	/* Only a first fragment carries the ports. */
	if (ip->frag_off & bpf_htons(IP_FRAGMENT_OFFSET))
		return XDP_PASS;
	ports = (void *)ip + ip->ihl * 4;
	if ((void *)(ports + 1) > data_end)
		return XDP_PASS;
	port = bpf_ntohs(ports->dest);
	count = bpf_map_lookup_elem(&port_packets, &port);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
