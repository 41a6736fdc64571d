/*
 * conformance_sessions.c - store conformance: web admin sessions, kept by
 * the keyed hash of the session cookie (session_create / get / touch /
 * delete / purge).
 *
 * Session hashes are sess(n), digests no token of any key has; each
 * session is bound to the token hash bound(n). Sessions take no audit
 * entry: none of these calls may write one.
 */
#include <stdlib.h>

#include "conformance_util.h" /* brings unit.h, pointed at conf_jmp */

static ks_digest sess(int n)
{
    return tok("session", n);
}

static ks_digest bound(int n)
{
    return tok("signed-in-with", n);
}

static int sess_create(int n, const char *key_id, int64_t now)
{
    ks_digest h = sess(n), t = bound(n);
    return store->ops->session_create(store, &h, key_id, &t, now);
}

static int sess_touch(int n, int64_t now)
{
    ks_digest h = sess(n);
    return store->ops->session_touch(store, &h, now);
}

static int sess_delete(int n)
{
    ks_digest h = sess(n);
    return store->ops->session_delete(store, &h);
}

/* session_get into *rec (poisoned first, so a field left unset shows). */
static int sess_get(int n, ks_session_record *rec)
{
    ks_digest h = sess(n);
    memset(rec, 0x5A, sizeof *rec);
    return store->ops->session_get(store, &h, rec);
}

/* Session n exists for key_id, bound to bound(n), made at `made`, last seen
 * at `seen`. */
static void expect_session_made(int n, const char *key_id, int64_t made, int64_t seen)
{
    ks_session_record rec;
    int rc = sess_get(n, &rec);
    if (rc != KS_OK)
        UNIT_FAIL("session_get(sess(%d)) = %d, want KS_OK", n, rc);
    ASSERT_EQ_STR(rec.key_id, key_id);
    ASSERT_EQ_INT(rec.last_seen_at, seen);
    if (made >= 0)
        ASSERT_EQ_INT(rec.created_at, made);
    ks_digest want = bound(n);
    ASSERT(ks_digest_equal(&rec.token_hash, &want));
}

/* The same when its creation time does not matter here. */
static void expect_session(int n, const char *key_id, int64_t seen)
{
    expect_session_made(n, key_id, -1, seen);
}

static void expect_no_session(int n)
{
    ks_session_record rec;
    int rc = sess_get(n, &rec);
    if (rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("session_get(sess(%d)) = %d, want KS_ERR_NOT_FOUND (%d)", n, rc,
                  KS_ERR_NOT_FOUND);
}

/* acme with keys 1 and 2, beta with its owner key. */
static void sess_fixture(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "admin", R("Owner"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "viewer", R0, T0), KS_OK);
}

/* ============================================================== tests */

