/*
 * pg_audit.c - the audit log of the PostgreSQL backend (store.h): the entry
 * every write appends in its own transaction (with the outbox rows of the
 * webhook event it carries, if any), standalone entries, and the paged,
 * filtered list. The same shape as sqlite_audit.c.
 *
 * Entries are never changed or deleted. `via` and `address` are NULL on
 * entries written before schema version 3 (and `address` for the command
 * line); the list hands NULL back as NULL. Audit rows change nothing that
 * verify sees, so they append no change-log row.
 */
#include "store/pg_internal.h"
#include "store/store_common.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int pg_audit_insert(pg_store *s, const ks_audit_entry *a)
{
    if (!a)
        return KS_OK;
    pg_params p = {0};
    pg_text(&p, a->account);
    pg_int(&p, a->at);
    pg_text(&p, a->actor);
    pg_text(&p, a->action);
    pg_text(&p, a->target);
    pg_text(&p, a->detail ? a->detail : "{}");
    pg_text(&p, a->via ? a->via : "system");
    pg_text(&p, a->address); /* NULL: SQL NULL */
    int rc = pg_run(s, P_AUDIT_INSERT, &p);
    return rc == KS_OK && a->event ? pg_outbox_insert(s, a->account, a->event) : rc;
}

int pg_outbox_insert(pg_store *s, const char *account, const ks_event *e)
{
    pg_params p = {0};
    pg_text(&p, account);
    pg_text(&p, e->id);
    pg_text(&p, e->type);
    pg_text(&p, e->body);
    pg_int(&p, e->at);
    pg_text(&p, e->webhook_id); /* NULL: SQL NULL */
    int rc;
    PGresult *r = pg_exec(s, P_OUTBOX_INSERT, &p, &rc);
    if (rc == KS_OK && pg_changed(r) > 0)
        atomic_fetch_add(&s->base.outbox_writes, 1);
    PQclear(r);
    return rc;
}

/* The account check and entry of pg_audit_append: NOT_FOUND for no such account. */
static int audit_append_in_tx(pg_store *s, void *arg)
{
    const ks_audit_entry *audit = arg;
    ks_settings unused;
    int rc = pg_settings_get_tx(s, audit->account, &unused); /* KS_ERR_NOT_FOUND: no such account */
    return rc == KS_OK ? pg_audit_insert(s, audit) : rc;
}

int pg_audit_append(ks_store *base, const ks_audit_entry *audit)
{
    if (!audit)
        return KS_ERR_INVALID;
    return pg_write_tx((pg_store *)base, audit_append_in_tx, (void *)audit);
}

/* A text column, or NULL for SQL NULL; *nomem set when the copy failed. */
static char *get_strdup_or_null(const PGresult *r, int row, int col, int *nomem)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    char *v = pg_get_strdup(r, row, col);
    if (!v)
        *nomem = 1;
    return v;
}

/* Reads row i of r into a; KS_OK or KS_ERR_NOMEM. */
static int record_from_row(const PGresult *r, int i, ks_audit_record *a)
{
    int nomem = 0;
    a->id = pg_get_int(r, i, 0);
    a->at = pg_get_int(r, i, 1);
    a->actor = pg_get_strdup(r, i, 2);
    a->action = pg_get_strdup(r, i, 3);
    a->target = pg_get_strdup(r, i, 4);
    a->detail = pg_get_strdup(r, i, 5);
    a->via = get_strdup_or_null(r, i, 6, &nomem);
    a->address = get_strdup_or_null(r, i, 7, &nomem);
    return nomem || !a->actor || !a->action || !a->target || !a->detail ? KS_ERR_NOMEM : KS_OK;
}

struct audit_list_args {
    const char *account;
    const ks_audit_filter *filter;
    int limit;
    ks_audit_record *items;        /* out: limit + 1 at most, owned by the caller */
    size_t n;                      /* out: records read into items */
};

/* The page read of pg_audit_list, one row more than the limit. */
static int audit_list_in_tx(pg_store *s, void *arg)
{
    struct audit_list_args *a = arg;
    const ks_audit_filter *f = a->filter;
    pg_params p = {0};
    pg_text(&p, a->account);
    pg_int(&p, f->before_id > 0 ? f->before_id : INT64_MAX);
    pg_text(&p, f->actor);
    pg_text(&p, f->action);
    pg_int(&p, a->limit + 1); /* one more tells whether a next page exists */
    int rc;
    PGresult *r = pg_exec(s, P_AUDIT_LIST, &p, &rc);
    int rows = r ? PQntuples(r) : 0;
    a->items = calloc((size_t)rows + 1, sizeof *a->items);
    if (!a->items && rc == KS_OK)
        rc = KS_ERR_NOMEM;
    for (int i = 0; rc == KS_OK && i < rows; i++)
        rc = record_from_row(r, i, &a->items[a->n++]);
    PQclear(r);
    return rc;
}

int pg_audit_list(ks_store *base, const char *account, const ks_audit_filter *f, ks_audit_page *out)
{
    memset(out, 0, sizeof *out);
    int rc = ks_audit_filter_check(f);
    if (rc != KS_OK)
        return rc;
    struct audit_list_args a = {account, f, f->limit, NULL, 0};
    rc = pg_read_tx((pg_store *)base, audit_list_in_tx, &a);
    return ks_audit_page_finish(out, a.items, a.n, a.limit, rc);
}
