// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's health checks: targets, probes on one epoll set, the rise/fall
 * records and the state flips; see lbd_health.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>

#include "health.h"
#include "lbd_health.h"
#include "lbd_log.h"
#include "pins.h"
#include "pipeline.h"
#include "state.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Wall-clock seconds: what an operator compares "since" with. */
static uint64_t real_s(void)
{
	return (uint64_t)time(NULL);
}

/* The VIP's address, of its family. */
static struct lbd_addr vip_addr(const struct lb_vip_config *v)
{
	return v->ipv6 ? lbd_addr_v6(v->addr6) : lbd_addr_v4(v->addr);
}

/* The backend's own address, of its family (LB_BACKEND_F_IPV6). */
static struct lbd_addr backend_addr(const struct lb_backend *be)
{
	return be->flags & LB_BACKEND_F_IPV6 ? lbd_addr_v6(be->addr6) : lbd_addr_v4(be->addr);
}

static void target_name(struct lbd_health_target *t, const struct lb_vip_config *v)
{
	char be[LBD_ADDR_STRLEN], vip[LBD_ADDR_STRLEN];
	struct lbd_addr va = vip_addr(v);

	lbd_addr_text(&t->addr, be, sizeof(be));
	lbd_addr_text(&va, vip, sizeof(vip));
	if (v->port)
		snprintf(t->name, sizeof(t->name), "%s of VIP %s %s port %u", be, vip,
			 lb_proto_name(v->proto), v->port);
	else
		snprintf(t->name, sizeof(t->name), "%s of VIP %s %s", be, vip,
			 lb_proto_name(v->proto));
}

/* The config's entry of backend @be of @v, or NULL. */
static const struct lb_backend_config *config_backend(const struct lb_vip_config *v,
						      const struct lb_backend *be)
{
	struct lbd_addr want = backend_addr(be), have;
	size_t i;

	for (i = 0; i < v->backend_count; i++) {
		have = v->backends[i].ipv6 ? lbd_addr_v6(v->backends[i].addr6) :
					     lbd_addr_v4(v->backends[i].addr);
		if (lbd_addr_eq(&have, &want))
			return &v->backends[i];
	}
	return NULL;
}

/* The loaded entry of config VIP @v (vips or vips6, by its family), or NULL. */
static const struct lb_state_vip *loaded_vip(const struct lb_state *st,
					     const struct lb_vip_config *v)
{
	struct lb_vip6_key key6 = {
		.port = htons(v->port), .proto = v->proto, .gen = (__u8)st->gen,
	};
	struct lb_vip_key key = {
		.addr = v->addr, .port = htons(v->port), .proto = v->proto, .gen = (__u8)st->gen,
	};

	if (!v->ipv6)
		return lb_state_find(st, &key);
	memcpy(key6.addr, v->addr6, sizeof(key6.addr));
	return lb_state_find6(st, &key6);
}

/* The loaded backends of one config VIP with a health_check, appended to @list. */
static int add_vip_targets(struct lbd_health *h, const struct lb_state *st,
			   const struct lb_vip_config *v, bool gue,
			   struct lbd_health_target **list, size_t *count)
{
	const struct lb_state_vip *view = loaded_vip(st, v);
	struct lbd_health_target *t;
	struct lb_backend be;
	__u32 i, id;

	/* Not loaded (the file was edited after the last lb-load): nothing to probe. */
	if (!view)
		return 0;
	for (i = 0; i < view->pool.backend_count && i < LB_MAX_BACKENDS_PER_VIP; i++) {
		id = view->pool.backend_ids[i];
		if (bpf_map_lookup_elem(h->source->maps.fd[LB_MAP_BACKENDS], &id, &be) ||
		    be.vip_id != view->vip.vip_id || !config_backend(v, &be))
			continue;
		t = realloc(*list, (*count + 1) * sizeof(**list));
		if (!t)
			return -ENOMEM;
		*list = t;
		t = &(*list)[(*count)++];
		memset(t, 0, sizeof(*t));
		t->id = id;
		t->addr = backend_addr(&be);
		t->vip_id = be.vip_id;
		t->vip = vip_addr(v);
		t->via_tunnel = v->health.via == LB_HEALTH_VIA_TUNNEL &&
				v->forwarding != LB_FORWARD_NAT;
		t->gue = t->via_tunnel && gue;
		t->hc = v->health;
		target_name(t, v);
		lbd_probe_init(&t->probe);
	}
	return 0;
}

