/*
 * api_external.c - /api/v1/accounts/{a}/external-keys: keys of other accounts
 * granted roles here. List needs view-api-keys; add, edit, remove need
 * edit-api-keys (the router authorises each call: router.c, authorize.c).
 * The key's home account keeps owning its tokens and status.
 */
#include "http/api.h"
#include "http/auth.h"
#include "http/json_input.h"
#include "http/roles_input.h"
#include "http/key_json.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/roles.h"

#include <string.h>


/* The external key object of `key` as granted in the path's account. */
static json_t *external_json(ks_http_request *req, const ks_key *key, int64_t now)
{
    ks_settings home;
    const ks_grant *grant = ks_key_grant(key, ks_http_account(req));
    if (!grant || ks_service_settings_get(req->svc, key->account, &home) != KS_OK)
        return NULL;
    return ks_external_key_to_json(key, grant, &home, now);
}

static void respond_external(ks_http_request *req, int status, const ks_key *key)
{
    json_t *obj = external_json(req, key, ks_clock_now());
    if (obj)
        ks_http_json(req, status, obj);
    else
        ks_http_error(req, KS_ERR_INTERNAL, NULL);
}

static void external_error(ks_http_request *req, int rc)
{
    if (rc == KS_ERR_NOT_FOUND)
        ks_http_error(req, rc, "No such external key in this account.");
    else if (rc == KS_ERR_NAME_TAKEN)
        ks_http_error(req, rc, "This key already has a grant here; edit it instead.");
    else if (rc == KS_ERR_INVALID)
        ks_http_error(req, rc, "Field 'roles' names a role that does not exist in this account.");
    else
        ks_http_error(req, rc, NULL);
}

/* Answers a grant write (add or update) that gave rc: the grant with
 * `status`, or the error (not_found, when given, for KS_ERR_NOT_FOUND);
 * frees *key in both cases. */
static void respond_write(ks_http_request *req, int rc, int status, ks_key *key, const char *not_found)
{
    if (rc == KS_OK)
        respond_external(req, status, key);
    else if (rc == KS_ERR_NOT_FOUND && not_found)
        ks_http_error(req, rc, not_found);
    else
        external_error(req, rc);
    ks_key_free(key);
}

void ks_api_external_list(ks_http_request *req)
{
    ks_key *keys = NULL;
    size_t n = 0;
    int64_t now = ks_clock_now();
    int rc = ks_service_external_list(req->svc, ks_http_account(req), &keys, &n);
    if (rc == KS_OK) {
        json_t *items = json_array();
        for (size_t i = 0; items && i < n; i++) {
            json_t *obj = external_json(req, &keys[i], now);
            if (obj)
                json_array_append_new(items, obj);
        }
        ks_http_json(req, 200, json_pack("{s:o}", "items", items));
    } else {
        ks_http_error(req, rc, NULL);
    }
    ks_keys_free(keys, n);
}

void ks_api_external_add(ks_http_request *req)
{
    static const char *const FIELDS[] = {"key", "roles", NULL};
    ks_strlist roles = {0};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        goto out;
    const char *key_id = NULL;
    char home[KS_ACCOUNT_MAX + 1];
    int has_key = ks_json_get_string(req, body, "key", 1, KS_KEY_ID_MAX, &key_id);
    if (has_key < 0)
        goto out;
    if (!has_key || ks_key_id_parse(key_id, home) != KS_OK) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'key' must be an API key id (kst-<account>-<10 characters>).");
        goto out;
    }
    if (strcmp(home, ks_http_account(req)) == 0) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'key' is a key of this account: give it roles with PATCH /keys/{key}.");
        goto out;
    }
    if (ks_json_get_string_array(req, body, "roles", KS_KEY_ROLES_MAX, ks_role_name_valid, "role name", &roles) < 0)
        goto out;
    ks_key key = {0};
    int rc = ks_service_external_add(req->svc, &req->who, key_id, &roles, &key);
    respond_write(req, rc, 201, &key, "No key with that id exists.");
out:
    json_decref(body);
    ks_strlist_free(&roles);
}

void ks_api_external_update(ks_http_request *req)
{
    ks_strlist roles = {0};
    int has_roles, status;
    json_t *body = ks_http_roles_status_patch(req, &roles, &has_roles, &status);
    if (!body)
        goto out;
    ks_key key = {0};
    int rc = ks_service_external_update(req->svc, &req->who, ks_http_target(req), has_roles ? &roles : NULL,
                                        status, &key);
    respond_write(req, rc, 200, &key, NULL);
out:
    json_decref(body);
    ks_strlist_free(&roles);
}

void ks_api_external_remove(ks_http_request *req)
{
    int rc = ks_service_external_remove(req->svc, &req->who, ks_http_target(req));
    if (rc == KS_OK)
        ks_http_json(req, 204, NULL);
    else
        external_error(req, rc);
}
