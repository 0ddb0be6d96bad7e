// SPDX-License-Identifier: GPL-2.0
/* Facts about network devices from rtnetlink, ethtool and procfs; see netdev.h. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if_arp.h>

#include "netdev.h"

/* --- rtnetlink: one RTM_GETLINK ------------------------------------------------ */

struct link_answer {
	char name[IF_NAMESIZE];
	char kind[16];     /* IFLA_INFO_KIND: "veth", "bridge", ... */
	int link;          /* IFLA_LINK: a veth's peer ifindex, 0 if absent */
	int link_netnsid;  /* IFLA_LINK_NETNSID: the peer's namespace, -1 if ours */
	bool xdp_attached; /* IFLA_XDP_ATTACHED is not XDP_ATTACHED_NONE */
};

static void parse_nested(struct rtattr *nest, struct link_answer *a, bool xdp)
{
	int len = RTA_PAYLOAD(nest);
	struct rtattr *rta;

	for (rta = RTA_DATA(nest); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (xdp && rta->rta_type == IFLA_XDP_ATTACHED && RTA_PAYLOAD(rta) >= 1)
			a->xdp_attached = *(__u8 *)RTA_DATA(rta) != XDP_ATTACHED_NONE;
		else if (!xdp && rta->rta_type == IFLA_INFO_KIND)
			snprintf(a->kind, sizeof(a->kind), "%.*s", (int)RTA_PAYLOAD(rta),
				 (char *)RTA_DATA(rta));
	}
}

static void parse_link(struct ifinfomsg *ifi, int len, struct link_answer *a)
{
	struct rtattr *rta;

	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		switch (rta->rta_type) {
		case IFLA_IFNAME:
			snprintf(a->name, sizeof(a->name), "%.*s", (int)RTA_PAYLOAD(rta),
				 (char *)RTA_DATA(rta));
			break;
		case IFLA_LINK:
			if (RTA_PAYLOAD(rta) >= sizeof(__u32))
				a->link = (int)*(__u32 *)RTA_DATA(rta);
			break;
		case IFLA_LINK_NETNSID:
			if (RTA_PAYLOAD(rta) >= sizeof(__s32))
				a->link_netnsid = *(__s32 *)RTA_DATA(rta);
			break;
		case IFLA_LINKINFO:
			parse_nested(rta, a, false);
			break;
		case IFLA_XDP:
			parse_nested(rta, a, true);
			break;
		}
	}
}

/* Asks for device @ifindex, in the namespace with id @netnsid (-1: ours). */
static int get_link(int ifindex, int netnsid, struct link_answer *a)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[RTA_SPACE(sizeof(__s32))];
	} req = { 0 };
	static char buf[65536];
	struct nlmsghdr *nh;
	int fd, err = -ENOENT;
	ssize_t n;

	memset(a, 0, sizeof(*a));
	a->link_netnsid = -1;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	if (netnsid >= 0) {
		/* Answered for a device of another namespace (kernel >= 4.20). */
		struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));

		rta->rta_type = IFLA_TARGET_NETNSID;
		rta->rta_len = RTA_LENGTH(sizeof(__s32));
		*(__s32 *)RTA_DATA(rta) = netnsid;
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_SPACE(sizeof(__s32));
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (__u32)n); nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			err = e->error ? e->error : -ENOENT;
			break;
		}
		if (nh->nlmsg_type == RTM_NEWLINK) {
			parse_link(NLMSG_DATA(nh), (int)IFLA_PAYLOAD(nh), a);
			err = 0;
			break;
		}
	}
out:
	close(fd);
	return err;
}

int lb_veth_peer_query(int ifindex, struct lb_veth_peer *peer)
{
	struct link_answer dev, other;
	int err;

	memset(peer, 0, sizeof(*peer));
	err = get_link(ifindex, -1, &dev);
	if (err)
		return err;
	peer->is_veth = !strcmp(dev.kind, "veth");
	if (!peer->is_veth || !dev.link)
		return 0;
	peer->peer_other_netns = dev.link_netnsid >= 0;
	if (get_link(dev.link, dev.link_netnsid, &other))
		return 0; /* peer_found stays false: the caller assumes the worst */
	peer->peer_found = true;
	peer->peer_has_xdp = other.xdp_attached;
	snprintf(peer->peer_name, sizeof(peer->peer_name), "%s", other.name);
	return 0;
}

bool lb_xdp_tx_dropped_by_peer(int ifindex, bool native, struct lb_veth_peer *peer)
{
	struct lb_veth_peer found;

	if (!peer)
		peer = &found;
	if (lb_veth_peer_query(ifindex, peer))
		return false;
	/* A peer we cannot see is taken as one without XDP: handing frames to
	 * the kernel is slower but never loses them.
	 */
	return native && peer->is_veth && !(peer->peer_found && peer->peer_has_xdp);
}

/* --- drop counters ------------------------------------------------------------- */

static void add_stat(struct lb_drop_stats *out, const char *prefix, const char *name,
		     __u64 value)
{
	char full[LB_DROP_STAT_NAME_LEN];
	unsigned int i;

	snprintf(full, sizeof(full), "%s %s", prefix, name);
	for (i = 0; i < out->count; i++) {
		if (!strcmp(out->stat[i].name, full)) {
			out->stat[i].value += value;
			return;
		}
	}
	if (out->count == LB_DROP_STATS_MAX)
		return;
	snprintf(out->stat[out->count].name, LB_DROP_STAT_NAME_LEN, "%s", full);
	out->stat[out->count++].value = value;
}

/* The name of a per-queue counter without its queue: "rx_queue_3_xdp_tx_errors"
 * -> "xdp_tx_errors", so that all queues add up into one line.
 */
