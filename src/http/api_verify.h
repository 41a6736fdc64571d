/*
 * api_verify.h - the verify answer without the generic response machinery,
 * for the server's hot path (server.c): no JSON library, no allocation
 * unless the body outgrows the caller's buffer.
 *
 * The answer to a credential in X-API-Key / X-API-Token or HTTP Basic is
 * computed here; a Bearer login token is left to the ks_api_verify handler
 * (status 0), which answers every kind. Both give byte-identical bodies.
 */
#ifndef KS_HTTP_API_VERIFY_H
#define KS_HTTP_API_VERIFY_H

#include "http/http.h"
#include "verify/resource_map_live.h"
#include "verify/verify.h"

/* The message of verify's 503 when this node is stale (change_feed.h). */
#define KS_VERIFY_STALE_MESSAGE \
    "This node has not reached the database for longer than --max-staleness, so it no longer " \
    "answers verify from memory; retry on another node."

typedef struct {
    int status;                       /* the reason's status (200, 401, 403); 0: use the
                                         handler (a Bearer token, or `error` is set) */
    int error;                        /* KS_ERR_NOMEM when the check could not run,
                                         KS_ERR_STORAGE when the node is stale, else 0 */
    ks_verify_reason reason;
    const char *body;                 /* 200: the body (in buf, or in heap) */
    size_t body_len;
    char *heap;                       /* a body too large for buf (free it), else NULL */
    char key_id[KS_KEY_ID_MAX + 1];   /* 200: X-Keystile-Key */
    char account[KS_ACCOUNT_MAX + 1]; /* 200: X-Keystile-Account */
    int64_t rate_limit;               /* 200 of a rate-limited key: the X-RateLimit-* values */
    int64_t rate_remaining;           /* (rate_limit 0 for a key without one) */
    int64_t rate_reset;               /* Unix seconds when its bucket is full again */
    char rate_text[3][24];            /* the three in decimal, for the headers */
    int retry_after;                  /* 429 of the key's rate limit: seconds, >= 1 */
    time_t wall_second;               /* the real time's second the check read: a 200's Date */
} ks_verify_answer;

/* The request headers verify reads, found in one pass over the header list
 * (ks_verify_headers_read) instead of one lookup (a scan) per header; each
 * is the first header of that name, as MHD_lookup_connection_value gives,
 * or NULL. */
typedef struct {
    const char *authorization;
    const char *api_key;          /* X-API-Key */
    const char *api_token;        /* X-API-Token */
    const char *forwarded_method; /* X-Forwarded-Method, X-Forwarded-Uri (Caddy, Traefik) */
    const char *forwarded_uri;
    const char *original_method;  /* X-Original-Method, X-Original-URI (nginx) */
    const char *original_uri;
    uint64_t api_key_hash;        /* with an index: X-API-Key's ks_index_key_prefetch, else 0 */
} ks_verify_headers;

/* Reads the headers into *out. With idx (the caller inside a read section
 * of it), X-API-Key's table slot is prefetched as soon as the header is met,
 * so the memory fetch overlaps reading the rest (out->api_key_hash). */
void ks_verify_headers_read(ks_http_request *req, ks_index *idx, ks_verify_headers *out);

/* Checks req's credential for its account= and resource= parameters and
 * fills *out; records the verify metrics (not the HTTP ones). buf (cap
 * bytes) holds a 200 body when it fits. */
void ks_api_verify_answer(ks_http_request *req, char *buf, size_t cap, ks_verify_answer *out);

/* The resource the verify call req needs (verify_resource.c): `resource=`
 * when given, else the resource map's answer for the forwarded method and
 * URI (KS_RESOURCE_UNMAPPED when no rule matches), else none (*out NULL).
 * A mapped resource is copied into buf. KS_OK, or KS_ERR_NOMEM. */
__attribute__((warn_unused_result))
int ks_http_verify_resource(ks_http_request *req, char buf[KS_RESOURCE_MAX + 1], const char **out);
/* The same with the forwarding headers already read (h). */
__attribute__((warn_unused_result))
int ks_http_verify_resource_of(ks_http_request *req, const ks_verify_headers *h, char buf[KS_RESOURCE_MAX + 1],
                               const char **out);

#endif