/* A VIP whose health_check was dropped (a reload, then SIGHUP) may still
 * have backends this daemon took down: they go back to the config's state,
 * since no probe will ever bring them up. A result that slipped in between
 * the reload and SIGHUP is undone here too.
 */
static void release_unchecked(struct lbd_health *h, const struct lb_state *st,
			      const struct lb_vip_config *v)
{
	const struct lb_state_vip *view = loaded_vip(st, v);
	const struct lb_backend_config *bc;
	struct lb_backend_health rec;
	char addr[LBD_ADDR_STRLEN];
	struct lbd_addr a;
	struct lb_backend be;
	__u32 i, id;
	int lock;

	for (i = 0; view && i < view->pool.backend_count && i < LB_MAX_BACKENDS_PER_VIP; i++) {
		id = view->pool.backend_ids[i];
		if (bpf_map_lookup_elem(h->source->maps.fd[LB_MAP_BACKENDS], &id, &be) ||
		    be.vip_id != view->vip.vip_id || be.state != LB_BACKEND_DOWN ||
		    lb_health_read(&h->source->maps, id, be.addr, be.vip_id, &rec) ||
		    !rec.marked_down)
			continue;
		bc = config_backend(v, &be);
		if (!bc || bc->state != LB_BACKEND_UP)
			continue;
		lock = lb_lock_interface_now(h->ifname);
		if (lock < 0)
			return; /* the next sync tries again */
		rec.marked_down = 0;
		be.state = LB_BACKEND_UP;
		a = backend_addr(&be);
		lbd_addr_text(&a, addr, sizeof(addr));
		if (lb_health_write(&h->source->maps, id, &rec) ||
		    bpf_map_update_elem(h->source->maps.fd[LB_MAP_BACKENDS], &id, &be, BPF_ANY))
			lbd_log(LBD_ERR, "Failed to set backend %s (id %u) UP again: %s", addr, id,
				strerror(errno));
		else
			lbd_log(LBD_INFO, "backend %s (id %u) is no longer health-checked (its VIP "
				"has no health_check): set UP as the config says", addr, id);
		close(lock);
	}
}

/* The same backend, probed the same way: its schedule and probe carry over. */
static struct lbd_health_target *find_old(struct lbd_health *h, const struct lbd_health_target *n)
{
	size_t i;

	for (i = 0; i < h->count; i++) {
		struct lbd_health_target *o = &h->targets[i];

		if (o->id == n->id && lbd_addr_eq(&o->addr, &n->addr) && o->vip_id == n->vip_id &&
		    lbd_addr_eq(&o->vip, &n->vip) && o->via_tunnel == n->via_tunnel &&
		    o->gue == n->gue && !memcmp(&o->hc, &n->hc, sizeof(o->hc)))
			return o;
	}
	return NULL;
}

/* Replaces the target list with @list; in-flight probes of kept targets go on. */
static void adopt(struct lbd_health *h, struct lbd_health_target *list, size_t count)
{
	uint64_t now = mono_ns();
	size_t i;

	for (i = 0; i < count; i++) {
		struct lbd_health_target *n = &list[i], *o = find_old(h, n);
		struct epoll_event ev;

		if (!o) {
			/* Spread the first probes over one interval. */
			n->next_ns = now + (uint64_t)n->hc.interval_ms * 1000000ULL * i / count;
			continue;
		}
		n->next_ns = o->next_ns;
		n->probe = o->probe;
		o->probe.fd = -1;
		if (n->probe.fd >= 0) {
			ev = (struct epoll_event){ .events = lbd_probe_events(&n->probe),
						   .data.u64 = i };
			epoll_ctl(h->epoll_fd, EPOLL_CTL_MOD, n->probe.fd, &ev);
		}
	}
	for (i = 0; i < h->count; i++) {
		if (h->targets[i].probe.fd >= 0) {
			lbd_probe_cancel(&h->targets[i].probe);
			h->in_flight--;
		}
	}
	free(h->targets);
	h->targets = list;
	h->count = count;
}

/* The VIP addresses of the targets probed through the tunnel, each once. */
static size_t tunnel_vips(const struct lbd_health_target *list, size_t count,
			  struct lbd_addr *out)
{
	size_t i, j, n = 0;

	for (i = 0; i < count; i++) {
		if (!list[i].via_tunnel)
			continue;
		for (j = 0; j < n && !lbd_addr_eq(&out[j], &list[i].vip); j++)
			;
		if (j == n)
			out[n++] = list[i].vip;
	}
	return n;
}

