/* log.c - JSON or text log lines on stderr (see log.h). */
#include "log/log.h"
#include "core/clock.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static ks_log_format log_format; /* set once at start */

void ks_log_set_format(ks_log_format format) { log_format = format; }

/* The real time (not the test clock), with milliseconds. */
static void now_text(char out[32])
{
    struct timespec ts;
    struct tm tm;
    ks_clock_wall(&ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void write_text(const char *ts, const char *level, const char *msg, json_t *fields)
{
    char line[2048];
    int n = snprintf(line, sizeof line, "%s %-5s %s", ts, level, msg);
    const char *key;
    json_t *value;
    json_object_foreach(fields, key, value) {
        if (n < 0 || (size_t)n >= sizeof line)
            break;
        char *v = json_is_string(value) ? NULL : json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
        n += snprintf(line + n, sizeof line - (size_t)n, " %s=%s", key, v ? v : json_string_value(value));
        if (v) {
            json_free_t json_free_fn;
            json_get_alloc_funcs(NULL, &json_free_fn);
            json_free_fn(v);
        }
    }
    fprintf(stderr, "%s\n", line);
}

void ks_log(const char *level, const char *msg, const char *fmt, ...)
{
    json_t *fields = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        fields = json_vpack_ex(NULL, 0, fmt, ap);
        va_end(ap);
    }
    if (!fields)
        fields = json_object();
    char ts[32];
    now_text(ts);
    if (log_format == KS_LOG_TEXT) {
        write_text(ts, level, msg, fields);
    } else {
        json_t *line = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level, "msg", msg);
        if (line) {
            json_object_update(line, fields);
            char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (text) {
                fprintf(stderr, "%s\n", text);
                json_free_t json_free_fn;
                json_get_alloc_funcs(NULL, &json_free_fn);
                json_free_fn(text);
            }
            json_decref(line);
        }
    }
    json_decref(fields);
}
