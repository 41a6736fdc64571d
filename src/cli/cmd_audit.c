/*
 * cmd_audit.c - `keystile audit list`: the account's audit log
 * (GET /audit), newest first, filtered by exact actor and/or action. Like
 * `keys list` it follows next_cursor and prints every entry unless --limit
 * is given; --json prints {"items": [...], "next_cursor": ...}.
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/table.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX 500
#define FILTER_MAX 256 /* bytes of --actor and --action, as the server takes them */

static const char *const AUDIT_HEADERS[] = {"AT", "ACTOR", "ACTION", "TARGET", "VIA", "ADDRESS", "DETAIL"};

static void audit_table_add(ks_table *t, const json_t *entry)
{
    ks_table_add(t, ks_json_str(entry, "at", NULL));
    ks_table_add(t, ks_json_str(entry, "actor", NULL));
    ks_table_add(t, ks_json_str(entry, "action", NULL));
    ks_table_add(t, ks_json_str(entry, "target", NULL));
    ks_table_add(t, ks_json_str(entry, "via", NULL));
    ks_table_add(t, ks_json_str(entry, "address", NULL));
    json_t *detail = json_object_get(entry, "detail");
    char *text = json_is_object(detail) && json_object_size(detail) > 0
                     ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)
                     : NULL;
    ks_table_add(t, text); /* NULL ({} or missing) prints as "-" */
    free(text);
}

/* A filter option of at most FILTER_MAX bytes: 0, or KS_EXIT_USAGE after a message. */
static int filter_option(const ks_args *a, const char *name)
{
    const char *v = ks_args_value(a, name);
    if (v && strlen(v) > FILTER_MAX)
        return ks_usage_error(a->cmd, "--%s must be at most %d bytes", name, FILTER_MAX);
    return 0;
}

int ks_cmd_audit_list(ks_client *c, const ks_args *a)
{
    long limit = 0, page_size = PAGE_SIZE_DEFAULT;
    int rc;
    if ((rc = ks_args_long(a, "limit", 1, LONG_MAX, &limit)) == KS_EXIT_USAGE ||
        (rc = ks_args_long(a, "page-size", 1, PAGE_SIZE_MAX, &page_size)) == KS_EXIT_USAGE ||
        (rc = filter_option(a, "actor")) != 0 || (rc = filter_option(a, "action")) != 0)
        return rc;
    if ((rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    ks_strbuf path;
    ks_client_path_item(c, &path, "audit", NULL);
    ks_client_path_query(c, &path, "actor", ks_args_value(a, "actor"));
    ks_client_path_query(c, &path, "action", ks_args_value(a, "action"));
    return ks_client_list_print(c, a, &path, limit, page_size, ks_table_new(7, AUDIT_HEADERS), audit_table_add,
                                "entries");
}
