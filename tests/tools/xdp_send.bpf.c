// SPDX-License-Identifier: GPL-2.0
/* xdp_send's program for -M live: turns one template frame into many flows and transmits each copy.
 *
 * It runs under BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: the kernel
 * hands it page-pool copies of the template and transmits what it returns
 * XDP_TX for out of the test run's ingress interface. Invocation n (counted
 * per CPU) becomes flow n % flow_count: source port sport_base + flow %
 * ports_per_source, source address src_base + flow / ports_per_source.
 * A recycled page keeps whatever was done to it (the kernel does not copy the
 * template again), and that is more than our own rewrite: a balancer on the
 * other end of the veth encapsulates in place, on this very page, writing an
 * outer header over the first bytes. So every invocation first writes the
 * template's first TEMPLATE_HEAD bytes back (all headers; encap changes
 * nothing behind them), then rewrites the flow's fields and updates the
 * checksums from the template's values.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Ethernet + IPv4 + TCP: every byte a rewrite or an encapsulation touches. */
#define TEMPLATE_HEAD 54

/* Set by xdp_send before load. */
const volatile __u8 template_head[TEMPLATE_HEAD];
const volatile __u32 flow_count = 1;
const volatile __u32 ports_per_source = 1;
const volatile __u32 sport_base = 10000; /* host byte order */
const volatile __u32 src_base;           /* host byte order */

/* Invocations so far on each CPU: flow of the next one, and xdp_send's count
 * of frames handed to the interface.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sequence SEC(".maps");

/* One's complement update of @check for a 16-bit word going @from -> @to
 * (RFC 1624: HC' = ~(~HC + ~m + m')); both in the same byte order.
 */
static __always_inline __u32 csum_add_change(__u32 sum, __u16 from, __u16 to)
{
	return sum + (__u16)~from + to;
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int xdp_send_flows(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u16 *l4 = (void *)(ip + 1), *l4_check, old_src[2], new_src[2], old_sport, new_sport;
	__u32 zero = 0, flow, src, sum;
	int i;
	__u64 *seq = bpf_map_lookup_elem(&sequence, &zero);

	/* The template is built by xdp_send: IPv4 without options, then UDP or
	 * TCP. The bound covers the larger (TCP) header.
	 */
	if (!seq || (void *)l4 + sizeof(struct tcphdr) > data_end)
		return XDP_DROP;
	_Static_assert(sizeof(*eth) + sizeof(*ip) + sizeof(struct tcphdr) == TEMPLATE_HEAD,
		       "the template head covers the headers");
	/* Byte by byte through the volatile array: a plain memcpy would let the
	 * compiler take the (zero) initial values as constants.
	 */
#pragma unroll
	for (i = 0; i < TEMPLATE_HEAD; i++)
		((__u8 *)data)[i] = template_head[i];
	flow = (__u32)(*seq % flow_count);
	*seq += 1;

	src = bpf_htonl(src_base + flow / ports_per_source);
	__builtin_memcpy(old_src, &ip->saddr, 4);
	__builtin_memcpy(new_src, &src, 4);
	old_sport = l4[0];
	new_sport = bpf_htons((__u16)(sport_base + flow % ports_per_source));
	ip->saddr = src;
	l4[0] = new_sport;

	sum = csum_add_change((__u16)~ip->check, old_src[0], new_src[0]);
	ip->check = csum_fold(csum_add_change(sum, old_src[1], new_src[1]));

	/* The L4 checksum covers the pseudo header's source address too. */
	l4_check = ip->protocol == IPPROTO_TCP ? &((struct tcphdr *)l4)->check :
						 &((struct udphdr *)l4)->check;
	if (ip->protocol == IPPROTO_UDP && *l4_check == 0)
		return XDP_TX; /* sent without a checksum */
	sum = csum_add_change((__u16)~*l4_check, old_src[0], new_src[0]);
	sum = csum_add_change(sum, old_src[1], new_src[1]);
	*l4_check = csum_fold(csum_add_change(sum, old_sport, new_sport));
	/* UDP writes a computed 0 as 0xffff: 0 means "no checksum". */
	if (ip->protocol == IPPROTO_UDP && *l4_check == 0)
		*l4_check = 0xffff;
	return XDP_TX;
}

/* xdp_send's probe of live frames: one test run of it tells whether the
 * kernel takes BPF_F_TEST_XDP_LIVE_FRAMES, and its frame goes nowhere (not
 * transmitted, not counted as a flow's).
 */
SEC("xdp")
int xdp_send_probe(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
