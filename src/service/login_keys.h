/*
 * login_keys.h - the Ed25519 keys that sign login tokens (JWTs), and the
 * exchange itself. Secret halves are sealed in the store with a key derived
 * from the server secret (crypto_kdf); the service keeps them unsealed in
 * memory, reloads them from the store every 30 s (so `keystile signing-key
 * rotate` reaches running nodes) and publishes the public halves as JWKS.
 * A retired key stays in the JWKS until the last token it signed expired.
 */
#ifndef KS_SERVICE_LOGIN_KEYS_H
#define KS_SERVICE_LOGIN_KEYS_H

#include "core/jwt.h"
#include "service/service.h"

/* Loads the signing keys, creating the first one when there is none. */
int ks_login_keys_load(ks_service *svc);

/* Retires the current signing key and makes a new one (in the store). */
int ks_login_keys_rotate(ks_service *svc, char new_kid[KS_JWT_KID_LEN + 1]);

/* A JWT for the key (6 h); *jwt malloc'd, *expires_at set. */
int ks_login_issue(ks_service *svc, const char *key_id, const char *account, const ks_strlist *roles,
                   char **jwt, int64_t *expires_at);

/* Checks a JWT; KS_OK fills claims, else KS_ERR_UNAUTHENTICATED. */
int ks_login_check(ks_service *svc, const char *jwt, size_t len, ks_jwt_claims *claims);

/* {"keys":[JWK...]} of every key that may still have valid tokens (jansson
 * object, returned as void *). */
void *ks_login_jwks(ks_service *svc);

/* Frees the in-memory keys (wiping them). */
void ks_login_keys_free(ks_service *svc);

#endif
