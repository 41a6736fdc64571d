/* cidr.c - address ranges and membership (cidr.h). */
#include "core/cidr.h"
#include "core/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int ks_cidr_parse(const char *text, ks_cidr *out)
{
    memset(out, 0, sizeof *out);
    char buf[KS_CIDR_TEXT_MAX];
    size_t len = strlen(text);
    if (len == 0 || len >= sizeof buf)
        return KS_ERR_INVALID;
    memcpy(buf, text, len + 1);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->family = AF_INET6;
    else
        return KS_ERR_INVALID;
    int max = out->family == AF_INET ? 32 : 128;
    out->prefix = max;
    if (slash) {
        char *end;
        const char *p = slash + 1;
        if (*p < '0' || *p > '9')
            return KS_ERR_INVALID;
        long v = strtol(p, &end, 10);
        if (*end || v < 0 || v > max)
            return KS_ERR_INVALID;
        out->prefix = (int)v;
    }
    return KS_OK;
}

/* 1 when the first `prefix` bits of a and b agree. */
static int prefix_equal(const unsigned char *a, const unsigned char *b, int prefix)
{
    int whole = prefix / 8, rest = prefix % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int ks_cidr_contains(const ks_cidr *c, const struct sockaddr *sa)
{
    static const unsigned char V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    unsigned char addr[16];
    int family;
    if (sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        const unsigned char *a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        if (memcmp(a6, V4_MAPPED, 12) == 0) {
            memcpy(addr, a6 + 12, 4);
            family = AF_INET;
        } else {
            memcpy(addr, a6, 16);
            family = AF_INET6;
        }
    } else {
        return 0;
    }
    return family == c->family && prefix_equal(addr, c->addr, c->prefix);
}

int ks_cidr_list_contains(const ks_cidr *list, size_t n, const struct sockaddr *sa)
{
    for (size_t i = 0; i < n; i++)
        if (ks_cidr_contains(&list[i], sa))
            return 1;
    return 0;
}
