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

#include <stdio.h>
#include <string.h>


static json_t *settings_json(const ks_settings *s)
{
    json_t *auto_delete = s->auto_delete_old_token_hours > 0 ? json_integer(s->auto_delete_old_token_hours)
                                                              : json_null();
    json_t *unused = s->deactivate_unused_days > 0 ? json_integer(s->deactivate_unused_days) : json_null();
    return json_pack("{s:i, s:b, s:o, s:i, s:o, s:s}", "token_duration_months", s->token_duration_months,
                     "enforce_duration", s->enforce_duration, "auto_delete_old_token_hours", auto_delete,
                     "renewal_notice_days", s->renewal_notice_days, "deactivate_unused_days", unused,
                     "leaked_token_action", ks_leaked_token_action_name(s->leaked_token_action));
}

/* The sweeps' settings of a PUT body into s: auto_delete_old_token_hours
 * (null or 1-720) and renewal_notice_days (0-60); and leaked_token_action
 * ("alert" or "revoke"). 1 when one was given, 0
 * when none, -1 after a 400 naming the field. */
static int settings_sweeps(ks_http_request *req, json_t *body, ks_settings *s)
{
    int given = 0;
    json_t *v = json_object_get(body, "auto_delete_old_token_hours");
    if (v) {
        given = 1;
        if (json_is_null(v)) {
            s->auto_delete_old_token_hours = 0;
        } else if (json_is_integer(v) && json_integer_value(v) >= 1 &&
                   json_integer_value(v) <= KS_AUTO_DELETE_HOURS_MAX) {
            s->auto_delete_old_token_hours = (int)json_integer_value(v);
        } else {
            ks_http_error(req, KS_ERR_INVALID, "Field 'auto_delete_old_token_hours' must be null or an integer from 1 to 720.");
            return -1;
        }
    }
    v = json_object_get(body, "renewal_notice_days");
    if (v) {
        given = 1;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > KS_RENEWAL_NOTICE_DAYS_MAX) {
            ks_http_error(req, KS_ERR_INVALID, "Field 'renewal_notice_days' must be an integer from 0 to 60.");
            return -1;
        }
        s->renewal_notice_days = (int)json_integer_value(v);
    }
    v = json_object_get(body, "deactivate_unused_days");
    if (v) {
        given = 1;
        if (json_is_null(v)) {
            s->deactivate_unused_days = 0;
        } else if (json_is_integer(v) && json_integer_value(v) >= KS_DEACTIVATE_UNUSED_DAYS_MIN &&
                   json_integer_value(v) <= KS_DEACTIVATE_UNUSED_DAYS_MAX) {
            s->deactivate_unused_days = (int)json_integer_value(v);
        } else {
            ks_http_error(req, KS_ERR_INVALID, "Field 'deactivate_unused_days' must be null or an integer from 30 to 730.");
            return -1;
        }
    }
    v = json_object_get(body, "leaked_token_action");
    if (v) {
        given = 1;
        int action = ks_leaked_token_action_parse(json_string_value(v));
        if (action < 0) {
            ks_http_error(req, KS_ERR_INVALID, "Field 'leaked_token_action' must be \"alert\" or \"revoke\".");
            return -1;
        }
        s->leaked_token_action = action;
    }
    return given;
}

void ks_api_settings_get(ks_http_request *req)
{
    ks_settings s;
    int rc = ks_service_settings_get(req->svc, ks_http_account(req), &s);
    if (rc == KS_OK)
        ks_http_json(req, 200, settings_json(&s));
    else
        ks_http_error(req, rc, NULL);
}

void ks_api_settings_put(ks_http_request *req)
{
    static const char *const FIELDS[] = {"token_duration_months", "enforce_duration", "auto_delete_old_token_hours",
                                         "renewal_notice_days", "deactivate_unused_days", "leaked_token_action",
                                         NULL};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        goto out;
    ks_settings s;
    int rc = ks_service_settings_get(req->svc, ks_http_account(req), &s);
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
    int has_sweeps = settings_sweeps(req, body, &s);
    if (has_sweeps < 0)
        goto out;
    if (!has_months && !has_enforce && !has_sweeps) {
        ks_http_error(req, KS_ERR_INVALID, "Send at least one of 'token_duration_months', 'enforce_duration', "
                                           "'auto_delete_old_token_hours', 'renewal_notice_days', "
                                           "'deactivate_unused_days', 'leaked_token_action'.");
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

#define AUDIT_FILTER_MAX 256 /* bytes of actor= and action= */

/* A string, or JSON null for NULL (fields not recorded on older entries). */
static json_t *string_or_null(const char *v)
{
    return v ? json_string(v) : json_null();
}

static json_t *audit_entry_json(const ks_audit_record *r)
{
    json_t *detail = json_loads(r->detail, 0, NULL);
    return json_pack("{s:o, s:s, s:s, s:s, s:o, s:o, s:o}", "at", ks_time_to_json(r->at), "actor", r->actor,
                     "action", r->action, "target", r->target, "detail", detail ? detail : json_object(),
                     "via", string_or_null(r->via), "address", string_or_null(r->address));
}

/* An optional exact-match filter parameter ("" = none): 0, or -1 after a 400. */
static int audit_filter_param(ks_http_request *req, const char *name, const char **out)
{
    const char *v = ks_http_param_get(req, name);
    *out = v && *v ? v : NULL;
    if (*out && strlen(*out) > AUDIT_FILTER_MAX) {
        ks_http_errorf(req, KS_ERR_INVALID, "Parameter '%s' must be at most %d bytes.", name, AUDIT_FILTER_MAX);
        return -1;
    }
    return 0;
}

/* GET .../audit?limit=&cursor=&actor=&action=: one page, newest first, and
 * the cursor of the next one (null on the last page), as the key list. */
void ks_api_audit_list(ks_http_request *req)
{
    ks_audit_filter f = {0};
    long limit;
    if (ks_http_param_int(req, "limit", 1, KS_AUDIT_PAGE_MAX, 50, &limit) != 0)
        return;
    if (ks_http_param_cursor(req, &f.before_id) != 0 || audit_filter_param(req, "actor", &f.actor) != 0 || audit_filter_param(req, "action", &f.action) != 0)
        return;
    f.limit = (int)limit;
    ks_audit_page page = {0};
    int rc = ks_service_audit_list(req->svc, ks_http_account(req), &f, &page);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < page.count; i++)
        json_array_append_new(items, audit_entry_json(&page.items[i]));
    ks_http_page(req, items, page.next_id);
    ks_audit_page_free(&page);
}
