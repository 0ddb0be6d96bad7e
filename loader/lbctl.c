// SPDX-License-Identifier: GPL-2.0
/* lbctl: look at a loaded xdp-lb, and change it at runtime.
 *
 *   lbctl status IFNAME [--json]  mode, stage programs, VIPs and backends; the
 *                                 exit code says what is wrong (lbctl.h)
 *   lbctl stats IFNAME [--json] [--watch [SECONDS]] [--count N] | --reset
 *                                 per VIP and backend figures, rates; passes and drops
 *   lbctl flows IFNAME [--json] [--vip VIP] [--backend ADDR] [--sort KEY] [--limit N]
 *                                 the flow table: 5-tuple -> backend, age, idle time
 *   lbctl swap IFNAME SLOT STAGE  put another stage into a slot, e.g. swap veth1 encap gue
 *   lbctl encap IFNAME STAGE      the same for the encap slot: encap veth1 gue
 *   lbctl policy IFNAME VIP POLICY  switch one VIP's scheduling policy, e.g.
 *                                   policy veth1 10.0.0.100:80/tcp maglev
 *
 * Options come from one table (cli.h), each command takes its own. Commands
 * may be shortened to any unambiguous prefix (s, st, sta and stat start both
 * status and stats and are refused; statu is status, stats must be written
 * whole).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "config.h"
#include "counter_names.h"
#include "host.h"
#include "lb_structs_common.h"
#include "lbctl_complete.h"
#include "lbctl.h"
#include "lbctl_stats.h"
#include "log.h"
#include "maglev.h"
#include "maps.h"
#include "pins.h"
#include "pipeline.h"
#include "stages.h"
#include "state.h"
#include "version.h"

const struct lb_state *lbctl_read_state(const struct ctl *ctl)
{
	static struct lb_state state;
	int err = lb_state_read(&ctl->maps, &state);

	if (err) {
		lb_err("Failed to read the VIPs of %s: %s", ctl->ifname, strerror(-err));
		state.live_count = state.stale_count = 0;
	}
	return &state;
}

/* Output of one refresh: redrawn in place on a terminal, else appended. */
static void show_stats(const struct ctl *ctl, const struct lb_stats_sample *now,
		       const struct lb_stats_sample *prev, int *lines_shown)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *buf = open_memstream(&text, &len);

	if (!buf)
		return;
	if (ctl->args.json)
		lb_stats_print_json(buf, ctl->ifname, now, prev);
	else
		lb_stats_print_text(buf, ctl->ifname, now, prev);
	fclose(buf);
	if (!ctl->args.json && isatty(STDOUT_FILENO) && *lines_shown) {
		struct winsize ws = { 0 };

		/* Up over the last refresh and clear from there; when it did
		 * not fit on the screen (of a known size), clear the screen.
		 */
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || !ws.ws_row ||
		    *lines_shown < ws.ws_row)
			printf("\033[%dA\033[J", *lines_shown);
		else
			printf("\033[H\033[2J");
	} else if (!ctl->args.json && *lines_shown) {
		printf("\n");
	}
	fputs(text, stdout);
	fflush(stdout);
	*lines_shown = 0;
	for (i = 0; i < len; i++)
		*lines_shown += text[i] == '\n';
	free(text);
}

/* A reload that grows a map pins a new one in its place, and an unload and a
 * load pin all new ones: the fds opened at start would go on reading maps no
 * stage writes any more. Opens the pinned maps again when any was replaced.
 * Returns 1 when the counters map itself is new (a new load), 0 when it is
 * not, or a negative error after saying why the maps cannot be opened again.
 */
static int reopen_if_replaced(struct ctl *ctl)
{
	__u32 counters_id = lb_map_id(ctl->maps.fd[LB_MAP_COUNTERS]);
	const char *missing = NULL;
	int err;

	if (!lb_maps_replaced(&ctl->maps, ctl->pin_dir))
		return 0;
	lb_maps_close(&ctl->maps);
	err = lb_maps_open_pinned(ctl->pin_dir, &ctl->maps, &missing);
	if (err) {
		lb_err("xdp-lb on %s was reloaded and its maps cannot be opened again: %s%s%s",
		       ctl->ifname, strerror(-err), missing ? ", missing " : "",
		       missing ? missing : "");
		return err;
	}
	return lb_map_id(ctl->maps.fd[LB_MAP_COUNTERS]) != counters_id;
}