static const char *without_queue(const char *name)
{
	const char *p = strstr(name, "queue_");

	if (!p)
		return name;
	p += 6;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '_' ? p + 1 : name;
}

static int ethtool_call(int fd, const char *ifname, void *data)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

int lb_ethtool_stats(const char *ifname, lb_ethtool_stat_fn each, void *arg)
{
	struct {
		struct ethtool_sset_info hdr;
		__u32 count;
	} info = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_STATS } };
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *stats = NULL;
	int fd, err;
	__u32 n, i;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = ethtool_call(fd, ifname, &info);
	if (err || !info.hdr.sset_mask)
		goto out; /* a driver without statistics: 0 counters */
	n = info.count;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + (size_t)n * sizeof(__u64));
	if (!names || !stats) {
		err = -ENOMEM;
		goto out;
	}
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n;
	err = ethtool_call(fd, ifname, names);
	if (!err)
		err = ethtool_call(fd, ifname, stats);
	for (i = 0; !err && i < n; i++) {
		char name[ETH_GSTRING_LEN + 1] = { 0 };

		memcpy(name, names->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		each(name, stats->data[i], arg);
	}
out:
	free(names);
	free(stats);
	close(fd);
	return err;
}

/* The driver's counters of XDP frames it failed to send or take. */
static void add_driver_xdp_error(const char *name, __u64 value, void *out)
{
	if (strstr(name, "xdp") && strstr(name, "err"))
		add_stat(out, "driver", without_queue(name), value);
}

/* rx_dropped and tx_dropped of @ifname in this namespace. */
static void read_link_drops(const char *ifname, struct lb_drop_stats *out)
{
	struct ifaddrs *ifs, *it;

	if (getifaddrs(&ifs))
		return;
	for (it = ifs; it; it = it->ifa_next) {
		const struct rtnl_link_stats *s = it->ifa_data;

		if (!it->ifa_addr || it->ifa_addr->sa_family != AF_PACKET || !s ||
		    strcmp(it->ifa_name, ifname))
			continue;
		add_stat(out, "link", "rx_dropped", s->rx_dropped);
		add_stat(out, "link", "tx_dropped", s->tx_dropped);
		break;
	}
	freeifaddrs(ifs);
}

/* Fields @want of the "@prefix:" lines of a MIB file such as /proc/net/snmp
 * (a line of names, then a line of values).
 */
static void read_mib(const char *path, const char *prefix, const char *const *want,
		     struct lb_drop_stats *out)
{
	char names[4096], values[4096], *ns, *vs, *n, *v;
	size_t plen = strlen(prefix);
	FILE *f = fopen(path, "r");
	int i;

	if (!f)
		return;
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		if (strncmp(names, prefix, plen) || names[plen] != ':')
			continue;
		n = strtok_r(names + plen + 1, " \n", &ns);
		v = strtok_r(values + plen + 1, " \n", &vs);
		for (; n && v; n = strtok_r(NULL, " \n", &ns), v = strtok_r(NULL, " \n", &vs))
			for (i = 0; want[i]; i++)
				if (!strcmp(n, want[i]))
					add_stat(out, "kernel", n, strtoull(v, NULL, 10));
		break;
	}
	fclose(f);
}

int lb_drop_stats_read(const char *ifname, struct lb_drop_stats *out)
{
	/* Forwarded packets the kernel dropped: bad header or TTL expired,
	 * unroutable destination, no route out, too big with DF, discarded.
	 */
	static const char *const ip_fields[] = { "InHdrErrors", "InAddrErrors", "OutDiscards",
						 "OutNoRoutes", "FragFails", NULL };
	static const char *const ext_fields[] = { "IPReversePathFilter", NULL };
	/* A forwarded packet whose next hop never answered ARP is dropped with
	 * an ICMP "host unreachable" to its source, or with none when ICMP is
	 * rate-limited, and counted nowhere else.
	 */
	static const char *const icmp_fields[] = { "OutDestUnreachs", "OutRateLimitGlobal",
						   "OutRateLimitHost", NULL };
	memset(out, 0, sizeof(*out));
	lb_ethtool_stats(ifname, add_driver_xdp_error, out);
	read_link_drops(ifname, out);
	read_mib("/proc/net/snmp", "Ip", ip_fields, out);
	read_mib("/proc/net/netstat", "TcpExt", ext_fields, out);
	read_mib("/proc/net/snmp", "Icmp", icmp_fields, out);
	return 0;
}

__u64 lb_drop_stat_get(const struct lb_drop_stats *stats, const char *name)
{
	unsigned int i;

	for (i = 0; i < stats->count; i++)
		if (!strcmp(stats->stat[i].name, name))
			return stats->stat[i].value;
	return 0;
}

/* One SIOCGIF* request about @ifindex into @ifr. 0 or -errno. */
static int if_ioctl(int ifindex, unsigned long request, struct ifreq *ifr)
{
	int fd, err = 0;

	memset(ifr, 0, sizeof(*ifr));
	if (!if_indextoname((unsigned int)ifindex, ifr->ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, request, ifr))
		err = -errno;
	close(fd);
	return err;
}

int lb_if_mac_read(int ifindex, void *mac)
{
	struct ifreq ifr;
	int err = if_ioctl(ifindex, SIOCGIFHWADDR, &ifr);

	if (err)
		return err;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EAFNOSUPPORT;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

int lb_if_mtu_read(int ifindex, __u32 *mtu)
{
	struct ifreq ifr;
	int err = if_ioctl(ifindex, SIOCGIFMTU, &ifr);

	if (err)
		return err;
	*mtu = (__u32)ifr.ifr_mtu;
	return 0;
}
