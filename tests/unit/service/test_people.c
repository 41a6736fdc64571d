/*
 * test_people.c - people at the service level with the clock given
 * explicitly, on a real SQLite store: a TOTP code works once (the same code
 * again, and an older step's code within the drift window, are refused
 * after it; the next step's code works), sign-in asks for the code when
 * TOTP is on (totp_required, not counted as a failure), and the lockout
 * after five failures lifts when the window passes.
 */
#include "service_fixture.h"
#include "core/clock.h"
#include "core/error.h"
#include "service/people.h"
#include "service/login_keys.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#define EMAIL "ada@example.com"
#define PASSWORD "a long enough password"

static char dir[64];
static ks_service svc;
static ks_store *store;
static ks_person person;
static const ks_actor WHO = {.actor = "cli", .account = "acme", .via = NULL, .address = NULL};
static const ks_actor SELF = {.actor = "user:" EMAIL, .account = "acme", .via = "session", .address = NULL};

/* A fresh store, account "acme" and its member EMAIL with PASSWORD set. */
static void setup(void)
{
    char path[128];
    static int n;
    snprintf(path, sizeof path, "%s/p%d.db", dir, n++);
    ks_secret secret;
    randombytes_buf(secret.bytes, sizeof secret.bytes);
    store = fixture_service_open(path, &secret, &svc);
    sodium_memzero(&secret, sizeof secret);
    ASSERT_EQ_INT(ks_login_keys_load(&svc), KS_OK);
    ks_key owner = {0};
    char token[KS_TOKEN_LEN + 1];
    ASSERT_EQ_INT(ks_service_account_create(&svc, "acme", "cli", &owner, token), KS_OK);
    ks_key_free(&owner);
    char *roles_items[] = {"Owner"};
    ks_strlist roles = {.items = roles_items, .count = 1};
    ks_member m;
    char invite[KS_INVITE_ID_MAX];
    ASSERT_EQ_INT(ks_people_invite(&svc, &WHO, EMAIL, &roles, &m, invite), KS_OK);
    ks_member_free(&m);
    ASSERT(invite[0] != '\0');
    char email[KS_EMAIL_MAX + 1];
    ASSERT_EQ_INT(ks_invitation_accept(&svc, invite, PASSWORD, strlen(PASSWORD), NULL, email), KS_OK);
    ASSERT_EQ_STR(email, EMAIL);
    ASSERT_EQ_INT(store->ops->person_get(store, EMAIL, &person), KS_OK);
}

static void teardown(void)
{
    ks_login_keys_free(&svc);
    fixture_service_close(&store, &svc);
}

/* Enrols TOTP and gives back the raw secret (decoded from its base32). */
static void enrol(unsigned char secret[KS_TOTP_SECRET_LEN])
{
    char b32[KS_TOTP_BASE32_MAX], uri[KS_TOTP_URI_MAX];
    ASSERT_EQ_INT(ks_person_totp_enrol(&svc, &SELF, person.id, b32, uri), KS_OK);
    ASSERT(strstr(uri, b32) != NULL);
    char *raw = NULL;
    size_t len = 0;
    ASSERT_EQ_INT(oath_base32_decode(b32, strlen(b32), &raw, &len), OATH_OK);
    int ok = len == KS_TOTP_SECRET_LEN;
    if (ok)
        memcpy(secret, raw, KS_TOTP_SECRET_LEN);
    free(raw);
    ASSERT(ok);
}

static void code_at(const unsigned char secret[KS_TOTP_SECRET_LEN], int64_t t, char code[KS_TOTP_DIGITS + 1])
{
    ASSERT_EQ_INT(ks_totp_code(secret, t, code), KS_OK);
}

static int sign_in(const char *password, const char *totp, int64_t now, int *totp_required)
{
    char cookie[KS_SESSION_TEXT_MAX], csrf[KS_SESSION_TEXT_MAX];
    int64_t retry = 0;
    int rc = ks_person_sign_in(&svc, EMAIL, password, strlen(password), totp, NULL, now, cookie, csrf, &retry,
                               totp_required);
    sodium_memzero(cookie, sizeof cookie);
    return rc;
}

