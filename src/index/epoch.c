/*
 * epoch.c - see epoch.h, and the retire list at the end, which writers use
 * to defer frees until ks_epoch_safe. Each thread owns one record (a cache line) holding
 * the epoch it entered at, 0 when outside. Records live on one global list
 * that only grows; a thread that exits gives its record back for reuse.
 *
 * Why it is safe: a writer unlinks, advances the epoch to E (a seq_cst
 * read-modify-write), then later checks that every record is 0 or >= E. A
 * reader stores its epoch, then issues a seq_cst fence, then reads pointers.
 * By the store-buffering rule for seq_cst fences, either the writer's check
 * sees the reader's store (and waits for it, its epoch being < E), or the
 * reader's reads see the unlink. A reader that announced epoch >= E read the
 * epoch after the advance, hence after the unlink.
 */
#include "index/epoch.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct epoch_record {
    _Alignas(64) _Atomic uint64_t active; /* epoch at entry, 0 = outside */
    _Atomic int in_use;                   /* owned by a live thread */
    unsigned depth;                       /* nesting, owner thread only */
    struct epoch_record *next;            /* immutable once published */
} epoch_record;

static _Atomic uint64_t global_epoch = 1;
static _Atomic(epoch_record *) records;
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t record_key;
static pthread_once_t record_key_once = PTHREAD_ONCE_INIT;
static _Thread_local epoch_record *my_record;

/* Thread exit: the record is free for the next thread (it is outside). */
static void record_release(void *p)
{
    epoch_record *r = p;
    atomic_store(&r->active, 0);
    r->depth = 0;
    atomic_store(&r->in_use, 0);
}

static void record_key_make(void)
{
    (void)pthread_key_create(&record_key, record_release);
}

/* The calling thread's record, made or reused on its first section. */
static epoch_record *record_get(void)
{
    if (my_record)
        return my_record;
    pthread_once(&record_key_once, record_key_make);
    epoch_record *r = NULL;
    for (epoch_record *p = atomic_load(&records); p && !r; p = p->next) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&p->in_use, &expected, 1))
            r = p;
    }
    if (!r) {
        r = aligned_alloc(64, sizeof *r);
        if (!r)
            return NULL;
        atomic_init(&r->active, 0);
        atomic_init(&r->in_use, 1);
        r->depth = 0;
        pthread_mutex_lock(&records_lock);
        r->next = atomic_load(&records);
        atomic_store(&records, r);
        pthread_mutex_unlock(&records_lock);
    }
    (void)pthread_setspecific(record_key, r);
    my_record = r;
    return r;
}

int ks_epoch_enter(void)
{
    epoch_record *r = record_get();
    if (!r)
        return -1;
    if (r->depth++ == 0) {
        atomic_store_explicit(&r->active, atomic_load(&global_epoch), memory_order_relaxed);
        atomic_thread_fence(memory_order_seq_cst);
    }
    return 0;
}

void ks_epoch_leave(void)
{
    epoch_record *r = my_record;
    if (r && --r->depth == 0)
        atomic_store_explicit(&r->active, 0, memory_order_release);
}

uint64_t ks_epoch_retire_tag(void)
{
    return atomic_fetch_add(&global_epoch, 1) + 1;
}

int ks_epoch_safe(uint64_t tag)
{
    atomic_thread_fence(memory_order_seq_cst);
    for (epoch_record *p = atomic_load(&records); p; p = p->next) {
        uint64_t a = atomic_load_explicit(&p->active, memory_order_acquire);
        if (a != 0 && a < tag)
            return 0;
    }
    return 1;
}

void ks_retire_list_add(ks_retire_list *list, void *p, void (*free_fn)(void *))
{
    if (!p)
        return;
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        ks_retired *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown) { /* no room to defer: wait for the readers instead */
            uint64_t tag = ks_epoch_retire_tag();
            while (!ks_epoch_safe(tag))
                sched_yield();
            free_fn(p);
            return;
        }
        list->items = grown;
        list->cap = cap;
    }
    list->items[list->n++] = (ks_retired){p, free_fn, 0};
}

void ks_retire_list_flush(ks_retire_list *list, void (*before_free)(void *ctx, const ks_retired *item), void *ctx)
{
    if (list->n == 0)
        return;
    if (list->items[list->n - 1].tag == 0) {
        uint64_t tag = ks_epoch_retire_tag();
        for (size_t i = list->n; i > 0 && list->items[i - 1].tag == 0; i--)
            list->items[i - 1].tag = tag;
    }
    size_t done = 0;
    uint64_t safe_up_to = 0;
    while (done < list->n) {
        uint64_t tag = list->items[done].tag;
        if (tag > safe_up_to) {
            if (!ks_epoch_safe(tag))
                break;
            safe_up_to = tag;
        }
        if (before_free)
            before_free(ctx, &list->items[done]);
        list->items[done].free_fn(list->items[done].ptr);
        done++;
    }
    memmove(list->items, list->items + done, (list->n - done) * sizeof *list->items);
    list->n -= done;
}

void ks_retire_list_free_all(ks_retire_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        list->items[i].free_fn(list->items[i].ptr);
    free(list->items);
    list->items = NULL;
    list->n = list->cap = 0;
}
