// SPDX-License-Identifier: GPL-2.0
/* The backend_health map and the rise/fall state machine; see health.h. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "health.h"
#include "lb_consts_common.h"

int lb_health_map_create(struct lb_maps *maps)
{
	int fd;

	if (maps->fd[LB_MAP_BACKEND_HEALTH] >= 0)
		return 0;
	/* An array: every slot exists and reads as zero (unprobed) until written. */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, lb_map_names[LB_MAP_BACKEND_HEALTH],
			    sizeof(__u32), sizeof(struct lb_backend_health), LB_MAX_BACKENDS,
			    NULL);
	if (fd < 0)
		return -errno;
	maps->fd[LB_MAP_BACKEND_HEALTH] = fd;
	return 0;
}

int lb_health_read(const struct lb_maps *maps, __u32 id, __be32 addr, __u32 vip_id,
		   struct lb_backend_health *rec)
{
	memset(rec, 0, sizeof(*rec));
	if (maps->fd[LB_MAP_BACKEND_HEALTH] < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(maps->fd[LB_MAP_BACKEND_HEALTH], &id, rec))
		return -errno;
	if (rec->addr != addr || rec->vip_id != vip_id) {
		memset(rec, 0, sizeof(*rec));
		rec->addr = addr;
		rec->vip_id = vip_id;
	}
	rec->last_result[LB_HEALTH_RESULT_LEN - 1] = '\0';
	return 0;
}

int lb_health_write(const struct lb_maps *maps, __u32 id, const struct lb_backend_health *rec)
{
	if (maps->fd[LB_MAP_BACKEND_HEALTH] < 0)
		return -ENOENT;
	return bpf_map_update_elem(maps->fd[LB_MAP_BACKEND_HEALTH], &id, rec, BPF_ANY) ? -errno
											: 0;
}

bool lb_health_down_by_probe(const struct lb_backend_health *rec, __u8 state)
{
	return state == LB_BACKEND_DOWN && rec->marked_down;
}

const char *lb_health_name(__u8 health)
{
	switch (health) {
	case LB_HEALTH_IS_UP:
		return "up";
	case LB_HEALTH_IS_DOWN:
		return "down";
	default:
		return "unprobed";
	}
}

bool lb_health_step(struct lb_backend_health *rec, bool ok, __u32 rise, __u32 fall, __u64 now_s)
{
	__u8 before;

	if (rec->health == LB_HEALTH_UNPROBED) {
		rec->health = LB_HEALTH_IS_UP;
		rec->since_s = now_s;
		rec->streak = 0;
	}
	before = rec->health;
	/* A streak counts results in a row of one kind. */
	if (rec->streak && !rec->last_ok == !ok)
		rec->streak++;
	else
		rec->streak = 1;
	rec->last_ok = ok;
	rec->last_s = now_s;
	if (before == LB_HEALTH_IS_UP && !ok && rec->streak >= fall)
		rec->health = LB_HEALTH_IS_DOWN;
	else if (before == LB_HEALTH_IS_DOWN && ok && rec->streak >= rise)
		rec->health = LB_HEALTH_IS_UP;
	if (rec->health == before)
		return false;
	rec->since_s = now_s;
	return true;
}
