// SPDX-License-Identifier: GPL-2.0
/* One set of map fds for all stage objects, expanded from LB_MAPS; see maps.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"

#define LB_MAP_NAME_ENTRY(id, name, owner) [LB_MAP_##id] = #name,
const char *const lb_map_names[LB_MAP_COUNT] = { LB_MAPS(LB_MAP_NAME_ENTRY) };
#undef LB_MAP_NAME_ENTRY

/* Each owner (lb_maps_common.h) as its two properties. */
#define LB_MAP_SHARED_SHARED true
#define LB_MAP_SHARED_LOADER false
#define LB_MAP_SHARED_OWN false
#define LB_MAP_PINNED_SHARED true
#define LB_MAP_PINNED_LOADER true
#define LB_MAP_PINNED_OWN false
#define LB_MAP_SHARED_ENTRY(id, name, owner) [LB_MAP_##id] = LB_MAP_SHARED_##owner,
#define LB_MAP_PINNED_ENTRY(id, name, owner) [LB_MAP_##id] = LB_MAP_PINNED_##owner,
static const bool shared[LB_MAP_COUNT] = { LB_MAPS(LB_MAP_SHARED_ENTRY) };
static const bool pinned[LB_MAP_COUNT] = { LB_MAPS(LB_MAP_PINNED_ENTRY) };
#undef LB_MAP_SHARED_ENTRY
#undef LB_MAP_PINNED_ENTRY

bool lb_map_is_shared(enum lb_map map)
{
	return shared[map];
}

bool lb_map_is_pinned(enum lb_map map)
{
	return pinned[map];
}

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
	int i, found = 0, wanted = 0, err = 0;

	*missing = NULL;
	for (i = 0; i < LB_MAP_COUNT; i++) {
		if (!pinned[i])
			continue;
		wanted++;
		snprintf(path, sizeof(path), "%s/%s", dir, lb_map_names[i]);
		maps->fd[i] = bpf_obj_get(path);
		if (maps->fd[i] >= 0) {
			found++;
		} else if (!err) {
			err = -errno;
			*missing = lb_map_names[i];
		}
	}
	if (found == wanted)
		return 0;
	lb_maps_close(maps);
	return found ? (err ? err : -ENOENT) : -ENOENT;
}

int lb_maps_reuse(struct bpf_object *obj, const struct lb_maps *maps)
{
	struct bpf_map *map;
	int i, err;

	for (i = 0; i < LB_MAP_COUNT; i++) {
		if (maps->fd[i] < 0 || !shared[i])
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
		if (maps->fd[i] >= 0 || !shared[i])
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
		if (!pinned[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, lb_map_names[i]);
		if (bpf_obj_pin(maps->fd[i], path)) {
			err = -errno;
			while (i-- > 0) {
				if (!pinned[i])
					continue;
				snprintf(path, sizeof(path), "%s/%s", dir, lb_map_names[i]);
				unlink(path);
			}
			return err;
		}
	}
	return 0;
}

unsigned int lb_map_max_entries(const struct lb_maps *maps, enum lb_map map)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (maps->fd[map] < 0 || bpf_obj_get_info_by_fd(maps->fd[map], &info, &len))
		return 0;
	return info.max_entries;
}

__u32 lb_map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

bool lb_maps_replaced(const struct lb_maps *maps, const char *dir)
{
	char path[256];
	bool replaced = false;
	int i, fd;

	for (i = 0; i < LB_MAP_COUNT && !replaced; i++) {
		if (!pinned[i] || maps->fd[i] < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, lb_map_names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* the pin check sees an unload */
		replaced = lb_map_id(fd) != lb_map_id(maps->fd[i]);
		close(fd);
	}
	return replaced;
}
