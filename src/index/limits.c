/* limits.c - a key's allowed ranges and token bucket in the index (see limits.h). */
#include "index/limits.h"
#include "index/index_internal.h"
#include "core/error.h"
#include "core/key_limits.h"

#include <stdlib.h>
#include <string.h>

void ks_index_set_nodes(ks_index *idx, uint32_t nodes)
{
    atomic_store_explicit(&idx->nodes, nodes ? nodes : 1, memory_order_relaxed);
}

uint32_t ks_index_nodes(const ks_index *idx)
{
    uint32_t n = atomic_load_explicit(&((ks_index *)idx)->nodes, memory_order_relaxed);
    return n ? n : 1;
}

void ks_index_limits_take(const ks_index *idx, const ks_index_limits *l, int64_t now_ns, ks_rate_outcome *out)
{
    if (l->rate_limit <= 0) {
        memset(out, 0, sizeof *out);
        out->allowed = 1;
        return;
    }
    uint32_t nodes = atomic_load_explicit(&((ks_index *)idx)->nodes, memory_order_relaxed);
    if (nodes <= 1) { /* no division on the common path */
        ks_rate_shape alone = {l->rate_limit, l->interval, l->rate_limit * l->interval};
        ks_rate_take((_Atomic int64_t *)&l->tat, &alone, now_ns, out);
        return;
    }
    ks_rate_shape shape;
    ks_rate_shape_of(l->rate_limit, l->rate_period, nodes, &shape);
    ks_rate_take((_Atomic int64_t *)&l->tat, &shape, now_ns, out);
}

int ks_index_limits_build(const ks_key *key, ks_index_limits **out)
{
    *out = NULL;
    size_t n = key->allowed_cidrs.count;
    if (n == 0 && key->rate_limit.limit <= 0)
        return KS_OK;
    if (n > KS_ALLOWED_CIDRS_MAX)
        return KS_ERR_INVALID;
    ks_cidr cidrs[KS_ALLOWED_CIDRS_MAX];
    size_t got, n_v6 = 0;
    if (ks_allowed_cidrs_compile(&key->allowed_cidrs, cidrs, n, &got) != KS_OK)
        return KS_ERR_INVALID;
    for (size_t i = 0; i < got; i++)
        n_v6 += cidrs[i].addr.family != 4;
    size_t words = 4 * n_v6 + (got - n_v6); /* a ks_cidr_v6 is 4 words, a ks_cidr_v4 one */
    ks_index_limits *l = calloc(1, sizeof *l + words * sizeof l->ranges[0]);
    if (!l)
        return KS_ERR_NOMEM;
    l->n_v6 = (uint8_t)n_v6;
    l->n_v4 = (uint8_t)(got - n_v6);
    l->n_cidrs = (uint16_t)got;
    ks_cidr_v6 *v6 = (ks_cidr_v6 *)(void *)l->ranges;
    ks_cidr_v4 *v4 = (ks_cidr_v4 *)(void *)(l->ranges + 4 * n_v6);
    for (size_t i = 0; i < got; i++) {
        ks_cidr_v4 four;
        ks_cidr_v6 six;
        if (ks_cidr_match_of(&cidrs[i], &four, &six) == 4)
            *v4++ = four;
        else
            *v6++ = six;
    }
    if (key->rate_limit.limit > 0) {
        ks_rate_shape alone;
        l->rate_limit = key->rate_limit.limit;
        l->rate_period = key->rate_limit.period_seconds;
        ks_rate_shape_of(l->rate_limit, l->rate_period, 1, &alone);
        l->interval = alone.interval;
    }
    atomic_init(&l->tat, 0);
    l->refs = 1;
    *out = l;
    return KS_OK;
}

static int same_ranges(const ks_index_limits *a, const ks_index_limits *b)
{
    return a->n_v4 == b->n_v4 && a->n_v6 == b->n_v6 &&
           memcmp(a->ranges, b->ranges, (4 * (size_t)a->n_v6 + a->n_v4) * sizeof a->ranges[0]) == 0;
}

void ks_index_limits_pass_on(ks_index_key *e, const ks_index_key *old)
{
    ks_index_limits *mine = (ks_index_limits *)e->limits;
    const ks_index_limits *theirs = old->limits;
    if (!mine || !theirs || mine == theirs || mine->rate_limit != theirs->rate_limit ||
        mine->rate_period != theirs->rate_period)
        return;
    if (same_ranges(mine, theirs)) {
        ks_index_limits_drop_now(mine); /* never published */
        ks_index_limits_acquire(theirs);
        e->limits = theirs;
        return;
    }
    atomic_store_explicit(&mine->tat, atomic_load_explicit(&((ks_index_limits *)theirs)->tat, memory_order_relaxed),
                          memory_order_relaxed);
}

void ks_index_limits_acquire(const ks_index_limits *l)
{
    if (l)
        ((ks_index_limits *)l)->refs++;
}

void ks_index_limits_release(ks_index *idx, const ks_index_limits *l)
{
    if (l && --((ks_index_limits *)l)->refs == 0)
        ks_index_retire_(idx, (void *)l, free);
}

void ks_index_limits_drop_now(const ks_index_limits *l)
{
    if (l && --((ks_index_limits *)l)->refs == 0)
        free((void *)l);
}
