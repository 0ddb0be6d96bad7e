// SPDX-License-Identifier: GPL-2.0
/* lb-load: load xdp-lb on an interface, reload its config in place, or unload it.
 *
 *   lb-load [--mode native|skb] [-v] CONFIG IFNAME   load, or reload when loaded
 *   lb-load --unload [-v] IFNAME                     detach ours, remove our pins
 *   lb-load --check CONFIG                           validate CONFIG only: no root,
 *                                                    no interface, nothing loaded
 *
 * Nothing is left half-done: each step that changes the kernel's state is
 * undone, in reverse order, when a later step fails.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "apply.h"
#include "caps.h"
#include "cli.h"
#include "config.h"
#include "health.h"
#include "host.h"
#include "log.h"
#include "map_sizes.h"
#include "maps.h"
#include "pins.h"
#include "pipeline.h"
#include "stages.h"
#include "state.h"
#include "stats.h"
#include "version.h"

struct options {
	const char *config_path;
	const char *ifname;
	enum xdp_attach_mode mode;
	bool unload;
	bool check;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: lb-load [options] CONFIG IFNAME   load xdp-lb on IFNAME, or apply CONFIG\n"
		"                                          in place when it is already loaded\n"
		"       lb-load --unload [-v] IFNAME      detach xdp-lb from IFNAME, remove its state\n"
		"       lb-load --check CONFIG            validate CONFIG: no root, no interface,\n"
		"                                          nothing loaded; 0 if it would load\n"
		"\n"
		"Options:\n"
		"  -m, --mode native|skb  XDP mode (default native; skb = generic XDP)\n"
		"  -u, --unload           unload instead of load\n"
		"      --check            check CONFIG as a load would, say so, load nothing\n"
		"  -v, --verbose          show libbpf/libxdp messages and the verifier log\n"
		"  -h, --help             this text\n"
		"      --version          the version of xdp-lb this lb-load was built from\n"
		"\n"
		"State is pinned under " LB_PIN_ROOT "/IFNAME (IFNAME@NETNS inside a network\n"
		"namespace). lb-load mounts bpffs if needed, turns IPv4 forwarding on for IFNAME\n"
		"(and accept_local when a configured source is this host's), and --unload puts\n"
		"them back. See docs/operations.md.\n");
}

/* "10.0.0.100:80/tcp", "[2001:db8::100]:80/tcp" (port * for every port): lbctl's labels. */
static const char *vip_config_label(const struct lb_vip_config *v, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN], port[8] = "*";

	lb_vip_config_addr(v, addr, sizeof(addr));
	if (v->port)
		snprintf(port, sizeof(port), "%u", v->port);
	snprintf(buf, len, v->ipv6 ? "[%s]:%s/%s" : "%s:%s/%s", addr, port,
		 lb_proto_name(v->proto));
	return buf;
}

/* A VIP whose backends are all drain or down drops every new flow: loaded as
 * asked, but worth a word (lbctl status says it too, exit code 5).
 */
static void warn_no_up_backend(const struct lb_vip_config *v)
{
	char label[LB_VIP_LABEL_LEN];
	size_t j, drain = 0;

	for (j = 0; j < v->backend_count; j++) {
		if (v->backends[j].state == LB_BACKEND_UP)
			return;
		drain += v->backends[j].state == LB_BACKEND_DRAIN;
	}
	lb_warn("VIP %s has no up backend (%zu drain, %zu down): its new flows are dropped",
		vip_config_label(v, label, sizeof(label)), drain, v->backend_count - drain);
}

/* The command line, checked whole before anything else: cli.c (lb_load_parse_args). */
static int parse_args(int argc, char **argv, struct options *opt, bool *verbose)
{
	char err[LB_CLI_ERR_LEN];
	struct lb_load_args args;

	if (lb_load_parse_args(argc, argv, &args, err, sizeof(err))) {
		lb_err("%s", err);
		return 2;
	}
	if (args.help) {
		usage(stdout);
		exit(0);
	}
	if (args.version) {
		lb_version_print("lb-load");
		exit(0);
	}
	opt->config_path = args.config_path;
	opt->ifname = args.ifname;
	opt->mode = args.skb_mode ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	opt->unload = args.unload;
	opt->check = args.check;
	*verbose = args.verbose;
	return 0;
}

