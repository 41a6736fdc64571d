/* key_view.c - keys and external keys as text; see key_view.h. */
#include "cli/key_view.h"
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const char *const KEY_HEADERS[] = {"KEY", "NAME", "ROLES", "STATUS", "CREATED", "OUTDATED", "ALERT", "TOKENS"};
static const char *const EXTERNAL_HEADERS[] = {"KEY", "ACCOUNT", "NAME", "ROLES", "STATUS", "CREATED", "OUTDATED", "ALERT"};

const char *ks_join_strings(const json_t *arr, char *buf, size_t n)
{
    size_t used = 0, i;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", s);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    if (!buf[0])
        snprintf(buf, n, "-");
    return buf;
}

static const char *yes_no(const json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return json_is_boolean(v) ? (json_is_true(v) ? "yes" : "no") : "-";
}

/* "current", "current+old" from the token slots; "-" without any. */
static const char *token_slots(const json_t *key, char *buf, size_t n)
{
    size_t i, used = 0;
    json_t *t;
    buf[0] = '\0';
    json_array_foreach(json_object_get(key, "tokens"), i, t) {
        const char *slot = ks_json_str(t, "slot", "?");
        int w = snprintf(buf + used, n - used, "%s%s", used ? "+" : "", slot);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    return buf[0] ? buf : "-";
}

void ks_table_add_fields(ks_table *t, const json_t *obj, const ks_field *fields, size_t n)
{
    char list[4096];
    for (size_t i = 0; i < n; i++) {
        if (fields[i].label)
            ks_table_add(t, fields[i].label);
        switch (fields[i].kind) {
        case KS_FIELD_LIST:
            ks_table_add(t, ks_join_strings(json_object_get(obj, fields[i].name), list, sizeof list));
            break;
        case KS_FIELD_YES_NO:
            ks_table_add(t, yes_no(obj, fields[i].name));
            break;
        default:
            ks_table_add(t, ks_json_str(obj, fields[i].name, NULL));
        }
    }
}

/* What a key row shows after its key id (and an external key's account). */
static const ks_field KEY_ROW[] = {
    {NULL, "name", KS_FIELD_TEXT},           {NULL, "roles", KS_FIELD_LIST},
    {NULL, "status", KS_FIELD_TEXT},         {NULL, "created_at", KS_FIELD_TEXT},
    {NULL, "outdated", KS_FIELD_YES_NO},     {NULL, "renewal_alert", KS_FIELD_TEXT},
};
#define N_KEY_ROW (sizeof KEY_ROW / sizeof *KEY_ROW)

ks_table *ks_keys_table_new(void)
{
    return ks_table_new(8, KEY_HEADERS);
}

void ks_keys_table_add(ks_table *t, const json_t *key)
{
    char slots[64];
    ks_table_add(t, ks_json_str(key, "key", NULL));
    ks_table_add_fields(t, key, KEY_ROW, N_KEY_ROW);
    ks_table_add(t, token_slots(key, slots, sizeof slots));
}

ks_table *ks_external_table_new(void)
{
    return ks_table_new(8, EXTERNAL_HEADERS);
}

void ks_external_table_add(ks_table *t, const json_t *key)
{
    char account[KS_CLIENT_ACCOUNT_MAX + 1];
    const char *id = ks_json_str(key, "key", NULL);
    const char *home = ks_json_str(key, "account", NULL);
    if (!home && id && ks_key_id_account(id, account) == 0)
        home = account;
    ks_table_add(t, id);
    ks_table_add(t, home);
    ks_table_add_fields(t, key, KEY_ROW, N_KEY_ROW);
}

int ks_key_print_detail(const json_t *key)
{
    static const ks_field DETAIL[] = {
        {"Key:", "key", KS_FIELD_TEXT},          {"Name:", "name", KS_FIELD_TEXT},
        {"Type:", "type", KS_FIELD_TEXT},        {"Roles:", "roles", KS_FIELD_LIST},
        {"Status:", "status", KS_FIELD_TEXT},    {"Created:", "created_at", KS_FIELD_TEXT},
        {"Outdated:", "outdated", KS_FIELD_YES_NO}, {"Renewal alert:", "renewal_alert", KS_FIELD_TEXT},
    };
    ks_table *f = ks_table_new(2, NULL);
    ks_table_add_fields(f, key, DETAIL, sizeof DETAIL / sizeof *DETAIL);
    json_t *ranges = json_object_get(key, "allowed_cidrs"), *rate = json_object_get(key, "rate_limit");
    if (json_is_array(ranges)) { /* generated keys: their limits */
        ks_table_add(f, "Allowed from:");
        if (json_array_size(ranges) == 0) {
            ks_table_add(f, "any address");
        } else {
            char list[2048] = "";
            size_t used = 0, i;
            json_t *r;
            json_array_foreach(ranges, i, r) {
                int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", json_string_value(r));
                if (w < 0 || (size_t)w >= sizeof list - used)
                    break;
                used += (size_t)w;
            }
            ks_table_add(f, list);
        }
        ks_table_add(f, "Rate limit:");
        if (json_is_object(rate))
            ks_table_addf(f, "%lld verifies per %lld s", (long long)json_integer_value(json_object_get(rate, "limit")),
                          (long long)json_integer_value(json_object_get(rate, "period_seconds")));
        else
            ks_table_add(f, "none");
    }
    int rc = ks_table_print(f, stdout);
    ks_table_free(f);
    json_t *tokens = json_object_get(key, "tokens");
    if (rc == 0 && json_array_size(tokens) > 0) {
        static const char *const H[] = {"TOKEN", "CREATED", "EXPIRES", "LAST USED", "FROM", "ENDS"};
        ks_table *t = ks_table_new(6, H);
        size_t i;
        json_t *tok;
        json_array_foreach(tokens, i, tok) {
            ks_table_add(t, ks_json_str(tok, "slot", NULL));
            ks_table_add(t, ks_json_str(tok, "created_at", NULL));
            ks_table_add(t, ks_json_str(tok, "expires_at", NULL));
            ks_table_add(t, ks_json_str(tok, "last_used_at", "never"));
            ks_table_add(t, ks_json_str(tok, "last_used_from", "-")); /* the last caller's address */
            ks_table_add(t, ks_json_str(tok, "ends_at", "-")); /* an old token's deadline */
        }
        fputc('\n', stdout);
        rc = ks_table_print(t, stdout);
        ks_table_free(t);
    }
    if (rc != 0)
        fprintf(stderr, "keystile: out of memory\n");
    return rc ? KS_EXIT_FAIL : KS_EXIT_OK;
}

int ks_print_new_token(const ks_client *c, json_t *resp, const char *headline, const char *extra)
{
    const char *token = ks_json_str(resp, "token", NULL);
    const char *key = ks_json_str(resp, "key", "?");
    int rc = KS_EXIT_OK;
    if (!token) {
        fprintf(stderr, "keystile: the server's answer carries no token\n");
        return KS_EXIT_FAIL;
    }
    if (c->json) {
        rc = ks_print_json(resp);
    } else {
        char roles[2048];
        printf("%s\n\n", headline);
        ks_table *f = ks_table_new(2, NULL);
        ks_table_add(f, "Key:");
        ks_table_add(f, key);
        ks_table_add(f, "Name:");
        ks_table_add(f, ks_json_str(resp, "name", NULL));
        ks_table_add(f, "Roles:");
        ks_table_add(f, ks_join_strings(json_object_get(resp, "roles"), roles, sizeof roles));
        ks_table_add(f, "Token:");
        ks_table_add(f, token);
        if (ks_json_str(resp, "share_url", NULL)) {
            ks_table_add(f, "Share link:");
            ks_table_add(f, ks_json_str(resp, "share_url", NULL));
        }
        if (ks_table_print(f, stdout) != 0) {
            fprintf(stderr, "keystile: out of memory\n");
            rc = KS_EXIT_FAIL;
        }
        ks_table_free(f);
    }
    fflush(stdout);
    ks_json_wipe_string(resp, "token");
    if (rc == KS_EXIT_OK) {
        fprintf(stderr,
                "\nWARNING: store this token now, e.g. in your secret manager. It is shown only this once:\n"
                "Keystile keeps only a hash of it and cannot show it again.%s%s%s\n",
                ks_json_str(resp, "share_url", NULL)
                    ? "\nTo hand it to an integrator, send the share link: it reveals the token once, within 24 hours."
                    : "",
                extra ? "\n" : "", extra ? extra : "");
    }
    return rc;
}

int ks_print_key_result(const ks_client *c, const json_t *key, const char *message)
{
    if (c->json)
        return ks_print_json(key);
    printf("%s\n\n", message);
    return ks_key_print_detail(key);
}
