/* netaddr.c - client addresses and CIDR ranges (see netaddr.h). */
#include "core/netaddr.h"
#include "core/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const unsigned char V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An IPv6 address, or the IPv4 address it maps. */
static void from_v6(const unsigned char v6[16], ks_netaddr *out)
{
    memset(out, 0, sizeof *out);
    if (memcmp(v6, V4_MAPPED, sizeof V4_MAPPED) == 0) {
        out->family = 4;
        memcpy(out->bytes, v6 + 12, 4);
    } else {
        out->family = 6;
        memcpy(out->bytes, v6, 16);
    }
}

int ks_netaddr_parse(const char *s, size_t len, ks_netaddr *out)
{
    char text[KS_NETADDR_TEXT_MAX];
    memset(out, 0, sizeof *out);
    if (!s || len == 0 || len >= sizeof text || memchr(s, '\0', len))
        return KS_ERR_INVALID;
    memcpy(text, s, len);
    text[len] = '\0';
    unsigned char buf[16];
    if (inet_pton(AF_INET, text, buf) == 1) {
        out->family = 4;
        memcpy(out->bytes, buf, 4);
        return KS_OK;
    }
    if (inet_pton(AF_INET6, text, buf) == 1) {
        from_v6(buf, out);
        return KS_OK;
    }
    return KS_ERR_INVALID;
}

/* Clears the bits of a below prefix. */
static void mask_host_bits(ks_netaddr *a, int prefix)
{
    int bytes = a->family == 4 ? 4 : 16;
    for (int i = 0; i < bytes; i++) {
        int keep = prefix - i * 8;
        if (keep <= 0)
            a->bytes[i] = 0;
        else if (keep < 8)
            a->bytes[i] &= (unsigned char)(0xff << (8 - keep));
    }
}

int ks_cidr_parse(const char *s, ks_cidr *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return KS_ERR_INVALID;
    size_t len = strnlen(s, KS_CIDR_TEXT_MAX);
    if (len == 0 || len >= KS_CIDR_TEXT_MAX)
        return KS_ERR_INVALID;
    const char *slash = memchr(s, '/', len);
    size_t addr_len = slash ? (size_t)(slash - s) : len;
    ks_cidr c;
    if (ks_netaddr_parse(s, addr_len, &c.addr) != KS_OK)
        return KS_ERR_INVALID;
    int max = c.addr.family == 4 ? 32 : 128;
    /* A mapped address written in IPv6 form keeps an IPv6-sized prefix. */
    if (c.addr.family == 4 && memchr(s, ':', addr_len))
        max = 128;
    int prefix = max;
    if (slash) {
        const char *p = slash + 1;
        size_t digits = len - addr_len - 1;
        if (digits == 0 || digits > 3 || (digits > 1 && p[0] == '0'))
            return KS_ERR_INVALID;
        prefix = 0;
        for (size_t i = 0; i < digits; i++) {
            if (p[i] < '0' || p[i] > '9')
                return KS_ERR_INVALID;
            prefix = prefix * 10 + (p[i] - '0');
        }
        if (prefix > max)
            return KS_ERR_INVALID;
    }
    if (max == 128 && c.addr.family == 4) {
        if (prefix < 96)
            return KS_ERR_INVALID; /* would span more than the mapped range */
        prefix -= 96;
    }
    c.prefix = prefix;
    mask_host_bits(&c.addr, prefix);
    *out = c;
    return KS_OK;
}

int ks_cidr_contains(const ks_cidr *c, const ks_netaddr *a)
{
    if (!a->family || a->family != c->addr.family)
        return 0;
    int full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(a->bytes, c->addr.bytes, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a->bytes[full] & mask) == c->addr.bytes[full];
}

int ks_cidr_list_contains(const ks_cidr *list, size_t n, const ks_netaddr *a)
{
    for (size_t i = 0; i < n; i++)
        if (ks_cidr_contains(&list[i], a))
            return 1;
    return 0;
}

int ks_cidr_match_of(const ks_cidr *c, ks_cidr_v4 *v4, ks_cidr_v6 *v6)
{
    unsigned char mask[16] = {0};
    int bytes = c->addr.family == 4 ? 4 : 16;
    for (int i = 0; i < bytes; i++) {
        int keep = c->prefix - i * 8;
        mask[i] = keep >= 8 ? 0xff : keep > 0 ? (unsigned char)(0xff << (8 - keep)) : 0;
    }
    if (c->addr.family == 4) {
        memcpy(&v4->net, c->addr.bytes, 4);
        memcpy(&v4->mask, mask, 4);
        v4->net &= v4->mask;
        return 4;
    }
    memcpy(v6->net, c->addr.bytes, 16);
    memcpy(v6->mask, mask, 16);
    v6->net[0] &= v6->mask[0];
    v6->net[1] &= v6->mask[1];
    return 6;
}

void ks_netaddr_pack(const ks_netaddr *a, uint64_t out[2])
{
    unsigned char b[16] = {0};
    if (a->family == 4) {
        memcpy(b, V4_MAPPED, sizeof V4_MAPPED);
        memcpy(b + 12, a->bytes, 4);
    } else if (a->family == 6) {
        memcpy(b, a->bytes, 16);
    }
    memcpy(out, b, 16);
}

void ks_netaddr_unpack(const uint64_t in[2], ks_netaddr *out)
{
    unsigned char b[16];
    static const unsigned char zero[16];
    memcpy(b, in, 16);
    memset(out, 0, sizeof *out);
    if (memcmp(b, zero, 16) != 0)
        from_v6(b, out);
}

void ks_netaddr_from_sockaddr(const struct sockaddr *sa, ks_netaddr *out)
{
    memset(out, 0, sizeof *out);
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)sa;
        out->family = 4;
        memcpy(out->bytes, &v4->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)sa;
        from_v6(v6->sin6_addr.s6_addr, out);
    }
}

void ks_netaddr_format(const ks_netaddr *a, char *out, size_t cap)
{
    if (cap == 0)
        return;
    out[0] = '\0';
    if (a->family == 4)
        inet_ntop(AF_INET, a->bytes, out, (socklen_t)cap);
    else if (a->family == 6)
        inet_ntop(AF_INET6, a->bytes, out, (socklen_t)cap);
}

void ks_cidr_format(const ks_cidr *c, char *out, size_t cap)
{
    char addr[KS_NETADDR_TEXT_MAX];
    ks_netaddr_format(&c->addr, addr, sizeof addr);
    snprintf(out, cap, "%s/%d", addr, c->prefix);
}

uint64_t ks_netaddr_limit_key(const ks_netaddr *a)
{
    uint64_t k = 0;
    if (a->family == 4) {
        for (int i = 0; i < 4; i++)
            k = k << 8 | a->bytes[i];
        return k | (uint64_t)1 << 32; /* an IPv6 /64 of this value would be in ::/32: not routable */
    }
    if (a->family == 6) {
        for (int i = 0; i < 8; i++)
            k = k << 8 | a->bytes[i];
        return k ? k : 1;
    }
    return 0;
}
