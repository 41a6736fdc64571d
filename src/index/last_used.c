/*
 * last_used.c - the last-used bookkeeping of the verify index (see
 * key_index.h "Last use"): a verify raises the slot's time in the entry
 * (ks_index_touch, an atomic that only moves forward) and records the
 * caller's address with it, the flusher collects what moved and marks what
 * the store has, reads merge this node's times into store records, and a
 * replaced entry passes its times on to the new one (matched by token hash:
 * a renewal moves a token to the old slot).
 *
 * A caller without an IP address (a Unix socket: family 0) is recorded as
 * none (API.md: null); a verify with no caller at all (in process, no
 * address callback) moves the time and leaves the address as it was.
 *
 * The address (two words) is guarded by the slot's from_seq, a sequence
 * lock: a writer makes it odd with a compare-and-swap, writes, and makes it
 * even again; a verify that finds it odd does not wait, it records the time
 * alone. Readers (the flusher, reads, hand-overs) read the time and the
 * address between two equal even values of from_seq, so they never see
 * half an address, and retry otherwise (a writer holds it for a few
 * stores). Only the verify that moves the slot's time to a new second
 * writes the address, so that costs at most one write per slot and second.
 */
#include "index/index_internal.h"
#include "core/error.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Raises *at to `seen` atomically (only ever forward); 1 when it did. */
static int atomic_raise(_Atomic int64_t *at, int64_t seen)
{
    int64_t cur = atomic_load_explicit(at, memory_order_relaxed);
    while (cur < seen)
        if (atomic_compare_exchange_weak_explicit(at, &cur, seen, memory_order_relaxed, memory_order_relaxed))
            return 1;
    return 0;
}

/* Takes t's address lock; 0 (not taken) when another writer holds it and
 * !wait. Returns with the odd value written in *seq. */
static int from_lock(ks_index_token *t, uint32_t *seq, int wait)
{
    for (;;) {
        uint32_t s = atomic_load_explicit(&t->from_seq, memory_order_relaxed);
        if (!(s & 1) && atomic_compare_exchange_strong_explicit(&t->from_seq, &s, s + 1, memory_order_acquire,
                                                               memory_order_relaxed)) {
            atomic_thread_fence(memory_order_release); /* the odd value before the address */
            *seq = s + 1;
            return 1;
        }
        if (!wait)
            return 0;
        sched_yield();
    }
}

static void from_unlock(ks_index_token *t, uint32_t seq)
{
    atomic_store_explicit(&t->from_seq, seq + 1, memory_order_release);
}

static void from_store(ks_index_token *t, const uint64_t w[2])
{
    atomic_store_explicit(&t->from[0], w[0], memory_order_relaxed);
    atomic_store_explicit(&t->from[1], w[1], memory_order_relaxed);
}

/* t's last use and the address recorded with it (words, zero = unknown),
 * read as one. */
static int64_t token_read(const ks_index_token *token, uint64_t w[2])
{
    ks_index_token *t = (ks_index_token *)token; /* only loads */
    for (unsigned tries = 0;; tries++) {
        uint32_t s = atomic_load_explicit(&t->from_seq, memory_order_acquire);
        if (!(s & 1)) {
            int64_t used = atomic_load_explicit(&t->last_used, memory_order_relaxed);
            w[0] = atomic_load_explicit(&t->from[0], memory_order_relaxed);
            w[1] = atomic_load_explicit(&t->from[1], memory_order_relaxed);
            atomic_thread_fence(memory_order_acquire);
            if (atomic_load_explicit(&t->from_seq, memory_order_relaxed) == s)
                return used;
        }
        if (tries >= 16)
            sched_yield(); /* the writer was preempted while holding it */
    }
}

/* Raises t's last use to `used`, which came with address w (zero: none);
 * the address goes with the time when the time moves (writers only: waits
 * for a verify writing t's address). */
static void token_raise(ks_index_token *t, int64_t used, const uint64_t w[2])
{
    uint32_t seq;
    from_lock(t, &seq, 1);
    if (atomic_raise(&t->last_used, used))
        from_store(t, w);
    from_unlock(t, seq);
}

void ks_index_token_init(ks_index_token *t, int64_t last_used, const ks_netaddr *from)
{
    uint64_t w[2];
    ks_netaddr_pack(from, w);
    atomic_init(&t->from_seq, 0);
    atomic_init(&t->last_used, last_used);
    atomic_init(&t->last_flushed, last_used);
    atomic_init(&t->from[0], w[0]);
    atomic_init(&t->from[1], w[1]);
}

