/*
 * server_internal.h - what the parts of the HTTP server share: the state of
 * a connection and of the server, and the sending helpers of server.c. Not
 * for use outside server.c and verify_send.c.
 */
#ifndef KS_HTTP_SERVER_INTERNAL_H
#define KS_HTTP_SERVER_INTERNAL_H

#include "core/fail_throttle.h"
#include "core/netaddr.h"
#include "http/api_verify.h"
#include "http/conn_guard.h"
#include "http/http.h"
#include "http/server.h"
#include "http/worker_pool.h"

#include <stdatomic.h>

#define URI_INLINE 512       /* longer request targets are copied to the heap */
#define VERIFY_BODY_INLINE 1024
/* The headers of a 200 verify answer that change from one to the next,
 * in the answer's order (verify_send.c): Date, X-Keystile-Key,
 * X-Keystile-Account, and for a rate-limited key X-RateLimit-Limit,
 * -Remaining and -Reset. */
#define VERIFY_HEADERS 6
#define VERIFY_HEADER_MAX (KS_KEY_ID_MAX + 1)
#define KS_RETRY_AFTER_MAX 120 /* the longest Retry-After (core/fail_throttle.h) */

enum { PHASE_READING = 0, PHASE_QUEUED, PHASE_DONE };

typedef struct conn_state {
    ks_pool_job job;             /* handing the request to the management pool */
    ks_conn_entry guard;         /* header deadline and per-address count (conn_guard.h) */
    struct MHD_Connection *conn;
    /* the request in progress (reset by request_reset) */
    int clean;                   /* reset since the last request began */
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
    /* the connection's 200 verify response, reused (see verify_send.c
     * verify_ok_response); its body is verify_ok_body, and have[h] is the
     * value of its header h (VERIFY_H_*) */
    struct MHD_Response *verify_ok;
    size_t verify_ok_len;
    int verify_ok_rated;         /* it has the X-RateLimit-* headers */
    time_t verify_ok_second;     /* the second its Date header names */
    char verify_ok_body[VERIFY_BODY_INLINE];
    char verify_ok_have[VERIFY_HEADERS][VERIFY_HEADER_MAX];
    char *verify_ok_value[VERIFY_HEADERS]; /* where verify_ok keeps each value, NULL until looked up */
} conn_state;

struct ks_server {
    struct MHD_Daemon *daemon;
    ks_service *svc;
    int access_log; /* KS_ACCESS_LOG_* */
    const char *public_url;
    int tls;
    struct ks_oidc *oidc;        /* single sign-on, NULL when off (not owned) */
    struct ks_resource_map_live *resource_map; /* serve --resource-map, NULL when none (not owned) */
    struct ks_github_keys_live *github_keys;   /* serve --github-keys, NULL when off (not owned) */
    const ks_route *verify_get;  /* the route table's GET and POST /api/v1/verify */
    const ks_route *verify_post;
    struct MHD_Response *verify_fail[KS_VERIFY_REASONS]; /* shared 401/403 answers */
    _Atomic(struct MHD_Response *) rate_limited[KS_RETRY_AFTER_MAX + 1]; /* shared 429s by Retry-After,
                                                                         made on first use */
    ks_worker_pool pool;         /* management calls (worker_pool.h) */
    ks_conn_guard *guard;        /* header deadline, per-address cap (conn_guard.h) */
    ks_fail_throttle *throttle;  /* failed credentials per client address; NULL = off */
    ks_cidr *trusted;            /* --trusted-proxy ranges (X-Forwarded-For is read from them) */
    size_t n_trusted;
};

/* Adds the headers every answer carries (and the content type, if any). */
void ks_server_common_headers(struct MHD_Response *r, const char *content_type);
/* Logs an answered request as the server's access_log setting says. */
void ks_server_log_request(const ks_server *srv, const char *method, const char *route, int status,
                           const conn_state *st);
/* Sends the response a handler left in st->req (500 when it left none). */
enum MHD_Result ks_server_send_generic(ks_server *srv, struct MHD_Connection *conn, conn_state *st);

/* ---- client_address.c ---- */
/* The client address of conn: its peer, or behind trusted proxies the
 * X-Forwarded-For hop forwarded_for.h finds. */
void ks_server_client_netaddr(const ks_server *srv, struct MHD_Connection *conn, ks_netaddr *out);
/* Counts a failed credential of conn's client address: 0 when within the
 * limit, else the seconds to wait (answer 429 with Retry-After). */
int ks_server_failed_credential(ks_server *srv, struct MHD_Connection *conn);

/* ---- verify_send.c ---- */
/* The verify hot path. 0 when the request needs the generic handler (a
 * Bearer login token), else 1 with the result of queueing in *ok. */
int ks_server_send_verify(ks_server *srv, struct MHD_Connection *conn, conn_state *st, const char *route,
                          enum MHD_Result *ok);
/* Makes the shared failed-verify answers (one per reason, verify.h's table);
 * 0, or -1 when out of memory (free what was made with the next call). */
int ks_server_verify_answers_make(ks_server *srv);
void ks_server_verify_answers_free(ks_server *srv);

#endif
