/* SPDX-License-Identifier: GPL-2.0 */
/* xdp-lbd's health checks (issue 17): every backend of every VIP with a
 * `health_check:` in --config is probed from the balancer's own network
 * namespace (lbd_probe.h), one probe per backend per interval_ms; the results
 * go through the rise/fall counts (health.h) into the pinned backend_health
 * map, and each change between up and down is one update of the backend's
 * entry in the backends map (UP <-> DOWN) and one log line with its reason.
 *
 * Backends the loaded config sets drain or down are probed and shown, never
 * changed. Every write happens under the interface's lock, like lb-load's
 * and lbctl's: a result that meets a reload in progress waits for the next.
 *
 * One module of the daemon's loop: all probes of all backends wait in one
 * epoll set, which the loop polls as one fd; no thread, nothing blocks.
 */
#ifndef LBD_HEALTH_H
#define LBD_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lbd_addr.h"
#include "lbd_loop.h"
#include "lbd_probe.h"
#include "lbd_source.h"
#include "lbd_tunnel.h"

/* Probes in flight at once: each holds a socket. The rest wait their turn. */
#define LBD_HEALTH_MAX_IN_FLIGHT 256

struct lbd_health_target {
	__u32 id;              /* backends map key */
	struct lbd_addr addr;  /* the backend's own: a direct probe goes there */
	__u32 vip_id;
	struct lbd_addr vip;   /* the VIP's address: a probe through the tunnel goes there */
	bool via_tunnel;       /* hc.via tunnel: encapsulated to the backend (lbd_tunnel.h) */
	bool gue;              /* ... as GUE, the encap slot's stage; else IPIP */
	bool probe_direct;     /* the probe in flight went direct: the tunnel was not set up */
	struct lb_health_config hc; /* a copy: the config may be read again under it */
	/* "10.0.1.1 of VIP 10.0.0.100 tcp port 80", "fd00:1::1 of VIP fd00::100 tcp
	 * port 80", for logs.
	 */
	char name[2 * LBD_ADDR_STRLEN + 48];
	uint64_t next_ns;      /* CLOCK_MONOTONIC: when the next probe starts */
	struct lbd_probe probe;
};

struct lbd_health {
	int epoll_fd;
	const char *ifname;
	struct lbd_source *source;
	const struct lb_config *const *config; /* the daemon's --config, NULL: none */
	struct lbd_health_target *targets;
	size_t count;
	size_t in_flight;
	bool need_sync;        /* a result found the list out of date */
	bool told_none;        /* "no health checks" logged since the last change */
	struct lbd_tunnel tunnel; /* the probes through the tunnel */
};

/* Registers the module in @loop: its epoll fd, a timer every @sync_ns that
 * follows loads and reloads, and SIGHUP (after the daemon's own handler, which
 * reads the config again). *@config is read at each sync; @tunnel says where
 * the probes through the tunnel route. 0 or -errno.
 */
int lbd_health_start(struct lbd_health *h, struct lbd_loop *loop, struct lbd_source *source,
		     const char *ifname, const struct lb_config *const *config, uint64_t sync_ns,
		     const struct lbd_tunnel_options *tunnel);

/* Finds the backends to probe again: now, not at the next sync. */
void lbd_health_sync(struct lbd_health *h);

/* Ends every probe and takes the tunnel's routes and rule away. */
void lbd_health_stop(struct lbd_health *h);

#endif /* LBD_HEALTH_H */
