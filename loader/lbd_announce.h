/* SPDX-License-Identifier: GPL-2.0 */
/* VIP announcement (--announce-table, docs/scale-out.md): xdp-lbd keeps one
 * kernel route per VIP address (IPv4 /32, IPv6 /128, via the balanced
 * interface) in a routing table of its own, with its own route protocol
 * (lbd_routes.h), exactly while this balancer can take the VIP's traffic:
 *   - xdp-lb is loaded on the interface (pins there) and its entry program is
 *     attached;
 *   - at least one VIP on that address has a backend in state up (the state
 *     in the pinned backends map: the config's, or the health checks').
 * A routing daemon learns the table and announces it (BIRD: protocol kernel
 * { kernel table N; learn; }, then BGP to an ECMP router). Routes are
 * compared with the kernel's table every interval and at every change of the
 * pins, so a route of ours that is missing is put back and one that should
 * not be there (a crashed daemon's) is removed. Stopping withdraws them all.
 */
#ifndef LBD_ANNOUNCE_H
#define LBD_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "lb_consts_common.h"
#include "lbd_routes.h"
#include "lbd_source.h"
#include "state.h"

/* One VIP address and what its VIPs' backends allow. */
struct lbd_announce_addr {
	struct lbd_addr addr;
	__u32 vips;        /* VIPs (port, protocol) on the address */
	__u32 backends;    /* their backends, every state */
	__u32 up;          /* of them, in state up */
};

/* What should be announced: every live VIP address with its counts. */
struct lbd_announce_want {
	struct lbd_announce_addr addr[LB_MAX_VIPS];
	size_t count;
};

struct lbd_announce {
	const char *ifname;
	struct lbd_routes routes;
	struct lb_state *state;  /* large: read into once per pass */
	int last_err;            /* the last failure logged, not repeated */
};

/* Opens the netlink socket for @table. 0, or -1 with @err. */
int lbd_announce_open(struct lbd_announce *a, const char *ifname, __u32 table, char *err,
		      size_t len);

/* Counts, per VIP address of @st's live VIPs, the backends and those of them
 * up (the state in the backends map behind @backends_fd). Pure apart from
 * the map lookups.
 */
void lbd_announce_wanted(const struct lb_state *st, int backends_fd,
			 struct lbd_announce_want *want);

/* Makes the table match what @src allows now: adds and removes routes, each
 * logged with its reason. @src is refreshed by the caller.
 */
void lbd_announce_sync(struct lbd_announce *a, struct lbd_source *src);

/* Removes every route of ours (the daemon stops): logs @why. 0, or -1 when a
 * route could not be listed or removed (logged).
 */
int lbd_announce_withdraw_all(struct lbd_announce *a, const char *why);

void lbd_announce_close(struct lbd_announce *a);

#endif /* LBD_ANNOUNCE_H */
