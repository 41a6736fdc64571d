/* cli_common.c - helpers shared by subcommands. */
#include "cli/cli.h"
#include "core/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ks_store *ks_cli_open_store(const char *db, const char *secret_file, ks_secret *secret)
{
    char err[512];
    char path[4096];
    int is_pg = ks_store_location_is_pg(db);
    if (is_pg && !secret_file) {
        /* Every node must hash tokens with the same secret: never make one up. */
        fprintf(stderr, "keystile: --secret-file is required with a PostgreSQL database (the same "
                        "32-byte file on every node; make one with: head -c 32 /dev/urandom > FILE; "
                        "chmod 600 FILE)\n");
        return NULL;
    }
    if (!secret_file) {
        if (snprintf(path, sizeof path, "%s.secret", db) >= (int)sizeof path) {
            fprintf(stderr, "keystile: database path too long\n");
            return NULL;
        }
        secret_file = path;
    }
    if (ks_secret_load(secret_file, !is_pg, secret, err, sizeof err) != 0) {
        fprintf(stderr, "keystile: %s\n", err);
        return NULL;
    }
    ks_store *store = ks_store_open(db, err, sizeof err);
    if (!store) {
        fprintf(stderr, "keystile: %s\n", err);
        sodium_memzero(secret, sizeof *secret);
        return NULL;
    }
    if (store->ops->secret_check) {
        ks_digest fingerprint;
        ks_store_secret_fingerprint(secret, &fingerprint);
        int rc = store->ops->secret_check(store, &fingerprint);
        if (rc != KS_OK) {
            fprintf(stderr, "keystile: %s\n", rc == KS_ERR_INVALID
                    ? "the secret file does not match the one this database was set up with "
                      "(every node must use the same secret file)"
                    : "cannot check the server secret against the database");
            store->ops->close(store);
            sodium_memzero(secret, sizeof *secret);
            return NULL;
        }
    }
    return store;
}
