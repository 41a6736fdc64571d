/* clock.c - the single clock and calendar-month arithmetic (UTC only). */
#include "core/clock.h"

#include <time.h>

static int clock_offset_days; /* set once at start, read-only afterwards */

int64_t ks_clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec + (int64_t)clock_offset_days * 86400;
}

void ks_clock_wall(struct timespec *out)
{
    clock_gettime(CLOCK_REALTIME, out);
}

void ks_clock_deadline(struct timespec *out, long ms)
{
    clock_gettime(CLOCK_REALTIME, out);
    out->tv_sec += ms / 1000;
    out->tv_nsec += (ms % 1000) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

double ks_clock_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ks_clock_set_offset_days(int days) { clock_offset_days = days; }
int ks_clock_offset_days(void) { return clock_offset_days; }

static int days_in_month(int year, int month0)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return DAYS[month0] + (month0 == 1 && leap);
}

int64_t ks_time_add_months(int64_t t, int months)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    int total = tm.tm_year * 12 + tm.tm_mon + months;
    tm.tm_year = total / 12;
    tm.tm_mon = total % 12;
    int dim = days_in_month(tm.tm_year + 1900, tm.tm_mon);
    if (tm.tm_mday > dim)
        tm.tm_mday = dim;
    return (int64_t)timegm(&tm);
}

void ks_time_format(int64_t t, char out[KS_TIME_STR_LEN])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    if (strftime(out, KS_TIME_STR_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0'; /* only for years past 9999 */
}
