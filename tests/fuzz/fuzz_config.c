// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: lb_config_parse() (reader and validator) on any bytes.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined (make fuzz), so a crash,
 * an out-of-bounds access, undefined behaviour or a leak ends the run with the
 * input that caused it. On top of that, every input must end in one of two
 * documented ways (docs/configuration.md):
 *   - accepted: a config within every limit, no message;
 *   - rejected: -1, an empty config, and one printable line
 *     "<file>:<line>:<col>: <field>: <what>" with the position inside the
 *     input, or "<file>: out of memory".
 * A broken promise aborts, which libFuzzer reports like a crash.
 *
 * Not linked with tests/config/test_config.c, whose malloc stand-ins would
 * hide every allocation from AddressSanitizer.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define NAME "fuzz.yaml"

static void broken(const char *what, const char *message, const uint8_t *data, size_t size)
{
	fprintf(stderr, "fuzz_config: %s\n  message: \"%s\"\n  input (%zu bytes):\n%.*s\n", what,
		message, size, (int)size, (const char *)data);
	abort();
}

static bool config_is_empty(const struct lb_config *cfg)
{
	static const struct lb_config empty;

	return !memcmp(cfg, &empty, sizeof(empty));
}

/* Line breaks as libyaml counts them: LF, CR (CR LF once), NEL, LS, PS. A
 * position past the last line cannot point into the input.
 */
