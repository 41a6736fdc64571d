/* login_keys.c - signing keys for login JWTs (see login_keys.h). */
#include "service/login_keys.h"
#include "core/clock.h"
#include "core/error.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_CONTEXT "ksjwtkey" /* crypto_kdf context: 8 bytes */

static void seal_key(const ks_service *svc, unsigned char key[crypto_secretbox_KEYBYTES])
{
    crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, 1, SEAL_CONTEXT, svc->secret.bytes);
}

static int seal(const ks_service *svc, const ks_signing_key *k, ks_stored_signing_key *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->kid, k->kid, sizeof out->kid);
    memcpy(out->public_key, k->public_key, sizeof out->public_key);
    out->created_at = k->created_at;
    unsigned char key[crypto_secretbox_KEYBYTES];
    seal_key(svc, key);
    randombytes_buf(out->sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out->sealed + crypto_secretbox_NONCEBYTES, k->secret_key, sizeof k->secret_key,
                          out->sealed, key);
    out->sealed_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + sizeof k->secret_key;
    sodium_memzero(key, sizeof key);
    return KS_OK;
}

static int unseal(const ks_service *svc, const ks_stored_signing_key *in, ks_signing_key *out)
{
    memset(out, 0, sizeof *out);
    if (in->sealed_len != crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + sizeof out->secret_key)
        return KS_ERR_INTERNAL;
    unsigned char key[crypto_secretbox_KEYBYTES];
    seal_key(svc, key);
    int ok = crypto_secretbox_open_easy(out->secret_key, in->sealed + crypto_secretbox_NONCEBYTES,
                                        in->sealed_len - crypto_secretbox_NONCEBYTES, in->sealed, key) == 0;
    sodium_memzero(key, sizeof key);
    if (!ok)
        return KS_ERR_INTERNAL; /* another server secret sealed it */
    memcpy(out->kid, in->kid, sizeof out->kid);
    memcpy(out->public_key, in->public_key, sizeof out->public_key);
    out->created_at = in->created_at;
    out->retired_at = in->retired_at;
    return KS_OK;
}

static void keys_replace(ks_service *svc, ks_signing_key *keys, size_t n)
{
    pthread_rwlock_wrlock(&svc->signing_lock);
    ks_signing_key *old = svc->signing_keys;
    size_t old_n = svc->n_signing_keys;
    svc->signing_keys = keys;
    svc->n_signing_keys = n;
    pthread_rwlock_unlock(&svc->signing_lock);
    if (old) {
        sodium_memzero(old, old_n * sizeof *old);
        free(old);
    }
}

static int add_new_key(ks_service *svc, char kid_out[KS_JWT_KID_LEN + 1])
{
    ks_signing_key k;
    ks_stored_signing_key stored;
    ks_signing_key_generate(&k, ks_clock_now());
    seal(svc, &k, &stored);
    int rc = svc->store->ops->signing_key_add(svc->store, &stored);
    if (rc == KS_OK && kid_out)
        memcpy(kid_out, k.kid, KS_JWT_KID_LEN + 1);
    sodium_memzero(&k, sizeof k);
    return rc;
}

int ks_login_keys_load(ks_service *svc)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        ks_stored_signing_key *stored = NULL;
        size_t n = 0;
        int rc = svc->store->ops->signing_key_list(svc->store, &stored, &n);
        if (rc != KS_OK)
            return rc;
        ks_signing_key *keys = calloc(n ? n : 1, sizeof *keys);
        size_t active = 0, kept = 0;
        for (size_t i = 0; keys && i < n; i++) {
            if (unseal(svc, &stored[i], &keys[kept]) == KS_OK) {
                active += keys[kept].retired_at == 0;
                kept++;
            }
        }
        sodium_memzero(stored, n * sizeof *stored);
        free(stored);
        if (!keys)
            return KS_ERR_NOMEM;
        if (active > 0 || attempt == 1) {
            keys_replace(svc, keys, kept);
            return active > 0 ? KS_OK : KS_ERR_INTERNAL;
        }
        free(keys);
        if ((rc = add_new_key(svc, NULL)) != KS_OK)
            return rc;
    }
    return KS_ERR_INTERNAL;
}