/* --check: the one line that says the config would load, and what it holds. */
static void print_check_summary(const struct lb_config *cfg)
{
	size_t i, j, backends = 0, by_state[LB_BACKEND_DOWN + 1] = { 0 }, nat = 0;

	for (i = 0; i < cfg->vip_count; i++) {
		nat += cfg->vips[i].forwarding == LB_FORWARD_NAT;
		for (j = 0; j < cfg->vips[i].backend_count; j++) {
			backends++;
			if (cfg->vips[i].backends[j].state <= LB_BACKEND_DOWN)
				by_state[cfg->vips[i].backends[j].state]++;
		}
	}
	printf("%s: OK: %zu VIP%s (%zu nat), %zu backend%s (%zu up, %zu drain, %zu down), "
	       "encap %s, flow table %u entries; nothing loaded\n",
	       cfg->path, cfg->vip_count, cfg->vip_count == 1 ? "" : "s", nat, backends,
	       backends == 1 ? "" : "s", by_state[LB_BACKEND_UP], by_state[LB_BACKEND_DRAIN],
	       by_state[LB_BACKEND_DOWN], lb_encap_name(cfg->encap), cfg->flow_table_size);
}

static const char *mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? "skb" : mode == XDP_MODE_HW ? "hw" : "native";
}

static void print_summary(const struct options *opt, int ifindex, const struct lb_config *cfg,
			  const struct lb_maps *maps, bool reload, bool legacy, const char *why,
			  const struct lb_apply_result *res, const char *pin_dir)
{
	char addr[INET6_ADDRSTRLEN], label[LB_VIP_LABEL_LEN];
	struct lb_attachment att;
	size_t i, j;
	__u32 slot;

	lb_attachment_query(ifindex, &att);
	printf("xdp-lb %s on %s (ifindex %d), %s mode, %s\n", reload ? "reloaded" : "loaded",
	       opt->ifname, ifindex, mode_name(att.mode),
	       legacy ? "single-program (legacy) mode" : "libxdp dispatcher");
	if (legacy)
		printf("  legacy because %s;\n"
		       "  no other XDP program can share %s while xdp-lb is loaded\n",
		       why, opt->ifname);
	/* A single program has no run order: libxdp reports its default. */
	if (legacy)
		printf("  stages: parse %s id %u (priority applies in the dispatcher only)",
		       LB_PARSE_PROG_NAME, att.parse_id);
	else
		printf("  stages: parse %s id %u priority %d", LB_PARSE_PROG_NAME, att.parse_id,
		       att.parse_prio);
	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		const struct lb_stage_def *def = lb_slot_stage(maps, pin_dir, slot);

		printf(" | %s %s id %u", lb_slot_name(slot), def ? def->name : "?",
		       lb_slot_prog_id(maps, slot));
	}
	printf("\n  swappable at runtime (lbctl swap %s SLOT STAGE):", opt->ifname);
	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		char names[128];

		lb_stage_names(slot, names, sizeof(names));
		printf(" %s: %s%s", lb_slot_name(slot), names, slot + 1 < LB_SLOT_COUNT ? ";" : "");
	}
	printf("\n");
	for (i = 0; i < cfg->vip_count; i++) {
		const struct lb_vip_config *v = &cfg->vips[i];

		printf("  VIP %s -> %zu backends:", vip_config_label(v, label, sizeof(label)),
		       v->backend_count);
		for (j = 0; j < v->backend_count; j++) {
			const struct lb_backend_config *b = &v->backends[j];

			lb_backend_config_addr(b, addr, sizeof(addr));
			printf(" %s", addr);
			if (b->state != LB_BACKEND_UP)
				printf("(%s)", lb_state_name(b->state));
			if (b->weight != 1)
				printf("(weight %u)", b->weight);
		}
		printf("; policy %s; %s%s\n", lb_policy_name(v->policy),
		       v->forwarding == LB_FORWARD_NAT ? "forwarding nat" : lb_encap_name(cfg->encap),
		       v->icmp_echo ? "" : "; no echo replies (icmp_echo false)");
		warn_no_up_backend(v);
	}
	if (cfg->outer_src)
		inet_ntop(AF_INET, &cfg->outer_src, addr, sizeof(addr));
	printf("  outer source %s, GUE port %u, flow table %u entries, UDP flow timeout %u s\n",
	       cfg->outer_src ? addr : "the client's address", cfg->gue_port,
	       cfg->flow_table_size, cfg->flow_timeout_s);
	/* The IPv6 flow table exists for IPv6 VIPs only; an IPv4 VIP's flows to
	 * IPv6 backends are IPv4 flows.
	 */
	if (lb_config_tunnels_ipv6(cfg)) {
		printf("  IPv6 outer source %s",
		       inet_ntop(AF_INET6, cfg->outer_src6, addr, sizeof(addr)) &&
				       memcmp(cfg->outer_src6, (const __u8[16]){ 0 }, 16) ?
			       addr : "the client's address");
		if (lb_config_has_ipv6(cfg))
			printf(", IPv6 flow table %u entries", lb_map_max_entries(maps, LB_MAP_FLOWS6));
		printf("\n");
	}
	if (reload)
		printf("  changes: VIPs +%zu -%zu (%zu kept), backends +%zu -%zu (%zu kept); "
		       "established flows kept\n",
		       res->vips_added, res->vips_removed, res->vips_kept, res->backends_added,
		       res->backends_removed, res->backends_kept);
	printf("  state pinned under %s\n", pin_dir);
}