static void test_totp_code_works_once(void)
{
    setup();
    unsigned char secret[KS_TOTP_SECRET_LEN];
    enrol(secret);
    const int64_t t = 1900000005; /* a fixed clock, 5 s into a step */
    char c0[KS_TOTP_DIGITS + 1], cprev[KS_TOTP_DIGITS + 1], cnext[KS_TOTP_DIGITS + 1];
    code_at(secret, t, c0);
    code_at(secret, t - KS_TOTP_STEP, cprev);
    code_at(secret, t + KS_TOTP_STEP, cnext);

    /* Confirming uses the code up. */
    ASSERT_EQ_INT(ks_person_totp_confirm(&svc, &SELF, person.id, c0, t), KS_OK);
    int req = -1;
    ASSERT_EQ_INT(sign_in(PASSWORD, NULL, t, &req), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(req, 1); /* the right password: asks for the code */
    /* The same code again, and the older step's (still within drift): refused. */
    ASSERT_EQ_INT(sign_in(PASSWORD, c0, t + 1, &req), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(req, 0);
    ASSERT_EQ_INT(sign_in(PASSWORD, cprev, t + 2, &req), KS_ERR_UNAUTHENTICATED);
    /* The next step's code works once, then not again. */
    ASSERT_EQ_INT(sign_in(PASSWORD, cnext, t + KS_TOTP_STEP, &req), KS_OK);
    ASSERT_EQ_INT(sign_in(PASSWORD, cnext, t + KS_TOTP_STEP + 1, &req), KS_ERR_UNAUTHENTICATED);
    /* Directly: GONE for a step used already. */
    ks_person p;
    ASSERT_EQ_INT(store->ops->person_get(store, EMAIL, &p), KS_OK);
    ASSERT_EQ_INT(p.totp_enabled, 1);
    ASSERT_EQ_INT(p.totp_last_step, (t + KS_TOTP_STEP) / KS_TOTP_STEP);
    ASSERT_EQ_INT(ks_person_totp_use(&svc, &p, cnext, t + KS_TOTP_STEP), KS_ERR_GONE);
    char later[KS_TOTP_DIGITS + 1];
    code_at(secret, t + 2 * KS_TOTP_STEP, later);
    ASSERT_EQ_INT(ks_person_totp_use(&svc, &p, later, t + 2 * KS_TOTP_STEP), KS_OK);
    sodium_memzero(&p, sizeof p);
    /* A wrong password with a fresh code: refused, and the code is not spent. */
    char c3[KS_TOTP_DIGITS + 1];
    code_at(secret, t + 3 * KS_TOTP_STEP, c3);
    ASSERT_EQ_INT(sign_in("not the password!", c3, t + 3 * KS_TOTP_STEP, &req), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(req, 0);
    ASSERT_EQ_INT(sign_in(PASSWORD, c3, t + 3 * KS_TOTP_STEP, &req), KS_OK);
    teardown();
}

static void test_lockout_window(void)
{
    setup();
    const int64_t t = ks_clock_now();
    int req;
    for (int i = 0; i < KS_SIGNIN_MAX_FAILURES; i++)
        ASSERT_EQ_INT(sign_in("wrong password!", NULL, t + i, &req), KS_ERR_UNAUTHENTICATED);
    /* Locked, whatever the password, with Retry-After to the window's end. */
    char cookie[KS_SESSION_TEXT_MAX], csrf[KS_SESSION_TEXT_MAX];
    int64_t retry = 0;
    ASSERT_EQ_INT(ks_person_sign_in(&svc, EMAIL, PASSWORD, strlen(PASSWORD), NULL, NULL, t + 10, cookie, csrf,
                                    &retry, &req),
                  KS_ERR_RATE_LIMITED);
    ASSERT_EQ_INT(retry, KS_SIGNIN_WINDOW - 10);
    /* The same email in other case counts as the same. */
    ASSERT_EQ_INT(ks_person_sign_in(&svc, "ADA@example.com", PASSWORD, strlen(PASSWORD), NULL, NULL, t + 10, cookie,
                                    csrf, &retry, &req),
                  KS_ERR_RATE_LIMITED);
    /* Once the first failure leaves the window, one more try is allowed. */
    ASSERT_EQ_INT(sign_in(PASSWORD, NULL, t + KS_SIGNIN_WINDOW, &req), KS_OK);
    teardown();
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    if (fixture_dir_make(dir, sizeof dir, "keystile-people") != 0)
        return 1;
    RUN(test_totp_code_works_once);
    RUN(test_lockout_window);
    unit_rm_dir(dir);
    return unit_report("people");
}
