/*
 * test_token_slots.c - unit tests of src/core/token_slots.c: the token-slot
 * state machine (current and old token; renew later/now, delete old, undo
 * renewal) and matching a digest against the slots.
 */
#include "unit.h"

#include "core_util.h"

#include "core/error.h"
#include "core/secret.h"
#include "core/token_slots.h"

#include <sodium.h>

/* ---------------------------------------------------------------- helpers */

/* Field by field: struct copies need not copy padding bytes. */
static int tokens_equal(const ks_token *a, const ks_token *b)
{
    return a->present == b->present && memcmp(a->hash.bytes, b->hash.bytes, KS_DIGEST_LEN) == 0 &&
           a->created_at == b->created_at && a->last_used_at == b->last_used_at;
}

static void assert_slots_same(const ks_token_slots *a, const ks_token_slots *b)
{
    ASSERT(tokens_equal(&a->current, &b->current));
    ASSERT_EQ_INT(a->old.present, b->old.present);
    if (a->old.present)
        ASSERT(tokens_equal(&a->old, &b->old));
}

static void test_slots_init(void)
{
    ks_token_slots s;
    memset(&s, 0xAB, sizeof s);
    ks_digest h = core_util_digest_of(1);
    ks_slots_init(&s, &h, 1000);
    ASSERT_EQ_INT(s.current.present, 1);
    ASSERT(ks_digest_equal(&s.current.hash, &h));
    ASSERT_EQ_INT(s.current.created_at, 1000);
    ASSERT_EQ_INT(s.current.last_used_at, 0);
    ASSERT_EQ_INT(s.old.present, 0);
    ks_digest other = core_util_digest_of(2);
    ASSERT_EQ_INT(ks_slots_match(&s, &h), KS_SLOT_CURRENT);
    ASSERT_EQ_INT(ks_slots_match(&s, &other), KS_SLOT_NONE);
}

static void test_slots_renew_later(void)
{
    ks_digest h1 = core_util_digest_of(1), h2 = core_util_digest_of(2), h3 = core_util_digest_of(3);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1000);
    s.current.last_used_at = 1500;
    ks_token before = s.current;
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h2, 2000), KS_OK);
    ASSERT_EQ_INT(s.current.present, 1);
    ASSERT(ks_digest_equal(&s.current.hash, &h2));
    ASSERT_EQ_INT(s.current.created_at, 2000);
    ASSERT_EQ_INT(s.current.last_used_at, 0);
    ASSERT_EQ_INT(s.old.present, 1);
    ASSERT(tokens_equal(&s.old, &before)); /* old == previous current */
    /* Both verify. */
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_CURRENT);
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_OLD);
    ASSERT_EQ_INT(ks_slots_match(&s, &h3), KS_SLOT_NONE);
}

static void test_slots_renew_now(void)
{
    ks_digest h1 = core_util_digest_of(1), h2 = core_util_digest_of(2);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1000);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_NOW, &h2, 2000), KS_OK);
    ASSERT_EQ_INT(s.current.present, 1);
    ASSERT(ks_digest_equal(&s.current.hash, &h2));
    ASSERT_EQ_INT(s.current.created_at, 2000);
    ASSERT_EQ_INT(s.old.present, 0);
    /* The previous token stops verifying at once. */
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_NONE);
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_CURRENT);
}

static void test_slots_renew_with_old_refused(void)
{
    ks_digest h1 = core_util_digest_of(1), h2 = core_util_digest_of(2), h3 = core_util_digest_of(3);
    static const ks_slot_op OPS[] = {KS_SLOT_OP_RENEW_LATER, KS_SLOT_OP_RENEW_NOW};
    for (size_t i = 0; i < 2; i++) {
        ks_token_slots s;
        ks_slots_init(&s, &h1, 1000);
        ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h2, 2000), KS_OK);
        ks_token_slots snap = s;
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], &h3, 3000), KS_ERR_OLD_TOKEN_EXISTS);
        assert_slots_same(&s, &snap);
        ASSERT_EQ_INT(ks_slots_match(&s, &h3), KS_SLOT_NONE);
        ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_OLD);
        ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_CURRENT);
    }
}

static void test_slots_delete_old(void)
{
    ks_digest h1 = core_util_digest_of(1), h2 = core_util_digest_of(2);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1000);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h2, 2000), KS_OK);
    ks_token cur = s.current;
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_DELETE_OLD, NULL, 3000), KS_OK);
    ASSERT_EQ_INT(s.old.present, 0);
    ASSERT(tokens_equal(&s.current, &cur));
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_NONE);
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_CURRENT);
    /* Renewing is allowed again afterwards. */
    ks_digest h3 = core_util_digest_of(3);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h3, 4000), KS_OK);
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_OLD);
}

