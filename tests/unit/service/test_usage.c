/*
 * test_usage.c - src/service/usage.c: verifies counted in per-thread tables
 * and in the keys' index entries (valid ones, as verify counts them) while
 * another thread flushes over and over lose nothing and count nothing
 * twice; a table that fills spills into the overflow list without
 * dropping a count; a read after close and reopen sees exactly what was
 * counted (the close flushes).
 */
#include "service_fixture.h"

#include "core/clock.h"
#include "core/error.h"
#include "index/epoch.h"
#include "index/key_index.h"
#include "service/service.h"
#include "service/usage.h"
#include "store/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define PER_THREAD 20000
#define KEYS 256 /* a full table's cells stay within a day of AT */

static char dir[64];
static char db_path[128];
static ks_secret secret;
static ks_service svc;
static ks_store *store;
static atomic_int counting_done;
static const int64_t AT = 1767225600; /* 2026-01-01T00:00:00Z */

static char ids[KEYS][32]; /* made before any thread starts */

static void make_ids(void)
{
    for (int i = 0; i < KEYS; i++) {
        snprintf(ids[i], sizeof ids[i], "kst-acme-%010d", i);
        for (char *p = ids[i] + 9; *p; p++)
            *p = (char)('a' + (*p - '0')); /* base32 letters */
    }
}

static const char *key_of(int i)
{
    return ids[i];
}

static void open_store(void)
{
    store = fixture_service_open(db_path, &secret, &svc);
}

static void close_store(void)
{
    fixture_service_close(&store, &svc);
}

static void *counter(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        const char *k = key_of((me + i) % KEYS);
        if (me % 2 == 0) {
            ks_usage_count(&svc, k, strlen(k), i % KS_USAGE_OUTCOMES, AT + (i % 120)); /* two minutes */
        } else if (me == 1) { /* inside a read section */
            ASSERT_EQ_INT(ks_epoch_enter(), 0);
            ks_usage_count_in_section(&svc, k, strlen(k), i % KS_USAGE_OUTCOMES, AT + (i % 120));
            ks_epoch_leave();
        } else { /* as verify counts: with the key's index entry (valid ones go into it) */
            ASSERT_EQ_INT(ks_index_read_lock(svc.index), 0);
            const ks_index_key *e = ks_index_find_key(svc.index, k, strlen(k));
            ASSERT(e);
            ks_usage_count_verify(&svc, e, i % KS_USAGE_OUTCOMES, AT + (i % 120));
            ks_index_read_unlock(svc.index);
        }
    }
    return NULL;
}

static void *flusher(void *arg)
{
    (void)arg;
    while (!atomic_load(&counting_done)) {
        int rc = ks_usage_flush(&svc);
        if (rc != KS_OK)
            fprintf(stderr, "flush rc %d\n", rc);
    }
    return NULL;
}

static int64_t total_in_store(int outcome)
{
    int64_t sum = 0;
    ks_usage_row *rows = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(store->ops->usage_list(store, "acme", NULL, 1, AT - 86400, AT + 86400, &rows, &n), KS_OK);
    for (size_t i = 0; i < n; i++)
        sum += outcome < 0 ? rows[i].counts[0] + rows[i].counts[1] + rows[i].counts[2] + rows[i].counts[3] +
                                 rows[i].counts[4] + rows[i].counts[5] + rows[i].counts[6]
                           : rows[i].counts[outcome];
    free(rows);
    return sum;
}

/* The keys of ids in svc's index (not the store: the counts do not care). */
static void index_keys(void)
{
    ks_settings settings = KS_SETTINGS_DEFAULT;
    ASSERT_EQ_INT(ks_index_put_account(svc.index, "acme", &settings, NULL, 0), KS_OK);
    for (int i = 0; i < KEYS; i++) {
        ks_key k = {0};
        memcpy(k.key_id, ids[i], strlen(ids[i]) + 1);
        strcpy(k.account, "acme");
        k.active = KS_KEY_ACTIVE;
        k.slots.current = (ks_token){.present = 1, .created_at = AT};
        ASSERT_EQ_INT(ks_index_put_key(svc.index, &k), KS_OK);
        ks_key_free(&k);
    }
}

