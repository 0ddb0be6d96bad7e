// SPDX-License-Identifier: GPL-2.0
/* `lbctl flows`: the flow table read once, filtered (--vip, --backend),
 * sorted (--sort), cut (--limit) and printed as a table or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "config.h"
#include "lbctl.h"
#include "log.h"
#include "stats.h"

/* One flow of either table, its addresses in 16 bytes (IPv4 as ::ffff:a.b.c.d,
 * which also sorts IPv4 before IPv6 and each family by address).
 */
struct flow_row {
	bool ipv6;
	__u8 src[16], dst[16];
	__be16 sport, dport;
	__u8 proto;
	struct lb_flow flow;
	bool has_backend; /* false: the backend slot is empty */
	struct lb_backend be;
	double age_s, idle_s;
};

/* The clock the stages stamp flows with (bpf_ktime_get_coarse_ns()). */
static __u64 coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void mapped(__be32 addr, __u8 *out)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &addr, 4);
}

/* A backend's address in the rows' 16-byte form. */
static void backend_addr16(const struct lb_backend *be, __u8 *out)
{
	if (be->flags & LB_BACKEND_F_IPV6)
		memcpy(out, be->addr6, 16);
	else
		mapped(be->addr, out);
}

static bool wanted(const struct lbctl_args *a, const struct flow_row *row)
{
	__u8 want[16], have[16];

	if (a->given & LBCTL_OPT(VIP)) {
		if (a->vip.ipv6)
			memcpy(want, a->vip.addr6, 16);
		else
			mapped(a->vip.addr, want);
		if (memcmp(row->dst, want, 16) ||
		    (a->vip.port > 0 && row->dport != htons((__u16)a->vip.port)) ||
		    (a->vip.proto >= 0 && row->proto != a->vip.proto))
			return false;
	}
	if (a->given & LBCTL_OPT(BACKEND)) {
		if (a->backend_ipv6)
			memcpy(want, a->backend6, 16);
		else
			mapped(a->backend, want);
		if (!row->has_backend)
			return false;
		backend_addr16(&row->be, have);
		if (memcmp(have, want, 16))
			return false;
	}
	return true;
}

static int cmp_u64(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b;
}

static int cmp_addr(const __u8 *a, const __u8 *b)
{
	int c = memcmp(a, b, 16);

	return c < 0 ? -1 : c > 0;
}

/* VIP (address, port, protocol), then client (address, port): host order. */
static int cmp_vip_client(const struct flow_row *a, const struct flow_row *b)
{
	int c = cmp_addr(a->dst, b->dst);

	if (!c)
		c = cmp_u64(ntohs(a->dport), ntohs(b->dport));
	if (!c)
		c = cmp_u64(a->proto, b->proto);
	if (!c)
		c = cmp_addr(a->src, b->src);
	if (!c)
		c = cmp_u64(ntohs(a->sport), ntohs(b->sport));
	return c;
}

static enum lbctl_flow_sort sort_key;

static int compare_rows(const void *pa, const void *pb)
{
	const struct flow_row *a = pa, *b = pb;
	int c = 0;

	switch (sort_key) {
	case LBCTL_SORT_CLIENT:
		c = cmp_addr(a->src, b->src);
		if (!c)
			c = cmp_u64(ntohs(a->sport), ntohs(b->sport));
		break;
	case LBCTL_SORT_BACKEND:
		c = cmp_u64(a->flow.backend_id, b->flow.backend_id);
		break;
	case LBCTL_SORT_AGE: /* oldest first: the smallest creation time */
		c = cmp_u64(lb_flow_created_s(&a->flow), lb_flow_created_s(&b->flow));
		break;
	case LBCTL_SORT_IDLE: /* longest idle first: the earliest last packet */
		c = cmp_u64(a->flow.last_seen_ns, b->flow.last_seen_ns);
		break;
	case LBCTL_SORT_VIP:
	case LBCTL_SORT_MAX:
		break;
	}
	return c ? c : cmp_vip_client(a, b);
}

