/*
 * verify_send.c - the server's verify fast path (see server.c): answers
 * from api_verify.h sent without the generic response path. Failed answers
 * are libmicrohttpd responses made once at start (one per reason) and
 * shared; a 200 body is written into the connection's buffer and sent from
 * there, with the connection's reused response object.
 */
#include "http/server_internal.h"
#include "core/error.h"
#include "core/clock.h"
#include "metrics/metrics.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Sets header `name` of r from `have` to `want` (kept in have, cap bytes;
 * *value: where r keeps the header's bytes, NULL when unknown). A value of
 * the same length (key ids and account names of one shape) is overwritten
 * where libmicrohttpd keeps it, the copy MHD_get_response_header points
 * to: no allocation, and the header keeps its place in the answer.
 * libmicrohttpd keeps nothing about a value but its bytes and length, and
 * the connection's previous answer is sent by now. Another length: the
 * header is deleted and added again. 0 when a header could not be changed:
 * then r must not be used again. */
static int header_set(struct MHD_Response *r, const char *name, char *have, size_t cap, char **value,
                      const char *want)
{
    if (strcmp(have, want) == 0)
        return 1;
    size_t n = strlen(want);
    if (!*value)
        *value = (char *)MHD_get_response_header(r, name);
    if (*value && n < cap && strlen(have) == n && strcmp(*value, have) == 0) {
        memcpy(*value, want, n);
        memcpy(have, want, n);
        return 1;
    }
    *value = NULL;
    if (MHD_del_response_header(r, name, have) != MHD_YES || MHD_add_response_header(r, name, want) != MHD_YES)
        return 0;
    snprintf(have, cap, "%s", want);
    return 1;
}

/* The Date header of this second, as libmicrohttpd writes its own
 * ("Sat, 05 Dec 2026 02:48:02 GMT", RFC 9110 IMF-fixdate): formatted once
 * a second per thread instead of by libmicrohttpd for every answer (its
 * gmtime_r takes the time zone lock). A response that carries a Date
 * header gets no other. */
