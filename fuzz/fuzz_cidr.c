/*
 * fuzz_cidr.c - the address and range parsers of src/core/netaddr.h:
 * ks_netaddr_parse, ks_cidr_parse, ks_cidr_contains, ks_netaddr_limit_key
 * (the --trusted-proxy values and, later, keys' allowed_cidrs).
 *
 * The input, up to its first NUL, is a C string in a buffer of exactly its
 * length + 1 (so ASan sees a read past the terminator). Properties:
 * - ks_cidr_parse accepts exactly what a reference accepts: an address that
 *   inet_pton reads (IPv4 first, then IPv6), then optionally "/" and 1-3
 *   decimal digits without a leading zero, at most 32 (IPv4) or 128 (IPv6;
 *   at least 96 for an IPv4-mapped address);
 * - an accepted range has its host bits cleared, contains its own address,
 *   and formats to text that parses back to the same range;
 * - ks_cidr_contains agrees with a bit-by-bit reference for an address made
 *   of the input's bytes, and ks_netaddr_limit_key is 0 only for no address
 *   and equal for addresses in one IPv6 /64.
 */
#include "fuzz_util.h"

#include "core/error.h"
#include "core/netaddr.h"

#include <arpa/inet.h>

static int ref_parse(const char *s, ks_cidr *out)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(s);
    if (len == 0 || len >= KS_CIDR_TEXT_MAX)
        return 0;
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : len;
    char a[64];
    if (alen == 0 || alen >= sizeof a)
        return 0;
    memcpy(a, s, alen);
    a[alen] = '\0';
    unsigned char b[16];
    int max;
    if (inet_pton(AF_INET, a, b) == 1) {
        out->addr.family = 4;
        memcpy(out->addr.bytes, b, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, a, b) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, 12) == 0) {
            out->addr.family = 4;
            memcpy(out->addr.bytes, b + 12, 4);
        } else {
            out->addr.family = 6;
            memcpy(out->addr.bytes, b, 16);
        }
        max = 128;
    } else {
        return 0;
    }
    int prefix = max;
    if (slash) {
        const char *d = slash + 1;
        size_t n = strlen(d);
        if (n < 1 || n > 3 || (n > 1 && d[0] == '0') || strspn(d, "0123456789") != n)
            return 0;
        prefix = (int)strtol(d, NULL, 10);
        if (prefix > max)
            return 0;
    }
    if (max == 128 && out->addr.family == 4) {
        if (prefix < 96)
            return 0;
        prefix -= 96;
    }
    out->prefix = prefix;
    int bits = out->addr.family == 4 ? 32 : 128;
    for (int i = prefix; i < bits; i++)
        out->addr.bytes[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
    return 1;
}

static int ref_contains(const ks_cidr *c, const ks_netaddr *a)
{
    if (a->family != c->addr.family)
        return 0;
    for (int i = 0; i < c->prefix; i++)
        if (((a->bytes[i / 8] ^ c->addr.bytes[i / 8]) >> (7 - i % 8)) & 1)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    char *s = fuzz_cstr(data, nul ? (size_t)(nul - data) : size);
    ks_cidr c, ref;
    int ok = ks_cidr_parse(s, &c) == KS_OK, ref_ok = ref_parse(s, &ref);
    FUZZ_CHECK(ok == ref_ok, "ks_cidr_parse %d, reference %d on '%.60s'", ok, ref_ok, s);
    if (ok) {
        FUZZ_CHECK(c.addr.family == ref.addr.family && c.prefix == ref.prefix &&
                   memcmp(c.addr.bytes, ref.addr.bytes, 16) == 0, "range differs from the reference on '%.60s'", s);
        FUZZ_CHECK(ks_cidr_contains(&c, &c.addr), "range does not contain its address");
        char text[KS_CIDR_TEXT_MAX];
        ks_cidr_format(&c, text, sizeof text);
        ks_cidr back;
        FUZZ_CHECK(ks_cidr_parse(text, &back) == KS_OK && back.prefix == c.prefix &&
                   back.addr.family == c.addr.family && memcmp(back.addr.bytes, c.addr.bytes, 16) == 0,
                   "'%s' does not parse back to the same range", text);
        /* an address made of the input's bytes, of the range's family */
        ks_netaddr a = {c.addr.family, {0}};
        memcpy(a.bytes, data, size < (c.addr.family == 4 ? 4u : 16u) ? size : (c.addr.family == 4 ? 4u : 16u));
        FUZZ_CHECK(ks_cidr_contains(&c, &a) == ref_contains(&c, &a), "ks_cidr_contains differs");
        FUZZ_CHECK(ks_netaddr_limit_key(&a) != 0, "an address has no limit key");
        if (a.family == 6) {
            ks_netaddr b = a;
            b.bytes[15] ^= 0x5a;
            b.bytes[8] ^= 0x01;
            FUZZ_CHECK(ks_netaddr_limit_key(&a) == ks_netaddr_limit_key(&b), "one /64, two keys");
        }
    }
    ks_netaddr none = {0, {0}};
    FUZZ_CHECK(ks_netaddr_limit_key(&none) == 0, "no address has a key");
    ks_netaddr one;
    int pa = ks_netaddr_parse(s, strlen(s), &one) == KS_OK;
    FUZZ_CHECK(pa == (ref_ok && !strchr(s, '/')), "ks_netaddr_parse %d on '%.60s'", pa, s);
    free(s);
    return 0;
}
