/*
 * test_abuse_limits.c - core/netaddr.h (addresses, CIDR ranges, the /64
 * key) and core/fail_throttle.h (failed attempts per address: the limit,
 * the sliding minute, Retry-After, the fixed table under many addresses
 * and many threads).
 */
#include "unit.h"

#include "core/error.h"
#include "core/fail_throttle.h"
#include "core/netaddr.h"

#include <pthread.h>
#include <sodium.h>

static ks_netaddr addr(const char *s)
{
    ks_netaddr a;
    ks_netaddr_parse(s, strlen(s), &a);
    return a;
}

static void test_cidr_parse_and_contains(void)
{
    ks_cidr c;
    ASSERT_EQ_INT(ks_cidr_parse("10.1.2.3/8", &c), KS_OK);
    char text[KS_CIDR_TEXT_MAX];
    ks_cidr_format(&c, text, sizeof text);
    ASSERT_EQ_STR(text, "10.0.0.0/8"); /* host bits cleared */
    ks_netaddr in = addr("10.200.0.1"), out = addr("11.0.0.1"), v6 = addr("::a00:1");
    ASSERT(ks_cidr_contains(&c, &in));
    ASSERT(!ks_cidr_contains(&c, &out));
    ASSERT(!ks_cidr_contains(&c, &v6));
    ASSERT_EQ_INT(ks_cidr_parse("127.0.0.1", &c), KS_OK);
    ASSERT_EQ_INT(c.prefix, 32);
    ks_netaddr mapped = addr("::ffff:127.0.0.1"); /* a dual-stack socket's IPv4 client */
    ASSERT_EQ_INT(mapped.family, 4);
    ASSERT(ks_cidr_contains(&c, &mapped));
    ASSERT_EQ_INT(ks_cidr_parse("2001:db8::/32", &c), KS_OK);
    ks_netaddr a6 = addr("2001:db8:ffff::1");
    ASSERT(ks_cidr_contains(&c, &a6));
    ASSERT_EQ_INT(ks_cidr_parse("0.0.0.0/0", &c), KS_OK);
    ASSERT(ks_cidr_contains(&c, &out));
    static const char *const BAD[] = {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08", "/8", "10.0.0/8",
                                      "2001:db8::/129", "::ffff:1.2.3.4/95", "10.0.0.0/8 ", " 10.0.0.0",
                                      "fe80::1%eth0", "10.0.0.0/+8", "example.com"};
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++)
        if (ks_cidr_parse(BAD[i], &c) != KS_ERR_INVALID)
            UNIT_FAIL("accepted '%s'", BAD[i]);
}

static void test_limit_key_per_ipv6_64(void)
{
    ks_netaddr a = addr("2001:db8:1:2:aaaa::1"), b = addr("2001:db8:1:2:bbbb::9"), c = addr("2001:db8:1:3::1");
    ASSERT(ks_netaddr_limit_key(&a) == ks_netaddr_limit_key(&b));
    ASSERT(ks_netaddr_limit_key(&a) != ks_netaddr_limit_key(&c));
    ks_netaddr v4a = addr("192.0.2.1"), v4b = addr("192.0.2.2");
    ASSERT(ks_netaddr_limit_key(&v4a) != ks_netaddr_limit_key(&v4b));
    ks_netaddr none = {0, {0}};
    ASSERT(ks_netaddr_limit_key(&none) == 0);
}

static void test_limit_then_429_with_retry_after(void)
{
    ks_fail_throttle *t = ks_fail_throttle_new(10);
    ASSERT(t);
    uint64_t key = 42, other = 43;
    int64_t now = 3 * 60000 + 1000; /* 1 s into a minute */
    for (int i = 0; i < 10; i++)
        ASSERT_EQ_INT(ks_fail_throttle_record(t, key, now + i), 0);
    int wait = ks_fail_throttle_record(t, key, now + 10);
    ASSERT(wait >= 1 && wait <= 120);
    ASSERT_EQ_INT(ks_fail_throttle_record(t, other, now + 11), 0); /* another address */
    ASSERT_EQ_INT((int)ks_fail_throttle_count(t, key, now + 12), 11);
    /* the next minute: the last minute still weighs (sliding window) */
    int64_t next = 4 * 60000 + 1000;
    ASSERT(ks_fail_throttle_record(t, key, next) > 0);
    /* two minutes on: forgotten */
    ASSERT_EQ_INT(ks_fail_throttle_record(t, key, 6 * 60000), 0);
    ks_fail_throttle_free(t);
}

static void test_retry_after_is_when_it_passes_again(void)
{
    ks_fail_throttle *t = ks_fail_throttle_new(10);
    int64_t now = 60000 * 10 + 30000; /* half a minute in */
    int wait = 0;
    for (int i = 0; i < 20; i++)
        wait = ks_fail_throttle_record(t, 7, now);
    ASSERT(wait > 0);
    /* after the wait, one more failure is within the limit again */
    ASSERT_EQ_INT(ks_fail_throttle_record(t, 7, now + (int64_t)wait * 1000 + 1000), 0);
    ks_fail_throttle_free(t);
}

static void test_many_addresses_stay_in_the_table(void)
{
    /* 10x more addresses than the table holds: no growth, no crash, and a
     * steady attacker keeps being limited while the others churn. */
    ks_fail_throttle *t = ks_fail_throttle_new(5);
    int64_t now = 60000 * 20;
    int limited = 0;
    for (uint64_t i = 1; i <= KS_THROTTLE_BUCKETS * KS_THROTTLE_WAYS * 10; i++) {
        if (ks_fail_throttle_record(t, 1000000 + i, now) < 0)
            UNIT_FAIL("negative wait");
        if (i % 64 == 0)
            limited += ks_fail_throttle_record(t, 1, now) > 0;
    }
    ASSERT(limited > 0);
    ASSERT(ks_fail_throttle_count(t, 1, now) > 5);
    ks_fail_throttle_free(t);
}

#define THREADS 4
#define PER_THREAD 5000

static ks_fail_throttle *SHARED;

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++)
        if (ks_fail_throttle_record(SHARED, 99, 60000 * 30 + 1) < 0)
            abort();
    return NULL;
}

static void test_concurrent_counts_are_not_lost(void)
{
    SHARED = ks_fail_throttle_new(65535);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, hammer, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    unsigned n = ks_fail_throttle_count(SHARED, 99, 60000 * 30 + 1);
    /* a record may give up under heavy contention on one word (16 tries):
     * allow a little, never more than was recorded */
    ASSERT(n <= THREADS * PER_THREAD);
    ASSERT(n >= THREADS * PER_THREAD * 99 / 100);
    ks_fail_throttle_free(SHARED);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_cidr_parse_and_contains);
    RUN(test_limit_key_per_ipv6_64);
    RUN(test_limit_then_429_with_retry_after);
    RUN(test_retry_after_is_when_it_passes_again);
    RUN(test_many_addresses_stay_in_the_table);
    RUN(test_concurrent_counts_are_not_lost);
    return unit_report("abuse-limits");
}
