/*
 * sqlite_changes.c - the change log of the SQLite backend, the same shape
 * as PostgreSQL's (pg_changes.c): every write that changes what verify or
 * login sees appends a row (sq_change) in its own transaction, and a
 * running server follows the log (service/change_feed.c). One server owns
 * the file, but offline commands (`keystile account create`,
 * `keystile signing-key rotate`) write to it from other processes; the log
 * is how the server learns of those within a poll.
 *
 * Seqs come from an AUTOINCREMENT key under SQLite's one writer at a time,
 * so they are handed out in commit order. There is no notification: the
 * follower polls every KS_FEED_POLL_MS. A poll costs one PRAGMA
 * data_version, which changes only when another connection has committed:
 * while it has not, this connection has appended nothing since it read the
 * log to its end, and the caller asks from that end or later, nothing new
 * can be there, and changes_since answers none without reading the table. Own rows come back like PostgreSQL's
 * (reloading is idempotent) and are compacted the same way.
 */
#include "store/sqlite_internal.h"
#include "core/error.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

int sq_change(sq_store *s, ks_change_kind kind, const char *account, const char *key_id)
{
    sqlite3_stmt *st = sq_stmt(s, Q_CHANGE_INSERT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int(st, 1, (int)kind);
    sqlite3_bind_text(st, 2, account ? account : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, key_id ? key_id : "", -1, SQLITE_STATIC);
    s->data_version_known = 0; /* this connection's own row: the next read must look */
    return sq_exec_stmt(st);
}

int sq_changes_head(ks_store *base, int64_t *seq)
{
    return sq_query_int((sq_store *)base, Q_CHANGES_HEAD, seq);
}

/* PRAGMA data_version of this connection; -1 on error. */
static int64_t data_version(sq_store *s)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int sq_changes_since(ks_store *base, int64_t after, ks_change *out, size_t max, size_t *n)
{
    sq_store *s = (sq_store *)base;
    *n = 0;
    pthread_mutex_lock(&s->lock);
    int64_t version = data_version(s);
    if (version >= 0 && s->data_version_known && version == s->data_version && after >= s->log_end) {
        pthread_mutex_unlock(&s->lock); /* no other process wrote since the log was read to its end */
        return KS_OK;
    }
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_CHANGES_SINCE);
    if (st) {
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int64(st, 2, (int64_t)max);
        int step = SQLITE_DONE;
        while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
            ks_change *c = &out[(*n)++];
            memset(c, 0, sizeof *c);
            c->seq = sqlite3_column_int64(st, 0);
            c->kind = sqlite3_column_int(st, 1);
            const unsigned char *account = sqlite3_column_text(st, 2), *key_id = sqlite3_column_text(st, 3);
            snprintf(c->account, sizeof c->account, "%s", account ? (const char *)account : "");
            snprintf(c->key_id, sizeof c->key_id, "%s", key_id ? (const char *)key_id : "");
        }
        rc = *n == max || step == SQLITE_DONE ? KS_OK : sq_error(step);
        sqlite3_reset(st);
    }
    if (rc == KS_OK && *n < max && version >= 0) { /* read to the end: wait for the next foreign commit */
        s->data_version = version;
        s->data_version_known = 1;
        s->log_end = *n ? out[*n - 1].seq : after;
    }
    if (rc != KS_OK)
        *n = 0;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_changes_wait(ks_store *base, int timeout_ms, int wake_fd)
{
    (void)base;
    struct pollfd p = {.fd = wake_fd, .events = POLLIN};
    while (poll(&p, wake_fd >= 0 ? 1 : 0, timeout_ms) < 0 && errno == EINTR)
        ;
    return KS_OK;
}

int sq_changes_compact(ks_store *base)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->lock);
    int rc = (st = sq_stmt(s, Q_CHANGES_COMPACT)) ? sq_write_one(s, st) : KS_ERR_INTERNAL;
    pthread_mutex_unlock(&s->lock);
    return rc;
}
