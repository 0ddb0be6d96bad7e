// SPDX-License-Identifier: GPL-2.0
/* The fuzzer's flow record; see fuzz_flows.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_flows.h"

#define INITIAL_CAPACITY 4096

/* FNV-1a over the key's 40 bytes and its family, then mixed. */
static uint64_t key_hash(const struct flow_any_key *key)
{
	const uint8_t *p = (const uint8_t *)&key->v6;
	uint64_t h = 0xcbf29ce484222325ULL ^ key->ipv6;
	size_t i;

	for (i = 0; i < sizeof(key->v6); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 29);
}

static bool key_eq(const struct flow_any_key *a, const struct flow_any_key *b)
{
	return a->ipv6 == b->ipv6 && !memcmp(&a->v6, &b->v6, sizeof(a->v6));
}

struct flow_any_key flow_key_v4(const struct lb_flow_key *key)
{
	struct flow_any_key k;

	memset(&k, 0, sizeof(k));
	k.v4 = *key;
	return k;
}

struct flow_any_key flow_key_v6(const struct lb_flow6_key *key)
{
	struct flow_any_key k;

	memset(&k, 0, sizeof(k));
	k.v6 = *key;
	k.ipv6 = true;
	return k;
}

struct flow_any_key flow_key_of(const struct lb_packet_ctx *ctx)
{
	return ctx->flags & LB_CTX_F_IPV6 ? flow_key_v6(&ctx->flow6) : flow_key_v4(&ctx->flow);
}

/* The slot holding @key, or the empty one where it would go. */
static struct flow_slot *slot_of(const struct flow_model *m, const struct flow_any_key *key)
{
	size_t i = key_hash(key) & (m->capacity - 1);

	while (m->slots[i].used && !key_eq(&m->slots[i].key, key))
		i = (i + 1) & (m->capacity - 1);
	return &m->slots[i];
}

static int resize(struct flow_model *m, size_t capacity)
{
	struct flow_model bigger = { calloc(capacity, sizeof(struct flow_slot)), capacity, 0 };
	size_t i;

	if (!bigger.slots)
		return -ENOMEM;
	for (i = 0; i < m->capacity; i++)
		if (m->slots[i].used)
			*slot_of(&bigger, &m->slots[i].key) = m->slots[i];
	bigger.count = m->count;
	free(m->slots);
	*m = bigger;
	return 0;
}

int flow_model_init(struct flow_model *m)
{
	memset(m, 0, sizeof(*m));
	return resize(m, INITIAL_CAPACITY);
}

void flow_model_free(struct flow_model *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

const struct flow_slot *flow_model_find(const struct flow_model *m,
					const struct flow_any_key *key)
{
	const struct flow_slot *slot = slot_of(m, key);

	return slot->used ? slot : NULL;
}

int flow_model_set(struct flow_model *m, const struct flow_any_key *key, uint32_t backend_id)
{
	struct flow_slot *slot;

	if (2 * (m->count + 1) > m->capacity && resize(m, 2 * m->capacity))
		return -ENOMEM;
	slot = slot_of(m, key);
	if (!slot->used) {
		slot->used = true;
		slot->key = *key;
		m->count++;
	}
	slot->backend_id = backend_id;
	return 0;
}

bool flow_model_overflowed(const struct flow_model *m, uint32_t table_size)
{
	return m->count >= (size_t)table_size / 4 * 3;
}
