/*
 * fail_throttle.h - failed attempts per client address, in a fixed table
 * updated without locks: the counter behind 429 rate_limited for clients
 * that keep presenting wrong credentials (API.md "Abuse limits").
 *
 * Each address key (ks_netaddr_limit_key: an IPv4 address, an IPv6 /64)
 * counts its failures per minute, estimated over a sliding minute: the
 * previous minute's count weighted by the part of it still inside the last
 * 60 s, plus the current minute's. Past the limit, a failure is refused
 * (the caller answers 429 with Retry-After: the seconds until the estimate
 * falls back to the limit if nothing more fails).
 *
 * Memory is fixed at creation and never grows: KS_THROTTLE_BUCKETS buckets
 * of KS_THROTTLE_WAYS entries of 8 bytes (512 KiB), so at most 65,536
 * addresses are tracked at once. An address that finds its bucket full
 * takes the entry of a stale or the least failing address there, so an
 * attacker with many addresses can at worst make the table forget some
 * counts (never grow it, never block a valid credential). Buckets are
 * chosen by a keyed hash with a per-process random key, so nobody can aim
 * at one bucket.
 *
 * Concurrency: any number of threads call ks_fail_throttle_record at once;
 * each entry is one 64-bit word (tag | minute | previous | current) changed
 * with compare-and-swap. Only failures touch the table: a valid credential
 * costs nothing here.
 */
#ifndef KS_CORE_FAIL_THROTTLE_H
#define KS_CORE_FAIL_THROTTLE_H

#include <stdint.h>

#define KS_THROTTLE_BUCKETS 16384
#define KS_THROTTLE_WAYS 4

typedef struct ks_fail_throttle ks_fail_throttle;

/* A table allowing `limit` failures per minute per address (1..65535).
 * NULL when out of memory. */
ks_fail_throttle *ks_fail_throttle_new(unsigned limit);
void ks_fail_throttle_free(ks_fail_throttle *t);

/* Counts one failure of address key `key` (0: no address: never limited)
 * at now_ms (milliseconds of any monotonic clock). Returns 0 when the
 * failure is within the limit, else the seconds (>= 1) to wait: the
 * caller answers 429. */
__attribute__((warn_unused_result))
int ks_fail_throttle_record(ks_fail_throttle *t, uint64_t key, int64_t now_ms);

/* The estimate of failures in the last minute for key (tests, metrics). */
unsigned ks_fail_throttle_count(ks_fail_throttle *t, uint64_t key, int64_t now_ms);

#endif
