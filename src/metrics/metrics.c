/*
 * metrics.c - lock-free counters and the Prometheus text rendering.
 *
 * The counters that every request bumps (verify results, the verify
 * histogram, HTTP requests by route and code) are sharded: a thread claims
 * a cache-line-aligned shard of its own on its first count and gives it
 * back when it exits (the next thread to claim it goes on adding to its
 * sums). Only its owner writes a shard, so a count is a relaxed load and
 * store (no locked instruction), and rendering sums the shards with
 * relaxed loads. Threads beyond SHARDS at once count into one shared shard
 * with atomic adds, which is only slower.
 */
#include "metrics/metrics.h"
#include "metrics/metrics_render.h"
#include "core/error.h"
#include "verify/verify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VERIFY_RESULTS KS_VERIFY_REASONS
#define ROUTES_MAX 48
#define CODES_MAX 24

typedef struct {
    const double *bounds;        /* upper bounds, ascending */
    size_t n_bounds;
    _Atomic uint64_t *buckets;   /* n_bounds + 1 (last is +Inf) */
    _Atomic uint64_t sum_ns;     /* sum in nanoseconds */
} histogram;

static const double VERIFY_BOUNDS[] = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 1e-2};
static const double WRITE_BOUNDS[] = {1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 1.0};
static _Atomic uint64_t write_buckets[sizeof WRITE_BOUNDS / sizeof *WRITE_BOUNDS + 1];
static histogram write_hist = {WRITE_BOUNDS, sizeof WRITE_BOUNDS / sizeof *WRITE_BOUNDS, write_buckets, 0};

#define VERIFY_BUCKETS (sizeof VERIFY_BOUNDS / sizeof *VERIFY_BOUNDS + 1)
#define SHARDS 16

/* Routes are registered on first use (their pattern pointers are static). */
static _Atomic(const char *) route_names[ROUTES_MAX];
static const int CODES[CODES_MAX] = {200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 410,
                                     413, 414, 415, 429, 431, 500, 503};

typedef struct {
    _Alignas(64) _Atomic uint64_t verify_results[VERIFY_RESULTS];
    _Atomic uint64_t verify_buckets[VERIFY_BUCKETS];
    _Atomic uint64_t verify_sum_ns;
    _Atomic uint64_t http_counts[ROUTES_MAX][CODES_MAX];
    _Atomic int taken;            /* a live thread owns it (not for the last, shared one) */
} shard;

/* shards[SHARDS] is the shared one. */
static shard shards[SHARDS + 1];
/* Rare events (an attack's, not every request's): one counter each. */
static _Atomic uint64_t abuse_counts[KS_ABUSE_EVENTS];
static const char *const ABUSE_NAMES[KS_ABUSE_EVENTS] = {"rate_limited", "header_timeout", "address_refused"};
static _Thread_local shard *my_shard;
static _Thread_local int my_own;         /* my_shard is this thread's alone */
static pthread_key_t shard_key;
static pthread_once_t shard_key_once = PTHREAD_ONCE_INIT;

/* At a thread's exit: its shard can be claimed again (its sums stay). */
static void shard_release(void *p)
{
    shard *sh = p;
    my_shard = NULL;
    my_own = 0;
    atomic_store_explicit(&sh->taken, 0, memory_order_release);
}

static void shard_key_make(void)
{
    if (pthread_key_create(&shard_key, shard_release) != 0)
        shard_key = (pthread_key_t)-1;
}

static shard *shard_get(void)
{
    if (my_shard)
        return my_shard;
    pthread_once(&shard_key_once, shard_key_make);
    if (shard_key != (pthread_key_t)-1)
        for (int i = 0; i < SHARDS; i++) {
            int free_one = 0;
            if (atomic_compare_exchange_strong_explicit(&shards[i].taken, &free_one, 1, memory_order_acquire,
                                                        memory_order_relaxed)) {
                if (pthread_setspecific(shard_key, &shards[i]) != 0) {
                    atomic_store_explicit(&shards[i].taken, 0, memory_order_release);
                    break;
                }
                my_own = 1;
                return my_shard = &shards[i];
            }
        }
    my_own = 0;
    return my_shard = &shards[SHARDS];
}

