/*
 * pg_last_used.c - last-used times of the PostgreSQL backend (store.h
 * last_used_order, last_used_flush): the verify index's batches written to
 * the tokens table.
 *
 * Rows are updated in (key id, hash) order, so two nodes flushing at once
 * lock them in the same order and cannot deadlock. last_used_order puts a
 * flush in that order, so its slices take disjoint runs of key ids; it
 * looks up no seqs (key_seq stays 0): the heap keeps no key order to
 * write along, and a lookup is a round trip where SQLite's is a B-tree
 * seek. No change-log row: the verify index does not depend on last use.
 */
#include "store/pg_internal.h"
#include "store/store_common.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

static int last_used_cmp(const void *a, const void *b)
{
    const ks_last_used *x = a, *y = b;
    int c = strcmp(x->key_id, y->key_id);
    return c ? c : memcmp(x->hash.bytes, y->hash.bytes, KS_DIGEST_LEN);
}

int pg_last_used_order(ks_store *base, ks_last_used *items, size_t n)
{
    (void)base;
    for (size_t i = 0; i < n; i++)
        items[i].key_seq = 0;
    if (n > 1) /* qsort's array may not be NULL, even of none */
        qsort(items, n, sizeof *items, last_used_cmp);
    return KS_OK;
}

struct last_used_args {
    const ks_last_used *sorted;    /* in (key id, hash) order */
    size_t n;
};

static int last_used_in_tx(pg_store *s, void *arg)
{
    const struct last_used_args *a = arg;
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && i < a->n; i++) {
        pg_params p = {0};
        pg_text(&p, a->sorted[i].key_id);
        pg_bytes(&p, a->sorted[i].hash.bytes, KS_DIGEST_LEN);
        pg_int(&p, a->sorted[i].last_used_at);
        char from[KS_NETADDR_TEXT_MAX];
        pg_text(&p, ks_store_netaddr_text(&a->sorted[i].from, from));
        rc = pg_run(s, P_TOKEN_LAST_USED, &p);
    }
    return rc;
}

/* Sorted here too: a caller need not have called last_used_order. */
int pg_last_used_flush(ks_store *base, const ks_last_used *items, size_t n)
{
    if (n == 0)
        return KS_OK;
    ks_last_used *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return KS_ERR_NOMEM;
    memcpy(sorted, items, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, last_used_cmp);
    struct last_used_args a = {sorted, n};
    int rc = pg_write_tx((pg_store *)base, last_used_in_tx, &a);
    free(sorted);
    return rc;
}
