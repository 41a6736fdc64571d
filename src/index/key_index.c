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
#include "index/limits.h"
#include "index/epoch.h"
#include "core/error.h"
#include "core/token_age.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>


/* ---- retiring ---- */

static void entry_free(void *p);

void ks_index_retire_(ks_index *idx, void *p, void (*free_fn)(void *))
{
    ks_retire_list_add(&idx->retired, p, free_fn);
}

/* A replaced entry about to be freed passes its last-used times on, and
 * keeps what it counted since the last collection for the next one. */
static void retire_before_free(void *ctx, const ks_retired *item)
{
    if (item->free_fn == entry_free) {
        ks_index_entry_hand_over_last_used(ctx, item->ptr);
        ks_index_uses_freed(ctx, item->ptr);
    }
}

void ks_index_retired_entries(ks_index *idx, void (*fn)(void *ctx, ks_index_key *e), void *ctx)
{
    for (size_t i = 0; i < idx->retired.n; i++)
        if (idx->retired.items[i].free_fn == entry_free)
            fn(ctx, idx->retired.items[i].ptr);
}

void ks_index_retire_flush(ks_index *idx)
{
    ks_retire_list_flush(&idx->retired, retire_before_free, idx);
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
    sodium_memzero(e->slots, ks_index_key_size(e->present) - sizeof *e);
    free(e);
}

/* Drops the entry's role-set references (when it leaves the table). */
static void entry_release(ks_index *idx, const ks_index_key *e)
{
    ks_index_limits_release(idx, e->limits);
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
        if (ks_index_slot(e, s))
            e->slots[s].expires_in = (uint32_t)(expiry_of(idx, e->slots[s].created_at, months) - e->slots[s].created_at);
}

/* A new entry for key, holding references on its role sets. */
static int entry_build(ks_index *idx, const ks_key *key, size_t len, ks_index_key **out)
{
    const ks_token *slots[2] = {&key->slots.current, &key->slots.old};
    unsigned present = (slots[0]->present ? 1u : 0u) | (slots[1]->present ? 2u : 0u);
    ks_index_account *home = account_get(idx, key->account, 1);
    ks_index_key *e = calloc(1, ks_index_key_size(present));
    if (!home || !e) {
        free(e);
        return KS_ERR_NOMEM;
    }
    memcpy(e->key_id, key->key_id, len);
    e->key_len = (uint8_t)len;
    e->account = home;
    e->active = key->active ? 1 : 0;
    e->present = (uint8_t)present;
    e->store_seq = key->seq;
    e->old_ends_at = slots[1]->present ? slots[1]->ends_at : 0; /* verify refuses the old token from then on */
    for (int s = 0; s < 2; s++) {
        if (!slots[s]->present)
            continue;
        ks_index_token *t = &e->slots[s];
        t->hash = slots[s]->hash;
        t->created_at = slots[s]->created_at;
        ks_index_token_init(t, slots[s]->last_used_at, &slots[s]->last_used_from);
    }
    ks_settings settings;
    ks_index_account_settings(home, &settings);
    entry_set_expiry(idx, e, settings.token_duration_months);
    ks_index_limits *limits;
    int rc = ks_index_limits_build(key, &limits);
    if (rc != KS_OK) {
        free(e);
        return rc;
    }
    e->limits = limits;
    if (limits && limits->rate_limit > 0)
        e->present |= KS_INDEX_RATE_LIMITED;
    if (!(e->roles = ks_roleset_acquire(idx, home, key->roles.items, key->roles.count)))
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
            if (!(grants[i].roles = ks_roleset_acquire(idx, a, key->grants[i].roles.items, key->grants[i].roles.count)))
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
    size_t size = ks_index_key_size(e->present);
    ks_index_key *c = malloc(size);
    ks_index_grant *grants = e->n_grants ? malloc(e->n_grants * sizeof *grants) : NULL;
    if (!c || (e->n_grants && !grants)) {
        free(c);
        free(grants);
        return NULL;
    }
    memcpy(c, e, size); /* the slots' atomics are copied again below */
    atomic_store_explicit(&c->valid_uses, 0, memory_order_relaxed); /* e's count is e's: taken when e is freed */
    for (int s = 0; s < 2; s++)
        if (ks_index_slot(e, s)) {
            ks_index_token_copy_use(&c->slots[s], &e->slots[s]);
            ks_index_token_copy_tag(&c->slots[s], &e->slots[s]);
        }
    if (grants)
        memcpy(grants, e->grants, e->n_grants * sizeof *grants);
    c->grants = grants;
    ks_index_limits_acquire(c->limits);
    ((ks_index_roleset *)c->roles)->refs++;
    for (uint32_t i = 0; i < c->n_grants; i++)
        ((ks_index_roleset *)grants[i].roles)->refs++;
    entry_set_expiry(idx, c, months);
    return c;
}

