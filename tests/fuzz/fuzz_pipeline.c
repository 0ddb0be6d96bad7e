// SPDX-License-Identifier: GPL-2.0
/* The fuzzer's pipeline and network; see fuzz_pipeline.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "apply.h"
#include "config.h"
#include "fuzz_pipeline.h"
#include "gue.skel.h"
#include "icmp.skel.h"
#include "ipip.skel.h"
#include "least_loaded.skel.h"
#include "parse.skel.h"
#include "pipeline.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Every next-hop outcome of docs/architecture.md has a VIP here, so any frame
 * that reaches encap can end in any of them. flow_timeout is a day: no UDP flow
 * expires during a run, so the fuzzer knows which packets must hit the table.
 */
const char fuzz_config_text[] =
	"flow_timeout: 86400\n"
	"flow_table_size: 65536\n"
	"outer_source6: fd00:f::10\n"
	"vips:\n"
	"  - address: 10.0.0.100        # UDP, every port: XDP_TX\n"
	"    backends:\n"
	"      - ip: 10.0.1.1\n"
	"      - ip: 10.0.1.2\n"
	"      - ip: 10.0.1.6             # neighbour, but the static MAC wins\n"
	"        mac: 02:00:00:00:0f:06\n"
	"      - ip: 10.0.1.3             # no neighbour: the static MAC stands in\n"
	"        mac: 02:00:00:00:0f:03\n"
	"      - ip: 10.0.1.4\n"
	"        state: drain\n"
	"      - ip: 10.0.1.5\n"
	"        state: down\n"
	"  - address: 10.0.0.100        # UDP 53: XDP_REDIRECT to lbf2\n"
	"    port: 53\n"
	"    backends:\n"
	"      - ip: 10.9.0.1\n"
	"      - ip: 10.9.0.2\n"
	"  - address: 10.0.0.100        # TCP 80: XDP_TX\n"
	"    port: 80\n"
	"    protocol: tcp\n"
	"    backends:\n"
	"      - ip: 10.0.1.1\n"
	"      - ip: 10.0.1.2\n"
	"        weight: 3\n"
	"  - address: 10.0.0.100        # TCP 443: no neighbour, XDP_PASS\n"
	"    port: 443\n"
	"    protocol: tcp\n"
	"    backends:\n"
	"      - ip: 10.0.2.1\n"
	"      - ip: 10.0.2.2\n"
	"  - address: 10.0.0.101        # UDP, every port: no route\n"
	"    backends:\n"
	"      - ip: 192.0.2.1\n"
	"      - ip: 198.51.100.1\n"
	"  - address: 10.0.0.101        # TCP, every port: nothing up, lb drops\n"
	"    protocol: tcp\n"
	"    backends:\n"
	"      - ip: 10.0.1.1\n"
	"        state: down\n"
	"      - ip: 10.0.1.2\n"
	"        state: drain\n"
	"  - address: 10.0.0.102        # UDP 4789 only: egress not in tx_ports\n"
	"    port: 4789\n"
	"    icmp_echo: false             # the address answers no echo requests\n"
	"    backends:\n"
	"      - ip: 10.7.0.1\n"
	"  - address: 10.0.0.102        # TCP 22 only: XDP_TX\n"
	"    port: 22\n"
	"    protocol: tcp\n"
	"    backends:\n"
	"      - ip: 10.0.1.1\n"
	"  - address: 10.0.0.102        # UDP 6081: IPv4-in-IPv6, a pool of both families\n"
	"    port: 6081\n"
	"    backends:\n"
	"      - ip: fd00:f::1            # XDP_TX\n"
	"      - ip: fd00:f::2            # no neighbour: XDP_PASS\n"
	"      - ip: fd00:f::3            # the static MAC wins\n"
	"        mac: 02:00:00:00:0f:13\n"
	"      - ip: 10.0.1.1\n"
	"  - address: 10.0.0.102        # TCP 23: IPv4-in-IPv6, XDP_REDIRECT or no route\n"
	"    port: 23\n"
	"    protocol: tcp\n"
	"    backends:\n"
	"      - ip: fd00:9::1\n"
	"      - ip: fd00:dead::1\n"
	"  - address: fd00:a::100       # IPv6, UDP every port: IPv6-in-IPv6\n"
	"    backends:\n"
	"      - ip: fd00:f::1            # XDP_TX\n"
	"      - ip: fd00:f::2            # no neighbour: XDP_PASS\n"
	"      - ip: fd00:f::3            # the static MAC wins\n"
	"        mac: 02:00:00:00:0f:13\n"
	"      - ip: fd00:9::1            # XDP_REDIRECT\n"
	"      - ip: fd00:7::1            # egress not in tx_ports: XDP_PASS\n"
	"      - ip: fd00:dead::2\n"
	"        state: down\n"
	"  - address: fd00:a::101       # IPv6, UDP every port: no route, encap drops\n"
	"    backends:\n"
	"      - ip: fd00:dead::1\n"
	"  - address: fd00:a::100       # IPv6, TCP 80: nothing up, lb drops\n"
	"    port: 80\n"
	"    protocol: tcp\n"
	"    backends:\n"
	"      - ip: fd00:dead::2\n"
	"        state: down\n";

