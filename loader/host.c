// SPDX-License-Identifier: GPL-2.0
/* Host settings lb-load makes and puts back; see host.h. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/btf.h>

#include "host.h"

/* --- the pinned record ------------------------------------------------------- */

/* The types of host_state as BTF, from the C structs' own sizes and offsets,
 * so that `bpftool map dump` names every field (and shows the counter names
 * as strings) like it does for the maps the stages define. NULL when BTF
 * cannot be built or loaded: the map is then made without, as libbpf does.
 */
static struct btf *host_state_btf(__u32 *key_id, __u32 *value_id)
{
	struct btf *btf = btf__new_empty();
	int u32, u64, chr, name, stat, stats, host, bad = 0;

	if (!btf)
		return NULL;
	bad |= (u32 = btf__add_int(btf, "__u32", 4, 0)) < 0;
	bad |= (u64 = btf__add_int(btf, "__u64", 8, 0)) < 0;
	bad |= (chr = btf__add_int(btf, "char", 1, BTF_INT_CHAR)) < 0;
	bad |= (name = btf__add_array(btf, u32, chr, LB_DROP_STAT_NAME_LEN)) < 0;
	bad |= (stat = btf__add_struct(btf, "lb_drop_stat", sizeof(struct lb_drop_stat))) < 0;
	bad |= btf__add_field(btf, "name", name, offsetof(struct lb_drop_stat, name) * 8, 0);
	bad |= btf__add_field(btf, "value", u64, offsetof(struct lb_drop_stat, value) * 8, 0);
	bad |= (stat = btf__add_array(btf, u32, stat, LB_DROP_STATS_MAX)) < 0;
	bad |= (stats = btf__add_struct(btf, "lb_drop_stats", sizeof(struct lb_drop_stats))) < 0;
	bad |= btf__add_field(btf, "count", u32, offsetof(struct lb_drop_stats, count) * 8, 0);
	bad |= btf__add_field(btf, "stat", stat, offsetof(struct lb_drop_stats, stat) * 8, 0);
	bad |= (host = btf__add_struct(btf, "lb_host_state", sizeof(struct lb_host_state))) < 0;
	bad |= btf__add_field(btf, "flags", u32, offsetof(struct lb_host_state, flags) * 8, 0);
	bad |= btf__add_field(btf, "pad", u32, offsetof(struct lb_host_state, pad) * 8, 0);
	bad |= btf__add_field(btf, "baseline", stats,
			      offsetof(struct lb_host_state, baseline) * 8, 0);
	if (bad || btf__load_into_kernel(btf)) {
		btf__free(btf);
		return NULL;
	}
	*key_id = (__u32)u32;
	*value_id = (__u32)host;
	return btf;
}

int lb_host_state_create(struct lb_maps *maps)
{
	struct lb_host_state empty = { 0 };
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct btf *btf;
	int fd, err;

	if (maps->fd[LB_MAP_HOST_STATE] >= 0)
		return 0;
	btf = host_state_btf(&opts.btf_key_type_id, &opts.btf_value_type_id);
	if (btf)
		opts.btf_fd = (__u32)btf__fd(btf);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, lb_map_names[LB_MAP_HOST_STATE], sizeof(__u32),
			    sizeof(empty), 1, btf ? &opts : NULL);
	if (fd < 0 && btf)
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, lb_map_names[LB_MAP_HOST_STATE],
				    sizeof(__u32), sizeof(empty), 1, NULL);
	err = fd < 0 ? -errno : 0;
	/* The map holds its own reference to the BTF. */
	btf__free(btf);
	if (err)
		return err;
	maps->fd[LB_MAP_HOST_STATE] = fd;
	return lb_host_state_write(maps, &empty);
}

int lb_host_state_read(const struct lb_maps *maps, struct lb_host_state *state)
{
	__u32 key = 0;

	memset(state, 0, sizeof(*state));
	return bpf_map_lookup_elem(maps->fd[LB_MAP_HOST_STATE], &key, state) ? -errno : 0;
}

int lb_host_state_write(const struct lb_maps *maps, const struct lb_host_state *state)
{
	__u32 key = 0;

	return bpf_map_update_elem(maps->fd[LB_MAP_HOST_STATE], &key, state, BPF_ANY) ? -errno
										       : 0;
}

