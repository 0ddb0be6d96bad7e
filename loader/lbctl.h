/* SPDX-License-Identifier: GPL-2.0 */
/* What lbctl's commands share: the opened state of one interface, the exit
 * codes, and the commands that live in files of their own (status, flows,
 * the counter reset).
 */
#ifndef LB_LBCTL_H
#define LB_LBCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "maps.h"
#include "pins.h"
#include "state.h"

/* lbctl's exit codes, the same for every command (docs/operations.md, "Exit
 * codes"); lbctl --help lists them. When several states of status hold, the
 * smallest code is returned: the one that matters most.
 * X(ID, code, meaning)
 */
#define LBCTL_EXIT_CODES(X)                                                                        \
	X(OK, 0, "done; for status: attached, every slot filled, every VIP has an up backend")   \
	X(FAILED, 1, "failed: not root, a map that cannot be read or written, a refused change") \
	X(USAGE, 2, "bad command line: nothing was read or changed")                              \
	X(NOT_LOADED, 3, "xdp-lb is not loaded on IFNAME (no pinned state)")                     \
	X(DATA_PATH, 4, "status: loaded, but parse is not attached or a stage slot is empty")    \
	X(NO_BACKEND, 5, "status: a VIP has no up backend (all drain or down): new flows dropped")

#define LBCTL_EXIT_ENUM(id, code, meaning) LBCTL_EXIT_##id = code,
enum lbctl_exit { LBCTL_EXIT_CODES(LBCTL_EXIT_ENUM) };
#undef LBCTL_EXIT_ENUM

struct ctl {
	const char *ifname;
	char pin_dir[LB_PIN_DIR_MAX];
	struct lb_maps maps;
	struct lbctl_args args; /* the parsed command line */
};

/* The live generation's VIPs (state.h), read once per command; none (and an
 * error printed) when the map cannot be read.
 */
const struct lb_state *lbctl_read_state(const struct ctl *ctl);

/* Each returns an exit code (enum lbctl_exit). */
int lbctl_status(struct ctl *ctl);
int lbctl_flows(struct ctl *ctl);
int lbctl_reset(struct ctl *ctl);

#endif /* LB_LBCTL_H */
