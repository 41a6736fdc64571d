/*
 * api_keys.c - /api/v1/accounts/{a}/keys...: list, create, show, edit, delete,
 * renew, delete old token, undo renewal. The router authorises each call
 * (router.c, authorize.c); each handler decodes and validates its input
 * (400 naming the field), calls the service and renders the key object of
 * API.md.
 */
#include "http/api.h"
#include "http/auth.h"
#include "http/json_input.h"
#include "http/roles_input.h"
#include "http/key_json.h"
#include "http/limits_input.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/roles.h"
#include "service/share_links.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define KEY_NAME_MAX 100
#define SEARCH_MAX 200


/* Sends `status` with the key object (and the new token, once, with a
 * share link: share_id when the service made it already, "" when it could
 * not, NULL to make it here). */
static void respond_key(ks_http_request *req, int status, const ks_key *key, const char *token,
                        const char *share_id)
{
    ks_settings settings;
    int rc = ks_service_settings_get(req->svc, ks_http_account(req), &settings);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    json_t *obj = ks_key_to_json(key, &settings, ks_clock_now());
    if (obj && token) {
        char url[512];
        json_object_set_new(obj, "token", json_string(token));
        int linked;
        if (share_id) {
            if ((linked = *share_id != '\0'))
                ks_http_share_url_of(req, share_id, url, sizeof url);
        } else {
            linked = ks_http_share_url(req, key->key_id, token, url, sizeof url) == KS_OK;
        }
        if (linked)
            json_object_set_new(obj, "share_url", json_string(url));
        else
            json_object_set_new(obj, "share_url", json_null()); /* the token itself was made: still answer */
        sodium_memzero(url, sizeof url);
        req->res.secret_body = 1;
    }
    if (!obj)
        ks_http_error(req, KS_ERR_NOMEM, NULL);
    else
        ks_http_json(req, status, obj);
}

void ks_api_keys_list(ks_http_request *req)
{
    static const char *const STATUS[] = {"inactive", "active", NULL};
    static const char *const BOOL[] = {"false", "true", NULL};
    ks_key_filter f = {0};
    long limit;
    const char *q = ks_http_param_get(req, "q");
    f.status = ks_http_param_enum(req, "status", STATUS, -1);
    if (f.status == -2)
        return;
    f.outdated = ks_http_param_enum(req, "outdated", BOOL, -1);
    if (f.outdated == -2 || ks_http_param_int(req, "limit", 1, 500, 50, &limit) != 0)
        return;
    if (ks_http_param_cursor(req, &f.before_seq) != 0)
        return;
    if (q && ks_utf8_length(q) > SEARCH_MAX) {
        ks_http_errorf(req, KS_ERR_INVALID, "Parameter 'q' must be at most %d characters.", SEARCH_MAX);
        return;
    }
    f.q = q;
    f.limit = (int)limit;
    f.now = ks_clock_now();
    ks_settings settings;
    ks_key_page page = {0};
    int rc = ks_service_settings_get(req->svc, ks_http_account(req), &settings);
    if (rc == KS_OK)
        rc = ks_service_key_list(req->svc, ks_http_account(req), &f, &page);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < page.count; i++)
        json_array_append_new(items, ks_key_to_json(&page.items[i], &settings, f.now));
    ks_http_page(req, items, page.next_seq);
    ks_key_page_free(&page);
}

void ks_api_keys_create(ks_http_request *req)
{
    static const char *const FIELDS[] = {"name", "roles", "allowed_cidrs", "rate_limit", NULL};
    ks_strlist roles = {0}, cidrs = {0};
    ks_rate_limit rate = {0};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        goto out;
    const char *name = NULL;
    int has_name = ks_json_get_text(req, body, "name", 1, KEY_NAME_MAX, &name);
    if (has_name < 0)
        goto out;
    if (has_name == 0) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'name' is required (1 to 100 characters).");
        goto out;
    }
    if (ks_json_get_string_array(req, body, "roles", KS_KEY_ROLES_MAX, ks_role_name_valid, "role name", &roles) < 0 ||
        !ks_http_roles_exist(req, &roles))
        goto out;
    if (ks_json_get_allowed_cidrs(req, body, &cidrs) < 0 || ks_json_get_rate_limit(req, body, &rate) < 0)
        goto out;
    ks_key key = {0};
    char token[KS_TOKEN_LEN + 1];
    int rc = ks_service_key_create_limited(req->svc, &req->who, name, &roles, &cidrs, &rate, &key, token);
    if (rc == KS_OK)
        respond_key(req, 201, &key, token, NULL);
    else
        ks_http_error(req, rc, NULL);
    sodium_memzero(token, sizeof token);
    ks_key_free(&key);
out:
    json_decref(body);
    ks_strlist_free(&roles);
    ks_strlist_free(&cidrs);
}

void ks_api_keys_show(ks_http_request *req)
{
    ks_key key = {0};
    int rc = ks_service_key_get(req->svc, ks_http_account(req), ks_http_target(req), &key);
    if (rc == KS_OK)
        respond_key(req, 200, &key, NULL, NULL);
    else
        ks_http_error(req, rc, rc == KS_ERR_NOT_FOUND ? "No such key in this account." : NULL);
    ks_key_free(&key);
}