/* Adds n to a counter of this thread's shard. */
static inline void shard_add(_Atomic uint64_t *c, uint64_t n)
{
    if (my_own)
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void histogram_observe(histogram *h, double seconds)
{
    size_t i = 0;
    while (i < h->n_bounds && seconds > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(seconds * 1e9), memory_order_relaxed);
}

void ks_metrics_verify(int result, double seconds)
{
    shard *sh = shard_get();
    if ((unsigned)result < VERIFY_RESULTS)
        shard_add(&sh->verify_results[result], 1);
    size_t i = 0;
    while (i < VERIFY_BUCKETS - 1 && seconds > VERIFY_BOUNDS[i])
        i++;
    shard_add(&sh->verify_buckets[i], 1);
    shard_add(&sh->verify_sum_ns, (uint64_t)(seconds * 1e9));
}

unsigned long long ks_metrics_verify_count(void)
{
    unsigned long long total = 0;
    for (size_t i = 0; i <= SHARDS; i++)
        for (size_t b = 0; b < VERIFY_BUCKETS; b++)
            total += atomic_load_explicit(&shards[i].verify_buckets[b], memory_order_relaxed);
    return total;
}

void ks_metrics_store_write(double seconds)
{
    histogram_observe(&write_hist, seconds);
}

void ks_metrics_abuse(ks_abuse_event event)
{
    if ((unsigned)event < KS_ABUSE_EVENTS)
        atomic_fetch_add_explicit(&abuse_counts[event], 1, memory_order_relaxed);
}

static _Atomic uint64_t leak_results[KS_METRICS_LEAK_RESULTS];

void ks_metrics_leak(ks_metrics_leak_result result)
{
    if ((unsigned)result < KS_METRICS_LEAK_RESULTS)
        atomic_fetch_add_explicit(&leak_results[result], 1, memory_order_relaxed);
}

static _Atomic uint64_t delivery_results[3];
static _Atomic long long outbox_pending, outbox_oldest_age;

void ks_metrics_webhook_delivery(ks_metrics_delivery_result result)
{
    if ((unsigned)result < 3)
        atomic_fetch_add_explicit(&delivery_results[result], 1, memory_order_relaxed);
}

void ks_metrics_webhook_outbox(long long pending, long long oldest_age_seconds)
{
    atomic_store_explicit(&outbox_pending, pending, memory_order_relaxed);
    atomic_store_explicit(&outbox_oldest_age, oldest_age_seconds, memory_order_relaxed);
}

static int route_slot(const char *route)
{
    if (!route)
        route = "unmatched";
    for (int i = 0; i < ROUTES_MAX; i++) {
        const char *name = atomic_load_explicit(&route_names[i], memory_order_acquire);
        if (name == route || (name && strcmp(name, route) == 0))
            return i;
        if (!name) {
            const char *expected = NULL;
            if (atomic_compare_exchange_strong(&route_names[i], &expected, route) || expected == route ||
                strcmp(expected, route) == 0)
                return i;
        }
    }
    return -1;
}

void ks_metrics_http(const char *route, int status)
{
    /* a thread answers one route most of the time: its slot is kept */
    static _Thread_local const char *last_route;
    static _Thread_local int last_slot = -1;
    int r;
    if (route && route == last_route) {
        r = last_slot;
    } else {
        r = route_slot(route);
        last_route = route;
        last_slot = r;
    }
    int c = 0;
    while (c < CODES_MAX && CODES[c] && CODES[c] != status)
        c++;
    if (r >= 0 && c < CODES_MAX && CODES[c])
        shard_add(&shard_get()->http_counts[r][c], 1);
}

static void render_histogram(FILE *f, const char *name, const char *help, const double *bounds, size_t n_bounds,
                             const uint64_t *buckets, uint64_t sum_ns)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= n_bounds; i++) {
        cumulative += buckets[i];
        if (i < n_bounds)
            fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cumulative);
        else
            fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
    }
    fprintf(f, "%s_sum %.9f\n%s_count %llu\n", name, (double)sum_ns / 1e9, name, (unsigned long long)cumulative);
}

/* Sum over the shards of one counter, named by its address in shard 0. */
static uint64_t shard_sum(_Atomic uint64_t *in_first)
{
    size_t offset = (size_t)((char *)in_first - (char *)&shards[0]);
    uint64_t sum = 0;
    for (size_t i = 0; i <= SHARDS; i++)
        sum += atomic_load_explicit((_Atomic uint64_t *)((char *)&shards[i] + offset), memory_order_relaxed);
    return sum;
}
#define SHARD_SUM(field) shard_sum(&shards[0].field)

