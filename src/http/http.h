/*
 * http.h - the HTTP layer's shared types: one request, its response, and the
 * handler signature. The server (server.c) fills a ks_http_request from
 * libmicrohttpd, the router (router.c) picks a handler (api_*.c), the handler
 * fills the response, and the server sends it.
 *
 * Limits: body 64 KiB (413), URL 8 KiB (414), 16 path segments, 32 query
 * parameters, header block bounded by libmicrohttpd's connection memory.
 */
#ifndef KS_HTTP_HTTP_H
#define KS_HTTP_HTTP_H

#include "service/people.h"
#include "service/service.h"
#include "verify/verify.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#define KS_HTTP_BODY_MAX (64 * 1024)
#define KS_HTTP_URL_MAX (8 * 1024)
#define KS_HTTP_SEGMENTS_MAX 16
#define KS_HTTP_PARAMS_MAX 32
#define KS_HTTP_HEADERS_MAX 6
#define KS_HTTP_ADDRESS_MAX 46 /* INET6_ADDRSTRLEN */

typedef struct ks_server ks_server;

typedef struct {
    const char *name;
    char *value;
} ks_http_param;

typedef struct {
    int status;                         /* HTTP status */
    json_t *body;                       /* JSON body (owned), NULL = empty */
    const char *content_type;           /* for raw bodies; NULL = JSON */
    char *raw;                          /* raw body (owned), instead of JSON */
    size_t raw_len;
    int secret_body;                    /* body holds a token: wipe when sent */
    const char *header_names[KS_HTTP_HEADERS_MAX];
    char *header_values[KS_HTTP_HEADERS_MAX]; /* owned */
    size_t n_headers;
} ks_http_response;

typedef struct {
    ks_server *server;
    ks_service *svc;
    struct MHD_Connection *conn;
    const char *method;
    char *segments[KS_HTTP_SEGMENTS_MAX]; /* decoded path segments */
    size_t n_segments;
    ks_http_param params[KS_HTTP_PARAMS_MAX];
    size_t n_params;
    const char *body;                   /* NUL-terminated, body_len bytes */
    size_t body_len;
    const char *route;                  /* route pattern, for logs and metrics */
    unsigned route_flags;               /* the route's KS_ROUTE_*, 0 when none matched */
    const char *server_public_url;      /* --public-url, for links; NULL = from Host */
    int tls;                            /* served over HTTPS */
    struct ks_oidc *oidc;               /* single sign-on (serve --oidc-*), NULL when off */
    /* Set by the router before a management handler runs (authorize.c): the
     * caller as verify saw it in the path's account (freed after the
     * handler), and the actor that its audit entries name. */
    ks_verify_result caller;
    ks_actor who;
    int64_t person_id;                  /* the caller is a person signed in (auth.c), else 0 */
    char actor[KS_ACTOR_MAX];           /* audit actor of a person ("user:<email>"); "" for a key */
    const char *auth_via;               /* how the caller authenticated (set by auth.c):
                                           "token", "session" or "login"; NULL = not yet */
    char client_address[KS_HTTP_ADDRESS_MAX]; /* peer address without port; "" until
                                           ks_http_client_address() read it */
    ks_http_response res;
} ks_http_request;

/* A route handler: fills req->res. Errors go through ks_http_error(). */
typedef void (*ks_http_handler)(ks_http_request *req);

/* Who may call a route. Every route has a rule (a test fails otherwise):
 * PUBLIC routes check what they need themselves (verify, sign-in, share
 * links); MANAGEMENT routes (/api/v1/accounts/{a}/...) are authorised by
 * the router before their handler runs: the caller needs `resource` (or
 * `alt_resource`) in account {a}, and then every delegation check in
 * `checks` (API.md "Delegation"). */
typedef enum {
    KS_ACCESS_UNSET = 0,  /* no rule: refused, and the route table test fails */
    KS_ACCESS_PUBLIC,
    KS_ACCESS_MANAGEMENT,
} ks_route_access;

