/*
 * test_key_table.c - the index's key table (src/index/key_index.c): slot
 * words carry a tag of the key's bucket hash, so a lookup passes other
 * keys' slots without reading their entries, and verify fetches the
 * candidate entry before it compares the key id.
 *  - keys of the same bucket and the same tag: the candidate is the first
 *    of them, confirm walks on to the right one, and an absent key of that
 *    tag is not found (past the others, past a tombstone, into a reused
 *    slot);
 *  - the candidate says whether its entry has limits;
 *  - growth (tables rebuilt) and a duration change (every entry of the
 *    account replaced in its slot) keep every key found.
 * White-box: the index's bucket-hash key is set to zeros (index_internal.h)
 * so the colliding key ids below, found by a search over "tagtest-N" for
 * SipHash-2-4 with that key, share the bucket in the first table (1,024
 * slots) and the 15 tag bits.
 */
#include "unit.h"
#include "index_fixture.h"
#include "core/error.h"
#include "index/index_internal.h"

#include <stdio.h>

/* bucket hash 566b4abffec672e9, 566b669fa8373ee9, 566b2187e8e60ee9: bucket
 * 0x2e9 of 1,024, tag 0x566b */
#define A "tagtest-66405"
#define B "tagtest-88553"
#define C "tagtest-179163"

static ks_index *new_index(void)
{
    ks_index *idx = ks_index_new();
    ASSERT(idx);
    memset(idx->hash_key, 0, sizeof idx->hash_key);
    ks_settings settings = KS_SETTINGS_DEFAULT;
    ASSERT_EQ_INT(ks_index_put_account(idx, "acme", &settings, NULL, 0), KS_OK);
    return idx;
}

static void put(ks_index *idx, const char *key_id, unsigned char fill)
{
    ks_key k = key_make(key_id, fill, 0);
    ASSERT_EQ_INT(ks_index_put_key(idx, &k), KS_OK);
    ks_key_free(&k);
}

/* The entry of key_id through the three steps verify takes; NULL when absent. */
static const ks_index_key *lookup(ks_index *idx, const char *key_id, const ks_index_key **cand, int *limited)
{
    size_t len = strlen(key_id);
    ks_index_probe p;
    const ks_index_key *c = ks_index_key_candidate(idx, ks_index_key_prefetch(idx, key_id, len), &p);
    if (cand)
        *cand = c;
    if (limited)
        *limited = c ? p.limited : -1;
    const ks_index_key *e = ks_index_key_confirm(c, &p, key_id, len);
    ASSERT(e == ks_index_find_key(idx, key_id, len)); /* the one-step lookup agrees */
    return e;
}

/* 1 when key_id is found, with the current token's digest of `fill`. */
static int found_with(ks_index *idx, const char *key_id, unsigned char fill)
{
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *e = lookup(idx, key_id, NULL, NULL);
    ks_digest d = digest_of(fill);
    int ok = e && strcmp(e->key_id, key_id) == 0 && ks_index_slots_match(e, &d) == KS_SLOT_CURRENT;
    ks_index_read_unlock(idx);
    return ok;
}

static void test_same_bucket_and_tag(void)
{
    ks_index *idx = new_index();
    put(idx, A, 1);
    put(idx, B, 2);
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *cand;
    const ks_index_key *e = lookup(idx, B, &cand, NULL);
    ASSERT(cand && strcmp(cand->key_id, A) == 0); /* the first of the tag: A's entry */
    ASSERT(e && strcmp(e->key_id, B) == 0);       /* confirm walked on to B */
    ASSERT(lookup(idx, C, &cand, NULL) == NULL);  /* absent: past A and B to the empty slot */
    ASSERT(cand != NULL);
    ks_index_read_unlock(idx);
    ASSERT(found_with(idx, A, 1));
    ASSERT(found_with(idx, B, 2));

    ks_index_remove_key(idx, A); /* a tombstone where A was */
    ASSERT(!found_with(idx, A, 1));
    ASSERT(found_with(idx, B, 2));
    ASSERT(!found_with(idx, C, 3));
    put(idx, C, 3); /* takes the tombstone's slot, ahead of B */
    ASSERT(found_with(idx, B, 2));
    ASSERT(found_with(idx, C, 3));
    put(idx, B, 4); /* replaced in its slot */
    ASSERT(found_with(idx, B, 4));
    ASSERT(!found_with(idx, A, 1));
    ks_index_free(idx);
}

static void test_candidate_says_limited(void)
{
    ks_index *idx = new_index();
    put(idx, A, 1);
    ks_key k = key_make(B, 2, 0);
    k.rate_limit = (ks_rate_limit){100, 60};
    ASSERT_EQ_INT(ks_index_put_key(idx, &k), KS_OK);
    ks_key_free(&k);
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    int limited;
    const ks_index_key *e = lookup(idx, A, NULL, &limited);
    ASSERT(e && e->limits == NULL);
    ASSERT_EQ_INT(limited, 0);
    ks_index_remove_key(idx, A);
    e = lookup(idx, B, NULL, &limited);
    ASSERT(e && e->limits != NULL);
    ASSERT_EQ_INT(limited, 1);
    ks_index_read_unlock(idx);
    ks_index_free(idx);
}

static void test_growth_and_duration_change(void)
{
    enum { N = 5000 };
    ks_index *idx = new_index();
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "grow-%d", i);
        put(idx, id, (unsigned char)(i % 250 + 1));
    }
    put(idx, A, 1);
    put(idx, B, 2);
    ks_settings six = KS_SETTINGS_DEFAULT;
    six.token_duration_months = 6; /* replaces every entry of acme in its slot */
    ASSERT_EQ_INT(ks_index_put_account(idx, "acme", &six, NULL, 0), KS_OK);
    int missing = 0;
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "grow-%d", i);
        missing += !found_with(idx, id, (unsigned char)(i % 250 + 1));
    }
    ASSERT_EQ_INT(missing, 0);
    ASSERT(found_with(idx, A, 1));
    ASSERT(found_with(idx, B, 2));
    ASSERT(!found_with(idx, C, 3));
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *e = lookup(idx, "grow-17", NULL, NULL);
    ASSERT(e && e->months == 6);
    ks_index_read_unlock(idx);
    ks_index_free(idx);
}

int main(void)
{
    RUN(test_same_bucket_and_tag);
    RUN(test_candidate_says_limited);
    RUN(test_growth_and_duration_change);
    return unit_report("index-key-table");
}
