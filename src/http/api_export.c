/*
 * api_export.c - GET /api/v1/accounts/{a}/keys/export[?format=csv|xlsx]
 * [&include=limits]: every generated and external key of the account (needs
 * view-api-keys); include=limits adds the per-key limits' columns after the
 * contract's ten.
 */
#include "http/api.h"
#include "http/auth.h"
#include "export/export.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/roles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_PAGE 500

/* Collects every generated key of the account, page by page. */
static int collect_generated(ks_service *svc, const char *account, int months, int64_t now,
                             ks_export_rows *rows)
{
    ks_key_filter f = {NULL, -1, -1, now, 0, EXPORT_PAGE};
    int rc;
    do {
        ks_key_page page = {0};
        if ((rc = ks_service_key_list(svc, account, &f, &page)) != KS_OK)
            return rc;
        for (size_t i = 0; rc == KS_OK && i < page.count; i++)
            rc = ks_export_add(rows, &page.items[i], NULL, months, now);
        f.before_seq = page.next_seq;
        ks_key_page_free(&page);
    } while (rc == KS_OK && f.before_seq);
    return rc;
}

static int collect_external(ks_service *svc, const char *account, int64_t now, ks_export_rows *rows)
{
    ks_key *keys = NULL;
    size_t n = 0;
    int rc = ks_service_external_list(svc, account, &keys, &n);
    for (size_t i = 0; rc == KS_OK && i < n; i++) {
        ks_settings home;
        const ks_grant *grant = ks_key_grant(&keys[i], account);
        if (!grant)
            continue;
        if ((rc = ks_service_settings_get(svc, keys[i].account, &home)) == KS_OK)
            rc = ks_export_add(rows, &keys[i], grant, home.token_duration_months, now);
    }
    ks_keys_free(keys, n);
    return rc;
}

void ks_api_keys_export(ks_http_request *req)
{
    static const char *const FORMATS[] = {"csv", "xlsx", NULL};
    const char *account = ks_http_account(req);
    ks_export_rows generated = {0}, external = {0};
    int format = ks_http_param_enum(req, "format", FORMATS, 0);
    if (format < 0)
        goto out;
    const char *include = ks_http_param_get(req, "include");
    int columns = KS_EXPORT_COLUMNS;
    if (include && strcmp(include, "limits") == 0) {
        columns = KS_EXPORT_COLUMNS_LIMITS;
    } else if (include && *include) {
        ks_http_errorf(req, KS_ERR_INVALID, "Parameter 'include' must be limits (or left out).");
        goto out;
    }
    int64_t now = ks_clock_now();
    ks_settings settings;
    int rc = ks_service_settings_get(req->svc, account, &settings);
    if (rc == KS_OK)
        rc = collect_generated(req->svc, account, settings.token_duration_months, now, &generated);
    if (rc == KS_OK)
        rc = collect_external(req->svc, account, now, &external);
    char *body = NULL;
    size_t len = 0;
    if (rc == KS_OK)
        rc = format == 1 ? ks_export_xlsx(&generated, &external, columns, getenv("TMPDIR"), &body, &len)
                         : ks_export_csv(&generated, &external, columns, &body, &len);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        goto out;
    }
    char disposition[128];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"keystile-%s-keys.%s\"", account,
             FORMATS[format]);
    req->res.status = 200;
    req->res.raw = body;
    req->res.raw_len = len;
    req->res.content_type = format == 1 ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                        : "text/csv; charset=utf-8";
    ks_http_header(req, "Content-Disposition", disposition);
out:
    ks_export_rows_free(&generated);
    ks_export_rows_free(&external);
}
