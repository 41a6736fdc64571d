/*
 * webhook_worker.c - the delivery worker of webhooks.h: one thread per node
 * driving a libcurl multi handle.
 *
 * Each turn it takes (store delivery_claim) as many due deliveries as it
 * has free slots (KS_WEBHOOK_IN_FLIGHT at most under way), signs each as
 * Standard Webhooks do (core/webhook.h) with the webhook's secret, opened
 * just for that and wiped, and POSTs the event's body. An answer 2xx within
 * KS_WEBHOOK_TIMEOUT_S seconds delivers it; anything else schedules the
 * next attempt after ks_webhook_retry_delay, until 24 h after the event,
 * when the delivery is marked failed. A claim is a lease: a node that dies
 * mid-attempt leaves the delivery to be retried when it ends (at least
 * once); SQLite, owned by one process, drops leases at start.
 *
 * The thread sleeps in curl_multi_poll: up to a second when idle (the
 * outbox is also fed by other nodes), woken at once by
 * ks_webhook_worker_wake. It claims when woken, when an attempt ended, and
 * once a second, not on every socket event. Each attempt has a connection
 * of its own (no reuse: see attempt_start). Every few seconds it reads the outbox's depth
 * and age for /metrics, and once an hour purges finished deliveries older
 * than 30 days. Connections go only where --webhook-deny allows: every
 * address libcurl is about to connect to is checked (after name
 * resolution), redirects are not followed, only http and https are
 * spoken, and at most 64 KiB of an answer is read (and dropped).
 */
#include "service/webhooks.h"
#include "core/clock.h"
#include "core/error.h"
#include "log/log.h"
#include "metrics/metrics.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_IDLE_MS 1000
#define STATS_EVERY_S 5.0
#define PURGE_EVERY_S 3600.0
#define KEEP_FINISHED_S (30 * 86400)
#define ANSWER_MAX (64 * 1024)

typedef struct ks_webhook_worker ks_webhook_worker;

/* One attempt under way. */
typedef struct {
    ks_webhook_worker *worker;
    CURL *easy;
    struct curl_slist *headers;
    ks_delivery d;               /* as claimed (url, body, sealed secret) */
    size_t answer_bytes;         /* read so far, to cut at ANSWER_MAX */
    int denied;                  /* the connection was refused by --webhook-deny */
    int in_use;
} attempt;

struct ks_webhook_worker {
    ks_service *svc;
    pthread_t thread;
    CURLM *multi;
    _Atomic int stop;
    attempt slots[KS_WEBHOOK_IN_FLIGHT];
    int in_flight;
    _Atomic int claim_wanted; /* woken for new events, or a slot was freed */
    _Atomic uint64_t outbox_seen; /* store outbox_writes when it last claimed */
};

static size_t answer_drop(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    attempt *a = arg;
    a->answer_bytes += size * n;
    return a->answer_bytes > ANSWER_MAX ? 0 : size * n; /* 0: libcurl ends the transfer */
}

/* libcurl's socket, refused for an address in a denied range. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    attempt *a = arg;
    (void)purpose;
    const ks_webhook_options *o = &a->worker->svc->webhook_options;
    ks_netaddr target;
    ks_netaddr_from_sockaddr(&addr->addr, &target);
    if (target.family && ks_cidr_list_contains(o->deny, o->n_deny, &target)) {
        a->denied = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

/* The headers of a delivery: JSON, the Standard Webhooks three. NULL when
 * the secret does not open or memory runs out. */
static struct curl_slist *delivery_headers(ks_webhook_worker *w, const ks_delivery *d, int64_t now)
{
    unsigned char key[KS_WEBHOOK_SECRET_BYTES_MAX];
    size_t key_len;
    char sig[KS_WEBHOOK_SIGNATURE_MAX];
    if (ks_service_webhook_secret_open(w->svc, d->sealed_secret, d->sealed_len, key, &key_len) != KS_OK)
        return NULL;
    int rc = ks_webhook_sign(key, key_len, d->event_id, now, d->body, strlen(d->body), sig);
    sodium_memzero(key, sizeof key);
    if (rc != KS_OK)
        return NULL;
    char id_line[128], ts_line[64], sig_line[KS_WEBHOOK_SIGNATURE_MAX + 32];
    snprintf(id_line, sizeof id_line, "webhook-id: %s", d->event_id);
    snprintf(ts_line, sizeof ts_line, "webhook-timestamp: %lld", (long long)now);
    snprintf(sig_line, sizeof sig_line, "webhook-signature: %s", sig);
    const char *const lines[] = {"Content-Type: application/json", id_line, ts_line, sig_line,
                                 "User-Agent: Keystile-Webhooks/1", "Expect:" /* no 100-continue round trip */};
    struct curl_slist *h = NULL;
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        struct curl_slist *more = curl_slist_append(h, lines[i]);
        if (!more) { /* the list so far is still ours to free */
            curl_slist_free_all(h);
            return NULL;
        }
        h = more;
    }
    return h;
}

