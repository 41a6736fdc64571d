/*
 * netaddr.h - client addresses and CIDR ranges: parsing (with inet_pton),
 * matching, and the key an address is counted under.
 *
 * An address is IPv4 or IPv6; an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * is taken as the IPv4 address it maps, both when parsed and when read from
 * a socket, so one client is one address whatever the listening socket.
 * A CIDR is an address and a prefix length ("10.0.0.0/8", "2001:db8::/32");
 * a bare address is a single host (/32 or /128). Host bits below the prefix
 * are cleared ("10.1.2.3/8" is 10.0.0.0/8), as Go's net.ParseCIDR and most
 * firewalls read it. Nothing here allocates; every input is bounded.
 */
#ifndef KS_CORE_NETADDR_H
#define KS_CORE_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define KS_NETADDR_TEXT_MAX 46  /* INET6_ADDRSTRLEN, with the NUL */
#define KS_CIDR_TEXT_MAX 50     /* an IPv6 address, "/128" and the NUL */

typedef struct {
    int family;                 /* 4 or 6; 0 = no address */
    unsigned char bytes[16];    /* network order; IPv4 in bytes[0..3], the rest zero */
} ks_netaddr;

typedef struct {
    ks_netaddr addr;            /* host bits cleared */
    int prefix;                 /* 0..32 (IPv4) or 0..128 (IPv6) */
} ks_cidr;

/* Parses exactly len bytes of s as an IPv4 or IPv6 address (no port, no
 * brackets, no zone). KS_OK, or KS_ERR_INVALID (out->family 0). */
int ks_netaddr_parse(const char *s, size_t len, ks_netaddr *out);

/* Parses a NUL-terminated CIDR (or bare address) of at most
 * KS_CIDR_TEXT_MAX - 1 bytes. KS_OK, or KS_ERR_INVALID. */
int ks_cidr_parse(const char *s, ks_cidr *out);

/* 1 when a lies in c (same family, the first c->prefix bits equal). */
int ks_cidr_contains(const ks_cidr *c, const ks_netaddr *a);

/* 1 when a lies in any of the n ranges. */
int ks_cidr_list_contains(const ks_cidr *list, size_t n, const ks_netaddr *a);

/* A range in matching form, made once (ks_cidr_match_of) so that a match
 * is a mask and a compare per word, with no byte loop and no call: the
 * words hold the address's bytes in memory order (memcpy), so the same
 * AND and compare hold whatever the host's byte order. */
typedef struct {
    uint32_t net, mask;         /* IPv4 */
} ks_cidr_v4;

typedef struct {
    uint64_t net[2], mask[2];   /* IPv6 */
} ks_cidr_v6;

/* The matching form of c: 4 (*v4 filled) or 6 (*v6 filled). */
int ks_cidr_match_of(const ks_cidr *c, ks_cidr_v4 *v4, ks_cidr_v6 *v6);

/* 1 when the IPv4 address a (family 4) lies in one of v4[0..n). */
static inline int ks_cidr_v4_list_contains(const ks_cidr_v4 *v4, size_t n, const ks_netaddr *a)
{
    uint32_t w;
    __builtin_memcpy(&w, a->bytes, sizeof w);
    for (size_t i = 0; i < n; i++)
        if ((w & v4[i].mask) == v4[i].net)
            return 1;
    return 0;
}

/* 1 when the IPv6 address a (family 6) lies in one of v6[0..n). */
static inline int ks_cidr_v6_list_contains(const ks_cidr_v6 *v6, size_t n, const ks_netaddr *a)
{
    uint64_t w[2];
    __builtin_memcpy(w, a->bytes, sizeof w);
    for (size_t i = 0; i < n; i++)
        if (((w[0] & v6[i].mask[0]) == v6[i].net[0]) & ((w[1] & v6[i].mask[1]) == v6[i].net[1]))
            return 1;
    return 0;
}

/* An address packed in 16 bytes, for lock-free storage in two words:
 * IPv4 as its IPv4-mapped IPv6 form, no address as all zero (neither is a
 * family-6 ks_netaddr: parsing maps the one, no peer has the other). */
void ks_netaddr_pack(const ks_netaddr *a, uint64_t out[2]);
void ks_netaddr_unpack(const uint64_t in[2], ks_netaddr *out);

/* The address of a socket peer (AF_INET or AF_INET6); family 0 for any
 * other (a Unix socket) or NULL. */
void ks_netaddr_from_sockaddr(const struct sockaddr *sa, ks_netaddr *out);

/* Writes a as text ("" for no address) into out (cap bytes, at least
 * KS_NETADDR_TEXT_MAX); the text of a CIDR likewise ("a/n"). */
void ks_netaddr_format(const ks_netaddr *a, char *out, size_t cap);
void ks_cidr_format(const ks_cidr *c, char *out, size_t cap);

/* The key an address is counted under by per-address limits: the whole
 * IPv4 address, or the /64 prefix of an IPv6 address (one subscriber's
 * network), tagged by family; 0 for no address. */
uint64_t ks_netaddr_limit_key(const ks_netaddr *a);

#endif
