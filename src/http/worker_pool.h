/*
 * worker_pool.h - the management pool: a few threads that run the requests
 * which may wait for the store (a durable write waits for fsync), so the
 * libmicrohttpd worker threads keep answering verifies meanwhile.
 *
 * A job is embedded in its owner's state (the server's per-connection
 * state); the pool never allocates. `accepted` runs under the pool's lock
 * just before the job is queued (the server suspends the connection there,
 * so `run` cannot resume it first); `run` runs on a pool thread. Stopping
 * runs every job still queued before the threads exit, so no connection is
 * left suspended.
 */
#ifndef KS_HTTP_WORKER_POOL_H
#define KS_HTTP_WORKER_POOL_H

#include <pthread.h>

#define KS_POOL_THREADS_MAX 16 /* management threads: most wait on the disk (group commit) */

typedef struct ks_pool_job {
    struct ks_pool_job *next;                 /* in the pool's queue */
    void (*accepted)(struct ks_pool_job *job); /* under the pool's lock, before queueing */
    void (*run)(struct ks_pool_job *job);      /* on a pool thread */
} ks_pool_job;

typedef struct {
    pthread_t threads[KS_POOL_THREADS_MAX];
    int n_threads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    ks_pool_job *head, *tail;                 /* queued jobs, oldest first */
    int stopping;
} ks_worker_pool;

/* Sets up an empty pool without threads. */
void ks_worker_pool_init(ks_worker_pool *pool);
/* Starts up to `threads` (at most KS_POOL_THREADS_MAX) threads; returns how
 * many started (with none, ks_worker_pool_submit refuses every job). */
int ks_worker_pool_start(ks_worker_pool *pool, int threads);
/* Queues job. 0 when the pool is stopping or has no thread: the caller runs
 * the job itself (`accepted` was not called); else 1. */
int ks_worker_pool_submit(ks_worker_pool *pool, ks_pool_job *job);
/* Runs what is queued, then joins the threads; new jobs are refused from
 * the call on. May be called again (does nothing then). */
void ks_worker_pool_stop(ks_worker_pool *pool);
/* Frees the lock and condition; the pool must be stopped. */
void ks_worker_pool_destroy(ks_worker_pool *pool);

#endif
