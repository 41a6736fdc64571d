/*
 * sqlite_webhooks.c - webhooks and their outbox in the SQLite backend
 * (store.h): the webhook rows (the signing secret sealed by the service),
 * the deliveries list, and the delivery worker's claim / finish. The
 * outbox rows themselves are written by every write with an event, in its
 * transaction (sq_outbox_insert, sqlite_audit.c). Same shape as
 * pg_webhooks.c.
 *
 * One process owns the file, so a claim is a lease in the row
 * (locked_until) that only this process reads; delivery_release drops the
 * leases a crash left behind.
 */
#include "store/sqlite_internal.h"
#include "store/store_common.h"
#include "core/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a webhook row (Q_WEBHOOK_LIST / Q_WEBHOOK_GET columns). */
static int webhook_from_row(sqlite3_stmt *st, ks_webhook *w)
{
    memset(w, 0, sizeof *w);
    const char *id = (const char *)sqlite3_column_text(st, 0);
    const char *account = (const char *)sqlite3_column_text(st, 1);
    snprintf(w->id, sizeof w->id, "%s", id ? id : "");
    snprintf(w->account, sizeof w->account, "%s", account ? account : "");
    int n = sqlite3_column_bytes(st, 4);
    if (n > 0 && (size_t)n <= sizeof w->sealed_secret) {
        memcpy(w->sealed_secret, sqlite3_column_blob(st, 4), (size_t)n);
        w->sealed_len = (size_t)n;
    }
    w->enabled = sqlite3_column_int(st, 5);
    w->created_at = sqlite3_column_int64(st, 6);
    const char *events = (const char *)sqlite3_column_text(st, 3);
    if (!(w->url = sq_column_strdup(st, 2)) || ks_store_events_split(events ? events : "", &w->events) != KS_OK)
        return KS_ERR_NOMEM;
    return KS_OK;
}

struct webhook_args {
    const ks_webhook *w;
    const char *account, *id, *url;
    const ks_strlist *events;
    int enabled;
    const ks_audit_entry *audit;
};

static int webhook_create_in_tx(sq_store *s, void *arg)
{
    const struct webhook_args *a = arg;
    char *events = ks_store_events_join(&a->w->events);
    sqlite3_stmt *st = events ? sq_stmt(s, Q_WEBHOOK_INSERT) : NULL;
    if (!st) {
        free(events);
        return events ? KS_ERR_INTERNAL : KS_ERR_NOMEM;
    }
    sqlite3_bind_text(st, 1, a->w->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->w->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->w->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, events, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, a->w->sealed_secret, (int)a->w->sealed_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, a->w->enabled);
    sqlite3_bind_int64(st, 7, a->w->created_at);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    free(events);
    if (step != SQLITE_DONE)
        return sq_insert_error(step);
    return sq_audit_insert(s, a->audit);
}

int sq_webhook_create(ks_store *base, const ks_webhook *w, const ks_audit_entry *audit)
{
    struct webhook_args a = {.w = w, .audit = audit};
    return sq_write_tx((sq_store *)base, webhook_create_in_tx, &a);
}

int sq_webhook_list(ks_store *base, const char *account, ks_webhook **out, size_t *n)
{
    sq_store *s = (sq_store *)base;
    *out = NULL;
    *n = 0;
    ks_webhook *items = NULL;
    size_t count = 0, cap = 0;
    int rc = KS_OK, step = SQLITE_DONE;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, Q_WEBHOOK_LIST);
    if (!st) {
        rc = KS_ERR_INTERNAL;
    } else {
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
        while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
            if (count == cap) {
                size_t grown_cap = cap ? cap * 2 : 8;
                ks_webhook *grown = realloc(items, grown_cap * sizeof *grown);
                if (!grown) {
                    rc = KS_ERR_NOMEM;
                    break;
                }
                items = grown;
                cap = grown_cap;
            }
            rc = webhook_from_row(st, &items[count++]);
        }
        if (rc == KS_OK && step != SQLITE_DONE)
            rc = sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != KS_OK) {
        ks_webhooks_free(items, count);
        return rc;
    }
    *out = items;
    *n = count;
    return KS_OK;
}

