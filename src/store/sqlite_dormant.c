/*
 * sqlite_dormant.c - keys that stopped being used (SQLite): the keys the
 * account setting deactivate_unused_days makes due (store.h
 * unused_keys_due); the setting itself is read and written with the
 * account's others (sqlite_accounts.c).
 */
#include "store/sqlite_internal.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

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
