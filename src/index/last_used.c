/*
 * last_used.c - the last-used bookkeeping of the verify index (see
 * key_index.h "Last use"): a verify raises the slot's time in the entry
 * (ks_index_touch, an atomic that only moves forward), the flusher collects
 * what moved and marks what the store has, reads merge this node's times
 * into store records, and a replaced entry passes its times on to the new
 * one (matched by token hash: a renewal moves a token to the old slot).
 */
#include "index/index_internal.h"
#include "core/error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
        if (ks_index_slot(k, i)->present && ks_digest_equal(&ks_index_slot(k, i)->hash, hash))
            return i;
    return -1;
}

void ks_index_last_used_pass_on(ks_index_key *to, const ks_index_key *from, int flushed)
{
    ks_index_key *src = (ks_index_key *)from; /* only its atomics are read */
    for (int i = 0; i < 2; i++) {
        int j = ks_index_slot(to, i)->present ? slot_of_hash(from, &ks_index_slot(to, i)->hash) : -1;
        if (j < 0)
            continue;
        atomic_raise(&to->last_used[i], atomic_load(&src->last_used[j]));
        if (flushed)
            atomic_store(&to->last_flushed[i], atomic_load(&src->last_flushed[j]));
    }
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
                if (!ks_index_slot(k, i)->present || used <= atomic_load(&k->last_flushed[i]))
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
                u->hash = ks_index_slot(k, i)->hash;
                u->last_used_at = used;
            }
        }
        ks_index_read_unlock(idx);
    }
    /* Also the moment to free what writes retired since the last one. */
    pthread_mutex_lock(&idx->write_lock);
    ks_index_retire_flush(idx);
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

void ks_index_entry_hand_over_last_used(ks_index *idx, const ks_index_key *old)
{
    const key_table *t = atomic_load_explicit(&idx->keys, memory_order_relaxed);
    int found;
    size_t i = ks_index_table_probe(idx, t, old->key_id, old->key_len, &found);
    if (!found)
        return; /* deleted since */
    ks_index_last_used_pass_on(atomic_load_explicit(&((key_table *)t)->slots[i], memory_order_relaxed), old, 0);
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