static void two_digits(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

static const char *date_now(time_t *second)
{
    static const char DAYS[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char MONTHS[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static _Thread_local struct {
        time_t second;
        char text[sizeof "Sat, 05 Dec 2026 02:48:02 GMT"];
    } cache;
    struct timespec ts;
    ks_clock_wall(&ts);
    *second = ts.tv_sec;
    if (ts.tv_sec != cache.second || !cache.text[0]) {
        struct tm tm;
        int year;
        if (!gmtime_r(&ts.tv_sec, &tm) || (year = tm.tm_year + 1900) < 1000 || year > 9999 ||
            tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11)
            return NULL; /* libmicrohttpd writes its own */
        char *p = cache.text;
        memcpy(p, DAYS[tm.tm_wday], 3);
        memcpy(p + 3, ", ", 2);
        two_digits(p + 5, tm.tm_mday);
        p[7] = ' ';
        memcpy(p + 8, MONTHS[tm.tm_mon], 3);
        p[11] = ' ';
        two_digits(p + 12, year / 100);
        two_digits(p + 14, year % 100);
        p[16] = ' ';
        two_digits(p + 17, tm.tm_hour);
        p[19] = ':';
        two_digits(p + 20, tm.tm_min);
        p[22] = ':';
        two_digits(p + 23, tm.tm_sec);
        memcpy(p + 25, " GMT", 5);
        cache.second = ts.tv_sec;
    }
    return cache.text;
}

/* The 200 answer of a rate-limited key: its X-RateLimit-* headers change
 * with every answer, so it is a response of its own, never kept. */
static struct MHD_Response *verify_ok_rated(const ks_verify_answer *a, int *owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(a->body_len, (void *)a->body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return NULL;
    char limit[24], remaining[24], reset[24];
    snprintf(limit, sizeof limit, "%lld", (long long)a->rate_limit);
    snprintf(remaining, sizeof remaining, "%lld", (long long)a->rate_remaining);
    snprintf(reset, sizeof reset, "%lld", (long long)a->rate_reset);
    ks_server_common_headers(r, "application/json");
    if (MHD_add_response_header(r, "X-Keystile-Key", a->key_id) != MHD_YES ||
        MHD_add_response_header(r, "X-Keystile-Account", a->account) != MHD_YES ||
        MHD_add_response_header(r, "X-RateLimit-Limit", limit) != MHD_YES ||
        MHD_add_response_header(r, "X-RateLimit-Remaining", remaining) != MHD_YES ||
        MHD_add_response_header(r, "X-RateLimit-Reset", reset) != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    *owned = 1;
    return r;
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
    if (a->rate_limit > 0)
        return verify_ok_rated(a, owned);
    time_t second;
    const char *date = date_now(&second);
    if (st->verify_ok && st->verify_ok_len == a->body_len && date &&
        (second == st->verify_ok_second ||
         header_set(st->verify_ok, MHD_HTTP_HEADER_DATE, st->verify_ok_date, sizeof st->verify_ok_date,
                    &st->verify_ok_date_value, date))) {
        st->verify_ok_second = second;
        if (memcmp(st->verify_ok_body, a->body, a->body_len) == 0)
            return st->verify_ok;
        if (header_set(st->verify_ok, "X-Keystile-Key", st->verify_ok_key, sizeof st->verify_ok_key,
                       &st->verify_ok_key_value, a->key_id) &&
            header_set(st->verify_ok, "X-Keystile-Account", st->verify_ok_account, sizeof st->verify_ok_account,
                       &st->verify_ok_account_value, a->account)) {
            memcpy(st->verify_ok_body, a->body, a->body_len);
            return st->verify_ok;
        }
    }
    const char *body = a->body;
    int keep = a->body_len <= sizeof st->verify_ok_body && date;
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
    /* The Date header first, where libmicrohttpd puts its own. */
    if (keep && MHD_add_response_header(r, MHD_HTTP_HEADER_DATE, date) != MHD_YES)
        keep = 0;
    ks_server_common_headers(r, "application/json");
    MHD_add_response_header(r, "X-Keystile-Key", a->key_id);
    MHD_add_response_header(r, "X-Keystile-Account", a->account);
    if (keep) {
        st->verify_ok = r;
        st->verify_ok_len = a->body_len;
        snprintf(st->verify_ok_date, sizeof st->verify_ok_date, "%s", date);
        st->verify_ok_second = second;
        snprintf(st->verify_ok_key, sizeof st->verify_ok_key, "%s", a->key_id);
        snprintf(st->verify_ok_account, sizeof st->verify_ok_account, "%s", a->account);
        st->verify_ok_date_value = st->verify_ok_key_value = st->verify_ok_account_value = NULL;
    } else {
        *owned = 1;
    }
    return r;
}

/* Queues 429 {"valid":false,"reason":"rate_limited"} with Retry-After:
 * the answer to a failed credential from an address past its limit. One
 * shared response per Retry-After value (1..KS_RETRY_AFTER_MAX), made on
 * first use: a flood of throttled guesses costs no more than 401s. Two
 * threads making the same one at once keep the first. */
static enum MHD_Result queue_rate_limited(ks_server *srv, struct MHD_Connection *conn, int wait)
{
    if (wait < 1)
        wait = 1;
    if (wait > KS_RETRY_AFTER_MAX) { /* a key's long period: an answer of its own */
        const char *body = ks_verify_reason_row_of(KS_VERIFY_RATE_LIMITED)->failure_body;
        struct MHD_Response *own = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                                  MHD_RESPMEM_PERSISTENT);
        if (!own)
            return MHD_NO;
        char value[16];
        snprintf(value, sizeof value, "%d", wait);
        ks_server_common_headers(own, "application/json");
        MHD_add_response_header(own, "Retry-After", value);
        enum MHD_Result ok = MHD_queue_response(conn, 429, own);
        MHD_destroy_response(own);
        return ok;
    }
    struct MHD_Response *r = atomic_load_explicit(&srv->rate_limited[wait], memory_order_acquire);
    if (!r) {
        const char *body = ks_verify_reason_row_of(KS_VERIFY_RATE_LIMITED)->failure_body;
        struct MHD_Response *made = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                                   MHD_RESPMEM_PERSISTENT);
        if (!made)
            return MHD_NO;
        char value[16];
        snprintf(value, sizeof value, "%d", wait);
        ks_server_common_headers(made, "application/json");
        MHD_add_response_header(made, "Retry-After", value);
        struct MHD_Response *expected = NULL;
        if (atomic_compare_exchange_strong(&srv->rate_limited[wait], &expected, made)) {
            r = made;
        } else {
            MHD_destroy_response(made);
            r = expected;
        }
    }
    return MHD_queue_response(conn, 429, r);
}

/* The verify hot path. 0 when the request needs the generic handler (a
 * Bearer login token), else 1 with the result of queueing in *ok. */
int ks_server_send_verify(ks_server *srv, struct MHD_Connection *conn, conn_state *st, const char *route,
                          enum MHD_Result *ok)
{
    ks_verify_answer a;
    ks_api_verify_answer(&st->req, st->verify_body, sizeof st->verify_body, &a);
    if (a.status == 0 && !a.error)
        return 0;
    st->req.route = route;
    if (a.error) {
        ks_http_error(&st->req, a.error, a.error == KS_ERR_STORAGE ? KS_VERIFY_STALE_MESSAGE : NULL);
        *ok = ks_server_send_generic(srv, conn, st);
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
    } else if (a.reason == KS_VERIFY_RATE_LIMITED) { /* the key's own rate limit */
        *ok = queue_rate_limited(srv, conn, a.retry_after);
    } else {
        int wait = ks_verify_reason_row_of(a.reason)->failed_credential ? ks_server_failed_credential(srv, conn) : 0;
        if (wait > 0) {
            a.status = 429;
            *ok = queue_rate_limited(srv, conn, wait);
        } else {
            *ok = MHD_queue_response(conn, (unsigned)a.status, srv->verify_fail[a.reason]);
        }
    }
    ks_metrics_http(route, a.status);
    ks_server_log_request(srv, st->req.method, route, a.status, st);
    return 1;
}

/* The shared 401/403 verify answers; 0 or -1 when out of memory. */
int ks_server_verify_answers_make(ks_server *srv)
{
    for (int r = KS_VERIFY_MISSING_CREDENTIALS; r < KS_VERIFY_REASONS; r++) {
        const ks_verify_reason_row *row = ks_verify_reason_row_of((ks_verify_reason)r);
        const char *body = row->failure_body;
        struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return -1;
        ks_server_common_headers(resp, "application/json");
        if (row->http_status == 401)
            MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"keystile\"");
        srv->verify_fail[r] = resp;
    }
    return 0;
}

void ks_server_verify_answers_free(ks_server *srv)
{
    for (int i = 0; i <= KS_RETRY_AFTER_MAX; i++)
        if (srv->rate_limited[i])
            MHD_destroy_response(srv->rate_limited[i]);
    for (size_t i = 0; i < sizeof srv->verify_fail / sizeof *srv->verify_fail; i++)
        if (srv->verify_fail[i])
            MHD_destroy_response(srv->verify_fail[i]);
}
