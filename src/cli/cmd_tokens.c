/*
 * cmd_tokens.c - `keystile keys renew|delete-old-token|undo-renewal`: the
 * token-slot actions (POST /keys/{key}/renew, DELETE /keys/{key}/old-token,
 * POST /keys/{key}/undo-renewal). renew prints its fresh token once, with
 * the warning to store it; the other two print the key afterwards.
 * --old-token-ttl 24h becomes old_token_expires_at, this machine's clock
 * plus the duration.
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/key_view.h"

#include "core/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OLD_TOKEN_TTL_MAX (30 * 86400L) /* the API's limit on old_token_expires_at */

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

/* A duration "90m", "24h", "7d" (also "3600s") in seconds; -1 when malformed. */
static long parse_duration(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (end == s || *s == '-' || *s == '+' || errno || end[0] == '\0' || end[1] != '\0' || n <= 0 ||
        n > 100000000L)
        return -1;
    switch (*end) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    default: return -1;
    }
}

/* The ends_at of the key's old token, or NULL when it has none. */
static const char *old_token_ends_at(const json_t *key)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(key, "tokens"), i, t) {
        if (strcmp(ks_json_str(t, "slot", ""), "old") == 0)
            return ks_json_str(t, "ends_at", NULL);
    }
    return NULL;
}

int ks_cmd_keys_renew(ks_client *c, const ks_args *a)
{
    static const char *const WHEN[] = {"now", "later", NULL};
    int when = -1;
    int rc = ks_args_choice(a, "delete-old", WHEN, &when);
    if (rc == KS_EXIT_USAGE)
        return rc;
    const char *ttl_text = ks_args_value(a, "old-token-ttl");
    char deadline[KS_TIME_STR_LEN] = "";
    if (ttl_text) {
        if (when == 0)
            return ks_usage_error(a->cmd, "--old-token-ttl needs --delete-old later: with now the old token "
                                          "stops at once");
        long ttl = parse_duration(ttl_text);
        if (ttl < 0)
            return ks_usage_error(a->cmd, "--old-token-ttl must be a number and a unit, like 90m, 24h or 7d, "
                                          "not '%s'", ttl_text);
        if (ttl > OLD_TOKEN_TTL_MAX)
            return ks_usage_error(a->cmd, "--old-token-ttl %s is beyond 30 days: the old token may live at "
                                          "most 30 days (720h, 30d)", ttl_text);
        ks_time_format(ks_clock_now() + ttl, deadline);
        when = 1;
    }
    if ((rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    json_t *body = NULL;
    if (deadline[0])
        body = json_pack("{s:s, s:s}", "delete_old", "later", "old_token_expires_at", deadline);
    else if (when >= 0)
        body = json_pack("{s:s}", "delete_old", WHEN[when]);
    json_t *key = ks_client_call_item(c, "POST", "keys", a->positional, "/renew", body, &rc);
    json_decref(body);
    if (!key)
        return rc;
    const char *id = ks_json_str(key, "key", a->positional);
    char headline[256], extra[1024];
    snprintf(headline, sizeof headline, "Renewed key %s: it has a new current token.", id);
    const char *ends = old_token_ends_at(key);
    if (ends)
        snprintf(extra, sizeof extra,
                 "The previous token keeps working as the old token until %s, then stops and is deleted.\n"
                 "To retire it sooner: keystile keys delete-old-token %s\n"
                 "(or go back with: keystile keys undo-renewal %s)",
                 ends, id, id);
    else if (has_old_token(key))
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