ks_slot ks_index_slots_match(const ks_index_key *key, const ks_digest *d)
{
    static const ks_digest none; /* an absent old slot is compared with this, never matched */
    unsigned present = key->present;
    const ks_digest *old = (present & 2) ? &key->slots[1].hash : &none;
    int is_current = ks_digest_equal(&key->slots[0].hash, d) & (int)(present & 1);
    int is_old = ks_digest_equal(old, d) & (int)((present >> 1) & 1);
    if (is_current)
        return KS_SLOT_CURRENT;
    return is_old ? KS_SLOT_OLD : KS_SLOT_NONE;
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
        ks_index_key *e = table_entry(old, i, memory_order_relaxed);
        if (!e || e == TOMBSTONE)
            continue;
        uint64_t h = key_hash(idx, e->key_id, e->key_len);
        size_t j = h & t->mask;
        while (atomic_load_explicit(&t->slots[j], memory_order_relaxed))
            j = (j + 1) & t->mask;
        table_store(t, j, e, slot_tag(h), memory_order_relaxed);
        t->live++;
    }
    t->used = t->live;
    atomic_store_explicit(&idx->keys, t, memory_order_release);
    ks_index_retire_(idx, old, free);
    return KS_OK;
}

/* Index of e's key in t, or of the slot to insert it at (*found = 0). */
size_t ks_index_table_probe(const ks_index *idx, const key_table *t, const char *key, size_t len, int *found,
                            uint64_t *tag)
{
    size_t insert_at = SIZE_MAX;
    uint64_t h = key_hash(idx, key, len);
    *tag = slot_tag(h);
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        uint64_t w = atomic_load_explicit(&((key_table *)t)->slots[i], memory_order_relaxed);
        ks_index_key *cur = slot_entry(w);
        if (!cur) {
            *found = 0;
            return insert_at != SIZE_MAX ? insert_at : i;
        }
        if (cur == TOMBSTONE) {
            if (insert_at == SIZE_MAX)
                insert_at = i;
        } else if ((w & SLOT_TAG_MASK) == *tag && cur->key_len == len && memcmp(cur->key_id, key, len) == 0) {
            *found = 1;
            return i;
        }
    }
}

