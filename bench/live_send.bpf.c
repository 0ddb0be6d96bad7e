// SPDX-License-Identifier: GPL-2.0
/* live_send's program: writes the whole header of every frame from a template
 * and sends it out (XDP_TX) under BPF_PROG_TEST_RUN with live frames.
 *
 * Why the whole header, every time: the kernel copies the template into a
 * page only when the page is new. A page the balancer encapsulated comes back
 * to the test run's page pool after the sink dropped it, with the outer
 * headers written where the original frame was, so a sender that rewrites
 * only the fields it varies would send garbage from then on.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Ethernet + IPv4 + UDP is 42 bytes; whole words of the template up to 48. */
#define HEADER_WORDS 6

/* Set by live_send before load: the frame's first 48 bytes (UDP checksum 0,
 * so changing the source port needs no checksum update), the flows, the first
 * source port.
 */
const volatile __u64 header_words[HEADER_WORDS];
const volatile __u32 flow_count = 1;
const volatile __u32 sport_base = 10000;

/* Frames sent on each CPU; the next one's flow is this modulo flow_count. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} frames_sent SEC(".maps");

SEC("xdp")
int xdp_live_send(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u64 *word = data, *sent;
	struct udphdr *udp;
	__u32 zero = 0, i;

	if (data + HEADER_WORDS * sizeof(*word) > data_end)
		return XDP_DROP;
	sent = bpf_map_lookup_elem(&frames_sent, &zero);
	if (!sent)
		return XDP_DROP;
#pragma unroll
	for (i = 0; i < HEADER_WORDS; i++)
		word[i] = header_words[i];
	udp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
	udp->source = bpf_htons((__u16)(sport_base + *sent % flow_count));
	*sent += 1;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
