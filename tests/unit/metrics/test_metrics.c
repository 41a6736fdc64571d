/*
 * test_metrics.c - the sharded counters of metrics.c: exact sums with more
 * threads than shards at once (the shared shard's atomic adds), and with
 * threads that exit and leave their shard to the next (its sums kept).
 */
#include "unit.h"

#include "metrics/metrics.h"
#include "metrics/metrics_render.h"
#include "core/error.h"
#include "verify/verify.h"

#include <pthread.h>

#define PER_THREAD 100000

static const char *ROUTE = "/test/metrics"; /* a pattern string with static storage */

static pthread_barrier_t start; /* all of a batch count at once */

static void *recorder(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < PER_THREAD; i++) {
        ks_metrics_verify(KS_VERIFY_OK, 2e-6);
        ks_metrics_http(ROUTE, 200);
    }
    return NULL;
}

/* The value of the /metrics line that starts with `prefix`, or -1. */
static long long rendered(const char *prefix)
{
    char *text = NULL;
    size_t len = 0;
    if (ks_metrics_render(NULL, &text, &len) != KS_OK)
        return -1;
    long long v = -1;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            v = strtoll(line + strlen(prefix), NULL, 10);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return v;
}

static void run_threads(int n)
{
    pthread_t t[64];
    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, recorder, NULL) != 0)
            abort(); /* the barrier would wait for it forever */
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
}

static void test_sums_are_exact_past_the_shards_and_across_thread_exits(void)
{
    long long ok0 = rendered("keystile_verify_requests_total{result=\"ok\"} ");
    long long http0 = rendered("keystile_http_requests_total{route=\"/test/metrics\",code=\"200\"} ");
    ok0 = ok0 < 0 ? 0 : ok0;
    http0 = http0 < 0 ? 0 : http0;
    run_threads(40); /* more at once than there are shards */
    run_threads(8);  /* new threads take the shards the others left */
    run_threads(8);
    long long want = 56LL * PER_THREAD;
    ASSERT_EQ_INT(rendered("keystile_verify_requests_total{result=\"ok\"} ") - ok0, want);
    ASSERT_EQ_INT(rendered("keystile_http_requests_total{route=\"/test/metrics\",code=\"200\"} ") - http0, want);
    ASSERT_EQ_INT(rendered("keystile_verify_duration_seconds_bucket{le=\"2.5e-06\"} ") >= want, 1);
}

int main(void)
{
    RUN(test_sums_are_exact_past_the_shards_and_across_thread_exits);
    return unit_report("metrics");
}
