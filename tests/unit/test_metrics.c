// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd's metrics text (loader/lbd_metrics.c) from made-up samples: exact
 * lines for each kind of figure, label values escaped, every family with one
 * HELP and one TYPE line before its series, Prometheus' naming rules, and
 * every family named in docs/operations.md. Needs no privileges: no map is
 * read. (The daemon suite checks real figures and runs promtool.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter_names.h"
#include "lb_counters_common.h"
#include "lbd_metrics.h"
#include "test_harness.h"

static struct lb_stats_sample sample;
static struct lbd_load_info info;

/* One TCP VIP with policy maglev and two backends (up and down), two
 * counters, two drops outside ours; parse attached in skb mode through the
 * dispatcher, GUE in the encap slot.
 */
static struct lbd_view made_up_view(const char *ifname)
{
	struct lb_stats_backend *b;

	memset(&sample, 0, sizeof(sample));
	memset(&info, 0, sizeof(info));
	sample.counters[LB_C_PARSE_TO_LB] = 12;
	sample.counters[LB_C_LB_DROP_NO_BACKEND] = 7;
	sample.flows_in_table = 5;
	sample.vip_count = 1;
	inet_pton(AF_INET, "10.0.0.100", &sample.vips[0].key.addr);
	sample.vips[0].key.port = htons(80);
	sample.vips[0].key.proto = IPPROTO_TCP;
	sample.vips[0].vip_id = 3;
	sample.vips[0].policy = LB_POLICY_MAGLEV;
	sample.vips[0].backend_count = 2;
	sample.vips[0].drops[LB_VD_LB_DROP_NO_BACKEND] = 7;
	sample.vips[0].drops[LB_VD_ENCAP_DROP_MTU] = 2;
	sample.backend_count = 2;
	b = &sample.backends[0];
	b->id = 4;
	inet_pton(AF_INET, "10.0.1.1", &b->config.addr);
	b->config.state = LB_BACKEND_UP;
	b->config.weight = 2;
	b->totals.packets = 10;
	b->totals.bytes = 1000;
	b->totals.new_flows = 3;
	b->active_flows = 2;
	b = &sample.backends[1];
	b->id = 5;
	inet_pton(AF_INET, "10.0.2.2", &b->config.addr);
	b->config.state = LB_BACKEND_DOWN;
	b->config.weight = 1;
	b->totals.packets = 2;
	b->totals.bytes = 120;
	b->totals.new_flows = 1;
	sample.outside.count = 2;
	snprintf(sample.outside.stat[0].name, LB_DROP_STAT_NAME_LEN, "driver xdp_tx_errors");
	sample.outside.stat[0].value = 9;
	snprintf(sample.outside.stat[1].name, LB_DROP_STAT_NAME_LEN, "kernel OutNoRoutes");
	sample.outside.stat[1].value = 1;
	info.attached = true;
	info.skb_mode = true;
	info.generation = 1;
	info.slot_stage[LB_SLOT_ENCAP] = "gue";
	return (struct lbd_view){ .ifname = ifname, .loaded = true, .sample = &sample,
				  .info = &info };
}

static char *render(const struct lbd_view *view)
{
	char *text = NULL;
	size_t len = 0;

	if (!ASSERT_OK(lbd_metrics_render(view, &text, &len), "render"))
		return NULL;
	ASSERT_EQ(strlen(text), len, "length of the text");
	return text;
}

/* @line is one whole line of @text. */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	test_fail(__FILE__, __LINE__, "no line\n    %s\nin:\n%s", line, text);
}

static void test_nothing_loaded_is_one_series(void)
{
	struct lbd_view view = { .ifname = "veth1", .loaded = false };
	char *text = render(&view);

	if (!text)
		return;
	ASSERT_STREQ(text,
		     "# HELP xdp_lb_loaded 1 when xdp-lb's pinned state for the interface was "
		     "read, 0 while nothing is loaded (the other families are then absent)\n"
		     "# TYPE xdp_lb_loaded gauge\n"
		     "xdp_lb_loaded{interface=\"veth1\"} 0\n",
		     "the whole text");
	free(text);
}

/* The labels of made_up_view()'s VIP and of its two backends. */
#define VIP_LABELS "interface=\"eth0\",vip=\"10.0.0.100:80/tcp\""
#define B4 VIP_LABELS ",backend=\"10.0.1.1\",backend_id=\"4\""
#define B5 VIP_LABELS ",backend=\"10.0.2.2\",backend_id=\"5\""

