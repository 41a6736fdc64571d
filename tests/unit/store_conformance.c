/*
 * store_conformance.c - backend-independent tests of the store interface.
 *
 * Only store.h (and the model/core headers it builds on) is used: no SQL, no
 * backend internals. Every test starts from a fresh, empty store and builds
 * what it needs through the interface. Records read back are heap objects
 * released after the test by a small deferred-free list, so a failed ASSERT
 * (which leaves the test with longjmp) leaks nothing.
 *
 * Conventions: accounts "acme" and "beta"; key ids are made deterministically
 * by kid(account, n) (n = 0 is the account's owner key); token digests by
 * tok(key_id, generation); times are fixed (T0 = 2025-01-15T12:00:00Z).
 */
#include "store_conformance.h"
#include "unit.h"

#include "core/error.h"
#include "core/roles.h"
#include "core/token_age.h"

#include <stdlib.h>

#define T0 ((int64_t)1736942400) /* 2025-01-15T12:00:00Z */
#define DAY ((int64_t)86400)

/* NULL-terminated role / resource lists: R("Owner", "Reader"), R0 = none. */
#define R(...) ((const char *const[]){__VA_ARGS__, NULL})
#define R0 ((const char *const[]){NULL})

static ks_store *S;           /* the store of the running test */
static int64_t audit_clock;   /* `at` of the last audit entry made */

/* ------------------------------------------------------- deferred frees */

typedef struct {
    void (*fn)(void *);
    void *p;
} deferred_t;
static deferred_t deferred[1024];
static int n_deferred;

static void *defer(void *p, void (*fn)(void *))
{
    if (n_deferred == (int)(sizeof deferred / sizeof *deferred)) {
        fn(p);
        UNIT_FAIL("test harness: too many deferred frees");
    }
    deferred[n_deferred].fn = fn;
    deferred[n_deferred].p = p;
    n_deferred++;
    return p;
}

static void run_deferred(void)
{
    while (n_deferred > 0) {
        n_deferred--;
        deferred[n_deferred].fn(deferred[n_deferred].p);
    }
}

static void *xcalloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p)
        UNIT_FAIL("out of memory in test");
    return defer(p, free);
}

static void key_contents_free(void *p)
{
    ks_key_free(p);
}

typedef struct {
    ks_role *items;
    size_t n;
} role_set;
static void role_set_free(void *p)
{
    role_set *r = p;
    ks_roles_free(r->items, r->n);
    free(r);
}

typedef struct {
    ks_audit_record *items;
    size_t n;
} audit_set;
static void audit_set_free(void *p)
{
    audit_set *a = p;
    ks_audit_records_free(a->items, a->n);
    free(a);
}

static void page_heap_free(void *p)
{
    ks_key_page_free(p);
    free(p);
}

/* ----------------------------------------------------------- fixtures */

/* A deterministic, valid key id: "kst-<account>-" + 10 base32 chars of n. */
static const char *kid(const char *account, int n)
{
    static char pool[64][KS_KEY_ID_MAX + 1];
    static int next;
    static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";
    char *out = pool[next++ % 64];
    char rnd[11];
    unsigned v = (unsigned)n * 2654435761u; /* spread, still unique for n < 2^32 */
    for (int i = 0; i < 10; i++) {
        rnd[i] = B32[(i < 6 ? (v >> (5 * i)) : (unsigned)n >> (5 * (i - 6))) & 31];
    }
    rnd[10] = '\0';
    snprintf(out, KS_KEY_ID_MAX + 1, "kst-%s-%s", account, rnd);
    return out;
}

/* A deterministic digest for generation `gen` of the token of key_id. */
static ks_digest tok(const char *key_id, int gen)
{
    ks_digest d;
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(gen + 1) * 0x9E3779B97F4A7C15ULL;
    for (const char *p = key_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (int i = 0; i < KS_DIGEST_LEN; i++) {
        h = (h ^ (uint64_t)i) * 1099511628211ULL;
        d.bytes[i] = (unsigned char)(h >> 56);
    }
    return d;
}

static ks_strlist slist(const char *const *items)
{
    ks_strlist l;
    l.items = (char **)items; /* read-only input: the store never writes it */
    l.count = 0;
    while (items[l.count])
        l.count++;
    return l;
}

static ks_audit_entry aud(const char *account, const char *action, const char *target)
{
    ks_audit_entry a;
    memset(&a, 0, sizeof a);
    snprintf(a.account, sizeof a.account, "%s", account);
    a.at = T0 + (++audit_clock);
    a.actor = "cli";
    a.action = action;
    a.target = target;
    a.detail = "{\"by\":\"conformance\"}";
    return a;
}

/* Fills k (no allocation: it points at the arguments). */
static void key_build(ks_key *k, const char *account, int n, const char *name,
                      const char *const *roles, int64_t created)
{
    memset(k, 0, sizeof *k);
    snprintf(k->key_id, sizeof k->key_id, "%s", kid(account, n));
    snprintf(k->account, sizeof k->account, "%s", account);
    k->name = (char *)name;
    k->active = KS_KEY_ACTIVE;
    k->created_at = created;
    ks_digest d = tok(k->key_id, 0);
    ks_slots_init(&k->slots, &d, created);
    k->roles = slist(roles);
}

static int make_account(const char *account, int months, int enforce)
{
    ks_settings st = {months, enforce};
    ks_key owner;
    key_build(&owner, account, 0, "Owner key", R("Owner"), T0);
    ks_audit_entry a = aud(account, "account.create", account);
    return S->ops->account_create(S, account, &st, &owner, &a);
}

static int put_key(const char *account, int n, const char *name, const char *const *roles,
                   int64_t created)
{
    ks_key k;
    key_build(&k, account, n, name, roles, created);
    ks_audit_entry a = aud(account, "key.create", k.key_id);
    return S->ops->key_insert(S, &k, &a);
}

/* The key, or NULL with *rc set (freed after the test). */
static ks_key *get_key(const char *account, const char *key_id, int *rc)
{
    ks_key *k = xcalloc(sizeof *k);
    int r = S->ops->key_get(S, account, key_id, k);
    if (rc)
        *rc = r;
    if (r != KS_OK)
        return NULL;
    defer(k, key_contents_free);
    return k;
}

static ks_key *must_get_key(const char *account, const char *key_id)
{
    int rc = 0;
    ks_key *k = get_key(account, key_id, &rc);
    if (!k)
        UNIT_FAIL("key_get(%s, %s) = %d, want KS_OK", account, key_id, rc);
    return k;
}

static role_set *get_roles(const char *account, int *rc)
{
    role_set *r = calloc(1, sizeof *r);
    if (!r)
        UNIT_FAIL("out of memory in test");
    int x = S->ops->role_list(S, account, &r->items, &r->n);
    if (x != KS_OK) {
        r->items = NULL;
        r->n = 0;
    }
    defer(r, role_set_free);
    if (rc)
        *rc = x;
    return r;
}

static const ks_role *find_role(const role_set *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].name && strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    return NULL;
}

static audit_set *get_audit(const char *account, int limit)
{
    audit_set *a = calloc(1, sizeof *a);
    if (!a)
        UNIT_FAIL("out of memory in test");
    int rc = S->ops->audit_list(S, account, limit, &a->items, &a->n);
    if (rc != KS_OK) {
        a->items = NULL;
        a->n = 0;
    }
    defer(a, audit_set_free);
    if (rc != KS_OK)
        UNIT_FAIL("audit_list(%s, %d) = %d", account, limit, rc);
    return a;
}

static size_t audit_count(const char *account)
{
    return get_audit(account, 10000)->n;
}

/* The newest audit entry of account is (action, target) and the count grew by one. */
static void expect_audit(const char *account, size_t before, const char *action, const char *target)
{
    audit_set *a = get_audit(account, 10000);
    if (a->n != before + 1)
        UNIT_FAIL("audit of %s has %zu entries after %s, want %zu", account, a->n, action,
                  before + 1);
    ASSERT_EQ_STR(a->items[0].action, action);
    ASSERT_EQ_STR(a->items[0].target, target);
    ASSERT_EQ_STR(a->items[0].actor, "cli");
    ASSERT_EQ_STR(a->items[0].detail, "{\"by\":\"conformance\"}");
    ASSERT_EQ_INT(a->items[0].at, T0 + audit_clock);
}

static int strlist_same_set(const ks_strlist *l, const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    if (l->count != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ks_strlist_contains(l, want[i]))
            return 0;
    return 1;
}

#define ASSERT_SET(list, want)                                                       \
    do {                                                                             \
        if (!strlist_same_set((list), (want)))                                       \
            UNIT_FAIL("%s does not hold exactly %s (count %zu)", #list, #want,       \
                      (size_t)(list)->count);                                        \
    } while (0)

static int digest_eq(const ks_digest *a, const ks_digest *b)
{
    return memcmp(a->bytes, b->bytes, KS_DIGEST_LEN) == 0;
}

/* ---------------------------------------------------------- key lists */

typedef struct {
    int n;
    char ids[128][KS_KEY_ID_MAX + 1];
    int64_t seqs[128];
    int64_t next;
} idlist;

static ks_key_filter filter(const char *q, int status, int outdated, int64_t now, int limit)
{
    ks_key_filter f;
    memset(&f, 0, sizeof f);
    f.q = q;
    f.status = status;
    f.outdated = outdated;
    f.now = now;
    f.before_seq = 0;
    f.limit = limit;
    return f;
}

/* One page into out (appending). Checks newest-first order within the page. */
static int list_page(const char *account, const ks_key_filter *f, idlist *out)
{
    ks_key_page *p = calloc(1, sizeof *p);
    if (!p)
        UNIT_FAIL("out of memory in test");
    defer(p, page_heap_free);
    int rc = S->ops->key_list(S, account, f, p);
    if (rc != KS_OK)
        return rc;
    if (p->count > (size_t)f->limit)
        UNIT_FAIL("key_list returned %zu items for limit %d", p->count, f->limit);
    for (size_t i = 0; i < p->count; i++) {
        if (out->n >= 128)
            UNIT_FAIL("test harness: too many keys listed");
        if (strcmp(p->items[i].account, account) != 0)
            UNIT_FAIL("key_list(%s) returned %s of account %s", account, p->items[i].key_id,
                      p->items[i].account);
        if (i > 0 && !(p->items[i].seq < p->items[i - 1].seq))
            UNIT_FAIL("key_list not newest first at item %zu", i);
        if (f->before_seq > 0 && !(p->items[i].seq < f->before_seq))
            UNIT_FAIL("key_list returned seq %" PRId64 " not below before_seq %" PRId64,
                      p->items[i].seq, f->before_seq);
        snprintf(out->ids[out->n], KS_KEY_ID_MAX + 1, "%s", p->items[i].key_id);
        out->seqs[out->n] = p->items[i].seq;
        out->n++;
    }
    out->next = p->next_seq;
    return KS_OK;
}

