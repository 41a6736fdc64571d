/*
 * test_use_count.c - valid verifies counted in the key's index entry
 * (key_index.h "Valid uses"): counts within a minute, the rollover that
 * hands the earlier minute out, an older clock sent elsewhere, a collection
 * that takes each count once, and the entries a collection no longer finds
 * in the table: replaced, rebuilt for a new duration or deleted, freed or
 * still held by a reader. Under
 * threads counting while another collects and a writer replaces the keys,
 * every count ends up in exactly one place.
 */
#include "unit.h"
#include "index_fixture.h"
#include "core/error.h"
#include "index/epoch.h"
#include "index/key_index.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define KEY_A "kst-acme-aaaaaaaaaa"
#define KEY_B "kst-acme-bbbbbbbbbb"
#define M0 ((int64_t)1767225600) /* a minute's start */

static ks_index *index_with_keys(void)
{
    ks_index *idx = ks_index_new();
    ks_settings settings = KS_SETTINGS_DEFAULT;
    ASSERT(idx);
    ASSERT_EQ_INT(ks_index_put_account(idx, "acme", &settings, NULL, 0), KS_OK);
    const char *ids[] = {KEY_A, KEY_B};
    for (int i = 0; i < 2; i++) {
        ks_key k = key_make(ids[i], 7, 0);
        ASSERT_EQ_INT(ks_index_put_key(idx, &k), KS_OK);
        ks_key_free(&k);
    }
    return idx;
}

/* Re-puts a key: its entry is replaced (and the old one retired). */
static void replace(ks_index *idx, const char *key_id)
{
    ks_key k = key_make(key_id, 7, 0);
    ASSERT_EQ_INT(ks_index_put_key(idx, &k), KS_OK);
    ks_key_free(&k);
}

/* What collections took, per key and minute (2 keys x 8 minutes). */
typedef struct {
    atomic_llong counts[2][8];
    atomic_llong other; /* a key or minute outside those */
} tally;

static void tally_add(void *ctx, const char *key_id, size_t key_len, int64_t minute, uint32_t count)
{
    tally *t = ctx;
    int k = key_len == strlen(KEY_A) && memcmp(key_id, KEY_A, key_len) == 0   ? 0
            : key_len == strlen(KEY_B) && memcmp(key_id, KEY_B, key_len) == 0 ? 1
                                                                              : -1;
    int64_t m = (minute - M0) / 60;
    if (k < 0 || m < 0 || m >= 8 || minute % 60 != 0)
        atomic_fetch_add(&t->other, count);
    else
        atomic_fetch_add(&t->counts[k][m], count);
}

/* One count of key_id at `now`, as verify makes it; what it handed out
 * (a rolled-over minute, or the count itself when sent elsewhere) goes to
 * t like a collection's. Returns the KS_INDEX_USE_* result. */
static int count(ks_index *idx, const char *key_id, int64_t now, tally *t)
{
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *k = ks_index_find_key(idx, key_id, strlen(key_id));
    ASSERT(k);
    int64_t old_minute = 0;
    uint32_t old_count = 0;
    int r = ks_index_count_use(k, now, &old_minute, &old_count);
    ks_index_read_unlock(idx);
    if (r == KS_INDEX_USE_ROLLED)
        tally_add(t, key_id, strlen(key_id), old_minute, old_count);
    else if (r == KS_INDEX_USE_ELSEWHERE)
        tally_add(t, key_id, strlen(key_id), now - (now % 60), 1);
    return r;
}

static void test_counts_rollover_and_collection(void)
{
    ks_index *idx = index_with_keys();
    tally t = {0};
    for (int i = 0; i < 5; i++)
        ASSERT_EQ_INT(count(idx, KEY_A, M0 + i, &t), KS_INDEX_USE_COUNTED);
    ASSERT_EQ_INT(count(idx, KEY_B, M0 + 59, &t), KS_INDEX_USE_COUNTED);
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 0); /* nothing handed out yet */
    ks_index_collect_uses(idx, tally_add, &t);
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 5);
    ASSERT_EQ_INT(atomic_load(&t.counts[1][0]), 1);
    ks_index_collect_uses(idx, tally_add, &t); /* taken once */
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 5);
    /* the next minute: the first count hands the earlier one out */
    for (int i = 0; i < 3; i++)
        ASSERT_EQ_INT(count(idx, KEY_A, M0 + 30, &t), KS_INDEX_USE_COUNTED);
    ASSERT_EQ_INT(count(idx, KEY_A, M0 + 60, &t), KS_INDEX_USE_ROLLED);
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 8);
    /* an older clock (another thread's read a moment earlier): elsewhere */
    ASSERT_EQ_INT(count(idx, KEY_A, M0 + 59, &t), KS_INDEX_USE_ELSEWHERE);
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 9);
    ks_index_collect_uses(idx, tally_add, &t);
    ASSERT_EQ_INT(atomic_load(&t.counts[0][1]), 1);
    ASSERT_EQ_INT(atomic_load(&t.other), 0);
    ks_index_free(idx);
}

