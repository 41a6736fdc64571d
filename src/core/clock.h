/*
 * clock.h - the one clock of Keystile, and the time arithmetic of durations.
 *
 * All times are Unix seconds (UTC). `serve --clock-offset-days N` moves the clock
 * N days ahead for tests of durations and alerts; ks_clock_now() adds the offset.
 */
#ifndef KS_CORE_CLOCK_H
#define KS_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define KS_TIME_STR_LEN 21 /* "2026-11-28T02:12:23Z" + NUL */

/* Current time in Unix seconds, moved by the test offset. */
int64_t ks_clock_now(void);

/* Sets the test offset in days (0 for the real clock). Call before threads start. */
void ks_clock_set_offset_days(int days);
int ks_clock_offset_days(void);

/* t plus `months` calendar months in UTC; the day of month is clamped to the
 * target month's length (Jan 31 + 1 month = Feb 28/29), time of day kept. */
int64_t ks_time_add_months(int64_t t, int months);

/* Formats t as RFC 3339 UTC ("2026-11-28T02:12:23Z") into out. */
void ks_time_format(int64_t t, char out[KS_TIME_STR_LEN]);

#endif
