/*
 * cmd_usage.c - `keystile keys usage KEY [--granularity hour|day] [--json]`:
 * the key's verifies by outcome as a table (one row per hour or day that
 * counted anything), then a one-line sparkline of its verifies in each of
 * the last 24 hours.
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/table.h"
#include "core/clock.h"

#include <stdio.h>
#include <string.h>

static const char *const OUTCOMES[] = {"valid", "invalid_token", "inactive", "expired",
                                       "forbidden", "address_not_allowed", "rate_limited"};
#define N_OUTCOMES (sizeof OUTCOMES / sizeof *OUTCOMES)

static long long count_of(const json_t *item, const char *name)
{
    return (long long)json_integer_value(json_object_get(item, name));
}

/* The usage of KEY by `granularity` (NULL: the server's default). */
static json_t *usage_get(ks_client *c, const char *key, const char *granularity, int *rc)
{
    ks_strbuf path;
    ks_client_path_item(c, &path, "keys", key);
    ks_client_path_segment(c, &path, "usage");
    ks_client_path_query(c, &path, "granularity", granularity);
    json_t *out = ks_client_call(c, "GET", path.data ? path.data : "", NULL, rc);
    ks_strbuf_free(&path);
    return out;
}

/* "last 24 h: ▁▂▅█..." from hour buckets: one character per hour, oldest first. */
static void print_sparkline(const json_t *hours)
{
    static const char *const BARS[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
    long long per_hour[24] = {0}, max = 0, total = 0;
    int64_t now = ks_clock_now(), end = now - now % 3600 + 3600; /* the end of this hour */
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(hours, "items"), i, item) {
        int64_t at;
        if (ks_time_parse(json_string_value(json_object_get(item, "at")), &at) != 0)
            continue;
        int64_t slot = 23 - (end - 3600 - at) / 3600;
        if (slot < 0 || slot > 23)
            continue;
        for (size_t k = 0; k < N_OUTCOMES; k++)
            per_hour[slot] += count_of(item, OUTCOMES[k]);
    }
    for (int h = 0; h < 24; h++) {
        total += per_hour[h];
        if (per_hour[h] > max)
            max = per_hour[h];
    }
    printf("last 24 h: ");
    for (int h = 0; h < 24; h++)
        fputs(max == 0 || per_hour[h] == 0 ? BARS[0] : BARS[1 + (per_hour[h] * 6 + max - 1) / max], stdout);
    printf("  %lld verifies, at most %lld in an hour\n", total, max);
}

int ks_cmd_keys_usage(ks_client *c, const ks_args *a)
{
    static const char *const GRANULARITY[] = {"hour", "day", NULL};
    int g = 0, rc = ks_args_choice(a, "granularity", GRANULARITY, &g);
    if (rc == KS_EXIT_USAGE)
        return rc;
    if ((rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    json_t *usage = usage_get(c, a->positional, GRANULARITY[g], &rc);
    if (!usage)
        return rc;
    if (c->json) {
        rc = ks_print_json(usage);
        json_decref(usage);
        return rc;
    }
    static const char *const HEADERS[] = {"AT", "VALID", "INVALID_TOKEN", "INACTIVE", "EXPIRED",
                                          "FORBIDDEN", "ADDRESS_NOT_ALLOWED", "RATE_LIMITED"};
    ks_table *t = ks_table_new(sizeof HEADERS / sizeof *HEADERS, HEADERS);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(usage, "items"), i, item) {
        const char *at = json_string_value(json_object_get(item, "at"));
        ks_table_add(t, at ? at : "");
        for (size_t k = 0; k < N_OUTCOMES; k++)
            ks_table_addf(t, "%lld", count_of(item, OUTCOMES[k]));
    }
    if (json_array_size(json_object_get(usage, "items")) == 0)
        printf("No verifies of %s in this range.\n", a->positional);
    else
        ks_table_print(t, stdout);
    ks_table_free(t);
    json_t *hours = g == 0 ? json_incref(usage) : usage_get(c, a->positional, "hour", &rc);
    json_decref(usage);
    if (!hours)
        return rc;
    print_sparkline(hours);
    json_decref(hours);
    return 0;
}
