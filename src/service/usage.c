/* usage.c - verifies counted per key, minute and outcome (see usage.h). */
#include "service/usage.h"
#include "core/clock.h"
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

/* A cell is one cache line: a count reads and writes that line only (the
 * table is far larger than the core's cache, and keys come in any order).
 * A key id of up to SHORT_ID bytes (accounts of up to 11 characters) lives
 * in the cell; a longer one's bytes past those live in the table's
 * long_ids, a second line read only for such keys. */
#define SHORT_ID 26

typedef struct {
    int64_t minute;
    uint32_t counts[KS_USAGE_OUTCOMES];
    uint8_t used;                       /* owner: the cell holds a (key, minute) */
    uint8_t key_len;
    char key_id[SHORT_ID];              /* the id's first SHORT_ID bytes (zero-padded) */
} usage_cell;
_Static_assert(sizeof(usage_cell) == 64, "a usage cell is one cache line");

typedef struct {
    usage_cell cells[KS_USAGE_CELLS];   /* open addressing, linear probing */
    char long_ids[KS_USAGE_CELLS][KS_KEY_ID_MAX + 1 - SHORT_ID]; /* the rest of a longer id */
    /* 16 bits of each taken cell's hash (never 0; 0: free): probing reads
     * these, and only a cell whose tag matches is read (about one cell's
     * line per count instead of 1.8 at 3/4 full) */
    uint16_t tags[KS_USAGE_CELLS];
    size_t used;                        /* cells taken */
    void *mem;                          /* what table_new allocated (free this) */
} usage_table;

/* A zeroed table at a cache-line boundary (calloc of this size maps fresh
 * zero pages: a page counts in memory once a count touches it, so a table
 * costs about 64 bytes per (key, minute) counted, not its size). */
static usage_table *table_new(void)
{
    void *mem = calloc(1, sizeof(usage_table) + 64);
    if (!mem)
        return NULL;
    usage_table *t = (usage_table *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    t->mem = mem;
    return t;
}

static void table_free(usage_table *t)
{
    if (t)
        free(t->mem);
}

/* The key id of cell i of tab into out (KS_KEY_ID_MAX + 1 bytes). */
static void cell_key_id(const usage_table *tab, size_t i, char *out)
{
    const usage_cell *c = &tab->cells[i];
    size_t head = c->key_len < SHORT_ID ? c->key_len : SHORT_ID;
    memcpy(out, c->key_id, head);
    if (c->key_len > SHORT_ID)
        memcpy(out + SHORT_ID, tab->long_ids[i], c->key_len - SHORT_ID);
    out[c->key_len] = '\0';
}

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
        table_free(atomic_load(&t->active));
        table_free(t->spare);
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
    usage_table *a = table_new(), *b = table_new();
    if (!t || !a || !b) {
        free(t);
        table_free(a);
        table_free(b);
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
    if (len >= 8) /* always, for a key id: one load */
        memcpy(&tail, key_id + len - 8, 8);
    else
        memcpy(&tail, key_id, len);
    uint64_t h = (tail ^ ((uint64_t)minute << 7) ^ len) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 31);
}

/* Counts into the shared overflow list (a full table, or no table). */
static void spill(struct ks_usage *u, const char *key_id, size_t len, int outcome, int64_t minute, uint32_t n)
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
        o->row.counts[outcome] += n;
    else
        ks_log("warn", "a verify could not be counted (out of memory)", NULL);
    pthread_mutex_unlock(&u->lock);
}

/* Counts into t's active table; 0 when it is full there (spill instead).
 * Inside an epoch read section: a collection that swapped the table waits
 * for the section to end before it reads the table. */
