/*
 * pg_changes.c - the change feed of the PostgreSQL backend (store.h).
 *
 * Writers append to `changes` in their own transaction, after taking an
 * advisory transaction lock (pg_change): seqs are therefore handed out in
 * commit order, and a reader that sees seq N can never later see a smaller
 * seq appear. A trigger NOTIFYs keystile_changes on each insert; the
 * follower LISTENs on a connection of its own (only its thread touches
 * s->listen), but the notification is only a wake-up: changes_since, the
 * poll of the sequence, is the truth, so a notification lost with a broken
 * connection costs at most one wait period.
 */
#include "store/pg_internal.h"
#include "core/clock.h"
#include "core/error.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

static int changes_head_in_tx(pg_store *s, void *arg)
{
    int64_t *seq = arg;
    int rc;
    PGresult *r = pg_exec(s, P_CHANGES_HEAD, NULL, &rc);
    if (r && PQntuples(r) == 1)
        *seq = pg_get_int(r, 0, 0);
    PQclear(r);
    return rc;
}

int pg_changes_head(ks_store *base, int64_t *seq)
{
    *seq = 0;
    return pg_read_tx((pg_store *)base, changes_head_in_tx, seq);
}

struct changes_since_args {
    int64_t after;
    ks_change *out;                /* max entries */
    size_t max;
    size_t n;                      /* out: entries filled */
};

static int changes_since_in_tx(pg_store *s, void *arg)
{
    struct changes_since_args *a = arg;
    pg_params p = {0};
    pg_int(&p, a->after);
    pg_int(&p, (int64_t)a->max);
    int rc;
    PGresult *r = pg_exec(s, P_CHANGES_SINCE, &p, &rc);
    for (int i = 0; r && i < PQntuples(r) && (size_t)i < a->max; i++) {
        ks_change *c = &a->out[a->n++];
        memset(c, 0, sizeof *c);
        c->seq = pg_get_int(r, i, 0);
        c->kind = (int)pg_get_int(r, i, 1);
        pg_get_str(r, i, 2, c->account, sizeof c->account);
        pg_get_str(r, i, 3, c->key_id, sizeof c->key_id);
    }
    PQclear(r);
    return rc;
}

int pg_changes_since(ks_store *base, int64_t after, ks_change *out, size_t max, size_t *n)
{
    struct changes_since_args a = {after, out, max, 0};
    int rc = pg_read_tx((pg_store *)base, changes_since_in_tx, &a);
    *n = rc == KS_OK ? a.n : 0;
    return rc;
}

static int changes_compact_in_tx(pg_store *s, void *arg)
{
    return pg_run(s, P_CHANGES_COMPACT, NULL);
}

int pg_changes_compact(ks_store *base)
{
    return pg_write_tx((pg_store *)base, changes_compact_in_tx, NULL);
}

void pg_listen_close(pg_store *s)
{
    if (s->listen)
        PQfinish(s->listen);
    s->listen = NULL;
}

/* A LISTENing connection, (re)connecting at most once a second. */
static int listen_ensure(pg_store *s)
{
    if (s->listen && PQstatus(s->listen) == CONNECTION_OK)
        return KS_OK;
    pg_listen_close(s);
    double now = ks_clock_monotonic();
    if (now < s->next_listen_connect)
        return KS_ERR_STORAGE;
    s->next_listen_connect = now + 1.0;
    char err[256];
    if (!(s->listen = pg_connect(s->uri, err, sizeof err)))
        return KS_ERR_STORAGE;
    PGresult *r = PQexec(s->listen, "LISTEN " PG_CHANNEL);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        pg_listen_close(s);
        return KS_ERR_STORAGE;
    }
    return KS_OK;
}

/* Reads what arrived; 1 when a notification was among it, -1 when the
 * connection broke. */
static int listen_drain(pg_store *s)
{
    if (!PQconsumeInput(s->listen)) {
        pg_listen_close(s);
        return -1;
    }
    int got = 0;
    PGnotify *n;
    while ((n = PQnotifies(s->listen)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

int pg_changes_wait(ks_store *base, int timeout_ms, int wake_fd)
{
    pg_store *s = (pg_store *)base;
    int rc = listen_ensure(s);
    if (rc == KS_OK) {
        int got = listen_drain(s);
        if (got != 0)
            return got > 0 ? KS_OK : KS_ERR_STORAGE;
    }
    struct pollfd fds[2];
    nfds_t n = 0;
    if (wake_fd >= 0)
        fds[n++] = (struct pollfd){.fd = wake_fd, .events = POLLIN};
    if (rc == KS_OK)
        fds[n++] = (struct pollfd){.fd = PQsocket(s->listen), .events = POLLIN};
    int ready;
    while ((ready = poll(fds, n, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (rc == KS_OK && ready > 0 && (fds[n - 1].revents & (POLLIN | POLLERR | POLLHUP)))
        rc = listen_drain(s) < 0 ? KS_ERR_STORAGE : KS_OK;
    return rc;
}
