// SPDX-License-Identifier: GPL-2.0
/* bpffs, pin directory and lock handling; see pins.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "maps.h"
#include "pins.h"
#include "stages.h"

/* Inode of one of our namespaces, or 0. */
static ino_t ns_inode(const char *pid, const char *type)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/%s", pid, type);
	return stat(path, &st) ? 0 : st.st_ino;
}

int lb_bpffs_ensure(void)
{
	struct statfs fs;

	if (statfs(LB_BPFFS, &fs) == 0 && fs.f_type == BPF_FS_MAGIC)
		return 0;
	/* `ip netns exec` runs us in a new mount namespace with its own /sys: a
	 * bpffs mounted there, and every pin in it, is gone when we exit, and
	 * the prog array would be emptied with it.
	 */
	if (ns_inode("self", "mnt") != ns_inode("1", "mnt"))
		return -ENOTSUP;
	if (mkdir(LB_BPFFS, 0700) && errno != EEXIST)
		return -errno;
	if (mount("bpf", LB_BPFFS, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

void lb_pin_dir(const char *ifname, char *buf, size_t len)
{
	ino_t net = ns_inode("self", "net");

	/* Interface names are per network namespace and bpffs is not: outside
	 * the initial namespace the directory also names the namespace.
	 */
	if (net == ns_inode("1", "net"))
		snprintf(buf, len, "%s/%s", LB_PIN_ROOT, ifname);
	else
		snprintf(buf, len, "%s/%s@netns%lu", LB_PIN_ROOT, ifname, (unsigned long)net);
}

/* /run/xdp-lb/<pin directory's name>.lock: each namespace has its own lock. */
static void lock_path(const char *ifname, char *buf, size_t len)
{
	char dir[128];

	lb_pin_dir(ifname, dir, sizeof(dir));
	snprintf(buf, len, "%s/%s.lock", LB_LOCK_DIR, strrchr(dir, '/') + 1);
}

void lb_lock_remove(const char *ifname)
{
	char path[160];

	lock_path(ifname, path, sizeof(path));
	unlink(path);
}

int lb_lock_interface(const char *ifname)
{
	char path[160];
	int fd;

	if (mkdir(LB_LOCK_DIR, 0700) && errno != EEXIST)
		return -errno;
	lock_path(ifname, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Removes our pins under @dir, then @dir. */
static int remove_pin_dir(const char *dir)
{
	char path[256];
	int i, err = 0;
	size_t s;

	for (i = 0; i < LB_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, lb_map_names[i]);
		if (unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	for (s = 0; s < lb_stage_def_count; s++) {
		lb_stage_pin_path(dir, &lb_stage_defs[s], path, sizeof(path));
		if (unlink(path) && errno != ENOENT && !err)
			err = -errno;
		/* The aside pin of a load that was interrupted while pinning. */
		strncat(path, "_new", sizeof(path) - strlen(path) - 1);
		if (unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	if (rmdir(dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

void lb_pin_staging_dir(const char *dir, char *buf, size_t len)
{
	/* bpffs refuses names with a dot. */
	snprintf(buf, len, "%s_new", dir);
}

int lb_pins_remove(const char *dir)
{
	char staging[160];
	int err = remove_pin_dir(dir), staging_err;

	/* And the staging directory of a first load that was interrupted. */
	lb_pin_staging_dir(dir, staging, sizeof(staging));
	staging_err = remove_pin_dir(staging);
	if (!err)
		err = staging_err;
	/* The root is shared by all interfaces: only remove it when empty. */
	if (rmdir(LB_PIN_ROOT) && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		if (!err)
			err = -errno;
	return err;
}
