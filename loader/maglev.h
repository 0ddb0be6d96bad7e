/* SPDX-License-Identifier: GPL-2.0 */
/* Maglev lookup tables (Eisenbud et al., NSDI 2016), built in the loader.
 *
 * Each backend has a preference list, a permutation of the table's positions
 * derived from its address alone; backends take turns claiming their next
 * preferred free position until the table is full. The result depends only on
 * the set of (address, weight) pairs, not on their order, ids or history, so
 * two balancers with the same config build the same table. Weights: a backend
 * takes turns in proportion to its weight (credits per round), so it owns its
 * weighted share of positions within one position.
 */
#ifndef LB_MAGLEV_H
#define LB_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maps.h"

struct lb_maglev_table;

struct lb_maglev_backend {
	uint32_t addr;   /* the backend's identity in the table: its IPv4 address in
			  * network byte order, an IPv6 one's lb_addr6_hash() */
	uint32_t weight; /* 0: left out */
	uint32_t id;     /* what the table stores (the backends map key) */
};

bool lb_is_prime(uint32_t n);

/* Fills @table[0..@size-1] with the ids of @backends. @size must be a prime
 * (> 1); with no backend of weight >= 1 every entry is LB_NO_BACKEND.
 * 0, -EINVAL (size), -E2BIG (more backends than positions) or -ENOMEM.
 */
int lb_maglev_build(const struct lb_maglev_backend *backends, size_t count, uint32_t size,
		    uint32_t *table);

/* Builds the table of pool @pool_id (its UP backends of @vip_id, with their
 * weights, as the maps hold them now) into @out, @size entries. 0 or -errno.
 */
int lb_maglev_from_maps(const struct lb_maps *maps, uint32_t pool_id, uint32_t vip_id,
			uint32_t size, struct lb_maglev_table *out);

struct lb_state;
struct lb_state_vip;

/* Gives @view, a live VIP entry without a table (lbctl policy), a table of
 * its pool: taken by lb_maglev_alloc_take() into the live generation of @st,
 * the rule a reload follows too, built and written, not yet named by the
 * entry. The table's number in @table_id; 0, -EDQUOT (the live generation
 * already names LB_MAGLEV_MAX_VIPS tables), -ENOSPC or another -errno.
 */
int lb_maglev_table_for_live(const struct lb_maps *maps, const struct lb_state *st,
			     const struct lb_state_vip *view, uint16_t *table_id);

#endif /* LB_MAGLEV_H */
