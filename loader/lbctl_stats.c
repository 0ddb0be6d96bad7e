// SPDX-License-Identifier: GPL-2.0
/* `lbctl stats`: presents a sample of the maps (stats.h) as text or JSON, with rates. */
#include <string.h>
#include <arpa/inet.h>
#include <json-c/json.h>

#include "config.h"
#include "counter_names.h"
#include "lbctl_stats.h"

/* --- rates ------------------------------------------------------------------------ */

struct rate {
	bool known;
	double pps, mbps;
	__u64 packets, bytes; /* deltas */
	double seconds;
};

static const struct lb_stats_backend *find_backend(const struct lb_stats_sample *s,
						   const struct lb_stats_backend *like)
{
	__u32 i;

	for (i = 0; i < s->backend_count; i++) {
		const struct lb_stats_backend *b = &s->backends[i];

		if (b->id == like->id && b->config.addr == like->config.addr &&
		    b->config.vip_id == like->config.vip_id)
			return b;
	}
	return NULL;
}

/* Rate of one backend between @prev and @now. Unknown when the backend was not
 * there before, or its counters went back (its slot was given to another).
 */
static struct rate backend_rate(const struct lb_stats_sample *now,
				const struct lb_stats_backend *b,
				const struct lb_stats_sample *prev)
{
	struct rate r = { 0 };
	const struct lb_stats_backend *before;

	if (!prev || now->time_ns <= prev->time_ns)
		return r;
	before = find_backend(prev, b);
	if (!before || before->totals.packets > b->totals.packets ||
	    before->totals.bytes > b->totals.bytes)
		return r;
	r.known = true;
	r.seconds = (double)(now->time_ns - prev->time_ns) / 1e9;
	r.packets = b->totals.packets - before->totals.packets;
	r.bytes = b->totals.bytes - before->totals.bytes;
	r.pps = (double)r.packets / r.seconds;
	r.mbps = (double)r.bytes * 8 / r.seconds / 1e6;
	return r;
}

/* A VIP's figures (stats.h) and the sum of its backends' rates. */
struct vip_totals {
	struct lb_stats_vip_sum sum;
	struct rate rate;
};

static struct vip_totals vip_totals(const struct lb_stats_sample *now,
				    const struct lb_stats_vip *vip,
				    const struct lb_stats_sample *prev)
{
	struct vip_totals t = { 0 };
	__u32 i;

	lb_stats_vip_sum(now, vip, &t.sum);
	for (i = vip->first_backend; i < vip->first_backend + vip->backend_count; i++) {
		struct rate r = backend_rate(now, &now->backends[i], prev);

		if (r.known) {
			t.rate.known = true;
			t.rate.pps += r.pps;
			t.rate.mbps += r.mbps;
		}
	}
	return t;
}

/* --- text ------------------------------------------------------------------------- */