static int count_in_table(usage_thread *t, const char *key_id, size_t key_len, int outcome, int64_t minute,
                          uint32_t n)
{
    usage_table *tab = atomic_load_explicit(&t->active, memory_order_acquire);
    uint64_t h = cell_hash(key_id, key_len, minute);
    size_t i = h & (KS_USAGE_CELLS - 1);
    uint16_t tag = (uint16_t)((h >> 48) | 1);
    size_t head = key_len < SHORT_ID ? key_len : SHORT_ID;
    for (size_t probes = 0; probes < KS_USAGE_PROBES; probes++, i = (i + 1) & (KS_USAGE_CELLS - 1)) {
        uint16_t seen = tab->tags[i];
        usage_cell *c = &tab->cells[i];
        if (seen == 0) {
            if (tab->used >= KS_USAGE_CELLS * 3 / 4)
                return 0; /* full enough: spill */
            tab->tags[i] = tag;
            c->used = 1;
            c->key_len = (uint8_t)key_len;
            memcpy(c->key_id, key_id, head);
            if (key_len > SHORT_ID)
                memcpy(tab->long_ids[i], key_id + SHORT_ID, key_len - SHORT_ID);
            c->minute = minute;
            tab->used++;
        } else if (seen != tag || c->minute != minute || c->key_len != key_len || memcmp(c->key_id, key_id, head) != 0 ||
                   (key_len > SHORT_ID && memcmp(tab->long_ids[i], key_id + SHORT_ID, key_len - SHORT_ID) != 0)) {
            continue;
        }
        c->counts[outcome] += n;
        return 1;
    }
    return 0;
}

/* The minute of Unix time `now` (rounded down, also before 1970). */
static int64_t minute_of(int64_t now)
{
    return ks_time_floor(now, 60);
}

/* n verifies of one key, outcome and minute into this thread's table. */
static void count_n(struct ks_usage *u, const char *key_id, size_t key_len, int outcome, int64_t minute, uint32_t n)
{
    usage_thread *t = thread_of(u);
    if (!t || !count_in_table(t, key_id, key_len, outcome, minute, n))
        spill(u, key_id, key_len, outcome, minute, n); /* a short lock: never held by a collection
                                                          while it waits for sections to end */
}

void ks_usage_count_in_section(ks_service *svc, const char *key_id, size_t key_len, int outcome, int64_t now)
{
    struct ks_usage *u = svc->usage;
    if (!u || outcome < 0 || outcome >= KS_USAGE_OUTCOMES || key_len == 0 || key_len > KS_KEY_ID_MAX)
        return;
    count_n(u, key_id, key_len, outcome, minute_of(now), 1);
}

void ks_usage_count_verify(ks_service *svc, const ks_index_key *key, int outcome, int64_t now)
{
    if (outcome == KS_USAGE_VALID && svc->usage) {
        int64_t old_minute;
        uint32_t old_count;
        int r = ks_index_count_use(key, now, &old_minute, &old_count);
        if (r == KS_INDEX_USE_COUNTED)
            return;
        if (r == KS_INDEX_USE_ROLLED) { /* the entry's earlier minute, handed out */
            count_n(svc->usage, key->key_id, key->key_len, KS_USAGE_VALID, old_minute, old_count);
            return;
        }
    }
    ks_usage_count_in_section(svc, key->key_id, key->key_len, outcome, now);
}

void ks_usage_count(ks_service *svc, const char *key_id, size_t key_len, int outcome, int64_t now)
{
    struct ks_usage *u = svc->usage;
    if (!u || outcome < 0 || outcome >= KS_USAGE_OUTCOMES || key_len == 0 || key_len > KS_KEY_ID_MAX)
        return;
    if (ks_epoch_enter() != 0) {
        spill(u, key_id, key_len, outcome, minute_of(now), 1);
        return;
    }
    ks_usage_count_in_section(svc, key_id, key_len, outcome, now);
    ks_epoch_leave();
}

/* Appends a cell's counts to rows, at the start of the minute's hour (the
 * store keeps hours and days: a key's rows of one hour are added up into
 * one before the write, merge_sorted). 0 or -1 when out of memory. */
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
    r->at = ks_time_floor(minute, 3600);
    for (int k = 0; k < KS_USAGE_OUTCOMES; k++)
        r->counts[k] = counts32 ? counts32[k] : counts64[k];
    return 0;
}

typedef struct {
    struct ks_usage *u;
    size_t *cap;
    int *rc;
} entry_rows;