struct link_def {
	const char *name, *peer, *mac;
	const char *l3;          /* "addr add CIDR" or "route add PREFIX" */
	const char *l3_6;        /* IPv6: "addr add CIDR nodad" or "route add PREFIX", or NULL */
	bool after_tx_ports;     /* created once tx_ports is filled: not in it */
};

static const struct link_def links[] = {
	{ "lbf0", "lbf1", "02:00:00:00:f0:00", "addr add 10.0.0.10/16", "addr add fd00:f::10/64 nodad",
	  false },
	{ "lbf2", "lbf3", "02:00:00:00:f2:00", "addr add 10.9.0.10/16", "addr add fd00:9::10/64 nodad",
	  false },
	{ "lbf4", "lbf5", "02:00:00:00:f4:00", "route add 10.7.0.0/16", "route add fd00:7::/64",
	  true },
};

#define INGRESS "lbf0"
#define LINK_MTU FUZZ_LINK_MTU

/* Every backend address of the config and where it leads. */
struct route_def {
	const char *addr;
	const char *dev;       /* NULL: no route */
	const char *neigh_mac; /* NULL: no neighbour entry */
};

static const struct route_def routes[] = {
	{ "10.0.1.1", "lbf0", "02:00:00:00:01:01" },
	{ "10.0.1.2", "lbf0", "02:00:00:00:01:02" },
	{ "10.0.1.6", "lbf0", "02:00:00:00:01:06" },
	{ "10.0.1.3", "lbf0", NULL },
	{ "10.0.1.4", "lbf0", NULL },
	{ "10.0.1.5", "lbf0", NULL },
	{ "10.0.2.1", "lbf0", NULL },
	{ "10.0.2.2", "lbf0", NULL },
	{ "10.9.0.1", "lbf2", "02:00:00:00:09:01" },
	{ "10.9.0.2", "lbf2", "02:00:00:00:09:02" },
	{ "10.7.0.1", "lbf4", "02:00:00:00:07:01" },
	{ "192.0.2.1", NULL, NULL },
	{ "198.51.100.1", NULL, NULL }, /* blackhole */
	{ "fd00:f::1", "lbf0", "02:00:00:00:0f:01" },
	{ "fd00:f::2", "lbf0", NULL },
	{ "fd00:f::3", "lbf0", "02:00:00:00:0f:03" },
	{ "fd00:9::1", "lbf2", "02:00:00:00:09:11" },
	{ "fd00:7::1", "lbf4", "02:00:00:00:07:11" },
	{ "fd00:dead::1", NULL, NULL },
	{ "fd00:dead::2", NULL, NULL },
};

/* Records the first failing step; returns @err. */
static int step(struct fuzz_pipeline *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int step(struct fuzz_pipeline *p, int err, const char *fmt, ...)
{
	va_list ap;

	if (!err || p->err)
		return err;
	p->err = err < 0 ? err : -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->failed_step, sizeof(p->failed_step), fmt, ap);
	va_end(ap);
	return err;
}

