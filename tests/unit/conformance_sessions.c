/*
 * conformance_sessions.c - store conformance: web admin sessions, kept by
 * the keyed hash of the session cookie (session_create / get / touch /
 * delete / purge).
 *
 * Session hashes are sess(n), digests no token of any key has. Sessions
 * take no audit entry: none of these calls may write one.
 */
#include <stdlib.h>

#include "conformance_util.h" /* last: its short names are macros */

static ks_digest sess(int n)
{
    return tok("session", n);
}

static int sess_create(int n, const char *key_id, int64_t now)
{
    ks_digest h = sess(n);
    return S->ops->session_create(S, &h, key_id, now);
}

static int sess_touch(int n, int64_t now)
{
    ks_digest h = sess(n);
    return S->ops->session_touch(S, &h, now);
}

static int sess_delete(int n)
{
    ks_digest h = sess(n);
    return S->ops->session_delete(S, &h);
}

/* session_get into key_id / *last_seen (both cleared first). */
static int sess_get(int n, char key_id[KS_KEY_ID_MAX + 1], int64_t *last_seen)
{
    ks_digest h = sess(n);
    memset(key_id, 0, KS_KEY_ID_MAX + 1);
    *last_seen = 0;
    return S->ops->session_get(S, &h, key_id, last_seen);
}

/* Session n exists for key_id, last seen at `seen`. */
static void expect_session(int n, const char *key_id, int64_t seen)
{
    char got[KS_KEY_ID_MAX + 1];
    int64_t last = 0;
    int rc = sess_get(n, got, &last);
    if (rc != KS_OK)
        UNIT_FAIL("session_get(sess(%d)) = %d, want KS_OK", n, rc);
    ASSERT_EQ_STR(got, key_id);
    ASSERT_EQ_INT(last, seen);
}

static void expect_no_session(int n)
{
    char got[KS_KEY_ID_MAX + 1];
    int64_t last = 0;
    int rc = sess_get(n, got, &last);
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
    expect_session(1, a1, T0 + 10); /* last seen: when it was made */
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
    ks_digest t = tok(a1, 0);
    char got[KS_KEY_ID_MAX + 1];
    int64_t last;
    ASSERT_EQ_INT(S->ops->session_get(S, &t, got, &last), KS_ERR_NOT_FOUND);

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
    expect_session(1, a1, T0 + 500);
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
    ASSERT_EQ_INT(S->ops->key_delete(S, "acme", a1, &a), KS_OK);
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
    ASSERT_EQ_INT(S->ops->session_purge(S, T0 + 1000), KS_OK); /* nothing to purge */

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

    ASSERT_EQ_INT(S->ops->session_purge(S, cut), KS_OK);
    expect_no_session(1);
    expect_session(2, a1, T0 + 250);
    expect_session(3, a2, T0 + 300);
    expect_session(4, a2, cut);
    expect_no_session(5);
    expect_no_session(6);
    expect_session(7, a1, cut + 1);
    /* Purging with an earlier cutoff removes nothing more. */
    ASSERT_EQ_INT(S->ops->session_purge(S, T0), KS_OK);
    expect_session(2, a1, T0 + 250);
    expect_session(4, a2, cut);
    /* The keys stay, and nothing was audited. */
    must_get_key("acme", a1);
    must_get_key("acme", a2);
    ASSERT_EQ_INT(audit_count("acme"), audits);

    /* A cutoff after everything empties the table. */
    ASSERT_EQ_INT(S->ops->session_purge(S, T0 + 10000), KS_OK);
    for (int n = 1; n <= 7; n++)
        expect_no_session(n);
}

const conf_test conf_tests_sessions[] = {
    CONF_TEST(test_session_create_get),
    CONF_TEST(test_session_create_unknown_key),
    CONF_TEST(test_session_touch),
    CONF_TEST(test_session_delete),
    CONF_TEST(test_session_key_delete),
    CONF_TEST(test_session_purge),
    {NULL, NULL},
};
