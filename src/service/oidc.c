/*
 * oidc.c - the OpenID Connect relying party (see oidc.h): the provider cache
 * (discovery and JWKS), the two halves of a sign-in, and the claim checks.
 * The requests to the issuer are in oidc_fetch.c.
 */
#include "service/oidc.h"
#include "service/oidc_fetch.h"
#include "core/error.h"

#include <ctype.h>
#include <iddawc.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ks_oidc {
    char issuer[KS_OIDC_URL_MAX + 1];
    char client_id[KS_OIDC_CLIENT_ID_MAX + 1];
    char client_secret[KS_OIDC_SECRET_MAX + 1];
    unsigned char pending_key[32];  /* seals pending sign-in cookies */
    ks_oidc_used used;              /* claimed sign-ins (single use) */
    pthread_mutex_t lock;           /* guards the cache below */
    json_t *config;                 /* discovery document, NULL until fetched */
    json_t *jwks;                   /* the issuer's public keys */
    int64_t config_at, jwks_at;     /* when they were fetched */
    atomic_int in_flight;           /* calls waiting on the issuer */
};

/* Loopback hosts may be reached over plain http (tests, a local provider). */
static int issuer_scheme_ok(const char *issuer)
{
    static const char *const LOOPBACK[] = {"http://127.0.0.1", "http://localhost", "http://[::1]"};
    if (strncmp(issuer, "https://", 8) == 0)
        return issuer[8] != '\0';
    for (size_t i = 0; i < sizeof LOOPBACK / sizeof *LOOPBACK; i++) {
        size_t n = strlen(LOOPBACK[i]);
        if (strncmp(issuer, LOOPBACK[i], n) == 0 && (issuer[n] == ':' || issuer[n] == '/' || issuer[n] == '\0'))
            return 1;
    }
    return 0;
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

int ks_oidc_create(const ks_oidc_config *cfg, const ks_secret *secret, ks_oidc **out, char *err, size_t errlen)
{
    *out = NULL;
    size_t issuer_len = cfg->issuer ? strlen(cfg->issuer) : 0;
    if (issuer_len == 0 || issuer_len > KS_OIDC_URL_MAX || !printable(cfg->issuer) ||
        !issuer_scheme_ok(cfg->issuer)) {
        snprintf(err, errlen, "--oidc-issuer must be an https:// URL of at most %d bytes "
                 "(http:// only on a loopback host)", KS_OIDC_URL_MAX);
        return KS_ERR_INVALID;
    }
    if (!cfg->client_id || !*cfg->client_id || strlen(cfg->client_id) > KS_OIDC_CLIENT_ID_MAX ||
        !printable(cfg->client_id)) {
        snprintf(err, errlen, "--oidc-client-id must be 1 to %d printable bytes", KS_OIDC_CLIENT_ID_MAX);
        return KS_ERR_INVALID;
    }
    if (!cfg->client_secret || !*cfg->client_secret || strlen(cfg->client_secret) > KS_OIDC_SECRET_MAX) {
        snprintf(err, errlen, "the client secret must be 1 to %d bytes", KS_OIDC_SECRET_MAX);
        return KS_ERR_INVALID;
    }
    ks_oidc *o = calloc(1, sizeof *o);
    if (!o)
        return KS_ERR_NOMEM;
    memcpy(o->issuer, cfg->issuer, issuer_len + 1);
    while (issuer_len > 0 && o->issuer[issuer_len - 1] == '/' && issuer_len > 8)
        o->issuer[--issuer_len] = '\0'; /* discovery is {issuer}/.well-known/...: no double slash */
    memcpy(o->client_id, cfg->client_id, strlen(cfg->client_id) + 1);
    memcpy(o->client_secret, cfg->client_secret, strlen(cfg->client_secret) + 1);
    ks_oidc_pending_key(secret, o->pending_key);
    ks_oidc_used_init(&o->used);
    pthread_mutex_init(&o->lock, NULL);
    atomic_init(&o->in_flight, 0);
    i_global_init();
    *out = o;
    return KS_OK;
}

void ks_oidc_free(ks_oidc *o)
{
    if (!o)
        return;
    json_decref(o->config);
    json_decref(o->jwks);
    pthread_mutex_destroy(&o->lock);
    ks_oidc_used_destroy(&o->used);
    sodium_memzero(o->client_secret, sizeof o->client_secret);
    sodium_memzero(o->pending_key, sizeof o->pending_key);
    free(o);
    i_global_close();
}

const char *ks_oidc_issuer(const ks_oidc *o)
{
    return o->issuer;
}

/* ---- the provider cache ---- */

static int fetch_jwks(ks_oidc *o, int64_t now)
{
    const char *uri = json_string_value(json_object_get(o->config, "jwks_uri"));
    json_t *jwks = NULL;
    if (!uri || ks_oidc_fetch_json(uri, NULL, NULL, NULL, &jwks, NULL) != KS_OK)
        return KS_ERR_STORAGE;
    if (!json_is_array(json_object_get(jwks, "keys"))) {
        json_decref(jwks);
        return KS_ERR_STORAGE;
    }
    json_decref(o->jwks);
    o->jwks = jwks;
    o->jwks_at = now;
    return KS_OK;
}

/* Refreshes the cache when empty or stale (or the JWKS when refetch_jwks
 * and the last fetch is old enough), and takes references to both. KS_OK,
 * or KS_ERR_STORAGE when the issuer cannot be reached or answers nonsense
 * (a stale cache is kept and used if there is one). */
static int provider_snapshot(ks_oidc *o, int64_t now, int refetch_jwks, json_t **config, json_t **jwks)
{
    int rc = KS_OK;
    pthread_mutex_lock(&o->lock);
    if (!o->config || now - o->config_at >= KS_OIDC_CACHE_SECONDS) {
        char url[KS_OIDC_URL_MAX + 64];
        snprintf(url, sizeof url, "%s/.well-known/openid-configuration", o->issuer);
        json_t *doc = NULL;
        if (ks_oidc_fetch_json(url, NULL, NULL, NULL, &doc, NULL) == KS_OK &&
            /* OpenID Connect Discovery 4.3: the issuer must be exactly ours */
            json_is_string(json_object_get(doc, "issuer")) &&
            strcmp(json_string_value(json_object_get(doc, "issuer")), o->issuer) == 0 &&
            json_is_string(json_object_get(doc, "authorization_endpoint")) &&
            json_is_string(json_object_get(doc, "token_endpoint")) &&
            json_is_string(json_object_get(doc, "jwks_uri"))) {
            json_decref(o->config);
            o->config = doc;
            o->config_at = now;
            if (fetch_jwks(o, now) != KS_OK)
                rc = KS_ERR_STORAGE;
        } else {
            json_decref(doc);
            rc = KS_ERR_STORAGE;
        }
    } else if (!o->jwks || now - o->jwks_at >= KS_OIDC_CACHE_SECONDS ||
               (refetch_jwks && now - o->jwks_at >= KS_OIDC_JWKS_REFETCH_SECONDS)) {
        if (fetch_jwks(o, now) != KS_OK && !o->jwks)
            rc = KS_ERR_STORAGE;
    }
    if (o->config && o->jwks) { /* a stale pair still serves while the issuer is down */
        *config = json_incref(o->config);
        *jwks = json_incref(o->jwks);
        rc = KS_OK;
    }
    pthread_mutex_unlock(&o->lock);
    return rc;
}

/* At most KS_OIDC_CONCURRENT_MAX callers wait on the issuer at once. */
static int enter(ks_oidc *o)
{
    if (atomic_fetch_add(&o->in_flight, 1) >= KS_OIDC_CONCURRENT_MAX) {
        atomic_fetch_sub(&o->in_flight, 1);
        return 0;
    }
    return 1;
}

static void leave(ks_oidc *o)
{
    atomic_fetch_sub(&o->in_flight, 1);
}

/* "openid", and "email" when the issuer lists it (iddawc checks every
 * requested scope against scopes_supported). */
static const char *scopes_for(const json_t *config)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(config, "scopes_supported"), i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), "email") == 0)
            return "openid email";
    return "openid";
}