static int run(struct fuzz_pipeline *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Runs one shell command quietly; it must succeed. */
static int run(struct fuzz_pipeline *p, const char *fmt, ...)
{
	char command[256], quiet[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(command, sizeof(command), fmt, ap);
	va_end(ap);
	snprintf(quiet, sizeof(quiet), "%s >/dev/null 2>&1", command);
	return step(p, system(quiet) ? -EIO : 0, "%s", command);
}

static int write_file(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(value, f) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static int link_up(struct fuzz_pipeline *p, const struct link_def *l)
{
	size_t i;

	if (run(p, "ip link add %s address %s mtu %d type veth peer name %s", l->name, l->mac,
		LINK_MTU, l->peer) ||
	    run(p, "ip link set %s up", l->name) || run(p, "ip link set %s up", l->peer) ||
	    run(p, "ip %s dev %s", l->l3, l->name) ||
	    (l->l3_6 && run(p, "ip %s dev %s", l->l3_6, l->name)))
		return p->err;
	for (i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!routes[i].dev || !routes[i].neigh_mac || strcmp(routes[i].dev, l->name))
			continue;
		if (run(p, "ip neigh add %s lladdr %s dev %s nud permanent", routes[i].addr,
			routes[i].neigh_mac, l->name))
			return p->err;
	}
	return 0;
}

/* The links that must be there before tx_ports is filled (@late false), or after. */
static int links_up(struct fuzz_pipeline *p, bool late)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(links); i++)
		if (links[i].after_tx_ports == late && link_up(p, &links[i]))
			return p->err;
	return 0;
}

static int network_setup(struct fuzz_pipeline *p)
{
	if (step(p, unshare(CLONE_NEWNET) ? -errno : 0, "unshare(CLONE_NEWNET)") ||
	    run(p, "ip link set lo up") || links_up(p, false) ||
	    run(p, "ip route add blackhole 198.51.100.0/24"))
		return p->err;
	/* "all" also sets the default that links created later inherit. */
	if (step(p, write_file("/proc/sys/net/ipv4/conf/all/forwarding", "1"),
		 "enable IPv4 forwarding") ||
	    step(p, write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1"),
		 "enable IPv6 forwarding"))
		return p->err;
	p->ingress = (int)if_nametoindex(INGRESS);
	return step(p, p->ingress ? 0 : -ENODEV, "find %s", INGRESS);
}

/* Makes @obj use the maps parse created, by name (as the loader does). */
static int share_maps(struct fuzz_pipeline *p, struct bpf_object *obj)
{
	int i, err;

	for (i = 0; i < LB_MAP_COUNT; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, lb_map_names[i]);

		if (!lb_map_is_shared(i))
			continue; /* the loader's own, or the program's own */
		err = map ? bpf_map__reuse_fd(map, p->maps.fd[i]) : -ENOENT;
		if (step(p, err, "share map %s", lb_map_names[i]))
			return err;
	}
	return 0;
}

static int slot_set(struct fuzz_pipeline *p, __u32 slot, int prog_fd)
{
	int err = bpf_map_update_elem(p->maps.fd[LB_MAP_STAGE_SLOTS], &slot, &prog_fd, BPF_ANY);

	return step(p, err ? -errno : 0, "put a stage into slot %u", slot);
}

static void mac_parse(const char *text, uint8_t mac[6]);

/* What lb-load sets in an encap stage's @t, and what the fuzzer needs there. */
static void encap_tunables(struct fuzz_pipeline *p, const struct lb_config *cfg,
			   volatile struct lb_tunables *t)
{
	t->outer_src_addr = cfg->outer_src;
	memcpy((void *)t->outer_src_addr6, cfg->outer_src6, sizeof(cfg->outer_src6));
	memcpy(p->outer_src6, cfg->outer_src6, sizeof(p->outer_src6));
	t->gue_port = htons(cfg->gue_port);
	p->gue_port = cfg->gue_port;
	/* As lb-load sets it: the ingress MTU, the static-MAC backends' limit. */
	t->ingress_mtu = LINK_MTU;
	/* No ICMP rate limit: a frame's answer must not depend on the clock.
	 * (tests/unit/test_encap.c tests the limit.)
	 */
	t->icmp_interval_ns = 1;
	t->icmp_burst = UINT32_MAX;
}

