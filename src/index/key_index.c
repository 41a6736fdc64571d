/*
 * key_index.c - the verify index (see key_index.h): an open-addressing table
 * of immutable key entries read without locks, accounts, the retire list.
 *
 * Bucket hash: SipHash (libsodium crypto_shorthash) with a random key per
 * index, so crafted key ids cannot pile into one probe run. The table keeps
 * at most 70% of its slots used (live entries plus tombstones) and is rebuilt
 * at twice the live count when it passes that, so a probe ends soon at an
 * empty slot.
 *
 * Every write runs under write_lock: it builds what it needs first (a failed
 * call changes nothing), publishes with release stores, retires what it
 * unlinked, then tags the retired items with a new epoch and frees those
 * that no reader can still hold (index/epoch.h). Nothing waits for readers
 * unless memory for the retire list runs out.
 */
#include "index/index_internal.h"
#include "index/epoch.h"
#include "core/error.h"
#include "core/token_age.h"

#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define TOMBSTONE ((ks_index_key *)(uintptr_t)1)
#define TABLE_MIN 1024

typedef struct {
    size_t mask;                        /* slots - 1 (a power of two) */
    size_t used;                        /* writer: live + tombstones */
    size_t live;                        /* writer */
    _Atomic(ks_index_key *) slots[];
} key_table;

typedef struct {
    void *ptr;
    void (*free_fn)(void *);
    uint64_t tag;                       /* 0: retired by the write in progress */
} retired_item;

typedef struct {
    int64_t day;                        /* days since the epoch */
    int months;                         /* 0 = empty */
    int64_t expires;                    /* that day's midnight + months */
} expiry_memo;

struct ks_index {
    pthread_mutex_t write_lock;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    _Atomic(key_table *) keys;
    _Atomic size_t n_total, n_active;
    ks_index_account **accounts;        /* writer: chained by name */
    size_t accounts_mask, n_accounts;
    retired_item *retired;              /* writer: oldest first */
    size_t n_retired, cap_retired;
    expiry_memo memo[64];               /* writer: expiry by creation day */
};

/* ---- retiring ---- */

static void entry_free(void *p);
static void entry_hand_over_last_used(ks_index *idx, const ks_index_key *old);

void ks_index_retire_(ks_index *idx, void *p, void (*free_fn)(void *))
{
    if (!p)
        return;
    if (idx->n_retired == idx->cap_retired) {
        size_t cap = idx->cap_retired ? idx->cap_retired * 2 : 64;
        retired_item *grown = realloc(idx->retired, cap * sizeof *grown);
        if (!grown) { /* no room to defer: wait for the readers instead */
            uint64_t tag = ks_epoch_retire_tag();
            while (!ks_epoch_safe(tag))
                sched_yield();
            free_fn(p);
            return;
        }
        idx->retired = grown;
        idx->cap_retired = cap;
    }
    idx->retired[idx->n_retired++] = (retired_item){p, free_fn, 0};
}

/* Tags what this write retired, then frees every item no reader can hold. */
static void retire_flush(ks_index *idx)
{
    if (idx->n_retired == 0)
        return;
    if (idx->retired[idx->n_retired - 1].tag == 0) {
        uint64_t tag = ks_epoch_retire_tag();
        for (size_t i = idx->n_retired; i > 0 && idx->retired[i - 1].tag == 0; i--)
            idx->retired[i - 1].tag = tag;
    }
    size_t done = 0;
    uint64_t safe_up_to = 0;
    while (done < idx->n_retired) {
        uint64_t tag = idx->retired[done].tag;
        if (tag > safe_up_to) {
            if (!ks_epoch_safe(tag))
                break;
            safe_up_to = tag;
        }
        if (idx->retired[done].free_fn == entry_free)
            entry_hand_over_last_used(idx, idx->retired[done].ptr);
        idx->retired[done].free_fn(idx->retired[done].ptr);
        done++;
    }
    memmove(idx->retired, idx->retired + done, (idx->n_retired - done) * sizeof *idx->retired);
    idx->n_retired -= done;
}

/* ---- accounts ---- */