/* Records how an attempt ended: delivered on 2xx, else retried later or,
 * 24 h after the event, failed. */
static void attempt_finish(ks_webhook_worker *w, attempt *a, long code)
{
    int64_t now = ks_clock_now();
    int status = KS_DELIVERY_DELIVERED;
    int64_t next = now;
    ks_metrics_delivery_result result = KS_METRICS_DELIVERED;
    if (code < 200 || code > 299) {
        int64_t delay = ks_webhook_retry_delay(a->d.attempts + 1, (double)randombytes_uniform(1000000) / 1e6);
        next = now + delay;
        status = KS_DELIVERY_PENDING;
        result = KS_METRICS_RETRY;
        if (next > a->d.created_at + KS_WEBHOOK_RETRY_SECONDS) {
            status = KS_DELIVERY_FAILED;
            result = KS_METRICS_FAILED;
        }
    }
    ks_metrics_webhook_delivery(result);
    int rc = w->svc->store->ops->delivery_finish(w->svc->store, a->d.id, status, (int)code, now, next);
    if (rc != KS_OK && rc != KS_ERR_NOT_FOUND) /* NOT_FOUND: the webhook was deleted meanwhile */
        ks_log("warn", "webhook delivery result not recorded; it will be retried after its lease",
               "{s:s, s:i}", "event_id", a->d.event_id, "code", (int)code);
    if (a->denied)
        ks_log("warn", "webhook delivery refused: the target address is in a --webhook-deny range",
               "{s:s, s:s}", "webhook", a->d.webhook_id, "event_id", a->d.event_id);
    curl_multi_remove_handle(w->multi, a->easy);
    curl_easy_cleanup(a->easy);
    curl_slist_free_all(a->headers);
    ks_delivery_free(&a->d);
    memset(a, 0, sizeof *a);
    w->in_flight--;
    atomic_store(&w->claim_wanted, 1);
}

/* Starts the attempt of d in a free slot (taking d over). */
static void attempt_start(ks_webhook_worker *w, ks_delivery *d)
{
    attempt *a = NULL;
    for (int i = 0; i < KS_WEBHOOK_IN_FLIGHT && !a; i++)
        if (!w->slots[i].in_use)
            a = &w->slots[i];
    if (!a) { /* cannot happen: we claim no more than the free slots */
        ks_delivery_free(d);
        return;
    }
    memset(a, 0, sizeof *a);
    a->d = *d;
    memset(d, 0, sizeof *d);
    a->in_use = 1;
    a->worker = w;
    w->in_flight++;
    a->easy = curl_easy_init();
    a->headers = a->easy ? delivery_headers(w, &a->d, ks_clock_now()) : NULL;
    if (!a->headers) {
        ks_log("error", "webhook delivery cannot be signed (the server secret changed?)", "{s:s}", "webhook",
               a->d.webhook_id);
        attempt_finish(w, a, 0);
        return;
    }
    CURL *e = a->easy;
    curl_easy_setopt(e, CURLOPT_URL, a->d.url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->d.body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(a->d.body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)KS_WEBHOOK_TIMEOUT_S);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)KS_WEBHOOK_TIMEOUT_S);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, answer_drop);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, a);
    /* One connection per attempt, closed after it: a kept-alive connection
     * in the multi handle's cache would hold a receiver that serves one
     * connection at a time (a single-threaded server) while the next
     * delivery waits on a new connection, until the 10 s timeout. */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    if (curl_multi_add_handle(w->multi, e) != CURLM_OK)
        attempt_finish(w, a, 0);
}

/* Fills the free slots with due deliveries. */
static void claim_due(ks_webhook_worker *w)
{
    size_t free_slots = (size_t)(KS_WEBHOOK_IN_FLIGHT - w->in_flight);
    if (free_slots == 0)
        return;
    int64_t now = ks_clock_now();
    ks_delivery *got = NULL;
    size_t n = 0;
    if (w->svc->store->ops->delivery_claim(w->svc->store, now, now + KS_WEBHOOK_LEASE_S, free_slots, &got, &n) !=
        KS_OK)
        return; /* the store is away: the next turn tries again */
    for (size_t i = 0; i < n; i++)
        attempt_start(w, &got[i]);
    free(got);
}

