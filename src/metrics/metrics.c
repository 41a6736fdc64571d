/* metrics.c - lock-free counters and the Prometheus text rendering. */
#include "metrics/metrics.h"
#include "core/error.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VERIFY_RESULTS 8
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
static _Atomic uint64_t verify_buckets[sizeof VERIFY_BOUNDS / sizeof *VERIFY_BOUNDS + 1];
static _Atomic uint64_t write_buckets[sizeof WRITE_BOUNDS / sizeof *WRITE_BOUNDS + 1];
static histogram verify_hist = {VERIFY_BOUNDS, sizeof VERIFY_BOUNDS / sizeof *VERIFY_BOUNDS, verify_buckets, 0};
static histogram write_hist = {WRITE_BOUNDS, sizeof WRITE_BOUNDS / sizeof *WRITE_BOUNDS, write_buckets, 0};

static _Atomic uint64_t verify_results[VERIFY_RESULTS];

/* Routes are registered on first use (their pattern pointers are static). */
static _Atomic(const char *) route_names[ROUTES_MAX];
static const int CODES[CODES_MAX] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 410,
                                     413, 414, 415, 429, 431, 500, 503};
static _Atomic uint64_t http_counts[ROUTES_MAX][CODES_MAX];

double ks_metrics_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void histogram_observe(histogram *h, double seconds)
{
    size_t i = 0;
    while (i < h->n_bounds && seconds > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(seconds * 1e9), memory_order_relaxed);
}

void ks_metrics_verify(ks_verify_reason result, double seconds)
{
    if ((unsigned)result < VERIFY_RESULTS)
        atomic_fetch_add_explicit(&verify_results[result], 1, memory_order_relaxed);
    histogram_observe(&verify_hist, seconds);
}

void ks_metrics_store_write(double seconds)
{
    histogram_observe(&write_hist, seconds);
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
    int r = route_slot(route);
    int c = 0;
    while (c < CODES_MAX && CODES[c] && CODES[c] != status)
        c++;
    if (r >= 0 && c < CODES_MAX && CODES[c])
        atomic_fetch_add_explicit(&http_counts[r][c], 1, memory_order_relaxed);
}

static void render_histogram(FILE *f, const char *name, const char *help, histogram *h)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= h->n_bounds; i++) {
        cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < h->n_bounds)
            fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)cumulative);
        else
            fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
    }
    fprintf(f, "%s_sum %.9f\n%s_count %llu\n", name,
            (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9, name,
            (unsigned long long)cumulative);
}

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
                (unsigned long long)atomic_load_explicit(&verify_results[i], memory_order_relaxed));
    render_histogram(f, "keystile_verify_duration_seconds", "Time spent in the verify check (index lookup and hash).",
                     &verify_hist);
    fprintf(f, "# HELP keystile_http_requests_total HTTP requests by route pattern and status code.\n"
               "# TYPE keystile_http_requests_total counter\n");
    for (int r = 0; r < ROUTES_MAX; r++) {
        const char *name = atomic_load_explicit(&route_names[r], memory_order_acquire);
        for (int c = 0; name && c < CODES_MAX && CODES[c]; c++) {
            uint64_t n = atomic_load_explicit(&http_counts[r][c], memory_order_relaxed);
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
    render_histogram(f, "keystile_store_write_duration_seconds", "Time of one durable store write (a transaction).",
                     &write_hist);
    if (fclose(f) != 0) {
        free(buf);
        return KS_ERR_NOMEM;
    }
    *out = buf;
    *len = size;
    return KS_OK;
}
