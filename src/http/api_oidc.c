/*
 * api_oidc.c - single sign-on routes (service/oidc.h does the protocol):
 *   GET /auth/oidc/config    200 {"enabled":bool,"issuer","login_url"}: whether the
 *                            web admin shows "Sign in with SSO"
 *   GET /auth/oidc/login     302 to the issuer, with the pending sign-in in a
 *                            cookie (keystile_oidc: HttpOnly, SameSite=Lax so it
 *                            comes back on the issuer's top-level redirect, Path
 *                            /auth/oidc, 10 minutes)
 *   GET /auth/oidc/callback  the issuer's redirect: on success the session
 *                            cookie and 303 to the web admin; else a page that
 *                            says what went wrong, with its status. The pending
 *                            cookie is cleared once its sign-in is claimed.
 * Pages never echo what came in the URL; the only outside text shown is the
 * verified email of a person who does not exist here, HTML-escaped.
 */
#include "http/api.h"
#include "core/clock.h"
#include "core/error.h"
#include "service/oidc.h"
#include "service/sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PENDING_COOKIE "keystile_oidc"
#define HOST_MAX 255

/* Seconds of real time: the issuer's tokens and the pending cookie live in
 * the world's time, not the product clock a test may move. */
static int64_t wall_now(void)
{
    struct timespec ts;
    ks_clock_wall(&ts);
    return (int64_t)ts.tv_sec;
}

static int escape_html(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in; in++) {
        const char *rep = NULL;
        char one[2] = {*in, '\0'};
        switch (*in) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: rep = one; break;
        }
        size_t len = strlen(rep);
        if (n + len >= cap)
            return 0;
        memcpy(out + n, rep, len);
        n += len;
    }
    out[n] = '\0';
    return 1;
}

/* A small HTML page: title, one paragraph (already escaped), a link home. */
static void page(ks_http_request *req, int status, const char *title, const char *paragraph)
{
    static const char FMT[] =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"robots\" content=\"noindex\"><title>Keystile: %s</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}"
        "main{max-width:38rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;"
        "box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.4rem;margin-top:0}</style></head>"
        "<body><main><h1>%s</h1><p>%s</p><p><a href=\"/\">Back to Keystile</a></p></main></body></html>\n";
    int len = snprintf(NULL, 0, FMT, title, title, paragraph);
    char *body = len > 0 ? malloc((size_t)len + 1) : NULL;
    if (!body) {
        ks_http_error(req, KS_ERR_NOMEM, NULL);
        return;
    }
    snprintf(body, (size_t)len + 1, FMT, title, title, paragraph);
    req->res.raw = body;
    req->res.raw_len = (size_t)len;
    req->res.status = status;
    req->res.content_type = "text/html; charset=utf-8";
    /* the inline style is the page's only resource */
    ks_http_header(req, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
    ks_http_header(req, "Cache-Control", "no-store");
    ks_http_header(req, "Referrer-Policy", "no-referrer");
}

static const char *not_configured =
    "Single sign-on is not configured on this server. Sign in with your email and password, "
    "or with an API key.";

/* https when this server is reached over TLS, or its public URL says so. */
static int secure_context(const ks_http_request *req)
{
    return req->tls || (req->server_public_url && strncmp(req->server_public_url, "https://", 8) == 0);
}

/* {public URL or scheme://Host}/auth/oidc/callback; 0 when the Host header
 * is missing or unusable. */
static int callback_uri(ks_http_request *req, char out[KS_OIDC_REDIRECT_MAX + 1])
{
    const char *base = req->server_public_url;
    int n;
    if (base && *base) {
        size_t len = strlen(base);
        while (len > 0 && base[len - 1] == '/')
            len--;
        n = snprintf(out, KS_OIDC_REDIRECT_MAX + 1, "%.*s/auth/oidc/callback", (int)len, base);
    } else {
        const char *host = ks_http_header_get(req, MHD_HTTP_HEADER_HOST);
        if (!host || !*host || strlen(host) > HOST_MAX || strcspn(host, " \t\r\n/\\?#@\"<>") != strlen(host))
            return 0;
        n = snprintf(out, KS_OIDC_REDIRECT_MAX + 1, "%s://%s/auth/oidc/callback", req->tls ? "https" : "http", host);
    }
    return n > 0 && n <= KS_OIDC_REDIRECT_MAX;
}

static void pending_cookie(ks_http_request *req, const char *value, int max_age)
{
    char cookie[KS_OIDC_COOKIE_MAX + 128];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=%d%s",
             PENDING_COOKIE, value, max_age, secure_context(req) ? "; Secure" : "");
    ks_http_header(req, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof cookie);
}

