/*
 * cmd_webhooks.c - `keystile webhooks list|create|edit|delete|deliveries|test`:
 * the account's webhooks (GET/POST /webhooks, PATCH/DELETE /webhooks/{id},
 * GET /webhooks/{id}/deliveries, POST /webhooks/{id}/test). create prints the
 * signing secret once, with the warning to store it, and wipes it after.
 * Events come from --events a,b and/or repeated --event; the URL is create's
 * positional argument and edit's --endpoint (--url is the server's).
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/key_view.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char *const WEBHOOK_HEADERS[] = {"ID", "URL", "EVENTS", "ENABLED", "CREATED"};

static void webhooks_table_add(ks_table *t, const json_t *w)
{
    static const ks_field ROW[] = {
        {NULL, "id", KS_FIELD_TEXT},         {NULL, "url", KS_FIELD_TEXT},
        {NULL, "events", KS_FIELD_LIST},     {NULL, "enabled", KS_FIELD_YES_NO},
        {NULL, "created_at", KS_FIELD_TEXT},
    };
    ks_table_add_fields(t, w, ROW, sizeof ROW / sizeof *ROW);
}

static int print_webhook(const ks_client *c, const json_t *w, const char *message)
{
    if (c->json)
        return ks_print_json(w);
    printf("%s\n\n", message);
    ks_table *t = ks_table_new(5, WEBHOOK_HEADERS);
    webhooks_table_add(t, w);
    int rc = ks_table_print(t, stdout);
    ks_table_free(t);
    return rc == 0 ? KS_EXIT_OK : KS_EXIT_FAIL;
}

/* The events of --events (comma-separated) and --event (repeatable), in
 * order: a new JSON array, empty when neither was given; NULL after a
 * usage message. */
static json_t *events_arg(const ks_args *a)
{
    json_t *arr = json_array();
    const char *const *vals;
    size_t n = ks_args_values(a, "events", &vals);
    for (size_t i = 0; arr && i < n; i++) {
        const char *p = vals[i];
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            while (len && p[0] == ' ')
                p++, len--;
            while (len && p[len - 1] == ' ')
                len--;
            if (len == 0) {
                json_decref(arr);
                ks_usage_error(a->cmd, "--events takes event types separated by commas, e.g. "
                                       "token.renewed,key.deleted; '%s' has an empty one", vals[i]);
                return NULL;
            }
            if (json_array_append_new(arr, json_stringn(p, len)) != 0) {
                json_decref(arr);
                ks_usage_error(a->cmd, "--events must be UTF-8 text");
                return NULL;
            }
            if (!comma)
                break;
            p = comma + 1;
        }
    }
    json_t *single = ks_args_json_array(a, "event");
    if (!arr || !single || json_array_extend(arr, single) != 0) {
        json_decref(arr);
        json_decref(single);
        ks_usage_error(a->cmd, "--event must be UTF-8 text");
        return NULL;
    }
    json_decref(single);
    return arr;
}

