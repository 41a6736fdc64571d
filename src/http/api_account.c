/*
 * api_account.c - /api/v1/accounts/{a}/settings (GET: view-api-keys or
 * edit-api-keys-settings; PUT: edit-api-keys-settings) and /audit
 * (view-audit-log). The router authorises each call (router.c).
 */
#include "http/api.h"
#include "http/auth.h"
#include "http/json_input.h"
#include "http/key_json.h"
#include "core/error.h"
#include "core/roles.h"
#include "core/token_age.h"

static const char *path_account(const ks_http_request *req) { return req->segments[3]; }

static json_t *settings_json(const ks_settings *s)
{
    return json_pack("{s:i, s:b}", "token_duration_months", s->token_duration_months,
                     "enforce_duration", s->enforce_duration);
}

void ks_api_settings_get(ks_http_request *req)
{
    ks_settings s;
    int rc = ks_service_settings_get(req->svc, path_account(req), &s);
    if (rc == KS_OK)
        ks_http_json(req, 200, settings_json(&s));
    else
        ks_http_error(req, rc, NULL);
}

void ks_api_settings_put(ks_http_request *req)
{
    static const char *const FIELDS[] = {"token_duration_months", "enforce_duration", NULL};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        goto out;
    ks_settings s;
    int rc = ks_service_settings_get(req->svc, path_account(req), &s);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        goto out;
    }
    long long months = s.token_duration_months;
    int has_months = ks_json_get_int(req, body, "token_duration_months", &months);
    if (has_months < 0)
        goto out;
    if (has_months && (months < 0 || months > 12 || !ks_token_duration_valid((int)months))) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'token_duration_months' must be 3 or 6.");
        goto out;
    }
    int has_enforce = ks_json_get_bool(req, body, "enforce_duration", &s.enforce_duration);
    if (has_enforce < 0)
        goto out;
    if (!has_months && !has_enforce) {
        ks_http_error(req, KS_ERR_INVALID, "Send 'token_duration_months' and/or 'enforce_duration'.");
        goto out;
    }
    s.token_duration_months = (int)months;
    rc = ks_service_settings_put(req->svc, &req->who, &s);
    if (rc == KS_OK)
        ks_http_json(req, 200, settings_json(&s));
    else
        ks_http_error(req, rc, NULL);
out:
    json_decref(body);
}

void ks_api_audit_list(ks_http_request *req)
{
    long limit;
    if (ks_http_param_int(req, "limit", 1, 500, 50, &limit) == 0) {
        ks_audit_record *items = NULL;
        size_t n = 0;
        int rc = ks_service_audit_list(req->svc, path_account(req), (int)limit, &items, &n);
        if (rc == KS_OK) {
            json_t *arr = json_array();
            for (size_t i = 0; arr && i < n; i++) {
                json_t *detail = json_loads(items[i].detail, 0, NULL);
                json_array_append_new(arr, json_pack("{s:o, s:s, s:s, s:s, s:o}", "at", ks_time_to_json(items[i].at),
                                                     "actor", items[i].actor, "action", items[i].action,
                                                     "target", items[i].target,
                                                     "detail", detail ? detail : json_object()));
            }
            ks_http_json(req, 200, json_pack("{s:o}", "items", arr));
        } else {
            ks_http_error(req, rc, NULL);
        }
        ks_audit_records_free(items, n);
    }
}
