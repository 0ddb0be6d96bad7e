// SPDX-License-Identifier: GPL-2.0
/* config.yaml's schema: the node tree yaml_reader.c loads (within the YAML
 * limits) -> struct lb_config, key by key, every value checked where it is
 * read, with a "file:line:col: field: what" message for the first problem.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "yaml_reader.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Longest field path, e.g. "vips[255].backends[1023].weight", with room to spare. */
#define FIELD_PATH_LEN 128
/* Keys of the largest mapping (every key table is checked against it). */
#define MAX_KEYS 13
/* Unknown keys longer than this get no "did you mean" suggestion. */
#define MAX_SUGGEST_LEN 32

struct parser {
	const char *name; /* the file, as given, for messages */
	yaml_document_t *doc;
	struct lb_config *cfg;
	char *err;
	size_t err_len;
	char path[FIELD_PATH_LEN]; /* the field being read, e.g. "vips[0].port" */
	size_t total_backends;
	/* Top-level keys seen so far: the seed form may not be mixed with vips. */
	yaml_node_t *vip_key;
	yaml_node_t *backends_key;
	yaml_node_t *vips_key;
	yaml_node_t *encap_port_key; /* encap.port, which only gue takes */
	yaml_node_t *table_size_key; /* this VIP's policy.table_size, which only maglev takes */
	size_t maglev_vips;          /* VIPs with policy maglev so far */
	/* This VIP's health_check keys that only some types take, and what
	 * needs the whole block to check.
	 */
	struct {
		yaml_node_t *block, *port, *interval, *timeout, *send, *expect, *path, *status,
			*via;
	} health;
	/* The first VIP's `forwarding: ipip|gue`, checked against encap once
	 * the whole file is read (nat's source: check_nat_sources()).
	 */
	yaml_node_t *encap_forwarding;
	char encap_forwarding_path[FIELD_PATH_LEN];
	uint8_t encap_forwarding_type; /* enum lb_encap_type of encap_forwarding */
	/* Each VIP's icmp_echo value, checked against the other VIPs of its
	 * address once all are read.
	 */
	yaml_node_t *icmp_echo[LB_MAX_VIPS];
};

/* One key of a mapping: its reader gets the key and value nodes and the object filled. */
struct key_spec {
	const char *name;
	int (*read)(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj);
	bool required;
};

struct name_value {
	const char *name;
	uint8_t value;
};

static const struct name_value protocols[] = {
	{ "udp", IPPROTO_UDP },
	{ "tcp", IPPROTO_TCP },
};

static const struct name_value states[] = {
	{ "up", LB_BACKEND_UP },
	{ "drain", LB_BACKEND_DRAIN },
	{ "down", LB_BACKEND_DOWN },
};

static const struct name_value encaps[] = {
	{ "ipip", LB_ENCAP_IPIP },
	{ "gue", LB_ENCAP_GUE },
};

/* `forwarding:` of a VIP: an encapsulation (enum lb_encap_type) or nat. */
#define FORWARDING_NAT 0xff
static const struct name_value forwardings[] = {
	{ "ipip", LB_ENCAP_IPIP },
	{ "gue", LB_ENCAP_GUE },
	{ "nat", FORWARDING_NAT },
};

/* LB_POLICIES' names, as the stage library (loader/stages.c) names each
 * policy's stage.
 */
#define POLICY_NAME_VALUE(id, name, slot, slot_name, object, program) { name, LB_POLICY_##id },
static const struct name_value policies[] = { LB_POLICIES(POLICY_NAME_VALUE) };
#undef POLICY_NAME_VALUE

static const struct name_value booleans[] = {
	{ "true", 1 },
	{ "false", 0 },
};

static const struct name_value health_types[] = {
	{ "tcp", LB_HEALTH_TCP },
	{ "udp", LB_HEALTH_UDP },
	{ "http", LB_HEALTH_HTTP },
};

static const struct name_value health_vias[] = {
	{ "tunnel", LB_HEALTH_VIA_TUNNEL },
	{ "direct", LB_HEALTH_VIA_DIRECT },
};

static const char *name_of(const struct name_value *names, size_t count, uint8_t value)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (names[i].value == value)
			return names[i].name;
	return "unknown";
}

const char *lb_proto_name(uint8_t proto)
{
	return name_of(protocols, ARRAY_SIZE(protocols), proto);
}

const char *lb_state_name(uint8_t state)
{
	return name_of(states, ARRAY_SIZE(states), state);
}

const char *lb_encap_name(uint8_t encap)
{
	return name_of(encaps, ARRAY_SIZE(encaps), encap);
}

const char *lb_health_type_name(uint8_t type)
{
	return type == LB_HEALTH_NONE ? "none" : name_of(health_types, ARRAY_SIZE(health_types), type);
}

const char *lb_health_via_name(uint8_t via)
{
	return name_of(health_vias, ARRAY_SIZE(health_vias), via);
}

const char *lb_policy_name(uint8_t policy)
{
	return name_of(policies, ARRAY_SIZE(policies), policy);
}

int lb_policy_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(policies); i++)
		if (!strcmp(policies[i].name, name))
			return policies[i].value;
	return -1;
}

/* --- messages --------------------------------------------------------------------- */

static const char *render_scalar(char *out, const yaml_node_t *node)
{
	return lb_yaml_render(out, node->data.scalar.value, node->data.scalar.length, true);
}

