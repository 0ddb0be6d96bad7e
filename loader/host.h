/* SPDX-License-Identifier: GPL-2.0 */
/* What lb-load sets on the host so that balanced frames are delivered, and
 * puts back at unload: the interface's forwarding (IPv4; IPv6 too for IPv6
 * VIPs) and accept_local sysctls, and the way encapsulated frames leave when
 * the driver would drop
 * XDP_TX frames. The record lives in the pinned map host_state, beside the
 * rest of the interface's state, with the drop counters as they were at load.
 */
#ifndef LB_HOST_H
#define LB_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "config.h"
#include "maps.h"
#include "netdev.h"

/* host_state.flags */
#define LB_HOST_F_FORWARDING_SET 0x1   /* lb-load turned net.ipv4.conf.IF.forwarding on */
#define LB_HOST_F_ACCEPT_LOCAL_SET 0x2 /* lb-load turned net.ipv4.conf.IF.accept_local on */
#define LB_HOST_F_TX_VIA_STACK 0x4     /* frames for the ingress go through the kernel */
#define LB_HOST_F_FORWARDING6_SET 0x8  /* lb-load turned net.ipv6.conf.IF.forwarding on */

/* The one value of the pinned host_state array map. */
struct lb_host_state {
	__u32 flags;
	__u32 pad;
	struct lb_drop_stats baseline; /* lb_drop_stats_read() at the first load */
};

/* What lb-load found and did, for its summary. */
struct lb_host_plan {
	struct lb_host_state state;  /* to be stored in host_state */
	struct lb_veth_peer peer;    /* the ingress interface's veth peer, if any */
	bool forwarding_now_set;     /* this run turned forwarding on */
	bool forwarding6_now_set;    /* this run turned IPv6 forwarding on (an IPv6 VIP) */
	bool accept_local_now_set;   /* this run turned accept_local on */
	char local_source[16];       /* the configured source that is ours, for accept_local */
};

/* Creates the host_state map in @maps if it has none (a first load). */
int lb_host_state_create(struct lb_maps *maps);
int lb_host_state_read(const struct lb_maps *maps, struct lb_host_state *state);
int lb_host_state_write(const struct lb_maps *maps, const struct lb_host_state *state);

/* Decides and applies the host settings for loading @cfg on @ifname: starts
 * from @previous (a reload's record, or NULL), turns forwarding on when it is
 * off, accept_local on when frames handed to the kernel carry a source address
 * of this host (outer_source or nat_source), and finds out whether XDP_TX
 * frames must go through the kernel. 0, or -errno with @msg set (nothing left
 * changed).
 */
int lb_host_prepare(const char *ifname, int ifindex, bool native, const struct lb_config *cfg,
		    const struct lb_host_state *previous, struct lb_host_plan *plan, char *msg,
		    size_t len);

/* Puts back what this run of lb_host_prepare() changed (a failed load). */
void lb_host_undo(const char *ifname, const struct lb_host_plan *plan);

/* At unload: puts back every setting @state says lb-load changed, if it still
 * has the value lb-load gave it. Prints what it restored.
 */
void lb_host_restore(const char *ifname, const struct lb_host_state *state);

/* Prints the summary lines for @plan (indented by two spaces). */
void lb_host_print(const char *ifname, const struct lb_host_plan *plan);

#endif /* LB_HOST_H */