/* An iddawc session for this issuer and client from a cache snapshot. */
static int session_init(ks_oidc *o, struct _i_session *s, json_t *config, json_t *jwks)
{
    if (i_init_session(s) != I_OK)
        return 0;
    return i_set_server_configuration(s, config) == I_OK && i_set_server_jwks(s, jwks) == I_OK &&
           i_set_response_type(s, I_RESPONSE_TYPE_CODE) == I_OK &&
           i_set_str_parameter(s, I_OPT_CLIENT_ID, o->client_id) == I_OK;
}

ks_oidc_outcome ks_oidc_begin(ks_oidc *o, const char *redirect_uri, int64_t now, char *url_out, size_t url_cap,
                              char cookie_out[KS_OIDC_COOKIE_MAX])
{
    ks_oidc_pending p;
    json_t *config = NULL, *jwks = NULL;
    struct _i_session s;
    int have_session = 0;
    ks_oidc_outcome out = KS_OIDC_INTERNAL;
    char state[KS_OIDC_TEXT_MAX], nonce[KS_OIDC_TEXT_MAX], verifier[KS_OIDC_TEXT_MAX];
    url_out[0] = cookie_out[0] = '\0';
    if (ks_oidc_pending_new(&p, redirect_uri, now) != KS_OK)
        return KS_OIDC_INTERNAL;
    if (!enter(o))
        return KS_OIDC_BUSY;
    if (provider_snapshot(o, now, 0, &config, &jwks) != KS_OK) {
        out = KS_OIDC_UNREACHABLE;
        goto done;
    }
    ks_oidc_pending_text(p.state, state);
    ks_oidc_pending_text(p.nonce, nonce);
    ks_oidc_pending_text(p.verifier, verifier);
    have_session = session_init(o, &s, config, jwks);
    if (!have_session ||
        i_set_parameter_list(&s, I_OPT_REDIRECT_URI, p.redirect_uri, I_OPT_SCOPE, scopes_for(config),
                             I_OPT_STATE, state, I_OPT_NONCE, nonce, I_OPT_PKCE_METHOD, I_PKCE_METHOD_S256,
                             I_OPT_PKCE_CODE_VERIFIER, verifier, I_OPT_NONE) != I_OK ||
        i_build_auth_url_get(&s) != I_OK)
        goto done;
    const char *url = i_get_str_parameter(&s, I_OPT_REDIRECT_TO);
    if (!url || strlen(url) >= url_cap || ks_oidc_pending_seal(&p, o->pending_key, cookie_out) != KS_OK)
        goto done;
    memcpy(url_out, url, strlen(url) + 1);
    out = KS_OIDC_DONE;
done:
    if (have_session)
        i_clean_session(&s);
    leave(o);
    json_decref(config);
    json_decref(jwks);
    sodium_memzero(&p, sizeof p);
    sodium_memzero(verifier, sizeof verifier);
    if (out != KS_OIDC_DONE)
        url_out[0] = cookie_out[0] = '\0';
    return out;
}