/* What a node is, for "found ...": a list, a mapping, or its quoted text. */
static const char *describe(char *out, const yaml_node_t *node)
{
	if (node->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (node->type == YAML_MAPPING_NODE)
		return "a mapping";
	return render_scalar(out, node);
}

static int fail_at(struct parser *p, const yaml_mark_t *mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes "file:line:col: field: what" (libyaml counts from 0, people from 1); returns -1. */
static int fail_at(struct parser *p, const yaml_mark_t *mark, const char *fmt, ...)
{
	char what[LB_CONFIG_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	lb_yaml_message(p->err, p->err_len, "%s:%zu:%zu: %s: %s", p->name, mark->line + 1,
			mark->column + 1, p->path[0] ? p->path : "top level", what);
	return -1;
}

#define fail(p, node, ...) fail_at(p, &(node)->start_mark, __VA_ARGS__)

static int out_of_memory(struct parser *p)
{
	lb_yaml_message(p->err, p->err_len, "%s: out of memory", p->name);
	return -1;
}

/* Field paths grow as the reader descends and are cut back on the way up. */
static size_t path_push_key(struct parser *p, const char *key)
{
	size_t len = strlen(p->path);

	snprintf(p->path + len, sizeof(p->path) - len, "%s%s", len ? "." : "", key);
	return len;
}

static size_t path_push_index(struct parser *p, size_t index)
{
	size_t len = strlen(p->path);

	snprintf(p->path + len, sizeof(p->path) - len, "[%zu]", index);
	return len;
}

static void path_pop(struct parser *p, size_t len)
{
	p->path[len] = '\0';
}

/* --- scalars ---------------------------------------------------------------------- */

static yaml_node_t *node_at(struct parser *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

/* "key:" with nothing after it, or an explicit YAML null. */
static bool node_is_null(const yaml_node_t *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!strcmp((const char *)node->data.scalar.value, nulls[i]))
			return true;
	return false;
}

/* The node is not the @expected kind of thing: say what it is instead. */
static int wrong_type(struct parser *p, yaml_node_t *node, const char *expected)
{
	char found[LB_YAML_QUOTED_LEN];

	if (node_is_null(node))
		return fail(p, node, "no value given, expected %s", expected);
	return fail(p, node, "expected %s, found %s", expected, describe(found, node));
}

/* The text of a scalar that holds something, or NULL after an error. */
static const char *scalar_text(struct parser *p, yaml_node_t *node, const char *expected)
{
	char found[LB_YAML_QUOTED_LEN];
	const char *text;

	if (node->type != YAML_SCALAR_NODE || node_is_null(node)) {
		wrong_type(p, node, expected);
		return NULL;
	}
	text = (const char *)node->data.scalar.value;
	/* A double-quoted "\0" would silently cut the text short. */
	if (strlen(text) != node->data.scalar.length) {
		fail(p, node, "%s holds a NUL character, expected %s", render_scalar(found, node),
		     expected);
		return NULL;
	}
	return text;
}

/* Decimal digits only: YAML 1.1 would read "0x10", "010", "1_000" and "1e3" in ways
 * people do not expect, and "-1" or "30s" are mistakes worth a message.
 */
static int read_uint(struct parser *p, yaml_node_t *node, uint32_t min, uint32_t max,
		     uint32_t *out)
{
	char expected[64], shown[LB_YAML_QUOTED_LEN];
	unsigned long long value;
	const char *text;
	size_t len;

	snprintf(expected, sizeof(expected), "an integer %u..%u", min, max);
	text = scalar_text(p, node, expected);
	if (!text)
		return -1;
	len = strlen(text);
	if (!len || strspn(text, "0123456789") != len)
		return fail(p, node, "%s is not a decimal integer, expected %u..%u",
			    render_scalar(shown, node), min, max);
	if (len > 1 && text[0] == '0')
		return fail(p, node,
			    "%s has a leading zero (YAML may read it as octal), expected %u..%u",
			    render_scalar(shown, node), min, max);
	/* Ten digits cannot overflow strtoull; more are out of range anyway. */
	value = len > 10 ? ~0ULL : strtoull(text, NULL, 10);
	if (value < min || value > max)
		return fail(p, node, "%s is out of range, expected %u..%u",
			    lb_yaml_render(shown, text, len, false), min, max);
	*out = value;
	return 0;
}

static int read_u16(struct parser *p, yaml_node_t *node, uint16_t *out)
{
	uint32_t value;

	if (read_uint(p, node, 0, UINT16_MAX, &value))
		return -1;
	*out = value;
	return 0;
}

/* Dotted quad, four decimal parts, no leading zeros (glibc's inet_pton rules). */
static bool ipv4_from_text(const char *text, uint32_t *addr)
{
	struct in_addr in;

	if (inet_pton(AF_INET, text, &in) != 1)
		return false;
	*addr = in.s_addr;
	return true;
}

/* Why @addr (network order) cannot be a VIP, a backend or a tunnel source, or NULL. */
static const char *not_unicast(uint32_t addr)
{
	uint32_t host = ntohl(addr);

	if (host == 0)
		return "the unspecified address";
	if (host == 0xffffffff)
		return "the broadcast address";
	if ((host >> 28) == 0xe)
		return "a multicast address (224.0.0.0/4)";
	return NULL;
}

static int check_unicast(struct parser *p, yaml_node_t *node, uint32_t addr)
{
	char shown[LB_YAML_QUOTED_LEN];
	const char *why = not_unicast(addr);

	if (why)
		return fail(p, node, "%s is %s, expected a unicast address",
			    render_scalar(shown, node), why);
	return 0;
}

static int read_ipv4(struct parser *p, yaml_node_t *node, uint32_t *addr)
{
	char shown[LB_YAML_QUOTED_LEN];
	const char *text = scalar_text(p, node, "an IPv4 address");

	if (!text)
		return -1;
	if (!ipv4_from_text(text, addr))
		return fail(p, node, "%s is not an IPv4 address", render_scalar(shown, node));
	return check_unicast(p, node, *addr);
}

/* Why IPv6 @addr cannot be a VIP, a backend or a tunnel source, or NULL. A
 * VIP and a backend are reached by routes and ECMP, so an address with no
 * global meaning (link-local needs an interface to mean anything) or one that
 * stands for an IPv4 address is refused with the reason.
 */
static const char *not_unicast6(const uint8_t *addr)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[16];

	if (!memcmp(addr, zero, 16))
		return "the unspecified address";
	if (!memcmp(addr, zero, 15) && addr[15] == 1)
		return "the loopback address";
	if (addr[0] == 0xff)
		return "a multicast address (ff00::/8)";
	if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)
		return "a link-local address (fe80::/10), which needs an interface and no router "
		       "forwards";
	if (!memcmp(addr, mapped, sizeof(mapped)))
		return "an IPv4-mapped address (::ffff:0:0/96): write the IPv4 address itself";
	if (!memcmp(addr, zero, 12))
		return "an IPv4-compatible address (::/96, deprecated by RFC 4291)";
	return NULL;
}

static int read_ipv6_text(struct parser *p, yaml_node_t *node, const char *text, uint8_t *addr6)
{
	char shown[LB_YAML_QUOTED_LEN];
	const char *why;

	if (inet_pton(AF_INET6, text, addr6) != 1)
		return 1;
	why = not_unicast6(addr6);
	if (why)
		return fail(p, node, "%s is %s, expected a global unicast address",
			    render_scalar(shown, node), why);
	return 0;
}

/* A VIP's `address` or a backend's `ip`: IPv4 or IPv6. Sets *ipv6 and fills
 * the family's field, leaving the other zero.
 */
static int read_ip(struct parser *p, yaml_node_t *node, uint32_t *addr, uint8_t *addr6,
		   bool *ipv6)
{
	char shown[LB_YAML_QUOTED_LEN];
	const char *text = scalar_text(p, node, "an IPv4 or IPv6 address");
	int ret;

	if (!text)
		return -1;
	*addr = 0;
	memset(addr6, 0, 16);
	*ipv6 = strchr(text, ':') != NULL;
	if (!*ipv6) {
		if (!ipv4_from_text(text, addr))
			return fail(p, node, "%s is not an IPv4 or IPv6 address",
				    render_scalar(shown, node));
		return check_unicast(p, node, *addr);
	}
	ret = read_ipv6_text(p, node, text, addr6);
	if (ret > 0)
		return fail(p, node, "%s is not an IPv4 or IPv6 address",
			    render_scalar(shown, node));
	return ret;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly six two-digit hex groups separated by colons. */
static bool mac_from_text(const char *text, uint8_t mac[6])
{
	int i, high, low;

	if (strlen(text) != 17)
		return false;
	for (i = 0; i < 6; i++, text += 3) {
		high = hex_digit(text[0]);
		low = hex_digit(text[1]);
		if (high < 0 || low < 0 || (i < 5 && text[2] != ':'))
			return false;
		mac[i] = high << 4 | low;
	}
	return true;
}

static int read_mac(struct parser *p, yaml_node_t *node, uint8_t mac[6])
{
	static const uint8_t zero[6];
	char shown[LB_YAML_QUOTED_LEN];
	const char *text = scalar_text(p, node, "a MAC address like 02:00:00:00:01:01");

	if (!text)
		return -1;
	if (!mac_from_text(text, mac))
		return fail(p, node, "%s is not a MAC address, expected six hex bytes "
			    "like 02:00:00:00:01:01", render_scalar(shown, node));
	/* The group bit is also set in the broadcast address. */
	if (mac[0] & 1)
		return fail(p, node, "%s is a multicast MAC address, expected a unicast next hop",
			    render_scalar(shown, node));
	if (!memcmp(mac, zero, sizeof(zero)))
		return fail(p, node, "%s is the zero MAC address, expected a unicast next hop",
			    render_scalar(shown, node));
	return 0;
}

/* "a, b or c": the words of @names, for messages. */
static const char *choices_text(const struct name_value *names, size_t count, char *buf,
				size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < count && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 !i ? "" : i + 1 < count ? ", " : " or ", names[i].name);
	return buf;
}

/* One of a few words; @noun is "a protocol", @expected e.g. "udp or tcp", or
 * NULL for every word of @names.
 */
static int read_choice(struct parser *p, yaml_node_t *node, const struct name_value *names,
		       size_t count, const char *noun, const char *expected, uint8_t *out)
{
	char shown[LB_YAML_QUOTED_LEN], all[256];
	const char *text;
	size_t i;

	if (!expected)
		expected = choices_text(names, count, all, sizeof(all));
	text = scalar_text(p, node, expected);
	if (!text)
		return -1;
	for (i = 0; i < count; i++) {
		if (!strcmp(text, names[i].name)) {
			*out = names[i].value;
			return 0;
		}
	}
	return fail(p, node, "%s is not %s, expected %s", render_scalar(shown, node), noun,
		    expected);
}

/* --- mappings and lists ----------------------------------------------------------- */

static int lower(int c)
{
	return tolower((unsigned char)c);
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* Edits (insert, delete, change, swap two neighbours) from @a to @b, ignoring case. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t d[MAX_SUGGEST_LEN + 1][MAX_SUGGEST_LEN + 1];
	size_t la = strlen(a), lb = strlen(b), i, j, cost;

	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = lower(a[i - 1]) != lower(b[j - 1]);
			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[la][lb];
}

/* The known key @unknown most likely meant: one edit away, two for longer keys. */
static const char *closest_key(const char *unknown, const struct key_spec *keys, size_t count)
{
	size_t i, distance, best_distance = ~(size_t)0, allowed;
	const char *best = NULL;

	if (strlen(unknown) > MAX_SUGGEST_LEN)
		return NULL;
	for (i = 0; i < count; i++) {
		distance = edit_distance(unknown, keys[i].name);
		allowed = strlen(keys[i].name) <= 4 ? 1 : 2;
		if (distance <= allowed && distance < best_distance) {
			best = keys[i].name;
			best_distance = distance;
		}
	}
	return best;
}

static int unknown_key(struct parser *p, yaml_node_t *key, const struct key_spec *keys,
		       size_t count)
{
	const char *guess = closest_key((const char *)key->data.scalar.value, keys, count);
	char known[MAX_KEYS * 24] = "";
	size_t i, len = 0;

	if (guess)
		return fail(p, key, "unknown key (did you mean \"%s\"?)", guess);
	for (i = 0; i < count; i++)
		len += snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "",
				keys[i].name);
	return fail(p, key, "unknown key, expected one of: %s", known);
}

