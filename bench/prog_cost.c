// SPDX-License-Identifier: GPL-2.0
/* prog_cost: per-packet cost of each stage and of the whole pipeline under
 * BPF_PROG_TEST_RUN, next to a bare XDP_TX floor, for every pool size and
 * flow-table occupancy asked for; writes one JSON document.
 *
 *   prog_cost [-n CALLS] [-r ROUNDS] [-b 4,64,...] [-f 1000,...] [-l LB_STAGE] [-c CPU]
 *             -o FILE
 *
 * For each (backends, occupancy) the real pipeline is loaded afresh
 * (cost_pipeline.h), its flow table filled and every case timed with CALLS
 * repeat=1 calls interleaved with as many floor calls (cost_cases.h,
 * cost_run.h). A case that took another path than the one it names (another
 * verdict, other counters) stops the run: its figure would lie.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cost_cases.h"
#include "packet.h"
#include "xdp_tx_floor.skel.h"

#define MAX_SIZES 8

struct options {
	size_t calls, rounds;
	size_t backends[MAX_SIZES], backend_sizes;
	size_t flows[MAX_SIZES], flow_sizes;
	int cpu;
	const char *lb_stage;
	const char *backend_mac; /* -m: every backend with this static MAC */
	const char *out_path;
};

static void print_stats(FILE *out, const char *key, const struct cost_stats *st)
{
	fprintf(out, "\"%s\": {\"mean\": %.2f, \"trimmed_mean\": %.2f, \"median\": %.0f, "
		     "\"p99\": %.0f}",
		key, st->mean, st->trimmed_mean, st->median, st->p99);
}

static void print_case(FILE *out, const char *name, const struct cost_result *r, bool last)
{
	fprintf(out, "        \"%s\": {", name);
	print_stats(out, "ns", &r->stats);
	fprintf(out, ", ");
	print_stats(out, "floor_ns", &r->floor);
	/* Code cost: what the program adds to the floor, median against median
	 * of the same batches, so it does not move with the floor.
	 */
	fprintf(out, ", \"ratio\": %.3f, \"code_ns\": %.0f, \"code_mean_ns\": %.2f}%s\n",
		r->ratio, r->stats.median - r->floor.median,
		r->stats.trimmed_mean - r->floor.trimmed_mean, last ? "" : ",");
}

/* A table twice the occupancy (new flows of a batch need room), never below
 * the default size an operator gets.
 */
static __u32 table_size_for(size_t occupancy)
{
	__u32 size = LB_DEFAULT_FLOW_TABLE_SIZE;

	while (size < 2 * occupancy)
		size *= 2;
	return size;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Loads, fills and measures one (backends, occupancy); appends a JSON object. */
static int run_one(const struct options *o, int ifindex, int floor_fd, int cpu, size_t backends,
		   size_t occupancy, FILE *out, bool last)
{
	int cpus = libbpf_num_possible_cpus();
	struct cost_result res[CASE_COUNT];
	struct bench_env env = { .ifindex = ifindex, .floor_fd = floor_fd, .cpu = cpu,
				 .other_cpu = cpus > 1 ? (cpu + 1) % cpus : -1,
				 .occupancy = occupancy, .calls = o->calls, .rounds = o->rounds };
	__u32 table_size = table_size_for(occupancy);
	struct flow_spread spread;
	double fill_s;
	long long flows_memlock, maps_memlock = 0;
	char err[512] = "";
	struct timespec start;
	int i, rc;

	fprintf(stderr, "prog_cost: %zu backends, %zu flows (table %u) ...\n", backends,
		occupancy, table_size);
	env.keys = calloc(o->calls / o->rounds + 1, sizeof(*env.keys));
	if (!env.keys)
		return -ENOMEM;
	rc = bench_pipeline_load(&env.p, o->lb_stage, backends, table_size, o->backend_mac, err,
				 sizeof(err));
	if (rc)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &start);
	rc = bench_fill_flow_table(&env, err, sizeof(err));
	fill_s = seconds_since(&start);
	if (!rc)
		rc = bench_run_cases(&env, res, &spread, err, sizeof(err));
	if (rc)
		goto close;
	flows_memlock = bench_map_memlock(env.p.maps.fd[LB_MAP_FLOWS]);
	for (i = 0; i < LB_MAP_COUNT; i++)
		maps_memlock += bench_map_memlock(env.p.maps.fd[i]);

	fprintf(out, "    {\"backends\": %zu, \"flows\": %zu, \"flow_table_size\": %u, "
		     "\"flows_memlock\": %lld, \"maps_memlock\": %lld, \"fill_seconds\": %.2f,\n",
		backends, occupancy, table_size, flows_memlock, maps_memlock, fill_s);
	fprintf(out, "      \"new_flow_spread\": {\"max\": %.0f, \"min\": %.0f, \"mean\": %.2f},\n"
		     "      \"cases\": {\n",
		spread.max, spread.min, spread.mean);
	for (i = 0; i < CASE_COUNT; i++)
		print_case(out, bench_case_names[i], &res[i], i == CASE_COUNT - 1);
	fprintf(out, "      }}%s\n", last ? "" : ",");
	for (i = 0; i < CASE_COUNT; i++)
		fprintf(stderr, "  %-30s code %4.0f ns (median %4.0f - floor %3.0f), %.2fx; "
				"mean %6.1f ns\n",
			bench_case_names[i], res[i].stats.median - res[i].floor.median,
			res[i].stats.median, res[i].floor.median, res[i].ratio,
			res[i].stats.trimmed_mean);
close:
	bench_pipeline_close(&env.p);
out:
	if (rc)
		fprintf(stderr, "prog_cost: %zu backends, %zu flows: %s\n", backends, occupancy,
			err[0] ? err : strerror(-rc));
	free(env.keys);
	return rc;
}

