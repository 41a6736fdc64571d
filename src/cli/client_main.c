/*
 * client_main.c - dispatch of the client commands: finds the command in the
 * table, parses its arguments, runs it with a fresh client, and checks that
 * standard output took everything. Also `keystile help` for the client
 * groups and `keystile help --man`.
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

static int is_help_flag(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 || strcmp(s, "help") == 0;
}

/* The names of a group's commands, "a, b or c", into buf. */
static const char *command_names(const char *group, char *buf, size_t n)
{
    size_t used = 0, count = 0, total = 0;
    for (const ks_cmd_doc *c = KS_COMMANDS; c->group; c++)
        total += strcmp(c->group, group) == 0 && c->name;
    buf[0] = '\0';
    for (const ks_cmd_doc *c = KS_COMMANDS; c->group; c++) {
        if (strcmp(c->group, group) != 0 || !c->name)
            continue;
        count++;
        int w = snprintf(buf + used, n - used, "%s%s", count == 1 ? "" : count == total ? " or " : ", ", c->name);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

static int run_command(const ks_cmd_doc *cmd, int argc, char **argv)
{
    ks_args args;
    int rc = ks_args_parse(&args, cmd, argc, argv);
    if (rc == 0) {
        ks_client client;
        memset(&client, 0, sizeof client);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "keystile: cannot initialise libcurl\n");
            rc = KS_EXIT_FAIL;
        } else {
            rc = cmd->run(&client, &args);
            ks_client_close(&client);
            curl_global_cleanup();
        }
    } else if (rc == KS_ARGS_HELP) {
        rc = KS_EXIT_OK;
    }
    ks_args_free(&args);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "keystile: cannot write to standard output\n");
        if (rc == KS_EXIT_OK)
            rc = KS_EXIT_FAIL;
    }
    return rc;
}

int ks_cli_client(int argc, char **argv)
{
    const char *group = argv[0];
    const ks_group_doc *g = ks_group_find(group);
    const ks_cmd_doc *own = ks_cmd_find(group, NULL);
    if (own)
        return run_command(own, argc, argv);
    char names[512];
    if (argc < 2) {
        fprintf(stderr, "keystile %s: missing COMMAND: %s\n\n", group, command_names(group, names, sizeof names));
        ks_help_group(stderr, g);
        return KS_EXIT_USAGE;
    }
    if (is_help_flag(argv[1])) {
        ks_help_group(stdout, g);
        return KS_EXIT_OK;
    }
    const ks_cmd_doc *cmd = ks_cmd_find(group, argv[1]);
    if (!cmd || !cmd->run) {
        fprintf(stderr, "keystile %s: unknown command '%s'; the commands are %s.\nRun 'keystile %s --help' for details.\n",
                group, argv[1], command_names(group, names, sizeof names), group);
        return KS_EXIT_USAGE;
    }
    return run_command(cmd, argc - 1, argv + 1);
}

int ks_cli_help(int argc, char **argv)
{
    if (argc < 2) {
        ks_help_main(stdout);
        return KS_EXIT_OK;
    }
    if (strcmp(argv[1], "--man") == 0 && argc == 2) {
        ks_help_man(stdout);
        return fflush(stdout) == 0 && !ferror(stdout) ? KS_EXIT_OK : KS_EXIT_FAIL;
    }
    const ks_group_doc *g = ks_group_find(argv[1]);
    if (!g || argc > 3) {
        fprintf(stderr, "keystile help: no help for '%s'%s; run 'keystile help' for the list of commands\n",
                argv[1], argc > 3 ? " with that many words" : "");
        return KS_EXIT_USAGE;
    }
    const ks_cmd_doc *cmd = argc == 3 ? ks_cmd_find(argv[1], argv[2]) : ks_cmd_find(argv[1], NULL);
    if (argc == 3 && !cmd) {
        char names[512];
        fprintf(stderr, "keystile help: '%s' has no command '%s'; its commands are %s\n", argv[1], argv[2],
                command_names(argv[1], names, sizeof names));
        return KS_EXIT_USAGE;
    }
    if (cmd)
        ks_help_command(stdout, cmd);
    else
        ks_help_group(stdout, g);
    return KS_EXIT_OK;
}