/* Posts the code to the token endpoint; *response is its JSON object.
 * KS_OIDC_DONE, KS_OIDC_CODE_REFUSED (a 4xx answer) or KS_OIDC_UNREACHABLE. */
static ks_oidc_outcome redeem_code(ks_oidc *o, const json_t *config, const ks_oidc_pending *p, const char *code,
                                   json_t **response)
{
    char verifier[KS_OIDC_TEXT_MAX];
    ks_oidc_pending_text(p->verifier, verifier);
    const char *fields[][2] = {
        {"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", p->redirect_uri},
        {"code_verifier", verifier}, {"client_id", o->client_id}, {NULL, NULL},
    };
    long status = 0;
    int rc = ks_oidc_fetch_json(json_string_value(json_object_get(config, "token_endpoint")), fields, o->client_id,
                                o->client_secret, response, &status);
    sodium_memzero(verifier, sizeof verifier);
    if (rc == KS_OK && status == 200)
        return KS_OIDC_DONE;
    json_decref(*response);
    *response = NULL;
    return status >= 400 && status < 500 ? KS_OIDC_CODE_REFUSED : KS_OIDC_UNREACHABLE;
}

/* iddawc checks the token response: the ID token's signature against the
 * JWKS, its iss, nonce, exp and c_hash/at_hash. Then our own checks. */
static ks_oidc_outcome check_token_response(ks_oidc *o, json_t *config, json_t *jwks, json_t *response,
                                            const char *code, const char *nonce, int64_t now, char *email_out)
{
    struct _i_session s;
    ks_oidc_outcome out = KS_OIDC_TOKEN_INVALID;
    if (!session_init(o, &s, config, jwks)) {
        i_clean_session(&s);
        return KS_OIDC_INTERNAL;
    }
    if (i_set_str_parameter(&s, I_OPT_NONCE, nonce) == I_OK && i_set_str_parameter(&s, I_OPT_CODE, code) == I_OK &&
        json_is_string(json_object_get(response, "id_token")) &&
        i_parse_token_response(&s, 200, response) == I_OK && s.id_token_payload)
        out = ks_oidc_check_claims(s.id_token_payload, o->issuer, o->client_id, nonce, now, email_out);
    i_clean_session(&s);
    return out;
}