static int parse_sizes(const char *arg, size_t *sizes, size_t *count)
{
	char *copy = strdup(arg), *tok, *save = NULL, *end;

	*count = 0;
	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long v = strtoul(tok, &end, 10);

		if (*end || !v || *count == MAX_SIZES) {
			free(copy);
			return -1;
		}
		sizes[(*count)++] = v;
	}
	free(copy);
	return *count ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: prog_cost [-n CALLS] [-r ROUNDS] [-b BACKENDS,...] [-f FLOWS,...] "
		"[-l LB_STAGE] [-m] [-c CPU] -o FILE\n"
		"  -n  timed calls per case (default 100000), as many floor calls beside them\n"
		"  -r  batches the calls are split into, alternating with the floor (default 10)\n"
		"  -b  pool sizes (default 4,64,256,1024)\n"
		"  -f  flow-table occupancies (default 1000,100000,1000000)\n"
		"  -l  the lb stage, as the config names it (default least-loaded)\n"
		"  -m  every backend with a static `mac:` (the next hop's, " BENCH_NEXT_HOP_MAC ")\n"
		"  -c  the CPU to run on (default: the last one)\n"
		"  -o  where the JSON goes\n");
	return 2;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){ .calls = 100000, .rounds = 10, .cpu = -1,
			       .lb_stage = "least-loaded" };
	parse_sizes("4,64,256,1024", o->backends, &o->backend_sizes);
	parse_sizes("1000,100000,1000000", o->flows, &o->flow_sizes);
	while ((c = getopt(argc, argv, "n:r:b:f:l:mc:o:h")) != -1) {
		switch (c) {
		case 'n':
			o->calls = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o->rounds = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			if (parse_sizes(optarg, o->backends, &o->backend_sizes))
				return usage();
			break;
		case 'f':
			if (parse_sizes(optarg, o->flows, &o->flow_sizes))
				return usage();
			break;
		case 'l':
			o->lb_stage = optarg;
			break;
		case 'm':
			o->backend_mac = BENCH_NEXT_HOP_MAC;
			break;
		case 'c':
			o->cpu = atoi(optarg);
			break;
		case 'o':
			o->out_path = optarg;
			break;
		default:
			return usage();
		}
	}
	if (!o->out_path || !o->calls || !o->rounds || o->rounds > o->calls || optind != argc)
		return usage();
	return 0;
}

/* One CPU for the whole run: a call that migrates half-way is not timed on
 * one machine state.
 */
static int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		cpu = libbpf_num_possible_cpus() - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -1;
	return cpu;
}

int main(int argc, char **argv)
{
	struct xdp_tx_floor_bpf *floor;
	struct options o;
	struct utsname uts;
	char err[256];
	size_t b, f;
	int ifindex, cpu, rc = 0;
	FILE *out;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (geteuid()) {
		fprintf(stderr, "prog_cost: must run as root (BPF, network namespace)\n");
		return 1;
	}
	cpu = pin_cpu(o.cpu);
	if (cpu < 0) {
		fprintf(stderr, "prog_cost: Failed to pin to CPU %d: %s\n", o.cpu, strerror(errno));
		return 1;
	}
	ifindex = bench_net_setup(err, sizeof(err));
	if (ifindex < 0) {
		fprintf(stderr, "prog_cost: %s\n", err);
		return 1;
	}
	floor = xdp_tx_floor_bpf__open_and_load();
	if (!floor) {
		fprintf(stderr, "prog_cost: Failed to load the floor program: %s\n",
			strerror(errno));
		return 1;
	}
	out = fopen(o.out_path, "w");
	if (!out) {
		fprintf(stderr, "prog_cost: Failed to open %s: %s\n", o.out_path, strerror(errno));
		xdp_tx_floor_bpf__destroy(floor);
		return 1;
	}
	uname(&uts);
	fprintf(out, "{\n  \"kernel\": \"%s\", \"lb_stage\": \"%s\", \"backend_mac\": %s%s%s, "
		     "\"cpu\": %d, \"cpus\": %d, "
		     "\"calls\": %zu, \"rounds\": %zu, \"frame_bytes\": %zu, "
		     "\"flow_entry_key_value_bytes\": %zu,\n  \"runs\": [\n",
		uts.release, o.lb_stage, o.backend_mac ? "\"" : "",
		o.backend_mac ? o.backend_mac : "null", o.backend_mac ? "\"" : "", cpu,
		libbpf_num_possible_cpus(), o.calls, o.rounds,
		bench_flow_frame(0, (uint8_t[PKT_MAX]){ 0 }),
		sizeof(struct lb_flow_key) + sizeof(struct lb_flow));
	for (f = 0; !rc && f < o.flow_sizes; f++)
		for (b = 0; !rc && b < o.backend_sizes; b++)
			rc = run_one(&o, ifindex, bpf_program__fd(floor->progs.xdp_tx_floor), cpu,
				     o.backends[b], o.flows[f], out,
				     f + 1 == o.flow_sizes && b + 1 == o.backend_sizes);
	fprintf(out, "  ]\n}\n");
	if (fclose(out))
		rc = -errno;
	xdp_tx_floor_bpf__destroy(floor);
	return rc ? 1 : 0;
}