static uint64_t name_hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a: writers only, small table */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static uint32_t settings_pack(const ks_settings *s, int known)
{
    uint32_t months = s->token_duration_months > 0 && s->token_duration_months < 256
                          ? (uint32_t)s->token_duration_months : 0;
    return (known ? KS_ACCOUNT_KNOWN : 0) | (s->enforce_duration ? 1u << 8 : 0) | months;
}

const char *ks_index_account_name(const ks_index_account *a, size_t *len)
{
    if (len)
        *len = a->name_len;
    return a->name;
}

int ks_index_account_settings(const ks_index_account *a, ks_settings *out)
{
    uint32_t s = atomic_load_explicit(&((ks_index_account *)a)->settings, memory_order_acquire);
    out->token_duration_months = (int)(s & 0xff);
    out->enforce_duration = (s >> 8) & 1;
    return (s & KS_ACCOUNT_KNOWN) != 0;
}

/* The account named `name`, made (unknown, default settings) when absent
 * and `create` is set. NULL when absent or out of memory. Writer only. */
static ks_index_account *account_get(ks_index *idx, const char *name, int create)
{
    size_t len = strnlen(name, KS_ACCOUNT_MAX + 1);
    if (len > KS_ACCOUNT_MAX)
        return NULL;
    uint64_t h = name_hash(name, len);
    for (ks_index_account *a = idx->accounts[h & idx->accounts_mask]; a; a = a->next)
        if (a->name_len == len && memcmp(a->name, name, len) == 0)
            return a;
    if (!create)
        return NULL;
    ks_index_account *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    memcpy(a->name, name, len);
    a->name_len = len;
    atomic_init(&a->settings, settings_pack(&KS_SETTINGS_DEFAULT, 0));
    a->next = idx->accounts[h & idx->accounts_mask];
    idx->accounts[h & idx->accounts_mask] = a;
    if (++idx->n_accounts > idx->accounts_mask) { /* grow, best effort */
        size_t n = (idx->accounts_mask + 1) * 2;
        ks_index_account **grown = calloc(n, sizeof *grown);
        if (grown) {
            for (size_t i = 0; i <= idx->accounts_mask; i++)
                for (ks_index_account *p = idx->accounts[i], *next; p; p = next) {
                    next = p->next;
                    uint64_t ph = name_hash(p->name, p->name_len);
                    p->next = grown[ph & (n - 1)];
                    grown[ph & (n - 1)] = p;
                }
            free(idx->accounts);
            idx->accounts = grown;
            idx->accounts_mask = n - 1;
        }
    }
    return a;
}

/* ---- entries ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ks_token_expires_at, memoised by creation day: adding calendar months
 * keeps the time of day, so one calendar computation serves a whole day
 * (loading a million keys made the same day costs one). Writer only. */
static int64_t expiry_of(ks_index *idx, int64_t created_at, int months)
{
    int64_t day = floor_div(created_at, 86400);
    int64_t second = created_at - day * 86400;
    expiry_memo *m = &idx->memo[((uint64_t)day * 7 + (uint64_t)months) & 63];
    if (m->months != months || m->day != day) {
        m->day = day;
        m->months = months;
        m->expires = ks_token_expires_at(day * 86400, months);
    }
    return m->expires + second;
}

static void entry_free(void *p)
{
    ks_index_key *e = p;
    free((void *)e->grants);
    sodium_memzero(e->tokens, sizeof e->tokens);
    free(e);
}

/* Drops the entry's role-set references (when it leaves the table). */
static void entry_release(ks_index *idx, const ks_index_key *e)
{
    if (e->roles)
        ks_roleset_release(idx, (ks_index_account *)e->account, (ks_index_roleset *)e->roles);
    for (uint32_t i = 0; i < e->n_grants; i++)
        if (e->grants[i].roles)
            ks_roleset_release(idx, (ks_index_account *)e->grants[i].account,
                               (ks_index_roleset *)e->grants[i].roles);
}

static void entry_discard(ks_index *idx, ks_index_key *e)
{
    entry_release(idx, e);
    entry_free(e);
}

