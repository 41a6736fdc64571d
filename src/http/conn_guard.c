/* conn_guard.c - header deadline and per-address connection cap (see conn_guard.h). */
#include "http/conn_guard.h"
#include "core/clock.h"
#include "core/error.h"
#include "metrics/metrics.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct {
    uint64_t key;   /* 0 = free */
    unsigned count;
} addr_slot;

typedef struct {
    pthread_mutex_t lock;
    ks_conn_entry *head;
} shard;

struct ks_conn_guard {
    int header_timeout;
    int per_address;
    ks_cidr *exempt;
    size_t n_exempt;
    shard shards[KS_GUARD_SHARDS];
    /* open connections per address key: linear probing, `mask + 1` slots */
    pthread_mutex_t addr_lock;
    addr_slot *slots;
    size_t mask;
    /* the sweeper */
    pthread_t thread;
    int running;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_wake;
    int stopping;
};

ks_conn_guard *ks_conn_guard_new(int header_timeout, int per_address, int connection_limit, const ks_cidr *exempt,
                                 size_t n_exempt)
{
    ks_conn_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->header_timeout = header_timeout;
    g->per_address = per_address;
    size_t need = 2 * ((size_t)(connection_limit > 0 ? connection_limit : 1024) + 64), cap = 64;
    while (cap < need)
        cap *= 2;
    g->slots = per_address > 0 ? calloc(cap, sizeof *g->slots) : NULL;
    g->mask = cap - 1;
    g->exempt = n_exempt ? malloc(n_exempt * sizeof *exempt) : NULL;
    if ((per_address > 0 && !g->slots) || (n_exempt && !g->exempt)) {
        free(g->slots);
        free(g->exempt);
        free(g);
        return NULL;
    }
    if (n_exempt)
        memcpy(g->exempt, exempt, n_exempt * sizeof *exempt);
    g->n_exempt = n_exempt;
    for (int i = 0; i < KS_GUARD_SHARDS; i++)
        pthread_mutex_init(&g->shards[i].lock, NULL);
    pthread_mutex_init(&g->addr_lock, NULL);
    pthread_mutex_init(&g->stop_lock, NULL);
    pthread_cond_init(&g->stop_wake, NULL);
    return g;
}

/* ---- per-address counts (under addr_lock) ---- */

static size_t slot_of(const ks_conn_guard *g, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & g->mask;
}

static addr_slot *slot_find(ks_conn_guard *g, uint64_t key, int add)
{
    for (size_t i = slot_of(g, key), n = 0; n <= g->mask; i = (i + 1) & g->mask, n++) {
        if (g->slots[i].key == key)
            return &g->slots[i];
        if (g->slots[i].key == 0) {
            if (!add)
                return NULL;
            g->slots[i].key = key;
            g->slots[i].count = 0;
            return &g->slots[i];
        }
    }
    return NULL; /* full: cannot happen, the table has twice the connection limit */
}

/* Frees slot s, moving later slots of the same run back (backward shift). */
static void slot_remove(ks_conn_guard *g, addr_slot *s)
{
    size_t hole = (size_t)(s - g->slots);
    for (size_t i = (hole + 1) & g->mask; g->slots[i].key; i = (i + 1) & g->mask) {
        size_t home = slot_of(g, g->slots[i].key);
        /* i may move to the hole when its home is not in (hole, i] cyclically */
        if (((i - home) & g->mask) >= ((i - hole) & g->mask)) {
            g->slots[hole] = g->slots[i];
            hole = i;
        }
    }
    g->slots[hole].key = 0;
    g->slots[hole].count = 0;
}

/* The address key counted for addr, 0 when it is not capped. */
static uint64_t capped_key(const ks_conn_guard *g, const struct sockaddr *addr)
{
    if (g->per_address <= 0)
        return 0;
    ks_netaddr a;
    ks_netaddr_from_sockaddr(addr, &a);
    if (!a.family || ks_cidr_list_contains(g->exempt, g->n_exempt, &a))
        return 0;
    return ks_netaddr_limit_key(&a);
}

int ks_conn_guard_admit(ks_conn_guard *g, const struct sockaddr *addr)
{
    uint64_t key = capped_key(g, addr);
    if (!key)
        return 1;
    pthread_mutex_lock(&g->addr_lock);
    addr_slot *s = slot_find(g, key, 0);
    int ok = !s || s->count < (unsigned)g->per_address;
    pthread_mutex_unlock(&g->addr_lock);
    if (!ok)
        ks_metrics_abuse(KS_ABUSE_ADDRESS_REFUSED);
    return ok;
}

/* ---- connections ---- */

