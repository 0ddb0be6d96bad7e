/* SPDX-License-Identifier: GPL-2.0 */
/* Header parsers over a cursor.
 *
 * The rule for every parse_* helper below: it checks that the whole header lies
 * inside [cursor, data_end), advances the cursor past it, and returns the next
 * protocol (host byte order) or the header's own useful value; it returns -1
 * when the header is truncated or malformed, and then leaves the cursor alone.
 */
#ifndef LB_PARSING_BPF_H
#define LB_PARSING_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* IPv4 frag_off bits, host byte order: don't fragment, more fragments,
 * fragment offset (net/ip.h is not uapi).
 */
#ifndef IP_DF
#define IP_DF 0x4000
#endif
#define LB_IP_MF 0x2000
#define LB_IP_OFFSET 0x1fff

struct hdr_cursor {
	void *pos;
};

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* Ethernet plus at most one 802.1Q tag. Returns the EtherType behind them.
 * *vlan_tagged is set when a tag was skipped. A second tag (QinQ) is not
 * followed: its EtherType (0x8100) is returned, which no caller treats as IPv4.
 */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct ethhdr **ethhdr, int *vlan_tagged)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vlan;
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = bpf_ntohs(eth->h_proto);
	*vlan_tagged = 0;
	if (proto == ETH_P_8021Q) {
		vlan = (void *)(eth + 1);
		if ((void *)(vlan + 1) > data_end)
			return -1;
		proto = bpf_ntohs(vlan->encapsulated_proto);
		*vlan_tagged = 1;
		nh->pos = vlan + 1;
	} else {
		nh->pos = eth + 1;
	}
	*ethhdr = eth;
	return proto;
}

/* IPv4 with options. Returns the L4 protocol. Rejects version != 4, IHL < 5,
 * a header longer than the frame, and a total length that is shorter than the
 * header or longer than the frame (a frame may carry Ethernet padding beyond
 * the total length, so shorter frames are the only error).
 */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr)
{
	struct iphdr *iph = nh->pos;
	__u32 hdr_len, tot_len;

	if ((void *)(iph + 1) > data_end)
		return -1;
	if (iph->version != 4 || iph->ihl < 5)
		return -1;
	hdr_len = iph->ihl * 4;
	if ((void *)iph + hdr_len > data_end)
		return -1;
	tot_len = bpf_ntohs(iph->tot_len);
	/* The 6.1 verifier forgets the range of a byte-swapped value and then
	 * refuses the pointer math below; the compiler knows it is < 65536 and
	 * would drop a plain mask, so hide the value from it first.
	 */
	barrier_var(tot_len);
	tot_len &= 0xffff;
	if (tot_len < hdr_len || (void *)iph + tot_len > data_end)
		return -1;
	nh->pos = (void *)iph + hdr_len;
	*iphdr = iph;
	return iph->protocol;
}

/* UDP. Returns the UDP length field (header included), which must be at least
 * the header size.
 */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr)
{
	struct udphdr *udph = nh->pos;
	int len;

	if ((void *)(udph + 1) > data_end)
		return -1;
	len = bpf_ntohs(udph->len);
	if (len < (int)sizeof(*udph))
		return -1;
	nh->pos = udph + 1;
	*udphdr = udph;
	return len;
}

/* TCP with options. Returns the header length; rejects a data offset below 5
 * or a header longer than the frame.
 */
static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end,
					struct tcphdr **tcphdr)
{
	struct tcphdr *tcph = nh->pos;
	int len;

	if ((void *)(tcph + 1) > data_end)
		return -1;
	len = tcph->doff * 4;
	if (len < (int)sizeof(*tcph))
		return -1;
	if ((void *)tcph + len > data_end)
		return -1;
	nh->pos = (void *)tcph + len;
	*tcphdr = tcph;
	return len;
}

#endif /* LB_PARSING_BPF_H */
