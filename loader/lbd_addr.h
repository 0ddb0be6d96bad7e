/* SPDX-License-Identifier: GPL-2.0 */
/* One IPv4 or IPv6 address, as the daemon's probes and routes take it: a
 * backend's or a VIP's, whichever family its VIP has. Always built by the
 * helpers below, so that the bytes past an IPv4 address are zero and two
 * equal addresses compare equal as a whole.
 */
#ifndef LBD_ADDR_H
#define LBD_ADDR_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/types.h>

/* "ffff:...:255.255.255.255" and its NUL. */
#define LBD_ADDR_STRLEN INET6_ADDRSTRLEN

struct lbd_addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		__be32 v4;
		__u8 v6[16];
	};
};

static inline struct lbd_addr lbd_addr_v4(__be32 addr)
{
	struct lbd_addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.v4 = addr;
	return a;
}

static inline struct lbd_addr lbd_addr_v6(const __u8 *addr)
{
	struct lbd_addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	memcpy(a.v6, addr, sizeof(a.v6));
	return a;
}

static inline bool lbd_addr_eq(const struct lbd_addr *a, const struct lbd_addr *b)
{
	return a->family == b->family && !memcmp(a->v6, b->v6, sizeof(a->v6));
}

/* The address as inet_ntop() writes it ("10.0.1.1", "fd00:1::1"). */
static inline const char *lbd_addr_text(const struct lbd_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->v6, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* Its host prefix length: 32 or 128. */
static inline unsigned int lbd_addr_bits(const struct lbd_addr *a)
{
	return a->family == AF_INET6 ? 128 : 32;
}

#endif /* LBD_ADDR_H */
