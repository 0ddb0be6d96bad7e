// SPDX-License-Identifier: GPL-2.0
/* Attach parse through libxdp, load and install lb and encap; see pipeline.h. */
#include <errno.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "map_sizes.h"
#include "netdev.h"
#include "parse.skel.h"
#include "pipeline.h"

int lb_attachment_query(int ifindex, struct lb_attachment *att)
{
	struct xdp_multiprog *mp;
	struct xdp_program *prog;
	int err;

	memset(att, 0, sizeof(*att));
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	att->has_xdp = true;
	att->legacy = xdp_multiprog__is_legacy(mp);
	att->mode = xdp_multiprog__attach_mode(mp);
	prog = att->legacy ? xdp_multiprog__main_prog(mp) : xdp_multiprog__next_prog(NULL, mp);
	for (; prog; prog = att->legacy ? NULL : xdp_multiprog__next_prog(prog, mp)) {
		att->program_count++;
		if (!strcmp(xdp_program__name(prog), LB_PARSE_PROG_NAME)) {
			att->found = true;
			att->parse_id = xdp_program__id(prog);
			att->parse_prio = (int)xdp_program__run_prio(prog);
		} else if (!att->first_other[0]) {
			snprintf(att->first_other, sizeof(att->first_other), "%s (id %u)",
				 xdp_program__name(prog), xdp_program__id(prog));
		}
	}
	xdp_multiprog__close(mp);
	return 0;
}

/* Why libxdp did not use its dispatcher, from what it logged. */
static void legacy_reason(char *why, size_t len)
{
	const char *line;

	if (getenv("LIBXDP_SKIP_DISPATCHER"))
		snprintf(why, len, "LIBXDP_SKIP_DISPATCHER is set");
	else if ((line = lb_libxdp_line("bpffs")))
		snprintf(why, len, "no usable bpffs (%s)", line);
	else if ((line = lb_libxdp_line("Compatibility check")))
		snprintf(why, len,
			 "this kernel refuses the dispatcher's freplace programs (%s)", line);
	else
		snprintf(why, len, "libxdp chose it (run with -v to see its log)");
}

/* Kernels >= 6.13 (and 6.12.26, 6.6.90) refuse an extension program that
 * changes packet data, as parse does with its tail calls, in place of a
 * function that does not: libxdp's dispatcher slots before 1.5.5. The
 * verifier says so in its log, which libbpf passes to its print function
 * while libxdp loads parse into the dispatcher; the line is kept here.
 */
#define PKT_DATA_REFUSAL "changes packet data"
static char pkt_data_refusal[160];
static libbpf_print_fn_t libbpf_print_saved;

static int scan_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char text[4096];
	const char *line;
	va_list copy;

	va_copy(copy, args);
	vsnprintf(text, sizeof(text), fmt, copy);
	va_end(copy);
	line = strstr(text, PKT_DATA_REFUSAL);
	if (line) {
		while (line > text && line[-1] != '\n')
			line--;
		snprintf(pkt_data_refusal, sizeof(pkt_data_refusal), "%.*s",
			 (int)strcspn(line, "\n"), line);
	}
	return libbpf_print_saved ? libbpf_print_saved(level, fmt, args) : 0;
}

/* What the load summary says when the dispatcher refused parse. libxdp's
 * version is not for us to read: its file name carries the ABI version only.
 */
static void pkt_data_reason(char *why, size_t len)
{
	snprintf(why, len,
		 "this kernel refuses %s in the installed libxdp's dispatcher: %s tail-calls, "
		 "which changes packet data, and the dispatcher's slots do not (verifier: "
		 "\"%s\"); libxdp 1.5.5 or later, whose dispatcher slots change packet data, "
		 "lifts this (Debian unstable has 1.6.3)",
		 LB_PARSE_PROG_NAME, LB_PARSE_PROG_NAME, pkt_data_refusal);
}

/* libxdp has no flag for a single-program attach; the environment variable it
 * documents for that, and reads at every attach, is the way to ask for one.
 */
static int attach_single(struct xdp_program *prog, int ifindex, enum xdp_attach_mode mode)
{
	const char *name = "LIBXDP_SKIP_DISPATCHER", *old = getenv(name);
	char *saved = old ? strdup(old) : NULL;
	int err;

	if (setenv(name, "1", 1)) {
		free(saved);
		return -errno;
	}
	err = xdp_program__attach(prog, ifindex, mode, 0);
	if (saved)
		setenv(name, saved, 1);
	else
		unsetenv(name);
	free(saved);
	return err;
}

/* Opens parse afresh (a failed load leaves its object unusable), attaches it
 * through libxdp, or as the only program when @single, and takes the maps it
 * created. On failure nothing of it stays attached.
 */