/* The pinned state must fit the new config where it cannot change in place. */
static int check_reload_compatible(const struct lb_maps *maps, const struct lb_config *cfg,
				   const struct lb_attachment *att, const struct options *opt)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(maps->fd[LB_MAP_FLOWS], &info, &len))
		return -errno;
	if (info.max_entries != cfg->flow_table_size) {
		lb_err("flow_table_size cannot change in place (%u -> %u): that would drop every "
		       "established flow. Unload first: lb-load --unload %s",
		       info.max_entries, cfg->flow_table_size, opt->ifname);
		return -EINVAL;
	}
	/* Only the dispatcher orders programs: a single program's "priority"
	 * is libxdp's default, not the config's, and changing it changes nothing.
	 */
	if (att->found && !att->legacy && att->parse_prio != (int)cfg->priority) {
		lb_err("priority cannot change in place (%d -> %u): the program must be attached "
		       "again. Unload first: lb-load --unload %s",
		       att->parse_prio, cfg->priority, opt->ifname);
		return -EINVAL;
	}
	if (att->found && att->mode != opt->mode) {
		lb_err("%s is attached in %s mode, not %s: unload first: lb-load --unload %s",
		       opt->ifname, mode_name(att->mode), mode_name(opt->mode), opt->ifname);
		return -EINVAL;
	}
	return 0;
}

/* Maps lb-load sized for the previous config, which only the loader writes,
 * and grows by a copy when a reload needs more (docs/architecture.md, "Maps
 * sized by the config").
 */
static const enum lb_map copied_maps[] = { LB_MAP_MAGLEV_TABLES, LB_MAP_POOLS,
					   LB_MAP_POOL_WEIGHTS };

/* Grows the copied maps as @cfg needs while the live VIPs keep their tables
 * and pools until the switch: @old_fd[map] gets the fd of each replaced one.
 */
static int copied_maps_fit(struct lb_maps *maps, const struct lb_config *cfg, int *old_fd)
{
	static struct lb_state state;
	__u32 want[] = { 0, 0, 0 };
	int err = lb_state_read(maps, &state);
	size_t i;

	if (!err) {
		want[0] = lb_maglev_tables_wanted(cfg, lb_maglev_tables_live(&state));
		want[1] = want[2] = lb_pools_wanted(cfg, &state);
	}
	for (i = 0; !err && i < sizeof(copied_maps) / sizeof(copied_maps[0]); i++) {
		enum lb_map map = copied_maps[i];

		err = lb_map_grow_copy(maps, map, want[i], &old_fd[map]);
		if (err > 0) {
			lb_debug("map %s grown to %u entries", lb_map_names[map], want[i]);
			err = 0;
		}
	}
	if (err)
		lb_err("Failed to make room for the VIPs of %s: %s", cfg->path, strerror(-err));
	return err;
}

