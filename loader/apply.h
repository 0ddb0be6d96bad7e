/* SPDX-License-Identifier: GPL-2.0 */
/* Writes a config into the shared maps: VIPs, pools, backends.
 *
 * All or nothing, also when killed: the VIPs are written as a new config
 * generation that parse does not see until one word (config_gen) flips; only
 * then is the old generation removed.
 *
 * Ids stay stable: a VIP keeps its id while (address, port, protocol) stays, a
 * backend keeps its id while (VIP, address, MAC) stays, so established flows
 * (which store a backend id) survive a reload. A VIP's new backend list goes
 * into its spare pool and is published by one atomic update of its vips entry.
 * Every visible write is journaled; on failure the journal is played back and
 * the maps are as they were.
 *
 * Next to each pool go what the policies need, also into the spare slots and
 * published with the VIP entry: the pool's weights (pool_weights) and, for a
 * Maglev VIP, a lookup table built into a table the live generation does not
 * use. The VIP entry carries the config's policy, so a reload undoes any
 * lbctl policy switch.
 */
#ifndef LB_APPLY_H
#define LB_APPLY_H

#include <stddef.h>

#include "config.h"
#include "maps.h"

struct lb_apply_result {
	size_t vips_added, vips_kept, vips_removed;
	size_t backends_added, backends_kept, backends_removed;
};

/* 0, or -errno with a message in @err (the maps are unchanged then). */
int lb_apply_config(const struct lb_maps *maps, const struct lb_config *cfg,
		    struct lb_apply_result *res, char *err, size_t err_len);

#endif /* LB_APPLY_H */
