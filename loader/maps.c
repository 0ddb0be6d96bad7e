// SPDX-License-Identifier: GPL-2.0
/* One set of shared map fds for all stage objects; see maps.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"

const char *const lb_map_names[LB_MAP_COUNT] = {
	[LB_MAP_STAGE_SLOTS] = "stage_slots",
	[LB_MAP_PACKET_CTX] = "packet_ctx",
	[LB_MAP_COUNTERS] = "counters",
	[LB_MAP_VIPS] = "vips",
	[LB_MAP_POOLS] = "pools",
	[LB_MAP_BACKENDS] = "backends",
	[LB_MAP_BACKEND_LOAD] = "backend_load",
	[LB_MAP_BACKEND_STATS] = "backend_stats",
	[LB_MAP_FLOWS] = "flows",
	[LB_MAP_TX_PORTS] = "tx_ports",
	[LB_MAP_CONFIG_GEN] = "config_gen",
	[LB_MAP_POOL_WEIGHTS] = "pool_weights",
	[LB_MAP_MAGLEV_TABLES] = "maglev_tables",
	[LB_MAP_VIP_SCHED] = "vip_sched",
	[LB_MAP_BACKEND_CONNS] = "backend_conns",
	[LB_MAP_NAT_REPLY] = "nat_reply",
	[LB_MAP_NAT_FORWARD] = "nat_forward",
	[LB_MAP_HOST_STATE] = "host_state",
};

void lb_maps_init(struct lb_maps *maps)
{
	int i;

	for (i = 0; i < LB_MAP_COUNT; i++)
		maps->fd[i] = -1;
}

void lb_maps_close(struct lb_maps *maps)
{
	int i;

	for (i = 0; i < LB_MAP_COUNT; i++) {
		if (maps->fd[i] >= 0)
			close(maps->fd[i]);
		maps->fd[i] = -1;
	}
}

int lb_maps_open_pinned(const char *dir, struct lb_maps *maps, const char **missing)
{
	char path[256];
	int i, found = 0, err = 0;

	*missing = NULL;
	for (i = 0; i < LB_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, lb_map_names[i]);
		maps->fd[i] = bpf_obj_get(path);
		if (maps->fd[i] >= 0) {
			found++;
		} else if (!err) {
			err = -errno;
			*missing = lb_map_names[i];
		}
	}
	if (found == LB_MAP_COUNT)
		return 0;
	lb_maps_close(maps);
	return found ? (err ? err : -ENOENT) : -ENOENT;
}

int lb_maps_reuse(struct bpf_object *obj, const struct lb_maps *maps)
{
	struct bpf_map *map;
	int i, err;

	for (i = 0; i < LB_MAP_COUNT; i++) {
		if (maps->fd[i] < 0)
			continue;
		map = bpf_object__find_map_by_name(obj, lb_map_names[i]);
		if (!map)
			continue;
		err = bpf_map__reuse_fd(map, maps->fd[i]);
		if (err)
			return err;
	}
	return 0;
}

int lb_maps_adopt(struct bpf_object *obj, struct lb_maps *maps)
{
	struct bpf_map *map;
	int i;

	for (i = 0; i < LB_MAP_COUNT; i++) {
		if (maps->fd[i] >= 0)
			continue;
		map = bpf_object__find_map_by_name(obj, lb_map_names[i]);
		if (!map)
			continue;
		maps->fd[i] = fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC, 3);
		if (maps->fd[i] < 0)
			return -errno;
	}
	return 0;
}

int lb_maps_pin(const struct lb_maps *maps, const char *dir)
{
	char path[256];
	int i, err;

	for (i = 0; i < LB_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, lb_map_names[i]);
		if (bpf_obj_pin(maps->fd[i], path)) {
			err = -errno;
			while (i-- > 0) {
				snprintf(path, sizeof(path), "%s/%s", dir, lb_map_names[i]);
				unlink(path);
			}
			return err;
		}
	}
	return 0;
}
