/*
 * conformance_util.c - the shared fixtures of the store conformance suite:
 * the deferred-free list, deterministic ids, tokens and audit entries, thin
 * wrappers of the store calls the tests make most, key list walking and the
 * load collector. See conformance_util.h.
 */
#include "core/error.h"

#include <stdlib.h>

#include "conformance_util.h" /* brings unit.h, pointed at conf_jmp */

jmp_buf conf_jmp;
ks_store *store;
int64_t audit_clock;

/* ------------------------------------------------------- deferred frees */

typedef struct {
    void (*fn)(void *);
    void *p;
} deferred_t;
static deferred_t deferred[1024];
static int n_deferred;

void *defer(void *p, void (*fn)(void *))
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

void conf_run_deferred(void)
{
    while (n_deferred > 0) {
        n_deferred--;
        deferred[n_deferred].fn(deferred[n_deferred].p);
    }
}

void *xcalloc(size_t n)
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

static void role_set_free(void *p)
{
    role_set *r = p;
    ks_roles_free(r->items, r->n);
    free(r);
}

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
const char *kid(const char *account, int n)
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
ks_digest tok(const char *key_id, int gen)
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

ks_strlist slist(const char *const *items)
{
    ks_strlist l;
    l.items = (char **)items; /* read-only input: the store never writes it */
    l.count = 0;
    while (items[l.count])
        l.count++;
    return l;
}

ks_audit_entry aud(const char *account, const char *action, const char *target)
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
void key_build(ks_key *k, const char *account, int n, const char *name,
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

int make_account(const char *account, int months, int enforce)
{
    ks_settings st = {.token_duration_months = months, .enforce_duration = enforce, .renewal_notice_days = 14};
    ks_key owner;
    key_build(&owner, account, 0, "Owner key", R("Owner"), T0);
    ks_audit_entry a = aud(account, "account.create", account);
    return store->ops->account_create(store, account, &st, &owner, &a);
}

int put_key(const char *account, int n, const char *name, const char *const *roles,
            int64_t created)
{
    ks_key k;
    key_build(&k, account, n, name, roles, created);
    ks_audit_entry a = aud(account, "key.create", k.key_id);
    return store->ops->key_insert(store, &k, &a);
}

/* The key, or NULL with *rc set (freed after the test). */
ks_key *get_key(const char *account, const char *key_id, int *rc)
{
    ks_key *k = xcalloc(sizeof *k);
    int r = store->ops->key_get(store, account, key_id, k);
    if (rc)
        *rc = r;
    if (r != KS_OK)
        return NULL;
    defer(k, key_contents_free);
    return k;
}

ks_key *must_get_key(const char *account, const char *key_id)
{
    int rc = 0;
    ks_key *k = get_key(account, key_id, &rc);
    if (!k)
        UNIT_FAIL("key_get(%s, %s) = %d, want KS_OK", account, key_id, rc);
    return k;
}

role_set *get_roles(const char *account, int *rc)
{
    role_set *r = calloc(1, sizeof *r);
    if (!r)
        UNIT_FAIL("out of memory in test");
    int x = store->ops->role_list(store, account, &r->items, &r->n);
    if (x != KS_OK) {
        r->items = NULL;
        r->n = 0;
    }
    defer(r, role_set_free);
    if (rc)
        *rc = x;
    return r;
}

const ks_role *find_role(const role_set *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].name && strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    return NULL;
}

audit_set *get_audit(const char *account, int limit)
{
    audit_set *a = calloc(1, sizeof *a);
    if (!a)
        UNIT_FAIL("out of memory in test");
    defer(a, audit_set_free);
    /* More than a page: walk the cursor, a page of at most 500 at a time. */
    ks_audit_filter f = {0};
    int rc = KS_OK;
    while (rc == KS_OK && a->n < (size_t)limit) {
        size_t want = (size_t)limit - a->n;
        f.limit = want > KS_AUDIT_PAGE_MAX ? KS_AUDIT_PAGE_MAX : (int)want;
        ks_audit_page page = {0};
        rc = store->ops->audit_list(store, account, &f, &page);
        if (rc != KS_OK)
            break;
        ks_audit_record *grown = realloc(a->items, (a->n + page.count + 1) * sizeof *grown);
        if (!grown) {
            ks_audit_page_free(&page);
            UNIT_FAIL("out of memory in test");
        }
        a->items = grown;
        memcpy(a->items + a->n, page.items, page.count * sizeof *page.items);
        a->n += page.count;
        free(page.items); /* the records moved to a->items */
        if (!page.next_id)
            break;
        f.before_id = page.next_id;
    }
    if (rc != KS_OK)
        UNIT_FAIL("audit_list(%s, %d) = %d", account, limit, rc);
    return a;
}

size_t audit_count(const char *account)
{
    return get_audit(account, 10000)->n;
}

/* The newest audit entry of account is (action, target) and the count grew by one. */
void expect_audit(const char *account, size_t before, const char *action,
                  const char *target)
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

int strlist_same_set(const ks_strlist *l, const char *const *want)
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

int digest_eq(const ks_digest *a, const ks_digest *b)
{
    return memcmp(a->bytes, b->bytes, KS_DIGEST_LEN) == 0;
}

/* ---------------------------------------------------------- key lists */

