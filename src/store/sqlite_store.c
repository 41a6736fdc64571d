/*
 * sqlite_store.c - the SQLite backend of store.h: opening, schema migrations,
 * transactions, accounts, settings and the index load.
 * Key operations are in sqlite_keys.c, roles in sqlite_roles.c, the audit
 * log in sqlite_audit.c.
 *
 * Durability: WAL journal with synchronous=FULL, so a COMMIT that returned
 * is on disk; foreign keys on; every statement prepared with bound values.
 * One connection serialised by a mutex: management writes are rare next to
 * verify, which never reaches the store.
 */
#include "store/sqlite_internal.h"
#include "core/clock.h"
#include "store/sqlite_schema.h"
#include "core/error.h"
#include "core/roles.h"
#include "core/token_age.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SQL[Q_COUNT] = {
    [Q_AUDIT_INSERT] = "INSERT INTO audit(account, at, actor, action, target, detail, via, address)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_ACCOUNT_INSERT] = "INSERT INTO accounts(name, token_duration_months, enforce_duration, created_at) VALUES (?1, ?2, ?3, ?4)",
    [Q_ACCOUNT_GET] = "SELECT token_duration_months, enforce_duration FROM accounts WHERE name = ?1",
    [Q_ACCOUNT_PUT] = "UPDATE accounts SET token_duration_months = ?2, enforce_duration = ?3 WHERE name = ?1",
    [Q_ACCOUNT_LIST] = "SELECT name FROM accounts ORDER BY name",
    [Q_ROLE_INSERT] = "INSERT INTO roles(account, name, builtin, created_seq) VALUES (?1, ?2, ?3, "
                      "(SELECT COALESCE(MAX(created_seq), 0) + 1 FROM roles WHERE account = ?1))",
    [Q_ROLE_RESOURCE_INSERT] = "INSERT INTO role_resources(account, role, pos, resource) VALUES (?1, ?2, ?3, ?4)",
    [Q_ROLE_RESOURCES_DELETE] = "DELETE FROM role_resources WHERE account = ?1 AND role = ?2",
    [Q_ROLE_GET] = "SELECT builtin FROM roles WHERE account = ?1 AND name = ?2",
    [Q_ROLE_LIST] = "SELECT name, builtin FROM roles WHERE account = ?1 ORDER BY builtin DESC, created_seq",
    [Q_ROLE_RESOURCES_OF] = "SELECT resource FROM role_resources WHERE account = ?1 AND role = ?2 ORDER BY pos",
    [Q_ROLE_RENAME] = "UPDATE roles SET name = ?3 WHERE account = ?1 AND name = ?2",
    [Q_ROLE_DELETE] = "DELETE FROM roles WHERE account = ?1 AND name = ?2",
    [Q_ROLE_IN_USE] = "SELECT 1 FROM key_roles WHERE account = ?1 AND role = ?2 LIMIT 1",
    [Q_KEY_INSERT] = "INSERT INTO keys(key_id, account, name, active, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_KEY_SEQ] = "SELECT seq FROM keys WHERE key_id = ?1 AND account = ?2",
    [Q_KEY_GET] = "SELECT seq, key_id, account, name, active, created_at FROM keys WHERE seq = ?1",
    [Q_KEY_LIST] =
        "SELECT k.seq, k.key_id, k.account, k.name, k.active, k.created_at FROM keys k"
        " JOIN accounts a ON a.name = k.account"
        " JOIN tokens t ON t.key_seq = k.seq AND t.slot = 0"
        " WHERE k.account = ?1 AND k.seq < ?2"
        " AND (?3 IS NULL OR instr(lower(k.name), lower(?3)) > 0 OR instr(k.key_id, lower(?3)) > 0)"
        " AND (?4 < 0 OR k.active = ?4)"
        " AND (?5 < 0 OR (?6 > ks_expires_at(t.created_at, a.token_duration_months)) = ?5)"
        " ORDER BY k.seq DESC LIMIT ?7",
    [Q_KEY_SET_NAME] = "UPDATE keys SET name = ?2 WHERE seq = ?1",
    [Q_KEY_SET_ACTIVE] = "UPDATE keys SET active = ?2 WHERE seq = ?1",
    [Q_KEY_DELETE] = "DELETE FROM keys WHERE seq = ?1",
    [Q_OWNER_COUNT] = "SELECT count(*) FROM keys k JOIN key_roles kr ON kr.key_seq = k.seq AND kr.account = k.account"
                      " WHERE k.account = ?1 AND k.active = 1 AND kr.role = 'Owner'",
    [Q_KEY_ROLES_DELETE] = "DELETE FROM key_roles WHERE key_seq = ?1 AND account = ?2",
    [Q_KEY_ROLE_INSERT] = "INSERT OR IGNORE INTO key_roles(key_seq, account, role, pos) VALUES (?1, ?2, ?3, ?4)",
    [Q_KEY_ROLES_OF] = "SELECT role FROM key_roles WHERE key_seq = ?1 AND account = ?2 ORDER BY pos",
    [Q_TOKEN_UPSERT] = "INSERT OR REPLACE INTO tokens(key_seq, slot, hash, created_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_TOKEN_DELETE] = "DELETE FROM tokens WHERE key_seq = ?1 AND slot = ?2",
    [Q_TOKENS_OF] = "SELECT slot, hash, created_at, last_used_at FROM tokens WHERE key_seq = ?1",
    [Q_TOKEN_LAST_USED] = "UPDATE tokens SET last_used_at = ?3 WHERE key_seq = (SELECT seq FROM keys WHERE key_id = ?1)"
                          " AND hash = ?2 AND (last_used_at IS NULL OR last_used_at < ?3)",
    /* The load_* queries take the keys of an account (home or granted there), or all with NULL. */
