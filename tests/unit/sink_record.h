/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace view of sinks.bpf.c's sink_records value. */
#ifndef TEST_SINK_RECORD_H
#define TEST_SINK_RECORD_H

#include "lb_structs_common.h"

struct sink_record {
	struct lb_packet_ctx ctx;
	__u64 hits;
	__u32 frame_len;
	__u32 pad;
};

#endif /* TEST_SINK_RECORD_H */
