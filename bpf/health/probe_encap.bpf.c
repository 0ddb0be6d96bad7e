// SPDX-License-Identifier: GPL-2.0
/* Health probes through the tunnel: an LWT program (route `VIP/32 encap bpf
 * xmit`, in xdp-lbd's probe table) that wraps xdp-lbd's probe of a backend,
 * a packet its own socket sends to VIP:port, in the headers the XDP encap
 * stages put in front of a client's packet to that backend:
 *
 *   before: [inner IPv4, probe -> VIP:port ...]
 *   after:  [outer IPv4 -> backend][UDP -> gue_port, GUE only][inner IPv4 ...]
 *
 * and has the kernel route it again by the outer destination (BPF_LWT_REROUTE),
 * so the neighbour resolved is the backend's, never the VIP's. The backend
 * decapsulates it like client traffic and answers from the VIP straight to the
 * probe's socket; a backend without its tunnel, its VIP or its fou port fails.
 *
 * Which backend and which format come from the socket's mark (SO_MARK, set by
 * xdp-lbd): lb_tunables.probe_mark | LB_PROBE_MARK_GUE if GUE | backend id
 * (lb_consts_common.h). The address is the backend's entry in the shared
 * backends map, the outer source and GUE port the stages' own tunables. A
 * packet whose mark names no backend, or that is not one this program can
 * wrap, is dropped and counted (probe.*): never sent unwrapped to the VIP.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "stage.bpf.h"
#include "tunnel.bpf.h"

struct probe_gue_outer {
	struct iphdr ip;
	struct udphdr udp;
};

/* The inner flow as the data path hashes it (GUE's source port): addresses,
 * protocol and, for TCP and UDP, the ports behind the header.
 */
static __always_inline void probe_flow(struct __sk_buff *skb, const struct iphdr *inner,
				       struct lb_flow_key *flow)
{
	__be16 ports[2] = {};

	flow->src = inner->saddr;
	flow->dst = inner->daddr;
	flow->proto = inner->protocol;
	if ((inner->protocol == IPPROTO_TCP || inner->protocol == IPPROTO_UDP) &&
	    !bpf_skb_load_bytes(skb, inner->ihl * 4, ports, sizeof(ports))) {
		flow->sport = ports[0];
		flow->dport = ports[1];
	}
}

SEC("lwt_xmit")
int lb_probe_encap(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct probe_gue_outer outer = {};
	const struct lb_backend *backend;
	struct lb_flow_key flow = {};
	__u32 mark = skb->mark, id, len;
	struct iphdr *inner = data;
	bool gue;

	id = mark & LB_PROBE_MARK_ID_MASK;
	backend = bpf_map_lookup_elem(&backends, &id);
	if (!lb_tunables.probe_mark || (mark & LB_PROBE_MARK_MASK) != lb_tunables.probe_mark ||
	    !backend || backend->state == LB_BACKEND_EMPTY) {
		LB_COUNT_VIP_DROP(PROBE_DROP_UNKNOWN_MARK, LB_MAX_VIPS);
		return BPF_DROP;
	}
	/* An IPv4 route hands over IPv4 packets: this only shows the verifier
	 * the header, and refuses one whose length does not match the skb.
	 */
	if ((void *)(inner + 1) > data_end || inner->version != 4 || inner->ihl < 5 ||
	    bpf_ntohs(inner->tot_len) != skb->len) {
		LB_COUNT_VIP_DROP(PROBE_DROP_MALFORMED, backend->vip_id);
		return BPF_DROP;
	}
	gue = mark & LB_PROBE_MARK_GUE;
	if (gue) {
		probe_flow(skb, inner, &flow);
		lb_outer_ipv4(inner, skb->len,
			      lb_tunables.outer_src_addr ? lb_tunables.outer_src_addr : inner->saddr,
			      backend->addr, IPPROTO_UDP, sizeof(outer.udp), &outer.ip);
		outer.udp.source = lb_gue_source_port(&flow);
		outer.udp.dest = lb_tunables.gue_port;
		outer.udp.len = bpf_htons(skb->len + sizeof(outer.udp));
		outer.udp.check = 0; /* as the GUE stage: IPv4 allows it (RFC 768) */
		len = sizeof(outer);
	} else {
		lb_outer_ipv4(inner, skb->len,
			      lb_tunables.outer_src_addr ? lb_tunables.outer_src_addr : inner->saddr,
			      backend->addr, IPPROTO_IPIP, 0, &outer.ip);
		len = sizeof(outer.ip);
	}
	/* The kernel moves the inner headers' offsets with it, so a checksum
	 * left to the device (CHECKSUM_PARTIAL from a local socket) is still
	 * completed, by the device or by the stack when it cannot.
	 */
	if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, &outer, len)) {
		LB_COUNT_VIP_DROP(PROBE_DROP_ENCAP_FAILED, backend->vip_id);
		return BPF_DROP;
	}
	lb_count(gue ? LB_C_PROBE_ENCAP_GUE : LB_C_PROBE_ENCAP_IPIP);
	return BPF_LWT_REROUTE;
}

char LICENSE[] SEC("license") = "GPL";
