/* SPDX-License-Identifier: GPL-2.0 */
/* The flow table and the steps every lb (policy) stage shares around its choice.
 *
 * A policy stage runs lb_sched_begin(): an established flow keeps its backend,
 * whichever policy placed it and whatever the VIP's policy is now, so switching
 * a VIP's policy moves no established flow. Only a new flow (or one whose
 * backend is gone, or an idle UDP flow) reaches the stage's own choice, which
 * it hands to lb_sched_place() (stored) or lb_sched_forward() (stateless).
 */
#ifndef LB_FLOW_TABLE_BPF_H
#define LB_FLOW_TABLE_BPF_H

#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <stdbool.h>

#include "stage.bpf.h"

/* Nanoseconds from @then to @now; 0 when @then is later. Another CPU may
 * stamp a flow after this CPU read the clock, and an unsigned wrap would then
 * look like an idle time of centuries.
 */
static __always_inline __u64 lb_elapsed(__u64 now, __u64 then)
{
	return now > then ? now - then : 0;
}

/* Whether a flow of @vip_id may stay on backend @id. */
static __always_inline bool lb_backend_keeps(__u32 id, __u32 vip_id)
{
	struct lb_backend *backend = bpf_map_lookup_elem(&backends, &id);

	if (!backend || backend->vip_id != vip_id)
		return false;
	/* DRAIN keeps its established flows: only new ones go elsewhere. */
	return backend->state == LB_BACKEND_UP || backend->state == LB_BACKEND_DRAIN;
}

/* Whether the packet is a TCP FIN or RST: its connection is ending. Read from
 * the TCP header at the context's l4_offset (parse does not hand TCP flags
 * on), and only for flows least-conn counts, so the other policies never pay
 * for it.
 */
static __always_inline bool lb_tcp_closing(struct xdp_md *xdp, const struct lb_packet_ctx *ctx)
{
	struct tcphdr *tcph;

	if (ctx->l4_proto != IPPROTO_TCP || (ctx->flags & LB_CTX_F_FRAGMENT))
		return false;
	tcph = ctx->flags & LB_CTX_F_IPV6 ? lb_ctx_l4_6(xdp, ctx, sizeof(*tcph)) :
					    lb_ctx_l4(xdp, ctx, sizeof(*tcph));
	return tcph && (tcph->fin || tcph->rst);
}

/* The flow leaves least-conn's count of @backend_id, once: the flag is cleared
 * atomically, so two CPUs seeing the same FIN subtract only one.
 */
static __always_inline void lb_flow_uncount(struct lb_flow *flow, __u32 backend_id)
{
	struct lb_backend_conns *conns;

	if (!(flow->id_word & LB_FLOW_F_COUNTED))
		return;
	if (!(__sync_fetch_and_and(&flow->id_word, ~LB_FLOW_F_COUNTED) & LB_FLOW_F_COUNTED))
		return;
	conns = bpf_map_lookup_elem(&backend_conns, &backend_id);
	if (conns)
		__sync_fetch_and_add(&conns->active, -1);
}

/* The packet's flow entry in its family's table (flows, flows6), or NULL.
 * Two calls, each on its own map: clang would merge them into one call on a
 * map pointer chosen at run time, which the verifier cannot inline (the IPv4
 * established flow measured some 15 ns slower); the barrier keeps the IPv6
 * branch's call its own.
 */
static __always_inline struct lb_flow *lb_flow_find(const struct lb_packet_ctx *ctx)
{
	struct lb_flow *flow;

	if (ctx->flags & LB_CTX_F_IPV6) {
		flow = bpf_map_lookup_elem(&flows6, &ctx->flow6);
		barrier_var(flow);
		return flow;
	}
	return bpf_map_lookup_elem(&flows, &ctx->flow);
}

/* Looks the packet's flow up. Returns LB_C_LB_FLOW_HIT and sets *backend_id
 * when the flow keeps its backend, else the reason it must be scheduled:
 * LB_C_LB_FLOW_NEW, LB_C_LB_FLOW_BACKEND_GONE or LB_C_LB_FLOW_EXPIRED.
 */
