/*
 * sqlite_last_used.c - last-used times of the SQLite backend (store.h
 * last_used_order, last_used_flush): the verify index's batches written to
 * the tokens table.
 *
 * tokens is keyed (key_seq, slot), so a key's rows sit where its seq puts
 * them. A flush of tokens in the index's (hash) order dirtied a page per
 * row in every slice: with 70,000 keys of a million in use, about 67,000
 * 4 KiB pages a minute through the WAL and the checkpoint, 21 us of CPU a
 * row, most of it system time. last_used_order sorts by seq; each slice of
 * the flush then updates a run of neighbouring pages, once each, and finds
 * the row by its seq without a lookup. The verify index hands each item
 * its key's seq (noted when the entry was built from the store); an item
 * without one (key_seq 0) is looked up first, in key id order (the order
 * of the key id index).
 */
#include "store/sqlite_internal.h"
#include "store/store_common.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define ORDER_CHUNK 4096 /* seq lookups per read transaction (a few ms of the store lock) */

/* Items without a seq first, by key id (to be looked up); then the rest. */
static int by_missing_key_id(const void *a, const void *b)
{
    const ks_last_used *x = a, *y = b;
    if ((x->key_seq == 0) != (y->key_seq == 0))
        return x->key_seq == 0 ? -1 : 1;
    return x->key_seq == 0 ? strcmp(x->key_id, y->key_id) : 0;
}

static int by_key_seq(const void *a, const void *b)
{
    const ks_last_used *x = a, *y = b;
    if (x->key_seq != y->key_seq)
        return x->key_seq < y->key_seq ? -1 : 1;
    return memcmp(x->hash.bytes, y->hash.bytes, KS_DIGEST_LEN);
}

/* The seqs of items[0..n) (0 for a key that is gone), in one read
 * transaction under the store lock. */
static int seqs_read(sq_store *s, ks_last_used *items, size_t n)
{
    pthread_mutex_lock(&s->lock);
    int rc = sq_exec_sql(s, "BEGIN");
    for (size_t i = 0; rc == KS_OK && i < n; i++) {
        sqlite3_stmt *st = sq_stmt(s, Q_KEY_SEQ_OF_ID);
        if (!st) {
            rc = KS_ERR_INTERNAL;
            break;
        }
        sqlite3_bind_text(st, 1, items[i].key_id, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        items[i].key_seq = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = sq_error(step);
        sqlite3_reset(st);
    }
    if (sq_exec_sql(s, rc == KS_OK ? "COMMIT" : "ROLLBACK") != KS_OK && rc == KS_OK)
        rc = KS_ERR_STORAGE;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_last_used_order(ks_store *base, ks_last_used *items, size_t n)
{
    sq_store *s = (sq_store *)base;
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += items[i].key_seq == 0;
    if (missing > 0 && n > 1) /* qsort's array may not be NULL, even of none */
        qsort(items, n, sizeof *items, by_missing_key_id);
    int rc = KS_OK;
    for (size_t done = 0; rc == KS_OK && done < missing; done += ORDER_CHUNK)
        rc = seqs_read(s, items + done, missing - done < ORDER_CHUNK ? missing - done : ORDER_CHUNK);
    if (rc != KS_OK) {
        for (size_t i = 0; i < n; i++)
            items[i].key_seq = 0; /* the flush looks each key up itself */
        return rc;
    }
    if (n > 1)
        qsort(items, n, sizeof *items, by_key_seq);
    return KS_OK;
}

struct last_used_args {
    const ks_last_used *items;
    size_t n;
};

/* The updates of sq_last_used_flush; the first error stops them. */
static int last_used_flush_in_tx(sq_store *s, void *arg)
{
    const struct last_used_args *a = arg;
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && i < a->n; i++) {
        const ks_last_used *it = &a->items[i];
        sqlite3_stmt *st = sq_stmt(s, it->key_seq ? Q_TOKEN_LAST_USED_AT_SEQ : Q_TOKEN_LAST_USED);
        if (!st)
            return KS_ERR_INTERNAL;
        if (it->key_seq)
            sqlite3_bind_int64(st, 1, it->key_seq);
        else
            sqlite3_bind_text(st, 1, it->key_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, it->hash.bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, it->last_used_at);
        char from[KS_NETADDR_TEXT_MAX];
        sqlite3_bind_text(st, 4, ks_store_netaddr_text(&it->from, from), -1, SQLITE_TRANSIENT);
        rc = sq_exec_stmt(st);
    }
    return rc;
}

int sq_last_used_flush(ks_store *base, const ks_last_used *items, size_t n)
{
    if (n == 0)
        return KS_OK;
    struct last_used_args a = {items, n};
    return sq_write_tx((sq_store *)base, last_used_flush_in_tx, &a);
}
