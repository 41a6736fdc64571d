/*
 * router.c - the route table: method + path pattern -> handler. A pattern
 * segment "*" matches any one non-empty segment. A path that matches with
 * another method gets 405 with an Allow header; no match at all gets 404.
 */
#include "http/api.h"
#include "core/error.h"

#include <string.h>

typedef struct {
    const char *method;
    const char *pattern;
    ks_http_handler handler;
} route;

static const route ROUTES[] = {
    {"GET", "/healthz", ks_api_healthz},
    {"GET", "/metrics", ks_api_metrics},
    {"GET", "/api/v1/verify", ks_api_verify},
    {"POST", "/api/v1/verify", ks_api_verify},
    {"POST", "/api/v1/login", ks_api_login},
    {"GET", "/.well-known/jwks.json", ks_api_jwks},
    {"GET", "/share/*", ks_api_share_page},
    {"POST", "/share/*/reveal", ks_api_share_reveal},
    {"POST", "/api/v1/session", ks_api_session_create},
    {"GET", "/api/v1/session", ks_api_session_show},
    {"DELETE", "/api/v1/session", ks_api_session_delete},
    {"GET", "/api/v1/accounts/*/keys", ks_api_keys_list},
    {"POST", "/api/v1/accounts/*/keys", ks_api_keys_create},
    {"GET", "/api/v1/accounts/*/keys/export", ks_api_keys_export}, /* before keys/{key} */
    {"GET", "/api/v1/accounts/*/keys/*", ks_api_keys_show},
    {"PATCH", "/api/v1/accounts/*/keys/*", ks_api_keys_update},
    {"DELETE", "/api/v1/accounts/*/keys/*", ks_api_keys_delete},
    {"POST", "/api/v1/accounts/*/keys/*/renew", ks_api_keys_renew},
    {"DELETE", "/api/v1/accounts/*/keys/*/old-token", ks_api_keys_delete_old_token},
    {"POST", "/api/v1/accounts/*/keys/*/undo-renewal", ks_api_keys_undo_renewal},
    {"GET", "/api/v1/accounts/*/external-keys", ks_api_external_list},
    {"POST", "/api/v1/accounts/*/external-keys", ks_api_external_add},
    {"PATCH", "/api/v1/accounts/*/external-keys/*", ks_api_external_update},
    {"DELETE", "/api/v1/accounts/*/external-keys/*", ks_api_external_remove},
    {"GET", "/api/v1/accounts/*/settings", ks_api_settings_get},
    {"PUT", "/api/v1/accounts/*/settings", ks_api_settings_put},
    {"GET", "/api/v1/accounts/*/roles", ks_api_roles_list},
    {"POST", "/api/v1/accounts/*/roles", ks_api_roles_create},
    {"PATCH", "/api/v1/accounts/*/roles/*", ks_api_roles_update},
    {"DELETE", "/api/v1/accounts/*/roles/*", ks_api_roles_delete},
    {"GET", "/api/v1/accounts/*/audit", ks_api_audit_list},
};

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

ks_http_handler ks_http_route_find(const ks_http_request *req, const char **pattern,
                                   char allow[KS_HTTP_ALLOW_MAX])
{
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    allow[0] = '\0';
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++) {
        if (!pattern_matches(ROUTES[i].pattern, req))
            continue;
        if (strcmp(ROUTES[i].method, method) == 0) {
            *pattern = ROUTES[i].pattern;
            return ROUTES[i].handler;
        }
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
    ks_http_handler handler = ks_http_route_find(req, &req->route, allow);
    if (handler) {
        handler(req);
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
