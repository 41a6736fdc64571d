/* cli_common.c - helpers shared by subcommands. */
#include "cli/cli.h"
#include <getopt.h>
#include "core/error.h"
#include "log/log.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    ks_store_set_logger(ks_log); /* server notices and failed statements: our log */
    ks_store *store = ks_store_open(db, err, sizeof err);
    if (!store) {
        fprintf(stderr, "keystile: %s\n", err);
        return NULL;
    }
    char db_shown[1024]; /* without a password */
    ks_store_location_redact(db, db_shown, sizeof db_shown);
    /* A missing secret file is made anew only for a new, empty database:
     * for one that holds tokens, a new secret would silently make every
     * one of them fail to verify. */
    int holds = 1;
    if (!is_pg && access(secret_file, F_OK) != 0 && errno == ENOENT &&
        (store->ops->holds_data(store, &holds) != KS_OK || holds)) {
        fprintf(stderr, "keystile: the secret file %s is missing, but the database %s holds accounts whose "
                        "tokens were hashed with it. Restore %s from a backup (or point --secret-file at it): "
                        "without it no token of this database can verify. A new secret is made only for a "
                        "new, empty database.\n", secret_file, db_shown, secret_file);
        store->ops->close(store);
        return NULL;
    }
    if (ks_secret_load(secret_file, !is_pg, secret, err, sizeof err) != 0) {
        fprintf(stderr, "keystile: %s\n", err);
        store->ops->close(store);
        return NULL;
    }
    ks_digest fingerprint;
    ks_store_secret_fingerprint(secret, &fingerprint);
    int rc = store->ops->secret_check(store, &fingerprint);
    if (rc != KS_OK) {
        if (rc == KS_ERR_INVALID)
            fprintf(stderr, "keystile: the secret file %s is not the one the database %s was set up with. "
                            "Restore the original secret file from a backup (or point --secret-file at it): "
                            "every token of this database was hashed with it%s.\n", secret_file, db_shown,
                    is_pg ? ", and every node must use the same file" : "");
        else
            fprintf(stderr, "keystile: cannot check the secret file %s against the database %s\n", secret_file,
                    db_shown);
        store->ops->close(store);
        sodium_memzero(secret, sizeof *secret);
        return NULL;
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
