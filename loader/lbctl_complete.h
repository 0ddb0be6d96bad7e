/* SPDX-License-Identifier: GPL-2.0 */
/* Candidates for bash completion of lbctl, from lbctl's own tables and the
 * running state, so that completion follows every new command, slot, stage
 * and policy without a list of its own (dist/lbctl.bash calls it).
 */
#ifndef LBCTL_COMPLETE_H
#define LBCTL_COMPLETE_H

/* lbctl --complete WORD... : @words are the words after "lbctl" up to and
 * including the one being completed (the last, maybe ""). Prints each
 * candidate that starts with it, one per line: commands, then interfaces
 * xdp-lb is loaded on (every interface when the pins cannot be read, as by a
 * user who will run the command with sudo), slots, stages, VIPs (from the
 * pinned state, as root) and policies. Options are not completed here: the
 * script takes them from `lbctl COMMAND --help`. Always returns 0.
 */
int lbctl_complete(int count, char *const *words);

#endif /* LBCTL_COMPLETE_H */
