/*
 * cmd_settings.c - `keystile settings get|set`: the account's token duration
 * and its enforcement, the old tokens' auto-delete, the renewal notices'
 * lead time and what a leaked token does (GET/PUT /settings).
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the settings object as two labelled lines, or as JSON. */
static int print_settings(const ks_client *c, const json_t *s)
{
    if (c->json)
        return ks_print_json(s);
    json_t *months = json_object_get(s, "token_duration_months");
    json_t *enforce = json_object_get(s, "enforce_duration");
    ks_table *t = ks_table_new(2, NULL);
    ks_table_add(t, "Account:");
    ks_table_add(t, c->account);
    ks_table_add(t, "Token duration:");
    if (json_is_integer(months))
        ks_table_addf(t, "%lld months", (long long)json_integer_value(months));
    else
        ks_table_add(t, NULL);
    ks_table_add(t, "Enforce duration:");
    ks_table_add(t, !json_is_boolean(enforce) ? NULL
                    : json_is_true(enforce) ? "yes (outdated tokens fail with 'expired')"
                                            : "no (outdated tokens still verify)");
    json_t *hours = json_object_get(s, "auto_delete_old_token_hours");
    ks_table_add(t, "Auto-delete old token:");
    if (json_is_integer(hours))
        ks_table_addf(t, "after %lld idle hours, once the current token has verified",
                      (long long)json_integer_value(hours));
    else
        ks_table_add(t, "off");
    json_t *notice = json_object_get(s, "renewal_notice_days");
    ks_table_add(t, "Renewal notice:");
    if (json_is_integer(notice))
        ks_table_addf(t, "%lld days before a token expires (key.renewal_due)", (long long)json_integer_value(notice));
    else
        ks_table_add(t, NULL);
    json_t *unused = json_object_get(s, "deactivate_unused_days");
    ks_table_add(t, "Deactivate unused keys:");
    if (json_is_integer(unused))
        ks_table_addf(t, "after %lld days without a verify (actor system)", (long long)json_integer_value(unused));
    else
        ks_table_add(t, "off");
    json_t *leaked = json_object_get(s, "leaked_token_action");
    ks_table_add(t, "Leaked token:");
    ks_table_add(t, !json_is_string(leaked) ? NULL
                    : strcmp(json_string_value(leaked), "revoke") == 0
                        ? "revoke (an old token is deleted, a current token's key deactivated)"
                        : "alert (audited and token.leaked raised; the token keeps working)");
    int rc = ks_table_print(t, stdout);
    ks_table_free(t);
    return rc == 0 ? KS_EXIT_OK : KS_EXIT_FAIL;
}

int ks_cmd_settings_get(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    json_t *s = ks_client_call_item(c, "GET", "settings", NULL, NULL, NULL, &rc);
    if (!s)
        return rc;
    rc = print_settings(c, s);
    json_decref(s);
    return rc;
}

int ks_cmd_settings_set(ks_client *c, const ks_args *a)
{
    static const char *const MONTHS[] = {"3", "6", NULL};
    static const char *const BOOL[] = {"true", "false", NULL};
    static const char *const LEAKED[] = {"alert", "revoke", NULL};
    int months = -1, enforce = -1, leaked = -1, rc;
    long hours = -1, notice = -1;
    if ((rc = ks_args_choice(a, "months", MONTHS, &months)) == KS_EXIT_USAGE ||
        (rc = ks_args_choice(a, "enforce-duration", BOOL, &enforce)) == KS_EXIT_USAGE ||
        (rc = ks_args_long(a, "renewal-notice-days", 0, 60, &notice)) == KS_EXIT_USAGE ||
        (rc = ks_args_choice(a, "leaked-token-action", LEAKED, &leaked)) == KS_EXIT_USAGE)
        return rc;
    const char *auto_delete = ks_args_value(a, "auto-delete-old-token-hours");
    if (auto_delete) {
        char *end = NULL;
        int off = strcmp(auto_delete, "off") == 0;
        hours = off ? 0 /* null: no auto-delete */ : strtol(auto_delete, &end, 10);
        if (!off && (!*auto_delete || *end || hours < 1 || hours > 720))
            return ks_usage_error(a->cmd, "--auto-delete-old-token-hours must be 1 to 720 or off, not '%s'",
                                  auto_delete);
    }
    long unused_days = -1;
    const char *unused = ks_args_value(a, "deactivate-unused-days");
    if (unused) {
        char *end = NULL;
        int off = strcmp(unused, "off") == 0;
        unused_days = off ? 0 /* null: never */ : strtol(unused, &end, 10);
        if (!off && (!*unused || *end || unused_days < 30 || unused_days > 730))
            return ks_usage_error(a->cmd, "--deactivate-unused-days must be 30 to 730 or off, not '%s'", unused);
    }
    if (months < 0 && enforce < 0 && hours < 0 && notice < 0 && unused_days < 0 && leaked < 0)
        return ks_usage_error(a->cmd, "nothing to change: give --months, --enforce-duration, "
                                      "--auto-delete-old-token-hours, --renewal-notice-days, "
                                      "--deactivate-unused-days or --leaked-token-action");
    if ((rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    json_t *body = json_object();
    if (!body) {
        fprintf(stderr, "keystile: out of memory\n");
        return KS_EXIT_FAIL;
    }
    if (months >= 0)
        json_object_set_new(body, "token_duration_months", json_integer(months == 0 ? 3 : 6));
    if (enforce >= 0)
        json_object_set_new(body, "enforce_duration", json_boolean(enforce == 0));
    if (hours >= 0)
        json_object_set_new(body, "auto_delete_old_token_hours", hours ? json_integer(hours) : json_null());
    if (notice >= 0)
        json_object_set_new(body, "renewal_notice_days", json_integer(notice));
    if (unused_days >= 0)
        json_object_set_new(body, "deactivate_unused_days", unused_days ? json_integer(unused_days) : json_null());
    if (leaked >= 0)
        json_object_set_new(body, "leaked_token_action", json_string(LEAKED[leaked]));
    json_t *s = ks_client_call_item(c, "PUT", "settings", NULL, NULL, body, &rc);
    json_decref(body);
    if (!s)
        return rc;
    if (!c->json)
        printf("Updated the settings of account %s.\n\n", c->account);
    rc = print_settings(c, s);
    json_decref(s);
    return rc;
}
