/*
 * test_key_index.c - the index's last-used bookkeeping: what a flush
 * collects, that only a successful store write marks it flushed, and that
 * reads merge times not flushed yet, matched by token hash across renewals,
 * and a verify that touches an entry just replaced is not lost; the
 * caller's address (last_used_from) goes with the time: recorded by the
 * touch that moves the second, collected, merged into store records when
 * the index's time is newer, none for a caller without an IP address,
 * carried across a renewal and a hand-over,
 * loaded from the store, and never read half-written while threads touch.
 * (Verify answers against the index are covered by the HTTP load test.)
 */
#include "unit.h"
#include "index_fixture.h"
#include "core/error.h"
#include "index/key_index.h"

#include <pthread.h>
#include <stdlib.h>

#define KEY_A "kst-acme-aaaaaaaaaa"
#define KEY_B "kst-acme-bbbbbbbbbb"

static ks_index *index_with(const ks_key *keys, size_t n)
{
    ks_index *idx = ks_index_new();
    ks_settings settings = KS_SETTINGS_DEFAULT;
    ASSERT(idx);
    ASSERT_EQ_INT(ks_index_put_account(idx, "acme", &settings, NULL, 0), KS_OK);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ_INT(ks_index_put_key(idx, &keys[i]), KS_OK);
    return idx;
}

static void touch(ks_index *idx, const char *key_id, ks_slot slot, int64_t at)
{
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *k = ks_index_find_key(idx, key_id, strlen(key_id));
    if (k)
        ks_index_touch(k, slot, at, NULL);
    ks_index_read_unlock(idx);
    ASSERT(k);
}

static ks_netaddr addr_of(const char *text)
{
    ks_netaddr a;
    ASSERT_EQ_INT(ks_netaddr_parse(text, strlen(text), &a), KS_OK);
    return a;
}

static void touch_from(ks_index *idx, const char *key_id, ks_slot slot, int64_t at, const char *from)
{
    ks_netaddr a = addr_of(from);
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *k = ks_index_find_key(idx, key_id, strlen(key_id));
    if (k)
        ks_index_touch(k, slot, at, &a);
    ks_index_read_unlock(idx);
    ASSERT(k);
}

static void expect_addr(const ks_netaddr *a, const char *want)
{
    char text[KS_NETADDR_TEXT_MAX];
    ks_netaddr_format(a, text, sizeof text);
    ASSERT_EQ_STR(text, want);
}

/* Collects, and checks what every collection promises: key_seq is the
 * key's store seq (the fixture's 100 + its first digest byte; the store's
 * last_used_order takes it for the key's row). Leftovers of a freed block
 * make a missed field show without ASan, whose fresh memory is 0xbe. */
static size_t collect_in(ks_index *idx, ks_last_used_scope scope, ks_last_used **items)
{
    size_t n = 99;
    static void *(*volatile fill)(void *, int, size_t) = memset; /* not optimised away */
    void *dirty = malloc(64 * sizeof(ks_last_used));
    if (dirty)
        fill(dirty, 0xAA, 64 * sizeof(ks_last_used));
    free(dirty);
    ASSERT_EQ_INT(ks_index_collect_last_used(idx, scope, items, &n), KS_OK);
    for (size_t i = 0; i < n; i++) {
        ks_index_read_lock(idx);
        const ks_index_key *k = ks_index_find_key(idx, (*items)[i].key_id, strlen((*items)[i].key_id));
        int64_t want = k ? 100 + k->slots[0].hash.bytes[0] : -1;
        ks_index_read_unlock(idx);
        ASSERT_EQ_INT((*items)[i].key_seq, want);
    }
    return n;
}

static size_t collect(ks_index *idx, ks_last_used **items)
{
    return collect_in(idx, KS_LAST_USED_ALL, items);
}

