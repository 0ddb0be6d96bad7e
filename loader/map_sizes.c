// SPDX-License-Identifier: GPL-2.0
/* Maps sized by the config; see map_sizes.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "map_sizes.h"

__u32 lb_maglev_tables_wanted(const struct lb_config *cfg, size_t live)
{
	size_t i, maglev = 0, want;

	for (i = 0; i < cfg->vip_count; i++)
		maglev += cfg->vips[i].policy == LB_POLICY_MAGLEV;
	want = live + maglev;
	if (want < 2 * maglev)
		want = 2 * maglev;
	if (want < 1)
		want = 1;
	return want < LB_MAGLEV_TABLES ? (__u32)want : LB_MAGLEV_TABLES;
}

/* A map like @old_fd's with @entries entries, into *@new_fd: with @old_fd's
 * entries copied when @copy, else only when @old_fd holds none (-EBUSY if it
 * does: live state a copy would race with).
 */
static int map_bigger(int old_fd, __u32 entries, bool copy, int *new_fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), key;
	void *value;
	int fd, err = 0;

	if (bpf_obj_get_info_by_fd(old_fd, &info, &len))
		return -errno;
	if (info.max_entries >= entries)
		return 0;
	if (!copy && !bpf_map_get_next_key(old_fd, NULL, &key))
		return -EBUSY;
	value = malloc(info.value_size);
	if (!value)
		return -ENOMEM;
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = info.map_flags);

	fd = bpf_map_create(info.type, info.name, info.key_size, info.value_size, entries, &opts);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* Copied as an array: every map copied is one (map_sizes.h). */
	for (key = 0; copy && key < info.max_entries && !err; key++) {
		if (bpf_map_lookup_elem(old_fd, &key, value) ||
		    bpf_map_update_elem(fd, &key, value, BPF_ANY))
			err = -errno;
	}
	if (err) {
		close(fd);
		goto out;
	}
	*new_fd = fd;
	err = 1;
out:
	free(value);
	return err;
}

int lb_map_grow_copy(struct lb_maps *maps, enum lb_map map, __u32 entries, int *old_fd)
{
	int err, fd;

	*old_fd = -1;
	err = map_bigger(maps->fd[map], entries, true, &fd);
	if (err > 0) {
		*old_fd = maps->fd[map];
		maps->fd[map] = fd;
	}
	return err;
}

__u32 lb_pools_wanted(const struct lb_config *cfg, const struct lb_state *st)
{
	size_t i, ids = cfg->vip_count, want;

	/* A new VIP takes the lowest id no live VIP has (apply.c), so every
	 * id is below the live ones' count plus the config's, or was there
	 * before, below the highest live id.
	 */
	if (st) {
		ids += st->live_count;
		for (i = 0; i < st->live_count; i++)
			if (st->live[i].vip.vip_id + 1 > ids)
				ids = st->live[i].vip.vip_id + 1;
	}
	want = ids * LB_POOLS_PER_VIP;
	if (want < LB_POOLS_PER_VIP)
		want = LB_POOLS_PER_VIP;
	return want < LB_MAX_POOLS ? (__u32)want : LB_MAX_POOLS;
}

const enum lb_map lb_nat_maps[LB_NAT_MAPS] = {
	LB_MAP_NAT_REPLY, LB_MAP_NAT_FORWARD, LB_MAP_NAT_REPLY6, LB_MAP_NAT_FORWARD6,
};

/* LB_NAT_TABLE_SIZE when a VIP of family @ipv6 uses NAT, else 1. */
static __u32 nat_entries_wanted(const struct lb_config *cfg, bool ipv6)
{
	size_t i;

	for (i = 0; i < cfg->vip_count; i++)
		if (cfg->vips[i].forwarding == LB_FORWARD_NAT && cfg->vips[i].ipv6 == ipv6)
			return LB_NAT_TABLE_SIZE;
	return 1;
}

__u32 lb_nat_entries_wanted(const struct lb_config *cfg)
{
	return nat_entries_wanted(cfg, false);
}

__u32 lb_nat6_entries_wanted(const struct lb_config *cfg)
{
	return nat_entries_wanted(cfg, true);
}

__u32 lb_flows6_entries_wanted(const struct lb_config *cfg)
{
	return lb_config_has_ipv6(cfg) ? cfg->flow_table_size : 1;
}

int lb_flows6_grow(struct lb_maps *maps, __u32 entries, int *old_fd)
{
	int fd = -1, err;

	*old_fd = -1;
	err = map_bigger(maps->fd[LB_MAP_FLOWS6], entries, false, &fd);
	if (err > 0) {
		*old_fd = maps->fd[LB_MAP_FLOWS6];
		maps->fd[LB_MAP_FLOWS6] = fd;
	}
	return err;
}

int lb_nat_maps_grow(struct lb_maps *maps, const struct lb_config *cfg,
		     int old_fd[LB_NAT_MAPS])
{
	const __u32 entries[LB_NAT_MAPS] = {
		lb_nat_entries_wanted(cfg), lb_nat_entries_wanted(cfg),
		lb_nat6_entries_wanted(cfg), lb_nat6_entries_wanted(cfg),
	};
	int fd[LB_NAT_MAPS], i, err = 0, grown = 0;

	for (i = 0; i < LB_NAT_MAPS; i++)
		old_fd[i] = fd[i] = -1;
	for (i = 0; i < LB_NAT_MAPS && err >= 0; i++) {
		err = map_bigger(maps->fd[lb_nat_maps[i]], entries[i], false, &fd[i]);
		grown += err > 0;
	}
	if (err < 0) {
		for (i = 0; i < LB_NAT_MAPS; i++)
			if (fd[i] >= 0)
				close(fd[i]);
		return err;
	}
	for (i = 0; i < LB_NAT_MAPS; i++) {
		if (fd[i] < 0)
			continue;
		old_fd[i] = maps->fd[lb_nat_maps[i]];
		maps->fd[lb_nat_maps[i]] = fd[i];
	}
	return grown ? 1 : 0;
}

int lb_map_repin(int fd, enum lb_map map, const char *dir)
{
	char path[256], aside[272];
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, lb_map_names[map]);
	/* bpffs refuses names with a dot: "_new", not ".new". */
	snprintf(aside, sizeof(aside), "%s_new", path);
	unlink(aside);
	if (bpf_obj_pin(fd, aside) || rename(aside, path)) {
		err = -errno;
		unlink(aside);
	}
	return err;
}