/* Fills both expiry instants of e for `months` (0: unknown, never matches). */
static void entry_set_expiry(ks_index *idx, ks_index_key *e, int months)
{
    e->months = (uint8_t)months;
    for (int s = 0; s < 2; s++)
        e->tokens[s].expires_at = (e->present >> s) & 1 ? expiry_of(idx, e->tokens[s].created_at, months) : 0;
}

/* A new entry for key, holding references on its role sets. */
static int entry_build(ks_index *idx, const ks_key *key, size_t len, ks_index_key **out)
{
    ks_index_account *home = account_get(idx, key->account, 1);
    ks_index_key *e = calloc(1, sizeof *e);
    if (!home || !e) {
        free(e);
        return KS_ERR_NOMEM;
    }
    memcpy(e->key_id, key->key_id, len);
    e->key_len = (uint8_t)len;
    e->account = home;
    e->active = key->active ? 1 : 0;
    const ks_token *slots[2] = {&key->slots.current, &key->slots.old};
    for (int s = 0; s < 2; s++) {
        if (!slots[s]->present)
            continue;
        e->present |= (uint8_t)(1u << s);
        e->tokens[s].hash = slots[s]->hash;
        e->tokens[s].created_at = slots[s]->created_at;
        atomic_init(&e->last_used[s], slots[s]->last_used_at);
        atomic_init(&e->last_flushed[s], slots[s]->last_used_at);
    }
    ks_settings settings;
    ks_index_account_settings(home, &settings);
    entry_set_expiry(idx, e, settings.token_duration_months);
    if (!(e->roles = ks_roleset_acquire(home, key->roles.items, key->roles.count)))
        goto nomem;
    if (key->n_grants) {
        ks_index_grant *grants = calloc(key->n_grants, sizeof *grants);
        if (!grants)
            goto nomem;
        e->grants = grants;
        for (size_t i = 0; i < key->n_grants; i++) {
            ks_index_account *a = account_get(idx, key->grants[i].account, 1);
            if (!a)
                goto nomem;
            grants[i].account = a;
            grants[i].active = key->grants[i].active == KS_KEY_ACTIVE;
            if (!(grants[i].roles = ks_roleset_acquire(a, key->grants[i].roles.items, key->grants[i].roles.count)))
                goto nomem;
            e->n_grants++;
        }
    }
    *out = e;
    return KS_OK;
nomem:
    entry_discard(idx, e);
    return KS_ERR_NOMEM;
}

/* A copy of e (new references on its role sets) with expiry for `months`. */
static ks_index_key *entry_clone(ks_index *idx, const ks_index_key *e, int months)
{
    ks_index_key *c = malloc(sizeof *c);
    ks_index_grant *grants = e->n_grants ? malloc(e->n_grants * sizeof *grants) : NULL;
    if (!c || (e->n_grants && !grants)) {
        free(c);
        free(grants);
        return NULL;
    }
    memcpy(c, e, sizeof *c); /* the atomics are re-stored below */
    for (int s = 0; s < 2; s++) {
        atomic_store(&c->last_used[s], atomic_load(&((ks_index_key *)e)->last_used[s]));
        atomic_store(&c->last_flushed[s], atomic_load(&((ks_index_key *)e)->last_flushed[s]));
    }
    if (grants)
        memcpy(grants, e->grants, e->n_grants * sizeof *grants);
    c->grants = grants;
    ((ks_index_roleset *)c->roles)->refs++;
    for (uint32_t i = 0; i < c->n_grants; i++)
        ((ks_index_roleset *)grants[i].roles)->refs++;
    entry_set_expiry(idx, c, months);
    return c;
}

/* Raises *at to `seen` atomically (only ever forward). */
static void atomic_raise(_Atomic int64_t *at, int64_t seen)
{
    int64_t cur = atomic_load_explicit(at, memory_order_relaxed);
    while (cur < seen && !atomic_compare_exchange_weak_explicit(at, &cur, seen, memory_order_relaxed,
                                                                memory_order_relaxed))
        ;
}

/* The index slot of `k` holding the token with `hash`, or -1. */
static int slot_of_hash(const ks_index_key *k, const ks_digest *hash)
{
    for (int i = 0; i < 2; i++)
        if ((k->present >> i) & 1 && ks_digest_equal(&k->tokens[i].hash, hash))
            return i;
    return -1;
}

