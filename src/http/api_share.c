/*
 * api_share.c - one-time share links: GET /share/{id} is a small page with a
 * Reveal button (so link previews in chat apps do not burn the link);
 * POST /share/{id}/reveal returns {"key","token"} once, then 410 gone.
 * The page's script is served from /share/reveal.js (CSP: same origin only).
 */
#include "http/api.h"
#include "core/error.h"
#include "service/share_links.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SHARE_PAGE[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<meta name=\"robots\" content=\"noindex\"><meta name=\"referrer\" content=\"no-referrer\">"
    "<title>Keystile: a token was shared with you</title>"
    "<link rel=\"stylesheet\" href=\"/share/share.css\"></head><body><main>"
    "<h1>An API token was shared with you</h1>"
    "<p>This link works once and expires 24 hours after it was made. Reveal the token only when you "
    "are ready to store it: it will not be shown again.</p>"
    "<button id=\"reveal\" type=\"button\">Reveal</button>"
    "<p id=\"message\" role=\"status\"></p>"
    "<dl id=\"secret\" hidden><dt>API key</dt><dd><code id=\"key\"></code></dd>"
    "<dt>API token</dt><dd><code id=\"token\"></code></dd></dl>"
    "</main><script type=\"module\" src=\"/share/reveal.js\"></script></body></html>\n";

static const char SHARE_JS[] =
    "const id = decodeURIComponent(location.pathname.split('/').pop());\n"
    "const button = document.getElementById('reveal');\n"
    "const message = document.getElementById('message');\n"
    "button.addEventListener('click', async () => {\n"
    "  button.disabled = true;\n"
    "  const r = await fetch('/share/' + encodeURIComponent(id) + '/reveal', {method: 'POST'});\n"
    "  const body = await r.json().catch(() => ({}));\n"
    "  if (r.ok) {\n"
    "    document.getElementById('key').textContent = body.key;\n"
    "    document.getElementById('token').textContent = body.token;\n"
    "    document.getElementById('secret').hidden = false;\n"
    "    button.hidden = true;\n"
    "    message.textContent = 'Store the token now: this page cannot show it again.';\n"
    "  } else {\n"
    "    message.textContent = (body.error && body.error.message) || 'This link cannot be used.';\n"
    "  }\n"
    "});\n";

static const char SHARE_CSS[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f6f7f9;color:#1d2330}"
    "main{max-width:38rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.4rem;margin-top:0}"
    "button{font:inherit;padding:.5rem 1.2rem;border:0;border-radius:6px;background:#2557d6;color:#fff;cursor:pointer}"
    "button:disabled{opacity:.6}code{word-break:break-all;background:#f0f2f5;padding:.15rem .3rem;border-radius:4px}"
    "dt{font-weight:600;margin-top:1rem}dd{margin:.3rem 0 0}\n";

static void static_text(ks_http_request *req, const char *text, const char *type)
{
    size_t len = strlen(text);
    req->res.raw = malloc(len);
    if (!req->res.raw) {
        ks_http_error(req, KS_ERR_NOMEM, NULL);
        return;
    }
    memcpy(req->res.raw, text, len);
    req->res.raw_len = len;
    req->res.status = 200;
    req->res.content_type = type;
    ks_http_header(req, "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
    ks_http_header(req, "X-Frame-Options", "DENY");
    ks_http_header(req, "Referrer-Policy", "no-referrer");
}

void ks_api_share_page(ks_http_request *req)
{
    const char *id = ks_http_path_param(req, KS_PARAM_SHARE_ID);
    if (strcmp(id, "reveal.js") == 0)
        static_text(req, SHARE_JS, "text/javascript; charset=utf-8");
    else if (strcmp(id, "share.css") == 0)
        static_text(req, SHARE_CSS, "text/css; charset=utf-8");
    else
        static_text(req, SHARE_PAGE, "text/html; charset=utf-8"); /* burns nothing */
}

void ks_api_share_reveal(ks_http_request *req)
{
    char key[KS_KEY_ID_MAX + 1], token[KS_TOKEN_LEN + 1];
    int rc = ks_share_reveal(req->svc, ks_http_path_param(req, KS_PARAM_SHARE_ID), key, token);
    char account[KS_ACCOUNT_MAX + 1];
    if (rc == KS_OK && ks_key_id_parse(key, account) == KS_OK) /* the link's holder has no identity */
        ks_http_audit_event(req, "anonymous", account, "share.reveal", key);
    if (rc == KS_OK) {
        ks_http_json(req, 200, json_pack("{s:s, s:s}", "key", key, "token", token));
        req->res.secret_body = 1;
    } else if (rc == KS_ERR_NOT_FOUND) {
        if (!ks_http_failed_credential(req)) /* a guessed link id: counted like a wrong token */
            ks_http_error(req, rc, "No such share link.");
    } else {
        ks_http_error(req, rc, NULL);
    }
    sodium_memzero(token, sizeof token);
}

int ks_http_share_url(ks_http_request *req, const char *key_id, const char *token, char *out, size_t cap)
{
    char id[KS_SHARE_ID_MAX];
    int rc = ks_share_create(req->svc, key_id, token, id);
    if (rc != KS_OK)
        return rc;
    ks_http_share_url_of(req, id, out, cap);
    sodium_memzero(id, sizeof id);
    return KS_OK;
}

void ks_http_share_url_of(ks_http_request *req, const char *id, char *out, size_t cap)
{
    const char *base = req->server_public_url;
    const char *host = ks_http_header_get(req, MHD_HTTP_HEADER_HOST);
    if (base && *base)
        snprintf(out, cap, "%s/share/%s", base, id);
    else
        snprintf(out, cap, "%s://%s/share/%s", req->tls ? "https" : "http", host ? host : "127.0.0.1", id);
}
