/*
 * test_verify.c - the verify decision (src/verify/verify.c decide()) through
 * its public calls, over a small in-memory index built with
 * ks_index_put_account / ks_index_put_key (no store):
 *  - every reason, each asked at home (no account=, and account= the home
 *    account) and in another account: missing_credentials, malformed_token,
 *    unknown_key, invalid_token, inactive, expired, forbidden, ok;
 *  - forbidden elsewhere for each way a grant can be missing (none, inactive,
 *    granting account unknown to the index, its roles lack the resource);
 *  - what an answer carries: key id, home and target account, matched slot,
 *    outdated flag, role names and the sorted union of their resources;
 *  - only a successful ks_verify records last use, and with it the caller's
 *    address the request gives (last_used_from): not on a refusal, once
 *    per slot and second, not at all without an address;
 *  - a token proved by its hash leaves its tag in its slot (a refused or
 *    wrong one none), and later verifies of it decide the same: a tag
 *    skips the hash, none of the checks after it;
 *  - ks_verify_found_in (a NULL digest matches nothing) and ks_verify_bound
 *    (a session's token hash, a login token's fingerprint) decide the same.
 *
 * Index layout:
 *   acme  (3 months, not enforced) roles Reader{docs}, Writer{billing, docs}
 *   beta  (3 months)               role  Auditor{audit, logs}
 *   gamma (3 months)               role  Viewer{docs}
 *   strict (3 months, enforced)    role  Reader{docs}
 *   KEY_HOME   acme, Reader; tokens current (10 days old) and old; grants:
 *              beta Auditor (active), gamma Viewer (inactive),
 *              ghost Viewer (account not in the index)
 *   KEY_OUT    acme, Reader+Writer; token 200 days old (outdated, allowed)
 *   KEY_OFF    acme, inactive; grant beta Auditor (active)
 *   KEY_STALE  strict, Reader; token 200 days old (expired); grant beta Auditor
 */
#include "unit.h"
#include "core/credential.h"
#include "core/error.h"
#include "core/jwt.h"
#include "core/secret.h"
#include "index/key_index.h"
#include "verify/verify.h"

#define NOW ((int64_t)1736942400) /* 2025-01-15T12:00:00Z */
#define DAY ((int64_t)86400)

static ks_secret secret;
static ks_index *idx;
static char key_home[KS_KEY_ID_MAX + 1], key_out[KS_KEY_ID_MAX + 1];
static char key_off[KS_KEY_ID_MAX + 1], key_stale[KS_KEY_ID_MAX + 1];
static char key_absent[KS_KEY_ID_MAX + 1]; /* key format, not in the index */
static char tok_home[KS_TOKEN_LEN + 1], tok_home_old[KS_TOKEN_LEN + 1];
static char tok_out[KS_TOKEN_LEN + 1], tok_off[KS_TOKEN_LEN + 1];
static char tok_stale[KS_TOKEN_LEN + 1], tok_other[KS_TOKEN_LEN + 1];

static int64_t verify_now = NOW; /* the `now` of verify() below */

/* The targets an answer is asked for: home by default, home by name, elsewhere. */
static const char *const HOME_TARGETS[] = {NULL, "acme"};

static ks_role role_make(const char *name, const char *const *resources)
{
    ks_role r = {0};
    r.name = strdup(name);
    for (; *resources; resources++)
        ASSERT_EQ_INT(ks_strlist_add(&r.resources, *resources), KS_OK);
    return r;
}

static void account_put(const char *name, int enforce, ks_role *roles, size_t n)
{
    ks_settings s = {.token_duration_months = 3, .enforce_duration = enforce, .renewal_notice_days = 14};
    ASSERT_EQ_INT(ks_index_put_account(idx, name, &s, roles, n), KS_OK);
    for (size_t i = 0; i < n; i++)
        ks_role_free(&roles[i]);
}

static void grant_add(ks_key *k, const char *account, const char *role, int active)
{
    ks_grant *g = ks_key_add_grant(k, account);
    ASSERT(g);
    g->active = active;
    g->created_at = NOW - DAY;
    ASSERT_EQ_INT(ks_strlist_add(&g->roles, role), KS_OK);
}

/* A key of account with roles; token `tok` made `age` ago, and `old` (if
 * any) 100 days ago. Makes the key id and the tokens. */
