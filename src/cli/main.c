/*
 * main.c - `keystile`: dispatches to a subcommand.
 */
#include "cli/cli.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: keystile COMMAND [OPTIONS]\n"
            "\n"
            "Keystile: API keys and tokens with zero-downtime renewal, checked by one fast verify call.\n"
            "\n"
            "Commands:\n"
            "  serve              run the HTTP API (keystile serve --help)\n"
            "  account create     create an account and print its Owner key and token (offline)\n"
            "  help [COMMAND]     show help for a command\n"
            "\n"
            "Database: --db PATH (SQLite file, default keystile.db). The server secret that\n"
            "keys token hashes lives in PATH.secret (created 0600) unless --secret-file is given.\n");
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
        fprintf(stderr, "keystile: no help for unknown command '%s'\n", argv[2]);
        return KS_EXIT_USAGE;
    }
    if (strcmp(cmd, "serve") == 0)
        return ks_cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "account") == 0)
        return ks_cli_account(argc - 1, argv + 1);
    fprintf(stderr, "keystile: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return KS_EXIT_USAGE;
}
