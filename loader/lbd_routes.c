// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's announcement routes over rtnetlink; see lbd_routes.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/lwtunnel.h>
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

/* A request @type with @flags (NLM_F_REQUEST added) in @buf, and its family
 * header of @len bytes, zeroed, in *@family.
 */
static struct nlmsghdr *request(char *buf, __u16 type, __u16 flags, size_t len, void **family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	*family = mnl_nlmsg_put_extra_header(nlh, len);
	return nlh;
}

/* The bytes of @a's address: 4 or 16. */
static size_t addr_len(const struct lbd_addr *a)
{
	return a->family == AF_INET6 ? sizeof(a->v6) : sizeof(a->v4);
}

/* The header every request of ours shares: a host route (IPv4 /32, IPv6
 * /128) of our protocol in our table (RTA_TABLE as well: rtm_table holds 8
 * bits only). Scope link as `ip route add DST dev X` makes an IPv4 device
 * route; IPv6 routes have no scope but universe.
 */
static struct nlmsghdr *route_msg(char *buf, __u16 type, __u16 flags, __u32 table,
				  const struct lbd_addr *dst)
{
	struct rtmsg *rtm;
	struct nlmsghdr *nlh = request(buf, type, NLM_F_ACK | flags, sizeof(*rtm), (void **)&rtm);

	rtm->rtm_family = (unsigned char)dst->family;
	rtm->rtm_dst_len = (unsigned char)lbd_addr_bits(dst);
	rtm->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = LBD_ROUTE_PROTO;
	rtm->rtm_scope = dst->family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put(nlh, RTA_DST, addr_len(dst), dst->v6);
	return nlh;
}

int lbd_routes_add(struct lbd_routes *r, const struct lbd_addr *dst, int oif)
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

int lbd_routes_del(struct lbd_routes *r, const struct lbd_addr *dst)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int err;

	/* The protocol in the request makes the kernel delete only a route of
	 * ours, never another program's route to the same address.
	 */
	err = transact(r, route_msg(buf, RTM_DELROUTE, 0, r->table, dst), NULL, NULL);
	return err == -ESRCH ? 0 : err;
}

int lbd_routes_add_bpf(struct lbd_routes *r, const struct lbd_addr *dst, int oif, int prog_fd,
		       const char *prog_name, __u32 headroom)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlattr *encap, *xmit;
	struct nlmsghdr *nlh;

	nlh = route_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r->table, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (__u32)oif);
	mnl_attr_put_u16(nlh, RTA_ENCAP_TYPE, LWTUNNEL_ENCAP_BPF);
	encap = mnl_attr_nest_start(nlh, RTA_ENCAP);
	xmit = mnl_attr_nest_start(nlh, LWT_BPF_XMIT);
	mnl_attr_put_u32(nlh, LWT_BPF_PROG_FD, (__u32)prog_fd);
	mnl_attr_put_strz(nlh, LWT_BPF_PROG_NAME, prog_name);
	mnl_attr_nest_end(nlh, xmit);
	mnl_attr_put_u32(nlh, LWT_BPF_XMIT_HEADROOM, headroom);
	mnl_attr_nest_end(nlh, encap);
	return transact(r, nlh, NULL, NULL);
}

struct list_ctx {
	const struct lbd_routes *r;
	struct lbd_route *out;
	int family;     /* AF_INET or AF_INET6: the dump's */
	size_t max, count;
	bool overflow;
	bool foreign;   /* count the routes of other protocols instead */
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == RTA_TABLE || type == RTA_OIF) && mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
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

	struct lbd_addr dst = { .family = ctx->family };

	if (rtm->rtm_family != ctx->family ||
	    (!ctx->foreign && (rtm->rtm_protocol != LBD_ROUTE_PROTO ||
			       rtm->rtm_dst_len != lbd_addr_bits(&dst))))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != ctx->r->table)
		return MNL_CB_OK;
	if (ctx->foreign) {
		ctx->count += rtm->rtm_protocol != LBD_ROUTE_PROTO;
		return MNL_CB_OK;
	}
	if (!tb[RTA_DST])
		return MNL_CB_OK;
	if (mnl_attr_get_payload_len(tb[RTA_DST]) != addr_len(&dst))
		return MNL_CB_ERROR;
	if (ctx->count == ctx->max) {
		ctx->overflow = true;
		return MNL_CB_OK;
	}
	memcpy(dst.v6, mnl_attr_get_payload(tb[RTA_DST]), addr_len(&dst));
	ctx->out[ctx->count].dst = dst;
	ctx->out[ctx->count].oif = tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	ctx->count++;
	return MNL_CB_OK;
}

