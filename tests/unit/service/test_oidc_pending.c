/*
 * test_oidc_pending.c - the pending single sign-on state and the ID token
 * claim checks, with the clock given explicitly:
 *  - a sealed pending sign-in opens with the same key into the same values,
 *    within 10 minutes, and not after (nor from too far in the future);
 *  - any change to the cookie, another server secret, a wrong prefix, an
 *    oversized or truncated value is refused, and refusals leave nothing;
 *  - the cookie is bounded and shows none of its values in clear;
 *  - the state parameter must match exactly;
 *  - a sign-in is claimed once (a replay is refused), claims are forgotten
 *    once their state has expired, and a full table refuses new claims;
 *  - the claims of an ID token: iss, aud (string or array, azp), exp,
 *    nonce, and email only when email_verified is true, lower-cased.
 */
#include "unit.h"
#include "core/error.h"
#include "service/oidc.h"
#include "service/oidc_pending.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define T0 1800000000
#define REDIRECT "https://keys.example.com/auth/oidc/callback"

static unsigned char key[32];

static void make_key(unsigned char out[32], unsigned char fill)
{
    ks_secret secret;
    memset(secret.bytes, fill, sizeof secret.bytes);
    ks_oidc_pending_key(&secret, out);
}

static void test_seal_then_open_gives_the_same_values(void)
{
    ks_oidc_pending p, q;
    char cookie[KS_OIDC_COOKIE_MAX];
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, REDIRECT, T0), KS_OK);
    ASSERT_EQ_INT(ks_oidc_pending_seal(&p, key, cookie), KS_OK);
    ASSERT(strncmp(cookie, "o1.", 3) == 0);
    ASSERT_EQ_INT(ks_oidc_pending_open(cookie, key, T0 + 5, &q), KS_OK);
    ASSERT_EQ_INT(q.created, T0);
    ASSERT(memcmp(p.state, q.state, sizeof p.state) == 0);
    ASSERT(memcmp(p.nonce, q.nonce, sizeof p.nonce) == 0);
    ASSERT(memcmp(p.verifier, q.verifier, sizeof p.verifier) == 0);
    ASSERT_EQ_STR(q.redirect_uri, REDIRECT);
    /* no value shows in clear */
    char text[KS_OIDC_TEXT_MAX];
    ks_oidc_pending_text(p.state, text);
    ASSERT_EQ_INT(strlen(text), 43);
    ASSERT(strstr(cookie, text) == NULL);
    ks_oidc_pending_text(p.verifier, text);
    ASSERT(strstr(cookie, text) == NULL);
    ASSERT(strstr(cookie, "keys.example.com") == NULL);
    /* two sign-ins never share values */
    ASSERT_EQ_INT(ks_oidc_pending_new(&q, REDIRECT, T0), KS_OK);
    ASSERT(memcmp(p.state, q.state, sizeof p.state) != 0);
    ASSERT(memcmp(p.nonce, q.nonce, sizeof p.nonce) != 0);
    ASSERT(memcmp(p.verifier, q.verifier, sizeof p.verifier) != 0);
}

static void test_pending_sign_in_lives_ten_minutes(void)
{
    ks_oidc_pending p, q;
    char cookie[KS_OIDC_COOKIE_MAX];
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, REDIRECT, T0), KS_OK);
    ASSERT_EQ_INT(ks_oidc_pending_seal(&p, key, cookie), KS_OK);
    ASSERT_EQ_INT(ks_oidc_pending_open(cookie, key, T0 + KS_OIDC_PENDING_SECONDS, &q), KS_OK);
    ASSERT_EQ_INT(ks_oidc_pending_open(cookie, key, T0 + KS_OIDC_PENDING_SECONDS + 1, &q), KS_ERR_GONE);
    ASSERT_EQ_INT(q.created, 0); /* wiped */
    ASSERT_EQ_INT(ks_oidc_pending_open(cookie, key, T0 - 60, &q), KS_OK);        /* clock slack */
    ASSERT_EQ_INT(ks_oidc_pending_open(cookie, key, T0 - 61, &q), KS_ERR_GONE);   /* from the future */
}