/* The row of flow table entry @key (of flows6 when @ipv6). */
static void row_key(struct flow_row *row, const void *key, bool ipv6)
{
	const struct lb_flow6_key *k6 = key;
	const struct lb_flow_key *k4 = key;

	row->ipv6 = ipv6;
	if (ipv6) {
		memcpy(row->src, k6->src, 16);
		memcpy(row->dst, k6->dst, 16);
		row->sport = k6->sport;
		row->dport = k6->dport;
		row->proto = k6->proto;
	} else {
		mapped(k4->src, row->src);
		mapped(k4->dst, row->dst);
		row->sport = k4->sport;
		row->dport = k4->dport;
		row->proto = k4->proto;
	}
}

struct flow_rows {
	struct flow_row *rows;
	size_t n, cap, total;
};

/* Every flow of table @fd (keys of @key_size bytes) that passes the filters,
 * appended to @out. 0 or -errno.
 */
static int read_table(const struct ctl *ctl, int fd, size_t key_size, struct flow_rows *out)
{
	__u8 key[sizeof(struct lb_flow6_key)], saved[sizeof(key)], *prev = NULL;
	int be_fd = ctl->maps.fd[LB_MAP_BACKENDS];
	bool ipv6 = key_size == sizeof(struct lb_flow6_key);
	__u64 now = coarse_now_ns();
	struct flow_row row;

	while (bpf_map_get_next_key(fd, prev, key) == 0) {
		memcpy(saved, key, key_size);
		prev = saved;
		memset(&row, 0, sizeof(row));
		row_key(&row, key, ipv6);
		/* Gone since the key was read (expired, evicted): skip it. */
		if (bpf_map_lookup_elem(fd, key, &row.flow))
			continue;
		out->total++;
		row.has_backend = !bpf_map_lookup_elem(be_fd, &row.flow.backend_id, &row.be) &&
				  row.be.state != LB_BACKEND_EMPTY;
		if (!wanted(&ctl->args, &row))
			continue;
		row.idle_s = now > row.flow.last_seen_ns ?
				     (double)(now - row.flow.last_seen_ns) / 1e9 : 0;
		row.age_s = now / 1000000000ULL > lb_flow_created_s(&row.flow) ?
				    (double)(now / 1000000000ULL - lb_flow_created_s(&row.flow)) : 0;
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 1024;
			struct flow_row *more = realloc(out->rows, cap * sizeof(*more));

			if (!more)
				return -ENOMEM;
			out->rows = more;
			out->cap = cap;
		}
		out->rows[out->n++] = row;
	}
	return 0;
}

/* Both flow tables: IPv4's flows and IPv6's flows6. The count, or -errno. */
static long read_flows(const struct ctl *ctl, struct flow_row **rows, size_t *total)
{
	struct flow_rows out = { 0 };
	int err;

	*total = 0;
	err = read_table(ctl, ctl->maps.fd[LB_MAP_FLOWS], sizeof(struct lb_flow_key), &out);
	if (!err)
		err = read_table(ctl, ctl->maps.fd[LB_MAP_FLOWS6], sizeof(struct lb_flow6_key),
				 &out);
	if (err) {
		free(out.rows);
		*rows = NULL;
		return err;
	}
	*rows = out.rows;
	*total = out.total;
	return (long)out.n;
}

/* A row's address as text: IPv4 dotted, IPv6 in RFC 5952's form. */
static const char *addr_text(const __u8 *addr, bool ipv6, char *buf, size_t len)
{
	if (ipv6)
		inet_ntop(AF_INET6, addr, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET, addr + 12, buf, (socklen_t)len);
	return buf;
}

/* "10.0.0.1:1234" or "[2001:db8::1]:1234". */
static void endpoint(const __u8 *addr, bool ipv6, __be16 port, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN];

	addr_text(addr, ipv6, text, sizeof(text));
	snprintf(buf, len, ipv6 ? "[%s]:%u" : "%s:%u", text, ntohs(port));
}

