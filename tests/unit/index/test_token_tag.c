/*
 * test_token_tag.c - token tags (src/index/token_tag.c): a slot matches no
 * tag until one is remembered, then only that token's; both slots are
 * compared; a tag is the index's own (another index's key gives another
 * tag); a key's next entry keeps the tags of the tokens it keeps (a
 * renewal moves the current token's tag to the old slot, a new token
 * starts without one), as does a rebuild for a new duration; and readers
 * never see a tag half written while verifies remember tags and writers
 * replace the entry.
 */
#include "unit.h"
#include "index_fixture.h"
#include "core/error.h"
#include "index/key_index.h"

#include <pthread.h>
#include <stdatomic.h>

#define KEY_A "kst-acme-aaaaaaaaaa"
#define TOKEN_1 "kstt_first-token"
#define TOKEN_2 "kstt_second-token"
#define TOKEN_3 "kstt_third-token"

static ks_index *index_with(const ks_key *key)
{
    ks_index *idx = ks_index_new();
    ks_settings settings = KS_SETTINGS_DEFAULT;
    ASSERT(idx);
    ASSERT_EQ_INT(ks_index_put_account(idx, "acme", &settings, NULL, 0), KS_OK);
    ASSERT_EQ_INT(ks_index_put_key(idx, key), KS_OK);
    return idx;
}

static ks_index_tag tag(const ks_index *idx, const char *token)
{
    ks_index_tag t;
    ks_index_tag_of(idx, token, strlen(token), &t);
    return t;
}

/* The slot of KEY_A whose tag is token's (outside any verify). */
static ks_slot match(ks_index *idx, const char *token)
{
    ks_index_tag t = tag(idx, token);
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *k = ks_index_find_key(idx, KEY_A, strlen(KEY_A));
    ks_slot s = k ? ks_index_slots_match_tag(k, &t) : (ks_slot)-1;
    ks_index_read_unlock(idx);
    ASSERT(k);
    return s;
}

static void remember(ks_index *idx, ks_slot slot, const char *token)
{
    ks_index_tag t = tag(idx, token);
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *k = ks_index_find_key(idx, KEY_A, strlen(KEY_A));
    if (k)
        ks_index_remember_tag(k, slot, &t);
    ks_index_read_unlock(idx);
    ASSERT(k);
}

static void test_only_the_remembered_token_matches(void)
{
    ks_key key = key_make(KEY_A, 1, 2);
    ks_index *idx = index_with(&key);
    ASSERT_EQ_INT(match(idx, TOKEN_1), KS_SLOT_NONE); /* nothing remembered yet */
    ASSERT_EQ_INT(match(idx, TOKEN_2), KS_SLOT_NONE);
    remember(idx, KS_SLOT_CURRENT, TOKEN_1);
    ASSERT_EQ_INT(match(idx, TOKEN_1), KS_SLOT_CURRENT);
    ASSERT_EQ_INT(match(idx, TOKEN_2), KS_SLOT_NONE);
    ASSERT_EQ_INT(match(idx, TOKEN_3), KS_SLOT_NONE);
    remember(idx, KS_SLOT_OLD, TOKEN_2);
    ASSERT_EQ_INT(match(idx, TOKEN_2), KS_SLOT_OLD);
    ASSERT_EQ_INT(match(idx, TOKEN_1), KS_SLOT_CURRENT);
    ASSERT_EQ_INT(match(idx, TOKEN_3), KS_SLOT_NONE);
    ks_index_tag t = tag(idx, TOKEN_1);
    ASSERT(t.w[0] & 1); /* never the "no tag" 0 */
    ks_index_free(idx);
    ks_key_free(&key);
}

static void test_a_tag_is_the_index_own(void)
{
    ks_key key = key_make(KEY_A, 1, 0);
    ks_index *a = index_with(&key), *b = index_with(&key);
    ks_index_tag ta = tag(a, TOKEN_1), tb = tag(b, TOKEN_1), again = tag(a, TOKEN_1);
    ASSERT(ta.w[0] == again.w[0] && ta.w[1] == again.w[1]);
    ASSERT(ta.w[0] != tb.w[0] || ta.w[1] != tb.w[1]);
    remember(a, KS_SLOT_CURRENT, TOKEN_1);
    ASSERT_EQ_INT(match(b, TOKEN_1), KS_SLOT_NONE);
    ks_index_free(a);
    ks_index_free(b);
    ks_key_free(&key);
}