static void test_figures_as_lines(void)
{
	struct lbd_view view = made_up_view("eth0");
	char *text = render(&view);
	static const char *const lines[] = {
		"xdp_lb_loaded{interface=\"eth0\"} 1",
		"xdp_lb_attached{interface=\"eth0\"} 1",
		"xdp_lb_attachment_info{interface=\"eth0\",attachment=\"dispatcher\","
		"mode=\"skb\"} 1",
		"xdp_lb_config_generation{interface=\"eth0\"} 1",
		"xdp_lb_slot_info{interface=\"eth0\",slot=\"encap\",stage=\"gue\"} 1",
		"xdp_lb_stage_packets_total{interface=\"eth0\",stage=\"parse\","
		"reason=\"to_lb\"} 12",
		"xdp_lb_stage_packets_total{interface=\"eth0\",stage=\"lb\","
		"reason=\"drop_no_backend\"} 7",
		"xdp_lb_stage_packets_total{interface=\"eth0\",stage=\"encap\",reason=\"tx\"} 0",
		"xdp_lb_flow_table_entries{interface=\"eth0\"} 5",
		"xdp_lb_outside_dropped_packets_total{interface=\"eth0\",source=\"driver\","
		"counter=\"xdp_tx_errors\"} 9",
		"xdp_lb_outside_dropped_packets_total{interface=\"eth0\",source=\"kernel\","
		"counter=\"OutNoRoutes\"} 1",
		"xdp_lb_vip_info{" VIP_LABELS ",policy=\"maglev\"} 1",
		"xdp_lb_vip_packets_total{" VIP_LABELS "} 12",
		"xdp_lb_vip_bytes_total{" VIP_LABELS "} 1120",
		"xdp_lb_vip_flows_total{" VIP_LABELS "} 4",
		"xdp_lb_vip_active_flows{" VIP_LABELS "} 2",
		"xdp_lb_vip_dropped_packets_total{" VIP_LABELS ",stage=\"lb\","
		"reason=\"drop_no_backend\"} 7",
		"xdp_lb_vip_dropped_packets_total{" VIP_LABELS ",stage=\"encap\","
		"reason=\"drop_mtu\"} 2",
		"xdp_lb_vip_dropped_packets_total{" VIP_LABELS ",stage=\"parse\","
		"reason=\"drop_bad_ip_csum\"} 0",
		"xdp_lb_vip_backends{" VIP_LABELS ",state=\"up\"} 1",
		"xdp_lb_vip_backends{" VIP_LABELS ",state=\"drain\"} 0",
		"xdp_lb_vip_backends{" VIP_LABELS ",state=\"down\"} 1",
		"xdp_lb_backend_packets_total{" B4 "} 10",
		"xdp_lb_backend_bytes_total{" B5 "} 120",
		"xdp_lb_backend_flows_total{" B4 "} 3",
		"xdp_lb_backend_active_flows{" B5 "} 0",
		"xdp_lb_backend_weight{" B4 "} 2",
		"xdp_lb_backend_state{" B4 ",state=\"up\"} 1",
		"xdp_lb_backend_state{" B4 ",state=\"down\"} 0",
		"xdp_lb_backend_state{" B5 ",state=\"down\"} 1",
	};
	size_t i, series = 0;
	const char *p;

	if (!text)
		return;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_line(text, lines[i]);
	/* Nothing more than the figures above: count the series of two families. */
	for (p = text; (p = strstr(p, "\nxdp_lb_stage_packets_total{")); p++)
		series++;
	ASSERT_EQ(series, LB_COUNTER_MAX, "one counter series per counter of the list");
	series = 0;
	for (p = text; (p = strstr(p, "\nxdp_lb_slot_info{")); p++)
		series++;
	ASSERT_EQ(series, 1, "slot series (only the filled slot)");
	series = 0;
	for (p = text; (p = strstr(p, "\nxdp_lb_vip_dropped_packets_total{")); p++)
		series++;
	ASSERT_EQ(series, LB_VIP_DROP_MAX, "one per-VIP drop series per reason of the list");
	free(text);
}

/* Every drop_* counter is counted per VIP too: LB_VIP_DROPS lists them all,
 * each once (a new drop reason must not be left out of the per-VIP figures).
 */