/* Raises `to`'s last-used times to those `from` has for the same tokens
 * (matched by hash: a renewal moves the current token to the old slot);
 * with flushed, `to` also takes `from`'s flushed marks. */
static void last_used_pass_on(ks_index_key *to, const ks_index_key *from, int flushed)
{
    ks_index_key *src = (ks_index_key *)from; /* only its atomics are read */
    for (int i = 0; i < 2; i++) {
        int j = (to->present >> i) & 1 ? slot_of_hash(from, &to->tokens[i].hash) : -1;
        if (j < 0)
            continue;
        atomic_raise(&to->last_used[i], atomic_load(&src->last_used[j]));
        if (flushed)
            atomic_store(&to->last_flushed[i], atomic_load(&src->last_flushed[j]));
    }
}

/* ---- the key table ---- */

static uint64_t key_hash(const ks_index *idx, const char *key, size_t len)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, (const unsigned char *)key, len, idx->hash_key);
    return h;
}

static key_table *table_new(size_t slots)
{
    key_table *t = calloc(1, sizeof *t + slots * sizeof t->slots[0]);
    if (t)
        t->mask = slots - 1;
    return t;
}

/* Rebuilds the table without tombstones at twice the live count (at least
 * TABLE_MIN slots) and publishes it. KS_ERR_NOMEM leaves the old one. */
static int table_rebuild(ks_index *idx, size_t live)
{
    key_table *old = atomic_load_explicit(&idx->keys, memory_order_relaxed);
    size_t slots = TABLE_MIN;
    while (slots < live * 2)
        slots *= 2;
    key_table *t = table_new(slots);
    if (!t)
        return KS_ERR_NOMEM;
    for (size_t i = 0; i <= old->mask; i++) {
        ks_index_key *e = atomic_load_explicit(&old->slots[i], memory_order_relaxed);
        if (!e || e == TOMBSTONE)
            continue;
        size_t j = key_hash(idx, e->key_id, e->key_len) & t->mask;
        while (atomic_load_explicit(&t->slots[j], memory_order_relaxed))
            j = (j + 1) & t->mask;
        atomic_store_explicit(&t->slots[j], e, memory_order_relaxed);
        t->live++;
    }
    t->used = t->live;
    atomic_store_explicit(&idx->keys, t, memory_order_release);
    ks_index_retire_(idx, old, free);
    return KS_OK;
}

/* Index of e's key in t, or of the slot to insert it at (*found = 0). */
static size_t table_probe(const ks_index *idx, const key_table *t, const char *key, size_t len, int *found)
{
    size_t insert_at = SIZE_MAX;
    for (size_t i = key_hash(idx, key, len) & t->mask;; i = (i + 1) & t->mask) {
        ks_index_key *cur = atomic_load_explicit(&((key_table *)t)->slots[i], memory_order_relaxed);
        if (!cur) {
            *found = 0;
            return insert_at != SIZE_MAX ? insert_at : i;
        }
        if (cur == TOMBSTONE) {
            if (insert_at == SIZE_MAX)
                insert_at = i;
        } else if (cur->key_len == len && memcmp(cur->key_id, key, len) == 0) {
            *found = 1;
            return i;
        }
    }
}

/* Publishes e in place of the entry of its key, or as a new one. */
static int table_put(ks_index *idx, ks_index_key *e)
{
    key_table *t = atomic_load_explicit(&idx->keys, memory_order_relaxed);
    int found;
    size_t i = table_probe(idx, t, e->key_id, e->key_len, &found);
    if (found) {
        ks_index_key *old = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        last_used_pass_on(e, old, 1); /* e is not published yet */
        atomic_store_explicit(&t->slots[i], e, memory_order_release);
        atomic_fetch_add(&idx->n_active, (size_t)e->active - (size_t)old->active);
        entry_release(idx, old);
        ks_index_retire_(idx, old, entry_free);
        return KS_OK;
    }
    int fresh_slot = atomic_load_explicit(&t->slots[i], memory_order_relaxed) == NULL;
    if (fresh_slot && (t->used + 1) * 10 > (t->mask + 1) * 7) {
        if (table_rebuild(idx, t->live + 1) == KS_OK) {
            t = atomic_load_explicit(&idx->keys, memory_order_relaxed);
            i = table_probe(idx, t, e->key_id, e->key_len, &found);
        } else if (t->used + 2 > t->mask) {
            return KS_ERR_NOMEM; /* keep one empty slot so probes end */
        }
        fresh_slot = atomic_load_explicit(&t->slots[i], memory_order_relaxed) == NULL;
    }
    atomic_store_explicit(&t->slots[i], e, memory_order_release);
    t->used += fresh_slot;
    t->live++;
    atomic_fetch_add(&idx->n_total, 1);
    atomic_fetch_add(&idx->n_active, (size_t)e->active);
    return KS_OK;
}