static int parse_attach_once(int ifindex, enum xdp_attach_mode mode,
			     const struct lb_config *cfg, struct lb_maps *maps, bool single)
{
	struct xdp_program *prog;
	struct parse_bpf *skel;
	int err;

	skel = parse_bpf__open();
	if (!skel)
		return -errno;
	/* parse passes VIP frames sent to another host's MAC; one it cannot
	 * read stays 0, which parse takes as "not checked".
	 */
	lb_if_mac_read(ifindex, (void *)skel->rodata->lb_if_mac);
	err = bpf_map__set_max_entries(skel->maps.flows, cfg->flow_table_size);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.maglev_tables,
					       lb_maglev_tables_wanted(cfg, 0));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.pools, lb_pools_wanted(cfg, NULL));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.pool_weights, lb_pools_wanted(cfg, NULL));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.nat_reply, lb_nat_entries_wanted(cfg));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.nat_forward, lb_nat_entries_wanted(cfg));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.nat_reply6, lb_nat6_entries_wanted(cfg));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.nat_forward6,
					       lb_nat6_entries_wanted(cfg));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.flows6, lb_flows6_entries_wanted(cfg));
	if (!err)
		err = lb_maps_reuse(skel->obj, maps);
	if (err)
		goto out;

	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = skel->obj,
			    .prog_name = LB_PARSE_PROG_NAME);
	prog = xdp_program__create(&opts);
	err = libxdp_get_error(prog);
	if (err)
		goto out;
	err = xdp_program__set_run_prio(prog, cfg->priority);
	if (!err) {
		lb_libxdp_lines_clear();
		err = single ? attach_single(prog, ifindex, mode)
			     : xdp_program__attach(prog, ifindex, mode, 0);
		if (!err) {
			err = lb_maps_adopt(skel->obj, maps);
			if (err)
				lb_parse_detach(ifindex);
		}
	}
	xdp_program__close(prog);
out:
	/* The attached program and the maps live on in the kernel (dispatcher
	 * pins, interface attachment, our map fds); the skeleton can go.
	 */
	parse_bpf__destroy(skel);
	return err;
}

int lb_parse_attach(int ifindex, enum xdp_attach_mode mode, const struct lb_config *cfg,
		    struct lb_maps *maps, bool *legacy, char *why, size_t why_len)
{
	struct lb_attachment att;
	int err;

	why[0] = '\0';
	pkt_data_refusal[0] = '\0';
	libbpf_print_saved = libbpf_set_print(scan_libbpf_print);
	err = parse_attach_once(ifindex, mode, cfg, maps, false);
	libbpf_set_print(libbpf_print_saved);
	/* libxdp does not fall back by itself when the dispatcher cannot hold
	 * parse; a single program can, as long as the interface has no other.
	 */
	if (err == -EINVAL && pkt_data_refusal[0]) {
		pkt_data_reason(why, why_len);
		lb_debug("falling back to single-program mode: %s", why);
		err = parse_attach_once(ifindex, mode, cfg, maps, true);
	}
	if (!err)
		err = lb_attachment_query(ifindex, &att);
	if (err)
		return err;
	*legacy = att.legacy;
	if (att.legacy && !why[0])
		legacy_reason(why, why_len);
	return 0;
}

/* Whether @prog is the parse program to detach: the one of id @id, or with
 * @id 0 any program named xdp_lb_parse.
 */
static bool is_parse_to_detach(struct xdp_program *prog, __u32 id)
{
	if (id)
		return xdp_program__id(prog) == id;
	return !strcmp(xdp_program__name(prog), LB_PARSE_PROG_NAME);
}

/* Detaches parse (@id, or by name when 0) from @ifindex, as a single program
 * or from libxdp's dispatcher.
 */
static int parse_detach(int ifindex, __u32 id)
{
	struct xdp_multiprog *mp;
	struct xdp_program *prog;
	int err;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err)
		return err;
	err = -ENOENT;
	if (xdp_multiprog__is_legacy(mp)) {
		prog = xdp_multiprog__main_prog(mp);
		if (prog && is_parse_to_detach(prog, id))
			err = xdp_multiprog__detach(mp);
	} else {
		for (prog = xdp_multiprog__next_prog(NULL, mp); prog;
		     prog = xdp_multiprog__next_prog(prog, mp)) {
			if (!is_parse_to_detach(prog, id))
				continue;
			err = xdp_program__detach(prog, ifindex,
						  xdp_multiprog__attach_mode(mp), 0);
			break;
		}
	}
	xdp_multiprog__close(mp);
	return err;
}

static __u32 xdp_mode_flags(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_SKB: return XDP_FLAGS_SKB_MODE;
	case XDP_MODE_HW: return XDP_FLAGS_HW_MODE;
	default: return XDP_FLAGS_DRV_MODE;
	}
}