/* Ends the attempts libcurl says are done. */
static void reap_done(ks_webhook_worker *w)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(w->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        attempt *a = NULL;
        for (int i = 0; i < KS_WEBHOOK_IN_FLIGHT && !a; i++)
            if (w->slots[i].in_use && w->slots[i].easy == m->easy_handle)
                a = &w->slots[i];
        if (!a)
            continue;
        long code = 0;
        if (m->data.result == CURLE_OK)
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        attempt_finish(w, a, code);
    }
}

static void stats_update(ks_webhook_worker *w)
{
    int64_t pending = 0, oldest = 0;
    if (w->svc->store->ops->outbox_stats(w->svc->store, &pending, &oldest) == KS_OK)
        ks_metrics_webhook_outbox(pending, oldest ? ks_clock_now() - oldest : 0);
}

static void *worker_main(void *arg)
{
    ks_webhook_worker *w = arg;
    ks_store *st = w->svc->store;
    pthread_setname_np(pthread_self(), "ks-webhooks"); /* in top -H, perf */
    if (st->ops->delivery_release && st->ops->delivery_release(st) != KS_OK)
        ks_log("warn", "webhook leases of a previous run not released; they end within a minute", NULL);
    double next_stats = 0, next_purge = ks_clock_monotonic() + 60, next_claim = 0;
    while (!atomic_load(&w->stop)) {
        /* The outbox is read when there may be something new for a free
         * slot (woken, or an attempt ended) and every POLL_IDLE_MS for
         * retries coming due and other nodes' events; not on every socket
         * event of the attempts under way. */
        double now = ks_clock_monotonic();
        if (atomic_exchange(&w->claim_wanted, 0) || now >= next_claim) {
            next_claim = now + POLL_IDLE_MS / 1000.0;
            /* Read before the claim: a write counted after this wakes us
             * again; one counted before commits before the claim reads
             * (SQLite: it holds the store's lock from its count to its
             * commit; PostgreSQL: at worst the next look, a second on). */
            atomic_store(&w->outbox_seen, atomic_load(&st->outbox_writes));
            claim_due(w);
        }
        int running = 0;
        curl_multi_perform(w->multi, &running);
        reap_done(w);
        now = ks_clock_monotonic();
        if (now >= next_stats) {
            next_stats = now + STATS_EVERY_S;
            stats_update(w);
        }
        if (now >= next_purge) {
            next_purge = now + PURGE_EVERY_S;
            st->ops->delivery_purge(st, ks_clock_now() - KEEP_FINISHED_S);
        }
        /* Busy: come back soon for results and free slots; idle: at most a
         * second (other nodes feed the outbox too), or when woken. */
        curl_multi_poll(w->multi, NULL, 0, w->in_flight ? 100 : POLL_IDLE_MS, NULL);
    }
    for (int i = 0; i < KS_WEBHOOK_IN_FLIGHT; i++) {
        attempt *a = &w->slots[i];
        if (!a->in_use)
            continue; /* left as claimed: retried when its lease ends */
        curl_multi_remove_handle(w->multi, a->easy);
        curl_easy_cleanup(a->easy);
        curl_slist_free_all(a->headers);
        ks_delivery_free(&a->d);
        a->in_use = 0;
    }
    return NULL;
}

int ks_webhook_worker_start(ks_service *svc, const ks_webhook_options *options)
{
    if (svc->webhook_worker)
        return KS_OK;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return KS_ERR_INTERNAL;
    ks_webhook_worker *w = calloc(1, sizeof *w);
    if (!w)
        return KS_ERR_NOMEM;
    w->svc = svc;
    if (options)
        svc->webhook_options = *options;
    if (!(w->multi = curl_multi_init())) {
        free(w);
        return KS_ERR_INTERNAL;
    }
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        curl_multi_cleanup(w->multi);
        free(w);
        return KS_ERR_INTERNAL;
    }
    svc->webhook_worker = w;
    return KS_OK;
}

void ks_webhook_worker_wake(ks_service *svc)
{
    ks_webhook_worker *w = svc->webhook_worker;
    if (w) {
        atomic_store(&w->claim_wanted, 1);
        curl_multi_wakeup(w->multi);
    }
}

void ks_webhook_worker_notify(ks_service *svc)
{
    ks_webhook_worker *w = svc->webhook_worker;
    if (w && atomic_load(&svc->store->outbox_writes) != atomic_load(&w->outbox_seen))
        ks_webhook_worker_wake(svc);
}

void ks_webhook_worker_stop(ks_service *svc)
{
    ks_webhook_worker *w = svc->webhook_worker;
    if (!w)
        return;
    atomic_store(&w->stop, 1);
    curl_multi_wakeup(w->multi);
    pthread_join(w->thread, NULL);
    curl_multi_cleanup(w->multi);
    svc->webhook_worker = NULL;
    free(w);
}
