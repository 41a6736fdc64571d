/*
 * sweeper.c - the sweeps of webhooks.h: a thread that, at start and every
 * interval, takes the store's sweep lock (with PostgreSQL one node at a
 * time sweeps; the others skip that turn) and then
 *   - deletes the old tokens store old_tokens_due names: past their
 *     deadline, or safe to auto-delete (the current token verified since
 *     the renewal and the old one idle for the account's
 *     auto_delete_old_token_hours). Each is KS_SLOT_OP_SWEEP_OLD through
 *     the group commit, batches of up to 64 in one transaction: the store
 *     checks it is still due, the audit names actor `system` (via system),
 *     token.old_deleted goes to the outbox, the index drops the token.
 *     Verify needs none of this to refuse a token past its deadline: the
 *     sweep only tidies up (and is what auto-delete is).
 *   - raises renewal notices: key.renewal_due once a current token is
 *     within renewal_notice_days of its expiry, key.renewal_recommended
 *     once it is past it, key.renewal_highly_recommended 3 months past it,
 *     each once per token (store notice_mark).
 * Last-used times are flushed first, so auto-delete and the dormant look
 * see this node's latest verifies: before the old tokens those of the keys
 * that hold one (few, at any time), before the hourly dormant look every
 * key's. The flusher writes every key's each interval anyway; flushing
 * them all at every pass too wrote each busy key twice a minute (with
 * 70,000 keys in use, about half a second of CPU a minute).
 * On the sweeper thread each batch is followed by a rest
 * (sweep_rest): as long as the batch took while verify is quiet (at most
 * half a core), nineteen times as long while it serves traffic (at most
 * a twentieth of a core), since verify is what the machine is for and
 * needs nothing from the sweep: it refuses a token past its deadline by
 * itself. Under load, a deadline that 100,000 tokens share is then tidied
 * up (deleted, audited, token.old_deleted sent) in a few minutes instead of
 * seconds.
 */
#include "service/webhooks.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/token_age.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "service/events.h"
#include "service/service_internal.h"
#include "service/usage.h"
#include "service/dormant.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_BATCH 64      /* deletions or notices per transaction */
#define SWEEP_PASS_MAX 2000 /* batches per pass: the rest waits for the next pass */
#define SWEEP_REST_QUIET 1  /* rest per second of batch while verify is quiet */
#define SWEEP_REST_BUSY 19  /* ... and while it serves traffic */
#define SWEEP_BUSY_VERIFIES_PER_S 50.0 /* from this rate on, verify counts as busy */

/* 1 on the sweeper thread only: its sweeps rest between batches. */
static _Thread_local int on_sweeper_thread;

struct ks_sweeper {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    int interval_s;
    double dormant_next;    /* monotonic time of the next look for unused keys (dormant.h) */
};

/* Deletes one batch of due old tokens; *n gets how many were due. */
static int sweep_old_batch(ks_service *svc, int64_t now, size_t *n)
{
    ks_old_token_due *due = NULL;
    int rc = svc->store->ops->old_tokens_due(svc->store, now, SWEEP_BATCH, &due, n);
    if (rc != KS_OK || *n == 0) {
        free(due); /* the store may hand an empty list */
        return rc;
    }
    ks_slot_write w[SWEEP_BATCH];
    ks_actor who[SWEEP_BATCH];
    ks_service_event ev[SWEEP_BATCH];
    size_t made = 0;
    for (size_t i = 0; i < *n && rc == KS_OK; i++) {
        const char *reason = due[i].ends_at && due[i].ends_at <= now ? "deadline" : "auto_delete";
        who[i] = (ks_actor){.actor = "system", .account = due[i].account, .via = "system"};
        rc = ks_service_event_init(&ev[i], "token.old_deleted", due[i].account, due[i].key_id,
                                   json_pack("{s:s}", "reason", reason), now);
        if (rc != KS_OK)
            break;
        made++;
        ks_slot_change change = {.op = KS_SLOT_OP_SWEEP_OLD, .auto_delete_hours = due[i].auto_delete_hours};
        ks_service_slot_write_init(&w[i], &who[i], due[i].key_id, &change, "key.delete_old_token",
                                   strcmp(reason, "deadline") == 0 ? "{\"reason\":\"deadline\"}"
                                                                   : "{\"reason\":\"auto_delete\"}",
                                   &ev[i].event, NULL);
        w[i].audit.at = now;
        if (i > 0)
            w[i - 1].next = &w[i];
    }
    size_t deleted = 0;
    if (rc == KS_OK && made > 0) {
        ks_service_slot_batch_run(svc, &w[0]);
        for (size_t i = 0; i < made; i++) {
            deleted += w[i].rc == KS_OK;
            if (w[i].rc != KS_OK && w[i].rc != KS_ERR_NO_OLD_TOKEN && w[i].rc != KS_ERR_NOT_FOUND)
                rc = w[i].rc; /* NO_OLD_TOKEN / NOT_FOUND: someone acted first */
        }
    }
    if (deleted == 0)
        *n = 0; /* listed but none deleted (not due after all): no point listing them again now */
    for (size_t i = 0; i < made; i++)
        ks_service_event_free(&ev[i]);
    free(due);
    return rc;
}