int lb_parse_replace(int ifindex, enum xdp_attach_mode mode, const struct lb_config *cfg,
		     const struct lb_maps *maps, const struct lb_attachment *att)
{
	struct xdp_program *prog = NULL;
	struct parse_bpf *skel;
	int err, old_fd = -1;

	skel = parse_bpf__open();
	if (!skel)
		return -errno;
	lb_if_mac_read(ifindex, (void *)skel->rodata->lb_if_mac);
	err = lb_maps_reuse(skel->obj, maps);
	if (err)
		goto out;
	if (att->legacy) {
		/* The kernel swaps the one program in a single step, and only
		 * if the old one is still the attached one.
		 */
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts);

		old_fd = bpf_prog_get_fd_by_id(att->parse_id);
		if (old_fd < 0) {
			err = -errno;
			goto out;
		}
		opts.old_prog_fd = old_fd;
		err = parse_bpf__load(skel);
		if (!err)
			err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.xdp_lb_parse),
					     XDP_FLAGS_REPLACE | xdp_mode_flags(mode), &opts);
		goto out;
	}
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = skel->obj,
			    .prog_name = LB_PARSE_PROG_NAME);
	prog = xdp_program__create(&opts);
	err = libxdp_get_error(prog);
	if (err) {
		prog = NULL;
		goto out;
	}
	err = xdp_program__set_run_prio(prog, cfg->priority);
	if (!err)
		err = xdp_program__attach(prog, ifindex, mode, 0);
	if (err)
		goto out;
	err = parse_detach(ifindex, (__u32)att->parse_id);
	if (err)
		parse_detach(ifindex, xdp_program__id(prog));
out:
	if (old_fd >= 0)
		close(old_fd);
	xdp_program__close(prog);
	parse_bpf__destroy(skel);
	return err;
}

int lb_parse_detach(int ifindex)
{
	return parse_detach(ifindex, 0);
}

__u32 lb_slot_prog_id(const struct lb_maps *maps, __u32 slot)
{
	__u32 id = 0;

	/* A prog array read from userspace yields the program id. */
	if (bpf_map_lookup_elem(maps->fd[LB_MAP_STAGE_SLOTS], &slot, &id))
		return 0;
	return id;
}

static int slot_set(const struct lb_maps *maps, __u32 slot, int prog_fd)
{
	/* One update is an atomic exchange: the slot is never empty. */
	return bpf_map_update_elem(maps->fd[LB_MAP_STAGE_SLOTS], &slot, &prog_fd, BPF_ANY)
		       ? -errno
		       : 0;
}

int lb_slots_backup(const struct lb_maps *maps, struct lb_slot_backup *bk)
{
	__u32 slot, id;

	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		bk->fd[slot] = -1;
		id = lb_slot_prog_id(maps, slot);
		if (!id)
			continue;
		bk->fd[slot] = bpf_prog_get_fd_by_id(id);
		if (bk->fd[slot] < 0) {
			int err = -errno;

			lb_slots_backup_release(bk);
			return err;
		}
	}
	return 0;
}

void lb_slots_restore(const struct lb_maps *maps, const struct lb_slot_backup *bk)
{
	__u32 slot;

	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		if (bk->fd[slot] >= 0)
			slot_set(maps, slot, bk->fd[slot]);
		else
			bpf_map_delete_elem(maps->fd[LB_MAP_STAGE_SLOTS], &slot);
	}
}

void lb_slots_backup_release(struct lb_slot_backup *bk)
{
	__u32 slot;

	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		if (bk->fd[slot] >= 0)
			close(bk->fd[slot]);
		bk->fd[slot] = -1;
	}
}

void lb_stages_destroy(struct lb_stages *st)
{
	size_t i;

	for (i = 0; i < st->count; i++)
		lb_stage_close(&st->stage[i]);
	st->count = 0;
}

static int stages_load_all(struct lb_stages *st, const struct lb_maps *maps,
			   const struct lb_tunables *tunables, enum bpf_attach_type type,
			   const char **what)
{
	size_t i;
	int err;

	for (i = 0; i < lb_stage_def_count && i < LB_MAX_STAGES; i++) {
		*what = lb_stage_defs[i].prog_name;
		err = lb_stage_load(&lb_stage_defs[i], maps, tunables, type, &st->stage[i]);
		if (err)
			return err;
		st->count++;
	}
	return 0;
}

static int stage_fd(const struct lb_stages *st, const struct lb_stage_def *def)
{
	size_t i;

	for (i = 0; i < st->count; i++)
		if (st->stage[i].def == def)
			return st->stage[i].prog_fd;
	return -1;
}