int ks_login_keys_rotate(ks_service *svc, char new_kid[KS_JWT_KID_LEN + 1])
{
    ks_stored_signing_key *stored = NULL;
    size_t n = 0;
    int rc = svc->store->ops->signing_key_list(svc->store, &stored, &n);
    if (rc != KS_OK)
        return rc;
    int64_t now = ks_clock_now();
    rc = add_new_key(svc, new_kid);
    for (size_t i = 0; rc == KS_OK && i < n; i++)
        if (stored[i].retired_at == 0)
            rc = svc->store->ops->signing_key_retire(svc->store, stored[i].kid, now);
    sodium_memzero(stored, n * sizeof *stored);
    free(stored);
    return rc == KS_OK ? ks_login_keys_load(svc) : rc;
}

int ks_login_issue(ks_service *svc, const char *key_id, const char *account, const ks_strlist *roles,
                   const ks_digest *token_hash, char **jwt, int64_t *expires_at)
{
    int64_t now = ks_clock_now();
    int rc = KS_ERR_INTERNAL;
    char fp[KS_JWT_FP_LEN + 1];
    ks_jwt_token_fingerprint(token_hash, fp);
    pthread_rwlock_rdlock(&svc->signing_lock);
    const ks_signing_key *signer = NULL;
    for (size_t i = 0; i < svc->n_signing_keys; i++) /* the newest active key signs */
        if (svc->signing_keys[i].retired_at == 0)
            signer = &svc->signing_keys[i];
    if (signer)
        rc = ks_jwt_sign(signer, key_id, account, roles, fp, now, jwt);
    pthread_rwlock_unlock(&svc->signing_lock);
    sodium_memzero(fp, sizeof fp);
    *expires_at = now + KS_JWT_LIFETIME;
    return rc;
}

int ks_login_check(ks_service *svc, const char *jwt, size_t len, int64_t now, ks_jwt_claims *claims)
{
    pthread_rwlock_rdlock(&svc->signing_lock);
    int rc = ks_jwt_verify(jwt, len, svc->signing_keys, svc->n_signing_keys, now, claims);
    pthread_rwlock_unlock(&svc->signing_lock);
    return rc;
}

int ks_login_resolve(ks_service *svc, const char *jwt, size_t len, const char *target, const char *resource,
                     int64_t now, ks_verify_result *out)
{
    ks_jwt_claims claims;
    memset(out, 0, sizeof *out);
    out->slot = KS_SLOT_NONE;
    if (ks_login_check(svc, jwt, len, now, &claims) != KS_OK) {
        out->reason = KS_VERIFY_INVALID_TOKEN;
        return KS_OK;
    }
    /* A valid signature is not enough: the token that logged in must still
     * verify now, as the key's own checks say. */
    ks_token_binding binding = {.token_hash = NULL, .token_fp = claims.token_fp};
    int rc = ks_verify_bound(svc->index, claims.sub, &binding, target, resource, now, out);
    sodium_memzero(&claims, sizeof claims);
    return rc;
}

void *ks_login_jwks(ks_service *svc)
{
    json_t *keys = json_array();
    int64_t now = ks_clock_now();
    pthread_rwlock_rdlock(&svc->signing_lock);
    for (size_t i = 0; keys && i < svc->n_signing_keys; i++) {
        const ks_signing_key *k = &svc->signing_keys[i];
        if (k->retired_at == 0 || k->retired_at + KS_JWT_LIFETIME > now)
            json_array_append_new(keys, ks_jwk_of(k));
    }
    pthread_rwlock_unlock(&svc->signing_lock);
    return json_pack("{s:o}", "keys", keys);
}

void ks_login_keys_free(ks_service *svc)
{
    keys_replace(svc, NULL, 0);
}