static __always_inline enum lb_counter lb_flow_lookup(struct xdp_md *xdp,
						      struct lb_packet_ctx *ctx, __u64 now,
						      __u32 *backend_id)
{
	struct lb_flow *flow = lb_flow_find(ctx);
	__u64 idle;
	__u32 id;

	if (!flow)
		return LB_C_LB_FLOW_NEW;
	/* Read once: another CPU may store a new backend for this flow meanwhile,
	 * and the id checked must be the id handed on.
	 */
	id = *(volatile __u32 *)&flow->backend_id;
	if (!lb_backend_keeps(id, ctx->vip_id)) {
		lb_flow_uncount(flow, id);
		return LB_C_LB_FLOW_BACKEND_GONE;
	}
	idle = lb_elapsed(now, flow->last_seen_ns);
	/* Only UDP expires by idle time. An idle TCP connection (a quiet ssh
	 * session, a pooled database connection) is still open at both ends and
	 * must keep its backend: a new backend would answer with a reset. TCP
	 * flows leave the table only through LRU eviction.
	 */
	if (ctx->l4_proto == IPPROTO_UDP && idle > lb_tunables.flow_timeout_ns) {
		lb_flow_uncount(flow, id);
		return LB_C_LB_FLOW_EXPIRED;
	}
	/* A busy flow would otherwise write the shared cache line on every
	 * packet; a refresh once per LB_FLOW_TOUCH_NS is enough for the timeout.
	 */
	if (idle > LB_FLOW_TOUCH_NS)
		flow->last_seen_ns = now;
	/* The flow keeps its backend to the end (the last ACKs must get there);
	 * it only stops counting as an active connection.
	 */
	if ((flow->id_word & LB_FLOW_F_COUNTED) && lb_tcp_closing(xdp, ctx))
		lb_flow_uncount(flow, id);
	*backend_id = id;
	return LB_C_LB_FLOW_HIT;
}

/* Records the new flow -> backend mapping (the backend counts the flow with its
 * packet, in lb_account()). @flow_flags LB_FLOW_F_COUNTED also counts it as one of the backend's active
 * flows (least-conn).
 */
static __always_inline void lb_flow_store(struct lb_packet_ctx *ctx, __u32 backend_id,
					  __u64 now, __u64 flow_flags)
{
	struct lb_flow flow = {
		/* Written once per flow; the creation time for lbctl flows'
		 * age only: seconds fit its 31 bits for 68 years of uptime.
		 */
		.id_word = backend_id |
			   ((__u64)((__u32)(now / 1000000000ULL) & LB_FLOW_CREATED_MASK) << 32) |
			   flow_flags,
		.last_seen_ns = now,
	};
	struct lb_backend_conns *conns;
	long err;

	/* Two calls on two maps, as in lb_flow_find(). */
	if (ctx->flags & LB_CTX_F_IPV6) {
		err = bpf_map_update_elem(&flows6, &ctx->flow6, &flow, BPF_ANY);
		barrier_var(err);
	} else {
		err = bpf_map_update_elem(&flows, &ctx->flow, &flow, BPF_ANY);
	}
	/* The packet still goes on without an entry; the next one schedules again.
	 * The backend's flow is counted either way, with its packet (lb_account).
	 */
	if (err) {
		lb_count(LB_C_LB_FLOW_UPDATE_FAILED);
		flow_flags = 0; /* nothing will ever uncount it */
	}
	if (flow_flags & LB_FLOW_F_COUNTED) {
		conns = bpf_map_lookup_elem(&backend_conns, &backend_id);
		if (conns)
			__sync_fetch_and_add(&conns->active, 1);
	}
}

/* Counts one packet in this CPU's load window of @load at @now: a window
 * this CPU left behind moves to prev_window_packets when it is the one just
 * before, and is dropped when older. The new flow's own first packet counts
 * too, so the next new flow already sees it (a burst spreads).
 */
static __always_inline void lb_load_window_count(struct lb_backend_load *load, __u64 now)
{
	__u64 window = now >> LB_LOAD_WINDOW_SHIFT;

	if (load->window != window) {
		load->prev_window_packets = load->window + 1 == window ? load->window_packets : 0;
		load->window_packets = 0;
		load->window = window;
	}
	load->window_packets += 1;
}