static const struct {
    int bit;
    const char *type;
} NOTICES[] = {
    {KS_NOTICE_DUE, "key.renewal_due"},
    {KS_NOTICE_RECOMMENDED, "key.renewal_recommended"},
    {KS_NOTICE_HIGHLY_RECOMMENDED, "key.renewal_highly_recommended"},
};

/* The notice bits owed at now by a token made at created_at (months'
 * duration, notice_days of lead time): token_age.h's thresholds. */
static int notices_owed(int64_t created_at, int months, int notice_days, int64_t now)
{
    int64_t expires = ks_token_expires_at(created_at, months);
    int owed = now >= expires - (int64_t)notice_days * 86400 ? KS_NOTICE_DUE : 0;
    ks_renewal_alert alert = ks_renewal_alert_of(created_at, months, now);
    if (alert >= KS_ALERT_RECOMMENDED)
        owed |= KS_NOTICE_RECOMMENDED;
    if (alert >= KS_ALERT_HIGHLY_RECOMMENDED)
        owed |= KS_NOTICE_HIGHLY_RECOMMENDED;
    return owed;
}

/* Raises one batch of owed notices; *n gets how many tokens owed some. */
static int sweep_notices_batch(ks_service *svc, int64_t now, size_t *n)
{
    ks_notice_due *due = NULL;
    int rc = svc->store->ops->notices_due(svc->store, now, SWEEP_BATCH / 3, &due, n);
    if (rc != KS_OK || *n == 0) {
        ks_notices_due_free(due, *n); /* the store may hand an empty list */
        return rc;
    }
    ks_notice_mark marks[SWEEP_BATCH];
    ks_service_event ev[SWEEP_BATCH];
    size_t made = 0;
    for (size_t i = 0; i < *n && rc == KS_OK; i++) {
        int owed = notices_owed(due[i].created_at, due[i].months, due[i].notice_days, now) & ~due[i].notices;
        char expires[KS_TIME_STR_LEN];
        ks_time_format(ks_token_expires_at(due[i].created_at, due[i].months), expires);
        for (size_t k = 0; k < sizeof NOTICES / sizeof *NOTICES && rc == KS_OK; k++) {
            if (!(owed & NOTICES[k].bit))
                continue;
            rc = ks_service_event_init(&ev[made], NOTICES[k].type, due[i].account, due[i].key_id,
                                       json_pack("{s:s, s:s}", "name", due[i].name, "expires_at", expires), now);
            if (rc != KS_OK)
                break;
            marks[made] = (ks_notice_mark){due[i].account, due[i].key_id, due[i].created_at, NOTICES[k].bit,
                                           &ev[made].event, 0};
            made++;
        }
    }
    if (rc == KS_OK && made > 0)
        rc = svc->store->ops->notice_mark(svc->store, marks, made);
    for (size_t i = 0; i < made; i++)
        ks_service_event_free(&ev[i]);
    ks_notices_due_free(due, *n);
    if (rc == KS_OK && made == 0)
        *n = 0; /* listed but nothing owed after all (a clock edge): stop this pass */
    return rc;
}

