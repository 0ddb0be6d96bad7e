/* SPDX-License-Identifier: GPL-2.0 */
/* The metrics as a file for node_exporter's textfile collector: written to
 * PATH.tmp beside it, then renamed over PATH, so a reader sees the old file or
 * the new one, never a part (rename within a directory is atomic).
 */
#ifndef LBD_TEXTFILE_H
#define LBD_TEXTFILE_H

#include <stddef.h>

#include "lbd_metrics.h"

/* Writes @view to @path atomically. 0, or -errno with @err set
 * ("Failed to write PATH.tmp: why"); PATH is then left as it was.
 */
int lbd_textfile_write(const char *path, const struct lbd_view *view, char *err, size_t len);

#endif /* LBD_TEXTFILE_H */
