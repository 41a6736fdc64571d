/*
 * sqlite_dormant.c - keys that stopped being used (SQLite): the account
 * setting deactivate_unused_days and the keys it makes due
 * (store.h unused_keys_due).
 */
#include "store/sqlite_internal.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

int sq_dormant_setting_get(sq_store *s, const char *account, ks_settings *out)
{
    sqlite3_stmt *st = sq_stmt(s, Q_DORMANT_GET);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    out->deactivate_unused_days = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0; /* NULL: off */
    sqlite3_reset(st);
    return step == SQLITE_ROW ? KS_OK : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
}

int sq_dormant_setting_put(sq_store *s, const char *account, const ks_settings *settings)
{
    sqlite3_stmt *st = sq_stmt(s, Q_DORMANT_PUT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    if (settings->deactivate_unused_days > 0)
        sqlite3_bind_int(st, 2, settings->deactivate_unused_days);
    else
        sqlite3_bind_null(st, 2);
    int rc = sq_exec_stmt(st);
    return rc == KS_ERR_INTERNAL ? KS_ERR_INVALID : rc; /* the CHECK on its range */
}

int sq_unused_keys_due(ks_store *base, int64_t now, size_t max, ks_unused_due **out, size_t *n)
{
    sq_store *s = (sq_store *)base;
    *out = NULL;
    *n = 0;
    if (max == 0)
        return KS_OK;
    ks_unused_due *items = calloc(max, sizeof *items);
    if (!items)
        return KS_ERR_NOMEM;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, Q_UNUSED_DUE);
    int rc = KS_ERR_INTERNAL, step = SQLITE_DONE;
    size_t got = 0;
    if (st) {
        rc = KS_OK;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        while (got < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
            ks_unused_due *d = &items[got++];
            snprintf(d->account, sizeof d->account, "%s", (const char *)sqlite3_column_text(st, 0));
            snprintf(d->key_id, sizeof d->key_id, "%s", (const char *)sqlite3_column_text(st, 1));
            d->days = sqlite3_column_int(st, 2);
            d->last_used_at = sqlite3_column_int64(st, 3);
        }
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            rc = sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != KS_OK) {
        free(items);
        return rc;
    }
    *out = items;
    *n = got;
    return KS_OK;
}