/* Counts one forwarded packet against @backend_id at @now, and with @new_flow
 * the flow the policy just placed there (backend_load: least-loaded's recent
 * packets, least-packets-per-flow's packets and flows; backend_stats.new_flows).
 */
static __always_inline void lb_account(struct lb_packet_ctx *ctx, __u32 backend_id, __u64 now,
				       bool new_flow)
{
	struct lb_backend_load *load_entry = bpf_map_lookup_elem(&backend_load, &backend_id);
	struct lb_backend_stats *stats = bpf_map_lookup_elem(&backend_stats, &backend_id);

	/* Both per CPU: plain adds are race-free, and no packet writes a cache
	 * line another CPU writes too.
	 */
	if (load_entry) {
		load_entry->packets += 1;
		load_entry->flows += new_flow;
		lb_load_window_count(load_entry, now);
	}
	if (stats) {
		stats->packets += 1;
		stats->bytes += ctx->frame_len;
		stats->new_flows += new_flow;
	}
}

/* Where a policy stage stands after the flow table. */
struct lb_sched {
	struct lb_packet_ctx *ctx;
	struct lb_pool *pool;
	__u64 now;
	enum lb_counter reason; /* why the flow needs a backend */
	__u32 backend_id;
};

/* Counts @reason and the packet, and hands it to the VIP's forwarding stage
 * (encap, or NAT).
 */
static __always_inline int lb_sched_forward(struct xdp_md *xdp, struct lb_sched *s,
					    __u32 backend_id, enum lb_counter reason,
					    bool new_flow)
{
	lb_count(reason);
	lb_account(s->ctx, backend_id, s->now, new_flow);
	s->ctx->backend_id = backend_id;
	/* One tail call per slot, each with a constant key: the kernel turns
	 * those into direct jumps; a key known only at run time takes the slower
	 * indirect path (measured: ~10 ns per packet).
	 */
	if (s->ctx->forwarding == LB_FORWARD_NAT)
		return lb_next_stage(xdp, LB_SLOT_NAT, LB_C_LB_PASS_NO_ENCAP_STAGE);
	return lb_next_stage(xdp, LB_SLOT_ENCAP, LB_C_LB_PASS_NO_ENCAP_STAGE);
}

/* The first step of every policy stage: the VIP's pool and the flow table.
 * Returns the final action when the packet is done (an established flow was
 * handed on, or the pool is missing), or LB_CONTINUE: the flow needs a backend, and
 * s->reason says why.
 */
static __always_inline int lb_sched_begin(struct xdp_md *xdp, struct lb_sched *s)
{
	s->ctx = lb_packet_ctx();
	if (!s->ctx)
		return XDP_PASS;
	s->pool = bpf_map_lookup_elem(&pools, &s->ctx->pool_id);
	if (!s->pool) {
		lb_count(LB_C_LB_PASS_NO_VIP);
		return XDP_PASS;
	}
	/* Coarse (jiffies) is plenty for a 30 s timeout and a 1 s touch, at a
	 * fraction of bpf_ktime_get_ns()'s cost.
	 */
	s->now = bpf_ktime_get_coarse_ns();
	s->ctx->now_ns = s->now;
	s->backend_id = LB_NO_BACKEND;
	s->reason = lb_flow_lookup(xdp, s->ctx, s->now, &s->backend_id);
	if (s->reason != LB_C_LB_FLOW_HIT)
		return LB_CONTINUE;
	return lb_sched_forward(xdp, s, s->backend_id, LB_C_LB_FLOW_HIT, false);
}

/* The last step of a stateful policy: the flow goes to @backend_id from now
 * on (stored with @flow_flags), or is dropped when the policy found none.
 */
static __always_inline int lb_sched_place(struct xdp_md *xdp, struct lb_sched *s,
					  __u32 backend_id, __u64 flow_flags)
{
	/* Counted alone: the flow's own reason would say it went somewhere. */
	if (backend_id == LB_NO_BACKEND) {
		LB_COUNT_VIP_DROP(LB_DROP_NO_BACKEND, s->ctx->vip_id);
		return XDP_DROP;
	}
	lb_flow_store(s->ctx, backend_id, s->now, flow_flags);
	return lb_sched_forward(xdp, s, backend_id, s->reason, true);
}

#endif /* LB_FLOW_TABLE_BPF_H */
