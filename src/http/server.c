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
 * suspended and the request handed to a small pool of management threads;
 * the pool resumes the connection when the response is ready and the worker
 * sends it. A slow write therefore never stalls the verifies that share its
 * worker thread.
 *
 * Verify answers come from api_verify.h without the generic response path:
 * 401/403 answers are MHD responses made once at start and shared; a 200
 * body is written into the connection's buffer and sent from there.
 * Per-connection state is made when the connection opens and reused by its
 * requests, so a keep-alive verify allocates nothing of ours; its 200
 * response object is reused too (see verify_ok_response).
 */
#include "http/server.h"
#include "core/clock.h"
#include "http/api.h"
#include "http/api_verify.h"
#include "http/http.h"
#include "core/error.h"
#include "log/log.h"
#include "metrics/metrics.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define POOL_THREADS 16      /* management threads: most wait on the disk (group commit) */
#define URI_INLINE 512       /* longer request targets are copied to the heap */
#define VERIFY_BODY_INLINE 1024

enum { PHASE_READING = 0, PHASE_QUEUED, PHASE_DONE };

typedef struct conn_state {
    struct conn_state *next_job; /* in the pool's queue */
    struct MHD_Connection *conn;
    /* the request in progress (reset by request_reset) */
    char *uri;                   /* raw request target, NULL when over the limit */
    int uri_too_long;
    int started;                 /* the handler has seen the headers */
    int phase;                   /* PHASE_*: handed to the pool, answered by it */
    char *body;
    size_t body_len;
    int body_too_large;
    char *verify_heap;           /* a verify body too large for verify_body */
    double t0;                   /* ks_clock_monotonic() at the request's start */
    ks_http_request req;
    /* buffers kept across the connection's requests */
    char uri_inline[URI_INLINE];
    char verify_body[VERIFY_BODY_INLINE];
    /* the connection's 200 verify response, reused (see verify_ok_response);
     * its body is verify_ok_body, its two Keystile headers the copies here */
    struct MHD_Response *verify_ok;
    size_t verify_ok_len;
    char verify_ok_body[VERIFY_BODY_INLINE];
    char verify_ok_key[KS_KEY_ID_MAX + 1];
    char verify_ok_account[KS_ACCOUNT_MAX + 1];
} conn_state;

struct ks_server {
    struct MHD_Daemon *daemon;
    ks_service *svc;
    int access_log; /* KS_ACCESS_LOG_* */
    const char *public_url;
    int tls;
    struct MHD_Response *verify_fail[KS_VERIFY_REASONS]; /* shared 401/403 answers */
    pthread_t pool[POOL_THREADS];
    int n_pool;
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_wake;
    conn_state *jobs_head, *jobs_tail;
    int pool_stopping;
};

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
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(conn_state)); /* NULL: on_uri drops the connection */
    } else if (*socket_context) {
        conn_state *st = *socket_context;
        request_reset(st);
        if (st->verify_ok)
            MHD_destroy_response(st->verify_ok);
        free(st);
        *socket_context = NULL;
    }
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_state *st = info ? info->socket_context : NULL;
    if (!st)
        return NULL;
    request_reset(st);
    st->conn = conn;
    st->t0 = ks_clock_monotonic();
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
    if (st)
        request_reset(st);
    *con_cls = NULL;
}

static void log_request(const ks_server *srv, const char *method, const char *route, int status,
                        const conn_state *st)
{
    if (srv->access_log == KS_ACCESS_LOG_NONE ||
        (srv->access_log == KS_ACCESS_LOG_MANAGEMENT && (st->req.route_flags & KS_ROUTE_HOT)))
        return;
    double ms = (ks_clock_monotonic() - st->t0) * 1e3;
    ks_log("info", "request", "{s:s, s:s, s:i, s:f}", "method", method, "route", route ? route : "unmatched",
           "status", status, "ms", ms);
}

static void add_common_headers(struct MHD_Response *r, const char *content_type)
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
    add_common_headers(r, content_type);
    for (size_t i = 0; i < res->n_headers; i++)
        MHD_add_response_header(r, res->header_names[i], res->header_values[i]);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Sends the response the handler (or the pool) left in st->req. */
static enum MHD_Result send_generic(ks_server *srv, struct MHD_Connection *conn, conn_state *st)
{
    ks_http_request *req = &st->req;
    if (req->res.status == 0)
        ks_http_error(req, KS_ERR_INTERNAL, NULL);
    enum MHD_Result ok = send_response(conn, req);
    ks_metrics_http(req->route, req->res.status);
    log_request(srv, req->method, req->route, req->res.status, st);
    ks_http_response_free(&req->res);
    return ok;
}

/* Sets header `name` of r from *have to want (kept in *have). 0 when a
 * header could not be changed: then r must not be used again. */
