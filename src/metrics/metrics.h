/*
 * metrics.h - process-wide counters and histograms, rendered as Prometheus
 * text at GET /metrics:
 *   keystile_verify_requests_total{result}      ok and each failure reason
 *   keystile_verify_duration_seconds            histogram of a verify's answer (from reading its
 *                                               headers to the check's end; HTTP not included)
 *   keystile_http_requests_total{route,code}    every answered request
 *   keystile_keys{status}                       keys in the verify index
 *   keystile_store_write_duration_seconds       histogram of store writes
 *   keystile_abuse_events_total{event}          rate_limited (a failed credential
 *                                               answered 429), header_timeout (a
 *                                               connection cut), address_refused
 *   keystile_webhook_deliveries_total{result}   delivery attempts: delivered, retry, failed
 *   keystile_webhook_outbox_depth               deliveries waiting (all nodes' outbox)
 *   keystile_webhook_outbox_oldest_age_seconds  age of the oldest one waiting (0: none)
 *   keystile_leaked_tokens_total{label,action}  tokens reported by secret scanning:
 *                                               false_positive (action none), or
 *                                               true_positive with alert or revoke
 * Recording is a few adds to the thread's own counters: no lock, no
 * locked instruction, no allocation.
 *
 * This is the recording half, what verify, http and service call; it
 * includes nothing of Keystile, so any layer may record. The rendering of
 * /metrics, which reads the index, is metrics/metrics_render.h.
 */
#ifndef KS_METRICS_METRICS_H
#define KS_METRICS_METRICS_H

/* One verify answered with `reason` (a ks_verify_reason) in `seconds`. */
void ks_metrics_verify(int reason, double seconds);
/* Verifies answered so far by this process (all reasons): a sum over the
 * shards, for background work that yields to verify traffic. */
unsigned long long ks_metrics_verify_count(void);
/* route is a pattern string with static storage (the router's), or NULL. */
void ks_metrics_http(const char *route, int status);
void ks_metrics_store_write(double seconds);

/* The abuse limits at work (API.md "Abuse limits"): one event of each kind. */
typedef enum {
    KS_ABUSE_RATE_LIMITED = 0, /* a failed credential answered 429 */
    KS_ABUSE_HEADER_TIMEOUT,   /* a connection cut: headers not complete in time */
    KS_ABUSE_ADDRESS_REFUSED,  /* a connection refused: its address had too many */
    KS_ABUSE_EVENTS
} ks_abuse_event;
void ks_metrics_abuse(ks_abuse_event event);
typedef enum {
    KS_METRICS_DELIVERED = 0,  /* the receiver answered 2xx */
    KS_METRICS_RETRY = 1,      /* it did not: tried again later */
    KS_METRICS_FAILED = 2,     /* it did not for 24 h: given up */
} ks_metrics_delivery_result;
/* One delivery attempt ended with `result`. */
void ks_metrics_webhook_delivery(ks_metrics_delivery_result result);
/* Secret scanning's answers (API.md "Gateways and leaked tokens"). */
typedef enum {
    KS_METRICS_LEAK_FALSE_POSITIVE = 0, /* not a token that verifies */
    KS_METRICS_LEAK_ALERTED = 1,        /* a true positive, audited and raised */
    KS_METRICS_LEAK_REVOKED = 2,        /* a true positive, and its token revoked */
    KS_METRICS_LEAK_RESULTS
} ks_metrics_leak_result;
void ks_metrics_leak(ks_metrics_leak_result result);
/* The outbox as the delivery worker last read it. */
void ks_metrics_webhook_outbox(long long pending, long long oldest_age_seconds);

#endif