#define KEYS_OF_ACCOUNT(col) "(?1 IS NULL OR " col " IN (SELECT seq FROM keys WHERE account = ?1)" \
                             " OR " col " IN (SELECT key_seq FROM external_grants WHERE account = ?1))"
    [Q_LOAD_KEYS] = "SELECT seq, key_id, account, name, active, created_at FROM keys WHERE " KEYS_OF_ACCOUNT("seq") " ORDER BY seq",
    [Q_LOAD_TOKENS] = "SELECT key_seq, slot, hash, created_at, last_used_at FROM tokens WHERE " KEYS_OF_ACCOUNT("key_seq")
                      " ORDER BY key_seq",
    [Q_LOAD_KEY_ROLES] = "SELECT key_seq, account, role FROM key_roles WHERE " KEYS_OF_ACCOUNT("key_seq")
                         " ORDER BY key_seq, account, pos",
    [Q_LOAD_GRANTS] = "SELECT key_seq, account, active, created_at FROM external_grants WHERE " KEYS_OF_ACCOUNT("key_seq")
                      " ORDER BY key_seq, account",
    [Q_GRANTS_OF] = "SELECT account, active, created_at FROM external_grants WHERE key_seq = ?1 ORDER BY account",
    [Q_GRANT_INSERT] = "INSERT INTO external_grants(key_seq, account, active, created_at, seq) VALUES (?1, ?2, 1, ?3,"
                       " (SELECT COALESCE(MAX(seq), 0) + 1 FROM external_grants WHERE account = ?2))",
    [Q_GRANT_SET_ACTIVE] = "UPDATE external_grants SET active = ?3 WHERE key_seq = ?1 AND account = ?2",
    [Q_GRANT_DELETE] = "DELETE FROM external_grants WHERE key_seq = ?1 AND account = ?2",
    [Q_GRANT_EXISTS] = "SELECT 1 FROM external_grants WHERE key_seq = ?1 AND account = ?2",
    [Q_KEY_HOME] = "SELECT seq, account FROM keys WHERE key_id = ?1",
    [Q_SESSION_INSERT] = "INSERT INTO sessions(hash, key_id, created_at, last_seen_at, token_hash)"
                         " VALUES (?1, ?2, ?3, ?3, ?4)",
    [Q_SESSION_GET] = "SELECT key_id, last_seen_at, created_at, token_hash FROM sessions WHERE hash = ?1",
    [Q_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = ?2 WHERE hash = ?1",
    [Q_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = ?1",
    [Q_SESSION_PURGE] = "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2",
    [Q_SIGNING_LIST] = "SELECT kid, public_key, sealed_secret, created_at, retired_at FROM signing_keys ORDER BY created_at, kid",
    [Q_SIGNING_ADD] = "INSERT INTO signing_keys(kid, public_key, sealed_secret, created_at) VALUES (?1, ?2, ?3, ?4)",
    [Q_SIGNING_RETIRE] = "UPDATE signing_keys SET retired_at = ?2 WHERE kid = ?1 AND retired_at IS NULL",
    [Q_SHARE_INSERT] = "INSERT INTO share_links(id_hash, key_id, sealed_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_SHARE_GET] = "SELECT key_id, sealed_token, expires_at, revealed_at FROM share_links WHERE id_hash = ?1",
    [Q_SHARE_BURN] = "UPDATE share_links SET sealed_token = NULL, revealed_at = ?2 WHERE id_hash = ?1",
    [Q_SHARE_PURGE] = "DELETE FROM share_links WHERE expires_at < ?1",
    [Q_EXTERNAL_LIST] = "SELECT key_seq FROM external_grants WHERE account = ?1 ORDER BY seq DESC",
    [Q_AUDIT_LIST] = "SELECT id, at, actor, action, target, detail, via, address FROM audit"
                     " WHERE account = ?1 AND id < ?2 AND (?3 IS NULL OR actor = ?3) AND (?4 IS NULL OR action = ?4)"
                     " ORDER BY id DESC LIMIT ?5",
    [Q_TX_BEGIN] = "BEGIN IMMEDIATE",
    [Q_TX_COMMIT] = "COMMIT",
    [Q_TX_SAVEPOINT] = "SAVEPOINT ks_write",
    [Q_TX_RELEASE] = "RELEASE ks_write",
};

sqlite3_stmt *sq_stmt(sq_store *s, sq_query q)
{
    if (!s->stmts[q]) {
        if (sqlite3_prepare_v3(s->db, SQL[q], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[q], NULL) != SQLITE_OK) {
            fprintf(stderr, "keystile: sqlite prepare failed: %s\n", sqlite3_errmsg(s->db));
            return NULL;
        }
    }
    sqlite3_reset(s->stmts[q]);
    sqlite3_clear_bindings(s->stmts[q]);
    return s->stmts[q];
}

int sq_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return KS_OK;
    case SQLITE_NOMEM: return KS_ERR_NOMEM;
    case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_BUSY: case SQLITE_LOCKED:
    case SQLITE_READONLY: case SQLITE_CANTOPEN: case SQLITE_PROTOCOL:
        return KS_ERR_STORAGE;
    default: return KS_ERR_INTERNAL;
    }
}

