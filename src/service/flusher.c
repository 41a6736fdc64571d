/*
 * flusher.c - the service's background thread: last-used times counted in
 * the index are written to the store every interval (in slices spread over
 * half of it), and signing keys rotated by another process are reloaded
 * every 30 s. See service.h ks_service_start_flusher.
 */
#include "service/service_internal.h"
#include "core/clock.h"
#include "core/error.h"
#include "log/log.h"
#include "service/login_keys.h"
#include "service/usage.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_SLICE 4096 /* last-used rows per transaction */

/* Waits up to ms (the flusher thread); 1 when the service is stopping. */
static int flusher_wait(ks_service *svc, long ms)
{
    struct timespec until;
    ks_clock_deadline(&until, ms);
    pthread_mutex_lock(&svc->flusher_lock);
    int wait = 0;
    while (!svc->flusher_stop && wait != ETIMEDOUT)
        wait = pthread_cond_timedwait(&svc->flusher_wake, &svc->flusher_lock, &until);
    int stopping = svc->flusher_stop;
    pthread_mutex_unlock(&svc->flusher_lock);
    return stopping;
}

int ks_service_flush_last_used(ks_service *svc, ks_last_used_scope scope, int spread_ms)
{
    ks_last_used *items;
    size_t n;
    int rc = ks_index_collect_last_used(svc->index, scope, &items, &n);
    /* In the store's order (SQLite: by key seq), so each slice below
     * updates a run of neighbouring rows instead of a page per row. A
     * failure to order is no failure to flush: the slices are as right
     * unordered, only slower. */
    if (rc == KS_OK && n > 0 && svc->store->ops->last_used_order(svc->store, items, n) != KS_OK)
        ks_log("warn", "last-used times written unordered: the store could not order them", NULL);
    /* In slices of a few thousand rows, each its own short transaction: a
     * renewal waiting for the store lock then waits for one slice, not for
     * a flush of every token used in the last interval. Spread out, the
     * slices also never take a core for long: with 70,000 keys in use a
     * whole flush is about 0.8 s of CPU, enough to push verify's p99 at
     * full load past a millisecond when it comes at once. */
    size_t slices = (n + FLUSH_SLICE - 1) / FLUSH_SLICE;
    long pause_ms = spread_ms > 0 && slices > 1 ? spread_ms / (long)slices : 0;
    for (size_t done = 0; rc == KS_OK && done < n; done += FLUSH_SLICE) {
        size_t slice = n - done < FLUSH_SLICE ? n - done : FLUSH_SLICE;
        if (done > 0 && pause_ms > 0 && flusher_wait(svc, pause_ms))
            pause_ms = 0; /* stopping: write the rest at once */
        rc = svc->store->ops->last_used_flush(svc->store, items + done, slice);
        if (rc == KS_OK)
            ks_index_mark_flushed(svc->index, items + done, slice);
    }
    free(items);
    return rc;
}

#define SIGNING_KEYS_RELOAD_S 30.0

static void *flusher_main(void *arg)
{
    ks_service *svc = arg;
    pthread_setname_np(pthread_self(), "ks-flusher"); /* in top -H, perf */
    /* Background work at niceness 5: a flush of many last-used times
     * yields to verifies that wake up, yet at full load still gets about a
     * fifth of a core. Writes waiting for the store lock wait for one slice
     * of the flush at most (see above). */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
    /* Last-used times every interval, their slices spread over half of it,
     * so each reaches the store within 1.5 intervals; signing keys rotated
     * by another process (the CLI, another node) every 30 s. */
    double interval = svc->flush_interval_ms / 1000.0, now = ks_clock_monotonic(); /* monotonic */
    double next_flush = now + interval, next_keys = now + SIGNING_KEYS_RELOAD_S;
    for (;;) {
        double due = next_flush < next_keys ? next_flush : next_keys;
        now = ks_clock_monotonic();
        if (flusher_wait(svc, due > now ? (long)((due - now) * 1000.0) + 1 : 0))
            break;
        now = ks_clock_monotonic();
        if (now >= next_flush) {
            next_flush = now + interval;
            if (ks_service_flush_last_used(svc, KS_LAST_USED_ALL, svc->flush_interval_ms / 2) != KS_OK)
                ks_log("warn", "last_used flush failed; will retry", NULL);
            if (ks_usage_flush(svc) != KS_OK)
                ks_log("warn", "usage flush failed; will retry", NULL);
        }
        if (now >= next_keys) {
            next_keys = now + SIGNING_KEYS_RELOAD_S;
            ks_login_keys_load(svc);
        }
    }
    return NULL;
}

int ks_service_start_flusher(ks_service *svc, int interval_ms)
{
    svc->flush_interval_ms = interval_ms > 0 ? interval_ms : 2000;
    if (pthread_create(&svc->flusher, NULL, flusher_main, svc) != 0)
        return KS_ERR_INTERNAL;
    svc->flusher_running = 1;
    return KS_OK;
}

void ks_service_flusher_stop(ks_service *svc)
{
    if (!svc->flusher_running)
        return;
    pthread_mutex_lock(&svc->flusher_lock);
    svc->flusher_stop = 1;
    pthread_cond_signal(&svc->flusher_wake);
    pthread_mutex_unlock(&svc->flusher_lock);
    pthread_join(svc->flusher, NULL);
    svc->flusher_running = 0;
}