void ks_api_oidc_config(ks_http_request *req)
{
    if (!req->oidc)
        ks_http_json(req, 200, json_pack("{s:b}", "enabled", 0));
    else
        ks_http_json(req, 200, json_pack("{s:b, s:s, s:s}", "enabled", 1, "issuer", ks_oidc_issuer(req->oidc),
                                         "login_url", "/auth/oidc/login"));
}

void ks_api_oidc_login(ks_http_request *req)
{
    char redirect[KS_OIDC_REDIRECT_MAX + 1], cookie[KS_OIDC_COOKIE_MAX];
    if (!req->oidc) {
        page(req, 404, "Single sign-on is off", not_configured);
        return;
    }
    if (!callback_uri(req, redirect)) {
        page(req, 400, "Cannot start single sign-on",
             "This request has no usable Host header, so Keystile cannot tell the identity provider where "
             "to send you back. Set --public-url on the server.");
        return;
    }
    char *url = malloc(KS_OIDC_AUTH_URL_MAX);
    if (!url) {
        ks_http_error(req, KS_ERR_NOMEM, NULL);
        return;
    }
    ks_oidc_outcome out = ks_oidc_begin(req->oidc, redirect, wall_now(), url, KS_OIDC_AUTH_URL_MAX, cookie);
    if (out == KS_OIDC_DONE) {
        req->res.status = 302;
        ks_http_header(req, "Location", url);
        ks_http_header(req, "Cache-Control", "no-store");
        pending_cookie(req, cookie, KS_OIDC_PENDING_SECONDS);
    } else if (out == KS_OIDC_UNREACHABLE) {
        page(req, 502, "The identity provider cannot be reached",
             "Keystile could not read the identity provider's configuration. Try again in a moment; if it "
             "keeps failing, the server's administrator should check --oidc-issuer.");
    } else if (out == KS_OIDC_BUSY) {
        page(req, 503, "Too many sign-ins at once", "Too many single sign-ins are in progress. Try again in a moment.");
        ks_http_header(req, "Retry-After", "5");
    } else {
        page(req, 500, "Cannot start single sign-on", "Something went wrong on the server. Try again.");
    }
    sodium_memzero(cookie, sizeof cookie);
    free(url);
}

/* The page of each way a callback can fail (the status, a title, a text). */
static const struct {
    int status;
    const char *title, *text;
} FAILURES[] = {
    [KS_OIDC_BAD_STATE] = {400, "This sign-in cannot be finished",
                           "The sign-in link does not belong to a sign-in started in this browser. "
                           "Start again from the Keystile sign-in page."},
    [KS_OIDC_EXPIRED] = {400, "This sign-in took too long",
                         "A single sign-on must come back within 10 minutes. Start again from the Keystile "
                         "sign-in page."},
    [KS_OIDC_REPLAYED] = {400, "This sign-in was already used",
                          "Each single sign-on can be finished once. Start again from the Keystile sign-in page."},
    [KS_OIDC_PROVIDER_ERROR] = {403, "The identity provider did not sign you in",
                                "The identity provider refused or cancelled the sign-in."},
    [KS_OIDC_UNREACHABLE] = {502, "The identity provider cannot be reached",
                             "Keystile could not talk to the identity provider to finish the sign-in. Try "
                             "again in a moment."},
    [KS_OIDC_CODE_REFUSED] = {400, "The identity provider refused this sign-in",
                              "The identity provider did not accept the sign-in code (it may have been used "
                              "already, or altered). Start again from the Keystile sign-in page."},
    [KS_OIDC_TOKEN_INVALID] = {401, "The identity provider's answer is not valid",
                               "The identity token failed Keystile's checks (signature, issuer, audience, "
                               "expiry or nonce), so nobody was signed in."},
    [KS_OIDC_EMAIL_UNVERIFIED] = {403, "Your email is not verified",
                                  "The identity provider did not vouch for your email address "
                                  "(email_verified is not true), so Keystile cannot tell who you are. Verify "
                                  "your email with your identity provider, then try again."},
    [KS_OIDC_BUSY] = {503, "Too many sign-ins at once",
                      "Too many single sign-ins are in progress. Start again in a moment."},
    [KS_OIDC_INTERNAL] = {500, "Sign-in failed", "Something went wrong on the server. Try again."},
};

