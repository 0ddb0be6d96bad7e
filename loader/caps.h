/* SPDX-License-Identifier: GPL-2.0 */
/* The capabilities lb-load needs, checked before it changes anything: root
 * alone is not enough where a container or a systemd unit's
 * CapabilityBoundingSet took some away. Without CAP_SYS_ADMIN the kernel still
 * attaches our program but refuses to find it again by id (docs/kernels.md,
 * "The privileges the tools need"), so a load could neither finish nor undo
 * its attach.
 */
#ifndef LB_CAPS_H
#define LB_CAPS_H

#include <stddef.h>

/* Names the effective capabilities lb-load lacks in @missing ("CAP_SYS_ADMIN",
 * "CAP_NET_ADMIN and CAP_SYS_ADMIN"); returns how many (0: none), or -errno.
 */
int lb_caps_missing(char *missing, size_t len);

#endif /* LB_CAPS_H */
