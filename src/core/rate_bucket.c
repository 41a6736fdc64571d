/* rate_bucket.c - a key's token bucket as GCRA (see rate_bucket.h). */
#include "core/rate_bucket.h"

void ks_rate_shape_of(int64_t limit, int64_t period_seconds, uint32_t nodes, ks_rate_shape *out)
{
    if (limit < 1)
        limit = 1;
    if (period_seconds < 1)
        period_seconds = 1;
    if (nodes < 1)
        nodes = 1;
    int64_t share = (limit + (int64_t)nodes - 1) / (int64_t)nodes;
    int64_t period = period_seconds * KS_NS_PER_SECOND; /* at most 86400e9: no overflow */
    out->limit = share;
    out->interval = (period + share - 1) / share;
    out->window = out->interval * share; /* <= period + share - 1 */
}

int64_t ks_rate_decide(const ks_rate_shape *s, int64_t tat, int64_t now, ks_rate_outcome *out)
{
    int64_t from = tat > now ? tat : now;
    int64_t next = from + s->interval;
    out->limit = s->limit;
    if (next - now > s->window) {
        out->allowed = 0;
        out->remaining = 0;
        out->full_in = tat > now ? tat - now : 0;
        out->retry_in = next - now - s->window;
        return tat;
    }
    out->allowed = 1;
    out->remaining = (s->window - (next - now)) / s->interval;
    out->full_in = next - now;
    out->retry_in = 0;
    return next;
}

void ks_rate_take(_Atomic int64_t *tat, const ks_rate_shape *s, int64_t now, ks_rate_outcome *out)
{
    int64_t seen = atomic_load_explicit(tat, memory_order_relaxed);
    for (;;) {
        int64_t next = ks_rate_decide(s, seen, now, out);
        if (!out->allowed)
            return;
        if (atomic_compare_exchange_weak_explicit(tat, &seen, next, memory_order_relaxed, memory_order_relaxed))
            return;
    }
}

int64_t ks_rate_ceil_seconds(int64_t ns)
{
    return ns <= 0 ? 0 : (ns + KS_NS_PER_SECOND - 1) / KS_NS_PER_SECOND;
}