static void test_tampered_or_foreign_cookies_are_refused(void)
{
    ks_oidc_pending p, q;
    char cookie[KS_OIDC_COOKIE_MAX], copy[KS_OIDC_COOKIE_MAX];
    unsigned char other[32];
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, REDIRECT, T0), KS_OK);
    ASSERT_EQ_INT(ks_oidc_pending_seal(&p, key, cookie), KS_OK);
    size_t len = strlen(cookie);
    for (size_t i = 3; i < len; i++) { /* every single character changed */
        memcpy(copy, cookie, len + 1);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        ASSERT_EQ_INT(ks_oidc_pending_open(copy, key, T0, &q), KS_ERR_INVALID);
    }
    make_key(other, 2);
    ASSERT_EQ_INT(ks_oidc_pending_open(cookie, other, T0, &q), KS_ERR_INVALID);
    memcpy(copy, cookie, len + 1);
    copy[0] = 'x';
    ASSERT_EQ_INT(ks_oidc_pending_open(copy, key, T0, &q), KS_ERR_INVALID);
    memcpy(copy, cookie, len + 1);
    copy[len - 10] = '\0';
    ASSERT_EQ_INT(ks_oidc_pending_open(copy, key, T0, &q), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_oidc_pending_open(NULL, key, T0, &q), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_oidc_pending_open("", key, T0, &q), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_oidc_pending_open("o1.", key, T0, &q), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_oidc_pending_open("o1.!!!!", key, T0, &q), KS_ERR_INVALID);
    char *big = malloc(8192);
    ASSERT(big);
    memcpy(big, "o1.", 3);
    memset(big + 3, 'A', 8188);
    big[8191] = '\0';
    ASSERT_EQ_INT(ks_oidc_pending_open(big, key, T0, &q), KS_ERR_INVALID);
    free(big);
}

static void test_bounded_sizes(void)
{
    ks_oidc_pending p, q;
    char cookie[KS_OIDC_COOKIE_MAX], uri[KS_OIDC_REDIRECT_MAX + 2];
    memset(uri, 'u', sizeof uri - 1);
    uri[sizeof uri - 1] = '\0';
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, uri, T0), KS_ERR_INVALID); /* one byte too long */
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, "", T0), KS_ERR_INVALID);
    uri[KS_OIDC_REDIRECT_MAX] = '\0';
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, uri, T0), KS_OK);            /* the longest fits */
    ASSERT_EQ_INT(ks_oidc_pending_seal(&p, key, cookie), KS_OK);
    ASSERT(strlen(cookie) < KS_OIDC_COOKIE_MAX);
    ASSERT_EQ_INT(ks_oidc_pending_open(cookie, key, T0, &q), KS_OK);
    ASSERT_EQ_STR(q.redirect_uri, uri);
}

static void test_state_must_match(void)
{
    ks_oidc_pending p;
    char state[KS_OIDC_TEXT_MAX];
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, REDIRECT, T0), KS_OK);
    ks_oidc_pending_text(p.state, state);
    ASSERT(ks_oidc_pending_state_matches(&p, state));
    char wrong[KS_OIDC_TEXT_MAX];
    memcpy(wrong, state, sizeof wrong);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    ASSERT(!ks_oidc_pending_state_matches(&p, wrong));
    wrong[0] = state[0];
    wrong[42] = '\0';
    ASSERT(!ks_oidc_pending_state_matches(&p, wrong));  /* a prefix */
    ASSERT(!ks_oidc_pending_state_matches(&p, ""));
    ASSERT(!ks_oidc_pending_state_matches(&p, NULL));
}

static void test_a_sign_in_is_claimed_once(void)
{
    static ks_oidc_used used; /* 160 KB: not on the stack */
    ks_oidc_pending p, q;
    ks_oidc_used_init(&used);
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, REDIRECT, T0), KS_OK);
    ASSERT_EQ_INT(ks_oidc_pending_new(&q, REDIRECT, T0), KS_OK);
    ASSERT_EQ_INT(ks_oidc_used_claim(&used, &p, T0 + 1), KS_OK);
    ASSERT_EQ_INT(ks_oidc_used_claim(&used, &p, T0 + 2), KS_ERR_GONE);
    ASSERT_EQ_INT(ks_oidc_used_claim(&used, &q, T0 + 2), KS_OK);
    /* still refused for as long as the cookie could open */
    ASSERT_EQ_INT(ks_oidc_used_claim(&used, &p, T0 + KS_OIDC_PENDING_SECONDS), KS_ERR_GONE);
    ks_oidc_used_destroy(&used);
}

static void test_full_table_refuses_then_frees_expired(void)
{
    static ks_oidc_used used;
    ks_oidc_pending p;
    ks_oidc_used_init(&used);
    for (int i = 0; i < KS_OIDC_USED_MAX; i++) {
        ASSERT_EQ_INT(ks_oidc_pending_new(&p, REDIRECT, T0), KS_OK);
        ASSERT_EQ_INT(ks_oidc_used_claim(&used, &p, T0), KS_OK);
    }
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, REDIRECT, T0 + 10), KS_OK);
    ASSERT_EQ_INT(ks_oidc_used_claim(&used, &p, T0 + 10), KS_ERR_RATE_LIMITED);
    /* once the first claims' states can no longer open, their slots are free */
    int64_t later = T0 + KS_OIDC_PENDING_SECONDS + 2;
    ASSERT_EQ_INT(ks_oidc_pending_new(&p, REDIRECT, later), KS_OK);
    ASSERT_EQ_INT(ks_oidc_used_claim(&used, &p, later), KS_OK);
    ks_oidc_used_destroy(&used);
}