/* A reload that adds the first NAT VIP needs the NAT state maps lb-load made
 * with one entry for a config without one (docs/architecture.md, "Maps sized
 * by the config"): new, full-size ones replace them, which only an empty map
 * allows.
 */
static int nat_maps_fit(struct lb_maps *maps, const struct lb_config *cfg, int *old_fd,
			const struct options *opt)
{
	int fd[LB_NAT_MAPS], err = lb_nat_maps_grow(maps, cfg, fd);
	size_t i;

	for (i = 0; i < LB_NAT_MAPS; i++)
		old_fd[lb_nat_maps[i]] = fd[i];

	if (err == -EBUSY)
		lb_err("the NAT state maps of %s are too small for a NAT VIP and already hold "
		       "NAT state, which replacing them would lose. Unload first: lb-load "
		       "--unload %s",
		       opt->ifname, opt->ifname);
	else if (err < 0)
		lb_err("Failed to make room for the NAT state of %s: %s", cfg->path,
		       strerror(-err));
	return err < 0 ? err : 0;
}

/* A reload that adds the first IPv6 VIP needs a full-size flows6 (one entry
 * without an IPv6 VIP): a new one replaces the empty one. The new lb stages
 * read it; it is pinned after they are in their slots.
 */
static int flows6_fit(struct lb_maps *maps, const struct lb_config *cfg, int *old_fd,
		      const struct options *opt)
{
	int err = lb_flows6_grow(maps, lb_flows6_entries_wanted(cfg), &old_fd[LB_MAP_FLOWS6]);

	if (err == -EBUSY)
		lb_err("the IPv6 flow table of %s is too small and already holds flows, which "
		       "replacing it would lose. Unload first: lb-load --unload %s",
		       opt->ifname, opt->ifname);
	else if (err < 0)
		lb_err("Failed to make room for the IPv6 flows of %s: %s", cfg->path,
		       strerror(-err));
	return err < 0 ? err : 0;
}

/* The new NAT state maps go live: the stages already use them; parse, which
 * reads nat_reply, is loaded again with them (lb_parse_replace()) unless this
 * run attached it; then they are pinned. From then on they are the state:
 * kept even if the reload fails later (the old ones held nothing).
 */
static int nat_maps_switch(int ifindex, const struct options *opt, const struct lb_config *cfg,
			   const struct lb_maps *maps, const struct lb_attachment *att,
			   bool attached_now, const char *pin_dir)
{
	int err = 0, i;

	if (!attached_now) {
		err = lb_parse_replace(ifindex, opt->mode, cfg, maps, att);
		if (err) {
			lb_err("Failed to replace %s on %s with one using the new NAT state maps: "
			       "%s (run with -v for details)",
			       LB_PARSE_PROG_NAME, opt->ifname, strerror(-err));
			return err;
		}
	}
	for (i = 0; i < LB_NAT_MAPS && !err; i++) {
		err = lb_map_repin(maps->fd[lb_nat_maps[i]], lb_nat_maps[i], pin_dir);
		if (err)
			lb_err("Failed to pin the new map %s under %s: %s",
			       lb_map_names[lb_nat_maps[i]], pin_dir, strerror(-err));
	}
	return err;
}

/* A first load pins maps and stages in a staging directory and renames it into
 * place: a load killed while pinning leaves no half state that a later
 * lb-load would refuse, only a staging directory it clears.
 */
static int pin_first_load(const struct lb_maps *maps, const struct lb_stages *stages,
			  const char *pin_dir)
{
	char staging[LB_PIN_DIR_MAX + 8];
	int err;

	lb_pin_staging_dir(pin_dir, staging, sizeof(staging));
	lb_pins_remove(staging); /* a staging directory left by a killed load */
	err = lb_pin_dir_create(staging);
	if (!err)
		err = lb_maps_pin(maps, staging);
	if (!err)
		err = lb_stages_pin(stages, staging);
	if (!err && rename(staging, pin_dir))
		err = -errno;
	if (err) {
		lb_pins_remove(staging);
		lb_err("Failed to pin the state under %s: %s", pin_dir, strerror(-err));
	}
	return err;
}

