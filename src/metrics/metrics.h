/*
 * metrics.h - process-wide counters and histograms, rendered as Prometheus
 * text at GET /metrics:
 *   keystile_verify_requests_total{result}      ok and each failure reason
 *   keystile_verify_duration_seconds            histogram of ks_verify
 *   keystile_http_requests_total{route,code}    every answered request
 *   keystile_keys{status}                       keys in the verify index
 *   keystile_store_write_duration_seconds       histogram of store writes
 * Recording is a few relaxed atomic adds: no lock, no allocation.
 */
#ifndef KS_METRICS_METRICS_H
#define KS_METRICS_METRICS_H

#include "index/key_index.h"
#include "verify/verify.h"

#include <stddef.h>

void ks_metrics_verify(ks_verify_reason result, double seconds);
/* route is a pattern string with static storage (the router's), or NULL. */
void ks_metrics_http(const char *route, int status);
void ks_metrics_store_write(double seconds);

/* Renders every metric; *out is malloc'd. KS_OK or KS_ERR_NOMEM. */
int ks_metrics_render(ks_index *idx, char **out, size_t *len);

#endif
