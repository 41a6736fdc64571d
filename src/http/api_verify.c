/*
 * api_verify.c - GET/POST /api/v1/verify, the hot path; GET /healthz and
 * GET /metrics (Prometheus text).
 * 200 {valid:true,...} with X-Keystile-Key / X-Keystile-Account headers,
 * 401 {valid:false, reason} for bad credentials, 403 for forbidden.
 */
#include "http/api.h"
#include "http/auth.h"
#include "http/key_json.h"
#include "core/clock.h"
#include "core/error.h"
#include "metrics/metrics.h"

void ks_api_healthz(ks_http_request *req)
{
    ks_http_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

void ks_api_metrics(ks_http_request *req)
{
    char *text = NULL;
    size_t len = 0;
    int rc = ks_metrics_render(req->svc->index, &text, &len);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    req->res.status = 200;
    req->res.raw = text;
    req->res.raw_len = len;
    req->res.content_type = "text/plain; version=0.0.4; charset=utf-8";
}

void ks_api_verify(ks_http_request *req)
{
    const char *target = ks_http_param_get(req, "account");
    const char *resource = ks_http_param_get(req, "resource");
    ks_verify_result res;
    double t0 = ks_metrics_now();
    int rc = ks_http_verify_credentials(req, target && *target ? target : NULL,
                                        resource && *resource ? resource : NULL, &res);
    if (rc == KS_OK)
        ks_metrics_verify(res.reason, ks_metrics_now() - t0);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    if (res.reason == KS_VERIFY_OK) {
        ks_http_json(req, 200, json_pack("{s:b, s:s, s:s, s:s, s:s, s:o, s:o, s:b}",
                                         "valid", 1, "key", res.key_id, "account", res.account,
                                         "target_account", res.target_account,
                                         "token", ks_slot_name(res.slot),
                                         "roles", ks_strlist_to_json(&res.roles),
                                         "resources", ks_strlist_to_json(&res.resources),
                                         "outdated", res.outdated));
        ks_http_header(req, "X-Keystile-Key", res.key_id);
        ks_http_header(req, "X-Keystile-Account", res.account);
    } else {
        int status = res.reason == KS_VERIFY_FORBIDDEN ? 403 : 401;
        ks_http_json(req, status, json_pack("{s:b, s:s}", "valid", 0, "reason",
                                            ks_verify_reason_name(res.reason)));
        if (status == 401)
            ks_http_header(req, "WWW-Authenticate", "Basic realm=\"keystile\"");
    }
    ks_verify_result_free(&res);
}