static void test_slots_undo_renewal(void)
{
    ks_digest h1 = core_util_digest_of(1), h2 = core_util_digest_of(2);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1000);
    s.current.last_used_at = 1234;
    ks_token prev = s.current;
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h2, 2000), KS_OK);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_UNDO_RENEWAL, NULL, 3000), KS_OK);
    /* current = the previous current, with its created_at. */
    ASSERT(tokens_equal(&s.current, &prev));
    ASSERT_EQ_INT(s.current.created_at, 1000);
    ASSERT_EQ_INT(s.old.present, 0);
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_CURRENT);
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_NONE); /* the newer dies at once */
}

static void test_slots_no_old_refused(void)
{
    ks_digest h1 = core_util_digest_of(1), h2 = core_util_digest_of(2);
    static const ks_slot_op OPS[] = {KS_SLOT_OP_DELETE_OLD, KS_SLOT_OP_UNDO_RENEWAL};
    for (size_t i = 0; i < 2; i++) {
        /* Fresh key. */
        ks_token_slots s;
        ks_slots_init(&s, &h1, 1000);
        ks_token_slots snap = s;
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], &h2, 2000), KS_ERR_NO_OLD_TOKEN);
        assert_slots_same(&s, &snap);
        /* After renew now (no old either). */
        ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_NOW, &h2, 2000), KS_OK);
        snap = s;
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], NULL, 3000), KS_ERR_NO_OLD_TOKEN);
        assert_slots_same(&s, &snap);
        /* After a completed renewal + delete old, a second delete/undo fails. */
        ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h1, 4000), KS_OK);
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], NULL, 5000), KS_OK);
        snap = s;
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], NULL, 6000), KS_ERR_NO_OLD_TOKEN);
        assert_slots_same(&s, &snap);
    }
}

static void test_slots_sequence(void)
{
    /* A longer walk: every reachable state keeps exactly one current token
     * and at most one old; match agrees with the model at each step. */
    ks_digest h[6];
    for (int i = 0; i < 6; i++)
        h[i] = core_util_digest_of((unsigned char)(10 + i));
    ks_token_slots s;
    ks_slots_init(&s, &h[0], 100);
    int cur = 0, old = -1;
    struct { ks_slot_op op; int newh; int want; } steps[] = {
        {KS_SLOT_OP_RENEW_LATER, 1, KS_OK},
        {KS_SLOT_OP_RENEW_LATER, 2, KS_ERR_OLD_TOKEN_EXISTS},
        {KS_SLOT_OP_UNDO_RENEWAL, -1, KS_OK},
        {KS_SLOT_OP_UNDO_RENEWAL, -1, KS_ERR_NO_OLD_TOKEN},
        {KS_SLOT_OP_RENEW_NOW, 3, KS_OK},
        {KS_SLOT_OP_RENEW_LATER, 4, KS_OK},
        {KS_SLOT_OP_RENEW_NOW, 5, KS_ERR_OLD_TOKEN_EXISTS},
        {KS_SLOT_OP_DELETE_OLD, -1, KS_OK},
        {KS_SLOT_OP_DELETE_OLD, -1, KS_ERR_NO_OLD_TOKEN},
        {KS_SLOT_OP_RENEW_NOW, 5, KS_OK},
    };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        ks_token_slots snap = s;
        int rc = ks_slots_apply(&s, steps[i].op, steps[i].newh >= 0 ? &h[steps[i].newh] : NULL,
                                (int64_t)(200 + i));
        if (rc != steps[i].want)
            UNIT_FAIL("step %zu: rc %d, want %d", i, rc, steps[i].want);
        if (rc != KS_OK) {
            assert_slots_same(&s, &snap);
        } else {
            switch (steps[i].op) {
            case KS_SLOT_OP_RENEW_LATER: old = cur; cur = steps[i].newh; break;
            case KS_SLOT_OP_RENEW_NOW: cur = steps[i].newh; break;
            case KS_SLOT_OP_DELETE_OLD: old = -1; break;
            case KS_SLOT_OP_UNDO_RENEWAL: cur = old; old = -1; break;
            case KS_SLOT_OP_SWEEP_OLD: old = -1; break;
            }
        }
        ASSERT_EQ_INT(s.current.present, 1);
        ASSERT_EQ_INT(s.old.present, old >= 0);
        for (int j = 0; j < 6; j++) {
            ks_slot want = j == cur ? KS_SLOT_CURRENT : j == old ? KS_SLOT_OLD : KS_SLOT_NONE;
            if (ks_slots_match(&s, &h[j]) != want)
                UNIT_FAIL("step %zu: hash %d matches %d, want %d", i, j,
                          (int)ks_slots_match(&s, &h[j]), (int)want);
        }
    }
}

static void test_slots_match_ignores_empty_slot(void)
{
    /* An absent old slot never matches, even when its bytes equal d. */
    ks_digest h1 = core_util_digest_of(1), zero = core_util_digest_of(0);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1);
    ASSERT_EQ_INT(ks_slots_match(&s, &zero), KS_SLOT_NONE);
    s.old.hash = core_util_digest_of(7);
    s.old.present = 0;
    ks_digest seven = core_util_digest_of(7);
    ASSERT_EQ_INT(ks_slots_match(&s, &seven), KS_SLOT_NONE);
    ASSERT_EQ_STR(ks_slot_name(KS_SLOT_CURRENT), "current");
    ASSERT_EQ_STR(ks_slot_name(KS_SLOT_OLD), "old");
}