static size_t lines_of(const uint8_t *data, size_t size)
{
	size_t lines = 1, i;

	for (i = 0; i < size; i++) {
		if (data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')))
			lines++;
		else if (data[i] == 0xc2 && i + 1 < size && data[i + 1] == 0x85)
			lines++;
		else if (data[i] == 0xe2 && i + 2 < size && data[i + 1] == 0x80 &&
			 (data[i + 2] == 0xa8 || data[i + 2] == 0xa9))
			lines++;
	}
	return lines;
}

/* Checks the one-line forms of a rejection. */
static void check_message(const char *err, const uint8_t *data, size_t size)
{
	unsigned long line, col;
	const char *p = err, *field;
	char *end;

	for (; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			broken("message holds a control or non-ASCII byte", err, data, size);
	if (!strcmp(err, NAME ": out of memory"))
		return;
	if (strncmp(err, NAME ":", strlen(NAME ":")))
		broken("message does not start with the file name", err, data, size);
	p = err + strlen(NAME ":");
	line = strtoul(p, &end, 10);
	if (end == p || *end != ':')
		broken("message has no line number", err, data, size);
	p = end + 1;
	col = strtoul(p, &end, 10);
	if (end == p || strncmp(end, ": ", 2))
		broken("message has no column", err, data, size);
	/* At the end of the input libyaml starts a new line when the last one is
	 * not empty, so "one line past the last, column 1" is the end too.
	 */
	if (line < 1 || col < 1 || col > size + 1 ||
	    (line > lines_of(data, size) && !(line == lines_of(data, size) + 1 && col == 1)))
		broken("message position is outside the input", err, data, size);
	field = end + 2;
	p = strstr(field, ": ");
	if (!p || p == field || !p[2])
		broken("message has no \"<field>: <what>\"", err, data, size);
}

static bool unicast(uint32_t addr)
{
	uint32_t host = ntohl(addr);

	return host && host != 0xffffffff && host >> 28 != 0xe;
}

/* An IPv6 VIP, backend or outer_source6 as docs/configuration.md allows it:
 * not in ::/96 (::, ::1 among them), ::ffff:0:0/96, ff00::/8 or fe80::/10.
 */
static bool unicast6(const uint8_t *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[12];

	return a[0] != 0xff && !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80) && memcmp(a, zero, 12) &&
	       memcmp(a, mapped, 12);
}

/* A VIP's or backend's address: the family it says, a unicast one of it. */
static bool address_ok(bool ipv6, uint32_t addr, const uint8_t *addr6)
{
	static const uint8_t zero[16];

	if (ipv6)
		return !addr && unicast6(addr6);
	return unicast(addr) && !memcmp(addr6, zero, 16);
}

static bool same_address(bool ipv6_a, uint32_t a, const uint8_t *a6, bool ipv6_b, uint32_t b,
			 const uint8_t *b6)
{
	return ipv6_a == ipv6_b && a == b && !memcmp(a6, b6, 16);
}

/* An accepted config keeps every documented limit. */
static void check_config(const struct lb_config *cfg, const uint8_t *data, size_t size)
{
	static const uint8_t no_addr6[16];
	size_t i, j, k, total = 0;

	if (!cfg->vip_count || cfg->vip_count > LB_MAX_VIPS || !cfg->vips)
		broken("accepted a config with no or too many VIPs", "", data, size);
	if (cfg->flow_timeout_s < 1 || cfg->flow_timeout_s > LB_MAX_FLOW_TIMEOUT_S ||
	    cfg->flow_table_size < 1 || cfg->flow_table_size > LB_MAX_FLOW_TABLE_SIZE ||
	    cfg->priority > LB_MAX_PRIORITY || !strcmp(lb_encap_name(cfg->encap), "unknown") ||
	    (cfg->outer_src && !unicast(cfg->outer_src)) ||
	    (memcmp(cfg->outer_src6, no_addr6, 16) && !unicast6(cfg->outer_src6)) ||
	    (memcmp(cfg->nat_src6, no_addr6, 16) && !unicast6(cfg->nat_src6)))
		broken("accepted an interface-wide value out of range", "", data, size);
	for (i = 0; i < cfg->vip_count; i++) {
		const struct lb_vip_config *vip = &cfg->vips[i];

		if (!address_ok(vip->ipv6, vip->addr, vip->addr6) ||
		    (vip->proto != IPPROTO_UDP && vip->proto != IPPROTO_TCP))
			broken("accepted a bad VIP", "", data, size);
		/* A NAT VIP's backends are probed at their own address: NAT traffic
		 * goes there, not through a tunnel (either family).
		 */
		if (vip->forwarding == LB_FORWARD_NAT && vip->health.type != LB_HEALTH_NONE &&
		    vip->health.via != LB_HEALTH_VIA_DIRECT)
			broken("accepted a NAT VIP with health probes through the tunnel", "", data,
			       size);
		/* A NAT VIP has its family's source. */
		if (vip->forwarding == LB_FORWARD_NAT &&
		    (vip->ipv6 ? !memcmp(cfg->nat_src6, no_addr6, 16) : !cfg->nat_src))
			broken("accepted a NAT VIP without its family's nat_source", "", data, size);
		/* ... and an IPv4 VIP's IPv6 backends by ipip or gue too (IPv4 in
		 * IPv6), from outer_source6: an IPv4 client's address cannot be the
		 * IPv6 source.
		 */
		if (!vip->ipv6 && lb_vip_config_backends6(vip) &&
		    (vip->forwarding == LB_FORWARD_NAT ||
		     !memcmp(cfg->outer_src6, (const uint8_t[16]){ 0 }, 16)))
			broken("accepted an IPv4 VIP's IPv6 backend with nat or no outer_source6", "",
			       data, size);
		if (!vip->backend_count || vip->backend_count > LB_MAX_BACKENDS_PER_VIP)
			broken("accepted a VIP with no or too many backends", "", data, size);
		total += vip->backend_count;
		for (k = 0; k < i; k++)
			if (same_address(cfg->vips[k].ipv6, cfg->vips[k].addr, cfg->vips[k].addr6,
					 vip->ipv6, vip->addr, vip->addr6) &&
			    cfg->vips[k].port == vip->port && cfg->vips[k].proto == vip->proto)
				broken("accepted the same VIP twice", "", data, size);
		for (j = 0; j < vip->backend_count; j++) {
			const struct lb_backend_config *b = &vip->backends[j];

			/* Weight 0 takes no new flows: such a backend cannot be up. An
			 * IPv6 VIP's backends are IPv6; an IPv4 VIP's may be either.
			 */
			if (!address_ok(b->ipv6, b->addr, b->addr6) || (vip->ipv6 && !b->ipv6) ||
			    b->weight > LB_MAX_WEIGHT ||
			    (!b->weight && b->state == LB_BACKEND_UP) ||
			    b->state < LB_BACKEND_UP || b->state > LB_BACKEND_DOWN ||
			    (b->has_mac && (b->mac[0] & 1)))
				broken("accepted a bad backend", "", data, size);
			for (k = 0; k < j; k++)
				if (same_address(vip->backends[k].ipv6, vip->backends[k].addr,
						 vip->backends[k].addr6, b->ipv6, b->addr, b->addr6))
					broken("accepted a backend twice", "", data, size);
		}
	}
	if (total > LB_MAX_BACKENDS)
		broken("accepted more backend slots than LB_MAX_BACKENDS", "", data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[LB_CONFIG_ERR_LEN];
	struct lb_config cfg;
	int ret;

	ret = lb_config_parse(NAME, (const char *)data, size, &cfg, err, sizeof(err));
	if (ret == 0) {
		if (err[0])
			broken("accepted, yet left a message", err, data, size);
		check_config(&cfg, data, size);
		lb_config_free(&cfg);
		if (!config_is_empty(&cfg))
			broken("lb_config_free left something behind", "", data, size);
		return 0;
	}
	if (ret != -1)
		broken("returned neither 0 nor -1", err, data, size);
	if (!config_is_empty(&cfg))
		broken("rejected, yet the config is not empty", err, data, size);
	if (!err[0])
		broken("rejected without a message", err, data, size);
	check_message(err, data, size);
	return 0;
}