/* Every page (following next_seq), with page-size and ordering checks. */
static void list_all(const char *account, ks_key_filter f, idlist *out)
{
    memset(out, 0, sizeof *out);
    f.before_seq = 0;
    for (int pages = 0;; pages++) {
        if (pages > 200)
            UNIT_FAIL("key_list paging does not end");
        int before_n = out->n;
        int rc = list_page(account, &f, out);
        if (rc != KS_OK)
            UNIT_FAIL("key_list(%s) = %d", account, rc);
        if (before_n > 0 && out->n > before_n && !(out->seqs[before_n] < out->seqs[before_n - 1]))
            UNIT_FAIL("page %d does not continue below the previous one", pages);
        if (out->next == 0)
            break;
        if (out->n - before_n != f.limit)
            UNIT_FAIL("a non-last page has %d items for limit %d", out->n - before_n, f.limit);
        f.before_seq = out->next;
    }
}

static int idlist_has(const idlist *l, const char *id)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->ids[i], id) == 0)
            return 1;
    return 0;
}

static void assert_unique(const idlist *l)
{
    for (int i = 0; i < l->n; i++)
        for (int j = i + 1; j < l->n; j++)
            if (strcmp(l->ids[i], l->ids[j]) == 0)
                UNIT_FAIL("key %s listed twice", l->ids[i]);
}

static int count_all(const char *account, const char *q, int status, int outdated, int64_t now)
{
    idlist *l = xcalloc(sizeof *l);
    list_all(account, filter(q, status, outdated, now, 500), l);
    assert_unique(l);
    return l->n;
}

/* ============================================================ accounts */

static void test_account_create(void)
{
    ASSERT_EQ_INT(make_account("acme", 6, 1), KS_OK);
    ks_settings st = {0, 0};
    ASSERT_EQ_INT(S->ops->settings_get(S, "acme", &st), KS_OK);
    ASSERT_EQ_INT(st.token_duration_months, 6);
    ASSERT_EQ_INT(st.enforce_duration, 1);

    /* Built-in roles present, flagged builtin, with their resources. */
    int rc;
    role_set *roles = get_roles("acme", &rc);
    ASSERT_EQ_INT(rc, KS_OK);
    ASSERT_EQ_INT(roles->n, 2);
    const ks_role *owner = find_role(roles, "Owner");
    const ks_role *admin = find_role(roles, "User Administrator - RESTRICTED");
    ASSERT(owner && admin);
    ASSERT(owner->builtin);
    ASSERT(admin->builtin);
    ASSERT_SET(&owner->resources, R("view-api-keys", "edit-api-keys", "renew-api-token",
                                    "edit-api-keys-settings", "edit-roles", "view-audit-log"));
    ASSERT_SET(&admin->resources,
               R("view-api-keys", "edit-api-keys", "renew-api-token", "edit-api-keys-settings"));

    /* The owner key reads back whole. */
    ks_key *k = must_get_key("acme", kid("acme", 0));
    ASSERT_EQ_STR(k->key_id, kid("acme", 0));
    ASSERT_EQ_STR(k->account, "acme");
    ASSERT_EQ_STR(k->name, "Owner key");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(k->created_at, T0);
    ASSERT(k->seq > 0);
    ASSERT_EQ_INT(k->slots.current.present, 1);
    ks_digest d0 = tok(kid("acme", 0), 0);
    ASSERT(digest_eq(&k->slots.current.hash, &d0));
    ASSERT_EQ_INT(k->slots.current.created_at, T0);
    ASSERT_EQ_INT(k->slots.current.last_used_at, 0);
    ASSERT_EQ_INT(k->slots.old.present, 0);
    ASSERT_SET(&k->roles, R("Owner"));

    /* Its audit entry. */
    audit_set *a = get_audit("acme", 100);
    ASSERT_EQ_INT(a->n, 1);
    ASSERT_EQ_STR(a->items[0].action, "account.create");
    ASSERT_EQ_STR(a->items[0].target, "acme");
    ASSERT_EQ_STR(a->items[0].actor, "cli");
    ASSERT_EQ_INT(a->items[0].at, T0 + audit_clock);
}

