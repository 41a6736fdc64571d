/*
 * oidc_fetch.h - the requests a relying party sends to its issuer
 * (discovery, JWKS, token endpoint) through libcurl: http and https only,
 * no redirects followed, KS_OIDC_CONNECT_TIMEOUT_MS to connect and
 * KS_OIDC_TIMEOUT_MS in all, answers of at most KS_OIDC_RESPONSE_MAX bytes.
 * Nothing is logged here: a token response holds tokens.
 */
#ifndef KS_SERVICE_OIDC_FETCH_H
#define KS_SERVICE_OIDC_FETCH_H

#include <jansson.h>

/* GET url, or with `form` (pairs {name, value}, ending with {NULL, NULL})
 * POST it form-encoded; with basic_user, HTTP Basic authentication with
 * basic_user:basic_password, each form-encoded first (RFC 6749 2.3.1).
 * *out gets the answer's JSON object whatever the status (NULL when it is
 * not one), *status (if not NULL) the HTTP status. KS_OK when a JSON object
 * came back (any status); KS_ERR_STORAGE when the request failed, timed out,
 * was too large or was not a JSON object; KS_ERR_NOMEM. */
int ks_oidc_fetch_json(const char *url, const char *const (*form)[2], const char *basic_user,
                       const char *basic_password, json_t **out, long *status);

#endif
