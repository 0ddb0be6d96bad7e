/* SPDX-License-Identifier: GPL-2.0 */
/* What xdp-lbd watches: the pinned state lb-load leaves for one interface. It
 * opens the pins when they appear (the daemon may start first), notices an
 * unload (the pins go) and a new first load (new pins: other maps), and
 * samples the maps read-only (stats.h) with the load's attachment.
 */
#ifndef LBD_SOURCE_H
#define LBD_SOURCE_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>

#include "lb_consts_common.h"
#include "maps.h"
#include "pins.h"
#include "stats.h"

/* How the load runs, beside its figures. */
struct lbd_load_info {
	bool attached;   /* parse is attached to the interface */
	bool legacy;     /* a single program, no libxdp dispatcher */
	bool skb_mode;   /* generic XDP */
	__u32 generation; /* the config generation parse reads (0 or 1) */
	const char *slot_stage[LB_SLOT_COUNT]; /* stage name in each slot, NULL: empty */
};

struct lbd_source {
	const char *ifname;
	char pin_dir[LB_PIN_DIR_MAX];
	struct lb_maps maps;
	bool open;
	dev_t pin_dev;          /* the counters pin when opened: a new load has another */
	ino_t pin_ino;
	bool told_waiting;      /* "not loaded" logged since the last change */
	double retry_s;         /* for the message */
};

void lbd_source_init(struct lbd_source *src, const char *ifname, double retry_s);

/* Opens the pins when they are there and not open yet, reopens them after a
 * new load, closes them after an unload; logs each change once. True when
 * open afterwards.
 */
bool lbd_source_refresh(struct lbd_source *src);

/* One sample of the open maps. 0 or -errno (the source is then closed, and
 * the next refresh looks again).
 */
int lbd_source_sample(struct lbd_source *src, struct lb_stats_sample *sample,
		      struct lbd_load_info *info);

void lbd_source_close(struct lbd_source *src);

#endif /* LBD_SOURCE_H */
