/*
 * cmd_roles.c - `keystile roles list|create|edit|delete`: the account's roles
 * (GET/POST /roles, PATCH/DELETE /roles/{name}). Role names may hold spaces;
 * they are URL-encoded as one path segment.
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/key_view.h"

#include <limits.h>
#include <stdio.h>

static const char *const ROLE_HEADERS[] = {"NAME", "BUILTIN", "RESOURCES"};

static void roles_table_add(ks_table *t, const json_t *role)
{
    static const ks_field ROW[] = {
        {NULL, "name", KS_FIELD_TEXT}, {NULL, "builtin", KS_FIELD_YES_NO}, {NULL, "resources", KS_FIELD_LIST},
    };
    ks_table_add_fields(t, role, ROW, sizeof ROW / sizeof *ROW);
}

int ks_cmd_roles_list(ks_client *c, const ks_args *a)
{
    long limit = 0;
    int rc = ks_args_long(a, "limit", 1, LONG_MAX, &limit);
    if (rc == KS_EXIT_USAGE || (rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    ks_strbuf path;
    ks_client_path_item(c, &path, "roles", NULL);
    return ks_client_list_print(c, a, &path, limit, 0, ks_table_new(3, ROLE_HEADERS), roles_table_add, "roles");
}

/* Sends body (consumed) to the role collection or to role `item`, then
 * prints "<done> role '<name>'." (fallback when the answer has no name)
 * and the role. */
static int send_role(ks_client *c, const char *method, const char *item, json_t *body, const char *done,
                     const char *fallback)
{
    int rc;
    json_t *role = ks_client_call_item(c, method, "roles", item, NULL, body, &rc);
    json_decref(body);
    if (!role)
        return rc;
    char message[512];
    snprintf(message, sizeof message, "%s role '%s'.", done, ks_json_str(role, "name", fallback));
    rc = ks_client_item_print(c, role, message, ks_table_new(3, ROLE_HEADERS), roles_table_add);
    json_decref(role);
    return rc;
}

int ks_cmd_roles_create(ks_client *c, const ks_args *a)
{
    if (!ks_args_has(a, "resource"))
        return ks_usage_error(a->cmd, "missing --resource R (give one --resource per resource)");
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    json_t *body = json_pack("{s:s, s:o}", "name", a->positional, "resources", ks_args_json_array(a, "resource"));
    if (!body) {
        fprintf(stderr, "keystile: NAME and --resource must be UTF-8 text\n");
        return KS_EXIT_USAGE;
    }
    return send_role(c, "POST", NULL, body, "Created", a->positional);
}

int ks_cmd_roles_edit(ks_client *c, const ks_args *a)
{
    const char *name = ks_args_value(a, "name");
    int resources = ks_args_has(a, "resource");
    if (!name && !resources)
        return ks_usage_error(a->cmd, "nothing to change: give --name or --resource");
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    json_t *body = json_object();
    int ok = body != NULL;
    if (ok && name)
        ok = json_object_set_new(body, "name", json_string(name)) == 0;
    if (ok && resources)
        ok = json_object_set_new(body, "resources", ks_args_json_array(a, "resource")) == 0;
    if (!ok) {
        json_decref(body);
        fprintf(stderr, "keystile: --name and --resource must be UTF-8 text\n");
        return KS_EXIT_USAGE;
    }
    return send_role(c, "PATCH", a->positional, body, "Updated", a->positional);
}

int ks_cmd_roles_delete(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    char question[512], done[512];
    snprintf(question, sizeof question, "Delete role '%s' from account %s?", a->positional, c->account);
    snprintf(done, sizeof done, "Deleted role '%s'.", a->positional);
    return ks_client_delete_item(c, a, "roles", question, done);
}
