// SPDX-License-Identifier: GPL-2.0
/* Tests of the config.yaml reader: good files field by field, bad files message by message. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "test_harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define GOOD_DIR "tests/config/good/"
#define BAD_DIR "tests/config/bad/"

/* --- allocation failures -------------------------------------------------------------
 * The binary's own malloc family stands in for glibc's (libyaml's allocations and
 * glibc's internal ones come here too) and forwards to it, so that a test can make the
 * n-th allocation from now fail. Off unless alloc_fail_at is set.
 *
 * Built with AddressSanitizer (make SANITIZE=1), the stand-ins forward to ASan's
 * allocator instead: its interceptors (strdup, ...) allocate there, so glibc's free
 * would abort on their memory, and ASan would check no heap access at all.
 */
#ifdef __SANITIZE_ADDRESS__
#define REAL_ALLOC(fn) __interceptor_##fn
#else
#define REAL_ALLOC(fn) __libc_##fn
#endif
extern void *REAL_ALLOC(malloc)(size_t size);
extern void *REAL_ALLOC(calloc)(size_t count, size_t size);
extern void *REAL_ALLOC(realloc)(void *ptr, size_t size);
extern void REAL_ALLOC(free)(void *ptr);

static long alloc_fail_at;
static long alloc_count;

static bool alloc_fails(void)
{
	if (!alloc_fail_at || ++alloc_count != alloc_fail_at)
		return false;
	errno = ENOMEM;
	return true;
}

void *malloc(size_t size)
{
	return alloc_fails() ? NULL : REAL_ALLOC(malloc)(size);
}

void *calloc(size_t count, size_t size)
{
	return alloc_fails() ? NULL : REAL_ALLOC(calloc)(count, size);
}

void *realloc(void *ptr, size_t size)
{
	return alloc_fails() ? NULL : REAL_ALLOC(realloc)(ptr, size);
}

void free(void *ptr)
{
	REAL_ALLOC(free)(ptr);
}

/* --- helpers ---------------------------------------------------------------------- */

static const char *ip_text(uint32_t addr, char *buf)
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

static bool config_is_empty(const struct lb_config *cfg)
{
	static const struct lb_config empty;

	return !memcmp(cfg, &empty, sizeof(empty));
}

/* Reads a whole file into a NUL-terminated buffer, or NULL. */
static char *slurp(const char *path, size_t *len)
{
	char *text = NULL;
	FILE *f = fopen(path, "r");
	long size;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (size = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		text = calloc(1, size + 1);
		if (text && fread(text, 1, size, f) != (size_t)size) {
			free(text);
			text = NULL;
		}
		*len = size;
	}
	fclose(f);
	return text;
}

/* --- good files: every field checked ---------------------------------------------- */

struct expect_backend {
	const char *ip;
	uint32_t weight;
	uint8_t state;
	const char *mac; /* NULL: no static MAC */
	int line;
};

struct expect_vip {
	const char *address;
	uint16_t port;
	uint8_t proto;
	int line;
	size_t backend_count;
	struct expect_backend backends[4];
	uint8_t policy;       /* 0: least-loaded */
	uint32_t maglev_size; /* 0: the default */
	int echo_off;         /* icmp_echo false (0: true, the default) */
};

struct good_case {
	const char *file;
	uint8_t encap;
	uint16_t gue_port;
	const char *outer_src; /* NULL: the client's address */
	const char *outer_src6; /* NULL: the client's address */
	uint32_t priority;
	uint32_t flow_timeout_s;
	uint32_t flow_table_size;
	uint32_t icmp_rate;  /* 0: LB_DEFAULT_ICMP_RATE */
	uint32_t icmp_burst; /* 0: LB_DEFAULT_ICMP_BURST */
	int icmp_rate_zero;  /* icmp_rate is 0 */
	size_t vip_count;
	struct expect_vip vips[8];
};

static const struct good_case good_cases[] = {
	{
		/* The original project's file: defaults everywhere. */
		.file = GOOD_DIR "seed.yaml",
		.encap = LB_ENCAP_IPIP,
		.gue_port = LB_DEFAULT_GUE_PORT,
		.priority = LB_DEFAULT_PRIORITY,
		.flow_timeout_s = LB_DEFAULT_FLOW_TIMEOUT_S,
		.flow_table_size = LB_DEFAULT_FLOW_TABLE_SIZE,
		.vip_count = 1,
		.vips = { {
			"123.168.9.8", 0, IPPROTO_UDP, 1, 2, {
				{ "10.0.1.1", 1, LB_BACKEND_UP, NULL, 3 },
				{ "10.0.2.2", 1, LB_BACKEND_UP, NULL, 4 },
			},
		} },
	},
	{
		.file = GOOD_DIR "extended.yaml",
		.encap = LB_ENCAP_GUE,
		.gue_port = 7000,
		.outer_src = "192.0.2.10",
		.priority = 10,
		.flow_timeout_s = 120,
		.flow_table_size = 1048576,
		.vip_count = 4,
		.vips = {
			{ "10.0.0.100", 80, IPPROTO_TCP, 8, 3, {
				{ "10.0.1.1", 2, LB_BACKEND_UP, "02:00:00:00:01:01", 12 },
				{ "10.0.1.2", 65535, LB_BACKEND_DRAIN, NULL, 16 },
				{ "10.0.1.3", 1, LB_BACKEND_DOWN, "0a:1b:2c:3d:4e:5f", 19 },
			} },
			{ "10.0.0.100", 0, IPPROTO_TCP, 23, 1, {
				{ "10.0.1.1", 1, LB_BACKEND_UP, NULL, 26 },
			} },
			{ "10.0.0.100", 80, IPPROTO_UDP, 28, 2, {
				{ "10.0.2.1", 1, LB_BACKEND_UP, NULL, 32 },
				{ "10.0.2.2", 1, LB_BACKEND_UP, "02:00:00:00:02:02", 33 },
			} },
			{ "10.0.0.200", 65535, IPPROTO_UDP, 34, 1, {
				{ "10.0.3.1", 1, LB_BACKEND_UP, NULL, 36 },
			} },
		},
	},
	{
		/* Every policy form; weight 0 is drain (state down stays down). */
		.file = GOOD_DIR "policies.yaml",
		.encap = LB_ENCAP_IPIP,
		.gue_port = LB_DEFAULT_GUE_PORT,
		.priority = LB_DEFAULT_PRIORITY,
		.flow_timeout_s = LB_DEFAULT_FLOW_TIMEOUT_S,
		.flow_table_size = LB_DEFAULT_FLOW_TABLE_SIZE,
		.vip_count = 8,
		.vips = {
			{ "10.0.0.100", 1, IPPROTO_UDP, 4, 1,
			  { { "10.0.1.1", 1, LB_BACKEND_UP, NULL, 6 } } },
			{ "10.0.0.100", 2, IPPROTO_UDP, 7, 2,
			  { { "10.0.1.1", 1, LB_BACKEND_UP, NULL, 10 },
			    { "10.0.1.2", 0, LB_BACKEND_DRAIN, NULL, 10 } },
			  LB_POLICY_ROUND_ROBIN },
			{ "10.0.0.100", 3, IPPROTO_UDP, 11, 1,
			  { { "10.0.1.1", 3, LB_BACKEND_UP, NULL, 14 } }, LB_POLICY_WEIGHTED_RR },
			{ "10.0.0.100", 4, IPPROTO_UDP, 15, 1,
			  { { "10.0.1.1", 0, LB_BACKEND_DOWN, NULL, 18 } }, LB_POLICY_HASH },
			{ "10.0.0.100", 5, IPPROTO_UDP, 19, 1,
			  { { "10.0.1.1", 1, LB_BACKEND_UP, NULL, 22 } }, LB_POLICY_MAGLEV },
			{ "10.0.0.100", 6, IPPROTO_UDP, 23, 1,
			  { { "10.0.1.1", 1, LB_BACKEND_UP, NULL, 26 } }, LB_POLICY_MAGLEV, 251 },
			{ "10.0.0.100", 7, IPPROTO_UDP, 27, 1,
			  { { "10.0.1.1", 1, LB_BACKEND_UP, NULL, 30 } }, LB_POLICY_LEAST_CONN },
			{ "10.0.0.100", 8, IPPROTO_UDP, 31, 1,
			  { { "10.0.1.1", 1, LB_BACKEND_UP, NULL, 34 } }, LB_POLICY_PACKETS_PER_FLOW },
		},
	},
	{
		/* Interface-wide keys beside the seed form, at their range limits. */
		.file = GOOD_DIR "seed_with_globals.yaml",
		.encap = LB_ENCAP_IPIP,
		.gue_port = LB_DEFAULT_GUE_PORT,
		.priority = 0,
		.flow_timeout_s = LB_MAX_FLOW_TIMEOUT_S,
		.flow_table_size = LB_MAX_FLOW_TABLE_SIZE,
		.vip_count = 1,
		.vips = { {
			"123.168.9.8", 0, IPPROTO_UDP, 7, 2, {
				{ "10.0.1.1", 3, LB_BACKEND_UP, NULL, 9 },
				{ "10.0.2.2", 1, LB_BACKEND_DRAIN, "02:00:00:00:02:02", 11 },
			},
		} },
	},
	{
		/* IPv6 VIPs beside an IPv4 one; addresses written in any valid
		 * form are held (and shown) in RFC 5952's.
		 */
		.file = GOOD_DIR "ipv6.yaml",
		.encap = LB_ENCAP_IPIP,
		.gue_port = LB_DEFAULT_GUE_PORT,
		.outer_src6 = "2001:db8:ff::10",
		.priority = LB_DEFAULT_PRIORITY,
		.flow_timeout_s = LB_DEFAULT_FLOW_TIMEOUT_S,
		.flow_table_size = LB_DEFAULT_FLOW_TABLE_SIZE,
		.vip_count = 3,
		.vips = {
			{ "2001:db8::100", 80, IPPROTO_TCP, 3, 2, {
				{ "2001:db8:1::1", 2, LB_BACKEND_UP, NULL, 8 },
				{ "2001:db8:1::2", 1, LB_BACKEND_UP, "02:00:00:00:01:02", 10 },
			}, LB_POLICY_MAGLEV },
			{ "10.0.0.100", 0, IPPROTO_UDP, 12, 1, {
				{ "10.0.1.1", 1, LB_BACKEND_UP, NULL, 14 },
			} },
			{ "2001:db8::100", 0, IPPROTO_UDP, 15, 1, {
				{ "2001:db8:1::1", 1, LB_BACKEND_UP, NULL, 17 },
			} },
		},
	},
	{
		/* IPv4 VIPs on IPv6 backends (IPv4-in-IPv6), alone or mixed with
		 * IPv4 ones in one pool; outer_source6 may follow the VIPs.
		 */
		.file = GOOD_DIR "ipv4_in_ipv6.yaml",
		.encap = LB_ENCAP_IPIP,
		.gue_port = LB_DEFAULT_GUE_PORT,
		.outer_src6 = "2001:db8:ff::10",
		.priority = LB_DEFAULT_PRIORITY,
		.flow_timeout_s = LB_DEFAULT_FLOW_TIMEOUT_S,
		.flow_table_size = LB_DEFAULT_FLOW_TABLE_SIZE,
		.vip_count = 2,
		.vips = {
			{ "10.0.0.100", 80, IPPROTO_TCP, 2, 2, {
				{ "10.0.1.1", 1, LB_BACKEND_UP, NULL, 7 },
				{ "2001:db8:1::1", 2, LB_BACKEND_UP, NULL, 8 },
			}, LB_POLICY_MAGLEV },
			{ "10.0.0.101", 0, IPPROTO_UDP, 10, 1, {
				{ "2001:db8:1::2", 1, LB_BACKEND_UP, "02:00:00:00:01:02", 12 },
			} },
		},
	},
	{
		/* encap gue carries IPv6 VIPs and an IPv4 VIP's IPv6 backends
		 * (GUE over IPv6), as ipip does.
		 */
		.file = GOOD_DIR "gue6.yaml",
		.encap = LB_ENCAP_GUE,
		.gue_port = 5555,
		.outer_src6 = "2001:db8:ff::10",
		.priority = LB_DEFAULT_PRIORITY,
		.flow_timeout_s = LB_DEFAULT_FLOW_TIMEOUT_S,
		.flow_table_size = LB_DEFAULT_FLOW_TABLE_SIZE,
		.vip_count = 2,
		.vips = {
			{ "2001:db8::100", 443, IPPROTO_TCP, 6, 1, {
				{ "2001:db8:1::1", 1, LB_BACKEND_UP, NULL, 10 },
			} },
			{ "10.0.0.100", 0, IPPROTO_UDP, 11, 2, {
				{ "10.0.1.1", 1, LB_BACKEND_UP, NULL, 13 },
				{ "2001:db8:1::2", 1, LB_BACKEND_UP, NULL, 14 },
			} },
		},
	},
	{
		/* icmp_echo belongs to the address; the ICMP limits at their edges. */
		.file = GOOD_DIR "icmp.yaml",
		.encap = LB_ENCAP_IPIP,
		.gue_port = LB_DEFAULT_GUE_PORT,
		.priority = LB_DEFAULT_PRIORITY,
		.flow_timeout_s = LB_DEFAULT_FLOW_TIMEOUT_S,
		.flow_table_size = LB_DEFAULT_FLOW_TABLE_SIZE,
		.icmp_rate_zero = 1,
		.icmp_burst = LB_MAX_ICMP_BURST,
		.vip_count = 5,
		.vips = {
			{ "10.0.0.100", 80, IPPROTO_UDP, 5, 1,
			  { { "10.0.1.1", 1, LB_BACKEND_UP, NULL, 8 } }, .echo_off = 1 },
			{ "10.0.0.100", 0, IPPROTO_TCP, 10, 1,
			  { { "10.0.1.1", 1, LB_BACKEND_UP, NULL, 12 } }, .echo_off = 1 },
			{ "10.0.0.101", 0, IPPROTO_UDP, 14, 1,
			  { { "10.0.1.2", 1, LB_BACKEND_UP, NULL, 15 } } },
			{ "10.0.0.102", 0, IPPROTO_UDP, 16, 1,
			  { { "10.0.1.3", 1, LB_BACKEND_UP, NULL, 18 } } },
			{ "10.0.0.102", 0, IPPROTO_TCP, 19, 1,
			  { { "10.0.1.3", 1, LB_BACKEND_UP, NULL, 22 } } },
		},
	},
	{
		/* icmp_echo of IPv6 addresses: the same per-address rule. */
		.file = GOOD_DIR "icmp6.yaml",
		.encap = LB_ENCAP_IPIP,
		.gue_port = LB_DEFAULT_GUE_PORT,
		.priority = LB_DEFAULT_PRIORITY,
		.flow_timeout_s = LB_DEFAULT_FLOW_TIMEOUT_S,
		.flow_table_size = LB_DEFAULT_FLOW_TABLE_SIZE,
		.vip_count = 4,
		.vips = {
			{ "2001:db8::100", 80, IPPROTO_UDP, 3, 1,
			  { { "2001:db8:1::1", 1, LB_BACKEND_UP, NULL, 6 } }, .echo_off = 1 },
			{ "2001:db8::100", 0, IPPROTO_TCP, 8, 1,
			  { { "2001:db8:1::1", 1, LB_BACKEND_UP, NULL, 10 } }, .echo_off = 1 },
			{ "2001:db8::101", 0, IPPROTO_UDP, 12, 1,
			  { { "2001:db8:1::2", 1, LB_BACKEND_UP, NULL, 13 } } },
			{ "10.0.0.100", 0, IPPROTO_UDP, 15, 1,
			  { { "10.0.1.1", 1, LB_BACKEND_UP, NULL, 16 } } },
		},
	},
};

