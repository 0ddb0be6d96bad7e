// SPDX-License-Identifier: GPL-2.0
/* Config -> maps with stable ids and an undo journal; see apply.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "apply.h"
#include "health.h"
#include "lb_structs_common.h"
#include "maglev.h"
#include "state.h"

/* One journaled write: enough to put the old value (or absence) back. */
struct undo_entry {
	int map_fd;
	__u32 key_size, value_size;
	bool existed;
	unsigned char key[sizeof(struct lb_vip6_key)]; /* the largest key written */
	unsigned char *old_value; /* value_size bytes (times CPUs for per-CPU maps) */
};

struct undo_log {
	struct undo_entry *entries;
	size_t count, cap;
};

/* A VIP's key in its family's map: vips, or vips6 when ipv6. */
struct vip_key {
	bool ipv6;
	struct lb_vip_key v4;
	struct lb_vip6_key v6;
};

/* The key's map, bytes and size, for a journaled write or delete. */
static int vip_key_fd(const struct lb_maps *maps, const struct vip_key *k)
{
	return maps->fd[k->ipv6 ? LB_MAP_VIPS6 : LB_MAP_VIPS];
}

static const void *vip_key_bytes(const struct vip_key *k)
{
	return k->ipv6 ? (const void *)&k->v6 : (const void *)&k->v4;
}

static __u32 vip_key_size(const struct vip_key *k)
{
	return k->ipv6 ? sizeof(k->v6) : sizeof(k->v4);
}

static bool vip_key_eq(const struct vip_key *a, const struct vip_key *b)
{
	return a->ipv6 == b->ipv6 && !memcmp(vip_key_bytes(a), vip_key_bytes(b), vip_key_size(a));
}

/* A state entry's key. */
static struct vip_key vip_key_of_state(const struct lb_state_vip *e)
{
	struct vip_key k = { .ipv6 = e->ipv6 };

	if (e->ipv6)
		k.v6 = e->key6;
	else
		k.v4 = e->key;
	return k;
}

/* What the maps hold now. */
struct current_state {
	struct lb_backend backends[LB_MAX_BACKENDS];
	__u32 gen;                             /* the generation parse reads */
	struct vip_key vip_keys[LB_MAX_VIPS];  /* of generation gen */
	struct lb_vip vips[LB_MAX_VIPS];
	size_t vip_count;
	bool vip_id_used[LB_MAX_VIPS];
	struct lb_maglev_alloc tables;         /* Maglev tables free for the next generation */
	/* Entries of the other generation: left by a reload that was killed
	 * before it switched. Invisible to parse; removed first.
	 */
	struct vip_key stale_keys[LB_MAX_VIPS];
	size_t stale_count;
	__be32 addrs[LB_MAX_VIPS];             /* keys of vip_addrs */
	size_t addr_count;
	struct lb_vip_addr6_key addrs6[LB_MAX_VIPS]; /* keys of vip_addrs6 */
	size_t addr6_count;
};

/* What the maps will hold. */
struct plan {
	__u32 vip_ids[LB_MAX_VIPS];      /* per config VIP */
	__u32 pool_ids[LB_MAX_VIPS];     /* per config VIP: the spare pool */
	bool vip_id_taken[LB_MAX_VIPS];  /* old or new: not free this round */
	bool backend_kept[LB_MAX_BACKENDS];
	bool backend_taken[LB_MAX_BACKENDS];
	__u16 tables[LB_MAX_VIPS];       /* per config VIP: its Maglev table */
	struct lb_maglev_alloc table_alloc; /* cur->tables, less those written this round */
	struct lb_pool pool;             /* scratch for one VIP's pool */
	struct lb_pool_weights weights;  /* scratch for that pool's weights */
	struct lb_maglev_table table;    /* scratch for one Maglev table */
};

