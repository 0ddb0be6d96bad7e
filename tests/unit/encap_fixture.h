/* SPDX-License-Identifier: GPL-2.0 */
/* The network, backends and table-driven case runner shared by the unit tests
 * of the encap stages (test_encap.c: IPIP, test_gue.c: GUE).
 *
 * A stage asks the kernel FIB for the next hop, so encap_net_setup() first
 * moves the process into a network namespace of its own (unshare): the veth
 * pairs, routes and neighbours below live there and vanish with the process.
 *
 *   lbt0 (02:00:00:00:00:0a, 10.0.0.10/16, MTU 1500) -- lbt1   ingress of every frame
 *     neighbour 10.0.1.1 -> 02:00:00:00:01:01 (permanent)
 *   lbt2 (02:00:00:00:00:2a) -- lbt3, route 10.9.0.0/16 dev lbt2
 *     neighbour 10.9.0.1 -> 02:00:00:00:09:01 (permanent)
 *   blackhole 198.51.100.0/24; no default route
 *
 * Expected frames are built here from the input, field by field (see
 * encap_expected()), from the RFCs and the stage's own format, never from the
 * BPF code. The golden case's input and runner are shared too; each test spells
 * out by hand the bytes its stage must make of it.
 */
#ifndef TEST_ENCAP_FIXTURE_H
#define TEST_ENCAP_FIXTURE_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_counters_common.h"
#include "lb_structs_common.h"
#include "packet.h"
#include "stage_fixture.h"
#include "xdp_test_run.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define CLIENT "10.0.0.1"
#define LB_ADDR "10.0.0.10"
#define NEIGH_ADDR "10.0.1.1"
#define NO_NEIGH_ADDR "10.0.1.2"
#define STATIC_NO_NEIGH_ADDR "10.0.1.3"
#define LBT2_NEIGH_ADDR "10.9.0.1"
#define LBT2_NO_NEIGH_ADDR "10.9.0.2"
#define NO_ROUTE_ADDR "192.0.2.1"
#define STATIC_NO_ROUTE_ADDR "192.0.2.2"
#define BLACKHOLE_ADDR "198.51.100.1"
/* IPv6 on the same links (test_ipip6.c): lbt0 2001:db8:0:1::10/64, neighbour
 * NEIGH6_ADDR -> 02:00:00:00:01:01; 2001:db8:9::/64 dev lbt2, neighbour
 * LBT2_NEIGH6_ADDR -> 02:00:00:00:09:01; blackhole 2001:db8:dead::/48.
 */
#define LB6_ADDR "2001:db8:0:1::10"
#define NEIGH6_ADDR "2001:db8:0:1::1:1"
#define NO_NEIGH6_ADDR "2001:db8:0:1::1:2"
#define LBT2_NEIGH6_ADDR "2001:db8:9::1"
#define NO_ROUTE6_ADDR "2001:db8:ffff::1"
#define BLACKHOLE6_ADDR "2001:db8:dead::1"
#define FWD6_LBT0 "/proc/sys/net/ipv6/conf/lbt0/forwarding"

extern const uint8_t lbt0_mac[6];
extern const uint8_t lbt2_mac[6];
extern const uint8_t neigh_mac[6];
extern const uint8_t lbt2_neigh_mac[6];
extern const uint8_t static_mac[6];
extern const uint8_t static_mac_2[6];

/* Backend slots the cases point at. */
enum {
	B_NEIGH,            /* next hop known: XDP_TX on lbt0 */
	B_STATIC,           /* same address, static MAC: the FIB is not asked */
	B_NO_NEIGH,         /* on lbt0's subnet, no neighbour: to the stack */
	B_STATIC_NO_NEIGH,  /* no neighbour, but a static MAC */
	B_NO_ROUTE,         /* nothing routes there */
	B_STATIC_NO_ROUTE,  /* no route, static MAC: sent anyway, no FIB asked */
	B_VIA_LBT2,         /* egress lbt2: XDP_REDIRECT */
	B_EMPTY,            /* unused slot */
	B_DRAIN,            /* draining backends still get their flows' packets */
	B_LOCAL,            /* the LB's own address: the FIB does not forward */
	B_BLACKHOLE,        /* blackhole route */
	B_STATIC_LBT2,      /* static MAC, routed via lbt2: out of the ingress anyway */
	B_OUT_OF_RANGE = LB_MAX_BACKENDS,
};

