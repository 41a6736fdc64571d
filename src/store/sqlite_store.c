/*
 * sqlite_store.c - the top of the SQLite backend of store.h: opening,
 * configuring, schema migrations and the ops table. The statements and
 * transactions are in sqlite_db.c; the operations in sqlite_accounts.c,
 * sqlite_roles.c, sqlite_keys.c, sqlite_external.c, sqlite_secrets.c,
 * sqlite_changes.c and sqlite_audit.c.
 *
 * Durability: WAL journal with synchronous=FULL, so a COMMIT that returned
 * is on disk; foreign keys on; every statement prepared with bound values.
 * One connection serialised by a mutex: management writes are rare next to
 * verify, which never reaches the store.
 */
#include "store/sqlite_internal.h"
#include "store/sqlite_schema.h"
#include "core/error.h"
#include "core/token_age.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SQL function ks_expires_at(created_at, months): the core's calendar rule. */
static void sql_expires_at(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_int64(ctx, ks_token_expires_at(sqlite3_value_int64(argv[0]),
                                                  sqlite3_value_int(argv[1])));
}

static int migrate(sq_store *s, char *err, size_t errlen)
{
    int version = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > KS_SQLITE_SCHEMA_VERSION) {
        snprintf(err, errlen, "database schema version %d is newer than this keystile (%d)",
                 version, KS_SQLITE_SCHEMA_VERSION);
        return KS_ERR_INVALID;
    }
    if (version == KS_SQLITE_SCHEMA_VERSION)
        return KS_OK;
    if (sq_begin(s) != KS_OK) {
        snprintf(err, errlen, "cannot lock database for migration: %s", sqlite3_errmsg(s->db));
        return KS_ERR_STORAGE;
    }
    ks_store_log_migration("sqlite", version, KS_SQLITE_SCHEMA_VERSION);
    for (int v = version; v < KS_SQLITE_SCHEMA_VERSION; v++) {
        if (sq_exec_sql(s, KS_SQLITE_MIGRATIONS[v]) != KS_OK) {
            snprintf(err, errlen, "migration %d failed: %s", v + 1, sqlite3_errmsg(s->db));
            sq_rollback(s);
            return KS_ERR_STORAGE;
        }
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", KS_SQLITE_SCHEMA_VERSION);
    if (sq_exec_sql(s, sql) != KS_OK || sq_commit(s) != KS_OK) {
        snprintf(err, errlen, "cannot record schema version: %s", sqlite3_errmsg(s->db));
        sq_rollback(s);
        return KS_ERR_STORAGE;
    }
    return KS_OK;
}

void sq_close(ks_store *base)
{
    sq_store *s = (sq_store *)base;
    if (!s)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Every row of KS_STORE_OPERATIONS, then what only SQLite has. */
#define SQ_OPERATION(op) .op = sq_##op,
static const ks_store_ops SQLITE_OPS = {
    .backend = "sqlite",
    KS_STORE_OPERATIONS(SQ_OPERATION)
    .change_feed = 1,
    .key_import = sq_key_import,
    .batch_begin = sq_batch_begin,
    .batch_end = sq_batch_end,
    .delivery_release = sq_delivery_release, /* one process owns the file */
};

static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;

static void sqlite_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

ks_store *ks_store_sqlite_open(const char *path, char *err, size_t errlen)
{
    sq_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &SQLITE_OPS;
    /* Recursive: a batch (sq_batch_begin) holds the lock across the writes
     * it makes, each of which takes it again. */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    /* NOMUTEX: every use of the connection holds s->lock already, and
     * SQLite's own per-call mutex was 580 lock/unlock pairs per renewal;
     * likewise its allocation statistics (a global mutex per malloc), which
     * nothing reads. (The config call fails harmlessly once SQLite is
     * initialised: the first store of the process decides.) */
    pthread_once(&sqlite_configured, sqlite_configure);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sq_close(&s->base);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    if (sq_exec_sql(s, "PRAGMA journal_mode=WAL") != KS_OK ||
        sq_exec_sql(s, "PRAGMA synchronous=FULL") != KS_OK ||
        sq_exec_sql(s, "PRAGMA foreign_keys=ON") != KS_OK ||
        sq_exec_sql(s, "PRAGMA secure_delete=ON") != KS_OK || /* erased secrets are overwritten */
        sqlite3_create_function(s->db, "ks_expires_at", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, sql_expires_at, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure database %s: %s", path, sqlite3_errmsg(s->db));
        sq_close(&s->base);
        return NULL;
    }
    if (migrate(s, err, errlen) != KS_OK) {
        sq_close(&s->base);
        return NULL;
    }
    return &s->base;
}
