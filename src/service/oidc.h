/*
 * oidc.h - single sign-on with OpenID Connect: Keystile as a relying party
 * of one issuer, authorization code flow with PKCE (S256), `state` and
 * `nonce`. The OpenID Connect work (authorization URL, PKCE challenge, token
 * response, ID token signature against the issuer's JWKS, `iss`, `nonce`,
 * `c_hash`/`at_hash`) is done by libiddawc (with librhonabwy for JOSE);
 * this module adds what it leaves to the caller: `aud`/`azp` and `exp` are
 * checked again here, `email_verified` must be true, and the requests to
 * the issuer go through libcurl with timeouts and size limits
 * (KS_OIDC_TIMEOUT_MS, KS_OIDC_RESPONSE_MAX), never following redirects.
 *
 * Discovery (`{issuer}/.well-known/openid-configuration`) and the JWKS are
 * fetched on the first sign-in (so the server starts while the issuer is
 * down) and cached for KS_OIDC_CACHE_SECONDS; an ID token signed with a key
 * the cached JWKS lacks refetches the JWKS once (at most every
 * KS_OIDC_JWKS_REFETCH_SECONDS), for the issuer's key rotation.
 *
 * Nobody is created by single sign-on: the result of a finished sign-in is
 * a verified email, and the caller signs in the person of that email if
 * one exists.
 *
 * Thread safety: ks_oidc_begin and ks_oidc_finish may run on many threads
 * at once (the cache is under a mutex; each call has its own iddawc
 * session). At most KS_OIDC_CONCURRENT_MAX calls wait on the issuer at
 * once; more are refused (KS_OIDC_BUSY) so a slow issuer cannot hold every
 * management thread.
 */
#ifndef KS_SERVICE_OIDC_H
#define KS_SERVICE_OIDC_H

#include "core/secret.h"
#include "service/oidc_pending.h"

#include <stddef.h>
#include <stdint.h>

#define KS_OIDC_TIMEOUT_MS 10000        /* whole request to the issuer */
#define KS_OIDC_CONNECT_TIMEOUT_MS 5000
#define KS_OIDC_RESPONSE_MAX (256 * 1024)
#define KS_OIDC_CACHE_SECONDS 3600
#define KS_OIDC_JWKS_REFETCH_SECONDS 60
#define KS_OIDC_CONCURRENT_MAX 4
#define KS_OIDC_URL_MAX 2048            /* issuer URL, and the authorization URL we build */
#define KS_OIDC_CLIENT_ID_MAX 256
#define KS_OIDC_SECRET_MAX 1024
#define KS_OIDC_EMAIL_MAX 254

typedef struct ks_oidc ks_oidc;

/* What `serve --oidc-*` configures. */
typedef struct {
    const char *issuer;         /* https:// (http:// only on a loopback host) */
    const char *client_id;
    const char *client_secret;  /* copied; wiped at ks_oidc_free */
} ks_oidc_config;

/* Why a sign-in did not finish: each has its own page (api_oidc.c). */
typedef enum {
    KS_OIDC_DONE = 0,           /* email_out holds the verified email */
    KS_OIDC_BAD_STATE,          /* no pending sign-in cookie, or not this state, or tampered */
    KS_OIDC_EXPIRED,            /* the pending sign-in is older than KS_OIDC_PENDING_SECONDS */
    KS_OIDC_REPLAYED,           /* this sign-in was already finished (or is being) */
    KS_OIDC_PROVIDER_ERROR,     /* the issuer sent the browser back with `error` */
    KS_OIDC_UNREACHABLE,        /* discovery, JWKS or token endpoint failed or timed out */
    KS_OIDC_CODE_REFUSED,       /* the token endpoint refused the code (used, forged, wrong verifier) */
    KS_OIDC_TOKEN_INVALID,      /* the ID token failed a check (signature, iss, aud, exp, nonce) */
    KS_OIDC_EMAIL_UNVERIFIED,   /* no email, or email_verified is not true */
    KS_OIDC_BUSY,               /* too many sign-ins waiting on the issuer, or claimed at once */
    KS_OIDC_INTERNAL,           /* out of memory and the like */
} ks_oidc_outcome;

/* Checks cfg (issuer scheme and length, client id) and makes the relying
 * party; nothing is fetched yet. KS_OK, or KS_ERR_INVALID with a reason in
 * err (never the secret), or KS_ERR_NOMEM. Call from one thread before any
 * other ks_oidc_* (it initialises libiddawc). */
int ks_oidc_create(const ks_oidc_config *cfg, const ks_secret *secret, ks_oidc **out, char *err, size_t errlen);
void ks_oidc_free(ks_oidc *o);

/* The configured issuer (for the web admin's "Sign in with SSO"). */
const char *ks_oidc_issuer(const ks_oidc *o);

/* Starts a sign-in at `now` that comes back to redirect_uri: the URL to
 * send the browser to (url_out, at most KS_OIDC_URL_MAX + KS_OIDC_REDIRECT_MAX
 * * 3 bytes: size it with KS_OIDC_AUTH_URL_MAX) and the sealed pending state
 * for the cookie. KS_OIDC_DONE, KS_OIDC_UNREACHABLE (discovery failed),
 * KS_OIDC_BUSY or KS_OIDC_INTERNAL. */
#define KS_OIDC_AUTH_URL_MAX (KS_OIDC_URL_MAX + 4 * KS_OIDC_REDIRECT_MAX + 1024)
ks_oidc_outcome ks_oidc_begin(ks_oidc *o, const char *redirect_uri, int64_t now, char *url_out, size_t url_cap,
                              char cookie_out[KS_OIDC_COOKIE_MAX]);

/* The parameters the issuer sent the browser back with, and the cookie. */
typedef struct {
    const char *cookie;         /* the pending sign-in cookie, NULL when absent */
    const char *state;
    const char *code;
    const char *error;          /* `error` parameter, NULL when none */
} ks_oidc_callback;

/* Finishes a sign-in at `now`: opens the cookie, checks `state`, claims it
 * (single use), exchanges the code with the PKCE verifier, checks the ID
 * token and takes its email (lower-cased) when email_verified is true.
 * Returns KS_OIDC_DONE with email_out set, or why not (email_out ""). */
__attribute__((warn_unused_result))
ks_oidc_outcome ks_oidc_finish(ks_oidc *o, const ks_oidc_callback *cb, int64_t now,
                               char email_out[KS_OIDC_EMAIL_MAX + 1]);

/* Checks the claims of an ID token whose signature iddawc verified: `iss`
 * equals issuer, `aud` is client_id or an array holding it (then `azp`, if
 * present or if there are several audiences, is client_id), `exp` after
 * now, `nonce` equals nonce; then takes `email` when `email_verified` is
 * true (the JSON value true, or the string "true" some issuers send).
 * Exposed for the unit tests. KS_OIDC_DONE, KS_OIDC_TOKEN_INVALID or
 * KS_OIDC_EMAIL_UNVERIFIED. */
struct json_t;
__attribute__((warn_unused_result))
ks_oidc_outcome ks_oidc_check_claims(const struct json_t *claims, const char *issuer, const char *client_id,
                                     const char *nonce, int64_t now, char email_out[KS_OIDC_EMAIL_MAX + 1]);

#endif
