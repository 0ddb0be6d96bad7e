// SPDX-License-Identifier: GPL-2.0
/* veth_trial: one throughput trial on a veth pair. Attaches the backend sink
 * (backend_sink.bpf.c) in native mode to IFNAME, starts the traffic generator,
 * counts what arrives during a window after a warm-up, stops the generator
 * and prints one JSON object.
 *
 *   veth_trial -i IFNAME [-w WARMUP_S] [-m MEASURE_S] -- GENERATOR [ARGS...]
 *
 * The rate is what the sink received in the window over the window's length,
 * so the generator's start-up and the first packets of each flow (new flows)
 * are not in it. The generator's own output goes to stderr; its last line
 * starting "xdp_send " (xdp_send's summary) goes into the result too, with
 * the method it names: "generator" and "generator_method" ("" and
 * "unknown" for a generator that prints none).
 *
 * With -c CPU the generator runs on that CPU only, and the result adds that
 * CPU's softirq time over the window (/proc/stat) per frame received: a veth
 * receives on the CPU that sent, in softirq, so this is what the XDP programs
 * on both ends of the pair cost that CPU per frame, at the generator's rate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend_sink.skel.h"

/* The sink counts up to 4096 backends and "not IPIP". */
#define MAX_KEYS 4097

struct counts {
	__u32 key[MAX_KEYS];
	__u64 frames[MAX_KEYS];
	size_t n;
	double at; /* monotonic seconds */
	unsigned long long softirq_ticks; /* of the -c CPU, USER_HZ ticks; 0 without -c */
};

/* The softirq time of @cpu so far, in USER_HZ ticks (the 7th field of its
 * "cpuN" line in /proc/stat), or 0 when it cannot be read.
 */
static unsigned long long softirq_ticks(int cpu)
{
	unsigned long long v[7] = { 0 };
	char want[16], name[16], line[512];
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	snprintf(want, sizeof(want), "cpu%d", cpu);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %llu %llu %llu %llu %llu %llu %llu", name, &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6]) == 8 && !strcmp(name, want))
			break;
		v[6] = 0;
	}
	fclose(f);
	return v[6];
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every key of the sink's map with its count summed over all CPUs, and the
 * softirq time of @softirq_cpu (-1: none).
 */
static int counts_read(int map_fd, int softirq_cpu, struct counts *c)
{
	int cpus = libbpf_num_possible_cpus(), cpu, err = 0;
	__u64 *percpu = calloc((size_t)cpus, sizeof(*percpu));
	__u32 key, *prev = NULL;

	c->n = 0;
	if (!percpu)
		return -ENOMEM;
	while (c->n < MAX_KEYS && !bpf_map_get_next_key(map_fd, prev, &key)) {
		if (bpf_map_lookup_elem(map_fd, &key, percpu)) {
			err = -errno;
			break;
		}
		c->key[c->n] = key;
		c->frames[c->n] = 0;
		for (cpu = 0; cpu < cpus; cpu++)
			c->frames[c->n] += percpu[cpu];
		prev = &c->key[c->n];
		c->n++;
	}
	c->at = now_s();
	c->softirq_ticks = softirq_cpu >= 0 ? softirq_ticks(softirq_cpu) : 0;
	free(percpu);
	return err;
}

static __u64 frames_of(const struct counts *c, __u32 key)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->key[i] == key)
			return c->frames[i];
	return 0;
}

static void print_result(const struct counts *start, const struct counts *end, int cpu,
			 const char *summary)
{
	double softirq_s = (double)(end->softirq_ticks - start->softirq_ticks) /
			   (double)sysconf(_SC_CLK_TCK);
	const char *method = strstr(summary, " method=");
	int method_len = 0;
	double seconds = end->at - start->at;
	__u64 total = 0, d;
	char addr[INET_ADDRSTRLEN];
	size_t i;
	int first = 1;

	if (method) {
		method += strlen(" method=");
		method_len = (int)strcspn(method, " \n");
	}
	for (i = 0; i < end->n; i++)
		total += end->frames[i] - frames_of(start, end->key[i]);
	printf("{\"seconds\": %.3f, \"frames\": %llu, \"pps\": %.0f, \"not_ipip\": %llu, "
	       "\"by_backend\": {",
	       seconds, (unsigned long long)total, total / seconds,
	       (unsigned long long)(frames_of(end, 0) - frames_of(start, 0)));
	for (i = 0; i < end->n; i++) {
		if (!end->key[i])
			continue;
		d = end->frames[i] - frames_of(start, end->key[i]);
		inet_ntop(AF_INET, &end->key[i], addr, sizeof(addr));
		printf("%s\"%s\": %llu", first ? "" : ", ", addr, (unsigned long long)d);
		first = 0;
	}
	printf("}");
	if (cpu >= 0)
		printf(", \"cpu\": %d, \"softirq_s\": %.2f, \"softirq_ns_per_frame\": %.1f", cpu,
		       softirq_s, total ? softirq_s * 1e9 / (double)total : 0.0);
	printf(", \"generator\": \"%.*s\", \"generator_method\": \"%.*s\"}\n",
	       (int)strcspn(summary, "\"\\\n"), summary, method ? method_len : 7,
	       method ? method : "unknown");
}

