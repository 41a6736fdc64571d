/*
 * cli.h - the `keystile` command: subcommands and their shared helpers.
 * Exit codes: 0 success, 1 failure (API or runtime error), 2 bad usage.
 */
#ifndef KS_CLI_CLI_H
#define KS_CLI_CLI_H

#include "core/secret.h"
#include "service/service.h"
#include "store/store.h"

#include <stddef.h>
#include <stdio.h>

#define KS_EXIT_OK 0
#define KS_EXIT_FAIL 1
#define KS_EXIT_USAGE 2

int ks_cli_serve(int argc, char **argv);
int ks_cli_account(int argc, char **argv);
int ks_cli_signing_key(int argc, char **argv);

/* Opens the store at db (a SQLite path or a postgresql:// URI) and loads the
 * secret: secret_file, or db + ".secret" when NULL. A missing SQLite secret
 * file is created only when the database is new and empty (holds_data);
 * with PostgreSQL secret_file is required and must exist. Either way the
 * secret's fingerprint must match the one the database recorded first (a
 * database from before fingerprints records it now). Returns the store,
 * NULL after printing why, naming the files and what to do. */
ks_store *ks_cli_open_store(const char *db, const char *secret_file, ks_secret *secret);

/* The offline commands (account create, signing-key rotate): --db, --secret-file
 * and --help, then the positional words. Returns -1 to go on (optind at the first
 * word), or the exit code after printing usage with `usage`. */
int ks_cli_parse_offline(int argc, char **argv, void (*usage)(FILE *out), const char **db,
                         const char **secret_file);

/* Opens the store and an index-less service on it for an offline command.
 * 0, or -1 after printing why (nothing is left open). */
int ks_cli_open_offline(const char *db, const char *secret_file, ks_store **store, ks_service *svc);

#endif