static int undo_record(struct undo_log *log, int map_fd, const void *key, __u32 key_size,
		       __u32 value_size)
{
	struct undo_entry *e;

	if (log->count == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 64;
		struct undo_entry *grown = realloc(log->entries, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		log->entries = grown;
		log->cap = cap;
	}
	e = &log->entries[log->count];
	memset(e, 0, sizeof(*e));
	e->map_fd = map_fd;
	e->key_size = key_size;
	e->value_size = value_size;
	memcpy(e->key, key, key_size);
	e->old_value = calloc(1, value_size);
	if (!e->old_value)
		return -ENOMEM;
	e->existed = bpf_map_lookup_elem(map_fd, key, e->old_value) == 0;
	log->count++;
	return 0;
}

static void undo_rollback(struct undo_log *log)
{
	size_t i = log->count;

	while (i--) {
		struct undo_entry *e = &log->entries[i];

		if (e->existed)
			bpf_map_update_elem(e->map_fd, e->key, e->old_value, BPF_ANY);
		else
			bpf_map_delete_elem(e->map_fd, e->key);
	}
}

static void undo_free(struct undo_log *log)
{
	size_t i;

	for (i = 0; i < log->count; i++)
		free(log->entries[i].old_value);
	free(log->entries);
	memset(log, 0, sizeof(*log));
}

/* Journals, then writes one element. */
static int write_elem(struct undo_log *log, int map_fd, const void *key, __u32 key_size,
		      const void *value, __u32 value_size)
{
	int err = undo_record(log, map_fd, key, key_size, value_size);

	if (err)
		return err;
	return bpf_map_update_elem(map_fd, key, value, BPF_ANY) ? -errno : 0;
}

static int delete_elem(struct undo_log *log, int map_fd, const void *key, __u32 key_size,
		       __u32 value_size)
{
	int err = undo_record(log, map_fd, key, key_size, value_size);

	if (err)
		return err;
	return bpf_map_delete_elem(map_fd, key) && errno != ENOENT ? -errno : 0;
}

/* The keys (@key_size bytes each, at most LB_MAX_VIPS) map @fd holds now. */
static int read_addr_keys(int fd, void *keys, size_t key_size, size_t *count)
{
	union {
		__be32 v4;
		struct lb_vip_addr6_key v6;
	} key, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (*count == LB_MAX_VIPS)
			return -EOVERFLOW;
		memcpy((char *)keys + *count * key_size, &next, key_size);
		(*count)++;
		key = next;
		prev = &key;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* The addresses vip_addrs and vip_addrs6 hold now. */
static int read_vip_addrs(const struct lb_maps *maps, struct current_state *cur)
{
	int err = read_addr_keys(maps->fd[LB_MAP_VIP_ADDRS], cur->addrs, sizeof(cur->addrs[0]),
				 &cur->addr_count);

	return err ?: read_addr_keys(maps->fd[LB_MAP_VIP_ADDRS6], cur->addrs6,
				     sizeof(cur->addrs6[0]), &cur->addr6_count);
}

/* The address of config VIP @v as the key of its family's map (vip_addrs or
 * vip_addrs6): its fd, bytes and size.
 */
static int vip_addr_key(const struct lb_maps *maps, const struct lb_vip_config *v,
			const void **key, __u32 *size)
{
	*key = v->ipv6 ? (const void *)v->addr6 : (const void *)&v->addr;
	*size = v->ipv6 ? sizeof(struct lb_vip_addr6_key) : sizeof(__be32);
	return maps->fd[v->ipv6 ? LB_MAP_VIP_ADDRS6 : LB_MAP_VIP_ADDRS];
}

/* Whether the config has a VIP of the family (@ipv6) at @addr (4 or 16 bytes). */
static bool config_has_addr(const struct lb_config *cfg, bool ipv6, const void *addr)
{
	size_t i;

	for (i = 0; i < cfg->vip_count; i++) {
		const struct lb_vip_config *v = &cfg->vips[i];

		if (v->ipv6 == ipv6 &&
		    !memcmp(ipv6 ? (const void *)v->addr6 : (const void *)&v->addr, addr,
			    ipv6 ? sizeof(v->addr6) : sizeof(v->addr)))
			return true;
	}
	return false;
}

/* vip_addrs (vip_addrs6 for IPv6): one entry per address of the config, from
 * its first VIP (the config checked that the VIPs of one address agree on
 * icmp_echo). Written before the generation switch: ICMP to a new address is
 * answered a moment early, which harms nothing; a later VIP of an address
 * writes nothing.
 */
static int write_vip_addrs(struct undo_log *log, const struct lb_maps *maps,
			   const struct lb_config *cfg, const struct plan *plan)
{
	size_t i, j;
	int err;

	for (i = 0; i < cfg->vip_count; i++) {
		const struct lb_vip_config *v = &cfg->vips[i];
		struct lb_vip_addr value = {
			.vip_id = plan->vip_ids[i],
			.flags = v->icmp_echo ? LB_VIP_ADDR_F_ECHO : 0,
		};
		const void *key;
		bool first = true;
		__u32 size;
		int fd;

		fd = vip_addr_key(maps, v, &key, &size);
		for (j = 0; j < i && first; j++)
			first = cfg->vips[j].ipv6 != v->ipv6 ||
				memcmp(key, v->ipv6 ? (const void *)cfg->vips[j].addr6 :
						      (const void *)&cfg->vips[j].addr, size);
		if (!first)
			continue;
		err = write_elem(log, fd, key, size, &value, sizeof(value));
		if (err)
			return err;
	}
	return 0;
}

static int read_state(const struct lb_maps *maps, struct current_state *cur)
{
	static struct lb_state state;
	__u32 id;
	size_t i;
	int err;

	for (id = 0; id < LB_MAX_BACKENDS; id++)
		if (bpf_map_lookup_elem(maps->fd[LB_MAP_BACKENDS], &id, &cur->backends[id]))
			return -errno;
	err = lb_state_read(maps, &state);
	if (err)
		return err;
	cur->gen = state.gen;
	for (i = 0; i < state.live_count; i++) {
		const struct lb_vip *vip = &state.live[i].vip;

		if (vip->vip_id >= LB_MAX_VIPS)
			return -EOVERFLOW;
		cur->vip_keys[cur->vip_count] = vip_key_of_state(&state.live[i]);
		cur->vips[cur->vip_count++] = *vip;
		cur->vip_id_used[vip->vip_id] = true;
	}
	lb_maglev_alloc_init(&cur->tables, &state, false);
	lb_maglev_alloc_capacity(&cur->tables, lb_map_max_entries(maps, LB_MAP_MAGLEV_TABLES));
	for (i = 0; i < state.stale_count; i++)
		cur->stale_keys[cur->stale_count++] = vip_key_of_state(&state.stale[i]);
	return read_vip_addrs(maps, cur);
}

static struct vip_key vip_key_of(const struct lb_vip_config *v, __u32 gen)
{
	struct vip_key key = { .ipv6 = v->ipv6 };

	if (v->ipv6) {
		memcpy(key.v6.addr, v->addr6, sizeof(key.v6.addr));
		key.v6.port = htons(v->port);
		key.v6.proto = v->proto;
		key.v6.gen = (__u8)gen;
	} else {
		key.v4.addr = v->addr;
		key.v4.port = htons(v->port);
		key.v4.proto = v->proto;
		key.v4.gen = (__u8)gen;
	}
	return key;
}

static int find_vip(const struct current_state *cur, const struct vip_key *key)
{
	size_t i;

	for (i = 0; i < cur->vip_count; i++)
		if (vip_key_eq(&cur->vip_keys[i], key))
			return (int)i;
	return -1;
}

static struct lb_backend backend_of(const struct lb_backend_config *b, __u32 vip_id)
{
	struct lb_backend be = {
		.addr = b->addr,
		.state = b->state,
		.flags = b->has_mac ? LB_BACKEND_F_STATIC_MAC : 0,
		.vip_id = vip_id,
		.weight = b->weight,
	};

	if (b->ipv6) {
		memcpy(be.addr6, b->addr6, sizeof(be.addr6));
		be.flags |= LB_BACKEND_F_IPV6;
	}
	if (b->has_mac)
		memcpy(be.mac, b->mac, sizeof(be.mac));
	return be;
}

/* The id this backend had (same VIP, address and next hop), or a free one. */
static int backend_id_for(const struct current_state *cur, struct plan *plan,
			  const struct lb_backend *want, bool *kept)
{
	__u32 id;

	for (id = 0; id < LB_MAX_BACKENDS; id++) {
		const struct lb_backend *b = &cur->backends[id];

		if (b->state == LB_BACKEND_EMPTY || plan->backend_kept[id] ||
		    b->vip_id != want->vip_id || memcmp(b->addr6, want->addr6, sizeof(b->addr6)) ||
		    b->flags != want->flags || memcmp(b->mac, want->mac, sizeof(b->mac)))
			continue;
		plan->backend_kept[id] = plan->backend_taken[id] = true;
		*kept = true;
		return (int)id;
	}
	for (id = 0; id < LB_MAX_BACKENDS; id++) {
		if (cur->backends[id].state != LB_BACKEND_EMPTY || plan->backend_taken[id])
			continue;
		plan->backend_taken[id] = true;
		*kept = false;
		return (int)id;
	}
	return -ENOSPC;
}

static int free_vip_id(struct plan *plan)
{
	__u32 id;

	for (id = 0; id < LB_MAX_VIPS; id++) {
		if (!plan->vip_id_taken[id]) {
			plan->vip_id_taken[id] = true;
			return (int)id;
		}
	}
	return -ENOSPC;
}

/* A new backend starts unprobed: a record left in its slot by another
 * backend says nothing about this one.
 */
static int reset_backend_health(struct undo_log *log, const struct lb_maps *maps, __u32 id,
				const struct lb_backend *be)
{
	struct lb_backend_health rec = { .addr = be->addr, .vip_id = be->vip_id };

	if (maps->fd[LB_MAP_BACKEND_HEALTH] < 0)
		return 0;
	return write_elem(log, maps->fd[LB_MAP_BACKEND_HEALTH], &id, sizeof(id), &rec,
			  sizeof(rec));
}

/* What a reload does with the health of a backend it keeps (health.h): one
 * the daemon took down stays DOWN while the config says up and the VIP
 * still has a health_check (@checked), until the daemon's probes bring it
 * back; a config that says drain or down, or drops the VIP's health_check,
 * takes the backend out of the daemon's hands.
 */
static int keep_backend_health(struct undo_log *log, const struct lb_maps *maps, __u32 id,
			       struct lb_backend *be, bool checked)
{
	struct lb_backend_health rec;

	if (lb_health_read(maps, id, be->addr, be->vip_id, &rec) || !rec.marked_down)
		return 0;
	if (be->state == LB_BACKEND_UP && checked) {
		be->state = LB_BACKEND_DOWN;
		return 0;
	}
	rec.marked_down = 0;
	return write_elem(log, maps->fd[LB_MAP_BACKEND_HEALTH], &id, sizeof(id), &rec,
			  sizeof(rec));
}

/* A new backend starts with zero load and zero figures. */
static int reset_backend_figures(struct undo_log *log, const struct lb_maps *maps, __u32 id)
{
	int cpus = libbpf_num_possible_cpus();
	struct lb_backend_load *load;
	struct lb_backend_stats *stats;
	int err;

	if (cpus < 0)
		return cpus;
	/* Both per-CPU arrays: one zeroed value for every CPU. */
	load = calloc((size_t)cpus, sizeof(*load));
	if (!load)
		return -ENOMEM;
	err = write_elem(log, maps->fd[LB_MAP_BACKEND_LOAD], &id, sizeof(id), load,
			 (__u32)(cpus * sizeof(*load)));
	free(load);
	if (err)
		return err;
	stats = calloc((size_t)cpus, sizeof(*stats));
	if (!stats)
		return -ENOMEM;
	err = write_elem(log, maps->fd[LB_MAP_BACKEND_STATS], &id, sizeof(id), stats,
			 (__u32)(cpus * sizeof(*stats)));
	free(stats);
	if (!err) {
		struct lb_backend_conns conns = { 0 };

		err = write_elem(log, maps->fd[LB_MAP_BACKEND_CONNS], &id, sizeof(id), &conns,
				 sizeof(conns));
	}
	return err;
}

/* A new VIP starts with no drops, whatever VIP had its id before. */
static int reset_vip_drops(struct undo_log *log, const struct lb_maps *maps, __u32 id)
{
	int cpus = libbpf_num_possible_cpus(), err;
	struct lb_vip_drops *drops;

	if (cpus < 0)
		return cpus;
	drops = calloc((size_t)cpus, sizeof(*drops));
	if (!drops)
		return -ENOMEM;
	err = write_elem(log, maps->fd[LB_MAP_VIP_DROPS], &id, sizeof(id), drops,
			 (__u32)(cpus * sizeof(*drops)));
	free(drops);
	return err;
}

static __u32 gcd(__u32 a, __u32 b)
{
	while (b) {
		__u32 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* A stride coprime with @total, near total / golden ratio: consecutive
 * weighted round-robin tickets then land far apart, and a cycle of @total
 * tickets still visits every weighted position once.
 */
static __u32 coprime_stride(__u32 total)
{
	__u32 stride = (__u32)((__u64)total * 618 / 1000);

	if (!stride)
		stride = 1;
	while (gcd(stride, total) != 1)
		stride++;
	return stride;
}

/* The weights of @v's pool: only UP backends (weight >= 1) take new flows. */
static void pool_weights_of(const struct lb_vip_config *v, struct lb_pool_weights *w)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < v->backend_count; i++) {
		const struct lb_backend_config *b = &v->backends[i];

		if (b->state == LB_BACKEND_UP)
			w->total += b->weight;
		w->cumulative[i] = w->total;
	}
	w->stride = w->total ? coprime_stride(w->total) : 0;
}

/* The spare pool's weights and, for a Maglev VIP, a table built from the
 * backends just written: both invisible until the VIP switches to that pool.
 */
static int stage_vip_policy(struct undo_log *log, const struct lb_maps *maps, struct plan *plan,
			    const struct lb_vip_config *v, size_t vi)
{
	__u32 table_id;
	int err, t;

	pool_weights_of(v, &plan->weights);
	err = write_elem(log, maps->fd[LB_MAP_POOL_WEIGHTS], &plan->pool_ids[vi],
			 sizeof(__u32), &plan->weights, sizeof(plan->weights));
	plan->tables[vi] = LB_NO_TABLE;
	if (err || v->policy != LB_POLICY_MAGLEV)
		return err;
	/* The config allows LB_MAGLEV_MAX_VIPS Maglev VIPs, so -EDQUOT does
	 * not happen; either way the table is short.
	 */
	t = lb_maglev_alloc_take(&plan->table_alloc);
	if (t < 0)
		return -ENOSPC;
	err = lb_maglev_from_maps(maps, plan->pool_ids[vi], plan->vip_ids[vi], v->maglev_size,
				  &plan->table);
	if (err)
		return err;
	table_id = (__u32)t;
	plan->tables[vi] = (__u16)t;
	return write_elem(log, maps->fd[LB_MAP_MAGLEV_TABLES], &table_id, sizeof(table_id),
			  &plan->table, sizeof(plan->table));
}

/* Steps 1-3: backend slots and the spare pool of every VIP (not yet visible). */
static int stage_vip(struct undo_log *log, const struct lb_maps *maps,
		     const struct current_state *cur, struct plan *plan,
		     const struct lb_vip_config *v, size_t vi, struct lb_apply_result *res)
{
	struct vip_key key = vip_key_of(v, cur->gen);
	int old = find_vip(cur, &key), err;
	size_t bi;

	if (old >= 0) {
		plan->vip_ids[vi] = cur->vips[old].vip_id;
		/* The other pool of the pair is the spare one. */
		plan->pool_ids[vi] = cur->vips[old].pool_id ^ 1;
		res->vips_kept++;
	} else {
		int id = free_vip_id(plan);

		if (id < 0)
			return id;
		plan->vip_ids[vi] = (__u32)id;
		plan->pool_ids[vi] = (__u32)id * LB_POOLS_PER_VIP;
		res->vips_added++;
		err = reset_vip_drops(log, maps, (__u32)id);
		if (err)
			return err;
	}

	memset(&plan->pool, 0, sizeof(plan->pool));
	for (bi = 0; bi < v->backend_count; bi++) {
		struct lb_backend be = backend_of(&v->backends[bi], plan->vip_ids[vi]);
		bool kept;
		int id = backend_id_for(cur, plan, &be, &kept);
		__u32 uid;

		if (id < 0)
			return id;
		uid = (__u32)id;
		if (!kept) {
			err = reset_backend_figures(log, maps, uid);
			if (!err)
				err = reset_backend_health(log, maps, uid, &be);
			if (err)
				return err;
			res->backends_added++;
		} else {
			err = keep_backend_health(log, maps, uid, &be,
						  v->health.type != LB_HEALTH_NONE);
			if (err)
				return err;
			res->backends_kept++;
		}
		/* A kept backend may change state or weight in place. */
		if (!kept || memcmp(&cur->backends[uid], &be, sizeof(be))) {
			err = write_elem(log, maps->fd[LB_MAP_BACKENDS], &uid, sizeof(uid), &be,
					 sizeof(be));
			if (err)
				return err;
		}
		plan->pool.backend_ids[plan->pool.backend_count++] = uid;
	}
	err = write_elem(log, maps->fd[LB_MAP_POOLS], &plan->pool_ids[vi], sizeof(__u32),
			 &plan->pool, sizeof(plan->pool));
	return err ? err : stage_vip_policy(log, maps, plan, v, vi);
}

static int apply_steps(struct undo_log *log, const struct lb_maps *maps,
		       const struct current_state *cur, struct plan *plan,
		       const struct lb_config *cfg, struct lb_apply_result *res, const char **step)
{
	struct lb_backend empty = { 0 };
	size_t i;
	__u32 id;
	int err;

	__u32 new_gen = cur->gen ^ 1, zero = 0;

	memcpy(plan->vip_id_taken, cur->vip_id_used, sizeof(plan->vip_id_taken));
	plan->table_alloc = cur->tables;
	for (id = 0; id < LB_MAX_BACKENDS; id++)
		plan->backend_taken[id] = cur->backends[id].state != LB_BACKEND_EMPTY;

	*step = "clear an unfinished generation";
	for (i = 0; i < cur->stale_count; i++) {
		err = delete_elem(log, vip_key_fd(maps, &cur->stale_keys[i]),
				  vip_key_bytes(&cur->stale_keys[i]),
				  vip_key_size(&cur->stale_keys[i]), sizeof(struct lb_vip));
		if (err)
			return err;
	}

	*step = "write backend pools";
	for (i = 0; i < cfg->vip_count; i++) {
		err = stage_vip(log, maps, cur, plan, &cfg->vips[i], i, res);
		if (err)
			return err;
	}

	/* The new generation, invisible until the switch below. */
	*step = "write the new VIP generation";
	for (i = 0; i < cfg->vip_count; i++) {
		struct vip_key key = vip_key_of(&cfg->vips[i], new_gen);
		struct lb_vip vip = {
			.vip_id = plan->vip_ids[i],
			.pool_id = plan->pool_ids[i],
			.policy = cfg->vips[i].policy,
			.maglev_table = plan->tables[i],
			.forwarding = cfg->vips[i].forwarding,
		};

		err = write_elem(log, vip_key_fd(maps, &key), vip_key_bytes(&key),
				 vip_key_size(&key), &vip, sizeof(vip));
		if (err)
			return err;
	}

	*step = "write the VIP addresses";
	err = write_vip_addrs(log, maps, cfg, plan);
	if (err)
		return err;

	/* The commit point: one word switches every VIP to the new config. A
	 * load killed before it leaves the old config running; after it, the
	 * new one (and stale entries the next lb-load clears).
	 */
	*step = "switch to the new generation";
	err = write_elem(log, maps->fd[LB_MAP_CONFIG_GEN], &zero, sizeof(zero), &new_gen,
			 sizeof(new_gen));
	if (err)
		return err;

	*step = "remove the old generation";
	for (i = 0; i < cur->vip_count; i++) {
		bool still = false;
		size_t j;

		for (j = 0; j < cfg->vip_count && !still; j++) {
			struct vip_key key = vip_key_of(&cfg->vips[j], cur->gen);

			still = vip_key_eq(&key, &cur->vip_keys[i]);
		}
		res->vips_removed += !still;
		err = delete_elem(log, vip_key_fd(maps, &cur->vip_keys[i]),
				  vip_key_bytes(&cur->vip_keys[i]), vip_key_size(&cur->vip_keys[i]),
				  sizeof(struct lb_vip));
		if (err)
			return err;
	}

	*step = "remove old VIP addresses";
	for (i = 0; i < cur->addr_count; i++) {
		if (config_has_addr(cfg, false, &cur->addrs[i]))
			continue;
		err = delete_elem(log, maps->fd[LB_MAP_VIP_ADDRS], &cur->addrs[i],
				  sizeof(__be32), sizeof(struct lb_vip_addr));
		if (err)
			return err;
	}
	for (i = 0; i < cur->addr6_count; i++) {
		if (config_has_addr(cfg, true, &cur->addrs6[i]))
			continue;
		err = delete_elem(log, maps->fd[LB_MAP_VIP_ADDRS6], &cur->addrs6[i],
				  sizeof(cur->addrs6[i]), sizeof(struct lb_vip_addr));
		if (err)
			return err;
	}

	/* Last, so that no published pool still points at them. Their flows
	 * are scheduled again by lb (the slot is EMPTY now).
	 */
	*step = "remove old backends";
	for (id = 0; id < LB_MAX_BACKENDS; id++) {
		if (cur->backends[id].state == LB_BACKEND_EMPTY || plan->backend_kept[id])
			continue;
		err = write_elem(log, maps->fd[LB_MAP_BACKENDS], &id, sizeof(id), &empty,
				 sizeof(empty));
		if (err)
			return err;
		res->backends_removed++;
	}
	return 0;
}

int lb_apply_config(const struct lb_maps *maps, const struct lb_config *cfg,
		    struct lb_apply_result *res, char *err, size_t err_len)
{
	struct current_state *cur = calloc(1, sizeof(*cur));
	struct plan *plan = calloc(1, sizeof(*plan));
	struct undo_log log = { 0 };
	const char *step = "read the loaded state";
	int ret;

	memset(res, 0, sizeof(*res));
	if (!cur || !plan) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_state(maps, cur);
	if (!ret)
		ret = apply_steps(&log, maps, cur, plan, cfg, res, &step);
	if (ret) {
		undo_rollback(&log);
		snprintf(err, err_len, "Failed to %s: %s%s", step, strerror(-ret),
			 ret == -ENOSPC ? " (no free backend, VIP or Maglev table slot)" : "");
	}
out:
	undo_free(&log);
	free(cur);
	free(plan);
	if (ret == -ENOMEM && err_len && !err[0])
		snprintf(err, err_len, "Failed to apply the config: out of memory");
	return ret;
}
