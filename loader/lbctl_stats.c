// SPDX-License-Identifier: GPL-2.0
/* `lbctl stats`: samples the pinned maps and prints per VIP and per backend figures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "counter_names.h"
#include "host.h"
#include "lbctl_stats.h"
#include "state.h"

/* Flow table entries fetched per batch syscall. A hash map's batch must hold
 * at least one whole bucket; a bucket of this many entries does not happen.
 */
#define FLOW_BATCH 4096

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static int percpu_u64_sum(int fd, __u32 key, __u64 *out)
{
	int cpus = libbpf_num_possible_cpus(), cpu, err = 0;
	__u64 *vals = calloc((size_t)cpus, sizeof(*vals));

	*out = 0;
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals))
		err = -errno;
	for (cpu = 0; !err && cpu < cpus; cpu++)
		*out += vals[cpu];
	free(vals);
	return err;
}

static int backend_stats_sum(int fd, __u32 id, struct lb_backend_stats *out)
{
	int cpus = libbpf_num_possible_cpus(), cpu, err = 0;
	struct lb_backend_stats *vals = calloc((size_t)cpus, sizeof(*vals));

	memset(out, 0, sizeof(*out));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &id, vals))
		err = -errno;
	for (cpu = 0; !err && cpu < cpus; cpu++) {
		out->packets += vals[cpu].packets;
		out->bytes += vals[cpu].bytes;
		out->new_flows += vals[cpu].new_flows;
	}
	free(vals);
	return err;
}

static void count_flow(__u64 *per_backend, __u64 *total, const struct lb_flow *flow)
{
	(*total)++;
	if (flow->backend_id < LB_MAX_BACKENDS)
		per_backend[flow->backend_id]++;
}

/* The flow table one entry at a time: kernels without batch operations. */
static void walk_flows_one_by_one(int fd, __u64 *per_backend, __u64 *total)
{
	struct lb_flow_key key, saved, *prev = NULL;
	struct lb_flow flow;

	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		saved = key;
		prev = &saved;
		if (!bpf_map_lookup_elem(fd, &key, &flow))
			count_flow(per_backend, total, &flow);
	}
}

/* Counts the flow table's entries per backend: "active flows" are the flows
 * the table holds, idle ones included until LRU eviction removes them.
 */
static void walk_flows(int fd, __u64 *per_backend, __u64 *total)
{
	struct lb_flow_key *keys = calloc(FLOW_BATCH, sizeof(*keys));
	struct lb_flow *vals = calloc(FLOW_BATCH, sizeof(*vals));
	__u32 batch = 0, count, i;
	bool first = true;
	int err;

	*total = 0;
	if (!keys || !vals)
		goto out;
	do {
		count = FLOW_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &count,
					   NULL);
		if (err && errno != ENOENT) {
			/* Nothing counted yet when the first batch fails. */
			if (first)
				walk_flows_one_by_one(fd, per_backend, total);
			break;
		}
		first = false;
		for (i = 0; i < count; i++)
			count_flow(per_backend, total, &vals[i]);
	} while (!err);
out:
	free(keys);
	free(vals);
}

/* VIPs in a stable order: address, port, protocol (the hash map has none). */
/* The drops counted outside our maps since the load: now minus what host_state
 * recorded at the load (a counter that went down, as when a driver's queues
 * were reconfigured, counts from 0).
 */
static void sample_outside(const struct lb_maps *maps, const char *ifname,
			   struct lb_drop_stats *out)
{
	struct lb_host_state host;
	unsigned int i;

	if (lb_drop_stats_read(ifname, out) || lb_host_state_read(maps, &host))
		return;
	for (i = 0; i < out->count; i++) {
		__u64 base = lb_drop_stat_get(&host.baseline, out->stat[i].name);

		if (out->stat[i].value >= base)
			out->stat[i].value -= base;
	}
}

int lb_stats_sample(const struct lb_maps *maps, const char *ifname, struct lb_stats_sample *out)
{
	static __u64 active[LB_MAX_BACKENDS];
	static struct lb_state state;
	__u32 id, j;
	size_t k;
	int err;

	memset(out, 0, sizeof(*out));
	out->time_ns = now_ns();
	for (id = 0; id < LB_COUNTER_MAX; id++) {
		err = percpu_u64_sum(maps->fd[LB_MAP_COUNTERS], id, &out->counters[id]);
		if (err)
			return err;
	}
	memset(active, 0, sizeof(active));
	walk_flows(maps->fd[LB_MAP_FLOWS], active, &out->flows_in_table);
	sample_outside(maps, ifname, &out->outside);

	/* Only the generation parse reads: the other is a past or an
	 * unfinished config.
	 */
	err = lb_state_read(maps, &state);
	if (err)
		return err;
	for (k = 0; k < state.live_count && out->vip_count < LB_MAX_VIPS; k++) {
		const struct lb_state_vip *live = &state.live[k];
		struct lb_stats_vip *vip = &out->vips[out->vip_count];

		vip->key = live->key;
		vip->vip_id = live->vip.vip_id;
		vip->first_backend = out->backend_count;
		for (j = 0; j < live->pool.backend_count && j < LB_MAX_BACKENDS_PER_VIP &&
			    out->backend_count < LB_MAX_BACKENDS; j++) {
			struct lb_stats_backend *b = &out->backends[out->backend_count++];

			b->id = live->pool.backend_ids[j];
			b->vip_index = out->vip_count;
			bpf_map_lookup_elem(maps->fd[LB_MAP_BACKENDS], &b->id, &b->config);
			bpf_map_lookup_elem(maps->fd[LB_MAP_BACKEND_LOAD], &b->id, &b->load);
			backend_stats_sum(maps->fd[LB_MAP_BACKEND_STATS], b->id, &b->totals);
			b->active_flows = b->id < LB_MAX_BACKENDS ? active[b->id] : 0;
		}
		vip->backend_count = out->backend_count - vip->first_backend;
		out->vip_count++;
	}
	return 0;
}

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