/* Publishes e in place of the entry of its key, or as a new one. */
static int table_put(ks_index *idx, ks_index_key *e)
{
    if (!slot_fits(e))
        return KS_ERR_NOMEM; /* an address no slot word holds (see SLOT_ADDR_BITS) */
    key_table *t = atomic_load_explicit(&idx->keys, memory_order_relaxed);
    int found;
    uint64_t tag;
    size_t i = ks_index_table_probe(idx, t, e->key_id, e->key_len, &found, &tag);
    if (found) {
        ks_index_key *old = table_entry(t, i, memory_order_relaxed);
        ks_index_last_used_pass_on(e, old, 1); /* e is not published yet; tags too */
        ks_index_limits_pass_on(e, old);        /* the bucket goes on unless the limit changed */
        table_store(t, i, e, tag, memory_order_release);
        atomic_fetch_add(&idx->n_active, (size_t)e->active - (size_t)old->active);
        entry_release(idx, old);
        ks_index_retire_(idx, old, entry_free);
        return KS_OK;
    }
    int fresh_slot = atomic_load_explicit(&t->slots[i], memory_order_relaxed) == 0;
    if (fresh_slot && (t->used + 1) * 10 > (t->mask + 1) * 7) {
        if (table_rebuild(idx, t->live + 1) == KS_OK) {
            t = atomic_load_explicit(&idx->keys, memory_order_relaxed);
            i = ks_index_table_probe(idx, t, e->key_id, e->key_len, &found, &tag);
        } else if (t->used + 2 > t->mask) {
            return KS_ERR_NOMEM; /* keep one empty slot so probes end */
        }
        fresh_slot = atomic_load_explicit(&t->slots[i], memory_order_relaxed) == 0;
    }
    table_store(t, i, e, tag, memory_order_release);
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
    randombytes_buf(idx->tag_key, sizeof idx->tag_key);
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

void ks_index_set_view_text(ks_index *idx, ks_index_view_text_fn fn)
{
    idx->view_text = fn;
}

void ks_index_free(ks_index *idx)
{
    if (!idx)
        return;
    ks_retire_list_free_all(&idx->retired);
    free(idx->freed_uses);
    key_table *t = atomic_load(&idx->keys);
    for (size_t i = 0; i <= t->mask; i++) {
        ks_index_key *e = table_entry(t, i, memory_order_relaxed);
        if (e && e != TOMBSTONE) {
            ks_index_limits_drop_now(e->limits);
            entry_free(e); /* role sets go with their accounts */
        }
    }
    free(t);
    for (size_t i = 0; i <= idx->accounts_mask; i++)
        for (ks_index_account *a = idx->accounts[i], *next; a; a = next) {
            next = a->next;
            ks_account_free(a);
        }
    free(idx->accounts);
    pthread_mutex_destroy(&idx->write_lock);
    sodium_memzero(idx->tag_key, sizeof idx->tag_key);
    free(idx);
}

/* Rebuilds the entries of account a for a new duration (best effort: an
 * entry left as it was computes its expiry when read). Writer only. */
static void account_rebuild_expiry(ks_index *idx, ks_index_account *a, int months)
{
    key_table *t = atomic_load_explicit(&idx->keys, memory_order_relaxed);
    for (size_t i = 0; i <= t->mask; i++) {
        uint64_t w = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        ks_index_key *e = slot_entry(w);
        if (!e || e == TOMBSTONE || e->account != a || e->months == months)
            continue;
        ks_index_key *c = entry_clone(idx, e, months);
        if (c && !slot_fits(c)) {
            entry_discard(idx, c);
            c = NULL;
        }
        if (!c)
            return;
        table_store(t, i, c, w & SLOT_TAG_MASK, memory_order_release);
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
    ks_index_retire_flush(idx);
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
    ks_index_retire_flush(idx);
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
    uint64_t tag;
    size_t i = ks_index_table_probe(idx, t, key_id, len, &found, &tag);
    if (found) {
        ks_index_key *old = table_entry(t, i, memory_order_relaxed);
        table_store(t, i, TOMBSTONE, 0, memory_order_release);
        t->live--;
        atomic_fetch_sub(&idx->n_total, 1);
        atomic_fetch_sub(&idx->n_active, (size_t)old->active);
        entry_release(idx, old);
        ks_index_retire_(idx, old, entry_free);
    }
    ks_index_retire_flush(idx);
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

/* From slot i of t on: the first entry with tag (NULL at an empty slot). */
static const ks_index_key *probe_tag(const key_table *t, size_t i, uint64_t tag, ks_index_probe *p)
{
    for (;; i = (i + 1) & t->mask) {
        uint64_t w = atomic_load_explicit(&((key_table *)t)->slots[i], memory_order_acquire);
        if (!w)
            return NULL;
        if ((w & SLOT_TAG_MASK) == tag) {
            p->at = i;
            p->limited = (w & SLOT_LIMITED) != 0;
            return slot_entry(w);
        }
    }
}

const ks_index_key *ks_index_key_candidate(const ks_index *idx, uint64_t hash, ks_index_probe *p)
{
    const key_table *t = atomic_load_explicit(&((ks_index *)idx)->keys, memory_order_acquire);
    p->table = t;
    p->tag = slot_tag(hash);
    return probe_tag(t, hash & t->mask, p->tag, p);
}

const ks_index_key *ks_index_key_confirm(const ks_index_key *cand, ks_index_probe *p, const char *key_id, size_t len)
{
    while (cand && !(cand->key_len == len && memcmp(cand->key_id, key_id, len) == 0)) {
        const key_table *t = p->table; /* set when cand is: not read for none */
        cand = probe_tag(t, (p->at + 1) & t->mask, p->tag, p); /* another key of the same tag */
    }
    return cand;
}

const ks_index_key *ks_index_find_key(const ks_index *idx, const char *key_id, size_t len)
{
    ks_index_probe p;
    return ks_index_key_confirm(ks_index_key_candidate(idx, key_hash(idx, key_id, len), &p), &p, key_id, len);
}

const ks_index_view *ks_index_roleset_view(const ks_index_roleset *rs)
{
    return atomic_load_explicit(&((ks_index_roleset *)rs)->view, memory_order_acquire);
}

int64_t ks_index_token_expiry_for(const ks_index_key *key, int slot, int months)
{
    const ks_index_token *t = &key->slots[slot];
    if (key->months == months)
        return t->created_at + t->expires_in;
    return ks_token_expires_at(t->created_at, months);
}


void ks_index_count(ks_index *idx, size_t *total, size_t *active)
{
    *total = atomic_load(&idx->n_total);
    *active = atomic_load(&idx->n_active);
}