static void print_text(const struct flow_row *rows, size_t shown, size_t matched, size_t total)
{
	char client[INET6_ADDRSTRLEN + 8], vip[INET6_ADDRSTRLEN + 8], backend[INET6_ADDRSTRLEN];
	size_t i;

	printf("%-5s %-21s %-21s %-7s %-15s %8s %8s\n", "proto", "client", "vip", "backend",
	       "address", "age_s", "idle_s");
	for (i = 0; i < shown; i++) {
		const struct flow_row *r = &rows[i];

		endpoint(r->src, r->ipv6, r->sport, client, sizeof(client));
		endpoint(r->dst, r->ipv6, r->dport, vip, sizeof(vip));
		if (r->has_backend)
			lb_backend_addr_text(&r->be, backend, sizeof(backend));
		else
			snprintf(backend, sizeof(backend), "-");
		printf("%-5s %-21s %-21s %-7u %-15s %8.0f %8.1f\n", lb_proto_name(r->proto),
		       client, vip, r->flow.backend_id, backend, r->age_s, r->idle_s);
	}
	/* On stderr: the table stays a table for scripts (tail -n +2). */
	if (shown < matched)
		fprintf(stderr,
			"lbctl: %zu of %zu matching flows shown (--limit); %zu in the table\n",
			shown, matched, total);
}

static void print_json(const struct ctl *ctl, const struct flow_row *rows, size_t shown,
		       size_t matched, size_t total)
{
	json_object *root = json_object_new_object(), *flows = json_object_new_array();
	char addr[INET6_ADDRSTRLEN], idle[32];
	size_t i;

	json_object_object_add(root, "command", json_object_new_string("flows"));
	json_object_object_add(root, "interface", json_object_new_string(ctl->ifname));
	json_object_object_add(root, "in_table", json_object_new_int64((int64_t)total));
	json_object_object_add(root, "matched", json_object_new_int64((int64_t)matched));
	for (i = 0; i < shown; i++) {
		const struct flow_row *r = &rows[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "proto", json_object_new_string(lb_proto_name(r->proto)));
		addr_text(r->src, r->ipv6, addr, sizeof(addr));
		json_object_object_add(o, "client", json_object_new_string(addr));
		json_object_object_add(o, "client_port", json_object_new_int(ntohs(r->sport)));
		addr_text(r->dst, r->ipv6, addr, sizeof(addr));
		json_object_object_add(o, "vip", json_object_new_string(addr));
		json_object_object_add(o, "vip_port", json_object_new_int(ntohs(r->dport)));
		json_object_object_add(o, "backend_id", json_object_new_int64(r->flow.backend_id));
		json_object_object_add(o, "backend",
				       r->has_backend ? json_object_new_string(lb_backend_addr_text(
							       &r->be, addr, sizeof(addr))) :
							NULL);
		json_object_object_add(o, "age_s", json_object_new_int64((int64_t)r->age_s));
		/* Milliseconds are all the coarse clock can tell. */
		snprintf(idle, sizeof(idle), "%.3f", r->idle_s);
		json_object_object_add(o, "idle_s", json_object_new_double_s(r->idle_s, idle));
		json_object_array_add(flows, o);
	}
	json_object_object_add(root, "flows", flows);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_SPACED |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int lbctl_flows(struct ctl *ctl)
{
	struct flow_row *rows;
	size_t total, shown;
	long matched = read_flows(ctl, &rows, &total);

	if (matched < 0) {
		lb_err("Failed to read the flows of %s: %s", ctl->ifname, strerror((int)-matched));
		return LBCTL_EXIT_FAILED;
	}
	sort_key = ctl->args.sort;
	if (matched > 1)
		qsort(rows, (size_t)matched, sizeof(*rows), compare_rows);
	shown = (size_t)matched;
	if (ctl->args.limit && ctl->args.limit < shown)
		shown = ctl->args.limit;
	if (ctl->args.json)
		print_json(ctl, rows, shown, (size_t)matched, total);
	else
		print_text(rows, shown, (size_t)matched, total);
	free(rows);
	return LBCTL_EXIT_OK;
}
