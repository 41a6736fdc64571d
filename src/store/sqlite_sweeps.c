/*
 * sqlite_sweeps.c - what the sweeps read and write in the SQLite backend
 * (store.h): keys whose old token is due for deletion, current tokens owed
 * a renewal notice, and the notices' records with their outbox rows. The
 * deletions themselves are token-slot transitions (key_apply_slots with
 * KS_SLOT_OP_SWEEP_OLD). One process owns the file, so the sweep lock is
 * always held. Same shape as pg_sweeps.c.
 */
#include "store/sqlite_internal.h"
#include "store/store_common.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int old_token_row(sqlite3_stmt *st, void *item)
{
    ks_old_token_due *d = item;
    snprintf(d->account, sizeof d->account, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(d->key_id, sizeof d->key_id, "%s", (const char *)sqlite3_column_text(st, 1));
    d->auto_delete_hours = sqlite3_column_int(st, 2);
    d->ends_at = sqlite3_column_int64(st, 3);
    return KS_OK;
}

int sq_old_tokens_due(ks_store *base, int64_t now, size_t max, ks_old_token_due **out, size_t *n)
{
    return sq_due_list((sq_store *)base, Q_OLD_TOKENS_DUE, now, max, sizeof **out, old_token_row, NULL,
                       (void **)out, n);
}

static int notice_row(sqlite3_stmt *st, void *item)
{
    ks_notice_due *d = item;
    snprintf(d->account, sizeof d->account, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(d->key_id, sizeof d->key_id, "%s", (const char *)sqlite3_column_text(st, 1));
    d->created_at = sqlite3_column_int64(st, 3);
    d->notices = sqlite3_column_int(st, 4);
    d->months = sqlite3_column_int(st, 5);
    d->notice_days = sqlite3_column_int(st, 6);
    return (d->name = sq_column_strdup(st, 2)) ? KS_OK : KS_ERR_NOMEM;
}

static void notices_release(void *items, size_t n)
{
    ks_notices_due_free(items, n);
}

int sq_notices_due(ks_store *base, int64_t now, size_t max, ks_notice_due **out, size_t *n)
{
    return sq_due_list((sq_store *)base, Q_NOTICES_DUE, now, max, sizeof **out, notice_row, notices_release,
                       (void **)out, n);
}

struct mark_args {
    ks_notice_mark *items;
    size_t n;
};

/* Each notice: set its bit on the token if it is still the key's current
 * one and lacks it; only then its outbox rows. */
static int notice_mark_in_tx(sq_store *s, void *arg)
{
    struct mark_args *a = arg;
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && i < a->n; i++) {
        ks_notice_mark *m = &a->items[i];
        m->marked = 0;
        sqlite3_stmt *st = sq_stmt(s, Q_NOTICE_SET);
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_text(st, 1, m->account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->key_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, m->created_at);
        sqlite3_bind_int(st, 4, m->notice);
        if ((rc = sq_exec_stmt(st)) != KS_OK || sqlite3_changes(s->db) == 0)
            continue;
        m->marked = 1;
        if (m->event)
            rc = sq_outbox_insert(s, m->account, m->event);
    }
    return rc;
}

int sq_notice_mark(ks_store *base, ks_notice_mark *items, size_t n)
{
    if (n == 0)
        return KS_OK;
    struct mark_args a = {items, n};
    int rc = sq_write_tx((sq_store *)base, notice_mark_in_tx, &a);
    for (size_t i = 0; rc != KS_OK && i < n; i++)
        items[i].marked = 0;
    return rc;
}

int sq_sweep_lock(ks_store *base, int take, int *held)
{
    (void)base;
    *held = take; /* one process owns the file: nobody else sweeps it */
    return KS_OK;
}
