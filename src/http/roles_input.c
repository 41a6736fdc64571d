/*
 * roles_input.c - role names and the roles/status PATCH body (roles_input.h).
 */
#include "http/roles_input.h"
#include "http/json_input.h"
#include "core/error.h"
#include "core/roles.h"
#include "service/service.h"

#include <string.h>

int ks_http_roles_exist(ks_http_request *req, const ks_strlist *roles)
{
    ks_role *have = NULL;
    size_t n = 0;
    int rc = ks_service_role_list(req->svc, ks_http_account(req), &have, &n);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return 0;
    }
    int ok = 1;
    for (size_t i = 0; ok && i < roles->count; i++) {
        int found = 0;
        for (size_t j = 0; j < n && !found; j++)
            found = strcmp(have[j].name, roles->items[i]) == 0;
        if (!found) {
            ks_http_errorf(req, KS_ERR_INVALID, "Field 'roles': role '%.100s' does not exist in this account.",
                           roles->items[i]);
            ok = 0;
        }
    }
    ks_roles_free(have, n);
    return ok;
}

json_t *ks_http_roles_status_patch(ks_http_request *req, ks_strlist *roles, int *has_roles, int *status)
{
    static const char *const FIELDS[] = {"roles", "status", NULL};
    static const char *const STATUS[] = {"inactive", "active", NULL};
    *status = -1;
    *has_roles = 0;
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        return NULL;
    int has_status = ks_json_get_enum(req, body, "status", STATUS, status);
    int got_roles = has_status < 0 ? -1 :
        ks_json_get_string_array(req, body, "roles", KS_KEY_ROLES_MAX, ks_role_name_valid, "role name", roles);
    if (has_status < 0 || got_roles < 0)
        goto fail;
    if (!has_status && !got_roles) {
        ks_http_error(req, KS_ERR_INVALID, "Send at least one of the fields 'roles', 'status'.");
        goto fail;
    }
    if (!has_status)
        *status = -1;
    *has_roles = got_roles;
    return body;
fail:
    json_decref(body);
    return NULL;
}
