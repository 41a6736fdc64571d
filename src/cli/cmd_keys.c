/*
 * cmd_keys.c - `keystile keys list|show|create|edit|activate|deactivate|delete`:
 * the key calls of the HTTP API (GET/POST /keys, GET/PATCH/DELETE /keys/{key}).
 * Each validates its arguments first (exit 2), then opens the client, asks
 * for confirmation where destructive, calls the API once (list: once per
 * page) and prints a table, or the API's JSON with --json.
 */
#include "cli/limits_args.h"
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/key_view.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX 500

int ks_cmd_keys_list(ks_client *c, const ks_args *a)
{
    static const char *const STATUS[] = {"active", "inactive", NULL};
    static const char *const BOOL[] = {"true", "false", NULL};
    int status = -1, outdated = -1, rc;
    long limit = 0, page_size = PAGE_SIZE_DEFAULT;
    if ((rc = ks_args_choice(a, "status", STATUS, &status)) == KS_EXIT_USAGE ||
        (rc = ks_args_choice(a, "outdated", BOOL, &outdated)) == KS_EXIT_USAGE ||
        (rc = ks_args_long(a, "limit", 1, LONG_MAX, &limit)) == KS_EXIT_USAGE ||
        (rc = ks_args_long(a, "page-size", 1, PAGE_SIZE_MAX, &page_size)) == KS_EXIT_USAGE)
        return rc;
    if ((rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    ks_strbuf path;
    ks_client_path_item(c, &path, "keys", NULL);
    ks_client_path_query(c, &path, "q", ks_args_value(a, "q"));
    ks_client_path_query(c, &path, "status", status >= 0 ? STATUS[status] : NULL);
    ks_client_path_query(c, &path, "outdated", outdated >= 0 ? BOOL[outdated] : NULL);
    return ks_client_list_print(c, a, &path, limit, page_size, ks_keys_table_new(), ks_keys_table_add, "keys");
}

static json_t *key_call(ks_client *c, const char *method, const char *key, const char *suffix,
                        const json_t *body, int *rc)
{
    return ks_client_call_item(c, method, "keys", key, suffix, body, rc);
}

int ks_cmd_keys_show(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    json_t *key = key_call(c, "GET", a->positional, NULL, NULL, &rc);
    if (!key)
        return rc;
    rc = c->json ? ks_print_json(key) : ks_key_print_detail(key);
    json_decref(key);
    return rc;
}

int ks_cmd_keys_create(ks_client *c, const ks_args *a)
{
    const char *name = ks_args_value(a, "name");
    if (!name)
        return ks_usage_error(a->cmd, "missing --name NAME (the key's name, 1-100 characters)");
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    json_t *body = json_pack("{s:s, s:o}", "name", name, "roles", ks_args_json_array(a, "role"));
    int limits = 0, lrc = body ? ks_args_limits_body(a, body, &limits) : -1;
    if (lrc != 0) {
        json_decref(body);
        if (lrc < 0)
            fprintf(stderr, "keystile: --name, --role and --allow-cidr must be UTF-8 text\n");
        return KS_EXIT_USAGE;
    }
    json_t *key = key_call(c, "POST", NULL, NULL, body, &rc);
    json_decref(body);
    if (!key)
        return rc;
    char headline[256];
    snprintf(headline, sizeof headline, "Created key %s.", ks_json_str(key, "key", "?"));
    rc = ks_print_new_token(c, key, headline, NULL);
    json_decref(key);
    return rc;
}

/* PATCH /keys/{KEY} with body (consumed); prints message (a format with the key id). */
static int key_patch(ks_client *c, const ks_args *a, json_t *body, const char *message_fmt)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0 || !body) {
        json_decref(body);
        if (rc == 0)
            fprintf(stderr, "keystile: arguments must be UTF-8 text\n");
        return rc ? rc : KS_EXIT_USAGE;
    }
    json_t *key = key_call(c, "PATCH", a->positional, NULL, body, &rc);
    json_decref(body);
    if (!key)
        return rc;
    char message[512];
    snprintf(message, sizeof message, message_fmt, ks_json_str(key, "key", a->positional));
    rc = ks_print_key_result(c, key, message);
    json_decref(key);
    return rc;
}

int ks_cmd_keys_edit(ks_client *c, const ks_args *a)
{
    const char *name = ks_args_value(a, "name");
    int roles = ks_args_has(a, "role"), no_roles = ks_args_has(a, "no-roles");
    if (roles && no_roles)
        return ks_usage_error(a->cmd, "--role and --no-roles exclude each other");
    json_t *body = json_object();
    int limits = 0, lrc = body ? ks_args_limits_body(a, body, &limits) : -1;
    if (lrc == KS_EXIT_USAGE) {
        json_decref(body);
        return KS_EXIT_USAGE;
    }
    if (!name && !roles && !no_roles && !limits) {
        json_decref(body);
        return ks_usage_error(a->cmd, "nothing to change: give --name, --role, --no-roles, --allow-cidr or --rate-limit");
    }
    int ok = body != NULL && lrc == 0;
    if (ok && name)
        ok = json_object_set_new(body, "name", json_string(name)) == 0;
    if (ok && (roles || no_roles))
        ok = json_object_set_new(body, "roles", ks_args_json_array(a, "role")) == 0;
    if (!ok) {
        json_decref(body);
        body = NULL;
    }
    return key_patch(c, a, body, "Updated key %s.");
}

int ks_cmd_keys_activate(ks_client *c, const ks_args *a)
{
    return key_patch(c, a, json_pack("{s:s}", "status", "active"),
                     "Key %s is active: its tokens verify again.");
}

int ks_cmd_keys_deactivate(ks_client *c, const ks_args *a)
{
    return key_patch(c, a, json_pack("{s:s}", "status", "inactive"),
                     "Key %s is inactive: verify refuses its tokens until you activate it.");
}

int ks_cmd_keys_delete(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    char question[512], done[512];
    snprintf(question, sizeof question, "Delete key %s with its tokens and grants, for good?", a->positional);
    snprintf(done, sizeof done, "Deleted key %s.", a->positional);
    return ks_client_delete_item(c, a, "keys", question, done);
}
