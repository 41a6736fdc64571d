/*
 * test_sessions.c - web admin sessions and login tokens at the service
 * level, with the clock given explicitly (ks_session_resolve and
 * ks_login_resolve take `now`), on a real SQLite store and verify index:
 *  - a session ends 1 h after its last use and 12 h after sign-in, however
 *    much it is used, and is gone from the store once found ended;
 *  - a session and a login token work exactly while the token that made
 *    them verifies: each of the six ways a token stops verifying ends them
 *    (renew now, undo renewal, delete old token, deactivate, delete key,
 *    enforced duration), and a renewal that keeps the token does not;
 *  - a login token names that token only by a fingerprint.
 * The HTTP suite checks the same through the API and across nodes.
 */
#include "service_fixture.h"
#include "core/clock.h"
#include "core/error.h"
#include "service/login_keys.h"
#include "service/sessions.h"

#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];
static ks_service svc;
static ks_store *store;
static ks_key owner;                       /* the account's Owner key */
static char owner_token[KS_TOKEN_LEN + 1];
static int64_t t0;                          /* sign-in time of each test */

/* A fresh store, service and account "acme" (its Owner key and token). */
static void setup(void)
{
    char path[128];
    static int n;
    snprintf(path, sizeof path, "%s/s%d.db", dir, n++);
    ks_secret secret;
    randombytes_buf(secret.bytes, sizeof secret.bytes);
    store = fixture_service_open(path, &secret, &svc);
    sodium_memzero(&secret, sizeof secret);
    ASSERT_EQ_INT(ks_login_keys_load(&svc), KS_OK);
    memset(&owner, 0, sizeof owner);
    ASSERT_EQ_INT(ks_service_account_create(&svc, "acme", "cli", &owner, owner_token), KS_OK);
    t0 = ks_clock_now();
}

static void teardown(void)
{
    ks_login_keys_free(&svc);
    fixture_service_close(&store, &svc);
    ks_key_free(&owner);
    sodium_memzero(owner_token, sizeof owner_token);
}

static ks_digest hash_of(const char *token)
{
    ks_digest d;
    ks_token_hash(&svc.secret, token, strlen(token), &d);
    return d;
}

static void sign_in(const char *key_id, const char *token, int64_t at, char cookie[KS_SESSION_TEXT_MAX])
{
    char csrf[KS_SESSION_TEXT_MAX];
    ks_digest th = hash_of(token);
    ASSERT_EQ_INT(ks_session_create(&svc, key_id, &th, at, cookie, csrf), KS_OK);
}

/* ks_session_resolve at `now`: KS_ERR_UNAUTHENTICATED when the session
 * ended, else the verify reason of its token (KS_VERIFY_OK = usable). */
static int session_at(const char *cookie, int64_t now)
{
    ks_session s;
    ks_verify_result vr;
    int rc = ks_session_resolve(&svc, cookie, NULL, now, &s, &vr);
    int reason = vr.reason;
    ks_verify_result_free(&vr);
    sodium_memzero(&s, sizeof s);
    return rc == KS_OK ? reason : rc;
}

/* ks_login_resolve of jwt at `now`: its verify reason. */
static int login_at(const char *jwt, int64_t now)
{
    ks_verify_result vr;
    int rc = ks_login_resolve(&svc, jwt, strlen(jwt), NULL, NULL, now, &vr);
    ASSERT_EQ_INT(rc, KS_OK);
    int reason = vr.reason;
    ks_verify_result_free(&vr);
    return reason;
}

static char *login(const ks_key *k, const char *token)
{
    char *jwt = NULL;
    int64_t exp;
    ks_digest th = hash_of(token);
    ASSERT_EQ_INT(ks_login_issue(&svc, k->key_id, k->account, &k->roles, &th, &jwt, &exp), KS_OK);
    return jwt;
}

static const ks_actor WHO = {.actor = "cli", .account = "acme", .via = NULL, .address = NULL};

