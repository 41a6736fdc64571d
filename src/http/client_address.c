/*
 * client_address.c - who the client is (the connection's peer, or behind
 * --trusted-proxy ranges the X-Forwarded-For hop that forwarded_for.h
 * finds), and the failed-credential throttle per client address
 * (core/fail_throttle.h) that auth.c, the verify fast path, sign-in, login
 * and share reveals report their failures to.
 */
#include "http/server_internal.h"
#include "core/clock.h"
#include "core/error.h"
#include "http/forwarded_for.h"
#include "metrics/metrics.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define XFF_HEADERS_MAX 8 /* X-Forwarded-For headers read; the nearest ones count */

typedef struct {
    const char *values[XFF_HEADERS_MAX];
    size_t n;
} xff_headers;

static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    xff_headers *h = cls;
    if (key && value && strcasecmp(key, "X-Forwarded-For") == 0) {
        if (h->n == XFF_HEADERS_MAX) { /* keep the last ones: the nearest proxies wrote them */
            memmove(h->values, h->values + 1, (XFF_HEADERS_MAX - 1) * sizeof *h->values);
            h->n--;
        }
        h->values[h->n++] = value;
    }
    return MHD_YES;
}

void ks_server_client_netaddr(const ks_server *srv, struct MHD_Connection *conn, ks_netaddr *out)
{
    memset(out, 0, sizeof *out);
    if (!conn)
        return;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    ks_netaddr_from_sockaddr(info ? info->client_addr : NULL, out);
    if (!srv || srv->n_trusted == 0 || !ks_cidr_list_contains(srv->trusted, srv->n_trusted, out))
        return;
    xff_headers h = {{0}, 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_xff, &h);
    ks_netaddr peer = *out;
    ks_forwarded_client(&peer, h.values, h.n, srv->trusted, srv->n_trusted, out);
}

void ks_http_client_netaddr(ks_http_request *req, ks_netaddr *out)
{
    ks_server_client_netaddr(req->server, req->conn, out);
}

const char *ks_http_client_address(ks_http_request *req)
{
    if (req->client_address[0] || !req->conn)
        return req->client_address;
    ks_netaddr a;
    ks_server_client_netaddr(req->server, req->conn, &a);
    ks_netaddr_format(&a, req->client_address, sizeof req->client_address);
    return req->client_address;
}

int ks_server_failed_credential(ks_server *srv, struct MHD_Connection *conn)
{
    if (!srv || !srv->throttle)
        return 0;
    ks_netaddr a;
    ks_server_client_netaddr(srv, conn, &a);
    int wait = ks_fail_throttle_record(srv->throttle, ks_netaddr_limit_key(&a),
                                       (int64_t)(ks_clock_monotonic() * 1000.0));
    if (wait > 0)
        ks_metrics_abuse(KS_ABUSE_RATE_LIMITED);
    return wait;
}

int ks_http_failed_credential_wait(ks_http_request *req)
{
    return ks_server_failed_credential(req->server, req->conn);
}

int ks_http_failed_credential(ks_http_request *req)
{
    int wait = ks_server_failed_credential(req->server, req->conn);
    if (wait > 0) {
        char value[16];
        snprintf(value, sizeof value, "%d", wait);
        ks_http_error(req, KS_ERR_RATE_LIMITED, NULL);
        ks_http_header(req, "Retry-After", value);
    }
    return wait > 0;
}