static ks_key key_make(const char *account, char *key_id, char *tok, char *old, int64_t age,
                       int active, const char *const *roles)
{
    ks_key k = {0};
    ASSERT_EQ_INT(ks_key_id_generate(account, key_id), KS_OK);
    snprintf(k.key_id, sizeof k.key_id, "%s", key_id);
    snprintf(k.account, sizeof k.account, "%s", account);
    k.name = strdup("test key");
    k.active = active;
    k.created_at = NOW - 300 * DAY;
    ks_token_generate(tok);
    ks_digest h;
    ks_token_hash(&secret, tok, strlen(tok), &h);
    k.slots.current = (ks_token){.present = 1, .hash = h, .created_at = NOW - age};
    if (old) {
        ks_token_generate(old);
        ks_token_hash(&secret, old, strlen(old), &h);
        k.slots.old = (ks_token){.present = 1, .hash = h, .created_at = NOW - 100 * DAY};
    }
    for (; *roles; roles++)
        ASSERT_EQ_INT(ks_strlist_add(&k.roles, *roles), KS_OK);
    return k;
}

static void key_put(ks_key *k)
{
    ASSERT_EQ_INT(ks_index_put_key(idx, k), KS_OK);
    ks_key_free(k);
}

static void index_build(void)
{
    for (size_t i = 0; i < sizeof secret.bytes; i++)
        secret.bytes[i] = (unsigned char)(i * 7 + 1);
    idx = ks_index_new();
    ASSERT(idx);
    ks_role acme[] = {role_make("Reader", (const char *[]){"docs", NULL}),
                      role_make("Writer", (const char *[]){"docs", "billing", NULL})};
    account_put("acme", 0, acme, 2);
    ks_role beta[] = {role_make("Auditor", (const char *[]){"logs", "audit", NULL})};
    account_put("beta", 0, beta, 1);
    ks_role gamma[] = {role_make("Viewer", (const char *[]){"docs", NULL})};
    account_put("gamma", 0, gamma, 1);
    ks_role strict[] = {role_make("Reader", (const char *[]){"docs", NULL})};
    account_put("strict", 1, strict, 1);

    ks_key k = key_make("acme", key_home, tok_home, tok_home_old, 10 * DAY, KS_KEY_ACTIVE,
                        (const char *[]){"Reader", NULL});
    grant_add(&k, "beta", "Auditor", KS_KEY_ACTIVE);
    grant_add(&k, "gamma", "Viewer", KS_KEY_INACTIVE);
    grant_add(&k, "ghost", "Viewer", KS_KEY_ACTIVE);
    key_put(&k);
    k = key_make("acme", key_out, tok_out, NULL, 200 * DAY, KS_KEY_ACTIVE,
                 (const char *[]){"Reader", "Writer", NULL});
    key_put(&k);
    k = key_make("acme", key_off, tok_off, NULL, 10 * DAY, KS_KEY_INACTIVE,
                 (const char *[]){"Reader", NULL});
    grant_add(&k, "beta", "Auditor", KS_KEY_ACTIVE);
    key_put(&k);
    k = key_make("strict", key_stale, tok_stale, NULL, 200 * DAY, KS_KEY_ACTIVE,
                 (const char *[]){"Reader", NULL});
    grant_add(&k, "beta", "Auditor", KS_KEY_ACTIVE);
    key_put(&k);
    ASSERT_EQ_INT(ks_key_id_generate("acme", key_absent), KS_OK);
    ks_token_generate(tok_other);
}

/* ks_verify of (key, token, target, resource) at verify_now into *out; the reason
 * must be `want`. */
static void verify(const char *key, const char *token, const char *target, const char *resource,
                   ks_verify_reason want, ks_verify_result *out)
{
    ks_verify_request req = {key, token, token ? strlen(token) : 0, target, resource, NULL, NULL, 0, 0};
    ASSERT_EQ_INT(ks_verify(idx, &secret, &req, verify_now, out), KS_OK);
    if (out->reason != want)
        UNIT_FAIL("key %s token %s target %s resource %s: %s, want %s", key ? key : "(null)",
                  token ? "(given)" : "(null)", target ? target : "(home)", resource ? resource : "(none)",
                  ks_verify_reason_name(out->reason), ks_verify_reason_name(want));
}

/* l holds exactly want (NULL-terminated), in that order. */
static void expect_list(const ks_strlist *l, const char *const *want)
{
    size_t n = 0;
    for (; want[n]; n++) {
        ASSERT(n < l->count);
        ASSERT_EQ_STR(l->items[n], want[n]);
    }
    ASSERT_EQ_INT(l->count, n);
}

/* The number of last-used times waiting to be flushed (collecting marks nothing). */
static size_t pending_last_used(void)
{
    ks_last_used *items = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(ks_index_collect_last_used(idx, KS_LAST_USED_ALL, &items, &n), KS_OK);
    free(items);
    return n;
}

