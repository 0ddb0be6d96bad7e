/* SPDX-License-Identifier: GPL-2.0 */
/* xdp_send's parts: the options, flows and pacing (xdp_send.c) and one file
 * per way of handing frames to the interface (xdp_send_live.c,
 * xdp_send_afxdp.c, xdp_send_packet.c).
 */
#ifndef XDP_SEND_H
#define XDP_SEND_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* Ethernet + IPv4 + TCP: every byte a flow rewrite or an encapsulation
 * touches (xdp_send.bpf.c has the same number).
 */
#define TEMPLATE_HEAD 54

struct send_method;

struct args {
	const char *ifname;
	int ifindex;
	uint8_t dst_mac[6], src_mac[6];
	uint32_t dst, src; /* network byte order */
	uint16_t port, sport_base;
	uint8_t proto;
	unsigned int flows, threads;
	size_t frame_len;
	unsigned long long count;
	double seconds, pps;
	bool list_flows, have_dst_mac;
	const char *method_name; /* -M: auto, live, afxdp or packet */
	/* Derived: the template frame of flow 0, and how many flows one
	 * source address carries (source ports SPORT_BASE..65535).
	 */
	uint8_t frame[PKT_MAX];
	uint32_t ports_per_source;
};

struct sender {
	pthread_t thread;
	int index, cpu, err; /* err: errno of a failed send */
	unsigned long long quota; /* 0: until the deadline */
	double pps;               /* 0: unpaced */
	/* Frames the interface took from this sender: the first @frames of
	 * its sequence, which starts at flow 0 (see frames_of_flow()).
	 */
	unsigned long long frames;
	const struct args *args;
	void *priv; /* the method's state */
};

/* One way of handing frames to the interface. Every function returns 0 or a
 * negative errno; on failure @why says what failed, as the object of
 * "Failed to ...".
 */
struct send_method {
	const char *name;  /* -M and the summary's method= */
	const char *label; /* in messages */
	/* Pacing: what is due up to @lead seconds ahead goes in one call. */
	double lead;
	int (*setup)(const struct args *a, char *why, size_t why_len);
	int (*open)(struct sender *s, char *why, size_t why_len);
	/* Hands up to @n frames (at least 1) to the interface and returns how
	 * many it took, 0 when it had no room: the caller calls again.
	 */
	long long (*send)(struct sender *s, unsigned long long n);
	/* In the sender's thread after its last send: waits for what is in
	 * flight and sets s->frames.
	 */
	void (*finish)(struct sender *s);
	void (*close)(struct sender *s);
	void (*teardown)(void);
	/* What the driver reports having taken and refused so far (the
	 * summary's xmit and xmit_errors); false when it reports nothing.
	 */
	bool (*counters)(const char *ifname, unsigned long long *xmit, unsigned long long *errs);
};

extern const struct send_method live_method, afxdp_method, packet_method;

extern volatile sig_atomic_t stop;
extern double deadline; /* monotonic seconds; 0: none */

double now_s(void);

/* Writes flow @flow's headers over the first TEMPLATE_HEAD bytes of @frame
 * (its payload must be the template's already).
 */
void flow_headers(const struct args *a, uint8_t *frame, uint32_t flow);

/* The interface's own packet counters: transmitted, and dropped or failed. */
bool link_tx_counters(const char *ifname, unsigned long long *xmit, unsigned long long *errs);

#endif /* XDP_SEND_H */