static void test_counts_are_exact_under_concurrent_flushes(void)
{
    snprintf(db_path, sizeof db_path, "%s/usage.db", dir);
    randombytes_buf(secret.bytes, sizeof secret.bytes);
    open_store();
    index_keys();
    pthread_t t[THREADS], f;
    atomic_store(&counting_done, 0);
    ASSERT_EQ_INT(pthread_create(&f, NULL, flusher, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        ASSERT_EQ_INT(pthread_create(&t[i], NULL, counter, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    atomic_store(&counting_done, 1);
    pthread_join(f, NULL);
    /* what the last flush did not take is written by the close */
    close_store();
    open_store();
    ASSERT_EQ_INT(total_in_store(-1), (int64_t)THREADS * PER_THREAD);
    int64_t per_outcome = 0;
    for (int i = 0; i < PER_THREAD; i++)
        per_outcome += i % KS_USAGE_OUTCOMES == KS_USAGE_FORBIDDEN;
    ASSERT_EQ_INT(total_in_store(KS_USAGE_FORBIDDEN), per_outcome * THREADS);
    close_store();
}

static void test_a_full_table_spills_without_loss(void)
{
    snprintf(db_path, sizeof db_path, "%s/spill.db", dir);
    open_store();
    /* more distinct (key, minute) cells than one table takes */
    int cells = KS_USAGE_CELLS + 500;
    for (int i = 0; i < cells; i++) {
        const char *k = key_of(i % KEYS);
        ks_usage_count(&svc, k, strlen(k), KS_USAGE_VALID, AT - 86400 / 2 + (int64_t)(i / KEYS) * 60);
    }
    ASSERT_EQ_INT(ks_usage_flush(&svc), KS_OK);
    ASSERT_EQ_INT(total_in_store(KS_USAGE_VALID), cells);
    close_store();
}

static int64_t key_total(const char *account, const char *key_id)
{
    int64_t sum = 0;
    ks_usage_row *rows = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(store->ops->usage_list(store, account, key_id, 1, AT - 86400, AT + 86400, &rows, &n), KS_OK);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < KS_USAGE_OUTCOMES; k++)
            sum += rows[i].counts[k];
    free(rows);
    return sum;
}

/* Key ids longer than a cell holds inline (a long account name): two that
 * share their first 30 bytes are counted apart and written back whole. */
static void test_long_key_ids_are_counted_apart(void)
{
    snprintf(db_path, sizeof db_path, "%s/long.db", dir);
    open_store();
    const char *account = "a-rather-long-account-name-of-40-chars-x";
    char a[KS_KEY_ID_MAX + 1], b[KS_KEY_ID_MAX + 1];
    snprintf(a, sizeof a, "kst-%s-abcdefghij", account);
    snprintf(b, sizeof b, "kst-%s-abcdefghik", account);
    ASSERT_EQ_INT((int)strlen(a), KS_KEY_ID_MAX);
    for (int i = 0; i < 3; i++)
        ks_usage_count(&svc, a, strlen(a), KS_USAGE_VALID, AT);
    for (int i = 0; i < 5; i++)
        ks_usage_count(&svc, b, strlen(b), KS_USAGE_INVALID_TOKEN, AT);
    ks_usage_count(&svc, "kst-acme-abcdefghij", 19, KS_USAGE_VALID, AT);
    ASSERT_EQ_INT(ks_usage_flush(&svc), KS_OK);
    ASSERT_EQ_INT(key_total(account, a), 3);
    ASSERT_EQ_INT(key_total(account, b), 5);
    ASSERT_EQ_INT(key_total("acme", "kst-acme-abcdefghij"), 1);
    close_store();
}

static size_t rows_written, rows_out_of_order;
static int (*real_usage_add)(ks_store *, const ks_usage_row *, size_t);

/* Counts the rows given to the store, and those not after their
 * predecessor in (key id, hour) order. */
static int counting_usage_add(ks_store *s, const ks_usage_row *rows, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int c = strcmp(rows[i - 1].key_id, rows[i].key_id);
        if (c > 0 || (c == 0 && rows[i - 1].at >= rows[i].at))
            rows_out_of_order++;
    }
    rows_written += n;
    return real_usage_add(s, rows, n);
}

/* The flush writes one row per key and hour (the store adds each to its
 * hour's and its day's counts), with every count of the key's minutes and
 * cells (its index entry's, a thread table's) in it, in key id and hour
 * order. */
static void test_a_key_s_minutes_of_an_hour_are_one_row(void)
{
    snprintf(db_path, sizeof db_path, "%s/hours.db", dir);
    open_store();
    index_keys();
    ks_store_ops ops = *store->ops;
    real_usage_add = ops.usage_add;
    ops.usage_add = counting_usage_add;
    const ks_store_ops *saved = store->ops;
    store->ops = &ops;
    rows_written = rows_out_of_order = 0;
    const char *k = key_of(0), *other = key_of(1);
    if (strcmp(k, other) < 0) { /* counted first below, so collected first: the sort must move it */
        const char *swap = k;
        k = other;
        other = swap;
    }
    ASSERT_EQ_INT(ks_index_read_lock(svc.index), 0);
    const ks_index_key *e = ks_index_find_key(svc.index, k, strlen(k));
    ASSERT(e);
    const int64_t minutes[] = {AT, AT + 60, AT + 61, AT + 3599}; /* three minutes of hour 0 */
    for (size_t i = 0; i < sizeof minutes / sizeof *minutes; i++)
        ks_usage_count_verify(&svc, e, KS_USAGE_VALID, minutes[i]); /* the entry's, then handed to a table */
    ks_index_read_unlock(svc.index);
    ks_usage_count(&svc, k, strlen(k), KS_USAGE_INVALID_TOKEN, AT + 120);
    ks_usage_count(&svc, k, strlen(k), KS_USAGE_VALID, AT + 3600); /* hour 1 */
    ks_usage_count(&svc, other, strlen(other), KS_USAGE_VALID, AT + 30);
    ASSERT_EQ_INT(ks_usage_flush(&svc), KS_OK);
    ASSERT_EQ_INT((int)rows_written, 3); /* k's hours 0 and 1, other's hour 0 */
    ASSERT_EQ_INT((int)rows_out_of_order, 0);
    store->ops = saved;

    ks_usage_row *rows = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(store->ops->usage_list(store, "acme", k, 0, AT - 3600, AT + 7200, &rows, &n), KS_OK);
    ASSERT_EQ_INT((int)n, 2);
    ASSERT(rows[0].at == AT && rows[1].at == AT + 3600);
    ASSERT(rows[0].counts[KS_USAGE_VALID] == 4 && rows[0].counts[KS_USAGE_INVALID_TOKEN] == 1);
    ASSERT(rows[1].counts[KS_USAGE_VALID] == 1 && rows[1].counts[KS_USAGE_INVALID_TOKEN] == 0);
    free(rows);
    ASSERT_EQ_INT(key_total("acme", k), 6);     /* the day row */
    ASSERT_EQ_INT(key_total("acme", other), 1);
    close_store();
}

int main(void)
{
    if (fixture_dir_make(dir, sizeof dir, "ks-usage") != 0)
        return 1;
    if (sodium_init() < 0)
        return 1;
    make_ids();
    RUN(test_counts_are_exact_under_concurrent_flushes);
    RUN(test_a_full_table_spills_without_loss);
    RUN(test_long_key_ids_are_counted_apart);
    RUN(test_a_key_s_minutes_of_an_hour_are_one_row);
    if (store)
        close_store();
    unit_rm_dir(dir);
    return unit_report("usage");
}