/* ---- public ---- */

ks_index *ks_index_new(void)
{
    ks_index *idx = calloc(1, sizeof *idx);
    if (!idx)
        return NULL;
    pthread_mutex_init(&idx->write_lock, NULL);
    randombytes_buf(idx->hash_key, sizeof idx->hash_key);
    key_table *t = table_new(TABLE_MIN);
    idx->accounts = calloc(64, sizeof *idx->accounts);
    idx->accounts_mask = 63;
    if (!t || !idx->accounts) {
        free(t);
        free(idx->accounts);
        pthread_mutex_destroy(&idx->write_lock);
        free(idx);
        return NULL;
    }
    atomic_init(&idx->keys, t);
    return idx;
}

void ks_index_free(ks_index *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; i < idx->n_retired; i++)
        idx->retired[i].free_fn(idx->retired[i].ptr);
    free(idx->retired);
    key_table *t = atomic_load(&idx->keys);
    for (size_t i = 0; i <= t->mask; i++) {
        ks_index_key *e = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        if (e && e != TOMBSTONE)
            entry_free(e); /* role sets go with their accounts */
    }
    free(t);
    for (size_t i = 0; i <= idx->accounts_mask; i++)
        for (ks_index_account *a = idx->accounts[i], *next; a; a = next) {
            next = a->next;
            ks_account_free(a);
        }
    free(idx->accounts);
    pthread_mutex_destroy(&idx->write_lock);
    free(idx);
}

/* Rebuilds the entries of account a for a new duration (best effort: an
 * entry left as it was computes its expiry when read). Writer only. */
static void account_rebuild_expiry(ks_index *idx, ks_index_account *a, int months)
{
    key_table *t = atomic_load_explicit(&idx->keys, memory_order_relaxed);
    for (size_t i = 0; i <= t->mask; i++) {
        ks_index_key *e = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        if (!e || e == TOMBSTONE || e->account != a || e->months == months)
            continue;
        ks_index_key *c = entry_clone(idx, e, months);
        if (!c)
            return;
        atomic_store_explicit(&t->slots[i], c, memory_order_release);
        entry_release(idx, e);
        ks_index_retire_(idx, e, entry_free);
    }
}

int ks_index_put_account(ks_index *idx, const char *account, const ks_settings *settings,
                         const ks_role *roles, size_t n_roles)
{
    pthread_mutex_lock(&idx->write_lock);
    ks_index_account *a = account_get(idx, account, 1);
    int rc = a ? ks_account_set_roles(idx, a, roles, n_roles) : KS_ERR_NOMEM;
    if (rc == KS_OK) {
        uint32_t packed = settings_pack(settings, 1);
        uint32_t before = atomic_exchange(&a->settings, packed);
        if ((before & 0xff) != (packed & 0xff))
            account_rebuild_expiry(idx, a, (int)(packed & 0xff));
    }
    retire_flush(idx);
    pthread_mutex_unlock(&idx->write_lock);
    return rc;
}

int ks_index_put_key(ks_index *idx, const ks_key *key)
{
    size_t len = strnlen(key->key_id, KS_KEY_ID_MAX + 1);
    if (len == 0 || len > KS_KEY_ID_MAX)
        return KS_ERR_INVALID;
    pthread_mutex_lock(&idx->write_lock);
    ks_index_key *e = NULL;
    int rc = entry_build(idx, key, len, &e);
    if (rc == KS_OK && (rc = table_put(idx, e)) != KS_OK)
        entry_discard(idx, e);
    retire_flush(idx);
    pthread_mutex_unlock(&idx->write_lock);
    return rc;
}

