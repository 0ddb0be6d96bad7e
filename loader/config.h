/* SPDX-License-Identifier: GPL-2.0 */
/* config.yaml: read by loader/yaml_reader.c (libyaml, the YAML limits below)
 * and checked by its schema, loader/config.c, into struct lb_config.
 *
 * Two forms are accepted. The seed form of the original project:
 *     vip: 123.168.9.8
 *     backends:
 *       - ip: 10.0.1.1
 * is one UDP VIP on every port. The extended form has a `vips:` list and
 * interface-wide keys; docs/configuration.md describes every key.
 *
 * Every error names file:line:column and the field, e.g.
 *     config.yaml:7:13: vips[0].backends[1].ip: "10.0.1" is not an IPv4 or IPv6 address
 */
#ifndef LB_CONFIG_H
#define LB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_consts_common.h"

struct lb_backend_config {
	uint32_t addr;     /* network byte order; 0 when ipv6 */
	uint8_t addr6[16]; /* when ipv6: the IPv6 address, network byte order */
	bool ipv6;         /* `ip:` is an IPv6 address (the VIP's family: checked) */
	uint8_t mac[6];
	bool has_mac;      /* `mac:` given: static next hop, no FIB neighbour */
	uint32_t weight;   /* 0..LB_MAX_WEIGHT, default 1; 0 = drain (state becomes drain) */
	uint8_t state;     /* enum lb_backend_state: UP (default), DRAIN or DOWN */
	int line;          /* where it was written, for later messages */
};

/* A VIP's `health_check:` (docs/configuration.md): how xdp-lbd probes each of
 * its backends. type LB_HEALTH_NONE: no block, the backends are not probed.
 */
enum lb_health_type {
	LB_HEALTH_NONE = 0,
	LB_HEALTH_TCP = 1,  /* a TCP connect succeeds */
	LB_HEALTH_UDP = 2,  /* a datagram `send` gets a reply starting with `expect` */
	LB_HEALTH_HTTP = 3, /* GET `path` answers with status `status` */
};

/* health_check.via: where a probe goes (docs/configuration.md). */
enum lb_health_via {
	LB_HEALTH_VIA_DEFAULT = 0, /* not written: tunnel for ipip/gue VIPs, direct for nat */
	LB_HEALTH_VIA_TUNNEL = 1,  /* to VIP:port, encapsulated to the backend as clients' packets */
	LB_HEALTH_VIA_DIRECT = 2,  /* to the backend's own address and the port */
};

#define LB_HEALTH_PAYLOAD_MAX 256  /* bytes of `send` and of `expect` */
#define LB_HEALTH_PATH_MAX 255     /* bytes of an HTTP `path` */
/* Bounds of interval_ms and timeout_ms: below 50 ms a busy balancer's own
 * scheduling would be the thing measured; above an hour nobody would notice.
 */
#define LB_HEALTH_MS_MIN 50
#define LB_HEALTH_MS_MAX 3600000
#define LB_HEALTH_COUNT_MAX 100    /* rise and fall */
#define LB_HEALTH_DEFAULT_INTERVAL_MS 2000
#define LB_HEALTH_DEFAULT_TIMEOUT_MS 1000
#define LB_HEALTH_DEFAULT_RISE 2
#define LB_HEALTH_DEFAULT_FALL 3

struct lb_health_config {
	uint8_t type;          /* enum lb_health_type */
	uint8_t via;           /* enum lb_health_via, never DEFAULT once parsed */
	uint16_t port;         /* host byte order; default the VIP's port */
	uint32_t interval_ms;  /* one probe per backend every interval */
	uint32_t timeout_ms;   /* a probe without an answer by then failed; <= interval */
	uint32_t rise;         /* successes in a row that bring a down backend up */
	uint32_t fall;         /* failures in a row that take an up backend down */
	uint16_t status;       /* http: the status expected, default 200 */
	char path[LB_HEALTH_PATH_MAX + 1]; /* http: default "/" */
	uint8_t send[LB_HEALTH_PAYLOAD_MAX]; /* udp: the request */
	size_t send_len;
	uint8_t expect[LB_HEALTH_PAYLOAD_MAX]; /* udp: the reply begins with these bytes */
	size_t expect_len;
	int line;
};

struct lb_vip_config {
	uint32_t addr;     /* network byte order; 0 when ipv6 */
	uint8_t addr6[16]; /* when ipv6: the IPv6 address, network byte order */
	bool ipv6;         /* an IPv6 VIP: its backends are IPv6 too (checked) */
	uint16_t port;     /* host byte order; 0 = every port */
	uint8_t proto;     /* IPPROTO_UDP (default) or IPPROTO_TCP */
	uint8_t policy;    /* enum lb_policy, default LB_POLICY_LEAST_LOADED */
	uint32_t maglev_size; /* Maglev table size, a prime; default LB_MAGLEV_DEFAULT_SIZE */
	uint8_t forwarding; /* enum lb_forwarding: encap (default, the interface's) or nat */
	bool icmp_echo;     /* the address answers echo requests (default true) */
	int icmp_echo_line; /* where icmp_echo was given; 0: not given */
	size_t backend_count;
	struct lb_backend_config *backends;
	struct lb_health_config health;
	int line;
};