int sq_webhook_get(ks_store *base, const char *account, const char *id, ks_webhook *out)
{
    sq_store *s = (sq_store *)base;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->lock);
    int rc;
    sqlite3_stmt *st = sq_stmt(s, Q_WEBHOOK_GET);
    if (!st) {
        rc = KS_ERR_INTERNAL;
    } else {
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        rc = step == SQLITE_ROW ? webhook_from_row(st, out) : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != KS_OK)
        ks_webhook_free(out);
    return rc;
}

static int webhook_update_in_tx(sq_store *s, void *arg)
{
    const struct webhook_args *a = arg;
    char *events = a->events ? ks_store_events_join(a->events) : NULL;
    if (a->events && !events)
        return KS_ERR_NOMEM;
    sqlite3_stmt *st = sq_stmt(s, Q_WEBHOOK_UPDATE);
    int rc = KS_ERR_INTERNAL;
    if (st) {
        sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->id, -1, SQLITE_STATIC);
        if (a->url)
            sqlite3_bind_text(st, 3, a->url, -1, SQLITE_STATIC);
        if (events)
            sqlite3_bind_text(st, 4, events, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, a->enabled);
        rc = sq_exec_stmt(st);
        if (rc == KS_OK && sqlite3_changes(s->db) == 0)
            rc = KS_ERR_NOT_FOUND;
    }
    free(events);
    return rc == KS_OK ? sq_audit_insert(s, a->audit) : rc;
}

int sq_webhook_update(ks_store *base, const char *account, const char *id, const char *url,
                      const ks_strlist *events, int enabled, const ks_audit_entry *audit)
{
    struct webhook_args a = {.account = account, .id = id, .url = url, .events = events, .enabled = enabled,
                             .audit = audit};
    return sq_write_tx((sq_store *)base, webhook_update_in_tx, &a);
}