int lb_stages_install(struct lb_stages *st, const struct lb_maps *maps,
		      const struct lb_tunables *tunables,
		      const struct lb_stage_def *const selected[LB_SLOT_COUNT], bool legacy,
		      char *err_buf, size_t err_len)
{
	/* Legacy: parse is a plain XDP program (BPF_XDP). Dispatcher: parse is
	 * an freplace program, which owns the array with 0 on Debian's 6.1 and
	 * 6.12, reportedly with BPF_XDP on mainline 6.18 (docs/kernels.md).
	 */
	enum bpf_attach_type order[2] = { legacy ? BPF_XDP : 0, legacy ? 0 : BPF_XDP };
	struct lb_slot_backup backup;
	const char *what = "back up the stage slots", *verb = "";
	int i, slot, err;

	err = lb_slots_backup(maps, &backup);
	if (err)
		goto fail;
	for (i = 0; i < 2; i++) {
		memset(st, 0, sizeof(*st));
		st->attach_type = order[i];
		verb = "load stage";
		err = stages_load_all(st, maps, tunables, order[i], &what);
		for (slot = LB_SLOT_COUNT - 1; !err && slot >= 0; slot--) {
			/* A slot the caller left open gets its library default. */
			const struct lb_stage_def *def =
				selected[slot] ? selected[slot] : lb_stage_default((__u32)slot);

			verb = "install stage";
			what = def ? def->prog_name : lb_slot_name((__u32)slot);
			err = def ? slot_set(maps, (__u32)slot, stage_fd(st, def)) : -ENOENT;
		}
		if (!err) {
			lb_slots_backup_release(&backup);
			return 0;
		}
		lb_debug("%s %s with expected_attach_type %d: %s", verb, what, order[i],
			 strerror(-err));
		lb_slots_restore(maps, &backup);
		lb_stages_destroy(st);
		/* Only a type mismatch is worth the second try. */
		if (err != -EINVAL)
			break;
	}
	lb_slots_backup_release(&backup);
fail:
	snprintf(err_buf, err_len, "Failed to %s %s: %s%s", verb, what, strerror(-err),
		 !strcmp(verb, "load stage") ? " (run with -v for the verifier log)" : "");
	return err;
}

int lb_stages_pin(const struct lb_stages *st, const char *pin_dir)
{
	char path[256], aside[272];
	size_t i;

	for (i = 0; i < st->count; i++) {
		lb_stage_pin_path(pin_dir, st->stage[i].def, path, sizeof(path));
		/* bpffs refuses names with a dot: "_new", not ".new". */
		snprintf(aside, sizeof(aside), "%s_new", path);
		unlink(aside);
		if (bpf_obj_pin(st->stage[i].prog_fd, aside) || rename(aside, path)) {
			int err = -errno;

			unlink(aside);
			return err;
		}
	}
	return 0;
}

int lb_stage_activate(const struct lb_maps *maps, const char *pin_dir,
		      const struct lb_stage_def *def)
{
	char path[256];
	int fd, err;

	lb_stage_pin_path(pin_dir, def, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = slot_set(maps, def->slot, fd);
	close(fd);
	return err;
}

const struct lb_stage_def *lb_slot_stage(const struct lb_maps *maps, const char *pin_dir,
					 __u32 slot)
{
	__u32 active = lb_slot_prog_id(maps, slot);
	char path[256];
	size_t i;

	for (i = 0; active && i < lb_stage_def_count; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd;

		if (lb_stage_defs[i].slot != slot)
			continue;
		lb_stage_pin_path(pin_dir, &lb_stage_defs[i], path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.id == active) {
			close(fd);
			return &lb_stage_defs[i];
		}
		close(fd);
	}
	return NULL;
}

int lb_tx_ports_fill(const struct lb_maps *maps, bool native)
{
	struct if_nameindex *ifs = if_nameindex(), *it;
	int added = 0;

	if (!ifs)
		return -errno;
	for (it = ifs; it->if_index; it++) {
		struct bpf_devmap_val val = { .ifindex = it->if_index };
		__u32 key = it->if_index;

		if (!strcmp(it->if_name, "lo"))
			continue;
		/* A veth whose peer runs no XDP program would drop what we
		 * redirect into it: left out, encap hands its frames to the
		 * kernel (encap.pass_to_stack). A device without XDP transmit
		 * support is refused by the devmap, with the same result.
		 */
		if (lb_xdp_tx_dropped_by_peer((int)it->if_index, native, NULL)) {
			bpf_map_delete_elem(maps->fd[LB_MAP_TX_PORTS], &key);
			lb_debug("tx_ports: %s not added: its veth peer runs no XDP program",
				 it->if_name);
			continue;
		}
		if (bpf_map_update_elem(maps->fd[LB_MAP_TX_PORTS], &key, &val, BPF_ANY))
			lb_debug("tx_ports: %s not added: %s", it->if_name, strerror(errno));
		else
			added++;
	}
	if_freenameindex(ifs);
	return added;
}