static void test_collect_waits_for_mark(void)
{
    ks_key keys[2] = {key_make(KEY_A, 1, 0), key_make(KEY_B, 2, 0)};
    ks_index *idx = index_with(keys, 2);
    ks_last_used *items = NULL;
    ASSERT_EQ_INT(collect(idx, &items), 0); /* nothing used yet */
    free(items);

    touch(idx, KEY_A, KS_SLOT_CURRENT, 5000);
    ASSERT_EQ_INT(collect(idx, &items), 1);
    ASSERT_EQ_STR(items[0].key_id, KEY_A);
    ASSERT_EQ_INT(items[0].last_used_at, 5000);
    ASSERT(ks_digest_equal(&items[0].hash, &keys[0].slots.current.hash));
    free(items);

    /* not marked (the store write failed): the next flush writes it again */
    ASSERT_EQ_INT(collect(idx, &items), 1);
    ks_index_mark_flushed(idx, items, 1);
    free(items);
    ASSERT_EQ_INT(collect(idx, &items), 0);
    free(items);

    /* a later use is collected again, an earlier one is not */
    touch(idx, KEY_A, KS_SLOT_CURRENT, 4000);
    ASSERT_EQ_INT(collect(idx, &items), 0);
    free(items);
    touch(idx, KEY_A, KS_SLOT_CURRENT, 6000);
    ASSERT_EQ_INT(collect(idx, &items), 1);
    ASSERT_EQ_INT(items[0].last_used_at, 6000);
    free(items);

    ks_index_free(idx);
    ks_key_free(&keys[0]);
    ks_key_free(&keys[1]);
}

/* The sweeper's scope before auto-delete: only keys holding an old token,
 * both their tokens' times; the others stay for the next full flush. */
static void test_collect_renewed_keys_only(void)
{
    ks_key keys[2] = {key_make(KEY_A, 1, 0), key_make(KEY_B, 3, 2)};
    ks_index *idx = index_with(keys, 2);
    touch(idx, KEY_A, KS_SLOT_CURRENT, 5000);
    touch(idx, KEY_B, KS_SLOT_CURRENT, 5001);
    touch(idx, KEY_B, KS_SLOT_OLD, 5002);
    ks_last_used *items = NULL;
    ASSERT_EQ_INT(collect_in(idx, KS_LAST_USED_RENEWED_KEYS, &items), 2);
    ASSERT_EQ_STR(items[0].key_id, KEY_B);
    ASSERT_EQ_STR(items[1].key_id, KEY_B);
    ASSERT_EQ_INT(items[0].last_used_at + items[1].last_used_at, 5001 + 5002);
    ks_index_mark_flushed(idx, items, 2);
    free(items);
    ASSERT_EQ_INT(collect_in(idx, KS_LAST_USED_RENEWED_KEYS, &items), 0);
    free(items);
    ASSERT_EQ_INT(collect(idx, &items), 1); /* key A's, still owed */
    ASSERT_EQ_STR(items[0].key_id, KEY_A);
    free(items);
    ks_index_free(idx);
    ks_key_free(&keys[0]);
    ks_key_free(&keys[1]);
}

static void test_mark_after_renewal_follows_hash(void)
{
    ks_key key = key_make(KEY_A, 1, 0);
    ks_index *idx = index_with(&key, 1);
    touch(idx, KEY_A, KS_SLOT_CURRENT, 5000);
    ks_last_used *items = NULL;
    ASSERT_EQ_INT(collect(idx, &items), 1);

    /* a renewal lands between collect and mark: token 1 is now the old one */
    ks_key renewed = key_make(KEY_A, 3, 1);
    ASSERT_EQ_INT(ks_index_put_key(idx, &renewed), KS_OK);
    ks_index_mark_flushed(idx, items, 1);
    free(items);
    ASSERT_EQ_INT(collect(idx, &items), 0);
    free(items);

    /* the key is gone before its mark: nothing to mark, nothing breaks */
    touch(idx, KEY_A, KS_SLOT_OLD, 7000);
    ASSERT_EQ_INT(collect(idx, &items), 1);
    ks_index_remove_key(idx, KEY_A);
    ks_index_mark_flushed(idx, items, 1);
    free(items);
    ASSERT_EQ_INT(collect(idx, &items), 0);
    free(items);

    ks_index_free(idx);
    ks_key_free(&key);
    ks_key_free(&renewed);
}

