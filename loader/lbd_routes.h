/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel routes xdp-lbd announces VIPs with, over rtnetlink (libmnl): host
 * routes (IPv4 /32, IPv6 /128) in one routing table, marked with xdp-lb's own route
 * protocol number so that they are told apart from every other route there
 * and a routing daemon can pick them up (BIRD: protocol kernel { learn; }).
 * Nothing here decides which routes should exist: lbd_announce.h does.
 */
#ifndef LBD_ROUTES_H
#define LBD_ROUTES_H

#include <stddef.h>
#include <linux/types.h>

#include "lbd_addr.h"

/* The route protocol (rtm_protocol) of every route xdp-lbd makes. No other
 * program in iproute2's rt_protos list uses it; "250 xdp-lb" in
 * /etc/iproute2/rt_protos.d/xdp-lb.conf makes `ip route` print the name.
 */
#define LBD_ROUTE_PROTO 250

/* Where a table ends: 253-255 are the kernel's default, main and local. */
#define LBD_TABLE_MIN 1
#define LBD_TABLE_MAX 0xfffffffeUL

struct mnl_socket;

struct lbd_routes {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	__u32 table;
};

/* One route of ours as the kernel has it. */
struct lbd_route {
	struct lbd_addr dst;
	int oif;
};

/* Opens a NETLINK_ROUTE socket for @table. 0 or -errno. */
int lbd_routes_open(struct lbd_routes *r, __u32 table);
void lbd_routes_close(struct lbd_routes *r);

/* Reads the host routes of our protocol in our table of @family (AF_INET or
 * AF_INET6) into @out (at most @max; the count found, or -errno).
 */
int lbd_routes_list(struct lbd_routes *r, int family, struct lbd_route *out, size_t max);

/* Adds (or replaces) the host route to @dst (/32 or /128) via device @oif. 0 or -errno. */
int lbd_routes_add(struct lbd_routes *r, const struct lbd_addr *dst, int oif);

/* Removes our host route to @dst. 0 (also when it was gone already) or -errno. */
int lbd_routes_del(struct lbd_routes *r, const struct lbd_addr *dst);

/* Adds (or replaces) the host route to @dst (/32 or /128) via device @oif
 * that hands every packet to the LWT program @prog_fd (`encap bpf xmit`), with
 * @headroom bytes kept in front for the headers it pushes. 0 or -errno.
 */
int lbd_routes_add_bpf(struct lbd_routes *r, const struct lbd_addr *dst, int oif, int prog_fd,
		       const char *prog_name, __u32 headroom);

/* Routes of @family in our table that are not ours (another protocol). The
 * count or -errno.
 */
int lbd_routes_count_foreign(struct lbd_routes *r, int family);

/* The fwmark rule `priority P fwmark M/MASK lookup <our table>`, of our
 * protocol, in @family's rule list (AF_INET or AF_INET6: each has its own).
 */
struct lbd_rule {
	int family;
	__u32 priority, mark, mask;
};

/* Whether a rule of @rule->family has priority @rule->priority: 0 none, 1 ours
 * exactly (same selector, our table and protocol), 2 another one; or -errno.
 */
int lbd_rule_check(struct lbd_routes *r, const struct lbd_rule *rule);

/* Adds our rule (it must not exist: lbd_rule_check()). 0 or -errno. */
int lbd_rule_add(struct lbd_routes *r, const struct lbd_rule *rule);

/* Removes our rule. 0 (also when it was gone already) or -errno. */
int lbd_rule_del(struct lbd_routes *r, const struct lbd_rule *rule);

#endif /* LBD_ROUTES_H */
