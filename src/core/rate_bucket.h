/*
 * rate_bucket.h - the token bucket of a key's rate limit, as pure math
 * over one 64-bit state, and its lock-free update.
 *
 * The bucket is kept as GCRA (the generic cell rate algorithm) keeps it:
 * one number, the theoretical arrival time `tat` (nanoseconds on a
 * monotonic clock) at which the bucket would be full again. It is the
 * token bucket of API.md exactly: `limit` verifies at once, refilled at
 * `limit` per period. Each verify that takes a token moves tat one
 * interval (period / limit, rounded up so the bucket never gives more
 * than its limit) later; a verify is refused when that would put tat more
 * than `limit` intervals after now. A state of 0 (or any time in the past)
 * is a full bucket.
 *
 * ks_rate_decide is the decision for a state and a time, with no side
 * effect (so it is tested with a fixed clock); ks_rate_take applies it to
 * a shared state with compare-and-swap: no lock, and two threads never
 * take the same token.
 */
#ifndef KS_CORE_RATE_BUCKET_H
#define KS_CORE_RATE_BUCKET_H

#include <stdatomic.h>
#include <stdint.h>

#define KS_NS_PER_SECOND 1000000000LL

typedef struct {
    int64_t limit;     /* tokens when full, >= 1 */
    int64_t interval;  /* ns one token takes to come back: ceil(period / limit) */
    int64_t window;    /* limit * interval: how far tat may run ahead of now */
} ks_rate_shape;

typedef struct {
    int allowed;       /* 1: a token was taken */
    int64_t limit;     /* the shape's limit */
    int64_t remaining; /* tokens left after this verify */
    int64_t full_in;   /* ns until the bucket is full again (0 = full) */
    int64_t retry_in;  /* refused: ns until a token is back, > 0 */
} ks_rate_outcome;

/* The shape of `limit` per period_seconds, shared by `nodes` nodes (each
 * gets ceil(limit / nodes), at least 1). limit >= 1, period >= 1, nodes >= 1. */
void ks_rate_shape_of(int64_t limit, int64_t period_seconds, uint32_t nodes, ks_rate_shape *out);

/* The decision for a bucket in state tat at `now` (ns): fills *out and
 * returns the state after it (tat itself when refused). */
int64_t ks_rate_decide(const ks_rate_shape *s, int64_t tat, int64_t now, ks_rate_outcome *out);

/* ks_rate_decide on a shared state, updated atomically. */
void ks_rate_take(_Atomic int64_t *tat, const ks_rate_shape *s, int64_t now, ks_rate_outcome *out);

/* Whole seconds covering ns (rounded up; 0 for ns <= 0). */
int64_t ks_rate_ceil_seconds(int64_t ns);

#endif
