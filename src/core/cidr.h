/*
 * cidr.h - IPv4 and IPv6 address ranges ("10.0.0.0/8", "fd00::/8", or a
 * bare address for one host), parsed with inet_pton, and membership of a
 * socket address (an IPv4-mapped IPv6 address counts as its IPv4 address).
 * Pure functions; KS_ERR_INVALID for a malformed range.
 */
#ifndef KS_CORE_CIDR_H
#define KS_CORE_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

#define KS_CIDR_TEXT_MAX 64

typedef struct {
    int family;                  /* AF_INET or AF_INET6 */
    unsigned char addr[16];      /* network byte order; 4 bytes used for AF_INET */
    int prefix;                  /* 0..32 or 0..128 */
} ks_cidr;

/* Parses text into *out. KS_OK or KS_ERR_INVALID. */
int ks_cidr_parse(const char *text, ks_cidr *out);

/* 1 when the address sa (AF_INET or AF_INET6) lies in c. */
int ks_cidr_contains(const ks_cidr *c, const struct sockaddr *sa);

/* 1 when sa lies in any of the n ranges. */
int ks_cidr_list_contains(const ks_cidr *list, size_t n, const struct sockaddr *sa);

#endif
