/*
 * server.c - libmicrohttpd glue: per-connection state, body accumulation
 * with the 64 KiB limit, URI splitting, dispatch to the router, sending the
 * response and the access log.
 *
 * The raw URI is taken from the URI log callback, before libmicrohttpd
 * unescapes it, so that an encoded "/" inside a path segment (a role name)
 * stays inside its segment; each segment and query value is then unescaped
 * with MHD_http_unescape. The response is queued only once the request is
 * complete (see DESIGN.md: queueing on the first call costs keep-alive).
 *
 * Threads: the MHD worker threads (one per core) answer verify, /healthz,
 * /metrics and the static files themselves. Every other route may wait for
 * the store (a durable write waits for fsync), so its connection is
 * suspended and the request handed to a small pool of management threads
 * (worker_pool.c); the pool resumes the connection when the response is ready and the worker
 * sends it. A slow write therefore never stalls the verifies that share its
 * worker thread.
 *
 * Verify answers come from api_verify.h without the generic response path
 * (verify_send.c):
 * 401/403 answers are MHD responses made once at start and shared; a 200
 * body is written into the connection's buffer and sent from there.
 * Per-connection state is made when the connection opens and reused by its
 * requests, so a keep-alive verify allocates nothing of ours; its 200
 * response object is reused too (see verify_send.c verify_ok_response).
 * The --listen address is parsed by listen_address.c.
 */
#include "http/server_internal.h"
#include "core/clock.h"
#include "core/error.h"
#include "http/api.h"
#include "http/listen_address.h"
#include "log/log.h"
#include "metrics/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Frees what the request in progress holds; the connection's buffers stay. */
static void request_reset(conn_state *st)
{
    if (st->uri != st->uri_inline)
        free(st->uri);
    free(st->body);
    free(st->verify_heap);
    ks_http_response_free(&st->req.res);
    st->uri = NULL;
    st->uri_too_long = 0;
    st->started = 0;
    st->phase = PHASE_READING;
    st->body = NULL;
    st->body_len = 0;
    st->body_too_large = 0;
    st->verify_heap = NULL;
    memset(&st->req, 0, sizeof st->req);
    st->clean = 1;
}

static void job_accepted(ks_pool_job *job);
static void job_run(ks_pool_job *job);

/* The accept policy: the per-address cap (conn_guard.h). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    ks_server *srv = cls;
    return ks_conn_guard_admit(srv->guard, addr) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    ks_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_state *st = calloc(1, sizeof *st); /* NULL: on_uri drops the connection */
        if (st) {
            st->job.accepted = job_accepted;
            st->job.run = job_run;
            const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
            const union MHD_ConnectionInfo *ad = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
            ks_conn_guard_open(srv->guard, &st->guard, fd ? fd->connect_fd : -1, ad ? ad->client_addr : NULL);
        }
        *socket_context = st;
    } else if (*socket_context) {
        conn_state *st = *socket_context;
        ks_conn_guard_close(srv->guard, &st->guard); /* before libmicrohttpd closes the socket */
        request_reset(st);
        if (st->verify_ok)
            MHD_destroy_response(st->verify_ok);
        free(st);
        *socket_context = NULL;
    }
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const ks_server *srv = cls;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_state *st = info ? info->socket_context : NULL;
    if (!st)
        return NULL;
    if (!st->clean) /* usually reset by on_completed already */
        request_reset(st);
    st->clean = 0;
    st->conn = conn;
    /* The start, for the access log's ms: verify is logged only with
     * --access-log all, so it reads no clock here otherwise (a read costs
     * 50 ns or more on a virtual machine). */
    st->t0 = srv->access_log == KS_ACCESS_LOG_ALL ||
                     (srv->access_log == KS_ACCESS_LOG_MANAGEMENT && strcmp(uri, "/api/v1/verify") != 0)
                 ? ks_clock_monotonic()
                 : 0;
    size_t len = strlen(uri);
    if (len > KS_HTTP_URL_MAX) {
        st->uri_too_long = 1;
    } else if (len < URI_INLINE) {
        memcpy(st->uri_inline, uri, len + 1);
        st->uri = st->uri_inline;
    } else {
        st->uri = strdup(uri); /* NULL: answered 414 like an over-long one */
    }
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    conn_state *st = *con_cls;
    if (st) {
        ks_conn_guard_request_done(&st->guard);
        request_reset(st);
    }
    *con_cls = NULL;
}

