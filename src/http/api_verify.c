/*
 * api_verify.c - GET/POST /api/v1/verify, the hot path; GET /healthz and
 * GET /metrics (Prometheus text).
 * 200 {valid:true,...} with X-Keystile-Key / X-Keystile-Account headers,
 * 401 {valid:false, reason} for bad credentials, 403 for forbidden.
 *
 * The 200 body is assembled from bytes: the key id and account names are
 * restricted to [a-z0-9-] (no escaping needed) and the roles/resources part
 * was rendered by jansson when the index entry's role set was built (see
 * index/key_index.h), so no JSON is built per request. Only a Bearer login
 * token goes through auth.c and jansson, as every management credential does.
 */
#include "http/api_verify.h"
#include "http/api.h"
#include "http/auth.h"
#include "http/key_json.h"
#include "core/clock.h"
#include "core/error.h"
#include "metrics/metrics.h"
#include "metrics/metrics_render.h"
#include "service/change_feed.h"
#include "service/heartbeat.h"
#include "service/usage.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ks_api_healthz(ks_http_request *req)
{
    /* Degraded is still 200: this node keeps verifying from memory, until
     * it has been cut off for longer than --max-staleness. */
    if (ks_change_feed_stale(req->svc, ks_clock_monotonic()))
        ks_http_json(req, 503, json_pack("{s:s, s:s}", "status", "stale", "storage", "unavailable"));
    else if (ks_change_feed_degraded(req->svc))
        ks_http_json(req, 200, json_pack("{s:s, s:s, s:i}", "status", "degraded", "storage", "unavailable", "nodes",
                                         ks_heartbeat_nodes(req->svc)));
    else
        ks_http_json(req, 200, json_pack("{s:s, s:i}", "status", "ok", "nodes", ks_heartbeat_nodes(req->svc)));
}

void ks_api_metrics(ks_http_request *req)
{
    char *text = NULL;
    size_t len = 0;
    int rc = ks_metrics_render(req->svc->index, &text, &len);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    req->res.status = 200;
    req->res.raw = text;
    req->res.raw_len = len;
    req->res.content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}
#define PUT_LITERAL(p, s) put((p), (s), sizeof(s) - 1)

/* Writes v in decimal (as printf's %lld) to out (24 bytes); its length.
 * Two digits a step: a rate-limited key's answer carries three numbers
 * (limit, remaining, reset), and a digit at a time cost about 500
 * instructions per answer (bench/verify_parts.py --limits). */
static size_t i64_text(int64_t v, char out[24])
{
    static const char PAIRS[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char tmp[20];
    size_t n = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        n -= 2;
        memcpy(tmp + n, PAIRS + 2 * r, 2);
    }
    if (u >= 10) {
        n -= 2;
        memcpy(tmp + n, PAIRS + 2 * u, 2);
    } else {
        tmp[--n] = (char)('0' + u);
    }
    size_t len = 0;
    if (v < 0)
        out[len++] = '-';
    memcpy(out + len, tmp + n, sizeof tmp - n);
    len += sizeof tmp - n;
    out[len] = '\0';
    return len;
}