enum expect_frame {
	OUT_UNCHANGED,   /* dropped: the frame as it came */
	OUT_ENCAP,       /* encapsulated, MACs set to dmac/smac */
	OUT_ENCAP_OWN_L2, /* encapsulated, the original Ethernet header kept */
	OUT_ICMP_FRAG,   /* ICMP "fragmentation needed" to the client, MACs swapped */
	OUT_ICMP_FRAG_OWN_L2, /* the same, the original Ethernet header kept (to the stack) */
	OUT_ICMP6_TOO_BIG, /* ICMPv6 "packet too big" to the client, MACs swapped */
	OUT_ICMP6_TOO_BIG_OWN_L2 /* the same, the original Ethernet header kept (to the stack) */
};

struct encap_case {
	const char *name;
	/* input: the default UDP frame (pkt_spec_udp) with these changes */
	uint8_t proto;      /* 0: UDP */
	uint8_t tos;
	uint16_t frag_off;  /* host order, 0x4000 DF, 0x2000 MF */
	int vlan;           /* one 802.1Q tag */
	int ip_options;     /* 8 bytes of IP options */
	size_t payload_len; /* 0: 32 bytes */
	size_t padding;     /* zero bytes behind the IP packet (Ethernet padding) */
	size_t cut;         /* bytes cut off the end: a truncated IP packet */
	int qinq;           /* an 802.1ad tag in front of the 802.1Q one (needs .vlan) */
	uint8_t version;    /* IP version field, 0: 4 */
	uint16_t tot_len;   /* IP total length field, 0: the real one */
	uint16_t sport;     /* UDP/TCP source port, host order, 0: 1234 */
	/* context and environment */
	uint32_t backend_id;
	int l3_offset;      /* 0: the frame's own (14, or 18 with a tag) */
	int l4_offset;      /* 0: as parse writes it (l3_offset + IHL * 4) */
	int frame_len_delta; /* added to the context's frame_len: a context of another frame */
	int ctx_fit;        /* the context's ip_tot_len: the frame's bytes from l3_offset on */
	uint16_t ctx_sport; /* source port of the context's flow key, 0: as parse writes it */
	int lb_source;      /* run the second load: outer_src_addr = LB_ADDR, and the
			     * stage's other tunables as its test sets them there */
	int lbt2_tx_port;   /* lbt2 is in tx_ports */
	int forwarding_off; /* lbt0 forwarding is 0 during the run */
	int mtu_edge;       /* UDP payload sized for the stage's headers: the encapsulated
			     * packet is exactly lbt0's MTU (MTU_FITS) or one byte more
			     * (MTU_EXCEEDED); overrides payload_len. An OUT_ICMP_FRAG*
			     * answer then carries lbt0's MTU less the stage's headers. */
	/* expectations */
	uint32_t verdict;
	enum expect_frame out;
	const uint8_t *dmac, *smac;
	enum lb_counter counter;
};

enum { MTU_FITS = 1, MTU_EXCEEDED = 2 };
#define LBT0_MTU 1500

#define TX_VIA_NEIGH .verdict = XDP_TX, .out = OUT_ENCAP, .dmac = neigh_mac, .smac = lbt0_mac, \
		     .counter = LB_C_ENCAP_TX
#define DROPPED(reason) .verdict = XDP_DROP, .out = OUT_UNCHANGED, .counter = LB_C_ENCAP_##reason
/* Too big with DF: answered with ICMP "fragmentation needed" by XDP_TX. */
#define FRAG_NEEDED .verdict = XDP_TX, .out = OUT_ICMP_FRAG, .counter = LB_C_ENCAP_ICMP_FRAG_NEEDED
/* Too big without DF: encapsulated for the kernel to fragment. */
#define TOO_BIG_NO_DF .verdict = XDP_PASS, .out = OUT_ENCAP_OWN_L2, \
		      .counter = LB_C_ENCAP_PASS_TOO_BIG_NO_DF

/* The most bytes of its own headers an encap stage puts behind the outer IPv4 header. */
#define ENCAP_OWN_HEADERS_MAX 32

