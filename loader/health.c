// SPDX-License-Identifier: GPL-2.0
/* The backend_health map and the rise/fall state machine; see health.h. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

#include "health.h"
#include "lb_consts_common.h"

/* A field's offset in bits, as BTF wants it. */
#define FIELD_BITS(name) (offsetof(struct lb_backend_health, name) * 8)

/* The record's type as BTF, so that `bpftool map dump` names its fields (and
 * shows last_result as a string) as it does for the stages' maps; NULL when
 * BTF cannot be built or loaded: the map is then made without.
 */
static struct btf *health_btf(__u32 *key_id, __u32 *value_id)
{
	struct btf *btf = btf__new_empty();
	int u8, u32, u64, chr, text, rec, bad = 0;

	if (!btf)
		return NULL;
	bad |= (u8 = btf__add_int(btf, "__u8", 1, 0)) < 0;
	bad |= (u32 = btf__add_int(btf, "__u32", 4, 0)) < 0;
	bad |= (u64 = btf__add_int(btf, "__u64", 8, 0)) < 0;
	bad |= (chr = btf__add_int(btf, "char", 1, BTF_INT_CHAR)) < 0;
	bad |= (text = btf__add_array(btf, u32, chr, LB_HEALTH_RESULT_LEN)) < 0;
	bad |= (rec = btf__add_struct(btf, "lb_backend_health",
				      sizeof(struct lb_backend_health))) < 0;
	bad |= btf__add_field(btf, "addr", u32, FIELD_BITS(addr), 0);
	bad |= btf__add_field(btf, "vip_id", u32, FIELD_BITS(vip_id), 0);
	bad |= btf__add_field(btf, "health", u8, FIELD_BITS(health), 0);
	bad |= btf__add_field(btf, "last_ok", u8, FIELD_BITS(last_ok), 0);
	bad |= btf__add_field(btf, "marked_down", u8, FIELD_BITS(marked_down), 0);
	bad |= btf__add_field(btf, "pad", u8, FIELD_BITS(pad), 0);
	bad |= btf__add_field(btf, "streak", u32, FIELD_BITS(streak), 0);
	bad |= btf__add_field(btf, "since_s", u64, FIELD_BITS(since_s), 0);
	bad |= btf__add_field(btf, "last_s", u64, FIELD_BITS(last_s), 0);
	bad |= btf__add_field(btf, "last_result", text, FIELD_BITS(last_result), 0);
	if (bad || btf__load_into_kernel(btf)) {
		btf__free(btf);
		return NULL;
	}
	*key_id = (__u32)u32;
	*value_id = (__u32)rec;
	return btf;
}

int lb_health_map_create(struct lb_maps *maps)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct btf *btf;
	int fd, err;

	if (maps->fd[LB_MAP_BACKEND_HEALTH] >= 0)
		return 0;
	btf = health_btf(&opts.btf_key_type_id, &opts.btf_value_type_id);
	if (btf)
		opts.btf_fd = (__u32)btf__fd(btf);
	/* An array: every slot exists and reads as zero (unprobed) until written. */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, lb_map_names[LB_MAP_BACKEND_HEALTH],
			    sizeof(__u32), sizeof(struct lb_backend_health), LB_MAX_BACKENDS,
			    btf ? &opts : NULL);
	if (fd < 0 && btf)
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, lb_map_names[LB_MAP_BACKEND_HEALTH],
				    sizeof(__u32), sizeof(struct lb_backend_health),
				    LB_MAX_BACKENDS, NULL);
	err = fd < 0 ? -errno : 0;
	/* The map holds its own reference to the BTF. */
	btf__free(btf);
	if (err)
		return err;
	maps->fd[LB_MAP_BACKEND_HEALTH] = fd;
	return 0;
}

int lb_health_read(const struct lb_maps *maps, __u32 id, __be32 addr, __u32 vip_id,
		   struct lb_backend_health *rec)
{
	memset(rec, 0, sizeof(*rec));
	if (maps->fd[LB_MAP_BACKEND_HEALTH] < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(maps->fd[LB_MAP_BACKEND_HEALTH], &id, rec))
		return -errno;
	if (rec->addr != addr || rec->vip_id != vip_id) {
		memset(rec, 0, sizeof(*rec));
		rec->addr = addr;
		rec->vip_id = vip_id;
	}
	rec->last_result[LB_HEALTH_RESULT_LEN - 1] = '\0';
	return 0;
}

int lb_health_write(const struct lb_maps *maps, __u32 id, const struct lb_backend_health *rec)
{
	if (maps->fd[LB_MAP_BACKEND_HEALTH] < 0)
		return -ENOENT;
	return bpf_map_update_elem(maps->fd[LB_MAP_BACKEND_HEALTH], &id, rec, BPF_ANY) ? -errno
											: 0;
}

bool lb_health_down_by_probe(const struct lb_backend_health *rec, __u8 state)
{
	return state == LB_BACKEND_DOWN && rec->marked_down;
}

const char *lb_health_name(__u8 health)
{
	switch (health) {
	case LB_HEALTH_IS_UP:
		return "up";
	case LB_HEALTH_IS_DOWN:
		return "down";
	default:
		return "unprobed";
	}
}

bool lb_health_step(struct lb_backend_health *rec, bool ok, __u32 rise, __u32 fall, __u64 now_s)
{
	__u8 before;

	if (rec->health == LB_HEALTH_UNPROBED) {
		rec->health = LB_HEALTH_IS_UP;
		rec->since_s = now_s;
		rec->streak = 0;
	}
	before = rec->health;
	/* A streak counts results in a row of one kind. */
	if (rec->streak && !rec->last_ok == !ok)
		rec->streak++;
	else
		rec->streak = 1;
	rec->last_ok = ok;
	rec->last_s = now_s;
	if (before == LB_HEALTH_IS_UP && !ok && rec->streak >= fall)
		rec->health = LB_HEALTH_IS_DOWN;
	else if (before == LB_HEALTH_IS_DOWN && ok && rec->streak >= rise)
		rec->health = LB_HEALTH_IS_UP;
	if (rec->health == before)
		return false;
	rec->since_s = now_s;
	return true;
}
