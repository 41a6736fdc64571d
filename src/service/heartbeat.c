/* heartbeat.c - this node's heartbeat and the live node count (see heartbeat.h). */
#include "service/heartbeat.h"
#include "core/clock.h"
#include "core/error.h"
#include "index/limits.h"
#include "log/log.h"

#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>

#define PRUNE_SECONDS 3600 /* rows of nodes gone this long are deleted */

struct ks_heartbeat {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    char node_id[33];
    atomic_int nodes;
};

/* One heartbeat: writes the row, counts the live nodes, tells the index. */
static void beat(ks_service *svc, struct ks_heartbeat *h)
{
    int64_t now = ks_clock_now();
    int live = 0;
    int rc = svc->store->ops->node_heartbeat(svc->store, h->node_id, now, now - KS_NODE_LIVE_SECONDS,
                                             now - PRUNE_SECONDS, &live);
    if (rc != KS_OK)
        return; /* keep the last count until the database answers again */
    if (live < 1)
        live = 1;
    if (atomic_exchange(&h->nodes, live) != live)
        ks_log("info", "live nodes", "{s:i}", "nodes", live);
    ks_index_set_nodes(svc->index, (uint32_t)live);
}

static void *heartbeat_main(void *arg)
{
    ks_service *svc = arg;
    struct ks_heartbeat *h = svc->heartbeat;
    pthread_setname_np(pthread_self(), "ks-heartbeat"); /* in top -H, perf */
    for (;;) {
        struct timespec until;
        ks_clock_deadline(&until, KS_HEARTBEAT_SECONDS * 1000L);
        pthread_mutex_lock(&h->lock);
        int wait = 0;
        while (!h->stop && wait != ETIMEDOUT)
            wait = pthread_cond_timedwait(&h->wake, &h->lock, &until);
        int stop = h->stop;
        pthread_mutex_unlock(&h->lock);
        if (stop)
            break;
        beat(svc, h);
    }
    return NULL;
}

int ks_heartbeat_start(ks_service *svc)
{
    if (!svc->store->ops->change_feed || !svc->index || !svc->store->ops->node_heartbeat)
        return KS_OK;
    struct ks_heartbeat *h = calloc(1, sizeof *h);
    if (!h)
        return KS_ERR_NOMEM;
    unsigned char id[16];
    randombytes_buf(id, sizeof id);
    sodium_bin2hex(h->node_id, sizeof h->node_id, id, sizeof id);
    atomic_init(&h->nodes, 1);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    svc->heartbeat = h;
    beat(svc, h);
    if (pthread_create(&h->thread, NULL, heartbeat_main, svc) != 0) {
        svc->heartbeat = NULL;
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->wake);
        free(h);
        return KS_ERR_INTERNAL;
    }
    return KS_OK;
}

void ks_heartbeat_stop(ks_service *svc)
{
    struct ks_heartbeat *h = svc->heartbeat;
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stop = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    int live;
    int64_t now = ks_clock_now();
    svc->store->ops->node_heartbeat(svc->store, h->node_id, 0, now - KS_NODE_LIVE_SECONDS, now - PRUNE_SECONDS,
                                    &live); /* leaving: the others count one less at once */
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    svc->heartbeat = NULL;
    free(h);
}

int ks_heartbeat_nodes(const ks_service *svc)
{
    return svc->heartbeat ? atomic_load(&svc->heartbeat->nodes) : 1;
}