/* 1536 -> "1.5 KiB": bytes are read by people here; --json has them exact. */
static void human_bytes(__u64 bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void rate_cells(const struct rate *r, char *pps, char *mbps, size_t len)
{
	if (!r->known) {
		snprintf(pps, len, "-");
		snprintf(mbps, len, "-");
		return;
	}
	snprintf(pps, len, "%.0f", r->pps);
	snprintf(mbps, len, "%.2f", r->mbps);
}

enum counter_kind { KIND_BALANCED, KIND_PASSED, KIND_DROPPED };

static enum counter_kind counter_kind(unsigned int id)
{
	const char *reason = lb_counter_reason(id);

	if (!strncmp(reason, "pass_", 5))
		return KIND_PASSED;
	if (!strncmp(reason, "drop_", 5))
		return KIND_DROPPED;
	return KIND_BALANCED;
}

/* Appends "name value" to a line under a heading, wrapping at 96 columns. */
static void print_item(FILE *out, int *col, int *shown, const char *name, __u64 value)
{
	char item[96];
	int len;

	len = snprintf(item, sizeof(item), "%s%s %llu", *shown ? ", " : " ", name,
		       (unsigned long long)value);
	if (*col + len > 96) {
		fprintf(out, ",\n%-9s", "");
		*col = 9;
		len = snprintf(item, sizeof(item), " %s %llu", name, (unsigned long long)value);
	}
	*col += fprintf(out, "%s", item);
	(*shown)++;
}

/* Whether an outside drop counter is about the interface (driver, link) or
 * the whole namespace (kernel).
 */
static bool outside_is_interface(const struct lb_drop_stat *st)
{
	return strncmp(st->name, "kernel ", 7) != 0;
}

/* One line of the non-zero counters of @kind, wrapped under its heading; the
 * dropped line also has the interface's drops outside our counters.
 */
static void print_counter_line(FILE *out, const struct lb_stats_sample *s, enum counter_kind kind,
			       const char *heading, const char *note)
{
	int col = fprintf(out, "%-9s", heading), shown = 0;
	unsigned int id;

	for (id = 0; id < LB_COUNTER_MAX; id++) {
		char name[64];

		if (counter_kind(id) != kind || !s->counters[id])
			continue;
		snprintf(name, sizeof(name), "%s.%s", lb_counter_stage(id), lb_counter_reason(id));
		print_item(out, &col, &shown, name, s->counters[id]);
	}
	for (id = 0; kind == KIND_DROPPED && id < s->outside.count; id++)
		if (outside_is_interface(&s->outside.stat[id]) && s->outside.stat[id].value)
			print_item(out, &col, &shown, s->outside.stat[id].name,
				   s->outside.stat[id].value);
	fprintf(out, "%s%s\n", shown ? "" : " none", shown && note ? note : "");
}

/* The kernel's drops of forwarded packets in this namespace, when any. */
static void print_kernel_line(FILE *out, const struct lb_stats_sample *s)
{
	int col = fprintf(out, "%-9s", "kernel"), shown = 0;
	unsigned int i;

	for (i = 0; i < s->outside.count; i++)
		if (!outside_is_interface(&s->outside.stat[i]) && s->outside.stat[i].value)
			print_item(out, &col, &shown, s->outside.stat[i].name + 7,
				   s->outside.stat[i].value);
	fprintf(out, "%s\n", shown ? "  (IP drops in this namespace since the load, all traffic)"
				  : " no IP drops in this namespace since the load");
}

/* The VIP's own drops, when it has any: "  dropped  lb.drop_no_backend 12". */
static void print_vip_drops(FILE *out, const struct lb_stats_vip *vip)
{
	int col = 0, shown = 0;
	unsigned int i;

	for (i = 0; i < LB_VIP_DROP_MAX; i++) {
		unsigned int id = lb_vip_drop_counter(i);
		char name[64];

		if (!vip->drops[i])
			continue;
		if (!shown)
			col = fprintf(out, "  %-9s", "dropped");
		snprintf(name, sizeof(name), "%s.%s", lb_counter_stage(id), lb_counter_reason(id));
		print_item(out, &col, &shown, name, vip->drops[i]);
	}
	if (shown)
		fputc('\n', out);
}

#define ROW_FORMAT "%-25s %-5s %11s %10s %9s %8s %7s %7s %7s\n"

void lb_stats_print_text(FILE *out, const char *ifname, const struct lb_stats_sample *now,
			 const struct lb_stats_sample *prev)
{
	char label[64], packets[32], bytes[32], pps[32], mbps[32], active[32], total[32];
	char load[32];
	__u32 v, i;

	fprintf(out, "xdp-lb on %s: %u VIP%s, %u backend%s, %llu flow%s in the table", ifname,
		now->vip_count, now->vip_count == 1 ? "" : "s", now->backend_count,
		now->backend_count == 1 ? "" : "s", (unsigned long long)now->flows_in_table,
		now->flows_in_table == 1 ? "" : "s");
	if (prev && now->time_ns > prev->time_ns)
		fprintf(out, ", rates over %.1f s", (double)(now->time_ns - prev->time_ns) / 1e9);
	fprintf(out, "\n%79s\n", "--- flows ---");
	fprintf(out, ROW_FORMAT, "VIP / backend", "state", "packets", "bytes", "pps", "Mbit/s",
		"active", "total", "load");
	for (v = 0; v < now->vip_count; v++) {
		const struct lb_stats_vip *vip = &now->vips[v];
		struct vip_totals t = vip_totals(now, vip, prev);

		lb_vip_label(&vip->key, vip->ipv6 ? vip->key6.addr : NULL, label, sizeof(label));
		human_bytes(t.sum.bytes, bytes, sizeof(bytes));
		rate_cells(&t.rate, pps, mbps, sizeof(pps));
		snprintf(active, sizeof(active), "%llu", (unsigned long long)t.sum.active_flows);
		snprintf(total, sizeof(total), "%llu", (unsigned long long)t.sum.total_flows);
		snprintf(packets, sizeof(packets), "%llu", (unsigned long long)t.sum.packets);
		fprintf(out, ROW_FORMAT, label, "", packets, bytes, pps, mbps, active, total, "");
		for (i = vip->first_backend; i < vip->first_backend + vip->backend_count; i++) {
			const struct lb_stats_backend *b = &now->backends[i];
			struct rate r = backend_rate(now, b, prev);
			char addr[INET6_ADDRSTRLEN + 2];

			addr[0] = addr[1] = ' ';
			lb_backend_addr_text(&b->config, addr + 2, INET6_ADDRSTRLEN);
			human_bytes(b->totals.bytes, bytes, sizeof(bytes));
			rate_cells(&r, pps, mbps, sizeof(pps));
			snprintf(packets, sizeof(packets), "%llu",
				 (unsigned long long)b->totals.packets);
			snprintf(active, sizeof(active), "%llu",
				 (unsigned long long)b->active_flows);
			snprintf(total, sizeof(total), "%llu",
				 (unsigned long long)b->totals.new_flows);
			/* least-packets-per-flow's metric: packets per flow placed. */
			snprintf(load, sizeof(load), "%.2f",
				 b->load.flows ?
				 (double)b->load.packets / (double)b->load.flows : 0.0);
			fprintf(out, ROW_FORMAT, addr, lb_state_name(b->config.state), packets,
				bytes, pps, mbps, active, total, load);
		}
		print_vip_drops(out, vip);
	}
	print_counter_line(out, now, KIND_BALANCED, "pipeline", NULL);
	print_counter_line(out, now, KIND_PASSED, "passed", "  (to the kernel)");
	print_counter_line(out, now, KIND_DROPPED, "dropped", NULL);
	print_kernel_line(out, now);
}

/* --- JSON ------------------------------------------------------------------------- */

static void print_rate_json(FILE *out, const struct rate *r)
{
	if (r->known)
		fprintf(out, ", \"pps\": %.1f, \"mbps\": %.3f", r->pps, r->mbps);
}

/* Keys of the first version stay as they were, byte for byte (scripts grep
 * "stage": {...}): interface, counters, backends[] with vip..load_flows,
 * flows. Added after them: per backend active_flows and, with an earlier
 * sample, pps and mbps; vips[] (with drops: the VIP's drops by stage.reason);
 * interval_s; command. docs/json.md has the schema all of lbctl's JSON follows.
 */
void lb_stats_print_json(FILE *out, const char *ifname, const struct lb_stats_sample *now,
			 const struct lb_stats_sample *prev)
{
	const char *stage = NULL;
	char label[64], addr[INET6_ADDRSTRLEN];
	json_object *name;
	unsigned int id;
	__u32 v, i;

	/* json-c quotes the name: the kernel allows '"' and '\\' in one. */
	name = json_object_new_string(ifname);
	fprintf(out, "{\"interface\": %s, \"counters\": {",
		json_object_to_json_string_ext(name, JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(name);
	for (id = 0; id < LB_COUNTER_MAX; id++) {
		if (!stage || strcmp(stage, lb_counter_stage(id))) {
			fprintf(out, "%s\"%s\": {", stage ? "}, " : "", lb_counter_stage(id));
			stage = lb_counter_stage(id);
		} else {
			fprintf(out, ", ");
		}
		fprintf(out, "\"%s\": %llu", lb_counter_reason(id),
			(unsigned long long)now->counters[id]);
	}
	fprintf(out, "}}, \"backends\": [");
	for (i = 0; i < now->backend_count; i++) {
		const struct lb_stats_backend *b = &now->backends[i];
		struct rate r = backend_rate(now, b, prev);

		lb_vip_label(&now->vips[b->vip_index].key,
			     now->vips[b->vip_index].ipv6 ? now->vips[b->vip_index].key6.addr : NULL,
			     label, sizeof(label));
		lb_backend_addr_text(&b->config, addr, sizeof(addr));
		fprintf(out, "%s{\"vip\": \"%s\", \"id\": %u, \"address\": \"%s\", "
			"\"state\": \"%s\", \"weight\": %u, \"packets\": %llu, \"bytes\": %llu, "
			"\"new_flows\": %llu, \"load_packets\": %llu, \"load_flows\": %llu, "
			"\"active_flows\": %llu",
			i ? ", " : "", label, b->id, addr, lb_state_name(b->config.state),
			b->config.weight, (unsigned long long)b->totals.packets,
			(unsigned long long)b->totals.bytes,
			(unsigned long long)b->totals.new_flows,
			(unsigned long long)b->load.packets, (unsigned long long)b->load.flows,
			(unsigned long long)b->active_flows);
		print_rate_json(out, &r);
		/* xdp-lbd's health checks; null when none ran (docs/json.md). */
		if (b->health.health == LB_HEALTH_UNPROBED)
			fprintf(out, ", \"health\": null");
		else
			fprintf(out, ", \"health\": {\"state\": \"%s\", \"since\": %llu, "
				"\"last_probe_ok\": %s}", lb_health_name(b->health.health),
				(unsigned long long)b->health.since_s,
				b->health.last_ok ? "true" : "false");
		fprintf(out, "}");
	}
	fprintf(out, "], \"flows\": %llu, \"vips\": [", (unsigned long long)now->flows_in_table);
	for (v = 0; v < now->vip_count; v++) {
		const struct lb_stats_vip *vip = &now->vips[v];
		struct vip_totals t = vip_totals(now, vip, prev);

		lb_vip_label(&vip->key, vip->ipv6 ? vip->key6.addr : NULL, label, sizeof(label));
		fprintf(out, "%s{\"vip\": \"%s\", \"id\": %u, \"backend_count\": %u, "
			"\"packets\": %llu, \"bytes\": %llu, \"active_flows\": %llu, "
			"\"total_flows\": %llu, \"drops\": {",
			v ? ", " : "", label, vip->vip_id, vip->backend_count,
			(unsigned long long)t.sum.packets, (unsigned long long)t.sum.bytes,
			(unsigned long long)t.sum.active_flows, (unsigned long long)t.sum.total_flows);
		for (i = 0; i < LB_VIP_DROP_MAX; i++) {
			unsigned int id = lb_vip_drop_counter(i);

			fprintf(out, "%s\"%s.%s\": %llu", i ? ", " : "", lb_counter_stage(id),
				lb_counter_reason(id), (unsigned long long)vip->drops[i]);
		}
		fprintf(out, "}");
		print_rate_json(out, &t.rate);
		fprintf(out, "}");
	}
	fprintf(out, "], \"outside\": {");
	for (i = 0; i < now->outside.count; i++) {
		const struct lb_drop_stat *st = &now->outside.stat[i];
		const char *space = strchr(st->name, ' ');

		/* "driver xdp_tx_errors" -> "driver.xdp_tx_errors" */
		fprintf(out, "%s\"%.*s.%s\": %llu", i ? ", " : "",
			space ? (int)(space - st->name) : 0, st->name, space ? space + 1 : st->name,
			(unsigned long long)st->value);
	}
	fprintf(out, "}");
	if (prev && now->time_ns > prev->time_ns)
		fprintf(out, ", \"interval_s\": %.3f",
			(double)(now->time_ns - prev->time_ns) / 1e9);
	fprintf(out, ", \"command\": \"stats\"}\n");
}
