/*
 * limits.h - a key's limits in the verify index (API.md "Per-key limits
 * and usage"): its allowed ranges compiled once, when the entry is built,
 * and its token bucket (core/rate_bucket.h), beside the entry.
 *
 * An entry without limits has none (NULL): no memory, one pointer test on
 * verify. An entry with limits points at an immutable ks_index_limits
 * whose only mutable part is the bucket's state, an atomic updated with
 * compare-and-swap (no lock on verify). Entries share a limits object
 * (writer-only reference count): a renewal, a rename or a duration change
 * rebuilds the entry but keeps the very same bucket; an edit of the ranges
 * alone makes a new object that starts from the old bucket's state; only
 * a changed rate limit starts a new, full bucket.
 *
 * Several nodes: each enforces ceil(limit / live nodes); the node count
 * lives in the index (ks_index_set_nodes) and is read on each take.
 *
 * Size: 40 bytes, then the ranges in matching form (core/netaddr.h), IPv6
 * ones first (32 bytes each: net and mask words), then IPv4 ones (8 bytes
 * each), so a match is a mask and a compare per word; 3 ranges (2 IPv4,
 * 1 IPv6) take 88 bytes, a 96-byte malloc chunk.
 */
#ifndef KS_INDEX_LIMITS_H
#define KS_INDEX_LIMITS_H

#include "index/key_index.h"
#include "core/netaddr.h"
#include "core/rate_bucket.h"

struct ks_index_limits {
    _Atomic int64_t tat;        /* the bucket's state (core/rate_bucket.h) */
    int64_t rate_limit;         /* 0 = no rate limit */
    int64_t interval;           /* the bucket's shape on a single node, made once
                                   (its window is rate_limit * interval) */
    int32_t rate_period;
    uint32_t refs;              /* writer: entries using it */
    uint8_t n_v4, n_v6;         /* allowed ranges by family */
    uint16_t n_cidrs;           /* n_v4 + n_v6; 0 = any address */
    uint32_t spare;
    uint64_t ranges[];          /* the ranges in matching form (core/netaddr.h):
                                   n_v6 ks_cidr_v6, then n_v4 ks_cidr_v4 */
};

/* ---- readers (inside a read section) ---- */

static inline const ks_cidr_v6 *ks_index_limits_v6(const ks_index_limits *l)
{
    return (const ks_cidr_v6 *)(const void *)l->ranges;
}

static inline const ks_cidr_v4 *ks_index_limits_v4(const ks_index_limits *l)
{
    return (const ks_cidr_v4 *)(const void *)(l->ranges + 4 * (size_t)l->n_v6);
}

/* 1 when the address may use the key (no ranges, or one contains it); an
 * unknown address (family 0) is outside every range. */
static inline int ks_index_limits_address_ok(const ks_index_limits *l, const ks_netaddr *a)
{
    if (l->n_cidrs == 0)
        return 1;
    if (a->family == 4)
        return ks_cidr_v4_list_contains(ks_index_limits_v4(l), l->n_v4, a);
    return a->family == 6 && ks_cidr_v6_list_contains(ks_index_limits_v6(l), l->n_v6, a);
}

/* Takes a token from the key's bucket at monotonic `now_ns` (with the
 * index's node count); a limits object without rate limit always allows
 * and leaves *out->limit 0. */
void ks_index_limits_take(const ks_index *idx, const ks_index_limits *l, int64_t now_ns, ks_rate_outcome *out);

/* Live nodes sharing rate limits (1 = this node alone); set by the
 * heartbeat (several nodes) and read on each take. */
void ks_index_set_nodes(ks_index *idx, uint32_t nodes);
uint32_t ks_index_nodes(const ks_index *idx);

/* ---- writers (under the index's write lock; index/ only) ---- */

/* The limits of key, compiled: *out NULL when it has none. KS_OK, NOMEM,
 * INVALID (a range that does not parse). */
int ks_index_limits_build(const ks_key *key, ks_index_limits **out);

/* e (not yet published) replaces old: when their limits are equal, e
 * shares old's object (and bucket); when only the ranges differ, e's new
 * bucket starts from old's state. */
void ks_index_limits_pass_on(ks_index_key *e, const ks_index_key *old);

/* One more entry uses l (a clone). */
void ks_index_limits_acquire(const ks_index_limits *l);

/* An entry leaving the table drops its reference; at zero the object is
 * retired (freed once no reader holds it). */
void ks_index_limits_release(ks_index *idx, const ks_index_limits *l);

/* Frees l at once (an entry never published, or index teardown) when its
 * last reference goes. */
void ks_index_limits_drop_now(const ks_index_limits *l);

#endif
