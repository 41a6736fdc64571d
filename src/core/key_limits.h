/*
 * key_limits.h - a generated key's own limits (API.md "Per-key limits and
 * usage"): the addresses it may be used from (allowed_cidrs) and its rate
 * limit, as the API and the command line give them, checked and
 * normalised; their text in the store; and the compiled form verify
 * matches against.
 *
 * allowed_cidrs: at most KS_ALLOWED_CIDRS_MAX IPv4 or IPv6 ranges, each a
 * CIDR or a bare address (one host), normalised to "address/prefix" with
 * host bits cleared (core/netaddr.h); duplicates after that are dropped,
 * the first place kept. No range allows any address.
 * rate_limit: limit 1..KS_RATE_LIMIT_MAX verifies per period_seconds
 * 1..KS_RATE_PERIOD_MAX; limit 0 means none.
 * Nothing here keeps state; every input is bounded.
 */
#ifndef KS_CORE_KEY_LIMITS_H
#define KS_CORE_KEY_LIMITS_H

#include "core/model.h"
#include "core/netaddr.h"

#include <stddef.h>
#include <stdint.h>

#define KS_ALLOWED_CIDRS_MAX 32
#define KS_RATE_LIMIT_MAX 1000000000
#define KS_RATE_PERIOD_MAX 86400
/* The store's text of a full list: 32 ranges of at most 49 bytes, commas. */
#define KS_ALLOWED_CIDRS_TEXT_MAX (KS_ALLOWED_CIDRS_MAX * KS_CIDR_TEXT_MAX)

/* Checks and normalises items[0..n) into *out (zeroed first; free with
 * ks_strlist_free). KS_OK; KS_ERR_INVALID with *bad the index of the first
 * item that is not a range (n itself when there are more than
 * KS_ALLOWED_CIDRS_MAX); KS_ERR_NOMEM. */
int ks_allowed_cidrs_normalize(const char *const *items, size_t n, ks_strlist *out, size_t *bad);

/* KS_OK when limit/period make a rate limit (or limit is 0: none), else
 * KS_ERR_INVALID. */
int ks_rate_limit_check(int64_t limit, int64_t period_seconds);

/* The store's text of a list: the ranges joined by ',' ("" for none), in
 * malloc memory; NULL when out of memory. */
char *ks_allowed_cidrs_join(const ks_strlist *l);

/* Reads the store's text (NULL or "" = none) back into *out (zeroed
 * first), normalising as ks_allowed_cidrs_normalize. KS_OK, KS_ERR_INVALID
 * (text that no write of ours makes: too long, too many or bad ranges),
 * KS_ERR_NOMEM. */
int ks_allowed_cidrs_split(const char *text, ks_strlist *out);

/* The ranges of l (normalised text) in compiled form into out[0..max),
 * their number in *n. KS_OK or KS_ERR_INVALID (a bad range, more than
 * max). */
int ks_allowed_cidrs_compile(const ks_strlist *l, ks_cidr *out, size_t max, size_t *n);

#endif