int ks_cmd_webhooks_list(ks_client *c, const ks_args *a)
{
    long limit = 0;
    int rc = ks_args_long(a, "limit", 1, LONG_MAX, &limit);
    if (rc == KS_EXIT_USAGE || (rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    ks_strbuf path;
    ks_client_path_item(c, &path, "webhooks", NULL);
    return ks_client_list_print(c, a, &path, limit, 0, ks_table_new(5, WEBHOOK_HEADERS), webhooks_table_add,
                                "webhooks");
}

int ks_cmd_webhooks_create(ks_client *c, const ks_args *a)
{
    const char *url = a->positional;
    json_t *events = events_arg(a);
    if (!events)
        return KS_EXIT_USAGE;
    if (json_array_size(events) == 0) {
        json_decref(events);
        return ks_usage_error(a->cmd, "missing --events E1,E2 or --event E: the event types to send");
    }
    int rc = ks_client_open(c, a, 1);
    if (rc != 0) {
        json_decref(events);
        return rc;
    }
    json_t *body = json_pack("{s:s, s:o}", "url", url, "events", events);
    if (!body) {
        fprintf(stderr, "keystile: URL must be UTF-8 text\n");
        return KS_EXIT_USAGE;
    }
    json_t *w = ks_client_call_item(c, "POST", "webhooks", NULL, NULL, body, &rc);
    json_decref(body);
    if (!w)
        return rc;
    const char *secret = ks_json_str(w, "secret", NULL);
    if (!secret) {
        fprintf(stderr, "keystile: the server's answer carries no secret\n");
        json_decref(w);
        return KS_EXIT_FAIL;
    }
    if (c->json) {
        rc = ks_print_json(w);
    } else {
        char message[512];
        snprintf(message, sizeof message, "Created webhook %s.", ks_json_str(w, "id", "?"));
        rc = print_webhook(c, w, message);
        if (rc == KS_EXIT_OK)
            printf("\nSigning secret: %s\n", secret);
    }
    fflush(stdout);
    ks_json_wipe_string(w, "secret");
    if (rc == KS_EXIT_OK)
        fprintf(stderr, "\nWARNING: store this signing secret now: it is shown only this once. Receivers "
                        "check each delivery's webhook-signature with it (Standard Webhooks).\n");
    json_decref(w);
    return rc;
}

int ks_cmd_webhooks_edit(ks_client *c, const ks_args *a)
{
    static const char *const BOOL[] = {"true", "false", NULL};
    int enabled = -1;
    int rc = ks_args_choice(a, "enabled", BOOL, &enabled);
    if (rc == KS_EXIT_USAGE)
        return rc;
    const char *url = ks_args_value(a, "endpoint");
    json_t *events = events_arg(a);
    if (!events)
        return KS_EXIT_USAGE;
    if (!url && enabled < 0 && json_array_size(events) == 0) {
        json_decref(events);
        return ks_usage_error(a->cmd, "nothing to change: give --endpoint, --events/--event or --enabled");
    }
    json_t *body = json_object();
    int ok = body != NULL;
    if (ok && url)
        ok = json_object_set_new(body, "url", json_string(url)) == 0;
    if (ok && json_array_size(events) > 0)
        ok = json_object_set(body, "events", events) == 0;
    if (ok && enabled >= 0)
        ok = json_object_set_new(body, "enabled", json_boolean(enabled == 0)) == 0;
    json_decref(events);
    if (!ok) {
        json_decref(body);
        fprintf(stderr, "keystile: --endpoint must be UTF-8 text\n");
        return KS_EXIT_USAGE;
    }
    if ((rc = ks_client_open(c, a, 1)) != 0) {
        json_decref(body);
        return rc;
    }
    json_t *w = ks_client_call_item(c, "PATCH", "webhooks", a->positional, NULL, body, &rc);
    json_decref(body);
    if (!w)
        return rc;
    char message[512];
    snprintf(message, sizeof message, "Updated webhook %s.", ks_json_str(w, "id", a->positional));
    rc = print_webhook(c, w, message);
    json_decref(w);
    return rc;
}

int ks_cmd_webhooks_delete(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    char question[512];
    snprintf(question, sizeof question, "Delete webhook %s of account %s? Its pending deliveries are dropped.",
             a->positional, c->account);
    if ((rc = ks_confirm(a, question)) != 0)
        return rc;
    json_t *res = ks_client_call_item(c, "DELETE", "webhooks", a->positional, NULL, NULL, &rc);
    if (!res)
        return rc;
    if (!c->json)
        printf("Deleted webhook %s.\n", a->positional);
    json_decref(res);
    return KS_EXIT_OK;
}

static const char *const DELIVERY_HEADERS[] = {"ID", "EVENT", "STATUS", "ATTEMPTS", "LAST_ATTEMPT", "RESPONSE",
                                               "NEXT_ATTEMPT"};

static void deliveries_table_add(ks_table *t, const json_t *d)
{
    ks_table_add(t, ks_json_str(d, "event_id", NULL));
    ks_table_add(t, ks_json_str(d, "event", NULL));
    ks_table_add(t, ks_json_str(d, "status", NULL));
    ks_table_addf(t, "%lld", (long long)json_integer_value(json_object_get(d, "attempts")));
    ks_table_add(t, ks_json_str(d, "last_attempt_at", "-"));
    json_t *code = json_object_get(d, "response_code");
    if (json_is_integer(code))
        ks_table_addf(t, "%lld", (long long)json_integer_value(code));
    else
        ks_table_add(t, "-");
    ks_table_add(t, ks_json_str(d, "next_attempt_at", "-"));
}

int ks_cmd_webhooks_deliveries(ks_client *c, const ks_args *a)
{
    long limit = 0, page_size = 100;
    int rc;
    if ((rc = ks_args_long(a, "limit", 1, LONG_MAX, &limit)) == KS_EXIT_USAGE ||
        (rc = ks_args_long(a, "page-size", 1, 500, &page_size)) == KS_EXIT_USAGE)
        return rc;
    if ((rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    ks_strbuf path;
    ks_client_path_item(c, &path, "webhooks", a->positional);
    ks_strbuf_puts(&path, "/deliveries");
    return ks_client_list_print(c, a, &path, limit, page_size, ks_table_new(7, DELIVERY_HEADERS),
                                deliveries_table_add, "deliveries");
}

int ks_cmd_webhooks_test(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    json_t *res = ks_client_call_item(c, "POST", "webhooks", a->positional, "/test", NULL, &rc);
    if (!res)
        return rc;
    if (c->json)
        rc = ks_print_json(res);
    else
        printf("Queued test event %s for webhook %s; see it with: keystile webhooks deliveries %s\n",
               ks_json_str(res, "event_id", "?"), a->positional, a->positional);
    json_decref(res);
    return rc;
}
