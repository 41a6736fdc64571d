/* cli_common.c - helpers shared by subcommands. */
#include "cli/cli.h"
#include <getopt.h>
#include "core/error.h"
#include "log/log.h"

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
    ks_store_set_logger(ks_log); /* server notices and failed statements: our log */
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

int ks_cli_parse_offline(int argc, char **argv, void (*usage)(FILE *out), const char **db,
                         const char **secret_file)
{
    static const struct option OPTS[] = {
        {"db", required_argument, NULL, 'd'},
        {"secret-file", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", OPTS, NULL)) != -1) {
        switch (c) {
        case 'd': *db = optarg; break;
        case 's': *secret_file = optarg; break;
        case 'h': usage(stdout); return KS_EXIT_OK;
        default: usage(stderr); return KS_EXIT_USAGE;
        }
    }
    return -1;
}

int ks_cli_open_offline(const char *db, const char *secret_file, ks_store **store, ks_service *svc)
{
    ks_secret secret;
    *store = ks_cli_open_store(db, secret_file, &secret);
    if (!*store)
        return -1;
    int rc = ks_service_init(svc, *store, &secret, 0);
    sodium_memzero(&secret, sizeof secret);
    if (rc != KS_OK) {
        fprintf(stderr, "keystile: cannot use the database %s: %s\n", db, ks_error_info(rc)->message);
        ks_service_close(svc);
        (*store)->ops->close(*store);
        return -1;
    }
    return 0;
}