int sq_insert_error(int rc)
{
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return KS_ERR_NOT_FOUND;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return KS_ERR_NAME_TAKEN;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return KS_ERR_INVALID; /* a CHECK: a value out of range */
    return sq_error(rc);
}

static int exec_sql(sq_store *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "keystile: sqlite: %s\n", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return sq_error(rc);
}

/* Runs one transaction-control statement, prepared once (parsing them
 * was a tenth of a renewal's instructions). */
static int exec_tx(sq_store *s, sq_query q)
{
    sqlite3_stmt *st = sq_stmt(s, q);
    if (!st)
        return KS_ERR_INTERNAL;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return KS_OK;
    fprintf(stderr, "keystile: sqlite: %s: %s\n", sqlite3_sql(st), sqlite3_errstr(rc));
    return sq_error(rc);
}

/* Inside a batch (sq_batch_begin) a write is a savepoint of the batch's
 * transaction: its commit releases the savepoint, its rollback undoes it
 * alone, and the batch's COMMIT makes them durable together. */
int sq_begin(sq_store *s)
{
    if (s->batch) {
        if (sqlite3_get_autocommit(s->db))
            return KS_ERR_STORAGE; /* SQLite rolled the batch back after an I/O error */
        int rc = exec_tx(s, Q_TX_SAVEPOINT);
        s->in_op = rc == KS_OK;
        return rc;
    }
    s->tx_started = ks_clock_monotonic();
    return exec_tx(s, Q_TX_BEGIN);
}

int sq_commit(sq_store *s)
{
    if (s->batch) {
        int rc = exec_tx(s, Q_TX_RELEASE);
        if (rc != KS_OK) {
            sq_rollback(s);
            return rc == KS_ERR_NOMEM ? rc : KS_ERR_STORAGE;
        }
        s->in_op = 0;
        return KS_OK;
    }
    int rc = exec_tx(s, Q_TX_COMMIT);
    if (s->base.on_write)
        s->base.on_write(ks_clock_monotonic() - s->tx_started);
    if (rc != KS_OK) {
        sq_rollback(s);
        return rc == KS_ERR_NOMEM ? rc : KS_ERR_STORAGE;
    }
    return KS_OK;
}

