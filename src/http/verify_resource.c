/*
 * verify_resource.c - which resource a verify call asks about: `resource=`
 * when given (an explicit parameter always wins), else, with serve
 * --resource-map, the map's answer for the request the gateway forwards:
 * X-Forwarded-Method + X-Forwarded-Uri (Caddy forward_auth, Traefik
 * ForwardAuth), else X-Original-Method + X-Original-URI (nginx). A request
 * without either pair, or a server without a map, requires no resource.
 * An unmapped path requires KS_RESOURCE_UNMAPPED, which verify refuses
 * with 403 forbidden once the credential itself is good.
 */
#include "http/api_verify.h"
#include "core/error.h"
#include "http/server.h"

#include <string.h>

int ks_http_verify_resource(ks_http_request *req, char buf[KS_RESOURCE_MAX + 1], const char **out)
{
    ks_verify_headers h;
    ks_verify_headers_read(req, NULL, &h);
    return ks_http_verify_resource_of(req, &h, buf, out);
}

int ks_http_verify_resource_of(ks_http_request *req, const ks_verify_headers *h, char buf[KS_RESOURCE_MAX + 1],
                               const char **out)
{
    const char *explicit = ks_http_param_get(req, "resource");
    *out = NULL;
    if (explicit && *explicit) {
        *out = explicit;
        return KS_OK;
    }
    ks_resource_map_live *map = req->server ? ks_server_resource_map(req->server) : NULL;
    if (!map)
        return KS_OK;
    const char *method = h->forwarded_method;
    const char *uri = h->forwarded_uri;
    if (!method || !uri) {
        method = h->original_method;
        uri = h->original_uri;
    }
    if (!method || !uri)
        return KS_OK;
    int rc = ks_resource_map_live_resolve(map, method, uri, buf);
    if (rc == KS_OK)
        *out = buf;
    return rc;
}
