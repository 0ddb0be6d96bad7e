/* SPDX-License-Identifier: GPL-2.0 */
/* The version every tool prints for --version: `git describe --always --dirty`
 * of the source tree when it was built, else the first line of its VERSION
 * file, else "unknown". The Makefile writes it into $(OUTPUT)/gen/lb_version.h
 * and replaces that header only when the version changes, so a new commit
 * recompiles version.c alone and relinks the tools.
 */
#ifndef LB_VERSION_H
#define LB_VERSION_H

extern const char lb_version[];

/* "lb-load (xdp-lb) 7287107-dirty" on stdout: the form help2man and
 * packagers expect, the tool's name first.
 */
void lb_version_print(const char *tool);

#endif /* LB_VERSION_H */
