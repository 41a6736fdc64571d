/*
 * fuzz_router.c - the request target parser and the route table
 * (ks_http_parse_target, ks_http_route_find, ks_http_route and the query
 * parameter helpers of src/http/http.h).
 *
 * Input: "METHOD URI" split at the first space (no space: the method is GET
 * and the whole input is the URI). The URI is copied to a NUL-terminated
 * heap buffer, as the server's URI callback does.
 *
 * Properties (abort() when violated):
 *  - the parser returns KS_OK, KS_ERR_INVALID or KS_ERR_NOT_FOUND; a target
 *    without a leading '/' is invalid; on success the segment count is the
 *    number of '/' in the path ("/" alone has none), the parameter count is
 *    the number of non-empty '&' pieces of the query, and every decoded
 *    string lies inside the URI buffer;
 *  - round trip: percent-encoding every decoded segment and parameter and
 *    parsing again gives the same strings;
 *  - a found route's pattern has one segment per path segment, its literal
 *    segments equal the path's and its '*' segments match non-empty ones;
 *  - `allow` lists only known methods, each once, and is exactly the set of
 *    methods for which ks_http_route_find finds this path (HEAD counts as
 *    GET); the request's own method is never in it when nothing was found;
 *  - without a route, ks_http_route answers 404, 405 with an Allow header
 *    equal to `allow`, or 200 from the embedded web admin (GET or HEAD of
 *    a non-/api path);
 *  - the query helpers the handlers use return values within their bounds
 *    or -1/-2 after a 400.
 */
#include "fuzz_util.h"

#include "core/error.h"
#include "core/roles.h"
#include "http/http.h"

static const char *const METHODS[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
#define N_METHODS (sizeof METHODS / sizeof *METHODS)

/* Index of method m in METHODS, or -1. */
static int method_index(const char *m, size_t len)
{
    for (size_t i = 0; i < N_METHODS; i++)
        if (strlen(METHODS[i]) == len && strncmp(METHODS[i], m, len) == 0)
            return (int)i;
    return -1;
}

/* Parses "GET, POST" into a bit set of METHODS; aborts on anything else. */
static unsigned allow_set(const char allow[KS_HTTP_ALLOW_MAX])
{
    FUZZ_CHECK(memchr(allow, '\0', KS_HTTP_ALLOW_MAX) != NULL, "allow is not NUL-terminated");
    unsigned set = 0;
    const char *p = allow;
    while (*p) {
        const char *end = strstr(p, ", ");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int i = method_index(p, len);
        FUZZ_CHECK(i >= 0, "unknown method in allow '%s'", allow);
        FUZZ_CHECK(!(set & (1u << i)), "method twice in allow '%s'", allow);
        set |= 1u << i;
        p += len + (end ? 2 : 0);
    }
    return set;
}

/* Checks that a found route's pattern fits the request's segments. */
static void check_pattern(const char *pattern, const ks_http_request *req)
{
    FUZZ_CHECK(pattern && pattern[0] == '/', "found route without a pattern");
    size_t i = 0;
    for (const char *p = pattern + 1; *p; i++) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        FUZZ_CHECK(i < req->n_segments, "pattern %s longer than the path (%zu segments)", pattern, req->n_segments);
        const char *seg = req->segments[i];
        if (len == 1 && *p == '*')
            FUZZ_CHECK(*seg, "pattern %s: '*' matched an empty segment %zu", pattern, i);
        else
            FUZZ_CHECK(strlen(seg) == len && memcmp(seg, p, len) == 0, "pattern %s: segment %zu is '%s'", pattern,
                       i, seg);
        p += len + (end ? 1 : 0);
    }
    FUZZ_CHECK(i == req->n_segments, "pattern %s has %zu segments, the path %zu", pattern, i, req->n_segments);
}

/* Checks the route lookup for req->method and its consistency with every
 * other method; returns the handler found for req->method. */
static ks_http_handler check_routes(ks_http_request *req, const char **pattern, char allow[KS_HTTP_ALLOW_MAX])
{
    const char *own = req->method;
    unsigned routable = 0;
    for (size_t i = 0; i < N_METHODS; i++) {
        char a[KS_HTTP_ALLOW_MAX];
        req->method = METHODS[i];
        const ks_route *r = ks_http_route_find(req, a);
        if (r) {
            check_pattern(r->pattern, req);
            FUZZ_CHECK(r->rule.access != KS_ACCESS_UNSET, "route %s %s has no access rule", r->method, r->pattern);
            routable |= 1u << i;
        } else {
            FUZZ_CHECK(!(allow_set(a) & (1u << i)), "%s not found but allowed ('%s')", METHODS[i], a);
        }
    }
    req->method = own;
    const ks_route *found = ks_http_route_find(req, allow);
    ks_http_handler h = found ? found->handler : NULL;
    *pattern = found ? found->pattern : NULL;
    const char *mapped = strcmp(own, "HEAD") == 0 ? "GET" : own;
    int mi = method_index(mapped, strlen(mapped));
    FUZZ_CHECK(!h || mi >= 0, "route found for unknown method '%s'", own);
    if (h) {
        check_pattern(*pattern, req);
        FUZZ_CHECK(routable & (1u << mi), "%s found, but not when asked as %s", own, mapped);
    } else {
        FUZZ_CHECK(mi < 0 || !(routable & (1u << mi)), "%s not found, but found as %s", own, mapped);
        FUZZ_CHECK(allow_set(allow) == routable, "allow '%s' is not the routable set 0x%x", allow, routable);
    }
    return h;
}