ks_oidc_outcome ks_oidc_finish(ks_oidc *o, const ks_oidc_callback *cb, int64_t now,
                               char email_out[KS_OIDC_EMAIL_MAX + 1])
{
    ks_oidc_pending p;
    json_t *config = NULL, *jwks = NULL, *response = NULL;
    char nonce[KS_OIDC_TEXT_MAX];
    ks_oidc_outcome out;
    email_out[0] = '\0';
    int rc = ks_oidc_pending_open(cb->cookie, o->pending_key, now, &p);
    if (rc != KS_OK)
        return rc == KS_ERR_GONE ? KS_OIDC_EXPIRED : KS_OIDC_BAD_STATE;
    if (!ks_oidc_pending_state_matches(&p, cb->state)) {
        sodium_memzero(&p, sizeof p);
        return KS_OIDC_BAD_STATE;
    }
    rc = ks_oidc_used_claim(&o->used, &p, now);
    if (rc != KS_OK) {
        sodium_memzero(&p, sizeof p);
        return rc == KS_ERR_GONE ? KS_OIDC_REPLAYED : KS_OIDC_BUSY;
    }
    if (cb->error) {
        sodium_memzero(&p, sizeof p);
        return KS_OIDC_PROVIDER_ERROR;
    }
    if (!cb->code || !*cb->code || strlen(cb->code) > KS_OIDC_URL_MAX) {
        sodium_memzero(&p, sizeof p);
        return KS_OIDC_CODE_REFUSED;
    }
    if (!enter(o)) {
        sodium_memzero(&p, sizeof p);
        return KS_OIDC_BUSY;
    }
    ks_oidc_pending_text(p.nonce, nonce);
    if (provider_snapshot(o, now, 0, &config, &jwks) != KS_OK)
        out = KS_OIDC_UNREACHABLE;
    else if ((out = redeem_code(o, config, &p, cb->code, &response)) == KS_OIDC_DONE) {
        out = check_token_response(o, config, jwks, response, cb->code, nonce, now, email_out);
        if (out == KS_OIDC_TOKEN_INVALID) {
            /* maybe signed with a key the cached JWKS lacks: the issuer rotated */
            json_decref(config);
            json_decref(jwks);
            config = jwks = NULL;
            if (provider_snapshot(o, now, 1, &config, &jwks) == KS_OK)
                out = check_token_response(o, config, jwks, response, cb->code, nonce, now, email_out);
        }
    }
    leave(o);
    json_decref(response);
    json_decref(config);
    json_decref(jwks);
    sodium_memzero(&p, sizeof p);
    sodium_memzero(nonce, sizeof nonce);
    if (out != KS_OIDC_DONE)
        email_out[0] = '\0';
    return out;
}

/* ---- claims ---- */

static int audience_ok(const json_t *claims, const char *client_id)
{
    const json_t *aud = json_object_get(claims, "aud"), *azp = json_object_get(claims, "azp");
    int found = 0;
    size_t n = 1;
    if (json_is_string(aud)) {
        found = strcmp(json_string_value(aud), client_id) == 0;
    } else if (json_is_array(aud)) {
        size_t i;
        json_t *v;
        n = json_array_size(aud);
        json_array_foreach(aud, i, v)
            found |= json_is_string(v) && strcmp(json_string_value(v), client_id) == 0;
    }
    if (!found)
        return 0;
    /* OpenID Connect Core 3.1.3.7: azp, when there, must be us; with several
     * audiences it must be there */
    if (azp || n > 1)
        return json_is_string(azp) && strcmp(json_string_value(azp), client_id) == 0;
    return 1;
}

ks_oidc_outcome ks_oidc_check_claims(const struct json_t *claims, const char *issuer, const char *client_id,
                                     const char *nonce, int64_t now, char email_out[KS_OIDC_EMAIL_MAX + 1])
{
    email_out[0] = '\0';
    const json_t *iss = json_object_get(claims, "iss"), *exp = json_object_get(claims, "exp"),
                 *got_nonce = json_object_get(claims, "nonce");
    if (!json_is_object(claims) || !json_is_string(iss) || strcmp(json_string_value(iss), issuer) != 0 ||
        !audience_ok(claims, client_id) || !json_is_integer(exp) || json_integer_value(exp) <= now ||
        !json_is_string(got_nonce) || strlen(json_string_value(got_nonce)) != strlen(nonce) ||
        sodium_memcmp(json_string_value(got_nonce), nonce, strlen(nonce)) != 0)
        return KS_OIDC_TOKEN_INVALID;
    const json_t *verified = json_object_get(claims, "email_verified"), *email = json_object_get(claims, "email");
    int is_verified = json_is_true(verified) ||
                      (json_is_string(verified) && strcmp(json_string_value(verified), "true") == 0);
    if (!is_verified || !json_is_string(email))
        return KS_OIDC_EMAIL_UNVERIFIED;
    const char *e = json_string_value(email);
    size_t len = strlen(e);
    const char *at = strchr(e, '@');
    if (len == 0 || len > KS_OIDC_EMAIL_MAX || !at || at == e || !at[1] || !printable(e))
        return KS_OIDC_EMAIL_UNVERIFIED;
    for (size_t i = 0; i <= len; i++)
        email_out[i] = (char)tolower((unsigned char)e[i]);
    return KS_OIDC_DONE;
}