/* @why: why lb-load fell back to single-program mode, "" if it did not. */
static void attach_error(int err, const struct options *opt, const struct lb_attachment *att,
			 const char *why)
{
	if (why[0] && (err == -EBUSY || err == -EEXIST))
		lb_err("Failed to attach %s to %s: it can only run as a single program here "
		       "(%s), and %s is attached through libxdp's dispatcher: unload the other "
		       "XDP programs first (xdp-loader unload %s --all)",
		       LB_PARSE_PROG_NAME, opt->ifname, why,
		       att->first_other[0] ? att->first_other : "another XDP program",
		       opt->ifname);
	else if (why[0])
		lb_err("Failed to attach %s to %s as a single program (%s): %s (run with -v for "
		       "details)",
		       LB_PARSE_PROG_NAME, opt->ifname, why, strerror(-err));
	else if (err == -EBUSY || err == -EEXIST)
		lb_err("Failed to attach %s to %s: another XDP program%s%s is attached without the "
		       "libxdp dispatcher; unload it first (xdp-loader unload %s --all, or "
		       "ip link set dev %s xdp off)",
		       LB_PARSE_PROG_NAME, opt->ifname, att->first_other[0] ? ", " : "",
		       att->first_other, opt->ifname, opt->ifname);
	else if (err == -EOPNOTSUPP)
		lb_err("Failed to attach %s to %s: %s mode is not supported by this device (try "
		       "--mode skb)",
		       LB_PARSE_PROG_NAME, opt->ifname, mode_name(opt->mode));
	else
		lb_err("Failed to attach %s to %s: %s (run with -v for details)",
		       LB_PARSE_PROG_NAME, opt->ifname, strerror(-err));
}

