/* token_age.c - durations, outdated tokens and renewal alerts. */
#include "core/token_age.h"
#include "core/clock.h"

int64_t ks_token_expires_at(int64_t created_at, int months)
{
    return ks_time_add_months(created_at, months);
}

int ks_token_outdated(int64_t created_at, int months, int64_t now)
{
    return now > ks_token_expires_at(created_at, months);
}

ks_renewal_alert ks_renewal_alert_of(int64_t created_at, int months, int64_t now)
{
    if (now > ks_time_add_months(created_at, months + KS_HIGH_ALERT_EXTRA_MONTHS))
        return KS_ALERT_HIGHLY_RECOMMENDED;
    if (now > ks_time_add_months(created_at, months))
        return KS_ALERT_RECOMMENDED;
    return KS_ALERT_NONE;
}

const char *ks_renewal_alert_name(ks_renewal_alert alert)
{
    switch (alert) {
    case KS_ALERT_RECOMMENDED: return "recommended";
    case KS_ALERT_HIGHLY_RECOMMENDED: return "highly_recommended";
    default: return "none";
    }
}

int ks_token_duration_valid(int months)
{
    return months == 3 || months == 6;
}
