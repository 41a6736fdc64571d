/*
 * api_webhooks.c - /api/v1/accounts/{a}/webhooks... (resource
 * edit-webhooks): list, create (the signing secret in the answer, once),
 * show, edit (url, events, enabled), delete, the deliveries of one
 * (newest first, paged like the key list), and a test event. The router
 * authorises each call (router.c); the service does the rest
 * (service/webhooks.h).
 */
#include "http/api.h"
#include "http/json_input.h"
#include "http/key_json.h"
#include "core/error.h"
#include "core/webhook.h"
#include "service/webhooks.h"

#include <sodium.h>
#include <string.h>

static json_t *webhook_json(const ks_webhook *w)
{
    return json_pack("{s:s, s:s, s:o, s:b, s:o}", "id", w->id, "url", w->url, "events",
                     ks_strlist_to_json(&w->events), "enabled", w->enabled, "created_at",
                     ks_time_to_json(w->created_at));
}

static const char *const STATUS_NAMES[] = {"pending", "delivered", "failed"};

static json_t *delivery_json(const ks_delivery *d)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o}", "event_id", d->event_id, "event", d->event,
                     "status", STATUS_NAMES[(unsigned)d->status < 3 ? d->status : 0], "attempts", d->attempts,
                     "last_attempt_at", ks_time_to_json(d->last_attempt_at),
                     "response_code", d->response_code ? json_integer(d->response_code) : json_null(),
                     "created_at", ks_time_to_json(d->created_at),
                     "next_attempt_at", d->status == KS_DELIVERY_PENDING ? ks_time_to_json(d->next_attempt_at)
                                                                         : json_null());
}

static int event_valid(const char *type)
{
    return ks_event_type_valid(type);
}

/* The error of a webhook write, with messages naming the field. */
static void webhook_error(ks_http_request *req, int rc)
{
    if (rc == KS_ERR_INVALID)
        ks_http_error(req, rc, "Field 'url' must be an http or https URL with a host, at most 2048 bytes, "
                               "without credentials.");
    else if (rc == KS_ERR_FORBIDDEN)
        ks_http_error(req, KS_ERR_INVALID, "Field 'url': this server does not deliver to that address "
                                           "(--webhook-deny).");
    else
        ks_http_error(req, rc, rc == KS_ERR_NOT_FOUND ? "No such webhook in this account." : NULL);
}

/* The url (1 when given, 0 absent, -1 after a 400). */
static int get_url(ks_http_request *req, json_t *body, const char **url)
{
    *url = NULL;
    json_t *v = json_object_get(body, "url");
    if (!v)
        return 0;
    if (!json_is_string(v) || ks_service_webhook_url_check(req->svc, json_string_value(v)) == KS_ERR_INVALID) {
        webhook_error(req, KS_ERR_INVALID);
        return -1;
    }
    *url = json_string_value(v);
    return 1;
}

/* The events (1 when given, 0 absent, -1 after a 400): a non-empty array
 * of event types. */
static int get_events(ks_http_request *req, json_t *body, ks_strlist *events)
{
    int has = ks_json_get_string_array(req, body, "events", KS_WEBHOOK_EVENTS_MAX, event_valid, "event type",
                                       events);
    if (has == 1 && events->count == 0) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'events' must name at least one event type.");
        return -1;
    }
    return has;
}

void ks_api_webhooks_list(ks_http_request *req)
{
    ks_webhook *items = NULL;
    size_t n = 0;
    int rc = ks_service_webhook_list(req->svc, ks_http_account(req), &items, &n);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, webhook_json(&items[i]));
    ks_webhooks_free(items, n);
    ks_http_json(req, 200, json_pack("{s:o}", "items", arr ? arr : json_array()));
}