/* Writes the 200 body for what the checks found (inside the read section). */
static int render_ok(const ks_verify_found *f, int64_t now, char *buf, size_t cap, ks_verify_answer *out)
{
    size_t key_len, home_len, target_len;
    const char *home = ks_index_account_name(f->key->account, &home_len);
    const char *target = ks_index_account_name(f->target, &target_len);
    key_len = f->key->key_len;
    const char *slot = f->slot == KS_SLOT_OLD ? "old" : "current";
    const char *outdated = f->outdated ? "true" : "false";
    size_t rate_len[3] = {0, 0, 0};
    size_t rate_need = 0;
    if (f->rate.limit > 0) {
        out->rate_limit = f->rate.limit;
        out->rate_remaining = f->rate.remaining;
        out->rate_reset = now + ks_rate_ceil_seconds(f->rate.full_in);
        rate_len[0] = i64_text(out->rate_limit, out->rate_text[0]);
        rate_len[1] = i64_text(out->rate_remaining, out->rate_text[1]);
        rate_len[2] = i64_text(out->rate_reset, out->rate_text[2]);
        rate_need = sizeof ",\"rate_limit\":{\"limit\":,\"remaining\":,\"reset\":}" - 1 + rate_len[0] + rate_len[1] +
                    rate_len[2];
    }
    size_t need = sizeof "{\"valid\":true,\"key\":\"\",\"account\":\"\",\"target_account\":\"\",\"token\":\"\","
                         ",\"outdated\":}" + key_len + home_len + target_len + strlen(slot) +
                  f->view->json_len + strlen(outdated) + rate_need;
    char *p = buf;
    if (need > cap) {
        if (!(out->heap = malloc(need)))
            return KS_ERR_NOMEM;
        p = out->heap;
    }
    out->body = p;
    p = PUT_LITERAL(p, "{\"valid\":true,\"key\":\"");
    p = put(p, f->key->key_id, key_len);
    p = PUT_LITERAL(p, "\",\"account\":\"");
    p = put(p, home, home_len);
    p = PUT_LITERAL(p, "\",\"target_account\":\"");
    p = put(p, target, target_len);
    p = PUT_LITERAL(p, "\",\"token\":\"");
    p = put(p, slot, strlen(slot));
    p = PUT_LITERAL(p, "\",");
    p = put(p, f->view->json, f->view->json_len);
    p = PUT_LITERAL(p, ",\"outdated\":");
    p = put(p, outdated, strlen(outdated));
    if (rate_need) {
        p = PUT_LITERAL(p, ",\"rate_limit\":{\"limit\":");
        p = put(p, out->rate_text[0], rate_len[0]);
        p = PUT_LITERAL(p, ",\"remaining\":");
        p = put(p, out->rate_text[1], rate_len[1]);
        p = PUT_LITERAL(p, ",\"reset\":");
        p = put(p, out->rate_text[2], rate_len[2]);
        p = PUT_LITERAL(p, "}");
    }
    p = PUT_LITERAL(p, "}");
    out->body_len = (size_t)(p - out->body);
    memcpy(out->key_id, f->key->key_id, key_len);
    out->key_id[key_len] = '\0';
    memcpy(out->account, home, home_len);
    out->account[home_len] = '\0';
    return KS_OK;
}

/* The caller's address for a key's limits (ks_verify_request.client). */
static void client_address(void *ctx, ks_netaddr *out)
{
    ks_http_request *req = ctx;
    ks_http_client_netaddr(req, out);
}

/* The check and the rendering for one key + token credential (inside the
 * caller's read section of the index). */
static void answer_credential(ks_http_request *req, const ks_verify_request *vreq, char *buf, size_t cap,
                              ks_verify_answer *out)
{
    ks_index *idx = req->svc->index;
    ks_verify_found found;
    struct timespec wall; /* one clock read: the check's now and the answer's Date */
    ks_clock_wall(&wall);
    out->wall_second = wall.tv_sec;
    int64_t now = ks_clock_now_at(&wall);
    ks_verify_token_in(idx, &req->svc->token_hasher, vreq, now, &found);
    out->reason = found.reason;
    if (found.key) /* a known key: counted by outcome (service/usage.h) */
        ks_usage_count_verify(req->svc, found.key, ks_usage_outcome_of(found.reason), now);
    if (found.reason == KS_VERIFY_OK)
        out->error = render_ok(&found, now, buf, cap, out);
    else if (found.reason == KS_VERIFY_RATE_LIMITED) {
        int64_t wait = ks_rate_ceil_seconds(found.rate.retry_in);
        out->retry_after = wait > 0 ? (int)wait : 1;
    }
    if (!out->error)
        out->status = ks_verify_reason_row_of(out->reason)->http_status;
}

/* What ks_verify_headers_read collects into, and the index to prefetch from. */
typedef struct {
    ks_verify_headers *h;
    ks_index *idx;
} headers_reading;

/* One header of the list: kept in *h when verify reads it and it is the
 * first of its name. Names are compared by length first (the common
 * headers of a request, Host, User-Agent, Accept, cost a length test). */
