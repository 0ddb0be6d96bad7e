/* SPDX-License-Identifier: GPL-2.0 */
/* What every stage unit test sets up around its stage: set-up status that
 * skips or fails a case, the per-CPU packet context, per-CPU sums, and the test
 * sink (tests/unit/sinks.bpf.c) standing in for the next stage.
 *
 * Helpers return 0 or -errno, so a test can wrap them in ASSERT_OK() or chain
 * them with fixture_step().
 */
#ifndef TEST_STAGE_FIXTURE_H
#define TEST_STAGE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "lb_structs_common.h"

struct bpf_object;
struct sinks_bpf;
struct sink_record;

/* The first set-up step that failed, if any. */
struct fixture_status {
	int err;                 /* 0, or -errno of that step */
	const char *failed_step; /* must outlive the fixture: a literal */
};

/* Records @err as the failure of @step unless an earlier step failed. @err is
 * 0 or -errno; another non-zero value is recorded as -EINVAL. Returns @err, so
 * that steps chain: if (fixture_step(..) || fixture_step(..)) return;
 */
int fixture_step(struct fixture_status *status, int err, const char *step);

/* Whether the running case may use the fixture. If not, marks the case skipped
 * (not root: every stage test loads BPF) or failed at @file:@line with the
 * step that failed.
 */
bool fixture_ready(const struct fixture_status *status, const char *file, int line);

/* Ends the running case unless the fixture is ready; see fixture_ready(). */
#define REQUIRE_FIXTURE(status)                                 \
	do {                                                    \
		if (!fixture_ready(status, __FILE__, __LINE__)) \
			return;                                 \
	} while (0)

/* Writes @ctx into the packet_ctx slot of every CPU: a test run may land on
 * any of them.
 */
int ctx_write_all_cpus(int ctx_fd, const struct lb_packet_ctx *ctx);

/* Reads the packet_ctx slot of every CPU into *@percpu, an array of *@cpus
 * contexts that the caller frees (NULL on error).
 */
int ctx_read_all_cpus(int ctx_fd, struct lb_packet_ctx **percpu, int *cpus);

/* Sums the value at @key of a per-CPU map over all CPUs, field by field, into
 * @sum; the value is @size bytes of __u64 fields only (backend_stats). @sum is
 * zeroed on error.
 */
int percpu_sum_u64(int map_fd, const void *key, void *sum, size_t size);

/* The test sink in one slot of a stage's stage_slots. */
struct stage_sink {
	struct sinks_bpf *skel;
	__u32 slot;
};

/* Loads the sink on @stage_obj's own stage_slots and packet_ctx maps, so that it
 * records the context the stage wrote, and puts it into @slot. On error nothing
 * stays loaded.
 */
int sink_attach(struct stage_sink *sink, struct bpf_object *stage_obj, __u32 slot);

/* Empties the sink's slot (the stage's fall-through path) and unloads it. */
void sink_detach(struct stage_sink *sink);

/* Puts the sink (back) into its slot. */
int sink_slot_fill(const struct stage_sink *sink);

/* Empties the sink's slot; -ENOENT when it was empty already. */
int sink_slot_empty(const struct stage_sink *sink);

/* Reads what the sink recorded; on error @rec is zeroed. */
int sink_record_read(const struct stage_sink *sink, struct sink_record *rec);

/* Zeroes the sink's record, its hit count included. */
int sink_record_clear(const struct stage_sink *sink);

#endif /* TEST_STAGE_FIXTURE_H */
