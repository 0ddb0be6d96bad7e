// SPDX-License-Identifier: GPL-2.0
/* Completion candidates for lbctl; see lbctl_complete.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "input.h"
#include "lbctl_complete.h"
#include "log.h"
#include "maps.h"
#include "pins.h"
#include "stages.h"
#include "state.h"
#include "stats.h"

/* Prints @word when it completes @prefix. */
static void offer(const char *word, const char *prefix)
{
	if (!strncmp(word, prefix, strlen(prefix)))
		printf("%s\n", word);
}

/* The command @word names as lbctl takes it: whole, or the only command it
 * starts (cli.c's rule); -1 when none or several.
 */
static int command_of(const char *word)
{
	int i, found = -1;

	for (i = 0; i < LBCTL_CMD_COUNT; i++) {
		if (!strcmp(lbctl_commands[i].name, word))
			return i;
		if (*word && !strncmp(lbctl_commands[i].name, word, strlen(word)))
			found = found == -1 ? i : -2;
	}
	return found < 0 ? -1 : found;
}

/* Interfaces of this network namespace that have xdp-lb's state; all of them
 * when the pin root cannot be read (a user, not root).
 */
static void offer_interfaces(const char *prefix)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	char dir[LB_PIN_DIR_MAX];
	bool readable = access(LB_PIN_ROOT, X_OK) == 0 || errno != EACCES;

	if (!ifs)
		return;
	for (i = ifs; i->if_index; i++) {
		lb_pin_dir(i->if_name, dir, sizeof(dir));
		if (!readable || access(dir, F_OK) == 0)
			offer(i->if_name, prefix);
	}
	if_freenameindex(ifs);
}

/* The live VIPs of @ifname as `lbctl policy` takes them: 10.0.0.1:80/tcp. */
static void offer_vips(const char *ifname, const char *prefix)
{
	static struct lb_state state;
	char dir[LB_PIN_DIR_MAX], label[64];
	struct lb_maps maps;
	const char *missing;
	size_t i;

	lb_pin_dir(ifname, dir, sizeof(dir));
	lb_maps_init(&maps);
	if (!lb_maps_open_pinned(dir, &maps, &missing) && !lb_state_read(&maps, &state))
		for (i = 0; i < state.live_count; i++) {
			lb_vip_label(&state.live[i].key,
				     state.live[i].ipv6 ? state.live[i].key6.addr : NULL, label,
				     sizeof(label));
			offer(label, prefix);
		}
	lb_maps_close(&maps);
}

static void offer_stages(int slot, const char *prefix)
{
	size_t i;

	for (i = 0; i < lb_stage_def_count; i++)
		if ((int)lb_stage_defs[i].slot == slot)
			offer(lb_stage_defs[i].name, prefix);
}

int lbctl_complete(int count, char *const *words)
{
	const char *prefix = count ? words[count - 1] : "";
	const char *positional[4];
	char why[LB_INPUT_ERR_LEN];
	int i, n = 0, cmd;
	__u32 s;

	lb_log_setup(false);
	if (count <= 1) {
		for (i = 0; i < LBCTL_CMD_COUNT; i++)
			offer(lbctl_commands[i].name, prefix);
		return 0;
	}
	cmd = command_of(words[0]);
	if (cmd < 0)
		return 0;
	/* The arguments before the word being completed, options left out. */
	for (i = 1; i < count - 1 && n < 4; i++)
		if (words[i][0] != '-')
			positional[n++] = words[i];
	if (n == 0) {
		offer_interfaces(prefix);
		return 0;
	}
	if (n > lbctl_commands[cmd].args)
		return 0;
	switch (cmd) {
	case LBCTL_SWAP:
		if (n == 1)
			for (s = 0; s < LB_SLOT_COUNT; s++)
				offer(lb_slot_name(s), prefix);
		else if (lb_slot_by_name(positional[1]) >= 0)
			offer_stages(lb_slot_by_name(positional[1]), prefix);
		break;
	case LBCTL_ENCAP:
		offer_stages(LB_SLOT_ENCAP, prefix);
		break;
	case LBCTL_POLICY:
		/* The name builds a pin path: checked like lbctl checks it. */
		if (n == 1 && !lb_ifname_check(positional[0], why, sizeof(why)))
			offer_vips(positional[0], prefix);
		else if (n == 1)
			break;
		else
			for (s = 0; s < LB_POLICY_COUNT; s++)
				offer(lb_policy_name((uint8_t)s), prefix);
		break;
	default:
		break;
	}
	return 0;
}
