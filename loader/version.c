// SPDX-License-Identifier: GPL-2.0
/* The build's version (version.h); the only file that includes the generated header. */
#include <stdio.h>

#include "lb_version.h"
#include "version.h"

const char lb_version[] = LB_VERSION;

void lb_version_print(const char *tool)
{
	printf("%s (xdp-lb) %s\n", tool, lb_version);
}