enum {
    /* What the request gives: its management resources must be the caller's. */
    KS_CHECK_GRANTS_ROLES = 1 << 0,     /* body "roles": role names of the account */
    KS_CHECK_GRANTS_RESOURCES = 1 << 1, /* body "resources": a role's resources */
    /* What the request acts on (path segment 5): its authority in the
     * account must be a subset of the caller's. */
    KS_CHECK_TARGET_KEY = 1 << 2,       /* a generated key of the account */
    KS_CHECK_TARGET_GRANT = 1 << 3,     /* an external key's grant here */
    KS_CHECK_TARGET_ROLE = 1 << 4,      /* a role of the account */
    KS_CHECK_TARGET_PERSON = 1 << 5,    /* a member (by email) of the account */
};

typedef struct {
    ks_route_access access;
    const char *resource;      /* MANAGEMENT: needed in the path's account */
    const char *alt_resource;  /* or this one; NULL = none */
    unsigned checks;           /* KS_CHECK_* */
} ks_route_rule;

/* How the server runs a route (server.c). */
enum {
    KS_ROUTE_HOT = 1 << 0,       /* counted in /metrics, no access log line by default */
    KS_ROUTE_ON_WORKER = 1 << 1, /* answers from memory: runs on the MHD worker thread,
                                    never handed to the management pool */
};

typedef struct {
    const char *method;
    const char *pattern;       /* "*" matches one non-empty segment */
    ks_http_handler handler;
    ks_route_rule rule;
    unsigned flags;            /* KS_ROUTE_* */
} ks_route;

/* The "*" segments of the patterns, by name: the value is the segment's
 * position in /api/v1/accounts/{account}/<collection>/{target}/... and in
 * /share/{share_id}. */
typedef enum {
    KS_PARAM_SHARE_ID = 1,
    KS_PARAM_ACCOUNT = 3,
    KS_PARAM_TARGET = 5, /* the key, external key, role or person (email) acted on */
} ks_path_param;

/* The audit actor of the authenticated caller: "user:<email>" for a
 * person, else the key id (authorize.c). */
const char *ks_http_caller_actor(const ks_http_request *req);

