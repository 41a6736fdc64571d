/*
 * api_session.c - /api/v1/session: sign-in of the web admin.
 *   POST   with X-API-Key / X-API-Token: 201 {"csrf","key","account"}
 *          and an HttpOnly, SameSite=Strict session cookie (the key needs at
 *          least one management resource in its home account). The session
 *          is bound to that token and lasts at most 12 h, 1 h idle (sessions.h).
 *   POST   with a JSON body {"email","password","totp"?}: a person signs in
 *          (service/people.h: one Argon2id whatever the email, 429 with
 *          Retry-After after 5 failures in 15 minutes); 201
 *          {"csrf","principal"} and the cookie. Runs on the management pool.
 *   GET    with the cookie: 200 {"csrf","key","account","resources"}
 *          for a key's session, {"csrf","principal"} for a person's.
 *   DELETE with the cookie and X-CSRF-Token: 204, cookie cleared.
 */
#include "http/api.h"
#include "http/auth.h"
#include "http/json_input.h"
#include "http/key_json.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/roles.h"
#include "service/authority.h"
#include "service/people.h"
#include "service/sessions.h"

#include <sodium.h>
#include <stdio.h>

static void set_cookie(ks_http_request *req, const char *value, int max_age)
{
    char cookie[256];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
             KS_SESSION_COOKIE, value, max_age);
    ks_http_header(req, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof cookie);
}

/* A person's sign-in: the JSON body {"email","password","totp"?}. */
static void person_sign_in(ks_http_request *req)
{
    static const char *const FIELDS[] = {"email", "password", "totp", NULL};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        return;
    json_t *email = json_object_get(body, "email"), *pw = json_object_get(body, "password");
    json_t *totp = json_object_get(body, "totp");
    char cookie[KS_SESSION_TEXT_MAX], csrf[KS_SESSION_TEXT_MAX];
    int64_t retry_after = 0;
    int totp_required = 0, rc;
    if (!json_is_string(email) || json_string_length(email) > KS_EMAIL_MAX)
        ks_http_error(req, KS_ERR_INVALID, "Field 'email' is required: an email address of at most 254 bytes.");
    else if (!json_is_string(pw) || json_string_length(pw) > KS_PASSWORD_MAX)
        ks_http_errorf(req, KS_ERR_INVALID, "Field 'password' is required (at most %d bytes).", KS_PASSWORD_MAX);
    else if (totp && !json_is_string(totp))
        ks_http_error(req, KS_ERR_INVALID, "Field 'totp' must be a string: the 6 digits of your authenticator.");
    else if ((rc = ks_person_sign_in(req->svc, json_string_value(email), json_string_value(pw),
                                     json_string_length(pw), totp ? json_string_value(totp) : NULL,
                                     ks_http_client_address(req)[0] ? ks_http_client_address(req) : NULL,
                                     ks_clock_now(), cookie, csrf, &retry_after, &totp_required)) == KS_OK) {
        char norm[KS_EMAIL_MAX + 1];
        ks_person person;
        json_t *principal = NULL;
        if (ks_email_normalize(json_string_value(email), norm) == KS_OK &&
            req->svc->store->ops->person_get(req->svc->store, norm, &person) == KS_OK) {
            principal = ks_me_person_json(req->svc, person.id, &rc);
            sodium_memzero(&person, sizeof person);
        }
        ks_http_json(req, 201, json_pack("{s:s, s:o}", "csrf", csrf, "principal", principal ? principal : json_null()));
        set_cookie(req, cookie, KS_SESSION_MAX_SECONDS);
    } else if (rc == KS_ERR_RATE_LIMITED) {
        char secs[24];
        snprintf(secs, sizeof secs, "%lld", (long long)retry_after);
        ks_http_error(req, rc, "Too many failed sign-ins for this email: try again later.");
        ks_http_header(req, "Retry-After", secs);
    } else if (rc == KS_ERR_UNAUTHENTICATED && totp_required) {
        ks_http_error(req, rc, "This person signs in with a TOTP code too: send 'totp'.");
        json_object_set_new(json_object_get(req->res.body, "error"), "totp_required", json_true());
    } else if (rc == KS_ERR_UNAUTHENTICATED) {
        /* Also a guess from this address (API.md "Abuse limits"): past the
         * limit the 429 is answered instead, whichever email was tried. */
        if (!ks_http_failed_credential(req))
            ks_http_error(req, rc, "Wrong email or password (or TOTP code).");
    } else {
        ks_http_error(req, rc, NULL);
    }
    sodium_memzero(cookie, sizeof cookie);
    sodium_memzero(csrf, sizeof csrf);
    json_decref(body); /* the wiping allocator clears the password */
}