/* Once, or with --watch at once and then every period, with rates from the
 * previous sample.
 */
static int cmd_stats(struct ctl *ctl)
{
	struct lb_stats_sample *samples = calloc(2, sizeof(*samples));
	struct lb_stats_sample *now = &samples[0], *prev = &samples[1], *swap;
	struct timespec period;
	int err, lines_shown = 0;
	unsigned long shown = 0;
	char pin[LB_PIN_DIR_MAX + 64];
	int fresh;

	if (!samples)
		return -ENOMEM;
	err = lb_stats_sample(&ctl->maps, ctl->ifname, now);
	if (err)
		goto out;
	show_stats(ctl, now, NULL, &lines_shown);
	if (!ctl->args.watch_ns)
		goto out;
	shown = 1;
	period.tv_sec = (time_t)(ctl->args.watch_ns / 1000000000ULL);
	period.tv_nsec = (long)(ctl->args.watch_ns % 1000000000ULL);
	snprintf(pin, sizeof(pin), "%s/%s", ctl->pin_dir, lb_map_names[LB_MAP_COUNTERS]);
	while (!ctl->args.count || shown < ctl->args.count) {
		swap = prev;
		prev = now;
		now = swap;
		nanosleep(&period, NULL);
		/* Our fds keep the maps alive after an unload: the pin says
		 * whether anything still writes to them (a reload keeps it).
		 */
		if (access(pin, F_OK)) {
			fprintf(stderr, "lbctl: xdp-lb is no longer loaded on %s\n", ctl->ifname);
			break;
		}
		fresh = reopen_if_replaced(ctl);
		if (fresh < 0) {
			free(samples);
			return fresh; /* said why */
		}
		err = lb_stats_sample(&ctl->maps, ctl->ifname, now);
		if (err)
			break;
		/* Counters of a new load start at zero: no rate across it. */
		show_stats(ctl, now, fresh ? NULL : prev, &lines_shown);
		shown++;
	}
out:
	if (err)
		lb_err("Failed to read the counters of %s: %s", ctl->ifname, strerror(-err));
	free(samples);
	return err;
}

/* Puts stage STAGE into slot SLOT: one atomic prog-array update with the
 * program lb-load already verified and pinned. Flows and config are untouched.
 */
static int swap_slot(struct ctl *ctl, const char *slot_name, const char *stage_name)
{
	const struct lb_stage_def *def, *before;
	char names[128];
	int slot, lock_fd, err;

	slot = lb_slot_by_name(slot_name);
	if (slot < 0) {
		lb_err("unknown slot \"%s\", expected lb or encap (or a policy's slot: rr, wrr, "
		       "hash, maglev, lconn, lppf)", slot_name);
		return -EINVAL;
	}
	def = lb_stage_find((__u32)slot, stage_name);
	if (!def) {
		lb_stage_names((__u32)slot, names, sizeof(names));
		lb_err("no stage \"%s\" for slot %s, expected one of: %s", stage_name, slot_name,
		       names);
		return -EINVAL;
	}
	/* The same lock as lb-load: a reload replaces the pins we read. */
	lock_fd = lb_lock_interface(ctl->ifname);
	if (lock_fd < 0) {
		lb_err("another lb-load or lbctl is changing %s right now; try again", ctl->ifname);
		return lock_fd;
	}
	before = lb_slot_stage(&ctl->maps, ctl->pin_dir, (__u32)slot);
	err = lb_stage_activate(&ctl->maps, ctl->pin_dir, def);
	close(lock_fd);
	if (err) {
		lb_err("Failed to put stage %s into slot %s of %s: %s", def->name, slot_name,
		       ctl->ifname, strerror(-err));
		return err;
	}
	printf("%s: slot %s now runs %s (%s id %u), was %s\n", ctl->ifname, slot_name,
	       def->name, def->prog_name, lb_slot_prog_id(&ctl->maps, (__u32)slot),
	       before ? before->name : "?");
	/* Only a slot with a choice has a config key that sets it again. */
	if (slot == LB_SLOT_ENCAP && def != before)
		lb_warn("until the next reload: lb-load puts the config's encap stage back into "
			"slot encap");
	return 0;
}

static int cmd_swap(struct ctl *ctl)
{
	return swap_slot(ctl, ctl->args.args[0], ctl->args.args[1]);
}

static int cmd_encap(struct ctl *ctl)
{
	return swap_slot(ctl, "encap", ctl->args.args[0]);
}