static void test_account_create_name_taken(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    size_t audits = audit_count("acme");
    ks_settings st = {6, 1};
    ks_key owner;
    key_build(&owner, "acme", 77, "Second owner", R("Owner"), T0 + DAY);
    ks_audit_entry a = aud("acme", "account.create", "acme");
    ASSERT_EQ_INT(S->ops->account_create(S, "acme", &st, &owner, &a), KS_ERR_NAME_TAKEN);
    /* Nothing of the second attempt was written. */
    int rc;
    ASSERT(get_key("acme", kid("acme", 77), &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ks_settings got;
    ASSERT_EQ_INT(S->ops->settings_get(S, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.token_duration_months, 3);
    ASSERT_EQ_INT(got.enforce_duration, 0);
    ASSERT_EQ_INT(audit_count("acme"), audits);
    ASSERT_EQ_INT(get_roles("acme", NULL)->n, 2);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 1);
}

/* After a failed account_create of `account`, nothing of it exists. */
static void assert_no_account(const char *account, const char *owner_id)
{
    ks_settings st;
    ASSERT_EQ_INT(S->ops->settings_get(S, account, &st), KS_ERR_NOT_FOUND);
    int rc;
    ASSERT(get_key(account, owner_id, &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    role_set *roles = get_roles(account, &rc);
    ASSERT(rc == KS_OK || rc == KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(roles->n, 0);
    ASSERT_EQ_INT(audit_count(account), 0);
}

static void test_account_create_rollback(void)
{
    /* 1. The owner key names a role that does not exist: INVALID, no trace. */
    ks_settings st = {3, 0};
    ks_key owner;
    key_build(&owner, "acme", 0, "Owner key", R("Owner", "No such role"), T0);
    ks_audit_entry a = aud("acme", "account.create", "acme");
    ASSERT_EQ_INT(S->ops->account_create(S, "acme", &st, &owner, &a), KS_ERR_INVALID);
    assert_no_account("acme", kid("acme", 0));

    /* 2. The owner key id is already taken (by a key of another account):
     *    the account row and its built-in roles written before must go too. */
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    key_build(&owner, "acme", 0, "Owner key", R("Owner"), T0);
    snprintf(owner.key_id, sizeof owner.key_id, "%s", kid("beta", 0));
    snprintf(owner.account, sizeof owner.account, "acme");
    a = aud("acme", "account.create", "acme");
    ASSERT(S->ops->account_create(S, "acme", &st, &owner, &a) != KS_OK);
    assert_no_account("acme", kid("acme", 0));
    /* beta's key is untouched. */
    ks_key *b = must_get_key("beta", kid("beta", 0));
    ASSERT_EQ_STR(b->name, "Owner key");

    /* 3. The name is free again: a correct create works, with 2 roles only. */
    ASSERT_EQ_INT(make_account("acme", 6, 0), KS_OK);
    ASSERT_EQ_INT(get_roles("acme", NULL)->n, 2);
    ASSERT_EQ_INT(audit_count("acme"), 1);
    ASSERT_EQ_INT(S->ops->settings_get(S, "acme", &st), KS_OK);
    ASSERT_EQ_INT(st.token_duration_months, 6);
}

static void test_accounts_are_isolated(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 6, 1), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "acme one", R("Owner"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "beta one", R0, T0), KS_OK);
    int rc;
    ASSERT(get_key("beta", kid("acme", 1), &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT(get_key("acme", kid("beta", 0), &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 2);
    ASSERT_EQ_INT(count_all("beta", NULL, -1, -1, T0), 2);
    ks_settings st;
    ASSERT_EQ_INT(S->ops->settings_get(S, "acme", &st), KS_OK);
    ASSERT_EQ_INT(st.token_duration_months, 3);
    ASSERT_EQ_INT(st.enforce_duration, 0);
    ASSERT_EQ_INT(S->ops->settings_get(S, "beta", &st), KS_OK);
    ASSERT_EQ_INT(st.token_duration_months, 6);
    ASSERT_EQ_INT(st.enforce_duration, 1);
    ASSERT_EQ_INT(audit_count("acme"), 2);
    ASSERT_EQ_INT(audit_count("beta"), 2);
}

/* ============================================================ settings */

static void test_settings_get_put(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    size_t before = audit_count("acme");
    ks_settings want = {6, 1};
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(S->ops->settings_put(S, "acme", &want, &a), KS_OK);
    expect_audit("acme", before, "settings.update", "acme");
    ks_settings got = {0, 0};
    ASSERT_EQ_INT(S->ops->settings_get(S, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.token_duration_months, 6);
    ASSERT_EQ_INT(got.enforce_duration, 1);
    /* The other account is untouched. */
    ASSERT_EQ_INT(S->ops->settings_get(S, "beta", &got), KS_OK);
    ASSERT_EQ_INT(got.token_duration_months, 3);
    ASSERT_EQ_INT(got.enforce_duration, 0);
    /* And back. */
    want.token_duration_months = 3;
    want.enforce_duration = 0;
    a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(S->ops->settings_put(S, "acme", &want, &a), KS_OK);
    ASSERT_EQ_INT(S->ops->settings_get(S, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.token_duration_months, 3);
    ASSERT_EQ_INT(got.enforce_duration, 0);
    ASSERT_EQ_INT(audit_count("acme"), before + 2);
}

static void test_settings_unknown_account(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_settings got = {0, 0};
    ASSERT_EQ_INT(S->ops->settings_get(S, "ghost", &got), KS_ERR_NOT_FOUND);
    ks_settings want = {6, 1};
    ks_audit_entry a = aud("ghost", "settings.update", "ghost");
    ASSERT_EQ_INT(S->ops->settings_put(S, "ghost", &want, &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("ghost"), 0); /* a failed write writes no audit */
    ASSERT_EQ_INT(S->ops->settings_get(S, "ghost", &got), KS_ERR_NOT_FOUND);
}

/* ================================================================ keys */

static void test_key_insert_get(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_role reader = {(char *)"Reader", slist(R("orders.read")), 0};
    ks_audit_entry a = aud("acme", "role.create", "Reader");
    ASSERT_EQ_INT(S->ops->role_create(S, "acme", &reader, &a), KS_OK);

    size_t before = audit_count("acme");
    ASSERT_EQ_INT(put_key("acme", 1, "ERP sync", R("Reader", "User Administrator - RESTRICTED"),
                          T0 + 5), KS_OK);
    expect_audit("acme", before, "key.create", kid("acme", 1));
    ks_key *k = must_get_key("acme", kid("acme", 1));
    ASSERT_EQ_STR(k->key_id, kid("acme", 1));
    ASSERT_EQ_STR(k->account, "acme");
    ASSERT_EQ_STR(k->name, "ERP sync");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(k->created_at, T0 + 5);
    ks_digest d = tok(kid("acme", 1), 0);
    ASSERT_EQ_INT(k->slots.current.present, 1);
    ASSERT(digest_eq(&k->slots.current.hash, &d));
    ASSERT_EQ_INT(k->slots.current.created_at, T0 + 5);
    ASSERT_EQ_INT(k->slots.old.present, 0);
    ASSERT_SET(&k->roles, R("Reader", "User Administrator - RESTRICTED"));

    /* seq grows with every insert; owner key is older. */
    ks_key *owner = must_get_key("acme", kid("acme", 0));
    ASSERT(k->seq > owner->seq);

    /* An inactive key with no roles and a name in UTF-8. */
    ks_key k2;
    key_build(&k2, "acme", 2, "Caf\xc3\xa9 \xe2\x80\x94 sync", R0, T0 + 6);
    k2.active = KS_KEY_INACTIVE;
    a = aud("acme", "key.create", k2.key_id);
    ASSERT_EQ_INT(S->ops->key_insert(S, &k2, &a), KS_OK);
    ks_key *g2 = must_get_key("acme", kid("acme", 2));
    ASSERT_EQ_INT(g2->active, KS_KEY_INACTIVE);
    ASSERT_EQ_INT(g2->roles.count, 0);
    ASSERT_EQ_STR(g2->name, "Caf\xc3\xa9 \xe2\x80\x94 sync");
    ASSERT(g2->seq > k->seq);

    /* A key inserted with both slots (e.g. a copy) keeps both. */
    ks_key k3;
    key_build(&k3, "acme", 3, "two tokens", R("Owner"), T0);
    ks_digest nd = tok(kid("acme", 3), 1);
    ASSERT_EQ_INT(ks_slots_apply(&k3.slots, KS_SLOT_OP_RENEW_LATER, &nd, T0 + 9), KS_OK);
    a = aud("acme", "key.create", k3.key_id);
    ASSERT_EQ_INT(S->ops->key_insert(S, &k3, &a), KS_OK);
    ks_key *g3 = must_get_key("acme", kid("acme", 3));
    ks_digest od = tok(kid("acme", 3), 0);
    ASSERT(digest_eq(&g3->slots.current.hash, &nd));
    ASSERT_EQ_INT(g3->slots.current.created_at, T0 + 9);
    ASSERT_EQ_INT(g3->slots.old.present, 1);
    ASSERT(digest_eq(&g3->slots.old.hash, &od));
    ASSERT_EQ_INT(g3->slots.old.created_at, T0);
}

static void test_key_get_not_found(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "one", R0, T0), KS_OK);
    int rc = 0;
    ASSERT(get_key("beta", kid("acme", 1), &rc) == NULL); /* other account */
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT(get_key("acme", kid("acme", 999), &rc) == NULL); /* unknown id */
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT(get_key("ghost", kid("ghost", 1), &rc) == NULL); /* unknown account */
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT(get_key("acme", "kst-acme-notakeyid", &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
}

static void test_key_insert_invalid_role(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    /* "Reader" exists in beta only: it is not a role of acme. */
    ks_role reader = {(char *)"Reader", slist(R("orders.read")), 0};
    ks_audit_entry a = aud("beta", "role.create", "Reader");
    ASSERT_EQ_INT(S->ops->role_create(S, "beta", &reader, &a), KS_OK);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(put_key("acme", 1, "bad", R("No such role"), T0), KS_ERR_INVALID);
    ASSERT_EQ_INT(put_key("acme", 2, "bad", R("Owner", "No such role"), T0), KS_ERR_INVALID);
    ASSERT_EQ_INT(put_key("acme", 3, "bad", R("Reader"), T0), KS_ERR_INVALID);
    ASSERT_EQ_INT(put_key("acme", 4, "bad", R("owner"), T0), KS_ERR_INVALID); /* names are exact */
    int rc;
    for (int n = 1; n <= 4; n++) {
        ASSERT(get_key("acme", kid("acme", n), &rc) == NULL);
        ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    }
    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 1);
    /* The same id can be inserted once the roles are right. */
    ASSERT_EQ_INT(put_key("acme", 1, "good", R("Owner"), T0), KS_OK);
    ASSERT_EQ_STR(must_get_key("acme", kid("acme", 1))->name, "good");
}

static void test_key_insert_unknown_account(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    /* store.h: KS_ERR_NOT_FOUND for no such account. */
    int rc = put_key("ghost", 1, "orphan", R0, T0);
    int rc_get;
    ks_key *k = get_key("ghost", kid("ghost", 1), &rc_get);
    size_t audits = audit_count("ghost");
    ASSERT(k == NULL);
    ASSERT_EQ_INT(audits, 0);
    if (rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("key_insert into unknown account \"ghost\" (no roles) = %d, want "
                  "KS_ERR_NOT_FOUND (%d)", rc, KS_ERR_NOT_FOUND);
}

static void test_key_insert_duplicate_id(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "first", R("Owner"), T0), KS_OK);
    size_t before = audit_count("acme");
    ASSERT(put_key("acme", 1, "second", R0, T0 + 1) != KS_OK);
    ks_key *k = must_get_key("acme", kid("acme", 1));
    ASSERT_EQ_STR(k->name, "first");
    ASSERT_SET(&k->roles, R("Owner"));
    ASSERT_EQ_INT(k->created_at, T0);
    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 2);
}

static void test_key_list_order_and_paging(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    for (int i = 1; i <= 11; i++) {
        char name[32];
        snprintf(name, sizeof name, "key %02d", i);
        ASSERT_EQ_INT(put_key("acme", i, name, R0, T0 + i), KS_OK);
        if (i % 3 == 0)
            ASSERT_EQ_INT(put_key("beta", i, name, R0, T0 + i), KS_OK);
    }
    /* All in one page: newest first, the owner key last, nothing of beta. */
    idlist *l = xcalloc(sizeof *l);
    ks_key_filter f = filter(NULL, -1, -1, T0, 500);
    ASSERT_EQ_INT(list_page("acme", &f, l), KS_OK);
    ASSERT_EQ_INT(l->n, 12);
    ASSERT_EQ_INT(l->next, 0);
    for (int i = 0; i < 11; i++)
        ASSERT_EQ_STR(l->ids[i], kid("acme", 11 - i));
    ASSERT_EQ_STR(l->ids[11], kid("acme", 0));

    /* Every limit: paging returns every key exactly once, in the same order. */
    for (int limit = 1; limit <= 13; limit++) {
        idlist *p = xcalloc(sizeof *p);
        list_all("acme", filter(NULL, -1, -1, T0, limit), p);
        if (p->n != 12)
            UNIT_FAIL("limit %d: %d keys over all pages, want 12", limit, p->n);
        for (int i = 0; i <= 11; i++)
            if (!idlist_has(p, kid("acme", i)))
                UNIT_FAIL("limit %d: key %d missing from the pages", limit, i);
        for (int i = 0; i < 12; i++)
            ASSERT_EQ_STR(p->ids[i], l->ids[i]);
    }

    /* A page of exactly the remaining keys is the last one (next_seq 0). */
    idlist *first = xcalloc(sizeof *first);
    f = filter(NULL, -1, -1, T0, 6);
    ASSERT_EQ_INT(list_page("acme", &f, first), KS_OK);
    ASSERT_EQ_INT(first->n, 6);
    ASSERT(first->next > 0);
    idlist *second = xcalloc(sizeof *second);
    f.before_seq = first->next;
    ASSERT_EQ_INT(list_page("acme", &f, second), KS_OK);
    ASSERT_EQ_INT(second->n, 6);
    ASSERT_EQ_INT(second->next, 0);

    /* before_seq in the middle: only older keys. */
    idlist *older = xcalloc(sizeof *older);
    f = filter(NULL, -1, -1, T0, 500);
    f.before_seq = l->seqs[3]; /* seq of key 8 */
    ASSERT_EQ_INT(list_page("acme", &f, older), KS_OK);
    ASSERT_EQ_INT(older->n, 8);
    ASSERT_EQ_STR(older->ids[0], kid("acme", 7));

    ASSERT_EQ_INT(count_all("beta", NULL, -1, -1, T0), 4);
}

static void test_key_list_q(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "ERP sync", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "Shop Frontend", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 3, "erp backup", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 4, "100% done", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "ERP beta", R0, T0), KS_OK);

    ASSERT_EQ_INT(count_all("acme", "erp", -1, -1, T0), 2);
    ASSERT_EQ_INT(count_all("acme", "ERP", -1, -1, T0), 2);
    ASSERT_EQ_INT(count_all("acme", "eRp S", -1, -1, T0), 1);
    ASSERT_EQ_INT(count_all("acme", "FRONT", -1, -1, T0), 1);
    ASSERT_EQ_INT(count_all("acme", "ontend", -1, -1, T0), 1);
    ASSERT_EQ_INT(count_all("acme", "nomatch", -1, -1, T0), 0);
    ASSERT_EQ_INT(count_all("acme", "", -1, -1, T0), 5); /* empty = any */
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 5);
    /* Wildcard characters are plain text. */
    ASSERT_EQ_INT(count_all("acme", "%", -1, -1, T0), 1);
    ASSERT_EQ_INT(count_all("acme", "_", -1, -1, T0), 0);
    ASSERT_EQ_INT(count_all("acme", "0% d", -1, -1, T0), 1);
    /* Key ids match too, case-insensitively. */
    ASSERT_EQ_INT(count_all("acme", "kst-acme-", -1, -1, T0), 5);
    ASSERT_EQ_INT(count_all("acme", "KST-ACME-", -1, -1, T0), 5);
    char upper[KS_KEY_ID_MAX + 1];
    snprintf(upper, sizeof upper, "%s", kid("acme", 2));
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    idlist *l = xcalloc(sizeof *l);
    list_all("acme", filter(upper, -1, -1, T0, 50), l);
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 2));
    /* The last 10 chars alone (the random part). */
    const char *id3 = kid("acme", 3);
    list_all("acme", filter(id3 + strlen(id3) - 10, -1, -1, T0, 50), l);
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 3));
    /* q with paging: every match once. */
    list_all("acme", filter("e", -1, -1, T0, 1), l);
    assert_unique(l);
    ASSERT_EQ_INT(l->n, 5); /* every key id has the "e" of "acme" */
}

