/*
 * use_count.c - valid verifies counted in the key's index entry (see
 * key_index.h "Valid uses"): the slow path of a count (a new minute), what
 * a freed entry leaves, and the collection.
 *
 * The word is minute << 32 | count. Every change is one atomic
 * read-modify-write: a verify's add, a rollover's compare-and-swap to the
 * new minute with a count of 1 (the old count goes to that verify's
 * caller), a collection's compare-and-swap of the count to 0 (the count
 * goes to the collector). So each verify is counted once, in exactly one
 * of: the word, a rollover's hand-out, a collection.
 */
#include "index/index_internal.h"

#include <stdlib.h>
#include <string.h>

#define COUNT_BITS 0x00000000FFFFFFFFull

int ks_index_count_use_slow(const ks_index_key *key, uint32_t minute, int64_t *old_minute, uint32_t *old_count)
{
    _Atomic uint64_t *w = (_Atomic uint64_t *)&key->valid_uses;
    uint64_t seen = atomic_load_explicit(w, memory_order_relaxed);
    for (;;) {
        uint32_t at = (uint32_t)(seen >> 32), n = (uint32_t)seen;
        if (at > minute || (at == minute && n >= KS_INDEX_USES_MAX))
            return KS_INDEX_USE_ELSEWHERE; /* a later minute's word (an older clock), or full */
        if (at == minute) {
            if (atomic_compare_exchange_weak_explicit(w, &seen, seen + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                return KS_INDEX_USE_COUNTED;
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(w, &seen, (uint64_t)minute << 32 | 1, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            if (n == 0)
                return KS_INDEX_USE_COUNTED;
            *old_minute = (int64_t)at * 60;
            *old_count = n;
            return KS_INDEX_USE_ROLLED;
        }
    }
}

/* Takes e's count (the minute stays): 0 when it has none. */
static uint32_t take(ks_index_key *e, int64_t *minute)
{
    _Atomic uint64_t *w = &e->valid_uses;
    uint64_t seen = atomic_load_explicit(w, memory_order_relaxed);
    while ((seen & COUNT_BITS) != 0) {
        if (atomic_compare_exchange_weak_explicit(w, &seen, seen & ~COUNT_BITS, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *minute = (int64_t)(seen >> 32) * 60;
            return (uint32_t)seen;
        }
    }
    return 0;
}

void ks_index_uses_freed(ks_index *idx, ks_index_key *e)
{
    int64_t minute;
    uint32_t n = take(e, &minute);
    if (n == 0)
        return;
    if (idx->n_freed_uses == idx->cap_freed_uses) {
        size_t cap = idx->cap_freed_uses ? idx->cap_freed_uses * 2 : 16;
        ks_index_freed_use *grown = realloc(idx->freed_uses, cap * sizeof *grown);
        if (!grown)
            return; /* out of memory: these verifies go uncounted (the index cannot log) */
        idx->freed_uses = grown;
        idx->cap_freed_uses = cap;
    }
    ks_index_freed_use *u = &idx->freed_uses[idx->n_freed_uses++];
    memset(u->key_id, 0, sizeof u->key_id);
    memcpy(u->key_id, e->key_id, e->key_len);
    u->key_len = e->key_len;
    u->minute = minute;
    u->count = n;
}

typedef struct {
    ks_index_use_fn fn;
    void *ctx;
} use_visit;

static void take_and_pass(void *ctx, ks_index_key *e)
{
    use_visit *v = ctx;
    int64_t minute;
    uint32_t n = take(e, &minute);
    if (n)
        v->fn(v->ctx, e->key_id, e->key_len, minute, n);
}

void ks_index_collect_uses(ks_index *idx, ks_index_use_fn fn, void *ctx)
{
    use_visit v = {fn, ctx};
    if (ks_index_read_lock(idx) == 0) { /* else: the entries keep their counts for the next call */
        const key_table *t = atomic_load_explicit(&idx->keys, memory_order_acquire);
        for (size_t b = 0; b <= t->mask; b++) {
            ks_index_key *k = table_entry(t, b, memory_order_acquire);
            if (k && k != TOMBSTONE)
                take_and_pass(&v, k);
        }
        ks_index_read_unlock(idx);
    }
    /* Replaced and deleted entries: those freed now or since the last call
     * left their counts in freed_uses; those still held by a reader are
     * taken as they are (what a reader adds still is taken when freed). */
    pthread_mutex_lock(&idx->write_lock);
    ks_index_retire_flush(idx);
    ks_index_retired_entries(idx, take_and_pass, &v);
    for (size_t i = 0; i < idx->n_freed_uses; i++) {
        const ks_index_freed_use *u = &idx->freed_uses[i];
        fn(ctx, u->key_id, u->key_len, u->minute, u->count);
    }
    idx->n_freed_uses = 0;
    pthread_mutex_unlock(&idx->write_lock);
}
