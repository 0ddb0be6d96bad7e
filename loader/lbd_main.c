// SPDX-License-Identifier: GPL-2.0
/* xdp-lbd: the long-running part of xdp-lb for one interface. lb-load loads
 * and unloads; this daemon reads the pinned state and serves its metrics over
 * HTTP (--listen) and as a node_exporter textfile (--textfile). The health
 * checks to come will be one more module on the same loop; so is the
 * announcement of the VIPs for a routing daemon (--announce-table,
 * lbd_announce.h).
 *
 * A scrape only looks up maps (stats.h): no map is written. The flow table's
 * batched walk holds each hash bucket's lock while it copies that bucket, the
 * one moment a packet can wait for a scrape (docs/operations.md, "Metrics").
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "input.h"
#include "lbd_announce.h"
#include "lbd_health.h"
#include "lbd_http.h"
#include "lbd_log.h"
#include "lbd_loop.h"
#include "lbd_metrics.h"
#include "lbd_options.h"
#include "lbd_source.h"
#include "lbd_textfile.h"
#include "lbd_tunnel.h"
#include "log.h"
#include "pins.h"
#include "version.h"

struct lbd {
	struct lbd_options opt;
	struct lbd_loop loop;
	struct lbd_source source;
	struct lbd_http *http;
	struct lb_stats_sample *sample; /* large: one, reused by every scrape */
	struct lbd_load_info info;
	struct lb_config config;        /* --config: the health checks */
	bool have_config;
	const struct lb_config *health_config; /* &config once read, NULL before */
	struct lbd_health health;
	bool textfile_failing;          /* its error was logged; log the recovery */
	struct lbd_announce announce;   /* with --announce-table */
	bool announcing;
};

/* What the next scrape shows: a fresh sample when something is loaded. */
static struct lbd_view view_now(struct lbd *d)
{
	struct lbd_view v = { .ifname = d->opt.ifname };

	v.loaded = lbd_source_refresh(&d->source) &&
		   !lbd_source_sample(&d->source, d->sample, &d->info);
	v.sample = d->sample;
	v.info = &d->info;
	return v;
}

static int http_metrics(void *arg, char **text, size_t *len)
{
	struct lbd *d = arg;
	struct lbd_view v = view_now(d);

	return lbd_metrics_render(&v, text, len);
}

/* @first: at the start, where a failure ends the daemon (exit 2); later a
 * failure is logged once and the next interval tries again.
 */
static int write_textfile(struct lbd *d, bool first)
{
	struct lbd_view v = view_now(d);
	char err[512];
	int ret;

	ret = lbd_textfile_write(d->opt.textfile_path, &v, err, sizeof(err));
	if (ret && first)
		lbd_log(LBD_ERR, "--textfile: %s", err);
	else if (ret && !d->textfile_failing)
		lbd_log(LBD_ERR, "%s (trying again every interval)", err);
	else if (!ret && d->textfile_failing)
		lbd_log(LBD_INFO, "wrote %s again", d->opt.textfile_path);
	d->textfile_failing = ret != 0;
	return ret;
}

static void textfile_tick(void *arg, uint64_t expirations)
{
	(void)expirations;
	write_textfile(arg, false);
}

/* Without a textfile nothing else looks at the pins between scrapes; this
 * logs a load or an unload when it happens, not at the next scrape.
 */
static void watch_tick(void *arg, uint64_t expirations)
{
	struct lbd *d = arg;

	(void)expirations;
	lbd_source_refresh(&d->source);
}

/* The announced routes follow the pins and the backends' states. */
static void announce_tick(void *arg, uint64_t expirations)
{
	struct lbd *d = arg;

	(void)expirations;
	lbd_source_refresh(&d->source);
	lbd_announce_sync(&d->announce, &d->source);
}

static int start_announcing(struct lbd *d)
{
	char err[512];
	int ret;

	if (lbd_announce_open(&d->announce, d->opt.ifname, d->opt.announce_table, err,
			      sizeof(err))) {
		lbd_log(LBD_ERR, "%s", err);
		return -1;
	}
	d->announcing = true;
	lbd_announce_sync(&d->announce, &d->source);
	ret = lbd_loop_add_timer(&d->loop, d->opt.interval_ns, announce_tick, d);
	if (ret) {
		lbd_log(LBD_ERR, "Failed to set up the event loop: %s", strerror(-ret));
		return -1;
	}
	return 0;
}

