/*
 * api_usage.c - GET /api/v1/accounts/{a}/keys/{key}/usage and
 * GET /api/v1/accounts/{a}/usage (API.md "Per-key limits and usage"):
 * verifies by outcome per hour (default, the last 48 hours) or per day,
 * oldest first, only buckets that counted something; the account's adds
 * its top 10 keys by verifies in the range. What this node counted and has
 * not written yet is written first (service/usage.h), so a read is exact.
 */
#include "http/api.h"
#include "http/key_json.h"
#include "core/clock.h"
#include "core/error.h"
#include "service/usage.h"

#include <stdlib.h>
#include <string.h>

#define TOP_KEYS 10

/* granularity, from, to of the query (to exclusive, both on bucket starts):
 * 0, or -1 after a 400 naming the parameter. */
static int range_of(ks_http_request *req, int *day, int64_t *from, int64_t *to)
{
    const char *g = ks_http_param_get(req, "granularity");
    *day = 0;
    if (g && *g && strcmp(g, "hour") != 0) {
        if (strcmp(g, "day") != 0) {
            ks_http_error(req, KS_ERR_INVALID, "Parameter 'granularity' must be hour or day.");
            return -1;
        }
        *day = 1;
    }
    int64_t span = *day ? 86400 : 3600, now = ks_clock_now();
    *to = now - now % span + span; /* through the current bucket */
    *from = *to - (*day ? 30 : 48) * span;
    const char *names[2] = {"from", "to"};
    int64_t *vals[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        const char *v = ks_http_param_get(req, names[i]);
        if (!v || !*v)
            continue;
        if (ks_time_parse(v, vals[i]) != 0) {
            ks_http_errorf(req, KS_ERR_INVALID, "Parameter '%s' must be an RFC 3339 time such as "
                                                "\"2026-01-31T12:00:00Z\".", names[i]);
            return -1;
        }
    }
    *from = ks_time_floor(*from, span); /* the bucket it falls in */
    if (*to <= *from) {
        ks_http_error(req, KS_ERR_INVALID, "Parameter 'to' must be after 'from'.");
        return -1;
    }
    return 0;
}

static json_t *counts_json(const ks_usage_row *r, json_t *obj)
{
    for (int k = 0; obj && k < KS_USAGE_OUTCOMES; k++)
        json_object_set_new(obj, KS_USAGE_OUTCOME_NAMES[k], json_integer(r->counts[k]));
    return obj;
}

static json_t *items_json(const ks_usage_row *rows, size_t n)
{
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++)
        json_array_append_new(items, counts_json(&rows[i], json_pack("{s:o}", "at", ks_time_to_json(rows[i].at))));
    return items;
}

/* The usage of one key (key_id) or of the account (NULL). */
static void usage_answer(ks_http_request *req, const char *key_id)
{
    int day;
    int64_t from, to;
    if (range_of(req, &day, &from, &to) != 0)
        return;
    ks_service *svc = req->svc;
    const char *account = ks_http_account(req);
    if (key_id) {
        ks_key key = {0};
        int rc = svc->store->ops->key_get(svc->store, account, key_id, &key);
        ks_key_free(&key);
        if (rc != KS_OK) {
            ks_http_error(req, rc, rc == KS_ERR_NOT_FOUND ? "No such key in this account." : NULL);
            return;
        }
    }
    if (ks_usage_flush(svc) != KS_OK) { /* what this node counted: into the store first */
        ks_http_error(req, KS_ERR_STORAGE, NULL);
        return;
    }
    ks_usage_row *rows = NULL, *top = NULL;
    size_t n = 0, n_top = 0;
    int rc = svc->store->ops->usage_list(svc->store, account, key_id, day, from, to, &rows, &n);
    if (rc == KS_OK && !key_id)
        rc = svc->store->ops->usage_top(svc->store, account, day, from, to, TOP_KEYS, &top, &n_top);
    if (rc != KS_OK) {
        free(rows);
        free(top);
        ks_http_error(req, rc, NULL);
        return;
    }
    json_t *body = json_pack("{s:s, s:o}", "granularity", day ? "day" : "hour", "items", items_json(rows, n));
    if (body && !key_id) {
        json_t *keys = json_array();
        for (size_t i = 0; keys && i < n_top; i++) {
            int64_t refused = 0;
            for (int k = 1; k < KS_USAGE_OUTCOMES; k++)
                refused += top[i].counts[k];
            json_array_append_new(keys, json_pack("{s:s, s:I, s:I}", "key", top[i].key_id, "valid",
                                                  (json_int_t)top[i].counts[KS_USAGE_VALID], "refused",
                                                  (json_int_t)refused));
        }
        json_object_set_new(body, "top_keys", keys);
    }
    free(rows);
    free(top);
    ks_http_json(req, 200, body);
}

void ks_api_keys_usage(ks_http_request *req)
{
    usage_answer(req, ks_http_target(req));
}

void ks_api_account_usage(ks_http_request *req)
{
    usage_answer(req, NULL);
}