/* What differs between encap stages: the programs and the stage's own format. */
struct encap_stage {
	int prog_fd;            /* the stage with its default tunables */
	int prog_fd_lb_source;  /* the second load (encap_case.lb_source) */
	uint8_t outer_protocol; /* protocol field of the outer IPv4 header */
	size_t own_len;         /* bytes of the stage's own headers (GUE: 8) */
	/* Writes the headers the stage puts between the outer IPv4 header and
	 * the inner packet, as expected for @c with context @ctx and @inner the
	 * inner IPv4 header; returns their length, at most ENCAP_OWN_HEADERS_MAX.
	 * NULL: none (IPIP).
	 */
	size_t (*own_headers)(const struct encap_case *c, const struct lb_packet_ctx *ctx,
			      const uint8_t *inner, uint8_t *out);
};

/* Everything the cases need: the network, the maps all loads share, the stage. */
struct encap_fixture {
	struct fixture_status status;
	int lbt0, lbt2; /* ifindexes */
	int ctx_fd, counters_fd, backends_fd, tx_ports_fd;
	int vip_drops_fd;
	struct encap_stage stage;
};

/* Moves the process into a network namespace of its own and builds the network
 * above in it. Returns 0 or -errno; a failing step is recorded in fx->status.
 */
int encap_net_setup(struct encap_fixture *fx);

/* Before @second (opened, not loaded) is loaded: makes it use every map of
 * @first (loaded) except its own .rodata/.data/.bss, so that the two loads of
 * a stage differ only in their tunables.
 */
int encap_share_maps(struct bpf_object *second, const struct bpf_object *first);

/* Writes @value to the file at @path (a sysctl). 0 or -errno. */
int write_sysctl(const char *path, const char *value);

/* Takes the map fds from @stage_obj (a loaded stage) and writes the backends. */
int encap_maps_setup(struct encap_fixture *fx, const struct bpf_object *stage_obj);

/* IPv6 backend slots, beside the IPv4 ones (LB_BACKEND_F_IPV6, UP, weight 1). */
enum {
	B6_NEIGH = 40,  /* NEIGH6_ADDR, next hop known: XDP_TX on lbt0 */
	B6_STATIC,      /* same address, static MAC */
	B6_NO_NEIGH,    /* on lbt0's prefix, no neighbour: to the stack */
	B6_VIA_LBT2,    /* egress lbt2 */
	B6_NO_ROUTE,    /* nothing routes there */
	B6_BLACKHOLE,   /* blackhole route */
	B6_LOCAL,       /* the LB's own address */
};

/* Writes the IPv6 backends into fx->backends_fd (after encap_maps_setup()). */
int encap_backends6_setup(struct encap_fixture *fx);

/* The address of IPv6 backend slot @id, "::" for another id. */
const char *encap_backend6_addr(uint32_t id);

/* The packet context parse and lb would leave for @frame: @backend_id, the
 * addresses, protocol, total length and payload offset (l4_offset) of the IPv4
 * header at @l3_offset, and the ports of a whole UDP or TCP packet (0 for a
 * fragment).
 */
void encap_ctx_from_frame(uint32_t backend_id, uint16_t l3_offset, const uint8_t *frame,
			  size_t len, struct lb_packet_ctx *ctx);

/* The same for an IPv6 frame laid out as @lay says, its L4 @proto: the ports
 * of a whole packet, none for a @fragment (LB_CTX_F_FRAGMENT set then).
 */
void encap_ctx6_from_frame(uint32_t backend_id, uint8_t proto, bool fragment,
			   const uint8_t *frame, size_t len, const struct pkt_layout *lay,
			   struct lb_packet_ctx *ctx);

/* What an encap stage must make of @in, assembled field by field from RFC 791
 * and the encapsulation's definition: the L2 header with @dmac/@smac (NULL keeps
 * the frame's own), an outer IPv4 header carrying @protocol from @outer_src to
 * @outer_dst, the stage's @own_len bytes of @own headers, then everything
 * behind the old L2 header unchanged. Returns the length.
 */
size_t encap_expected(const uint8_t *in, size_t in_len, size_t l2_len, const uint8_t *dmac,
		      const uint8_t *smac, uint32_t outer_src, uint32_t outer_dst,
		      uint8_t protocol, const uint8_t *own, size_t own_len, uint8_t *out);

