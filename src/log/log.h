/*
 * log.h - the server's log: one line per event on stderr, as JSON objects
 * (default, for log shippers) or as readable text (--log-format text).
 * Fields are given as a jansson pack format and values, e.g.
 *   ks_log("info", "listening", "{s:s, s:i}", "address", addr, "threads", n);
 * Never pass a token, a credential or a request body.
 */
#ifndef KS_LOG_LOG_H
#define KS_LOG_LOG_H

typedef enum { KS_LOG_JSON = 0, KS_LOG_TEXT = 1 } ks_log_format;

/* Chooses the format; call before threads start. */
void ks_log_set_format(ks_log_format format);

/* Writes one line: time, level, message and the fields (fmt may be NULL). */
void ks_log(const char *level, const char *msg, const char *fmt, ...);

#endif
