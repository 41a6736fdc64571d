/*
 * test_rate_bucket.c - unit tests of src/core/rate_bucket.c (a key's token
 * bucket) and src/core/key_limits.c (allowed_cidrs normalisation), with a
 * fixed clock: a full bucket gives `limit` at once and no more, refills at
 * limit per period, tells when to retry and when it is full again, a
 * shape shared by nodes gives each ceil(limit / nodes), and many threads
 * taking from one bucket never get more than it holds.
 */
#include "unit.h"

#include "core/error.h"
#include "core/key_limits.h"
#include "core/rate_bucket.h"

#include <pthread.h>

#define S KS_NS_PER_SECOND
#define T0 ((int64_t)1000 * S) /* a monotonic time far from 0 */

static void test_burst_then_refused(void)
{
    ks_rate_shape s;
    ks_rate_shape_of(3, 1, 1, &s);
    ASSERT_EQ_INT(s.limit, 3);
    ASSERT_EQ_INT(s.interval, 333333334);
    int64_t tat = 0;
    ks_rate_outcome o;
    for (int i = 0; i < 3; i++) {
        tat = ks_rate_decide(&s, tat, T0, &o);
        ASSERT_EQ_INT(o.allowed, 1);
        ASSERT_EQ_INT(o.remaining, 2 - i);
        ASSERT_EQ_INT(o.limit, 3);
        ASSERT_EQ_INT(o.full_in, (i + 1) * s.interval); /* full again once every token is back */
    }
    int64_t before = tat;
    tat = ks_rate_decide(&s, tat, T0, &o);
    ASSERT_EQ_INT(o.allowed, 0);
    ASSERT_EQ_INT(tat, before); /* a refusal takes nothing */
    ASSERT_EQ_INT(o.remaining, 0);
    ASSERT_EQ_INT(o.retry_in, s.interval - (s.window - 3 * s.interval)); /* one token's time */
    ASSERT_EQ_INT(ks_rate_ceil_seconds(o.retry_in), 1);
    ASSERT_EQ_INT(o.full_in, 3 * s.interval);
}

static void test_refill(void)
{
    ks_rate_shape s;
    ks_rate_shape_of(10, 60, 1, &s); /* one token every 6 s */
    ASSERT_EQ_INT(s.interval, 6 * S);
    int64_t tat = 0;
    ks_rate_outcome o;
    for (int i = 0; i < 10; i++)
        tat = ks_rate_decide(&s, tat, T0, &o);
    ASSERT_EQ_INT(o.allowed, 1);
    ASSERT_EQ_INT(o.remaining, 0);
    ks_rate_decide(&s, tat, T0 + 5 * S, &o); /* 5 s later: still none back */
    ASSERT_EQ_INT(o.allowed, 0);
    ASSERT_EQ_INT(o.retry_in, 1 * S);
    ASSERT_EQ_INT(ks_rate_ceil_seconds(o.retry_in), 1);
    tat = ks_rate_decide(&s, tat, T0 + 6 * S, &o); /* 6 s: exactly one */
    ASSERT_EQ_INT(o.allowed, 1);
    ASSERT_EQ_INT(o.remaining, 0);
    ks_rate_decide(&s, tat, T0 + 6 * S, &o);
    ASSERT_EQ_INT(o.allowed, 0);
    ASSERT_EQ_INT(o.retry_in, 6 * S);
    /* 30 s after that: five back (of ten) */
    int got = 0;
    for (int i = 0; i < 20; i++) {
        tat = ks_rate_decide(&s, tat, T0 + 36 * S, &o);
        got += o.allowed;
    }
    ASSERT_EQ_INT(got, 5);
}

static void test_reset_and_idle_bucket_is_full(void)
{
    ks_rate_shape s;
    ks_rate_shape_of(4, 2, 1, &s);
    int64_t tat = 0;
    ks_rate_outcome o;
    tat = ks_rate_decide(&s, tat, T0, &o);
    ASSERT_EQ_INT(o.remaining, 3);
    ASSERT_EQ_INT(o.full_in, s.interval); /* reset: when the one token taken is back */
    ASSERT_EQ_INT(ks_rate_ceil_seconds(o.full_in), 1);
    /* long idle: a full bucket again, never more than full */
    int got = 0;
    for (int i = 0; i < 10; i++) {
        tat = ks_rate_decide(&s, tat, T0 + 3600 * S, &o);
        got += o.allowed;
    }
    ASSERT_EQ_INT(got, 4);
}

