/* usage.c - verifies counted per key, minute and outcome (see usage.h). */
#include "service/usage.h"
#include "core/error.h"
#include "log/log.h"

#include "index/epoch.h"

#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

const char *const KS_USAGE_OUTCOME_NAMES[KS_USAGE_OUTCOMES] = {
    "valid", "invalid_token", "inactive", "expired", "forbidden", "address_not_allowed", "rate_limited",
};

typedef struct {
    uint8_t used;                       /* owner: the cell holds a (key, minute) */
    uint8_t key_len;
    char key_id[KS_KEY_ID_MAX + 1];
    int64_t minute;
    uint32_t counts[KS_USAGE_OUTCOMES];
} usage_cell;

typedef struct {
    size_t used;                        /* cells taken */
    usage_cell cells[KS_USAGE_CELLS];   /* open addressing, linear probing */
} usage_table;

typedef struct usage_thread {
    _Atomic(usage_table *) active;      /* the owner counts here */
    usage_table *spare;                 /* the collector's: the next active one */
    usage_table *taken;                 /* the collector's: swapped out, being read */
    struct usage_thread *next;
} usage_thread;

#define SPILL_BUCKETS 1024

typedef struct overflow {
    ks_usage_row row;
    struct overflow *next;
} overflow;

struct ks_usage {
    pthread_mutex_t lock;               /* threads list, overflow, pending */
    pthread_mutex_t flush_lock;         /* one flush at a time */
    usage_thread *threads;
    overflow *spill[SPILL_BUCKETS];     /* counts that found their table full, by hash */
    ks_usage_row *pending;              /* collected, not yet written (a failed flush) */
    size_t n_pending;
    uint64_t gen;
};

static _Atomic uint64_t generations;
static _Thread_local struct {
    const struct ks_usage *owner;
    uint64_t gen;
    usage_thread *t;
} mine;

int ks_usage_outcome_of(ks_verify_reason reason)
{
    switch (reason) {
    case KS_VERIFY_OK: return KS_USAGE_VALID;
    case KS_VERIFY_INVALID_TOKEN: return KS_USAGE_INVALID_TOKEN;
    case KS_VERIFY_INACTIVE: return KS_USAGE_INACTIVE;
    case KS_VERIFY_EXPIRED: return KS_USAGE_EXPIRED;
    case KS_VERIFY_FORBIDDEN: return KS_USAGE_FORBIDDEN;
    case KS_VERIFY_ADDRESS_NOT_ALLOWED: return KS_USAGE_ADDRESS_NOT_ALLOWED;
    case KS_VERIFY_RATE_LIMITED: return KS_USAGE_RATE_LIMITED;
    default: return -1;
    }
}

int ks_usage_init(ks_service *svc)
{
    struct ks_usage *u = calloc(1, sizeof *u);
    if (!u)
        return KS_ERR_NOMEM;
    pthread_mutex_init(&u->lock, NULL);
    pthread_mutex_init(&u->flush_lock, NULL);
    u->gen = atomic_fetch_add(&generations, 1) + 1;
    svc->usage = u;
    return KS_OK;
}

void ks_usage_free(ks_service *svc)
{
    struct ks_usage *u = svc->usage;
    if (!u)
        return;
    for (usage_thread *t = u->threads, *next; t; t = next) {
        next = t->next;
        free(atomic_load(&t->active));
        free(t->spare);
        free(t);
    }
    for (size_t b = 0; b < SPILL_BUCKETS; b++)
        for (overflow *o = u->spill[b], *next; o; o = next) {
            next = o->next;
            free(o);
        }
    free(u->pending);
    pthread_mutex_destroy(&u->lock);
    pthread_mutex_destroy(&u->flush_lock);
    free(u);
    svc->usage = NULL;
}

/* This thread's tables for u, registered on its first count; NULL when out
 * of memory. */
