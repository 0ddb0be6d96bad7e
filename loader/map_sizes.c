// SPDX-License-Identifier: GPL-2.0
/* Maps sized by the config; see map_sizes.h. */
#include <errno.h>
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

int lb_maglev_tables_grow(struct lb_maps *maps, __u32 entries, int *old_fd_out)
{
	int old_fd = maps->fd[LB_MAP_MAGLEV_TABLES], fd, err = 0;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), key;
	void *table;

	*old_fd_out = -1;
	if (bpf_obj_get_info_by_fd(old_fd, &info, &len))
		return -errno;
	if (info.max_entries >= entries)
		return 0;
	table = malloc(info.value_size);
	if (!table)
		return -ENOMEM;
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = info.map_flags);

	fd = bpf_map_create(info.type, info.name, info.key_size, info.value_size, entries, &opts);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (key = 0; key < info.max_entries && !err; key++) {
		if (bpf_map_lookup_elem(old_fd, &key, table) ||
		    bpf_map_update_elem(fd, &key, table, BPF_ANY))
			err = -errno;
	}
	if (err) {
		close(fd);
		goto out;
	}
	*old_fd_out = old_fd;
	maps->fd[LB_MAP_MAGLEV_TABLES] = fd;
	err = 1;
out:
	free(table);
	return err;
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