/* Runs @in (@len bytes) through @prog_fd on lbt0 and checks the verdict, the
 * output (@expected, or the input when NULL) and that exactly @counter moved,
 * by one. The NAT tests' runner.
 */
void encap_run_expect(struct encap_fixture *fx, int prog_fd, const uint8_t *in, size_t len,
		      uint32_t verdict, const uint8_t *expected, enum lb_counter counter,
		      const char *what);

/* The input frame of @c; 0 when it cannot be built. */
size_t encap_case_frame(const struct encap_case *c, uint8_t *frame, size_t cap);

/* Runs @c through fx->stage and checks verdict, bytes, outer checksum and that
 * exactly @c->counter moved, by one. @res receives the run's output.
 */
void encap_run_case(struct encap_fixture *fx, const struct encap_case *c,
		    struct xdp_result *res);

/* Output formats every encap stage must get right, with its own headers:
 * protocols, TOS/DF, fragments, options, VLAN, padding, the second load.
 */
extern const struct encap_case encap_format_cases[];
extern const size_t encap_format_case_count;

/* Next-hop outcomes every encap stage shares (nexthop.bpf.h): MACs, verdict,
 * reason counter; the MTU cases sized for the stage's own headers.
 */
extern const struct encap_case encap_next_hop_cases[];
extern const size_t encap_next_hop_case_count;

/* Contexts that do not describe the frame, which every encap stage must drop
 * (drop_bad_ctx, frame unchanged, never XDP_ABORTED): offsets past the frame,
 * offsets of an untagged frame on a tagged one and back, lengths that do not
 * fit. What parse checks of the header's contents (version, checksum) is not
 * checked again (stage.bpf.h): test_parse covers it.
 */
extern const struct encap_case encap_bad_ctx_cases[];
extern const size_t encap_bad_ctx_case_count;

/* encap_run_case() on each of @count cases. */
void encap_run_cases(struct encap_fixture *fx, const struct encap_case *cases, size_t count);

/* The golden case's input, spelled out by hand (encap_fixture.c): UDP
 * 10.0.0.1:1234 -> 10.0.0.100:80, 4 bytes of payload, DF, id 0x1234.
 */
#define ENCAP_GOLDEN_IN_LEN 46
extern const uint8_t encap_golden_in[ENCAP_GOLDEN_IN_LEN];

/* The IPv6 golden input (encap_fixture.c): UDP [2001:db8::1]:1234 ->
 * [2001:db8::100]:80, 4 bytes of payload: pkt_spec_udp6() with those.
 */
#define ENCAP_GOLDEN_IN6_LEN 66
extern const uint8_t encap_golden_in6[ENCAP_GOLDEN_IN6_LEN];

/* The L2 header of an expected frame: @in's first @l2_len bytes into @out,
 * the MACs @dmac and @smac (NULL keeps the frame's own).
 */
void encap_expected_l2(const uint8_t *in, size_t l2_len, const uint8_t *dmac,
		       const uint8_t *smac, uint8_t *out);

/* Runs the golden input, sent to B_NEIGH, through fx->stage: XDP_TX, exactly
 * @golden_out (the stage's test spells it out), encap.tx by one. Also checks
 * that pkt_build makes the golden input.
 */
void encap_run_golden(struct encap_fixture *fx, const uint8_t *golden_out, size_t out_len);

/* Writes @ctx, runs @in through @fx's stage and checks what a golden case
 * expects: XDP_TX, the frame @want, and @counter moved by one (and nothing
 * else); @what names the case in failures.
 */
void encap_run_expect_tx(struct encap_fixture *fx, const struct lb_packet_ctx *ctx,
			 const uint8_t *in, size_t in_len, const uint8_t *want, size_t want_len,
			 enum lb_counter counter, const char *what);

/* Per-CPU state (the next-hop cache, the ICMP bucket) is that of the CPU a
 * test run runs on: keeps the process on its current CPU, the old affinity
 * saved in @all for sched_setaffinity(). False (and a failed assertion) when
 * it cannot.
 */
bool stay_on_one_cpu(cpu_set_t *all);

struct bpf_map;

/* Zeroes entry @key of the per-CPU array @map on every CPU. */
int percpu_zero(const struct bpf_map *map, __u32 key);

#endif /* TEST_ENCAP_FIXTURE_H */
