// SPDX-License-Identifier: GPL-2.0
/* Stage unit test fixture helpers; see stage_fixture.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../unit/sink_record.h"
#include "sinks.skel.h"
#include "stage_fixture.h"
#include "test_harness.h"

/* The kernel copies a per-CPU value in 8-byte-aligned strides; a context of a
 * multiple of 8 bytes lets the stride be the struct, and the buffer an array.
 */
_Static_assert(sizeof(struct lb_packet_ctx) % 8 == 0, "lb_packet_ctx: per-CPU stride");

int fixture_step(struct fixture_status *status, int err, const char *step)
{
	if (err && !status->err) {
		status->err = err < 0 ? err : -EINVAL;
		status->failed_step = step;
	}
	return err;
}

bool fixture_ready(const struct fixture_status *status, const char *file, int line)
{
	if (geteuid() != 0) {
		test_skip("needs root");
		return false;
	}
	if (status->err) {
		test_fail(file, line, "setup: %s: %s", status->failed_step,
			  strerror(-status->err));
		return false;
	}
	return true;
}

/* A zeroed buffer for one value of a per-CPU map with @value_size bytes (a
 * multiple of 8) per CPU; NULL with errno set on error.
 */
static void *percpu_alloc(size_t value_size, int *cpus)
{
	*cpus = libbpf_num_possible_cpus();
	if (*cpus <= 0) {
		errno = *cpus < 0 ? -*cpus : EINVAL;
		return NULL;
	}
	return calloc((size_t)*cpus, value_size);
}

int ctx_write_all_cpus(int ctx_fd, const struct lb_packet_ctx *ctx)
{
	struct lb_packet_ctx *percpu;
	__u32 key = 0;
	int cpu, cpus, err;

	percpu = percpu_alloc(sizeof(*percpu), &cpus);
	if (!percpu)
		return -errno;
	for (cpu = 0; cpu < cpus; cpu++)
		percpu[cpu] = *ctx;
	err = bpf_map_update_elem(ctx_fd, &key, percpu, BPF_ANY) ? -errno : 0;
	free(percpu);
	return err;
}

int ctx_read_all_cpus(int ctx_fd, struct lb_packet_ctx **percpu, int *cpus)
{
	__u32 key = 0;
	int err;

	*percpu = percpu_alloc(sizeof(**percpu), cpus);
	if (!*percpu)
		return -errno;
	if (bpf_map_lookup_elem(ctx_fd, &key, *percpu)) {
		err = -errno;
		free(*percpu);
		*percpu = NULL;
		return err;
	}
	return 0;
}

int percpu_sum_u64(int map_fd, const void *key, void *sum, size_t size)
{
	size_t fields = size / sizeof(__u64), i;
	__u64 *percpu, *out = sum;
	int cpu, cpus, err = 0;

	memset(sum, 0, size);
	if (size % sizeof(__u64))
		return -EINVAL;
	percpu = percpu_alloc(size, &cpus);
	if (!percpu)
		return -errno;
	if (bpf_map_lookup_elem(map_fd, key, percpu))
		err = -errno;
	for (cpu = 0; !err && cpu < cpus; cpu++)
		for (i = 0; i < fields; i++)
			out[i] += percpu[(size_t)cpu * fields + i];
	free(percpu);
	return err;
}

int sink_attach(struct stage_sink *sink, struct bpf_object *stage_obj, __u32 slot)
{
	struct bpf_map *slots = bpf_object__find_map_by_name(stage_obj, "stage_slots");
	struct bpf_map *ctx = bpf_object__find_map_by_name(stage_obj, "packet_ctx");
	int err;

	memset(sink, 0, sizeof(*sink));
	if (!slots || !ctx)
		return -ENOENT;
	sink->skel = sinks_bpf__open();
	if (!sink->skel)
		return -errno;
	sink->slot = slot;
	err = bpf_map__reuse_fd(sink->skel->maps.stage_slots, bpf_map__fd(slots));
	if (!err)
		err = bpf_map__reuse_fd(sink->skel->maps.packet_ctx, bpf_map__fd(ctx));
	if (!err)
		err = sinks_bpf__load(sink->skel);
	if (!err)
		err = sink_slot_fill(sink);
	if (err) {
		sinks_bpf__destroy(sink->skel);
		memset(sink, 0, sizeof(*sink));
	}
	return err;
}

void sink_detach(struct stage_sink *sink)
{
	/* The prog array holds the sink while it sits in a slot. */
	if (sink->skel)
		sink_slot_empty(sink);
	sinks_bpf__destroy(sink->skel);
	memset(sink, 0, sizeof(*sink));
}

/* The sink's own fd of the stage's stage_slots: it stays valid while the sink
 * is loaded, whatever the stage test has closed already.
 */
static int sink_slots_fd(const struct stage_sink *sink)
{
	return bpf_map__fd(sink->skel->maps.stage_slots);
}

int sink_slot_fill(const struct stage_sink *sink)
{
	int prog_fd = bpf_program__fd(sink->skel->progs.xdp_test_sink);

	if (bpf_map_update_elem(sink_slots_fd(sink), &sink->slot, &prog_fd, BPF_ANY))
		return -errno;
	return 0;
}

int sink_slot_empty(const struct stage_sink *sink)
{
	return bpf_map_delete_elem(sink_slots_fd(sink), &sink->slot) ? -errno : 0;
}

int sink_record_read(const struct stage_sink *sink, struct sink_record *rec)
{
	int records_fd = bpf_map__fd(sink->skel->maps.sink_records);
	__u32 key = 0;
	int err;

	err = bpf_map_lookup_elem(records_fd, &key, rec) ? -errno : 0;
	if (err)
		memset(rec, 0, sizeof(*rec));
	return err;
}

int sink_record_clear(const struct stage_sink *sink)
{
	struct sink_record zero = {};
	__u32 key = 0;

	if (bpf_map_update_elem(bpf_map__fd(sink->skel->maps.sink_records), &key, &zero, BPF_ANY))
		return -errno;
	return 0;
}