static usage_thread *thread_of(struct ks_usage *u)
{
    if (mine.owner == u && mine.gen == u->gen)
        return mine.t;
    usage_thread *t = calloc(1, sizeof *t);
    usage_table *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    if (!t || !a || !b) {
        free(t);
        free(a);
        free(b);
        return NULL;
    }
    atomic_init(&t->active, a);
    t->spare = b;
    pthread_mutex_lock(&u->lock);
    t->next = u->threads;
    u->threads = t;
    pthread_mutex_unlock(&u->lock);
    mine.owner = u;
    mine.gen = u->gen;
    mine.t = t;
    return t;
}

/* A key id ends in 10 random base32 characters (core/credential.h): its
 * last 8 bytes, mixed with the minute and the length, spread well enough
 * for the table without reading the whole id. */
static uint64_t cell_hash(const char *key_id, size_t len, int64_t minute)
{
    uint64_t tail = 0;
    memcpy(&tail, key_id + (len >= 8 ? len - 8 : 0), len >= 8 ? 8 : len);
    uint64_t h = (tail ^ ((uint64_t)minute << 7) ^ len) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 31);
}

/* Counts into the shared overflow list (a full table, or no table). */
static uint64_t cell_hash(const char *key_id, size_t len, int64_t minute);

static void spill(struct ks_usage *u, const char *key_id, size_t len, int outcome, int64_t minute)
{
    size_t b = cell_hash(key_id, len, minute) & (SPILL_BUCKETS - 1);
    pthread_mutex_lock(&u->lock);
    overflow *o = u->spill[b];
    while (o && !(o->row.at == minute && strlen(o->row.key_id) == len && memcmp(o->row.key_id, key_id, len) == 0))
        o = o->next;
    if (!o && (o = calloc(1, sizeof *o))) {
        memcpy(o->row.key_id, key_id, len);
        o->row.at = minute;
        o->next = u->spill[b];
        u->spill[b] = o;
    }
    if (o)
        o->row.counts[outcome]++;
    else
        ks_log("warn", "a verify could not be counted (out of memory)", NULL);
    pthread_mutex_unlock(&u->lock);
}

void ks_usage_count(ks_service *svc, const char *key_id, size_t key_len, int outcome, int64_t now)
{
    struct ks_usage *u = svc->usage;
    if (!u || outcome < 0 || outcome >= KS_USAGE_OUTCOMES || key_len == 0 || key_len > KS_KEY_ID_MAX)
        return;
    int64_t minute = now - ((now % 60) + 60) % 60;
    usage_thread *t = thread_of(u);
    if (!t) {
        spill(u, key_id, key_len, outcome, minute);
        return;
    }
    /* Inside an epoch read section (nested in verify's, so a counter
     * increment): a collection that swapped the table waits for it to end. */
    if (ks_epoch_enter() != 0) {
        spill(u, key_id, key_len, outcome, minute);
        return;
    }
    usage_table *tab = atomic_load_explicit(&t->active, memory_order_acquire);
    size_t i = cell_hash(key_id, key_len, minute) & (KS_USAGE_CELLS - 1);
    int done = 0;
    for (size_t probes = 0; probes < KS_USAGE_PROBES; probes++, i = (i + 1) & (KS_USAGE_CELLS - 1)) {
        usage_cell *c = &tab->cells[i];
        if (!c->used) {
            if (tab->used >= KS_USAGE_CELLS * 3 / 4)
                break; /* full enough: spill */
            c->used = 1;
            c->key_len = (uint8_t)key_len;
            memcpy(c->key_id, key_id, key_len);
            c->key_id[key_len] = '\0';
            c->minute = minute;
            tab->used++;
        } else if (c->minute != minute || c->key_len != key_len || memcmp(c->key_id, key_id, key_len) != 0) {
            continue;
        }
        c->counts[outcome]++;
        done = 1;
        break;
    }
    ks_epoch_leave();
    if (!done)
        spill(u, key_id, key_len, outcome, minute);
}

