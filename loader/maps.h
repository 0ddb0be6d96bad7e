/* SPDX-License-Identifier: GPL-2.0 */
/* The maps the stages share: their names, and the one set of fds the loader
 * hands to every stage object.
 */
#ifndef LB_MAPS_H
#define LB_MAPS_H

#include <stdbool.h>

struct bpf_object;

/* Order of lb_map_names; names as in bpf/include/lb_maps.bpf.h. */
enum lb_map {
	LB_MAP_STAGE_SLOTS,
	LB_MAP_PACKET_CTX,
	LB_MAP_COUNTERS,
	LB_MAP_VIPS,
	LB_MAP_POOLS,
	LB_MAP_BACKENDS,
	LB_MAP_BACKEND_LOAD,
	LB_MAP_BACKEND_STATS,
	LB_MAP_FLOWS,
	LB_MAP_TX_PORTS,
	LB_MAP_CONFIG_GEN,
	LB_MAP_POOL_WEIGHTS,
	LB_MAP_MAGLEV_TABLES,
	LB_MAP_VIP_SCHED,
	LB_MAP_BACKEND_CONNS,
	LB_MAP_NAT_REPLY,
	LB_MAP_NAT_FORWARD,
	LB_MAP_HOST_STATE, /* loader only: see host.h */
	LB_MAP_COUNT,
};

extern const char *const lb_map_names[LB_MAP_COUNT];

struct lb_maps {
	int fd[LB_MAP_COUNT]; /* -1 until known */
};

void lb_maps_init(struct lb_maps *maps);
void lb_maps_close(struct lb_maps *maps);

/* Opens every pin under @dir. 0; -ENOENT when none exists (not loaded); other
 * -errno when only some exist or one cannot be opened (@missing names it).
 */
int lb_maps_open_pinned(const char *dir, struct lb_maps *maps, const char **missing);

/* Before load: makes @obj use the fds already in @maps. */
int lb_maps_reuse(struct bpf_object *obj, const struct lb_maps *maps);

/* After load: takes (dup) the fds of maps @obj created that @maps lacks. */
int lb_maps_adopt(struct bpf_object *obj, struct lb_maps *maps);

/* Pins every map under @dir, which must exist (lb_pin_dir_create()). On
 * failure, removes what it pinned. 0 or -errno.
 */
int lb_maps_pin(const struct lb_maps *maps, const char *dir);

#endif /* LB_MAPS_H */