static void check_backend(const struct lb_backend_config *actual,
			  const struct expect_backend *expected, const char *where)
{
	char ip[INET6_ADDRSTRLEN], mac[18], what[224];

	snprintf(what, sizeof(what), "%s ip", where);
	ASSERT_STREQ(lb_backend_config_addr(actual, ip, sizeof(ip)), expected->ip, what);
	snprintf(what, sizeof(what), "%s family", where);
	ASSERT_EQ(actual->ipv6, strchr(expected->ip, ':') != NULL, what);
	snprintf(what, sizeof(what), "%s weight", where);
	ASSERT_EQ(actual->weight, expected->weight, what);
	snprintf(what, sizeof(what), "%s state", where);
	ASSERT_EQ(actual->state, expected->state, what);
	snprintf(what, sizeof(what), "%s line", where);
	ASSERT_EQ(actual->line, expected->line, what);
	snprintf(what, sizeof(what), "%s has_mac", where);
	ASSERT_EQ(actual->has_mac, expected->mac != NULL, what);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", actual->mac[0],
		 actual->mac[1], actual->mac[2], actual->mac[3], actual->mac[4], actual->mac[5]);
	snprintf(what, sizeof(what), "%s mac", where);
	ASSERT_STREQ(mac, expected->mac ? expected->mac : "00:00:00:00:00:00", what);
}

static void check_vip(const struct lb_vip_config *actual, const struct expect_vip *expected,
		      const char *file, size_t index)
{
	char ip[INET6_ADDRSTRLEN], where[160], what[192];
	size_t i;

	snprintf(where, sizeof(where), "%s vips[%zu]", file, index);
	snprintf(what, sizeof(what), "%s address", where);
	ASSERT_STREQ(lb_vip_config_addr(actual, ip, sizeof(ip)), expected->address, what);
	snprintf(what, sizeof(what), "%s family", where);
	ASSERT_EQ(actual->ipv6, strchr(expected->address, ':') != NULL, what);
	snprintf(what, sizeof(what), "%s port", where);
	ASSERT_EQ(actual->port, expected->port, what);
	snprintf(what, sizeof(what), "%s proto", where);
	ASSERT_EQ(actual->proto, expected->proto, what);
	snprintf(what, sizeof(what), "%s line", where);
	ASSERT_EQ(actual->line, expected->line, what);
	snprintf(what, sizeof(what), "%s policy", where);
	ASSERT_STREQ(lb_policy_name(actual->policy), lb_policy_name(expected->policy), what);
	snprintf(what, sizeof(what), "%s maglev table size", where);
	ASSERT_EQ(actual->maglev_size,
		  expected->maglev_size ? expected->maglev_size : LB_MAGLEV_DEFAULT_SIZE, what);
	snprintf(what, sizeof(what), "%s icmp_echo", where);
	ASSERT_EQ(actual->icmp_echo, !expected->echo_off, what);
	snprintf(what, sizeof(what), "%s backend_count", where);
	if (!ASSERT_EQ(actual->backend_count, expected->backend_count, what))
		return;
	for (i = 0; i < expected->backend_count; i++) {
		snprintf(what, sizeof(what), "%s.backends[%zu]", where, i);
		check_backend(&actual->backends[i], &expected->backends[i], what);
	}
}

static void check_good(const struct good_case *c, const struct lb_config *cfg)
{
	char ip[INET_ADDRSTRLEN];
	size_t i;

	ASSERT_STREQ(cfg->path, c->file, "path");
	ASSERT_EQ(cfg->encap, c->encap, "encap");
	ASSERT_EQ(cfg->gue_port, c->gue_port, "gue_port");
	char ip6[INET6_ADDRSTRLEN];

	ASSERT_STREQ(ip_text(cfg->outer_src, ip), c->outer_src ? c->outer_src : "0.0.0.0",
		     "outer_src");
	inet_ntop(AF_INET6, cfg->outer_src6, ip6, sizeof(ip6));
	ASSERT_STREQ(ip6, c->outer_src6 ? c->outer_src6 : "::", "outer_src6");
	ASSERT_EQ(cfg->priority, c->priority, "priority");
	ASSERT_EQ(cfg->flow_timeout_s, c->flow_timeout_s, "flow_timeout_s");
	ASSERT_EQ(cfg->flow_table_size, c->flow_table_size, "flow_table_size");
	ASSERT_EQ(cfg->icmp_rate, c->icmp_rate_zero ? 0 : c->icmp_rate ? c->icmp_rate :
		  LB_DEFAULT_ICMP_RATE, "icmp_rate");
	ASSERT_EQ(cfg->icmp_burst, c->icmp_burst ? c->icmp_burst : LB_DEFAULT_ICMP_BURST,
		  "icmp_burst");
	if (!ASSERT_EQ(cfg->vip_count, c->vip_count, "vip_count"))
		return;
	for (i = 0; i < c->vip_count; i++)
		check_vip(&cfg->vips[i], &c->vips[i], c->file, i);
}

static void test_good_files(void)
{
	char err[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good_cases); i++) {
		if (!ASSERT_EQ(lb_config_load(good_cases[i].file, &cfg, err, sizeof(err)), 0,
			       good_cases[i].file)) {
			printf("    error: %s\n", err);
			continue;
		}
		ASSERT_STREQ(err, "", "no message on success");
		check_good(&good_cases[i], &cfg);
		lb_config_free(&cfg);
		ASSERT_TRUE(config_is_empty(&cfg), "lb_config_free empties the config");
	}
}

/* The seed form must keep loading unchanged: the file is compared byte for byte. */
static void test_seed_file_unchanged(void)
{
	static const char seed[] = "vip: 123.168.9.8\n"
				   "backends:\n"
				   "  - ip: 10.0.1.1\n"
				   "  - ip: 10.0.2.2\n";
	size_t len = 0;
	char *text = slurp(GOOD_DIR "seed.yaml", &len);

	if (!ASSERT_TRUE(text != NULL, "read " GOOD_DIR "seed.yaml"))
		return;
	ASSERT_BYTES(text, len, seed, sizeof(seed) - 1, "seed.yaml");
	free(text);
}