/* Appends a cell's counts to rows (merging equal key + minute is left to
 * the store's upsert). 0 or -1 when out of memory. */
static int rows_add(ks_usage_row **rows, size_t *n, size_t *cap, const char *key_id, int64_t minute,
                    const uint32_t *counts32, const int64_t *counts64)
{
    if (*n == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 256;
        ks_usage_row *grown = realloc(*rows, grown_cap * sizeof *grown);
        if (!grown)
            return -1;
        *rows = grown;
        *cap = grown_cap;
    }
    ks_usage_row *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->key_id, sizeof r->key_id, "%s", key_id);
    if (ks_key_id_parse(key_id, r->account) != KS_OK)
        r->account[0] = '\0';
    r->at = minute;
    for (int k = 0; k < KS_USAGE_OUTCOMES; k++)
        r->counts[k] = counts32 ? counts32[k] : counts64[k];
    return 0;
}

/* Takes every thread's counts and the overflow into u->pending (under
 * flush_lock). KS_OK or NOMEM (what was taken stays pending). */
static int collect(struct ks_usage *u)
{
    size_t cap = u->n_pending;
    int rc = KS_OK;
    pthread_mutex_lock(&u->lock);
    usage_thread *threads = u->threads;
    overflow *spilled[SPILL_BUCKETS];
    memcpy(spilled, u->spill, sizeof spilled);
    memset(u->spill, 0, sizeof u->spill);
    pthread_mutex_unlock(&u->lock);
    for (size_t b = 0; b < SPILL_BUCKETS; b++)
        for (overflow *o = spilled[b]; o;) {
            overflow *next = o->next;
            if (rc == KS_OK &&
                rows_add(&u->pending, &u->n_pending, &cap, o->row.key_id, o->row.at, NULL, o->row.counts) != 0)
                rc = KS_ERR_NOMEM; /* lost: logged below */
            free(o);
            o = next;
        }
    /* Threads only ever join at the head: the list from `threads` on is
     * stable. Every table is swapped first, then one grace period of the
     * index's epochs (index/epoch.h) lets each count in flight in an old
     * table end: after it, the old tables are the collector's alone. */
    for (usage_thread *t = threads; t; t = t->next) {
        t->taken = atomic_exchange(&t->active, t->spare);
    }
    uint64_t tag = ks_epoch_retire_tag();
    while (!ks_epoch_safe(tag)) {
        struct timespec pause = {0, 20000}; /* a count takes well under a microsecond */
        nanosleep(&pause, NULL);
    }
    atomic_thread_fence(memory_order_acquire);
    for (usage_thread *t = threads; t; t = t->next) {
        usage_table *old = t->taken;
        t->taken = NULL;
        for (size_t i = 0; i < KS_USAGE_CELLS; i++) {
            usage_cell *c = &old->cells[i];
            if (!c->used)
                continue;
            if (rc == KS_OK && rows_add(&u->pending, &u->n_pending, &cap, c->key_id, c->minute, c->counts, NULL) != 0)
                rc = KS_ERR_NOMEM; /* lost: logged below */
            memset(c, 0, sizeof *c);
        }
        old->used = 0;
        t->spare = old;
    }
    if (rc != KS_OK)
        ks_log("error", "usage counts lost: out of memory while collecting them", NULL);
    return rc;
}

int ks_usage_flush(ks_service *svc)
{
    struct ks_usage *u = svc->usage;
    if (!u)
        return KS_OK;
    pthread_mutex_lock(&u->flush_lock);
    collect(u);
    int rc = u->n_pending ? svc->store->ops->usage_add(svc->store, u->pending, u->n_pending) : KS_OK;
    if (rc == KS_OK) {
        free(u->pending);
        u->pending = NULL;
        u->n_pending = 0;
    }
    pthread_mutex_unlock(&u->flush_lock);
    return rc;
}
