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

/* The changing headers of a 200 answer, in their order (VERIFY_HEADERS). */
enum { H_DATE, H_KEY, H_ACCOUNT, H_LIMIT, H_REMAINING, H_RESET };
static const char *const HEADER_NAMES[VERIFY_HEADERS] = {
    MHD_HTTP_HEADER_DATE, "X-Keystile-Key", "X-Keystile-Account",
    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
};

static void two_digits(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

/* The Date header of this second, as libmicrohttpd writes its own
 * ("Sat, 05 Dec 2026 02:48:02 GMT", RFC 9110 IMF-fixdate): formatted once
 * a second per thread instead of by libmicrohttpd for every answer (its
 * gmtime_r takes the time zone lock), for the wall clock's `second` (read
 * by the check: one clock read for both). A response that carries a Date
 * header gets no other. NULL when the year has not four digits. */
static const char *date_of(time_t second)
{
    static const char DAYS[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char MONTHS[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static _Thread_local struct {
        time_t second;
        char text[sizeof "Sat, 05 Dec 2026 02:48:02 GMT"];
    } cache;
    if (second != cache.second || !cache.text[0]) {
        struct tm tm;
        int year;
        if (!gmtime_r(&second, &tm) || (year = tm.tm_year + 1900) < 1000 || year > 9999 ||
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
        cache.second = second;
    }
    return cache.text;
}

/* Turns the connection's response into the answer want[0..n) with body a
 * when only values of the same length differ: each changed value is
 * overwritten where libmicrohttpd keeps it (the copy
 * MHD_get_response_header points to; the library keeps nothing about a
 * value but its bytes and length), and the body in verify_ok_body (the
 * response sends from there and its Content-Length stays right). No
 * allocation, and every header keeps its place. Safe because requests on
 * a connection go one at a time: the previous answer is sent by now.
 * 0 when it cannot (a length differs): nothing was changed. */
static int verify_ok_rewrite(conn_state *st, const char *const *want, int n, time_t second,
                             const ks_verify_answer *a)
{
    int changed[VERIFY_HEADERS] = {0};
    size_t len[VERIFY_HEADERS];
    /* the same body: the same key, account and rate values; only Date may move */
    int same_body = memcmp(st->verify_ok_body, a->body, a->body_len) == 0;
    for (int h = 0; h < n; h++) {
        if (h == H_DATE ? second == st->verify_ok_second : same_body || strcmp(st->verify_ok_have[h], want[h]) == 0)
            continue;
        len[h] = strlen(want[h]);
        if (strlen(st->verify_ok_have[h]) != len[h])
            return 0;
        char **value = &st->verify_ok_value[h];
        if (!*value)
            *value = (char *)MHD_get_response_header(st->verify_ok, HEADER_NAMES[h]);
        if (!*value || strcmp(*value, st->verify_ok_have[h]) != 0)
            return 0;
        changed[h] = 1;
    }
    for (int h = 0; h < n; h++)
        if (changed[h]) {
            memcpy(st->verify_ok_value[h], want[h], len[h]);
            memcpy(st->verify_ok_have[h], want[h], len[h]);
        }
    st->verify_ok_second = second;
    if (!same_body)
        memcpy(st->verify_ok_body, a->body, a->body_len);
    return 1;
}

/* The 200 answer with a's body. A connection keeps one response object:
 * building one with its headers costs about as much as the check itself.
 * The next 200 of the same shape (body length, rate-limited or not, and
 * each changing header's length) is that response rewritten in place
 * (verify_ok_rewrite): a client checking one credential, or keys of one
 * shape, rate-limited ones included (their X-RateLimit-* values change
 * with every answer). Else a new response, kept for next time when its
 * body fits. *owned: the caller destroys it after queueing. NULL when out
 * of memory. */
static struct MHD_Response *verify_ok_response(conn_state *st, const ks_verify_answer *a, int *owned)
{
    *owned = 0;
    int rated = a->rate_limit > 0;
    int n = rated ? VERIFY_HEADERS : H_ACCOUNT + 1;
    time_t second = a->wall_second;
    const char *date = date_of(second);
    const char *want[VERIFY_HEADERS] = {date, a->key_id, a->account, a->rate_text[0], a->rate_text[1],
                                        a->rate_text[2]};
    if (st->verify_ok && date && st->verify_ok_len == a->body_len && st->verify_ok_rated == rated &&
        verify_ok_rewrite(st, want, n, second, a))
        return st->verify_ok;
    int keep = a->body_len <= sizeof st->verify_ok_body && date;
    const char *body = a->body; /* when not kept: in buf or a->heap, both alive until sent */
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
    /* Date first, where libmicrohttpd puts its own (a response not kept
     * gets the library's) */
    int added = !keep || MHD_add_response_header(r, MHD_HTTP_HEADER_DATE, date) == MHD_YES;
    ks_server_common_headers(r, "application/json");
    for (int h = H_KEY; h < n && added; h++)
        added = MHD_add_response_header(r, HEADER_NAMES[h], want[h]) == MHD_YES;
    if (!added) {
        MHD_destroy_response(r);
        return NULL;
    }
    if (!keep) {
        *owned = 1;
        return r;
    }
    st->verify_ok = r;
    st->verify_ok_len = a->body_len;
    st->verify_ok_rated = rated;
    st->verify_ok_second = second;
    for (int h = 0; h < VERIFY_HEADERS; h++) {
        snprintf(st->verify_ok_have[h], sizeof st->verify_ok_have[h], "%s", h < n ? want[h] : "");
        st->verify_ok_value[h] = NULL;
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
