/*
 * pg_webhooks.c - webhooks and their outbox in the PostgreSQL backend
 * (store.h): the webhook rows (the signing secret sealed by the service),
 * the deliveries list, and the delivery workers' claim / finish. The
 * outbox rows themselves are written by every write with an event, in its
 * transaction (pg_outbox_insert, pg_audit.c). Same shape as
 * sqlite_webhooks.c.
 *
 * Several nodes deliver from one outbox: a claim takes due rows with
 * FOR UPDATE SKIP LOCKED and marks them taken (locked_until) in the same
 * statement, so each delivery goes to exactly one node; a node that dies
 * holding one leaves it to the others when the lease ends.
 */
#include "store/pg_internal.h"
#include "store/store_common.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads webhook row i (P_WEBHOOK_LIST / P_WEBHOOK_GET columns). */
static int webhook_from_row(const PGresult *r, int i, ks_webhook *w)
{
    memset(w, 0, sizeof *w);
    pg_get_str(r, i, 0, w->id, sizeof w->id);
    pg_get_str(r, i, 1, w->account, sizeof w->account);
    if (pg_get_bytes(r, i, 4, w->sealed_secret, sizeof w->sealed_secret, &w->sealed_len) != 0)
        w->sealed_len = 0;
    w->enabled = (int)pg_get_int(r, i, 5);
    w->created_at = pg_get_int(r, i, 6);
    if (!(w->url = pg_get_strdup(r, i, 2)) || ks_store_events_split(PQgetvalue(r, i, 3), &w->events) != KS_OK)
        return KS_ERR_NOMEM;
    return KS_OK;
}

struct webhook_args {
    const ks_webhook *w;
    const char *account, *id, *url;
    const ks_strlist *events;
    int enabled;
    const ks_audit_entry *audit;
    ks_webhook *out;               /* get */
    ks_webhook *items;             /* list */
    size_t n;
};

static int webhook_create_in_tx(pg_store *s, void *arg)
{
    const struct webhook_args *a = arg;
    char *events = ks_store_events_join(&a->w->events);
    if (!events)
        return KS_ERR_NOMEM;
    pg_params p = {0};
    pg_text(&p, a->w->id);
    pg_text(&p, a->w->account);
    pg_text(&p, a->w->url);
    pg_text(&p, events);
    pg_bytes(&p, a->w->sealed_secret, a->w->sealed_len);
    pg_int(&p, a->w->enabled);
    pg_int(&p, a->w->created_at);
    int rc = pg_run(s, P_WEBHOOK_INSERT, &p);
    free(events);
    return rc == KS_OK ? pg_audit_insert(s, a->audit) : rc;
}

int pg_webhook_create(ks_store *base, const ks_webhook *w, const ks_audit_entry *audit)
{
    struct webhook_args a = {.w = w, .audit = audit};
    return pg_write_tx((pg_store *)base, webhook_create_in_tx, &a);
}

static int webhook_list_in_tx(pg_store *s, void *arg)
{
    struct webhook_args *a = arg;
    pg_params p = {0};
    pg_text(&p, a->account);
    int rc;
    PGresult *r = pg_exec(s, P_WEBHOOK_LIST, &p, &rc);
    int rows = r ? PQntuples(r) : 0;
    if (r && rows > 0 && !(a->items = calloc((size_t)rows, sizeof *a->items)))
        rc = KS_ERR_NOMEM;
    for (int i = 0; rc == KS_OK && i < rows; i++)
        rc = webhook_from_row(r, i, &a->items[a->n++]);
    PQclear(r);
    return rc;
}

int pg_webhook_list(ks_store *base, const char *account, ks_webhook **out, size_t *n)
{
    struct webhook_args a = {.account = account};
    int rc = pg_read_tx((pg_store *)base, webhook_list_in_tx, &a);
    if (rc != KS_OK) {
        ks_webhooks_free(a.items, a.n);
        a.items = NULL;
        a.n = 0;
    }
    *out = a.items;
    *n = a.n;
    return rc;
}