void ks_api_webhooks_create(ks_http_request *req)
{
    static const char *const FIELDS[] = {"url", "events", NULL};
    ks_strlist events = {0};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    const char *url = NULL;
    int has_url = body ? get_url(req, body, &url) : -1;
    int has_events = has_url < 0 ? -1 : get_events(req, body, &events);
    if (has_url < 0 || has_events < 0)
        goto out;
    if (!has_url || !has_events) {
        ks_http_error(req, KS_ERR_INVALID, has_url ? "Field 'events' is required (an array of event types)."
                                                   : "Field 'url' is required.");
        goto out;
    }
    ks_webhook w;
    char secret[KS_WEBHOOK_SECRET_TEXT_MAX];
    int rc = ks_service_webhook_create(req->svc, &req->who, url, &events, &w, secret);
    if (rc == KS_OK) {
        json_t *obj = webhook_json(&w);
        if (obj) {
            json_object_set_new(obj, "secret", json_string(secret));
            req->res.secret_body = 1; /* wiped once sent */
            ks_http_json(req, 201, obj);
        } else {
            ks_http_error(req, KS_ERR_NOMEM, NULL);
        }
        ks_webhook_free(&w);
    } else {
        webhook_error(req, rc);
    }
    sodium_memzero(secret, sizeof secret);
out:
    json_decref(body);
    ks_strlist_free(&events);
}

void ks_api_webhooks_show(ks_http_request *req)
{
    ks_webhook w;
    int rc = ks_service_webhook_get(req->svc, ks_http_account(req), ks_http_target(req), &w);
    if (rc == KS_OK)
        ks_http_json(req, 200, webhook_json(&w));
    else
        webhook_error(req, rc);
    ks_webhook_free(&w);
}

void ks_api_webhooks_update(ks_http_request *req)
{
    static const char *const FIELDS[] = {"url", "events", "enabled", NULL};
    ks_strlist events = {0};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    const char *url = NULL;
    int enabled = -1;
    int has_url = body ? get_url(req, body, &url) : -1;
    int has_events = has_url < 0 ? -1 : get_events(req, body, &events);
    int has_enabled = has_events < 0 ? -1 : ks_json_get_bool(req, body, "enabled", &enabled);
    if (has_url < 0 || has_events < 0 || has_enabled < 0)
        goto out;
    if (!has_url && !has_events && !has_enabled) {
        ks_http_error(req, KS_ERR_INVALID, "Send at least one of the fields 'url', 'events', 'enabled'.");
        goto out;
    }
    ks_webhook w;
    int rc = ks_service_webhook_update(req->svc, &req->who, ks_http_target(req), url, has_events ? &events : NULL,
                                       has_enabled ? enabled : -1, &w);
    if (rc == KS_OK)
        ks_http_json(req, 200, webhook_json(&w));
    else
        webhook_error(req, rc);
    ks_webhook_free(&w);
out:
    json_decref(body);
    ks_strlist_free(&events);
}

void ks_api_webhooks_delete(ks_http_request *req)
{
    int rc = ks_service_webhook_delete(req->svc, &req->who, ks_http_target(req));
    if (rc == KS_OK)
        ks_http_json(req, 204, NULL);
    else
        webhook_error(req, rc);
}

void ks_api_webhooks_deliveries(ks_http_request *req)
{
    long limit;
    int64_t before = 0;
    if (ks_http_param_int(req, "limit", 1, KS_DELIVERY_PAGE_MAX, 50, &limit) != 0 ||
        ks_http_param_cursor(req, &before) != 0)
        return;
    ks_delivery_page page = {0};
    int rc = ks_service_webhook_deliveries(req->svc, ks_http_account(req), ks_http_target(req), before, (int)limit,
                                           &page);
    if (rc != KS_OK) {
        webhook_error(req, rc);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < page.count; i++)
        json_array_append_new(items, delivery_json(&page.items[i]));
    ks_http_page(req, items, page.next_id);
    ks_delivery_page_free(&page);
}

void ks_api_webhooks_test(ks_http_request *req)
{
    char id[KS_EVENT_ID_MAX + 1];
    int rc = ks_service_webhook_test(req->svc, &req->who, ks_http_target(req), id);
    if (rc == KS_OK)
        ks_http_json(req, 202, json_pack("{s:s, s:s}", "event_id", id, "event", KS_EVENT_TEST));
    else
        webhook_error(req, rc);
}
