// SPDX-License-Identifier: GPL-2.0
/* The node_exporter textfile, replaced atomically; see lbd_textfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lbd_textfile.h"

int lbd_textfile_write(const char *path, const struct lbd_view *view, char *err, size_t len)
{
	char tmp[PATH_MAX];
	FILE *out;
	int fd, ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, len, "Failed to write %s: the name is too long", path);
		return -ENAMETOOLONG;
	}
	/* Readable by a node_exporter that runs as another user. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, len, "Failed to write %s: %s", tmp, strerror(-ret));
		return ret;
	}
	out = fdopen(fd, "w");
	if (!out) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	ret = lbd_metrics_write(out, view);
	if (fclose(out) && !ret)
		ret = -errno;
	if (ret)
		goto fail;
	if (rename(tmp, path)) {
		ret = -errno;
		snprintf(err, len, "Failed to rename %s to %s: %s", tmp, path, strerror(-ret));
		unlink(tmp);
		return ret;
	}
	return 0;
fail:
	snprintf(err, len, "Failed to write %s: %s", tmp, strerror(-ret));
	unlink(tmp);
	return ret;
}
