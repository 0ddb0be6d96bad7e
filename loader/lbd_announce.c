// SPDX-License-Identifier: GPL-2.0
/* Which VIP addresses this balancer announces, kept in the kernel's table;
 * see lbd_announce.h.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "lbd_announce.h"
#include "lbd_log.h"
#include "pipeline.h"

/* Routes of ours the table may hold: our VIPs, and as many left behind by
 * another config (a crashed daemon's, a changed config's).
 */
#define ROUTES_MAX (2 * LB_MAX_VIPS)

int lbd_announce_open(struct lbd_announce *a, const char *ifname, __u32 table, char *err,
		      size_t len)
{
	int ret;

	memset(a, 0, sizeof(*a));
	a->ifname = ifname;
	a->state = calloc(1, sizeof(*a->state));
	if (!a->state) {
		snprintf(err, len, "Failed to allocate the announcement state: %s",
			 strerror(ENOMEM));
		return -1;
	}
	ret = lbd_routes_open(&a->routes, table);
	if (ret) {
		snprintf(err, len, "Failed to open a netlink socket for the routes: %s",
			 strerror(-ret));
		free(a->state);
		a->state = NULL;
		return -1;
	}
	return 0;
}

void lbd_announce_close(struct lbd_announce *a)
{
	lbd_routes_close(&a->routes);
	free(a->state);
	a->state = NULL;
}

static struct lbd_announce_addr *find_addr(struct lbd_announce_want *want,
					   const struct lbd_addr *addr)
{
	size_t i;

	for (i = 0; i < want->count; i++)
		if (lbd_addr_eq(&want->addr[i].addr, addr))
			return &want->addr[i];
	return NULL;
}

void lbd_announce_wanted(const struct lb_state *st, int backends_fd,
			 struct lbd_announce_want *want)
{
	struct lbd_announce_addr *w;
	struct lbd_addr addr;
	struct lb_backend b;
	size_t k;
	__u32 j;

	want->count = 0;
	for (k = 0; k < st->live_count; k++) {
		const struct lb_state_vip *vip = &st->live[k];

		addr = vip->ipv6 ? lbd_addr_v6(vip->key6.addr) : lbd_addr_v4(vip->key.addr);
		w = find_addr(want, &addr);
		if (!w) {
			if (want->count == LB_MAX_VIPS)
				continue; /* cannot happen: as many VIPs at most */
			w = &want->addr[want->count++];
			memset(w, 0, sizeof(*w));
			w->addr = addr;
		}
		w->vips++;
		for (j = 0; j < vip->pool.backend_count && j < LB_MAX_BACKENDS_PER_VIP; j++) {
			w->backends++;
			if (!bpf_map_lookup_elem(backends_fd, &vip->pool.backend_ids[j], &b) &&
			    b.state == LB_BACKEND_UP)
				w->up++;
		}
	}
}

/* Logs a failure once, until another one or a success. */
static void report(struct lbd_announce *a, int err, const char *verb,
		   const struct lbd_addr *addr)
{
	char text[LBD_ADDR_STRLEN];

	if (!err || err == a->last_err)
		return;
	a->last_err = err;
	lbd_log(LBD_ERR, "Failed to %s the route %s/%u in table %u: %s (trying again every "
		"interval)", verb, lbd_addr_text(addr, text, sizeof(text)), lbd_addr_bits(addr),
		a->routes.table, strerror(-err));
}

/* Why nothing may be announced now, or NULL when the interface can take
 * traffic; *ifindex gets its index.
 */
static const char *not_ready(struct lbd_announce *a, struct lbd_source *src, int *ifindex,
			     char *why, size_t len)
{
	struct lb_attachment att = { 0 };

	*ifindex = (int)if_nametoindex(a->ifname);
	if (!*ifindex) {
		snprintf(why, len, "%s is gone", a->ifname);
		return why;
	}
	if (!src->open) {
		snprintf(why, len, "xdp-lb is not loaded on %s", a->ifname);
		return why;
	}
	if (lb_attachment_query(*ifindex, &att) || !att.found) {
		snprintf(why, len, "xdp-lb's entry program is not attached to %s", a->ifname);
		return why;
	}
	return NULL;
}