void ks_index_token_copy_use(ks_index_token *dst, const ks_index_token *src)
{
    uint64_t w[2];
    int64_t used = token_read(src, w);
    atomic_store_explicit(&dst->from_seq, 0, memory_order_relaxed);
    atomic_store_explicit(&dst->last_used, used, memory_order_relaxed);
    atomic_store_explicit(&dst->last_flushed,
                          atomic_load_explicit(&((ks_index_token *)src)->last_flushed, memory_order_relaxed),
                          memory_order_relaxed);
    from_store(dst, w);
}

int ks_index_slot_of_hash(const ks_index_key *k, const ks_digest *hash)
{
    for (int i = 0; i < 2; i++)
        if (ks_index_slot(k, i) && ks_digest_equal(&k->slots[i].hash, hash))
            return i;
    return -1;
}

void ks_index_last_used_pass_on(ks_index_key *to, const ks_index_key *from, int flushed)
{
    for (int i = 0; i < 2; i++) {
        int j = ks_index_slot(to, i) ? ks_index_slot_of_hash(from, &to->slots[i].hash) : -1;
        if (j < 0)
            continue;
        uint64_t w[2];
        int64_t used = token_read(&from->slots[j], w);
        token_raise(&to->slots[i], used, w);
        ks_index_token_copy_tag(&to->slots[i], &from->slots[j]);
        if (flushed)
            atomic_store(&to->slots[i].last_flushed,
                         atomic_load(&((ks_index_key *)from)->slots[j].last_flushed));
    }
}

void ks_index_touch(const ks_index_key *key, ks_slot slot, int64_t now, const ks_netaddr *from)
{
    ks_index_token *t = (ks_index_token *)&key->slots[slot == KS_SLOT_OLD ? 1 : 0]; /* only the atomics change */
    uint32_t seq;
    if (atomic_load_explicit(&t->last_used, memory_order_relaxed) >= now)
        return;
    if (!from || !from_lock(t, &seq, 0)) {
        atomic_raise(&t->last_used, now); /* no caller (in process), or another address being written */
        return;
    }
    /* the time moved, by this call or by another in the same second */
    atomic_raise(&t->last_used, now);
    if (atomic_load_explicit(&t->last_used, memory_order_relaxed) == now) {
        uint64_t w[2];
        ks_netaddr_pack(from, w);
        from_store(t, w);
    }
    from_unlock(t, seq);
}

int ks_index_collect_last_used(ks_index *idx, ks_last_used_scope scope, ks_last_used **out, size_t *n)
{
    size_t cap = 0, count = 0;
    ks_last_used *items = NULL;
    int rc = KS_OK;
    if (ks_index_read_lock(idx) != 0) {
        rc = KS_ERR_NOMEM;
    } else {
        const key_table *t = atomic_load_explicit(&idx->keys, memory_order_acquire);
        for (size_t b = 0; rc == KS_OK && b <= t->mask; b++) {
            ks_index_key *k = table_entry(t, b, memory_order_acquire);
            if (!k || k == TOMBSTONE || (scope == KS_LAST_USED_RENEWED_KEYS && !ks_index_slot(k, 1)))
                continue;
            for (int i = 0; i < 2; i++) {
                if (!ks_index_slot(k, i))
                    continue;
                uint64_t w[2];
                int64_t used = token_read(&k->slots[i], w);
                if (used <= atomic_load(&k->slots[i].last_flushed))
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
                u->hash = k->slots[i].hash;
                u->last_used_at = used;
                ks_netaddr_unpack(w, &u->from);
                u->key_seq = k->store_seq; /* the store's last_used_order looks up a 0 */
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
    uint64_t tag;
    size_t i = ks_index_table_probe(idx, t, old->key_id, old->key_len, &found, &tag);
    if (!found)
        return; /* deleted since */
    ks_index_last_used_pass_on(table_entry(t, i, memory_order_relaxed), old, 0);
}

void ks_index_mark_flushed(ks_index *idx, const ks_last_used *items, size_t n)
{
    if (n == 0 || ks_index_read_lock(idx) != 0)
        return; /* not marked: the next flush writes them again */
    for (size_t u = 0; u < n; u++) {
        const ks_index_key *k = ks_index_find_key(idx, items[u].key_id, strlen(items[u].key_id));
        int i = k ? ks_index_slot_of_hash(k, &items[u].hash) : -1;
        if (i >= 0)
            atomic_raise(&((ks_index_key *)k)->slots[i].last_flushed, items[u].last_used_at);
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
            int i = slots[s] ? ks_index_slot_of_hash(k, &slots[s]->hash) : -1;
            if (i < 0)
                continue;
            uint64_t w[2];
            int64_t seen = token_read(&k->slots[i], w);
            if (seen <= slots[s]->last_used_at)
                continue;
            slots[s]->last_used_at = seen;
            ks_netaddr_unpack(w, &slots[s]->last_used_from);
        }
    }
    ks_index_read_unlock(idx);
}
