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

struct flow_row {
	struct lb_flow_key key;
	struct lb_flow flow;
	__be32 backend_addr; /* 0: the backend slot is empty */
	double age_s, idle_s;
};

/* The clock the stages stamp flows with (bpf_ktime_get_coarse_ns()). */
static __u64 coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static bool wanted(const struct lbctl_args *a, const struct flow_row *row)
{
	if ((a->given & LBCTL_OPT(VIP)) &&
	    (row->key.dst != a->vip.addr ||
	     (a->vip.port > 0 && row->key.dport != htons((__u16)a->vip.port)) ||
	     (a->vip.proto >= 0 && row->key.proto != a->vip.proto)))
		return false;
	if ((a->given & LBCTL_OPT(BACKEND)) && row->backend_addr != a->backend)
		return false;
	return true;
}

static int cmp_u64(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b;
}

/* VIP (address, port, protocol), then client (address, port): host order. */
static int cmp_vip_client(const struct flow_row *a, const struct flow_row *b)
{
	int c = cmp_u64(ntohl(a->key.dst), ntohl(b->key.dst));

	if (!c)
		c = cmp_u64(ntohs(a->key.dport), ntohs(b->key.dport));
	if (!c)
		c = cmp_u64(a->key.proto, b->key.proto);
	if (!c)
		c = cmp_u64(ntohl(a->key.src), ntohl(b->key.src));
	if (!c)
		c = cmp_u64(ntohs(a->key.sport), ntohs(b->key.sport));
	return c;
}

static enum lbctl_flow_sort sort_key;

static int compare_rows(const void *pa, const void *pb)
{
	const struct flow_row *a = pa, *b = pb;
	int c = 0;

	switch (sort_key) {
	case LBCTL_SORT_CLIENT:
		c = cmp_u64(ntohl(a->key.src), ntohl(b->key.src));
		if (!c)
			c = cmp_u64(ntohs(a->key.sport), ntohs(b->key.sport));
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

/* Every flow that passes the filters, into *rows. The count, or -errno. */
static long read_flows(const struct ctl *ctl, struct flow_row **rows, size_t *total)
{
	int fd = ctl->maps.fd[LB_MAP_FLOWS], be_fd = ctl->maps.fd[LB_MAP_BACKENDS];
	struct lb_flow_key key, saved, *prev = NULL;
	__u64 now = coarse_now_ns();
	size_t n = 0, cap = 0;
	struct flow_row row;

	*rows = NULL;
	*total = 0;
	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		struct lb_backend be = { 0 };

		saved = key;
		prev = &saved;
		memset(&row, 0, sizeof(row));
		row.key = key;
		/* Gone since the key was read (expired, evicted): skip it. */
		if (bpf_map_lookup_elem(fd, &key, &row.flow))
			continue;
		(*total)++;
		if (!bpf_map_lookup_elem(be_fd, &row.flow.backend_id, &be))
			row.backend_addr = be.addr;
		if (!wanted(&ctl->args, &row))
			continue;
		row.idle_s = now > row.flow.last_seen_ns ?
				     (double)(now - row.flow.last_seen_ns) / 1e9 : 0;
		row.age_s = now / 1000000000ULL > lb_flow_created_s(&row.flow) ?
				    (double)(now / 1000000000ULL - lb_flow_created_s(&row.flow)) : 0;
		if (n == cap) {
			struct flow_row *more;

			cap = cap ? cap * 2 : 1024;
			more = realloc(*rows, cap * sizeof(**rows));
			if (!more) {
				free(*rows);
				*rows = NULL;
				return -ENOMEM;
			}
			*rows = more;
		}
		(*rows)[n++] = row;
	}
	return (long)n;
}

static void endpoint(__be32 addr, __be16 port, char *buf, size_t len)
{
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, text, sizeof(text));
	snprintf(buf, len, "%s:%u", text, ntohs(port));
}

static void print_text(const struct flow_row *rows, size_t shown, size_t matched, size_t total)
{
	char client[32], vip[32], backend[INET_ADDRSTRLEN];
	size_t i;

	printf("%-5s %-21s %-21s %-7s %-15s %8s %8s\n", "proto", "client", "vip", "backend",
	       "address", "age_s", "idle_s");
	for (i = 0; i < shown; i++) {
		const struct flow_row *r = &rows[i];

		endpoint(r->key.src, r->key.sport, client, sizeof(client));
		endpoint(r->key.dst, r->key.dport, vip, sizeof(vip));
		if (r->backend_addr)
			inet_ntop(AF_INET, &r->backend_addr, backend, sizeof(backend));
		else
			snprintf(backend, sizeof(backend), "-");
		printf("%-5s %-21s %-21s %-7u %-15s %8.0f %8.1f\n", lb_proto_name(r->key.proto),
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
	char addr[INET_ADDRSTRLEN], idle[32];
	size_t i;

	json_object_object_add(root, "command", json_object_new_string("flows"));
	json_object_object_add(root, "interface", json_object_new_string(ctl->ifname));
	json_object_object_add(root, "in_table", json_object_new_int64((int64_t)total));
	json_object_object_add(root, "matched", json_object_new_int64((int64_t)matched));
	for (i = 0; i < shown; i++) {
		const struct flow_row *r = &rows[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "proto", json_object_new_string(
			lb_proto_name(r->key.proto)));
		inet_ntop(AF_INET, &r->key.src, addr, sizeof(addr));
		json_object_object_add(o, "client", json_object_new_string(addr));
		json_object_object_add(o, "client_port", json_object_new_int(ntohs(r->key.sport)));
		inet_ntop(AF_INET, &r->key.dst, addr, sizeof(addr));
		json_object_object_add(o, "vip", json_object_new_string(addr));
		json_object_object_add(o, "vip_port", json_object_new_int(ntohs(r->key.dport)));
		json_object_object_add(o, "backend_id", json_object_new_int64(r->flow.backend_id));
		inet_ntop(AF_INET, &r->backend_addr, addr, sizeof(addr));
		json_object_object_add(o, "backend",
				       r->backend_addr ? json_object_new_string(addr) : NULL);
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
