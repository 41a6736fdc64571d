/*
 * token_age.h - token duration, `outdated` and `renewal_alert` (API.md).
 *
 * A token expires at created_at + the account's duration in calendar months;
 * it is outdated once now is past that instant. The renewal alert of a key is
 * "recommended" once its current token is outdated and "highly_recommended"
 * once it is older than the duration plus 3 months. Pure functions.
 */
#ifndef KS_CORE_TOKEN_AGE_H
#define KS_CORE_TOKEN_AGE_H

#include <stdint.h>

#define KS_HIGH_ALERT_EXTRA_MONTHS 3

typedef enum {
    KS_ALERT_NONE = 0,
    KS_ALERT_RECOMMENDED = 1,
    KS_ALERT_HIGHLY_RECOMMENDED = 2,
} ks_renewal_alert;

/* When a token made at created_at expires with a duration of `months`. */
int64_t ks_token_expires_at(int64_t created_at, int months);

/* 1 when the token is older than the duration at `now`. */
int ks_token_outdated(int64_t created_at, int months, int64_t now);

/* The alert for a key whose current token was made at created_at. */
ks_renewal_alert ks_renewal_alert_of(int64_t created_at, int months, int64_t now);

/* "none", "recommended" or "highly_recommended". */
const char *ks_renewal_alert_name(ks_renewal_alert alert);

/* 1 when months is an allowed token duration (3 or 6). */
int ks_token_duration_valid(int months);

#endif