/* Marks every pending last-used time flushed, as a successful store write would. */
static void flush_all(void)
{
    ks_last_used *items = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(ks_index_collect_last_used(idx, KS_LAST_USED_ALL, &items, &n), KS_OK);
    ks_index_mark_flushed(idx, items, n);
    free(items);
}

static void test_reason_names(void)
{
    static const char *const NAMES[] = {"ok", "missing_credentials", "malformed_token", "unknown_key",
                                        "invalid_token", "inactive", "expired", "forbidden"};
    for (int r = KS_VERIFY_OK; r <= KS_VERIFY_FORBIDDEN; r++)
        ASSERT_EQ_STR(ks_verify_reason_name((ks_verify_reason)r), NAMES[r]);
}

/* The checks before the lookup answer the same wherever the key is asked about. */
static void test_precheck_reasons_anywhere(void)
{
    const char *targets[] = {NULL, "acme", "beta"};
    char broken[KS_TOKEN_LEN + 1];
    memcpy(broken, tok_home, sizeof broken);
    broken[KS_TOKEN_LEN - 1] = broken[KS_TOKEN_LEN - 1] == 'A' ? 'B' : 'A'; /* checksum off */
    for (size_t i = 0; i < 3; i++) {
        ks_verify_result r;
        const char *t = targets[i];
        verify(NULL, tok_home, t, NULL, KS_VERIFY_MISSING_CREDENTIALS, &r);
        ASSERT_EQ_STR(r.key_id, "");
        verify("", tok_home, t, NULL, KS_VERIFY_MISSING_CREDENTIALS, &r);
        verify(key_home, NULL, t, NULL, KS_VERIFY_MISSING_CREDENTIALS, &r);
        verify(key_home, "", t, NULL, KS_VERIFY_MISSING_CREDENTIALS, &r);
        verify(key_home, broken, t, NULL, KS_VERIFY_MALFORMED_TOKEN, &r);
        ASSERT_EQ_STR(r.key_id, "");
        verify(key_home, "short", t, NULL, KS_VERIFY_MALFORMED_TOKEN, &r);
        /* the checksum comes before the key, whatever the key (the hot path
         * checks it after the lookup, when no slot matched) */
        verify("no-such-key", broken, t, NULL, KS_VERIFY_MALFORMED_TOKEN, &r);
        verify(key_absent, broken, t, NULL, KS_VERIFY_MALFORMED_TOKEN, &r);
        /* so does the alphabet (a token of the right length and prefix) */
        char odd[KS_TOKEN_LEN + 1];
        memcpy(odd, tok_home, sizeof odd);
        odd[10] = '!';
        verify(key_home, odd, t, NULL, KS_VERIFY_MALFORMED_TOKEN, &r);
        verify(key_absent, odd, t, NULL, KS_VERIFY_MALFORMED_TOKEN, &r);
        verify("no-such-key", odd, t, NULL, KS_VERIFY_MALFORMED_TOKEN, &r);
        /* a key id longer than any: unknown, and still behind the token's format */
        char too_long[KS_KEY_ID_MAX + 8];
        memset(too_long, 'a', sizeof too_long - 1);
        too_long[sizeof too_long - 1] = '\0';
        verify(too_long, tok_home, t, NULL, KS_VERIFY_UNKNOWN_KEY, &r);
        ASSERT_EQ_STR(r.key_id, "");
        verify(too_long, broken, t, NULL, KS_VERIFY_MALFORMED_TOKEN, &r);
        ASSERT_EQ_STR(r.key_id, "");
        ASSERT_EQ_INT(r.slot, KS_SLOT_NONE);
        /* not a key id at all: unknown, and not echoed */
        verify("no-such-key", tok_home, t, NULL, KS_VERIFY_UNKNOWN_KEY, &r);
        ASSERT_EQ_STR(r.key_id, "");
        /* a well-formed id of no key: unknown, echoed */
        verify(key_absent, tok_home, t, "docs", KS_VERIFY_UNKNOWN_KEY, &r);
        ASSERT_EQ_STR(r.key_id, key_absent);
        ASSERT_EQ_STR(r.account, "");
        ASSERT_EQ_INT(r.slot, KS_SLOT_NONE);
        /* another key's token, or a valid token of no key */
        verify(key_home, tok_out, t, NULL, KS_VERIFY_INVALID_TOKEN, &r);
        ASSERT_EQ_STR(r.key_id, key_home);
        ASSERT_EQ_STR(r.account, ""); /* nothing about the key without its token */
        ASSERT_EQ_INT(r.slot, KS_SLOT_NONE);
        verify(key_home, tok_other, t, "docs", KS_VERIFY_INVALID_TOKEN, &r);
        ks_verify_result_free(&r);
    }
    ASSERT_EQ_INT(pending_last_used(), 0);
}

