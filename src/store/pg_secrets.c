/*
 * pg_secrets.c - web admin sessions, login token signing keys, one-time
 * share links and the server secret's fingerprint in the PostgreSQL backend.
 * Only hashes and sealed (encrypted) secrets reach the database. Sessions and
 * share links live only here, so they work on every node; a share link is
 * taken under a row lock, so two nodes cannot both reveal it.
 */
#include "store/pg_internal.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct write_one_args {
    pg_query q;
    const pg_params *p;
    int change;                    /* 0, or the kind of change-log row to append */
};

static int write_one_in_tx(pg_store *s, void *arg)
{
    const struct write_one_args *a = arg;
    int rc = pg_run(s, a->q, a->p);
    if (rc == KS_OK && a->change)
        rc = pg_change(s, (ks_change_kind)a->change, NULL, NULL);
    return rc;
}

/* One statement as its own transaction: KS_ERR_NOT_FOUND for a missing
 * key (foreign key), KS_ERR_NAME_TAKEN for a duplicate, as in the SQLite
 * backend. With `change` set, also appends that change-log row. */
static int write_one(pg_store *s, pg_query q, const pg_params *p, int change)
{
    struct write_one_args a = {q, p, change};
    return pg_write_tx(s, write_one_in_tx, &a);
}

int pg_session_create(ks_store *base, const ks_digest *hash, const char *key_id, const ks_digest *token_hash,
                      int64_t now)
{
    pg_params p = {0};
    pg_bytes(&p, hash->bytes, KS_DIGEST_LEN);
    pg_text(&p, key_id);
    pg_int(&p, now);
    pg_bytes(&p, token_hash->bytes, KS_DIGEST_LEN);
    return write_one((pg_store *)base, P_SESSION_INSERT, &p, 0);
}

struct session_get_args {
    const ks_digest *hash;
    ks_session_record *out;
};

