/*
 * test_token_age.c - unit tests of src/core/clock.c and src/core/token_age.c:
 * calendar-month arithmetic, time formatting, the clock offset, when a token
 * is outdated, renewal alerts and the allowed token durations.
 *
 * Expected times come from an own civil-date computation (utc below) plus
 * literal anchors, independent of libc and of the code under test.
 */
#include "unit.h"

#include "core/clock.h"
#include "core/token_age.h"

#include <stdint.h>
#include <time.h>

/* ---------------------------------------------------------------- helpers */

/* Unix seconds of a UTC civil time (days-from-civil, independent of libc). */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 + s;
}

/* ------------------------------------------------------------- durations */

static void check_add(int64_t from, int months, int64_t want)
{
    int64_t got = ks_time_add_months(from, months);
    if (got != want) {
        char a[KS_TIME_STR_LEN], b[KS_TIME_STR_LEN], c[KS_TIME_STR_LEN];
        ks_time_format(from, a);
        ks_time_format(got, b);
        ks_time_format(want, c);
        UNIT_FAIL("ks_time_add_months(%s, %d) = %s, want %s", a, months, b, c);
    }
}

static void test_time_add_months(void)
{
    check_add(utc(2025, 1, 31, 10, 20, 30), 1, utc(2025, 2, 28, 10, 20, 30));
    check_add(utc(2024, 1, 31, 10, 20, 30), 1, utc(2024, 2, 29, 10, 20, 30)); /* leap */
    check_add(utc(2024, 11, 30, 0, 0, 0), 3, utc(2025, 2, 28, 0, 0, 0));
    check_add(utc(2023, 11, 30, 23, 59, 59), 3, utc(2024, 2, 29, 23, 59, 59));
    check_add(utc(2024, 12, 15, 8, 0, 0), 3, utc(2025, 3, 15, 8, 0, 0)); /* year end */
    check_add(utc(2024, 10, 31, 12, 0, 0), 6, utc(2025, 4, 30, 12, 0, 0));
    check_add(utc(2024, 8, 31, 12, 0, 0), 6, utc(2025, 2, 28, 12, 0, 0));
    check_add(utc(2023, 8, 31, 12, 0, 0), 6, utc(2024, 2, 29, 12, 0, 0));
    check_add(utc(2024, 2, 29, 1, 2, 3), 12, utc(2025, 2, 28, 1, 2, 3));
    check_add(utc(2024, 2, 29, 1, 2, 3), 48, utc(2028, 2, 29, 1, 2, 3));
    check_add(utc(2100, 1, 31, 0, 0, 0), 1, utc(2100, 2, 28, 0, 0, 0)); /* not leap */
    check_add(utc(2000, 1, 31, 0, 0, 0), 1, utc(2000, 2, 29, 0, 0, 0)); /* leap */
    check_add(utc(2025, 3, 31, 0, 0, 0), 1, utc(2025, 4, 30, 0, 0, 0));
    check_add(utc(2025, 5, 31, 0, 0, 0), 1, utc(2025, 6, 30, 0, 0, 0));
    check_add(utc(2025, 1, 15, 12, 0, 0), 3, utc(2025, 4, 15, 12, 0, 0));
    check_add(utc(2025, 9, 30, 6, 0, 0), 3, utc(2025, 12, 30, 6, 0, 0));
    check_add(utc(2025, 10, 1, 0, 0, 0), 3, utc(2026, 1, 1, 0, 0, 0));
    check_add(utc(2025, 12, 31, 23, 59, 59), 1, utc(2026, 1, 31, 23, 59, 59));
    check_add(utc(2025, 12, 31, 23, 59, 59), 2, utc(2026, 2, 28, 23, 59, 59));
    check_add(utc(2025, 6, 10, 0, 0, 0), 0, utc(2025, 6, 10, 0, 0, 0));
    check_add(utc(2025, 6, 10, 0, 0, 0), 24, utc(2027, 6, 10, 0, 0, 0));
    /* Literal anchors, in case utc() and the code shared a mistake. */
    ASSERT_EQ_INT(utc(2025, 1, 15, 12, 0, 0), 1736942400);
    ASSERT_EQ_INT(ks_time_add_months(1736942400, 3), 1744718400);
    ASSERT_EQ_INT(ks_time_add_months(1736942400, 6), 1752580800);
}

/* The arithmetic against libc's gmtime_r/timegm (what it replaced), over
 * every day of 1960-2140 at a varying time of day, for the durations in use
 * and a few more. */
static int64_t libc_add_months(int64_t t, int months)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    int total = tm.tm_year * 12 + tm.tm_mon + months;
    tm.tm_year = total / 12;
    tm.tm_mon = total % 12;
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = tm.tm_year + 1900;
    int dim = DAYS[tm.tm_mon] + (tm.tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (tm.tm_mday > dim)
        tm.tm_mday = dim;
    return (int64_t)timegm(&tm);
}

static void test_time_add_months_matches_libc(void)
{
    static const int MONTHS[] = {0, 1, 2, 3, 6, 9, 11, 12, 15, 48};
    int64_t from = utc(1960, 1, 1, 0, 0, 0), to = utc(2140, 12, 31, 0, 0, 0);
    size_t checked = 0;
    for (int64_t day = from; day <= to; day += 86400) {
        int64_t t = day + (day / 86400 % 86400 + 86400) % 86400; /* some second of that day */
        for (size_t m = 0; m < sizeof MONTHS / sizeof *MONTHS; m++) {
            int64_t want = libc_add_months(t, MONTHS[m]);
            if (ks_time_add_months(t, MONTHS[m]) != want) {
                check_add(t, MONTHS[m], want); /* fails with both dates */
                return;
            }
            checked++;
        }
    }
    ASSERT(checked > 600000);
}