int ks_conn_guard_open(ks_conn_guard *g, ks_conn_entry *e, int fd, const struct sockaddr *addr)
{
    memset(e, 0, sizeof *e);
    e->fd = fd;
    int over = 0;
    uint64_t key = capped_key(g, addr);
    if (key) {
        pthread_mutex_lock(&g->addr_lock);
        addr_slot *s = slot_find(g, key, 1);
        if (s) {
            s->count++;
            e->counted_key = key;
            over = s->count > (unsigned)g->per_address;
        }
        pthread_mutex_unlock(&g->addr_lock);
    }
    e->shard = (int)(((uintptr_t)e >> 6) % KS_GUARD_SHARDS);
    shard *sh = &g->shards[e->shard];
    pthread_mutex_lock(&sh->lock);
    e->next = sh->head;
    if (sh->head)
        sh->head->prev = e;
    sh->head = e;
    if (over) /* another thread's connection won the last place */
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&sh->lock);
    if (over)
        ks_metrics_abuse(KS_ABUSE_ADDRESS_REFUSED);
    return over ? -1 : 0;
}

void ks_conn_guard_close(ks_conn_guard *g, ks_conn_entry *e)
{
    shard *sh = &g->shards[e->shard];
    pthread_mutex_lock(&sh->lock);
    if (e->prev)
        e->prev->next = e->next;
    else if (sh->head == e)
        sh->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
    e->fd = -1;
    pthread_mutex_unlock(&sh->lock);
    if (e->counted_key) {
        pthread_mutex_lock(&g->addr_lock);
        addr_slot *s = slot_find(g, e->counted_key, 0);
        if (s && s->count > 0 && --s->count == 0)
            slot_remove(g, s);
        pthread_mutex_unlock(&g->addr_lock);
        e->counted_key = 0;
    }
}

/* ---- the sweeper ---- */

/* Bytes the socket has received so far; 0 when the kernel cannot say. */
static uint64_t bytes_received(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    memset(&info, 0, sizeof info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
        return 0;
    return info.tcpi_bytes_received;
}

/* One look at one connection (under its shard lock). */
static void check(ks_conn_guard *g, ks_conn_entry *e, double now)
{
    unsigned r = atomic_load_explicit(&e->requests, memory_order_relaxed);
    if (r & 1) { /* headers complete: the request is being answered */
        e->seen_requests = r;
        e->first_byte_at = 0;
        return;
    }
    if (e->first_byte_at < 0)
        return; /* cut already; closing */
    uint64_t bytes = bytes_received(e->fd);
    if (r != e->seen_requests) { /* a request ended since the last look */
        e->seen_requests = r;
        e->bytes_mark = bytes;
        e->first_byte_at = 0;
        return;
    }
    if (bytes > e->bytes_mark && e->first_byte_at == 0)
        e->first_byte_at = now;
    if (e->first_byte_at > 0 && now - e->first_byte_at >= g->header_timeout) {
        shutdown(e->fd, SHUT_RDWR); /* libmicrohttpd reads the end and closes */
        e->first_byte_at = -1;
        ks_metrics_abuse(KS_ABUSE_HEADER_TIMEOUT);
    }
}

static void *sweeper_main(void *arg)
{
    ks_conn_guard *g = arg;
    pthread_setname_np(pthread_self(), "ks-conn-guard"); /* in top -H, perf */
    pthread_mutex_lock(&g->stop_lock);
    while (!g->stopping) {
        pthread_mutex_unlock(&g->stop_lock);
        double now = ks_clock_monotonic();
        for (int i = 0; i < KS_GUARD_SHARDS; i++) {
            pthread_mutex_lock(&g->shards[i].lock);
            for (ks_conn_entry *e = g->shards[i].head; e; e = e->next)
                check(g, e, now);
            pthread_mutex_unlock(&g->shards[i].lock);
        }
        pthread_mutex_lock(&g->stop_lock);
        struct timespec deadline;
        ks_clock_deadline(&deadline, KS_GUARD_TICK_MS);
        if (!g->stopping)
            pthread_cond_timedwait(&g->stop_wake, &g->stop_lock, &deadline);
    }
    pthread_mutex_unlock(&g->stop_lock);
    return NULL;
}

int ks_conn_guard_start(ks_conn_guard *g)
{
    if (g->header_timeout <= 0 || g->running)
        return KS_OK;
    if (pthread_create(&g->thread, NULL, sweeper_main, g) != 0)
        return KS_ERR_INTERNAL;
    g->running = 1;
    return KS_OK;
}

void ks_conn_guard_free(ks_conn_guard *g)
{
    if (!g)
        return;
    if (g->running) {
        pthread_mutex_lock(&g->stop_lock);
        g->stopping = 1;
        pthread_cond_signal(&g->stop_wake);
        pthread_mutex_unlock(&g->stop_lock);
        pthread_join(g->thread, NULL);
    }
    for (int i = 0; i < KS_GUARD_SHARDS; i++)
        pthread_mutex_destroy(&g->shards[i].lock);
    pthread_mutex_destroy(&g->addr_lock);
    pthread_mutex_destroy(&g->stop_lock);
    pthread_cond_destroy(&g->stop_wake);
    free(g->slots);
    free(g->exempt);
    free(g);
}