static int webhook_delete_in_tx(sq_store *s, void *arg)
{
    const struct webhook_args *a = arg;
    sqlite3_stmt *st = sq_stmt(s, Q_WEBHOOK_DELETE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->id, -1, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    if (rc == KS_OK && sqlite3_changes(s->db) == 0)
        rc = KS_ERR_NOT_FOUND;
    return rc == KS_OK ? sq_audit_insert(s, a->audit) : rc;
}

int sq_webhook_delete(ks_store *base, const char *account, const char *id, const ks_audit_entry *audit)
{
    struct webhook_args a = {.account = account, .id = id, .audit = audit};
    return sq_write_tx((sq_store *)base, webhook_delete_in_tx, &a);
}

/* Reads the DELIVERY_COLUMNS of a row (and, with claim, url and secret). */
static int delivery_from_row(sqlite3_stmt *st, ks_delivery *d, int claim)
{
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    snprintf(d->webhook_id, sizeof d->webhook_id, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(d->account, sizeof d->account, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(d->event_id, sizeof d->event_id, "%s", (const char *)sqlite3_column_text(st, 3));
    d->status = sqlite3_column_int(st, 6);
    d->attempts = sqlite3_column_int(st, 7);
    d->response_code = sqlite3_column_int(st, 8);
    d->created_at = sqlite3_column_int64(st, 9);
    d->last_attempt_at = sqlite3_column_int64(st, 10);
    d->next_attempt_at = sqlite3_column_int64(st, 11);
    if (!(d->event = sq_column_strdup(st, 4)) || !(d->body = sq_column_strdup(st, 5)))
        return KS_ERR_NOMEM;
    if (!claim)
        return KS_OK;
    int n = sqlite3_column_bytes(st, 13);
    if (n > 0 && (size_t)n <= sizeof d->sealed_secret) {
        memcpy(d->sealed_secret, sqlite3_column_blob(st, 13), (size_t)n);
        d->sealed_len = (size_t)n;
    }
    return (d->url = sq_column_strdup(st, 12)) ? KS_OK : KS_ERR_NOMEM;
}

/* Steps st (bound) into items (room for max), reading each row. */
static int deliveries_read(sqlite3_stmt *st, ks_delivery *items, size_t max, size_t *n, int claim)
{
    int rc = KS_OK, step = SQLITE_DONE;
    while (rc == KS_OK && *n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = delivery_from_row(st, &items[(*n)++], claim);
    if (rc == KS_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = sq_error(step);
    sqlite3_reset(st);
    return rc;
}

int sq_delivery_list(ks_store *base, const char *account, const char *webhook_id, int64_t before_id, int limit,
                     ks_delivery_page *out)
{
    sq_store *s = (sq_store *)base;
    memset(out, 0, sizeof *out);
    if (limit < 1 || limit > KS_DELIVERY_PAGE_MAX || before_id < 0)
        return KS_ERR_INVALID;
    ks_delivery *items = calloc((size_t)limit + 1, sizeof *items);
    if (!items)
        return KS_ERR_NOMEM;
    size_t n = 0;
    int rc = KS_ERR_INTERNAL;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, Q_DELIVERY_LIST);
    if (st) {
        sqlite3_bind_text(st, 1, webhook_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, before_id > 0 ? before_id : INT64_MAX);
        sqlite3_bind_int(st, 4, limit + 1);
        rc = deliveries_read(st, items, (size_t)limit + 1, &n, 0);
    }
    pthread_mutex_unlock(&s->lock);
    return ks_delivery_page_finish(out, items, n, limit, rc);
}

/* The claim step of ks_store_delivery_claim (a ks_delivery_claim_args). */
static int claim_in_tx(ks_store *base, void *arg)
{
    sq_store *s = (sq_store *)base;
    ks_delivery_claim_args *a = arg;
    sqlite3_stmt *st = sq_stmt(s, Q_DELIVERY_DUE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, a->now);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)a->max);
    int rc = deliveries_read(st, a->items, a->max, &a->n, 1);
    for (size_t i = 0; rc == KS_OK && i < a->n; i++) {
        if (!(st = sq_stmt(s, Q_DELIVERY_LOCK)))
            return KS_ERR_INTERNAL;
        sqlite3_bind_int64(st, 1, a->items[i].id);
        sqlite3_bind_int64(st, 2, a->lease_until);
        rc = sq_exec_stmt(st);
    }
    return rc;
}

int sq_delivery_claim(ks_store *base, int64_t now, int64_t lease_until, size_t max, ks_delivery **out, size_t *n)
{
    return ks_store_delivery_claim(base, sq_write_tx_store, claim_in_tx, now, lease_until, max, out, n);
}

int sq_delivery_finish(ks_store *base, int64_t id, int status, int response_code, int64_t now,
                       int64_t next_attempt_at)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, Q_DELIVERY_FINISH);
    int rc = KS_ERR_INTERNAL;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, status);
        if (response_code > 0)
            sqlite3_bind_int(st, 3, response_code);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, next_attempt_at);
        rc = sq_write_one(s, st);
        if (rc == KS_OK && sqlite3_changes(s->db) == 0)
            rc = KS_ERR_NOT_FOUND;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_delivery_release(ks_store *base)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, Q_DELIVERY_RELEASE);
    int rc = st ? sq_write_one(s, st) : KS_ERR_INTERNAL;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_outbox_stats(ks_store *base, int64_t *pending, int64_t *oldest_created_at)
{
    sq_store *s = (sq_store *)base;
    *pending = *oldest_created_at = 0;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, Q_OUTBOX_STATS);
    int rc = KS_ERR_INTERNAL;
    if (st) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *pending = sqlite3_column_int64(st, 0);
            *oldest_created_at = sqlite3_column_int64(st, 1);
        }
        rc = step == SQLITE_ROW ? KS_OK : sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_delivery_purge(ks_store *base, int64_t before)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = sq_stmt(s, Q_DELIVERY_PURGE);
    int rc = KS_ERR_INTERNAL;
    if (st) {
        sqlite3_bind_int64(st, 1, before);
        rc = sq_write_one(s, st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