static void test_time_format(void)
{
    char out[KS_TIME_STR_LEN];
    ks_time_format(0, out);
    ASSERT_EQ_STR(out, "1970-01-01T00:00:00Z");
    ks_time_format(1709164800, out);
    ASSERT_EQ_STR(out, "2024-02-29T00:00:00Z");
    ks_time_format(1795831943, out);
    ASSERT_EQ_STR(out, "2026-11-28T02:12:23Z");
    ks_time_format(946684799, out);
    ASSERT_EQ_STR(out, "1999-12-31T23:59:59Z");
    ks_time_format(utc(2038, 1, 19, 3, 14, 8), out); /* past 32-bit time_t */
    ASSERT_EQ_STR(out, "2038-01-19T03:14:08Z");
    ASSERT_EQ_INT(strlen(out), KS_TIME_STR_LEN - 1);
}

static void test_clock_offset(void)
{
    int saved = ks_clock_offset_days();
    ks_clock_set_offset_days(0);
    int64_t a = ks_clock_now();
    ks_clock_set_offset_days(100);
    int64_t b = ks_clock_now();
    ASSERT_EQ_INT(ks_clock_offset_days(), 100);
    ks_clock_set_offset_days(saved);
    int64_t d = b - a - 100 * 86400;
    ASSERT(d >= 0 && d <= 2);
    ASSERT(a > 1700000000); /* a plausible real clock */
}

static void test_token_outdated_boundary(void)
{
    static const int MONTHS[] = {3, 6};
    static const int64_t CREATED[] = {1736942400 /* 2025-01-15T12:00Z */, 1732924800 /* 2024-11-30 */};
    for (size_t m = 0; m < 2; m++) {
        for (size_t c = 0; c < 2; c++) {
            int64_t created = CREATED[c];
            int64_t exp = ks_token_expires_at(created, MONTHS[m]);
            ASSERT_EQ_INT(exp, ks_time_add_months(created, MONTHS[m]));
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], created), 0);
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], exp - 1), 0);
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], exp), 0);
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], exp + 1), 1);
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], exp + 86400 * 400), 1);
        }
    }
    /* Independent anchors. */
    ASSERT_EQ_INT(ks_token_expires_at(1736942400, 3), 1744718400);
    ASSERT_EQ_INT(ks_token_expires_at(utc(2024, 11, 30, 0, 0, 0), 3), utc(2025, 2, 28, 0, 0, 0));
    ASSERT_EQ_INT(ks_token_outdated(utc(2024, 11, 30, 0, 0, 0), 3, utc(2025, 2, 28, 0, 0, 0)), 0);
    ASSERT_EQ_INT(ks_token_outdated(utc(2024, 11, 30, 0, 0, 0), 3, utc(2025, 2, 28, 0, 0, 1)), 1);
}

static void test_renewal_alert_boundaries(void)
{
    const int64_t created = utc(2025, 1, 15, 12, 0, 0);
    struct { int months; int64_t expires, high; } cases[] = {
        {3, utc(2025, 4, 15, 12, 0, 0), utc(2025, 7, 15, 12, 0, 0)},
        {6, utc(2025, 7, 15, 12, 0, 0), utc(2025, 10, 15, 12, 0, 0)},
    };
    for (size_t i = 0; i < 2; i++) {
        int m = cases[i].months;
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, created), KS_ALERT_NONE);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].expires - 1), KS_ALERT_NONE);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].expires), KS_ALERT_NONE);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].expires + 1), KS_ALERT_RECOMMENDED);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].high - 1), KS_ALERT_RECOMMENDED);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].high), KS_ALERT_RECOMMENDED);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].high + 1), KS_ALERT_HIGHLY_RECOMMENDED);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, utc(2030, 1, 1, 0, 0, 0)),
                      KS_ALERT_HIGHLY_RECOMMENDED);
        /* A token from the future (clock skew) is no reason to alert. */
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, created - 86400), KS_ALERT_NONE);
    }
    ASSERT_EQ_STR(ks_renewal_alert_name(KS_ALERT_NONE), "none");
    ASSERT_EQ_STR(ks_renewal_alert_name(KS_ALERT_RECOMMENDED), "recommended");
    ASSERT_EQ_STR(ks_renewal_alert_name(KS_ALERT_HIGHLY_RECOMMENDED), "highly_recommended");
}

static void test_token_duration_valid(void)
{
    ASSERT(ks_token_duration_valid(3));
    ASSERT(ks_token_duration_valid(6));
    static const int BAD[] = {-3, 0, 1, 2, 4, 5, 7, 12, 36};
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++)
        if (ks_token_duration_valid(BAD[i]))
            UNIT_FAIL("duration %d accepted", BAD[i]);
}

int main(void)
{
    RUN(test_time_add_months);
    RUN(test_time_add_months_matches_libc);
    RUN(test_time_format);
    RUN(test_clock_offset);
    RUN(test_token_outdated_boundary);
    RUN(test_renewal_alert_boundaries);
    RUN(test_token_duration_valid);
    return unit_report("token-age");
}