static void test_inactive_anywhere(void)
{
    const char *targets[] = {NULL, "acme", "beta"};
    for (size_t i = 0; i < 3; i++) {
        ks_verify_result r;
        verify(key_off, tok_off, targets[i], "docs", KS_VERIFY_INACTIVE, &r);
        ASSERT_EQ_STR(r.key_id, key_off);
        ASSERT_EQ_STR(r.account, "acme"); /* said to holders of its token */
        ASSERT_EQ_STR(r.target_account, "");
        ASSERT_EQ_INT(r.slot, KS_SLOT_CURRENT);
        ASSERT_EQ_INT(r.roles.count, 0);
        /* a wrong token still learns nothing */
        verify(key_off, tok_home, targets[i], "docs", KS_VERIFY_INVALID_TOKEN, &r);
        ks_verify_result_free(&r);
    }
    ASSERT_EQ_INT(pending_last_used(), 0);
}

/* The home account's duration decides, wherever the key is used. */
static void test_expired_anywhere(void)
{
    const char *targets[] = {NULL, "strict", "beta"};
    for (size_t i = 0; i < 3; i++) {
        ks_verify_result r;
        verify(key_stale, tok_stale, targets[i], NULL, KS_VERIFY_EXPIRED, &r);
        ASSERT_EQ_STR(r.account, "strict");
        ASSERT_EQ_INT(r.outdated, 1);
        ASSERT_EQ_INT(r.slot, KS_SLOT_CURRENT);
        ASSERT_EQ_INT(r.roles.count, 0);
        ks_verify_result_free(&r);
    }
    ASSERT_EQ_INT(pending_last_used(), 0);
}

static void test_forbidden_at_home(void)
{
    for (size_t i = 0; i < 2; i++) {
        ks_verify_result r;
        verify(key_home, tok_home, HOME_TARGETS[i], "billing", KS_VERIFY_FORBIDDEN, &r);
        ASSERT_EQ_STR(r.account, "acme");
        ASSERT_EQ_STR(r.target_account, "acme");
        /* the grant is reported even when it lacks the resource */
        expect_list(&r.roles, (const char *[]){"Reader", NULL});
        expect_list(&r.resources, (const char *[]){"docs", NULL});
        ks_verify_result_free(&r);
        /* a resource no role has, and an empty-named one */
        verify(key_home, tok_home, HOME_TARGETS[i], "nothing", KS_VERIFY_FORBIDDEN, &r);
        ks_verify_result_free(&r);
        verify(key_home, tok_home, HOME_TARGETS[i], "", KS_VERIFY_FORBIDDEN, &r);
        ks_verify_result_free(&r);
    }
    ASSERT_EQ_INT(pending_last_used(), 0);
}

static void test_forbidden_elsewhere(void)
{
    ks_verify_result r;
    /* a grant whose roles lack the resource */
    verify(key_home, tok_home, "beta", "docs", KS_VERIFY_FORBIDDEN, &r);
    ASSERT_EQ_STR(r.target_account, "beta");
    expect_list(&r.roles, (const char *[]){"Auditor", NULL});
    expect_list(&r.resources, (const char *[]){"audit", "logs", NULL});
    ks_verify_result_free(&r);
    /* no grant there, an inactive grant, a grant from an account the index
     * does not know: forbidden without roles, whatever the resource */
    const char *no_grant[] = {"delta", "gamma", "ghost", "strict", "acm", "acmex", ""};
    for (size_t i = 0; i < sizeof no_grant / sizeof *no_grant; i++) {
        verify(key_home, tok_home, no_grant[i], NULL, KS_VERIFY_FORBIDDEN, &r);
        ASSERT_EQ_STR(r.account, "acme");
        ASSERT_EQ_STR(r.target_account, no_grant[i]);
        ASSERT_EQ_INT(r.roles.count, 0);
        ASSERT_EQ_INT(r.resources.count, 0);
        ks_verify_result_free(&r);
        verify(key_home, tok_home, no_grant[i], "docs", KS_VERIFY_FORBIDDEN, &r);
        ks_verify_result_free(&r);
    }
    ASSERT_EQ_INT(pending_last_used(), 0);
}