/* --- bad files: the exact message of each ----------------------------------------- */

struct bad_case {
	const char *file;
	const char *message;
};

#define BAD(file, message) { BAD_DIR file, BAD_DIR file message }

static const struct bad_case bad_cases[] = {
	/* YAML itself */
	BAD("syntax_indent.yaml", ":3:4: YAML error: did not find expected '-' indicator "
				  "(while parsing a block collection at 2:3)"),
	BAD("syntax_tab.yaml", ":3:1: YAML error: found character that cannot start any token "
			       "(while scanning for the next token at 3:1)"),
	BAD("undefined_alias.yaml", ":3:5: YAML error: found undefined alias"),
	BAD("invalid_utf8.yaml", ":3:23: YAML error: incomplete UTF-8 octet sequence"),
	BAD("two_documents.yaml", ":5:1: top level: a second YAML document starts here, "
				  "the file must hold only one"),
	/* shape */
	BAD("empty.yaml", ":1:1: top level: the file is empty, expected a mapping with \"vips\""),
	BAD("comments_only.yaml", ":1:1: top level: the file is empty, "
				  "expected a mapping with \"vips\""),
	BAD("top_list.yaml", ":1:1: top level: expected a mapping with \"vips\", found a list"),
	BAD("top_scalar.yaml", ":1:1: top level: expected a mapping with \"vips\", "
			       "found \"123.168.9.8\""),
	BAD("unknown_key_suggest.yaml", ":3:5: vips[0].prot: unknown key (did you mean \"port\"?)"),
	BAD("unknown_key_case.yaml", ":5:9: vips[0].backends[0].Weight: unknown key "
				     "(did you mean \"weight\"?)"),
	BAD("unknown_key_list.yaml", ":1:1: timeout: unknown key, expected one of: vip, backends, "
				     "vips, encap, outer_source, outer_source6, nat_source, nat_source6, priority, "
				     "flow_timeout, flow_table_size, icmp_rate, icmp_burst"),
	BAD("key_not_scalar.yaml", ":3:5: vips[0]: expected a key name, found a list"),
	BAD("list_for_scalar.yaml", ":3:11: vips[0].port: expected an integer 0..65535, "
				    "found a list"),
	BAD("scalar_for_list.yaml", ":3:15: vips[0].backends: expected a list of backends, "
				    "found \"10.0.1.1\""),
	BAD("mapping_for_list.yaml", ":2:3: vips: expected a list of VIPs, found a mapping"),
	BAD("scalar_for_backend.yaml", ":3:5: backends[0]: expected a backend "
				       "(a mapping with \"ip\"), found \"10.0.1.1\""),
	BAD("null_value.yaml", ":2:13: vips[0].address: no value given, "
			       "expected an IPv4 or IPv6 address"),
	BAD("duplicate_key.yaml", ":5:5: vips[0].port: key given twice (first on line 3)"),
	BAD("missing_vips.yaml", ":1:1: top level: missing key \"vips\""),
	BAD("missing_backends.yaml", ":2:5: vips[0]: missing key \"backends\""),
	BAD("missing_ip.yaml", ":4:9: vips[0].backends[0]: missing key \"ip\""),
	BAD("seed_mixed.yaml", ":2:1: vips: cannot be mixed with the seed form's \"vip\" and "
			       "\"backends\" (line 1)"),
	BAD("seed_mixed_backends.yaml", ":5:1: backends: the seed form cannot be mixed with "
					"\"vips\" (line 1)"),
	BAD("seed_no_backends.yaml", ":1:1: top level: missing key \"backends\""),
	/* addresses */
	BAD("bad_ip.yaml", ":7:13: vips[0].backends[1].ip: \"10.0.1\" is not an IPv4 or IPv6 address"),
	BAD("bad_ip_leading_zero.yaml", ":1:6: vip: \"123.168.9.08\" is not an IPv4 or IPv6 address"),
	BAD("seed_bad_backend.yaml", ":4:9: backends[1].ip: \"10.0.2.300\" is not an "
				     "IPv4 or IPv6 address"),
	BAD("vip_unspecified.yaml", ":1:6: vip: \"0.0.0.0\" is the unspecified address, "
				    "expected a unicast address"),
	BAD("vip_multicast.yaml", ":2:14: vips[0].address: \"239.1.2.3\" is a multicast address "
				  "(224.0.0.0/4), expected a unicast address"),
	BAD("backend_broadcast.yaml", ":4:9: backends[1].ip: \"255.255.255.255\" is the "
				      "broadcast address, expected a unicast address"),
	/* IPv6 addresses and what this slice does not carry */
	BAD("ip6_text.yaml", ":2:14: vips[0].address: \"2001:db8::g1\" is not an IPv4 or IPv6 "
			     "address"),
	BAD("ip6_zone.yaml", ":4:13: vips[0].backends[0].ip: \"fe80::1%eth0\" is not an IPv4 "
			     "or IPv6 address"),
	BAD("vip6_backend4.yaml", ":4:13: vips[0].backends[1].ip: 10.0.1.2 is an IPv4 backend of "
				  "IPv6 VIP 2001:db8::1: an IPv6 VIP's backends must be IPv6 "
				  "(IPv6-in-IPv4 is not supported)"),
	BAD("vip4_backend6.yaml", ":5:13: vips[0].backends[1].ip: 2001:db8:1::2 is an IPv6 "
				  "backend of IPv4 VIP 10.0.0.1: IPv4-in-IPv6 needs outer_source6 "
				  "set to an address of the balancer, since the client's IPv4 "
				  "address cannot be the outer IPv6 source"),
	BAD("seed4_backend6.yaml", ":3:9: backends[0].ip: 2001:db8:1::1 is an IPv6 backend of "
				   "IPv4 VIP 10.0.0.1: IPv4-in-IPv6 needs outer_source6 set to an "
				   "address of the balancer, since the client's IPv4 address cannot "
				   "be the outer IPv6 source"),
	BAD("vip4_backend6_nat.yaml", ":5:17: vips[0].forwarding: nat does not reach IPv6 "
				      "backends and IPv4 VIP 10.0.0.1 has one: an IPv4 VIP's IPv6 "
				      "backends are reached by the interface's encap (ipip or "
				      "gue, IPv4 in IPv6) only"),
	BAD("seed6_backend4.yaml", ":3:9: backends[0].ip: 10.0.1.1 is an IPv4 backend of IPv6 "
				   "VIP 2001:db8::1: an IPv6 VIP's backends must be IPv6 "
				   "(IPv6-in-IPv4 is not supported)"),
	BAD("vip6_link_local.yaml", ":2:14: vips[0].address: \"fe80::1\" is a link-local "
				    "address (fe80::/10), which needs an interface and no router "
				    "forwards, expected a global unicast address"),
	BAD("backend6_multicast.yaml", ":4:13: vips[0].backends[0].ip: \"ff02::1\" is a "
				       "multicast address (ff00::/8), expected a global unicast "
				       "address"),
	BAD("vip6_mapped.yaml", ":2:14: vips[0].address: \"::ffff:10.0.0.1\" is an IPv4-mapped "
				"address (::ffff:0:0/96): write the IPv4 address itself, expected "
				"a global unicast address"),
	BAD("vip6_unspecified.yaml", ":1:6: vip: \"::\" is the unspecified address, expected a "
				     "global unicast address"),
	BAD("backend6_loopback.yaml", ":4:13: vips[0].backends[0].ip: \"::1\" is the loopback "
				      "address, expected a global unicast address"),
	BAD("vip6_nat.yaml", ":8:17: vips[1].forwarding: nat of an IPv6 VIP needs the top-level "
			     "key nat_source6 (the balancer's IPv6 address the backends see and "
			     "answer)"),
	BAD("nat_source6.yaml", ":1:14: nat_source6: \"10.0.0.10\" is not an IPv6 address"),
	BAD("nat_source6_link_local.yaml", ":1:14: nat_source6: \"fe80::1\" is a link-local "
					   "address (fe80::/10), which needs an interface and no "
					   "router forwards, expected a global unicast address"),
	BAD("nat_source6_only.yaml", ":4:17: vips[0].forwarding: nat needs the top-level key "
				     "nat_source (the balancer address the backends see and answer)"),
	BAD("outer_source6.yaml", ":1:16: outer_source6: \"10.0.0.1\" is neither \"client\" nor "
				  "an IPv6 address"),
	BAD("outer_source6_multicast.yaml", ":1:16: outer_source6: \"ff05::2\" is a multicast "
					    "address (ff00::/8), expected a global unicast "
					    "address"),
	BAD("vip6_icmp_echo_conflict.yaml", ":9:16: vips[1].icmp_echo: true conflicts with "
					    "icmp_echo: false of vips[0] at line 4: echo replies "
					    "are a setting of the address, which all its VIPs share"),
	BAD("vip6_twice.yaml", ":5:5: vips[1]: VIP 2001:db8::1 udp port 53 is listed twice "
			       "(first at vips[0], line 2)"),
	BAD("backend6_twice.yaml", ":5:9: vips[0].backends[1]: backend 2001:db8:1::1 is listed "
				   "twice (first at backends[0], line 4)"),
	/* ICMP */
	BAD("icmp_echo_conflict.yaml", ":11:16: vips[2].icmp_echo: false conflicts with "
				       "icmp_echo: true of vips[1] at line 7: echo replies are a "
				       "setting of the address, which all its VIPs share"),
	BAD("icmp_echo_not_boolean.yaml", ":3:16: vips[0].icmp_echo: \"yes\" is not a boolean, "
					  "expected true or false"),
	BAD("icmp_rate_range.yaml", ":1:12: icmp_rate: 1000001 is out of range, "
				    "expected 0..1000000"),
	BAD("icmp_burst_zero.yaml", ":1:13: icmp_burst: 0 is out of range, expected 1..10000"),
	/* VIP keys */
	BAD("port_range.yaml", ":3:11: vips[0].port: 65536 is out of range, expected 0..65535"),
	BAD("port_name.yaml", ":3:11: vips[0].port: \"http\" is not a decimal integer, "
			      "expected 0..65535"),
	BAD("port_negative.yaml", ":3:11: vips[0].port: \"-1\" is not a decimal integer, "
				  "expected 0..65535"),
	BAD("protocol.yaml", ":3:15: vips[0].protocol: \"sctp\" is not a protocol, "
			     "expected udp or tcp"),
	BAD("no_backends.yaml", ":3:15: vips[0].backends: the list is empty, a VIP needs at "
				"least one backend"),
	BAD("no_vips.yaml", ":1:7: vips: the list is empty, expected at least one VIP"),
	BAD("backend_twice.yaml", ":6:9: vips[0].backends[2]: backend 10.0.1.1 is listed twice "
				  "(first at backends[0], line 4)"),
	BAD("vip_twice.yaml", ":6:5: vips[1]: VIP 10.0.0.100 udp port 53 is listed twice "
			      "(first at vips[0], line 2)"),
	/* backend keys */
	BAD("weight_range.yaml", ":4:13: backends[0].weight: 65536 is out of range, "
				 "expected 0..65535"),
	BAD("state.yaml", ":4:12: backends[0].state: \"disabled\" is not a backend state, "
			  "expected up, drain or down"),
	BAD("mac_short.yaml", ":4:10: backends[0].mac: \"02:00:00:00:01\" is not a MAC address, "
			      "expected six hex bytes like 02:00:00:00:01:01"),
	BAD("mac_multicast.yaml", ":4:10: backends[0].mac: \"01:00:5e:00:00:01\" is a multicast "
				  "MAC address, expected a unicast next hop"),
	/* interface-wide keys */
	BAD("flow_timeout_zero.yaml", ":1:15: flow_timeout: 0 is out of range, expected 1..86400"),
	BAD("flow_timeout_units.yaml", ":1:15: flow_timeout: \"30s\" is not a decimal integer, "
				       "expected 1..86400"),
	BAD("flow_table_size_range.yaml", ":1:18: flow_table_size: 67108865 is out of range, "
					  "expected 1..67108864"),
	BAD("flow_table_size_hex.yaml", ":1:18: flow_table_size: \"0x10000\" is not a decimal "
					"integer, expected 1..67108864"),
	BAD("priority_range.yaml", ":1:11: priority: 1001 is out of range, expected 0..1000"),
	BAD("priority_float.yaml", ":1:11: priority: \"1e3\" is not a decimal integer, "
				   "expected 0..1000"),
	BAD("outer_source.yaml", ":1:15: outer_source: \"server\" is neither \"client\" nor an "
				 "IPv4 address"),
	BAD("outer_source_multicast.yaml", ":1:15: outer_source: \"224.0.0.5\" is a multicast "
					   "address (224.0.0.0/4), expected a unicast address"),
	BAD("encap.yaml", ":1:8: encap: \"gre\" is not an encapsulation, expected ipip or gue"),
	/* policies */
	BAD("policy_unknown.yaml", ":3:13: vips[0].policy: \"random\" is not a scheduling policy, "
				   "expected least-loaded, round-robin, weighted-round-robin, "
				   "hash, maglev, least-conn or least-packets-per-flow"),
	BAD("policy_table_size_prime.yaml", ":3:40: vips[0].policy.table_size: 65536 is not a "
					    "prime, expected a prime 2..65537 (e.g. 65537, 251)"),
	BAD("policy_table_size_range.yaml", ":3:40: vips[0].policy.table_size: 131071 is out of "
					    "range, expected 2..65537"),
	BAD("policy_table_size_not_maglev.yaml", ":3:14: vips[0].policy.table_size: only policy "
						 "type maglev has a table_size"),
	BAD("policy_table_too_small.yaml", ":2:5: vips[0]: maglev table_size 2 is smaller than "
					   "the VIP's 3 backends"),
	BAD("policy_maglev_vips.yaml", ":12:5: vips[9]: is VIP number 9 with policy maglev, the "
				       "limit is 8"),
	/* health_check */
	BAD("health_every_port.yaml", ":3:19: vips[0].health_check: the VIP serves every port: "
				      "give the port to probe (health_check.port)"),
	BAD("health_fall_zero.yaml", ":4:37: vips[0].health_check.fall: 0 is out of range, "
				     "expected 1..100"),
	BAD("health_interval_range.yaml", ":4:44: vips[0].health_check.interval_ms: 10 is out of "
					  "range, expected 50..3600000"),
	BAD("health_path_not_http.yaml", ":4:31: vips[0].health_check.path: only health check "
					 "type http has path"),
	BAD("health_path_space.yaml", ":6:13: vips[0].health_check.path: \"/a b\" holds a space, "
				      "control or non-ASCII character, expected a path in URL form "
				      "(%20 for a space)"),
	BAD("health_status_range.yaml", ":4:40: vips[0].health_check.status: 999 is out of range, "
					"expected 100..599"),
	BAD("health_interval_below_timeout.yaml", ":4:44: vips[0].health_check.interval_ms: 500 is "
						  "shorter than timeout_ms's default 1000, expected at "
						  "least that, or a timeout_ms of at most 500"),
	BAD("health_timeout_longer.yaml", ":4:62: vips[0].health_check.timeout_ms: 1500 is longer "
					  "than interval_ms 1000, expected at most that"),
	BAD("health_type.yaml", ":4:26: vips[0].health_check.type: \"icmp\" is not a health check "
				"type, expected tcp, udp or http"),
	BAD("health_udp_no_expect.yaml", ":5:7: vips[0].health_check: missing key \"expect\": a "
					 "udp check sends a request and expects a reply"),
	BAD("health_unknown_key.yaml", ":4:31: vips[0].health_check.interval: unknown key, "
				       "expected one of: type, port, via, interval_ms, timeout_ms, "
				       "rise, fall, send, expect, path, status"),
	BAD("health_via.yaml", ":4:36: vips[0].health_check.via: \"gre\" is not a way to reach "
			       "the backend, expected tunnel or direct"),
	BAD("health_via_tunnel_nat.yaml", ":5:31: vips[0].health_check.via: tunnel: a "
					  "forwarding: nat VIP sends its backends plain packets to "
					  "their own address, expected direct"),
};