static int stages_load(struct fuzz_pipeline *p, const struct lb_config *cfg)
{
	int i, err;

	p->parse = parse_bpf__open();
	if (step(p, p->parse ? 0 : -errno, "open parse"))
		return p->err;
	/* As lb-load does: parse knows the MAC of the interface it serves,
	 * INGRESS, links[0].
	 */
	mac_parse(links[0].mac, p->if_mac);
	memcpy((void *)p->parse->rodata->lb_if_mac, p->if_mac, sizeof(p->if_mac));
	err = bpf_map__set_max_entries(p->parse->maps.flows, cfg->flow_table_size);
	if (step(p, err, "size the flow table") ||
	    step(p, parse_bpf__load(p->parse), "load parse"))
		return p->err;
	p->parse_prog_fd = bpf_program__fd(p->parse->progs.xdp_lb_parse);
	for (i = 0; i < LB_MAP_COUNT; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(p->parse->obj, lb_map_names[i]);

		/* Only the shared maps: lb-load's own (host_state) are in no
		 * stage, a program's own (next_hop_cache) stay its own.
		 */
		if (!lb_map_is_shared(i))
			continue;
		p->maps.fd[i] = map ? bpf_map__fd(map) : -1;
		if (step(p, p->maps.fd[i] < 0 ? -ENOENT : 0, "find map %s", lb_map_names[i]))
			return p->err;
	}

	p->lb = least_loaded_bpf__open();
	if (step(p, p->lb ? 0 : -errno, "open least_loaded"))
		return p->err;
	p->lb->rodata->lb_tunables.flow_timeout_ns = (__u64)cfg->flow_timeout_s * 1000000000ULL;
	if (share_maps(p, p->lb->obj) ||
	    step(p, least_loaded_bpf__load(p->lb), "load least_loaded"))
		return p->err;

	p->encap = ipip_bpf__open();
	if (step(p, p->encap ? 0 : -errno, "open ipip"))
		return p->err;
	encap_tunables(p, cfg, &p->encap->rodata->lb_tunables);
	if (share_maps(p, p->encap->obj) || step(p, ipip_bpf__load(p->encap), "load ipip"))
		return p->err;
	/* The gue stage, with the same tunables, for the classes that run it. */
	p->gue = gue_bpf__open();
	if (step(p, p->gue ? 0 : -errno, "open gue"))
		return p->err;
	encap_tunables(p, cfg, &p->gue->rodata->lb_tunables);
	if (share_maps(p, p->gue->obj) || step(p, gue_bpf__load(p->gue), "load gue"))
		return p->err;

	p->icmp = icmp_bpf__open();
	if (step(p, p->icmp ? 0 : -errno, "open icmp") || share_maps(p, p->icmp->obj) ||
	    step(p, icmp_bpf__load(p->icmp), "load icmp"))
		return p->err;
	/* The last slot first, so lb never hands on to an empty one. */
	if (slot_set(p, LB_SLOT_ENCAP, bpf_program__fd(p->encap->progs.xdp_lb_ipip)) ||
	    slot_set(p, LB_SLOT_ICMP, bpf_program__fd(p->icmp->progs.xdp_lb_icmp)) ||
	    slot_set(p, LB_SLOT_LB, bpf_program__fd(p->lb->progs.xdp_lb_lload)))
		return p->err;
	return 0;
}

static int config_apply(struct fuzz_pipeline *p, struct lb_config *cfg)
{
	struct lb_apply_result res;
	char err[LB_CONFIG_ERR_LEN];

	if (lb_config_parse("fuzz-config", fuzz_config_text, strlen(fuzz_config_text), cfg, err,
			    sizeof(err)))
		return step(p, -EINVAL, "parse the config: %s", err);
	if (step(p, stages_load(p, cfg), "load the stages"))
		return p->err;
	if (step(p, lb_tx_ports_fill(&p->maps, false) < 0 ? -EIO : 0, "fill tx_ports"))
		return p->err;
	if (lb_apply_config(&p->maps, cfg, &res, err, sizeof(err)))
		return step(p, -EIO, "apply the config: %s", err);
	return 0;
}