static enum MHD_Result header_seen(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_len,
                                   const char *value, size_t value_len)
{
    (void)kind;
    (void)value_len;
    headers_reading *r = cls;
    ks_verify_headers *h = r->h;
    const char **slot = NULL;
    switch (key_len) {
    case 9: /* X-API-Key */
        if (strcasecmp(key, "X-API-Key") == 0) {
            slot = &h->api_key;
            size_t len = strnlen(value, KS_KEY_ID_MAX + 1); /* as verify measures it */
            if (!*slot && r->idx && len > 0 && len <= KS_KEY_ID_MAX)
                h->api_key_hash = ks_index_key_prefetch(r->idx, value, len);
        }
        break;
    case 11: /* X-API-Token */
        if (strcasecmp(key, "X-API-Token") == 0)
            slot = &h->api_token;
        break;
    case 13: /* Authorization */
        if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
            slot = &h->authorization;
        break;
    case 14: /* X-Original-URI */
        if (strcasecmp(key, "X-Original-URI") == 0)
            slot = &h->original_uri;
        break;
    case 15: /* X-Forwarded-Uri */
        if (strcasecmp(key, "X-Forwarded-Uri") == 0)
            slot = &h->forwarded_uri;
        break;
    case 17: /* X-Original-Method */
        if (strcasecmp(key, "X-Original-Method") == 0)
            slot = &h->original_method;
        break;
    case 18: /* X-Forwarded-Method */
        if (strcasecmp(key, "X-Forwarded-Method") == 0)
            slot = &h->forwarded_method;
        break;
    default:
        break;
    }
    if (slot && !*slot)
        *slot = value;
    return MHD_YES;
}

void ks_verify_headers_read(ks_http_request *req, ks_index *idx, ks_verify_headers *out)
{
    memset(out, 0, sizeof *out);
    headers_reading r = {out, idx};
    if (req->conn)
        MHD_get_connection_values_n(req->conn, MHD_HEADER_KIND, header_seen, &r);
}

void ks_api_verify_answer(ks_http_request *req, char *buf, size_t cap, ks_verify_answer *out)
{
    memset(out, 0, sizeof *out);
    double t0 = ks_clock_monotonic(); /* the staleness check's now, and the histogram's start */
    if (ks_change_feed_stale(req->svc, t0)) {
        out->error = KS_ERR_STORAGE; /* cut off too long: memory may miss revocations */
        return;
    }
    /* One read section from the headers on: the key's table slot is
     * fetched while the rest is read (ks_verify_headers_read). */
    ks_index *idx = req->svc->index;
    if (ks_index_read_lock(idx) != 0) {
        out->error = KS_ERR_NOMEM;
        return;
    }
    ks_verify_headers h;
    ks_verify_headers_read(req, idx, &h);
    if (h.authorization && strncasecmp(h.authorization, "Bearer ", 7) == 0) {
        ks_index_read_unlock(idx);
        return; /* status 0: the handler checks login tokens */
    }
    const char *target = ks_http_param_get(req, "account");
    char mapped[KS_RESOURCE_MAX + 1];
    const char *resource;
    if ((out->error = ks_http_verify_resource_of(req, &h, mapped, &resource)) != KS_OK) {
        ks_index_read_unlock(idx);
        return;
    }
    ks_verify_request vreq = {NULL, NULL, 0, target && *target ? target : NULL, resource, client_address, req,
                              (int64_t)(t0 * 1e9), 0}; /* the bucket's arrival time: no second clock read */
    /* As ks_credentials_read: both API headers, else HTTP Basic. */
    if (h.api_key && h.api_token) {
        vreq.key = h.api_key;
        vreq.token = h.api_token;
        vreq.token_len = strnlen(h.api_token, KS_TOKEN_LEN + 1);
        vreq.key_hash = h.api_key_hash;
        answer_credential(req, &vreq, buf, cap, out);
    } else {
        char *pass = NULL;
        char *user = MHD_basic_auth_get_username_password(req->conn, &pass);
        if (user && pass) {
            vreq.key = user;
            vreq.token = pass;
            vreq.token_len = strnlen(pass, KS_TOKEN_LEN + 1);
        }
        answer_credential(req, &vreq, buf, cap, out);
        if (pass) {
            sodium_memzero(pass, strlen(pass));
            MHD_free(pass);
        }
        if (user)
            MHD_free(user);
    }
    ks_index_read_unlock(idx);
    if (!out->error)
        ks_metrics_verify(out->reason, ks_clock_monotonic() - t0);
}