static void test_bad_files(void)
{
	char err[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		memset(&cfg, 0xa5, sizeof(cfg));
		ASSERT_EQ(lb_config_load(bad_cases[i].file, &cfg, err, sizeof(err)), -1,
			  bad_cases[i].file);
		ASSERT_STREQ(err, bad_cases[i].message, bad_cases[i].file);
		ASSERT_TRUE(config_is_empty(&cfg), bad_cases[i].file);
	}
}

/* A file added to bad/ without an expected message would never be checked. */
static void test_bad_files_all_listed(void)
{
	struct dirent *entry;
	char path[PATH_MAX];
	size_t i, found = 0;
	DIR *dir;

	dir = opendir(BAD_DIR);
	if (!ASSERT_TRUE(dir != NULL, "open " BAD_DIR))
		return;
	while ((entry = readdir(dir))) {
		if (!strstr(entry->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), BAD_DIR "%s", entry->d_name);
		for (i = 0; i < ARRAY_SIZE(bad_cases); i++)
			if (!strcmp(bad_cases[i].file, path))
				break;
		if (!ASSERT_TRUE(i < ARRAY_SIZE(bad_cases), path))
			printf("    %s has no expected message in bad_cases\n", path);
		found++;
	}
	closedir(dir);
	ASSERT_EQ(found, ARRAY_SIZE(bad_cases), "files in " BAD_DIR);
	ASSERT_TRUE(found >= 20, "at least 20 bad files");
}

/* --- in-memory configs ------------------------------------------------------------ */

#define SEED_TAIL "vip: 123.168.9.8\nbackends: [{ip: 10.0.1.1}]\n"

/* One TCP VIP on port 8080 whose forwarding is @mode (on line 1, value at column 68). */
#define NAT_VIP(mode)                                                                    \
	"vips: [{address: 10.0.0.10, port: 8080, protocol: tcp, forwarding: " mode ", "      \
	"backends: [{ip: 10.0.0.2}]}]\n"
#define NAT_VIP6                                                                         \
	"vips: [{address: 2001:db8::100, port: 80, protocol: tcp, forwarding: nat, "         \
	"backends: [{ip: 2001:db8:1::1}]}]\n"

struct text_case {
	const char *description;
	const char *text;
	const char *message; /* NULL: loads */
};