/* Reads a mapping whose keys are @keys, each at most once, in the order written; then
 * checks that the required ones were there. @expected names the mapping for messages.
 */
static int read_mapping(struct parser *p, yaml_node_t *node, const char *expected,
			const struct key_spec *keys, size_t count, void *obj)
{
	yaml_node_t *seen[MAX_KEYS] = { NULL };
	char shown[LB_YAML_QUOTED_LEN];
	yaml_node_pair_t *pair;
	yaml_node_t *key;
	size_t i, len;

	if (node->type != YAML_MAPPING_NODE)
		return wrong_type(p, node, expected);
	for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
		key = node_at(p, pair->key);
		if (key->type != YAML_SCALAR_NODE)
			return fail(p, key, "expected a key name, found %s", describe(shown, key));
		for (i = 0; i < count; i++)
			if (!strcmp((const char *)key->data.scalar.value, keys[i].name))
				break;
		len = path_push_key(p, lb_yaml_render(shown, key->data.scalar.value,
						      key->data.scalar.length, false));
		if (i == count)
			return unknown_key(p, key, keys, count);
		if (seen[i])
			return fail(p, key, "key given twice (first on line %zu)",
				    seen[i]->start_mark.line + 1);
		seen[i] = key;
		if (keys[i].read(p, key, node_at(p, pair->value), obj))
			return -1;
		path_pop(p, len);
	}
	for (i = 0; i < count; i++)
		if (keys[i].required && !seen[i])
			return fail(p, node, "missing key \"%s\"", keys[i].name);
	return 0;
}

/* The items of a list; an empty list is left to the caller, which knows what it lacks. */
static int read_list(struct parser *p, yaml_node_t *node, const char *expected,
		     yaml_node_item_t **items, size_t *count)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return wrong_type(p, node, expected);
	*items = node->data.sequence.items.start;
	*count = node->data.sequence.items.top - node->data.sequence.items.start;
	return 0;
}

/* --- backends --------------------------------------------------------------------- */

static int backend_ip(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_backend_config *backend = obj;

	(void)key;
	return read_ip(p, value, &backend->addr, backend->addr6, &backend->ipv6);
}

static int backend_weight(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_backend_config *backend = obj;

	(void)key;
	/* 0 is allowed and means drain (see read_backend_list). */
	return read_uint(p, value, 0, LB_MAX_WEIGHT, &backend->weight);
}

static int backend_state(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_backend_config *backend = obj;

	(void)key;
	return read_choice(p, value, states, ARRAY_SIZE(states), "a backend state",
			   "up, drain or down", &backend->state);
}

static int backend_mac(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_backend_config *backend = obj;

	(void)key;
	backend->has_mac = true;
	return read_mac(p, value, backend->mac);
}

static const struct key_spec backend_keys[] = {
	{ "ip", backend_ip, true },
	{ "weight", backend_weight, false },
	{ "state", backend_state, false },
	{ "mac", backend_mac, false },
};
_Static_assert(ARRAY_SIZE(backend_keys) <= MAX_KEYS, "MAX_KEYS too small");

/* Two entries for one backend would double its share and split its flows' counters. */
static int check_backend_unique(struct parser *p, yaml_node_t *node,
				const struct lb_vip_config *vip, size_t index)
{
	const struct lb_backend_config *backend = &vip->backends[index];
	char address[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < index; i++) {
		if (vip->backends[i].ipv6 != backend->ipv6 ||
		    vip->backends[i].addr != backend->addr ||
		    memcmp(vip->backends[i].addr6, backend->addr6, 16))
			continue;
		lb_backend_config_addr(backend, address, sizeof(address));
		return fail(p, node, "backend %s is listed twice (first at backends[%zu], line %d)",
			    address, i, vip->backends[i].line);
	}
	return 0;
}

static int read_backend_list(struct parser *p, yaml_node_t *node, struct lb_vip_config *vip)
{
	struct lb_backend_config *backend;
	yaml_node_item_t *items = NULL;
	yaml_node_t *item;
	size_t count = 0, i, len;

	if (read_list(p, node, "a list of backends", &items, &count))
		return -1;
	if (!count)
		return fail(p, node, "the list is empty, a VIP needs at least one backend");
	if (count > LB_MAX_BACKENDS_PER_VIP)
		return fail(p, node, "has %zu backends, the limit is %u", count,
			    LB_MAX_BACKENDS_PER_VIP);
	if (p->total_backends + count > LB_MAX_BACKENDS)
		return fail(p, node,
			    "makes %zu backends in all, the limit is %u "
			    "(a backend under two VIPs counts twice)",
			    p->total_backends + count, LB_MAX_BACKENDS);
	p->total_backends += count;

	vip->backends = calloc(count, sizeof(*vip->backends));
	if (!vip->backends)
		return out_of_memory(p);
	for (i = 0; i < count; i++) {
		item = node_at(p, items[i]);
		backend = &vip->backends[i];
		vip->backend_count = i + 1;
		backend->weight = 1;
		backend->state = LB_BACKEND_UP;
		backend->line = item->start_mark.line + 1;
		len = path_push_index(p, i);
		if (read_mapping(p, item, "a backend (a mapping with \"ip\")", backend_keys,
				 ARRAY_SIZE(backend_keys), backend) ||
		    check_backend_unique(p, item, vip, i))
			return -1;
		/* Weight 0 takes no new flows and keeps its established ones:
		 * that is drain, so every policy treats it alike.
		 */
		if (!backend->weight && backend->state == LB_BACKEND_UP)
			backend->state = LB_BACKEND_DRAIN;
		path_pop(p, len);
	}
	return 0;
}