/* Whether the encap slot holds the GUE stage now: probes follow `lbctl encap`. */
static bool encap_is_gue(const struct lbd_source *src)
{
	const struct lb_stage_def *def = lb_slot_stage(&src->maps, src->pin_dir, LB_SLOT_ENCAP);

	return def && !strcmp(def->name, "gue");
}

void lbd_health_sync(struct lbd_health *h)
{
	static struct lb_state st; /* large; one sync at a time */
	static struct lbd_addr vip_addrs[LB_MAX_VIPS];
	const struct lb_config *cfg = *h->config;
	struct lbd_health_target *list = NULL;
	size_t count = 0, i, vips = 0;
	size_t before = h->count;
	bool gue;

	if (cfg && lbd_source_refresh(h->source) && !lb_state_read(&h->source->maps, &st)) {
		gue = encap_is_gue(h->source);
		for (i = 0; i < cfg->vip_count; i++) {
			if (cfg->vips[i].health.type == LB_HEALTH_NONE) {
				release_unchecked(h, &st, &cfg->vips[i]);
				continue;
			}
			vips++;
			if (add_vip_targets(h, &st, &cfg->vips[i], gue, &list, &count)) {
				lbd_log(LBD_ERR, "Failed to list the backends to probe: %s",
					strerror(ENOMEM));
				free(list);
				return;
			}
		}
	}
	adopt(h, list, count);
	h->need_sync = false;
	/* Before the first probe of a new target: its route must be there. */
	lbd_tunnel_sync(&h->tunnel, h->source, cfg, vip_addrs,
			cfg ? tunnel_vips(h->targets, h->count, vip_addrs) : 0);
	if (count && (count != before || h->told_none))
		lbd_log(LBD_INFO, "health checks: probing %zu backend%s of %zu VIP%s", count,
			count == 1 ? "" : "s", vips, vips == 1 ? "" : "s");
	if (!count && !h->told_none)
		lbd_log(LBD_INFO, "health checks: no backend to probe (%s)",
			!cfg ? "no --config" : !h->source->open ? "nothing loaded" :
			vips ? "no VIP with a health_check is loaded" : "no VIP has a health_check");
	h->told_none = !count;
}

/* --- one result ------------------------------------------------------------------- */

/* The backend's entry flips to @state: one update of the whole entry, the
 * same but for that byte, so a packet sees the old state or the new one.
 */
static int set_state(struct lbd_health *h, const struct lbd_health_target *t,
		     struct lb_backend *be, __u8 state)
{
	be->state = state;
	return bpf_map_update_elem(h->source->maps.fd[LB_MAP_BACKENDS], &t->id, be, BPF_ANY) ?
		       -errno : 0;
}

/* What the record and the entry say now: flip the entry when the daemon may. */
static void apply_result(struct lbd_health *h, struct lbd_health_target *t,
			 struct lb_backend_health *rec, struct lb_backend *be, bool changed,
			 const char *why)
{
	const struct lb_maps *maps = &h->source->maps;
	const char *verb = NULL;
	__u8 want = 0;
	int err = 0;

	if (rec->health == LB_HEALTH_IS_DOWN && be->state == LB_BACKEND_UP) {
		/* The record first: a reload between the two writes keeps it down. */
		rec->marked_down = 1;
		want = LB_BACKEND_DOWN;
		verb = "set DOWN";
	} else if (rec->health == LB_HEALTH_IS_UP && be->state == LB_BACKEND_DOWN &&
		   rec->marked_down) {
		rec->marked_down = 0;
		want = LB_BACKEND_UP;
		verb = "set UP";
	} else if (rec->marked_down && be->state != LB_BACKEND_DOWN) {
		rec->marked_down = 0; /* the config took it over */
	}
	err = lb_health_write(maps, t->id, rec);
	if (!err && want)
		err = set_state(h, t, be, want);
	if (err) {
		lbd_log(LBD_ERR, "Failed to record the health of backend %s: %s", t->name,
			strerror(-err));
		return;
	}
	if (want == LB_BACKEND_DOWN && changed)
		lbd_log(LBD_WARN, "backend %s is down: %s (%u failed probes in a row); %s: no new "
			"flows, its flows move on their next packet", t->name, why, rec->streak,
			verb);
	else if (want == LB_BACKEND_DOWN)
		lbd_log(LBD_WARN, "backend %s was UP in the map but its probes say down (a "
			"reload?): %s again", t->name, verb);
	else if (want == LB_BACKEND_UP)
		lbd_log(LBD_INFO, "backend %s is up again: %s (%u good probes in a row); %s",
			t->name, why, rec->streak, verb);
	else if (changed)
		lbd_log(LBD_INFO, "backend %s is %s by its probes: %s; left %s as the loaded "
			"config says", t->name, lb_health_name(rec->health), why,
			lb_state_name(be->state));
	else if (!rec->last_ok && rec->health == LB_HEALTH_IS_UP)
		lbd_log(LBD_DEBUG, "probe of backend %s failed (%u of fall %u): %s", t->name,
			rec->streak, t->hc.fall, why);
	else if (rec->last_ok && rec->health == LB_HEALTH_IS_DOWN)
		lbd_log(LBD_DEBUG, "probe of backend %s succeeded (%u of rise %u): %s", t->name,
			rec->streak, t->hc.rise, why);
}

