/*
 * test_netaddr_match.c - the matching form of CIDR ranges (core/netaddr.h
 * ks_cidr_match_of, ks_cidr_v4/v6_list_contains) agrees with
 * ks_cidr_contains on every prefix length and on random ranges and
 * addresses of both families; and the 16-byte packing of an address
 * (ks_netaddr_pack/unpack) gives back the same address, unknown included.
 */
#include "unit.h"

#include "core/error.h"
#include "core/netaddr.h"

#include <sodium.h>

static ks_netaddr addr(const char *s)
{
    ks_netaddr a;
    ks_netaddr_parse(s, strlen(s), &a);
    return a;
}

/* What the compact form says of a for c, through a one-range list. */
static int compact_contains(const ks_cidr *c, const ks_netaddr *a)
{
    ks_cidr_v4 v4;
    ks_cidr_v6 v6;
    int family = ks_cidr_match_of(c, &v4, &v6);
    ASSERT_EQ_INT(family, c->addr.family);
    if (a->family != family)
        return 0;
    return family == 4 ? ks_cidr_v4_list_contains(&v4, 1, a) : ks_cidr_v6_list_contains(&v6, 1, a);
}

static void test_examples(void)
{
    ks_cidr c;
    ASSERT_EQ_INT(ks_cidr_parse("192.0.2.0/24", &c), KS_OK);
    ks_netaddr in = addr("192.0.2.77"), out = addr("192.0.3.1");
    ASSERT(compact_contains(&c, &in));
    ASSERT(!compact_contains(&c, &out));
    ASSERT_EQ_INT(ks_cidr_parse("2001:db8::/33", &c), KS_OK);
    ks_netaddr in6 = addr("2001:db8:7fff::1"), out6 = addr("2001:db8:8000::1");
    ASSERT(compact_contains(&c, &in6));
    ASSERT(!compact_contains(&c, &out6));
    ASSERT_EQ_INT(ks_cidr_parse("0.0.0.0/0", &c), KS_OK);
    ASSERT(compact_contains(&c, &in));
    ASSERT(!compact_contains(&c, &in6)); /* another family */
    /* a list: the second of three ranges matches */
    ks_cidr_v4 list[2];
    ks_cidr_v6 unused;
    ks_cidr_parse("10.0.0.0/8", &c);
    ks_cidr_match_of(&c, &list[0], &unused);
    ks_cidr_parse("192.0.2.0/24", &c);
    ks_cidr_match_of(&c, &list[1], &unused);
    ASSERT(ks_cidr_v4_list_contains(list, 2, &in));
    ASSERT(!ks_cidr_v4_list_contains(list, 1, &in));
    ASSERT(!ks_cidr_v4_list_contains(list, 2, &out));
}

/* Random ranges of every prefix length against addresses near them and
 * random ones: the compact form and ks_cidr_contains always agree. */
static void test_agrees_with_contains(void)
{
    for (int round = 0; round < 20000; round++) {
        ks_cidr c = {0};
        int family = (round & 1) ? 6 : 4, bits = family == 4 ? 32 : 128;
        c.addr.family = family;
        randombytes_buf(c.addr.bytes, family == 4 ? 4 : 16);
        c.prefix = (int)randombytes_uniform((uint32_t)bits + 1);
        char text[KS_CIDR_TEXT_MAX];
        ks_cidr_format(&c, text, sizeof text);
        ASSERT_EQ_INT(ks_cidr_parse(text, &c), KS_OK); /* host bits cleared, as compiled */
        if (c.addr.family != family)
            continue; /* an IPv6 range in the mapped space reads as IPv4 */
        ks_netaddr a = c.addr;
        /* flip one random bit: inside when below the prefix, else outside */
        int bit = (int)randombytes_uniform((uint32_t)bits);
        a.bytes[bit / 8] ^= (unsigned char)(0x80 >> (bit % 8));
        ASSERT_EQ_INT(compact_contains(&c, &a), ks_cidr_contains(&c, &a));
        ASSERT_EQ_INT(ks_cidr_contains(&c, &a), bit >= c.prefix);
        ASSERT(compact_contains(&c, &c.addr));
        ks_netaddr r = {.family = family};
        randombytes_buf(r.bytes, family == 4 ? 4 : 16);
        ASSERT_EQ_INT(compact_contains(&c, &r), ks_cidr_contains(&c, &r));
    }
}

static void test_pack_round_trip(void)
{
    const char *const texts[] = {"192.0.2.77", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::1", "fe80::1"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        ks_netaddr a = addr(texts[i]), b;
        uint64_t w[2];
        ks_netaddr_pack(&a, w);
        ks_netaddr_unpack(w, &b);
        ASSERT_EQ_INT(b.family, a.family);
        ASSERT(memcmp(a.bytes, b.bytes, sizeof a.bytes) == 0);
    }
    ks_netaddr none = {0}, back;
    uint64_t w[2] = {1, 1};
    ks_netaddr_pack(&none, w);
    ASSERT(w[0] == 0 && w[1] == 0);
    ks_netaddr_unpack(w, &back);
    ASSERT_EQ_INT(back.family, 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_examples);
    RUN(test_agrees_with_contains);
    RUN(test_pack_round_trip);
    return unit_report("netaddr-match");
}