void ks_index_remove_key(ks_index *idx, const char *key_id)
{
    size_t len = strnlen(key_id, KS_KEY_ID_MAX + 1);
    if (len == 0 || len > KS_KEY_ID_MAX)
        return;
    pthread_mutex_lock(&idx->write_lock);
    key_table *t = atomic_load_explicit(&idx->keys, memory_order_relaxed);
    int found;
    size_t i = table_probe(idx, t, key_id, len, &found);
    if (found) {
        ks_index_key *old = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        atomic_store_explicit(&t->slots[i], TOMBSTONE, memory_order_release);
        t->live--;
        atomic_fetch_sub(&idx->n_total, 1);
        atomic_fetch_sub(&idx->n_active, (size_t)old->active);
        entry_release(idx, old);
        ks_index_retire_(idx, old, entry_free);
    }
    retire_flush(idx);
    pthread_mutex_unlock(&idx->write_lock);
}

static int load_account_cb(void *ctx, const char *account, const ks_settings *settings,
                           const ks_role *roles, size_t n_roles)
{
    return ks_index_put_account(ctx, account, settings, roles, n_roles);
}

static int load_key_cb(void *ctx, const ks_key *key)
{
    return ks_index_put_key(ctx, key);
}

int ks_index_load(ks_index *idx, ks_store *store)
{
    ks_store_loader loader = {idx, load_account_cb, load_key_cb};
    return store->ops->load_all(store, &loader);
}

int ks_index_reload_account(ks_index *idx, ks_store *store, const char *account, int with_keys)
{
    ks_store_loader loader = {idx, load_account_cb, with_keys ? load_key_cb : NULL};
    return store->ops->load_account(store, account, &loader);
}

int ks_index_read_lock(ks_index *idx)
{
    (void)idx;
    return ks_epoch_enter();
}

void ks_index_read_unlock(ks_index *idx)
{
    (void)idx;
    ks_epoch_leave();
}

uint64_t ks_index_key_prefetch(const ks_index *idx, const char *key_id, size_t key_len)
{
    uint64_t h = key_hash(idx, key_id, key_len);
    const key_table *t = atomic_load_explicit(&((ks_index *)idx)->keys, memory_order_acquire);
    __builtin_prefetch(&t->slots[h & t->mask]);
    return h;
}

const ks_index_key *ks_index_find_key_hashed(const ks_index *idx, const char *key_id, size_t len,
                                             uint64_t hash)
{
    const key_table *t = atomic_load_explicit(&((ks_index *)idx)->keys, memory_order_acquire);
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        const ks_index_key *e = atomic_load_explicit(&((key_table *)t)->slots[i], memory_order_acquire);
        if (!e)
            return NULL;
        if (e != TOMBSTONE && e->key_len == len && memcmp(e->key_id, key_id, len) == 0)
            return e;
    }
}

const ks_index_key *ks_index_find_key(const ks_index *idx, const char *key_id, size_t len)
{
    return ks_index_find_key_hashed(idx, key_id, len, key_hash(idx, key_id, len));
}

const ks_index_view *ks_index_roleset_view(const ks_index_roleset *rs)
{
    return atomic_load_explicit(&((ks_index_roleset *)rs)->view, memory_order_acquire);
}

int64_t ks_index_token_expiry(const ks_index_key *key, int slot, int months)
{
    if (key->months == months)
        return key->tokens[slot].expires_at;
    return ks_token_expires_at(key->tokens[slot].created_at, months);
}

