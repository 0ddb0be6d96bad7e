/* SPDX-License-Identifier: GPL-2.0 */
/* The read model of a loaded interface: the pinned VIP map read once into
 * structs, for everything that looks at the running config (lbctl status,
 * stats and policy; the config apply). One walk of the map, one notion of
 * which entries are live.
 */
#ifndef LB_STATE_H
#define LB_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "lb_consts_common.h"
#include "lb_structs_common.h"
#include "maps.h"

struct lb_state_vip {
	struct lb_vip_key key;
	struct lb_vip vip;
	struct lb_pool pool; /* the VIP's pool (live entries only; zero when unreadable) */
};

struct lb_state {
	__u32 gen; /* the config generation parse reads, 0 or 1 */
	/* Entries of that generation, sorted by address, port and protocol. */
	struct lb_state_vip live[LB_MAX_VIPS];
	size_t live_count;
	/* Entries of the other generation: left by a reload that was killed
	 * before it switched, invisible to parse. Their pools are not read.
	 */
	struct lb_state_vip stale[LB_MAX_VIPS];
	size_t stale_count;
};

/* Reads the config generation and every VIP entry. 0, or -errno (-EOVERFLOW
 * when a generation holds more than LB_MAX_VIPS entries).
 */
int lb_state_read(const struct lb_maps *maps, struct lb_state *st);

/* Marks in @used[LB_MAGLEV_TABLES] the Maglev tables the live entries name
 * (and, with @with_stale, the stale ones too); returns how many live entries
 * name one.
 */
size_t lb_state_maglev_used(const struct lb_state *st, bool with_stale, bool *used);

/* The live entry of @key, or NULL. */
const struct lb_state_vip *lb_state_find(const struct lb_state *st,
					 const struct lb_vip_key *key);

#endif /* LB_STATE_H */