ks_key_filter filter(const char *q, int status, int outdated, int64_t now, int limit)
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
int list_page(const char *account, const ks_key_filter *f, idlist *out)
{
    ks_key_page *p = calloc(1, sizeof *p);
    if (!p)
        UNIT_FAIL("out of memory in test");
    defer(p, page_heap_free);
    int rc = store->ops->key_list(store, account, f, p);
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
void list_all(const char *account, ks_key_filter f, idlist *out)
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

int idlist_has(const idlist *l, const char *id)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->ids[i], id) == 0)
            return 1;
    return 0;
}

void assert_unique(const idlist *l)
{
    for (int i = 0; i < l->n; i++)
        for (int j = i + 1; j < l->n; j++)
            if (strcmp(l->ids[i], l->ids[j]) == 0)
                UNIT_FAIL("key %s listed twice", l->ids[i]);
}

int count_all(const char *account, const char *q, int status, int outdated, int64_t now)
{
    idlist *l = xcalloc(sizeof *l);
    list_all(account, filter(q, status, outdated, now, 500), l);
    assert_unique(l);
    return l->n;
}

/* --------------------------------------------------- store call wrappers */

void set_status(const char *account, const char *key_id, int status)
{
    ks_key_patch p = {NULL, NULL, status, NULL, NULL};
    ks_audit_entry a = aud(account, status ? "key.activate" : "key.deactivate", key_id);
    ASSERT_EQ_INT(store->ops->key_update(store, account, key_id, &p, &a), KS_OK);
}

static int token_same(const ks_token *a, const ks_token *b)
{
    return a->present == b->present && memcmp(a->hash.bytes, b->hash.bytes, KS_DIGEST_LEN) == 0 &&
           a->created_at == b->created_at && a->last_used_at == b->last_used_at;
}

int apply(const char *account, const char *id, ks_slot_op op, const ks_digest *h,
          int64_t now)
{
    static const char *const NAMES[] = {"key.renew", "key.renew", "key.delete_old_token",
                                        "key.undo_renewal"};
    ks_audit_entry a = aud(account, NAMES[op], id);
    ks_key after = {0}, read = {0};
    int rc = store->ops->key_apply_slots(store, account, id, &(ks_slot_change){.op = op, .new_hash = h}, now, &a, &after);
    if (rc == KS_OK) {
        /* what the write gives back is what a read sees afterwards */
        int got = store->ops->key_get(store, account, id, &read);
        int same = got == KS_OK && strcmp(after.key_id, read.key_id) == 0 &&
                   strcmp(after.account, read.account) == 0 && strcmp(after.name, read.name) == 0 &&
                   after.active == read.active && after.created_at == read.created_at &&
                   token_same(&after.slots.current, &read.slots.current) &&
                   token_same(&after.slots.old, &read.slots.old) &&
                   after.roles.count == read.roles.count && after.n_grants == read.n_grants;
        for (size_t i = 0; same && i < after.roles.count; i++)
            same = strcmp(after.roles.items[i], read.roles.items[i]) == 0;
        ks_key_free(&after);
        ks_key_free(&read);
        ASSERT(same);
    }
    return rc;
}

int create_role(const char *account, const char *name, const char *const *resources)
{
    ks_role r = {(char *)name, slist(resources), 0};
    ks_audit_entry a = aud(account, "role.create", name);
    return store->ops->role_create(store, account, &r, &a);
}

int update_role(const char *account, const char *name, const char *new_name,
                const char *const *resources)
{
    ks_strlist res = {0};
    if (resources)
        res = slist(resources);
    ks_audit_entry a = aud(account, "role.update", name);
    return store->ops->role_update(store, account, name, new_name,
                                   resources ? &res : NULL, &a);
}

/* ------------------------------------------------------------- loads */

static void collector_free(void *p)
{
    collector *c = p;
    for (int i = 0; i < c->n_accounts; i++)
        ks_roles_free(c->accounts[i].roles, c->accounts[i].n_roles);
    for (int i = 0; i < c->n_keys; i++)
        ks_key_free(&c->keys[i]);
    free(c);
}

collector *new_collector(void)
{
    collector *c = calloc(1, sizeof *c);
    if (!c)
        UNIT_FAIL("out of memory in test");
    return defer(c, collector_free);
}

int collect_account(void *ctx, const char *account, const ks_settings *settings,
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

int collect_key(void *ctx, const ks_key *key)
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
    ks_strlist_copy(&k->allowed_cidrs, &key->allowed_cidrs);
    k->grants = NULL; /* the store's until the callback returns: copy them */
    k->n_grants = 0;
    for (size_t i = 0; i < key->n_grants; i++) {
        ks_grant *g = ks_key_add_grant(k, key->grants[i].account);
        if (!g)
            break;
        g->active = key->grants[i].active;
        g->created_at = key->grants[i].created_at;
        ks_strlist_copy(&g->roles, &key->grants[i].roles);
    }
    return c->stop_at == c->calls ? c->stop_rc : 0;
}

const loaded_account *loaded_find_account(const collector *c, const char *account)
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

const ks_key *loaded_find_key(const collector *c, const char *key_id)
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

const ks_role *loaded_role(const loaded_account *a, const char *name)
{
    for (size_t i = 0; i < a->n_roles; i++)
        if (a->roles[i].name && strcmp(a->roles[i].name, name) == 0)
            return &a->roles[i];
    return NULL;
}