/* lbctl stats --help: what each figure means. */
static const char stats_details[] =
	"Per VIP and per backend: packets, bytes, packets/s, Mbit/s (of the frames as they\n"
	"arrived), active and total flows, and packets per flow placed (the load of\n"
	"least-packets-per-flow; least-loaded weighs recent packets, not shown);\n"
	"then the stage counters: what was balanced, passed to the kernel and dropped,\n"
	"by reason (non-zero ones; --json has all).\n"
	"  active flows  entries of the flow table naming the backend, counted by walking\n"
	"                the flows map; an idle flow stays until LRU eviction removes it\n"
	"  total flows   new flows ever scheduled onto the backend\n"
	"  --watch       redraws in place on a terminal; rates are taken between two\n"
	"                refreshes, so the first shows none\n"
	"  --json        one JSON object per refresh and line; pps and mbps from the\n"
	"                second refresh on\n"
	"  --reset       zeroes the stage counters, each VIP's drops and each backend's\n"
	"                packets, bytes and total flows; the drops outside xdp-lb count\n"
	"                from then on. Keeps the flow table, the load and least-conn's\n"
	"                counts (the policies decide by them). Not atomic: packets\n"
	"                counted while it runs may be kept or lost\n";

/* lbctl flows --help: the columns. */
static const char flows_details[] =
	"One line per flow under a header: protocol, client, VIP (address:port), backend\n"
	"id and address, age (seconds since the flow was placed on its backend) and idle\n"
	"time (seconds since its last packet, to about a second: a busy flow's time is\n"
	"refreshed once a second). hash VIPs keep no flows. With --limit, a line on\n"
	"stderr says how many matching flows were left out.\n";

/* Every VIP of the live generation that fits the parsed spec (cli.c) goes into @out. */
static int match_vips(const struct ctl *ctl, struct lb_state_vip *out, int cap)
{
	const struct lb_state *state = lbctl_read_state(ctl);
	const struct lb_state_vip *vips = state->live;
	const struct lb_vip_spec *spec = &ctl->args.vip;
	int n = (int)state->live_count, i, found = 0;

	for (i = 0; i < n; i++) {
		if (vips[i].ipv6 != spec->ipv6 || vips[i].key.addr != spec->addr ||
		    (spec->ipv6 && memcmp(vips[i].key6.addr, spec->addr6, 16)) ||
		    (spec->port >= 0 && vips[i].key.port != htons((__u16)spec->port)) ||
		    (spec->proto >= 0 && vips[i].key.proto != spec->proto))
			continue;
		if (found < cap)
			out[found] = vips[i];
		found++;
	}
	return found;
}

/* A table for @view's live pool, by the rule a reload follows too
 * (lb_maglev_alloc_take() in state.c).
 */
static int maglev_table_for(const struct ctl *ctl, const struct lb_state_vip *view, __u16 *table_id)
{
	static struct lb_state state;
	int err = lb_state_read(&ctl->maps, &state);

	/* Not lbctl_read_state(): without the live entries any table would look free. */
	if (err) {
		lb_err("Failed to read the VIPs of %s: %s", ctl->ifname, strerror(-err));
		return err;
	}
	err = lb_maglev_table_for_live(&ctl->maps, &state, view, table_id);
	if (err == -EDQUOT)
		lb_err("%u VIPs already have a Maglev table, the limit is %u", LB_MAGLEV_MAX_VIPS,
		       LB_MAGLEV_MAX_VIPS);
	else if (err == -ENOSPC)
		lb_err("no free Maglev table: map maglev_tables holds %u, sized by lb-load for the "
		       "config's Maglev VIPs (docs/policies.md), and all are in use; give the VIP "
		       "policy: maglev in the config and run lb-load again",
		       lb_map_max_entries(&ctl->maps, LB_MAP_MAGLEV_TABLES));
	else if (err)
		lb_err("Failed to build the Maglev table of the VIP: %s", strerror(-err));
	return err;
}

/* Switches one VIP of the live generation to another policy: one update of
 * its vips entry, so every packet sees the old or the new policy. The flow
 * table is untouched, so established flows keep their backends. A reload
 * applies the config's policy again.
 */
