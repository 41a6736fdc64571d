/* change_feed.c - the change-log follower (see change_feed.h). */
#include "service/change_feed.h"
#include "core/clock.h"
#include "metrics/metrics.h"
#include "core/error.h"
#include "log/log.h"
#include "service/login_keys.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256 /* changes read per poll */

struct ks_change_feed {
    ks_service *svc;
    pthread_t thread;
    int wake[2];        /* a byte in wake[1] ends the current wait */
    atomic_int stop;
    int stale_logged;   /* the stale line was logged (once per outage) */
};

/* Reloads what change c names (under the write lock, like a local write). */
static int apply(ks_service *svc, const ks_change *c)
{
    ks_store *store = svc->store;
    int rc = KS_OK;
    pthread_mutex_lock(&svc->write_lock);
    switch (c->kind) {
    case KS_CHANGE_KEY: {
        ks_key key = {0};
        rc = store->ops->key_get(store, c->account, c->key_id, &key);
        if (rc == KS_OK)
            rc = ks_index_put_key(svc->index, &key);
        else if (rc == KS_ERR_NOT_FOUND) {
            ks_index_remove_key(svc->index, c->key_id); /* deleted: unknown_key from now on */
            rc = KS_OK;
        }
        ks_key_free(&key);
        break;
    }
    case KS_CHANGE_ACCOUNT:
    case KS_CHANGE_ACCOUNT_KEYS:
        rc = ks_index_reload_account(svc->index, store, c->account, c->kind == KS_CHANGE_ACCOUNT_KEYS);
        if (rc == KS_ERR_NOT_FOUND)
            rc = KS_OK;
        break;
    case KS_CHANGE_SIGNING_KEYS:
        rc = ks_login_keys_load(svc);
        break;
    default:
        break; /* a kind of a newer version: nothing this one can reload */
    }
    pthread_mutex_unlock(&svc->write_lock);
    return rc;
}

/* 1 when a later change of the batch names the same thing (that one reloads it). */
static int superseded(const ks_change *batch, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++)
        if (batch[j].kind == batch[i].kind && strcmp(batch[j].account, batch[i].account) == 0 &&
            strcmp(batch[j].key_id, batch[i].key_id) == 0)
            return 1;
    return 0;
}

int ks_change_feed_catch_up(ks_service *svc)
{
    ks_change *batch = malloc(BATCH * sizeof *batch);
    if (!batch)
        return KS_ERR_NOMEM;
    int rc;
    size_t n;
    do {
        rc = svc->store->ops->changes_since(svc->store, svc->feed_seq, batch, BATCH, &n);
        for (size_t i = 0; rc == KS_OK && i < n; i++) {
            if (!superseded(batch, n, i) && (rc = apply(svc, &batch[i])) != KS_OK)
                break;
            svc->feed_seq = batch[i].seq;
        }
    } while (rc == KS_OK && n == BATCH);
    free(batch);
    return rc;
}

int ks_change_feed_degraded(const ks_service *svc)
{
    return atomic_load(&svc->storage_down) != 0;
}

int ks_change_feed_stale(const ks_service *svc, double now)
{
    if (svc->max_staleness_ms <= 0 || !svc->feed)
        return 0;
    int64_t heard = atomic_load_explicit(&((ks_service *)svc)->feed_heard_ms, memory_order_relaxed);
    return (int64_t)(now * 1000.0) - heard > svc->max_staleness_ms;
}

static void heard_now(ks_service *svc)
{
    atomic_store_explicit(&svc->feed_heard_ms, (int64_t)(ks_clock_monotonic() * 1000.0), memory_order_relaxed);
}

static void set_degraded(ks_service *svc, int down, int rc)
{
    if (atomic_exchange(&svc->storage_down, down) == down)
        return;
    if (down)
        ks_log("warn", "storage unavailable: verify answers from memory, writes fail with 503 until it is back",
               "{s:s}", "error", ks_error_info(rc)->code);
    else
        ks_log("info", "storage available again: caught up with the change log", "{s:I}", "seq",
               (json_int_t)svc->feed_seq);
}

static void *feed_main(void *arg)
{
    struct ks_change_feed *f = arg;
    ks_service *svc = f->svc;
    ks_store *store = svc->store;
    double next_compact = ks_clock_monotonic() + KS_FEED_COMPACT_SECONDS;
    pthread_setname_np(pthread_self(), "ks-change-feed"); /* in top -H, perf */
    while (!atomic_load(&f->stop)) {
        int rc = ks_change_feed_catch_up(svc);
        if (rc == KS_OK)
            heard_now(svc);
        else if (rc == KS_ERR_STORAGE && ks_change_feed_stale(svc, ks_clock_monotonic()) && !f->stale_logged) {
            f->stale_logged = 1;
            ks_log("error", "stale: the database has been out of reach for longer than --max-staleness; "
                            "verify answers 503 until it is back", "{s:i}", "max_staleness_seconds",
                   svc->max_staleness_ms / 1000);
        }
        if (rc == KS_OK)
            f->stale_logged = 0;
        set_degraded(svc, rc == KS_ERR_STORAGE, rc);
        if (rc != KS_OK && rc != KS_ERR_STORAGE)
            ks_log("warn", "change feed: cannot apply a change; will retry", "{s:s, s:I}", "error",
                   ks_error_info(rc)->code, "seq", (json_int_t)svc->feed_seq);
        if (rc == KS_OK && ks_clock_monotonic() >= next_compact) {
            next_compact = ks_clock_monotonic() + KS_FEED_COMPACT_SECONDS;
            if (store->ops->changes_compact(store) != KS_OK)
                ks_log("warn", "change feed: compaction failed; will retry", NULL);
        }
        if (!atomic_load(&f->stop))
            store->ops->changes_wait(store, KS_FEED_POLL_MS, f->wake[0]);
    }
    return NULL;
}

int ks_change_feed_start(ks_service *svc)
{
    if (!svc->store->ops->change_feed || !svc->index || svc->feed)
        return KS_OK;
    struct ks_change_feed *f = calloc(1, sizeof *f);
    if (!f)
        return KS_ERR_NOMEM;
    f->svc = svc;
    heard_now(svc); /* the index was just loaded from the store */
    if (pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(f);
        return KS_ERR_INTERNAL;
    }
    if (pthread_create(&f->thread, NULL, feed_main, f) != 0) {
        close(f->wake[0]);
        close(f->wake[1]);
        free(f);
        return KS_ERR_INTERNAL;
    }
    svc->feed = f;
    return KS_OK;
}

void ks_change_feed_stop(ks_service *svc)
{
    struct ks_change_feed *f = svc->feed;
    if (!f)
        return;
    atomic_store(&f->stop, 1);
    char byte = 1;
    if (write(f->wake[1], &byte, 1) < 0) {
        /* the pipe is full: a wake-up is pending already */
    }
    pthread_join(f->thread, NULL);
    close(f->wake[0]);
    close(f->wake[1]);
    free(f);
    svc->feed = NULL;
}
