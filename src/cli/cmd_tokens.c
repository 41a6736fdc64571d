/*
 * cmd_tokens.c - `keystile keys renew|delete-old-token|undo-renewal`: the
 * token-slot actions (POST /keys/{key}/renew, DELETE /keys/{key}/old-token,
 * POST /keys/{key}/undo-renewal). renew prints its fresh token once, with
 * the warning to store it; the other two print the key afterwards.
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/key_view.h"

#include <stdio.h>
#include <string.h>

/* 1 when the key object lists an old token. */
static int has_old_token(const json_t *key)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(key, "tokens"), i, t) {
        if (strcmp(ks_json_str(t, "slot", ""), "old") == 0)
            return 1;
    }
    return 0;
}

int ks_cmd_keys_renew(ks_client *c, const ks_args *a)
{
    static const char *const WHEN[] = {"now", "later", NULL};
    int when = -1;
    int rc = ks_args_choice(a, "delete-old", WHEN, &when);
    if (rc == KS_EXIT_USAGE)
        return rc;
    if ((rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    json_t *body = when >= 0 ? json_pack("{s:s}", "delete_old", WHEN[when]) : NULL;
    json_t *key = ks_client_call_item(c, "POST", "keys", a->positional, "/renew", body, &rc);
    json_decref(body);
    if (!key)
        return rc;
    const char *id = ks_json_str(key, "key", a->positional);
    char headline[256], extra[1024];
    snprintf(headline, sizeof headline, "Renewed key %s: it has a new current token.", id);
    if (has_old_token(key))
        snprintf(extra, sizeof extra,
                 "The previous token keeps working as the old token. Once the new one is deployed, run\n"
                 "  keystile keys delete-old-token %s\n"
                 "(or go back with: keystile keys undo-renewal %s)",
                 id, id);
    else
        snprintf(extra, sizeof extra, "The previous token stopped working.");
    rc = ks_print_new_token(c, key, headline, extra);
    json_decref(key);
    return rc;
}

int ks_cmd_keys_delete_old_token(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    char text[512];
    snprintf(text, sizeof text, "Delete the old token of key %s? It stops working at once.", a->positional);
    if ((rc = ks_confirm(a, text)) != 0)
        return rc;
    json_t *key = ks_client_call_item(c, "DELETE", "keys", a->positional, "/old-token", NULL, &rc);
    if (!key)
        return rc;
    snprintf(text, sizeof text, "Deleted the old token of key %s: only its current token verifies now.",
             ks_json_str(key, "key", a->positional));
    rc = ks_print_key_result(c, key, text);
    json_decref(key);
    return rc;
}

int ks_cmd_keys_undo_renewal(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    json_t *key = ks_client_call_item(c, "POST", "keys", a->positional, "/undo-renewal", NULL, &rc);
    if (!key)
        return rc;
    char text[512];
    snprintf(text, sizeof text,
             "Undid the last renewal of key %s: the old token is current again; the newer one no longer verifies.",
             ks_json_str(key, "key", a->positional));
    rc = ks_print_key_result(c, key, text);
    json_decref(key);
    return rc;
}
