/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF side of lb-load: attaching the parse stage through libxdp, loading
 * the lb and encap stages and putting them into the prog array.
 */
#ifndef LB_PIPELINE_H
#define LB_PIPELINE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <xdp/libxdp.h>

#include "config.h"
#include "maps.h"
#include "stages.h"

/* Room for every stage of the library. */
#define LB_MAX_STAGES 16

#define LB_PARSE_PROG_NAME "xdp_lb_parse"

/* What is attached to an interface, as libxdp sees it. */
struct lb_attachment {
	bool has_xdp;          /* any XDP program at all */
	bool legacy;           /* single program, no dispatcher */
	bool found;            /* our parse program is among them */
	__u32 parse_id;
	int parse_prio;
	enum xdp_attach_mode mode;
	int program_count;     /* programs on the interface, ours included */
	char first_other[64];  /* name of a program that is not ours, if any */
};

int lb_attachment_query(int ifindex, struct lb_attachment *att);

/* Opens parse, makes it share @maps (or create them, sized from @cfg), and
 * attaches it through libxdp at cfg->priority. On success the maps it created
 * are added to @maps. *legacy tells whether parse runs as a single program,
 * without libxdp's dispatcher; @why then says why, in words. Where the kernel
 * refuses parse in the installed libxdp's dispatcher (it changes packet data,
 * the dispatcher's slots do not: libxdp < 1.5.5 on kernels >= 6.13, 6.12.26,
 * 6.6.90), libxdp fails instead of falling back: parse is then attached as a
 * single program, which needs the interface to itself. When that fails too,
 * @why says why the dispatcher was not used ("" otherwise).
 */
int lb_parse_attach(int ifindex, enum xdp_attach_mode mode, const struct lb_config *cfg,
		    struct lb_maps *maps, bool *legacy, char *why, size_t why_len);

/* Detaches our parse program from @ifindex; other programs stay. */
int lb_parse_detach(int ifindex);

/* Replaces parse program @att->parse_id on @ifindex with a new one that uses
 * @maps (every shared map must be in it), as it is attached: one atomic
 * netlink replace for a single program; through the dispatcher, the new one
 * added beside the old, which is then detached, so every frame meets one of
 * them (a frame the old one passes on may meet the new one too, as both
 * pass what is not theirs). Used when a reload replaces a map parse reads
 * (map_sizes.h). On failure the old program stays attached, alone.
 */
int lb_parse_replace(int ifindex, enum xdp_attach_mode mode, const struct lb_config *cfg,
		     const struct lb_maps *maps, const struct lb_attachment *att);

/* References to the programs in the slots, taken before a swap: a program
 * that leaves the prog array is freed unless someone still holds it, and a
 * rollback must be able to put it back.
 */
struct lb_slot_backup {
	int fd[LB_SLOT_COUNT]; /* -1: the slot was empty */
};

int lb_slots_backup(const struct lb_maps *maps, struct lb_slot_backup *bk);
/* Puts the backed-up programs back (an empty slot is emptied again). */
void lb_slots_restore(const struct lb_maps *maps, const struct lb_slot_backup *bk);
void lb_slots_backup_release(struct lb_slot_backup *bk);

/* Every stage of the library, loaded against one set of maps. */
struct lb_stages {
	struct lb_stage stage[LB_MAX_STAGES];
	size_t count;
	enum bpf_attach_type attach_type; /* what the prog array's owner required */
};

/* Loads every stage of the library against @maps and swaps @selected[slot]
 * (NULL: the slot's first library stage) into each slot, the last slot first,
 * so that no stage hands on to an empty slot. The prog array accepts only
 * programs whose expected_attach_type
 * matches its owner's, which depends on how parse was attached
 * (docs/kernels.md): the likely one is tried first, then the other. On
 * failure the slots hold what they held before.
 */
int lb_stages_install(struct lb_stages *st, const struct lb_maps *maps,
		      const struct lb_tunables *tunables,
		      const struct lb_stage_def *const selected[LB_SLOT_COUNT], bool legacy,
		      char *err, size_t err_len);

/* Pins every loaded stage under @pin_dir (lb_stage_pin_path), replacing older
 * pins atomically (pin aside, then rename over). 0 or -errno.
 */
int lb_stages_pin(const struct lb_stages *st, const char *pin_dir);
void lb_stages_destroy(struct lb_stages *st);

/* Puts stage @def, pinned under @pin_dir, into its slot: one atomic update. */
int lb_stage_activate(const struct lb_maps *maps, const char *pin_dir,
		      const struct lb_stage_def *def);

/* The library stage now in @slot (by program id against the pins), or NULL. */
const struct lb_stage_def *lb_slot_stage(const struct lb_maps *maps, const char *pin_dir,
					 __u32 slot);

/* Program id in a stage slot, 0 when empty. */
__u32 lb_slot_prog_id(const struct lb_maps *maps, __u32 slot);

/* Adds every interface of this network namespace but loopback to tx_ports,
 * so the encap stage can redirect to any of them, except (with @native) the
 * veths whose peer would drop XDP frames: encap hands frames for those to the
 * kernel. Returns how many.
 */
int lb_tx_ports_fill(const struct lb_maps *maps, bool native);

#endif /* LB_PIPELINE_H */
