/*
 * test_limits.c - a key's limits in the index (src/index/limits.c): none
 * costs nothing (NULL), ranges are compiled into the entry's limits, the
 * bucket is shared across a rebuild with the same limits, carried over
 * when only the ranges change, and new when the rate limit changes; the
 * node count divides the limit; everything is freed (ASan/valgrind).
 */
#include "unit.h"
#include "index_fixture.h"
#include "core/error.h"
#include "index/key_index.h"
#include "index/limits.h"

#include <stdlib.h>

#define KEY "kst-acme-aaaaaaaaaa"
#define NOW ((int64_t)5000 * KS_NS_PER_SECOND)

/* KEY with these allowed ranges (NULL-terminated, or NULL) and rate limit. */
static ks_key limited_key(const char *const *ranges, int64_t limit, int32_t period)
{
    ks_key k = key_make(KEY, 7, 0);
    for (size_t i = 0; ranges && ranges[i]; i++)
        ASSERT_EQ_INT(ks_strlist_add(&k.allowed_cidrs, ranges[i]), KS_OK);
    k.rate_limit = (ks_rate_limit){limit, period};
    return k;
}

static const ks_index_limits *limits_of(ks_index *idx)
{
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *e = ks_index_find_key(idx, KEY, strlen(KEY));
    const ks_index_limits *l = e ? e->limits : NULL;
    ks_index_read_unlock(idx);
    ASSERT(e);
    return l;
}

static int take(ks_index *idx)
{
    ks_rate_outcome o;
    ks_index_limits_take(idx, limits_of(idx), NOW, &o);
    return o.allowed;
}

static void put(ks_index *idx, const char *const *ranges, int64_t limit, int32_t period)
{
    ks_key k = limited_key(ranges, limit, period);
    ASSERT_EQ_INT(ks_index_put_key(idx, &k), KS_OK);
    ks_key_free(&k);
}

static void test_limits_lifecycle(void)
{
    ks_index *idx = ks_index_new();
    ks_settings settings = KS_SETTINGS_DEFAULT;
    ASSERT(idx);
    ASSERT_EQ_INT(ks_index_put_account(idx, "acme", &settings, NULL, 0), KS_OK);

    put(idx, NULL, 0, 0);
    ASSERT(limits_of(idx) == NULL); /* no limits, no object */

    const char *const two[] = {"10.0.0.0/8", "2001:db8::/32", NULL};
    put(idx, two, 2, 3600);
    const ks_index_limits *l = limits_of(idx);
    ASSERT(l != NULL);
    ASSERT_EQ_INT(l->n_cidrs, 2);
    ks_netaddr a;
    ASSERT_EQ_INT(ks_netaddr_parse("10.9.8.7", 8, &a), KS_OK);
    ASSERT(ks_index_limits_address_ok(l, &a));
    ASSERT_EQ_INT(ks_netaddr_parse("11.0.0.1", 8, &a), KS_OK);
    ASSERT(!ks_index_limits_address_ok(l, &a));
    ks_netaddr none = {0};
    ASSERT(!ks_index_limits_address_ok(l, &none));
    ASSERT_EQ_INT(take(idx), 1);

    /* the same limits: the very same object, bucket included */
    put(idx, two, 2, 3600);
    ASSERT(limits_of(idx) == l);
    ASSERT_EQ_INT(take(idx), 1);
    ASSERT_EQ_INT(take(idx), 0);

    /* other ranges, same rate: a new object that goes on from the spent bucket */
    const char *const one[] = {"192.0.2.0/24", NULL};
    put(idx, one, 2, 3600);
    ASSERT(limits_of(idx) != NULL);
    ASSERT_EQ_INT(limits_of(idx)->n_cidrs, 1);
    ASSERT_EQ_INT(take(idx), 0);

    /* a changed rate: a full bucket */
    put(idx, one, 3, 3600);
    ASSERT_EQ_INT(take(idx), 1);
    ASSERT_EQ_INT(take(idx), 1);
    ASSERT_EQ_INT(take(idx), 1);
    ASSERT_EQ_INT(take(idx), 0);

    /* two nodes: each gets ceil(4 / 2) */
    put(idx, NULL, 4, 3600);
    ks_index_set_nodes(idx, 2);
    ASSERT_EQ_INT(ks_index_nodes(idx), 2);
    ASSERT_EQ_INT(limits_of(idx)->n_cidrs, 0);
    ASSERT_EQ_INT(take(idx), 1);
    ASSERT_EQ_INT(take(idx), 1);
    ASSERT_EQ_INT(take(idx), 0);

    /* a rate-free object always allows */
    put(idx, one, 0, 0);
    ASSERT_EQ_INT(take(idx), 1);
    ASSERT_EQ_INT(take(idx), 1);

    ks_index_remove_key(idx, KEY);
    put(idx, two, 1, 1);
    ks_index_free(idx); /* a live entry's limits go with the index */
}

int main(void)
{
    RUN(test_limits_lifecycle);
    return unit_report("index-limits");
}
