/*
 * pg_sweeps.c - what the sweeps read and write in the PostgreSQL backend
 * (store.h): keys whose old token is due for deletion, current tokens owed
 * a renewal notice, the notices' records with their outbox rows, and the
 * sweep lock (a session advisory lock, so one node of the cluster sweeps at
 * a time). Same shape as sqlite_sweeps.c.
 *
 * Two nodes marking one notice serialise on the token's row: the second
 * finds the bit set and writes nothing, so a notice is raised once.
 */
#include "store/pg_internal.h"
#include "store/store_common.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct due_args {
    int64_t now;
    size_t max;
    ks_old_token_due *old;         /* old_tokens_due: room for max */
    ks_notice_due *notices;        /* notices_due: room for max */
    size_t n;
};

static int old_due_in_tx(pg_store *s, void *arg)
{
    struct due_args *a = arg;
    pg_params p = {0};
    pg_int(&p, a->now);
    pg_int(&p, (int64_t)a->max);
    int rc;
    PGresult *r = pg_exec(s, P_OLD_TOKENS_DUE, &p, &rc);
    for (int i = 0; r && i < PQntuples(r) && a->n < a->max; i++) {
        ks_old_token_due *d = &a->old[a->n++];
        pg_get_str(r, i, 0, d->account, sizeof d->account);
        pg_get_str(r, i, 1, d->key_id, sizeof d->key_id);
        d->auto_delete_hours = (int)pg_get_int(r, i, 2);
        d->ends_at = pg_get_int(r, i, 3);
    }
    PQclear(r);
    return rc;
}

int pg_old_tokens_due(ks_store *base, int64_t now, size_t max, ks_old_token_due **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (max == 0)
        return KS_OK;
    struct due_args a = {.now = now, .max = max};
    if (!(a.old = calloc(max, sizeof *a.old)))
        return KS_ERR_NOMEM;
    int rc = pg_read_tx((pg_store *)base, old_due_in_tx, &a);
    if (rc != KS_OK) {
        free(a.old);
        return rc;
    }
    *out = a.old;
    *n = a.n;
    return KS_OK;
}

static int notices_due_in_tx(pg_store *s, void *arg)
{
    struct due_args *a = arg;
    pg_params p = {0};
    pg_int(&p, a->now);
    pg_int(&p, (int64_t)a->max);
    int rc;
    PGresult *r = pg_exec(s, P_NOTICES_DUE, &p, &rc);
    for (int i = 0; r && rc == KS_OK && i < PQntuples(r) && a->n < a->max; i++) {
        ks_notice_due *d = &a->notices[a->n++];
        pg_get_str(r, i, 0, d->account, sizeof d->account);
        pg_get_str(r, i, 1, d->key_id, sizeof d->key_id);
        d->created_at = pg_get_int(r, i, 3);
        d->notices = (int)pg_get_int(r, i, 4);
        d->months = (int)pg_get_int(r, i, 5);
        d->notice_days = (int)pg_get_int(r, i, 6);
        if (!(d->name = pg_get_strdup(r, i, 2)))
            rc = KS_ERR_NOMEM;
    }
    PQclear(r);
    return rc;
}

int pg_notices_due(ks_store *base, int64_t now, size_t max, ks_notice_due **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (max == 0)
        return KS_OK;
    struct due_args a = {.now = now, .max = max};
    if (!(a.notices = calloc(max, sizeof *a.notices)))
        return KS_ERR_NOMEM;
    int rc = pg_read_tx((pg_store *)base, notices_due_in_tx, &a);
    if (rc != KS_OK) {
        ks_notices_due_free(a.notices, a.n);
        return rc;
    }
    *out = a.notices;
    *n = a.n;
    return KS_OK;
}

struct mark_args {
    ks_notice_mark *items;
    size_t n;
};

/* Each notice: set its bit on the token if it is still the key's current
 * one and lacks it; only then its outbox rows. */
static int notice_mark_in_tx(pg_store *s, void *arg)
{
    struct mark_args *a = arg;
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && i < a->n; i++) {
        ks_notice_mark *m = &a->items[i];
        m->marked = 0;
        pg_params p = {0};
        pg_text(&p, m->account);
        pg_text(&p, m->key_id);
        pg_int(&p, m->created_at);
        pg_int(&p, m->notice);
        PGresult *r = pg_exec(s, P_NOTICE_SET, &p, &rc);
        m->marked = r && pg_changed(r) == 1;
        PQclear(r);
        if (rc == KS_OK && m->marked && m->event)
            rc = pg_outbox_insert(s, m->account, m->event);
    }
    return rc;
}

int pg_notice_mark(ks_store *base, ks_notice_mark *items, size_t n)
{
    if (n == 0)
        return KS_OK;
    struct mark_args a = {items, n};
    int rc = pg_write_tx((pg_store *)base, notice_mark_in_tx, &a);
    for (size_t i = 0; rc != KS_OK && i < n; i++)
        items[i].marked = 0;
    return rc;
}

struct lock_args {
    int take;
    int held;
};

/* pg_try_advisory_lock / pg_advisory_unlock: session locks, which outlive
 * the transaction they are taken in (and die with the connection). */
static int sweep_lock_in_tx(pg_store *s, void *arg)
{
    struct lock_args *a = arg;
    if (!a->take && !s->sweep_locked)
        return KS_OK; /* nothing to give back (or the connection that held it is gone) */
    int rc;
    PGresult *r = pg_exec(s, a->take ? P_SWEEP_LOCK : P_SWEEP_UNLOCK, NULL, &rc);
    int t = r && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (rc == KS_OK)
        s->sweep_locked = a->take ? t : 0;
    a->held = s->sweep_locked;
    return rc;
}

int pg_sweep_lock(ks_store *base, int take, int *held)
{
    struct lock_args a = {take, 0};
    int rc = pg_write_tx((pg_store *)base, sweep_lock_in_tx, &a);
    *held = rc == KS_OK && a.held;
    return rc;
}