static void test_ok_at_home(void)
{
    for (size_t i = 0; i < 2; i++) {
        ks_verify_result r;
        verify(key_home, tok_home, HOME_TARGETS[i], "docs", KS_VERIFY_OK, &r);
        ASSERT_EQ_STR(r.key_id, key_home);
        ASSERT_EQ_STR(r.account, "acme");
        ASSERT_EQ_STR(r.target_account, "acme");
        ASSERT_EQ_INT(r.slot, KS_SLOT_CURRENT);
        ASSERT_EQ_INT(r.outdated, 0);
        expect_list(&r.roles, (const char *[]){"Reader", NULL});
        expect_list(&r.resources, (const char *[]){"docs", NULL});
        ks_verify_result_free(&r);
        /* the old token of a renewal overlap, and no resource asked */
        verify(key_home, tok_home_old, HOME_TARGETS[i], NULL, KS_VERIFY_OK, &r);
        ASSERT_EQ_INT(r.slot, KS_SLOT_OLD);
        ks_verify_result_free(&r);
        /* outdated but the account does not enforce: ok, flagged; resources
         * are the sorted union of both roles */
        verify(key_out, tok_out, HOME_TARGETS[i], "billing", KS_VERIFY_OK, &r);
        ASSERT_EQ_INT(r.outdated, 1);
        expect_list(&r.roles, (const char *[]){"Reader", "Writer", NULL});
        expect_list(&r.resources, (const char *[]){"billing", "docs", NULL});
        ks_verify_result_free(&r);
    }
}

static void test_ok_elsewhere(void)
{
    ks_verify_result r;
    verify(key_home, tok_home, "beta", "logs", KS_VERIFY_OK, &r);
    ASSERT_EQ_STR(r.account, "acme");
    ASSERT_EQ_STR(r.target_account, "beta");
    ASSERT_EQ_INT(r.slot, KS_SLOT_CURRENT);
    expect_list(&r.roles, (const char *[]){"Auditor", NULL});
    expect_list(&r.resources, (const char *[]){"audit", "logs", NULL});
    ks_verify_result_free(&r);
    verify(key_home, tok_home_old, "beta", "audit", KS_VERIFY_OK, &r);
    ASSERT_EQ_INT(r.slot, KS_SLOT_OLD);
    ks_verify_result_free(&r);
}

/* Last use is recorded for the slot that verified, and only on success. */
static void test_last_use_only_on_success(void)
{
    flush_all();
    ASSERT_EQ_INT(pending_last_used(), 0);
    verify_now = NOW + 60; /* later than every use so far */
    ks_verify_result r;
    verify(key_out, tok_out, "beta", NULL, KS_VERIFY_FORBIDDEN, &r);
    ks_verify_result_free(&r);
    ASSERT_EQ_INT(pending_last_used(), 0);
    verify(key_out, tok_out, NULL, "docs", KS_VERIFY_OK, &r);
    ks_verify_result_free(&r);
    ks_last_used *items = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(ks_index_collect_last_used(idx, KS_LAST_USED_ALL, &items, &n), KS_OK);
    verify_now = NOW;
    int ok = n == 1 && strcmp(items[0].key_id, key_out) == 0 && items[0].last_used_at == NOW + 60;
    ks_digest h;
    ks_token_hash(&secret, tok_out, strlen(tok_out), &h);
    ok = ok && ks_digest_equal(&items[0].hash, &h);
    ks_index_mark_flushed(idx, items, n);
    free(items);
    ASSERT(ok);
    ASSERT_EQ_INT(pending_last_used(), 0);
}

/* The caller's address a request gives, as the HTTP layer's callback does. */
static void client_is(void *ctx, ks_netaddr *out)
{
    const char *text = ctx;
    ASSERT_EQ_INT(ks_netaddr_parse(text, strlen(text), out), KS_OK);
}

/* ks_verify as verify() above, from the caller address `from`. */
static void verify_from(const char *key, const char *token, const char *resource, const char *from,
                        ks_verify_reason want)
{
    ks_verify_request req = {key, token, strlen(token), NULL, resource, client_is, (void *)from, 0, 0};
    ks_verify_result r;
    ASSERT_EQ_INT(ks_verify(idx, &secret, &req, verify_now, &r), KS_OK);
    if (r.reason != want)
        UNIT_FAIL("from %s: %s, want %s", from, ks_verify_reason_name(r.reason), ks_verify_reason_name(want));
    ks_verify_result_free(&r);
}

