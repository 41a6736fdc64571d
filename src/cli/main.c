/*
 * main.c - `keystile`: dispatches to a subcommand.
 */
#include "cli/cli.h"
#include "cli/commands.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* The command list is rendered from the command table (commands.c). */
static void usage(FILE *out)
{
    ks_help_main(out);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "keystile: cannot initialise libsodium\n");
        return KS_EXIT_FAIL;
    }
    if (argc < 2) {
        usage(stderr);
        return KS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return KS_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return KS_EXIT_OK;
        }
        char *help_argv[] = {argv[2], "--help", NULL};
        if (strcmp(argv[2], "serve") == 0)
            return ks_cli_serve(2, help_argv);
        if (strcmp(argv[2], "account") == 0)
            return ks_cli_account(2, help_argv);
        if (strcmp(argv[2], "signing-key") == 0)
            return ks_cli_signing_key(2, help_argv);
        return ks_cli_help(argc - 1, argv + 1); /* client commands, --man */
    }
    if (strcmp(cmd, "serve") == 0)
        return ks_cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "account") == 0)
        return ks_cli_account(argc - 1, argv + 1);
    if (strcmp(cmd, "signing-key") == 0)
        return ks_cli_signing_key(argc - 1, argv + 1);
    if (ks_group_is_client(cmd))
        return ks_cli_client(argc - 1, argv + 1);
    fprintf(stderr, "keystile: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return KS_EXIT_USAGE;
}
