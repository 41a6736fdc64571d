/* request.c - reading query parameters and headers of a request. */
#include "http/http.h"

#include "core/error.h"
#include "log/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *ks_http_path_param(const ks_http_request *req, ks_path_param p)
{
    return (size_t)p < req->n_segments ? req->segments[p] : NULL;
}

const char *ks_http_account(const ks_http_request *req)
{
    return ks_http_path_param(req, KS_PARAM_ACCOUNT);
}

const char *ks_http_target(const ks_http_request *req)
{
    return ks_http_path_param(req, KS_PARAM_TARGET);
}

const char *ks_http_param_get(const ks_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_params; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

void ks_http_actor_init(ks_http_request *req, ks_actor *who, const char *actor, const char *account)
{
    const char *address = ks_http_client_address(req);
    who->actor = actor;
    who->account = account;
    who->via = req->auth_via ? req->auth_via : "system";
    who->address = address[0] ? address : NULL;
}

void ks_http_audit_event(ks_http_request *req, const char *actor, const char *account, const char *action,
                         const char *target)
{
    ks_actor who;
    ks_http_actor_init(req, &who, actor, account);
    int rc = ks_service_audit_event(req->svc, &who, action, target, NULL);
    if (rc != KS_OK && rc != KS_ERR_NOT_FOUND)
        ks_log("warn", "audit entry not written", "{s:s}", "action", action);
}

const char *ks_http_header_get(const ks_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int ks_http_param_int(ks_http_request *req, const char *name, long min, long max, long def, long *out)
{
    const char *v = ks_http_param_get(req, name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max) {
        ks_http_errorf(req, KS_ERR_INVALID, "Parameter '%s' must be an integer from %ld to %ld.", name, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int ks_http_param_cursor(ks_http_request *req, int64_t *out)
{
    const char *c = ks_http_param_get(req, "cursor");
    long v = 0;
    if (c && *c && ks_http_param_int(req, "cursor", 1, 0x7fffffffffffffffL, 0, &v) != 0)
        return -1;
    *out = v;
    return 0;
}

int ks_http_param_enum(ks_http_request *req, const char *name, const char *const *choices, int def)
{
    const char *v = ks_http_param_get(req, name);
    if (!v)
        return def;
    for (int i = 0; choices[i]; i++)
        if (strcmp(v, choices[i]) == 0)
            return i;
    ks_http_errorf(req, KS_ERR_INVALID, "Parameter '%s' must be %s or %s.", name, choices[0],
                   choices[1] ? choices[1] : "");
    return -2;
}

/* Unescapes s in place; -1 when it decodes to a NUL byte. */
static int unescape(char *s)
{
    size_t len = MHD_http_unescape(s);
    return strlen(s) == len ? 0 : -1;
}

int ks_http_parse_target(ks_http_request *req, char *uri)
{
    char *query = strchr(uri, '?');
    if (query)
        *query++ = '\0';
    if (uri[0] != '/')
        return KS_ERR_INVALID;
    for (char *p = uri + 1; *p || p > uri + 1;) { /* "/" alone has no segment */
        if (req->n_segments == KS_HTTP_SEGMENTS_MAX)
            return KS_ERR_NOT_FOUND;
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (unescape(p) != 0)
            return KS_ERR_INVALID;
        req->segments[req->n_segments++] = p;
        if (!slash)
            break;
        p = slash + 1;
    }
    for (char *pair = query; pair && *pair;) {
        char *amp = strchr(pair, '&');
        if (amp)
            *amp = '\0';
        if (*pair) {
            if (req->n_params == KS_HTTP_PARAMS_MAX)
                return KS_ERR_INVALID;
            char *eq = strchr(pair, '=');
            char *value = eq ? eq + 1 : pair + strlen(pair);
            if (eq)
                *eq = '\0';
            for (char *c = pair; *c; c++)
                if (*c == '+') *c = ' ';
            for (char *c = value; *c; c++)
                if (*c == '+') *c = ' ';
            if (unescape(pair) != 0 || unescape(value) != 0)
                return KS_ERR_INVALID;
            req->params[req->n_params].name = pair;
            req->params[req->n_params++].value = value;
        }
        pair = amp ? amp + 1 : NULL;
    }
    return KS_OK;
}

