/*
 * cli_signing_key.c - `keystile signing-key rotate`: retires the key that
 * signs login tokens and makes a new one, on the database directly. Running
 * servers pick the change up within 30 s; the retired public key stays in
 * /.well-known/jwks.json until the last token it signed has expired (6 h).
 */
#include "cli/cli.h"
#include "core/error.h"
#include "service/login_keys.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void signing_usage(FILE *out)
{
    fprintf(out,
            "Usage: keystile signing-key rotate [--db PATH] [--secret-file PATH]\n"
            "\n"
            "Retires the Ed25519 key that signs login tokens (POST /api/v1/login) and makes a\n"
            "new one. Tokens signed by the old key stay valid until they expire (6 h), and its\n"
            "public key stays in /.well-known/jwks.json until then. Running servers switch to\n"
            "the new key within 30 seconds (with PostgreSQL, within a second). Prints the new\n"
            "key id (kid).\n"
            "\n"
            "  --db PATH|URI       SQLite database file (default keystile.db), or a\n"
            "                      postgresql:// URI shared by several nodes\n"
            "  --secret-file PATH  server secret (default PATH.secret beside a SQLite database;\n"
            "                      required with PostgreSQL: the same file on every node)\n");
}

int ks_cli_signing_key(int argc, char **argv)
{
    const char *db = "keystile.db", *secret_file = NULL;
    int rc = ks_cli_parse_offline(argc, argv, signing_usage, &db, &secret_file);
    if (rc >= 0)
        return rc;
    if (argc - optind != 1 || strcmp(argv[optind], "rotate") != 0) {
        signing_usage(stderr);
        return KS_EXIT_USAGE;
    }
    ks_store *store;
    ks_service svc;
    if (ks_cli_open_offline(db, secret_file, &store, &svc) != 0)
        return KS_EXIT_FAIL;
    char kid[KS_JWT_KID_LEN + 1] = "";
    rc = ks_login_keys_rotate(&svc, kid);
    if (rc == KS_OK)
        printf("{\"kid\":\"%s\"}\n", kid);
    else
        fprintf(stderr, "keystile: cannot rotate the signing key: %s\n", ks_error_info(rc)->message);
    ks_service_close(&svc);
    store->ops->close(store);
    return rc == KS_OK ? KS_EXIT_OK : KS_EXIT_FAIL;
}
