/*
 * jwt.h - login tokens: compact JWS with alg EdDSA (Ed25519, libsodium) and
 * a `kid` header naming the signing key. Claims: sub (the API key), account,
 * roles, iat, exp, jti. Pure functions: the caller supplies keys and time.
 */
#ifndef KS_CORE_JWT_H
#define KS_CORE_JWT_H

#include "core/model.h"

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define KS_JWT_MAX 4096           /* longest JWT accepted */
#define KS_JWT_KID_LEN 16         /* hex chars */
#define KS_JWT_LIFETIME (6 * 3600)

typedef struct ks_signing_key_s {
    char kid[KS_JWT_KID_LEN + 1];
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    unsigned char secret_key[crypto_sign_SECRETKEYBYTES]; /* zero when only verifying */
    int64_t created_at;
    int64_t retired_at;  /* 0 while it signs new tokens */
} ks_signing_key;

typedef struct {
    char sub[KS_KEY_ID_MAX + 1];
    char account[KS_ACCOUNT_MAX + 1];
    int64_t iat, exp;
} ks_jwt_claims;

/* Makes a new Ed25519 key with a random kid. */
void ks_signing_key_generate(ks_signing_key *key, int64_t now);

/* Signs a token for key_id of account with these roles, valid from now for
 * KS_JWT_LIFETIME. *out is malloc'd. KS_OK or KS_ERR_NOMEM. */
int ks_jwt_sign(const ks_signing_key *key, const char *key_id, const char *account,
                const ks_strlist *roles, int64_t now, char **out);

/* Checks format, signature (against the key of the header's kid among
 * `keys`) and expiry at `now`; fills *claims. KS_OK, or KS_ERR_UNAUTHENTICATED
 * for anything wrong (never says which). */
int ks_jwt_verify(const char *jwt, size_t len, const ks_signing_key *keys, size_t n_keys,
                  int64_t now, ks_jwt_claims *claims);

/* The JWK of a public key: {"kty":"OKP","crv":"Ed25519","x","kid","alg","use"}
 * as a jansson object (returned as void * to keep jansson out of this header). */
void *ks_jwk_of(const ks_signing_key *key);

#endif
