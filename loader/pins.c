// SPDX-License-Identifier: GPL-2.0
/* bpffs, pin directory and lock handling; see pins.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/magic.h>

#include "maps.h"
#include "pins.h"
#include "stages.h"

/* Inode of one of a process's namespaces, or 0 when it cannot be read (pid 1's
 * are unreadable in many containers and hardened hosts).
 */
static ino_t ns_inode(const char *pid, const char *type)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/%s", pid, type);
	return stat(path, &st) ? 0 : st.st_ino;
}

/* Whether the calling process is in the initial network namespace. pid 1's
 * namespace answers where it can be read; elsewhere a sysctl the kernel
 * registers for the initial namespace only (net.core.netdev_max_backlog) does:
 * /proc/sys/net shows the reading process's own namespace.
 */
static bool in_initial_netns(ino_t self)
{
	ino_t init = ns_inode("1", "net");

	if (init)
		return init == self;
	return access("/proc/sys/net/core/netdev_max_backlog", F_OK) == 0;
}

/* A name can be a bpffs directory name and a file name: bpffs refuses dots. */
static bool pin_safe_name(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= LB_NETNS_NAME_MAX && !strpbrk(name, "./ \t\n");
}

/* The first name (in byte order) under /run/netns bound to network namespace
 * @inode, or "" when none is (or none is usable in a path).
 */
static void netns_name(ino_t inode, char *name, size_t len)
{
	struct dirent *de;
	struct stat st;
	char path[300];
	DIR *dir;

	name[0] = '\0';
	dir = opendir(LB_NETNS_RUN_DIR);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (!pin_safe_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", LB_NETNS_RUN_DIR, de->d_name);
		if (stat(path, &st) || st.st_ino != inode)
			continue;
		if (!name[0] || strcmp(de->d_name, name) < 0)
			snprintf(name, len, "%s", de->d_name);
	}
	closedir(dir);
}

void lb_netns_identify(struct lb_netns *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->inode = (unsigned long)ns_inode("self", "net");
	ns->initial = in_initial_netns((ino_t)ns->inode);
	if (!ns->initial)
		netns_name((ino_t)ns->inode, ns->name, sizeof(ns->name));
}

/* The source of the sysfs mounted on /sys in our mount namespace. `ip netns
 * exec NAME` mounts a fresh sysfs there with NAME as its source; the host's
 * says "sysfs". The last /sys line of mountinfo is the one on top.
 */
static void sys_mount_source(char *source, size_t len)
{
	char line[1024], mnt[256], fstype[64], src[256];
	const char *sep;
	FILE *f;

	source[0] = '\0';
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* id parent major:minor root MOUNTPOINT ... - FSTYPE SOURCE ... */
		if (sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1 || strcmp(mnt, "/sys"))
			continue;
		sep = strstr(line, " - ");
		if (sep && sscanf(sep + 3, "%63s %255s", fstype, src) == 2 &&
		    !strcmp(fstype, "sysfs"))
			snprintf(source, len, "%s", src);
	}
	fclose(f);
}

bool lb_in_ip_netns_exec(char *name, size_t len)
{
	char source[256], path[300];
	struct stat st;

	sys_mount_source(source, sizeof(source));
	if (!source[0] || !strcmp(source, "sysfs") || strchr(source, '/'))
		return false;
	/* The source must name the network namespace we are in. */
	snprintf(path, sizeof(path), "%s/%s", LB_NETNS_RUN_DIR, source);
	if (stat(path, &st) || st.st_ino != ns_inode("self", "net"))
		return false;
	snprintf(name, len, "%s", source);
	return true;
}

static bool bpffs_mounted(void)
{
	struct statfs fs;

	return statfs(LB_BPFFS, &fs) == 0 && fs.f_type == BPF_FS_MAGIC;
}