void sq_rollback(sq_store *s)
{
    if (s->batch) {
        if (s->in_op && !sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK TO ks_write; RELEASE ks_write", NULL, NULL, NULL);
        s->in_op = 0;
        return;
    }
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Takes s->lock (recursive: a batch already holds it), begins, runs fn and
 * commits when it returns KS_OK, else rolls back. A failed begin returns its
 * code without calling fn; a failed commit has rolled back already. */
int sq_write_tx(sq_store *s, int (*fn)(sq_store *, void *), void *arg)
{
    pthread_mutex_lock(&s->lock);
    int rc = sq_begin(s);
    if (rc != KS_OK)
        goto out;
    rc = fn(s, arg);
    if (rc == KS_OK)
        rc = sq_commit(s);
    else
        sq_rollback(s);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_exec_stmt(sqlite3_stmt *st)
{
    if (!st)
        return KS_ERR_INTERNAL;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? KS_OK : sq_error(rc);
}

char *sq_column_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

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
    for (int v = version; v < KS_SQLITE_SCHEMA_VERSION; v++) {
        if (exec_sql(s, KS_SQLITE_MIGRATIONS[v]) != KS_OK) {
            snprintf(err, errlen, "migration %d failed: %s", v + 1, sqlite3_errmsg(s->db));
            sq_rollback(s);
            return KS_ERR_STORAGE;
        }
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", KS_SQLITE_SCHEMA_VERSION);
    if (exec_sql(s, sql) != KS_OK || sq_commit(s) != KS_OK) {
        snprintf(err, errlen, "cannot record schema version: %s", sqlite3_errmsg(s->db));
        sq_rollback(s);
        return KS_ERR_STORAGE;
    }
    return KS_OK;
}

static void sq_close(ks_store *base)
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

/* ---- accounts and settings ---- */

struct account_args {
    const char *account;
    const ks_settings *settings;
    const ks_key *owner;           /* account_create: NULL for no owner key */
    const ks_audit_entry *audit;
};

/* Q_ACCOUNT_INSERT or Q_ACCOUNT_PUT with the account and its settings bound
 * (?1..?3); NULL when the statement cannot be prepared. */
static sqlite3_stmt *account_stmt(sq_store *s, sq_query q, const struct account_args *a)
{
    sqlite3_stmt *st = sq_stmt(s, q);
    if (st) {
        sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, a->settings->token_duration_months);
        sqlite3_bind_int(st, 3, a->settings->enforce_duration);
    }
    return st;
}

/* The rows of sq_account_create; the first error stops them (sq_write_tx
 * rolls back): NAME_TAKEN for an existing account. */
static int account_create_in_tx(sq_store *s, void *arg)
{
    const struct account_args *a = arg;
    sqlite3_stmt *st = account_stmt(s, Q_ACCOUNT_INSERT, a);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 4, a->owner ? a->owner->created_at : (a->audit ? a->audit->at : 0));
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return sq_insert_error(step);
    size_t n_builtin;
    const ks_builtin_role *builtin = ks_builtin_roles(&n_builtin);
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && i < n_builtin; i++)
        rc = sq_role_insert_tx(s, a->account, builtin[i].name, builtin[i].resources,
                               builtin[i].n_resources, 1);
    if (rc == KS_OK && a->owner)
        rc = sq_key_insert_tx(s, a->owner);
    return rc == KS_OK ? sq_audit_insert(s, a->audit) : rc;
}

static int sq_account_create(ks_store *base, const char *account, const ks_settings *settings,
                             const ks_key *owner, const ks_audit_entry *audit)
{
    struct account_args a = {account, settings, owner, audit};
    return sq_write_tx((sq_store *)base, account_create_in_tx, &a);
}

static int settings_get_locked(sq_store *s, const char *account, ks_settings *out)
{
    sqlite3_stmt *st = sq_stmt(s, Q_ACCOUNT_GET);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->token_duration_months = sqlite3_column_int(st, 0);
        out->enforce_duration = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? KS_OK : rc == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(rc);
}

static int sq_settings_get(ks_store *base, const char *account, ks_settings *out)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = settings_get_locked(s, account, out);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* The update of sq_settings_put: INVALID for a duration the CHECK refuses,
 * NOT_FOUND for an unknown account. */
