/*
 * jwt.h - login tokens: compact JWS with alg EdDSA (Ed25519, libsodium) and
 * a `kid` header naming the signing key. Claims: sub (the API key), account,
 * roles, iat, exp, jti, and tfp: the fingerprint of the API token that
 * logged in (ks_jwt_token_fingerprint), so a login token ends with its token
 * (verify.h: ks_verify_bound). Pure functions: the caller supplies keys and
 * time.
 *
 * Left out on purpose: the token and its stored keyed hash never enter a
 * JWT (anyone holding the JWT can read its claims); the fingerprint is a
 * truncated keyed hash of that keyed hash, which says nothing about either.
 */
#ifndef KS_CORE_JWT_H
#define KS_CORE_JWT_H

#include "core/model.h"
#include "core/secret.h"

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define KS_JWT_MAX 4096           /* longest JWT accepted */
#define KS_JWT_KID_LEN 16         /* hex chars */
#define KS_JWT_LIFETIME (6 * 3600) /* exp - iat of ours; the most accepted */
#define KS_JWT_MAX_SKEW 60        /* an iat at most this far ahead of now */
#define KS_JWT_FP_LEN 22          /* base64url of the 16-byte token fingerprint */

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
    char token_fp[KS_JWT_FP_LEN + 1]; /* tfp: fingerprint of the token that logged in */
} ks_jwt_claims;

/* Makes a new Ed25519 key with a random kid. */
void ks_signing_key_generate(ks_signing_key *key, int64_t now);

/* The fingerprint a login token carries for the API token whose keyed hash
 * is token_hash: BLAKE2b-128 of it under a fixed domain-separation key,
 * base64url (KS_JWT_FP_LEN chars and a NUL). Never fails. */
void ks_jwt_token_fingerprint(const ks_digest *token_hash, char out[KS_JWT_FP_LEN + 1]);

/* Signs a token for key_id of account with these roles, bound to the token
 * of fingerprint token_fp (ks_jwt_token_fingerprint), valid from now for
 * KS_JWT_LIFETIME. *out is malloc'd. KS_OK or KS_ERR_NOMEM. */
int ks_jwt_sign(const ks_signing_key *key, const char *key_id, const char *account,
                const ks_strlist *roles, const char *token_fp, int64_t now, char **out);

/* Checks format, signature (against the key of the header's kid among
 * `keys`), that key's retirement (a key retired_at T verifies nothing from
 * T + KS_JWT_LIFETIME on), and the times at `now`: iat < exp, exp - iat at
 * most KS_JWT_LIFETIME, iat at most KS_JWT_MAX_SKEW ahead, now before exp;
 * sub, account and a tfp of KS_JWT_FP_LEN chars must be there. Fills
 * *claims. KS_OK, or KS_ERR_UNAUTHENTICATED for anything wrong (never says
 * which). Whether the token of tfp still verifies is the caller's check. */
__attribute__((warn_unused_result))
int ks_jwt_verify(const char *jwt, size_t len, const ks_signing_key *keys, size_t n_keys,
                  int64_t now, ks_jwt_claims *claims);

/* The JWK of a public key: {"kty":"OKP","crv":"Ed25519","x","kid","alg","use"}
 * as a jansson object (returned as void * to keep jansson out of this header). */
void *ks_jwk_of(const ks_signing_key *key);

#endif
