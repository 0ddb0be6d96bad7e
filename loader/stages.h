/* SPDX-License-Identifier: GPL-2.0 */
/* The stage library: every program that can fill a slot of the pipeline.
 *
 * lb-load loads every stage of every slot, pins them under the interface's pin
 * directory, and puts the configured one into each slot. Swapping a slot is
 * then one atomic prog-array update with a program that is already verified
 * (lbctl swap): nothing is loaded or detached at swap time.
 *
 * To add a stage: write bpf/lb/<object>.bpf.c (a policy) or
 * bpf/encap/<object>.bpf.c (a forwarding stage) with one SEC("xdp") program
 * that follows the stage contract (docs/architecture.md), and add its line to
 * LB_POLICIES or LB_FORWARDING_STAGES in bpf/include/lb_consts_common.h.
 */
#ifndef LB_STAGES_H
#define LB_STAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>

#include "maps.h"

struct bpf_object;

struct lb_stage_def {
	const char *name;      /* as the config and lbctl spell it: "ipip", "gue" */
	__u32 slot;            /* enum lb_stage_slot */
	const char *prog_name; /* the SEC("xdp") function, <= 15 characters */
	const void *(*elf_bytes)(size_t *size); /* the object, embedded by its skeleton */
	const char *object;    /* its source: bpf/<lb|encap>/<object>.bpf.c */
};

/* The load-time settings every stage gets whole: lb_tunables_common.h. */
#include "lb_tunables_common.h"

struct lb_stage {
	const struct lb_stage_def *def;
	struct bpf_object *obj;
	int prog_fd;
};

extern const struct lb_stage_def lb_stage_defs[];
extern const size_t lb_stage_def_count;

/* "lb", "encap"; NULL when out of range. */
const char *lb_slot_name(__u32 slot);
/* The slot named @name, or -1. */
int lb_slot_by_name(const char *name);
/* The stage @name of @slot, or NULL. */
const struct lb_stage_def *lb_stage_find(__u32 slot, const char *name);
/* The first stage of @slot in the library (a policy slot has only one), or NULL. */
const struct lb_stage_def *lb_stage_default(__u32 slot);
/* "ipip gue": the stage names of @slot, for messages. */
void lb_stage_names(__u32 slot, char *buf, size_t len);

/* Opens @def, sets @tunables, makes it use @maps, loads it with
 * expected_attach_type @type. 0 or -errno (with @st cleared).
 */
int lb_stage_load(const struct lb_stage_def *def, const struct lb_maps *maps,
		  const struct lb_tunables *tunables, enum bpf_attach_type type,
		  struct lb_stage *st);
void lb_stage_close(struct lb_stage *st);

/* The pin of @def under @pin_dir: <pin_dir>/stage_<slot>_<name>. */
void lb_stage_pin_path(const char *pin_dir, const struct lb_stage_def *def, char *buf,
		       size_t len);

#endif /* LB_STAGES_H */