static void test_session_create_get(void)
{
    sess_fixture();
    const char *a1 = kid("acme", 1);
    size_t audits = audit_count("acme");
    expect_no_session(1);

    ASSERT_EQ_INT(sess_create(1, a1, T0 + 10), KS_OK);
    expect_session_made(1, a1, T0 + 10, T0 + 10); /* last seen: when it was made */
    /* More sessions of one key, and of other keys and accounts. */
    ASSERT_EQ_INT(sess_create(2, a1, T0 + 20), KS_OK);
    ASSERT_EQ_INT(sess_create(3, kid("acme", 0), T0 + 30), KS_OK);
    ASSERT_EQ_INT(sess_create(4, kid("beta", 0), T0 + 40), KS_OK);
    expect_session(1, a1, T0 + 10);
    expect_session(2, a1, T0 + 20);
    expect_session(3, kid("acme", 0), T0 + 30);
    expect_session(4, kid("beta", 0), T0 + 40);

    /* Unknown hashes, a token hash of the key included. */
    expect_no_session(99);
    ks_digest t = tok(a1, 0), b1 = bound(1);
    ks_session_record rec;
    ASSERT_EQ_INT(store->ops->session_get(store, &t, &rec), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(store->ops->session_get(store, &b1, &rec), KS_ERR_NOT_FOUND); /* nor the token it is bound to */

    /* No audit, and the keys are as they were. */
    ASSERT_EQ_INT(audit_count("acme"), audits);
    ASSERT_EQ_STR(must_get_key("acme", a1)->name, "admin");
}

static void test_session_create_unknown_key(void)
{
    sess_fixture();
    ASSERT_EQ_INT(sess_create(1, kid("acme", 99), T0), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(sess_create(2, kid("ghost", 1), T0), KS_ERR_NOT_FOUND);
    expect_no_session(1);
    expect_no_session(2);
    /* The hash is still free for a real key. */
    ASSERT_EQ_INT(sess_create(1, kid("acme", 1), T0 + 5), KS_OK);
    expect_session(1, kid("acme", 1), T0 + 5);
}

static void test_session_touch(void)
{
    sess_fixture();
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2);
    ASSERT_EQ_INT(sess_create(1, a1, T0 + 10), KS_OK);
    ASSERT_EQ_INT(sess_create(2, a2, T0 + 20), KS_OK);

    ASSERT_EQ_INT(sess_touch(1, T0 + 500), KS_OK);
    expect_session_made(1, a1, T0 + 10, T0 + 500); /* the sign-in time stays */
    expect_session(2, a2, T0 + 20); /* only that session */
    ASSERT_EQ_INT(sess_touch(1, T0 + 900), KS_OK);
    expect_session(1, a1, T0 + 900);

    /* store.h gives no error code for an unknown hash here: either answer,
     * but no session appears. */
    int rc = sess_touch(99, T0 + 1000);
    if (rc != KS_OK && rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("session_touch(unknown) = %d, want KS_OK or KS_ERR_NOT_FOUND", rc);
    expect_no_session(99);
    expect_session(1, a1, T0 + 900);
    expect_session(2, a2, T0 + 20);
}

static void test_session_delete(void)
{
    sess_fixture();
    const char *a1 = kid("acme", 1);
    ASSERT_EQ_INT(sess_create(1, a1, T0 + 10), KS_OK);
    ASSERT_EQ_INT(sess_create(2, a1, T0 + 20), KS_OK);

    ASSERT_EQ_INT(sess_delete(1), KS_OK);
    expect_no_session(1);
    expect_session(2, a1, T0 + 20);
    int rc = sess_touch(1, T0 + 30);
    if (rc != KS_OK && rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("session_touch(deleted) = %d, want KS_OK or KS_ERR_NOT_FOUND", rc);
    expect_no_session(1); /* a touch does not bring it back */

    /* Again, or an unknown hash: either answer (store.h names none), nothing else goes. */
    rc = sess_delete(1);
    if (rc != KS_OK && rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("session_delete(deleted) = %d, want KS_OK or KS_ERR_NOT_FOUND", rc);
    rc = sess_delete(99);
    if (rc != KS_OK && rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("session_delete(unknown) = %d, want KS_OK or KS_ERR_NOT_FOUND", rc);
    expect_session(2, a1, T0 + 20);
    must_get_key("acme", a1); /* the key stays */

    /* The hash can be used again. */
    ASSERT_EQ_INT(sess_create(1, kid("acme", 2), T0 + 40), KS_OK);
    expect_session(1, kid("acme", 2), T0 + 40);
}

static void test_session_key_delete(void)
{
    sess_fixture();
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2);
    ASSERT_EQ_INT(sess_create(1, a1, T0 + 10), KS_OK);
    ASSERT_EQ_INT(sess_create(2, a1, T0 + 20), KS_OK);
    ASSERT_EQ_INT(sess_create(3, a2, T0 + 30), KS_OK);

    ks_audit_entry a = aud("acme", "key.delete", a1);
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", a1, &a), KS_OK);
    expect_no_session(1);
    expect_no_session(2);
    expect_session(3, a2, T0 + 30);
    /* No session for it any more, and none comes back with a new key of that id. */
    ASSERT_EQ_INT(sess_create(4, a1, T0 + 40), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(put_key("acme", 1, "reborn", R0, T0 + 50), KS_OK);
    expect_no_session(1);
    expect_no_session(2);
    expect_no_session(4);
}

static void test_session_purge(void)
{
    sess_fixture();
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2);
    ASSERT_EQ_INT(store->ops->session_purge(store, T0 + 1000, T0 - 1000), KS_OK); /* nothing to purge */

    const int64_t cut = T0 + 200;
    ASSERT_EQ_INT(sess_create(1, a1, T0 + 100), KS_OK);  /* idle since before: goes */
    ASSERT_EQ_INT(sess_create(2, a1, T0 + 50), KS_OK);   /* made early, seen late: stays */
    ASSERT_EQ_INT(sess_touch(2, T0 + 250), KS_OK);
    ASSERT_EQ_INT(sess_create(3, a2, T0 + 300), KS_OK);  /* made after: stays */
    ASSERT_EQ_INT(sess_create(4, a2, cut), KS_OK);       /* seen at the cutoff: stays */
    ASSERT_EQ_INT(sess_create(5, a2, cut - 1), KS_OK);   /* a second before: goes */
    ASSERT_EQ_INT(sess_create(6, kid("beta", 0), T0), KS_OK); /* any account */
    ASSERT_EQ_INT(sess_create(7, a1, T0 + 20), KS_OK);   /* seen late again: stays */
    ASSERT_EQ_INT(sess_touch(7, cut + 1), KS_OK);
    size_t audits = audit_count("acme");

    ASSERT_EQ_INT(store->ops->session_purge(store, cut, T0 - 1000), KS_OK);
    expect_no_session(1);
    expect_session(2, a1, T0 + 250);
    expect_session(3, a2, T0 + 300);
    expect_session(4, a2, cut);
    expect_no_session(5);
    expect_no_session(6);
    expect_session(7, a1, cut + 1);
    /* Purging with an earlier cutoff removes nothing more. */
    ASSERT_EQ_INT(store->ops->session_purge(store, T0, T0 - 1000), KS_OK);
    expect_session(2, a1, T0 + 250);
    expect_session(4, a2, cut);
    /* The keys stay, and nothing was audited. */
    must_get_key("acme", a1);
    must_get_key("acme", a2);
    ASSERT_EQ_INT(audit_count("acme"), audits);

    /* A cutoff after everything empties the table. */
    ASSERT_EQ_INT(store->ops->session_purge(store, T0 + 10000, T0 - 1000), KS_OK);
    for (int n = 1; n <= 7; n++)
        expect_no_session(n);
}

/* The other cutoff: sessions made before created_before go, however
 * recently they were used (the 12 h limit). */
static void test_session_purge_by_age(void)
{
    sess_fixture();
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2);
    const int64_t cut = T0 + 200;
    ASSERT_EQ_INT(sess_create(1, a1, cut - 1), KS_OK);   /* made a second before: goes */
    ASSERT_EQ_INT(sess_touch(1, T0 + 900), KS_OK);       /* even though seen late */
    ASSERT_EQ_INT(sess_create(2, a1, cut), KS_OK);       /* made at the cutoff: stays */
    ASSERT_EQ_INT(sess_create(3, a2, T0 + 300), KS_OK);  /* made after: stays */
    ASSERT_EQ_INT(sess_create(4, a2, T0 + 100), KS_OK);  /* made before, never seen again: goes */

    ASSERT_EQ_INT(store->ops->session_purge(store, T0 - 1000, cut), KS_OK);
    expect_no_session(1);
    expect_session_made(2, a1, cut, cut);
    expect_session_made(3, a2, T0 + 300, T0 + 300);
    expect_no_session(4);
    /* Both cutoffs at once: either one ends a session. */
    ASSERT_EQ_INT(sess_create(5, a2, T0 + 400), KS_OK);
    ASSERT_EQ_INT(store->ops->session_purge(store, T0 + 350, T0 + 250), KS_OK);
    expect_no_session(2);                             /* made before T0 + 250 */
    expect_no_session(3);                             /* idle since before T0 + 350 */
    expect_session_made(5, a2, T0 + 400, T0 + 400);
}

const conf_test conf_tests_sessions[] = {
    CONF_TEST(test_session_create_get),
    CONF_TEST(test_session_create_unknown_key),
    CONF_TEST(test_session_touch),
    CONF_TEST(test_session_delete),
    CONF_TEST(test_session_key_delete),
    CONF_TEST(test_session_purge),
    CONF_TEST(test_session_purge_by_age),
    {NULL, NULL},
};