/* Without a route: ks_http_route must give 404, 405 + Allow, or a web file. */
static void check_fallback(ks_http_request *req, const char *allow)
{
    ks_http_route(req);
    int status = req->res.status;
    const char *code = json_string_value(json_object_get(json_object_get(req->res.body, "error"), "code"));
    if (status == 405) {
        /* Known bug "error-body-utf8": a method that is not UTF-8 in the
         * message makes json_pack fail, leaving a 405 without a body. */
        if (!req->res.body && fuzz_known_bug("error-body-utf8"))
            code = "method_not_allowed";
        FUZZ_CHECK(*allow && code && strcmp(code, "method_not_allowed") == 0, "bad 405 body");
        int has_allow = 0;
        for (size_t i = 0; i < req->res.n_headers; i++)
            if (strcmp(req->res.header_names[i], "Allow") == 0)
                has_allow = strcmp(req->res.header_values[i], allow) == 0;
        FUZZ_CHECK(has_allow, "405 without Allow: %s", allow);
    } else if (status == 404) {
        FUZZ_CHECK(!*allow && code && strcmp(code, "not_found") == 0, "bad 404 (allow '%s')", allow);
    } else {
        FUZZ_CHECK(status == 200, "fallback status %d", status);
        FUZZ_CHECK(!*allow && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0),
                   "web file served for %s", req->method);
        FUZZ_CHECK(!(req->n_segments > 0 && strcmp(req->segments[0], "api") == 0), "web file under /api");
        FUZZ_CHECK(req->res.raw && req->res.content_type && req->route, "web file without body or type");
    }
    ks_http_response_free(&req->res);
}

/* The query helpers as the handlers call them (keys list, audit, export). */
static void check_params(ks_http_request *req)
{
    static const char *const STATUS[] = {"inactive", "active", NULL};
    static const char *const BOOL[] = {"false", "true", NULL};
    static const char *const FORMATS[] = {"csv", "xlsx", NULL};
    struct { const char *name; const char *const *choices; int def; } enums[] = {
        {"status", STATUS, -1}, {"outdated", BOOL, -1}, {"format", FORMATS, 0},
    };
    for (size_t i = 0; i < sizeof enums / sizeof *enums; i++) {
        const char *v = ks_http_param_get(req, enums[i].name);
        int r = ks_http_param_enum(req, enums[i].name, enums[i].choices, enums[i].def);
        if (!v)
            FUZZ_CHECK(r == enums[i].def && req->res.status == 0, "absent %s gave %d", enums[i].name, r);
        else if (r == -2)
            FUZZ_CHECK(req->res.status == 400, "bad %s without a 400", enums[i].name);
        else
            FUZZ_CHECK(r >= 0 && r <= 1 && strcmp(v, enums[i].choices[r]) == 0, "%s='%s' gave %d", enums[i].name,
                       v, r);
        ks_http_response_free(&req->res);
    }
    struct { const char *name; long min, max, def; } ints[] = {
        {"limit", 1, 500, 50}, {"cursor", 1, 0x7fffffffffffffffL, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        long out = -12345;
        int r = ks_http_param_int(req, ints[i].name, ints[i].min, ints[i].max, ints[i].def, &out);
        if (r == 0)
            FUZZ_CHECK(req->res.status == 0 && (out == ints[i].def || (out >= ints[i].min && out <= ints[i].max)),
                       "%s gave %ld", ints[i].name, out);
        else
            FUZZ_CHECK(r == -1 && req->res.status == 400, "%s: rc %d, status %d", ints[i].name, r, req->res.status);
        ks_http_response_free(&req->res);
    }
    const char *q = ks_http_param_get(req, "q");
    if (q)
        (void)ks_utf8_length(q); /* the keys list limits q to 200 characters */
}

/* Appends s percent-encoded (everything but letters and digits). */
static size_t encode(char *out, size_t at, const char *s)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) {
            out[at++] = (char)*p;
        } else {
            out[at++] = '%';
            out[at++] = HEX[*p >> 4];
            out[at++] = HEX[*p & 15];
        }
    }
    return at;
}