static int read_config(struct lbd *d, const char *when)
{
	char err[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;

	if (lb_config_load(d->opt.config_path, &cfg, err, sizeof(err))) {
		/* The parser's message names the file (and line, column, field). */
		lbd_log(LBD_ERR, "%s%s%s", when, err,
			d->have_config ? "; keeping the one read before" : "");
		return -1;
	}
	if (d->have_config)
		lb_config_free(&d->config);
	d->config = cfg;
	d->have_config = true;
	d->health_config = &d->config;
	lbd_log(LBD_INFO, "%sread the config %s: %zu VIP%s", when, d->opt.config_path,
		cfg.vip_count, cfg.vip_count == 1 ? "" : "s");
	return 0;
}

static void on_hup(void *arg)
{
	struct lbd *d = arg;

	if (d->opt.config_path)
		read_config(d, "SIGHUP: ");
	else
		lbd_log(LBD_INFO, "SIGHUP: no --config to read again");
	lbd_source_refresh(&d->source);
}

/* Usage errors (exit 2) found before the loop starts: the interface, the
 * namespace, the config. 0 or the exit code.
 */
static int check_start(struct lbd *d)
{
	int err;

	if (!if_nametoindex(d->opt.ifname)) {
		lbd_log(LBD_ERR, "no interface %s in this network namespace: %s", d->opt.ifname,
			strerror(errno));
		return 2;
	}
	err = lb_bpffs_check();
	if (err == -ENOTSUP) {
		lbd_log(LBD_ERR, "%s", LB_IP_NETNS_EXEC_MSG);
		return 1;
	}
	if (d->opt.config_path && read_config(d, ""))
		return 2;
	return 0;
}

static void describe_start(const struct lbd *d)
{
	char listen[96] = "no HTTP", textfile[4200], announce[64] = "no announcement";

	if (d->opt.listen)
		snprintf(listen, sizeof(listen), "metrics at http://%s/metrics",
			 d->opt.listen_text);
	if (d->opt.textfile_path)
		snprintf(textfile, sizeof(textfile), "textfile %s", d->opt.textfile_path);
	else
		snprintf(textfile, sizeof(textfile), "no textfile");
	if (d->opt.announce_table != LBD_NO_ANNOUNCE)
		snprintf(announce, sizeof(announce), "VIPs announced in table %u",
			 d->opt.announce_table);
	lbd_log(LBD_INFO, "xdp-lbd %s on %s: %s, %s, %s, every %g s", lb_version,
		d->opt.ifname, listen, textfile, announce, (double)d->opt.interval_ns / 1e9);
}

static int run(struct lbd *d)
{
	const struct lbd_tunnel_options tunnel = {
		.table = d->opt.probe_table,
		.priority = d->opt.probe_priority,
		.mark = d->opt.probe_mark,
	};
	char err[512];
	int ret;

	ret = check_start(d);
	if (ret)
		return ret;
	ret = lbd_loop_init(&d->loop);
	if (ret) {
		lbd_log(LBD_ERR, "Failed to set up the signals: %s", strerror(-ret));
		return 1;
	}
	if (d->opt.listen) {
		ret = lbd_http_start(&d->http, &d->loop, (struct sockaddr *)&d->opt.listen_addr,
				     d->opt.listen_addr_len, d->opt.listen_text, http_metrics, d,
				     err, sizeof(err));
		if (ret) {
			lbd_log(LBD_ERR, "%s", err);
			/* An address this host does not have is a usage error; a
			 * port in use is not.
			 */
			return ret == -EADDRNOTAVAIL ? 2 : 1;
		}
	}
	lbd_source_refresh(&d->source);
	if (d->opt.textfile_path && write_textfile(d, true))
		return 2; /* the path given cannot be written: logged */
	ret = lbd_loop_add_timer(&d->loop, d->opt.interval_ns,
				 d->opt.textfile_path ? textfile_tick : watch_tick, d);
	if (!ret)
		ret = lbd_loop_on_hup(&d->loop, on_hup, d);
	/* After on_hup: a SIGHUP reads the config, then the checks follow it. */
	if (!ret)
		ret = lbd_health_start(&d->health, &d->loop, &d->source, d->opt.ifname,
				       &d->health_config, d->opt.interval_ns, &tunnel);
	if (ret) {
		lbd_log(LBD_ERR, "Failed to set up the event loop: %s", strerror(-ret));
		return 1;
	}
	describe_start(d);
	if (d->opt.announce_table != LBD_NO_ANNOUNCE && start_announcing(d))
		return 1;
	ret = lbd_loop_run(&d->loop);
	if (ret) {
		lbd_log(LBD_ERR, "Failed to wait for events: %s", strerror(-ret));
		return 1;
	}
	lbd_log(LBD_INFO, "stopping on %s", strsignal(d->loop.stop_signal));
	return 0;
}

/* Whatever ends the daemon (a signal, a failure) takes its routes away: a
 * route must not outlive the process that checks it.
 */
static void stop_announcing(struct lbd *d, int ret)
{
	char why[64];

	if (!d->announcing)
		return;
	if (!ret)
		snprintf(why, sizeof(why), "xdp-lbd stops (%s)",
			 strsignal(d->loop.stop_signal));
	else
		snprintf(why, sizeof(why), "xdp-lbd stops after a failure");
	lbd_announce_withdraw_all(&d->announce, why);
	lbd_announce_close(&d->announce);
}

/* --withdraw: the routes a daemon that can no longer withdraw them (killed,
 * crashed) left in its table, removed by the unit's ExecStopPost before the
 * unload, so that no router keeps sending flows to a balancer going away.
 * Like a stopping daemon, it takes every route of ours in the table: one
 * table per balanced interface (docs/scale-out.md).
 */
static int withdraw_only(const struct lbd_options *opt)
{
	const struct lbd_tunnel_options topt = {
		.table = opt->probe_table,
		.priority = opt->probe_priority,
		.mark = opt->probe_mark,
	};
	struct lbd_announce announce;
	struct lbd_tunnel tunnel;
	char err[512];
	int ret = 0;

	/* The probes' routes and rule too: they would outlive a killed daemon. */
	lbd_tunnel_init(&tunnel, opt->ifname, &topt);
	if (lbd_tunnel_remove(&tunnel, "xdp-lbd --withdraw"))
		ret = 1;
	if (opt->announce_table == LBD_NO_ANNOUNCE) {
		lbd_log(LBD_INFO, "nothing to withdraw for %s: no --announce-table", opt->ifname);
		return ret;
	}
	if (lbd_announce_open(&announce, opt->ifname, opt->announce_table, err, sizeof(err))) {
		lbd_log(LBD_ERR, "%s", err);
		return 1;
	}
	if (lbd_announce_withdraw_all(&announce, "xdp-lbd --withdraw"))
		ret = 1;
	lbd_announce_close(&announce);
	return ret;
}

int main(int argc, char **argv)
{
	char err[LBD_ERR_LEN];
	struct lbd d = { 0 };
	int ret;

	lbd_log_setup();
	if (lbd_parse_args(argc, argv, &d.opt, err, sizeof(err))) {
		lbd_log(LBD_ERR, "%s", err);
		fprintf(stderr, "Try xdp-lbd --help\n");
		return 2;
	}
	if (d.opt.help) {
		fputs(lbd_usage, stdout);
		return 0;
	}
	if (d.opt.version) {
		lb_version_print("xdp-lbd");
		return 0;
	}
	/* libbpf and libxdp stay quiet: a failed lookup is ours to report. */
	lb_log_setup(false);
	if (geteuid() != 0) {
		lbd_log(LBD_ERR, "xdp-lbd must run as root: it reads pinned BPF maps");
		return 1;
	}
	if (d.opt.withdraw)
		return withdraw_only(&d.opt);
	d.sample = calloc(1, sizeof(*d.sample));
	if (!d.sample) {
		lbd_log(LBD_ERR, "Failed to allocate a sample: %s", strerror(ENOMEM));
		return 1;
	}
	lbd_source_init(&d.source, d.opt.ifname, (double)d.opt.interval_ns / 1e9);
	ret = run(&d);
	stop_announcing(&d, ret);
	lbd_http_stop(d.http);
	lbd_health_stop(&d.health);
	lbd_loop_close(&d.loop);
	lbd_source_close(&d.source);
	if (d.have_config)
		lb_config_free(&d.config);
	free(d.sample);
	return ret;
}