/* One index entry's valid verifies (ks_index_collect_uses) into the rows. */
static void entry_use_add(void *ctx, const char *key_id, size_t key_len, int64_t minute, uint32_t count)
{
    entry_rows *e = ctx;
    char id[KS_KEY_ID_MAX + 1];
    memcpy(id, key_id, key_len);
    id[key_len] = '\0';
    int64_t counts[KS_USAGE_OUTCOMES] = {0};
    counts[KS_USAGE_VALID] = count;
    if (*e->rc == KS_OK && rows_add(&e->u->pending, &e->u->n_pending, e->cap, id, minute, NULL, counts) != 0)
        *e->rc = KS_ERR_NOMEM; /* lost: logged by collect */
}

/* Takes every thread's counts, the index entries' and the overflow into
 * u->pending (under flush_lock). KS_OK or NOMEM (what was taken stays
 * pending). */
static int collect(struct ks_usage *u, ks_index *idx)
{
    size_t cap = u->n_pending;
    int rc = KS_OK;
    if (idx) {
        entry_rows e = {u, &cap, &rc};
        ks_index_collect_uses(idx, entry_use_add, &e);
    }
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
        for (size_t i = 0; i < KS_USAGE_CELLS && old->used; i++) {
            if (!old->tags[i]) /* the tags, not the cells: a cell's page is read only if taken */
                continue;
            usage_cell *c = &old->cells[i];
            char key_id[KS_KEY_ID_MAX + 1];
            cell_key_id(old, i, key_id);
            if (rc == KS_OK && rows_add(&u->pending, &u->n_pending, &cap, key_id, c->minute, c->counts, NULL) != 0)
                rc = KS_ERR_NOMEM; /* lost: logged below */
            memset(c, 0, sizeof *c);
            old->tags[i] = 0;
            old->used--;
        }
        old->used = 0;
        t->spare = old;
    }
    if (rc != KS_OK)
        ks_log("error", "usage counts lost: out of memory while collecting them", NULL);
    return rc;
}

/* Key id, then hour: the order of both stores' usage primary keys. */
static int usage_row_cmp(const void *a, const void *b)
{
    const ks_usage_row *x = a, *y = b;
    int c = strcmp(x->key_id, y->key_id);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* Rows sorted by usage_row_cmp, a key's rows of one hour (one per minute,
 * or per cell its counts came from: the entry's, a thread's) added up into
 * one: one upsert per table for the key instead of one per row. */
static void merge_sorted(ks_usage_row *rows, size_t *n)
{
    size_t out = 0;
    for (size_t i = 0; i < *n; i++) {
        ks_usage_row *last = out ? &rows[out - 1] : NULL;
        if (last && last->at == rows[i].at && strcmp(last->key_id, rows[i].key_id) == 0) {
            for (int k = 0; k < KS_USAGE_OUTCOMES; k++)
                last->counts[k] += rows[i].counts[k];
            continue;
        }
        if (out != i)
            rows[out] = rows[i];
        out++;
    }
    *n = out;
}

int ks_usage_flush(ks_service *svc)
{
    struct ks_usage *u = svc->usage;
    if (!u)
        return KS_OK;
    pthread_mutex_lock(&u->flush_lock);
    collect(u, svc->index);
    /* Written in the order of the tables' primary key (key id, hour): SQLite
     * then visits each B-tree page once, in order, instead of at random
     * (70,000 keys: 1.3 s of CPU -> 0.5 s, most of it the system time of
     * pages read and written again), and nodes of one PostgreSQL database
     * adding to the same rows lock them in one order. Sorted, a key's rows
     * of an hour are neighbours, merged in one pass. */
    if (u->n_pending > 1) /* qsort's array may not be NULL, even of none */
        qsort(u->pending, u->n_pending, sizeof *u->pending, usage_row_cmp);
    merge_sorted(u->pending, &u->n_pending);
    int rc = u->n_pending ? svc->store->ops->usage_add(svc->store, u->pending, u->n_pending) : KS_OK;
    if (rc == KS_OK) {
        free(u->pending);
        u->pending = NULL;
        u->n_pending = 0;
    }
    pthread_mutex_unlock(&u->flush_lock);
    return rc;
}
