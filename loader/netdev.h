/* SPDX-License-Identifier: GPL-2.0 */
/* What the kernel tells about a network device: whether it is a veth whose
 * peer can take XDP frames (rtnetlink), and the drops its driver and the
 * kernel count (ethtool statistics, link statistics, the IP MIB). Read-only.
 */
#ifndef LB_NETDEV_H
#define LB_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>

/* A veth and its peer, as rtnetlink answers for the caller's namespace. */
struct lb_veth_peer {
	bool is_veth;
	bool peer_found;          /* the peer answered (it may be in another namespace) */
	bool peer_other_netns;    /* the peer lives in another network namespace */
	bool peer_has_xdp;        /* an XDP program is attached to the peer */
	char peer_name[IF_NAMESIZE];
};

/* Fills @peer for @ifindex. 0 or -errno (netlink failed); a device that is no
 * veth is 0 with is_veth false.
 */
int lb_veth_peer_query(int ifindex, struct lb_veth_peer *peer);

/* True when XDP frames sent out of @ifindex (XDP_TX, or XDP_REDIRECT into it)
 * would be dropped by its driver: a veth whose peer runs no XDP program. In
 * generic (skb) mode frames go through the normal transmit path and are not.
 * @peer (may be NULL) gets what was found.
 */
bool lb_xdp_tx_dropped_by_peer(int ifindex, bool native, struct lb_veth_peer *peer);

/* Calls @each with the name and value of every ethtool statistic of @ifname
 * (ETH_SS_STATS). 0 (also for a driver without statistics) or -errno.
 */
typedef void (*lb_ethtool_stat_fn)(const char *name, __u64 value, void *arg);
int lb_ethtool_stats(const char *ifname, lb_ethtool_stat_fn each, void *arg);

/* Drop counters that may hide loss of our frames outside our own counters. */
#define LB_DROP_STAT_NAME_LEN 40
#define LB_DROP_STATS_MAX 16

struct lb_drop_stat {
	char name[LB_DROP_STAT_NAME_LEN]; /* "driver xdp_tx_errors", "kernel InAddrErrors" */
	__u64 value;
};

struct lb_drop_stats {
	unsigned int count;
	struct lb_drop_stat stat[LB_DROP_STATS_MAX];
};

/* Reads, for interface @ifname: the driver's XDP error counters (ethtool
 * statistics whose names hold "xdp" and "err", summed over queues: veth's
 * rx_queue_N_xdp_tx_errors -> "driver xdp_tx_errors"), the interface's
 * rx_dropped and tx_dropped, the IP counters of this network namespace that
 * count forwarded packets the kernel dropped (/proc/net/snmp, /proc/net/netstat),
 * and the ICMP unreachables it sent instead of forwarding (a neighbour that
 * never answered ARP ends so).
 * Counters a driver does not have are absent. 0 or -errno.
 */
int lb_drop_stats_read(const char *ifname, struct lb_drop_stats *out);

/* The value of @name in @stats, 0 when absent. */
__u64 lb_drop_stat_get(const struct lb_drop_stats *stats, const char *name);

/* The Ethernet address of @ifindex into @mac (6 bytes). 0, or -errno; a device
 * that is not Ethernet is -EAFNOSUPPORT and @mac is left alone.
 */
int lb_if_mac_read(int ifindex, void *mac);

/* The MTU of interface @ifindex into *@mtu. Returns 0 or -errno. */
int lb_if_mtu_read(int ifindex, __u32 *mtu);

#endif /* LB_NETDEV_H */
