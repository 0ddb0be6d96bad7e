// SPDX-License-Identifier: GPL-2.0
/* Test sinks: programs a unit test puts into a stage slot in place of the real
 * next stage. A sink records the packet context it was handed and the frame
 * length, counts its hits and returns XDP_TX, a verdict no stage under test
 * returns on its own path to the slot, so the test can tell "handed on" apart.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb_maps.bpf.h"

struct sink_record {
	struct lb_packet_ctx ctx;
	__u64 hits;
	__u32 frame_len;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sink_record);
} sink_records SEC(".maps");

SEC("xdp")
int xdp_test_sink(struct xdp_md *xdp)
{
	__u32 key = 0;
	struct lb_packet_ctx *ctx = bpf_map_lookup_elem(&packet_ctx, &key);
	struct sink_record *rec = bpf_map_lookup_elem(&sink_records, &key);

	if (!ctx || !rec)
		return XDP_ABORTED;
	rec->ctx = *ctx;
	rec->hits++;
	rec->frame_len = xdp->data_end - xdp->data;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
