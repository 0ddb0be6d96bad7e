/* SPDX-License-Identifier: GPL-2.0 */
/* Health probes through the tunnel: what the kernel needs so that a probe of
 * a backend of an encapsulated VIP (ipip, gue) travels as client traffic
 * does, owned by xdp-lbd while it runs (docs/operations.md, "Health checks"):
 *
 *   - the LWT program lb_probe_encap (bpf/health/probe_encap.bpf.c), loaded
 *     with the load's shared maps and the config's outer source and GUE port;
 *   - one route per VIP address with such probes, `VIP/32 dev IF encap bpf
 *     xmit lb_probe_encap` (VIP/128 for an IPv6 VIP), in xdp-lb's probe table
 *     (--probe-table);
 *   - one rule per family with such VIPs, `priority P fwmark MARK/0xffffe000
 *     lookup TABLE` (--probe-priority, --probe-mark), so that only the probes'
 *     sockets (SO_MARK, lbd_tunnel_mark()) ever meet those routes.
 *
 * The routes hold the program: nothing is pinned. All of it goes when no VIP
 * needs it any more, when the daemon stops and with `xdp-lbd --withdraw`
 * (which a killed daemon's unit runs). Routes and rule carry xdp-lb's route
 * protocol (250) and are told apart from anyone else's by it: a table that
 * holds others' routes, or another rule at our priority, is refused with a
 * reason, logged; meanwhile those backends are probed directly (lbd_health.c).
 */
#ifndef LBD_TUNNEL_H
#define LBD_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "config.h"
#include "lbd_routes.h"
#include "lbd_source.h"
#include "stages.h"

/* Defaults: 9671 is xdp-lb's metrics port, reused so the numbers are recognisable. */
#define LBD_PROBE_TABLE_DEFAULT 9671
#define LBD_PROBE_PRIORITY_DEFAULT 9671
/* Room for the longest tunnel header pushed: IPv6 (40), longer than IPv4 + UDP (GUE, 28). */
#define LBD_PROBE_HEADROOM 40

struct lbd_tunnel_options {
	__u32 table;
	__u32 priority;
	__u32 mark;      /* the base, LB_PROBE_MARK_MASK bits only */
};

struct lbd_tunnel {
	const char *ifname;
	struct lbd_tunnel_options opt;
	struct lbd_routes nl;
	bool nl_open;
	struct lb_stage prog;
	bool loaded;
	__u32 counters_id;            /* the counters map the program counts into */
	struct lb_tunables tunables;  /* what it was loaded with */
	char route_name[48];          /* "lb_probe_encap-<program id>", its routes' name */
	bool rule_added;
	struct lbd_addr *vips;        /* the VIP addresses routed now */
	size_t vip_count;
	char problem[96];             /* why probes cannot go through it; "" ready */
	bool told_rp_filter;
};

void lbd_tunnel_init(struct lbd_tunnel *t, const char *ifname,
		     const struct lbd_tunnel_options *opt);

/* Makes the program, rule and routes match @vips (the @count VIP addresses
 * whose backends are probed through the tunnel; 0: take everything away).
 * Problems are logged when they change and kept in t->problem.
 */
void lbd_tunnel_sync(struct lbd_tunnel *t, struct lbd_source *src, const struct lb_config *cfg,
		     const struct lbd_addr *vips, size_t count);

/* The SO_MARK of a probe of backend slot @id in format @gue (else IPIP). */
__u32 lbd_tunnel_mark(const struct lbd_tunnel *t, __u32 id, bool gue);

/* Takes the routes of ours on the interface away, and the rule when no route
 * of ours is left in the table (another interface's daemon may share it).
 * 0, or -1 after logging what failed.
 */
int lbd_tunnel_remove(struct lbd_tunnel *t, const char *why);

#endif /* LBD_TUNNEL_H */
