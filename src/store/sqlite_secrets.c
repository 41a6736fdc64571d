/*
 * sqlite_secrets.c - login token signing keys and one-time share links in
 * the SQLite backend. Only sealed (encrypted) secrets reach the database; a
 * revealed share link keeps a tombstone (no ciphertext) until it expires, so
 * a second reveal can say "gone" rather than "not found".
 */
#include "store/sqlite_internal.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sq_signing_key_list(ks_store *base, ks_stored_signing_key **out, size_t *n)
{
    sq_store *s = (sq_store *)base;
    *out = NULL;
    *n = 0;
    ks_stored_signing_key *keys = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&s->lock);
    int rc = KS_OK, step = SQLITE_DONE;
    sqlite3_stmt *st = sq_stmt(s, Q_SIGNING_LIST);
    if (!st)
        rc = KS_ERR_INTERNAL;
    while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            ks_stored_signing_key *grown = realloc(keys, cap * sizeof *grown);
            if (!grown) { rc = KS_ERR_NOMEM; break; }
            keys = grown;
        }
        ks_stored_signing_key *k = &keys[(*n)++];
        memset(k, 0, sizeof *k);
        const char *kid = (const char *)sqlite3_column_text(st, 0);
        snprintf(k->kid, sizeof k->kid, "%s", kid ? kid : "");
        int pub_len = sqlite3_column_bytes(st, 1), sealed_len = sqlite3_column_bytes(st, 2);
        if (pub_len != (int)sizeof k->public_key || sealed_len <= 0 || sealed_len > KS_SEALED_MAX) {
            rc = KS_ERR_INTERNAL;
            break;
        }
        memcpy(k->public_key, sqlite3_column_blob(st, 1), sizeof k->public_key);
        memcpy(k->sealed, sqlite3_column_blob(st, 2), (size_t)sealed_len);
        k->sealed_len = (size_t)sealed_len;
        k->created_at = sqlite3_column_int64(st, 3);
        k->retired_at = sqlite3_column_int64(st, 4);
    }
    if (rc == KS_OK && step != SQLITE_DONE)
        rc = sq_error(step);
    if (st)
        sqlite3_reset(st);
    pthread_mutex_unlock(&s->lock);
    if (rc != KS_OK) {
        free(keys);
        *n = 0;
        return rc;
    }
    *out = keys;
    return KS_OK;
}

struct write_change_args {
    sqlite3_stmt *st;
    ks_change_kind change;         /* the change-log row to append with it */
};

static int write_change_in_tx(sq_store *s, void *arg)
{
    const struct write_change_args *a = arg;
    int step = sqlite3_step(a->st);
    sqlite3_reset(a->st);
    if (step != SQLITE_DONE)
        return sq_insert_error(step);
    return sq_change(s, a->change, NULL, NULL);
}

/* One statement and its change-log row as one transaction (the signing
 * keys: a running server reloads them when another process rotates). */
static int write_one_change(sq_store *s, sqlite3_stmt *st, ks_change_kind change)
{
    struct write_change_args a = {st, change};
    return sq_write_tx(s, write_change_in_tx, &a);
}