static int do_load(const struct options *opt, const struct lb_config *cfg, int ifindex)
{
	struct lb_tunables tunables = {
		.flow_timeout_ns = (__u64)cfg->flow_timeout_s * 1000000000ULL,
		.nexthop_cache_ns = LB_NEXTHOP_CACHE_NS,
		.outer_src_addr = cfg->outer_src,
		.gue_port = htons(cfg->gue_port),
		.nat_src_addr = cfg->nat_src,
		.icmp_burst = cfg->icmp_burst,
		/* icmp_rate 0: no ICMP error is sent at all. */
		.icmp_interval_ns = cfg->icmp_rate ? 1000000000ULL / cfg->icmp_rate : 0,
	};
	const struct lb_stage_def *selected[LB_SLOT_COUNT] = {
		[LB_SLOT_LB] = lb_stage_find(LB_SLOT_LB, "least-loaded"),
		[LB_SLOT_ENCAP] = lb_stage_find(LB_SLOT_ENCAP, lb_encap_name(cfg->encap)),
	};
	struct lb_apply_result res = { 0 };
	static struct lb_stages stages;
	struct lb_slot_backup backup;
	struct lb_attachment att;
	struct lb_maps maps;
	char pin_dir[LB_PIN_DIR_MAX], why[512] = "", msg[LB_CONFIG_ERR_LEN];
	const char *missing;
	bool loaded, attached_now = false, legacy, installed = false, pinned_now = false;
	bool have_previous = false, host_prepared = false, repinned[LB_MAP_COUNT] = { false };
	int old_fd[LB_MAP_COUNT];
	size_t m;
	struct lb_host_state previous;
	struct lb_host_plan host;
	int err;

	memcpy(tunables.outer_src_addr6, cfg->outer_src6, sizeof(tunables.outer_src_addr6));
	memcpy(tunables.nat_src_addr6, cfg->nat_src6, sizeof(tunables.nat_src_addr6));
	/* Nothing backed up yet: a failure before the backup releases nothing. */
	memset(&backup, -1, sizeof(backup));
	for (m = 0; m < LB_MAP_COUNT; m++)
		old_fd[m] = -1;
	lb_pin_dir(opt->ifname, pin_dir, sizeof(pin_dir));
	lb_maps_init(&maps);
	err = lb_maps_open_pinned(pin_dir, &maps, &missing);
	if (err && err != -ENOENT) {
		lb_err("Failed to open the state under %s (map %s: %s): unload first: lb-load "
		       "--unload %s",
		       pin_dir, missing ? missing : "?", strerror(-err), opt->ifname);
		return 1;
	}
	loaded = !err;
	err = lb_attachment_query(ifindex, &att);
	if (err) {
		lb_err("Failed to query XDP programs on %s: %s", opt->ifname, strerror(-err));
		goto out;
	}
	if (loaded) {
		err = check_reload_compatible(&maps, cfg, &att, opt);
		if (err)
			goto out;
	} else if (att.found) {
		/* Attached but no pins: an lb-load that was killed half-way. */
		lb_warn("found %s (id %u) on %s without its state (an interrupted load?); "
			"replacing it",
			LB_PARSE_PROG_NAME, att.parse_id, opt->ifname);
		err = lb_parse_detach(ifindex);
		if (err) {
			lb_err("Failed to detach the stale %s from %s: %s", LB_PARSE_PROG_NAME,
			       opt->ifname, strerror(-err));
			goto out;
		}
		att.found = false;
	}

	/* Host settings first: a load the host would then drop is no load. */
	have_previous = loaded && !lb_host_state_read(&maps, &previous);
	err = lb_host_prepare(opt->ifname, ifindex, opt->mode == XDP_MODE_NATIVE, cfg,
			      have_previous ? &previous : NULL, &host, msg, sizeof(msg));
	if (err) {
		lb_err("%s", msg);
		goto out;
	}
	host_prepared = true;
	tunables.ingress_tx_via_stack = !!(host.state.flags & LB_HOST_F_TX_VIA_STACK);
	/* The limit of backends with a static MAC, which skip the FIB; 0 (no
	 * check) only if the kernel will not say.
	 */
	if (lb_if_mtu_read(ifindex, &tunables.ingress_mtu))
		tunables.ingress_mtu = 0;

	if (!att.found) {
		err = lb_parse_attach(ifindex, opt->mode, cfg, &maps, &legacy, why, sizeof(why));
		if (err) {
			attach_error(err, opt, &att, why);
			goto out;
		}
		attached_now = true;
	} else {
		legacy = att.legacy;
		if (legacy)
			snprintf(why, sizeof(why), "it was attached that way");
	}

	if (loaded) {
		err = copied_maps_fit(&maps, cfg, old_fd);
		if (!err)
			err = nat_maps_fit(&maps, cfg, old_fd, opt);
		if (!err)
			err = flows6_fit(&maps, cfg, old_fd, opt);
		if (err)
			goto out;
	}

	/* Keep the programs now in the slots until the new config is in, so
	 * that a failure below can put them back.
	 */
	err = lb_slots_backup(&maps, &backup);
	if (!err)
		err = lb_stages_install(&stages, &maps, &tunables, selected, legacy, msg,
					sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "Failed to back up the stage slots: %s", strerror(-err));
	if (err) {
		lb_err("%s", msg);
		goto out;
	}
	installed = true;
	/* The stages now read the bigger copies: lbctl and xdp-lbd must too. */
	for (m = 0; m < sizeof(copied_maps) / sizeof(copied_maps[0]); m++) {
		enum lb_map map = copied_maps[m];

		if (old_fd[map] < 0)
			continue;
		err = lb_map_repin(maps.fd[map], map, pin_dir);
		if (err) {
			lb_err("Failed to pin the new map %s under %s: %s", lb_map_names[map],
			       pin_dir, strerror(-err));
			goto out;
		}
		repinned[map] = true;
	}
	if (old_fd[LB_MAP_FLOWS6] >= 0) {
		err = lb_map_repin(maps.fd[LB_MAP_FLOWS6], LB_MAP_FLOWS6, pin_dir);
		if (err) {
			lb_err("Failed to pin the new map %s under %s: %s",
			       lb_map_names[LB_MAP_FLOWS6], pin_dir, strerror(-err));
			goto out;
		}
		repinned[LB_MAP_FLOWS6] = true;
	}
	if (old_fd[LB_MAP_NAT_REPLY] >= 0 || old_fd[LB_MAP_NAT_FORWARD] >= 0 ||
	    old_fd[LB_MAP_NAT_REPLY6] >= 0 || old_fd[LB_MAP_NAT_FORWARD6] >= 0) {
		err = nat_maps_switch(ifindex, opt, cfg, &maps, &att, attached_now, pin_dir);
		if (err)
			goto out;
	}
	lb_tx_ports_fill(&maps, opt->mode == XDP_MODE_NATIVE);
	/* Before the config: a reload reads the health the daemon recorded. */
	err = lb_health_map_create(&maps);
	if (err) {
		lb_err("Failed to create map %s: %s", lb_map_names[LB_MAP_BACKEND_HEALTH],
		       strerror(-err));
		goto out;
	}
	err = lb_apply_config(&maps, cfg, &res, msg, sizeof(msg));
	if (err) {
		lb_err("%s", msg);
		goto out;
	}
	err = lb_host_state_create(&maps);
	if (!err)
		err = lb_host_state_write(&maps, &host.state);
	if (err) {
		lb_err("Failed to record the host settings in map host_state: %s", strerror(-err));
		goto out;
	}
	if (!loaded) {
		err = pin_first_load(&maps, &stages, pin_dir);
		if (err)
			goto out;
		pinned_now = true;
	} else {
		err = lb_stages_pin(&stages, pin_dir);
		if (err) {
			lb_err("Failed to pin the stage programs under %s: %s", pin_dir,
			       strerror(-err));
			goto out;
		}
	}
	print_summary(opt, ifindex, cfg, &maps, loaded, legacy, why, &res, pin_dir);
	lb_host_print(opt->ifname, &host);
	err = 0;
out:
	if (err) {
		/* Reverse order of setup. apply undid its own writes. */
		if (pinned_now)
			lb_pins_remove(pin_dir);
		if (installed)
			lb_slots_restore(&maps, &backup);
		/* The restored stages read the old copied maps: lbctl must too. */
		for (m = 0; m < LB_MAP_COUNT; m++)
			if (repinned[m])
				lb_map_repin(old_fd[m], (enum lb_map)m, pin_dir);
		/* A reload's stage pins may now name the new programs: still
		 * valid stages, only not the ones in the slots.
		 */
		if (attached_now)
			lb_parse_detach(ifindex);
		if (host_prepared) {
			lb_host_undo(opt->ifname, &host);
			/* The record may already hold this run's settings. */
			if (have_previous)
				lb_host_state_write(&maps, &previous);
		}
		lb_err("nothing was changed on %s", opt->ifname);
	}
	lb_slots_backup_release(&backup);
	lb_stages_destroy(&stages);
	lb_maps_close(&maps);
	for (m = 0; m < LB_MAP_COUNT; m++)
		if (old_fd[m] >= 0)
			close(old_fd[m]);
	return err ? 1 : 0;
}