static int session_get_in_tx(pg_store *s, void *arg)
{
    struct session_get_args *a = arg;
    ks_session_record *out = a->out;
    pg_params p = {0};
    pg_bytes(&p, a->hash->bytes, KS_DIGEST_LEN);
    int rc;
    PGresult *r = pg_exec(s, P_SESSION_GET, &p, &rc);
    size_t th_len = 0;
    if (r && PQntuples(r) == 1) {
        pg_get_str(r, 0, 0, out->key_id, sizeof out->key_id);
        out->last_seen_at = pg_get_int(r, 0, 1);
        out->created_at = pg_get_int(r, 0, 2);
        out->person_id = pg_get_int(r, 0, 4);
        if (out->person_id > 0)
            pg_get_str(r, 0, 5, out->via, sizeof out->via);
        /* A key's session from before tokens were recorded binds to nothing. */
        else if (pg_get_bytes(r, 0, 3, out->token_hash.bytes, KS_DIGEST_LEN, &th_len) != 0 ||
                 th_len != KS_DIGEST_LEN)
            rc = KS_ERR_NOT_FOUND;
    } else if (r) {
        rc = KS_ERR_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

int pg_session_get(ks_store *base, const ks_digest *hash, ks_session_record *out)
{
    memset(out, 0, sizeof *out);
    struct session_get_args a = {hash, out};
    return pg_read_tx((pg_store *)base, session_get_in_tx, &a);
}

int pg_session_touch(ks_store *base, const ks_digest *hash, int64_t now)
{
    pg_params p = {0};
    pg_bytes(&p, hash->bytes, KS_DIGEST_LEN);
    pg_int(&p, now);
    return write_one((pg_store *)base, P_SESSION_TOUCH, &p, 0);
}

int pg_session_delete(ks_store *base, const ks_digest *hash)
{
    pg_params p = {0};
    pg_bytes(&p, hash->bytes, KS_DIGEST_LEN);
    return write_one((pg_store *)base, P_SESSION_DELETE, &p, 0);
}

int pg_session_purge(ks_store *base, int64_t idle_before, int64_t created_before)
{
    pg_params p = {0};
    pg_int(&p, idle_before);
    pg_int(&p, created_before);
    return write_one((pg_store *)base, P_SESSION_PURGE, &p, 0);
}

struct signing_list_args {
    ks_stored_signing_key *keys;   /* out: owned by the caller */
    int rows;                      /* out: keys read */
};

static int signing_list_in_tx(pg_store *s, void *arg)
{
    struct signing_list_args *a = arg;
    int rc;
    PGresult *r = pg_exec(s, P_SIGNING_LIST, NULL, &rc);
    int rows = r ? PQntuples(r) : 0;
    ks_stored_signing_key *keys = a->keys = calloc(rows ? (size_t)rows : 1, sizeof *keys);
    a->rows = rows;
    if (!keys && rc == KS_OK)
        rc = KS_ERR_NOMEM;
    for (int i = 0; rc == KS_OK && i < rows; i++) {
        ks_stored_signing_key *k = &keys[i];
        size_t pub_len;
        pg_get_str(r, i, 0, k->kid, sizeof k->kid);
        if (pg_get_bytes(r, i, 1, k->public_key, sizeof k->public_key, &pub_len) != 0 ||
            pub_len != sizeof k->public_key ||
            pg_get_bytes(r, i, 2, k->sealed, KS_SEALED_MAX, &k->sealed_len) != 0 || k->sealed_len == 0) {
            rc = KS_ERR_INTERNAL;
            break;
        }
        k->created_at = pg_get_int(r, i, 3);
        k->retired_at = pg_get_int(r, i, 4);
    }
    PQclear(r);
    return rc;
}

int pg_signing_key_list(ks_store *base, ks_stored_signing_key **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct signing_list_args a = {NULL, 0};
    int rc = pg_read_tx((pg_store *)base, signing_list_in_tx, &a);
    if (rc != KS_OK) {
        free(a.keys);
        return rc;
    }
    *out = a.keys;
    *n = (size_t)a.rows;
    return KS_OK;
}

int pg_signing_key_add(ks_store *base, const ks_stored_signing_key *key)
{
    pg_params p = {0};
    pg_text(&p, key->kid);
    pg_bytes(&p, key->public_key, sizeof key->public_key);
    pg_bytes(&p, key->sealed, key->sealed_len);
    pg_int(&p, key->created_at);
    return write_one((pg_store *)base, P_SIGNING_ADD, &p, KS_CHANGE_SIGNING_KEYS);
}

int pg_signing_key_retire(ks_store *base, const char *kid, int64_t at)
{
    pg_params p = {0};
    pg_text(&p, kid);
    pg_int(&p, at);
    return write_one((pg_store *)base, P_SIGNING_RETIRE, &p, KS_CHANGE_SIGNING_KEYS);
}

int pg_share_create(ks_store *base, const ks_digest *id_hash, const char *key_id,
                    const unsigned char *sealed, size_t sealed_len, int64_t now, int64_t expires_at)
{
    pg_params p = {0};
    pg_bytes(&p, id_hash->bytes, KS_DIGEST_LEN);
    pg_text(&p, key_id);
    pg_bytes(&p, sealed, sealed_len);
    pg_int(&p, now);
    pg_int(&p, expires_at);
    return write_one((pg_store *)base, P_SHARE_INSERT, &p, 0);
}

struct share_take_args {
    const ks_digest *id_hash;
    int64_t now;
    char *key_id;                  /* out: KS_KEY_ID_MAX + 1 */
    unsigned char *sealed;         /* out: KS_SEALED_MAX */
    size_t *sealed_len;
};

/* Reads the link under its row lock and burns it: NOT_FOUND when unknown,
 * GONE when expired or revealed already. */
static int share_take_in_tx(pg_store *s, void *arg)
{
    const struct share_take_args *a = arg;
    pg_params p = {0};
    pg_bytes(&p, a->id_hash->bytes, KS_DIGEST_LEN);
    int rc;
    PGresult *r = pg_exec(s, P_SHARE_GET, &p, &rc); /* FOR UPDATE */
    if (r && PQntuples(r) == 0)
        rc = KS_ERR_NOT_FOUND;
    else if (r && (pg_get_int(r, 0, 2) <= a->now ||
                   pg_get_bytes(r, 0, 1, a->sealed, KS_SEALED_MAX, a->sealed_len) != 0))
        rc = KS_ERR_GONE; /* expired, revealed (NULL), or not ours to read */
    else if (r)
        pg_get_str(r, 0, 0, a->key_id, KS_KEY_ID_MAX + 1);
    PQclear(r);
    if (rc == KS_OK) {
        pg_int(&p, a->now);
        rc = pg_run(s, P_SHARE_BURN, &p);
    }
    return rc;
}

int pg_share_take(ks_store *base, const ks_digest *id_hash, int64_t now, char key_id[KS_KEY_ID_MAX + 1],
                  unsigned char sealed[KS_SEALED_MAX], size_t *sealed_len)
{
    struct share_take_args a = {id_hash, now, key_id, sealed, sealed_len};
    int rc = pg_write_tx((pg_store *)base, share_take_in_tx, &a);
    if (rc != KS_OK && rc != KS_ERR_GONE && rc != KS_ERR_NOT_FOUND)
        memset(sealed, 0, KS_SEALED_MAX);
    return rc;
}

int pg_share_purge(ks_store *base, int64_t before)
{
    pg_params p = {0};
    pg_int(&p, before);
    return write_one((pg_store *)base, P_SHARE_PURGE, &p, 0);
}

/* Records the fingerprint when none is (the first node), then compares:
 * INVALID when the stored one differs. */
static int secret_check_in_tx(pg_store *s, void *arg)
{
    const ks_digest *fingerprint = arg;
    pg_params p = {0};
    pg_bytes(&p, fingerprint->bytes, KS_DIGEST_LEN);
    int rc = pg_run(s, P_SECRET_PUT, &p); /* the first node records it */
    PGresult *r = rc == KS_OK ? pg_exec(s, P_SECRET_GET, NULL, &rc) : NULL;
    unsigned char stored[KS_DIGEST_LEN];
    size_t len = 0;
    if (r && (PQntuples(r) != 1 || pg_get_bytes(r, 0, 0, stored, sizeof stored, &len) != 0 ||
              len != KS_DIGEST_LEN || memcmp(stored, fingerprint->bytes, KS_DIGEST_LEN) != 0))
        rc = KS_ERR_INVALID;
    PQclear(r);
    return rc;
}

int pg_secret_check(ks_store *base, const ks_digest *fingerprint)
{
    return pg_write_tx((pg_store *)base, secret_check_in_tx, (void *)fingerprint);
}

static int holds_data_in_tx(pg_store *s, void *arg)
{
    int *out = arg;
    int rc;
    PGresult *r = pg_exec(s, P_HOLDS_DATA, NULL, &rc);
    if (r && PQntuples(r) == 1)
        *out = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    else if (rc == KS_OK)
        rc = KS_ERR_INTERNAL;
    PQclear(r);
    return rc;
}

int pg_holds_data(ks_store *base, int *out)
{
    *out = 1;
    return pg_read_tx((pg_store *)base, holds_data_in_tx, out);
}