/* A VIP's figures: the sum of its backends'. */
struct vip_totals {
	__u64 packets, bytes, active_flows, total_flows;
	struct rate rate;
};

static struct vip_totals vip_totals(const struct lb_stats_sample *now,
				    const struct lb_stats_vip *vip,
				    const struct lb_stats_sample *prev)
{
	struct vip_totals t = { 0 };
	__u32 i;

	for (i = vip->first_backend; i < vip->first_backend + vip->backend_count; i++) {
		const struct lb_stats_backend *b = &now->backends[i];
		struct rate r = backend_rate(now, b, prev);

		t.packets += b->totals.packets;
		t.bytes += b->totals.bytes;
		t.active_flows += b->active_flows;
		t.total_flows += b->totals.new_flows;
		if (r.known) {
			t.rate.known = true;
			t.rate.pps += r.pps;
			t.rate.mbps += r.mbps;
		}
	}
	return t;
}

/* --- text ------------------------------------------------------------------------- */

void lb_vip_label(const struct lb_vip_key *key, char *buf, size_t len)
{
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &key->addr, addr, sizeof(addr));
	if (key->port)
		snprintf(buf, len, "%s:%u/%s", addr, ntohs(key->port), lb_proto_name(key->proto));
	else
		snprintf(buf, len, "%s:*/%s", addr, lb_proto_name(key->proto));
}

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

		lb_vip_label(&vip->key, label, sizeof(label));
		human_bytes(t.bytes, bytes, sizeof(bytes));
		rate_cells(&t.rate, pps, mbps, sizeof(pps));
		snprintf(active, sizeof(active), "%llu", (unsigned long long)t.active_flows);
		snprintf(total, sizeof(total), "%llu", (unsigned long long)t.total_flows);
		snprintf(packets, sizeof(packets), "%llu", (unsigned long long)t.packets);
		fprintf(out, ROW_FORMAT, label, "", packets, bytes, pps, mbps, active, total, "");
		for (i = vip->first_backend; i < vip->first_backend + vip->backend_count; i++) {
			const struct lb_stats_backend *b = &now->backends[i];
			struct rate r = backend_rate(now, b, prev);
			char addr[INET_ADDRSTRLEN + 2];

			addr[0] = addr[1] = ' ';
			inet_ntop(AF_INET, &b->config.addr, addr + 2, INET_ADDRSTRLEN);
			human_bytes(b->totals.bytes, bytes, sizeof(bytes));
			rate_cells(&r, pps, mbps, sizeof(pps));
			snprintf(packets, sizeof(packets), "%llu",
				 (unsigned long long)b->totals.packets);
			snprintf(active, sizeof(active), "%llu",
				 (unsigned long long)b->active_flows);
			snprintf(total, sizeof(total), "%llu",
				 (unsigned long long)b->totals.new_flows);
			/* The least-loaded metric: packets per flow placed. */
			snprintf(load, sizeof(load), "%.2f",
				 b->load.flows ?
				 (double)b->load.packets / (double)b->load.flows : 0.0);
			fprintf(out, ROW_FORMAT, addr, lb_state_name(b->config.state), packets,
				bytes, pps, mbps, active, total, load);
		}
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

/* Keys of the first version stay as they were (scripts grep "stage": {...}):
 * interface, counters, backends[] with vip..load_flows, flows. Added after
 * them: per backend active_flows and, with an earlier sample, pps and mbps;
 * vips[]; interval_s.
 */
void lb_stats_print_json(FILE *out, const char *ifname, const struct lb_stats_sample *now,
			 const struct lb_stats_sample *prev)
{
	const char *stage = NULL;
	char label[64], addr[INET_ADDRSTRLEN];
	unsigned int id;
	__u32 v, i;

	fprintf(out, "{\"interface\": \"%s\", \"counters\": {", ifname);
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

		lb_vip_label(&now->vips[b->vip_index].key, label, sizeof(label));
		inet_ntop(AF_INET, &b->config.addr, addr, sizeof(addr));
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
		fprintf(out, "}");
	}
	fprintf(out, "], \"flows\": %llu, \"vips\": [", (unsigned long long)now->flows_in_table);
	for (v = 0; v < now->vip_count; v++) {
		const struct lb_stats_vip *vip = &now->vips[v];
		struct vip_totals t = vip_totals(now, vip, prev);

		lb_vip_label(&vip->key, label, sizeof(label));
		fprintf(out, "%s{\"vip\": \"%s\", \"id\": %u, \"backend_count\": %u, "
			"\"packets\": %llu, \"bytes\": %llu, \"active_flows\": %llu, "
			"\"total_flows\": %llu",
			v ? ", " : "", label, vip->vip_id, vip->backend_count,
			(unsigned long long)t.packets, (unsigned long long)t.bytes,
			(unsigned long long)t.active_flows, (unsigned long long)t.total_flows);
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
	fprintf(out, "}\n");
}
