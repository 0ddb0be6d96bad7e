// SPDX-License-Identifier: GPL-2.0
/* Maglev table construction, and a table for lbctl policy; see maglev.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "flow_hash_common.h"
#include "lb_structs_common.h"
#include "maglev.h"
#include "health.h"
#include "state.h"

/* Seeds of a backend's two hashes: where its preference list starts, and its step. */
#define MAGLEV_OFFSET_SEED 0x6d61676cU
#define MAGLEV_SKIP_SEED 0x736b6970U

bool lb_is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return false;
	for (d = 2; (uint64_t)d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

/* One backend while the table fills. */
struct filler {
	uint32_t id, weight;
	uint32_t offset, skip; /* preference j is (offset + j * skip) mod size */
	uint32_t next;         /* its next preference to try */
	uint64_t credit;       /* weight earned and not yet spent on a position */
};

static int by_addr(const void *a, const void *b)
{
	const struct lb_maglev_backend *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Claims the backend's most preferred free position. */
static void claim(struct filler *f, uint32_t size, uint32_t *table)
{
	uint32_t pos;

	for (;;) {
		pos = (uint32_t)((f->offset + (uint64_t)f->next * f->skip) % size);
		f->next++;
		if (table[pos] == LB_NO_BACKEND)
			break;
	}
	table[pos] = f->id;
}

int lb_maglev_build(const struct lb_maglev_backend *backends, size_t count, uint32_t size,
		    uint32_t *table)
{
	struct lb_maglev_backend *sorted;
	struct filler *fill;
	uint32_t filled = 0, max_weight = 0, i;
	size_t n = 0, k;

	if (!lb_is_prime(size))
		return -EINVAL;
	for (i = 0; i < size; i++)
		table[i] = LB_NO_BACKEND;
	sorted = calloc(count ? count : 1, sizeof(*sorted));
	fill = calloc(count ? count : 1, sizeof(*fill));
	if (!sorted || !fill) {
		free(sorted);
		free(fill);
		return -ENOMEM;
	}
	/* The order of the config (and of the ids) must not matter. */
	for (k = 0; k < count; k++)
		if (backends[k].weight)
			sorted[n++] = backends[k];
	qsort(sorted, n, sizeof(*sorted), by_addr);
	if (n > size) {
		free(sorted);
		free(fill);
		return -E2BIG;
	}
	for (k = 0; k < n; k++) {
		fill[k].id = sorted[k].id;
		fill[k].weight = sorted[k].weight;
		fill[k].offset = lb_hash_3words(sorted[k].addr, 0, 0, MAGLEV_OFFSET_SEED) % size;
		fill[k].skip = size > 1 ? lb_hash_3words(sorted[k].addr, 0, 0, MAGLEV_SKIP_SEED) %
						  (size - 1) + 1
					: 1;
		if (sorted[k].weight > max_weight)
			max_weight = sorted[k].weight;
	}
	/* Rounds: each backend earns its weight in credit and claims a position
	 * per max_weight of credit, so the heaviest claims one per round and a
	 * backend of half its weight one every other round.
	 */
	while (n && filled < size) {
		for (k = 0; k < n && filled < size; k++) {
			fill[k].credit += fill[k].weight;
			if (fill[k].credit < max_weight)
				continue;
			fill[k].credit -= max_weight;
			claim(&fill[k], size, table);
			filled++;
		}
	}
	free(sorted);
	free(fill);
	return 0;
}

int lb_maglev_from_maps(const struct lb_maps *maps, uint32_t pool_id, uint32_t vip_id,
			uint32_t size, struct lb_maglev_table *out)
{
	struct lb_maglev_backend *list = NULL;
	struct lb_pool *pool = calloc(1, sizeof(*pool));
	size_t n = 0;
	uint32_t i;
	int err;

	if (!pool)
		return -ENOMEM;
	if (bpf_map_lookup_elem(maps->fd[LB_MAP_POOLS], &pool_id, pool)) {
		err = -errno;
		goto out;
	}
	if (pool->backend_count > LB_MAX_BACKENDS_PER_VIP || size > LB_MAGLEV_MAX_SIZE) {
		err = -E2BIG;
		goto out;
	}
	list = calloc(pool->backend_count ? pool->backend_count : 1, sizeof(*list));
	if (!list) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < pool->backend_count; i++) {
		struct lb_backend be;
		__u32 id = pool->backend_ids[i];

		if (bpf_map_lookup_elem(maps->fd[LB_MAP_BACKENDS], &id, &be)) {
			err = -errno;
			goto out;
		}
		/* Only backends that take new flows own positions, and those
		 * only down by health checks (they get theirs back when up:
		 * the table stays what the config makes it).
		 */
		if (be.state != LB_BACKEND_UP) {
			struct lb_backend_health rec;

			if (lb_health_read(maps, id, be.addr, be.vip_id, &rec) ||
			    !lb_health_down_by_probe(&rec, be.state))
				continue;
		}
		if (be.vip_id != vip_id || !be.weight)
			continue;
		list[n++] = (struct lb_maglev_backend){
			be.flags & LB_BACKEND_F_IPV6 ? lb_addr6_hash(be.addr6) : be.addr,
			be.weight, id };
	}
	memset(out, 0, sizeof(*out));
	out->size = size;
	err = lb_maglev_build(list, n, size, out->backend_ids);
out:
	free(list);
	free(pool);
	return err;
}

int lb_maglev_table_for_live(const struct lb_maps *maps, const struct lb_state *st,
			     const struct lb_state_vip *view, uint16_t *table_id)
{
	struct lb_maglev_table *table;
	struct lb_maglev_alloc alloc;
	__u32 t;
	int err;

	lb_maglev_alloc_init(&alloc, st, true);
	lb_maglev_alloc_capacity(&alloc, lb_map_max_entries(maps, LB_MAP_MAGLEV_TABLES));
	err = lb_maglev_alloc_take(&alloc);
	if (err < 0)
		return err;
	t = (__u32)err;
	table = calloc(1, sizeof(*table));
	if (!table)
		return -ENOMEM;
	err = lb_maglev_from_maps(maps, view->vip.pool_id, view->vip.vip_id,
				  LB_MAGLEV_DEFAULT_SIZE, table);
	if (!err && bpf_map_update_elem(maps->fd[LB_MAP_MAGLEV_TABLES], &t, table, BPF_ANY))
		err = -errno;
	free(table);
	if (!err)
		*table_id = (uint16_t)t;
	return err;
}
