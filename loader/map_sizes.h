/* SPDX-License-Identifier: GPL-2.0 */
/* Maps sized by what the config uses (docs/architecture.md, "Maps sized by
 * the config"): the Maglev tables exist for the config's Maglev VIPs only,
 * the NAT state for NAT VIPs only, the pools and their weights for the VIPs
 * there are, so a config without them pays for one entry each, not 4, 12 and
 * 4 MiB.
 */
#ifndef LB_MAP_SIZES_H
#define LB_MAP_SIZES_H

#include <linux/types.h>
#include <stddef.h>

#include "config.h"
#include "maps.h"
#include "state.h"

/* Entries maglev_tables needs for @cfg while @live tables stay in use by the
 * generation the reload replaces: room for the live ones and one per Maglev
 * VIP of @cfg, and at least two per Maglev VIP (a later reload writes the next
 * generation's tables beside the live ones); at least 1 (a map cannot be
 * empty), at most LB_MAGLEV_TABLES.
 */
__u32 lb_maglev_tables_wanted(const struct lb_config *cfg, size_t live);

/* Makes array map @map (maglev_tables, pools, pool_weights: only the loader
 * writes them, the data path only reads) hold at least @entries: when it holds
 * fewer, creates a bigger one, copies every entry into it and puts its fd in
 * @maps; the old fd goes to *@old_fd (-1 when nothing changed), for the caller
 * to pin back if the reload fails, and to close. The old map stays pinned and
 * in use by the programs loaded until lb_map_repin() pins the new one. 1 when
 * it grew, 0 when it was big enough, -errno.
 */
int lb_map_grow_copy(struct lb_maps *maps, enum lb_map map, __u32 entries, int *old_fd);

/* Entries pools and pool_weights need for @cfg (two per VIP id) while the
 * live VIPs of @st (NULL at a first load) keep theirs; at most LB_MAX_POOLS.
 */
__u32 lb_pools_wanted(const struct lb_config *cfg, const struct lb_state *st);

/* Entries nat_reply and nat_forward need for @cfg: LB_NAT_TABLE_SIZE when an
 * IPv4 VIP uses NAT, else 1 (a map cannot be empty).
 */
__u32 lb_nat_entries_wanted(const struct lb_config *cfg);

/* The same for nat_reply6 and nat_forward6: an IPv6 VIP that uses NAT. */
__u32 lb_nat6_entries_wanted(const struct lb_config *cfg);

/* The NAT state maps, in the order lb_nat_maps_grow() reports them. */
#define LB_NAT_MAPS 4
extern const enum lb_map lb_nat_maps[LB_NAT_MAPS];

/* Entries flows6 needs for @cfg: flow_table_size when a VIP is IPv6, else 1,
 * so an IPv4-only config's memory does not change.
 */
__u32 lb_flows6_entries_wanted(const struct lb_config *cfg);

/* Makes flows6 hold @entries (a reload adding the first IPv6 VIP): a smaller
 * one is replaced by a new, empty map only if it holds no flow (-EBUSY
 * otherwise; it holds none unless an IPv6 VIP was live, and then it was full
 * size). The new fd goes into @maps, the old one to *@old_fd (-1: unchanged).
 * Only lb stages read it, and a reload loads them again. 1 when replaced, 0, -errno.
 */
int lb_flows6_grow(struct lb_maps *maps, __u32 entries, int *old_fd);

/* Makes each NAT state map (lb_nat_maps) hold what @cfg needs (above): a
 * smaller one is replaced by a new, empty one in @maps, its fd put in
 * @old_fd[] (in lb_nat_maps' order; -1 where nothing changed) for the caller
 * to close. Only an empty
 * map is replaced: the data path writes NAT state, which a copy could lose,
 * so one holding any is -EBUSY. parse reads nat_reply and nat_reply6: the
 * caller must load parse again (lb_parse_replace()) and pin the new maps. 1
 * when one grew, 0 when all were big enough, -errno (then @maps is unchanged).
 */
int lb_nat_maps_grow(struct lb_maps *maps, const struct lb_config *cfg,
		     int old_fd[LB_NAT_MAPS]);

/* Pins map @fd as map @map under @dir in place of the one pinned there:
 * pinned beside it first and renamed over it, so the path never names no map.
 */
int lb_map_repin(int fd, enum lb_map map, const char *dir);

#endif /* LB_MAP_SIZES_H */