void ks_api_keys_update(ks_http_request *req)
{
    static const char *const FIELDS[] = {"name", "roles", "status", "allowed_cidrs", "rate_limit", NULL};
    static const char *const STATUS[] = {"inactive", "active", NULL};
    ks_strlist roles = {0}, cidrs = {0};
    ks_rate_limit rate = {0};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        goto out;
    ks_key_patch patch = {NULL, NULL, -1, NULL, NULL};
    int has_name = ks_json_get_text(req, body, "name", 1, KEY_NAME_MAX, &patch.name);
    int has_status = has_name < 0 ? -1 : ks_json_get_enum(req, body, "status", STATUS, &patch.status);
    int has_roles = has_status < 0 ? -1 :
        ks_json_get_string_array(req, body, "roles", KS_KEY_ROLES_MAX, ks_role_name_valid, "role name", &roles);
    int has_cidrs = has_roles < 0 ? -1 : ks_json_get_allowed_cidrs(req, body, &cidrs);
    int has_rate = has_cidrs < 0 ? -1 : ks_json_get_rate_limit(req, body, &rate);
    if (has_name < 0 || has_status < 0 || has_roles < 0 || has_cidrs < 0 || has_rate < 0)
        goto out;
    if (!has_name && !has_status && !has_roles && !has_cidrs && !has_rate) {
        ks_http_error(req, KS_ERR_INVALID,
                      "Send at least one of the fields 'name', 'roles', 'status', 'allowed_cidrs', 'rate_limit'.");
        goto out;
    }
    if (has_cidrs)
        patch.allowed_cidrs = &cidrs;
    if (has_rate)
        patch.rate_limit = &rate;
    if (has_roles) {
        if (!ks_http_roles_exist(req, &roles))
            goto out;
        patch.roles = &roles;
    }
    ks_key key = {0};
    int rc = ks_service_key_update(req->svc, &req->who, ks_http_target(req), &patch, &key);
    if (rc == KS_OK)
        respond_key(req, 200, &key, NULL, NULL);
    else
        ks_http_error(req, rc, rc == KS_ERR_NOT_FOUND ? "No such key in this account." : NULL);
    ks_key_free(&key);
out:
    json_decref(body);
    ks_strlist_free(&roles);
    ks_strlist_free(&cidrs);
}

void ks_api_keys_delete(ks_http_request *req)
{
    int rc = ks_service_key_delete(req->svc, &req->who, ks_http_target(req));
    if (rc == KS_OK)
        ks_http_json(req, 204, NULL);
    else
        ks_http_error(req, rc, rc == KS_ERR_NOT_FOUND ? "No such key in this account." : NULL);
}

/* The optional old_token_expires_at of a renewal: 0 when absent or null,
 * else a time in the future and at most 30 days ahead, with delete_old
 * later. 0 ok, -1 after a 400 naming the field. */
static int renew_deadline(ks_http_request *req, json_t *body, int mode, int64_t *out)
{
    *out = 0;
    json_t *v = json_object_get(body, "old_token_expires_at");
    if (!v || json_is_null(v))
        return 0;
    int64_t at, now = ks_clock_now();
    if (!json_is_string(v) || ks_time_parse(json_string_value(v), &at) != 0) {
        ks_http_error(req, KS_ERR_INVALID,
                      "Field 'old_token_expires_at' must be an RFC 3339 time such as \"2026-01-31T12:00:00Z\".");
        return -1;
    }
    if (mode != KS_DELETE_OLD_LATER) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'old_token_expires_at' goes only with \"delete_old\": \"later\".");
        return -1;
    }
    if (at <= now || at > now + KS_OLD_TOKEN_DEADLINE_MAX) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'old_token_expires_at' must be in the future and at most 30 days ahead.");
        return -1;
    }
    *out = at;
    return 0;
}

void ks_api_keys_renew(ks_http_request *req)
{
    static const char *const FIELDS[] = {"delete_old", "old_token_expires_at", NULL};
    static const char *const MODES[] = {"later", "now", NULL};
    json_t *body = ks_json_body_parse(req, FIELDS, 1);
    int mode = KS_DELETE_OLD_LATER;
    int64_t old_ends_at = 0;
    if (!body || ks_json_get_enum(req, body, "delete_old", MODES, &mode) < 0 ||
        renew_deadline(req, body, mode, &old_ends_at) != 0)
        goto out;
    ks_key key = {0};
    char token[KS_TOKEN_LEN + 1], share_id[KS_SHARE_ID_MAX];
    int rc = ks_service_key_renew_until(req->svc, &req->who, ks_http_target(req), (ks_delete_old)mode, old_ends_at,
                                        &key, token, share_id);
    if (rc == KS_OK)
        respond_key(req, 200, &key, token, share_id);
    else
        ks_http_error(req, rc, rc == KS_ERR_NOT_FOUND ? "No such key in this account." : NULL);
    sodium_memzero(token, sizeof token);
    sodium_memzero(share_id, sizeof share_id);
    ks_key_free(&key);
out:
    json_decref(body);
}

/* Delete old token and undo renewal: same shape, different transition. */
static void slot_action(ks_http_request *req,
                        int (*action)(ks_service *, const ks_actor *, const char *, ks_key *))
{
    ks_key key = {0};
    int rc = action(req->svc, &req->who, ks_http_target(req), &key);
    if (rc == KS_OK)
        respond_key(req, 200, &key, NULL, NULL);
    else
        ks_http_error(req, rc, rc == KS_ERR_NOT_FOUND ? "No such key in this account." : NULL);
    ks_key_free(&key);
}

void ks_api_keys_delete_old_token(ks_http_request *req)
{
    slot_action(req, ks_service_key_delete_old);
}

void ks_api_keys_undo_renewal(ks_http_request *req)
{
    slot_action(req, ks_service_key_undo_renewal);
}
