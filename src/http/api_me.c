/*
 * api_me.c - the signed-in principal and a person's own settings:
 *   GET    /api/v1/me                 200 {"type":"user","email","accounts":[{"account","roles"}],"totp"}
 *                                     or {"type":"key","key","account","roles"}
 *   POST   /api/v1/me/password        {"current","new"} 204; the person's other sessions end
 *   POST   /api/v1/me/totp            200 {"secret","otpauth_uri"}: enrolment, not required yet
 *   POST   /api/v1/me/totp/confirm    {"code"} 204: from then on sign-in needs a code
 *   DELETE /api/v1/me/totp            {"code"} 204
 * GET /me takes any credential (API headers, Basic, Bearer, or the session
 * cookie); the /me/password and /me/totp calls are a person's, made with
 * its session cookie and X-CSRF-Token.
 */
#include "http/api.h"
#include "http/auth.h"
#include "http/json_input.h"
#include "http/key_json.h"
#include "core/clock.h"
#include "core/error.h"
#include "service/people.h"
#include "service/sessions.h"

#include <sodium.h>
#include <string.h>

json_t *ks_me_person_json(ks_service *svc, int64_t person_id, int *rc_out)
{
    ks_person person;
    ks_membership *ms = NULL;
    size_t n = 0;
    int rc = svc->store->ops->person_get_by_id(svc->store, person_id, &person);
    if (rc == KS_OK)
        rc = svc->store->ops->person_memberships(svc->store, person_id, &ms, &n);
    json_t *obj = NULL;
    if (rc == KS_OK) {
        json_t *accounts = json_array();
        for (size_t i = 0; accounts && i < n; i++)
            if (ms[i].active)
                json_array_append_new(accounts, json_pack("{s:s, s:o}", "account", ms[i].account, "roles",
                                                          ks_strlist_to_json(&ms[i].roles)));
        obj = json_pack("{s:s, s:s, s:o, s:b}", "type", "user", "email", person.email, "accounts",
                        accounts ? accounts : json_array(), "totp", person.totp_enabled != 0);
        if (!obj)
            rc = KS_ERR_NOMEM;
    }
    sodium_memzero(&person, sizeof person);
    ks_memberships_free(ms, n);
    *rc_out = rc;
    return obj;
}

json_t *ks_me_key_json(const ks_verify_result *vr)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "type", "key", "key", vr->key_id, "account", vr->account, "roles",
                     ks_strlist_to_json(&vr->roles));
}

void ks_api_me(ks_http_request *req)
{
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, KS_SESSION_COOKIE);
    ks_verify_result vr;
    ks_session session;
    int rc;
    memset(&session, 0, sizeof session);
    if (ks_http_has_credentials(req)) {
        rc = ks_http_verify_credentials(req, NULL, NULL, &vr);
    } else if (cookie) {
        rc = ks_session_resolve(req->svc, cookie, NULL, ks_clock_now(), &session, &vr);
    } else {
        memset(&vr, 0, sizeof vr);
        ks_http_error(req, KS_ERR_UNAUTHENTICATED, "Sign in, or send an API key and token.");
        return;
    }
    if (rc != KS_OK)
        ks_http_error(req, rc, rc == KS_ERR_UNAUTHENTICATED ? "Not signed in." : NULL);
    else if (vr.reason == KS_VERIFY_EXPIRED)
        ks_http_error(req, KS_ERR_EXPIRED, NULL);
    else if (vr.reason != KS_VERIFY_OK)
        ks_http_error(req, KS_ERR_UNAUTHENTICATED, NULL);
    else if (session.person_id) {
        json_t *obj = ks_me_person_json(req->svc, session.person_id, &rc);
        if (obj)
            ks_http_json(req, 200, obj);
        else
            ks_http_error(req, rc == KS_ERR_NOT_FOUND ? KS_ERR_UNAUTHENTICATED : rc, NULL);
    } else {
        ks_http_json(req, 200, ks_me_key_json(&vr));
    }
    sodium_memzero(&session, sizeof session);
    ks_verify_result_free(&vr);
}

/* The person signed in with the request's cookie and X-CSRF-Token: 1 with
 * *who (actor in actor_buf) and *session filled; else 0 after the error. */
static int person_of_request(ks_http_request *req, ks_session *session, ks_actor *who,
                             char actor_buf[KS_ACTOR_MAX])
{
    memset(session, 0, sizeof *session);
    if (ks_http_refuse_cross_site(req))
        return 0;
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, KS_SESSION_COOKIE);
    int rc = ks_session_lookup(req->svc, cookie, ks_clock_now(), session);
    if (rc != KS_OK) {
        ks_http_error(req, rc, rc == KS_ERR_UNAUTHENTICATED ? "Sign in first (this is for people)." : NULL);
        return 0;
    }
    if (!ks_session_csrf_ok(session->csrf, ks_http_header_get(req, "X-CSRF-Token"))) {
        ks_http_error(req, KS_ERR_FORBIDDEN, "Missing or wrong X-CSRF-Token header for this session.");
        return 0;
    }
    if (!session->person_id) {
        ks_http_error(req, KS_ERR_FORBIDDEN, "A key has no password or TOTP: sign in as a person.");
        return 0;
    }
    ks_verify_result vr;
    rc = ks_person_resolve(req->svc, session->person_id, NULL, &vr, session->email);
    int known = rc == KS_OK && vr.reason == KS_VERIFY_OK;
    ks_verify_result_free(&vr);
    if (!known) {
        ks_http_error(req, rc == KS_OK ? KS_ERR_UNAUTHENTICATED : rc, NULL);
        return 0;
    }
    req->auth_via = strcmp(session->via, "oidc") == 0 ? "oidc" : "session";
    ks_person_actor(session->email, actor_buf);
    ks_http_actor_init(req, who, actor_buf, NULL);
    return 1;
}

