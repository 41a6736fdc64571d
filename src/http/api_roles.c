/*
 * api_roles.c - /api/v1/accounts/{a}/roles: list (view-api-keys or
 * edit-roles), create, edit (rename and/or resources), delete (edit-roles).
 * The router authorises each call (router.c, authorize.c).
 */
#include "http/api.h"
#include "http/auth.h"
#include "http/json_input.h"
#include "http/key_json.h"
#include "core/error.h"
#include "core/roles.h"

#include <string.h>


/* Sends `status` with the role called `name`, read back from the store. */
static void respond_role(ks_http_request *req, int status, const char *name)
{
    ks_role *roles = NULL;
    size_t n = 0;
    int rc = ks_service_role_list(req->svc, ks_http_account(req), &roles, &n);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    ks_http_error(req, KS_ERR_NOT_FOUND, "No such role in this account.");
    for (size_t i = 0; i < n; i++)
        if (strcmp(roles[i].name, name) == 0)
            ks_http_json(req, status, ks_role_to_json(&roles[i]));
    ks_roles_free(roles, n);
}

static int role_error(ks_http_request *req, int rc)
{
    ks_http_error(req, rc, rc == KS_ERR_NOT_FOUND ? "No such role in this account." : NULL);
    return rc;
}

void ks_api_roles_list(ks_http_request *req)
{
    ks_role *roles = NULL;
    size_t n = 0;
    int rc = ks_service_role_list(req->svc, ks_http_account(req), &roles, &n);
    if (rc == KS_OK) {
        json_t *items = json_array();
        for (size_t i = 0; items && i < n; i++)
            json_array_append_new(items, ks_role_to_json(&roles[i]));
        ks_http_json(req, 200, json_pack("{s:o}", "items", items));
    } else {
        role_error(req, rc);
    }
    ks_roles_free(roles, n);
}

void ks_api_roles_create(ks_http_request *req)
{
    static const char *const FIELDS[] = {"name", "resources", NULL};
    ks_role role = {0};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        goto out;
    const char *name = NULL;
    int has_name = ks_json_get_string(req, body, "name", 1, KS_ROLE_NAME_MAX, &name);
    if (has_name < 0)
        goto out;
    if (has_name == 0 || !ks_role_name_valid(name)) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'name' is required: 1 to 100 characters, no leading or trailing space, no "
                      "bidirectional-control or zero-width characters.");
        goto out;
    }
    if (ks_json_get_string_array(req, body, "resources", KS_ROLE_RESOURCES_MAX, ks_resource_valid,
                                 "resource (letters, digits and . _ : / * -, at most 128)", &role.resources) < 0)
        goto out;
    role.name = (char *)name;
    int rc = ks_service_role_create(req->svc, &req->who, &role);
    if (rc == KS_OK)
        respond_role(req, 201, name);
    else
        role_error(req, rc);
out:
    ks_strlist_free(&role.resources);
    json_decref(body);
}

void ks_api_roles_update(ks_http_request *req)
{
    static const char *const FIELDS[] = {"name", "resources", NULL};
    ks_strlist resources = {0};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        goto out;
    const char *new_name = NULL;
    int has_name = ks_json_get_string(req, body, "name", 1, KS_ROLE_NAME_MAX, &new_name);
    if (has_name < 0)
        goto out;
    if (has_name && !ks_role_name_valid(new_name)) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'name' must be 1 to 100 characters, no leading or trailing space, no "
                      "bidirectional-control or zero-width characters.");
        goto out;
    }
    int has_res = ks_json_get_string_array(req, body, "resources", KS_ROLE_RESOURCES_MAX, ks_resource_valid,
                                           "resource (letters, digits and . _ : / * -, at most 128)", &resources);
    if (has_res < 0)
        goto out;
    if (!has_name && !has_res) {
        ks_http_error(req, KS_ERR_INVALID, "Send at least one of the fields 'name', 'resources'.");
        goto out;
    }
    int rc = ks_service_role_update(req->svc, &req->who, ks_http_target(req), has_name ? new_name : NULL,
                                    has_res ? &resources : NULL);
    if (rc == KS_OK)
        respond_role(req, 200, has_name ? new_name : ks_http_target(req));
    else
        role_error(req, rc);
out:
    ks_strlist_free(&resources);
    json_decref(body);
}

void ks_api_roles_delete(ks_http_request *req)
{
    int rc = ks_service_role_delete(req->svc, &req->who, ks_http_target(req));
    if (rc == KS_OK)
        ks_http_json(req, 204, NULL);
    else
        role_error(req, rc);
}