static void test_replaced_and_deleted_entries_give_their_counts(void)
{
    ks_index *idx = index_with_keys();
    tally t = {0};
    for (int i = 0; i < 2; i++)
        count(idx, KEY_A, M0, &t);
    replace(idx, KEY_A); /* the new entry starts at 0; the old one keeps its 2 */
    for (int i = 0; i < 3; i++)
        count(idx, KEY_A, M0, &t);
    for (int i = 0; i < 4; i++)
        count(idx, KEY_B, M0, &t);
    ks_index_remove_key(idx, KEY_B);
    ks_index_collect_uses(idx, tally_add, &t);
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 5);
    ASSERT_EQ_INT(atomic_load(&t.counts[1][0]), 4);
    ks_index_collect_uses(idx, tally_add, &t);
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 5);
    ASSERT_EQ_INT(atomic_load(&t.counts[1][0]), 4);
    /* a new token duration rebuilds the account's entries as copies: the
     * copy starts at 0, the original gives its own */
    for (int i = 0; i < 2; i++)
        count(idx, KEY_A, M0, &t);
    ks_settings six = KS_SETTINGS_DEFAULT;
    six.token_duration_months = six.token_duration_months == 6 ? 3 : 6;
    ASSERT_EQ_INT(ks_index_put_account(idx, "acme", &six, NULL, 0), KS_OK);
    count(idx, KEY_A, M0, &t);
    ks_index_collect_uses(idx, tally_add, &t);
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 8);
    ks_index_free(idx);
}

/* A reader that holds KEY_A's entry in its section until told to leave. */
typedef struct {
    ks_index *idx;
    const ks_index_key *held;
    atomic_int state; /* 1: holding, 2: leave, 3: left */
} holder;

static void *hold(void *arg)
{
    holder *h = arg;
    ASSERT_EQ_INT(ks_index_read_lock(h->idx), 0);
    h->held = ks_index_find_key(h->idx, KEY_A, strlen(KEY_A));
    atomic_store(&h->state, 1);
    while (atomic_load(&h->state) != 2)
        ;
    ks_index_read_unlock(h->idx);
    atomic_store(&h->state, 3);
    return NULL;
}

static void test_an_entry_a_reader_still_holds(void)
{
    ks_index *idx = index_with_keys();
    tally t = {0};
    holder h = {idx, NULL, 0};
    pthread_t th;
    ASSERT_EQ_INT(pthread_create(&th, NULL, hold, &h), 0);
    while (atomic_load(&h.state) != 1)
        ;
    replace(idx, KEY_A); /* retired, not freed: the holder's section keeps it */
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    ASSERT(ks_index_find_key(idx, KEY_A, strlen(KEY_A)) != h.held); /* replaced indeed */
    ks_index_read_unlock(idx);
    int64_t m;
    uint32_t n;
    for (int i = 0; i < 2; i++) /* verifies that found the old entry, counting late */
        ASSERT_EQ_INT(ks_index_count_use(h.held, M0, &m, &n), KS_INDEX_USE_COUNTED);
    ks_index_collect_uses(idx, tally_add, &t);
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 2);
    ASSERT_EQ_INT(ks_index_count_use(h.held, M0, &m, &n), KS_INDEX_USE_COUNTED);
    atomic_store(&h.state, 2);
    pthread_join(th, NULL);
    ks_index_collect_uses(idx, tally_add, &t); /* freed now: its last count comes out */
    ASSERT_EQ_INT(atomic_load(&t.counts[0][0]), 3);
    ks_index_free(idx);
}

#define COUNTERS 3
#define PER_COUNTER 60000

static ks_index *shared;
static tally shared_tally;
static atomic_int counters_done;

static void *counter(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < PER_COUNTER; i++) {
        /* each thread's clock moves through 7 minutes at its own pace, so
         * rollovers and older clocks meet */
        int64_t now = M0 + (int64_t)i * 7 * 60 / PER_COUNTER + me;
        count(shared, (i + me) % 2 ? KEY_A : KEY_B, now, &shared_tally);
    }
    return NULL;
}

static void *collector(void *arg)
{
    (void)arg;
    while (!atomic_load(&counters_done))
        ks_index_collect_uses(shared, tally_add, &shared_tally);
    return NULL;
}

static void *replacer(void *arg)
{
    (void)arg;
    for (int i = 0; !atomic_load(&counters_done); i++)
        replace(shared, i % 2 ? KEY_A : KEY_B);
    return NULL;
}

static void test_every_count_lands_once_under_threads(void)
{
    shared = index_with_keys();
    memset(&shared_tally, 0, sizeof shared_tally);
    atomic_store(&counters_done, 0);
    pthread_t c[COUNTERS], col, rep;
    ASSERT_EQ_INT(pthread_create(&col, NULL, collector, NULL), 0);
    ASSERT_EQ_INT(pthread_create(&rep, NULL, replacer, NULL), 0);
    for (int i = 0; i < COUNTERS; i++)
        ASSERT_EQ_INT(pthread_create(&c[i], NULL, counter, (void *)(intptr_t)i), 0);
    for (int i = 0; i < COUNTERS; i++)
        pthread_join(c[i], NULL);
    atomic_store(&counters_done, 1);
    pthread_join(col, NULL);
    pthread_join(rep, NULL);
    ks_index_collect_uses(shared, tally_add, &shared_tally);
    long long total = atomic_load(&shared_tally.other);
    for (int k = 0; k < 2; k++)
        for (int m = 0; m < 8; m++)
            total += atomic_load(&shared_tally.counts[k][m]);
    ASSERT_EQ_INT(atomic_load(&shared_tally.other), 0);
    ASSERT_EQ_INT(total, (long long)COUNTERS * PER_COUNTER);
    ks_index_free(shared);
}

int main(void)
{
    RUN(test_counts_rollover_and_collection);
    RUN(test_replaced_and_deleted_entries_give_their_counts);
    RUN(test_an_entry_a_reader_still_holds);
    RUN(test_every_count_lands_once_under_threads);
    return unit_report("use count");
}