/* The string field `field` of body, with its length; NULL when absent or
 * not a string. */
static const char *body_string(json_t *body, const char *field, size_t *len)
{
    json_t *v = json_object_get(body, field);
    *len = json_is_string(v) ? json_string_length(v) : 0;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void ks_api_me_password(ks_http_request *req)
{
    static const char *const FIELDS[] = {"current", "new", NULL};
    ks_session session;
    ks_actor who;
    char actor[KS_ACTOR_MAX];
    if (!person_of_request(req, &session, &who, actor))
        goto out;
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        goto out;
    size_t cur_len, new_len;
    const char *cur = body_string(body, "current", &cur_len), *pw = body_string(body, "new", &new_len);
    if (!cur)
        ks_http_error(req, KS_ERR_INVALID, "Field 'current' is required: your password now.");
    else if (!pw || ks_password_check(pw, new_len) != KS_OK)
        ks_http_errorf(req, KS_ERR_INVALID, "Field 'new' is required: %d to %d bytes.", KS_PASSWORD_MIN,
                       KS_PASSWORD_MAX);
    else {
        const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, KS_SESSION_COOKIE);
        int rc = ks_person_password_change(req->svc, &who, session.person_id, cur, cur_len, pw, new_len, cookie);
        if (rc == KS_OK)
            ks_http_json(req, 204, NULL);
        else
            ks_http_error(req, rc, rc == KS_ERR_UNAUTHENTICATED ? "The current password is wrong." : NULL);
    }
    json_decref(body);
out:
    sodium_memzero(&session, sizeof session);
}

void ks_api_me_totp_enrol(ks_http_request *req)
{
    ks_session session;
    ks_actor who;
    char actor[KS_ACTOR_MAX], secret[KS_TOTP_BASE32_MAX], uri[KS_TOTP_URI_MAX];
    if (person_of_request(req, &session, &who, actor)) {
        int rc = ks_person_totp_enrol(req->svc, &who, session.person_id, secret, uri);
        if (rc == KS_OK) {
            ks_http_json(req, 200, json_pack("{s:s, s:s}", "secret", secret, "otpauth_uri", uri));
            req->res.secret_body = 1;
        } else {
            ks_http_error(req, rc == KS_ERR_NAME_TAKEN ? KS_ERR_INVALID : rc,
                          rc == KS_ERR_NAME_TAKEN ? "TOTP is on already: remove it first (DELETE /api/v1/me/totp)."
                                                  : NULL);
        }
        sodium_memzero(secret, sizeof secret);
        sodium_memzero(uri, sizeof uri);
    }
    sodium_memzero(&session, sizeof session);
}

/* The body's 6-digit "code"; NULL after a 400. */
static const char *code_of(ks_http_request *req, json_t *body)
{
    size_t len;
    const char *code = body_string(body, "code", &len);
    if (!code || len != KS_TOTP_DIGITS || strspn(code, "0123456789") != KS_TOTP_DIGITS) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'code' is required: the 6 digits your authenticator shows.");
        return NULL;
    }
    return code;
}

static void totp_code_call(ks_http_request *req,
                           int (*action)(ks_service *, const ks_actor *, int64_t, const char *, int64_t),
                           const char *nothing)
{
    static const char *const FIELDS[] = {"code", NULL};
    ks_session session;
    ks_actor who;
    char actor[KS_ACTOR_MAX];
    json_t *body = NULL;
    const char *code;
    if (person_of_request(req, &session, &who, actor) && (body = ks_json_body_parse(req, FIELDS, 0)) &&
        (code = code_of(req, body))) {
        int rc = action(req->svc, &who, session.person_id, code, ks_clock_now());
        if (rc == KS_OK)
            ks_http_json(req, 204, NULL);
        else if (rc == KS_ERR_NOT_FOUND)
            ks_http_error(req, KS_ERR_INVALID, nothing);
        else
            ks_http_error(req, rc, rc == KS_ERR_UNAUTHENTICATED ? "Wrong or already used TOTP code." : NULL);
    }
    json_decref(body);
    sodium_memzero(&session, sizeof session);
}

void ks_api_me_totp_confirm(ks_http_request *req)
{
    totp_code_call(req, ks_person_totp_confirm, "No TOTP enrolment to confirm: start one with POST /api/v1/me/totp.");
}

void ks_api_me_totp_remove(ks_http_request *req)
{
    totp_code_call(req, ks_person_totp_remove, "TOTP is not on.");
}
