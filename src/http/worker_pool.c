/*
 * worker_pool.c - see worker_pool.h: one mutex, one condition, a FIFO of
 * jobs linked through the jobs themselves.
 */
#include "http/worker_pool.h"

#include <sched.h>

void ks_worker_pool_init(ks_worker_pool *pool)
{
    pool->n_threads = 0;
    pool->head = pool->tail = NULL;
    pool->stopping = 0;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
}

int ks_worker_pool_submit(ks_worker_pool *pool, ks_pool_job *job)
{
    pthread_mutex_lock(&pool->lock);
    if (pool->stopping || pool->n_threads == 0) {
        pthread_mutex_unlock(&pool->lock);
        return 0;
    }
    job->accepted(job);
    job->next = NULL;
    if (pool->tail)
        pool->tail->next = job;
    else
        pool->head = job;
    pool->tail = job;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    return 1;
}

static void *pool_main(void *arg)
{
    ks_worker_pool *pool = arg;
    pthread_setname_np(pthread_self(), "ks-slow-calls"); /* in top -H, perf */
    /* Batch scheduling: same share of the CPU, but a pool thread woken (by
     * a call, or by its fsync ending) does not preempt a verify worker in
     * the middle of its requests; it runs when one yields, a few ms at
     * most. Best effort: a failure leaves the default policy. */
    struct sched_param batch = {0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->head && !pool->stopping)
            pthread_cond_wait(&pool->wake, &pool->lock);
        ks_pool_job *job = pool->head;
        if (!job)
            break; /* stopping, and the queue is empty */
        pool->head = job->next;
        if (!pool->head)
            pool->tail = NULL;
        pthread_mutex_unlock(&pool->lock);
        job->run(job); /* job may belong to another thread once run returns */
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

int ks_worker_pool_start(ks_worker_pool *pool, int threads)
{
    if (threads > KS_POOL_THREADS_MAX)
        threads = KS_POOL_THREADS_MAX;
    for (; pool->n_threads < threads; pool->n_threads++)
        if (pthread_create(&pool->threads[pool->n_threads], NULL, pool_main, pool) != 0)
            break; /* fewer threads */
    return pool->n_threads;
}

void ks_worker_pool_stop(ks_worker_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->n_threads; i++)
        pthread_join(pool->threads[i], NULL);
    pool->n_threads = 0;
}

void ks_worker_pool_destroy(ks_worker_pool *pool)
{
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
}
