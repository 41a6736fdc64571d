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
