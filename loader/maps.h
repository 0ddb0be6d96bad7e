/* SPDX-License-Identifier: GPL-2.0 */
/* The maps of an interface's state (the list LB_MAPS): their names, and the
 * one set of fds the loader hands to every stage object and pins.
 */
#ifndef LB_MAPS_H
#define LB_MAPS_H

#include <stdbool.h>

#include "lb_maps_common.h"

struct bpf_object;

/* One per entry of LB_MAPS (bpf/include/lb_maps_common.h), in its order. */
#define LB_MAP_ENUM_ENTRY(id, name, owner) LB_MAP_##id,
enum lb_map {
	LB_MAPS(LB_MAP_ENUM_ENTRY)
	LB_MAP_COUNT,
};
#undef LB_MAP_ENUM_ENTRY

extern const char *const lb_map_names[LB_MAP_COUNT];

/* Whether map @map is one fd for every stage object (owner SHARED): reused,
 * adopted, pinned. The fuzzer and tests that build a pipeline share these.
 */
bool lb_map_is_shared(enum lb_map map);

/* Whether map @map lives under the pin directory (owners SHARED and LOADER).
 * An OWN map is never pinned and its fd in struct lb_maps stays -1.
 */
bool lb_map_is_pinned(enum lb_map map);

struct lb_maps {
	int fd[LB_MAP_COUNT]; /* -1 until known */
};

void lb_maps_init(struct lb_maps *maps);
void lb_maps_close(struct lb_maps *maps);

/* Opens every pinned map under @dir. 0; -ENOENT when none exists (not loaded); other
 * -errno when only some exist or one cannot be opened (@missing names it).
 */
int lb_maps_open_pinned(const char *dir, struct lb_maps *maps, const char **missing);

/* Before load: makes @obj use the fds already in @maps. */
int lb_maps_reuse(struct bpf_object *obj, const struct lb_maps *maps);

/* After load: takes (dup) the fds of maps @obj created that @maps lacks. */
int lb_maps_adopt(struct bpf_object *obj, struct lb_maps *maps);

/* Pins every pinned map (lb_map_is_pinned) under @dir, which must exist
 * (lb_pin_dir_create()). On failure, removes what it pinned. 0 or -errno.
 */
int lb_maps_pin(const struct lb_maps *maps, const char *dir);

/* Whether a map pinned under @dir is no longer the one @maps holds: a reload
 * that grew a map pins the new one in its place (loader/map_sizes.h), and a
 * reader that keeps its fds open (xdp-lbd) must open them again.
 */
bool lb_maps_replaced(const struct lb_maps *maps, const char *dir);

/* The kernel's id of map @fd; 0 when it cannot be read. */
__u32 lb_map_id(int fd);

/* max_entries of map @map, 0 when it cannot be read. */
unsigned int lb_map_max_entries(const struct lb_maps *maps, enum lb_map map);

#endif /* LB_MAPS_H */