static void test_merge_raises_by_hash(void)
{
    ks_key key = key_make(KEY_A, 1, 2);
    ks_index *idx = index_with(&key, 1);
    touch(idx, KEY_A, KS_SLOT_CURRENT, 5000);
    touch(idx, KEY_A, KS_SLOT_OLD, 3000);

    /* as read from a store that has older times, or none */
    ks_key read = key_make(KEY_A, 1, 2);
    read.slots.current.last_used_at = 4000;
    read.slots.old.last_used_at = 3500;
    ks_index_merge_last_used(idx, &read, 1);
    ASSERT_EQ_INT(read.slots.current.last_used_at, 5000);
    ASSERT_EQ_INT(read.slots.old.last_used_at, 3500); /* the store's is newer */

    /* read after an undo the index has not seen: slots swap, hashes decide */
    ks_key swapped = key_make(KEY_A, 2, 0);
    ks_index_merge_last_used(idx, &swapped, 1);
    ASSERT_EQ_INT(swapped.slots.current.last_used_at, 3000);

    /* a token the index does not hold, and a key it does not know */
    ks_key other = key_make(KEY_A, 9, 0), unknown = key_make(KEY_B, 1, 0);
    ks_index_merge_last_used(idx, &other, 1);
    ks_index_merge_last_used(idx, &unknown, 1);
    ASSERT_EQ_INT(other.slots.current.last_used_at, 0);
    ASSERT_EQ_INT(unknown.slots.current.last_used_at, 0);

    ks_index_free(idx);
    ks_key_free(&key);
    ks_key_free(&read);
    ks_key_free(&swapped);
    ks_key_free(&other);
    ks_key_free(&unknown);
}

static void test_touch_on_a_replaced_entry_is_handed_over(void)
{
    ks_key key = key_make(KEY_A, 1, 0), same = key_make(KEY_A, 1, 0);
    ks_index *idx = index_with(&key, 1);
    /* a verify finds the entry, a write replaces it, then the verify touches */
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *found = ks_index_find_key(idx, KEY_A, strlen(KEY_A));
    ASSERT(found);
    ASSERT_EQ_INT(ks_index_put_key(idx, &same), KS_OK);
    ks_index_touch(found, KS_SLOT_CURRENT, 9000, NULL);
    ks_index_read_unlock(idx);

    ks_key read = key_make(KEY_A, 1, 0);
    ks_index_merge_last_used(idx, &read, 1);
    ASSERT_EQ_INT(read.slots.current.last_used_at, 0); /* still on the old entry */
    ks_last_used *items = NULL;
    collect(idx, &items); /* frees what no reader holds: hands its times over */
    free(items);
    ks_index_merge_last_used(idx, &read, 1);
    ASSERT_EQ_INT(read.slots.current.last_used_at, 9000);
    ASSERT_EQ_INT(collect(idx, &items), 1);
    ASSERT_EQ_INT(items[0].last_used_at, 9000);
    free(items);

    ks_index_free(idx);
    ks_key_free(&key);
    ks_key_free(&same);
    ks_key_free(&read);
}

