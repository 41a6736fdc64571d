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

/* One statement as its own transaction: KS_ERR_NOT_FOUND for a missing
 * key (foreign key), KS_ERR_NAME_TAKEN for a duplicate, as in the SQLite
 * backend. With `change` set, also appends that change-log row. */
static int write_one(pg_store *s, pg_query q, const pg_params *p, int change)
{
    int rc = pg_begin(s, 0);
    if (rc != KS_OK)
        return rc;
    rc = pg_run(s, q, p);
    if (rc == KS_OK && change)
        rc = pg_change(s, (ks_change_kind)change, NULL, NULL);
    return pg_end(s, rc);
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

int pg_session_get(ks_store *base, const ks_digest *hash, ks_session_record *out)
{
    pg_store *s = (pg_store *)base;
    memset(out, 0, sizeof *out);
    int rc = pg_begin(s, 1);
    if (rc != KS_OK)
        return rc;
    pg_params p = {0};
    pg_bytes(&p, hash->bytes, KS_DIGEST_LEN);
    PGresult *r = pg_exec(s, P_SESSION_GET, &p, &rc);
    size_t th_len = 0;
    if (r && PQntuples(r) == 1) {
        pg_get_str(r, 0, 0, out->key_id, sizeof out->key_id);
        out->last_seen_at = pg_get_int(r, 0, 1);
        out->created_at = pg_get_int(r, 0, 2);
        /* A session from before tokens were recorded binds to nothing. */
        if (pg_get_bytes(r, 0, 3, out->token_hash.bytes, KS_DIGEST_LEN, &th_len) != 0 || th_len != KS_DIGEST_LEN)
            rc = KS_ERR_NOT_FOUND;
    } else if (r) {
        rc = KS_ERR_NOT_FOUND;
    }
    PQclear(r);
    return pg_end(s, rc);
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

int pg_signing_key_list(ks_store *base, ks_stored_signing_key **out, size_t *n)
{
    pg_store *s = (pg_store *)base;
    *out = NULL;
    *n = 0;
    int rc = pg_begin(s, 1);
    if (rc != KS_OK)
        return rc;
    PGresult *r = pg_exec(s, P_SIGNING_LIST, NULL, &rc);
    int rows = r ? PQntuples(r) : 0;
    ks_stored_signing_key *keys = calloc(rows ? (size_t)rows : 1, sizeof *keys);
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
    rc = pg_end(s, rc);
    if (rc != KS_OK) {
        free(keys);
        return rc;
    }
    *out = keys;
    *n = (size_t)rows;
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

int pg_share_take(ks_store *base, const ks_digest *id_hash, int64_t now, char key_id[KS_KEY_ID_MAX + 1],
                  unsigned char sealed[KS_SEALED_MAX], size_t *sealed_len)
{
    pg_store *s = (pg_store *)base;
    int rc = pg_begin(s, 0);
    if (rc != KS_OK)
        return rc;
    pg_params p = {0};
    pg_bytes(&p, id_hash->bytes, KS_DIGEST_LEN);
    PGresult *r = pg_exec(s, P_SHARE_GET, &p, &rc); /* FOR UPDATE */
    if (r && PQntuples(r) == 0)
        rc = KS_ERR_NOT_FOUND;
    else if (r && (pg_get_int(r, 0, 2) <= now || pg_get_bytes(r, 0, 1, sealed, KS_SEALED_MAX, sealed_len) != 0))
        rc = KS_ERR_GONE; /* expired, revealed (NULL), or not ours to read */
    else if (r)
        pg_get_str(r, 0, 0, key_id, KS_KEY_ID_MAX + 1);
    PQclear(r);
    if (rc == KS_OK) {
        pg_int(&p, now);
        rc = pg_run(s, P_SHARE_BURN, &p);
    }
    rc = pg_end(s, rc);
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

int pg_secret_check(ks_store *base, const ks_digest *fingerprint)
{
    pg_store *s = (pg_store *)base;
    int rc = pg_begin(s, 0);
    if (rc != KS_OK)
        return rc;
    pg_params p = {0};
    pg_bytes(&p, fingerprint->bytes, KS_DIGEST_LEN);
    rc = pg_run(s, P_SECRET_PUT, &p); /* the first node records it */
    PGresult *r = rc == KS_OK ? pg_exec(s, P_SECRET_GET, NULL, &rc) : NULL;
    unsigned char stored[KS_DIGEST_LEN];
    size_t len = 0;
    if (r && (PQntuples(r) != 1 || pg_get_bytes(r, 0, 0, stored, sizeof stored, &len) != 0 ||
              len != KS_DIGEST_LEN || memcmp(stored, fingerprint->bytes, KS_DIGEST_LEN) != 0))
        rc = KS_ERR_INVALID;
    PQclear(r);
    return pg_end(s, rc);
}
