/*
 * key_index.c - chained hash tables of keys and accounts under one
 * writer-preferring rwlock. Bucket hash: SipHash (libsodium crypto_shorthash)
 * with a random key per process, so crafted key ids cannot pile into a chain.
 */
#include "index/key_index.h"
#include "core/error.h"

#include <pthread.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    void **buckets;
    size_t mask;  /* bucket count - 1 (a power of two) */
    size_t count;
} chain_table;

struct ks_index {
    pthread_rwlock_t lock;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    chain_table keys;     /* of ks_index_key */
    chain_table accounts; /* of ks_index_account */
};

/* Both entry types start with `next`, then the NUL-terminated name. */
typedef struct chain_node {
    struct chain_node *next;
    char name[];
} chain_node;

static size_t bucket_of(const ks_index *idx, const chain_table *t, const char *name)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, (const unsigned char *)name, strlen(name), idx->hash_key);
    return (size_t)h & t->mask;
}

static int table_init(chain_table *t, size_t n)
{
    t->buckets = calloc(n, sizeof *t->buckets);
    t->mask = n - 1;
    t->count = 0;
    return t->buckets ? KS_OK : KS_ERR_NOMEM;
}

static chain_node *table_find(const ks_index *idx, const chain_table *t, const char *name)
{
    for (chain_node *n = t->buckets[bucket_of(idx, t, name)]; n; n = n->next)
        if (strcmp(n->name, name) == 0)
            return n;
    return NULL;
}

/* Doubles the bucket array when the load passes 1; done under the write lock. */
static void table_grow(ks_index *idx, chain_table *t)
{
    if (t->count <= t->mask)
        return;
    size_t n = (t->mask + 1) * 2;
    void **nb = calloc(n, sizeof *nb);
    if (!nb)
        return; /* keep the longer chains: still correct */
    chain_table grown = {nb, n - 1, t->count};
    for (size_t i = 0; i <= t->mask; i++) {
        chain_node *node = t->buckets[i];
        while (node) {
            chain_node *next = node->next;
            size_t b = bucket_of(idx, &grown, node->name);
            node->next = nb[b];
            nb[b] = node;
            node = next;
        }
    }
    free(t->buckets);
    *t = grown;
}

/* Puts `node` in place of the entry of the same name; returns the replaced one. */
static chain_node *table_replace(ks_index *idx, chain_table *t, chain_node *node)
{
    chain_node **slot = (chain_node **)&t->buckets[bucket_of(idx, t, node->name)];
    for (; *slot; slot = &(*slot)->next) {
        if (strcmp((*slot)->name, node->name) == 0) {
            chain_node *old = *slot;
            node->next = old->next;
            *slot = node;
            return old;
        }
    }
    node->next = NULL;
    *slot = node;
    t->count++;
    table_grow(idx, t);
    return NULL;
}

static chain_node *table_remove(ks_index *idx, chain_table *t, const char *name)
{
    chain_node **slot = (chain_node **)&t->buckets[bucket_of(idx, t, name)];
    for (; *slot; slot = &(*slot)->next) {
        if (strcmp((*slot)->name, name) == 0) {
            chain_node *old = *slot;
            *slot = old->next;
            t->count--;
            return old;
        }
    }
    return NULL;
}

static void key_entry_free(ks_index_key *k)
{
    if (!k)
        return;
    ks_strlist_free(&k->roles);
    for (size_t i = 0; i < k->n_grants; i++)
        ks_strlist_free(&k->grants[i].roles);
    free(k->grants);
    sodium_memzero(&k->slots, sizeof k->slots);
    free(k);
}

static void account_entry_free(ks_index_account *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_roles; i++) {
        free(a->roles[i].name);
        ks_strlist_free(&a->roles[i].resources);
    }
    free(a->roles);
    free(a);
}

ks_index *ks_index_new(void)
{
    ks_index *idx = calloc(1, sizeof *idx);
    if (!idx)
        return NULL;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&idx->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    randombytes_buf(idx->hash_key, sizeof idx->hash_key);
    if (table_init(&idx->keys, 1024) != KS_OK || table_init(&idx->accounts, 64) != KS_OK) {
        ks_index_free(idx);
        return NULL;
    }
    return idx;
}

void ks_index_free(ks_index *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; idx->keys.buckets && i <= idx->keys.mask; i++)
        for (chain_node *n = idx->keys.buckets[i], *next; n; n = next) {
            next = n->next;
            key_entry_free((ks_index_key *)n);
        }
    for (size_t i = 0; idx->accounts.buckets && i <= idx->accounts.mask; i++)
        for (chain_node *n = idx->accounts.buckets[i], *next; n; n = next) {
            next = n->next;
            account_entry_free((ks_index_account *)n);
        }
    free(idx->keys.buckets);
    free(idx->accounts.buckets);
    pthread_rwlock_destroy(&idx->lock);
    free(idx);
}

int ks_index_put_account(ks_index *idx, const char *account, const ks_settings *settings,
                         const ks_role *roles, size_t n_roles)
{
    ks_index_account *a = calloc(1, sizeof *a);
    if (!a)
        return KS_ERR_NOMEM;
    snprintf(a->name, sizeof a->name, "%s", account);
    a->settings = *settings;
    a->roles = calloc(n_roles ? n_roles : 1, sizeof *a->roles);
    if (!a->roles) {
        free(a);
        return KS_ERR_NOMEM;
    }
    for (size_t i = 0; i < n_roles; i++, a->n_roles++) {
        a->roles[i].name = strdup(roles[i].name);
        if (!a->roles[i].name || ks_strlist_copy(&a->roles[i].resources, &roles[i].resources) != KS_OK) {
            free(a->roles[i].name);
            account_entry_free(a);
            return KS_ERR_NOMEM;
        }
    }
    pthread_rwlock_wrlock(&idx->lock);
    chain_node *old = table_replace(idx, &idx->accounts, (chain_node *)a);
    pthread_rwlock_unlock(&idx->lock);
    account_entry_free((ks_index_account *)old);
    return KS_OK;
}