/* Waits ms milliseconds or until ks_sweeper_stop; 1 when stopping. */
static int sweeper_wait(struct ks_sweeper *s, long ms)
{
    struct timespec until;
    ks_clock_deadline(&until, ms);
    pthread_mutex_lock(&s->lock);
    int wait = 0;
    while (!s->stop && wait != ETIMEDOUT)
        wait = pthread_cond_timedwait(&s->wake, &s->lock, &until);
    int stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

/* The sweeper thread's pace: verifies answered when the last rest began. */
static _Thread_local unsigned long long rest_verifies;
static _Thread_local double rest_began;

/* After a batch that took `busy` seconds, the sweeper thread rests
 * SWEEP_REST_QUIET or, when verify answered SWEEP_BUSY_VERIFIES_PER_S or
 * more since the previous rest began, SWEEP_REST_BUSY times as long (see
 * the top of this file). 1 when the sweeper is stopping; a sweep run
 * outside the thread (svc->sweeper NULL, or another thread) does not rest. */
static int sweep_rest(ks_service *svc, double busy)
{
    struct ks_sweeper *s = svc->sweeper;
    if (!s || !on_sweeper_thread || busy <= 0)
        return 0;
    unsigned long long verifies = ks_metrics_verify_count();
    double now = ks_clock_monotonic(), since = now - rest_began;
    int loaded = rest_began > 0 && since > 0 &&
                 (double)(verifies - rest_verifies) >= SWEEP_BUSY_VERIFIES_PER_S * since;
    rest_verifies = verifies;
    rest_began = now;
    double rest = busy * (loaded ? SWEEP_REST_BUSY : SWEEP_REST_QUIET);
    return sweeper_wait(s, (long)(rest * 1000.0) + 1);
}

int ks_service_sweep_once(ks_service *svc)
{
    int held = 0;
    int rc = svc->store->ops->sweep_lock(svc->store, 1, &held);
    if (rc != KS_OK || !held)
        return rc; /* another node sweeps this turn */
    if (svc->index && ks_service_flush_last_used(svc, KS_LAST_USED_RENEWED_KEYS, 0) != KS_OK)
        ks_log("warn", "last-used times of renewed keys not flushed before the sweep", NULL);
    int64_t now = ks_clock_now();
    double t0 = ks_clock_monotonic();
    size_t n = SWEEP_BATCH, old_tokens = 0, notices = 0;
    int stopping = 0;
    for (int i = 0; rc == KS_OK && n > 0 && !stopping && i < SWEEP_PASS_MAX; i++) {
        double b0 = ks_clock_monotonic();
        rc = sweep_old_batch(svc, now, &n);
        old_tokens += n;
        stopping = n > 0 && sweep_rest(svc, ks_clock_monotonic() - b0);
    }
    n = 1;
    for (int i = 0; rc == KS_OK && n > 0 && !stopping && i < SWEEP_PASS_MAX; i++) {
        double b0 = ks_clock_monotonic();
        rc = sweep_notices_batch(svc, now, &n);
        notices += n;
        stopping = n > 0 && sweep_rest(svc, ks_clock_monotonic() - b0);
    }
    /* Keys unused for their account's deactivate_unused_days (dormant.c):
     * at the first pass, then hourly (a direct call, without the sweeper
     * thread, always looks). */
    size_t dormant = 0;
    struct ks_sweeper *s = on_sweeper_thread ? svc->sweeper : NULL;
    if (rc == KS_OK && !stopping && (!s || ks_clock_monotonic() >= s->dormant_next)) {
        int full = 0;
        if (svc->index && ks_service_flush_last_used(svc, KS_LAST_USED_ALL, 0) != KS_OK)
            ks_log("warn", "last-used times not flushed before the look for unused keys", NULL);
        rc = ks_service_sweep_dormant(svc, now, &dormant, &full);
        if (s)
            s->dormant_next = full ? 0 : ks_clock_monotonic() + KS_DORMANT_LOOK_EVERY_S;
    }
    /* Usage rows past their keeping: hours after 35 days, days after 400. */
    if (rc == KS_OK && !stopping &&
        svc->store->ops->usage_prune(svc->store, now - KS_USAGE_HOURS_KEPT_DAYS * 86400,
                                     now - KS_USAGE_DAYS_KEPT * 86400) != KS_OK)
        ks_log("warn", "usage prune failed; will retry", NULL);
    int unused;
    svc->store->ops->sweep_lock(svc->store, 0, &unused);
    if (old_tokens || notices || dormant) /* nothing is logged for a pass that found nothing */
        ks_log("info", "sweep", "{s:I, s:I, s:I, s:f}", "old_tokens_due", (json_int_t)old_tokens,
               "keys_owing_notices", (json_int_t)notices, "unused_keys_deactivated", (json_int_t)dormant, "ms",
               (ks_clock_monotonic() - t0) * 1000.0);
    ks_webhook_worker_notify(svc);
    return rc;
}

static void *sweeper_main(void *arg)
{
    ks_service *svc = arg;
    struct ks_sweeper *s = svc->sweeper;
    pthread_setname_np(pthread_self(), "ks-sweeper"); /* in top -H, perf */
    on_sweeper_thread = 1;
    for (;;) {
        int rc = ks_service_sweep_once(svc);
        if (rc != KS_OK)
            ks_log("warn", "sweep failed; will retry", "{s:i}", "code", rc);
        if (sweeper_wait(s, (long)s->interval_s * 1000))
            break;
    }
    return NULL;
}

int ks_sweeper_start(ks_service *svc, int interval_s)
{
    struct ks_sweeper *s = calloc(1, sizeof *s);
    if (!s)
        return KS_ERR_NOMEM;
    s->interval_s = interval_s > 0 ? interval_s : 60;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    svc->sweeper = s;
    if (pthread_create(&s->thread, NULL, sweeper_main, svc) != 0) {
        svc->sweeper = NULL;
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        free(s);
        return KS_ERR_INTERNAL;
    }
    return KS_OK;
}

void ks_sweeper_stop(ks_service *svc)
{
    struct ks_sweeper *s = svc->sweeper;
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    svc->sweeper = NULL;
    free(s);
}
