/*
 * limits_input.h - a key's limits in a request body (create and PATCH of
 * generated keys, API.md "Per-key limits and usage"): "allowed_cidrs" and
 * "rate_limit", with 400s that name the field. Getters as json_input.h:
 * 1 present and valid, 0 absent, -1 after a 400.
 */
#ifndef KS_HTTP_LIMITS_INPUT_H
#define KS_HTTP_LIMITS_INPUT_H

#include "http/http.h"
#include "core/model.h"

/* "allowed_cidrs": an array of at most 32 CIDRs or addresses, normalised
 * (core/key_limits.h) into *out (free it with ks_strlist_free). */
int ks_json_get_allowed_cidrs(ks_http_request *req, json_t *body, ks_strlist *out);

/* "rate_limit": null (*out limit 0: none) or {"limit":1..1e9,
 * "period_seconds":1..86400} with nothing else. */
int ks_json_get_rate_limit(ks_http_request *req, json_t *body, ks_rate_limit *out);

#endif