int ks_metrics_render(ks_index *idx, char **out, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return KS_ERR_NOMEM;
    fprintf(f, "# HELP keystile_verify_requests_total Verify calls by result.\n"
               "# TYPE keystile_verify_requests_total counter\n");
    for (int i = 0; i < VERIFY_RESULTS; i++)
        fprintf(f, "keystile_verify_requests_total{result=\"%s\"} %llu\n",
                ks_verify_reason_name((ks_verify_reason)i),
                (unsigned long long)SHARD_SUM(verify_results[i]));
    uint64_t verify_buckets[VERIFY_BUCKETS];
    for (size_t i = 0; i < VERIFY_BUCKETS; i++)
        verify_buckets[i] = SHARD_SUM(verify_buckets[i]);
    render_histogram(f, "keystile_verify_duration_seconds", "Time spent answering a verify call (its headers, the index lookup and hash).",
                     VERIFY_BOUNDS, VERIFY_BUCKETS - 1, verify_buckets, SHARD_SUM(verify_sum_ns));
    fprintf(f, "# HELP keystile_http_requests_total HTTP requests by route pattern and status code.\n"
               "# TYPE keystile_http_requests_total counter\n");
    for (int r = 0; r < ROUTES_MAX; r++) {
        const char *name = atomic_load_explicit(&route_names[r], memory_order_acquire);
        for (int c = 0; name && c < CODES_MAX && CODES[c]; c++) {
            uint64_t n = SHARD_SUM(http_counts[r][c]);
            if (n)
                fprintf(f, "keystile_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n", name, CODES[c],
                        (unsigned long long)n);
        }
    }
    size_t total = 0, active = 0;
    if (idx)
        ks_index_count(idx, &total, &active);
    fprintf(f, "# HELP keystile_keys Keys in the verify index by status.\n# TYPE keystile_keys gauge\n"
               "keystile_keys{status=\"active\"} %zu\nkeystile_keys{status=\"inactive\"} %zu\n",
            active, total - active);
    uint64_t write_counts[sizeof WRITE_BOUNDS / sizeof *WRITE_BOUNDS + 1];
    for (size_t i = 0; i < sizeof write_counts / sizeof *write_counts; i++)
        write_counts[i] = atomic_load_explicit(&write_buckets[i], memory_order_relaxed);
    render_histogram(f, "keystile_store_write_duration_seconds", "Time of one durable store write (a transaction).",
                     WRITE_BOUNDS, sizeof WRITE_BOUNDS / sizeof *WRITE_BOUNDS, write_counts,
                     atomic_load_explicit(&write_hist.sum_ns, memory_order_relaxed));
    fprintf(f, "# HELP keystile_abuse_events_total Abuse limits at work: failed credentials answered 429, "
               "connections cut at the header deadline, connections refused by the per-address cap.\n"
               "# TYPE keystile_abuse_events_total counter\n");
    for (int i = 0; i < KS_ABUSE_EVENTS; i++)
        fprintf(f, "keystile_abuse_events_total{event=\"%s\"} %llu\n", ABUSE_NAMES[i],
                (unsigned long long)atomic_load_explicit(&abuse_counts[i], memory_order_relaxed));
    static const char *const LEAK_LABELS[KS_METRICS_LEAK_RESULTS][2] = {
        {"false_positive", "none"}, {"true_positive", "alert"}, {"true_positive", "revoke"}};
    fprintf(f, "# HELP keystile_leaked_tokens_total Tokens reported by secret scanning, by answer and action.\n"
               "# TYPE keystile_leaked_tokens_total counter\n");
    for (int i = 0; i < KS_METRICS_LEAK_RESULTS; i++)
        fprintf(f, "keystile_leaked_tokens_total{label=\"%s\",action=\"%s\"} %llu\n", LEAK_LABELS[i][0],
                LEAK_LABELS[i][1], (unsigned long long)atomic_load_explicit(&leak_results[i], memory_order_relaxed));
    static const char *const RESULTS[3] = {"delivered", "retry", "failed"};
    fprintf(f, "# HELP keystile_webhook_deliveries_total Webhook delivery attempts by result.\n"
               "# TYPE keystile_webhook_deliveries_total counter\n");
    for (int i = 0; i < 3; i++)
        fprintf(f, "keystile_webhook_deliveries_total{result=\"%s\"} %llu\n", RESULTS[i],
                (unsigned long long)atomic_load_explicit(&delivery_results[i], memory_order_relaxed));
    fprintf(f, "# HELP keystile_webhook_outbox_depth Webhook deliveries waiting to be delivered.\n"
               "# TYPE keystile_webhook_outbox_depth gauge\nkeystile_webhook_outbox_depth %lld\n"
               "# HELP keystile_webhook_outbox_oldest_age_seconds Age of the oldest delivery waiting.\n"
               "# TYPE keystile_webhook_outbox_oldest_age_seconds gauge\n"
               "keystile_webhook_outbox_oldest_age_seconds %lld\n",
            atomic_load_explicit(&outbox_pending, memory_order_relaxed),
            atomic_load_explicit(&outbox_oldest_age, memory_order_relaxed));
    if (fclose(f) != 0) {
        free(buf);
        return KS_ERR_NOMEM;
    }
    *out = buf;
    *len = size;
    return KS_OK;
}
