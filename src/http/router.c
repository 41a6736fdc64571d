/*
 * router.c - the route table: method + path pattern -> handler, and who
 * may call it (the rule, applied by authorize.c before the handler runs). A
 * pattern segment "*" matches any one non-empty segment. A path that matches with
 * another method gets 405 with an Allow header; no match at all gets 404.
 */
#include "http/api.h"
#include "core/error.h"
#include "core/roles.h"

#include <string.h>

/* Rules: PUBLIC, or MANAGEMENT needing a resource (or either of two) and
 * the delegation checks of API.md; see ks_route_rule in http.h. */
#define PUBLIC {KS_ACCESS_PUBLIC, NULL, NULL, 0}
#define NEEDS(res, checks) {KS_ACCESS_MANAGEMENT, res, NULL, checks}
#define NEEDS_EITHER(res, alt) {KS_ACCESS_MANAGEMENT, res, alt, 0}
/* Flags: answered from memory on the worker thread, and counted rather
 * than logged (see KS_ROUTE_* in http.h). */
#define HOT (KS_ROUTE_HOT | KS_ROUTE_ON_WORKER)

static const ks_route ROUTES[] = {
    {"GET", "/healthz", ks_api_healthz, PUBLIC, HOT},
    {"GET", "/metrics", ks_api_metrics, PUBLIC, HOT},
    {"GET", "/api/v1/verify", ks_api_verify, PUBLIC, HOT},
    {"POST", "/api/v1/verify", ks_api_verify, PUBLIC, HOT},
    {"POST", "/api/v1/login", ks_api_login, PUBLIC, 0},
    /* GitHub's secret scanning: authenticated by its signature, in the handler */
    {"POST", "/api/v1/secret-scanning/github", ks_api_secret_scanning_github, PUBLIC, 0},
    {"GET", "/.well-known/jwks.json", ks_api_jwks, PUBLIC, 0},
    {"GET", "/share/*", ks_api_share_page, PUBLIC, 0},
    {"POST", "/share/*/reveal", ks_api_share_reveal, PUBLIC, 0},
    {"POST", "/api/v1/session", ks_api_session_create, PUBLIC, 0},
    {"GET", "/api/v1/session", ks_api_session_show, PUBLIC, 0},
    {"DELETE", "/api/v1/session", ks_api_session_delete, PUBLIC, 0},
    /* single sign-on: they wait on the identity provider, so never on a worker */
    {"GET", "/auth/oidc/config", ks_api_oidc_config, PUBLIC, 0},
    {"GET", "/auth/oidc/login", ks_api_oidc_login, PUBLIC, 0},
    {"GET", "/auth/oidc/callback", ks_api_oidc_callback, PUBLIC, 0},
    {"GET", "/api/v1/accounts/*/keys", ks_api_keys_list, NEEDS(KS_RES_VIEW_KEYS, 0), 0},
    {"POST", "/api/v1/accounts/*/keys", ks_api_keys_create, NEEDS(KS_RES_EDIT_KEYS, KS_CHECK_GRANTS_ROLES), 0},
    /* before keys/{key} */
    {"GET", "/api/v1/accounts/*/keys/export", ks_api_keys_export, NEEDS(KS_RES_VIEW_KEYS, 0), 0},
    {"GET", "/api/v1/accounts/*/keys/*", ks_api_keys_show, NEEDS(KS_RES_VIEW_KEYS, 0), 0},
    {"GET", "/api/v1/accounts/*/keys/*/usage", ks_api_keys_usage, NEEDS(KS_RES_VIEW_KEYS, 0), 0},
    {"GET", "/api/v1/accounts/*/usage", ks_api_account_usage, NEEDS(KS_RES_VIEW_KEYS, 0), 0},
    {"PATCH", "/api/v1/accounts/*/keys/*", ks_api_keys_update,
     NEEDS(KS_RES_EDIT_KEYS, KS_CHECK_TARGET_KEY | KS_CHECK_GRANTS_ROLES), 0},
    {"DELETE", "/api/v1/accounts/*/keys/*", ks_api_keys_delete, NEEDS(KS_RES_EDIT_KEYS, KS_CHECK_TARGET_KEY), 0},
    {"POST", "/api/v1/accounts/*/keys/*/renew", ks_api_keys_renew, NEEDS(KS_RES_RENEW_TOKEN, KS_CHECK_TARGET_KEY), 0},
    {"DELETE", "/api/v1/accounts/*/keys/*/old-token", ks_api_keys_delete_old_token,
     NEEDS(KS_RES_RENEW_TOKEN, KS_CHECK_TARGET_KEY), 0},
    {"POST", "/api/v1/accounts/*/keys/*/undo-renewal", ks_api_keys_undo_renewal,
     NEEDS(KS_RES_RENEW_TOKEN, KS_CHECK_TARGET_KEY), 0},
    {"GET", "/api/v1/accounts/*/external-keys", ks_api_external_list, NEEDS(KS_RES_VIEW_KEYS, 0), 0},
    {"POST", "/api/v1/accounts/*/external-keys", ks_api_external_add,
     NEEDS(KS_RES_EDIT_KEYS, KS_CHECK_GRANTS_ROLES), 0},
    {"PATCH", "/api/v1/accounts/*/external-keys/*", ks_api_external_update,
     NEEDS(KS_RES_EDIT_KEYS, KS_CHECK_TARGET_GRANT | KS_CHECK_GRANTS_ROLES), 0},
    {"DELETE", "/api/v1/accounts/*/external-keys/*", ks_api_external_remove,
     NEEDS(KS_RES_EDIT_KEYS, KS_CHECK_TARGET_GRANT), 0},
    {"GET", "/api/v1/accounts/*/settings", ks_api_settings_get, NEEDS_EITHER(KS_RES_VIEW_KEYS, KS_RES_EDIT_SETTINGS), 0},
    {"PUT", "/api/v1/accounts/*/settings", ks_api_settings_put, NEEDS(KS_RES_EDIT_SETTINGS, 0), 0},
    {"GET", "/api/v1/accounts/*/roles", ks_api_roles_list, NEEDS_EITHER(KS_RES_VIEW_KEYS, KS_RES_EDIT_ROLES), 0},
    {"POST", "/api/v1/accounts/*/roles", ks_api_roles_create, NEEDS(KS_RES_EDIT_ROLES, KS_CHECK_GRANTS_RESOURCES), 0},
    {"PATCH", "/api/v1/accounts/*/roles/*", ks_api_roles_update,
     NEEDS(KS_RES_EDIT_ROLES, KS_CHECK_TARGET_ROLE | KS_CHECK_GRANTS_RESOURCES), 0},
    {"DELETE", "/api/v1/accounts/*/roles/*", ks_api_roles_delete, NEEDS(KS_RES_EDIT_ROLES, KS_CHECK_TARGET_ROLE), 0},
    {"GET", "/api/v1/accounts/*/audit", ks_api_audit_list, NEEDS(KS_RES_VIEW_AUDIT, 0), 0},
    {"GET", "/api/v1/accounts/*/users", ks_api_users_list, NEEDS(KS_RES_EDIT_USERS, 0), 0},
    {"POST", "/api/v1/accounts/*/users", ks_api_users_invite, NEEDS(KS_RES_EDIT_USERS, KS_CHECK_GRANTS_ROLES), 0},
    {"PATCH", "/api/v1/accounts/*/users/*", ks_api_users_update,
     NEEDS(KS_RES_EDIT_USERS, KS_CHECK_TARGET_PERSON | KS_CHECK_GRANTS_ROLES), 0},
    {"DELETE", "/api/v1/accounts/*/users/*", ks_api_users_remove, NEEDS(KS_RES_EDIT_USERS, KS_CHECK_TARGET_PERSON), 0},
    /* People's own calls check the session themselves (api_me.c); sign-in
     * and the invitation run Argon2id: on the management pool, never on a
     * worker that serves verify (no KS_ROUTE_ON_WORKER). */
    {"GET", "/invite/*", ks_api_invite_page, PUBLIC, 0},
    {"POST", "/api/v1/invites/*/accept", ks_api_invite_accept, PUBLIC, 0},
    {"GET", "/api/v1/me", ks_api_me, PUBLIC, 0},
    {"POST", "/api/v1/me/password", ks_api_me_password, PUBLIC, 0},
    {"POST", "/api/v1/me/totp", ks_api_me_totp_enrol, PUBLIC, 0},
    {"POST", "/api/v1/me/totp/confirm", ks_api_me_totp_confirm, PUBLIC, 0},
    {"DELETE", "/api/v1/me/totp", ks_api_me_totp_remove, PUBLIC, 0},
    {"GET", "/api/v1/accounts/*/webhooks", ks_api_webhooks_list, NEEDS(KS_RES_EDIT_WEBHOOKS, 0), 0},
    {"POST", "/api/v1/accounts/*/webhooks", ks_api_webhooks_create, NEEDS(KS_RES_EDIT_WEBHOOKS, 0), 0},
    {"GET", "/api/v1/accounts/*/webhooks/*", ks_api_webhooks_show, NEEDS(KS_RES_EDIT_WEBHOOKS, 0), 0},
    {"PATCH", "/api/v1/accounts/*/webhooks/*", ks_api_webhooks_update, NEEDS(KS_RES_EDIT_WEBHOOKS, 0), 0},
    {"DELETE", "/api/v1/accounts/*/webhooks/*", ks_api_webhooks_delete, NEEDS(KS_RES_EDIT_WEBHOOKS, 0), 0},
    {"GET", "/api/v1/accounts/*/webhooks/*/deliveries", ks_api_webhooks_deliveries, NEEDS(KS_RES_EDIT_WEBHOOKS, 0), 0},
    {"POST", "/api/v1/accounts/*/webhooks/*/test", ks_api_webhooks_test, NEEDS(KS_RES_EDIT_WEBHOOKS, 0), 0},
};

