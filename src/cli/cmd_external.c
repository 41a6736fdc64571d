/*
 * cmd_external.c - `keystile external list|add|edit|remove`: keys of other
 * accounts granted roles in this one (GET/POST /external-keys,
 * PATCH/DELETE /external-keys/{key}). The key's tokens and own status stay
 * with its home account; here only its grant (roles, status) changes.
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/key_view.h"

#include <limits.h>
#include <stdio.h>

int ks_cmd_external_list(ks_client *c, const ks_args *a)
{
    long limit = 0;
    int rc = ks_args_long(a, "limit", 1, LONG_MAX, &limit);
    if (rc == KS_EXIT_USAGE || (rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    ks_strbuf path;
    ks_client_path_item(c, &path, "external-keys", NULL);
    return ks_client_list_print(c, a, &path, limit, 0, ks_external_table_new(), ks_external_table_add, "external keys");
}

int ks_cmd_external_add(ks_client *c, const ks_args *a)
{
    if (!ks_args_has(a, "role"))
        return ks_usage_error(a->cmd, "missing --role ROLE (give one --role per role)");
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    json_t *body = json_pack("{s:s, s:o}", "key", a->positional, "roles", ks_args_json_array(a, "role"));
    if (!body) {
        fprintf(stderr, "keystile: KEY and --role must be UTF-8 text\n");
        return KS_EXIT_USAGE;
    }
    json_t *key = ks_client_call_item(c, "POST", "external-keys", NULL, NULL, body, &rc);
    json_decref(body);
    if (!key)
        return rc;
    char message[512];
    snprintf(message, sizeof message, "Granted roles in account %s to external key %s.", c->account,
             ks_json_str(key, "key", a->positional));
    rc = ks_client_item_print(c, key, message, ks_external_table_new(), ks_external_table_add);
    json_decref(key);
    return rc;
}

int ks_cmd_external_edit(ks_client *c, const ks_args *a)
{
    int rc;
    json_t *body = ks_args_roles_status_body(a, 0, &rc);
    if (!body)
        return rc;
    if ((rc = ks_client_open(c, a, 1)) != 0) {
        json_decref(body);
        return rc;
    }
    json_t *key = ks_client_call_item(c, "PATCH", "external-keys", a->positional, NULL, body, &rc);
    json_decref(body);
    if (!key)
        return rc;
    char message[512];
    snprintf(message, sizeof message, "Updated the grant of external key %s in account %s.",
             ks_json_str(key, "key", a->positional), c->account);
    rc = ks_client_item_print(c, key, message, ks_external_table_new(), ks_external_table_add);
    json_decref(key);
    return rc;
}

int ks_cmd_external_remove(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    char question[512], done[512];
    snprintf(question, sizeof question, "Remove the grant of external key %s in account %s?", a->positional,
             c->account);
    snprintf(done, sizeof done, "Removed external key %s from account %s; the key itself is unchanged in its home account.",
             a->positional, c->account);
    return ks_client_delete_item(c, a, "external-keys", question, done);
}
