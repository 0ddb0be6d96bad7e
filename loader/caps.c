// SPDX-License-Identifier: GPL-2.0
/* The capabilities lb-load needs; see caps.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "caps.h"

/* CAP_BPF and CAP_PERFMON are granted by CAP_SYS_ADMIN too: not asked for. */
static const struct {
	int cap;
	const char *name;
} needed[] = {
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },  /* attach XDP, the interface's sysctls */
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },  /* programs and maps by id; bpffs mount */
};

int lb_caps_missing(char *missing, size_t len)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	size_t i;
	int count = 0;

	missing[0] = '\0';
	/* No libcap for one system call: glibc has no wrapper. */
	if (syscall(SYS_capget, &header, data))
		return -errno;
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		int cap = needed[i].cap;

		if (data[cap / 32].effective & (1U << (cap % 32)))
			continue;
		snprintf(missing + strlen(missing), len - strlen(missing), "%s%s",
			 count ? " and " : "", needed[i].name);
		count++;
	}
	return count;
}