/* The host settings a load recorded under @pin_dir; false when there are none. */
static bool read_host_state(const char *pin_dir, struct lb_host_state *state)
{
	struct lb_maps maps;
	char path[LB_PIN_DIR_MAX + 32];
	bool ok;

	lb_maps_init(&maps);
	snprintf(path, sizeof(path), "%s/%s", pin_dir, lb_map_names[LB_MAP_HOST_STATE]);
	maps.fd[LB_MAP_HOST_STATE] = bpf_obj_get(path);
	ok = maps.fd[LB_MAP_HOST_STATE] >= 0 && !lb_host_state_read(&maps, state);
	lb_maps_close(&maps);
	return ok;
}

static int do_unload(const struct options *opt)
{
	int ifindex = (int)if_nametoindex(opt->ifname);
	struct lb_host_state host_state;
	char pin_dir[LB_PIN_DIR_MAX];
	bool had_pins, detached = false, have_host_state;
	int err;

	lb_pin_dir(opt->ifname, pin_dir, sizeof(pin_dir));
	had_pins = access(pin_dir, F_OK) == 0;
	have_host_state = read_host_state(pin_dir, &host_state);
	if (ifindex) {
		err = lb_parse_detach(ifindex);
		if (err && err != -ENOENT) {
			lb_err("Failed to detach %s from %s: %s", LB_PARSE_PROG_NAME, opt->ifname,
			       strerror(-err));
			return 1;
		}
		detached = !err;
	}
	if (!detached && !had_pins) {
		lb_err("xdp-lb is not loaded on %s%s", opt->ifname,
		       ifindex ? "" : " (no such interface, and no state)");
		return 1;
	}
	err = lb_pins_remove(pin_dir);
	if (err) {
		lb_err("Failed to remove the state under %s: %s", pin_dir, strerror(-err));
		return 1;
	}
	if (!ifindex) {
		printf("xdp-lb state for %s removed (the interface no longer exists)\n",
		       opt->ifname);
		return 0;
	}
	printf("xdp-lb unloaded from %s; other XDP programs there are untouched\n", opt->ifname);
	if (have_host_state)
		lb_host_restore(opt->ifname, &host_state);
	return 0;
}