/* Our routes of both families in the table, IPv4 first: the count, or -errno. */
static int list_ours(struct lbd_announce *a, struct lbd_route *have, size_t max)
{
	int n4, n6;

	n4 = lbd_routes_list(&a->routes, AF_INET, have, max);
	if (n4 < 0)
		return n4;
	n6 = lbd_routes_list(&a->routes, AF_INET6, have + n4, max - (size_t)n4);
	return n6 < 0 ? n6 : n4 + n6;
}

void lbd_announce_sync(struct lbd_announce *a, struct lbd_source *src)
{
	static struct lbd_announce_want want;
	struct lbd_route have[ROUTES_MAX];
	const struct lbd_announce_addr *w;
	char why[160], text[LBD_ADDR_STRLEN];
	const char *blocked;
	int ifindex, n, i, err;
	unsigned int bits;
	size_t k;

	n = list_ours(a, have, ROUTES_MAX);
	if (n < 0) {
		if (n != a->last_err)
			lbd_log(LBD_ERR, "Failed to list the routes of table %u: %s (trying "
				"again every interval)", a->routes.table, strerror(-n));
		a->last_err = n;
		return;
	}
	want.count = 0;
	blocked = not_ready(a, src, &ifindex, why, sizeof(why));
	if (!blocked) {
		err = lb_state_read(&src->maps, a->state);
		if (err) {
			snprintf(why, sizeof(why), "the VIPs of %s cannot be read: %s", a->ifname,
				 strerror(-err));
			blocked = why;
		} else {
			lbd_announce_wanted(a->state, src->maps.fd[LB_MAP_BACKENDS], &want);
		}
	}

	/* Withdraw first: a route that must go is more urgent than a new one. */
	for (i = 0; i < n; i++) {
		w = find_addr(&want, &have[i].dst);
		if (w && w->up)
			continue;
		lbd_addr_text(&have[i].dst, text, sizeof(text));
		bits = lbd_addr_bits(&have[i].dst);
		err = lbd_routes_del(&a->routes, &have[i].dst);
		report(a, err, "withdraw", &have[i].dst);
		if (err)
			continue;
		if (blocked)
			lbd_log(LBD_WARN, "withdrew %s/%u from table %u: %s", text, bits,
				a->routes.table, blocked);
		else if (!w)
			lbd_log(LBD_INFO, "withdrew %s/%u from table %u: no VIP on it any more",
				text, bits, a->routes.table);
		else
			lbd_log(LBD_WARN, "withdrew %s/%u from table %u: no backend of its "
				"VIP%s is up (0 of %u up)", text, bits, a->routes.table,
				w->vips == 1 ? "" : "s", w->backends);
	}
	for (k = 0; k < want.count; k++) {
		const struct lbd_route *old = NULL;

		w = &want.addr[k];
		if (!w->up)
			continue;
		for (i = 0; i < n && !old; i++)
			if (lbd_addr_eq(&have[i].dst, &w->addr))
				old = &have[i];
		if (old && old->oif == ifindex)
			continue;
		err = lbd_routes_add(&a->routes, &w->addr, ifindex);
		report(a, err, "announce", &w->addr);
		if (err)
			continue;
		a->last_err = 0;
		lbd_log(LBD_INFO, "announcing %s/%u in table %u via %s: %u of %u backend%s up",
			lbd_addr_text(&w->addr, text, sizeof(text)), lbd_addr_bits(&w->addr),
			a->routes.table, a->ifname, w->up, w->backends,
			w->backends == 1 ? "" : "s");
	}
}

int lbd_announce_withdraw_all(struct lbd_announce *a, const char *why)
{
	struct lbd_route have[ROUTES_MAX];
	char text[LBD_ADDR_STRLEN];
	int n, i, err, ret = 0;

	n = list_ours(a, have, ROUTES_MAX);
	if (n < 0) {
		lbd_log(LBD_ERR, "Failed to list the routes of table %u: %s; routes of ours may "
			"remain there", a->routes.table, strerror(-n));
		return -1;
	}
	for (i = 0; i < n; i++) {
		lbd_addr_text(&have[i].dst, text, sizeof(text));
		err = lbd_routes_del(&a->routes, &have[i].dst);
		if (err) {
			lbd_log(LBD_ERR, "Failed to withdraw the route %s/%u from table %u: %s",
				text, lbd_addr_bits(&have[i].dst), a->routes.table,
				strerror(-err));
			ret = -1;
		} else {
			lbd_log(LBD_INFO, "withdrew %s/%u from table %u: %s", text,
				lbd_addr_bits(&have[i].dst), a->routes.table, why);
		}
	}
	return ret;
}
