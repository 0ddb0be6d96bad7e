/* SPDX-License-Identifier: GPL-2.0 */
/* Where an interface's state lives: bpffs pins and the per-interface lock. */
#ifndef LB_PINS_H
#define LB_PINS_H

#include <stdbool.h>
#include <stddef.h>

#define LB_BPFFS "/sys/fs/bpf"
#define LB_PIN_ROOT LB_BPFFS "/xdp-lb"
#define LB_LOCK_DIR "/run/xdp-lb"

#define LB_NETNS_RUN_DIR "/run/netns"
/* Longest /run/netns name used in a pin directory's name; longer ones (and
 * names bpffs refuses: with a dot) fall back to the namespace's inode.
 */
#define LB_NETNS_NAME_MAX 64

/* Room for a pin directory: the root, an interface name with every byte
 * escaped (%XX), '@' and the longest namespace name.
 */
#define LB_PIN_DIR_MAX (sizeof(LB_PIN_ROOT) + 3 * 16 + 1 + LB_NETNS_NAME_MAX + 16)

/* The network namespace the caller runs in, as pin directories name it. */
struct lb_netns {
	bool initial;                      /* the host's own namespace */
	unsigned long inode;               /* its nsfs inode */
	char name[LB_NETNS_NAME_MAX + 1];  /* its /run/netns name, or "" */
};

void lb_netns_identify(struct lb_netns *ns);

/* True when we run under `ip netns exec`: /sys is the sysfs that iproute2
 * mounts for the namespace (its source is the namespace's name, @name gets it).
 */
bool lb_in_ip_netns_exec(char *name, size_t len);

/* Mounts bpffs at /sys/fs/bpf when nothing is mounted there (*mounted_now then
 * true). 0 or -errno; -ENOTSUP under `ip netns exec`, where a new bpffs would
 * vanish with the command. Anywhere else (a private mount namespace, as in a
 * container) the mount lives as long as that mount namespace.
 */
int lb_bpffs_ensure(bool *mounted_now);

/* For readers (lbctl): 0 when bpffs is mounted, -ENOTSUP when it is not and we
 * run under `ip netns exec`, -ENOENT when it is not otherwise.
 */
int lb_bpffs_check(void);

/* The message for -ENOTSUP from the two above, shared by lb-load and lbctl. */
#define LB_IP_NETNS_EXEC_MSG                                                             \
	"no bpffs at " LB_BPFFS " under `ip netns exec` (it gives each command its own "  \
	"/sys): pins made here would vanish when the command exits. Run the tool with "   \
	"nsenter --net=/run/netns/NAME instead"

/* /sys/fs/bpf/xdp-lb/<ifname> in the initial network namespace (with '.',
 * '@' and '%' in the name written %XX: bpffs refuses dots); elsewhere
 * /sys/fs/bpf/xdp-lb/<ifname>@<name> for a namespace named under /run/netns,
 * else /sys/fs/bpf/xdp-lb/<ifname>@netns<inode>.
 */
void lb_pin_dir(const char *ifname, char *buf, size_t len);

/* Creates @dir (a pin directory) and the xdp-lb root above it. 0 or -errno. */
int lb_pin_dir_create(const char *dir);

/* Takes the interface's lock, waiting at most 100 ms (xdp-lbd holds it for
 * a few microseconds at a time); returns the lock fd, or -errno
 * (-EWOULDBLOCK: another lb-load holds it). Released when the process exits.
 */
int lb_lock_interface(const char *ifname);

/* The same without waiting: for xdp-lbd, whose loop must not stall while an
 * lb-load works.
 */
int lb_lock_interface_now(const char *ifname);

/* Where a first load pins everything before it renames the directory to @dir:
 * <dir>_new. The state then appears whole or not at all, even when the load is
 * killed while pinning.
 */
void lb_pin_staging_dir(const char *dir, char *buf, size_t len);

/* Removes the lock file after an unload, while still holding the lock. */
void lb_lock_remove(const char *ifname);

/* Removes the map pins and stage pins under @dir and its staging directory,
 * then the directories and, if empty, the xdp-lb root. Missing pins are not an error. 0 or -errno of the first failure.
 */
int lb_pins_remove(const char *dir);

#endif /* LB_PINS_H */