int lb_bpffs_ensure(bool *mounted_now)
{
	char name[256];

	*mounted_now = false;
	if (bpffs_mounted())
		return 0;
	/* `ip netns exec` runs us in a new mount namespace with its own /sys: a
	 * bpffs mounted there, and every pin in it, is gone when it exits, and
	 * the prog array would be emptied with it.
	 */
	if (lb_in_ip_netns_exec(name, sizeof(name)))
		return -ENOTSUP;
	if (mkdir(LB_BPFFS, 0700) && errno != EEXIST)
		return -errno;
	if (mount("bpf", LB_BPFFS, "bpf", 0, "mode=0700"))
		return -errno;
	*mounted_now = true;
	return 0;
}

int lb_bpffs_check(void)
{
	char name[256];

	if (bpffs_mounted())
		return 0;
	return lb_in_ip_netns_exec(name, sizeof(name)) ? -ENOTSUP : -ENOENT;
}

/* @ifname as a bpffs name: bpffs refuses dots (VLAN devices are eth0.100),
 * and '@' separates the namespace; both, and the escape itself, become %XX,
 * so two interface names never share a directory.
 */
static void escape_ifname(const char *ifname, char *out, size_t len)
{
	size_t used = 0;

	for (; *ifname && used + 4 <= len; ifname++) {
		if (*ifname == '.' || *ifname == '@' || *ifname == '%')
			used += (size_t)snprintf(out + used, len - used, "%%%02x",
						 (unsigned char)*ifname);
		else
			out[used++] = *ifname;
	}
	out[used] = '\0';
}

void lb_pin_dir(const char *ifname, char *buf, size_t len)
{
	char name[3 * IF_NAMESIZE + 1];
	struct lb_netns ns;

	/* Interface names are per network namespace and bpffs is not: outside
	 * the initial namespace the directory also names the namespace, by its
	 * /run/netns name where it has one, else by its inode.
	 */
	lb_netns_identify(&ns);
	escape_ifname(ifname, name, sizeof(name));
	if (ns.initial)
		snprintf(buf, len, "%s/%s", LB_PIN_ROOT, name);
	else if (ns.name[0])
		snprintf(buf, len, "%s/%s@%s", LB_PIN_ROOT, name, ns.name);
	else
		snprintf(buf, len, "%s/%s@netns%lu", LB_PIN_ROOT, name, ns.inode);
}

int lb_pin_dir_create(const char *dir)
{
	if (mkdir(LB_PIN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* /run/xdp-lb/<pin directory's name>.lock: each namespace has its own lock. */
static void lock_path(const char *ifname, char *buf, size_t len)
{
	char dir[LB_PIN_DIR_MAX];

	lb_pin_dir(ifname, dir, sizeof(dir));
	snprintf(buf, len, "%s/%s.lock", LB_LOCK_DIR, strrchr(dir, '/') + 1);
}

void lb_lock_remove(const char *ifname)
{
	char path[LB_PIN_DIR_MAX + 32];

	lock_path(ifname, path, sizeof(path));
	unlink(path);
}

/* @tries attempts 1 ms apart. */
static int lock_interface(const char *ifname, int tries)
{
	char path[LB_PIN_DIR_MAX + 32];
	int fd;

	if (mkdir(LB_LOCK_DIR, 0700) && errno != EEXIST)
		return -errno;
	lock_path(ifname, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = -errno;

		if (err != -EWOULDBLOCK || --tries <= 0) {
			close(fd);
			return err;
		}
		usleep(1000);
	}
	return fd;
}

/* xdp-lbd holds the lock for the microseconds of one health write: a short
 * wait lets lb-load and lbctl pass it, while another lb-load (seconds) is
 * still reported at once.
 */
int lb_lock_interface(const char *ifname)
{
	return lock_interface(ifname, 100);
}

int lb_lock_interface_now(const char *ifname)
{
	return lock_interface(ifname, 1);
}

/* Removes our pins under @dir, then @dir. */
static int remove_pin_dir(const char *dir)
{
	char path[LB_PIN_DIR_MAX + 64];
	int i, err = 0;
	size_t s;

	for (i = 0; i < LB_MAP_COUNT; i++) {
		if (!lb_map_is_pinned(i))
			continue;
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
	char staging[LB_PIN_DIR_MAX + 8];
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
