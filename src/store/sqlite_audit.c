/*
 * sqlite_audit.c - the audit log of the SQLite backend (store.h): the entry
 * every write appends in its own transaction (with the outbox rows of the
 * webhook event it carries, if any), standalone entries, and the paged,
 * filtered list.
 *
 * Entries are never changed or deleted. `via` and `address` are NULL on
 * entries written before schema version 6 (and `address` for the command
 * line); the list hands NULL back as NULL.
 */
#include "store/sqlite_internal.h"
#include "store/store_common.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int sq_audit_insert(sq_store *s, const ks_audit_entry *a)
{
    if (!a)
        return KS_OK;
    sqlite3_stmt *st = sq_stmt(s, Q_AUDIT_INSERT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->at);
    sqlite3_bind_text(st, 3, a->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->detail ? a->detail : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, a->via ? a->via : "system", -1, SQLITE_STATIC);
    if (a->address)
        sqlite3_bind_text(st, 8, a->address, -1, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    return rc == KS_OK && a->event ? sq_outbox_insert(s, a->account, a->event) : rc;
}

int sq_outbox_insert(sq_store *s, const char *account, const ks_event *e)
{
    sqlite3_stmt *st = sq_stmt(s, Q_OUTBOX_INSERT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, e->at);
    if (e->webhook_id)
        sqlite3_bind_text(st, 6, e->webhook_id, -1, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    if (rc == KS_OK && sqlite3_changes(s->db) > 0)
        atomic_fetch_add(&s->base.outbox_writes, 1);
    return rc;
}

/* The rows of sq_audit_append: NOT_FOUND when the account does not exist
 * (the audit table has no foreign key: entries outlive nothing, but a
 * standalone entry must name a real account). */
static int audit_append_in_tx(sq_store *s, void *arg)
{
    const ks_audit_entry *a = arg;
    sqlite3_stmt *st = sq_stmt(s, Q_ACCOUNT_GET);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        return KS_ERR_NOT_FOUND;
    if (step != SQLITE_ROW)
        return sq_error(step);
    return sq_audit_insert(s, a);
}

int sq_audit_append(ks_store *base, const ks_audit_entry *audit)
{
    if (!audit)
        return KS_ERR_INVALID;
    return sq_write_tx((sq_store *)base, audit_append_in_tx, (void *)audit);
}

/* A text column, or NULL for SQL NULL; *nomem set when the copy failed. */
static char *column_strdup_or_null(sqlite3_stmt *st, int col, int *nomem)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    char *v = sq_column_strdup(st, col);
    if (!v)
        *nomem = 1;
    return v;
}

/* Reads the row st is on into r; KS_OK or KS_ERR_NOMEM. */
static int record_from_row(sqlite3_stmt *st, ks_audit_record *r)
{
    int nomem = 0;
    r->id = sqlite3_column_int64(st, 0);
    r->at = sqlite3_column_int64(st, 1);
    r->actor = sq_column_strdup(st, 2);
    r->action = sq_column_strdup(st, 3);
    r->target = sq_column_strdup(st, 4);
    r->detail = sq_column_strdup(st, 5);
    r->via = column_strdup_or_null(st, 6, &nomem);
    r->address = column_strdup_or_null(st, 7, &nomem);
    return nomem || !r->actor || !r->action || !r->target || !r->detail ? KS_ERR_NOMEM : KS_OK;
}

int sq_audit_list(ks_store *base, const char *account, const ks_audit_filter *f, ks_audit_page *out)
{
    sq_store *s = (sq_store *)base;
    memset(out, 0, sizeof *out);
    int rc = ks_audit_filter_check(f);
    if (rc != KS_OK)
        return rc;
    int limit = f->limit;
    ks_audit_record *items = calloc((size_t)limit + 1, sizeof *items);
    if (!items)
        return KS_ERR_NOMEM;
    pthread_mutex_lock(&s->lock);
    int step = SQLITE_DONE;
    size_t n = 0;
    sqlite3_stmt *st = sq_stmt(s, Q_AUDIT_LIST);
    if (!st) {
        rc = KS_ERR_INTERNAL;
    } else {
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, f->before_id > 0 ? f->before_id : INT64_MAX);
        if (f->actor)
            sqlite3_bind_text(st, 3, f->actor, -1, SQLITE_STATIC);
        if (f->action)
            sqlite3_bind_text(st, 4, f->action, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, limit + 1); /* one more tells whether a next page exists */
        while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
            rc = record_from_row(st, &items[n++]);
        if (rc == KS_OK && step != SQLITE_DONE)
            rc = sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    return ks_audit_page_finish(out, items, n, limit, rc);
}