static void test_address_goes_with_the_time(void)
{
    ks_key key = key_make(KEY_A, 1, 0);
    ks_index *idx = index_with(&key, 1);
    ks_last_used *items = NULL;

    touch_from(idx, KEY_A, KS_SLOT_CURRENT, 5000, "203.0.113.7");
    touch_from(idx, KEY_A, KS_SLOT_CURRENT, 5000, "198.51.100.1"); /* same second: kept */
    ASSERT_EQ_INT(collect(idx, &items), 1);
    ASSERT_EQ_INT(items[0].last_used_at, 5000);
    expect_addr(&items[0].from, "203.0.113.7");
    free(items);

    touch_from(idx, KEY_A, KS_SLOT_CURRENT, 5001, "2001:db8::9");
    touch(idx, KEY_A, KS_SLOT_CURRENT, 5002); /* no address: the time alone */
    touch_from(idx, KEY_A, KS_SLOT_CURRENT, 4000, "198.51.100.2"); /* older: nothing */
    ASSERT_EQ_INT(collect(idx, &items), 1);
    ASSERT_EQ_INT(items[0].last_used_at, 5002);
    expect_addr(&items[0].from, "2001:db8::9");
    ks_index_mark_flushed(idx, items, 1);
    free(items);

    /* merge: the index's address when its time is newer, else the store's */
    ks_key read = key_make(KEY_A, 1, 0);
    read.slots.current.last_used_at = 4500;
    read.slots.current.last_used_from = addr_of("192.0.2.1");
    ks_index_merge_last_used(idx, &read, 1);
    ASSERT_EQ_INT(read.slots.current.last_used_at, 5002);
    expect_addr(&read.slots.current.last_used_from, "2001:db8::9");
    ks_key newer = key_make(KEY_A, 1, 0);
    newer.slots.current.last_used_at = 6000;
    newer.slots.current.last_used_from = addr_of("192.0.2.2");
    ks_index_merge_last_used(idx, &newer, 1);
    ASSERT_EQ_INT(newer.slots.current.last_used_at, 6000);
    expect_addr(&newer.slots.current.last_used_from, "192.0.2.2");

    /* loaded from the store with its address: kept until a newer verify */
    ks_key stored = key_make(KEY_B, 2, 0);
    stored.slots.current.last_used_at = 7000;
    stored.slots.current.last_used_from = addr_of("192.0.2.3");
    ASSERT_EQ_INT(ks_index_put_key(idx, &stored), KS_OK);
    ASSERT_EQ_INT(collect(idx, &items), 0); /* the store has it */
    free(items);
    touch(idx, KEY_B, KS_SLOT_CURRENT, 7001);
    ASSERT_EQ_INT(collect(idx, &items), 1);
    expect_addr(&items[0].from, "192.0.2.3");
    free(items);
    ks_key fresh = key_make(KEY_B, 2, 0); /* as the store reads it, without the address */
    ks_index_merge_last_used(idx, &fresh, 1);
    ASSERT_EQ_INT(fresh.slots.current.last_used_at, 7001);
    expect_addr(&fresh.slots.current.last_used_from, "192.0.2.3");
    /* a caller without an IP address (a Unix socket): none from then on */
    ks_netaddr none = {0};
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    ks_index_touch(ks_index_find_key(idx, KEY_B, strlen(KEY_B)), KS_SLOT_CURRENT, 7002, &none);
    ks_index_read_unlock(idx);
    ASSERT_EQ_INT(collect(idx, &items), 1);
    ASSERT_EQ_INT(items[0].last_used_at, 7002);
    ASSERT_EQ_INT(items[0].from.family, 0);
    free(items);
    ks_index_merge_last_used(idx, &fresh, 1);
    ASSERT_EQ_INT(fresh.slots.current.last_used_at, 7002);
    expect_addr(&fresh.slots.current.last_used_from, "");

    ks_index_free(idx);
    ks_key_free(&key);
    ks_key_free(&read);
    ks_key_free(&newer);
    ks_key_free(&stored);
    ks_key_free(&fresh);
}

static void test_address_across_renewal_and_hand_over(void)
{
    ks_key key = key_make(KEY_A, 1, 0);
    ks_index *idx = index_with(&key, 1);
    touch_from(idx, KEY_A, KS_SLOT_CURRENT, 5000, "203.0.113.7");

    /* renew later: token 1 moves to the old slot with its time and address */
    ks_key renewed = key_make(KEY_A, 3, 1);
    ASSERT_EQ_INT(ks_index_put_key(idx, &renewed), KS_OK);
    ks_last_used *items = NULL;
    ASSERT_EQ_INT(collect(idx, &items), 1);
    ASSERT(ks_digest_equal(&items[0].hash, &renewed.slots.old.hash));
    ASSERT_EQ_INT(items[0].last_used_at, 5000);
    expect_addr(&items[0].from, "203.0.113.7");
    ks_index_mark_flushed(idx, items, 1);
    free(items);

    /* a verify that found the entry before a write touches it after: its
     * address reaches the new entry with its time (hand-over) */
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *found = ks_index_find_key(idx, KEY_A, strlen(KEY_A));
    ASSERT(found);
    ks_key same = key_make(KEY_A, 3, 1);
    ASSERT_EQ_INT(ks_index_put_key(idx, &same), KS_OK);
    ks_netaddr a = addr_of("2001:db8::1");
    ks_index_touch(found, KS_SLOT_CURRENT, 9000, &a);
    ks_index_read_unlock(idx);
    collect(idx, &items); /* frees what no reader holds: hands its times over */
    free(items);
    ks_key read = key_make(KEY_A, 3, 1);
    ks_index_merge_last_used(idx, &read, 1);
    ASSERT_EQ_INT(read.slots.current.last_used_at, 9000);
    expect_addr(&read.slots.current.last_used_from, "2001:db8::1");
    ASSERT_EQ_INT(read.slots.old.last_used_at, 5000); /* the store has none yet: the index's */
    expect_addr(&read.slots.old.last_used_from, "203.0.113.7");

    ks_index_free(idx);
    ks_key_free(&key);
    ks_key_free(&renewed);
    ks_key_free(&same);
    ks_key_free(&read);
}