int sq_signing_key_add(ks_store *base, const ks_stored_signing_key *key)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SIGNING_ADD);
    if (st) {
        sqlite3_bind_text(st, 1, key->kid, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, key->public_key, sizeof key->public_key, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, key->sealed, (int)key->sealed_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, key->created_at);
        rc = write_one_change(s, st, KS_CHANGE_SIGNING_KEYS);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_signing_key_retire(ks_store *base, const char *kid, int64_t at)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SIGNING_RETIRE);
    if (st) {
        sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, at);
        rc = write_one_change(s, st, KS_CHANGE_SIGNING_KEYS);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_share_create(ks_store *base, const ks_digest *id_hash, const char *key_id,
                    const unsigned char *sealed, size_t sealed_len, int64_t now, int64_t expires_at)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SHARE_INSERT);
    if (st) {
        sqlite3_bind_blob(st, 1, id_hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, sealed, (int)sealed_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, expires_at);
        rc = sq_write_one(s, st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

struct share_take_args {
    const ks_digest *id_hash;
    int64_t now;
    char *key_id;                  /* out: KS_KEY_ID_MAX + 1 bytes */
    unsigned char *sealed;         /* out: KS_SEALED_MAX bytes, sealed_len of them used */
    size_t *sealed_len;
};

/* Reads the link and burns it (tombstone) in sq_share_take's transaction:
 * NOT_FOUND for an unknown link, GONE for a revealed or expired one. */
static int share_take_in_tx(sq_store *s, void *arg)
{
    const struct share_take_args *a = arg;
    sqlite3_stmt *st = sq_stmt(s, Q_SHARE_GET);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_blob(st, 1, a->id_hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
    int rc = KS_OK, step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        rc = KS_ERR_NOT_FOUND;
    else if (step != SQLITE_ROW)
        rc = sq_error(step);
    else if (sqlite3_column_type(st, 1) == SQLITE_NULL || sqlite3_column_int64(st, 2) <= a->now ||
             sqlite3_column_bytes(st, 1) > KS_SEALED_MAX)
        rc = KS_ERR_GONE;
    else {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        snprintf(a->key_id, KS_KEY_ID_MAX + 1, "%s", k ? k : "");
        *a->sealed_len = (size_t)sqlite3_column_bytes(st, 1);
        memcpy(a->sealed, sqlite3_column_blob(st, 1), *a->sealed_len);
    }
    sqlite3_reset(st);
    if (rc != KS_OK)
        return rc;
    if (!(st = sq_stmt(s, Q_SHARE_BURN)))
        return KS_ERR_INTERNAL;
    sqlite3_bind_blob(st, 1, a->id_hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->now);
    return sq_exec_stmt(st);
}

int sq_share_take(ks_store *base, const ks_digest *id_hash, int64_t now, char key_id[KS_KEY_ID_MAX + 1],
                  unsigned char sealed[KS_SEALED_MAX], size_t *sealed_len)
{
    struct share_take_args a = {id_hash, now, key_id, sealed, sealed_len};
    return sq_write_tx((sq_store *)base, share_take_in_tx, &a);
}

int sq_share_purge(ks_store *base, int64_t before)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SHARE_PURGE);
    if (st) {
        sqlite3_bind_int64(st, 1, before);
        rc = sq_write_one(s, st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- web admin sessions (hashes only) ---- */

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
            out->person_id = sqlite3_column_int64(st, 4);
            const char *via = (const char *)sqlite3_column_text(st, 5);
            snprintf(out->via, sizeof out->via, "%s", via && out->person_id ? via : "");
            /* A key's session from before tokens were recorded binds to nothing. */
            if ((bound = th && sqlite3_column_bytes(st, 3) == KS_DIGEST_LEN))
                memcpy(out->token_hash.bytes, th, KS_DIGEST_LEN);
            bound = bound || out->person_id > 0;
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

/* Records the fingerprint when none is (a new database, or one from before
 * fingerprints), then compares: INVALID when the stored one differs. */
static int secret_check_in_tx(sq_store *s, void *arg)
{
    const ks_digest *fingerprint = arg;
    sqlite3_stmt *st = sq_stmt(s, Q_SECRET_PUT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_blob(st, 1, fingerprint->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    if (rc != KS_OK)
        return rc;
    if (!(st = sq_stmt(s, Q_SECRET_GET)))
        return KS_ERR_INTERNAL;
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW)
        rc = step == SQLITE_DONE ? KS_ERR_INTERNAL : sq_error(step);
    else if (sqlite3_column_bytes(st, 0) != KS_DIGEST_LEN ||
             memcmp(sqlite3_column_blob(st, 0), fingerprint->bytes, KS_DIGEST_LEN) != 0)
        rc = KS_ERR_INVALID;
    sqlite3_reset(st);
    return rc;
}

int sq_secret_check(ks_store *base, const ks_digest *fingerprint)
{
    return sq_write_tx((sq_store *)base, secret_check_in_tx, (void *)fingerprint);
}

int sq_holds_data(ks_store *base, int *out)
{
    int64_t any = 0;
    int rc = sq_query_int((sq_store *)base, Q_HOLDS_DATA, &any);
    *out = rc == KS_OK && any != 0;
    return rc;
}
