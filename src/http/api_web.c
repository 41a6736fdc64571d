/*
 * api_web.c - serves the embedded web admin: GET / is index.html, other
 * paths map to files of web/; ks_api_web_serve_file serves one file for a
 * route of its own (GET /invite/{id} is web/invite.html). Strict CSP: only
 * this origin's scripts and styles, no framing.
 */
#include "http/api.h"
#include "http/web_assets.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ks_api_web_serve_file(ks_http_request *req, const char *path)
{
    for (const ks_web_asset *a = KS_WEB_ASSETS; a->path; a++) {
        if (strcmp(a->path, path) != 0)
            continue;
        req->route = "/ (web admin)";
        req->res.status = 200;
        req->res.raw = malloc(a->size ? a->size : 1);
        if (!req->res.raw) {
            ks_http_error(req, KS_ERR_NOMEM, NULL);
            return 1;
        }
        memcpy(req->res.raw, a->data, a->size);
        req->res.raw_len = a->size;
        req->res.content_type = a->content_type;
        ks_http_header(req, "Content-Security-Policy",
                       "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
        ks_http_header(req, "X-Frame-Options", "DENY");
        /* No page leaks its address (an invitation id, say) to a link it has. */
        ks_http_header(req, "Referrer-Policy", "no-referrer");
        return 1;
    }
    return 0;
}

int ks_api_web_serve(ks_http_request *req)
{
    char path[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < req->n_segments; i++) {
        size_t n = strlen(req->segments[i]);
        if (used + n + 2 > sizeof path)
            return 0;
        path[used++] = '/';
        memcpy(path + used, req->segments[i], n);
        used += n;
        path[used] = '\0';
    }
    if (!*path || strcmp(path, "/") == 0)
        snprintf(path, sizeof path, "%s", "/index.html");
    return ks_api_web_serve_file(req, path);
}