static void sign_in_person(ks_http_request *req, const char *email)
{
    char cookie[KS_SESSION_TEXT_MAX], csrf[KS_SESSION_TEXT_MAX];
    int rc = ks_session_create_person_at(req->svc, email, "oidc", ks_http_client_address(req), ks_clock_now(),
                                         cookie, csrf);
    if (rc == KS_OK) {
        char set[256];
        snprintf(set, sizeof set, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", KS_SESSION_COOKIE,
                 cookie, KS_SESSION_MAX_SECONDS, secure_context(req) ? "; Secure" : "");
        req->res.status = 303; /* the web admin reads its CSRF token from GET /api/v1/session */
        ks_http_header(req, "Location", "/");
        ks_http_header(req, "Cache-Control", "no-store");
        ks_http_header(req, "Set-Cookie", set);
        sodium_memzero(set, sizeof set);
    } else if (rc == KS_ERR_NOT_FOUND || rc == KS_ERR_INVALID) { /* no such person, or no address of ours */
        char escaped[KS_OIDC_EMAIL_MAX * 6 + 1], text[KS_OIDC_EMAIL_MAX * 6 + 256];
        if (!escape_html(email, escaped, sizeof escaped))
            escaped[0] = '\0';
        snprintf(text, sizeof text,
                 "No Keystile user has the email %s. Single sign-on does not create users: ask an "
                 "administrator of your account to invite you, then sign in again.", escaped);
        page(req, 403, "No Keystile user with this email", text);
    } else {
        page(req, rc == KS_ERR_STORAGE ? 503 : 500, "Sign-in failed",
             "Keystile could not start your session. Try again in a moment.");
    }
    sodium_memzero(cookie, sizeof cookie);
    sodium_memzero(csrf, sizeof csrf);
}

void ks_api_oidc_callback(ks_http_request *req)
{
    if (!req->oidc) {
        page(req, 404, "Single sign-on is off", not_configured);
        return;
    }
    ks_oidc_callback cb = {
        .cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, PENDING_COOKIE),
        .state = ks_http_param_get(req, "state"),
        .code = ks_http_param_get(req, "code"),
        .error = ks_http_param_get(req, "error"),
    };
    char email[KS_OIDC_EMAIL_MAX + 1];
    ks_oidc_outcome out = ks_oidc_finish(req->oidc, &cb, wall_now(), email);
    if (out == KS_OIDC_DONE)
        sign_in_person(req, email);
    else if ((size_t)out < sizeof FAILURES / sizeof *FAILURES && FAILURES[out].title)
        page(req, FAILURES[out].status, FAILURES[out].title, FAILURES[out].text);
    else
        page(req, 500, "Sign-in failed", "Something went wrong on the server. Try again.");
    if (out == KS_OIDC_BUSY)
        ks_http_header(req, "Retry-After", "5");
    if (out != KS_OIDC_BAD_STATE) /* a claimed sign-in is used once, whatever happened; a cookie
                                     that does not match may belong to a newer sign-in */
        pending_cookie(req, "", 0);
}
