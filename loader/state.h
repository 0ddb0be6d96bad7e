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
	/* The vips entry's key; for an IPv6 VIP (from vips6) its port, protocol
	 * and generation, with addr 0: key6 holds the whole key.
	 */
	struct lb_vip_key key;
	struct lb_vip6_key key6;
	bool ipv6;
	struct lb_vip vip;
	struct lb_pool pool; /* the VIP's pool (live entries only; zero when unreadable) */
};

struct lb_state {
	__u32 gen; /* the config generation parse reads, 0 or 1 */
	/* Entries of that generation, sorted by address (IPv4 first), port and protocol. */
	struct lb_state_vip live[LB_MAX_VIPS];
	size_t live_count;
	/* Entries of the other generation: left by a reload that was killed
	 * before it switched, invisible to parse. Their pools are not read.
	 */
	struct lb_state_vip stale[LB_MAX_VIPS];
	size_t stale_count;
};

/* Reads the config generation and every VIP entry of vips and vips6. 0, or -errno (-EOVERFLOW
 * when a generation holds more than LB_MAX_VIPS entries).
 */
int lb_state_read(const struct lb_maps *maps, struct lb_state *st);

/* Which Maglev table a writer may fill, one rule for both writers: a reload
 * (apply.c, writing the next generation) and lbctl policy (writing into the
 * live one). A table is free when no entry of the live generation names it
 * and this writer has not taken it yet: parse reads only those, so a free
 * table is never rewritten under a packet. Entries of the other generation
 * (a reload killed before it switched) are invisible to parse and the next
 * lb-load removes them before it writes, so their tables count as free.
 * A generation names at most LB_MAGLEV_MAX_VIPS tables, and lb-load sizes the
 * map for the live generation's tables and its own (map_sizes.h), so a reload
 * always finds free ones; lbctl policy finds one only while the map has room.
 */
struct lb_maglev_alloc {
	bool busy[LB_MAGLEV_TABLES]; /* named by a live entry or taken by this writer */
	size_t named;                /* tables the generation being written names */
	__u32 capacity;              /* entries of maglev_tables: sized by the config */
};

/* Starts from @st: the next generation names no table yet, or, with
 * @into_live, the live generation names those its entries do.
 */
void lb_maglev_alloc_init(struct lb_maglev_alloc *a, const struct lb_state *st, bool into_live);

/* The tables the map holds (lb-load sizes it from the config, docs/policies.md,
 * "Maglev"): lb_maglev_alloc_take() takes none at or past @capacity. Without this call,
 * LB_MAGLEV_TABLES.
 */
void lb_maglev_alloc_capacity(struct lb_maglev_alloc *a, __u32 capacity);

/* Tables named by the live generation of @st. */
size_t lb_maglev_tables_live(const struct lb_state *st);

/* Takes the lowest free table: its number; -EDQUOT when the generation
 * already names LB_MAGLEV_MAX_VIPS tables; -ENOSPC when none is free.
 */
int lb_maglev_alloc_take(struct lb_maglev_alloc *a);

/* The live entry of @key, or NULL. */
const struct lb_state_vip *lb_state_find(const struct lb_state *st,
					 const struct lb_vip_key *key);
/* The live entry of IPv6 VIP @key (from vips6), or NULL. */
const struct lb_state_vip *lb_state_find6(const struct lb_state *st,
					  const struct lb_vip6_key *key);

#endif /* LB_STATE_H */