/* Re-encodes req's segments and parameters, parses them again, compares. */
static void check_round_trip(const ks_http_request *req, size_t uri_len)
{
    char *uri = malloc(3 * uri_len + 2 * KS_HTTP_SEGMENTS_MAX + 3 * KS_HTTP_PARAMS_MAX + 2);
    if (!uri)
        abort();
    size_t at = 0;
    for (size_t i = 0; i < req->n_segments; i++) {
        uri[at++] = '/';
        at = encode(uri, at, req->segments[i]);
    }
    if (!req->n_segments)
        uri[at++] = '/';
    for (size_t i = 0; i < req->n_params; i++) {
        uri[at++] = i ? '&' : '?';
        at = encode(uri, at, req->params[i].name);
        uri[at++] = '=';
        at = encode(uri, at, req->params[i].value);
    }
    uri[at] = '\0';
    ks_http_request again = {0};
    again.method = "GET";
    int rc = ks_http_parse_target(&again, uri);
    FUZZ_CHECK(rc == KS_OK, "re-encoded target fails with %d", rc);
    FUZZ_CHECK(again.n_segments == req->n_segments, "round trip: %zu segments, was %zu", again.n_segments,
               req->n_segments);
    for (size_t i = 0; i < req->n_segments; i++)
        FUZZ_CHECK(strcmp(again.segments[i], req->segments[i]) == 0, "round trip changed segment %zu", i);
    FUZZ_CHECK(again.n_params == req->n_params, "round trip: %zu params, was %zu", again.n_params, req->n_params);
    for (size_t i = 0; i < req->n_params; i++)
        FUZZ_CHECK(strcmp(again.params[i].name, req->params[i].name) == 0 &&
                       strcmp(again.params[i].value, req->params[i].value) == 0,
                   "round trip changed parameter %zu", i);
    free(uri);
}

/* Checks the parse result against the raw target (orig, unmodified). */
static void check_parse(const ks_http_request *req, int rc, const char *orig, const char *buf, size_t len)
{
    FUZZ_CHECK(rc == KS_OK || rc == KS_ERR_INVALID || rc == KS_ERR_NOT_FOUND, "parse returned %d", rc);
    size_t path_len = strcspn(orig, "?");
    if (orig[0] != '/' || path_len == 0)
        FUZZ_CHECK(rc == KS_ERR_INVALID, "target without a leading '/' gave %d", rc);
    if (rc != KS_OK)
        return;
    size_t slashes = 0;
    for (size_t i = 0; i < path_len; i++)
        slashes += orig[i] == '/';
    FUZZ_CHECK(req->n_segments == (path_len == 1 ? 0 : slashes), "%zu segments for %zu slashes", req->n_segments,
               slashes);
    size_t pieces = 0;
    if (orig[path_len] == '?')
        for (const char *p = orig + path_len + 1; *p;) {
            size_t n = strcspn(p, "&");
            pieces += n > 0;
            p += n + (p[n] ? 1 : 0);
        }
    FUZZ_CHECK(req->n_params == pieces, "%zu parameters for %zu pieces", req->n_params, pieces);
    FUZZ_CHECK(req->n_segments <= KS_HTTP_SEGMENTS_MAX && req->n_params <= KS_HTTP_PARAMS_MAX, "over the limits");
    for (size_t i = 0; i < req->n_segments; i++)
        FUZZ_CHECK(req->segments[i] >= buf && req->segments[i] <= buf + len, "segment %zu outside the URI", i);
    for (size_t i = 0; i < req->n_params; i++)
        FUZZ_CHECK(req->params[i].name >= buf && req->params[i].name <= buf + len && req->params[i].value >= buf &&
                       req->params[i].value <= buf + len,
                   "parameter %zu outside the URI", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > KS_HTTP_URL_MAX + 16) /* the server answers 414 first */
        return 0;
    size_t method_len;
    const uint8_t *target;
    size_t target_len;
    char *method;
    if (fuzz_split(data, size, ' ', &method_len, &target, &target_len)) {
        method = fuzz_cstr(data, method_len);
    } else {
        method = fuzz_cstr((const uint8_t *)"GET", 3);
        target = data;
        target_len = size;
    }
    char *uri = fuzz_cstr(target, target_len);
    char *orig = fuzz_cstr(target, target_len);
    size_t uri_len = strlen(uri);

    ks_http_request req = {0};
    req.method = method;
    int rc = ks_http_parse_target(&req, uri);
    check_parse(&req, rc, orig, uri, uri_len);
    if (rc == KS_OK) {
        check_round_trip(&req, uri_len);
        const char *pattern = NULL;
        char allow[KS_HTTP_ALLOW_MAX];
        if (!check_routes(&req, &pattern, allow))
            check_fallback(&req, allow);
        check_params(&req);
    }
    ks_http_response_free(&req.res);
    free(orig);
    free(uri);
    free(method);
    return 0;
}
