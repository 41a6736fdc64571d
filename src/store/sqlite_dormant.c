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

static int unused_row(sqlite3_stmt *st, void *item)
{
    ks_unused_due *d = item;
    snprintf(d->account, sizeof d->account, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(d->key_id, sizeof d->key_id, "%s", (const char *)sqlite3_column_text(st, 1));
    d->days = sqlite3_column_int(st, 2);
    d->last_used_at = sqlite3_column_int64(st, 3);
    return KS_OK;
}

int sq_unused_keys_due(ks_store *base, int64_t now, size_t max, ks_unused_due **out, size_t *n)
{
    return sq_due_list((sq_store *)base, Q_UNUSED_DUE, now, max, sizeof **out, unused_row, NULL, (void **)out, n);
}