static const struct text_case text_cases[] = {
	/* encap: a name, or a mapping with type and (gue only) port */
	{ "encap gue", "encap: gue\n" SEED_TAIL, NULL },
	{ "encap mapping, ipip", "encap: {type: ipip}\n" SEED_TAIL, NULL },
	{ "encap mapping, unknown type", "encap: {type: vxlan, port: 4789}\n" SEED_TAIL,
	  "mem:1:15: encap.type: \"vxlan\" is not an encapsulation, expected ipip or gue" },
	{ "encap mapping without type", "encap: {port: 7000}\n" SEED_TAIL,
	  "mem:1:8: encap: missing key \"type\"" },
	{ "encap port with ipip", "encap: {type: ipip, port: 7000}\n" SEED_TAIL,
	  "mem:1:21: encap.port: only encap type gue has a port" },
	{ "encap port before type", "encap: {port: 7000, type: ipip}\n" SEED_TAIL,
	  "mem:1:9: encap.port: only encap type gue has a port" },
	{ "encap port 0", "encap: {type: gue, port: 0}\n" SEED_TAIL,
	  "mem:1:26: encap.port: 0 is out of range, expected 1..65535" },
	{ "encap port too big", "encap: {type: gue, port: 65536}\n" SEED_TAIL,
	  "mem:1:26: encap.port: 65536 is out of range, expected 1..65535" },
	{ "encap unknown key", "encap: {type: gue, prot: 1}\n" SEED_TAIL,
	  "mem:1:20: encap.prot: unknown key (did you mean \"port\"?)" },
	{ "encap as a list", "encap: [gue]\n" SEED_TAIL,
	  "mem:1:8: encap: expected an encapsulation name or a mapping with \"type\", found a list" },
	/* forwarding: per VIP; nat needs nat_source, ipip/gue must be the encap */
	{ "forwarding nat with nat_source", NAT_VIP("nat") "nat_source: 10.0.0.10\n", NULL },
	{ "nat_source after, forwarding ipip", NAT_VIP("ipip") "nat_source: 10.0.0.10\n", NULL },
	{ "forwarding gue with encap gue", "encap: gue\n" NAT_VIP("gue"), NULL },
	{ "forwarding nat without nat_source", NAT_VIP("nat"),
	  "mem:1:68: vips[0].forwarding: nat needs the top-level key nat_source (the balancer "
	  "address the backends see and answer)" },
	{ "forwarding gue, encap ipip", NAT_VIP("gue"),
	  "mem:1:68: vips[0].forwarding: gue differs from the interface's encap ipip: set "
	  "encap: gue (all encapsulating VIPs share it)" },
	{ "forwarding ipip and gue", "encap: gue\nvips: [{address: 10.0.0.10, port: 80, "
	  "forwarding: gue, backends: [{ip: 10.0.0.2}]}, {address: 10.0.0.10, port: 81, "
	  "forwarding: ipip, backends: [{ip: 10.0.0.2}]}]\n",
	  "mem:2:128: vips[1].forwarding: ipip differs from forwarding gue at line 2: all "
	  "encapsulating VIPs share the interface's encap" },
	{ "forwarding unknown", NAT_VIP("dsr"),
	  "mem:1:68: vips[0].forwarding: \"dsr\" is not a forwarding mode, expected ipip, gue "
	  "or nat" },
	{ "forwarding nat, IPv6 VIP with nat_source6", NAT_VIP6 "nat_source6: 2001:db8::10\n",
	  NULL },
	{ "forwarding nat, IPv6 VIP with only nat_source", NAT_VIP6 "nat_source: 10.0.0.10\n",
	  "mem:1:70: vips[0].forwarding: nat of an IPv6 VIP needs the top-level key nat_source6 "
	  "(the balancer's IPv6 address the backends see and answer)" },
	{ "nat_source6 a list", NAT_VIP6 "nat_source6: [2001:db8::10]\n",
	  "mem:2:14: nat_source6: expected an IPv6 address, found a list" },
	{ "nat_source not unicast", NAT_VIP("nat") "nat_source: 224.0.0.1\n",
	  "mem:2:13: nat_source: \"224.0.0.1\" is a multicast address (224.0.0.0/4), expected "
	  "a unicast address" },
	/* integers: decimal only */
	{ "plus sign", "priority: +1\n" SEED_TAIL,
	  "mem:1:11: priority: \"+1\" is not a decimal integer, expected 0..1000" },
	{ "leading zero", "priority: 010\n" SEED_TAIL,
	  "mem:1:11: priority: \"010\" has a leading zero (YAML may read it as octal), "
	  "expected 0..1000" },
	{ "underscore", "flow_table_size: 1_000\n" SEED_TAIL,
	  "mem:1:18: flow_table_size: \"1_000\" is not a decimal integer, expected 1..67108864" },
	{ "float", "flow_timeout: 1.5\n" SEED_TAIL,
	  "mem:1:15: flow_timeout: \"1.5\" is not a decimal integer, expected 1..86400" },
	{ "2^32", "flow_table_size: 4294967296\n" SEED_TAIL,
	  "mem:1:18: flow_table_size: 4294967296 is out of range, expected 1..67108864" },
	{ "many digits", "priority: 123456789012345678901234567890123456789012345\n" SEED_TAIL,
	  "mem:1:11: priority: 1234567890123456789012345678901234567890... is out of range, "
	  "expected 0..1000" },
	{ "empty quoted number", "priority: \"\"\n" SEED_TAIL,
	  "mem:1:11: priority: \"\" is not a decimal integer, expected 0..1000" },
	{ "null number", "priority: ~\n" SEED_TAIL,
	  "mem:1:11: priority: no value given, expected an integer 0..1000" },
	{ "mapping for a number", "flow_timeout: {seconds: 3}\n" SEED_TAIL,
	  "mem:1:15: flow_timeout: expected an integer 1..86400, found a mapping" },
	{ "quoted number reads as its text", "flow_timeout: \"45\"\n" SEED_TAIL, NULL },
	{ "lowest values", "priority: 0\nflow_timeout: 1\nflow_table_size: 1\n" SEED_TAIL, NULL },
	{ "highest priority", "priority: 1000\n" SEED_TAIL, NULL },
	{ "port 0 is every port",
	  "vips: [{address: 10.0.0.1, port: 0, backends: [{ip: 10.0.1.1}]}]\n", NULL },
	/* what messages show of odd values */
	{ "long value cut", "vip: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
			    "backends: [{ip: 10.0.1.1}]\n",
	  "mem:1:6: vip: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not an IPv4 or IPv6 address" },
	{ "newline escaped", "vip: \"10.0.0.1\\n\"\nbackends: [{ip: 10.0.1.1}]\n",
	  "mem:1:6: vip: \"10.0.0.1\\x0a\" is not an IPv4 or IPv6 address" },
	{ "NUL in a value", "vip: \"10.0.0.1\\0junk\"\nbackends: [{ip: 10.0.1.1}]\n",
	  "mem:1:6: vip: \"10.0.0.1\\x00junk\" holds a NUL character, expected an IPv4 or "
	  "IPv6 address" },
	{ "quote in a key", "vips: [{\"por\\\"t\": 1}]\n",
	  "mem:1:9: vips[0].por\\\"t: unknown key (did you mean \"port\"?)" },
	/* keys */
	{ "typo two edits away", "vips: [{adress: 10.0.0.1, backends: [{ip: 10.0.1.1}]}]\n",
	  "mem:1:9: vips[0].adress: unknown key (did you mean \"address\"?)" },
	{ "swapped letters", "flow_tiemout: 3\n" SEED_TAIL,
	  "mem:1:1: flow_tiemout: unknown key (did you mean \"flow_timeout\"?)" },
	{ "seed keys in any order", "backends: [{ip: 10.0.1.1}]\nvip: 123.168.9.8\n", NULL },
	{ "backends before vip, vip missing", "backends: [{ip: 10.0.1.1}]\n",
	  "mem:1:1: top level: missing key \"vip\"" },
	/* aliases are followed, so a repeated VIP is still one VIP listed twice */
	{ "alias repeats a VIP",
	  "vips:\n  - &web {address: 10.0.0.1, backends: [{ip: 10.0.1.1}]}\n  - *web\n",
	  "mem:2:5: vips[1]: VIP 10.0.0.1 udp every port is listed twice "
	  "(first at vips[0], line 2)" },
	{ "alias to its own list", "vips: &loop [*loop]\n",
	  "mem:1:7: vips[0]: expected a VIP (a mapping with \"address\" and \"backends\"), "
	  "found a list" },
	{ "merge keys are not supported",
	  "vips: [{<<: {address: 10.0.0.1}, backends: [{ip: 10.0.1.1}]}]\n",
	  "mem:1:9: vips[0].<<: unknown key, expected one of: address, port, protocol, "
	  "policy, forwarding, backends, health_check, icmp_echo" },
	/* health_check: what the bad files do not show */
	{ "health_check on every port with a port",
	  "vips: [{address: 10.0.0.1, health_check: {type: tcp, port: 22}, "
	  "backends: [{ip: 10.0.1.1}]}]\n", NULL },
	{ "health_check empty send",
	  "vips: [{address: 10.0.0.1, port: 53, health_check: {type: udp, send: \"\", expect: a}, "
	  "backends: [{ip: 10.0.1.1}]}]\n",
	  "mem:1:70: vips[0].health_check.send: has 0 bytes, expected 1..256" },
	{ "health_check path without slash",
	  "vips: [{address: 10.0.0.1, port: 80, health_check: {type: http, path: healthz}, "
	  "backends: [{ip: 10.0.1.1}]}]\n",
	  "mem:1:71: vips[0].health_check.path: \"healthz\" does not start with /, expected a "
	  "path such as /healthz" },
	{ "health_check as a word",
	  "vips: [{address: 10.0.0.1, port: 80, health_check: tcp, backends: [{ip: 10.0.1.1}]}]\n",
	  "mem:1:52: vips[0].health_check: expected a mapping with \"type\" (tcp, udp or http), "
	  "found \"tcp\"" },
	{ "health_check without a type",
	  "vips: [{address: 10.0.0.1, port: 80, health_check: {rise: 2}, "
	  "backends: [{ip: 10.0.1.1}]}]\n",
	  "mem:1:52: vips[0].health_check: missing key \"type\"" },
	{ "policy key suggested",
	  "vips: [{address: 10.0.0.1, polcy: hash, backends: [{ip: 10.0.1.1}]}]\n",
	  "mem:1:28: vips[0].polcy: unknown key (did you mean \"policy\"?)" },
	{ "policy given twice",
	  "vips: [{address: 10.0.0.1, policy: hash, policy: maglev, backends: [{ip: 10.0.1.1}]}]\n",
	  "mem:1:42: vips[0].policy: key given twice (first on line 1)" },
	{ "policy mapping without a type",
	  "vips: [{address: 10.0.0.1, policy: {table_size: 7}, backends: [{ip: 10.0.1.1}]}]\n",
	  "mem:1:36: vips[0].policy: missing key \"type\"" },
	{ "same address, udp and tcp",
	  "vips:\n  - {address: 10.0.0.1, port: 53, backends: [{ip: 10.0.1.1}]}\n"
	  "  - {address: 10.0.0.1, port: 53, protocol: tcp, backends: [{ip: 10.0.1.1}]}\n", NULL },
	{ "same backend under two VIPs",
	  "vips:\n  - {address: 10.0.0.1, backends: [{ip: 10.0.1.1}]}\n"
	  "  - {address: 10.0.0.2, backends: [{ip: 10.0.1.1}]}\n", NULL },
	{ "zero MAC", "vip: 10.0.0.1\nbackends: [{ip: 10.0.1.1, mac: \"00:00:00:00:00:00\"}]\n",
	  "mem:2:32: backends[0].mac: \"00:00:00:00:00:00\" is the zero MAC address, "
	  "expected a unicast next hop" },
	{ "broadcast MAC", "vip: 10.0.0.1\nbackends: [{ip: 10.0.1.1, mac: ff:ff:ff:ff:ff:ff}]\n",
	  "mem:2:32: backends[0].mac: \"ff:ff:ff:ff:ff:ff\" is a multicast MAC address, "
	  "expected a unicast next hop" },
	{ "MAC with dashes", "vip: 10.0.0.1\nbackends: [{ip: 10.0.1.1, mac: 02-00-00-00-01-01}]\n",
	  "mem:2:32: backends[0].mac: \"02-00-00-00-01-01\" is not a MAC address, "
	  "expected six hex bytes like 02:00:00:00:01:01" },
	{ "outer_source broadcast", "outer_source: 255.255.255.255\n" SEED_TAIL,
	  "mem:1:15: outer_source: \"255.255.255.255\" is the broadcast address, "
	  "expected a unicast address" },
	{ "state in capitals", "vip: 10.0.0.1\nbackends: [{ip: 10.0.1.1, state: UP}]\n",
	  "mem:2:34: backends[0].state: \"UP\" is not a backend state, "
	  "expected up, drain or down" },
};

static void test_text_cases(void)
{
	char err[LB_CONFIG_ERR_LEN];
	const struct text_case *c;
	struct lb_config cfg;
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(text_cases); i++) {
		c = &text_cases[i];
		ret = lb_config_parse("mem", c->text, strlen(c->text), &cfg, err, sizeof(err));
		if (c->message) {
			ASSERT_EQ(ret, -1, c->description);
			ASSERT_STREQ(err, c->message, c->description);
			ASSERT_TRUE(config_is_empty(&cfg), c->description);
		} else if (!ASSERT_EQ(ret, 0, c->description)) {
			printf("    error: %s\n", err);
		}
		lb_config_free(&cfg);
	}
}