static int webhook_get_in_tx(pg_store *s, void *arg)
{
    struct webhook_args *a = arg;
    pg_params p = {0};
    pg_text(&p, a->account);
    pg_text(&p, a->id);
    int rc;
    PGresult *r = pg_exec(s, P_WEBHOOK_GET, &p, &rc);
    if (r)
        rc = PQntuples(r) == 1 ? webhook_from_row(r, 0, a->out) : KS_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

int pg_webhook_get(ks_store *base, const char *account, const char *id, ks_webhook *out)
{
    memset(out, 0, sizeof *out);
    struct webhook_args a = {.account = account, .id = id, .out = out};
    int rc = pg_read_tx((pg_store *)base, webhook_get_in_tx, &a);
    if (rc != KS_OK)
        ks_webhook_free(out);
    return rc;
}

/* Runs q (update or delete of a->account's webhook a->id, with p) and
 * then the audit entry: NOT_FOUND when no row changed. */
static int webhook_change(pg_store *s, const struct webhook_args *a, pg_query q, const pg_params *p)
{
    int rc;
    PGresult *r = pg_exec(s, q, p, &rc);
    if (r && pg_changed(r) == 0)
        rc = KS_ERR_NOT_FOUND;
    PQclear(r);
    return rc == KS_OK ? pg_audit_insert(s, a->audit) : rc;
}

static int webhook_update_in_tx(pg_store *s, void *arg)
{
    const struct webhook_args *a = arg;
    char *events = a->events ? ks_store_events_join(a->events) : NULL;
    if (a->events && !events)
        return KS_ERR_NOMEM;
    pg_params p = {0};
    pg_text(&p, a->account);
    pg_text(&p, a->id);
    pg_text(&p, a->url);
    pg_text(&p, events);
    pg_int(&p, a->enabled);
    int rc = webhook_change(s, a, P_WEBHOOK_UPDATE, &p);
    free(events);
    return rc;
}

int pg_webhook_update(ks_store *base, const char *account, const char *id, const char *url,
                      const ks_strlist *events, int enabled, const ks_audit_entry *audit)
{
    struct webhook_args a = {.account = account, .id = id, .url = url, .events = events, .enabled = enabled,
                             .audit = audit};
    return pg_write_tx((pg_store *)base, webhook_update_in_tx, &a);
}

static int webhook_delete_in_tx(pg_store *s, void *arg)
{
    const struct webhook_args *a = arg;
    pg_params p = {0};
    pg_text(&p, a->account);
    pg_text(&p, a->id);
    return webhook_change(s, a, P_WEBHOOK_DELETE, &p);
}

int pg_webhook_delete(ks_store *base, const char *account, const char *id, const ks_audit_entry *audit)
{
    struct webhook_args a = {.account = account, .id = id, .audit = audit};
    return pg_write_tx((pg_store *)base, webhook_delete_in_tx, &a);
}

/* Reads the DELIVERY_COLUMNS of row i (and, with claim, url and secret). */
static int delivery_from_row(const PGresult *r, int i, ks_delivery *d, int claim)
{
    memset(d, 0, sizeof *d);
    d->id = pg_get_int(r, i, 0);
    pg_get_str(r, i, 1, d->webhook_id, sizeof d->webhook_id);
    pg_get_str(r, i, 2, d->account, sizeof d->account);
    pg_get_str(r, i, 3, d->event_id, sizeof d->event_id);
    d->status = (int)pg_get_int(r, i, 6);
    d->attempts = (int)pg_get_int(r, i, 7);
    d->response_code = (int)pg_get_int(r, i, 8);
    d->created_at = pg_get_int(r, i, 9);
    d->last_attempt_at = pg_get_int(r, i, 10);
    d->next_attempt_at = pg_get_int(r, i, 11);
    if (!(d->event = pg_get_strdup(r, i, 4)) || !(d->body = pg_get_strdup(r, i, 5)))
        return KS_ERR_NOMEM;
    if (!claim)
        return KS_OK;
    if (pg_get_bytes(r, i, 13, d->sealed_secret, sizeof d->sealed_secret, &d->sealed_len) != 0)
        d->sealed_len = 0;
    return (d->url = pg_get_strdup(r, i, 12)) ? KS_OK : KS_ERR_NOMEM;
}

struct deliveries_args {
    const char *account, *webhook_id;
    int64_t before_id, now, lease_until;
    size_t max;                    /* rows wanted */
    ks_delivery *items;            /* out: room for max */
    size_t n;
};

/* Reads the rows of r into a->items. */
static int deliveries_read(PGresult *r, struct deliveries_args *a, int claim)
{
    int rc = KS_OK;
    for (int i = 0; rc == KS_OK && i < PQntuples(r) && a->n < a->max; i++)
        rc = delivery_from_row(r, i, &a->items[a->n++], claim);
    return rc;
}

static int delivery_list_in_tx(pg_store *s, void *arg)
{
    struct deliveries_args *a = arg;
    pg_params p = {0};
    pg_text(&p, a->webhook_id);
    pg_text(&p, a->account);
    pg_int(&p, a->before_id > 0 ? a->before_id : INT64_MAX);
    pg_int(&p, (int64_t)a->max);
    int rc;
    PGresult *r = pg_exec(s, P_DELIVERY_LIST, &p, &rc);
    if (r)
        rc = deliveries_read(r, a, 0);
    PQclear(r);
    return rc;
}

int pg_delivery_list(ks_store *base, const char *account, const char *webhook_id, int64_t before_id, int limit,
                     ks_delivery_page *out)
{
    memset(out, 0, sizeof *out);
    if (limit < 1 || limit > KS_DELIVERY_PAGE_MAX || before_id < 0)
        return KS_ERR_INVALID;
    struct deliveries_args a = {.account = account, .webhook_id = webhook_id, .before_id = before_id,
                                .max = (size_t)limit + 1};
    if (!(a.items = calloc(a.max, sizeof *a.items)))
        return KS_ERR_NOMEM;
    int rc = pg_read_tx((pg_store *)base, delivery_list_in_tx, &a);
    return ks_delivery_page_finish(out, a.items, a.n, limit, rc);
}

/* The claim step of ks_store_delivery_claim (a ks_delivery_claim_args). */
static int claim_in_tx(ks_store *base, void *arg)
{
    ks_delivery_claim_args *c = arg;
    struct deliveries_args a = {.now = c->now, .lease_until = c->lease_until, .max = c->max, .items = c->items};
    pg_params p = {0};
    pg_int(&p, a.now);
    pg_int(&p, a.lease_until);
    pg_int(&p, (int64_t)a.max);
    int rc;
    PGresult *r = pg_exec((pg_store *)base, P_DELIVERY_CLAIM, &p, &rc);
    if (r)
        rc = deliveries_read(r, &a, 1);
    PQclear(r);
    c->n = a.n;
    return rc;
}

int pg_delivery_claim(ks_store *base, int64_t now, int64_t lease_until, size_t max, ks_delivery **out, size_t *n)
{
    return ks_store_delivery_claim(base, pg_write_tx_store, claim_in_tx, now, lease_until, max, out, n);
}

struct finish_args {
    int64_t id, now, next_attempt_at;
    int status, response_code;
};

static int finish_in_tx(pg_store *s, void *arg)
{
    const struct finish_args *a = arg;
    pg_params p = {0};
    pg_int(&p, a->id);
    pg_int(&p, a->status);
    if (a->response_code > 0)
        pg_int(&p, a->response_code);
    else
        pg_text(&p, NULL);
    pg_int(&p, a->now);
    pg_int(&p, a->next_attempt_at);
    int rc;
    PGresult *r = pg_exec(s, P_DELIVERY_FINISH, &p, &rc);
    if (r && pg_changed(r) == 0)
        rc = KS_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

int pg_delivery_finish(ks_store *base, int64_t id, int status, int response_code, int64_t now,
                       int64_t next_attempt_at)
{
    struct finish_args a = {id, now, next_attempt_at, status, response_code};
    return pg_write_tx((pg_store *)base, finish_in_tx, &a);
}

struct stats_args {
    int64_t pending, oldest;
};

static int stats_in_tx(pg_store *s, void *arg)
{
    struct stats_args *a = arg;
    int rc;
    PGresult *r = pg_exec(s, P_OUTBOX_STATS, NULL, &rc);
    if (r && PQntuples(r) == 1) {
        a->pending = pg_get_int(r, 0, 0);
        a->oldest = pg_get_int(r, 0, 1);
    }
    PQclear(r);
    return rc;
}

int pg_outbox_stats(ks_store *base, int64_t *pending, int64_t *oldest_created_at)
{
    struct stats_args a = {0, 0};
    int rc = pg_read_tx((pg_store *)base, stats_in_tx, &a);
    *pending = a.pending;
    *oldest_created_at = a.oldest;
    return rc;
}

static int purge_in_tx(pg_store *s, void *arg)
{
    pg_params p = {0};
    pg_int(&p, *(const int64_t *)arg);
    return pg_run(s, P_DELIVERY_PURGE, &p);
}

int pg_delivery_purge(ks_store *base, int64_t before)
{
    return pg_write_tx((pg_store *)base, purge_in_tx, &before);
}
