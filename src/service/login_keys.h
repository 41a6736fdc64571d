/*
 * login_keys.h - the Ed25519 keys that sign login tokens (JWTs), and the
 * exchange itself. Secret halves are sealed in the store with a key derived
 * from the server secret (crypto_kdf); the service keeps them unsealed in
 * memory, reloads them from the store every 30 s (so `keystile signing-key
 * rotate` reaches running nodes) and publishes the public halves as JWKS.
 * A retired key stays in the JWKS, and verifies, until the last token it
 * signed expired (KS_JWT_LIFETIME after its retirement).
 *
 * A login token carries the fingerprint of the API token that logged in
 * (jwt.h), and Keystile accepts it only while that token verifies
 * (ks_login_resolve): it ends with its token, on every node.
 */
#ifndef KS_SERVICE_LOGIN_KEYS_H
#define KS_SERVICE_LOGIN_KEYS_H

#include "core/jwt.h"
#include "service/service.h"
#include "verify/verify.h"

/* Loads the signing keys, creating the first one when there is none. */
int ks_login_keys_load(ks_service *svc);

/* Retires the current signing key and makes a new one (in the store). */
int ks_login_keys_rotate(ks_service *svc, char new_kid[KS_JWT_KID_LEN + 1]);

/* A JWT for the key (6 h), bound to the token of keyed hash token_hash
 * (the one that logged in); *jwt malloc'd, *expires_at set. */
int ks_login_issue(ks_service *svc, const char *key_id, const char *account, const ks_strlist *roles,
                   const ks_digest *token_hash, char **jwt, int64_t *expires_at);

/* Checks a JWT's signature and claims at `now` (ks_jwt_verify with the
 * loaded keys); KS_OK fills claims, else KS_ERR_UNAUTHENTICATED. Does not
 * check its token: see ks_login_resolve. */
__attribute__((warn_unused_result))
int ks_login_check(ks_service *svc, const char *jwt, size_t len, int64_t now, ks_jwt_claims *claims);

/* A Bearer login token as a credential: ks_login_check, then the checks of
 * verify for its key as if the token that logged in were presented
 * (ks_verify_bound), for `resource` in `target` at `now`. KS_OK with
 * *out filled (a bad JWT: reason KS_VERIFY_INVALID_TOKEN), or KS_ERR_NOMEM;
 * free *out with ks_verify_result_free. */
__attribute__((warn_unused_result))
int ks_login_resolve(ks_service *svc, const char *jwt, size_t len, const char *target, const char *resource,
                     int64_t now, ks_verify_result *out);

/* {"keys":[JWK...]} of every key that may still have valid tokens (jansson
 * object, returned as void *). */
void *ks_login_jwks(ks_service *svc);

/* Frees the in-memory keys (wiping them). */
void ks_login_keys_free(ks_service *svc);

#endif
