/*
 * sqlite_usage.c - usage counts of the SQLite backend (store.h usage_*):
 * per key per hour and per day, by outcome, added to by the usage flush
 * and summed for reads.
 */
#include "store/sqlite_internal.h"
#include "core/clock.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define DAYS (Q_USAGE_ADD_D - Q_USAGE_ADD_H) /* a day statement is its hour one + DAYS */

struct add_args {
    const ks_usage_row *rows;
    size_t n;
};

static int add_in_tx(sq_store *s, void *arg)
{
    const struct add_args *a = arg;
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && i < a->n; i++) {
        const ks_usage_row *r = &a->rows[i];
        for (int day = 0; rc == KS_OK && day < 2; day++) {
            sqlite3_stmt *st = sq_stmt(s, (sq_query)(Q_USAGE_ADD_H + day * DAYS));
            if (!st)
                return KS_ERR_INTERNAL;
            int64_t span = day ? 86400 : 3600;
            sqlite3_bind_text(st, 1, r->key_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, r->account, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, ks_time_floor(r->at, span));
            for (int k = 0; k < KS_USAGE_OUTCOMES; k++)
                sqlite3_bind_int64(st, 4 + k, r->counts[k]);
            rc = sq_exec_stmt(st);
        }
    }
    return rc;
}

int sq_usage_add(ks_store *base, const ks_usage_row *rows, size_t n)
{
    if (n == 0)
        return KS_OK;
    struct add_args a = {rows, n};
    return sq_write_tx((sq_store *)base, add_in_tx, &a);
}

/* Runs st (bound) and reads its rows: column 0 `at` or the key id (top),
 * then the counts. */
static int read_rows(sqlite3_stmt *st, int top, ks_usage_row **out, size_t *n)
{
    size_t cap = 0;
    int step, rc = KS_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t grown_cap = cap ? cap * 2 : 64;
            ks_usage_row *grown = realloc(*out, grown_cap * sizeof *grown);
            if (!grown) {
                rc = KS_ERR_NOMEM;
                break;
            }
            *out = grown;
            cap = grown_cap;
        }
        ks_usage_row *r = &(*out)[(*n)++];
        memset(r, 0, sizeof *r);
        if (top) {
            const char *id = (const char *)sqlite3_column_text(st, 0);
            size_t len = id ? strnlen(id, KS_KEY_ID_MAX) : 0;
            memcpy(r->key_id, id ? id : "", len);
        } else {
            r->at = sqlite3_column_int64(st, 0);
        }
        for (int k = 0; k < KS_USAGE_OUTCOMES; k++)
            r->counts[k] = sqlite3_column_int64(st, 1 + k);
    }
    if (rc == KS_OK && step != SQLITE_DONE)
        rc = sq_error(step);
    sqlite3_reset(st);
    if (rc != KS_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int sq_usage_list(ks_store *base, const char *account, const char *key_id, int day, int64_t from, int64_t to,
                  ks_usage_row **out, size_t *n)
{
    sq_store *s = (sq_store *)base;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, (sq_query)((key_id ? Q_USAGE_KEY_H : Q_USAGE_ACCOUNT_H) + (day ? DAYS : 0)));
    int rc = KS_ERR_INTERNAL;
    if (st) {
        int i = 1;
        if (key_id)
            sqlite3_bind_text(st, i++, key_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, i++, account, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, i++, from);
        sqlite3_bind_int64(st, i, to);
        rc = read_rows(st, 0, out, n);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_usage_top(ks_store *base, const char *account, int day, int64_t from, int64_t to, size_t max,
                 ks_usage_row **out, size_t *n)
{
    sq_store *s = (sq_store *)base;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, (sq_query)(Q_USAGE_TOP_H + (day ? DAYS : 0)));
    int rc = KS_ERR_INTERNAL;
    if (st) {
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, from);
        sqlite3_bind_int64(st, 3, to);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
        rc = read_rows(st, 1, out, n);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

struct prune_args {
    int64_t hours_before, days_before;
};

static int prune_in_tx(sq_store *s, void *arg)
{
    const struct prune_args *a = arg;
    int rc = KS_OK;
    for (int day = 0; rc == KS_OK && day < 2; day++) {
        sqlite3_stmt *st = sq_stmt(s, (sq_query)(Q_USAGE_PRUNE_H + day * DAYS));
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_int64(st, 1, day ? a->days_before : a->hours_before);
        rc = sq_exec_stmt(st);
    }
    return rc;
}

int sq_usage_prune(ks_store *base, int64_t hours_before, int64_t days_before)
{
    struct prune_args a = {hours_before, days_before};
    return sq_write_tx((sq_store *)base, prune_in_tx, &a);
}
