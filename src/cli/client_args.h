/*
 * client_args.h - the argument parser of the client commands, driven by the
 * command table (commands.h): a command accepts exactly the options its entry
 * lists, plus the shared ones its `with` bits name, and at most one
 * positional argument (required when the entry names one).
 *
 * Accepted forms: --opt VALUE, --opt=VALUE, flags as --flag, -h for --help,
 * options before or after the positional, "--" ending options. A value
 * option given twice is an error unless repeatable. Values point into argv.
 */
#ifndef KS_CLI_CLIENT_ARGS_H
#define KS_CLI_CLIENT_ARGS_H

#include "cli/commands.h"

#include <jansson.h>
#include <stddef.h>

#define KS_ARGS_MAX_OPTS 24
#define KS_ARGS_HELP (-1) /* ks_args_parse printed the help: exit 0 */

struct ks_args {
    const ks_cmd_doc *cmd;                        /* the command parsed for */
    size_t nopts;                                 /* options accepted */
    const ks_opt_doc *opts[KS_ARGS_MAX_OPTS];     /* which ones */
    const char **values[KS_ARGS_MAX_OPTS];        /* values given, per option (flags: "") */
    size_t nvalues[KS_ARGS_MAX_OPTS];             /* how many times given */
    const char *positional;                       /* the positional argument, or NULL */
};

/* Parses argv (argv[0] is the last command word). Returns 0, KS_ARGS_HELP
 * after printing the help on stdout, or KS_EXIT_USAGE after a message on
 * stderr. Pair with ks_args_free whatever it returns. */
int ks_args_parse(ks_args *a, const ks_cmd_doc *cmd, int argc, char **argv);
void ks_args_free(ks_args *a);

/* The last value of option name, or NULL when not given. */
const char *ks_args_value(const ks_args *a, const char *name);
/* All values of option name; returns their count (0 when not given). */
size_t ks_args_values(const ks_args *a, const char *name, const char *const **values);
/* 1 when option name was given. */
int ks_args_has(const ks_args *a, const char *name);

/* The PATCH body of an `edit` of a role holder (an external key's grant, a
 * user): "roles" from --role (or [] from --no-roles, when allow_no_roles),
 * "status" from --status active|inactive; at least one. NULL with *exit_code
 * set after a usage error (nothing to change, --role with --no-roles, a bad
 * --status, a role that is not UTF-8); else the caller's body. */
json_t *ks_args_roles_status_body(const ks_args *a, int allow_no_roles, int *exit_code);

/* A new JSON array of the values of option name (empty when not given);
 * NULL when out of memory or a value is not UTF-8. */
json_t *ks_args_json_array(const ks_args *a, const char *name);

/* Option name as an integer in [min, max]: 1 when given (*out set), 0 when
 * absent, KS_EXIT_USAGE after a message when malformed. */
int ks_args_long(const ks_args *a, const char *name, long min, long max, long *out);
/* Option name as one of choices (NULL-ended): 1 when given (*index set), 0
 * when absent, KS_EXIT_USAGE after a message when not a choice. */
int ks_args_choice(const ks_args *a, const char *name, const char *const *choices, int *index);

/* Prints "keystile CMD: <message>", the usage line and a pointer to --help
 * on stderr; returns KS_EXIT_USAGE. */
int ks_usage_error(const ks_cmd_doc *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Confirmation of a destructive command. With --yes: 0. On a terminal
 * (isatty(stdin)): asks `question` on stderr and returns 0 for "y"/"yes",
 * KS_EXIT_FAIL after "cancelled" otherwise. Not on a terminal: refuses with
 * KS_EXIT_USAGE and a message to pass --yes. */
int ks_confirm(const ks_args *a, const char *question);

#endif
