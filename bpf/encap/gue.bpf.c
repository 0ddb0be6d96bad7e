// SPDX-License-Identifier: GPL-2.0
/* Encap stage, GUE "direct IP" (variant 1): IPv4 in UDP, the inner IPv4 header
 * right behind the UDP header, as the Linux fou module decapsulates it
 * (`ip fou add port 6080 ipproto 4`).
 *
 *   before: [L2 (14, or 18 with an 802.1Q tag)][inner IPv4 ...]
 *   after:  [L2, same tag, next-hop MACs][outer IPv4][UDP -> gue_port][inner IPv4 ...]
 *
 * Why UDP: ECMP routers and NIC RSS hash on the UDP ports, and the source port
 * is derived from the inner flow, so flows spread over paths and receive queues
 * while every packet of one flow keeps one path. IPIP gives them nothing to
 * hash but the two addresses.
 *
 * The UDP checksum is 0: IPv4 allows it (RFC 768), the inner packet carries its
 * own checksums, and computing one over the whole payload would cost more than
 * the rest of the stage.
 */
#include <linux/in.h>
#include <linux/udp.h>

#include "encap.bpf.h"

struct gue_outer {
	struct iphdr ip;
	struct udphdr udp;
};

SEC("xdp")
int xdp_lb_gue(struct xdp_md *ctx)
{
	struct gue_outer outer = {};
	struct next_hop hop = {};
	struct gue_outer *slot;
	struct encap_job job;
	int action;

	action = encap_begin(ctx, &job);
	if (action != LB_CONTINUE)
		return action;
	encap_outer_ipv4(&job, lb_tunables.outer_src_addr, job.backend->addr, IPPROTO_UDP,
			 sizeof(outer.udp), &outer.ip);
	outer.udp.source = lb_gue_source_port(&job.packet->flow);
	outer.udp.dest = lb_tunables.gue_port;
	outer.udp.len = bpf_htons(job.packet->ip_tot_len + sizeof(outer.udp));
	outer.udp.check = 0;

	action = next_hop_resolve(ctx, &outer.ip, job.packet->backend_id, job.backend,
				  job.packet->now_ns, &hop);
	if (action != LB_CONTINUE)
		return action;
	slot = encap_push(ctx, job.l3_offset, sizeof(outer), &hop);
	if (!slot)
		return XDP_DROP;
	*slot = outer;
	return next_hop_send(&hop);
}

char LICENSE[] SEC("license") = "GPL";
