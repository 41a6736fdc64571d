/*
 * pg_dormant.c - keys that stopped being used (PostgreSQL): the keys
 * the account setting deactivate_unused_days makes due (store.h
 * unused_keys_due); the setting itself is read and written with the
 * account's others (pg_accounts.c).
 */
#include "store/pg_internal.h"
#include "core/error.h"

#include <stdlib.h>

struct due_args {
    int64_t now;
    size_t max;
    ks_unused_due *items;
    size_t n;
};

static int due_in_tx(pg_store *s, void *arg)
{
    struct due_args *a = arg;
    pg_params p = {0};
    pg_int(&p, a->now);
    pg_int(&p, (int64_t)a->max);
    int rc;
    PGresult *r = pg_exec(s, P_UNUSED_DUE, &p, &rc);
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r) && a->n < a->max; i++) {
        ks_unused_due *d = &a->items[a->n++];
        pg_get_str(r, i, 0, d->account, sizeof d->account);
        pg_get_str(r, i, 1, d->key_id, sizeof d->key_id);
        d->days = (int)pg_get_int(r, i, 2);
        d->last_used_at = pg_get_int(r, i, 3);
    }
    PQclear(r);
    return KS_OK;
}

int pg_unused_keys_due(ks_store *base, int64_t now, size_t max, ks_unused_due **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (max == 0)
        return KS_OK;
    struct due_args a = {now, max, calloc(max, sizeof(ks_unused_due)), 0};
    if (!a.items)
        return KS_ERR_NOMEM;
    int rc = pg_read_tx((pg_store *)base, due_in_tx, &a);
    if (rc != KS_OK) {
        free(a.items);
        return rc;
    }
    *out = a.items;
    *n = a.n;
    return KS_OK;
}