/* The only pending last use: its time and address as text ("" unknown). */
static int64_t pending_from(char *text)
{
    ks_last_used *items = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(ks_index_collect_last_used(idx, KS_LAST_USED_ALL, &items, &n), KS_OK);
    int64_t at = n == 1 ? items[0].last_used_at : -1;
    if (n == 1)
        ks_netaddr_format(&items[0].from, text, KS_NETADDR_TEXT_MAX);
    ks_index_mark_flushed(idx, items, n);
    free(items);
    ASSERT_EQ_INT(n, 1);
    return at;
}

/* A success records the caller's address with the time; refusals record
 * nothing; a second success in the same second leaves the first address; a
 * verify without an address (in process) moves the time, not the address. */
static void test_last_use_records_the_caller_address(void)
{
    char text[KS_NETADDR_TEXT_MAX];
    flush_all();
    verify_now = NOW + 200;
    verify_from(key_out, tok_out, "docs", "203.0.113.7", KS_VERIFY_OK);
    ASSERT_EQ_INT(pending_from(text), NOW + 200);
    ASSERT_EQ_STR(text, "203.0.113.7");

    verify_now = NOW + 201;
    verify_from(key_out, tok_out, "nothing-granted", "198.51.100.1", KS_VERIFY_FORBIDDEN);
    verify_from(key_out, tok_other, "docs", "198.51.100.2", KS_VERIFY_INVALID_TOKEN);
    verify_from(key_off, tok_off, "docs", "198.51.100.3", KS_VERIFY_INACTIVE);
    ASSERT_EQ_INT(pending_last_used(), 0);

    verify_from(key_out, tok_out, "docs", "2001:db8::42", KS_VERIFY_OK);
    verify_from(key_out, tok_out, "docs", "198.51.100.4", KS_VERIFY_OK); /* same second */
    ASSERT_EQ_INT(pending_from(text), NOW + 201);
    ASSERT_EQ_STR(text, "2001:db8::42");

    verify_now = NOW + 202;
    ks_verify_result r;
    verify(key_out, tok_out, NULL, "docs", KS_VERIFY_OK, &r); /* no client callback */
    ks_verify_result_free(&r);
    ASSERT_EQ_INT(pending_from(text), NOW + 202);
    ASSERT_EQ_STR(text, "2001:db8::42");

    /* the old token records for its own slot */
    verify_now = NOW + 203;
    verify_from(key_home, tok_home_old, "docs", "192.0.2.1", KS_VERIFY_OK);
    ASSERT_EQ_INT(pending_from(text), NOW + 203);
    ASSERT_EQ_STR(text, "192.0.2.1");
    verify_now = NOW;
}

