/*
 * test_key_index.c - the index's last-used bookkeeping: what a flush
 * collects, that only a successful store write marks it flushed, and that
 * reads merge times not flushed yet, matched by token hash across renewals,
 * and a verify that touches an entry just replaced is not lost.
 * (Verify answers against the index are covered by the HTTP load test.)
 */
#include "unit.h"
#include "core/error.h"
#include "index/key_index.h"

#include <stdlib.h>

#define KEY_A "kst-acme-aaaaaaaaaa"
#define KEY_B "kst-acme-bbbbbbbbbb"

static ks_digest digest_of(unsigned char fill)
{
    ks_digest d;
    memset(d.bytes, fill, sizeof d.bytes);
    return d;
}

static ks_key key_make(const char *key_id, unsigned char current, unsigned char old)
{
    ks_key k = {0};
    strcpy(k.key_id, key_id);
    strcpy(k.account, "acme");
    k.name = strdup("test key");
    k.active = KS_KEY_ACTIVE;
    k.created_at = 1000;
    k.slots.current = (ks_token){.present = 1, .hash = digest_of(current), .created_at = 1000};
    if (old)
        k.slots.old = (ks_token){.present = 1, .hash = digest_of(old), .created_at = 900};
    return k;
}

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

static size_t collect(ks_index *idx, ks_last_used **items)
{
    size_t n = 99;
    ASSERT_EQ_INT(ks_index_collect_last_used(idx, items, &n), KS_OK);
    return n;
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

int main(void)
{
    RUN(test_collect_waits_for_mark);
    RUN(test_mark_after_renewal_follows_hash);
    RUN(test_merge_raises_by_hash);
    RUN(test_touch_on_a_replaced_entry_is_handed_over);
    return unit_report("key index");
}