int main(int argc, char **argv)
{
	struct lb_config cfg = { 0 };
	struct options opt = { 0 };
	char err_msg[LB_CONFIG_ERR_LEN], missing_caps[64];
	bool verbose = false, bpffs_mounted_now;
	int ifindex, lock_fd, ret;

	ret = parse_args(argc, argv, &opt, &verbose);
	if (ret)
		return ret;
	lb_log_setup(verbose);

	/* The config is checked first: that needs no privileges. */
	if (!opt.unload && lb_config_load(opt.config_path, &cfg, err_msg, sizeof(err_msg))) {
		lb_err_line("%s", err_msg);
		return 1;
	}
	if (opt.check) {
		print_check_summary(&cfg);
		lb_config_free(&cfg);
		return 0;
	}
	ret = 1;
	if (geteuid() != 0) {
		lb_err("lb-load must run as root: it loads BPF programs and attaches XDP "
		       "(CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)");
		goto out;
	}
	if (lb_caps_missing(missing_caps, sizeof(missing_caps)) > 0) {
		lb_err("lb-load needs CAP_NET_ADMIN and CAP_SYS_ADMIN, and this process lacks %s "
		       "(a container's or a systemd unit's capability bounding set?); nothing "
		       "was changed on %s",
		       missing_caps, opt.ifname);
		goto out;
	}
	/* Before the lock: a refused load leaves no lock file behind. */
	ifindex = (int)if_nametoindex(opt.ifname);
	if (!opt.unload && !ifindex) {
		lb_err("Failed to find interface %s: %s", opt.ifname, strerror(errno));
		goto out;
	}
	lock_fd = lb_lock_interface(opt.ifname);
	if (lock_fd < 0) {
		if (lock_fd == -EWOULDBLOCK)
			lb_err("another lb-load is working on %s right now; try again when it "
			       "has finished",
			       opt.ifname);
		else
			lb_err("Failed to lock %s/%s.lock: %s", LB_LOCK_DIR, opt.ifname,
			       strerror(-lock_fd));
		goto out;
	}
	ret = lb_bpffs_ensure(&bpffs_mounted_now);
	if (ret) {
		if (ret == -ENOTSUP)
			lb_err(LB_IP_NETNS_EXEC_MSG);
		else
			lb_err("Failed to mount bpffs at %s: %s", LB_BPFFS, strerror(-ret));
		/* A refused load leaves no lock file (we still hold the lock). */
		lb_lock_remove(opt.ifname);
		ret = 1;
		goto out;
	}
	if (bpffs_mounted_now)
		lb_info("bpffs was not mounted at %s: mounted it (it lasts as long as this mount "
			"namespace)",
			LB_BPFFS);
	if (opt.unload) {
		ret = do_unload(&opt);
		/* The lock file goes with the state, and is not left behind by an
		 * unload that found nothing either. Removing it while holding the
		 * lock is harmless: the next lb-load creates it again.
		 */
		lb_lock_remove(opt.ifname);
		goto out;
	}
	ret = do_load(&opt, &cfg, ifindex);
out:
	lb_config_free(&cfg);
	return ret;
}
