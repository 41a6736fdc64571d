/*
 * auth.h - credentials of a request and the authorisation of management calls.
 *
 * Credentials come from X-API-Key + X-API-Token, or HTTP Basic (key:token).
 * A management call names its account in the path; the caller's key must hold
 * one of the required resources there (ks_verify with that account as target).
 */
#ifndef KS_HTTP_AUTH_H
#define KS_HTTP_AUTH_H

#include "http/http.h"
#include "verify/verify.h"

typedef struct {
    char key[KS_KEY_ID_MAX + 2];  /* +1 so an over-long key stays detectably long */
    char token[KS_TOKEN_LEN + 2];
    size_t token_len;
    int present;                  /* both halves given */
} ks_credentials;

/* Fills *out from a key and a token (from headers or Basic auth); either
 * NULL means no credentials. Over-long values are kept over-long so they
 * fail the format checks. */
void ks_credentials_from(const char *key, const char *token, ks_credentials *out);

/* Reads the request's credentials into *out (wipe with ks_credentials_wipe). */
void ks_credentials_read(const ks_http_request *req, ks_credentials *out);
void ks_credentials_wipe(ks_credentials *c);

/* Checks the request's credential, whichever kind it is (X-API-Key and
 * X-API-Token, HTTP Basic, or Authorization: Bearer <login JWT>), for
 * `target` and `resource` (both may be NULL). KS_OK with *out filled (reason
 * MISSING_CREDENTIALS when there is none), or KS_ERR_NOMEM. */
__attribute__((warn_unused_result))
int ks_http_verify_credentials(ks_http_request *req, const char *target, const char *resource,
                               ks_verify_result *out);

/* 1 when the request carries an Authorization header or both API headers. */
int ks_http_has_credentials(const ks_http_request *req);

/* For the exchanges that take a key and token only (login, web sign-in):
 * checks them in the key's home account. Returns 1 with *out filled, or 0
 * after setting 401 (`expired` for an outdated token the account enforces)
 * or the error; free *out with ks_verify_result_free either way. */
__attribute__((warn_unused_result))
int ks_http_check_key_and_token(ks_http_request *req, ks_verify_result *out);
/* The same; when it returns 1, *token_hash holds the keyed hash of the
 * token presented (wipe it after use), for what is bound to that token: a
 * web session, a login token. */
__attribute__((warn_unused_result))
int ks_http_check_key_and_token_hash(ks_http_request *req, ks_verify_result *out, ks_digest *token_hash);

/* 1 (after setting 403) when the request carries the web admin's session
 * cookie and the browser says it comes from another site
 * (Sec-Fetch-Site: cross-site): refused whatever its credentials, so a
 * page elsewhere cannot ride on a signed-in admin's cookie. */
__attribute__((warn_unused_result))
int ks_http_refuse_cross_site(ks_http_request *req);

/* Authenticates the caller and checks that its key holds `resource` (or
 * `alt_resource`, may be NULL) in `account`. On success fills *who's actor
 * (pointing into result) and returns 1; otherwise sets the 401/403 response
 * and returns 0. Free result with ks_verify_result_free either way. */
__attribute__((warn_unused_result))
int ks_http_authorize(ks_http_request *req, const char *account, const char *resource,
                      const char *alt_resource, ks_verify_result *result);

#endif
