// SPDX-License-Identifier: GPL-2.0
/* Prometheus text from a sample of the maps; see lbd_metrics.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "config.h"
#include "counter_names.h"
#include "lbd_metrics.h"
#include "stages.h"

/* A label value as the format wants it: backslash, double quote and newline
 * escaped. Interface names may hold quotes (the kernel allows them).
 */
static void label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{interface="IF" and the sample's own labels, given as pairs. */
static void series_start(FILE *out, const char *name, const char *ifname)
{
	fprintf(out, "%s{interface=\"", name);
	label_value(out, ifname);
	fputc('"', out);
}

static void label(FILE *out, const char *key, const char *value)
{
	fprintf(out, ",%s=\"", key);
	label_value(out, value);
	fputc('"', out);
}

static void series_end(FILE *out, unsigned long long value)
{
	fprintf(out, "} %llu\n", value);
}

/* A family with one series and no label but the interface. */
static void single(FILE *out, const char *ifname, const char *name, const char *type,
		   const char *help, unsigned long long value)
{
	family(out, name, type, help);
	series_start(out, name, ifname);
	series_end(out, value);
}

static void write_load(FILE *out, const struct lbd_view *v)
{
	const struct lbd_load_info *info = v->info;
	__u32 slot;

	single(out, v->ifname, "xdp_lb_attached", "gauge",
	       "1 when xdp-lb's parse program is attached to the interface", info->attached);
	family(out, "xdp_lb_attachment_info", "gauge",
	       "How parse is attached (attachment: dispatcher or single-program; mode: "
	       "native or skb); absent while detached");
	if (info->attached) {
		series_start(out, "xdp_lb_attachment_info", v->ifname);
		label(out, "attachment", info->legacy ? "single-program" : "dispatcher");
		label(out, "mode", info->skb_mode ? "skb" : "native");
		series_end(out, 1);
	}
	single(out, v->ifname, "xdp_lb_config_generation", "gauge",
	       "The config generation parse reads (0 or 1; flips at every reload)",
	       info->generation);
	family(out, "xdp_lb_slot_info", "gauge",
	       "The stage in each filled prog-array slot (lbctl status)");
	for (slot = 0; slot < LB_SLOT_COUNT; slot++) {
		if (!info->slot_stage[slot])
			continue;
		series_start(out, "xdp_lb_slot_info", v->ifname);
		label(out, "slot", lb_slot_name(slot));
		label(out, "stage", info->slot_stage[slot]);
		series_end(out, 1);
	}
}

static void write_counters(FILE *out, const struct lbd_view *v)
{
	const struct lb_stats_sample *s = v->sample;
	unsigned int id;

	family(out, "xdp_lb_stage_packets_total", "counter",
	       "Packets by stage and by what the stage did with them (reason), summed "
	       "over CPUs; each stage counts a packet once");
	for (id = 0; id < LB_COUNTER_MAX; id++) {
		series_start(out, "xdp_lb_stage_packets_total", v->ifname);
		label(out, "stage", lb_counter_stage(id));
		label(out, "reason", lb_counter_reason(id));
		series_end(out, s->counters[id]);
	}
	single(out, v->ifname, "xdp_lb_flow_table_entries", "gauge",
	       "Entries in the flow table, idle ones included until evicted", s->flows_in_table);
}

/* "driver xdp_tx_errors" -> source "driver", counter "xdp_tx_errors". */
static void write_outside(FILE *out, const struct lbd_view *v)
{
	const struct lb_drop_stats *d = &v->sample->outside;
	unsigned int i;

	family(out, "xdp_lb_outside_dropped_packets_total", "counter",
	       "Drops counted outside xdp-lb since the load: the driver's XDP errors and "
	       "the interface's drops (source driver, link), and the IP drops and "
	       "unreachables of the whole network namespace (source kernel)");
	for (i = 0; i < d->count; i++) {
		const char *name = d->stat[i].name, *space = strchr(name, ' ');
		char source[LB_DROP_STAT_NAME_LEN];

		if (!space)
			continue;
		snprintf(source, sizeof(source), "%.*s", (int)(space - name), name);
		series_start(out, "xdp_lb_outside_dropped_packets_total", v->ifname);
		label(out, "source", source);
		label(out, "counter", space + 1);
		series_end(out, d->stat[i].value);
	}
}

/* --- per VIP ---------------------------------------------------------------------- */

static void vip_labels(FILE *out, const char *name, const struct lbd_view *v,
		       const struct lb_stats_vip *vip)
{
	char text[64];

	lb_vip_label(&vip->key, vip->ipv6 ? vip->key6.addr : NULL, text, sizeof(text));
	series_start(out, name, v->ifname);
	label(out, "vip", text);
}

enum vip_figure { VIP_PACKETS, VIP_BYTES, VIP_FLOWS, VIP_ACTIVE, VIP_FIGURES };

static const struct {
	const char *name, *type, *help;
} vip_families[VIP_FIGURES] = {
	[VIP_PACKETS] = { "xdp_lb_vip_packets_total", "counter",
			  "Packets balanced to the VIP's backends (its live pool)" },
	[VIP_BYTES] = { "xdp_lb_vip_bytes_total", "counter",
			"Bytes of those packets, as received (before encapsulation)" },
	[VIP_FLOWS] = { "xdp_lb_vip_flows_total", "counter",
			"Flows placed on the VIP's backends (new, expired and rescheduled)" },
	[VIP_ACTIVE] = { "xdp_lb_vip_active_flows", "gauge",
			 "Flow table entries of the VIP's backends" },
};

static unsigned long long vip_value(const struct lb_stats_vip_sum *sum, enum vip_figure f)
{
	switch (f) {
	case VIP_PACKETS:
		return sum->packets;
	case VIP_BYTES:
		return sum->bytes;
	case VIP_FLOWS:
		return sum->total_flows;
	default:
		return sum->active_flows;
	}
}

static void write_vips(FILE *out, const struct lbd_view *v)
{
	static const __u8 states[] = { LB_BACKEND_UP, LB_BACKEND_DRAIN, LB_BACKEND_DOWN };
	const struct lb_stats_sample *s = v->sample;
	struct lb_stats_vip_sum sum;
	__u32 i, b, k;
	int f;

	family(out, "xdp_lb_vip_info", "gauge", "Each VIP of the live config and its policy");
	for (i = 0; i < s->vip_count; i++) {
		vip_labels(out, "xdp_lb_vip_info", v, &s->vips[i]);
		label(out, "policy", lb_policy_name((__u8)s->vips[i].policy));
		series_end(out, 1);
	}
	for (f = 0; f < VIP_FIGURES; f++) {
		family(out, vip_families[f].name, vip_families[f].type, vip_families[f].help);
		for (i = 0; i < s->vip_count; i++) {
			lb_stats_vip_sum(s, &s->vips[i], &sum);
			vip_labels(out, vip_families[f].name, v, &s->vips[i]);
			series_end(out, vip_value(&sum, (enum vip_figure)f));
		}
	}
	family(out, "xdp_lb_vip_dropped_packets_total", "counter",
	       "The VIP's packets dropped, by stage and reason (every drop counter but a NAT "
	       "reply's, which has no VIP)");
	for (i = 0; i < s->vip_count; i++) {
		for (k = 0; k < LB_VIP_DROP_MAX; k++) {
			unsigned int id = lb_vip_drop_counter(k);

			vip_labels(out, "xdp_lb_vip_dropped_packets_total", v, &s->vips[i]);
			label(out, "stage", lb_counter_stage(id));
			label(out, "reason", lb_counter_reason(id));
			series_end(out, s->vips[i].drops[k]);
		}
	}
	family(out, "xdp_lb_vip_backends", "gauge",
	       "The VIP's backends by state (up, drain, down); a VIP with 0 up drops new flows");
	for (i = 0; i < s->vip_count; i++) {
		const struct lb_stats_vip *vip = &s->vips[i];
		__u32 end = vip->first_backend + vip->backend_count;

		for (k = 0; k < sizeof(states); k++) {
			unsigned long long n = 0;

			for (b = vip->first_backend; b < end; b++)
				n += s->backends[b].config.state == states[k];
			vip_labels(out, "xdp_lb_vip_backends", v, vip);
			label(out, "state", lb_state_name(states[k]));
			series_end(out, n);
		}
	}
}

/* --- per backend ------------------------------------------------------------------ */

static void backend_labels(FILE *out, const char *name, const struct lbd_view *v,
			   const struct lb_stats_backend *b)
{
	char addr[INET6_ADDRSTRLEN], id[16];

	vip_labels(out, name, v, &v->sample->vips[b->vip_index]);
	lb_backend_addr_text(&b->config, addr, sizeof(addr));
	snprintf(id, sizeof(id), "%u", b->id);
	label(out, "backend", addr);
	label(out, "backend_id", id);
}

enum backend_figure { BE_PACKETS, BE_BYTES, BE_FLOWS, BE_ACTIVE, BE_WEIGHT, BE_FIGURES };

static const struct {
	const char *name, *type, *help;
} backend_families[BE_FIGURES] = {
	[BE_PACKETS] = { "xdp_lb_backend_packets_total", "counter",
			 "Packets balanced to the backend" },
	[BE_BYTES] = { "xdp_lb_backend_bytes_total", "counter",
		       "Bytes of those packets, as received (before encapsulation)" },
	[BE_FLOWS] = { "xdp_lb_backend_flows_total", "counter",
		       "Flows placed on the backend (new, expired and rescheduled)" },
	[BE_ACTIVE] = { "xdp_lb_backend_active_flows", "gauge",
			"Flow table entries naming the backend" },
	[BE_WEIGHT] = { "xdp_lb_backend_weight", "gauge", "The backend's weight" },
};

static unsigned long long backend_value(const struct lb_stats_backend *b, enum backend_figure f)
{
	switch (f) {
	case BE_PACKETS:
		return b->totals.packets;
	case BE_BYTES:
		return b->totals.bytes;
	case BE_FLOWS:
		return b->totals.new_flows;
	case BE_ACTIVE:
		return b->active_flows;
	default:
		return b->config.weight;
	}
}

/* The health checks' verdicts, for the backends they probe (health.h). */
static void write_health(FILE *out, const struct lbd_view *v)
{
	const struct lb_stats_sample *s = v->sample;
	__u32 i;

	family(out, "xdp_lb_backend_up", "gauge",
	       "1 when xdp-lbd's health checks find the backend up, 0 when down; only backends "
	       "of VIPs with a health_check that have been probed");
	for (i = 0; i < s->backend_count; i++) {
		if (s->backends[i].health.health == LB_HEALTH_UNPROBED)
			continue;
		backend_labels(out, "xdp_lb_backend_up", v, &s->backends[i]);
		series_end(out, s->backends[i].health.health == LB_HEALTH_IS_UP);
	}
	family(out, "xdp_lb_backend_health_since_seconds", "gauge",
	       "Unix time at which the backend's health (xdp_lb_backend_up) took its value");
	for (i = 0; i < s->backend_count; i++) {
		if (s->backends[i].health.health == LB_HEALTH_UNPROBED)
			continue;
		backend_labels(out, "xdp_lb_backend_health_since_seconds", v, &s->backends[i]);
		series_end(out, s->backends[i].health.since_s);
	}
	family(out, "xdp_lb_backend_probe_ok", "gauge",
	       "1 when the backend's last health probe succeeded, 0 when it failed");
	for (i = 0; i < s->backend_count; i++) {
		if (s->backends[i].health.health == LB_HEALTH_UNPROBED)
			continue;
		backend_labels(out, "xdp_lb_backend_probe_ok", v, &s->backends[i]);
		series_end(out, s->backends[i].health.last_ok);
	}
}

static void write_backends(FILE *out, const struct lbd_view *v)
{
	static const __u8 states[] = { LB_BACKEND_UP, LB_BACKEND_DRAIN, LB_BACKEND_DOWN };
	const struct lb_stats_sample *s = v->sample;
	__u32 i, k;
	int f;

	for (f = 0; f < BE_FIGURES; f++) {
		family(out, backend_families[f].name, backend_families[f].type,
		       backend_families[f].help);
		for (i = 0; i < s->backend_count; i++) {
			backend_labels(out, backend_families[f].name, v, &s->backends[i]);
			series_end(out, backend_value(&s->backends[i], (enum backend_figure)f));
		}
	}
	/* A state set: one series per state, 1 for the backend's own: the
	 * config's, or DOWN/UP as the health checks set it.
	 */
	family(out, "xdp_lb_backend_state", "gauge",
	       "1 for the backend's state (up: takes new flows; drain: keeps its flows; "
	       "down: takes nothing), 0 for the others");
	for (i = 0; i < s->backend_count; i++) {
		for (k = 0; k < sizeof(states); k++) {
			backend_labels(out, "xdp_lb_backend_state", v, &s->backends[i]);
			label(out, "state", lb_state_name(states[k]));
			series_end(out, s->backends[i].config.state == states[k]);
		}
	}
	write_health(out, v);
}

int lbd_metrics_write(FILE *out, const struct lbd_view *view)
{
	single(out, view->ifname, "xdp_lb_loaded", "gauge",
	       "1 when xdp-lb's pinned state for the interface was read, 0 while nothing "
	       "is loaded (the other families are then absent)", view->loaded);
	if (view->loaded) {
		write_load(out, view);
		write_counters(out, view);
		write_outside(out, view);
		write_vips(out, view);
		write_backends(out, view);
	}
	return ferror(out) ? -EIO : 0;
}

int lbd_metrics_render(const struct lbd_view *view, char **text, size_t *len)
{
	FILE *out = open_memstream(text, len);
	int err;

	if (!out)
		return -errno;
	err = lbd_metrics_write(out, view);
	if (fclose(out) && !err)
		err = -EIO;
	if (err) {
		free(*text);
		*text = NULL;
	}
	return err;
}
