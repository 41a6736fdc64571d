/* clock.c - the single clock and calendar-month arithmetic (UTC only). */
#include "core/clock.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t clock_offset_seconds; /* set once at start, read-only afterwards */

int64_t ks_clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ks_clock_now_at(&ts);
}

void ks_clock_wall(struct timespec *out)
{
    clock_gettime(CLOCK_REALTIME, out);
}

int64_t ks_clock_now_at(const struct timespec *wall)
{
    return (int64_t)wall->tv_sec + clock_offset_seconds;
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

void ks_clock_set_offset_days(int days) { clock_offset_seconds = (int64_t)days * 86400; }
int ks_clock_offset_days(void) { return (int)(clock_offset_seconds / 86400); }
void ks_clock_set_offset_seconds(int64_t seconds) { clock_offset_seconds = seconds; }

static int days_in_month(int year, int month0)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return DAYS[month0] + (month0 == 1 && leap);
}

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1-12), and
 * back: H. Hinnant's "chrono-compatible low-level date algorithms" (public
 * domain), pure integer arithmetic. gmtime_r/timegm give the same answers
 * but take libc's time-zone lock on every call, which a sweep over every
 * token of a large store (expiry of each) pays thousands of times. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t ks_time_add_months(int64_t t, int months)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400); /* floor */
    int64_t second_of_day = t - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t total = y * 12 + (m - 1) + months;
    int64_t year = total >= 0 ? total / 12 : -((-total + 11) / 12);
    int month0 = (int)(total - year * 12);
    int dim = days_in_month((int)year, month0);
    if (d > dim)
        d = dim; /* Jan 31 + 1 month is the last day of February */
    return days_from_civil(year, month0 + 1, d) * 86400 + second_of_day;
}

void ks_time_format(int64_t t, char out[KS_TIME_STR_LEN])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    if (strftime(out, KS_TIME_STR_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0'; /* only for years past 9999 */
}

int ks_time_parse(const char *text, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!text || strlen(text) < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't'))
        return -1;
    const char *p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p && !(p = strptime(text, "%Y-%m-%dt%H:%M:%S", &tm)))
        return -1;
    if (*p == '.') { /* a fraction of a second: dropped */
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
               p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
        long h = (p[1] - '0') * 10 + (p[2] - '0'), m = (p[4] - '0') * 10 + (p[5] - '0');
        if (h > 23 || m > 59)
            return -1;
        offset = (h * 3600 + m * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    if (tm.tm_sec > 59) /* no leap seconds */
        return -1;
    *out = (int64_t)timegm(&tm) - offset;
    return 0;
}