static void test_nodes_share_the_limit(void)
{
    ks_rate_shape s;
    ks_rate_shape_of(10, 1, 3, &s);
    ASSERT_EQ_INT(s.limit, 4); /* ceil(10 / 3) */
    ks_rate_shape_of(1, 1, 5, &s);
    ASSERT_EQ_INT(s.limit, 1); /* never below one */
    ks_rate_shape_of(1000000000, 86400, 1, &s);
    ASSERT_EQ_INT(s.limit, 1000000000);
    ASSERT_EQ_INT(s.interval, 86400);
    ASSERT(s.window >= 86400 * S);
    ks_rate_shape_of(1000000000, 1, 1, &s); /* the smallest interval: 1 ns */
    ASSERT_EQ_INT(s.interval, 1);
}

#define THREADS 4
#define TRIES 5000
static _Atomic int64_t shared_tat;
static _Atomic int shared_allowed;

static void *taker(void *arg)
{
    const ks_rate_shape *s = arg;
    for (int i = 0; i < TRIES; i++) {
        ks_rate_outcome o;
        ks_rate_take(&shared_tat, s, T0, &o); /* one instant: no refill at all */
        if (o.allowed)
            atomic_fetch_add(&shared_allowed, 1);
    }
    return NULL;
}

static void test_threads_never_take_more_than_the_bucket(void)
{
    ks_rate_shape s;
    ks_rate_shape_of(1000, 3600, 1, &s);
    atomic_store(&shared_tat, 0);
    atomic_store(&shared_allowed, 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        ASSERT_EQ_INT(pthread_create(&t[i], NULL, taker, &s), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ_INT(atomic_load(&shared_allowed), 1000);
}

static void test_allowed_cidrs_normalize(void)
{
    const char *in[] = {"203.0.113.7", "10.1.2.3/8", "2001:DB8::1/32", "10.0.0.0/8", "::ffff:192.0.2.0/120"};
    ks_strlist out;
    size_t bad = 99;
    ASSERT_EQ_INT(ks_allowed_cidrs_normalize(in, 5, &out, &bad), KS_OK);
    ASSERT_EQ_INT(out.count, 4);
    ASSERT_EQ_STR(out.items[0], "203.0.113.7/32");
    ASSERT_EQ_STR(out.items[1], "10.0.0.0/8");
    ASSERT_EQ_STR(out.items[2], "2001:db8::/32");
    ASSERT_EQ_STR(out.items[3], "192.0.2.0/24");
    char *joined = ks_allowed_cidrs_join(&out);
    ASSERT(joined != NULL);
    ASSERT_EQ_STR(joined, "203.0.113.7/32,10.0.0.0/8,2001:db8::/32,192.0.2.0/24");
    ks_strlist back;
    ASSERT_EQ_INT(ks_allowed_cidrs_split(joined, &back), KS_OK);
    ASSERT_EQ_INT(back.count, 4);
    free(joined);
    ks_strlist_free(&back);
    ks_strlist_free(&out);
    const char *wrong[] = {"10.0.0.0/8", "10.0.0.0/33"};
    ASSERT_EQ_INT(ks_allowed_cidrs_normalize(wrong, 2, &out, &bad), KS_ERR_INVALID);
    ASSERT_EQ_INT(bad, 1);
    ASSERT_EQ_INT(out.count, 0);
    ASSERT_EQ_INT(ks_allowed_cidrs_split("10.0.0.0/8,", &back), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_allowed_cidrs_split("", &back), KS_OK);
    ASSERT_EQ_INT(back.count, 0);
    ASSERT_EQ_INT(ks_rate_limit_check(0, 0), KS_OK);
    ASSERT_EQ_INT(ks_rate_limit_check(1, 1), KS_OK);
    ASSERT_EQ_INT(ks_rate_limit_check(1000000000, 86400), KS_OK);
    ASSERT_EQ_INT(ks_rate_limit_check(1000000001, 1), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_rate_limit_check(5, 0), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_rate_limit_check(5, 86401), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_rate_limit_check(-1, 5), KS_ERR_INVALID);
}

int main(void)
{
    RUN(test_burst_then_refused);
    RUN(test_refill);
    RUN(test_reset_and_idle_bucket_is_full);
    RUN(test_nodes_share_the_limit);
    RUN(test_threads_never_take_more_than_the_bucket);
    RUN(test_allowed_cidrs_normalize);
    return unit_report("core-rate-bucket");
}
