/* SPDX-License-Identifier: GPL-2.0 */
/* The packet fuzzer's record of the flows lb has seen: 5-tuple -> backend, to
 * tell which frames must hit the flow table and where they must go.
 */
#ifndef FUZZ_FLOWS_H
#define FUZZ_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_structs_common.h"

/* A flow table key of either family: flows for IPv4 VIPs, flows6 for IPv6
 * ones. Built by flow_key_v4() / flow_key_v6() (zeroed first: compared whole).
 */
struct flow_any_key {
	union {
		struct lb_flow_key v4;
		struct lb_flow6_key v6;
	};
	bool ipv6;
};

struct flow_slot {
	struct flow_any_key key;
	uint32_t backend_id;
	bool used;
};

/* Open addressing, grown at half full. */
struct flow_model {
	struct flow_slot *slots;
	size_t capacity; /* a power of two */
	size_t count;
};

int flow_model_init(struct flow_model *m);
void flow_model_free(struct flow_model *m);

/* The flow's record, or NULL when lb has not seen it. */
const struct flow_slot *flow_model_find(const struct flow_model *m,
					const struct flow_any_key *key);

/* Records (or moves) the flow to @backend_id. 0 or -ENOMEM. */
int flow_model_set(struct flow_model *m, const struct flow_any_key *key, uint32_t backend_id);

struct flow_any_key flow_key_v4(const struct lb_flow_key *key);
struct flow_any_key flow_key_v6(const struct lb_flow6_key *key);
/* The key of the flow a packet context names (LB_CTX_F_IPV6: flow6). */
struct flow_any_key flow_key_of(const struct lb_packet_ctx *ctx);

/* Whether the kernel's LRU table of @table_size entries may have evicted some
 * flow by now. An LRU hash starts evicting before it is full (free entries sit
 * in per-CPU lists), so this says yes from three quarters on.
 */
bool flow_model_overflowed(const struct flow_model *m, uint32_t table_size);

#endif /* FUZZ_FLOWS_H */