/* The newest last-used time of a token with this hash in `old`, for carrying
 * it over when an entry is replaced (a renewal moves current to old). */
static void carry_last_used(ks_index_key *fresh, const ks_index_key *old)
{
    const ks_token *fresh_slots[2] = {&fresh->slots.current, &fresh->slots.old};
    const ks_token *old_slots[2] = {&old->slots.current, &old->slots.old};
    for (int i = 0; i < 2; i++) {
        if (!fresh_slots[i]->present)
            continue;
        for (int j = 0; j < 2; j++) {
            if (old_slots[j]->present && ks_digest_equal(&fresh_slots[i]->hash, &old_slots[j]->hash)) {
                int64_t seen = atomic_load(&old->last_used[j]);
                if (seen > atomic_load(&fresh->last_used[i]))
                    atomic_store(&fresh->last_used[i], seen);
                atomic_store(&fresh->last_flushed[i], atomic_load(&old->last_flushed[j]));
            }
        }
    }
}

int ks_index_put_key(ks_index *idx, const ks_key *key)
{
    ks_index_key *k = calloc(1, sizeof *k);
    if (!k)
        return KS_ERR_NOMEM;
    snprintf(k->key_id, sizeof k->key_id, "%s", key->key_id);
    snprintf(k->account, sizeof k->account, "%s", key->account);
    k->active = key->active;
    k->slots = key->slots;
    atomic_init(&k->last_used[0], key->slots.current.last_used_at);
    atomic_init(&k->last_used[1], key->slots.old.last_used_at);
    atomic_init(&k->last_flushed[0], key->slots.current.last_used_at);
    atomic_init(&k->last_flushed[1], key->slots.old.last_used_at);
    if (ks_strlist_copy(&k->roles, &key->roles) != KS_OK ||
        (key->n_grants && !(k->grants = calloc(key->n_grants, sizeof *k->grants)))) {
        key_entry_free(k);
        return KS_ERR_NOMEM;
    }
    for (size_t i = 0; i < key->n_grants; i++, k->n_grants++) {
        k->grants[i] = key->grants[i];
        if (ks_strlist_copy(&k->grants[i].roles, &key->grants[i].roles) != KS_OK) {
            key_entry_free(k);
            return KS_ERR_NOMEM;
        }
    }
    pthread_rwlock_wrlock(&idx->lock);
    chain_node *old = table_find(idx, &idx->keys, k->key_id);
    if (old)
        carry_last_used(k, (ks_index_key *)old);
    old = table_replace(idx, &idx->keys, (chain_node *)k);
    pthread_rwlock_unlock(&idx->lock);
    key_entry_free((ks_index_key *)old);
    return KS_OK;
}

void ks_index_remove_key(ks_index *idx, const char *key_id)
{
    pthread_rwlock_wrlock(&idx->lock);
    chain_node *old = table_remove(idx, &idx->keys, key_id);
    pthread_rwlock_unlock(&idx->lock);
    key_entry_free((ks_index_key *)old);
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

void ks_index_read_lock(ks_index *idx) { pthread_rwlock_rdlock(&idx->lock); }
void ks_index_read_unlock(ks_index *idx) { pthread_rwlock_unlock(&idx->lock); }

const ks_index_key *ks_index_find_key(const ks_index *idx, const char *key_id)
{
    return (const ks_index_key *)table_find(idx, &idx->keys, key_id);
}

const ks_index_account *ks_index_find_account(const ks_index *idx, const char *account)
{
    return (const ks_index_account *)table_find(idx, &idx->accounts, account);
}

const ks_index_role *ks_index_find_role(const ks_index_account *acct, const char *role)
{
    for (size_t i = 0; i < acct->n_roles; i++)
        if (strcmp(acct->roles[i].name, role) == 0)
            return &acct->roles[i];
    return NULL;
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
    pthread_rwlock_rdlock(&idx->lock);
    for (size_t b = 0; rc == KS_OK && b <= idx->keys.mask; b++) {
        for (ks_index_key *k = idx->keys.buckets[b]; rc == KS_OK && k; k = k->next) {
            for (int i = 0; i < 2; i++) {
                int64_t used = atomic_load(&k->last_used[i]);
                if (used <= atomic_load(&k->last_flushed[i]))
                    continue;
                if (count == cap) {
                    cap = cap ? cap * 2 : 64;
                    ks_last_used *grown = realloc(items, cap * sizeof *grown);
                    if (!grown) { rc = KS_ERR_NOMEM; break; }
                    items = grown;
                }
                ks_last_used *u = &items[count++];
                snprintf(u->key_id, sizeof u->key_id, "%s", k->key_id);
                u->hash = i ? k->slots.old.hash : k->slots.current.hash;
                u->last_used_at = used;
                atomic_store(&k->last_flushed[i], used);
            }
        }
    }
    pthread_rwlock_unlock(&idx->lock);
    if (rc != KS_OK) {
        free(items);
        items = NULL;
        count = 0;
    }
    *out = items;
    *n = count;
    return rc;
}

void ks_index_count(ks_index *idx, size_t *total, size_t *active)
{
    size_t t = 0, a = 0;
    pthread_rwlock_rdlock(&idx->lock);
    for (size_t b = 0; b <= idx->keys.mask; b++)
        for (ks_index_key *k = idx->keys.buckets[b]; k; k = k->next) {
            t++;
            a += k->active ? 1 : 0;
        }
    pthread_rwlock_unlock(&idx->lock);
    *total = t;
    *active = a;
}
