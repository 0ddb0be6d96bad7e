// SPDX-License-Identifier: GPL-2.0
/* The program, rule and routes of the probes through the tunnel; see lbd_tunnel.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "lb_consts_common.h"
#include "lbd_log.h"
#include "lbd_tunnel.h"
#include "probe_encap.skel.h"

/* Not a stage: no slot holds it. The stage loader still fits (shared maps,
 * lb_tunables), so the program is loaded the way every stage is.
 */
static const struct lb_stage_def probe_def = {
	.name = "probe-encap",
	.slot = LB_SLOT_COUNT,
	.prog_name = "lb_probe_encap",
	.elf_bytes = probe_encap_bpf__elf_bytes,
	.object = "probe_encap",
};

/* The most VIP addresses a table of ours holds: one per VIP. */
#define TUNNEL_ROUTES_MAX (2 * LB_MAX_VIPS)

/* The route families, each with its routes and its own rule list. */
static const int families[] = { AF_INET, AF_INET6 };
#define FAMILY_COUNT (sizeof(families) / sizeof(families[0]))

void lbd_tunnel_init(struct lbd_tunnel *t, const char *ifname,
		     const struct lbd_tunnel_options *opt)
{
	memset(t, 0, sizeof(*t));
	t->ifname = ifname;
	t->opt = *opt;
	t->prog.prog_fd = -1;
}

__u32 lbd_tunnel_mark(const struct lbd_tunnel *t, __u32 id, bool gue)
{
	return t->opt.mark | (gue ? LB_PROBE_MARK_GUE : 0) | (id & LB_PROBE_MARK_ID_MASK);
}

static struct lbd_rule our_rule(const struct lbd_tunnel *t, int family)
{
	return (struct lbd_rule){ .family = family, .priority = t->opt.priority,
				  .mark = t->opt.mark, .mask = LB_PROBE_MARK_MASK };
}

/* "" or "IPv6 ": which rule a message is about. */
static const char *family_word(int family)
{
	return family == AF_INET6 ? "IPv6 " : "";
}

static int open_netlink(struct lbd_tunnel *t)
{
	int err;

	if (t->nl_open)
		return 0;
	err = lbd_routes_open(&t->nl, t->opt.table);
	if (err)
		return err;
	t->nl_open = true;
	return 0;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

static void unload_program(struct lbd_tunnel *t)
{
	if (t->loaded)
		lb_stage_close(&t->prog);
	t->loaded = false;
	t->counters_id = 0;
}

/* Loads the program against the load's maps and the config's tunnel settings
 * when it has none, or other ones. 1 loaded anew (every route must take it),
 * 0 unchanged, -errno.
 */
static int load_program(struct lbd_tunnel *t, struct lbd_source *src, const struct lb_config *cfg)
{
	struct lb_tunables tun = {
		.outer_src_addr = cfg->outer_src,
		.gue_port = htons(cfg->gue_port),
		.probe_mark = t->opt.mark,
	};
	__u32 id = map_id(src->maps.fd[LB_MAP_COUNTERS]);
	struct lb_stage st;
	int err;

	memcpy(tun.outer_src_addr6, cfg->outer_src6, sizeof(tun.outer_src_addr6));
	if (t->loaded && id == t->counters_id && !memcmp(&tun, &t->tunables, sizeof(tun)))
		return 0;
	err = lb_stage_load(&probe_def, &src->maps, &tun, 0, &st);
	if (err) {
		lbd_log(LBD_ERR, "Failed to load the probes' encapsulation program %s: %s",
			probe_def.prog_name, strerror(-err));
		return err;
	}
	/* The routes hold the old program until they are replaced. */
	unload_program(t);
	t->prog = st;
	/* The kernel tells LWT states apart by their name only: a route
	 * replaced with another program of the same name keeps the old one
	 * (and its maps). The program's id makes each name its own.
	 */
	snprintf(t->route_name, sizeof(t->route_name), "%s-%u", probe_def.prog_name,
		 prog_id(st.prog_fd));
	t->loaded = true;
	t->counters_id = id;
	t->tunables = tun;
	return 1;
}

static bool has_addr(const struct lbd_addr *list, size_t count, const struct lbd_addr *addr)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (lbd_addr_eq(&list[i], addr))
			return true;
	return false;
}

static bool has_route(const struct lbd_route *routes, size_t count, const struct lbd_addr *dst,
		      int oif)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (lbd_addr_eq(&routes[i].dst, dst) && routes[i].oif == oif)
			return true;
	return false;
}

/* Whether @vips holds an address of @family. */
static bool has_family(const struct lbd_addr *vips, size_t count, int family)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (vips[i].family == family)
			return true;
	return false;
}

/* Our routes of both families in the table, into @out (TUNNEL_ROUTES_MAX):
 * the count, or -errno.
 */