static int cmd_policy(struct ctl *ctl)
{
	const char *spec = ctl->args.args[0], *name = ctl->args.args[1];
	struct lb_state_vip found[4];
	struct lb_vip vip;
	char label[64], names[160] = "";
	int policy = lb_policy_by_name(name), lock_fd, n, i, err = 0;

	if (policy < 0) {
		for (i = 0; i < LB_POLICY_COUNT; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 i ? ", " : "", lb_policy_name((__u8)i));
		lb_err("unknown policy \"%s\", expected one of: %s", name, names);
		return -EINVAL;
	}
	if (!lb_slot_prog_id(&ctl->maps, lb_policy_slot((__u32)policy))) {
		lb_err("slot %s of %s is empty: load this xdp-lb's lb-load again first",
		       lb_slot_name(lb_policy_slot((__u32)policy)), ctl->ifname);
		return -ENOENT;
	}
	/* The same lock as lb-load: a reload rewrites the vips entries. */
	lock_fd = lb_lock_interface(ctl->ifname);
	if (lock_fd < 0) {
		lb_err("another lb-load or lbctl is changing %s right now; try again", ctl->ifname);
		return lock_fd;
	}
	n = match_vips(ctl, found, (int)(sizeof(found) / sizeof(found[0])));
	if (n != 1) {
		if (n == 0)
			lb_err("no VIP %s on %s (lbctl status lists them)", spec, ctl->ifname);
		else
			lb_err("%s names %d VIPs on %s: add :PORT/PROTO (lbctl status lists them)",
			       spec, n, ctl->ifname);
		err = n == 0 ? -ENOENT : -EINVAL;
		goto out;
	}
	vip = found[0].vip;
	vip.policy = (__u16)policy;
	if (policy == LB_POLICY_MAGLEV && vip.maglev_table >= LB_MAGLEV_TABLES) {
		err = maglev_table_for(ctl, &found[0], &vip.maglev_table);
		if (err)
			goto out;
	}
	/* The hash map replaces the element under RCU: never seen half-written. */
	if (bpf_map_update_elem(ctl->maps.fd[found[0].ipv6 ? LB_MAP_VIPS6 : LB_MAP_VIPS],
				found[0].ipv6 ? (const void *)&found[0].key6 :
						(const void *)&found[0].key,
				&vip, BPF_EXIST)) {
		err = -errno;
		lb_vip_label(&found[0].key, found[0].ipv6 ? found[0].key6.addr : NULL, label,
			     sizeof(label));
		lb_err("Failed to update VIP %s: %s", label, strerror(-err));
		goto out;
	}
	lb_vip_label(&found[0].key, found[0].ipv6 ? found[0].key6.addr : NULL, label,
			     sizeof(label));
	printf("%s: VIP %s now uses policy %s (stage %s), was %s; established flows keep their "
	       "backends\n",
	       ctl->ifname, label, lb_policy_name((__u8)policy),
	       lb_slot_name(lb_policy_slot((__u32)policy)),
	       lb_policy_name((__u8)found[0].vip.policy));
	lb_warn("until the next reload: lb-load applies the config's policy to VIP %s again",
		label);
out:
	close(lock_fd);
	return err;
}

static int exit_of(int err)
{
	return err ? LBCTL_EXIT_FAILED : LBCTL_EXIT_OK;
}

static int run_status(struct ctl *ctl)
{
	return lbctl_status(ctl);
}

static int run_stats(struct ctl *ctl)
{
	return ctl->args.reset ? lbctl_reset(ctl) : exit_of(cmd_stats(ctl));
}

static int run_flows(struct ctl *ctl)
{
	return lbctl_flows(ctl);
}

static int run_swap(struct ctl *ctl)
{
	return exit_of(cmd_swap(ctl));
}

static int run_encap(struct ctl *ctl)
{
	return exit_of(cmd_encap(ctl));
}

static int run_policy(struct ctl *ctl)
{
	return exit_of(cmd_policy(ctl));
}

/* The commands, in the order of enum lbctl_cmd (cli.c names and checks them);
 * each returns an exit code (lbctl.h).
 */
static int (*const run[LBCTL_CMD_COUNT])(struct ctl *ctl) = {
	[LBCTL_STATUS] = run_status,
	[LBCTL_STATS] = run_stats,
	[LBCTL_FLOWS] = run_flows,
	[LBCTL_SWAP] = run_swap,
	[LBCTL_ENCAP] = run_encap,
	[LBCTL_POLICY] = run_policy,
};

#define LBCTL_EXIT_HELP(id, code, meaning) "  " #code "  " meaning "\n"
static const char exit_codes_help[] = "Exit codes:\n"
	LBCTL_EXIT_CODES(LBCTL_EXIT_HELP);
