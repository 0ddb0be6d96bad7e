/* SPDX-License-Identifier: GPL-2.0 */
/* Backend health: what xdp-lbd's probes found, kept in the pinned map
 * backend_health (one record per backend slot, beside the backends map), so
 * that lbctl shows it, a reload keeps it and a restarted daemon goes on from
 * it. The data path never reads this map: it only sees the backend's state
 * (UP or DOWN) in the backends map, which the daemon flips with one update.
 *
 * The rise/fall state machine is here too, pure (no I/O), so that it can be
 * tested without a network (tests/unit/test_health.c).
 */
#ifndef LB_HEALTH_H
#define LB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "maps.h"

/* struct lb_backend_health.health */
enum lb_health_state {
	LB_HEALTH_UNPROBED = 0, /* no probe result yet (or no health_check) */
	LB_HEALTH_IS_UP = 1,
	LB_HEALTH_IS_DOWN = 2,
};

#define LB_HEALTH_RESULT_LEN 64

/* The value of backend_health, keyed by backend id. A record belongs to the
 * backend (addr, vip_id) it names: a slot given to another backend by a
 * reload starts from a zeroed record.
 */
struct lb_backend_health {
	__be32 addr;       /* the backend's address, as in its backends entry */
	__u32 vip_id;      /* and its VIP */
	__u8 health;       /* enum lb_health_state */
	__u8 last_ok;      /* the last probe succeeded */
	/* The daemon set this backend DOWN in the backends map: a reload keeps
	 * it DOWN, and only the daemon sets it UP again. Cleared when the
	 * config itself says drain or down (the operator's word wins).
	 */
	__u8 marked_down;
	__u8 pad;
	__u32 streak;      /* results in a row equal to last_ok (rise/fall count) */
	__u64 since_s;     /* CLOCK_REALTIME seconds: when health took its value */
	__u64 last_s;      /* CLOCK_REALTIME seconds of the last probe result */
	char last_result[LB_HEALTH_RESULT_LEN]; /* what the last probe saw, NUL-terminated */
};

/* Creates the backend_health map in @maps if it has none (a first load). 0 or -errno. */
int lb_health_map_create(struct lb_maps *maps);

/* The record of backend @id if it is @addr's of @vip_id (else zeroed): 0,
 * -ENOENT (no map: a pipeline built without the loader's maps) or -errno.
 */
int lb_health_read(const struct lb_maps *maps, __u32 id, __be32 addr, __u32 vip_id,
		   struct lb_backend_health *rec);
int lb_health_write(const struct lb_maps *maps, __u32 id, const struct lb_backend_health *rec);

/* Whether backend entry state @state is DOWN only because the daemon said so:
 * such a backend still counts as UP for what a reload builds from the config
 * (Maglev positions), so that it gets its share back when it comes up.
 */
bool lb_health_down_by_probe(const struct lb_backend_health *rec, __u8 state);

/* "up", "down", "unprobed". */
const char *lb_health_name(__u8 health);

/* One probe result through the rise/fall counts. @rec->health UNPROBED
 * starts as UP: a backend is assumed healthy until `fall` probes in a row
 * fail, so starting the daemon moves no traffic. Updates health, last_ok,
 * streak and (on a change) since_s = @now_s, last_s = @now_s. Returns true
 * when health changed between UP and DOWN.
 */
bool lb_health_step(struct lb_backend_health *rec, bool ok, __u32 rise, __u32 fall, __u64 now_s);

#endif /* LB_HEALTH_H */