static int settings_put_in_tx(sq_store *s, void *arg)
{
    const struct account_args *a = arg;
    sqlite3_stmt *st = account_stmt(s, Q_ACCOUNT_PUT, a);
    if (!st)
        return KS_ERR_INTERNAL;
    int rc = sq_exec_stmt(st);
    if (rc != KS_OK)
        return rc == KS_ERR_INTERNAL ? KS_ERR_INVALID : rc; /* the CHECK on token_duration_months */
    if (sqlite3_changes(s->db) == 0)
        return KS_ERR_NOT_FOUND;
    return sq_audit_insert(s, a->audit);
}

static int sq_settings_put(ks_store *base, const char *account, const ks_settings *settings,
                           const ks_audit_entry *audit)
{
    struct account_args a = {account, settings, NULL, audit};
    return sq_write_tx((sq_store *)base, settings_put_in_tx, &a);
}

/* ---- loading the index ---- */

static int load_one_account(sq_store *s, const char *account, const ks_store_loader *loader)
{
    ks_settings settings;
    ks_role *roles = NULL;
    size_t n = 0;
    int rc = settings_get_locked(s, account, &settings);
    if (rc == KS_OK)
        rc = sq_role_list_locked(s, account, &roles, &n);
    if (rc == KS_OK && loader->on_account)
        rc = loader->on_account(loader->ctx, account, &settings, roles, n);
    ks_roles_free(roles, n);
    return rc;
}

static int sq_load_account(ks_store *base, const char *account, const ks_store_loader *loader)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = load_one_account(s, account, loader);
    if (rc == KS_OK && loader->on_key)
        rc = sq_load_keys(s, account, loader);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sq_load_all(ks_store *base, const ks_store_loader *loader)
{
    sq_store *s = (sq_store *)base;
    ks_strlist accounts = {0};
    pthread_mutex_lock(&s->lock);
    int rc = KS_OK, step;
    sqlite3_stmt *st = sq_stmt(s, Q_ACCOUNT_LIST);
    if (!st)
        rc = KS_ERR_INTERNAL;
    while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = ks_strlist_add(&accounts, (const char *)sqlite3_column_text(st, 0));
    if (st)
        sqlite3_reset(st);
    for (size_t i = 0; rc == KS_OK && i < accounts.count; i++)
        rc = load_one_account(s, accounts.items[i], loader);
    if (rc == KS_OK)
        rc = sq_load_keys(s, NULL, loader);
    pthread_mutex_unlock(&s->lock);
    ks_strlist_free(&accounts);
    return rc;
}

static const ks_store_ops SQLITE_OPS = {
    .backend = "sqlite",
    .close = sq_close,
    .account_create = sq_account_create,
    .settings_get = sq_settings_get,
    .settings_put = sq_settings_put,
    .key_insert = sq_key_insert,
    .key_get = sq_key_get,
    .key_list = sq_key_list,
    .key_update = sq_key_update,
    .key_delete = sq_key_delete,
    .key_apply_slots = sq_key_apply_slots,
    .role_list = sq_role_list,
    .role_create = sq_role_create,
    .role_update = sq_role_update,
    .role_delete = sq_role_delete,
    .external_list = sq_external_list,
    .external_add = sq_external_add,
    .external_update = sq_external_update,
    .external_remove = sq_external_remove,
    .session_create = sq_session_create,
    .session_get = sq_session_get,
    .session_touch = sq_session_touch,
    .session_delete = sq_session_delete,
    .session_purge = sq_session_purge,
    .signing_key_list = sq_signing_key_list,
    .signing_key_add = sq_signing_key_add,
    .signing_key_retire = sq_signing_key_retire,
    .share_create = sq_share_create,
    .share_take = sq_share_take,
    .share_purge = sq_share_purge,
    .audit_list = sq_audit_list,
    .audit_append = sq_audit_append,
    .load_all = sq_load_all,
    .load_account = sq_load_account,
    .last_used_flush = sq_last_used_flush,
    .change_feed = 0,
    .changes_head = sq_changes_head,
    .changes_since = sq_changes_since,
    .changes_wait = sq_changes_wait,
    .changes_compact = sq_changes_compact,
    .secret_check = NULL, /* the secret file lives beside the database */
    .key_import = sq_key_import,
    .batch_begin = sq_batch_begin,
    .batch_end = sq_batch_end,
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
    if (exec_sql(s, "PRAGMA journal_mode=WAL") != KS_OK ||
        exec_sql(s, "PRAGMA synchronous=FULL") != KS_OK ||
        exec_sql(s, "PRAGMA foreign_keys=ON") != KS_OK ||
        exec_sql(s, "PRAGMA secure_delete=ON") != KS_OK || /* erased secrets are overwritten */
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
