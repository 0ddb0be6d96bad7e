// SPDX-License-Identifier: GPL-2.0
/* The pinned state xdp-lbd reads, opened and followed; see lbd_source.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "lbd_log.h"
#include "lbd_source.h"
#include "pipeline.h"
#include "stages.h"

void lbd_source_init(struct lbd_source *src, const char *ifname, double retry_s)
{
	memset(src, 0, sizeof(*src));
	src->ifname = ifname;
	src->retry_s = retry_s;
	lb_maps_init(&src->maps);
}

void lbd_source_close(struct lbd_source *src)
{
	if (src->open)
		lb_maps_close(&src->maps);
	src->open = false;
}

/* The pin whose identity tells one load from the next. */
static int pin_stat(const struct lbd_source *src, struct stat *st)
{
	char path[LB_PIN_DIR_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", src->pin_dir, lb_map_names[LB_MAP_COUNTERS]);
	return stat(path, st) ? -errno : 0;
}

static void wait_message(struct lbd_source *src, const char *why)
{
	if (src->told_waiting)
		return;
	src->told_waiting = true;
	lbd_log(LBD_WARN, "xdp-lb is not loaded on %s (%s): looking again every %g s",
		src->ifname, why, src->retry_s);
}

static bool try_open(struct lbd_source *src)
{
	const char *missing = NULL;
	char why[LB_PIN_DIR_MAX + 96];
	struct stat st;
	int err;

	err = lb_bpffs_check();
	if (err) {
		wait_message(src, "no bpffs mounted at " LB_BPFFS);
		return false;
	}
	/* The namespace part of the name is looked up again each time: the
	 * name under /run/netns may have been given after we started.
	 */
	lb_pin_dir(src->ifname, src->pin_dir, sizeof(src->pin_dir));
	err = stat(src->pin_dir, &st) ? -errno : 0;
	if (!err)
		err = lb_maps_open_pinned(src->pin_dir, &src->maps, &missing);
	if (err == -ENOENT && !missing) {
		snprintf(why, sizeof(why), "no state under %s", src->pin_dir);
		wait_message(src, why);
		return false;
	}
	if (err) {
		/* A first load pins into a staging directory and renames it,
		 * so part of the pins means a broken state, not a load going on.
		 */
		snprintf(why, sizeof(why), "the state under %s is incomplete: %s%s%s",
			 src->pin_dir, strerror(-err), missing ? ", missing " : "",
			 missing ? missing : "");
		wait_message(src, why);
		return false;
	}
	if (pin_stat(src, &st)) {
		lb_maps_close(&src->maps);
		return false;
	}
	src->pin_dev = st.st_dev;
	src->pin_ino = st.st_ino;
	src->open = true;
	src->told_waiting = false;
	lbd_log(LBD_INFO, "reading xdp-lb on %s (%s)", src->ifname, src->pin_dir);
	return true;
}

bool lbd_source_refresh(struct lbd_source *src)
{
	struct stat st;

	if (src->open) {
		if (pin_stat(src, &st)) {
			lbd_log(LBD_WARN, "xdp-lb was unloaded from %s: waiting for a new load",
				src->ifname);
			lbd_source_close(src);
			src->told_waiting = true;
			return false;
		}
		if (st.st_dev == src->pin_dev && st.st_ino == src->pin_ino &&
		    !lb_maps_replaced(&src->maps, src->pin_dir))
			return true;
		lbd_log(LBD_INFO, "xdp-lb was loaded anew on %s, or a reload replaced maps: "
			"reading its new maps", src->ifname);
		lbd_source_close(src);
	}
	return try_open(src);
}

static void load_info(const struct lbd_source *src, __u32 generation,
		      struct lbd_load_info *info)
{
	int ifindex = (int)if_nametoindex(src->ifname);
	struct lb_attachment att = { 0 };
	__u32 slot;

	memset(info, 0, sizeof(*info));
	info->generation = generation;
	if (ifindex && !lb_attachment_query(ifindex, &att) && att.found) {
		info->attached = true;
		info->legacy = att.legacy;
		info->skb_mode = att.mode == XDP_MODE_SKB;
	}
	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		const struct lb_stage_def *def = lb_slot_stage(&src->maps, src->pin_dir, slot);

		info->slot_stage[slot] = def ? def->name : NULL;
	}
}

int lbd_source_sample(struct lbd_source *src, struct lb_stats_sample *sample,
		      struct lbd_load_info *info)
{
	__u32 key = 0, generation = 0;
	int err;

	if (!src->open)
		return -ENOENT;
	err = lb_stats_sample(&src->maps, src->ifname, sample);
	if (err) {
		lbd_log(LBD_ERR, "Failed to read the maps of %s: %s", src->ifname, strerror(-err));
		lbd_source_close(src);
		return err;
	}
	bpf_map_lookup_elem(src->maps.fd[LB_MAP_CONFIG_GEN], &key, &generation);
	load_info(src, generation, info);
	return 0;
}
