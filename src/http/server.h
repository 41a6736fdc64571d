/*
 * server.h - the HTTP server: libmicrohttpd with an epoll thread pool, the
 * request size limits of http.h, one JSON log line per request (method, route,
 * status, time; never a header, a query or a body).
 */
#ifndef KS_HTTP_SERVER_H
#define KS_HTTP_SERVER_H

#include "core/netaddr.h"
#include "service/service.h"

typedef struct ks_server ks_server;

/* Which requests get an access log line: management calls only (verify,
 * /healthz and /metrics are counted in /metrics instead), all, or none. */
enum { KS_ACCESS_LOG_MANAGEMENT = 0, KS_ACCESS_LOG_ALL = 1, KS_ACCESS_LOG_NONE = 2 };

typedef struct {
    const char *listen;   /* "HOST:PORT", "[V6]:PORT" */
    int threads;          /* 0 = one per core */
    int connection_limit; /* 0 = 1024 */
    int timeout_seconds;  /* idle connection timeout, 0 = 30 */
    int access_log;       /* KS_ACCESS_LOG_* */
    const char *public_url; /* base URL for links in responses; NULL = from the Host header */
    const char *tls_cert_pem; /* PEM certificate chain; with tls_key_pem, serve HTTPS */
    const char *tls_key_pem;
    /* Abuse limits (API.md; conn_guard.h, core/fail_throttle.h) */
    int header_timeout;       /* seconds for a request's headers after its first byte; 0 = 10, -1 = none */
    int per_address;          /* connections at once per client address; 0 = 128, -1 = no cap */
    int failed_auth_limit;    /* failed credentials per minute per address; 0 = 120, -1 = off */
    const ks_cidr *trusted;   /* --trusted-proxy ranges (copied), n_trusted of them */
    size_t n_trusted;
    struct ks_oidc *oidc;   /* single sign-on (service/oidc.h), NULL = off; the caller's, kept
                               until after ks_server_stop */
    struct ks_resource_map_live *resource_map; /* serve --resource-map (verify/resource_map_live.h),
                               NULL = none; the caller's, kept until after ks_server_stop */
    struct ks_github_keys_live *github_keys; /* serve --github-keys (service/github_keys.h), NULL =
                               secret scanning off; the caller's, as resource_map */
} ks_server_options;

/* Starts serving svc. NULL on failure with a reason in err. */
ks_server *ks_server_start(ks_service *svc, const ks_server_options *opts, char *err, size_t errlen);

/* The resource map verify uses (ks_server_options), NULL when none. */
struct ks_resource_map_live *ks_server_resource_map(const ks_server *srv);
/* The GitHub secret scanning keys (ks_server_options), NULL when off. */
struct ks_github_keys_live *ks_server_github_keys(const ks_server *srv);

/* Stops accepting, lets requests in flight finish (up to grace_ms), stops. */
void ks_server_stop(ks_server *srv, int grace_ms);

#endif