static void on_result(struct lbd_health *h, struct lbd_health_target *t,
		      const struct lbd_probe_result *res)
{
	struct lb_backend_health rec;
	struct lbd_addr now;
	struct lb_backend be;
	int lock, err;
	bool changed;

	/* Unloaded meanwhile: no result to record, and no lock file to leave. */
	if (!lbd_source_refresh(h->source))
		return;
	/* lb-load or lbctl is writing: this result is not counted, the next one is. */
	lock = lb_lock_interface_now(h->ifname);
	if (lock < 0) {
		lbd_log(LBD_DEBUG, "probe of backend %s not counted: the interface is locked "
			"(%s)", t->name, strerror(-lock));
		return;
	}
	if (bpf_map_lookup_elem(h->source->maps.fd[LB_MAP_BACKENDS], &t->id, &be) ||
	    be.state == LB_BACKEND_EMPTY || be.vip_id != t->vip_id ||
	    (now = backend_addr(&be), !lbd_addr_eq(&now, &t->addr))) {
		/* A reload gave the slot to another backend: list them again
		 * once this round of results is done.
		 */
		close(lock);
		h->need_sync = true;
		return;
	}
	/* The record names its backend as lbctl and lb-load do: be.addr. */
	err = lb_health_read(&h->source->maps, t->id, be.addr, t->vip_id, &rec);
	if (err) {
		close(lock);
		lbd_log(LBD_ERR, "Failed to read the health of backend %s: %s", t->name,
			strerror(-err));
		return;
	}
	changed = lb_health_step(&rec, res->ok, t->hc.rise, t->hc.fall, real_s());
	/* Said with every result: a probe through the tunnel tests more than
	 * the backend's own address.
	 */
	if (snprintf(rec.last_result, sizeof(rec.last_result), "%s%s",
		     !t->via_tunnel ? "" : t->probe_direct ? "direct, no tunnel: " : "via tunnel: ",
		     res->text) >= (int)sizeof(rec.last_result))
		lbd_log(LBD_DEBUG, "probe result of backend %s cut to %zu bytes: %s", t->name,
			sizeof(rec.last_result) - 1, res->text);
	apply_result(h, t, &rec, &be, changed, rec.last_result);
	close(lock);
}

/* --- the loop's callbacks ------------------------------------------------------------ */

static void start_probe(struct lbd_health *h, size_t i, uint64_t now)
{
	struct lbd_health_target *t = &h->targets[i];
	struct lbd_addr to;
	bool tunnel;
	uint64_t period = (uint64_t)t->hc.interval_ms * 1000000ULL;
	struct lbd_probe_result res;
	struct epoll_event ev;
	int ret;

	t->next_ns += period;
	if (t->next_ns <= now)
		t->next_ns = now + period;
	/* A tunnel that cannot be set up (its problem is logged) is not the
	 * backend's fault: rather than fail every backend, and so the VIP,
	 * it is probed directly meanwhile, which its result says.
	 */
	t->probe_direct = t->via_tunnel && *h->tunnel.problem;
	tunnel = t->via_tunnel && !t->probe_direct;
	to = tunnel ? t->vip : t->addr;
	ret = lbd_probe_start(&t->probe, &t->hc, &to,
			      tunnel ? lbd_tunnel_mark(&h->tunnel, t->id, t->gue) : 0, now, &res);
	if (ret < 0) {
		/* Out of sockets is ours, not the backend's: nothing counted. */
		lbd_log(LBD_WARN, "Failed to start a probe of backend %s: %s", t->name,
			strerror(-ret));
		return;
	}
	if (ret == 1) {
		on_result(h, t, &res);
		return;
	}
	ev = (struct epoll_event){ .events = lbd_probe_events(&t->probe), .data.u64 = i };
	if (epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, t->probe.fd, &ev)) {
		lbd_log(LBD_WARN, "Failed to wait for a probe of backend %s: %s", t->name,
			strerror(errno));
		lbd_probe_cancel(&t->probe);
		return;
	}
	h->in_flight++;
}

