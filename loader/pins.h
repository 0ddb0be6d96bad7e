/* SPDX-License-Identifier: GPL-2.0 */
/* Where an interface's state lives: bpffs pins and the per-interface lock. */
#ifndef LB_PINS_H
#define LB_PINS_H

#include <stddef.h>

#define LB_BPFFS "/sys/fs/bpf"
#define LB_PIN_ROOT LB_BPFFS "/xdp-lb"
#define LB_LOCK_DIR "/run/xdp-lb"

/* Mounts bpffs at /sys/fs/bpf when nothing is mounted there. 0 or -errno;
 * -ENOTSUP in a mount namespace other than init's (ip netns exec), where a
 * new bpffs would vanish with the process.
 */
int lb_bpffs_ensure(void);

/* /sys/fs/bpf/xdp-lb/<ifname> into @buf; in a network namespace other than
 * the initial one, /sys/fs/bpf/xdp-lb/<ifname>@netns<inode>.
 */
void lb_pin_dir(const char *ifname, char *buf, size_t len);

/* Takes the interface's lock without waiting; returns the lock fd, or -errno
 * (-EWOULDBLOCK: another lb-load holds it). Released when the process exits.
 */
int lb_lock_interface(const char *ifname);

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