/* When reason is a failed credential and the client address is past its
 * limit: sets 429 rate_limited (the verify body, with Retry-After) and
 * returns 1. */
static int answer_throttled(ks_http_request *req, ks_verify_reason reason)
{
    if (!ks_verify_reason_row_of(reason)->failed_credential)
        return 0;
    int wait = ks_http_failed_credential_wait(req);
    if (wait <= 0)
        return 0;
    const char *body = ks_verify_reason_row_of(KS_VERIFY_RATE_LIMITED)->failure_body;
    char value[16];
    snprintf(value, sizeof value, "%d", wait);
    ks_http_json(req, 429, json_loads(body, 0, NULL));
    ks_http_header(req, "Retry-After", value);
    return 1;
}

/* The generic handler: a Bearer login token here, any credential when the
 * route is called other than through the server's hot path. */
void ks_api_verify(ks_http_request *req)
{
    char buf[1024];
    ks_verify_answer a;
    ks_api_verify_answer(req, buf, sizeof buf, &a);
    if (a.error) {
        ks_http_error(req, a.error, a.error == KS_ERR_STORAGE ? KS_VERIFY_STALE_MESSAGE : NULL);
        return;
    }
    if (a.status != 0 && a.status != 200 && answer_throttled(req, a.reason)) {
        free(a.heap);
        return;
    }
    if (a.status != 0) {
        const char *body = a.status == 200 ? a.body : ks_verify_reason_row_of(a.reason)->failure_body;
        size_t len = a.status == 200 ? a.body_len : strlen(body);
        if (!(req->res.raw = malloc(len ? len : 1))) {
            free(a.heap);
            ks_http_error(req, KS_ERR_NOMEM, NULL);
            return;
        }
        memcpy(req->res.raw, body, len);
        req->res.raw_len = len;
        req->res.status = a.status;
        req->res.content_type = "application/json";
        free(a.heap);
        if (a.status == 200) {
            ks_http_header(req, "X-Keystile-Key", a.key_id);
            ks_http_header(req, "X-Keystile-Account", a.account);
            if (a.rate_limit > 0) {
                ks_http_header(req, "X-RateLimit-Limit", a.rate_text[0]);
                ks_http_header(req, "X-RateLimit-Remaining", a.rate_text[1]);
                ks_http_header(req, "X-RateLimit-Reset", a.rate_text[2]);
            }
        } else if (a.status == 429) {
            char v[16];
            snprintf(v, sizeof v, "%d", a.retry_after > 0 ? a.retry_after : 1);
            ks_http_header(req, "Retry-After", v);
        } else if (a.status == 401) {
            ks_http_header(req, "WWW-Authenticate", "Basic realm=\"keystile\"");
        }
        return;
    }
    const char *target = ks_http_param_get(req, "account");
    char mapped[KS_RESOURCE_MAX + 1];
    const char *resource;
    int rc = ks_http_verify_resource(req, mapped, &resource);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    ks_verify_result res;
    double t0 = ks_clock_monotonic();
    rc = ks_http_verify_credentials(req, target && *target ? target : NULL, resource, &res);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    ks_metrics_verify(res.reason, ks_clock_monotonic() - t0);
    if (res.reason == KS_VERIFY_OK) {
        ks_http_json(req, 200, json_pack("{s:b, s:s, s:s, s:s, s:s, s:o, s:o, s:b}",
                                         "valid", 1, "key", res.key_id, "account", res.account,
                                         "target_account", res.target_account,
                                         "token", ks_slot_name(res.slot),
                                         "roles", ks_strlist_to_json(&res.roles),
                                         "resources", ks_strlist_to_json(&res.resources),
                                         "outdated", res.outdated));
        ks_http_header(req, "X-Keystile-Key", res.key_id);
        ks_http_header(req, "X-Keystile-Account", res.account);
    } else if (!answer_throttled(req, res.reason)) {
        int status = ks_verify_reason_row_of(res.reason)->http_status;
        ks_http_json(req, status, json_pack("{s:b, s:s}", "valid", 0, "reason",
                                            ks_verify_reason_name(res.reason)));
        if (status == 401)
            ks_http_header(req, "WWW-Authenticate", "Basic realm=\"keystile\"");
    }
    ks_verify_result_free(&res);
}
