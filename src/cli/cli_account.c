/*
 * cli_account.c - `keystile account create NAME [--db PATH]`: makes an account
 * with its built-in roles and an Owner key, directly on the database, and
 * prints {"account","key","token"} once.
 */
#include "cli/cli.h"
#include "core/error.h"
#include "service/service.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void account_usage(FILE *out)
{
    fprintf(out,
            "Usage: keystile account create NAME [--db PATH] [--secret-file PATH]\n"
            "\n"
            "Creates account NAME (1-40 of a-z 0-9 -, starting with a letter) with the built-in\n"
            "roles and one key holding the Owner role, and prints once, as JSON:\n"
            "  {\"account\": NAME, \"key\": \"kst-NAME-...\", \"token\": \"kstt_...\"}\n"
            "Store the token now: it is never shown again. Works offline on the database;\n"
            "a running server sees the new account after its next restart (with PostgreSQL,\n"
            "every running node sees it within a second).\n"
            "\n"
            "  --db PATH|URI       SQLite database file (default keystile.db), or a\n"
            "                      postgresql:// URI shared by several nodes\n"
            "  --secret-file PATH  server secret (default PATH.secret beside a SQLite database;\n"
            "                      required with PostgreSQL: the same file on every node)\n");
}

int ks_cli_account(int argc, char **argv)
{
    const char *db = "keystile.db", *secret_file = NULL;
    int rc = ks_cli_parse_offline(argc, argv, account_usage, &db, &secret_file);
    if (rc >= 0)
        return rc;
    if (argc - optind != 2 || strcmp(argv[optind], "create") != 0) {
        account_usage(stderr);
        return KS_EXIT_USAGE;
    }
    const char *name = argv[optind + 1];
    if (!ks_account_name_valid(name)) {
        fprintf(stderr, "keystile: invalid account name '%s': use 1-40 of a-z 0-9 -, starting with a letter\n", name);
        return KS_EXIT_USAGE;
    }
    ks_store *store;
    ks_service svc;
    if (ks_cli_open_offline(db, secret_file, &store, &svc) != 0)
        return KS_EXIT_FAIL;
    ks_key owner = {0};
    char token[KS_TOKEN_LEN + 1];
    rc = ks_service_account_create(&svc, name, "cli", &owner, token);
    if (rc == KS_OK) {
        printf("{\"account\":\"%s\",\"key\":\"%s\",\"token\":\"%s\"}\n", name, owner.key_id, token);
        fflush(stdout);
    } else if (rc == KS_ERR_NAME_TAKEN) {
        fprintf(stderr, "keystile: account '%s' already exists\n", name);
    } else {
        fprintf(stderr, "keystile: cannot create account '%s': %s\n", name, ks_error_info(rc)->message);
    }
    sodium_memzero(token, sizeof token);
    ks_key_free(&owner);
    ks_service_close(&svc);
    store->ops->close(store);
    return rc == KS_OK ? KS_EXIT_OK : KS_EXIT_FAIL;
}
