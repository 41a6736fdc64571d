/* cli_common.c - helpers shared by subcommands. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ks_store *ks_cli_open_store(const char *db, const char *secret_file, ks_secret *secret)
{
    char err[512];
    char path[4096];
    if (!secret_file) {
        if (snprintf(path, sizeof path, "%s.secret", db) >= (int)sizeof path) {
            fprintf(stderr, "keystile: database path too long\n");
            return NULL;
        }
        secret_file = path;
    }
    int is_file_db = strncmp(db, "postgres", 8) != 0;
    if (ks_secret_load(secret_file, is_file_db, secret, err, sizeof err) != 0) {
        fprintf(stderr, "keystile: %s\n", err);
        return NULL;
    }
    ks_store *store = ks_store_open(db, err, sizeof err);
    if (!store)
        fprintf(stderr, "keystile: %s\n", err);
    return store;
}
