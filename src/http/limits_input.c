/* limits_input.c - a key's limits in a request body (see limits_input.h). */
#include "http/limits_input.h"
#include "http/api.h"
#include "http/json_input.h"
#include "core/error.h"
#include "core/key_limits.h"

#include <string.h>

static int cidr_valid(const char *s)
{
    ks_cidr c;
    return ks_cidr_parse(s, &c) == KS_OK;
}

int ks_json_get_allowed_cidrs(ks_http_request *req, json_t *body, ks_strlist *out)
{
    ks_strlist raw = {0};
    memset(out, 0, sizeof *out);
    int has = ks_json_get_string_array(req, body, "allowed_cidrs", KS_ALLOWED_CIDRS_MAX, cidr_valid,
                                       "IPv4 or IPv6 CIDR or address", &raw);
    if (has <= 0)
        return has;
    size_t bad;
    int rc = ks_allowed_cidrs_normalize((const char *const *)raw.items, raw.count, out, &bad);
    ks_strlist_free(&raw);
    if (rc != KS_OK) {
        ks_http_error(req, rc, rc == KS_ERR_INVALID ? "Field 'allowed_cidrs' holds a range that is not valid." : NULL);
        return -1;
    }
    return 1;
}

int ks_json_get_rate_limit(ks_http_request *req, json_t *body, ks_rate_limit *out)
{
    memset(out, 0, sizeof *out);
    json_t *v = json_object_get(body, "rate_limit");
    if (!v)
        return 0;
    if (json_is_null(v))
        return 1;
    json_t *limit = json_object_get(v, "limit"), *period = json_object_get(v, "period_seconds");
    if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_integer(limit) || !json_is_integer(period) ||
        json_integer_value(limit) < 1 ||
        ks_rate_limit_check(json_integer_value(limit), json_integer_value(period)) != KS_OK) {
        ks_http_errorf(req, KS_ERR_INVALID,
                       "Field 'rate_limit' must be null or {\"limit\": 1 to %d, \"period_seconds\": 1 to %d}.",
                       KS_RATE_LIMIT_MAX, KS_RATE_PERIOD_MAX);
        return -1;
    }
    out->limit = json_integer_value(limit);
    out->period_seconds = (int32_t)json_integer_value(period);
    return 1;
}
