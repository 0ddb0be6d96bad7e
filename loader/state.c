// SPDX-License-Identifier: GPL-2.0
/* The read model of the pinned VIP map; see state.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "state.h"

static int vip_key_cmp(const void *a, const void *b)
{
	const struct lb_state_vip *p = a, *q = b;
	const struct lb_vip_key *x = &p->key, *y = &q->key;
	int c;

	if (p->ipv6 != q->ipv6)
		return p->ipv6 ? 1 : -1;
	if (p->ipv6) {
		c = memcmp(p->key6.addr, q->key6.addr, sizeof(p->key6.addr));
		if (c)
			return c;
	} else if (x->addr != y->addr) {
		return ntohl(x->addr) < ntohl(y->addr) ? -1 : 1;
	}
	if (x->port != y->port)
		return ntohs(x->port) < ntohs(y->port) ? -1 : 1;
	return (int)x->proto - (int)y->proto;
}

/* Files one VIP entry (@key6 for vips6, else @key) under live or stale. */
static int state_add(const struct lb_maps *maps, struct lb_state *st, int fd,
		     const struct lb_vip_key *key, const struct lb_vip6_key *key6)
{
	__u8 gen = key6 ? key6->gen : key->gen;
	bool live = gen == st->gen;
	struct lb_state_vip *e;

	if ((live ? st->live_count : st->stale_count) == LB_MAX_VIPS)
		return -EOVERFLOW;
	e = live ? &st->live[st->live_count] : &st->stale[st->stale_count];
	memset(e, 0, sizeof(*e));
	if (key6) {
		e->ipv6 = true;
		e->key6 = *key6;
		e->key.port = key6->port;
		e->key.proto = key6->proto;
		e->key.gen = key6->gen;
	} else {
		e->key = *key;
	}
	/* Removed meanwhile: only lb-load and lbctl write, under the
	 * interface's lock, but a reader may run without it.
	 */
	if (bpf_map_lookup_elem(fd, key6 ? (const void *)key6 : (const void *)key, &e->vip))
		return 0;
	if (!live) {
		st->stale_count++;
		return 0;
	}
	if (bpf_map_lookup_elem(maps->fd[LB_MAP_POOLS], &e->vip.pool_id, &e->pool))
		memset(&e->pool, 0, sizeof(e->pool));
	st->live_count++;
	return 0;
}

int lb_state_read(const struct lb_maps *maps, struct lb_state *st)
{
	int vips_fd = maps->fd[LB_MAP_VIPS], vips6_fd = maps->fd[LB_MAP_VIPS6], err;
	struct lb_vip6_key key6, prev_key6, *prev6 = NULL;
	struct lb_vip_key key, prev_key, *prev = NULL;
	__u32 zero = 0;

	st->live_count = st->stale_count = 0;
	if (bpf_map_lookup_elem(maps->fd[LB_MAP_CONFIG_GEN], &zero, &st->gen))
		return -errno;
	st->gen &= 1;
	while (bpf_map_get_next_key(vips_fd, prev, &key) == 0) {
		prev_key = key;
		prev = &prev_key;
		err = state_add(maps, st, vips_fd, &key, NULL);
		if (err)
			return err;
	}
	/* A pin directory of a build before IPv6 has no vips6: no IPv6 VIP. */
	while (vips6_fd >= 0 && bpf_map_get_next_key(vips6_fd, prev6, &key6) == 0) {
		prev_key6 = key6;
		prev6 = &prev_key6;
		err = state_add(maps, st, vips6_fd, NULL, &key6);
		if (err)
			return err;
	}
	qsort(st->live, st->live_count, sizeof(st->live[0]), vip_key_cmp);
	return 0;
}

void lb_maglev_alloc_init(struct lb_maglev_alloc *a, const struct lb_state *st, bool into_live)
{
	size_t i, live = 0;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < st->live_count; i++) {
		if (st->live[i].vip.maglev_table >= LB_MAGLEV_TABLES)
			continue;
		a->busy[st->live[i].vip.maglev_table] = true;
		live++;
	}
	a->named = into_live ? live : 0;
	a->capacity = LB_MAGLEV_TABLES;
}

void lb_maglev_alloc_capacity(struct lb_maglev_alloc *a, __u32 capacity)
{
	a->capacity = capacity < LB_MAGLEV_TABLES ? capacity : LB_MAGLEV_TABLES;
}

size_t lb_maglev_tables_live(const struct lb_state *st)
{
	struct lb_maglev_alloc a;
	size_t t, n = 0;

	lb_maglev_alloc_init(&a, st, false);
	for (t = 0; t < LB_MAGLEV_TABLES; t++)
		n += a.busy[t];
	return n;
}

int lb_maglev_alloc_take(struct lb_maglev_alloc *a)
{
	int t;

	if (a->named >= LB_MAGLEV_MAX_VIPS)
		return -EDQUOT;
	for (t = 0; t < (int)a->capacity; t++) {
		if (!a->busy[t]) {
			a->busy[t] = true;
			a->named++;
			return t;
		}
	}
	return -ENOSPC;
}

const struct lb_state_vip *lb_state_find(const struct lb_state *st, const struct lb_vip_key *key)
{
	size_t i;

	for (i = 0; i < st->live_count; i++)
		if (!st->live[i].ipv6 && !memcmp(&st->live[i].key, key, sizeof(*key)))
			return &st->live[i];
	return NULL;
}

const struct lb_state_vip *lb_state_find6(const struct lb_state *st,
					  const struct lb_vip6_key *key)
{
	size_t i;

	for (i = 0; i < st->live_count; i++)
		if (st->live[i].ipv6 && !memcmp(&st->live[i].key6, key, sizeof(*key)))
			return &st->live[i];
	return NULL;
}