static void set_status(const char *account, const char *key_id, int status)
{
    ks_key_patch p = {NULL, NULL, status};
    ks_audit_entry a = aud(account, status ? "key.activate" : "key.deactivate", key_id);
    ASSERT_EQ_INT(S->ops->key_update(S, account, key_id, &p, &a), KS_OK);
}

static void test_key_list_status(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    for (int i = 1; i <= 6; i++)
        ASSERT_EQ_INT(put_key("acme", i, i % 2 ? "odd" : "even", R0, T0 + i), KS_OK);
    set_status("acme", kid("acme", 1), KS_KEY_INACTIVE);
    set_status("acme", kid("acme", 2), KS_KEY_INACTIVE);
    set_status("acme", kid("acme", 3), KS_KEY_INACTIVE);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_ACTIVE, -1, T0), 4);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_INACTIVE, -1, T0), 3);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 7);
    ASSERT_EQ_INT(count_all("acme", "odd", KS_KEY_INACTIVE, -1, T0), 2);
    ASSERT_EQ_INT(count_all("acme", "even", KS_KEY_ACTIVE, -1, T0), 2);
    idlist *l = xcalloc(sizeof *l);
    list_all("acme", filter(NULL, KS_KEY_INACTIVE, -1, T0, 2), l);
    ASSERT_EQ_INT(l->n, 3);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 3));
    ASSERT_EQ_STR(l->ids[1], kid("acme", 2));
    ASSERT_EQ_STR(l->ids[2], kid("acme", 1));
    set_status("acme", kid("acme", 2), KS_KEY_ACTIVE);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_INACTIVE, -1, T0), 2);
}

static void test_key_list_outdated(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    /* owner created at T0; key 1 at T0; key 2 two months later. */
    ASSERT_EQ_INT(put_key("acme", 1, "old one", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "newer", R0, T0 + 60 * DAY), KS_OK);
    const int64_t exp1 = ks_token_expires_at(T0, 3); /* 2025-04-15T12:00:00Z */
    ASSERT_EQ_INT(exp1, 1744718400);

    /* now far in the past: nothing outdated. */
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, T0 - 400 * DAY), 0);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 0, T0 - 400 * DAY), 3);
    /* Exactly at expiry: not yet outdated; one second later: outdated. */
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp1), 0);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 0, exp1), 3);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp1 + 1), 2);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 0, exp1 + 1), 1);
    idlist *l = xcalloc(sizeof *l);
    list_all("acme", filter(NULL, -1, 0, exp1 + 1, 50), l);
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 2));
    /* now far in the future: everything outdated. */
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, T0 + 3650 * DAY), 3);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 0, T0 + 3650 * DAY), 0);
    /* Combined with q and status. */
    ASSERT_EQ_INT(count_all("acme", "old", -1, 1, exp1 + 1), 1);
    set_status("acme", kid("acme", 1), KS_KEY_INACTIVE);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_ACTIVE, 1, exp1 + 1), 1);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_INACTIVE, 1, exp1 + 1), 1);

    /* The account's duration decides: with 6 months nothing is outdated yet. */
    ks_settings six = {6, 0};
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(S->ops->settings_put(S, "acme", &six, &a), KS_OK);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp1 + 1), 0);
    const int64_t exp6 = ks_token_expires_at(T0, 6);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp6), 0);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp6 + 1), 2);

    /* The current token decides: renewing makes the key up to date. */
    ks_digest nd = tok(kid("acme", 1), 1);
    a = aud("acme", "key.renew", kid("acme", 1));
    ASSERT_EQ_INT(S->ops->key_apply_slots(S, "acme", kid("acme", 1), KS_SLOT_OP_RENEW_LATER, &nd,
                                          exp6, &a), KS_OK);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp6 + 1), 1);
    list_all("acme", filter(NULL, -1, 1, exp6 + 1, 50), l);
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 0));
}