static void test_slots_deadline(void)
{
    /* Renew later with a deadline: the old slot carries it; it must lie
     * ahead, and only renew later takes one. */
    ks_digest h1 = core_util_digest_of(1), h2 = core_util_digest_of(2), h3 = core_util_digest_of(3);
    ks_token_slots s, snap;
    ks_slots_init(&s, &h1, 1000);
    snap = s;
    ks_slot_change c = {.op = KS_SLOT_OP_RENEW_LATER, .new_hash = &h2, .old_ends_at = 2000};
    ASSERT_EQ_INT(ks_slots_change(&s, &(ks_slot_change){.op = KS_SLOT_OP_RENEW_NOW, .new_hash = &h2,
                                                        .old_ends_at = 3000}, 2000), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_slots_change(&s, &c, 2000), KS_ERR_INVALID); /* not after now */
    assert_slots_same(&s, &snap);
    ASSERT_EQ_INT(ks_slots_change(&s, &c, 1500), KS_OK);
    ASSERT_EQ_INT(s.old.ends_at, 2000);
    ASSERT_EQ_INT(s.current.ends_at, 0);
    /* Alive up to the second before the deadline, gone from it on. */
    ASSERT_EQ_INT(ks_token_alive(&s.old, 1999), 1);
    ASSERT_EQ_INT(ks_token_alive(&s.old, 2000), 0);
    ASSERT_EQ_INT(ks_slots_old_due(&s, 1999, 0), 0);
    ASSERT_EQ_INT(ks_slots_old_due(&s, 2000, 0), 1);
    /* Past it, the old token is gone for every transition: undo cannot
     * revive it, deleting it is 409, and a renewal goes ahead. */
    snap = s;
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_UNDO_RENEWAL, NULL, 2000), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_DELETE_OLD, NULL, 2001), KS_ERR_NO_OLD_TOKEN);
    assert_slots_same(&s, &snap);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_UNDO_RENEWAL, NULL, 1999), KS_OK); /* before: still undoable */
    ASSERT_EQ_INT(s.current.ends_at, 0);                                          /* and no deadline now */
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_CURRENT);
    s = snap;
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h3, 2500), KS_OK);
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_OLD);
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_NONE);
    ASSERT_EQ_INT(s.old.ends_at, 0);
    /* The sweep deletes a due old token, even one past its deadline. */
    s = snap;
    ASSERT_EQ_INT(ks_slots_change(&s, &(ks_slot_change){.op = KS_SLOT_OP_SWEEP_OLD}, 1999), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(ks_slots_change(&s, &(ks_slot_change){.op = KS_SLOT_OP_SWEEP_OLD}, 2000), KS_OK);
    ASSERT_EQ_INT(s.old.present, 0);
}

static void test_slots_auto_delete_due(void)
{
    /* Safe only when the current token verified since the renewal and the
     * old one has been idle (since its last use or the renewal) that long. */
    ks_digest h1 = core_util_digest_of(1), h2 = core_util_digest_of(2);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 0);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h2, 10000), KS_OK);
    int64_t day = 86400;
    ASSERT_EQ_INT(ks_slots_old_due(&s, 10000 + 10 * day, 24), 0); /* current never used */
    s.current.last_used_at = 10000 + 60;
    ASSERT_EQ_INT(ks_slots_old_due(&s, 10000 + 24 * 3600 - 1, 24), 0); /* idle since the renewal */
    ASSERT_EQ_INT(ks_slots_old_due(&s, 10000 + 24 * 3600, 24), 1);
    ASSERT_EQ_INT(ks_slots_old_due(&s, 10000 + 10 * day, 0), 0); /* setting off */
    s.old.last_used_at = 10000 + 5 * day; /* the old token still in use after the renewal */
    ASSERT_EQ_INT(ks_slots_old_due(&s, 10000 + 5 * day + 23 * 3600, 24), 0);
    ASSERT_EQ_INT(ks_slots_old_due(&s, 10000 + 5 * day + 24 * 3600, 24), 1);
    s.current.last_used_at = 9000; /* a use before the renewal does not count */
    ASSERT_EQ_INT(ks_slots_old_due(&s, 10000 + 50 * day, 24), 0);
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    RUN(test_slots_init);
    RUN(test_slots_renew_later);
    RUN(test_slots_renew_now);
    RUN(test_slots_renew_with_old_refused);
    RUN(test_slots_delete_old);
    RUN(test_slots_undo_renewal);
    RUN(test_slots_no_old_refused);
    RUN(test_slots_sequence);
    RUN(test_slots_match_ignores_empty_slot);
    RUN(test_slots_deadline);
    RUN(test_slots_auto_delete_due);
    return unit_report("token-slots");
}
