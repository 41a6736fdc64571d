/*
 * metrics_render.h - the rendering half of metrics.h: every metric as
 * Prometheus text for GET /metrics, with the key counts of the verify index.
 * Only the HTTP layer calls it; the layers below record through metrics.h.
 */
#ifndef KS_METRICS_METRICS_RENDER_H
#define KS_METRICS_METRICS_RENDER_H

#include "index/key_index.h"

#include <stddef.h>

/* Renders every metric; *out is malloc'd (the caller frees it). KS_OK or
 * KS_ERR_NOMEM (then nothing is allocated). idx NULL: keys are counted 0. */
int ks_metrics_render(ks_index *idx, char **out, size_t *len);

#endif