static void test_next_entries_keep_the_tags_of_kept_tokens(void)
{
    ks_key key = key_make(KEY_A, 1, 0);
    ks_index *idx = index_with(&key);
    remember(idx, KS_SLOT_CURRENT, TOKEN_1);

    /* an edit that keeps the token (here: the name) */
    ks_key edited = key_make(KEY_A, 1, 0);
    ASSERT_EQ_INT(ks_index_put_key(idx, &edited), KS_OK);
    ASSERT_EQ_INT(match(idx, TOKEN_1), KS_SLOT_CURRENT);

    /* renewal, later: token 1 (hash 1) moves to the old slot, token 2 is new */
    ks_key renewed = key_make(KEY_A, 2, 1);
    ASSERT_EQ_INT(ks_index_put_key(idx, &renewed), KS_OK);
    ASSERT_EQ_INT(match(idx, TOKEN_1), KS_SLOT_OLD);
    ASSERT_EQ_INT(match(idx, TOKEN_2), KS_SLOT_NONE);

    /* the account's duration changes: every entry is rebuilt */
    ks_settings six = KS_SETTINGS_DEFAULT;
    six.token_duration_months = 6;
    ASSERT_EQ_INT(ks_index_put_account(idx, "acme", &six, NULL, 0), KS_OK);
    ASSERT_EQ_INT(match(idx, TOKEN_1), KS_SLOT_OLD);

    /* undo or delete of the old token: a key without it keeps nothing of it */
    ks_key deleted = key_make(KEY_A, 2, 0);
    ASSERT_EQ_INT(ks_index_put_key(idx, &deleted), KS_OK);
    ASSERT_EQ_INT(match(idx, TOKEN_1), KS_SLOT_NONE);

    ks_index_free(idx);
    ks_key_free(&key);
    ks_key_free(&edited);
    ks_key_free(&renewed);
    ks_key_free(&deleted);
}

/* ---- concurrency: remembering, replacing, matching at once ---- */

#define ROUNDS 20000
static ks_index *shared_idx;
static atomic_int writers_done;

static void *rememberer(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++)
        remember(shared_idx, KS_SLOT_CURRENT, TOKEN_1);
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

static void *replacer(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS / 10; i++) {
        ks_key k = key_make(KEY_A, 1, 0);
        ASSERT_EQ_INT(ks_index_put_key(shared_idx, &k), KS_OK);
        ks_key_free(&k);
    }
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

static void test_tags_never_read_half_written(void)
{
    ks_key key = key_make(KEY_A, 1, 0);
    shared_idx = index_with(&key);
    atomic_store(&writers_done, 0);
    pthread_t th[2];
    ASSERT_EQ_INT(pthread_create(&th[0], NULL, rememberer, NULL), 0);
    ASSERT_EQ_INT(pthread_create(&th[1], NULL, replacer, NULL), 0);
    size_t reads = 0, matched = 0;
    while (atomic_load(&writers_done) < 2) {
        ks_slot right = match(shared_idx, TOKEN_1), wrong = match(shared_idx, TOKEN_2);
        ASSERT(right == KS_SLOT_CURRENT || right == KS_SLOT_NONE);
        ASSERT_EQ_INT(wrong, KS_SLOT_NONE);
        matched += right == KS_SLOT_CURRENT;
        reads++;
    }
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    ASSERT_EQ_INT(match(shared_idx, TOKEN_1), KS_SLOT_CURRENT); /* the last entry got it, or kept it */
    printf("  (%zu reads during the writes, %zu matched)\n", reads, matched);
    ks_index_free(shared_idx);
    ks_key_free(&key);
}

int main(void)
{
    RUN(test_only_the_remembered_token_matches);
    RUN(test_a_tag_is_the_index_own);
    RUN(test_next_entries_keep_the_tags_of_kept_tokens);
    RUN(test_tags_never_read_half_written);
    return unit_report("token tags");
}