static void test_every_drop_is_counted_per_vip(void)
{
	unsigned int id, d, found;

	for (id = 0; id < LB_COUNTER_MAX; id++) {
		char what[96];

		found = 0;
		for (d = 0; d < LB_VIP_DROP_MAX; d++)
			found += lb_vip_drop_counter(d) == id;
		snprintf(what, sizeof(what), "%s.%s in LB_VIP_DROPS", lb_counter_stage(id),
			 lb_counter_reason(id));
		ASSERT_EQ(found, !strncmp(lb_counter_reason(id), "drop_", 5), what);
	}
}

static void test_detached_has_no_attachment_series(void)
{
	struct lbd_view view = made_up_view("eth0");
	char *text;

	info.attached = false;
	text = render(&view);
	if (!text)
		return;
	assert_line(text, "xdp_lb_attached{interface=\"eth0\"} 0");
	ASSERT_TRUE(!strstr(text, "\nxdp_lb_attachment_info{"), "no attachment_info series");
	assert_line(text, "# TYPE xdp_lb_attachment_info gauge");
	free(text);
}

/* The kernel takes '"' and '\' in an interface name; the format escapes them. */
static void test_label_values_escaped(void)
{
	struct lbd_view view = { .ifname = "a\"b\\c", .loaded = false };
	char *text = render(&view);

	if (!text)
		return;
	assert_line(text, "xdp_lb_loaded{interface=\"a\\\"b\\\\c\"} 0");
	free(text);
}

/* Prometheus' text format as promtool checks it, without promtool: every
 * series follows the HELP and TYPE lines of its family, each family comes
 * once, counters end in _total and nothing else does.
 */
static void test_families_well_formed(void)
{
	struct lbd_view view = made_up_view("eth0");
	char *text = render(&view), *line, *save, family[96] = "", type[16] = "";
	char seen[64][96];
	int seen_count = 0, i;
	bool help = false;

	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (sscanf(line, "# HELP %95s", name) == 1) {
			for (i = 0; i < seen_count; i++)
				ASSERT_TRUE(strcmp(seen[i], name), "a family given once");
			if (seen_count < 64)
				snprintf(seen[seen_count++], sizeof(seen[0]), "%s", name);
			snprintf(family, sizeof(family), "%s", name);
			help = true;
			type[0] = '\0';
			continue;
		}
		if (sscanf(line, "# TYPE %95s %15s", name, type) == 2) {
			ASSERT_TRUE(help && !strcmp(name, family), "TYPE right after its HELP");
			ASSERT_TRUE(!strcmp(type, "counter") || !strcmp(type, "gauge"),
				    "type counter or gauge");
			ASSERT_EQ(!strcmp(type, "counter"),
				  strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total"),
				  "counters, and only they, end in _total");
			ASSERT_TRUE(!strncmp(name, "xdp_lb_", 7), "the xdp_lb_ prefix");
			help = false;
			continue;
		}
		ASSERT_TRUE(line[0] != '#', "no other comment");
		ASSERT_TRUE(type[0] && !strncmp(line, family, strlen(family)) &&
				    line[strlen(family)] == '{',
			    "a series of the family just declared");
		if (test_case_failed) {
			fprintf(stderr, "    at: %s\n", line);
			break;
		}
	}
	free(text);
}

/* docs/operations.md, "The metrics", names every family. */
static void test_every_family_is_documented(void)
{
	struct lbd_view view = made_up_view("eth0");
	char *text = render(&view), *doc, *p, name[96], quoted[100];
	FILE *f = fopen("docs/operations.md", "r");
	long size;

	if (!f) {
		test_fail(__FILE__, __LINE__, "cannot open docs/operations.md (run from the top)");
		free(text);
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)size + 1);
	if (doc && fread(doc, 1, (size_t)size, f) != (size_t)size)
		doc[0] = '\0';
	fclose(f);
	for (p = text; text && doc && (p = strstr(p, "# TYPE ")); p++) {
		if (sscanf(p, "# TYPE %95s", name) != 1)
			continue;
		snprintf(quoted, sizeof(quoted), "`%s`", name);
		if (!strstr(doc, quoted))
			test_fail(__FILE__, __LINE__, "%s is not in docs/operations.md", quoted);
	}
	free(doc);
	free(text);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_CASE(test_nothing_loaded_is_one_series),
		TEST_CASE(test_figures_as_lines),
		TEST_CASE(test_detached_has_no_attachment_series),
		TEST_CASE(test_label_values_escaped),
		TEST_CASE(test_families_well_formed),
		TEST_CASE(test_every_drop_is_counted_per_vip),
		TEST_CASE(test_every_family_is_documented),
	};

	return test_main("metrics", cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