static void test_key_update(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_role reader = {(char *)"Reader", slist(R("orders.read")), 0};
    ks_audit_entry a = aud("acme", "role.create", "Reader");
    ASSERT_EQ_INT(S->ops->role_create(S, "acme", &reader, &a), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "ERP sync", R("Owner"), T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_key *orig = must_get_key("acme", id);

    /* Name only. */
    size_t before = audit_count("acme");
    ks_key_patch p = {"ERP sync (prod)", NULL, -1};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(S->ops->key_update(S, "acme", id, &p, &a), KS_OK);
    expect_audit("acme", before, "key.update", id);
    ks_key *k = must_get_key("acme", id);
    ASSERT_EQ_STR(k->name, "ERP sync (prod)");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_SET(&k->roles, R("Owner"));
    ASSERT_EQ_INT(k->seq, orig->seq);
    ASSERT_EQ_INT(k->created_at, orig->created_at);
    ASSERT(digest_eq(&k->slots.current.hash, &orig->slots.current.hash));

    /* Status only. */
    p = (ks_key_patch){NULL, NULL, KS_KEY_INACTIVE};
    a = aud("acme", "key.deactivate", id);
    ASSERT_EQ_INT(S->ops->key_update(S, "acme", id, &p, &a), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_EQ_INT(k->active, KS_KEY_INACTIVE);
    ASSERT_EQ_STR(k->name, "ERP sync (prod)");
    ASSERT_SET(&k->roles, R("Owner"));
    ASSERT(digest_eq(&k->slots.current.hash, &orig->slots.current.hash)); /* tokens kept */

    /* Roles only (replaced, not added). */
    ks_strlist roles = slist(R("Reader", "User Administrator - RESTRICTED"));
    p = (ks_key_patch){NULL, &roles, -1};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(S->ops->key_update(S, "acme", id, &p, &a), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_SET(&k->roles, R("Reader", "User Administrator - RESTRICTED"));
    ASSERT_EQ_INT(k->active, KS_KEY_INACTIVE);

    /* All at once; then an empty role list clears the roles. */
    roles = slist(R("Owner"));
    p = (ks_key_patch){"renamed", &roles, KS_KEY_ACTIVE};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(S->ops->key_update(S, "acme", id, &p, &a), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_EQ_STR(k->name, "renamed");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_SET(&k->roles, R("Owner"));
    roles = slist(R0);
    p = (ks_key_patch){NULL, &roles, -1};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(S->ops->key_update(S, "acme", id, &p, &a), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", id)->roles.count, 0);
    ASSERT_EQ_INT(audit_count("acme"), before + 5);

    /* The owner key is untouched by all this. */
    ks_key *owner = must_get_key("acme", kid("acme", 0));
    ASSERT_EQ_STR(owner->name, "Owner key");
    ASSERT_SET(&owner->roles, R("Owner"));
}

static void test_key_update_errors_change_nothing(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "ERP sync", R("Owner"), T0), KS_OK);
    const char *id = kid("acme", 1);
    size_t before = audit_count("acme");
    size_t before_beta = audit_count("beta");

    /* An invalid role among valid ones, with a name and status change in the
     * same patch: nothing of the patch is applied. */
    ks_strlist roles = slist(R("User Administrator - RESTRICTED", "No such role"));
    ks_key_patch p = {"changed", &roles, KS_KEY_INACTIVE};
    ks_audit_entry a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(S->ops->key_update(S, "acme", id, &p, &a), KS_ERR_INVALID);
    ks_key *k = must_get_key("acme", id);
    ASSERT_EQ_STR(k->name, "ERP sync");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_SET(&k->roles, R("Owner"));
    ASSERT_EQ_INT(audit_count("acme"), before);

    /* Unknown key, and a key of another account. */
    p = (ks_key_patch){"x", NULL, -1};
    a = aud("acme", "key.update", "nope");
    ASSERT_EQ_INT(S->ops->key_update(S, "acme", kid("acme", 99), &p, &a), KS_ERR_NOT_FOUND);
    a = aud("beta", "key.update", id);
    ASSERT_EQ_INT(S->ops->key_update(S, "beta", id, &p, &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_STR(must_get_key("acme", id)->name, "ERP sync");
    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(audit_count("beta"), before_beta);
}

static void test_key_delete(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ks_role reader = {(char *)"Reader", slist(R("orders.read")), 0};
    ks_audit_entry a = aud("acme", "role.create", "Reader");
    ASSERT_EQ_INT(S->ops->role_create(S, "acme", &reader, &a), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "to delete", R("Reader"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "stays", R0, T0), KS_OK);
    const char *id = kid("acme", 1);

    /* Not from another account. */
    size_t before_beta = audit_count("beta");
    a = aud("beta", "key.delete", id);
    ASSERT_EQ_INT(S->ops->key_delete(S, "beta", id, &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("beta"), before_beta);
    must_get_key("acme", id);

    size_t before = audit_count("acme");
    a = aud("acme", "key.delete", id);
    ASSERT_EQ_INT(S->ops->key_delete(S, "acme", id, &a), KS_OK);
    expect_audit("acme", before, "key.delete", id);
    int rc;
    ASSERT(get_key("acme", id, &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 2);
    must_get_key("acme", kid("acme", 2));

    /* Again: not found, no audit. */
    a = aud("acme", "key.delete", id);
    ASSERT_EQ_INT(S->ops->key_delete(S, "acme", id, &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("acme"), before + 1);

    /* Its grants are gone: the role it held can be deleted now. */
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(S->ops->role_delete(S, "acme", "Reader", &a), KS_OK);

    /* Its token no longer takes last-used updates (and nothing breaks). */
    ks_last_used lu;
    memset(&lu, 0, sizeof lu);
    snprintf(lu.key_id, sizeof lu.key_id, "%s", id);
    lu.hash = tok(id, 0);
    lu.last_used_at = T0 + 5;
    ASSERT_EQ_INT(S->ops->last_used_flush(S, &lu, 1), KS_OK);
    ASSERT(get_key("acme", id, &rc) == NULL);

    /* The id can be used again for a new key. */
    ASSERT_EQ_INT(put_key("acme", 1, "reborn", R0, T0 + 10), KS_OK);
    ks_key *k = must_get_key("acme", id);
    ASSERT_EQ_STR(k->name, "reborn");
    ASSERT_EQ_INT(k->roles.count, 0);
    ASSERT_EQ_INT(k->slots.current.last_used_at, 0);
}

/* ============================================================ token slots */

static int apply(const char *account, const char *id, ks_slot_op op, const ks_digest *h,
                 int64_t now)
{
    static const char *const NAMES[] = {"key.renew", "key.renew", "key.delete_old_token",
                                        "key.undo_renewal"};
    ks_audit_entry a = aud(account, NAMES[op], id);
    return S->ops->key_apply_slots(S, account, id, op, h, now, &a);
}

/* The key's slots are (current = cur_gen made at cur_at, old = old_gen at old_at or none). */
static void expect_slots(const char *account, const char *id, int cur_gen, int64_t cur_at,
                         int old_gen, int64_t old_at)
{
    ks_key *k = must_get_key(account, id);
    ks_digest c = tok(id, cur_gen);
    ASSERT_EQ_INT(k->slots.current.present, 1);
    if (!digest_eq(&k->slots.current.hash, &c))
        UNIT_FAIL("current token of %s is not generation %d", id, cur_gen);
    ASSERT_EQ_INT(k->slots.current.created_at, cur_at);
    if (old_gen < 0) {
        ASSERT_EQ_INT(k->slots.old.present, 0);
    } else {
        ks_digest o = tok(id, old_gen);
        ASSERT_EQ_INT(k->slots.old.present, 1);
        if (!digest_eq(&k->slots.old.hash, &o))
            UNIT_FAIL("old token of %s is not generation %d", id, old_gen);
        ASSERT_EQ_INT(k->slots.old.created_at, old_at);
    }
}

static void test_slots_renew_later_then_undo(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_digest g1 = tok(id, 1), g2 = tok(id, 2);
    size_t before = audit_count("acme");

    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g1, T0 + 100), KS_OK);
    expect_audit("acme", before, "key.renew", id);
    expect_slots("acme", id, 1, T0 + 100, 0, T0);

    /* 409s leave everything as it was, with no audit. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g2, T0 + 200), KS_ERR_OLD_TOKEN_EXISTS);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g2, T0 + 200), KS_ERR_OLD_TOKEN_EXISTS);
    expect_slots("acme", id, 1, T0 + 100, 0, T0);
    ASSERT_EQ_INT(audit_count("acme"), before + 1);

    /* Undo: the previous current is back with its created_at; no old. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 300), KS_OK);
    expect_audit("acme", before + 1, "key.undo_renewal", id);
    expect_slots("acme", id, 0, T0, -1, 0);

    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 400), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_DELETE_OLD, NULL, T0 + 400), KS_ERR_NO_OLD_TOKEN);
    expect_slots("acme", id, 0, T0, -1, 0);
    ASSERT_EQ_INT(audit_count("acme"), before + 2);
}

static void test_slots_renew_later_then_delete_old(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_digest g1 = tok(id, 1), g2 = tok(id, 2);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g1, T0 + 100), KS_OK);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_DELETE_OLD, NULL, T0 + 200), KS_OK);
    expect_audit("acme", before, "key.delete_old_token", id);
    expect_slots("acme", id, 1, T0 + 100, -1, 0);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_DELETE_OLD, NULL, T0 + 300), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 300), KS_ERR_NO_OLD_TOKEN);
    expect_slots("acme", id, 1, T0 + 100, -1, 0);
    ASSERT_EQ_INT(audit_count("acme"), before + 1);
    /* A new renewal can start. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g2, T0 + 400), KS_OK);
    expect_slots("acme", id, 2, T0 + 400, 1, T0 + 100);
}

static void test_slots_renew_now(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_digest g1 = tok(id, 1), g2 = tok(id, 2), g3 = tok(id, 3);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g1, T0 + 100), KS_OK);
    expect_audit("acme", before, "key.renew", id);
    expect_slots("acme", id, 1, T0 + 100, -1, 0);
    /* No old token: delete old / undo are refused. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 150), KS_ERR_NO_OLD_TOKEN);
    expect_slots("acme", id, 1, T0 + 100, -1, 0);
    /* Renew now again is fine; then with an old token it is refused. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g2, T0 + 200), KS_OK);
    expect_slots("acme", id, 2, T0 + 200, -1, 0);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g3, T0 + 300), KS_OK);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g1, T0 + 400), KS_ERR_OLD_TOKEN_EXISTS);
    expect_slots("acme", id, 3, T0 + 300, 2, T0 + 200);
    ASSERT_EQ_INT(audit_count("acme"), before + 3);
}

static void test_slots_not_found(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_digest g1 = tok(id, 1);
    size_t ba = audit_count("acme"), bb = audit_count("beta");
    for (int op = KS_SLOT_OP_RENEW_LATER; op <= KS_SLOT_OP_UNDO_RENEWAL; op++) {
        ASSERT_EQ_INT(apply("beta", id, (ks_slot_op)op, &g1, T0 + 1), KS_ERR_NOT_FOUND);
        ASSERT_EQ_INT(apply("acme", kid("acme", 42), (ks_slot_op)op, &g1, T0 + 1), KS_ERR_NOT_FOUND);
        ASSERT_EQ_INT(apply("ghost", kid("ghost", 1), (ks_slot_op)op, &g1, T0 + 1), KS_ERR_NOT_FOUND);
    }
    expect_slots("acme", id, 0, T0, -1, 0);
    ASSERT_EQ_INT(audit_count("acme"), ba);
    ASSERT_EQ_INT(audit_count("beta"), bb);
}

static void test_slots_keep_last_used(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_last_used lu;
    memset(&lu, 0, sizeof lu);
    snprintf(lu.key_id, sizeof lu.key_id, "%s", id);
    lu.hash = tok(id, 0);
    lu.last_used_at = T0 + 50;
    ASSERT_EQ_INT(S->ops->last_used_flush(S, &lu, 1), KS_OK);
    ks_digest g1 = tok(id, 1);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g1, T0 + 100), KS_OK);
    ks_key *k = must_get_key("acme", id);
    /* The old token is the same token: it keeps its last use; the new one has none. */
    ASSERT_EQ_INT(k->slots.old.last_used_at, T0 + 50);
    ASSERT_EQ_INT(k->slots.current.last_used_at, 0);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 200), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_EQ_INT(k->slots.current.last_used_at, T0 + 50);
}

/* ================================================================ roles */

static int create_role(const char *account, const char *name, const char *const *resources)
{
    ks_role r = {(char *)name, slist(resources), 0};
    ks_audit_entry a = aud(account, "role.create", name);
    return S->ops->role_create(S, account, &r, &a);
}

static void test_role_create_list(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read", "orders.list")), KS_OK);
    expect_audit("acme", before, "role.create", "Reader");
    ASSERT_EQ_INT(create_role("acme", "Nothing", R0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Caf\xc3\xa9 \xe2\x80\x94 ops", R("ops:*")), KS_OK);
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 5);
    const ks_role *r = find_role(roles, "Reader");
    ASSERT(r != NULL);
    ASSERT_EQ_INT(r->builtin, 0);
    ASSERT_SET(&r->resources, R("orders.read", "orders.list"));
    r = find_role(roles, "Nothing");
    ASSERT(r != NULL);
    ASSERT_EQ_INT(r->resources.count, 0);
    r = find_role(roles, "Caf\xc3\xa9 \xe2\x80\x94 ops");
    ASSERT(r != NULL);
    ASSERT_SET(&r->resources, R("ops:*"));
    ASSERT(find_role(roles, "Owner")->builtin);
    /* The same name in another account is another role. */
    ASSERT_EQ_INT(get_roles("beta", NULL)->n, 2);
    ASSERT_EQ_INT(create_role("beta", "Reader", R("stock.read")), KS_OK);
    ASSERT_SET(&find_role(get_roles("beta", NULL), "Reader")->resources, R("stock.read"));
    ASSERT_SET(&find_role(get_roles("acme", NULL), "Reader")->resources,
               R("orders.read", "orders.list"));
}

static void test_role_create_name_taken(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(create_role("acme", "Reader", R("other.thing")), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(create_role("acme", "Owner", R("x")), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(create_role("acme", "User Administrator - RESTRICTED", R0), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(audit_count("acme"), before);
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 3);
    ASSERT_SET(&find_role(roles, "Reader")->resources, R("orders.read"));
    ASSERT_EQ_INT(find_role(roles, "Owner")->resources.count, 6);
    ASSERT_EQ_INT(find_role(roles, "User Administrator - RESTRICTED")->resources.count, 4);
    ASSERT(!ks_strlist_contains(&find_role(roles, "Owner")->resources, "x"));
}

static void test_role_create_unknown_account(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    /* store.h: KS_ERR_NOT_FOUND for no such account. */
    int rc = create_role("ghost", "Reader", R("orders.read"));
    size_t audits = audit_count("ghost");
    int rc_list;
    role_set *roles = get_roles("ghost", &rc_list);
    ASSERT_EQ_INT(audits, 0);
    ASSERT_EQ_INT(roles->n, 0);
    if (rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("role_create in unknown account \"ghost\" = %d, want KS_ERR_NOT_FOUND (%d)", rc,
                  KS_ERR_NOT_FOUND);
}

static int update_role(const char *account, const char *name, const char *new_name,
                       const char *const *resources)
{
    ks_strlist res = {0};
    if (resources)
        res = slist(resources);
    ks_audit_entry a = aud(account, "role.update", name);
    return S->ops->role_update(S, account, name, new_name, resources ? &res : NULL, &a);
}

static void test_role_update(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(create_role("beta", "Reader", R("stock.read")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "holder", R("Reader", "Owner"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "beta holder", R("Reader"), T0), KS_OK);

    /* Rename: the key holds the role under its new name. */
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(update_role("acme", "Reader", "Viewer", NULL), KS_OK);
    expect_audit("acme", before, "role.update", "Reader");
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 3);
    ASSERT(find_role(roles, "Reader") == NULL);
    ASSERT(find_role(roles, "Viewer") != NULL);
    ASSERT_SET(&find_role(roles, "Viewer")->resources, R("orders.read"));
    ASSERT_EQ_INT(find_role(roles, "Viewer")->builtin, 0);
    ASSERT_SET(&must_get_key("acme", kid("acme", 1))->roles, R("Viewer", "Owner"));
    /* The other account's role and key are untouched. */
    ASSERT_SET(&find_role(get_roles("beta", NULL), "Reader")->resources, R("stock.read"));
    ASSERT_SET(&must_get_key("beta", kid("beta", 1))->roles, R("Reader"));
    /* The old name is free, and naming it in a key is invalid. */
    ASSERT_EQ_INT(put_key("acme", 2, "x", R("Reader"), T0), KS_ERR_INVALID);

    /* Resources only: replaced, not merged. */
    ASSERT_EQ_INT(update_role("acme", "Viewer", NULL, R("orders.list", "stock.read")), KS_OK);
    roles = get_roles("acme", NULL);
    ASSERT_SET(&find_role(roles, "Viewer")->resources, R("orders.list", "stock.read"));
    /* Both at once; an empty resource list empties the role. */
    ASSERT_EQ_INT(update_role("acme", "Viewer", "Auditor", R("audit.read")), KS_OK);
    roles = get_roles("acme", NULL);
    ASSERT(find_role(roles, "Viewer") == NULL);
    ASSERT_SET(&find_role(roles, "Auditor")->resources, R("audit.read"));
    ASSERT_EQ_INT(update_role("acme", "Auditor", NULL, R0), KS_OK);
    ASSERT_EQ_INT(find_role(get_roles("acme", NULL), "Auditor")->resources.count, 0);
    /* Renaming to its own name is no conflict. */
    ASSERT_EQ_INT(update_role("acme", "Auditor", "Auditor", R("a.b")), KS_OK);
    ASSERT_SET(&find_role(get_roles("acme", NULL), "Auditor")->resources, R("a.b"));
    ASSERT_SET(&must_get_key("acme", kid("acme", 1))->roles, R("Auditor", "Owner"));
    ASSERT_EQ_INT(audit_count("acme"), before + 5);
}

static void test_role_update_errors_change_nothing(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Writer", R("orders.write")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "holder", R("Reader"), T0), KS_OK);
    size_t before = audit_count("acme");

    /* Taken names, including built-in ones; resources of the same call not applied. */
    ASSERT_EQ_INT(update_role("acme", "Reader", "Writer", R("changed")), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(update_role("acme", "Reader", "Owner", R("changed")), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(update_role("acme", "Reader", "User Administrator - RESTRICTED", NULL),
                  KS_ERR_NAME_TAKEN);
    /* Built-in roles cannot be edited. */
    ASSERT_EQ_INT(update_role("acme", "Owner", "Boss", NULL), KS_ERR_BUILTIN_ROLE);
    ASSERT_EQ_INT(update_role("acme", "Owner", NULL, R("orders.read")), KS_ERR_BUILTIN_ROLE);
    ASSERT_EQ_INT(update_role("acme", "User Administrator - RESTRICTED", NULL, R0),
                  KS_ERR_BUILTIN_ROLE);
    /* Unknown role, unknown account. */
    ASSERT_EQ_INT(update_role("acme", "Nope", "Other", NULL), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(update_role("acme", "reader", NULL, R("x")), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(update_role("ghost", "Reader", NULL, R("x")), KS_ERR_NOT_FOUND);

    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(audit_count("ghost"), 0);
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 4);
    ASSERT_SET(&find_role(roles, "Reader")->resources, R("orders.read"));
    ASSERT_SET(&find_role(roles, "Writer")->resources, R("orders.write"));
    ASSERT_SET(&find_role(roles, "Owner")->resources,
               R("view-api-keys", "edit-api-keys", "renew-api-token", "edit-api-keys-settings",
                 "edit-roles", "view-audit-log"));
    ASSERT_SET(&find_role(roles, "User Administrator - RESTRICTED")->resources,
               R("view-api-keys", "edit-api-keys", "renew-api-token", "edit-api-keys-settings"));
    ASSERT_SET(&must_get_key("acme", kid("acme", 1))->roles, R("Reader"));
}

static void test_role_delete(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(create_role("beta", "Reader", R("stock.read")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "holder", R("Owner", "Reader"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "beta holder", R("Reader"), T0), KS_OK);
    size_t before = audit_count("acme");
    ks_audit_entry a;

    /* Held by a key: ROLE_IN_USE, nothing changes. */
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(S->ops->role_delete(S, "acme", "Reader", &a), KS_ERR_ROLE_IN_USE);
    /* Built-in: BUILTIN_ROLE (even when no key holds it). */
    a = aud("acme", "role.delete", "Owner");
    ASSERT_EQ_INT(S->ops->role_delete(S, "acme", "Owner", &a), KS_ERR_BUILTIN_ROLE);
    a = aud("acme", "role.delete", "User Administrator - RESTRICTED");
    ASSERT_EQ_INT(S->ops->role_delete(S, "acme", "User Administrator - RESTRICTED", &a),
                  KS_ERR_BUILTIN_ROLE);
    a = aud("acme", "role.delete", "Nope");
    ASSERT_EQ_INT(S->ops->role_delete(S, "acme", "Nope", &a), KS_ERR_NOT_FOUND);
    a = aud("ghost", "role.delete", "Reader");
    ASSERT_EQ_INT(S->ops->role_delete(S, "ghost", "Reader", &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(get_roles("acme", NULL)->n, 3);
    ASSERT_SET(&must_get_key("acme", kid("acme", 1))->roles, R("Owner", "Reader"));

    /* Once no key holds it, it goes. */
    ks_strlist owner_only = slist(R("Owner"));
    ks_key_patch p = {NULL, &owner_only, -1};
    a = aud("acme", "key.update", kid("acme", 1));
    ASSERT_EQ_INT(S->ops->key_update(S, "acme", kid("acme", 1), &p, &a), KS_OK);
    before = audit_count("acme");
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(S->ops->role_delete(S, "acme", "Reader", &a), KS_OK);
    expect_audit("acme", before, "role.delete", "Reader");
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 2);
    ASSERT(find_role(roles, "Reader") == NULL);
    /* beta's role of the same name is still there, and still held. */
    ASSERT(find_role(get_roles("beta", NULL), "Reader") != NULL);
    ASSERT_SET(&must_get_key("beta", kid("beta", 1))->roles, R("Reader"));
    /* Deleted: cannot be granted, delete again is NOT_FOUND. */
    ASSERT_EQ_INT(put_key("acme", 2, "x", R("Reader"), T0), KS_ERR_INVALID);
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(S->ops->role_delete(S, "acme", "Reader", &a), KS_ERR_NOT_FOUND);
    /* Created again, it starts from its new resources only. */
    ASSERT_EQ_INT(create_role("acme", "Reader", R("new.one")), KS_OK);
    ASSERT_SET(&find_role(get_roles("acme", NULL), "Reader")->resources, R("new.one"));
}

/* ================================================================ audit */

static void test_audit_list(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "one", R0, T0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "beta", R0, T0), KS_OK);
    ks_settings st = {6, 0};
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    a.actor = kid("acme", 0);
    a.detail = "{\"token_duration_months\":6}";
    ASSERT_EQ_INT(S->ops->settings_put(S, "acme", &st, &a), KS_OK);

    audit_set *all = get_audit("acme", 100);
    ASSERT_EQ_INT(all->n, 4);
    static const char *const ACTIONS[] = {"settings.update", "role.create", "key.create",
                                          "account.create"};
    for (size_t i = 0; i < 4; i++) {
        ASSERT_EQ_STR(all->items[i].action, ACTIONS[i]);
        if (i > 0) {
            ASSERT(all->items[i].id < all->items[i - 1].id);
            ASSERT(all->items[i].at < all->items[i - 1].at);
        }
    }
    ASSERT_EQ_STR(all->items[0].actor, kid("acme", 0));
    ASSERT_EQ_STR(all->items[0].target, "acme");
    ASSERT_EQ_STR(all->items[0].detail, "{\"token_duration_months\":6}");
    ASSERT_EQ_INT(all->items[0].at, a.at);
    ASSERT_EQ_STR(all->items[1].target, "Reader");
    ASSERT_EQ_STR(all->items[2].target, kid("acme", 1));

    /* limit: the newest ones. */
    audit_set *two = get_audit("acme", 2);
    ASSERT_EQ_INT(two->n, 2);
    ASSERT_EQ_STR(two->items[0].action, "settings.update");
    ASSERT_EQ_STR(two->items[1].action, "role.create");
    ASSERT_EQ_INT(two->items[0].id, all->items[0].id);
    audit_set *one = get_audit("acme", 1);
    ASSERT_EQ_INT(one->n, 1);
    ASSERT_EQ_STR(one->items[0].action, "settings.update");

    /* Accounts do not see each other's entries. */
    audit_set *b = get_audit("beta", 100);
    ASSERT_EQ_INT(b->n, 2);
    ASSERT_EQ_STR(b->items[0].action, "key.create");
    ASSERT_EQ_STR(b->items[0].target, kid("beta", 1));
    ASSERT_EQ_STR(b->items[1].action, "account.create");
    ASSERT_EQ_INT(get_audit("ghost", 100)->n, 0);
}

static void test_audit_not_written_by_failed_writes(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "holder", R("Reader"), T0), KS_OK);
    const char *id = kid("acme", 1);
    size_t before = audit_count("acme");
    ks_digest g = tok(id, 9);

    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(put_key("acme", 2, "x", R("Nope"), T0), KS_ERR_INVALID);
    ks_strlist bad = slist(R("Nope"));
    ks_key_patch p = {"y", &bad, -1};
    ks_audit_entry a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(S->ops->key_update(S, "acme", id, &p, &a), KS_ERR_INVALID);
    a = aud("acme", "key.delete", "x");
    ASSERT_EQ_INT(S->ops->key_delete(S, "acme", kid("acme", 77), &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_DELETE_OLD, NULL, T0), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g, T0), KS_OK);
    before++;
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g, T0), KS_ERR_OLD_TOKEN_EXISTS);
    ASSERT_EQ_INT(create_role("acme", "Reader", R0), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(update_role("acme", "Owner", NULL, R0), KS_ERR_BUILTIN_ROLE);
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(S->ops->role_delete(S, "acme", "Reader", &a), KS_ERR_ROLE_IN_USE);
    ASSERT_EQ_INT(audit_count("acme"), before);
    audit_set *last = get_audit("acme", 1);
    ASSERT_EQ_STR(last->items[0].action, "key.renew");
}

/* ================================================================ load */

typedef struct {
    char account[KS_ACCOUNT_MAX + 1];
    ks_settings settings;
    ks_role *roles;
    size_t n_roles;
} loaded_account;

typedef struct {
    loaded_account accounts[8];
    int n_accounts;
    ks_key keys[64];
    int n_keys;
    int calls;       /* callbacks so far */
    int stop_at;     /* return stop_rc at this call (1-based), 0 = never */
    int stop_rc;
    int overflow;
} collector;

static void collector_free(void *p)
{
    collector *c = p;
    for (int i = 0; i < c->n_accounts; i++)
        ks_roles_free(c->accounts[i].roles, c->accounts[i].n_roles);
    for (int i = 0; i < c->n_keys; i++)
        ks_key_free(&c->keys[i]);
    free(c);
}

static collector *new_collector(void)
{
    collector *c = calloc(1, sizeof *c);
    if (!c)
        UNIT_FAIL("out of memory in test");
    return defer(c, collector_free);
}

static int on_account(void *ctx, const char *account, const ks_settings *settings,
                      const ks_role *roles, size_t n_roles)
{
    collector *c = ctx;
    c->calls++;
    if (c->n_accounts == 8) {
        c->overflow = 1;
        return 0;
    }
    loaded_account *a = &c->accounts[c->n_accounts++];
    snprintf(a->account, sizeof a->account, "%s", account);
    a->settings = *settings;
    a->roles = calloc(n_roles ? n_roles : 1, sizeof *a->roles);
    if (a->roles) {
        for (size_t i = 0; i < n_roles; i++) {
            a->roles[i].name = strdup(roles[i].name);
            a->roles[i].builtin = roles[i].builtin;
            ks_strlist_copy(&a->roles[i].resources, &roles[i].resources);
            a->n_roles++;
        }
    }
    return c->stop_at == c->calls ? c->stop_rc : 0;
}

static int on_key(void *ctx, const ks_key *key)
{
    collector *c = ctx;
    c->calls++;
    if (c->n_keys == 64) {
        c->overflow = 1;
        return 0;
    }
    ks_key *k = &c->keys[c->n_keys++];
    *k = *key;
    k->name = strdup(key->name ? key->name : "");
    ks_strlist_copy(&k->roles, &key->roles);
    return c->stop_at == c->calls ? c->stop_rc : 0;
}

static const loaded_account *loaded_find_account(const collector *c, const char *account)
{
    const loaded_account *found = NULL;
    for (int i = 0; i < c->n_accounts; i++)
        if (strcmp(c->accounts[i].account, account) == 0) {
            if (found)
                UNIT_FAIL("account %s loaded twice", account);
            found = &c->accounts[i];
        }
    return found;
}

static const ks_key *loaded_find_key(const collector *c, const char *key_id)
{
    const ks_key *found = NULL;
    for (int i = 0; i < c->n_keys; i++)
        if (strcmp(c->keys[i].key_id, key_id) == 0) {
            if (found)
                UNIT_FAIL("key %s loaded twice", key_id);
            found = &c->keys[i];
        }
    return found;
}

static const ks_role *loaded_role(const loaded_account *a, const char *name)
{
    for (size_t i = 0; i < a->n_roles; i++)
        if (a->roles[i].name && strcmp(a->roles[i].name, name) == 0)
            return &a->roles[i];
    return NULL;
}

/* Two accounts with custom roles, keys in every slot state and role set. */
static void load_fixture(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 6, 1), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read", "orders.list")), KS_OK);
    ASSERT_EQ_INT(create_role("beta", "Ops", R("ops:*")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "renewed", R("Reader", "Owner"), T0 + 1), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "plain", R0, T0 + 2), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "ops key", R("Ops"), T0 + 3), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 3, "inactive", R("User Administrator - RESTRICTED"), T0 + 4),
                  KS_OK);
    ks_digest g = tok(kid("acme", 1), 1);
    ASSERT_EQ_INT(apply("acme", kid("acme", 1), KS_SLOT_OP_RENEW_LATER, &g, T0 + 100), KS_OK);
    set_status("acme", kid("acme", 3), KS_KEY_INACTIVE);
    ks_last_used lu;
    memset(&lu, 0, sizeof lu);
    snprintf(lu.key_id, sizeof lu.key_id, "%s", kid("acme", 2));
    lu.hash = tok(kid("acme", 2), 0);
    lu.last_used_at = T0 + 500;
    ASSERT_EQ_INT(S->ops->last_used_flush(S, &lu, 1), KS_OK);
}

static void check_loaded_acme(const collector *c)
{
    const loaded_account *acme = loaded_find_account(c, "acme");
    ASSERT(acme != NULL);
    ASSERT_EQ_INT(acme->settings.token_duration_months, 3);
    ASSERT_EQ_INT(acme->settings.enforce_duration, 0);
    ASSERT_EQ_INT(acme->n_roles, 3);
    ASSERT(loaded_role(acme, "Owner") && loaded_role(acme, "Owner")->builtin);
    ASSERT_EQ_INT(loaded_role(acme, "Owner")->resources.count, 6);
    const ks_role *ua = loaded_role(acme, "User Administrator - RESTRICTED");
    ASSERT(ua && ua->builtin);
    ASSERT_SET(&ua->resources,
               R("view-api-keys", "edit-api-keys", "renew-api-token", "edit-api-keys-settings"));
    const ks_role *reader = loaded_role(acme, "Reader");
    ASSERT(reader && !reader->builtin);
    ASSERT_SET(&reader->resources, R("orders.read", "orders.list"));

    const ks_key *k0 = loaded_find_key(c, kid("acme", 0));
    const ks_key *k1 = loaded_find_key(c, kid("acme", 1));
    const ks_key *k2 = loaded_find_key(c, kid("acme", 2));
    const ks_key *k3 = loaded_find_key(c, kid("acme", 3));
    ASSERT(k0 && k1 && k2 && k3);
    ASSERT_EQ_STR(k0->account, "acme");
    ASSERT_SET(&k0->roles, R("Owner"));
    ASSERT_EQ_STR(k1->name, "renewed");
    ASSERT_EQ_STR(k1->account, "acme");
    ASSERT_EQ_INT(k1->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(k1->created_at, T0 + 1);
    ASSERT_SET(&k1->roles, R("Reader", "Owner"));
    ks_digest c1 = tok(kid("acme", 1), 1), o1 = tok(kid("acme", 1), 0);
    ASSERT_EQ_INT(k1->slots.current.present, 1);
    ASSERT(digest_eq(&k1->slots.current.hash, &c1));
    ASSERT_EQ_INT(k1->slots.current.created_at, T0 + 100);
    ASSERT_EQ_INT(k1->slots.old.present, 1);
    ASSERT(digest_eq(&k1->slots.old.hash, &o1));
    ASSERT_EQ_INT(k1->slots.old.created_at, T0 + 1);
    ASSERT_EQ_INT(k2->roles.count, 0);
    ASSERT_EQ_INT(k2->slots.old.present, 0);
    ASSERT_EQ_INT(k2->slots.current.last_used_at, T0 + 500);
    ks_digest c2 = tok(kid("acme", 2), 0);
    ASSERT(digest_eq(&k2->slots.current.hash, &c2));
    ASSERT_EQ_INT(k3->active, KS_KEY_INACTIVE);
    ASSERT_SET(&k3->roles, R("User Administrator - RESTRICTED"));
}

static void test_load_all(void)
{
    load_fixture();
    collector *c = new_collector();
    ks_store_loader loader = {c, on_account, on_key};
    ASSERT_EQ_INT(S->ops->load_all(S, &loader), KS_OK);
    ASSERT(!c->overflow);
    ASSERT_EQ_INT(c->n_accounts, 2);
    ASSERT_EQ_INT(c->n_keys, 6);
    check_loaded_acme(c);
    const loaded_account *beta = loaded_find_account(c, "beta");
    ASSERT(beta != NULL);
    ASSERT_EQ_INT(beta->settings.token_duration_months, 6);
    ASSERT_EQ_INT(beta->settings.enforce_duration, 1);
    ASSERT_EQ_INT(beta->n_roles, 3);
    ASSERT_SET(&loaded_role(beta, "Ops")->resources, R("ops:*"));
    ASSERT(loaded_role(beta, "Reader") == NULL);
    const ks_key *b0 = loaded_find_key(c, kid("beta", 0));
    const ks_key *b1 = loaded_find_key(c, kid("beta", 1));
    ASSERT(b0 && b1);
    ASSERT_EQ_STR(b1->account, "beta");
    ASSERT_SET(&b1->roles, R("Ops"));
    ASSERT_EQ_STR(b1->name, "ops key");
    /* Every key, the same as key_get says. */
    for (int i = 0; i < c->n_keys; i++) {
        ks_key *g = must_get_key(c->keys[i].account, c->keys[i].key_id);
        ASSERT_EQ_STR(g->name, c->keys[i].name);
        ASSERT_EQ_INT(g->active, c->keys[i].active);
        ASSERT(digest_eq(&g->slots.current.hash, &c->keys[i].slots.current.hash));
        ASSERT_EQ_INT(g->slots.old.present, c->keys[i].slots.old.present);
        ASSERT_EQ_INT(g->roles.count, c->keys[i].roles.count);
    }
}

static void test_load_empty_store(void)
{
    collector *c = new_collector();
    ks_store_loader loader = {c, on_account, on_key};
    ASSERT_EQ_INT(S->ops->load_all(S, &loader), KS_OK);
    ASSERT_EQ_INT(c->calls, 0);
}

static void test_load_account(void)
{
    load_fixture();
    collector *c = new_collector();
    ks_store_loader loader = {c, on_account, on_key};
    ASSERT_EQ_INT(S->ops->load_account(S, "acme", &loader), KS_OK);
    ASSERT(!c->overflow);
    ASSERT_EQ_INT(c->n_accounts, 1);
    ASSERT_EQ_STR(c->accounts[0].account, "acme");
    ASSERT_EQ_INT(c->n_keys, 4);
    for (int i = 0; i < c->n_keys; i++)
        ASSERT_EQ_STR(c->keys[i].account, "acme");
    check_loaded_acme(c);

    collector *b = new_collector();
    loader.ctx = b;
    ASSERT_EQ_INT(S->ops->load_account(S, "beta", &loader), KS_OK);
    ASSERT_EQ_INT(b->n_accounts, 1);
    ASSERT_EQ_STR(b->accounts[0].account, "beta");
    ASSERT_EQ_INT(b->n_keys, 2);
    ASSERT(loaded_find_key(b, kid("beta", 1)) != NULL);
    ASSERT(loaded_find_key(b, kid("acme", 1)) == NULL);
}

static void test_load_account_without_keys(void)
{
    load_fixture();
    /* With on_key NULL, load_account reads settings and roles only. */
    collector *c = new_collector();
    ks_store_loader loader = {c, on_account, NULL};
    ASSERT_EQ_INT(S->ops->load_account(S, "beta", &loader), KS_OK);
    ASSERT_EQ_INT(c->calls, 1);
    ASSERT_EQ_INT(c->n_keys, 0);
    ASSERT_EQ_STR(c->accounts[0].account, "beta");
    ASSERT_EQ_INT(c->accounts[0].settings.token_duration_months, 6);
    ASSERT_EQ_INT(c->accounts[0].n_roles, 3);
    ASSERT(loaded_role(&c->accounts[0], "Ops") != NULL);
}

static void test_load_callback_stops(void)
{
    load_fixture();
    /* A non-zero return stops the load and is returned. */
    collector *c = new_collector();
    c->stop_at = 1;
    c->stop_rc = 7;
    ks_store_loader loader = {c, on_account, on_key};
    ASSERT_EQ_INT(S->ops->load_all(S, &loader), 7);
    ASSERT_EQ_INT(c->calls, 1);

    collector *d = new_collector();
    loader.ctx = d;
    loader.on_account = NULL; /* keys only */
    d->stop_at = 2;
    d->stop_rc = -42;
    ASSERT_EQ_INT(S->ops->load_all(S, &loader), -42);
    ASSERT_EQ_INT(d->calls, 2);
    ASSERT_EQ_INT(d->n_keys, 2);

    collector *e = new_collector();
    loader.ctx = e;
    loader.on_account = on_account;
    e->stop_at = 3; /* acme + its first key */
    e->stop_rc = 5;
    ASSERT_EQ_INT(S->ops->load_account(S, "acme", &loader), 5);
    ASSERT_EQ_INT(e->calls, 3);
}

/* ============================================================ last used */

static ks_last_used last_used(const char *key_id, int gen, int64_t at)
{
    ks_last_used lu;
    memset(&lu, 0, sizeof lu);
    snprintf(lu.key_id, sizeof lu.key_id, "%s", key_id);
    lu.hash = tok(key_id, gen);
    lu.last_used_at = at;
    return lu;
}

static void test_last_used_flush(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "a1", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "a2", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "b1", R0, T0), KS_OK);
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2), *b1 = kid("beta", 1);
    ks_digest g1 = tok(a1, 1);
    ASSERT_EQ_INT(apply("acme", a1, KS_SLOT_OP_RENEW_LATER, &g1, T0 + 10), KS_OK);
    size_t audits = audit_count("acme");

    ASSERT_EQ_INT(S->ops->last_used_flush(S, NULL, 0), KS_OK);

    /* One batch: a1's old token, a2, beta's key, an unknown key, and a hash
     * that is no token of a2 (it is a1's). */
    ks_last_used batch[6];
    batch[0] = last_used(a1, 0, T0 + 1000);       /* old slot of a1 */
    batch[1] = last_used(a2, 0, T0 + 2000);
    batch[2] = last_used(b1, 0, T0 + 3000);
    batch[3] = last_used(kid("acme", 99), 0, T0 + 4000);
    batch[4] = last_used(a2, 5, T0 + 5000);       /* no such token of a2 */
    batch[5] = last_used(a2, 0, T0 + 1500);       /* older than [1]: ignored */
    batch[4].hash = tok(a1, 1);                   /* a1's current, named as a2's */
    ASSERT_EQ_INT(S->ops->last_used_flush(S, batch, 6), KS_OK);

    ks_key *k1 = must_get_key("acme", a1);
    ASSERT_EQ_INT(k1->slots.old.last_used_at, T0 + 1000);
    ASSERT_EQ_INT(k1->slots.current.last_used_at, 0); /* not touched by [4] */
    ks_key *k2 = must_get_key("acme", a2);
    ASSERT_EQ_INT(k2->slots.current.last_used_at, T0 + 2000);
    ks_key *kb = must_get_key("beta", b1);
    ASSERT_EQ_INT(kb->slots.current.last_used_at, T0 + 3000);
    int rc;
    ASSERT(get_key("acme", kid("acme", 99), &rc) == NULL);

    /* Never back in time; forward works; per slot. */
    ks_last_used back = last_used(a2, 0, T0 + 100);
    ASSERT_EQ_INT(S->ops->last_used_flush(S, &back, 1), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", a2)->slots.current.last_used_at, T0 + 2000);
    ks_last_used same = last_used(a2, 0, T0 + 2000);
    ASSERT_EQ_INT(S->ops->last_used_flush(S, &same, 1), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", a2)->slots.current.last_used_at, T0 + 2000);
    ks_last_used fwd = last_used(a2, 0, T0 + 9000);
    ASSERT_EQ_INT(S->ops->last_used_flush(S, &fwd, 1), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", a2)->slots.current.last_used_at, T0 + 9000);
    ks_last_used cur1 = last_used(a1, 1, T0 + 7000);
    ASSERT_EQ_INT(S->ops->last_used_flush(S, &cur1, 1), KS_OK);
    k1 = must_get_key("acme", a1);
    ASSERT_EQ_INT(k1->slots.current.last_used_at, T0 + 7000);
    ASSERT_EQ_INT(k1->slots.old.last_used_at, T0 + 1000);
    /* Nothing else about the keys changed. */
    ASSERT_EQ_STR(k1->name, "a1");
    ASSERT_EQ_INT(k1->slots.current.created_at, T0 + 10);
    ASSERT_EQ_INT(audit_count("acme"), audits);
}

/* ================================================================ runner */

static ks_store *(*conf_open)(void *ctx);
static void *conf_ctx;
static int conf_failed;

static void run_one(void (*fn)(void), const char *name)
{
    audit_clock = 0;
    S = conf_open(conf_ctx);
    if (!S) {
        fprintf(stderr, "FAILED %s: open_fresh returned NULL\n", name);
        conf_failed++;
        return;
    }
    /* RUN of unit.h, reporting the test's own name. */
    if (setjmp(unit_jmp) == 0) {
        fn();
        unit_passed++;
    } else {
        fprintf(stderr, "FAILED %s (store conformance, %s)\n", name, S->ops->backend);
        unit_failed++;
    }
    run_deferred();
    S->ops->close(S);
    S = NULL;
}

#define CRUN(fn) run_one(fn, #fn)

int store_conformance_run(ks_store *(*open_fresh)(void *ctx), void *ctx, int *n_passed,
                          int *n_failed)
{
    conf_open = open_fresh;
    conf_ctx = ctx;
    int p0 = unit_passed, f0 = unit_failed;
    conf_failed = 0;
    const char *backend = "?";
    ks_store *probe = open_fresh(ctx);
    if (probe) {
        backend = probe->ops->backend ? probe->ops->backend : "?";
        probe->ops->close(probe);
    }

    CRUN(test_account_create);
    CRUN(test_account_create_name_taken);
    CRUN(test_account_create_rollback);
    CRUN(test_accounts_are_isolated);
    CRUN(test_settings_get_put);
    CRUN(test_settings_unknown_account);
    CRUN(test_key_insert_get);
    CRUN(test_key_get_not_found);
    CRUN(test_key_insert_invalid_role);
    CRUN(test_key_insert_unknown_account);
    CRUN(test_key_insert_duplicate_id);
    CRUN(test_key_list_order_and_paging);
    CRUN(test_key_list_q);
    CRUN(test_key_list_status);
    CRUN(test_key_list_outdated);
    CRUN(test_key_update);
    CRUN(test_key_update_errors_change_nothing);
    CRUN(test_key_delete);
    CRUN(test_slots_renew_later_then_undo);
    CRUN(test_slots_renew_later_then_delete_old);
    CRUN(test_slots_renew_now);
    CRUN(test_slots_not_found);
    CRUN(test_slots_keep_last_used);
    CRUN(test_role_create_list);
    CRUN(test_role_create_name_taken);
    CRUN(test_role_create_unknown_account);
    CRUN(test_role_update);
    CRUN(test_role_update_errors_change_nothing);
    CRUN(test_role_delete);
    CRUN(test_audit_list);
    CRUN(test_audit_not_written_by_failed_writes);
    CRUN(test_load_all);
    CRUN(test_load_empty_store);
    CRUN(test_load_account);
    CRUN(test_load_account_without_keys);
    CRUN(test_load_callback_stops);
    CRUN(test_last_used_flush);

    int passed = unit_passed - p0;
    int failed = unit_failed - f0 + conf_failed;
    printf("store-conformance (%s): %d passed, %d failed\n", backend, passed, failed);
    if (n_passed)
        *n_passed = passed;
    if (n_failed)
        *n_failed = failed;
    return failed;
}
