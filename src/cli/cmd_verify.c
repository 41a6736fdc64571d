/*
 * cmd_verify.c - `keystile verify [--resource R] [--account A]`: calls
 * GET /api/v1/verify with the credential, as a gateway would, and prints
 * the verdict. Exit 0 when valid, 1 when not (or on an error).
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/key_view.h"

#include <stdio.h>

/* The verdict as labelled lines. */
static int print_verdict(const json_t *v)
{
    char roles[2048], resources[4096];
    ks_table *t = ks_table_new(2, NULL);
    int valid = json_is_true(json_object_get(v, "valid"));
    ks_table_add(t, "Valid:");
    ks_table_add(t, valid ? "yes" : "no");
    if (!valid) {
        ks_table_add(t, "Reason:");
        ks_table_add(t, ks_json_str(v, "reason", NULL));
    } else {
        json_t *outdated = json_object_get(v, "outdated");
        ks_table_add(t, "Key:");
        ks_table_add(t, ks_json_str(v, "key", NULL));
        ks_table_add(t, "Account:");
        ks_table_add(t, ks_json_str(v, "account", NULL));
        ks_table_add(t, "Target account:");
        ks_table_add(t, ks_json_str(v, "target_account", NULL));
        ks_table_add(t, "Token:");
        ks_table_add(t, ks_json_str(v, "token", NULL));
        ks_table_add(t, "Roles:");
        ks_table_add(t, ks_join_strings(json_object_get(v, "roles"), roles, sizeof roles));
        ks_table_add(t, "Resources:");
        ks_table_add(t, ks_join_strings(json_object_get(v, "resources"), resources, sizeof resources));
        ks_table_add(t, "Outdated:");
        ks_table_add(t, json_is_boolean(outdated) ? (json_is_true(outdated) ? "yes" : "no") : NULL);
    }
    int rc = ks_table_print(t, stdout);
    ks_table_free(t);
    return rc == 0 ? KS_EXIT_OK : KS_EXIT_FAIL;
}

int ks_cmd_verify(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 0);
    if (rc != 0)
        return rc;
    ks_strbuf path;
    ks_strbuf_init(&path, 64u << 10);
    ks_strbuf_puts(&path, "/api/v1/verify");
    ks_client_path_query(c, &path, "account", ks_args_value(a, "account"));
    ks_client_path_query(c, &path, "resource", ks_args_value(a, "resource"));
    ks_response res;
    rc = ks_client_send(c, "GET", ks_strbuf_str(&path), NULL, KS_CLIENT_JSON_MAX, &res);
    ks_strbuf_free(&path);
    json_t *v = NULL;
    if (rc == 0 && res.body.len)
        v = json_loadb(res.body.data, res.body.len, 0, NULL);
    if (rc == 0 && !json_is_boolean(json_object_get(v, "valid"))) {
        /* Not a verdict: 400, 429, 503 and the like carry an API error. */
        ks_client_print_api_error(c, &res);
        rc = KS_EXIT_FAIL;
    } else if (rc == 0) {
        rc = c->json ? ks_print_json(v) : print_verdict(v);
        if (rc == 0 && !json_is_true(json_object_get(v, "valid")))
            rc = KS_EXIT_FAIL;
    }
    json_decref(v);
    ks_response_free(&res);
    return rc;
}
