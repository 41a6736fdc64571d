/*
 * limits_args.h - a key's limits on the command line of `keys create` and
 * `keys edit`: --allow-cidr CIDR (repeatable; '' alone clears the list),
 * --rate-limit N --rate-period SECONDS (--rate-limit 0 removes the limit).
 */
#ifndef KS_CLI_LIMITS_ARGS_H
#define KS_CLI_LIMITS_ARGS_H

#include "cli/client_args.h"

#include <jansson.h>

/* Adds "allowed_cidrs" and "rate_limit" to body as the options give them,
 * how many of the two in *given. Returns 0, KS_EXIT_USAGE after a usage
 * message (a rate limit without its period, out-of-range numbers), or -1
 * when out of memory / not UTF-8. The server checks the ranges. */
int ks_args_limits_body(const ks_args *a, json_t *body, int *given);

#endif