void ks_api_session_create(ks_http_request *req)
{
    if (req->body_len > 0 && !ks_http_has_credentials(req)) {
        person_sign_in(req);
        return;
    }
    ks_verify_result vr;
    ks_digest token_hash;
    int rc;
    if (!ks_http_check_key_and_token_hash(req, &vr, &token_hash))
        ; /* the error is set */
    else if (ks_authority_of_resources(&vr.resources) == 0) /* no management authority */
        ks_http_error(req, KS_ERR_FORBIDDEN, "This key has no management permission in its account.");
    else {
        char cookie[KS_SESSION_TEXT_MAX], csrf[KS_SESSION_TEXT_MAX];
        rc = ks_session_create(req->svc, vr.key_id, &token_hash, ks_clock_now(), cookie, csrf);
        if (rc == KS_OK)
            ks_http_audit_event(req, vr.key_id, vr.account, "session.create", vr.key_id);
        if (rc == KS_OK) {
            ks_http_json(req, 201, json_pack("{s:s, s:s, s:s}", "csrf", csrf, "key", vr.key_id,
                                             "account", vr.account));
            set_cookie(req, cookie, KS_SESSION_MAX_SECONDS); /* idle expiry is the server's */
        } else {
            ks_http_error(req, rc == KS_ERR_NOT_FOUND ? KS_ERR_UNAUTHENTICATED : rc, NULL);
        }
        sodium_memzero(cookie, sizeof cookie);
        sodium_memzero(csrf, sizeof csrf);
    }
    sodium_memzero(&token_hash, sizeof token_hash);
    ks_verify_result_free(&vr);
}

void ks_api_session_show(ks_http_request *req)
{
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, KS_SESSION_COOKIE);
    ks_session session;
    ks_verify_result vr;
    int rc = ks_session_resolve(req->svc, cookie, NULL, ks_clock_now(), &session, &vr);
    if (rc != KS_OK)
        ks_http_error(req, rc, rc == KS_ERR_UNAUTHENTICATED ? "Not signed in." : NULL);
    else if (session.person_id && vr.reason == KS_VERIFY_OK) {
        json_t *principal = ks_me_person_json(req->svc, session.person_id, &rc);
        if (principal)
            ks_http_json(req, 200, json_pack("{s:s, s:o}", "csrf", session.csrf, "principal", principal));
        else
            ks_http_error(req, rc == KS_ERR_NOT_FOUND ? KS_ERR_UNAUTHENTICATED : rc, NULL);
    } else if (session.person_id)
        ks_http_error(req, KS_ERR_UNAUTHENTICATED, "Not signed in.");
    else if (vr.reason == KS_VERIFY_EXPIRED)
        ks_http_error(req, KS_ERR_EXPIRED, NULL);
    else if (vr.reason != KS_VERIFY_OK)
        ks_http_error(req, KS_ERR_UNAUTHENTICATED, "The token of this session is no longer valid; sign in again.");
    else
        ks_http_json(req, 200, json_pack("{s:s, s:s, s:s, s:o}", "csrf", session.csrf, "key", vr.key_id,
                                         "account", vr.account, "resources", ks_strlist_to_json(&vr.resources)));
    sodium_memzero(&session, sizeof session);
    ks_verify_result_free(&vr);
}

/* Signing out needs the session and its CSRF token, not a token that still
 * verifies: ending a session is always allowed. */
void ks_api_session_delete(ks_http_request *req)
{
    if (ks_http_refuse_cross_site(req))
        return;
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, KS_SESSION_COOKIE);
    ks_session session;
    int rc = ks_session_lookup(req->svc, cookie, ks_clock_now(), &session);
    if (rc != KS_OK)
        ks_http_error(req, rc, rc == KS_ERR_UNAUTHENTICATED ? "Not signed in." : NULL);
    else if (!ks_session_csrf_ok(session.csrf, ks_http_header_get(req, "X-CSRF-Token")))
        ks_http_error(req, KS_ERR_FORBIDDEN, "Missing or wrong X-CSRF-Token header for this session.");
    else if ((rc = ks_session_end(req->svc, cookie)) != KS_OK)
        ks_http_error(req, rc, NULL);
    else {
        ks_http_json(req, 204, NULL);
        set_cookie(req, "", 0);
    }
    sodium_memzero(&session, sizeof session);
}
