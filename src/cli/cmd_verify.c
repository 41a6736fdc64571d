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
    static const ks_field VALID[] = {
        {"Key:", "key", KS_FIELD_TEXT},         {"Account:", "account", KS_FIELD_TEXT},
        {"Target account:", "target_account", KS_FIELD_TEXT}, {"Token:", "token", KS_FIELD_TEXT},
        {"Roles:", "roles", KS_FIELD_LIST},     {"Resources:", "resources", KS_FIELD_LIST},
        {"Outdated:", "outdated", KS_FIELD_YES_NO},
    };
    ks_table *t = ks_table_new(2, NULL);
    int valid = json_is_true(json_object_get(v, "valid"));
    ks_table_add(t, "Valid:");
    ks_table_add(t, valid ? "yes" : "no");
    if (!valid) {
        ks_table_add(t, "Reason:");
        ks_table_add(t, ks_json_str(v, "reason", NULL));
    } else {
        ks_table_add_fields(t, v, VALID, sizeof VALID / sizeof *VALID);
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
