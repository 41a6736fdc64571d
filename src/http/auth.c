/* auth.c - credential extraction and authorisation of management calls. */
#include "http/auth.h"
#include "core/clock.h"
#include "core/error.h"
#include "log/log.h"
#include "service/login_keys.h"
#include "service/sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Copies at most cap - 1 bytes; a longer value is truncated to cap - 1 bytes,
 * which is over every valid length, so it still fails the format check. */
static size_t copy_bounded(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

void ks_credentials_from(const char *key, const char *token, ks_credentials *out)
{
    memset(out, 0, sizeof *out);
    if (!key || !token)
        return;
    copy_bounded(out->key, sizeof out->key, key);
    out->token_len = copy_bounded(out->token, sizeof out->token, token);
    out->present = out->key[0] && out->token_len;
}

void ks_credentials_read(const ks_http_request *req, ks_credentials *out)
{
    const char *key = ks_http_header_get(req, "X-API-Key");
    const char *token = ks_http_header_get(req, "X-API-Token");
    if (key && token) {
        ks_credentials_from(key, token, out);
        return;
    }
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(req->conn, &pass);
    ks_credentials_from(user, pass, out);
    if (pass) {
        sodium_memzero(pass, strlen(pass));
        MHD_free(pass);
    }
    if (user)
        MHD_free(user);
}

void ks_credentials_wipe(ks_credentials *c)
{
    sodium_memzero(c, sizeof *c);
}

int ks_http_verify_credentials(ks_http_request *req, const char *target, const char *resource,
                               ks_verify_result *out)
{
    int64_t now = ks_clock_now();
    const char *authz = ks_http_header_get(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
        const char *jwt = authz + 7; /* accepted only while its token verifies */
        int rc = ks_login_resolve(req->svc, jwt, strnlen(jwt, KS_JWT_MAX + 1), target, resource, now, out);
        if (rc == KS_OK && out->reason == KS_VERIFY_OK)
            req->auth_via = "login";
        return rc;
    }
    ks_credentials cred;
    ks_credentials_read(req, &cred);
    ks_verify_request vreq = {cred.present ? cred.key : NULL, cred.present ? cred.token : NULL,
                              cred.token_len, target, resource, NULL, NULL, 0, 0};
    int rc = ks_verify(req->svc->index, &req->svc->secret, &vreq, now, out);
    ks_credentials_wipe(&cred);
    if (rc == KS_OK && out->reason == KS_VERIFY_OK)
        req->auth_via = "token";
    return rc;
}

int ks_http_check_key_and_token(ks_http_request *req, ks_verify_result *out)
{
    return ks_http_check_key_and_token_hash(req, out, NULL);
}

int ks_http_check_key_and_token_hash(ks_http_request *req, ks_verify_result *out, ks_digest *token_hash)
{
    ks_credentials cred;
    ks_credentials_read(req, &cred);
    memset(out, 0, sizeof *out);
    if (!cred.present) {
        ks_http_error(req, KS_ERR_UNAUTHENTICATED, "Send X-API-Key and X-API-Token (or HTTP Basic key:token).");
        return 0;
    }
    ks_verify_request vreq = {cred.key, cred.token, cred.token_len, NULL, NULL, NULL, NULL, 0, 0};
    int rc = ks_verify(req->svc->index, &req->svc->secret, &vreq, ks_clock_now(), out);
    if (token_hash)
        ks_token_hash(&req->svc->secret, cred.token, cred.token_len, token_hash);
    ks_credentials_wipe(&cred);
    if (rc != KS_OK)
        ks_http_error(req, rc, NULL);
    else if (out->reason == KS_VERIFY_EXPIRED)
        ks_http_error(req, KS_ERR_EXPIRED, NULL);
    else if (out->reason != KS_VERIFY_OK &&
             !(ks_verify_reason_row_of(out->reason)->failed_credential && ks_http_failed_credential(req)))
        ks_http_error(req, KS_ERR_UNAUTHENTICATED, "Wrong API key or API token.");
    else
        req->auth_via = "token";
    return rc == KS_OK && out->reason == KS_VERIFY_OK;
}

int ks_http_has_credentials(const ks_http_request *req)
{
    const char *authz = ks_http_header_get(req, MHD_HTTP_HEADER_AUTHORIZATION);
    return authz || (ks_http_header_get(req, "X-API-Key") && ks_http_header_get(req, "X-API-Token"));
}

/* Audits a presented credential that failed to authenticate a management
 * call (auth.failed) in `account`, when that account exists: actor the
 * claimed key id when it has the key format, else "unknown"; target the
 * account; via the kind of credential; detail {"reason": reason}. Never a token or a header
 * value other than a well-formed key id. A failure to write is logged. */
static void audit_auth_failure(ks_http_request *req, const char *account, const ks_verify_result *result,
                               const char *reason)
{
    char claimed[KS_KEY_ID_MAX + 1] = "";
    const char *authz = ks_http_header_get(req, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *via = authz && strncasecmp(authz, "Bearer ", 7) == 0 ? "login"
                      : ks_http_has_credentials(req)                  ? "token"
                                                                       : "session";
    if (result && result->key_id[0] && ks_key_id_parse(result->key_id, NULL) == KS_OK) {
        snprintf(claimed, sizeof claimed, "%s", result->key_id);
    } else if (strcmp(via, "token") == 0) {
        ks_credentials cred;
        ks_credentials_read(req, &cred);
        size_t n = strnlen(cred.key, sizeof cred.key);
        if (n > 0 && n <= KS_KEY_ID_MAX && ks_key_id_parse(cred.key, NULL) == KS_OK)
            memcpy(claimed, cred.key, n + 1);
        ks_credentials_wipe(&cred);
    }
    const char *actor = claimed[0] ? claimed : "unknown";
    char detail[64]; /* reason is a fixed lower-case name: no escaping needed */
    snprintf(detail, sizeof detail, "{\"reason\":\"%s\"}", reason);
    ks_actor who;
    ks_http_actor_init(req, &who, actor, account);
    who.via = via;
    int rc = ks_service_audit_event(req->svc, &who, "auth.failed", account, detail);
    if (rc != KS_OK && rc != KS_ERR_NOT_FOUND)
        ks_log("warn", "audit of a failed authentication not written", NULL);
}

/* Web admin path: the session cookie plus a matching X-CSRF-Token header.
 * KS_OK with *result filled, or -1 after setting the error response. */
static int authenticate_session(ks_http_request *req, const char *cookie, const char *account,
                                ks_verify_result *result)
{
    ks_session session;
    int rc = ks_session_resolve(req->svc, cookie, account, ks_clock_now(), &session, result);
    int csrf_ok = rc == KS_OK && ks_session_csrf_ok(session.csrf, ks_http_header_get(req, "X-CSRF-Token"));
    if (rc != KS_OK || !csrf_ok)
        sodium_memzero(&session, sizeof session);
    if (rc == KS_ERR_UNAUTHENTICATED && ks_http_failed_credential(req)) {
        ks_verify_result_free(result); /* 429 set; past the limit nothing more is audited */
        return -1;
    }
    if (rc == KS_ERR_UNAUTHENTICATED)
        audit_auth_failure(req, account, NULL, "session_ended");
    if (rc != KS_OK) {
        ks_verify_result_free(result);
        ks_http_error(req, rc, rc == KS_ERR_UNAUTHENTICATED ? "The session has ended; sign in again." : NULL);
        return -1;
    }
    if (!csrf_ok) {
        ks_verify_result_free(result);
        ks_http_error(req, KS_ERR_FORBIDDEN, "Missing or wrong X-CSRF-Token header for this session.");
        return -1;
    }
    if (session.person_id) { /* a person: its standing in the account is in *result */
        req->person_id = session.person_id;
        ks_person_actor(session.email, req->actor);
    }
    if (result->reason == KS_VERIFY_OK)
        req->auth_via = session.person_id ? (strcmp(session.via, "oidc") == 0 ? "oidc" : "session") : "session";
    sodium_memzero(&session, sizeof session);
    return KS_OK; /* the token's verdict is in *result: the caller judges it */
}

int ks_http_refuse_cross_site(ks_http_request *req)
{
    const char *site = ks_http_header_get(req, "Sec-Fetch-Site");
    if (!site || strcasecmp(site, "cross-site") != 0 ||
        !MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, KS_SESSION_COOKIE))
        return 0;
    ks_http_error(req, KS_ERR_FORBIDDEN, "Cross-site requests are refused when they carry the session cookie.");
    return 1;
}

int ks_http_authorize(ks_http_request *req, const char *account, const char *resource,
                      const char *alt_resource, ks_verify_result *result)
{
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, KS_SESSION_COOKIE);
    int rc;
    memset(result, 0, sizeof *result);
    if (ks_http_refuse_cross_site(req))
        return 0;
    if (ks_http_has_credentials(req)) {
        rc = ks_http_verify_credentials(req, account, NULL, result);
    } else if (cookie) {
        if ((rc = authenticate_session(req, cookie, account, result)) < 0)
            return 0;
    } else {
        memset(result, 0, sizeof *result);
        ks_http_error(req, KS_ERR_UNAUTHENTICATED,
                      "Send X-API-Key and X-API-Token, HTTP Basic key:token, or a Bearer login token.");
        return 0;
    }
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return 0;
    }
    switch (result->reason) {
    case KS_VERIFY_OK:
        break;
    case KS_VERIFY_EXPIRED:
        audit_auth_failure(req, account, result, ks_verify_reason_name(result->reason));
        ks_http_error(req, KS_ERR_EXPIRED, NULL);
        return 0;
    case KS_VERIFY_FORBIDDEN:
        ks_http_error(req, KS_ERR_FORBIDDEN, NULL);
        return 0;
    default: /* one message for every bad credential: no hint which half was wrong */
        if (ks_verify_reason_row_of(result->reason)->failed_credential && ks_http_failed_credential(req))
            return 0; /* 429 set; past the limit nothing more is audited */
        audit_auth_failure(req, account, result, ks_verify_reason_name(result->reason));
        ks_http_error(req, KS_ERR_UNAUTHENTICATED, NULL);
        return 0;
    }
    if (ks_strlist_contains(&result->resources, resource) ||
        (alt_resource && ks_strlist_contains(&result->resources, alt_resource)))
        return 1;
    ks_http_errorf(req, KS_ERR_FORBIDDEN, "This %s lacks the resource '%s' in account '%s'.",
                   req->person_id ? "person" : "key", resource, account);
    return 0;
}