/* ---- response.c ---- */
/* Sets a JSON response (steals `body`). */
void ks_http_json(ks_http_request *req, int status, json_t *body);
/* Sets the API error body of code err; message NULL = the table's default. */
void ks_http_error(ks_http_request *req, int err, const char *message);
/* printf-style message variant of ks_http_error. */
void ks_http_errorf(ks_http_request *req, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sends 200 {"items": items, "next_cursor": null or "<next>"} (steals
 * items): a page of a list, next = 0 on the last page. */
void ks_http_page(ks_http_request *req, json_t *items, int64_t next);
/* Adds a response header (value copied). */
void ks_http_header(ks_http_request *req, const char *name, const char *value);
/* Frees what the response owns (wiping secret bodies). */
void ks_http_response_free(ks_http_response *res);
/* Makes jansson wipe every buffer it frees (tokens pass through it). */
void ks_http_json_use_wiping_allocator(void);

/* ---- router.c ---- */
#define KS_HTTP_ALLOW_MAX 64
/* The route table (for tests and tools); *n receives its length. */
const ks_route *ks_http_routes(size_t *n);
/* The route for req's method and segments, or NULL with the methods the
 * path does allow in `allow` ("" when no route matches). */
const ks_route *ks_http_route_find(const ks_http_request *req, char allow[KS_HTTP_ALLOW_MAX]);
/* Runs the route for req's method and path (authorised by its rule first),
 * or sets 404 / 405. */
void ks_http_route(ks_http_request *req);

/* ---- authorize.c ---- */
/* Applies `rule` to req: for a MANAGEMENT route authenticates the caller,
 * checks the route's resource in the path's account and every delegation
 * check of the rule, filling req->caller and req->who. 1 when the handler
 * may run; else 0 with the 401 / 403 (naming the first missing resource) or
 * store error set, and nothing changed. */
__attribute__((warn_unused_result))
int ks_http_route_authorize(ks_http_request *req, const ks_route_rule *rule);

/* ---- request helpers (request.c) ---- */
/* Splits the raw request target (modified in place, must outlive req) into
 * percent-decoded path segments and query parameters ('+' is a space).
 * KS_ERR_INVALID for a bad escape or a decoded NUL, too many parameters or
 * no leading '/'; KS_ERR_NOT_FOUND for too many segments. */
int ks_http_parse_target(ks_http_request *req, char *uri);
/* The decoded path segment named p, or NULL when the path is shorter. */
const char *ks_http_path_param(const ks_http_request *req, ks_path_param p);
/* ks_http_path_param of KS_PARAM_ACCOUNT and of KS_PARAM_TARGET. */
const char *ks_http_account(const ks_http_request *req);
const char *ks_http_target(const ks_http_request *req);
/* Value of query parameter `name`, or NULL. */
const char *ks_http_param_get(const ks_http_request *req, const char *name);
/* A request header, or NULL. */
const char *ks_http_header_get(const ks_http_request *req, const char *name);
/* Integer query parameter in [min, max], def when absent. 0 ok, -1 after a 400. */
int ks_http_param_int(ks_http_request *req, const char *name, long min, long max, long def, long *out);
/* The client address as text (IPv4, or IPv6; an IPv4-mapped IPv6 address
 * is shown as IPv4), without the port: the connection's peer, or, when the
 * peer is in a --trusted-proxy range, the last X-Forwarded-For hop outside
 * the trusted ranges (client_address.c); read once into
 * req->client_address. "" when unknown (no connection, a Unix socket). */
const char *ks_http_client_address(ks_http_request *req);
/* The same address parsed (family 0 when unknown), read again each call:
 * nothing is formatted (the verify fast path asks for it only for keys
 * with limits). */
void ks_http_client_netaddr(ks_http_request *req, ks_netaddr *out);
/* Counts a failed credential (a wrong key, token, session or share link)
 * against the client address (API.md "Abuse limits"). 0 when the address
 * is within --failed-auth-limit; else 1 after setting 429 rate_limited with
 * Retry-After: answer that instead of the failure (and audit nothing). */
__attribute__((warn_unused_result))
int ks_http_failed_credential(ks_http_request *req);
/* The same count, returning the seconds to wait (0: within the limit)
 * without setting a response: for answers of their own shape (verify). */
int ks_http_failed_credential_wait(ks_http_request *req);
/* Fills *who for a management action: actor and account as given, via and
 * address from the request (req->auth_via, NULL = "system"; the client
 * address, NULL when unknown). who points into req: use it while req lives.
 * The router fills req->who with it (authorize.c); public routes that audit
 * (sign-in, login, share links) call it, or ks_http_audit_event, themselves. */
void ks_http_actor_init(ks_http_request *req, ks_actor *who, const char *actor, const char *account);
/* Audits an event that changes nothing else (ks_service_audit_event) with
 * detail {}, actor and account as given and via and address from req;
 * skipped when the account does not exist, logged when the write fails
 * (the request goes on either way). */
void ks_http_audit_event(ks_http_request *req, const char *actor, const char *account, const char *action,
                         const char *target);
/* The list cursor `cursor` (a next_cursor given back): 0 when absent or
 * empty, else a positive integer. 0 ok, -1 after a 400. */
int ks_http_param_cursor(ks_http_request *req, int64_t *out);
/* Query parameter that must be one of `choices` (NULL-terminated): index, or
 * def when absent; -2 after a 400. */
int ks_http_param_enum(ks_http_request *req, const char *name, const char *const *choices, int def);

#endif