static int header_swap(struct MHD_Response *r, const char *name, char *have, size_t cap, const char *want)
{
    if (strcmp(have, want) == 0)
        return 1;
    if (MHD_del_response_header(r, name, have) != MHD_YES || MHD_add_response_header(r, name, want) != MHD_YES)
        return 0;
    snprintf(have, cap, "%s", want);
    return 1;
}

/* The 200 answer with a's body. A connection keeps one response object:
 * building one with its five headers costs about as much as the check
 * itself. The same body again: sent as it is (a client checking one
 * credential). Another body of the same length (another key of the same
 * shape): the bytes are rewritten in place (the response sends them from
 * verify_ok_body and its Content-Length stays right) and the Keystile
 * headers swapped when they differ. That is safe because requests on a
 * connection go one at a time: the previous answer is sent by now. Else a
 * new response, kept for next time when it fits. *owned: the caller
 * destroys it after queueing. NULL when out of memory. */
static struct MHD_Response *verify_ok_response(conn_state *st, const ks_verify_answer *a, int *owned)
{
    *owned = 0;
    if (st->verify_ok && st->verify_ok_len == a->body_len) {
        if (memcmp(st->verify_ok_body, a->body, a->body_len) == 0)
            return st->verify_ok;
        if (header_swap(st->verify_ok, "X-Keystile-Key", st->verify_ok_key, sizeof st->verify_ok_key, a->key_id) &&
            header_swap(st->verify_ok, "X-Keystile-Account", st->verify_ok_account, sizeof st->verify_ok_account,
                        a->account)) {
            memcpy(st->verify_ok_body, a->body, a->body_len);
            return st->verify_ok;
        }
    }
    const char *body = a->body;
    int keep = a->body_len <= sizeof st->verify_ok_body;
    if (keep) {
        if (st->verify_ok)
            MHD_destroy_response(st->verify_ok);
        st->verify_ok = NULL;
        memcpy(st->verify_ok_body, a->body, a->body_len);
        body = st->verify_ok_body;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(a->body_len, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return NULL;
    add_common_headers(r, "application/json");
    MHD_add_response_header(r, "X-Keystile-Key", a->key_id);
    MHD_add_response_header(r, "X-Keystile-Account", a->account);
    if (keep) {
        st->verify_ok = r;
        st->verify_ok_len = a->body_len;
        snprintf(st->verify_ok_key, sizeof st->verify_ok_key, "%s", a->key_id);
        snprintf(st->verify_ok_account, sizeof st->verify_ok_account, "%s", a->account);
    } else {
        *owned = 1;
    }
    return r;
}

/* The verify hot path. 0 when the request needs the generic handler (a
 * Bearer login token), else 1 with the result of queueing in *ok. */
static int send_verify(ks_server *srv, struct MHD_Connection *conn, conn_state *st, const char *route,
                       enum MHD_Result *ok)
{
    ks_verify_answer a;
    ks_api_verify_answer(&st->req, st->verify_body, sizeof st->verify_body, &a);
    if (a.status == 0 && !a.error)
        return 0;
    st->req.route = route;
    if (a.error) {
        ks_http_error(&st->req, a.error, NULL);
        *ok = send_generic(srv, conn, st);
        return 1;
    }
    if (a.status == 200) {
        st->verify_heap = a.heap; /* freed when the request completes, after sending */
        int owned;
        struct MHD_Response *r = verify_ok_response(st, &a, &owned);
        if (!r) {
            *ok = MHD_NO;
            return 1;
        }
        *ok = MHD_queue_response(conn, 200, r);
        if (owned)
            MHD_destroy_response(r);
    } else {
        *ok = MHD_queue_response(conn, (unsigned)a.status, srv->verify_fail[a.reason]);
    }
    ks_metrics_http(route, a.status);
    log_request(srv, st->req.method, route, a.status, st);
    return 1;
}

static int content_type_ok(const char *ct)
{
    if (!ct)
        return 1;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Hands st's request to the management pool (the connection is suspended
 * until the pool resumes it). 0 when the pool is stopping: run it here. */
static int pool_submit(ks_server *srv, conn_state *st)
{
    pthread_mutex_lock(&srv->pool_lock);
    if (srv->pool_stopping || srv->n_pool == 0) {
        pthread_mutex_unlock(&srv->pool_lock);
        return 0;
    }
    MHD_suspend_connection(st->conn);
    st->phase = PHASE_QUEUED;
    st->next_job = NULL;
    if (srv->jobs_tail)
        srv->jobs_tail->next_job = st;
    else
        srv->jobs_head = st;
    srv->jobs_tail = st;
    pthread_cond_signal(&srv->pool_wake);
    pthread_mutex_unlock(&srv->pool_lock);
    return 1;
}

static void *pool_main(void *arg)
{
    ks_server *srv = arg;
    pthread_mutex_lock(&srv->pool_lock);
    for (;;) {
        while (!srv->jobs_head && !srv->pool_stopping)
            pthread_cond_wait(&srv->pool_wake, &srv->pool_lock);
        conn_state *st = srv->jobs_head;
        if (!st)
            break; /* stopping, and the queue is empty */
        srv->jobs_head = st->next_job;
        if (!srv->jobs_head)
            srv->jobs_tail = NULL;
        pthread_mutex_unlock(&srv->pool_lock);
        ks_http_route(&st->req);
        st->phase = PHASE_DONE;
        MHD_resume_connection(st->conn); /* st belongs to the worker again */
        pthread_mutex_lock(&srv->pool_lock);
    }
    pthread_mutex_unlock(&srv->pool_lock);
    return NULL;
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
    req->body = st->body ? st->body : "";
    req->body_len = st->body_len;
    int rc;
    if (st->uri_too_long || !st->uri)
        ks_http_json(req, 414, json_pack("{s:{s:s,s:s}}", "error", "code", "invalid_request",
                                         "message", "The URL is longer than 8 KiB."));
    else if (st->body_too_large)
        ks_http_error(req, KS_ERR_TOO_LARGE, NULL);
    else if ((rc = ks_http_parse_target(req, st->uri)) != KS_OK)
        ks_http_error(req, rc, rc == KS_ERR_INVALID ? "The URL is not valid (bad escape or too many parameters)." : NULL);
    else if (req->body_len > 0 &&
             !content_type_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
        ks_http_error(req, KS_ERR_MEDIA_TYPE, NULL);
    else {
        char allow[KS_HTTP_ALLOW_MAX];
        const ks_route *found = ks_http_route_find(req, allow);
        const char *route = found ? found->pattern : NULL;
        req->route_flags = found ? found->flags : 0;
        enum MHD_Result ok;
        if (found && found->handler == ks_api_verify && send_verify(srv, conn, st, route, &ok))
            return ok;
        /* Unmatched paths (404, 405, the web admin's files) answer from memory too. */
        if (found && !(found->flags & KS_ROUTE_ON_WORKER) && pool_submit(srv, st))
            return MHD_YES;
        ks_http_route(req);
    }
    return send_generic(srv, conn, st);
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
        return send_generic(cls, conn, st); /* resumed by the pool */
    if (st->phase == PHASE_QUEUED)
        return MHD_YES;
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

/* The shared 401/403 verify answers; 0 or -1 when out of memory. */
static int verify_answers_make(ks_server *srv)
{
    for (int r = KS_VERIFY_MISSING_CREDENTIALS; r < KS_VERIFY_REASONS; r++) {
        const ks_verify_reason_row *row = ks_verify_reason_row_of((ks_verify_reason)r);
        const char *body = row->failure_body;
        struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return -1;
        add_common_headers(resp, "application/json");
        if (row->http_status == 401)
            MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"keystile\"");
        srv->verify_fail[r] = resp;
    }
    return 0;
}

/* Stops the management pool once its queue is empty (every suspended
 * connection resumed), and frees what the server made; not the daemon. */
static void server_free(ks_server *srv)
{
    pthread_mutex_lock(&srv->pool_lock);
    srv->pool_stopping = 1;
    pthread_cond_broadcast(&srv->pool_wake);
    pthread_mutex_unlock(&srv->pool_lock);
    for (int i = 0; i < srv->n_pool; i++)
        pthread_join(srv->pool[i], NULL);
    srv->n_pool = 0;
    for (size_t i = 0; i < sizeof srv->verify_fail / sizeof *srv->verify_fail; i++)
        if (srv->verify_fail[i])
            MHD_destroy_response(srv->verify_fail[i]);
    pthread_mutex_destroy(&srv->pool_lock);
    pthread_cond_destroy(&srv->pool_wake);
    free(srv);
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
    pthread_mutex_init(&srv->pool_lock, NULL);
    pthread_cond_init(&srv->pool_wake, NULL);
    if (verify_answers_make(srv) != 0) {
        snprintf(err, errlen, "out of memory");
        server_free(srv);
        return NULL;
    }
    for (; srv->n_pool < POOL_THREADS; srv->n_pool++)
        if (pthread_create(&srv->pool[srv->n_pool], NULL, pool_main, srv) != 0)
            break; /* fewer threads; with none, management calls run on the workers */
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
        flags, 0, NULL, NULL, on_request, srv,
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
    pthread_mutex_lock(&srv->pool_lock);
    srv->pool_stopping = 1;
    pthread_cond_broadcast(&srv->pool_wake);
    pthread_mutex_unlock(&srv->pool_lock);
    for (int i = 0; i < srv->n_pool; i++)
        pthread_join(srv->pool[i], NULL);
    srv->n_pool = 0;
    MHD_stop_daemon(daemon);
    server_free(srv);
}
