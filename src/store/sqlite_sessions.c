/* sqlite_sessions.c - web admin sessions in the SQLite backend (hashes only). */
#include "store/sqlite_internal.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

/* Steps sq_write_one's statement: NOT_FOUND for a missing key, NAME_TAKEN
 * for a duplicate (sq_insert_error). */
static int write_one_in_tx(sq_store *s, void *arg)
{
    sqlite3_stmt *st = arg;
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? KS_OK : sq_insert_error(step);
}

int sq_write_one(sq_store *s, sqlite3_stmt *st)
{
    return sq_write_tx(s, write_one_in_tx, st);
}

int sq_session_create(ks_store *base, const ks_digest *hash, const char *key_id, const ks_digest *token_hash,
                      int64_t now)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SESSION_INSERT);
    if (st) {
        sqlite3_bind_blob(st, 1, hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_blob(st, 4, token_hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        rc = sq_write_one(s, st); /* a deleted key fails the foreign key: NOT_FOUND */
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_session_get(ks_store *base, const ks_digest *hash, ks_session_record *out)
{
    sq_store *s = (sq_store *)base;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SESSION_GET);
    if (st) {
        sqlite3_bind_blob(st, 1, hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        int step = sqlite3_step(st);
        int bound = 0;
        if (step == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(st, 0);
            snprintf(out->key_id, sizeof out->key_id, "%s", k ? k : "");
            out->last_seen_at = sqlite3_column_int64(st, 1);
            out->created_at = sqlite3_column_int64(st, 2);
            const void *th = sqlite3_column_blob(st, 3);
            /* A session from before tokens were recorded binds to nothing. */
            if ((bound = th && sqlite3_column_bytes(st, 3) == KS_DIGEST_LEN))
                memcpy(out->token_hash.bytes, th, KS_DIGEST_LEN);
        }
        rc = step == SQLITE_ROW ? (bound ? KS_OK : KS_ERR_NOT_FOUND)
             : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_session_touch(ks_store *base, const ks_digest *hash, int64_t now)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SESSION_TOUCH);
    if (st) {
        sqlite3_bind_blob(st, 1, hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        rc = sq_write_one(s, st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_session_delete(ks_store *base, const ks_digest *hash)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SESSION_DELETE);
    if (st) {
        sqlite3_bind_blob(st, 1, hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        rc = sq_write_one(s, st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_session_purge(ks_store *base, int64_t idle_before, int64_t created_before)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SESSION_PURGE);
    if (st) {
        sqlite3_bind_int64(st, 1, idle_before);
        sqlite3_bind_int64(st, 2, created_before);
        rc = sq_write_one(s, st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
