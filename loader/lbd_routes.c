// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's announcement routes over rtnetlink; see lbd_routes.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "lbd_routes.h"

int lbd_routes_open(struct lbd_routes *r, __u32 table)
{
	memset(r, 0, sizeof(*r));
	r->table = table;
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl)
		return -errno;
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(r->nl);
		r->nl = NULL;
		return err;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (unsigned int)time(NULL);
	return 0;
}

void lbd_routes_close(struct lbd_routes *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	r->nl = NULL;
}

/* Sends @nlh and reads the answer up to its end (ACK, error or NLMSG_DONE),
 * handing each message to @cb. 0 or -errno (the kernel's, for a refusal).
 */
static int transact(struct lbd_routes *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = ++r->seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, r->portid, cb, data);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

/* The header every request of ours shares: an IPv4 /32 of our protocol in
 * our table (RTA_TABLE as well: rtm_table holds 8 bits only).
 */
static struct nlmsghdr *route_msg(char *buf, __u16 type, __u16 flags, __u32 table, __be32 dst)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = LBD_ROUTE_PROTO;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	return nlh;
}

int lbd_routes_add(struct lbd_routes *r, __be32 dst, int oif)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	/* REPLACE: a route of ours left on an interface that was made anew
	 * (another index) is corrected in place, without a withdrawal.
	 */
	nlh = route_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r->table, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (__u32)oif);
	return transact(r, nlh, NULL, NULL);
}

int lbd_routes_del(struct lbd_routes *r, __be32 dst)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int err;

	/* The protocol in the request makes the kernel delete only a route of
	 * ours, never another program's route to the same address.
	 */
	err = transact(r, route_msg(buf, RTM_DELROUTE, 0, r->table, dst), NULL, NULL);
	return err == -ESRCH ? 0 : err;
}

struct list_ctx {
	const struct lbd_routes *r;
	struct lbd_route *out;
	size_t max, count;
	bool overflow;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == RTA_TABLE || type == RTA_OIF) && mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	if (type == RTA_DST && mnl_attr_get_payload_len(attr) != 4)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int list_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct list_ctx *ctx = data;
	__u32 table;

	if (rtm->rtm_family != AF_INET || rtm->rtm_protocol != LBD_ROUTE_PROTO ||
	    rtm->rtm_dst_len != 32)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != ctx->r->table || !tb[RTA_DST])
		return MNL_CB_OK;
	if (ctx->count == ctx->max) {
		ctx->overflow = true;
		return MNL_CB_OK;
	}
	memcpy(&ctx->out[ctx->count].dst, mnl_attr_get_payload(tb[RTA_DST]), 4);
	ctx->out[ctx->count].oif = tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	ctx->count++;
	return MNL_CB_OK;
}

int lbd_routes_list(struct lbd_routes *r, struct lbd_route *out, size_t max)
{
	struct list_ctx ctx = { .r = r, .out = out, .max = max };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int err;

	/* A dump of every IPv4 route: the kernel filters a dump by table only
	 * when asked strictly (NETLINK_GET_STRICT_CHK); reading all and
	 * filtering here works on every kernel.
	 */
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	err = transact(r, nlh, list_cb, &ctx);
	if (err)
		return err;
	return ctx.overflow ? -EOVERFLOW : (int)ctx.count;
}
