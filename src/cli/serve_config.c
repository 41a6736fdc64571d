/* serve_config.c - config file and environment for `keystile serve`. */
#include "cli/serve_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 4096
#define ARGS_MAX 256

typedef struct {
    char **items;
    int count;
} arg_list;

static int arg_add(arg_list *l, const char *name, const char *value)
{
    if (l->count >= ARGS_MAX)
        return -1;
    size_t len = strlen(name) + (value ? strlen(value) + 1 : 0) + 3;
    char *arg = malloc(len);
    if (!arg)
        return -1;
    if (value)
        snprintf(arg, len, "--%s=%s", name, value);
    else
        snprintf(arg, len, "%s", name);
    l->items[l->count++] = arg;
    return 0;
}

static const struct option *find_option(const struct option *opts, const char *name)
{
    for (const struct option *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

static int is_cli_only(const char *const *cli_only, const char *name)
{
    for (; cli_only && *cli_only; cli_only++)
        if (strcmp(*cli_only, name) == 0)
            return 1;
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int read_config(const char *path, const struct option *opts, const char *const *cli_only, arg_list *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "keystile: cannot read config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[LINE_MAX_LEN];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "keystile: %s:%d: expected `key = value`\n", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        const struct option *o = find_option(opts, key);
        if (!o || o->has_arg != required_argument || is_cli_only(cli_only, key)) {
            fprintf(stderr, "keystile: %s:%d: unknown setting '%s' (use the long option names of "
                            "keystile serve --help)\n", path, lineno, key);
            rc = -1;
            break;
        }
        if (arg_add(out, key, value) != 0)
            rc = -1;
    }
    fclose(f);
    return rc;
}

static void read_env(const struct option *opts, const char *const *cli_only, arg_list *out)
{
    for (const struct option *o = opts; o->name; o++) {
        if (o->has_arg != required_argument || is_cli_only(cli_only, o->name))
            continue;
        char var[96] = "KEYSTILE_";
        size_t n = strlen(var);
        for (const char *c = o->name; *c && n + 1 < sizeof var; c++)
            var[n++] = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
        var[n] = '\0';
        const char *value = getenv(var);
        if (value && *value)
            arg_add(out, o->name, value);
    }
}

int ks_serve_args_merge(int argc, char **argv, const struct option *opts, const char *const *cli_only,
                        int *out_argc, char ***out)
{
    arg_list l = {calloc(ARGS_MAX + 1, sizeof(char *)), 0};
    if (!l.items)
        return -1;
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config = argv[i] + 9;
    }
    int rc = arg_add(&l, argv[0], NULL);
    if (rc == 0 && config)
        rc = read_config(config, opts, cli_only, &l);
    if (rc == 0)
        read_env(opts, cli_only, &l);
    for (int i = 1; rc == 0 && i < argc; i++)
        rc = arg_add(&l, argv[i], NULL);
    if (rc != 0) {
        ks_serve_args_free(l.count, l.items);
        return -1;
    }
    *out_argc = l.count;
    *out = l.items;
    return 0;
}

void ks_serve_args_free(int argc, char **args)
{
    for (int i = 0; i < argc; i++)
        free(args[i]);
    free(args);
}