void ks_index_touch(const ks_index_key *key, ks_slot slot, int64_t now)
{
    ks_index_key *k = (ks_index_key *)key; /* only the atomics change */
    int i = slot == KS_SLOT_OLD ? 1 : 0;
    int64_t seen = atomic_load_explicit(&k->last_used[i], memory_order_relaxed);
    while (seen < now &&
           !atomic_compare_exchange_weak_explicit(&k->last_used[i], &seen, now,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

int ks_index_collect_last_used(ks_index *idx, ks_last_used **out, size_t *n)
{
    size_t cap = 0, count = 0;
    ks_last_used *items = NULL;
    int rc = KS_OK;
    if (ks_index_read_lock(idx) != 0) {
        rc = KS_ERR_NOMEM;
    } else {
        const key_table *t = atomic_load_explicit(&idx->keys, memory_order_acquire);
        for (size_t b = 0; rc == KS_OK && b <= t->mask; b++) {
            ks_index_key *k = atomic_load_explicit(&((key_table *)t)->slots[b], memory_order_acquire);
            if (!k || k == TOMBSTONE)
                continue;
            for (int i = 0; i < 2; i++) {
                int64_t used = atomic_load(&k->last_used[i]);
                if (!((k->present >> i) & 1) || used <= atomic_load(&k->last_flushed[i]))
                    continue;
                if (count == cap) {
                    cap = cap ? cap * 2 : 64;
                    ks_last_used *grown = realloc(items, cap * sizeof *grown);
                    if (!grown) { rc = KS_ERR_NOMEM; break; }
                    items = grown;
                }
                ks_last_used *u = &items[count++];
                memcpy(u->key_id, k->key_id, k->key_len);
                u->key_id[k->key_len] = '\0';
                u->hash = k->tokens[i].hash;
                u->last_used_at = used;
            }
        }
        ks_index_read_unlock(idx);
    }
    /* Also the moment to free what writes retired since the last one. */
    pthread_mutex_lock(&idx->write_lock);
    retire_flush(idx);
    pthread_mutex_unlock(&idx->write_lock);
    if (rc != KS_OK) {
        free(items);
        items = NULL;
        count = 0;
    }
    *out = items;
    *n = count;
    return rc;
}

/* A replaced entry, now that no reader holds it: a verify that found it
 * just before the replacement may have touched it after table_put passed
 * its times on; the key's current entry gets those too (by token
 * hash). Under write_lock, as every retire_flush. */
static void entry_hand_over_last_used(ks_index *idx, const ks_index_key *old)
{
    const key_table *t = atomic_load_explicit(&idx->keys, memory_order_relaxed);
    int found;
    size_t i = table_probe(idx, t, old->key_id, old->key_len, &found);
    if (!found)
        return; /* deleted since */
    last_used_pass_on(atomic_load_explicit(&((key_table *)t)->slots[i], memory_order_relaxed), old, 0);
}

void ks_index_mark_flushed(ks_index *idx, const ks_last_used *items, size_t n)
{
    if (n == 0 || ks_index_read_lock(idx) != 0)
        return; /* not marked: the next flush writes them again */
    for (size_t u = 0; u < n; u++) {
        const ks_index_key *k = ks_index_find_key(idx, items[u].key_id, strlen(items[u].key_id));
        int i = k ? slot_of_hash(k, &items[u].hash) : -1;
        if (i >= 0)
            atomic_raise(&((ks_index_key *)k)->last_flushed[i], items[u].last_used_at);
    }
    ks_index_read_unlock(idx);
}

void ks_index_merge_last_used(ks_index *idx, ks_key *keys, size_t n)
{
    if (n == 0 || ks_index_read_lock(idx) != 0)
        return; /* the store's times are at most one flush interval behind */
    for (size_t u = 0; u < n; u++) {
        const ks_index_key *k = ks_index_find_key(idx, keys[u].key_id, strlen(keys[u].key_id));
        ks_token *slots[2] = {&keys[u].slots.current, keys[u].slots.old.present ? &keys[u].slots.old : NULL};
        for (int s = 0; k && s < 2; s++) {
            int i = slots[s] ? slot_of_hash(k, &slots[s]->hash) : -1;
            if (i < 0)
                continue;
            int64_t seen = atomic_load_explicit(&((ks_index_key *)k)->last_used[i], memory_order_relaxed);
            if (seen > slots[s]->last_used_at)
                slots[s]->last_used_at = seen;
        }
    }
    ks_index_read_unlock(idx);
}

void ks_index_count(ks_index *idx, size_t *total, size_t *active)
{
    *total = atomic_load(&idx->n_total);
    *active = atomic_load(&idx->n_active);
}