static void finish_probe(struct lbd_health *h, struct lbd_health_target *t,
			 const struct lbd_probe_result *res)
{
	h->in_flight--;
	on_result(h, t, res);
}

static void events_ready(struct lbd_health *h)
{
	struct epoll_event evs[64];
	struct lbd_probe_result res;
	int n, k;

	n = epoll_wait(h->epoll_fd, evs, 64, 0);
	for (k = 0; k < n; k++) {
		size_t i = (size_t)evs[k].data.u64;
		struct lbd_health_target *t;
		struct epoll_event ev;
		int fd;

		/* A sync in an earlier result of this batch may have renumbered. */
		if (i >= h->count || h->targets[i].probe.fd < 0)
			continue;
		t = &h->targets[i];
		fd = t->probe.fd;
		if (lbd_probe_ready(&t->probe, &t->hc, evs[k].events, &res)) {
			finish_probe(h, t, &res);
			continue;
		}
		ev = (struct epoll_event){ .events = lbd_probe_events(&t->probe), .data.u64 = i };
		epoll_ctl(h->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
	}
}

static void health_ready(void *arg, short revents)
{
	struct lbd_health *h = arg;
	struct lbd_probe_result res;
	uint64_t now;
	size_t i;

	(void)revents;
	events_ready(h);
	now = mono_ns();
	for (i = 0; i < h->count; i++) {
		struct lbd_health_target *t = &h->targets[i];

		if (t->probe.fd >= 0 && now >= t->probe.deadline_ns) {
			lbd_probe_expire(&t->probe, &t->hc, &res);
			finish_probe(h, t, &res);
		} else if (t->probe.fd < 0 && now >= t->next_ns &&
			   h->in_flight < LBD_HEALTH_MAX_IN_FLIGHT) {
			start_probe(h, i, now);
		}
	}
	if (h->need_sync)
		lbd_health_sync(h);
}

/* Milliseconds to the next probe start or deadline, rounded up. */
static int health_deadline(void *arg)
{
	struct lbd_health *h = arg;
	uint64_t now = mono_ns(), next = UINT64_MAX, t;
	size_t i;

	/* With every probe slot taken, a due start waits for a slot: only the
	 * probes' deadlines (and their sockets) wake the loop, or it would spin.
	 */
	bool full = h->in_flight >= LBD_HEALTH_MAX_IN_FLIGHT;

	for (i = 0; i < h->count; i++) {
		if (h->targets[i].probe.fd >= 0)
			t = h->targets[i].probe.deadline_ns;
		else if (!full)
			t = h->targets[i].next_ns;
		else
			continue;
		if (t < next)
			next = t;
	}
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return (int)((next - now + 999999ULL) / 1000000ULL);
}

static void health_tick(void *arg, uint64_t expirations)
{
	(void)expirations;
	lbd_health_sync(arg);
}

static void health_hup(void *arg)
{
	lbd_health_sync(arg);
}

int lbd_health_start(struct lbd_health *h, struct lbd_loop *loop, struct lbd_source *source,
		     const char *ifname, const struct lb_config *const *config, uint64_t sync_ns,
		     const struct lbd_tunnel_options *tunnel)
{
	int err;

	memset(h, 0, sizeof(*h));
	lbd_tunnel_init(&h->tunnel, ifname, tunnel);
	h->source = source;
	h->ifname = ifname;
	h->config = config;
	h->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epoll_fd < 0)
		return -errno;
	err = lbd_loop_add_fd(loop, h->epoll_fd, POLLIN, health_ready, health_deadline, h);
	if (!err)
		err = lbd_loop_add_timer(loop, sync_ns, health_tick, h);
	if (!err)
		err = lbd_loop_on_hup(loop, health_hup, h);
	if (err)
		return err;
	lbd_health_sync(h);
	return 0;
}

void lbd_health_stop(struct lbd_health *h)
{
	adopt(h, NULL, 0);
	if (h->tunnel.ifname)
		lbd_tunnel_remove(&h->tunnel, "xdp-lbd stops");
	if (h->epoll_fd > 0)
		close(h->epoll_fd);
	h->epoll_fd = -1;
}
