// SPDX-License-Identifier: GPL-2.0
/* `lbctl stats --reset`: zeroes the figures lbctl stats shows as counts.
 *
 * Zeroed: the stage counters (counters map), each VIP's drops (vip_drops) and
 * each backend's packets, bytes and new flows (backend_stats); the drops outside our counters count again
 * from now (host_state's baseline is set to today's driver and kernel
 * figures). Kept: what the scheduler decides by (backend_load, the
 * least-loaded metric, and backend_conns, least-conn's active flows) and the
 * flow table: zeroing them would move new flows, which a look at the figures
 * must never do.
 *
 * Not atomic against traffic: the maps are per CPU and written entry by entry
 * while the stages keep counting, so a packet counted during the reset may be
 * kept or lost; the figures agree with each other again from the next packet
 * on. Readers that compute rates (Prometheus) see a counter reset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "host.h"
#include "lbctl.h"
#include "log.h"

/* Writes zeros into every entry of array map @fd (per-CPU ones on every CPU).
 * The number of entries zeroed, or -errno.
 */
static long zero_array(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), key;
	size_t size;
	void *zeros;
	int cpus;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY && info.type != BPF_MAP_TYPE_PERCPU_ARRAY)
		return -EINVAL;
	cpus = info.type == BPF_MAP_TYPE_PERCPU_ARRAY ? libbpf_num_possible_cpus() : 1;
	if (cpus < 0)
		return cpus;
	/* Per-CPU values are copied in 8-byte strides. */
	size = info.type == BPF_MAP_TYPE_PERCPU_ARRAY ? ((size_t)info.value_size + 7) / 8 * 8 :
							 info.value_size;
	zeros = calloc((size_t)cpus, size);
	if (!zeros)
		return -ENOMEM;
	for (key = 0; key < info.max_entries; key++) {
		if (bpf_map_update_elem(fd, &key, zeros, BPF_EXIST)) {
			free(zeros);
			return -errno;
		}
	}
	free(zeros);
	return (long)info.max_entries;
}

/* The drops outside our counters count from now: a new baseline. */
static int rebase_outside(const struct ctl *ctl)
{
	struct lb_host_state host;
	int err = lb_host_state_read(&ctl->maps, &host);

	if (err)
		return err;
	err = lb_drop_stats_read(ctl->ifname, &host.baseline);
	if (err)
		return err;
	return lb_host_state_write(&ctl->maps, &host);
}

int lbctl_reset(struct ctl *ctl)
{
	long counters, vip_drops = 0, backends = 0;
	int lock_fd, err;

	/* The same lock as lb-load: a reload rewrites host_state. */
	lock_fd = lb_lock_interface(ctl->ifname);
	if (lock_fd < 0) {
		lb_err("another lb-load or lbctl is changing %s right now; try again", ctl->ifname);
		return LBCTL_EXIT_FAILED;
	}
	counters = zero_array(ctl->maps.fd[LB_MAP_COUNTERS]);
	if (counters >= 0)
		vip_drops = zero_array(ctl->maps.fd[LB_MAP_VIP_DROPS]);
	if (counters >= 0 && vip_drops >= 0)
		backends = zero_array(ctl->maps.fd[LB_MAP_BACKEND_STATS]);
	err = counters < 0 ? (int)counters : vip_drops < 0 ? (int)vip_drops :
	      backends < 0 ? (int)backends : rebase_outside(ctl);
	close(lock_fd);
	if (err) {
		lb_err("Failed to reset the counters of %s: %s", ctl->ifname, strerror(-err));
		return LBCTL_EXIT_FAILED;
	}
	printf("%s: counters reset: %ld stage counters, the drops of %ld VIP slots, packets, "
	       "bytes and new flows of %ld backend slots; drops outside xdp-lb count from now. "
	       "Kept: the flow table and "
	       "what the policies decide by (least-loaded's load, least-conn's active flows)\n",
	       ctl->ifname, counters, vip_drops, backends);
	return LBCTL_EXIT_OK;
}
