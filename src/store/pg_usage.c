/*
 * pg_usage.c - usage counts of the PostgreSQL backend (store.h usage_*):
 * per key per hour and per day, by outcome; several nodes add to the same
 * rows (INSERT ... ON CONFLICT DO UPDATE adds, so no count is lost).
 */
#include "store/pg_internal.h"
#include "core/clock.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define DAYS (P_USAGE_ADD_D - P_USAGE_ADD_H) /* a day statement is its hour one + DAYS */

struct add_args {
    const ks_usage_row *rows;
    size_t n;
};

static int add_in_tx(pg_store *s, void *arg)
{
    const struct add_args *a = arg;
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && i < a->n; i++) {
        const ks_usage_row *r = &a->rows[i];
        for (int day = 0; rc == KS_OK && day < 2; day++) {
            int64_t span = day ? 86400 : 3600;
            pg_params p = {0};
            pg_text(&p, r->key_id);
            pg_text(&p, r->account);
            pg_int(&p, ks_time_floor(r->at, span));
            for (int k = 0; k < KS_USAGE_OUTCOMES; k++)
                pg_int(&p, r->counts[k]);
            rc = pg_run(s, (pg_query)(P_USAGE_ADD_H + day * DAYS), &p);
        }
    }
    return rc;
}

int pg_usage_add(ks_store *base, const ks_usage_row *rows, size_t n)
{
    if (n == 0)
        return KS_OK;
    struct add_args a = {rows, n};
    return pg_write_tx((pg_store *)base, add_in_tx, &a);
}

struct read_args {
    pg_query q;
    pg_params p;
    int top;
    ks_usage_row *out;
    size_t n;
};

static int read_in_tx(pg_store *s, void *arg)
{
    struct read_args *a = arg;
    int rc;
    PGresult *r = pg_exec(s, a->q, &a->p, &rc);
    if (!r)
        return rc;
    int rows = PQntuples(r);
    if (rows > 0 && !(a->out = calloc((size_t)rows, sizeof *a->out))) {
        PQclear(r);
        return KS_ERR_NOMEM;
    }
    for (int i = 0; i < rows; i++) {
        ks_usage_row *u = &a->out[i];
        if (a->top)
            pg_get_str(r, i, 0, u->key_id, sizeof u->key_id);
        else
            u->at = pg_get_int(r, i, 0);
        for (int k = 0; k < KS_USAGE_OUTCOMES; k++)
            u->counts[k] = pg_get_int(r, i, 1 + k);
    }
    a->n = (size_t)rows;
    PQclear(r);
    return KS_OK;
}

static int read_rows(pg_store *s, struct read_args *a, ks_usage_row **out, size_t *n)
{
    int rc = pg_read_tx(s, read_in_tx, a);
    if (rc != KS_OK) {
        free(a->out);
        a->out = NULL;
        a->n = 0;
    }
    *out = a->out;
    *n = a->n;
    return rc;
}

int pg_usage_list(ks_store *base, const char *account, const char *key_id, int day, int64_t from, int64_t to,
                  ks_usage_row **out, size_t *n)
{
    struct read_args a = {.q = (pg_query)((key_id ? P_USAGE_KEY_H : P_USAGE_ACCOUNT_H) + (day ? DAYS : 0))};
    if (key_id)
        pg_text(&a.p, key_id);
    pg_text(&a.p, account);
    pg_int(&a.p, from);
    pg_int(&a.p, to);
    return read_rows((pg_store *)base, &a, out, n);
}

int pg_usage_top(ks_store *base, const char *account, int day, int64_t from, int64_t to, size_t max,
                 ks_usage_row **out, size_t *n)
{
    struct read_args a = {.q = (pg_query)(P_USAGE_TOP_H + (day ? DAYS : 0)), .top = 1};
    pg_text(&a.p, account);
    pg_int(&a.p, from);
    pg_int(&a.p, to);
    pg_int(&a.p, (int64_t)max);
    return read_rows((pg_store *)base, &a, out, n);
}

struct prune_args {
    int64_t hours_before, days_before;
};

static int prune_in_tx(pg_store *s, void *arg)
{
    const struct prune_args *a = arg;
    int rc = KS_OK;
    for (int day = 0; rc == KS_OK && day < 2; day++) {
        pg_params p = {0};
        pg_int(&p, day ? a->days_before : a->hours_before);
        rc = pg_run(s, (pg_query)(P_USAGE_PRUNE_H + day * DAYS), &p);
    }
    return rc;
}

int pg_usage_prune(ks_store *base, int64_t hours_before, int64_t days_before)
{
    struct prune_args a = {hours_before, days_before};
    return pg_write_tx((pg_store *)base, prune_in_tx, &a);
}