#define ISS "https://idp.example.com/realm"
#define CLIENT "keystile"
#define NONCE "n-0123456789"

static ks_oidc_outcome check(const char *json, char *email)
{
    json_t *claims = json_loads(json, 0, NULL);
    if (!claims)
        UNIT_FAIL("bad test JSON: %s", json);
    ks_oidc_outcome out = ks_oidc_check_claims(claims, ISS, CLIENT, NONCE, T0, email);
    json_decref(claims);
    return out;
}

#define GOOD_BUT(extra) "{\"iss\":\"" ISS "\",\"aud\":\"" CLIENT "\",\"exp\":1800000100,\"nonce\":\"" NONCE \
                        "\",\"email\":\"Ann@Example.COM\",\"email_verified\":true" extra "}"

static void test_claims_checks(void)
{
    char email[KS_OIDC_EMAIL_MAX + 1];
    ASSERT_EQ_INT(check(GOOD_BUT(""), email), KS_OIDC_DONE);
    ASSERT_EQ_STR(email, "ann@example.com");
    /* audience: an array holding us (azp us), or azp naming us */
    ASSERT_EQ_INT(check(GOOD_BUT(",\"aud\":[\"" CLIENT "\",\"other\"],\"azp\":\"" CLIENT "\""), email), KS_OIDC_DONE);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"aud\":[\"" CLIENT "\"]"), email), KS_OIDC_DONE);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"aud\":[\"" CLIENT "\",\"other\"]"), email), KS_OIDC_TOKEN_INVALID);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"azp\":\"other\""), email), KS_OIDC_TOKEN_INVALID);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"aud\":\"other\""), email), KS_OIDC_TOKEN_INVALID);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"aud\":[\"other\"]"), email), KS_OIDC_TOKEN_INVALID);
    ASSERT(email[0] == '\0');
    /* issuer, expiry, nonce */
    ASSERT_EQ_INT(check(GOOD_BUT(",\"iss\":\"https://evil.example.com/realm\""), email), KS_OIDC_TOKEN_INVALID);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"iss\":\"" ISS "/\""), email), KS_OIDC_TOKEN_INVALID);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"exp\":1800000000"), email), KS_OIDC_TOKEN_INVALID); /* == now */
    ASSERT_EQ_INT(check(GOOD_BUT(",\"exp\":\"1800000100\""), email), KS_OIDC_TOKEN_INVALID);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"nonce\":\"n-0123456788\""), email), KS_OIDC_TOKEN_INVALID);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"nonce\":\"n-012345678\""), email), KS_OIDC_TOKEN_INVALID);
    ASSERT_EQ_INT(check("{\"iss\":\"" ISS "\",\"aud\":\"" CLIENT "\",\"exp\":1800000100,\"email\":\"a@b.c\","
                        "\"email_verified\":true}", email), KS_OIDC_TOKEN_INVALID); /* no nonce */
    ASSERT_EQ_INT(check("[]", email), KS_OIDC_TOKEN_INVALID);
    /* email_verified must be true */
    ASSERT_EQ_INT(check(GOOD_BUT(",\"email_verified\":false"), email), KS_OIDC_EMAIL_UNVERIFIED);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"email_verified\":\"false\""), email), KS_OIDC_EMAIL_UNVERIFIED);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"email_verified\":1"), email), KS_OIDC_EMAIL_UNVERIFIED);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"email_verified\":\"true\""), email), KS_OIDC_DONE);
    ASSERT_EQ_INT(check("{\"iss\":\"" ISS "\",\"aud\":\"" CLIENT "\",\"exp\":1800000100,\"nonce\":\"" NONCE
                        "\",\"email\":\"a@b.c\"}", email), KS_OIDC_EMAIL_UNVERIFIED);
    /* and be an address */
    ASSERT_EQ_INT(check(GOOD_BUT(",\"email\":\"no-at-sign\""), email), KS_OIDC_EMAIL_UNVERIFIED);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"email\":\"a b@c.d\""), email), KS_OIDC_EMAIL_UNVERIFIED);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"email\":\"@c.d\""), email), KS_OIDC_EMAIL_UNVERIFIED);
    ASSERT_EQ_INT(check(GOOD_BUT(",\"email\":null"), email), KS_OIDC_EMAIL_UNVERIFIED);
    ASSERT(email[0] == '\0');
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    make_key(key, 1);
    RUN(test_seal_then_open_gives_the_same_values);
    RUN(test_pending_sign_in_lives_ten_minutes);
    RUN(test_tampered_or_foreign_cookies_are_refused);
    RUN(test_bounded_sizes);
    RUN(test_state_must_match);
    RUN(test_a_sign_in_is_claimed_once);
    RUN(test_full_table_refuses_then_frees_expired);
    RUN(test_claims_checks);
    return unit_report("oidc_pending");
}
