/*
 * clock.h - every clock of Keystile, and the time arithmetic of durations.
 *
 * Three clocks, and nothing else in src/ reads the system's:
 *   product time  ks_clock_now(): Unix seconds (UTC) of tokens, audit, durations;
 *                 `serve --clock-offset-days N` moves it N days ahead for tests
 *   wall time     ks_clock_wall(): the real time, for log lines and for the
 *                 deadlines of pthread_cond_timedwait (ks_clock_deadline)
 *   monotonic     ks_clock_monotonic(): seconds that never jump, for intervals
 *                 and latencies
 */
#ifndef KS_CORE_CLOCK_H
#define KS_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define KS_TIME_STR_LEN 21 /* "2026-11-28T02:12:23Z" + NUL */

/* Current time in Unix seconds, moved by the test offset. */
int64_t ks_clock_now(void);

/* The real time, not moved by the test offset (log lines). */
void ks_clock_wall(struct timespec *out);

/* ks_clock_now for the wall time `wall` read already (one clock read
 * serving both, as verify's check and its Date header). */
int64_t ks_clock_now_at(const struct timespec *wall);

/* The real time `ms` milliseconds from now, as pthread_cond_timedwait takes
 * it (CLOCK_REALTIME). */
void ks_clock_deadline(struct timespec *out, long ms);

/* Seconds on a clock that never jumps (CLOCK_MONOTONIC): for intervals. */
double ks_clock_monotonic(void);

/* Sets the test offset in days (0 for the real clock). Call before threads start. */
void ks_clock_set_offset_days(int days);
int ks_clock_offset_days(void);
/* The same in seconds, for offsets of a fraction of a day
 * (--clock-offset-days 1.5); ks_clock_offset_days then reports whole days. */
void ks_clock_set_offset_seconds(int64_t seconds);

/* The start of the `span`-second bucket (a minute, an hour, a day) that
 * Unix time t falls in: rounded down, also before 1970. */
static inline int64_t ks_time_floor(int64_t t, int64_t span)
{
    return t - ((t % span) + span) % span;
}

/* t plus `months` calendar months in UTC; the day of month is clamped to the
 * target month's length (Jan 31 + 1 month = Feb 28/29), time of day kept. */
int64_t ks_time_add_months(int64_t t, int months);

/* Parses an RFC 3339 date-time ("2026-11-28T02:12:23Z", a fraction of a
 * second is allowed and dropped, an offset "+02:00" is applied) into Unix
 * seconds. 0 on success, -1 when text is not one. */
int ks_time_parse(const char *text, int64_t *out);

/* Formats t as RFC 3339 UTC ("2026-11-28T02:12:23Z") into out. */
void ks_time_format(int64_t t, char out[KS_TIME_STR_LEN]);

#endif
