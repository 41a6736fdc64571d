/*
 * server.c - libmicrohttpd glue: per-connection request state, body
 * accumulation with the 64 KiB limit, URI splitting, dispatch to the router,
 * sending the response and the access log.
 *
 * The raw URI is taken from the URI log callback, before libmicrohttpd
 * unescapes it, so that an encoded "/" inside a path segment (a role name)
 * stays inside its segment; each segment and query value is then unescaped
 * with MHD_http_unescape. The response is queued only once the request is
 * complete (see DESIGN.md: queueing on the first call costs keep-alive).
 */
#include "http/server.h"
#include "http/http.h"
#include "core/error.h"
#include "log/log.h"
#include "metrics/metrics.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct ks_server {
    struct MHD_Daemon *daemon;
    ks_service *svc;
    int access_log; /* KS_ACCESS_LOG_* */
    const char *public_url;
    int tls;
};

typedef struct {
    char *uri;          /* raw request target, NULL when over the limit */
    int uri_too_long;
    int started;        /* the handler has seen the headers */
    char *body;
    size_t body_len;
    int body_too_large;
    struct timespec t0;
} conn_state;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    conn_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &st->t0);
    if (strlen(uri) > KS_HTTP_URL_MAX)
        st->uri_too_long = 1;
    else
        st->uri = strdup(uri);
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    conn_state *st = *con_cls;
    if (!st)
        return;
    free(st->uri);
    free(st->body);
    free(st);
    *con_cls = NULL;
}

static const char *route_for_log(const ks_http_request *req)
{
    return req->route ? req->route : "unmatched";
}

static int is_hot_route(const char *route)
{
    return route && (strcmp(route, "/api/v1/verify") == 0 || strcmp(route, "/healthz") == 0 ||
                     strcmp(route, "/metrics") == 0);
}

static void log_request(const ks_server *srv, const ks_http_request *req, const conn_state *st)
{
    if (srv->access_log == KS_ACCESS_LOG_NONE ||
        (srv->access_log == KS_ACCESS_LOG_MANAGEMENT && is_hot_route(req->route)))
        return;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - st->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - st->t0.tv_nsec) / 1e6;
    ks_log("info", "request", "{s:s, s:s, s:i, s:f}", "method", req->method, "route", route_for_log(req),
           "status", req->res.status, "ms", ms);
}

/* Turns req->res into a libmicrohttpd response and queues it. */
static enum MHD_Result send_response(struct MHD_Connection *conn, ks_http_request *req)
{
    ks_http_response *res = &req->res;
    struct MHD_Response *r;
    if (res->body) {
        char *text = json_dumps(res->body, JSON_COMPACT);
        if (!text)
            return MHD_NO;
        json_free_t json_free_fn;
        json_get_alloc_funcs(NULL, &json_free_fn);
        r = MHD_create_response_from_buffer_with_free_callback(strlen(text), text, json_free_fn);
        if (r)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        else
            json_free_fn(text);
    } else if (res->raw) {
        r = MHD_create_response_from_buffer(res->raw_len, res->raw, MHD_RESPMEM_MUST_COPY);
        if (r && res->content_type)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (size_t i = 0; i < res->n_headers; i++)
        MHD_add_response_header(r, res->header_names[i], res->header_values[i]);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

static int content_type_ok(const char *ct)
{
    if (!ct)
        return 1;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum MHD_Result finish_request(ks_server *srv, struct MHD_Connection *conn, const char *method,
                                      conn_state *st)
{
    ks_http_request req = {0};
    req.server = srv;
    req.svc = srv->svc;
    req.conn = conn;
    req.method = method;
    req.server_public_url = srv->public_url;
    req.tls = srv->tls;
    req.body = st->body ? st->body : "";
    req.body_len = st->body_len;
    int rc;
    if (st->uri_too_long || !st->uri)
        ks_http_json(&req, 414, json_pack("{s:{s:s,s:s}}", "error", "code", "invalid_request",
                                          "message", "The URL is longer than 8 KiB."));
    else if (st->body_too_large)
        ks_http_error(&req, KS_ERR_TOO_LARGE, NULL);
    else if ((rc = ks_http_parse_target(&req, st->uri)) != KS_OK)
        ks_http_error(&req, rc, rc == KS_ERR_INVALID ? "The URL is not valid (bad escape or too many parameters)." : NULL);
    else if (req.body_len > 0 &&
             !content_type_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
        ks_http_error(&req, KS_ERR_MEDIA_TYPE, NULL);
    else
        ks_http_route(&req);
    if (req.res.status == 0)
        ks_http_error(&req, KS_ERR_INTERNAL, NULL);
    enum MHD_Result ok = send_response(conn, &req);
    ks_metrics_http(req.route, req.res.status);
    log_request(srv, &req, st);
    ks_http_response_free(&req.res);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)version;
    conn_state *st = *con_cls;
    if (!st)
        return MHD_NO; /* out of memory in on_uri: drop the connection */
    if (!st->started) {
        st->started = 1;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > KS_HTTP_BODY_MAX)
            st->body_too_large = 1; /* answered once the upload is drained */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!st->body_too_large && st->body_len + *upload_size <= KS_HTTP_BODY_MAX) {
            if (!st->body && !(st->body = malloc(KS_HTTP_BODY_MAX + 1)))
                return MHD_NO;
            memcpy(st->body + st->body_len, upload_data, *upload_size);
            st->body_len += *upload_size;
            st->body[st->body_len] = '\0';
        } else {
            st->body_too_large = 1;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return finish_request(cls, conn, method, st);
}

static int parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
                        char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || strlen(colon + 1) == 0 || (size_t)(colon - listen) >= sizeof host) {
        snprintf(err, errlen, "--listen must be HOST:PORT, got '%s'", listen);
        return -1;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int g = getaddrinfo(h, colon + 1, &hints, &ai);
    if (g != 0 || !ai) {
        snprintf(err, errlen, "cannot resolve --listen '%s': %s", listen, gai_strerror(g));
        return -1;
    }
    memcpy(addr, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

ks_server *ks_server_start(ks_service *svc, const ks_server_options *opts, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (parse_listen(opts->listen, &addr, &addr_len, err, errlen) != 0)
        return NULL;
    ks_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->svc = svc;
    srv->access_log = opts->access_log;
    srv->public_url = opts->public_url;
    ks_http_json_use_wiping_allocator();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = (unsigned)(opts->threads > 0 ? opts->threads : (cores > 0 ? cores : 1));
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* HTTPS through libmicrohttpd's GnuTLS support, when a certificate is given. */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)opts->tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)opts->tls_key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    if (opts->tls_cert_pem && opts->tls_key_pem) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "this libmicrohttpd has no TLS support");
            free(srv);
            return NULL;
        }
        flags |= MHD_USE_TLS;
        srv->tls = 1;
    } else {
        tls_opts[0].option = MHD_OPTION_END;
    }
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(opts->connection_limit > 0 ? opts->connection_limit : 1024),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(opts->timeout_seconds > 0 ? opts->timeout_seconds : 30),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
        MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not allowed?)", opts->listen);
        free(srv);
        return NULL;
    }
    (void)addr_len;
    return srv;
}

void ks_server_stop(ks_server *srv, int grace_ms)
{
    if (!srv)
        return;
    MHD_quiesce_daemon(srv->daemon); /* no new connections */
    for (int waited = 0; waited < grace_ms; waited += 20) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!info || info->num_connections == 0)
            break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(srv->daemon);
    free(srv);
}
