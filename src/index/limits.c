/* limits.c - a key's allowed ranges and token bucket in the index (see limits.h). */
#include "index/limits.h"
#include "index/index_internal.h"
#include "core/error.h"
#include "core/key_limits.h"

#include <stdlib.h>
#include <string.h>

int ks_index_limits_address_ok(const ks_index_limits *l, const ks_netaddr *a)
{
    return l->n_cidrs == 0 || ks_cidr_list_contains(l->cidrs, l->n_cidrs, a);
}

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
    uint32_t nodes = ks_index_nodes(idx);
    if (nodes == 1) { /* no division on the common path */
        ks_rate_take((_Atomic int64_t *)&l->tat, &l->alone, now_ns, out);
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
    ks_index_limits *l = calloc(1, sizeof *l + n * sizeof l->cidrs[0]);
    if (!l)
        return KS_ERR_NOMEM;
    size_t got;
    if (ks_allowed_cidrs_compile(&key->allowed_cidrs, l->cidrs, n, &got) != KS_OK) {
        free(l);
        return KS_ERR_INVALID;
    }
    l->n_cidrs = (uint32_t)got;
    if (key->rate_limit.limit > 0) {
        l->rate_limit = key->rate_limit.limit;
        l->rate_period = key->rate_limit.period_seconds;
        ks_rate_shape_of(l->rate_limit, l->rate_period, 1, &l->alone);
    }
    atomic_init(&l->tat, 0);
    l->refs = 1;
    *out = l;
    return KS_OK;
}

static int same_ranges(const ks_index_limits *a, const ks_index_limits *b)
{
    if (a->n_cidrs != b->n_cidrs)
        return 0;
    for (uint32_t i = 0; i < a->n_cidrs; i++)
        if (a->cidrs[i].prefix != b->cidrs[i].prefix || a->cidrs[i].addr.family != b->cidrs[i].addr.family ||
            memcmp(a->cidrs[i].addr.bytes, b->cidrs[i].addr.bytes, sizeof a->cidrs[i].addr.bytes) != 0)
            return 0;
    return 1;
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
