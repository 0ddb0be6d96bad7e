// SPDX-License-Identifier: GPL-2.0
/* Per-flow frame counts for the capture tools; see flow_tally.h. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "flow_tally.h"
#include "packet.h"

#define FLOW_SLOTS (2 * FLOW_TALLY_MAX) /* open addressing: lookups stay short */

struct flow_count flow_tally_flows[FLOW_TALLY_MAX];
size_t flow_tally_count;
static uint32_t slots[FLOW_SLOTS]; /* index + 1 into flow_tally_flows; 0: free */

static uint32_t flow_hash(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport,
			  uint16_t dport)
{
	uint64_t h = ((uint64_t)src << 32 | dst) * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)sport << 24 | (uint64_t)dport << 8 | proto) * 0xc2b2ae3d27d4eb4fULL;
	return (uint32_t)(h >> 32);
}

bool flow_tally(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint32_t slot = flow_hash(proto, src, dst, sport, dport) % FLOW_SLOTS;
	struct flow_count *f;

	for (; slots[slot]; slot = (slot + 1) % FLOW_SLOTS) {
		f = &flow_tally_flows[slots[slot] - 1];
		if (f->proto == proto && f->src == src && f->dst == dst && f->sport == sport &&
		    f->dport == dport) {
			f->count++;
			return true;
		}
	}
	if (flow_tally_count == FLOW_TALLY_MAX)
		return false;
	flow_tally_flows[flow_tally_count] = (struct flow_count){ proto, src, dst, sport, dport, 1 };
	slots[slot] = (uint32_t)++flow_tally_count;
	return true;
}

void flow_tally_print(void)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < flow_tally_count; i++) {
		const struct flow_count *f = &flow_tally_flows[i];

		inet_ntop(AF_INET, &f->src, src, sizeof(src));
		inet_ntop(AF_INET, &f->dst, dst, sizeof(dst));
		printf("flow %s %s:%u %s:%u %lu\n",
		       f->proto == IPPROTO_TCP ? "tcp" : f->proto == IPPROTO_UDP ? "udp" : "other",
		       src, f->sport, dst, f->dport, f->count);
	}
}

uint16_t l4_segment_check(const uint8_t *ip, const uint8_t *seg, size_t len)
{
	uint32_t src, dst;

	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	/* With the segment's own checksum in place, the sum verifies to 0. */
	return pkt_l4_csum(src, dst, ip[9], seg, len);
}