/* Values the table above only shows load: check what they load as. */
static void test_text_values(void)
{
	static const char text[] = "flow_timeout: \"45\"\n"
				   "vips:\n"
				   "  - {address: 10.0.0.1, port: 53, backends: [{ip: 10.0.1.1}]}\n"
				   "  - {address: 10.0.0.1, port: 53, protocol: tcp,\n"
				   "     backends: [{ip: 10.0.1.1, mac: 02:AB:cd:00:00:01}]}\n";
	char err[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;

	if (!ASSERT_OK(lb_config_parse("mem", text, strlen(text), &cfg, err, sizeof(err)), err))
		return;
	ASSERT_EQ(cfg.flow_timeout_s, 45, "quoted flow_timeout");
	ASSERT_EQ(cfg.vip_count, 2, "vip_count");
	ASSERT_EQ(cfg.vips[0].proto, IPPROTO_UDP, "vips[0] default protocol");
	ASSERT_EQ(cfg.vips[1].proto, IPPROTO_TCP, "vips[1] protocol");
	ASSERT_EQ(cfg.vips[1].line, 4, "vips[1] line");
	ASSERT_EQ(cfg.vips[1].backends[0].line, 5, "vips[1].backends[0] line");
	ASSERT_TRUE(cfg.vips[1].backends[0].has_mac, "has_mac");
	ASSERT_BYTES(cfg.vips[1].backends[0].mac, 6, "\x02\xab\xcd\x00\x00\x01", 6,
		     "mixed-case MAC");
	lb_config_free(&cfg);
}

/* forwarding and nat_source land in the config; no forwarding: is the interface's encap. */
static void test_forwarding_values(void)
{
	static const char text[] = "nat_source: 10.0.0.10\n"
				   "nat_source6: 2001:db8::10\n"
				   "vips:\n"
				   "  - {address: 10.0.0.10, port: 8080, protocol: tcp, forwarding: nat,\n"
				   "     backends: [{ip: 10.0.0.2}]}\n"
				   "  - {address: 10.0.0.20, forwarding: ipip, backends: [{ip: 10.0.0.2}]}\n"
				   "  - {address: 10.0.0.30, backends: [{ip: 10.0.0.2}]}\n"
				   "  - {address: 2001:db8::100, forwarding: nat,\n"
				   "     backends: [{ip: 2001:db8:1::1}]}\n";
	uint8_t want6[16];
	char err[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;

	if (!ASSERT_OK(lb_config_parse("mem", text, strlen(text), &cfg, err, sizeof(err)), err))
		return;
	ASSERT_EQ(cfg.nat_src, htonl(0x0a00000a), "nat_source");
	inet_pton(AF_INET6, "2001:db8::10", want6);
	ASSERT_BYTES(cfg.nat_src6, 16, want6, 16, "nat_source6");
	ASSERT_EQ(cfg.vips[3].forwarding, LB_FORWARD_NAT, "vips[3] (IPv6) forwarding nat");
	ASSERT_EQ(cfg.vips[0].forwarding, LB_FORWARD_NAT, "vips[0] forwarding nat");
	ASSERT_EQ(cfg.vips[1].forwarding, LB_FORWARD_ENCAP, "vips[1] forwarding ipip");
	ASSERT_EQ(cfg.vips[2].forwarding, LB_FORWARD_ENCAP, "vips[2] default forwarding");
	lb_config_free(&cfg);
}

/* health_check: every key lands in the config; the defaults, and the port from the VIP. */
static void test_health_values(void)
{
	char err[LB_CONFIG_ERR_LEN];
	const struct lb_health_config *h;
	struct lb_config cfg;

	if (!ASSERT_OK(lb_config_load(GOOD_DIR "health.yaml", &cfg, err, sizeof(err)), err))
		return;
	ASSERT_EQ(cfg.vip_count, 5, "vip_count");
	h = &cfg.vips[0].health;
	ASSERT_EQ(h->type, LB_HEALTH_TCP, "vips[0] type");
	ASSERT_EQ(h->port, 80, "vips[0] port from the VIP");
	ASSERT_EQ(h->interval_ms, LB_HEALTH_DEFAULT_INTERVAL_MS, "vips[0] default interval");
	ASSERT_EQ(h->timeout_ms, LB_HEALTH_DEFAULT_TIMEOUT_MS, "vips[0] default timeout");
	ASSERT_EQ(h->rise, LB_HEALTH_DEFAULT_RISE, "vips[0] default rise");
	ASSERT_EQ(h->fall, LB_HEALTH_DEFAULT_FALL, "vips[0] default fall");
	ASSERT_EQ(h->line, 10, "vips[0] health_check line");
	ASSERT_EQ(h->via, LB_HEALTH_VIA_TUNNEL, "vips[0] an ipip VIP probed through the tunnel");
	h = &cfg.vips[1].health;
	ASSERT_EQ(h->type, LB_HEALTH_HTTP, "vips[1] type");
	ASSERT_STREQ(h->path, "/healthz?full=1", "vips[1] path");
	ASSERT_EQ(h->status, 204, "vips[1] status");
	ASSERT_EQ(h->interval_ms, 500, "vips[1] interval");
	ASSERT_EQ(h->timeout_ms, 500, "vips[1] timeout equal to the interval");
	ASSERT_EQ(h->rise, 1, "vips[1] rise");
	ASSERT_EQ(h->fall, 5, "vips[1] fall");
	h = &cfg.vips[2].health;
	ASSERT_EQ(h->type, LB_HEALTH_UDP, "vips[2] type");
	ASSERT_EQ(h->port, 53, "vips[2] port on an every-port VIP");
	ASSERT_BYTES(h->send, h->send_len, "ping\n", 5, "vips[2] send with its escape");
	ASSERT_BYTES(h->expect, h->expect_len, "pong", 4, "vips[2] expect");
	ASSERT_EQ(h->rise, 100, "vips[2] rise");
	ASSERT_EQ(h->interval_ms, 50, "vips[2] lowest interval");
	ASSERT_EQ(h->via, LB_HEALTH_VIA_DIRECT, "vips[2] via direct as written");
	h = &cfg.vips[3].health;
	ASSERT_EQ(h->via, LB_HEALTH_VIA_DIRECT, "vips[3] a nat VIP probed directly by default");
	h = &cfg.vips[4].health;
	ASSERT_EQ(h->via, LB_HEALTH_VIA_TUNNEL, "vips[4] a gue VIP with via: tunnel");
	ASSERT_STREQ(lb_health_via_name(LB_HEALTH_VIA_TUNNEL), "tunnel", "name of tunnel");
	ASSERT_STREQ(lb_health_via_name(LB_HEALTH_VIA_DIRECT), "direct", "name of direct");
	lb_config_free(&cfg);
	/* IPv6 backends: through the tunnel by default, of an IPv6 VIP or an IPv4 one. */
	if (!ASSERT_OK(lb_config_load(GOOD_DIR "health6.yaml", &cfg, err, sizeof(err)), err))
		return;
	ASSERT_EQ(cfg.vip_count, 4, "IPv6 vip_count");
	h = &cfg.vips[0].health;
	ASSERT_EQ(h->type, LB_HEALTH_HTTP, "IPv6 vips[0] type");
	ASSERT_EQ(h->port, 80, "IPv6 vips[0] port from the VIP");
	ASSERT_EQ(h->via, LB_HEALTH_VIA_TUNNEL, "IPv6 vips[0] through the tunnel by default");
	h = &cfg.vips[1].health;
	ASSERT_EQ(h->type, LB_HEALTH_UDP, "IPv6 vips[1] type");
	ASSERT_EQ(h->via, LB_HEALTH_VIA_DIRECT, "IPv6 vips[1] via direct as written");
	h = &cfg.vips[2].health;
	ASSERT_EQ(h->type, LB_HEALTH_TCP, "mixed vips[2] type");
	ASSERT_EQ(h->via, LB_HEALTH_VIA_TUNNEL, "mixed vips[2] through the tunnel by default");
	ASSERT_EQ(cfg.vips[3].health.via, LB_HEALTH_VIA_DIRECT,
		  "IPv4 VIP's IPv6 backend via direct as written");
	lb_config_free(&cfg);
	/* No block: no checks. */
	if (!ASSERT_OK(lb_config_load(GOOD_DIR "extended.yaml", &cfg, err, sizeof(err)), err))
		return;
	ASSERT_EQ(cfg.vips[0].health.type, LB_HEALTH_NONE, "no health_check");
	ASSERT_STREQ(lb_health_type_name(LB_HEALTH_NONE), "none", "name of no check");
	ASSERT_STREQ(lb_health_type_name(LB_HEALTH_HTTP), "http", "name of http");
	lb_config_free(&cfg);
}

/* Only @len bytes are read: the text need not end in NUL, and what follows is not read. */
static void test_text_length(void)
{
	static const char text[] = SEED_TAIL "this: is not read";
	char err[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;

	ASSERT_OK(lb_config_parse("mem", text, strlen(SEED_TAIL), &cfg, err, sizeof(err)), err);
	ASSERT_EQ(cfg.vip_count, 1, "vip_count");
	lb_config_free(&cfg);
	ASSERT_EQ(lb_config_parse("mem", text, sizeof(text) - 1, &cfg, err, sizeof(err)), -1,
		  "whole text");
	ASSERT_STREQ(err, "mem:3:1: this: unknown key, expected one of: vip, backends, vips, "
		     "encap, outer_source, outer_source6, nat_source, nat_source6, priority, flow_timeout, "
		     "flow_table_size, icmp_rate, icmp_burst",
		     "whole text");
	ASSERT_EQ(lb_config_parse("mem", NULL, 0, &cfg, err, sizeof(err)), -1, "NULL text");
	ASSERT_STREQ(err, "mem:1:1: top level: the file is empty, expected a mapping with \"vips\"",
		     "NULL text");
}

/* --- limits: generated configs at and one past each limit ------------------------- */

/* Writes "vips:" and one flow-style VIP a line; VIP v gets backends[v] backends.
 * *column is set to the 1-based column of the last VIP's backends list.
 */
static char *generate(size_t vip_count, const size_t *backends, size_t *column)
{
	size_t size = 0, v, b;
	char *text = NULL;
	long start;
	FILE *f;

	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	fprintf(f, "vips:\n");
	for (v = 0; v < vip_count; v++) {
		start = ftell(f);
		fprintf(f, "  - {address: 10.1.%zu.%zu, backends: ", v >> 8, v & 0xff);
		*column = ftell(f) - start + 1;
		for (b = 0; b < backends[v]; b++)
			fprintf(f, "%s{ip: 10.2.%zu.%zu}", b ? ", " : "[", b >> 8, b & 0xff);
		fprintf(f, "]}\n");
	}
	fclose(f);
	return text;
}

struct limit_case {
	const char *description;
	size_t vip_count;
	size_t backends_each; /* every VIP but the last */
	size_t backends_last;
	const char *message;  /* NULL: loads; "%zu" stands for the last VIP's column */
};

static const struct limit_case limit_cases[] = {
	{ "LB_MAX_VIPS VIPs", LB_MAX_VIPS, 1, 1, NULL },
	{ "one VIP too many", LB_MAX_VIPS + 1, 1, 1,
	  "limits:2:3: vips: has 257 VIPs, the limit is 256" },
	{ "LB_MAX_BACKENDS_PER_VIP backends", 1, 0, LB_MAX_BACKENDS_PER_VIP, NULL },
	{ "one backend too many for a VIP", 1, 0, LB_MAX_BACKENDS_PER_VIP + 1,
	  "limits:2:%zu: vips[0].backends: has 1025 backends, the limit is 1024" },
	{ "LB_MAX_BACKENDS backends in all", LB_MAX_BACKENDS / LB_MAX_BACKENDS_PER_VIP,
	  LB_MAX_BACKENDS_PER_VIP, LB_MAX_BACKENDS_PER_VIP, NULL },
	{ "one backend too many in all", LB_MAX_BACKENDS / LB_MAX_BACKENDS_PER_VIP + 1,
	  LB_MAX_BACKENDS_PER_VIP, 1,
	  "limits:6:%zu: vips[4].backends: makes 4097 backends in all, the limit is 4096 "
	  "(a backend under two VIPs counts twice)" },
};

static void test_limits(void)
{
	char err[LB_CONFIG_ERR_LEN], expected[LB_CONFIG_ERR_LEN];
	size_t backends[LB_MAX_VIPS + 1], column = 0, i, v, total;
	const struct limit_case *c;
	struct lb_config cfg;
	char *text;
	int ret;

	for (i = 0; i < ARRAY_SIZE(limit_cases); i++) {
		c = &limit_cases[i];
		for (v = 0; v < c->vip_count; v++)
			backends[v] = v + 1 < c->vip_count ? c->backends_each : c->backends_last;
		text = generate(c->vip_count, backends, &column);
		if (!ASSERT_TRUE(text != NULL, c->description))
			continue;
		ret = lb_config_parse("limits", text, strlen(text), &cfg, err, sizeof(err));
		free(text);
		if (c->message) {
			snprintf(expected, sizeof(expected), c->message, column);
			ASSERT_EQ(ret, -1, c->description);
			ASSERT_STREQ(err, expected, c->description);
			ASSERT_TRUE(config_is_empty(&cfg), c->description);
			continue;
		}
		if (!ASSERT_EQ(ret, 0, c->description)) {
			printf("    error: %s\n", err);
			continue;
		}
		ASSERT_EQ(cfg.vip_count, c->vip_count, c->description);
		for (v = 0, total = 0; v < cfg.vip_count; v++)
			total += cfg.vips[v].backend_count;
		ASSERT_EQ(total, (c->vip_count - 1) * c->backends_each + c->backends_last,
			  c->description);
		lb_config_free(&cfg);
	}
}

/* --- limits on the YAML itself: hostile files refused before any tree is built ------ */

/* @count copies of @unit after @head, then @tail; NULL if out of memory. */
static char *repeat(const char *head, const char *unit, size_t count, const char *tail,
		    size_t *len)
{
	size_t head_len = strlen(head), unit_len = strlen(unit), tail_len = strlen(tail), i;
	char *text = malloc(head_len + unit_len * count + tail_len + 1), *p;

	if (!text)
		return NULL;
	p = text;
	memcpy(p, head, head_len);
	p += head_len;
	for (i = 0; i < count; i++, p += unit_len)
		memcpy(p, unit, unit_len);
	memcpy(p, tail, tail_len + 1);
	*len = p + tail_len - text;
	return text;
}

/* "[" * n then "]" * n, or "{a: " * n, "1" and "}" * n: nested n deep under vips. */
static char *nested(char open, size_t n, bool closed, size_t *len)
{
	const char *unit = open == '[' ? "[" : "{a: ";
	size_t unit_len = strlen(unit), i;
	char *text = malloc(6 + n * unit_len + 1 + n + 2), *p;

	if (!text)
		return NULL;
	memcpy(text, "vips: ", 6);
	p = text + 6;
	for (i = 0; i < n; i++, p += unit_len)
		memcpy(p, unit, unit_len);
	if (open == '{')
		*p++ = '1';
	for (i = 0; closed && i < n; i++)
		*p++ = open == '[' ? ']' : '}';
	*p++ = '\n';
	*p = '\0';
	*len = p - text;
	return text;
}

/* One line per level, "a:" indented two more each time: block mappings n deep. */
static char *nested_block(size_t n, size_t *len)
{
	size_t size = 0, i;
	char *text = NULL;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	for (i = 0; i < n; i++)
		fprintf(f, "%*sa:\n", (int)(2 * i), "");
	fprintf(f, "%*s1\n", (int)(2 * n), "");
	fclose(f);
	*len = size;
	return text;
}

/* "vips: [&a0 x, &a1 x, ...]": @count anchors. */
static char *anchored(size_t count, size_t *len)
{
	size_t size = 0, i;
	char *text = NULL;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	fprintf(f, "vips: [");
	for (i = 0; i < count; i++)
		fprintf(f, "%s&a%zu x", i ? ", " : "", i);
	fprintf(f, "]\n");
	fclose(f);
	*len = size;
	return text;
}

struct limit_text {
	const char *description;
	char *text;
	size_t len;
	const char *message;
};

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Each case is refused with the limit's message, or, one step below the limit, with
 * the message the schema gives (the limit is not what stops it). The time each took
 * is printed: what used to take libyaml's loader minutes now ends at the limit.
 */
static void test_yaml_limits(void)
{
	char err[LB_CONFIG_ERR_LEN];
	struct limit_text cases[] = {
		{ "lists 15 deep under the top mapping (16 levels)", NULL, 0,
		  "limits:1:8: vips[0]: expected a VIP (a mapping with \"address\" and "
		  "\"backends\"), found a list" },
		{ "lists 16 deep under the top mapping (17 levels)", NULL, 0,
		  "limits:1:22: YAML limit: lists and mappings nested 17 deep, the limit is 16" },
		{ "100000 nested lists", NULL, 0,
		  "limits:1:22: YAML limit: lists and mappings nested 17 deep, the limit is 16" },
		{ "1000000 unclosed lists", NULL, 0,
		  "limits:1:22: YAML limit: lists and mappings nested 17 deep, the limit is 16" },
		{ "50000 nested flow mappings", NULL, 0,
		  "limits:1:67: YAML limit: lists and mappings nested 17 deep, the limit is 16" },
		{ "block mappings 17 deep", NULL, 0,
		  "limits:17:33: YAML limit: lists and mappings nested 17 deep, the limit is 16" },
		{ "256 anchors", NULL, 0,
		  "limits:1:8: vips[0]: expected a VIP (a mapping with \"address\" and "
		  "\"backends\"), found \"x\"" },
		{ "257 anchors", NULL, 0,
		  "limits:1:2202: YAML limit: anchor number 257 (&a256), the limit is 256" },
		{ "60000 anchors", NULL, 0,
		  "limits:1:2202: YAML limit: anchor number 257 (&a256), the limit is 256" },
		{ "4096 aliases", NULL, 0,
		  "limits:1:1: x: unknown key, expected one of: vip, backends, vips, encap, "
		  "outer_source, outer_source6, nat_source, nat_source6, priority, flow_timeout, flow_table_size, "
		  "icmp_rate, icmp_burst" },
		{ "4097 aliases", NULL, 0,
		  "limits:2:16392: YAML limit: alias number 4097 (*a), the limit is 4096" },
		{ "200000 aliases", NULL, 0,
		  "limits:2:16392: YAML limit: alias number 4097 (*a), the limit is 4096" },
		{ "65536 nodes", NULL, 0, "limits:1:7: vips: has 65533 VIPs, the limit is 256" },
		{ "65537 nodes", NULL, 0,
		  "limits:1:131074: YAML limit: node number 65537 (a key, value, list or "
		  "mapping), the limit is 65536" },
	};
	struct timespec start;
	struct lb_config cfg;
	size_t i;

	cases[0].text = nested('[', 15, true, &cases[0].len);
	cases[1].text = nested('[', 16, true, &cases[1].len);
	cases[2].text = nested('[', 100000, true, &cases[2].len);
	cases[3].text = nested('[', 1000000, false, &cases[3].len);
	cases[4].text = nested('{', 50000, true, &cases[4].len);
	cases[5].text = nested_block(17, &cases[5].len);
	cases[6].text = anchored(256, &cases[6].len);
	cases[7].text = anchored(257, &cases[7].len);
	cases[8].text = anchored(60000, &cases[8].len);
	cases[9].text = repeat("x: &a 1\nvips: [*a", ", *a", 4095, "]\n", &cases[9].len);
	cases[10].text = repeat("x: &a 1\nvips: [*a", ", *a", 4096, "]\n", &cases[10].len);
	cases[11].text = repeat("x: &a 1\nvips: [*a", ", *a", 199999, "]\n", &cases[11].len);
	/* The top mapping, "vips" and the list are 3 nodes. */
	cases[12].text = repeat("vips: [1", ",1", 65532, "]\n", &cases[12].len);
	cases[13].text = repeat("vips: [1", ",1", 65533, "]\n", &cases[13].len);

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!ASSERT_TRUE(cases[i].text != NULL, cases[i].description))
			continue;
		ASSERT_TRUE(cases[i].len <= LB_CONFIG_MAX_SIZE, "within the size limit");
		clock_gettime(CLOCK_MONOTONIC, &start);
		ASSERT_EQ(lb_config_parse("limits", cases[i].text, cases[i].len, &cfg, err,
					  sizeof(err)), -1, cases[i].description);
		printf("    %s (%zu bytes): %.3f s\n", cases[i].description, cases[i].len,
		       seconds_since(&start));
		ASSERT_STREQ(err, cases[i].message, cases[i].description);
		ASSERT_TRUE(config_is_empty(&cfg), cases[i].description);
		free(cases[i].text);
	}
}

/* A valid config padded with a comment to exactly @size bytes. */
static char *padded_config(size_t size)
{
	static const char config[] = SEED_TAIL "#";
	char *text = malloc(size + 1);

	if (!text)
		return NULL;
	memcpy(text, config, sizeof(config) - 1);
	memset(text + sizeof(config) - 1, 'x', size - sizeof(config));
	text[size - 1] = '\n';
	text[size] = '\0';
	return text;
}

#define LINE "  - {address: 10.0.0.1, backends: [{ip: 10.0.1.1}]}\n"
#define LINE_LEN (sizeof(LINE) - 1)
/* Where byte LB_CONFIG_MAX_SIZE (from 0) of "vips:\n" and LINEs falls. */
#define LIMIT_LINE ((size_t)2 + (LB_CONFIG_MAX_SIZE - 6) / LINE_LEN)
#define LIMIT_COLUMN ((size_t)1 + (LB_CONFIG_MAX_SIZE - 6) % LINE_LEN)

/* LB_CONFIG_MAX_SIZE bytes load; one more, or a 16 MiB file, is refused at the
 * position where the file crosses the limit, without reading the rest of it.
 */
static void test_size_limit(void)
{
	static const char path[] = "/tmp/xdp-lb-test-config-16m.yaml";
	char err[LB_CONFIG_ERR_LEN], expected[LB_CONFIG_ERR_LEN];
	size_t big = 16U << 20;
	struct timespec start;
	struct lb_config cfg;
	char *text, *p;
	FILE *f;

	text = padded_config(LB_CONFIG_MAX_SIZE);
	if (!ASSERT_TRUE(text != NULL, "1 MiB config"))
		return;
	if (!ASSERT_OK(lb_config_parse("limits", text, LB_CONFIG_MAX_SIZE, &cfg, err,
				       sizeof(err)), err))
		printf("    error: %s\n", err);
	ASSERT_EQ(cfg.vip_count, 1, "a config of exactly the size limit loads");
	lb_config_free(&cfg);
	free(text);

	text = padded_config(LB_CONFIG_MAX_SIZE + 1);
	if (!ASSERT_TRUE(text != NULL, "1 MiB + 1 config"))
		return;
	ASSERT_EQ(lb_config_parse("limits", text, LB_CONFIG_MAX_SIZE + 1, &cfg, err, sizeof(err)),
		  -1, "one byte over the size limit");
	/* Line 3 is the comment: the limit falls on its last byte. */
	snprintf(expected, sizeof(expected), "limits:3:%zu: YAML limit: the file is longer than "
		 "the limit, 1048576 bytes (1 MiB)", LB_CONFIG_MAX_SIZE + 1 - strlen(SEED_TAIL));
	ASSERT_STREQ(err, expected, "one byte over the size limit");
	ASSERT_TRUE(config_is_empty(&cfg), "one byte over the size limit");
	free(text);

	/* 16 MiB of VIPs, LINE_LEN bytes a line after "vips:\n". */
	text = malloc(big + 1);
	if (!ASSERT_TRUE(text != NULL, "16 MiB config"))
		return;
	memcpy(text, "vips:\n", 6);
	for (p = text + 6; p + LINE_LEN <= text + big; p += LINE_LEN)
		memcpy(p, LINE, LINE_LEN);
	memset(p, '\n', text + big - p);
	text[big] = '\0';
	snprintf(expected, sizeof(expected), "limits:%zu:%zu: YAML limit: the file is longer "
		 "than the limit, 1048576 bytes (1 MiB)", LIMIT_LINE, LIMIT_COLUMN);
	clock_gettime(CLOCK_MONOTONIC, &start);
	ASSERT_EQ(lb_config_parse("limits", text, big, &cfg, err, sizeof(err)), -1, "16 MiB");
	printf("    16 MiB in memory: %.3f s\n", seconds_since(&start));
	ASSERT_STREQ(err, expected, "16 MiB in memory");

	/* The same from a file: read up to the limit only. */
	f = fopen(path, "w");
	if (!ASSERT_TRUE(f != NULL, path)) {
		free(text);
		return;
	}
	ASSERT_EQ(fwrite(text, 1, big, f), big, "write the 16 MiB file");
	fclose(f);
	free(text);
	snprintf(expected, sizeof(expected), "%s:%zu:%zu: YAML limit: the file is longer than the "
		 "limit, 1048576 bytes (1 MiB)", path, LIMIT_LINE, LIMIT_COLUMN);
	clock_gettime(CLOCK_MONOTONIC, &start);
	ASSERT_EQ(lb_config_load(path, &cfg, err, sizeof(err)), -1, "16 MiB file");
	printf("    16 MiB file: %.3f s\n", seconds_since(&start));
	ASSERT_STREQ(err, expected, "16 MiB file");
	ASSERT_TRUE(config_is_empty(&cfg), "16 MiB file");
	unlink(path);
}

/* --- opening, emptiness on failure, allocation failures --------------------------- */

static void test_open_errors(void)
{
	char err[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	ASSERT_EQ(lb_config_load("tests/config/no-such-file.yaml", &cfg, err, sizeof(err)), -1,
		  "missing file");
	ASSERT_STREQ(err, "Failed to open config file tests/config/no-such-file.yaml: "
		     "No such file or directory", "missing file");
	ASSERT_TRUE(config_is_empty(&cfg), "missing file leaves cfg empty");

	memset(&cfg, 0xa5, sizeof(cfg));
	ASSERT_EQ(lb_config_load("tests/config", &cfg, err, sizeof(err)), -1, "directory");
	ASSERT_STREQ(err, "Failed to read config file tests/config: Is a directory", "directory");
	ASSERT_TRUE(config_is_empty(&cfg), "directory leaves cfg empty");
}

/* An error found after VIPs and backends were allocated still leaves nothing behind;
 * a failed load does not spoil the next one; a short buffer gets a cut message.
 */
static void test_failed_load_leaves_empty(void)
{
	char err[LB_CONFIG_ERR_LEN], tiny[12];
	struct lb_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	ASSERT_EQ(lb_config_load(BAD_DIR "vip_twice.yaml", &cfg, err, sizeof(err)), -1,
		  "late error");
	ASSERT_TRUE(config_is_empty(&cfg), "late error leaves cfg empty");
	lb_config_free(&cfg);
	ASSERT_TRUE(config_is_empty(&cfg), "lb_config_free on an empty config");

	ASSERT_OK(lb_config_load(GOOD_DIR "seed.yaml", &cfg, err, sizeof(err)), err);
	ASSERT_EQ(cfg.vip_count, 1, "load after a failed load");
	lb_config_free(&cfg);

	ASSERT_EQ(lb_config_load(BAD_DIR "weight_range.yaml", &cfg, tiny, sizeof(tiny)), -1,
		  "short message buffer");
	ASSERT_STREQ(tiny, "tests/confi", "message cut to the buffer");
	ASSERT_EQ(lb_config_load(BAD_DIR "weight_range.yaml", &cfg, NULL, 0), -1, "no buffer");
}

/* Fails the 1st, 2nd, ... allocation of one load until a load needs no more: each load
 * must fail cleanly (-1, a message, cfg empty; valgrind shows nothing leaked) or, where
 * the allocation was optional, load the same config.
 */
static void run_alloc_failures(const char *what, const char *text, size_t len)
{
	char err[LB_CONFIG_ERR_LEN], expected[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;
	long n, failed = 0;
	int ret;

	for (n = 1; n < 100000; n++) {
		alloc_count = 0;
		alloc_fail_at = n;
		if (text)
			ret = lb_config_parse(what, text, len, &cfg, err, sizeof(err));
		else
			ret = lb_config_load(what, &cfg, err, sizeof(err));
		alloc_fail_at = 0;
		if (alloc_count < n) {
			/* Nothing failed: every allocation of a load has been tried. */
			ASSERT_EQ(ret, 0, what);
			lb_config_free(&cfg);
			break;
		}
		if (ret == 0) {
			/* One the code can do without: stdio then reads unbuffered. */
			ASSERT_EQ(cfg.vip_count, 4, what);
			lb_config_free(&cfg);
			continue;
		}
		failed++;
		ASSERT_EQ(ret, -1, what);
		ASSERT_TRUE(config_is_empty(&cfg), what);
		snprintf(expected, sizeof(expected), "%s: out of memory", what);
		if (text)
			ASSERT_STREQ(err, expected, what);
		else
			ASSERT_TRUE(err[0] != '\0', what);
	}
	ASSERT_TRUE(failed > 10, "allocations were failed one by one");
	printf("    %s: %ld allocations failed in turn\n", what, failed);
}

/* Valgrind puts its own malloc in place of the binary's unless told not to. */
static bool alloc_failures_work(void)
{
	void *(*volatile allocate)(size_t) = malloc;
	void *ptr;

	alloc_count = 0;
	alloc_fail_at = 1;
	ptr = allocate(16);
	alloc_fail_at = 0;
	free(ptr);
	return alloc_count == 1 && !ptr;
}

static void test_allocation_failures(void)
{
	size_t len = 0;
	char *text;

	if (!alloc_failures_work())
		TEST_SKIP("malloc is not the test's "
			  "(valgrind: --soname-synonyms=somalloc=nouserintercepts)");
	text = slurp(GOOD_DIR "extended.yaml", &len);
	if (!ASSERT_TRUE(text != NULL, "read extended.yaml"))
		return;
	run_alloc_failures("mem", text, len);
	free(text);
	run_alloc_failures(GOOD_DIR "extended.yaml", NULL, 0);
}

static void test_names(void)
{
	ASSERT_STREQ(lb_proto_name(IPPROTO_UDP), "udp", "udp");
	ASSERT_STREQ(lb_proto_name(IPPROTO_TCP), "tcp", "tcp");
	ASSERT_STREQ(lb_proto_name(IPPROTO_ICMP), "unknown", "icmp");
	ASSERT_STREQ(lb_state_name(LB_BACKEND_UP), "up", "up");
	ASSERT_STREQ(lb_state_name(LB_BACKEND_DRAIN), "drain", "drain");
	ASSERT_STREQ(lb_state_name(LB_BACKEND_DOWN), "down", "down");
	ASSERT_STREQ(lb_state_name(LB_BACKEND_EMPTY), "unknown", "empty slot");
	ASSERT_STREQ(lb_encap_name(LB_ENCAP_IPIP), "ipip", "ipip");
	ASSERT_STREQ(lb_encap_name(LB_ENCAP_GUE), "gue", "gue");
	ASSERT_STREQ(lb_encap_name(7), "unknown", "encap 7");
}

/* The file paths are relative to the top of the tree: go there when started elsewhere
 * (the binary is <top>/build/tests/test_config).
 */
static void chdir_to_top(void)
{
	char exe[PATH_MAX];
	ssize_t len;

	if (!access(GOOD_DIR "seed.yaml", R_OK))
		return;
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return;
	exe[len] = '\0';
	if (chdir(dirname(dirname(dirname(exe)))))
		fprintf(stderr, "cannot go to the top of the tree: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		TEST_CASE(test_seed_file_unchanged),
		TEST_CASE(test_good_files),
		TEST_CASE(test_bad_files),
		TEST_CASE(test_bad_files_all_listed),
		TEST_CASE(test_text_cases),
		TEST_CASE(test_text_values),
		TEST_CASE(test_forwarding_values),
		TEST_CASE(test_health_values),
		TEST_CASE(test_text_length),
		TEST_CASE(test_limits),
		TEST_CASE(test_yaml_limits),
		TEST_CASE(test_size_limit),
		TEST_CASE(test_open_errors),
		TEST_CASE(test_failed_load_leaves_empty),
		TEST_CASE(test_allocation_failures),
		TEST_CASE(test_names),
	};

	chdir_to_top();
	return test_main("config", cases, ARRAY_SIZE(cases), argc, argv);
}
