/* SPDX-License-Identifier: GPL-2.0 */
/* Per-flow frame counts for the capture tools (ipip_capture, frame_capture):
 * an open-addressing table of up to FLOW_TALLY_MAX flows, kept in the order
 * they were first seen, so the tools can list them at the end.
 */
#ifndef TEST_FLOW_TALLY_H
#define TEST_FLOW_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_TALLY_MAX 65536

struct flow_count {
	uint8_t proto;
	uint32_t src, dst;      /* network byte order */
	uint16_t sport, dport;  /* host byte order */
	unsigned long count;
};

extern struct flow_count flow_tally_flows[FLOW_TALLY_MAX];
extern size_t flow_tally_count;

/* Counts one frame of the flow; false when the table is full (not counted). */
bool flow_tally(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport);

/* Prints one line per flow, in first-seen order, as the tests read them:
 *   flow udp 10.0.0.1:10000 123.168.9.8:5000 7
 */
void flow_tally_print(void);

/* The TCP/UDP checksum of @len bytes of segment behind IPv4 header @ip, over
 * the pseudo header: 0 when the segment is intact.
 */
uint16_t l4_segment_check(const uint8_t *ip, const uint8_t *seg, size_t len);

#endif /* TEST_FLOW_TALLY_H */