struct lb_config {
	char path[256];            /* as given, for messages */
	size_t vip_count;
	struct lb_vip_config *vips;
	uint8_t encap;             /* enum lb_encap_type, default LB_ENCAP_IPIP */
	uint16_t gue_port;         /* GUE destination port, default LB_DEFAULT_GUE_PORT */
	uint32_t outer_src;        /* network order; 0 = the client's source address */
	uint8_t outer_src6[16];    /* IPv6 VIPs' outer source; all 0 = the client's */
	uint32_t nat_src;          /* network order; IPv4 NAT VIPs' source; 0 = none given */
	uint8_t nat_src6[16];      /* IPv6 NAT VIPs' source; all 0 = none given */
	uint32_t priority;         /* libxdp run priority, default LB_DEFAULT_PRIORITY */
	uint32_t flow_timeout_s;   /* UDP idle timeout, default LB_DEFAULT_FLOW_TIMEOUT_S */
	uint32_t flow_table_size;  /* flows map size, default LB_DEFAULT_FLOW_TABLE_SIZE */
	uint32_t icmp_rate;        /* ICMP errors per second per CPU, default LB_DEFAULT_ICMP_RATE */
	uint32_t icmp_burst;       /* ... at once, default LB_DEFAULT_ICMP_BURST */
};

#define LB_MAX_WEIGHT 65535
#define LB_MAX_FLOW_TABLE_SIZE (64U * 1024 * 1024)
#define LB_MAX_FLOW_TIMEOUT_S 86400
#define LB_MAX_PRIORITY 1000
#define LB_MAX_ICMP_RATE 1000000 /* per second per CPU; 0 sends none */
#define LB_MAX_ICMP_BURST 10000
#define LB_CONFIG_ERR_LEN 512

/* Limits on the YAML itself, checked on libyaml's events before any tree is
 * built (docs/configuration.md, "Limits"). A config at every other limit, each
 * key written out, is about 420 KiB, 5 levels deep and 41000 nodes.
 */
#define LB_CONFIG_MAX_SIZE (1U << 20)  /* bytes */
#define LB_CONFIG_MAX_DEPTH 16         /* lists and mappings inside each other */
#define LB_CONFIG_MAX_ANCHORS 256      /* &name */
#define LB_CONFIG_MAX_ALIASES 4096     /* *name */
#define LB_CONFIG_MAX_NODES 65536      /* scalars, lists and mappings */

/* Reads and validates @path into @cfg. Returns 0, or -1 with one line in @err
 * ("file:line:col: field: what is wrong"); @cfg is then empty and needs no free.
 */
int lb_config_load(const char *path, struct lb_config *cfg, char *err, size_t err_len);

/* The same on a string (tests, fuzzing); @name stands for the file in messages. */
int lb_config_parse(const char *name, const char *text, size_t len, struct lb_config *cfg,
		    char *err, size_t err_len);

void lb_config_free(struct lb_config *cfg);

/* Whether any VIP of @cfg is IPv6 (flows6's size). */
bool lb_config_has_ipv6(const struct lb_config *cfg);

/* Whether @vip has an IPv6 backend: IPv6-in-IPv6 for an IPv6 VIP,
 * IPv4-in-IPv6 for an IPv4 one.
 */
bool lb_vip_config_backends6(const struct lb_vip_config *vip);

/* Whether any tunnel of @cfg is IPv6, i.e. any backend is (IPv6 forwarding,
 * outer_source6 in lb-load's summary).
 */
bool lb_config_tunnels_ipv6(const struct lb_config *cfg);

/* @vip's or @backend's address as text ("10.0.0.1", "2001:db8::1") in @out
 * (INET6_ADDRSTRLEN bytes).
 */
const char *lb_vip_config_addr(const struct lb_vip_config *vip, char *out, size_t size);
const char *lb_backend_config_addr(const struct lb_backend_config *backend, char *out,
				   size_t size);

/* "udp"/"tcp", "up"/"drain"/"down", "ipip"/"gue": names as the config spells
 * them; "unknown" for a value that has none.
 */
const char *lb_proto_name(uint8_t proto);
const char *lb_state_name(uint8_t state);
const char *lb_encap_name(uint8_t encap);
/* "tcp"/"udp"/"http" as health_check.type spells them, "none" for no checks. */
const char *lb_health_type_name(uint8_t type);
/* "tunnel"/"direct" as health_check.via spells them. */
const char *lb_health_via_name(uint8_t via);
/* "least-loaded", "round-robin", ... as `policy:` spells them. */
const char *lb_policy_name(uint8_t policy);
/* The policy named @name, or -1. */
int lb_policy_by_name(const char *name);

#endif /* LB_CONFIG_H */