/* Dumps every route of @ctx's family through list_cb with @ctx. */
static int dump_routes(struct lbd_routes *r, struct list_ctx *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	/* A dump of every route of the family: the kernel filters a dump by table only
	 * when asked strictly (NETLINK_GET_STRICT_CHK); reading all and
	 * filtering here works on every kernel.
	 */
	nlh = request(buf, RTM_GETROUTE, NLM_F_DUMP, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = (unsigned char)ctx->family;
	return transact(r, nlh, list_cb, ctx);
}

int lbd_routes_list(struct lbd_routes *r, int family, struct lbd_route *out, size_t max)
{
	struct list_ctx ctx = { .r = r, .family = family, .out = out, .max = max };
	int err = dump_routes(r, &ctx);

	if (err)
		return err;
	return ctx.overflow ? -EOVERFLOW : (int)ctx.count;
}

int lbd_routes_count_foreign(struct lbd_routes *r, int family)
{
	struct list_ctx ctx = { .r = r, .family = family, .foreign = true };
	int err = dump_routes(r, &ctx);

	return err ? err : (int)ctx.count;
}

/* --- the fwmark rule -------------------------------------------------------------- */

static struct nlmsghdr *rule_msg(char *buf, __u16 type, __u16 flags, const struct lbd_routes *r,
				 const struct lbd_rule *rule)
{
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh = request(buf, type, NLM_F_ACK | flags, sizeof(*frh), (void **)&frh);

	frh->family = (__u8)rule->family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = r->table < 256 ? (__u8)r->table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, rule->priority);
	mnl_attr_put_u32(nlh, FRA_FWMARK, rule->mark);
	mnl_attr_put_u32(nlh, FRA_FWMASK, rule->mask);
	mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, LBD_ROUTE_PROTO);
	return nlh;
}

int lbd_rule_add(struct lbd_routes *r, const struct lbd_rule *rule)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return transact(r, rule_msg(buf, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r, rule), NULL,
			NULL);
}

int lbd_rule_del(struct lbd_routes *r, const struct lbd_rule *rule)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int err;

	/* Every attribute of ours in the request: the kernel deletes only a
	 * rule that matches them all, never another program's at that priority.
	 */
	err = transact(r, rule_msg(buf, RTM_DELRULE, 0, r, rule), NULL, NULL);
	return err == -ENOENT ? 0 : err;
}

struct rule_ctx {
	const struct lbd_routes *r;
	const struct lbd_rule *rule;
	int found; /* 0 none, 1 ours, 2 another */
};

static int rule_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, FRA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == FRA_PRIORITY || type == FRA_FWMARK || type == FRA_FWMASK ||
	     type == FRA_TABLE) && mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	if (type == FRA_PROTOCOL && mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static __u32 attr_u32(const struct nlattr *attr, __u32 absent)
{
	return attr ? mnl_attr_get_u32(attr) : absent;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[FRA_MAX + 1] = { 0 };
	struct rule_ctx *ctx = data;
	bool ours;

	if (frh->family != ctx->rule->family)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*frh), rule_attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	if (attr_u32(tb[FRA_PRIORITY], 0) != ctx->rule->priority)
		return MNL_CB_OK;
	ours = frh->action == FR_ACT_TO_TBL && !frh->src_len && !frh->dst_len &&
	       attr_u32(tb[FRA_TABLE], frh->table) == ctx->r->table &&
	       attr_u32(tb[FRA_FWMARK], 0) == ctx->rule->mark &&
	       attr_u32(tb[FRA_FWMASK], 0) == ctx->rule->mask &&
	       tb[FRA_PROTOCOL] && mnl_attr_get_u8(tb[FRA_PROTOCOL]) == LBD_ROUTE_PROTO;
	/* Another rule at our priority wins: it is what the operator must see. */
	if (!ours)
		ctx->found = 2;
	else if (!ctx->found)
		ctx->found = 1;
	return MNL_CB_OK;
}

int lbd_rule_check(struct lbd_routes *r, const struct lbd_rule *rule)
{
	struct rule_ctx ctx = { .r = r, .rule = rule };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;
	int err;

	nlh = request(buf, RTM_GETRULE, NLM_F_DUMP, sizeof(*frh), (void **)&frh);
	frh->family = (__u8)rule->family;
	err = transact(r, nlh, rule_cb, &ctx);
	return err ? err : ctx.found;
}