/* The route entry of backend @be, an address of either family. */
static const struct route_def *route_def_find(const struct lb_backend *be)
{
	bool ipv6 = be->flags & LB_BACKEND_F_IPV6;
	uint8_t addr6[16];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!ipv6 && inet_addr(routes[i].addr) == be->addr)
			return &routes[i];
		if (ipv6 && inet_pton(AF_INET6, routes[i].addr, addr6) == 1 &&
		    !memcmp(addr6, be->addr6, 16))
			return &routes[i];
	}
	return NULL;
}

static const struct link_def *link_def_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(links); i++)
		if (!strcmp(links[i].name, name))
			return &links[i];
	return NULL;
}

static void mac_parse(const char *text, uint8_t mac[6])
{
	unsigned int b[6];
	int i;

	sscanf(text, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
}

static int route_fill(struct fuzz_pipeline *p, struct fuzz_route *route,
		      const struct lb_backend *be)
{
	const struct route_def *def = route_def_find(be);
	char text[INET6_ADDRSTRLEN];
	const struct link_def *link;

	memset(route, 0, sizeof(*route));
	route->addr = be->addr;
	route->ipv6 = be->flags & LB_BACKEND_F_IPV6;
	if (route->ipv6)
		memcpy(route->addr6, be->addr6, 16);
	inet_ntop(route->ipv6 ? AF_INET6 : AF_INET, route->ipv6 ? (const void *)be->addr6 :
		  (const void *)&be->addr, text, sizeof(text));
	if (step(p, def ? 0 : -ENOENT, "backend %s has no route entry in the fuzzer", text))
		return p->err;
	if (!def->dev)
		return 0;
	link = link_def_find(def->dev);
	route->egress = (int)if_nametoindex(def->dev);
	if (step(p, route->egress && link ? 0 : -ENODEV, "find %s", def->dev))
		return p->err;
	route->has_neigh = def->neigh_mac != NULL;
	if (def->neigh_mac)
		mac_parse(def->neigh_mac, route->neigh_mac);
	mac_parse(link->mac, route->egress_mac);
	route->egress_mtu = LINK_MTU;
	route->in_tx_ports = !link->after_tx_ports;
	return 0;
}

/* Reads back what lb_apply_config wrote: the fuzzer's expectations use the ids
 * and pools the maps hold, not what the config suggests.
 */
static int view_read(struct fuzz_pipeline *p, const struct lb_config *cfg)
{
	struct lb_pool *pool = calloc(1, sizeof(*pool));
	struct fuzz_backend *b;
	size_t i, j;
	int err = 0;
	__u32 zero = 0, gen = 0;

	if (step(p, pool ? 0 : -ENOMEM, "allocate a pool") ||
	    step(p, cfg->vip_count <= FUZZ_MAX_VIPS ? 0 : -E2BIG, "too many VIPs") ||
	    step(p, bpf_map_lookup_elem(p->maps.fd[LB_MAP_CONFIG_GEN], &zero, &gen) ? -errno : 0,
		 "read the config generation"))
		goto out;
	for (i = 0; i < cfg->vip_count && !err; i++) {
		struct lb_vip_key key = { .addr = cfg->vips[i].addr,
					  .port = htons(cfg->vips[i].port),
					  .proto = cfg->vips[i].proto,
					  .gen = (__u8)gen };
		struct lb_vip6_key key6 = { .port = key.port, .proto = key.proto, .gen = key.gen };
		struct fuzz_vip *vip = &p->vips[i];
		struct lb_vip value;

		p->model_vips[i] = (struct model_vip){ .addr = key.addr, .port = cfg->vips[i].port,
						       .proto = key.proto,
						       .ipv6 = cfg->vips[i].ipv6,
						       .icmp_echo = cfg->vips[i].icmp_echo };
		memcpy(p->model_vips[i].addr6, cfg->vips[i].addr6, 16);
		memcpy(key6.addr, cfg->vips[i].addr6, 16);
		if (cfg->vips[i].ipv6)
			err = bpf_map_lookup_elem(p->maps.fd[LB_MAP_VIPS6], &key6, &value);
		else
			err = bpf_map_lookup_elem(p->maps.fd[LB_MAP_VIPS], &key, &value);
		err = err ? -errno : 0;
		if (!step(p, err, "read VIP %zu", i)) {
			err = bpf_map_lookup_elem(p->maps.fd[LB_MAP_POOLS], &value.pool_id, pool);
			err = step(p, err ? -errno : 0, "read pool %u", value.pool_id);
		}
		if (!err)
			err = step(p, pool->backend_count <= FUZZ_MAX_POOL ? 0 : -E2BIG,
				   "pool %u too big", value.pool_id);
		if (err)
			break;
		vip->vip_id = value.vip_id;
		vip->pool_id = value.pool_id;
		vip->backend_count = pool->backend_count;
		for (j = 0; j < pool->backend_count && !err; j++) {
			vip->backend_ids[j] = pool->backend_ids[j];
			if (fuzz_backend_find(p, pool->backend_ids[j]))
				continue;
			err = step(p, p->backend_count < FUZZ_MAX_BACKENDS ? 0 : -E2BIG,
				   "too many backends");
			if (err)
				break;
			b = &p->backends[p->backend_count++];
			b->id = pool->backend_ids[j];
			err = step(p, bpf_map_lookup_elem(p->maps.fd[LB_MAP_BACKENDS], &b->id,
							  &b->entry) ? -errno : 0,
				   "read backend %u", b->id);
			if (!err)
				err = route_fill(p, &b->route, &b->entry);
		}
	}
	p->vip_count = cfg->vip_count;
out:
	free(pool);
	return p->err;
}

/* One CPU: parse's context and the per-CPU counters are then that CPU's. */
static int cpu_pin(struct fuzz_pipeline *p)
{
	cpu_set_t set;

	p->cpus = libbpf_num_possible_cpus();
	p->cpu = sched_getcpu();
	if (step(p, p->cpus > 0 && p->cpu >= 0 ? 0 : -EINVAL, "find the CPUs"))
		return p->err;
	CPU_ZERO(&set);
	CPU_SET(p->cpu, &set);
	return step(p, sched_setaffinity(0, sizeof(set), &set) ? -errno : 0, "pin to CPU %d",
		    p->cpu);
}

int fuzz_pipeline_setup(struct fuzz_pipeline *p)
{
	struct lb_config cfg;

	memset(p, 0, sizeof(*p));
	lb_maps_init(&p->maps);
	if (cpu_pin(p) || network_setup(p))
		return p->err;
	if (!config_apply(p, &cfg)) {
		p->flow_table_size = cfg.flow_table_size;
		/* lbf4 comes after tx_ports was filled, as an interface added
		 * after lb-load would.
		 */
		if (!links_up(p, true))
			view_read(p, &cfg);
	}
	lb_config_free(&cfg);
	return p->err;
}

void fuzz_pipeline_teardown(struct fuzz_pipeline *p)
{
	/* The map fds belong to the parse skeleton. */
	icmp_bpf__destroy(p->icmp);
	gue_bpf__destroy(p->gue);
	ipip_bpf__destroy(p->encap);
	least_loaded_bpf__destroy(p->lb);
	parse_bpf__destroy(p->parse);
	p->icmp = NULL;
	p->encap = NULL;
	p->gue = NULL;
	p->lb = NULL;
	p->parse = NULL;
}

int fuzz_pipeline_encap(struct fuzz_pipeline *p, bool gue)
{
	int fd = gue ? bpf_program__fd(p->gue->progs.xdp_lb_gue) :
		       bpf_program__fd(p->encap->progs.xdp_lb_ipip);

	if (slot_set(p, LB_SLOT_ENCAP, fd))
		return p->err;
	p->encap_gue = gue;
	return 0;
}

const struct fuzz_backend *fuzz_backend_find(const struct fuzz_pipeline *p, uint32_t id)
{
	size_t i;

	for (i = 0; i < p->backend_count; i++)
		if (p->backends[i].id == id)
			return &p->backends[i];
	return NULL;
}