const ks_route *ks_http_routes(size_t *n)
{
    *n = sizeof ROUTES / sizeof *ROUTES;
    return ROUTES;
}

static int pattern_matches(const char *pattern, const ks_http_request *req)
{
    size_t i = 0;
    const char *p = pattern + 1;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= req->n_segments)
            return 0;
        const char *seg = req->segments[i++];
        if (len == 1 && *p == '*') {
            if (!*seg)
                return 0;
        } else if (strlen(seg) != len || strncmp(seg, p, len) != 0) {
            return 0;
        }
        p += len + (end ? 1 : 0);
    }
    return i == req->n_segments;
}

const ks_route *ks_http_route_find(const ks_http_request *req, char allow[KS_HTTP_ALLOW_MAX])
{
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    allow[0] = '\0';
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++) {
        if (!pattern_matches(ROUTES[i].pattern, req))
            continue;
        if (strcmp(ROUTES[i].method, method) == 0)
            return &ROUTES[i];
        if (!strstr(allow, ROUTES[i].method)) {
            strncat(allow, *allow ? ", " : "", KS_HTTP_ALLOW_MAX - strlen(allow) - 1);
            strncat(allow, ROUTES[i].method, KS_HTTP_ALLOW_MAX - strlen(allow) - 1);
        }
    }
    return NULL;
}

void ks_http_route(ks_http_request *req)
{
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    char allow[KS_HTTP_ALLOW_MAX];
    const ks_route *route = ks_http_route_find(req, allow);
    if (route) {
        req->route = route->pattern;
        if (ks_http_route_authorize(req, &route->rule))
            route->handler(req);
        ks_verify_result_free(&req->caller);
        return;
    }
    if (!*allow && strcmp(method, "GET") == 0 &&
        !(req->n_segments > 0 && strcmp(req->segments[0], "api") == 0) && ks_api_web_serve(req))
        return;
    if (*allow) {
        ks_http_errorf(req, KS_ERR_METHOD, "Method %s is not allowed here; allowed: %s.", req->method, allow);
        ks_http_header(req, "Allow", allow);
    } else {
        ks_http_error(req, KS_ERR_NOT_FOUND, "No such endpoint.");
    }
}