/* The hot path by digest decides as ks_verify; a NULL digest matches nothing. */
static void test_found_in(void)
{
    ks_digest h;
    ks_token_hash(&secret, tok_home, strlen(tok_home), &h);
    flush_all();
    struct {
        const char *key;
        const ks_digest *digest;
        const char *target, *resource;
        ks_verify_reason want;
    } cases[] = {
        {key_home, &h, NULL, "docs", KS_VERIFY_OK},
        {key_home, &h, "beta", "audit", KS_VERIFY_OK},
        {key_home, &h, NULL, "billing", KS_VERIFY_FORBIDDEN},
        {key_home, &h, "gamma", NULL, KS_VERIFY_FORBIDDEN},
        {key_home, NULL, NULL, "docs", KS_VERIFY_INVALID_TOKEN},
        {key_out, &h, NULL, NULL, KS_VERIFY_INVALID_TOKEN},
        {key_absent, &h, NULL, NULL, KS_VERIFY_UNKNOWN_KEY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
        ks_verify_found f;
        ks_verify_found_in(idx, cases[i].key, strlen(cases[i].key), cases[i].digest, cases[i].target,
                           cases[i].resource, NOW + 120, &f);
        ks_verify_reason got = f.reason;
        const char *target = f.target ? ks_index_account_name(f.target, NULL) : NULL;
        int has_view = f.view != NULL;
        ks_index_read_unlock(idx);
        if (got != cases[i].want)
            UNIT_FAIL("case %zu: %s, want %s", i, ks_verify_reason_name(got),
                      ks_verify_reason_name(cases[i].want));
        if (got == KS_VERIFY_OK) {
            ASSERT(target);
            ASSERT_EQ_STR(target, cases[i].target ? cases[i].target : "acme");
            ASSERT(has_view);
        }
    }
    /* the two ok cases touched the same slot: one time to flush */
    ASSERT_EQ_INT(pending_last_used(), 1);
}

/* A session (token hash) or login token (fingerprint) works exactly while
 * its token does; nothing is recorded as used. */
static void test_bound(void)
{
    ks_digest h_home, h_old, h_other, h_off, h_stale;
    ks_token_hash(&secret, tok_home, strlen(tok_home), &h_home);
    ks_token_hash(&secret, tok_home_old, strlen(tok_home_old), &h_old);
    ks_token_hash(&secret, tok_other, strlen(tok_other), &h_other);
    ks_token_hash(&secret, tok_off, strlen(tok_off), &h_off);
    ks_token_hash(&secret, tok_stale, strlen(tok_stale), &h_stale);
    char fp_old[KS_JWT_FP_LEN + 1], fp_other[KS_JWT_FP_LEN + 1];
    ks_jwt_token_fingerprint(&h_old, fp_old);
    ks_jwt_token_fingerprint(&h_other, fp_other);
    flush_all();
    struct {
        const char *key;
        ks_token_binding b;
        const char *target, *resource;
        ks_verify_reason want;
        ks_slot slot;
    } cases[] = {
        {key_home, {&h_home, NULL}, NULL, "docs", KS_VERIFY_OK, KS_SLOT_CURRENT},
        {key_home, {&h_home, NULL}, "beta", "logs", KS_VERIFY_OK, KS_SLOT_CURRENT},
        {key_home, {NULL, fp_old}, "acme", "docs", KS_VERIFY_OK, KS_SLOT_OLD},
        {key_home, {NULL, fp_old}, "beta", "docs", KS_VERIFY_FORBIDDEN, KS_SLOT_OLD},
        {key_home, {&h_home, NULL}, "gamma", "docs", KS_VERIFY_FORBIDDEN, KS_SLOT_CURRENT},
        {key_home, {&h_other, NULL}, NULL, NULL, KS_VERIFY_INVALID_TOKEN, KS_SLOT_NONE},
        {key_home, {NULL, fp_other}, NULL, NULL, KS_VERIFY_INVALID_TOKEN, KS_SLOT_NONE},
        {key_home, {NULL, "short"}, NULL, NULL, KS_VERIFY_INVALID_TOKEN, KS_SLOT_NONE},
        {key_home, {NULL, NULL}, NULL, NULL, KS_VERIFY_INVALID_TOKEN, KS_SLOT_NONE},
        {key_off, {&h_off, NULL}, "beta", NULL, KS_VERIFY_INACTIVE, KS_SLOT_CURRENT},
        {key_stale, {&h_stale, NULL}, "beta", NULL, KS_VERIFY_EXPIRED, KS_SLOT_CURRENT},
        {key_absent, {&h_home, NULL}, NULL, NULL, KS_VERIFY_UNKNOWN_KEY, KS_SLOT_NONE},
        {"not-a-key", {&h_home, NULL}, NULL, NULL, KS_VERIFY_UNKNOWN_KEY, KS_SLOT_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ks_verify_result r;
        ASSERT_EQ_INT(ks_verify_bound(idx, cases[i].key, &cases[i].b, cases[i].target, cases[i].resource, NOW,
                                      &r),
                      KS_OK);
        ks_verify_reason got = r.reason;
        ks_slot slot = r.slot;
        ks_verify_result_free(&r);
        if (got != cases[i].want || slot != cases[i].slot)
            UNIT_FAIL("case %zu: %s slot %d, want %s slot %d", i, ks_verify_reason_name(got), (int)slot,
                      ks_verify_reason_name(cases[i].want), (int)cases[i].slot);
    }
    ASSERT_EQ_INT(pending_last_used(), 0);
}

/* An old token with a deadline verifies up to the second before it and
 * not from it on (invalid_token), the current one either way; a session
 * bound to the old token ends with it too. */
/* The slot of key whose remembered tag is token's. */
static ks_slot tag_slot(const char *key, const char *token)
{
    ks_index_tag t;
    ks_index_tag_of(idx, token, strlen(token), &t);
    ASSERT_EQ_INT(ks_index_read_lock(idx), 0);
    const ks_index_key *k = ks_index_find_key(idx, key, strlen(key));
    ks_slot s = k ? ks_index_slots_match_tag(k, &t) : KS_SLOT_NONE;
    ks_index_read_unlock(idx);
    return s;
}

static void test_token_tags(void)
{
    char key[KS_KEY_ID_MAX + 1], cur[KS_TOKEN_LEN + 1], old[KS_TOKEN_LEN + 1];
    ks_key k = key_make("acme", key, cur, old, DAY, KS_KEY_ACTIVE, (const char *[]){"Reader", NULL});
    k.slots.old.ends_at = NOW + 3600;
    key_put(&k);
    ks_verify_result r;
    verify(key, tok_other, NULL, NULL, KS_VERIFY_INVALID_TOKEN, &r);
    ks_verify_result_free(&r);
    ASSERT_EQ_INT(tag_slot(key, tok_other), KS_SLOT_NONE);
    verify(key, cur, NULL, "billing", KS_VERIFY_FORBIDDEN, &r); /* proved, then refused: still the token's */
    ks_verify_result_free(&r);
    ASSERT_EQ_INT(tag_slot(key, cur), KS_SLOT_CURRENT);
    ASSERT_EQ_INT(tag_slot(key, old), KS_SLOT_NONE);
    for (int i = 0; i < 2; i++) { /* by hash, then by tag: the same answers */
        verify(key, cur, NULL, "docs", KS_VERIFY_OK, &r);
        ASSERT_EQ_INT(r.slot, KS_SLOT_CURRENT);
        ks_verify_result_free(&r);
        verify(key, old, NULL, "docs", KS_VERIFY_OK, &r);
        ASSERT_EQ_INT(r.slot, KS_SLOT_OLD);
        ks_verify_result_free(&r);
        verify(key, cur, NULL, "billing", KS_VERIFY_FORBIDDEN, &r);
        ks_verify_result_free(&r);
        verify(key, tok_other, NULL, NULL, KS_VERIFY_INVALID_TOKEN, &r);
        ks_verify_result_free(&r);
    }
    ASSERT_EQ_INT(tag_slot(key, old), KS_SLOT_OLD);
    verify(key_out, old, NULL, NULL, KS_VERIFY_INVALID_TOKEN, &r); /* a tag is its key's */
    ks_verify_result_free(&r);
    verify_now = NOW + 3600; /* the old token's deadline: its tag accepts nothing */
    verify(key, old, NULL, NULL, KS_VERIFY_INVALID_TOKEN, &r);
    ks_verify_result_free(&r);
    verify_now = NOW;
}

static void test_old_token_deadline(void)
{
    char key[KS_KEY_ID_MAX + 1], cur[KS_TOKEN_LEN + 1], old[KS_TOKEN_LEN + 1];
    ks_key k = key_make("acme", key, cur, old, DAY, KS_KEY_ACTIVE, (const char *[]){"Reader", NULL});
    k.slots.old.ends_at = NOW + 3600;
    ks_digest old_hash = k.slots.old.hash;
    key_put(&k);
    ks_verify_result r;
    verify_now = NOW + 3599;
    verify(key, old, NULL, NULL, KS_VERIFY_OK, &r);
    ASSERT_EQ_INT(r.slot, KS_SLOT_OLD);
    ks_verify_result_free(&r);
    ks_token_binding bound = {.token_hash = &old_hash};
    ASSERT_EQ_INT(ks_verify_bound(idx, key, &bound, NULL, NULL, verify_now, &r), KS_OK);
    ASSERT_EQ_INT(r.reason, KS_VERIFY_OK);
    ks_verify_result_free(&r);
    verify_now = NOW + 3600;
    verify(key, old, NULL, NULL, KS_VERIFY_INVALID_TOKEN, &r);
    ks_verify_result_free(&r);
    ASSERT_EQ_INT(ks_verify_bound(idx, key, &bound, NULL, NULL, verify_now, &r), KS_OK);
    ASSERT_EQ_INT(r.reason, KS_VERIFY_INVALID_TOKEN);
    ks_verify_result_free(&r);
    verify(key, cur, NULL, NULL, KS_VERIFY_OK, &r);
    ASSERT_EQ_INT(r.slot, KS_SLOT_CURRENT);
    ks_verify_result_free(&r);
    verify_now = NOW;
}

int main(void)
{
    if (setjmp(unit_jmp) != 0) {
        fprintf(stderr, "FAILED building the index\n");
        printf("verify: 0 passed, 1 failed\n");
        return 1;
    }
    index_build();
    RUN(test_reason_names);
    RUN(test_precheck_reasons_anywhere);
    RUN(test_inactive_anywhere);
    RUN(test_expired_anywhere);
    RUN(test_forbidden_at_home);
    RUN(test_forbidden_elsewhere);
    RUN(test_ok_at_home);
    RUN(test_ok_elsewhere);
    RUN(test_last_use_only_on_success);
    RUN(test_last_use_records_the_caller_address);
    RUN(test_found_in);
    RUN(test_bound);
    RUN(test_old_token_deadline);
    RUN(test_token_tags);
    ks_index_free(idx);
    return unit_report("verify");
}
