/* limits_args.c - --allow-cidr and --rate-limit/--rate-period (see limits_args.h). */
#include "cli/limits_args.h"
#include "cli/cli.h"
#include "core/key_limits.h"

#include <stdio.h>

int ks_args_limits_body(const ks_args *a, json_t *body, int *given)
{
    *given = 0;
    const char *const *cidrs;
    size_t n = ks_args_values(a, "allow-cidr", &cidrs);
    if (n > 0) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < n; i++)
            if (cidrs[i][0] && json_array_append_new(list, json_string(cidrs[i])) != 0) {
                json_decref(list);
                list = NULL;
            }
        if (!list || json_object_set_new(body, "allowed_cidrs", list) != 0)
            return -1;
        (*given)++;
    }
    long limit = 0, period = 0;
    int has_limit = ks_args_long(a, "rate-limit", 0, KS_RATE_LIMIT_MAX, &limit);
    if (has_limit == KS_EXIT_USAGE)
        return KS_EXIT_USAGE;
    int has_period = ks_args_long(a, "rate-period", 1, KS_RATE_PERIOD_MAX, &period);
    if (has_period == KS_EXIT_USAGE)
        return KS_EXIT_USAGE;
    if (has_period && !has_limit)
        return ks_usage_error(a->cmd, "--rate-period needs --rate-limit");
    if (has_limit && limit > 0 && !has_period)
        return ks_usage_error(a->cmd, "--rate-limit N needs --rate-period SECONDS (the period the N verifies refill in)");
    if (has_limit) {
        json_t *v = limit == 0 ? json_null()
                               : json_pack("{s:I, s:I}", "limit", (json_int_t)limit, "period_seconds",
                                           (json_int_t)period);
        if (!v || json_object_set_new(body, "rate_limit", v) != 0)
            return -1;
        (*given)++;
    }
    return 0;
}
