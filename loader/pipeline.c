// SPDX-License-Identifier: GPL-2.0
/* Attach parse through libxdp, load and install lb and encap; see pipeline.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ipip.skel.h"
#include "least_loaded.skel.h"
#include "log.h"
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

int lb_parse_attach(int ifindex, enum xdp_attach_mode mode, const struct lb_config *cfg,
		    struct lb_maps *maps, bool *legacy, char *why, size_t why_len)
{
	struct parse_bpf *skel;
	struct xdp_program *prog;
	struct lb_attachment att;
	int err;

	skel = parse_bpf__open();
	if (!skel)
		return -errno;
	err = bpf_map__set_max_entries(skel->maps.flows, cfg->flow_table_size);
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
		err = xdp_program__attach(prog, ifindex, mode, 0);
	}
	if (!err)
		err = lb_maps_adopt(skel->obj, maps);
	if (!err)
		err = lb_attachment_query(ifindex, &att);
	if (!err) {
		*legacy = att.legacy;
		why[0] = '\0';
		if (att.legacy)
			legacy_reason(why, why_len);
	}
	xdp_program__close(prog);
out:
	/* The attached program and the maps live on in the kernel (dispatcher
	 * pins, interface attachment, our map fds); the skeleton can go.
	 */
	parse_bpf__destroy(skel);
	return err;
}

int lb_parse_detach(int ifindex)
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
		if (prog && !strcmp(xdp_program__name(prog), LB_PARSE_PROG_NAME))
			err = xdp_multiprog__detach(mp);
	} else {
		for (prog = xdp_multiprog__next_prog(NULL, mp); prog;
		     prog = xdp_multiprog__next_prog(prog, mp)) {
			if (strcmp(xdp_program__name(prog), LB_PARSE_PROG_NAME))
				continue;
			err = xdp_program__detach(prog, ifindex,
						  xdp_multiprog__attach_mode(mp), 0);
			break;
		}
	}
	xdp_multiprog__close(mp);
	return err;
}

__u32 lb_slot_prog_id(const struct lb_maps *maps, __u32 slot)
{
	__u32 id = 0;

	/* A prog array read from userspace yields the program id. */
	if (bpf_map_lookup_elem(maps->fd[LB_MAP_STAGE_SLOTS], &slot, &id))
		return 0;
	return id;
}

void lb_stages_destroy(struct lb_stages *st)
{
	least_loaded_bpf__destroy(st->lb);
	ipip_bpf__destroy(st->encap);
	st->lb = NULL;
	st->encap = NULL;
}

static int stages_load(struct lb_stages *st, const struct lb_maps *maps,
		       const struct lb_config *cfg, enum bpf_attach_type type, const char **what)
{
	int err;

	*what = "open stage xdp_lb_lload";
	st->lb = least_loaded_bpf__open();
	if (!st->lb)
		return -errno;
	st->lb->rodata->flow_timeout_ns = (__u64)cfg->flow_timeout_s * 1000000000ULL;
	bpf_program__set_expected_attach_type(st->lb->progs.xdp_lb_lload, type);
	err = lb_maps_reuse(st->lb->obj, maps);
	if (err)
		return err;
	*what = "load stage xdp_lb_lload";
	err = least_loaded_bpf__load(st->lb);
	if (err)
		return err;

	*what = "open stage xdp_lb_ipip";
	st->encap = ipip_bpf__open();
	if (!st->encap)
		return -errno;
	st->encap->rodata->outer_src_addr = cfg->outer_src;
	bpf_program__set_expected_attach_type(st->encap->progs.xdp_lb_ipip, type);
	err = lb_maps_reuse(st->encap->obj, maps);
	if (err)
		return err;
	*what = "load stage xdp_lb_ipip";
	return ipip_bpf__load(st->encap);
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

int lb_stages_install(struct lb_stages *st, const struct lb_maps *maps,
		      const struct lb_config *cfg, bool legacy, char *err_buf, size_t err_len)
{
	/* Legacy: parse is a plain XDP program (BPF_XDP). Dispatcher: parse is
	 * an freplace program, which owns the array with 0 on Debian's 6.1 and
	 * with BPF_XDP on newer kernels.
	 */
	enum bpf_attach_type order[2] = { legacy ? BPF_XDP : 0, legacy ? 0 : BPF_XDP };
	struct lb_slot_backup backup;
	const char *what = "back up the stage slots";
	int i, err;

	err = lb_slots_backup(maps, &backup);
	if (err)
		goto fail;

	for (i = 0; i < 2; i++) {
		memset(st, 0, sizeof(*st));
		st->attach_type = order[i];
		err = stages_load(st, maps, cfg, order[i], &what);
		if (!err) {
			what = "install stage xdp_lb_ipip";
			err = slot_set(maps, LB_SLOT_ENCAP, bpf_program__fd(st->encap->progs.xdp_lb_ipip));
		}
		if (!err) {
			what = "install stage xdp_lb_lload";
			err = slot_set(maps, LB_SLOT_LB, bpf_program__fd(st->lb->progs.xdp_lb_lload));
		}
		if (!err) {
			lb_slots_backup_release(&backup);
			return 0;
		}
		lb_debug("%s with expected_attach_type %d: %s", what, order[i], strerror(-err));
		lb_slots_restore(maps, &backup);
		lb_stages_destroy(st);
		/* Only a type mismatch is worth the second try. */
		if (err != -EINVAL)
			break;
	}
	lb_slots_backup_release(&backup);
fail:
	snprintf(err_buf, err_len, "Failed to %s: %s%s", what, strerror(-err),
		 strstr(what, "load") ? " (run with -v for the verifier log)" : "");
	return err;
}

int lb_tx_ports_fill(const struct lb_maps *maps)
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
		/* A device without XDP transmit support is refused: encap then
		 * counts drop_no_tx_port for it, which is the truth.
		 */
		if (bpf_map_update_elem(maps->fd[LB_MAP_TX_PORTS], &key, &val, BPF_ANY))
			lb_debug("tx_ports: %s not added: %s", it->if_name, strerror(errno));
		else
			added++;
	}
	if_freenameindex(ifs);
	return added;
}
