/* response.c - building responses: JSON bodies, API errors, headers. */
#include "http/http.h"
#include "core/error.h"
#include "core/roles.h"

#include <malloc.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ks_http_json(ks_http_request *req, int status, json_t *body)
{
    json_decref(req->res.body);
    req->res.status = status;
    req->res.body = body;
}

/* Replaces every byte that is not part of valid UTF-8 by '?', in place: a
 * message may quote client input, and jansson refuses invalid UTF-8 (a
 * message cut inside a character would leave the error without a body). */
static void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : (*p >= 0xC2 && *p <= 0xDF) ? 2 : (*p & 0xF0) == 0xE0 ? 3
                 : (*p >= 0xF0 && *p <= 0xF4) ? 4 : 0;
        char one[5] = {0};
        size_t i = 0;
        for (; n && i < n && p[i]; i++)
            one[i] = (char)p[i];
        if (n == 0 || i < n || ks_utf8_length(one) != 1) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

void ks_http_error(ks_http_request *req, int err, const char *message)
{
    const ks_error_info_t *info = ks_error_info(err);
    char text[512];
    snprintf(text, sizeof text, "%s", message ? message : info->message);
    utf8_sanitize(text);
    json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", info->code, "message", text);
    ks_http_json(req, info->http_status, body);
    /* A Bearer challenge: a Basic one would make browsers (the web admin's
     * fetches) pop up their own login box; curl and gateways need none. */
    if (err == KS_ERR_UNAUTHENTICATED || err == KS_ERR_EXPIRED)
        ks_http_header(req, "WWW-Authenticate", "Bearer realm=\"keystile\"");
}

void ks_http_errorf(ks_http_request *req, int err, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    ks_http_error(req, err, message);
}

void ks_http_page(ks_http_request *req, json_t *items, int64_t next)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)next);
    ks_http_json(req, 200, json_pack("{s:o, s:o}", "items", items ? items : json_array(), "next_cursor",
                                     next ? json_string(buf) : json_null()));
}

void ks_http_header(ks_http_request *req, const char *name, const char *value)
{
    ks_http_response *res = &req->res;
    if (res->n_headers == KS_HTTP_HEADERS_MAX)
        return;
    char *copy = strdup(value);
    if (!copy)
        return;
    res->header_names[res->n_headers] = name;
    res->header_values[res->n_headers++] = copy;
}

void ks_http_response_free(ks_http_response *res)
{
    json_decref(res->body);
    if (res->raw) {
        if (res->secret_body)
            sodium_memzero(res->raw, res->raw_len);
        free(res->raw);
    }
    for (size_t i = 0; i < res->n_headers; i++)
        free(res->header_values[i]);
    memset(res, 0, sizeof *res);
}

/* jansson's allocations are wiped when freed: the plaintext token of a
 * create/renew response passes through jansson's strings and dump buffers,
 * and must not linger in freed memory. They stay plain malloc blocks (the
 * size to wipe comes from malloc_usable_size, not a header in front) because
 * libraries sharing jansson with us (libiddawc, librhonabwy) free strings
 * that json_dumps made with plain free(). */
static void *wiping_malloc(size_t size)
{
    return malloc(size);
}

static void wiping_free(void *p)
{
    if (!p)
        return;
    sodium_memzero(p, malloc_usable_size(p));
    free(p);
}

void ks_http_json_use_wiping_allocator(void)
{
    json_set_alloc_funcs(wiping_malloc, wiping_free);
}