/* A new Owner key of acme; token_out receives its token. */
static ks_key new_key(char token_out[KS_TOKEN_LEN + 1])
{
    ks_key k = {0};
    ks_strlist roles = {0};
    ASSERT_EQ_INT(ks_strlist_add(&roles, "Owner"), KS_OK);
    ASSERT_EQ_INT(ks_service_key_create(&svc, &WHO, "session test", &roles, &k, token_out), KS_OK);
    ks_strlist_free(&roles);
    return k;
}

/* Renews key_id (mode), putting the new token into token_out. */
static void renew(const char *key_id, ks_delete_old mode, char token_out[KS_TOKEN_LEN + 1])
{
    ks_key out = {0};
    ASSERT_EQ_INT(ks_service_key_renew(&svc, &WHO, key_id, mode, &out, token_out, NULL), KS_OK);
    ks_key_free(&out);
}

/* ============================================================ limits */

static void test_idle_hour_ends_session(void)
{
    setup();
    char cookie[KS_SESSION_TEXT_MAX];
    sign_in(owner.key_id, owner_token, t0, cookie);
    ASSERT_EQ_INT(session_at(cookie, t0), KS_VERIFY_OK);
    ASSERT_EQ_INT(session_at(cookie, t0 + 3600), KS_VERIFY_OK); /* an hour without use: still on */
    ASSERT_EQ_INT(session_at(cookie, t0 + 3600 + 3600), KS_VERIFY_OK); /* counted from that use */
    ASSERT_EQ_INT(session_at(cookie, t0 + 7200 + 3601), KS_ERR_UNAUTHENTICATED);
    /* Ended for good: an earlier clock does not bring it back. */
    ASSERT_EQ_INT(session_at(cookie, t0 + 10), KS_ERR_UNAUTHENTICATED);

    char other[KS_SESSION_TEXT_MAX];
    sign_in(owner.key_id, owner_token, t0, other);
    ASSERT_EQ_INT(session_at(other, t0 + 3601), KS_ERR_UNAUTHENTICATED);
    /* An unknown cookie, an over-long one, none. */
    ASSERT_EQ_INT(session_at("nope", t0), KS_ERR_UNAUTHENTICATED);
    char longer[KS_SESSION_TEXT_MAX + 8];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    ASSERT_EQ_INT(session_at(longer, t0), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(session_at(NULL, t0), KS_ERR_UNAUTHENTICATED);
    teardown();
}

static void test_twelve_hours_end_session_whatever_its_use(void)
{
    setup();
    char cookie[KS_SESSION_TEXT_MAX];
    sign_in(owner.key_id, owner_token, t0, cookie);
    /* Used every 50 minutes: never idle for an hour. */
    int64_t at = t0;
    while (at + 3000 < t0 + 12 * 3600) {
        at += 3000;
        ASSERT_EQ_INT(session_at(cookie, at), KS_VERIFY_OK);
    }
    ASSERT_EQ_INT(session_at(cookie, t0 + 12 * 3600 - 1), KS_VERIFY_OK);
    ASSERT_EQ_INT(session_at(cookie, t0 + 12 * 3600), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(session_at(cookie, t0 + 12 * 3600 - 1), KS_ERR_UNAUTHENTICATED); /* gone */
    teardown();
}

static void test_sign_in_purges_ended_sessions(void)
{
    setup();
    char old[KS_SESSION_TEXT_MAX], idle[KS_SESSION_TEXT_MAX], fresh[KS_SESSION_TEXT_MAX];
    sign_in(owner.key_id, owner_token, t0 - 13 * 3600, old);
    sign_in(owner.key_id, owner_token, t0 - 2 * 3600, idle);
    sign_in(owner.key_id, owner_token, t0, fresh);
    /* The store itself no longer has the two ended ones. */
    ks_session_record rec;
    ks_digest h;
    ks_token_hash(&svc.secret, old, strlen(old), &h);
    ASSERT_EQ_INT(store->ops->session_get(store, &h, &rec), KS_ERR_NOT_FOUND);
    ks_token_hash(&svc.secret, idle, strlen(idle), &h);
    ASSERT_EQ_INT(store->ops->session_get(store, &h, &rec), KS_ERR_NOT_FOUND);
    ks_token_hash(&svc.secret, fresh, strlen(fresh), &h);
    ASSERT_EQ_INT(store->ops->session_get(store, &h, &rec), KS_OK);
    /* Only the token's keyed hash is stored with it. */
    ks_digest th = hash_of(owner_token);
    ASSERT(ks_digest_equal(&rec.token_hash, &th));
    teardown();
}

/* ===================================================== token binding */

/* A session and a login token made with `token` of k, checked now. */
typedef struct {
    char cookie[KS_SESSION_TEXT_MAX];
    char *jwt;
} made_with;

static made_with make_both(const ks_key *k, const char *token)
{
    made_with m;
    sign_in(k->key_id, token, t0, m.cookie);
    m.jwt = login(k, token);
    ASSERT_EQ_INT(session_at(m.cookie, t0), KS_VERIFY_OK);
    ASSERT_EQ_INT(login_at(m.jwt, t0), KS_VERIFY_OK);
    return m;
}

static void expect_both(made_with *m, int reason)
{
    ASSERT_EQ_INT(session_at(m->cookie, t0 + 1), reason);
    ASSERT_EQ_INT(login_at(m->jwt, t0 + 1), reason);
}

static void done_with(made_with *m)
{
    free(m->jwt);
    m->jwt = NULL;
}

static void test_renew_now_ends_them(void)
{
    setup();
    char token[KS_TOKEN_LEN + 1], newer[KS_TOKEN_LEN + 1];
    ks_key k = new_key(token);
    made_with m = make_both(&k, token);
    renew(k.key_id, KS_DELETE_OLD_NOW, newer);
    expect_both(&m, KS_VERIFY_INVALID_TOKEN);
    done_with(&m);
    /* The new token's are fine. */
    made_with n = make_both(&k, newer);
    done_with(&n);
    ks_key_free(&k);
    teardown();
}

static void test_renew_later_keeps_them_until_old_token_deleted(void)
{
    setup();
    char token[KS_TOKEN_LEN + 1], newer[KS_TOKEN_LEN + 1];
    ks_key k = new_key(token);
    made_with m = make_both(&k, token);
    renew(k.key_id, KS_DELETE_OLD_LATER, newer);
    expect_both(&m, KS_VERIFY_OK); /* the old token still verifies */
    made_with after = make_both(&k, token); /* made with the old token after the renewal */
    ks_key out = {0};
    ASSERT_EQ_INT(ks_service_key_delete_old(&svc, &WHO, k.key_id, &out), KS_OK);
    ks_key_free(&out);
    expect_both(&m, KS_VERIFY_INVALID_TOKEN);
    expect_both(&after, KS_VERIFY_INVALID_TOKEN);
    done_with(&m);
    done_with(&after);
    ks_key_free(&k);
    teardown();
}

static void test_undo_renewal_ends_the_newer_tokens(void)
{
    setup();
    char token[KS_TOKEN_LEN + 1], newer[KS_TOKEN_LEN + 1];
    ks_key k = new_key(token);
    renew(k.key_id, KS_DELETE_OLD_LATER, newer);
    made_with with_newer = make_both(&k, newer);
    made_with with_old = make_both(&k, token);
    ks_key out = {0};
    ASSERT_EQ_INT(ks_service_key_undo_renewal(&svc, &WHO, k.key_id, &out), KS_OK);
    ks_key_free(&out);
    expect_both(&with_newer, KS_VERIFY_INVALID_TOKEN);
    expect_both(&with_old, KS_VERIFY_OK); /* that token is current again */
    done_with(&with_newer);
    done_with(&with_old);
    ks_key_free(&k);
    teardown();
}

static void test_deactivate_and_delete_end_them(void)
{
    setup();
    char token[KS_TOKEN_LEN + 1];
    ks_key k = new_key(token);
    made_with m = make_both(&k, token);
    ks_key_patch off = {.name = NULL, .roles = NULL, .status = KS_KEY_INACTIVE};
    ks_key_patch on = {.name = NULL, .roles = NULL, .status = KS_KEY_ACTIVE};
    ks_key out = {0};
    ASSERT_EQ_INT(ks_service_key_update(&svc, &WHO, k.key_id, &off, &out), KS_OK);
    ks_key_free(&out);
    expect_both(&m, KS_VERIFY_INACTIVE);
    ASSERT_EQ_INT(ks_service_key_update(&svc, &WHO, k.key_id, &on, &out), KS_OK);
    ks_key_free(&out);
    expect_both(&m, KS_VERIFY_OK); /* the token verifies again, and so they work */
    ASSERT_EQ_INT(ks_service_key_delete(&svc, &WHO, k.key_id), KS_OK);
    ASSERT_EQ_INT(login_at(m.jwt, t0 + 1), KS_VERIFY_UNKNOWN_KEY);
    ASSERT_EQ_INT(session_at(m.cookie, t0 + 1), KS_ERR_UNAUTHENTICATED); /* the store dropped it */
    done_with(&m);
    ks_key_free(&k);
    teardown();
}

static void test_enforced_duration_ends_them(void)
{
    setup();
    char token[KS_TOKEN_LEN + 1];
    ks_clock_set_offset_days(-100); /* the key is made 100 days ago: outdated now */
    ks_key k = new_key(token);
    ks_clock_set_offset_days(0);
    made_with m = make_both(&k, token); /* outdated tokens verify unless enforced */
    ks_settings enforce = {.token_duration_months = 3, .enforce_duration = 1};
    ASSERT_EQ_INT(ks_service_settings_put(&svc, &WHO, &enforce), KS_OK);
    expect_both(&m, KS_VERIFY_EXPIRED);
    enforce.enforce_duration = 0;
    ASSERT_EQ_INT(ks_service_settings_put(&svc, &WHO, &enforce), KS_OK);
    expect_both(&m, KS_VERIFY_OK);
    done_with(&m);
    ks_key_free(&k);
    teardown();
}

static void test_login_token_binding_is_a_fingerprint(void)
{
    setup();
    char *jwt = login(&owner, owner_token);
    const char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    ASSERT(dot1 && dot2);
    unsigned char payload[1024];
    size_t n;
    ASSERT_EQ_INT(sodium_base642bin(payload, sizeof payload - 1, dot1 + 1, (size_t)(dot2 - dot1 - 1), NULL, &n, NULL,
                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
    payload[n] = '\0';
    ks_digest th = hash_of(owner_token);
    char hex[2 * KS_DIGEST_LEN + 1], b64[64], fp[KS_JWT_FP_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, th.bytes, sizeof th.bytes);
    sodium_bin2base64(b64, sizeof b64, th.bytes, sizeof th.bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    ks_jwt_token_fingerprint(&th, fp);
    ASSERT(!strstr((const char *)payload, owner_token));
    ASSERT(!strstr((const char *)payload, hex));
    ASSERT(!strstr((const char *)payload, b64));
    ASSERT(strstr((const char *)payload, fp));
    /* Any other fingerprint of the key's tokens is refused. */
    ASSERT_EQ_INT(login_at(jwt, t0), KS_VERIFY_OK);
    free(jwt);
    teardown();
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    if (fixture_dir_make(dir, sizeof dir, "keystile-sessions") != 0)
        return 1;
    RUN(test_idle_hour_ends_session);
    RUN(test_twelve_hours_end_session_whatever_its_use);
    RUN(test_sign_in_purges_ended_sessions);
    RUN(test_renew_now_ends_them);
    RUN(test_renew_later_keeps_them_until_old_token_deleted);
    RUN(test_undo_renewal_ends_the_newer_tokens);
    RUN(test_deactivate_and_delete_end_them);
    RUN(test_enforced_duration_ends_them);
    RUN(test_login_token_binding_is_a_fingerprint);
    unit_rm_dir(dir);
    return unit_report("sessions");
}