/* Threads touching one slot with their own address (16 equal bytes) at
 * rising seconds while the main thread reads: every address read is whole. */
#define TOUCHERS 4
#define TOUCHES 20000
static ks_index *shared_idx;
static _Atomic int touchers_done;

static void *toucher(void *arg)
{
    unsigned char b = (unsigned char)(uintptr_t)arg;
    ks_netaddr a = {.family = 6};
    memset(a.bytes, b, sizeof a.bytes);
    for (int i = 0; i < TOUCHES; i++) {
        if (ks_index_read_lock(shared_idx) != 0)
            return NULL;
        const ks_index_key *k = ks_index_find_key(shared_idx, KEY_A, strlen(KEY_A));
        if (k)
            ks_index_touch(k, KS_SLOT_CURRENT, 10000 + (int64_t)i * TOUCHERS + b, &a);
        ks_index_read_unlock(shared_idx);
    }
    atomic_fetch_add(&touchers_done, 1);
    return NULL;
}

static void test_address_never_torn(void)
{
    ks_key key = key_make(KEY_A, 1, 0);
    shared_idx = index_with(&key, 1);
    pthread_t th[TOUCHERS];
    for (uintptr_t t = 0; t < TOUCHERS; t++)
        ASSERT_EQ_INT(pthread_create(&th[t], NULL, toucher, (void *)(t + 1)), 0);
    size_t reads = 0, whole = 0;
    while (atomic_load(&touchers_done) < TOUCHERS) {
        ks_key read = key_make(KEY_A, 1, 0);
        ks_index_merge_last_used(shared_idx, &read, 1);
        const ks_netaddr *a = &read.slots.current.last_used_from;
        if (a->family == 6) {
            reads++;
            int same = 1;
            for (size_t i = 1; i < sizeof a->bytes; i++)
                same &= a->bytes[i] == a->bytes[0];
            whole += same && a->bytes[0] >= 1 && a->bytes[0] <= TOUCHERS;
        }
        ks_key_free(&read);
    }
    for (int t = 0; t < TOUCHERS; t++)
        pthread_join(th[t], NULL);
    ASSERT_EQ_INT(whole, reads);
    printf("  (%zu whole addresses read during the touches)\n", reads);
    ks_last_used *items = NULL;
    ASSERT_EQ_INT(collect(shared_idx, &items), 1);
    ASSERT_EQ_INT(items[0].from.family, 6);
    ASSERT(items[0].last_used_at >= 10000 + (int64_t)(TOUCHES - 1) * TOUCHERS);
    free(items);
    ks_index_free(shared_idx);
    ks_key_free(&key);
}

int main(void)
{
    RUN(test_collect_waits_for_mark);
    RUN(test_collect_renewed_keys_only);
    RUN(test_mark_after_renewal_follows_hash);
    RUN(test_merge_raises_by_hash);
    RUN(test_touch_on_a_replaced_entry_is_handed_over);
    RUN(test_address_goes_with_the_time);
    RUN(test_address_across_renewal_and_hand_over);
    RUN(test_address_never_torn);
    return unit_report("key index");
}
