/*
 * api_auth.c - GET /api/v1/auth/methods: how one may sign in to the web
 * admin of this server, for its sign-in page (public, no credential):
 *   200 {"password":true,"key":true,"sso":bool}
 * "password": people sign in by email and password (POST /api/v1/session);
 * "key": an API key and token sign in too (automation, first use); "sso":
 * single sign-on is configured (serve --oidc-issuer), so the page offers
 * "Sign in with SSO", a link to GET /auth/oidc/login. Nothing about the
 * issuer itself is told. See docs/API.md, "Sign-in methods".
 */
#include "http/api.h"

void ks_api_auth_methods(ks_http_request *req)
{
    int sso = req->oidc != NULL;
    ks_http_json(req, 200, json_pack("{s:b, s:b, s:b}", "password", 1, "key", 1, "sso", sso));
}