static int list_routes(struct lbd_tunnel *t, struct lbd_route *out)
{
	size_t f;
	int n, total = 0;

	for (f = 0; f < FAMILY_COUNT; f++) {
		n = lbd_routes_list(&t->nl, families[f], out + total,
				    (size_t)(TUNNEL_ROUTES_MAX - total));
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

/* Whether route @r is this interface's: its device, or a device gone (a
 * route of an interface made anew is ours to clean up too).
 */
static bool route_is_ours(const struct lbd_route *r, int ifindex)
{
	char name[IF_NAMESIZE];

	return r->oif == ifindex || !if_indextoname((unsigned int)r->oif, name);
}

/* rp_filter strict (1) drops a reply from a VIP the host routes elsewhere:
 * said once, as what to look at when probes through the tunnel fail.
 */
static void check_rp_filter(struct lbd_tunnel *t)
{
	const char *scopes[2] = { "all", t->ifname };
	char path[96];
	int i, v, strict = 0;
	FILE *f;

	if (t->told_rp_filter)
		return;
	t->told_rp_filter = true;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", scopes[i]);
		f = fopen(path, "r");
		if (f && fscanf(f, "%d", &v) == 1 && v > strict)
			strict = v;
		if (f)
			fclose(f);
	}
	if (strict == 1)
		lbd_log(LBD_WARN, "rp_filter is 1 (strict) on %s: a backend answers a probe through "
			"the tunnel from the VIP, and the reply is dropped unless this host routes "
			"the VIP via %s; if such probes fail, set net.ipv4.conf.%s.rp_filter=2 "
			"(loose)", t->ifname, t->ifname, t->ifname);
}

static void set_problem(struct lbd_tunnel *t, const char *problem)
{
	if (!strcmp(t->problem, problem))
		return;
	if (*problem)
		lbd_log(LBD_ERR, "health probes through the tunnel cannot run on %s: %s; their "
			"backends are probed directly until it is resolved", t->ifname, problem);
	else if (*t->problem)
		lbd_log(LBD_INFO, "health probes through the tunnel on %s: ready again",
			t->ifname);
	snprintf(t->problem, sizeof(t->problem), "%s", problem);
}

/* The table, and the rule of each family @vips holds: ours, or refused with
 * @problem. An IPv6 rule only for IPv6 VIPs: a host without IPv6 still
 * probes its IPv4 VIPs through the tunnel. 0 or -1.
 */
static int claim_table(struct lbd_tunnel *t, const struct lbd_addr *vips, size_t count,
		       char *problem, size_t len)
{
	struct lbd_rule rule;
	size_t f;
	int n, err;

	for (f = 0; f < FAMILY_COUNT; f++) {
		n = lbd_routes_count_foreign(&t->nl, families[f]);
		if (n > 0)
			snprintf(problem, len, "table %u holds others' routes", t->opt.table);
		else if (n < 0)
			snprintf(problem, len, "routes: %s", strerror(-n));
		if (n)
			return -1;
	}
	for (f = 0; f < FAMILY_COUNT; f++) {
		if (!has_family(vips, count, families[f]))
			continue;
		rule = our_rule(t, families[f]);
		n = lbd_rule_check(&t->nl, &rule);
		if (n == 2) {
			snprintf(problem, len, "%srule priority %u is taken",
				 family_word(families[f]), t->opt.priority);
			return -1;
		}
		if (n < 0 || (n == 0 && (err = lbd_rule_add(&t->nl, &rule)))) {
			snprintf(problem, len, "%srule: %s", family_word(families[f]),
				 strerror(n < 0 ? -n : -err));
			return -1;
		}
		if (n == 0)
			lbd_log(LBD_INFO, "health probes through the tunnel: %srule priority %u "
				"fwmark 0x%x/0x%x lookup %u added", family_word(families[f]),
				t->opt.priority, t->opt.mark, LB_PROBE_MARK_MASK, t->opt.table);
	}
	t->rule_added = true;
	return 0;
}

/* The routes to @vips, each once with the current program; others of ours go. */
static int route_vips(struct lbd_tunnel *t, int ifindex, const struct lbd_addr *vips,
		      size_t count, char *problem, size_t len)
{
	static struct lbd_route have[TUNNEL_ROUTES_MAX];
	char addr[LBD_ADDR_STRLEN];
	struct lbd_addr *now;
	size_t i;
	int n, err;

	n = list_routes(t, have);
	if (n < 0) {
		snprintf(problem, len, "routes: %s", strerror(-n));
		return -1;
	}
	for (i = 0; i < (size_t)n; i++) {
		if (!route_is_ours(&have[i], ifindex) ||
		    (have[i].oif == ifindex && has_addr(vips, count, &have[i].dst)))
			continue;
		err = lbd_routes_del(&t->nl, &have[i].dst);
		lbd_addr_text(&have[i].dst, addr, sizeof(addr));
		if (err)
			lbd_log(LBD_ERR, "Failed to remove the probe route %s/%u from table %u: %s",
				addr, lbd_addr_bits(&have[i].dst), t->opt.table, strerror(-err));
	}
	now = malloc(count * sizeof(*now));
	if (!now) {
		snprintf(problem, len, "routes: %s", strerror(ENOMEM));
		return -1;
	}
	for (i = 0; i < count; i++) {
		now[i] = vips[i];
		/* Routed with this program already, and still there on this device
		 * (an interface made anew lost it).
		 */
		if (has_addr(t->vips, t->vip_count, &vips[i]) &&
		    has_route(have, (size_t)n, &vips[i], ifindex))
			continue;
		err = lbd_routes_add_bpf(&t->nl, &vips[i], ifindex, t->prog.prog_fd,
					 t->route_name, LBD_PROBE_HEADROOM);
		if (err) {
			lbd_addr_text(&vips[i], addr, sizeof(addr));
			snprintf(problem, len, "route %s: %s", addr, strerror(-err));
			count = i; /* what is routed now */
			break;
		}
	}
	free(t->vips);
	t->vips = now;
	t->vip_count = count;
	return *problem ? -1 : 0;
}

void lbd_tunnel_sync(struct lbd_tunnel *t, struct lbd_source *src, const struct lb_config *cfg,
		     const struct lbd_addr *vips, size_t count)
{
	char problem[sizeof(t->problem)] = "";
	int ifindex, err;

	if (!count) {
		if (t->loaded || t->rule_added || t->vip_count)
			lbd_tunnel_remove(t, "no VIP is probed through the tunnel");
		set_problem(t, "");
		return;
	}
	ifindex = (int)if_nametoindex(t->ifname);
	err = ifindex ? open_netlink(t) : -ENODEV;
	if (err) {
		snprintf(problem, sizeof(problem), "rtnetlink: %s", strerror(-err));
		goto out;
	}
	if (claim_table(t, vips, count, problem, sizeof(problem)))
		goto out;
	err = load_program(t, src, cfg);
	if (err < 0) {
		snprintf(problem, sizeof(problem), "program: %s", strerror(-err));
		goto out;
	}
	if (err > 0) {
		free(t->vips);
		t->vips = NULL;
		t->vip_count = 0; /* every route takes the new program */
	}
	if (!route_vips(t, ifindex, vips, count, problem, sizeof(problem)) &&
	    has_family(vips, count, AF_INET))
		check_rp_filter(t);
out:
	set_problem(t, problem);
}

int lbd_tunnel_remove(struct lbd_tunnel *t, const char *why)
{
	static struct lbd_route have[TUNNEL_ROUTES_MAX];
	int ifindex = (int)if_nametoindex(t->ifname), n, i, err, removed = 0, left = 0, ret = 0;
	int rules_removed = 0;
	char addr[LBD_ADDR_STRLEN];
	struct lbd_rule rule;
	size_t f;

	free(t->vips);
	t->vips = NULL;
	t->vip_count = 0;
	err = open_netlink(t);
	if (err) {
		lbd_log(LBD_ERR, "Failed to remove the probe routes from table %u: %s", t->opt.table,
			strerror(-err));
		unload_program(t);
		return -1;
	}
	n = list_routes(t, have);
	for (i = 0; i < n; i++) {
		if (!route_is_ours(&have[i], ifindex)) {
			left++;
			continue;
		}
		err = lbd_routes_del(&t->nl, &have[i].dst);
		lbd_addr_text(&have[i].dst, addr, sizeof(addr));
		if (err) {
			lbd_log(LBD_ERR, "Failed to remove the probe route %s/%u from table %u: %s",
				addr, lbd_addr_bits(&have[i].dst), t->opt.table, strerror(-err));
			ret = -1;
			left++;
		} else {
			removed++;
		}
	}
	if (n < 0) {
		lbd_log(LBD_ERR, "Failed to list the probe routes of table %u: %s", t->opt.table,
			strerror(-n));
		ret = -1;
	}
	/* Another interface's daemon may route through the same table and rules. */
	for (f = 0; n >= 0 && !left && f < FAMILY_COUNT; f++) {
		rule = our_rule(t, families[f]);
		if (lbd_rule_check(&t->nl, &rule) != 1)
			continue;
		err = lbd_rule_del(&t->nl, &rule);
		if (err) {
			lbd_log(LBD_ERR, "Failed to remove the %srule priority %u: %s",
				family_word(families[f]), t->opt.priority, strerror(-err));
			ret = -1;
		} else {
			rules_removed++;
		}
	}
	if (removed || rules_removed)
		lbd_log(LBD_INFO, "health probes through the tunnel on %s: %d route%s of table "
			"%u%s removed (%s)", t->ifname, removed, removed == 1 ? "" : "s",
			t->opt.table, rules_removed == 2 ? " and the rules" :
			rules_removed ? " and the rule" : "", why);
	t->rule_added = false;
	unload_program(t);
	lbd_routes_close(&t->nl);
	t->nl_open = false;
	return ret;
}