static int usage(void)
{
	fprintf(stderr, "usage: veth_trial -i IFNAME [-w WARMUP_S] [-m MEASURE_S] [-c CPU] -- "
			"GENERATOR [ARGS...]\n");
	return 2;
}

/* Starts the generator with its stdout on a pipe (*@out: our end). */
static pid_t start_generator(char **argv, int cpu, int *out)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return pid;
	}
	if (pid == 0) {
		/* Our stdout carries the result only. */
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		if (cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set)) {
				fprintf(stderr, "veth_trial: Failed to pin the generator to CPU %d: "
						"%s\n", cpu, strerror(errno));
				_exit(127);
			}
		}
		execv(argv[0], argv);
		fprintf(stderr, "veth_trial: Failed to run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	*out = fds[0];
	return pid;
}

/* Copies the generator's output to stderr until it closes it; keeps in
 * @summary its last line that starts with "xdp_send ".
 */
static void read_generator(int fd, char *summary, size_t size)
{
	FILE *f = fdopen(fd, "r");
	char line[1024];

	summary[0] = 0;
	if (!f) {
		close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		fputs(line, stderr);
		if (!strncmp(line, "xdp_send ", 9))
			snprintf(summary, size, "%s", line);
	}
	fclose(f);
}

/* Sleeps @seconds unless the generator ends first: then returns -1 with
 * *@ended set (it has been reaped).
 */
static int sleep_while_running(pid_t pid, double seconds, int *ended)
{
	double until = now_s() + seconds;
	int status;

	while (now_s() < until) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			*ended = 1;
			return -1;
		}
		usleep(20000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct counts start, end;
	struct backend_sink_bpf *skel;
	double warmup = 1, measure = 3;
	const char *ifname = NULL;
	int ifindex, map_fd, c, status, ended = 0, rc = 1, gen_out = -1, cpu = -1;
	char summary[1024];
	pid_t pid;

	while ((c = getopt(argc, argv, "+i:w:m:c:")) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'w':
			warmup = atof(optarg);
			break;
		case 'm':
			measure = atof(optarg);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		default:
			return usage();
		}
	}
	if (!ifname || optind >= argc || measure <= 0)
		return usage();
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "veth_trial: Failed to find interface %s: %s\n", ifname,
			strerror(errno));
		return 1;
	}
	skel = backend_sink_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "veth_trial: Failed to load the sink: %s\n", strerror(errno));
		return 1;
	}
	if (bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.xdp_backend_sink),
			   XDP_FLAGS_DRV_MODE, NULL)) {
		fprintf(stderr, "veth_trial: Failed to attach the sink to %s: %s\n", ifname,
			strerror(errno));
		goto out;
	}
	map_fd = bpf_map__fd(skel->maps.frames_by_backend);
	pid = start_generator(&argv[optind], cpu, &gen_out);
	if (pid < 0) {
		fprintf(stderr, "veth_trial: Failed to fork: %s\n", strerror(errno));
		goto detach;
	}
	if (sleep_while_running(pid, warmup, &ended) || counts_read(map_fd, cpu, &start) ||
	    sleep_while_running(pid, measure, &ended) || counts_read(map_fd, cpu, &end)) {
		fprintf(stderr, "veth_trial: %s\n",
			ended ? "the generator ended before the window did"
			      : "Failed to read the sink's counts");
		if (!ended) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		read_generator(gen_out, summary, sizeof(summary));
		goto detach;
	}
	/* The generator stops at SIGINT and prints its summary. */
	kill(pid, SIGINT);
	read_generator(gen_out, summary, sizeof(summary));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "veth_trial: the generator failed (status %d)\n", status);
		goto detach;
	}
	print_result(&start, &end, cpu, summary);
	rc = 0;
detach:
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
out:
	backend_sink_bpf__destroy(skel);
	return rc;
}
