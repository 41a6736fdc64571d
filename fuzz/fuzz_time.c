/*
 * fuzz_time.c - the duration arithmetic of src/core/clock.h and
 * src/core/token_age.h: ks_time_add_months, ks_time_format,
 * ks_token_expires_at, ks_token_outdated, ks_renewal_alert_of.
 *
 * Input: 8 bytes created_at, 8 bytes now (big-endian, each reduced to
 * [0, 9999-12-31T23:59:59Z], the times a key can have), 1 byte months
 * (reduced to 0..120); missing bytes read as zero.
 *
 * Properties (abort() when violated), against an independent civil-calendar
 * computation (days from civil date, no libc time functions):
 *  - t + m months keeps the time of day, lands in the right year and month,
 *    and keeps the day of month clamped to that month's length;
 *  - adding months is monotonic: t <= t + m <= t + (m + 1) months;
 *  - ks_time_format gives "YYYY-MM-DDTHH:MM:SSZ" of the reference date;
 *  - expires_at is t + months; outdated is now > expires_at; the alert is
 *    highly_recommended past t + months + 3, recommended past expires_at,
 *    none otherwise (so: an alert iff outdated), for 3 and 6 months and for
 *    the input's months.
 */
#include "fuzz_util.h"

#include "core/clock.h"
#include "core/token_age.h"

#define TIME_MAX 253402300799LL

typedef struct {
    int64_t year;
    int month, day, hour, minute, second; /* month 1-12 */
} civil;

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static civil civil_from_time(int64_t t)
{
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    civil c;
    c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.year = yoe + era * 400 + (c.month <= 2);
    c.hour = (int)(secs / 3600);
    c.minute = (int)(secs / 60 % 60);
    c.second = (int)(secs % 60);
    return c;
}

static int month_length(int64_t y, int m)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return DAYS[m - 1] + (m == 2 && leap);
}

/* The reference of ks_time_add_months. */
static int64_t ref_add_months(int64_t t, int months)
{
    civil c = civil_from_time(t);
    int64_t total = c.year * 12 + (c.month - 1) + months;
    int64_t y = total / 12;
    int m = (int)(total % 12) + 1;
    int d = c.day < month_length(y, m) ? c.day : month_length(y, m);
    return days_from_civil(y, m, d) * 86400 + c.hour * 3600 + c.minute * 60 + c.second;
}

static int64_t take_time(const uint8_t *data, size_t size, size_t at)
{
    uint64_t v = 0;
    for (size_t i = at; i < at + 8; i++)
        v = v << 8 | (i < size ? data[i] : 0);
    return (int64_t)(v % (uint64_t)(TIME_MAX + 1));
}

static void check_durations(int64_t created, int months, int64_t now)
{
    int64_t expires = ks_token_expires_at(created, months);
    int64_t high = ks_time_add_months(created, months + KS_HIGH_ALERT_EXTRA_MONTHS);
    FUZZ_CHECK(expires == ks_time_add_months(created, months), "expires_at is not created_at + months");
    int outdated = ks_token_outdated(created, months, now);
    FUZZ_CHECK(outdated == (now > expires), "outdated %d at now %lld, expires %lld", outdated, (long long)now,
               (long long)expires);
    ks_renewal_alert alert = ks_renewal_alert_of(created, months, now);
    ks_renewal_alert want = now > high ? KS_ALERT_HIGHLY_RECOMMENDED : now > expires ? KS_ALERT_RECOMMENDED : KS_ALERT_NONE;
    FUZZ_CHECK(alert == want, "alert %d, want %d (created %lld, months %d, now %lld)", alert, want,
               (long long)created, months, (long long)now);
    FUZZ_CHECK((alert != KS_ALERT_NONE) == outdated, "alert %d but outdated %d", alert, outdated);
    const char *name = ks_renewal_alert_name(alert);
    static const char *const NAMES[] = {"none", "recommended", "highly_recommended"};
    FUZZ_CHECK(strcmp(name, NAMES[alert]) == 0, "alert name %s", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t created = take_time(data, size, 0), now = take_time(data, size, 8);
    int months = size > 16 ? data[16] % 121 : 3;

    int64_t sum = ks_time_add_months(created, months), want = ref_add_months(created, months);
    FUZZ_CHECK(sum == want, "%lld + %d months = %lld, want %lld", (long long)created, months, (long long)sum,
               (long long)want);
    FUZZ_CHECK(created <= sum && sum <= ks_time_add_months(created, months + 1), "not monotonic at %lld + %d",
               (long long)created, months);
    civil a = civil_from_time(created), b = civil_from_time(sum);
    FUZZ_CHECK(a.hour == b.hour && a.minute == b.minute && a.second == b.second, "time of day changed");
    FUZZ_CHECK(b.day == (a.day < month_length(b.year, b.month) ? a.day : month_length(b.year, b.month)),
               "day %d became %d", a.day, b.day);

    char text[KS_TIME_STR_LEN], ref[40];
    ks_time_format(created, text);
    snprintf(ref, sizeof ref, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)a.year, a.month, a.day, a.hour,
             a.minute, a.second);
    FUZZ_CHECK(strcmp(text, ref) == 0, "ks_time_format(%lld) = '%s', want '%s'", (long long)created, text, ref);

    check_durations(created, 3, now);
    check_durations(created, 6, now);
    check_durations(created, months, now);
    return 0;
}