/* --- per-interface sysctls ----------------------------------------------------- */

/* @key of net.ipv4.conf.IF, or of net.ipv6.conf.IF when it starts "ipv6/". */
static void sysctl_path(const char *ifname, const char *key, char *buf, size_t len)
{
	if (!strncmp(key, "ipv6/", 5))
		snprintf(buf, len, "/proc/sys/net/ipv6/conf/%s/%s", ifname, key + 5);
	else
		snprintf(buf, len, "/proc/sys/net/ipv4/conf/%s/%s", ifname, key);
}

/* 0 or 1, or -errno. */
static int sysctl_get(const char *ifname, const char *key)
{
	char path[128], value[16] = "";
	FILE *f;

	sysctl_path(ifname, key, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(value, sizeof(value), f))
		value[0] = '\0';
	fclose(f);
	return value[0] == '0' ? 0 : 1;
}

static int sysctl_set(const char *ifname, const char *key, int value)
{
	char path[128];
	FILE *f;
	int err = 0;

	sysctl_path(ifname, key, path, sizeof(path));
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%d\n", value) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* Turns @key on; *@set_now tells whether it was off. */
static int sysctl_enable(const char *ifname, const char *key, bool *set_now, char *msg,
			 size_t len, const char *why)
{
	int value = sysctl_get(ifname, key), err;

	*set_now = false;
	if (value == 1)
		return 0;
	err = value < 0 ? value : sysctl_set(ifname, key, 1);
	if (err) {
		const char *family = strncmp(key, "ipv6/", 5) ? "ipv4" : "ipv6";
		const char *name = strncmp(key, "ipv6/", 5) ? key : key + 5;

		snprintf(msg, len,
			 "Failed to turn on net.%s.conf.%s.%s: %s. %s: turn it on yourself "
			 "(sysctl -w net.%s.conf.%s.%s=1) and load again",
			 family, ifname, name, strerror(-err), why, family, ifname, name);
		return err;
	}
	*set_now = true;
	return 0;
}

/* --- deciding ------------------------------------------------------------------ */

/* Whether @addr is an address of this network namespace. */
static bool is_local_address(__be32 addr)
{
	struct ifaddrs *ifs, *it;
	bool found = false;

	if (!addr || getifaddrs(&ifs))
		return false;
	for (it = ifs; it && !found; it = it->ifa_next)
		found = it->ifa_addr && it->ifa_addr->sa_family == AF_INET &&
			((struct sockaddr_in *)it->ifa_addr)->sin_addr.s_addr == addr;
	freeifaddrs(ifs);
	return found;
}

/* The configured source address of frames we may hand to the kernel that is
 * an address of this host, or 0. The kernel drops such a frame as a martian
 * unless the interface accepts local sources.
 */
static __be32 local_source(const struct lb_config *cfg)
{
	size_t i;

	if (is_local_address(cfg->outer_src))
		return cfg->outer_src;
	for (i = 0; i < cfg->vip_count; i++)
		if (cfg->vips[i].forwarding == LB_FORWARD_NAT && is_local_address(cfg->nat_src))
			return cfg->nat_src;
	return 0;
}

int lb_host_prepare(const char *ifname, int ifindex, bool native, const struct lb_config *cfg,
		    const struct lb_host_state *previous, struct lb_host_plan *plan, char *msg,
		    size_t len)
{
	__be32 source = local_source(cfg);
	int err;

	memset(plan, 0, sizeof(*plan));
	if (previous) {
		plan->state = *previous;
		plan->state.flags &= ~LB_HOST_F_TX_VIA_STACK; /* found out again below */
	} else {
		/* The drops counted so far are not ours: lbctl shows what came after. */
		lb_drop_stats_read(ifname, &plan->state.baseline);
	}
	if (lb_xdp_tx_dropped_by_peer(ifindex, native, &plan->peer))
		plan->state.flags |= LB_HOST_F_TX_VIA_STACK;

	/* The FIB refuses every next hop of a frame that arrived on an
	 * interface that does not forward, and the kernel would not forward
	 * what we hand it either.
	 */
	err = sysctl_enable(ifname, "forwarding", &plan->forwarding_now_set, msg, len,
			    "Without it every VIP packet is dropped (encap.drop_fwd_disabled)");
	if (err)
		return err;
	if (plan->forwarding_now_set)
		plan->state.flags |= LB_HOST_F_FORWARDING_SET;
	/* The same for IPv6 tunnels (an IPv6 VIP's, or an IPv4 VIP's to IPv6
	 * backends): bpf_fib_lookup(AF_INET6) answers FWD_DISABLED on an
	 * interface that does not forward IPv6.
	 */
	if (lb_config_tunnels_ipv6(cfg)) {
		err = sysctl_enable(ifname, "ipv6/forwarding", &plan->forwarding6_now_set, msg,
				    len, "Without it every packet to an IPv6 backend is dropped "
				    "(encap.drop_fwd_disabled)");
		if (err) {
			lb_host_undo(ifname, plan);
			return err;
		}
		if (plan->forwarding6_now_set)
			plan->state.flags |= LB_HOST_F_FORWARDING6_SET;
	}
	if (source) {
		inet_ntop(AF_INET, &source, plan->local_source, sizeof(plan->local_source));
		err = sysctl_enable(ifname, "accept_local", &plan->accept_local_now_set, msg, len,
				    "Without it the kernel drops the frames it should forward for "
				    "us (source is this host's address)");
		if (err) {
			lb_host_undo(ifname, plan);
			return err;
		}
		if (plan->accept_local_now_set)
			plan->state.flags |= LB_HOST_F_ACCEPT_LOCAL_SET;
	}
	return 0;
}

void lb_host_undo(const char *ifname, const struct lb_host_plan *plan)
{
	if (plan->accept_local_now_set)
		sysctl_set(ifname, "accept_local", 0);
	if (plan->forwarding_now_set)
		sysctl_set(ifname, "forwarding", 0);
	if (plan->forwarding6_now_set)
		sysctl_set(ifname, "ipv6/forwarding", 0);
}

/* Puts @key back to 0 if lb-load set it and nobody changed it since. */
static void restore_one(const char *ifname, const char *key, const char *what)
{
	if (sysctl_get(ifname, key) != 1)
		return;
	if (sysctl_set(ifname, key, 0))
		fprintf(stderr, "Warning: Failed to turn %s off again on %s\n", what, ifname);
	else
		printf("  %s on %s is off again, as it was before xdp-lb\n", what, ifname);
}

void lb_host_restore(const char *ifname, const struct lb_host_state *state)
{
	if (state->flags & LB_HOST_F_ACCEPT_LOCAL_SET)
		restore_one(ifname, "accept_local", "accept_local");
	if (state->flags & LB_HOST_F_FORWARDING_SET)
		restore_one(ifname, "forwarding", "IPv4 forwarding");
	if (state->flags & LB_HOST_F_FORWARDING6_SET)
		restore_one(ifname, "ipv6/forwarding", "IPv6 forwarding");
}

void lb_host_print(const char *ifname, const struct lb_host_plan *plan)
{
	const struct lb_veth_peer *peer = &plan->peer;

	if (plan->forwarding_now_set)
		printf("  IPv4 forwarding was off on %s: turned on (the FIB and the kernel need it "
		       "to forward balanced frames); turned off again at unload\n",
		       ifname);
	if (plan->forwarding6_now_set)
		printf("  IPv6 forwarding was off on %s: turned on for its IPv6 VIPs; turned off "
		       "again at unload\n",
		       ifname);
	if (plan->accept_local_now_set)
		printf("  accept_local turned on for %s: frames handed to the kernel carry this "
		       "host's address %s as source; turned off again at unload\n",
		       ifname, plan->local_source);
	if (plan->state.flags & LB_HOST_F_TX_VIA_STACK)
		printf("  %s is a veth whose peer%s%s%s %s: the peer would drop XDP_TX frames, so "
		       "encapsulated frames go to the kernel, which forwards them "
		       "(encap.pass_to_stack; slower). For full speed attach an XDP program to "
		       "the peer (XDP_PASS is enough, e.g. xdp-filter load %s) and run lb-load "
		       "again\n",
		       ifname, peer->peer_name[0] ? " " : "", peer->peer_name,
		       peer->peer_other_netns ? " (in another network namespace)" : "",
		       peer->peer_found ? "runs no XDP program" : "cannot be inspected",
		       peer->peer_name[0] ? peer->peer_name : "PEER");
}