/* --- VIPs ------------------------------------------------------------------------- */

static int vip_address(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip = obj;

	(void)key;
	return read_ip(p, value, &vip->addr, vip->addr6, &vip->ipv6);
}

static int vip_port(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip = obj;

	(void)key;
	return read_u16(p, value, &vip->port);
}

static int vip_protocol(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip = obj;

	(void)key;
	return read_choice(p, value, protocols, ARRAY_SIZE(protocols), "a protocol",
			   "udp or tcp", &vip->proto);
}

static int vip_backends(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	(void)key;
	return read_backend_list(p, value, obj);
}

static int policy_type(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip = obj;

	(void)key;
	return read_choice(p, value, policies, ARRAY_SIZE(policies), "a scheduling policy", NULL,
			   &vip->policy);
}

/* Trial division: table sizes are at most LB_MAGLEV_MAX_SIZE. */
static bool is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return false;
	for (d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

static int policy_table_size(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip = obj;

	p->table_size_key = key;
	if (read_uint(p, value, 2, LB_MAGLEV_MAX_SIZE, &vip->maglev_size))
		return -1;
	/* A prime size makes every backend's step visit every position. */
	if (!is_prime(vip->maglev_size))
		return fail(p, value, "%u is not a prime, expected a prime 2..%u (e.g. 65537, 251)",
			    vip->maglev_size, LB_MAGLEV_MAX_SIZE);
	return 0;
}

static const struct key_spec policy_keys[] = {
	{ "type", policy_type, true },
	{ "table_size", policy_table_size, false },
};
_Static_assert(ARRAY_SIZE(policy_keys) <= MAX_KEYS, "MAX_KEYS too small");

/* `policy: hash`, or `policy: {type: maglev, table_size: 251}`. */
static int vip_policy(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip = obj;

	p->table_size_key = NULL;
	if (value->type == YAML_SCALAR_NODE)
		return policy_type(p, key, value, obj);
	if (read_mapping(p, value, "a policy name or a mapping with \"type\"", policy_keys,
			 ARRAY_SIZE(policy_keys), obj))
		return -1;
	if (p->table_size_key && vip->policy != LB_POLICY_MAGLEV) {
		path_push_key(p, "table_size");
		return fail(p, p->table_size_key, "only policy type maglev has a table_size");
	}
	return 0;
}

/* `forwarding: ipip | gue | nat`. An encapsulation must be the interface's
 * `encap` (one encap slot serves every encapsulating VIP); that and nat's
 * nat_source or nat_source6 are checked after the whole file
 * (check_forwarding(), check_nat_sources()).
 */
static int vip_forwarding(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip = obj;
	uint8_t choice = 0;

	(void)key;
	if (read_choice(p, value, forwardings, ARRAY_SIZE(forwardings), "a forwarding mode",
			"ipip, gue or nat", &choice))
		return -1;
	if (choice == FORWARDING_NAT) {
		vip->forwarding = LB_FORWARD_NAT;
		return 0;
	}
	vip->forwarding = LB_FORWARD_ENCAP;
	if (!p->encap_forwarding) {
		p->encap_forwarding = value;
		p->encap_forwarding_type = choice;
		snprintf(p->encap_forwarding_path, sizeof(p->encap_forwarding_path), "%s",
			 p->path);
		return 0;
	}
	if (choice != p->encap_forwarding_type)
		return fail(p, value, "%s differs from forwarding %s at line %zu: all "
			    "encapsulating VIPs share the interface's encap", lb_encap_name(choice),
			    lb_encap_name(p->encap_forwarding_type),
			    p->encap_forwarding->start_mark.line + 1);
	return 0;
}


/* --- health checks ---------------------------------------------------------------- */

static int health_type(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;

	(void)key;
	return read_choice(p, value, health_types, ARRAY_SIZE(health_types), "a health check type",
			   NULL, &hc->type);
}

static int health_port(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;
	uint32_t port;

	p->health.port = key;
	if (read_uint(p, value, 1, UINT16_MAX, &port))
		return -1;
	hc->port = (uint16_t)port;
	return 0;
}

static int health_via(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;

	p->health.via = key;
	return read_choice(p, value, health_vias, ARRAY_SIZE(health_vias),
			   "a way to reach the backend", NULL, &hc->via);
}

static int health_interval(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;

	(void)key;
	p->health.interval = value;
	return read_uint(p, value, LB_HEALTH_MS_MIN, LB_HEALTH_MS_MAX, &hc->interval_ms);
}

static int health_timeout(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;

	(void)key;
	p->health.timeout = value;
	return read_uint(p, value, LB_HEALTH_MS_MIN, LB_HEALTH_MS_MAX, &hc->timeout_ms);
}

static int health_rise(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;

	(void)key;
	return read_uint(p, value, 1, LB_HEALTH_COUNT_MAX, &hc->rise);
}

static int health_fall(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;

	(void)key;
	return read_uint(p, value, 1, LB_HEALTH_COUNT_MAX, &hc->fall);
}

/* A UDP payload: any bytes but NUL (YAML escapes such as "\n" and "\x01" work). */
static int read_payload(struct parser *p, yaml_node_t *node, uint8_t *out, size_t *len)
{
	char expected[64];
	const char *text;

	snprintf(expected, sizeof(expected), "a string of 1..%u bytes", LB_HEALTH_PAYLOAD_MAX);
	text = scalar_text(p, node, expected);
	if (!text)
		return -1;
	if (!*text || strlen(text) > LB_HEALTH_PAYLOAD_MAX)
		return fail(p, node, "has %zu bytes, expected 1..%u", strlen(text),
			    LB_HEALTH_PAYLOAD_MAX);
	*len = strlen(text);
	memcpy(out, text, *len);
	return 0;
}

static int health_send(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;

	p->health.send = key;
	return read_payload(p, value, hc->send, &hc->send_len);
}

static int health_expect(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;

	p->health.expect = key;
	return read_payload(p, value, hc->expect, &hc->expect_len);
}

/* An HTTP path goes into the request line as written: no space, no control
 * character (a CR or LF would end the line), nothing past ASCII.
 */
static int health_path(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;
	char shown[LB_YAML_QUOTED_LEN];
	const char *text, *c;

	p->health.path = key;
	text = scalar_text(p, value, "a path starting with /");
	if (!text)
		return -1;
	if (text[0] != '/')
		return fail(p, value, "%s does not start with /, expected a path such as /healthz",
			    render_scalar(shown, value));
	if (strlen(text) > LB_HEALTH_PATH_MAX)
		return fail(p, value, "has %zu bytes, the limit is %u", strlen(text),
			    LB_HEALTH_PATH_MAX);
	for (c = text; *c; c++)
		if (*c <= ' ' || *c > '~')
			return fail(p, value, "%s holds a space, control or non-ASCII character, "
				    "expected a path in URL form (%%20 for a space)",
				    render_scalar(shown, value));
	snprintf(hc->path, sizeof(hc->path), "%s", text);
	return 0;
}

static int health_status(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_health_config *hc = obj;
	uint32_t status;

	p->health.status = key;
	if (read_uint(p, value, 100, 599, &status))
		return -1;
	hc->status = (uint16_t)status;
	return 0;
}

static const struct key_spec health_keys[] = {
	{ "type", health_type, true },
	{ "port", health_port, false },
	{ "via", health_via, false },
	{ "interval_ms", health_interval, false },
	{ "timeout_ms", health_timeout, false },
	{ "rise", health_rise, false },
	{ "fall", health_fall, false },
	{ "send", health_send, false },
	{ "expect", health_expect, false },
	{ "path", health_path, false },
	{ "status", health_status, false },
};
_Static_assert(ARRAY_SIZE(health_keys) <= MAX_KEYS, "MAX_KEYS too small");

/* A key the block's type does not take, or a key it needs and lacks. */
static int health_key_fits(struct parser *p, yaml_node_t *key, const char *name, bool wanted,
			   const char *which)
{
	if (!key || wanted)
		return 0;
	path_push_key(p, name);
	return fail(p, key, "only health check type %s has %s", which, name);
}

static int vip_health(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip = obj;
	struct lb_health_config *hc = &vip->health;
	size_t len;

	(void)key;
	memset(&p->health, 0, sizeof(p->health));
	p->health.block = value;
	hc->interval_ms = LB_HEALTH_DEFAULT_INTERVAL_MS;
	hc->timeout_ms = LB_HEALTH_DEFAULT_TIMEOUT_MS;
	hc->rise = LB_HEALTH_DEFAULT_RISE;
	hc->fall = LB_HEALTH_DEFAULT_FALL;
	hc->status = 200;
	snprintf(hc->path, sizeof(hc->path), "/");
	hc->line = value->start_mark.line + 1;
	if (read_mapping(p, value, "a mapping with \"type\" (tcp, udp or http)", health_keys,
			 ARRAY_SIZE(health_keys), hc))
		return -1;
	if (health_key_fits(p, p->health.send, "send", hc->type == LB_HEALTH_UDP, "udp") ||
	    health_key_fits(p, p->health.expect, "expect", hc->type == LB_HEALTH_UDP, "udp") ||
	    health_key_fits(p, p->health.path, "path", hc->type == LB_HEALTH_HTTP, "http") ||
	    health_key_fits(p, p->health.status, "status", hc->type == LB_HEALTH_HTTP, "http"))
		return -1;
	if (hc->type == LB_HEALTH_UDP && (!p->health.send || !p->health.expect))
		return fail(p, value, "missing key \"%s\": a udp check sends a request and "
			    "expects a reply", p->health.send ? "expect" : "send");
	/* A probe still running when the next is due would overlap it. */
	/* Only an interval given below the default timeout gets here without a
	 * timeout_ms key (both defaults fit): the interval is what to mend.
	 */
	if (hc->timeout_ms > hc->interval_ms && !p->health.timeout) {
		len = path_push_key(p, "interval_ms");
		fail(p, p->health.interval ? p->health.interval : value, "%u is shorter than "
		     "timeout_ms's default %u, expected at least that, or a timeout_ms of at most "
		     "%u", hc->interval_ms, hc->timeout_ms, hc->interval_ms);
		path_pop(p, len);
		return -1;
	}
	if (hc->timeout_ms > hc->interval_ms) {
		len = path_push_key(p, "timeout_ms");
		fail(p, p->health.timeout, "%u is longer than interval_ms %u, expected at most that",
		     hc->timeout_ms, hc->interval_ms);
		path_pop(p, len);
		return -1;
	}
	return 0;
}

/* After the whole VIP: the probes go where its packets go, through the
 * tunnel unless the VIP is NAT's, and their port defaults to the VIP's.
 */
static int check_vip_health(struct parser *p, struct lb_vip_config *vip)
{
	struct lb_health_config *hc = &vip->health;
	bool nat = vip->forwarding == LB_FORWARD_NAT;

	if (hc->type == LB_HEALTH_NONE)
		return 0;
	/* Every family is probed: a direct probe goes to the backend's own
	 * address (IPv4 or IPv6, whatever the VIP's), a probe through the
	 * tunnel to the VIP, wrapped in the backend's family and the encap
	 * slot's format as client traffic is (IPv4-in-IPv6 and GUE over IPv6
	 * too; probe_encap.bpf.c).
	 */
	if (hc->via == LB_HEALTH_VIA_TUNNEL && nat) {
		path_push_key(p, "health_check");
		path_push_key(p, "via");
		return fail(p, p->health.via, "tunnel: a forwarding: nat VIP sends its backends "
			    "plain packets to their own address, expected direct");
	}
	if (hc->via == LB_HEALTH_VIA_DEFAULT)
		hc->via = nat ? LB_HEALTH_VIA_DIRECT : LB_HEALTH_VIA_TUNNEL;
	if (hc->port)
		return 0;
	if (!vip->port) {
		path_push_key(p, "health_check");
		return fail(p, p->health.block, "the VIP serves every port: give the port to "
			    "probe (health_check.port)");
	}
	hc->port = vip->port;
	return 0;
}

/* `icmp_echo: true | false`: whether the VIP's address answers echo requests. */
static int vip_icmp_echo(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip = obj;
	uint8_t on;

	(void)key;
	if (read_choice(p, value, booleans, ARRAY_SIZE(booleans), "a boolean", "true or false",
			&on))
		return -1;
	vip->icmp_echo = on;
	vip->icmp_echo_line = value->start_mark.line + 1;
	p->icmp_echo[vip - p->cfg->vips] = value;
	return 0;
}

/* The value of key @name in @mapping, or NULL: for messages about a node read earlier. */
static yaml_node_t *mapping_value(struct parser *p, yaml_node_t *mapping, const char *name)
{
	yaml_node_pair_t *pair;
	yaml_node_t *key;

	if (!mapping || mapping->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = mapping->data.mapping.pairs.start; pair < mapping->data.mapping.pairs.top;
	     pair++) {
		key = node_at(p, pair->key);
		if (key->type == YAML_SCALAR_NODE && !strcmp((char *)key->data.scalar.value, name))
			return node_at(p, pair->value);
	}
	return NULL;
}

/* The `ip` node of backend @index of the VIP whose keys @node holds, with
 * the path pushed to it; @node itself when the list cannot be found.
 */
static yaml_node_t *backend_ip_node(struct parser *p, yaml_node_t *node, size_t index)
{
	yaml_node_t *list = mapping_value(p, node, "backends"), *ip = NULL;

	if (list && list->type == YAML_SEQUENCE_NODE &&
	    index < (size_t)(list->data.sequence.items.top - list->data.sequence.items.start))
		ip = mapping_value(p, node_at(p, list->data.sequence.items.start[index]), "ip");
	path_push_key(p, "backends");
	path_push_index(p, index);
	path_push_key(p, "ip");
	return ip ? ip : node;
}

/* After the whole VIP (its address may follow its backends): an IPv6 VIP's
 * backends are IPv6, since nothing tunnels IPv6 in IPv4. An IPv4 VIP's may be
 * of either family, mixed in one pool: ipip and gue tunnel IPv4 in IPv6 to an IPv6
 * backend (check_backends6() checks what that needs once the file is read).
 * @node holds the VIP's keys (the top level in the seed form).
 */
static int check_vip_family(struct parser *p, yaml_node_t *node, const struct lb_vip_config *vip)
{
	char vip_text[INET6_ADDRSTRLEN], backend_text[INET6_ADDRSTRLEN];
	yaml_node_t *ip;
	size_t i;

	if (!vip->ipv6)
		return 0;
	for (i = 0; i < vip->backend_count; i++) {
		if (vip->backends[i].ipv6)
			continue;
		ip = backend_ip_node(p, node, i);
		lb_vip_config_addr(vip, vip_text, sizeof(vip_text));
		lb_backend_config_addr(&vip->backends[i], backend_text, sizeof(backend_text));
		return fail(p, ip, "%s is an IPv4 backend of IPv6 VIP %s: an IPv6 VIP's backends "
			    "must be IPv6 (IPv6-in-IPv4 is not supported)", backend_text,
			    vip_text);
	}
	return 0;
}

static const struct key_spec vip_keys[] = {
	{ "address", vip_address, true },
	{ "port", vip_port, false },
	{ "protocol", vip_protocol, false },
	{ "policy", vip_policy, false },
	{ "forwarding", vip_forwarding, false },
	{ "backends", vip_backends, true },
	{ "health_check", vip_health, false },
	{ "icmp_echo", vip_icmp_echo, false },
};
_Static_assert(ARRAY_SIZE(vip_keys) <= MAX_KEYS, "MAX_KEYS too small");

/* Maglev limits that need the whole VIP: a table per VIP from a bounded set, and
 * a table with room for every backend.
 */
static int check_vip_policy(struct parser *p, yaml_node_t *node, const struct lb_vip_config *vip)
{
	if (vip->policy != LB_POLICY_MAGLEV)
		return 0;
	if (++p->maglev_vips > LB_MAGLEV_MAX_VIPS)
		return fail(p, node, "is VIP number %zu with policy maglev, the limit is %u",
			    p->maglev_vips, LB_MAGLEV_MAX_VIPS);
	if (vip->maglev_size < vip->backend_count)
		return fail(p, node, "maglev table_size %u is smaller than the VIP's %zu backends",
			    vip->maglev_size, vip->backend_count);
	return 0;
}

/* "10.0.0.100 tcp port 80", "10.0.0.100 udp every port" or "2001:db8::1 tcp port 80". */
static const char *vip_name(char *out, size_t size, const struct lb_vip_config *vip)
{
	char address[INET6_ADDRSTRLEN];

	lb_vip_config_addr(vip, address, sizeof(address));
	if (vip->port)
		snprintf(out, size, "%s %s port %u", address, lb_proto_name(vip->proto),
			 vip->port);
	else
		snprintf(out, size, "%s %s every port", address, lb_proto_name(vip->proto));
	return out;
}

static bool same_vip_address(const struct lb_vip_config *a, const struct lb_vip_config *b)
{
	return a->ipv6 == b->ipv6 && a->addr == b->addr && !memcmp(a->addr6, b->addr6, 16);
}

/* A wildcard (port 0) and a specific port of one address may coexist: the specific
 * entry wins. Only the very same (address, port, protocol) twice is ambiguous.
 */
static int check_vip_unique(struct parser *p, yaml_node_t *node, size_t index)
{
	const struct lb_vip_config *vips = p->cfg->vips, *vip = &vips[index];
	char name[96];
	size_t i;

	for (i = 0; i < index; i++) {
		if (!same_vip_address(&vips[i], vip) || vips[i].port != vip->port ||
		    vips[i].proto != vip->proto)
			continue;
		return fail(p, node, "VIP %s is listed twice (first at vips[%zu], line %d)",
			    vip_name(name, sizeof(name), vip), i, vips[i].line);
	}
	return 0;
}

/* icmp_echo belongs to the address: every VIP of one address (ports,
 * protocols) answers echo requests or none does. VIPs that give it must
 * agree; one that does not takes the value another VIP of its address gives,
 * else the default (on). Checked once all VIPs are read; the same for IPv4
 * and IPv6 addresses (ICMP and ICMPv6 echo).
 */
static int check_icmp_echo(struct parser *p)
{
	struct lb_vip_config *vips = p->cfg->vips;
	size_t count = p->cfg->vip_count, i, j;

	for (i = 0; i < count; i++) {
		if (!vips[i].icmp_echo_line)
			continue;
		for (j = 0; j < i; j++) {
			if (!same_vip_address(&vips[j], &vips[i]) || !vips[j].icmp_echo_line ||
			    vips[j].icmp_echo == vips[i].icmp_echo)
				continue;
			path_push_index(p, i);
			path_push_key(p, "icmp_echo");
			return fail(p, p->icmp_echo[i], "%s conflicts with icmp_echo: %s of "
				    "vips[%zu] at line %d: echo replies are a setting of the address, "
				    "which all its VIPs share",
				    vips[i].icmp_echo ? "true" : "false",
				    vips[j].icmp_echo ? "true" : "false", j, vips[j].icmp_echo_line);
		}
	}
	for (i = 0; i < count; i++) {
		if (vips[i].icmp_echo_line)
			continue;
		vips[i].icmp_echo = true;
		for (j = 0; j < count; j++)
			if (same_vip_address(&vips[j], &vips[i]) && vips[j].icmp_echo_line)
				vips[i].icmp_echo = vips[j].icmp_echo;
	}
	return 0;
}

static int read_vip_list(struct parser *p, yaml_node_t *node)
{
	struct lb_config *cfg = p->cfg;
	struct lb_vip_config *vip;
	yaml_node_item_t *items = NULL;
	yaml_node_t *item;
	size_t count = 0, i, len;

	if (read_list(p, node, "a list of VIPs", &items, &count))
		return -1;
	if (!count)
		return fail(p, node, "the list is empty, expected at least one VIP");
	if (count > LB_MAX_VIPS)
		return fail(p, node, "has %zu VIPs, the limit is %u", count, LB_MAX_VIPS);

	cfg->vips = calloc(count, sizeof(*cfg->vips));
	if (!cfg->vips)
		return out_of_memory(p);
	for (i = 0; i < count; i++) {
		item = node_at(p, items[i]);
		vip = &cfg->vips[i];
		cfg->vip_count = i + 1;
		vip->proto = IPPROTO_UDP;
		vip->maglev_size = LB_MAGLEV_DEFAULT_SIZE;
		vip->line = item->start_mark.line + 1;
		len = path_push_index(p, i);
		if (read_mapping(p, item, "a VIP (a mapping with \"address\" and \"backends\")",
				 vip_keys, ARRAY_SIZE(vip_keys), vip) ||
		    check_vip_family(p, item, vip) || check_vip_unique(p, item, i) ||
		    check_vip_policy(p, item, vip) || check_vip_health(p, vip))
			return -1;
		path_pop(p, len);
	}
	return check_icmp_echo(p);
}

/* --- the top level ---------------------------------------------------------------- */

/* The seed form's keys and vips exclude each other, whichever comes first. */
static int check_not_mixed(struct parser *p, yaml_node_t *key)
{
	yaml_node_t *seed = p->vip_key ? p->vip_key : p->backends_key;

	if (key == p->vips_key && seed)
		return fail(p, key, "cannot be mixed with the seed form's \"vip\" and "
			    "\"backends\" (line %zu)", seed->start_mark.line + 1);
	if (key != p->vips_key && p->vips_key)
		return fail(p, key, "the seed form cannot be mixed with \"vips\" (line %zu)",
			    p->vips_key->start_mark.line + 1);
	return 0;
}

/* The seed form is one UDP VIP on every port; "vip" and "backends" both fill it. */
static struct lb_vip_config *seed_vip(struct parser *p, yaml_node_t *key)
{
	struct lb_config *cfg = p->cfg;

	if (!cfg->vips) {
		cfg->vips = calloc(1, sizeof(*cfg->vips));
		if (!cfg->vips) {
			out_of_memory(p);
			return NULL;
		}
		cfg->vip_count = 1;
		cfg->vips[0].proto = IPPROTO_UDP;
		cfg->vips[0].maglev_size = LB_MAGLEV_DEFAULT_SIZE;
		cfg->vips[0].icmp_echo = true;
		cfg->vips[0].line = key->start_mark.line + 1;
	}
	return &cfg->vips[0];
}

static int root_vip(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip;

	(void)obj;
	p->vip_key = key;
	if (check_not_mixed(p, key))
		return -1;
	vip = seed_vip(p, key);
	if (!vip)
		return -1;
	vip->line = key->start_mark.line + 1;
	return read_ip(p, value, &vip->addr, vip->addr6, &vip->ipv6);
}

static int root_backends(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct lb_vip_config *vip;

	(void)obj;
	p->backends_key = key;
	if (check_not_mixed(p, key))
		return -1;
	vip = seed_vip(p, key);
	if (!vip)
		return -1;
	/* The field path is "backends", so items read as "backends[1].ip". */
	return read_backend_list(p, value, vip);
}

static int root_vips(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	(void)obj;
	p->vips_key = key;
	if (check_not_mixed(p, key))
		return -1;
	return read_vip_list(p, value);
}

static int encap_type(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	(void)key;
	(void)obj;
	return read_choice(p, value, encaps, ARRAY_SIZE(encaps), "an encapsulation",
			   "ipip or gue", &p->cfg->encap);
}

static int encap_port(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	uint32_t port;

	(void)obj;
	p->encap_port_key = key;
	if (read_uint(p, value, 1, UINT16_MAX, &port))
		return -1;
	p->cfg->gue_port = (uint16_t)port;
	return 0;
}

static const struct key_spec encap_keys[] = {
	{ "type", encap_type, true },
	{ "port", encap_port, false },
};
_Static_assert(ARRAY_SIZE(encap_keys) <= MAX_KEYS, "MAX_KEYS too small");

/* `encap: gue`, or `encap: {type: gue, port: 6080}`. */
static int root_encap(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	if (value->type == YAML_SCALAR_NODE)
		return encap_type(p, key, value, obj);
	if (read_mapping(p, value, "an encapsulation name or a mapping with \"type\"",
			 encap_keys, ARRAY_SIZE(encap_keys), obj))
		return -1;
	if (p->encap_port_key && p->cfg->encap != LB_ENCAP_GUE) {
		path_push_key(p, "port");
		return fail(p, p->encap_port_key, "only encap type gue has a port");
	}
	return 0;
}

static int root_outer_source(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	const char *expected = "\"client\" or an IPv4 address";
	char shown[LB_YAML_QUOTED_LEN];
	const char *text = scalar_text(p, value, expected);

	(void)key;
	(void)obj;
	if (!text)
		return -1;
	if (!strcmp(text, "client")) {
		p->cfg->outer_src = 0;
		return 0;
	}
	if (!ipv4_from_text(text, &p->cfg->outer_src))
		return fail(p, value, "%s is neither \"client\" nor an IPv4 address",
			    render_scalar(shown, value));
	return check_unicast(p, value, p->cfg->outer_src);
}

/* The outer IPv6 source of IPv6 VIPs' tunnels: "client" (all zero) or an address. */
static int root_outer_source6(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	const char *expected = "\"client\" or an IPv6 address";
	char shown[LB_YAML_QUOTED_LEN];
	const char *text = scalar_text(p, value, expected);
	int ret;

	(void)key;
	(void)obj;
	if (!text)
		return -1;
	memset(p->cfg->outer_src6, 0, sizeof(p->cfg->outer_src6));
	if (!strcmp(text, "client"))
		return 0;
	ret = read_ipv6_text(p, value, text, p->cfg->outer_src6);
	if (ret > 0)
		return fail(p, value, "%s is neither \"client\" nor an IPv6 address",
			    render_scalar(shown, value));
	return ret;
}

/* The balancer address NAT VIPs' packets leave from (docs/nat.md). */
static int root_nat_source(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	(void)key;
	(void)obj;
	return read_ipv4(p, value, &p->cfg->nat_src);
}

/* nat_source for IPv6 VIPs: a global unicast IPv6 address. */
static int root_nat_source6(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	char shown[LB_YAML_QUOTED_LEN];
	const char *text = scalar_text(p, value, "an IPv6 address");
	int ret;

	(void)key;
	(void)obj;
	if (!text)
		return -1;
	ret = read_ipv6_text(p, value, text, p->cfg->nat_src6);
	if (ret > 0)
		return fail(p, value, "%s is not an IPv6 address", render_scalar(shown, value));
	return ret;
}

static int root_priority(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	(void)key;
	(void)obj;
	return read_uint(p, value, 0, LB_MAX_PRIORITY, &p->cfg->priority);
}

static int root_flow_timeout(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	(void)key;
	(void)obj;
	return read_uint(p, value, 1, LB_MAX_FLOW_TIMEOUT_S, &p->cfg->flow_timeout_s);
}

static int root_flow_table_size(struct parser *p, yaml_node_t *key, yaml_node_t *value,
				void *obj)
{
	(void)key;
	(void)obj;
	return read_uint(p, value, 1, LB_MAX_FLOW_TABLE_SIZE, &p->cfg->flow_table_size);
}

static int root_icmp_rate(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	(void)key;
	(void)obj;
	return read_uint(p, value, 0, LB_MAX_ICMP_RATE, &p->cfg->icmp_rate);
}

static int root_icmp_burst(struct parser *p, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	(void)key;
	(void)obj;
	return read_uint(p, value, 1, LB_MAX_ICMP_BURST, &p->cfg->icmp_burst);
}

static const struct key_spec root_keys[] = {
	{ "vip", root_vip, false },
	{ "backends", root_backends, false },
	{ "vips", root_vips, false },
	{ "encap", root_encap, false },
	{ "outer_source", root_outer_source, false },
	{ "outer_source6", root_outer_source6, false },
	{ "nat_source", root_nat_source, false },
	{ "nat_source6", root_nat_source6, false },
	{ "priority", root_priority, false },
	{ "flow_timeout", root_flow_timeout, false },
	{ "flow_table_size", root_flow_table_size, false },
	{ "icmp_rate", root_icmp_rate, false },
	{ "icmp_burst", root_icmp_burst, false },
};

_Static_assert(ARRAY_SIZE(root_keys) <= MAX_KEYS, "MAX_KEYS too small");

/* The node a whole-file check of VIP @i points at: its `forwarding` if it has
 * one, else its address; p->path set to match.
 */
static yaml_node_t *vip_forwarding_node(struct parser *p, yaml_node_t *root, size_t i)
{
	yaml_node_t *list = mapping_value(p, root, "vips"), *item = root, *node;
	const char *what;

	p->path[0] = '\0';
	if (list && list->type == YAML_SEQUENCE_NODE) {
		item = node_at(p, list->data.sequence.items.start[i]);
		path_push_key(p, "vips");
		path_push_index(p, i);
	}
	what = mapping_value(p, item, "forwarding") ? "forwarding" : list ? "address" : "vip";
	node = mapping_value(p, item, what);
	path_push_key(p, what);
	return node ? node : item;
}

/* A NAT VIP needs its family's source: nat_source for IPv4, nat_source6 for
 * IPv6; either key may come after the VIPs. Points at the first VIP without.
 */
static int check_nat_sources(struct parser *p, yaml_node_t *root)
{
	static const uint8_t none6[16];
	const struct lb_vip_config *vip;
	size_t i;

	for (i = 0; i < p->cfg->vip_count; i++) {
		vip = &p->cfg->vips[i];
		if (vip->forwarding != LB_FORWARD_NAT)
			continue;
		if (!vip->ipv6 && !p->cfg->nat_src)
			return fail(p, vip_forwarding_node(p, root, i),
				    "nat needs the top-level key nat_source (the balancer "
				    "address the backends see and answer)");
		if (vip->ipv6 && !memcmp(p->cfg->nat_src6, none6, sizeof(none6)))
			return fail(p, vip_forwarding_node(p, root, i),
				    "nat of an IPv6 VIP needs the top-level key nat_source6 (the "
				    "balancer's IPv6 address the backends see and answer)");
	}
	return 0;
}

/* An IPv4 VIP's IPv6 backends (IPv4-in-IPv6), once the whole file is read:
 * only the encapsulations carry them, ipip and gue (NAT rewrites IPv4
 * addresses in place), and the outer IPv6 source must be outer_source6,
 * since the client's IPv4 address cannot be one. Refused at the VIP's
 * `forwarding` (nat) or at its first IPv6 backend's `ip`.
 */
static int check_backends6(struct parser *p, yaml_node_t *root)
{
	static const uint8_t client6[16];
	yaml_node_t *list = mapping_value(p, root, "vips"), *item = root, *node;
	char vip_text[INET6_ADDRSTRLEN], backend_text[INET6_ADDRSTRLEN];
	const struct lb_vip_config *vip;
	size_t i, b;

	for (i = 0; i < p->cfg->vip_count; i++) {
		vip = &p->cfg->vips[i];
		if (vip->ipv6 || !lb_vip_config_backends6(vip))
			continue;
		for (b = 0; !vip->backends[b].ipv6; b++)
			;
		p->path[0] = '\0';
		if (list && list->type == YAML_SEQUENCE_NODE) {
			item = node_at(p, list->data.sequence.items.start[i]);
			path_push_key(p, "vips");
			path_push_index(p, i);
		}
		lb_vip_config_addr(vip, vip_text, sizeof(vip_text));
		if (vip->forwarding == LB_FORWARD_NAT) {
			node = mapping_value(p, item, "forwarding");
			path_push_key(p, "forwarding");
			return fail(p, node ? node : item, "nat does not reach IPv6 backends and "
				    "IPv4 VIP %s has one: an IPv4 VIP's IPv6 backends are reached "
				    "by the interface's encap (ipip or gue, IPv4 in IPv6) only",
				    vip_text);
		}
		node = backend_ip_node(p, item, b);
		lb_backend_config_addr(&vip->backends[b], backend_text, sizeof(backend_text));
		if (!memcmp(p->cfg->outer_src6, client6, sizeof(client6)))
			return fail(p, node, "%s is an IPv6 backend of IPv4 VIP %s: IPv4-in-IPv6 "
				    "needs outer_source6 set to an address of the balancer, since "
				    "the client's IPv4 address cannot be the outer IPv6 source",
				    backend_text, vip_text);
	}
	return 0;
}

/* The keys `forwarding:` depends on may come later in the file: checked last. */
static int check_forwarding(struct parser *p)
{
	const char *encap = lb_encap_name(p->cfg->encap);

	if (p->encap_forwarding && p->encap_forwarding_type != p->cfg->encap) {
		snprintf(p->path, sizeof(p->path), "%s", p->encap_forwarding_path);
		return fail(p, p->encap_forwarding, "%s differs from the interface's encap %s: "
			    "set encap: %s (all encapsulating VIPs share it)",
			    lb_encap_name(p->encap_forwarding_type), encap,
			    lb_encap_name(p->encap_forwarding_type));
	}
	return 0;
}

static int read_root(struct parser *p)
{
	yaml_node_t *root = yaml_document_get_root_node(p->doc);
	static const yaml_mark_t start;

	if (!root)
		return fail_at(p, &start, "the file is empty, expected a mapping with \"vips\"");
	if (read_mapping(p, root, "a mapping with \"vips\"", root_keys, ARRAY_SIZE(root_keys),
			 NULL))
		return -1;
	if (check_forwarding(p) || check_nat_sources(p, root))
		return -1;
	if (!p->vips_key) {
		if (p->vip_key && !p->backends_key)
			return fail(p, root, "missing key \"backends\"");
		if (p->backends_key && !p->vip_key)
			return fail(p, root, "missing key \"vip\"");
		if (!p->vip_key)
			return fail(p, root, "missing key \"vips\"");
		if (check_vip_family(p, root, &p->cfg->vips[0]))
			return -1;
	}
	return check_backends6(p, root) ? -1 : 0;
}

int lb_config_parse(const char *name, const char *text, size_t len, struct lb_config *cfg,
		    char *err, size_t err_len)
{
	struct parser p = {
		.name = name ? name : "config",
		.cfg = cfg,
		.err = err,
		.err_len = err_len,
	};
	yaml_document_t doc;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	lb_yaml_message(err, err_len, "%s", "");
	cfg->encap = LB_ENCAP_IPIP;
	cfg->gue_port = LB_DEFAULT_GUE_PORT;
	cfg->priority = LB_DEFAULT_PRIORITY;
	cfg->flow_timeout_s = LB_DEFAULT_FLOW_TIMEOUT_S;
	cfg->flow_table_size = LB_DEFAULT_FLOW_TABLE_SIZE;
	cfg->icmp_rate = LB_DEFAULT_ICMP_RATE;
	cfg->icmp_burst = LB_DEFAULT_ICMP_BURST;
	if (!text)
		text = "";

	p.doc = &doc;
	ret = lb_yaml_load(p.name, text, len, &doc, err, err_len);
	if (!ret) {
		ret = read_root(&p);
		yaml_document_delete(&doc);
	}

	if (ret)
		lb_config_free(cfg);
	else
		snprintf(cfg->path, sizeof(cfg->path), "%s", p.name);
	return ret;
}

int lb_config_load(const char *path, struct lb_config *cfg, char *err, size_t err_len)
{
	size_t len;
	char *text;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (lb_yaml_read_file(path, &text, &len, err, err_len))
		return -1;
	ret = lb_config_parse(path, text, len, cfg, err, err_len);
	free(text);
	return ret;
}

void lb_config_free(struct lb_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->vip_count; i++)
		free(cfg->vips[i].backends);
	free(cfg->vips);
	memset(cfg, 0, sizeof(*cfg));
}

const char *lb_vip_config_addr(const struct lb_vip_config *vip, char *out, size_t size)
{
	if (!inet_ntop(vip->ipv6 ? AF_INET6 : AF_INET, vip->ipv6 ? (const void *)vip->addr6 :
		       (const void *)&vip->addr, out, size))
		snprintf(out, size, "?");
	return out;
}

const char *lb_backend_config_addr(const struct lb_backend_config *backend, char *out,
				   size_t size)
{
	if (!inet_ntop(backend->ipv6 ? AF_INET6 : AF_INET, backend->ipv6 ?
		       (const void *)backend->addr6 : (const void *)&backend->addr, out, size))
		snprintf(out, size, "?");
	return out;
}

bool lb_vip_config_backends6(const struct lb_vip_config *vip)
{
	size_t i;

	for (i = 0; i < vip->backend_count; i++)
		if (vip->backends[i].ipv6)
			return true;
	return false;
}

bool lb_config_tunnels_ipv6(const struct lb_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->vip_count; i++)
		if (lb_vip_config_backends6(&cfg->vips[i]))
			return true;
	return false;
}

bool lb_config_has_ipv6(const struct lb_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->vip_count; i++)
		if (cfg->vips[i].ipv6)
			return true;
	return false;
}