void ks_server_log_request(const ks_server *srv, const char *method, const char *route, int status,
                           const conn_state *st)
{
    if (srv->access_log == KS_ACCESS_LOG_NONE ||
        (srv->access_log == KS_ACCESS_LOG_MANAGEMENT && (st->req.route_flags & KS_ROUTE_HOT)))
        return;
    double ms = (ks_clock_monotonic() - st->t0) * 1e3;
    ks_log("info", "request", "{s:s, s:s, s:i, s:f}", "method", method, "route", route ? route : "unmatched",
           "status", status, "ms", ms);
}

void ks_server_common_headers(struct MHD_Response *r, const char *content_type)
{
    if (content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

/* Turns req->res into a libmicrohttpd response and queues it. */
static enum MHD_Result send_response(struct MHD_Connection *conn, ks_http_request *req)
{
    ks_http_response *res = &req->res;
    struct MHD_Response *r;
    const char *content_type = NULL;
    if (res->body) {
        char *text = json_dumps(res->body, JSON_COMPACT);
        if (!text)
            return MHD_NO;
        json_free_t json_free_fn;
        json_get_alloc_funcs(NULL, &json_free_fn);
        r = MHD_create_response_from_buffer_with_free_callback(strlen(text), text, json_free_fn);
        if (!r)
            json_free_fn(text);
        content_type = "application/json";
    } else if (res->raw) {
        r = MHD_create_response_from_buffer(res->raw_len, res->raw, MHD_RESPMEM_MUST_COPY);
        content_type = res->content_type;
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    ks_server_common_headers(r, content_type);
    for (size_t i = 0; i < res->n_headers; i++)
        MHD_add_response_header(r, res->header_names[i], res->header_values[i]);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Sends the response the handler (or the pool) left in st->req. */
enum MHD_Result ks_server_send_generic(ks_server *srv, struct MHD_Connection *conn, conn_state *st)
{
    ks_http_request *req = &st->req;
    if (req->res.status == 0)
        ks_http_error(req, KS_ERR_INTERNAL, NULL);
    enum MHD_Result ok = send_response(conn, req);
    ks_metrics_http(req->route, req->res.status);
    ks_server_log_request(srv, req->method, req->route, req->res.status, st);
    ks_http_response_free(&req->res);
    return ok;
}

/* The pool takes the request (worker_pool.h): the connection waits,
 * suspended, until the pool has answered. */
static void job_accepted(ks_pool_job *job)
{
    conn_state *st = (conn_state *)job;
    MHD_suspend_connection(st->conn);
    st->phase = PHASE_QUEUED;
}

/* On a pool thread: runs the route, then gives st back to the worker. */
static void job_run(ks_pool_job *job)
{
    conn_state *st = (conn_state *)job;
    ks_http_route(&st->req);
    st->phase = PHASE_DONE;
    MHD_resume_connection(st->conn); /* st belongs to the worker again */
}

static int content_type_ok(const char *ct)
{
    if (!ct)
        return 1;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The verify route of method when uri is exactly /api/v1/verify (no query,
 * nothing escaped), else NULL: what the router would find, known from the
 * bytes without splitting the URI or walking the route table. Any other
 * spelling of the path (a query, an escape) takes the general way to the
 * same route. */
static const ks_route *verify_route_of(const ks_server *srv, const char *method, const char *uri)
{
    if (strcmp(uri, "/api/v1/verify") != 0)
        return NULL;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return srv->verify_get;
    return strcmp(method, "POST") == 0 ? srv->verify_post : NULL;
}

static enum MHD_Result finish_request(ks_server *srv, struct MHD_Connection *conn, const char *method,
                                      conn_state *st)
{
    ks_http_request *req = &st->req;
    req->server = srv;
    req->svc = srv->svc;
    req->conn = conn;
    req->method = method;
    req->server_public_url = srv->public_url;
    req->tls = srv->tls;
    req->oidc = srv->oidc;
    req->body = st->body ? st->body : "";
    req->body_len = st->body_len;
    int rc;
    const ks_route *fast = NULL; /* the verify route, known before parsing the URI */
    if (st->uri_too_long || !st->uri)
        ks_http_json(req, 414, json_pack("{s:{s:s,s:s}}", "error", "code", "invalid_request",
                                         "message", "The URL is longer than 8 KiB."));
    else if (st->body_too_large)
        ks_http_error(req, KS_ERR_TOO_LARGE, NULL);
    else if (!(fast = verify_route_of(srv, method, st->uri)) && (rc = ks_http_parse_target(req, st->uri)) != KS_OK)
        ks_http_error(req, rc, rc == KS_ERR_INVALID ? "The URL is not valid (bad escape or too many parameters)." : NULL);
    else if (req->body_len > 0 &&
             !content_type_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
        ks_http_error(req, KS_ERR_MEDIA_TYPE, NULL);
    else {
        char allow[KS_HTTP_ALLOW_MAX];
        const ks_route *found = fast ? fast : ks_http_route_find(req, allow);
        const char *route = found ? found->pattern : NULL;
        req->route_flags = found ? found->flags : 0;
        enum MHD_Result ok;
        if (found && found->handler == ks_api_verify && ks_server_send_verify(srv, conn, st, route, &ok))
            return ok;
        /* The generic handler (a Bearer login token) routes from the segments. */
        if (fast && (rc = ks_http_parse_target(req, st->uri)) != KS_OK) {
            ks_http_error(req, rc, NULL);
            return ks_server_send_generic(srv, conn, st);
        }
        /* Unmatched paths (404, 405, the web admin's files) answer from memory too. */
        if (found && !(found->flags & KS_ROUTE_ON_WORKER) && ks_worker_pool_submit(&srv->pool, &st->job))
            return MHD_YES;
        ks_http_route(req);
    }
    return ks_server_send_generic(srv, conn, st);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)version;
    conn_state *st = *con_cls;
    if (!st)
        return MHD_NO; /* out of memory in on_connection: drop the connection */
    if (st->phase == PHASE_DONE)
        return ks_server_send_generic(cls, conn, st); /* resumed by the pool */
    if (st->phase == PHASE_QUEUED)
        return MHD_YES;
    if (!st->started) {
        st->started = 1;
        ks_conn_guard_headers_done(&st->guard);
        /* A body announced too large is answered once the upload is
         * drained, without buffering any of it. Not looked up for GET and
         * HEAD (verify's methods, a header scan saved per request): a body
         * sent with them is capped as it arrives, below, with the same 413. */
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl && strtoull(cl, NULL, 10) > KS_HTTP_BODY_MAX)
                st->body_too_large = 1;
        }
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

/* Stops the management pool once its queue is empty (every suspended
 * connection resumed), and frees what the server made; not the daemon. */
static void server_free(ks_server *srv)
{
    ks_worker_pool_stop(&srv->pool);
    ks_server_verify_answers_free(srv);
    ks_worker_pool_destroy(&srv->pool);
    ks_conn_guard_free(srv->guard);
    ks_fail_throttle_free(srv->throttle);
    free(srv->trusted);
    free(srv);
}

/* The abuse limits of opts (defaults as server.h says); 0 or -1 when out
 * of memory or the sweeper cannot start. */
static int abuse_limits_make(ks_server *srv, const ks_server_options *opts)
{
    if (opts->n_trusted) {
        if (!(srv->trusted = malloc(opts->n_trusted * sizeof *srv->trusted)))
            return -1;
        memcpy(srv->trusted, opts->trusted, opts->n_trusted * sizeof *srv->trusted);
        srv->n_trusted = opts->n_trusted;
    }
    int header_timeout = opts->header_timeout == 0 ? 10 : opts->header_timeout < 0 ? 0 : opts->header_timeout;
    int per_address = opts->per_address == 0 ? 128 : opts->per_address < 0 ? 0 : opts->per_address;
    int limit = opts->failed_auth_limit == 0 ? 120 : opts->failed_auth_limit;
    if (limit > 0 && !(srv->throttle = ks_fail_throttle_new((unsigned)limit)))
        return -1;
    srv->guard = ks_conn_guard_new(header_timeout, per_address, opts->connection_limit > 0 ? opts->connection_limit : 1024,
                                   srv->trusted, srv->n_trusted);
    return srv->guard && ks_conn_guard_start(srv->guard) == KS_OK ? 0 : -1;
}

ks_server *ks_server_start(ks_service *svc, const ks_server_options *opts, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (ks_listen_address_parse(opts->listen, &addr, &addr_len, err, errlen) != 0)
        return NULL;
    ks_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->svc = svc;
    srv->access_log = opts->access_log;
    srv->public_url = opts->public_url;
    srv->oidc = opts->oidc;
    srv->resource_map = opts->resource_map;
    srv->github_keys = opts->github_keys;
    size_t n_routes;
    const ks_route *routes = ks_http_routes(&n_routes);
    for (size_t i = 0; i < n_routes; i++)
        if (routes[i].handler == ks_api_verify && strcmp(routes[i].method, "GET") == 0)
            srv->verify_get = &routes[i];
        else if (routes[i].handler == ks_api_verify && strcmp(routes[i].method, "POST") == 0)
            srv->verify_post = &routes[i];
    ks_worker_pool_init(&srv->pool);
    if (ks_server_verify_answers_make(srv) != 0 || abuse_limits_make(srv, opts) != 0) {
        snprintf(err, errlen, "out of memory (or no thread for the header deadline)");
        server_free(srv);
        return NULL;
    }
    /* Fewer threads when some cannot start; with none, management calls run on the workers. */
    ks_worker_pool_start(&srv->pool, KS_POOL_THREADS_MAX);
    ks_http_json_use_wiping_allocator();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = (unsigned)(opts->threads > 0 ? opts->threads : (cores > 0 ? cores : 1));
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
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
            server_free(srv);
            return NULL;
        }
        flags |= MHD_USE_TLS;
        srv->tls = 1;
    } else {
        tls_opts[0].option = MHD_OPTION_END;
    }
    srv->daemon = MHD_start_daemon(
        flags, 0, on_accept, srv, on_request, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(opts->connection_limit > 0 ? opts->connection_limit : 1024),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(opts->timeout_seconds > 0 ? opts->timeout_seconds : 30),
        /* libmicrohttpd zeroes the pool between requests: 16 KiB, not the
         * default 32, halves that (about 0.2 us a request) and still holds an
         * 8 KiB URL with a browser's headers. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not allowed?)", opts->listen);
        server_free(srv);
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
    /* MHD must not be stopped with suspended connections: let the pool
     * finish (and resume) every request it holds first; requests arriving
     * meanwhile run on the workers. */
    struct MHD_Daemon *daemon = srv->daemon;
    ks_worker_pool_stop(&srv->pool);
    MHD_stop_daemon(daemon);
    server_free(srv);
}

struct ks_resource_map_live *ks_server_resource_map(const ks_server *srv)
{
    return srv->resource_map;
}

struct ks_github_keys_live *ks_server_github_keys(const ks_server *srv)
{
    return srv->github_keys;
}