#undef LBCTL_EXIT_HELP

/* The commands with their positional arguments (each command's --help has its
 * options); scripts/gen-man.py and dist/lbctl.bash read this layout.
 */
static void usage(FILE *out)
{
	int i;

	fprintf(out, "Usage: lbctl COMMAND IFNAME [options]   (-v: libbpf messages)\n");
	for (i = 0; i < LBCTL_CMD_COUNT; i++)
		fprintf(out, "  lbctl %-48s %s\n", lbctl_commands[i].synopsis,
			lbctl_commands[i].summary);
	fprintf(out, "  lbctl %-48s %s\n", "COMMAND --help", "the command's options");
	fprintf(out, "  lbctl %-48s %s\n", "--version", "the xdp-lb version lbctl is built from");
	fputs(exit_codes_help, out);
}
/* lbctl COMMAND --help: the synopsis, every option the command takes, details. */
static void command_help(enum lbctl_cmd cmd)
{
	const struct lbctl_command_def *def = &lbctl_commands[cmd];
	char synopsis[256], left[64];
	int o;

	lbctl_synopsis(cmd, synopsis, sizeof(synopsis));
	printf("Usage: lbctl %s\n  %s\nOptions:\n", synopsis, def->summary);
	for (o = 0; o < LBCTL_OPT_MAX; o++) {
		const struct lbctl_option_def *opt = &lbctl_options[o];

		if (o != LBCTL_OPT_VERBOSE && o != LBCTL_OPT_HELP && !(def->options & (1u << o)))
			continue;
		snprintf(left, sizeof(left), "%s%c%s%s%s%s", opt->letter ? "-" : "",
			 opt->letter ? opt->letter : ' ', opt->letter ? ", " : "", opt->name,
			 opt->arg ? " " : "", opt->arg ? opt->arg : "");
		printf("  %-30s %s\n", opt->letter ? left : left + 1, opt->help);
	}
	if (cmd == LBCTL_STATS)
		fputs(stats_details, stdout);
	else if (cmd == LBCTL_FLOWS)
		fputs(flows_details, stdout);
	/* The exit codes are every command's: lbctl --help lists them once. */
}

int main(int argc, char **argv)
{
	char parse_err[LB_CLI_ERR_LEN];
	struct ctl ctl = { 0 };
	const char *missing;
	int err, code;

	/* Hidden: what bash completion offers (dist/lbctl.bash). */
	if (argc >= 2 && !strcmp(argv[1], "--complete"))
		return lbctl_complete(argc - 2, argv + 2);
	if (lbctl_parse_args(argc, argv, &ctl.args, parse_err, sizeof(parse_err))) {
		lb_err("%s", parse_err);
		if (argc < 2 || !ctl.args.has_cmd)
			usage(stderr);
		return LBCTL_EXIT_USAGE;
	}
	if (ctl.args.version) {
		lb_version_print("lbctl");
		return LBCTL_EXIT_OK;
	}
	if (ctl.args.help && !ctl.args.has_cmd) {
		usage(stdout);
		return LBCTL_EXIT_OK;
	}
	if (ctl.args.help) {
		command_help(ctl.args.cmd);
		return LBCTL_EXIT_OK;
	}
	ctl.ifname = ctl.args.ifname;
	lb_log_setup(ctl.args.verbose);
	if (geteuid() != 0) {
		lb_err("lbctl must run as root: it reads pinned BPF maps");
		return LBCTL_EXIT_FAILED;
	}
	err = lb_bpffs_check();
	if (err == -ENOTSUP) {
		lb_err(LB_IP_NETNS_EXEC_MSG);
		return LBCTL_EXIT_FAILED;
	} else if (err) {
		lb_err("xdp-lb is not loaded on %s (no bpffs mounted at %s)", ctl.ifname, LB_BPFFS);
		return LBCTL_EXIT_NOT_LOADED;
	}
	lb_pin_dir(ctl.ifname, ctl.pin_dir, sizeof(ctl.pin_dir));
	err = lb_maps_open_pinned(ctl.pin_dir, &ctl.maps, &missing);
	if (err) {
		lb_err("xdp-lb is not loaded on %s (no state under %s%s%s)", ctl.ifname, ctl.pin_dir,
		       missing ? ": missing " : "", missing ? missing : "");
		return LBCTL_EXIT_NOT_LOADED;
	}
	code = run[ctl.args.cmd](&ctl);
	lb_maps_close(&ctl.maps);
	return code;
}
