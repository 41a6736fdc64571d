/*
 * client_args.c - the table-driven argument parser of the client commands
 * and the confirmation of destructive ones; see client_args.h.
 */
#include "cli/client_args.h"
#include "cli/cli.h"
#include "cli/table.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void add_opt(ks_args *a, const ks_opt_doc *o)
{
    if (a->nopts < KS_ARGS_MAX_OPTS) /* the table is ours: a static limit suffices */
        a->opts[a->nopts++] = o;
}

static int find_opt(const ks_args *a, const char *name, size_t len)
{
    for (size_t i = 0; i < a->nopts; i++)
        if (strlen(a->opts[i]->name) == len && strncmp(a->opts[i]->name, name, len) == 0)
            return (int)i;
    return -1;
}

int ks_usage_error(const ks_cmd_doc *cmd, const char *fmt, ...)
{
    char title[64], msg[1024], shown[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ks_text_sanitize(shown, sizeof shown, msg);
    ks_cmd_title(cmd, title, sizeof title);
    fprintf(stderr, "keystile %s: %s\nUsage: keystile %s %s\nRun 'keystile %s --help' for details and examples.\n",
            title, shown, title, cmd->synopsis, title);
    return KS_EXIT_USAGE;
}

int ks_args_parse(ks_args *a, const ks_cmd_doc *cmd, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    for (const ks_opt_doc *o = cmd->opts; o && o->name; o++)
        add_opt(a, o);
    if (cmd->with & KS_WITH_ACCOUNT)
        add_opt(a, &KS_OPT_ACCOUNT);
    if (cmd->with & KS_WITH_YES)
        add_opt(a, &KS_OPT_YES);
    if (cmd->with & KS_WITH_JSON)
        add_opt(a, &KS_OPT_JSON);
    if (cmd->with & KS_WITH_CONN)
        for (const ks_opt_doc *o = KS_OPTS_CONN; o->name; o++)
            add_opt(a, o);
    add_opt(a, &KS_OPT_HELP);

    /* --help wins over every other problem of the line. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ks_help_command(stdout, cmd);
            return KS_ARGS_HELP;
        }
    }
    for (size_t i = 0; i < a->nopts; i++) {
        if (!(a->values[i] = calloc((size_t)argc + 1, sizeof *a->values[i]))) {
            fprintf(stderr, "keystile: out of memory\n");
            return KS_EXIT_FAIL;
        }
    }
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = 1;
            continue;
        }
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (!cmd->pos_name)
                return ks_usage_error(cmd, "unexpected argument '%s'", arg);
            if (a->positional)
                return ks_usage_error(cmd, "unexpected extra argument '%s' (only one %s)", arg, cmd->pos_name);
            a->positional = arg;
            continue;
        }
        if (arg[1] != '-')
            return ks_usage_error(cmd, "unknown option '%s' (options are long, like --json)", arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int k = find_opt(a, name, len);
        if (k < 0)
            return ks_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
        const ks_opt_doc *o = a->opts[k];
        const char *value = "";
        if (o->value) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return ks_usage_error(cmd, "option --%s needs a value (%s)", o->name, o->value);
            if (a->nvalues[k] > 0 && !(o->flags & KS_OPT_REPEAT))
                return ks_usage_error(cmd, "option --%s given twice", o->name);
        } else if (eq) {
            return ks_usage_error(cmd, "option --%s takes no value", o->name);
        }
        a->values[k][a->nvalues[k]++] = value;
    }
    if (cmd->pos_name && !a->positional)
        return ks_usage_error(cmd, "missing %s", cmd->pos_name);
    return 0;
}

void ks_args_free(ks_args *a)
{
    for (size_t i = 0; i < a->nopts; i++)
        free(a->values[i]);
    memset(a, 0, sizeof *a);
}

size_t ks_args_values(const ks_args *a, const char *name, const char *const **values)
{
    int k = find_opt(a, name, strlen(name));
    if (k < 0 || !a->values[k]) {
        *values = NULL;
        return 0;
    }
    *values = a->values[k];
    return a->nvalues[k];
}

const char *ks_args_value(const ks_args *a, const char *name)
{
    const char *const *v;
    size_t n = ks_args_values(a, name, &v);
    return n ? v[n - 1] : NULL;
}

int ks_args_has(const ks_args *a, const char *name)
{
    const char *const *v;
    return ks_args_values(a, name, &v) > 0;
}

json_t *ks_args_json_array(const ks_args *a, const char *name)
{
    const char *const *v;
    size_t n = ks_args_values(a, name, &v);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (json_array_append_new(arr, json_string(v[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

int ks_args_long(const ks_args *a, const char *name, long min, long max, long *out)
{
    const char *s = ks_args_value(a, name);
    if (!s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max) {
        if (min == 1 && max == LONG_MAX)
            return ks_usage_error(a->cmd, "--%s must be a positive integer, not '%s'", name, s);
        return ks_usage_error(a->cmd, "--%s must be an integer from %ld to %ld, not '%s'", name, min, max, s);
    }
    *out = v;
    return 1;
}

int ks_args_choice(const ks_args *a, const char *name, const char *const *choices, int *index)
{
    const char *s = ks_args_value(a, name);
    if (!s)
        return 0;
    char list[256] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(s, choices[i]) == 0) {
            *index = i;
            return 1;
        }
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? " or " : "", choices[i]);
    }
    return ks_usage_error(a->cmd, "--%s must be %s, not '%s'", name, list, s);
}

int ks_confirm(const ks_args *a, const char *question)
{
    if (ks_args_has(a, "yes"))
        return 0;
    char title[64];
    ks_cmd_title(a->cmd, title, sizeof title);
    if (!isatty(STDIN_FILENO)) {
        fprintf(stderr, "keystile %s: refusing without confirmation: standard input is not a terminal; pass --yes to confirm\n",
                title);
        return KS_EXIT_USAGE;
    }
    char shown[512], answer[64];
    ks_text_sanitize(shown, sizeof shown, question);
    fprintf(stderr, "%s [y/N] ", shown);
    fflush(stderr);
    if (!fgets(answer, sizeof answer, stdin))
        answer[0] = '\0';
    answer[strcspn(answer, "\r\n")] = '\0';
    if (strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0 ||
        strcmp(answer, "YES") == 0 || strcmp(answer, "Yes") == 0)
        return 0;
    fprintf(stderr, "keystile: cancelled; nothing was changed\n");
    return KS_EXIT_FAIL;
}

json_t *ks_args_roles_status_body(const ks_args *a, int allow_no_roles, int *exit_code)
{
    static const char *const STATUS[] = {"active", "inactive", NULL};
    int status = -1;
    if ((*exit_code = ks_args_choice(a, "status", STATUS, &status)) == KS_EXIT_USAGE)
        return NULL;
    int roles = ks_args_has(a, "role"), no_roles = allow_no_roles && ks_args_has(a, "no-roles");
    *exit_code = KS_EXIT_USAGE;
    if (roles && no_roles) {
        ks_usage_error(a->cmd, "give either --role or --no-roles, not both");
        return NULL;
    }
    if (!roles && !no_roles && status < 0) {
        ks_usage_error(a->cmd, "nothing to change: give --role%s or --status", allow_no_roles ? ", --no-roles" : "");
        return NULL;
    }
    json_t *body = json_object();
    int ok = body != NULL;
    if (ok && (roles || no_roles))
        ok = json_object_set_new(body, "roles", roles ? ks_args_json_array(a, "role") : json_array()) == 0;
    if (ok && status >= 0)
        ok = json_object_set_new(body, "status", json_string(STATUS[status])) == 0;
    if (!ok) {
        json_decref(body);
        fprintf(stderr, "keystile: --role must be UTF-8 text\n");
        return NULL;
    }
    *exit_code = KS_EXIT_OK;
    return body;
}
