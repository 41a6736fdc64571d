/*
 * test_store_sqlite.c - the store conformance suite on the SQLite backend,
 * plus what only SQLite has: data survives a reopen, the schema version is
 * recorded in PRAGMA user_version, the journal is WAL, a newer schema or a
 * file that is no database is refused.
 *
 * Every store lives in a fresh file under one mkdtemp directory in /tmp,
 * removed (with its -wal / -shm files) at the end.
 */
#include "unit.h"
#include "store_conformance.h"

#include "core/error.h"
#include "store/sqlite_schema.h"

#include <dirent.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
    char dir[64]; /* mkdtemp directory of this run */
    int n;        /* files made so far */
} sqlite_ctx;

static sqlite_ctx CTX;

static void ctx_path(sqlite_ctx *c, char *out, size_t n)
{
    snprintf(out, n, "%s/store-%d.db", c->dir, ++c->n);
}

static ks_store *open_fresh(void *ctx)
{
    char path[128], err[256] = "";
    ctx_path(ctx, path, sizeof path);
    ks_store *s = ks_store_sqlite_open(path, err, sizeof err);
    if (!s)
        fprintf(stderr, "ks_store_sqlite_open(%s): %s\n", path, err);
    return s;
}

/* ------------------------------------------------------------ fixtures */

static ks_store *S;     /* store of the running SQLite-specific test */
static char PATH[128];  /* its file */

static void close_store(void)
{
    if (S) {
        S->ops->close(S);
        S = NULL;
    }
}

static ks_store *open_path(const char *path)
{
    char err[256] = "";
    ks_store *s = ks_store_sqlite_open(path, err, sizeof err);
    if (!s)
        UNIT_FAIL("ks_store_sqlite_open(%s): %s", path, err);
    return s;
}

static void fresh(void)
{
    close_store();
    ctx_path(&CTX, PATH, sizeof PATH);
    S = open_path(PATH);
}

static ks_audit_entry audit(const char *account, const char *action, const char *target)
{
    ks_audit_entry a;
    memset(&a, 0, sizeof a);
    snprintf(a.account, sizeof a.account, "%s", account);
    a.at = 1736942400;
    a.actor = "cli";
    a.action = action;
    a.target = target;
    a.detail = "{}";
    return a;
}

static ks_digest digest(unsigned char fill)
{
    ks_digest d;
    memset(d.bytes, fill, sizeof d.bytes);
    return d;
}

/* Runs a one-value query on the file with sqlite3 directly; the text of the
 * first column goes into out. */
static int query_text(const char *path, const char *sql, char *out, size_t n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int ok = 0;
    out[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, n, "%s", t ? (const char *)t : "");
        ok = 1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

static int exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* ------------------------------------------------------------ tests */

static void test_reopen_keeps_data(void)
{
    fresh();
    ks_key owner;
    memset(&owner, 0, sizeof owner);
    snprintf(owner.key_id, sizeof owner.key_id, "kst-acme-abcdefghij");
    snprintf(owner.account, sizeof owner.account, "acme");
    owner.name = (char *)"Owner key";
    owner.active = KS_KEY_ACTIVE;
    owner.created_at = 1736942400;
    ks_digest d1 = digest(1), d2 = digest(2);
    ks_slots_init(&owner.slots, &d1, owner.created_at);
    char *roles[] = {(char *)"Owner"};
    owner.roles.items = roles;
    owner.roles.count = 1;
    ks_settings st = {.token_duration_months = 6, .enforce_duration = 1, .renewal_notice_days = 14};
    ks_audit_entry a = audit("acme", "account.create", "acme");
    ASSERT_EQ_INT(S->ops->account_create(S, "acme", &st, &owner, &a), KS_OK);
    a = audit("acme", "key.renew", owner.key_id);
    ASSERT_EQ_INT(S->ops->key_apply_slots(S, "acme", owner.key_id, &(ks_slot_change){.op = KS_SLOT_OP_RENEW_LATER, .new_hash = &d2},
                                          1736942500, &a, NULL), KS_OK);
    char *res[] = {(char *)"orders.read"};
    ks_role reader = {(char *)"Reader", {res, 1}, 0};
    a = audit("acme", "role.create", "Reader");
    ASSERT_EQ_INT(S->ops->role_create(S, "acme", &reader, &a), KS_OK);
    close_store();

    S = open_path(PATH);
    ks_key k;
    ASSERT_EQ_INT(S->ops->key_get(S, "acme", "kst-acme-abcdefghij", &k), KS_OK);
    int name_ok = k.name && strcmp(k.name, "Owner key") == 0;
    int roles_ok = k.roles.count == 1 && strcmp(k.roles.items[0], "Owner") == 0;
    int cur_ok = k.slots.current.present && ks_digest_equal(&k.slots.current.hash, &d2) &&
                 k.slots.current.created_at == 1736942500;
    int old_ok = k.slots.old.present && ks_digest_equal(&k.slots.old.hash, &d1) &&
                 k.slots.old.created_at == 1736942400;
    ks_key_free(&k);
    ASSERT(name_ok);
    ASSERT(roles_ok);
    ASSERT(cur_ok);
    ASSERT(old_ok);
    ks_settings got;
    ASSERT_EQ_INT(S->ops->settings_get(S, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.token_duration_months, 6);
    ASSERT_EQ_INT(got.enforce_duration, 1);
    ks_role *rl = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(S->ops->role_list(S, "acme", &rl, &n), KS_OK);
    ks_roles_free(rl, n);
    ASSERT_EQ_INT(n, 3);
    ks_audit_filter af = {.limit = 10};
    ks_audit_page ap = {0};
    ASSERT_EQ_INT(S->ops->audit_list(S, "acme", &af, &ap), KS_OK);
    int newest_ok = ap.count == 3 && strcmp(ap.items[0].action, "role.create") == 0;
    ks_audit_page_free(&ap);
    ASSERT(newest_ok);
    close_store();
}

static void test_user_version_set(void)
{
    fresh();
    close_store();
    char v[32];
    ASSERT(query_text(PATH, "PRAGMA user_version", v, sizeof v));
    long version = strtol(v, NULL, 10);
    ASSERT(version >= 1);
    /* The tables of the schema exist. */
    char t[32];
    ASSERT(query_text(PATH, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                            "('accounts','roles','keys','tokens','audit')", t, sizeof t));
    ASSERT_EQ_STR(t, "5");
    /* Reopening an up-to-date file changes nothing. */
    S = open_path(PATH);
    close_store();
    char v2[32];
    ASSERT(query_text(PATH, "PRAGMA user_version", v2, sizeof v2));
    ASSERT_EQ_STR(v2, v);
}

/* A version 5 file (audit without via and address, sessions without their
 * token) migrates to the newest: its old audit entries read back with both
 * NULL, new ones record them. */
static void test_migration_from_5_audit_via_address(void)
{
    fresh();
    ks_settings st = {.token_duration_months = 3, .enforce_duration = 0, .renewal_notice_days = 14};
    ks_audit_entry a = audit("acme", "account.create", "acme");
    ASSERT_EQ_INT(S->ops->account_create(S, "acme", &st, NULL, &a), KS_OK);
    close_store();
    /* Back to version 14 first: no token's last caller. */
    ASSERT_EQ_INT(exec_sql(PATH, "ALTER TABLE tokens DROP COLUMN last_used_from;"), SQLITE_OK);
    /* Back to version 13 then: no leaked-token setting, no token hash index. */
    ASSERT_EQ_INT(exec_sql(PATH, "DROP INDEX tokens_by_hash; ALTER TABLE accounts DROP COLUMN leaked_token_action;"),
                  SQLITE_OK);
    /* Back before the per-key limits then. */
    ASSERT_EQ_INT(exec_sql(PATH, "ALTER TABLE keys DROP COLUMN allowed_cidrs; ALTER TABLE keys DROP COLUMN rate_limit;"
                                 "ALTER TABLE keys DROP COLUMN rate_period; DROP TABLE node_heartbeats;"
                                 "DROP TABLE usage_hours; DROP TABLE usage_days;"
                                 "ALTER TABLE accounts DROP COLUMN deactivate_unused_days;"), SQLITE_OK);
    /* Back to version 11 first: no sweep indexes. */
    ASSERT_EQ_INT(exec_sql(PATH, "DROP INDEX tokens_old_ends; DROP INDEX tokens_current_age;"), SQLITE_OK);
    /* Back to version 10: no rotation (deadlines, notices, webhooks). */
    ASSERT_EQ_INT(exec_sql(PATH, "DROP TABLE webhook_deliveries; DROP TABLE webhooks; DROP INDEX tokens_old;"
                                 "ALTER TABLE tokens DROP COLUMN ends_at; ALTER TABLE tokens DROP COLUMN notices;"
                                 "ALTER TABLE accounts DROP COLUMN auto_delete_old_token_hours;"
                                 "ALTER TABLE accounts DROP COLUMN renewal_notice_days;"), SQLITE_OK);
    /* Back to version 9 first: no people, sessions of keys only. */
    ASSERT_EQ_INT(exec_sql(PATH, "DROP TABLE signin_failures; DROP TABLE invitations;"
                                 "DROP TABLE membership_roles; DROP TABLE memberships;"
                                 "DROP TABLE sessions; DROP TABLE people;"
                                 "CREATE TABLE sessions(hash BLOB PRIMARY KEY,"
                                 " key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,"
                                 " created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, token_hash BLOB);"
                                 "CREATE INDEX sessions_by_key ON sessions(key_id);"
                                 "CREATE INDEX sessions_by_last_seen ON sessions(last_seen_at);"
                                 "CREATE INDEX sessions_by_created ON sessions(created_at);"), SQLITE_OK);
    ASSERT_EQ_INT(exec_sql(PATH, "ALTER TABLE audit DROP COLUMN via; ALTER TABLE audit DROP COLUMN address;"
                                 "DROP INDEX sessions_by_last_seen; DROP INDEX sessions_by_created;"
                                 "ALTER TABLE sessions DROP COLUMN token_hash;"
                                 "DROP TABLE server_secret; DROP TABLE changes;"
                                 "PRAGMA user_version = 5"), SQLITE_OK);
    S = open_path(PATH);
    char v[32], want[32];
    ASSERT(query_text(PATH, "PRAGMA user_version", v, sizeof v));
    snprintf(want, sizeof want, "%d", KS_SQLITE_SCHEMA_VERSION);
    ASSERT_EQ_STR(v, want);
    a = audit("acme", "session.create", "kst-acme-abcdefghij");
    a.via = "token";
    a.address = "127.0.0.1";
    ASSERT_EQ_INT(S->ops->audit_append(S, &a), KS_OK);
    ks_audit_filter f = {.limit = 10};
    ks_audit_page p = {0};
    ASSERT_EQ_INT(S->ops->audit_list(S, "acme", &f, &p), KS_OK);
    int ok = p.count == 2 && strcmp(p.items[0].via, "token") == 0 &&
             strcmp(p.items[0].address, "127.0.0.1") == 0 && !p.items[1].via && !p.items[1].address &&
             strcmp(p.items[1].action, "account.create") == 0;
    ks_audit_page_free(&p);
    ASSERT(ok);
    close_store();
}

/* A version 15 file (usage keyed (key_id, at)) migrates to the newest:
 * its usage rows read back the same, and the flush adds to them. */
static void test_migration_from_15_usage_order(void)
{
    fresh();
    ks_settings st = {.token_duration_months = 3, .enforce_duration = 0, .renewal_notice_days = 14};
    ks_audit_entry a = audit("acme", "account.create", "acme");
    ASSERT_EQ_INT(S->ops->account_create(S, "acme", &st, NULL, &a), KS_OK);
    const int64_t hour = 1736942400; /* 2025-01-15T12:00:00Z */
    ks_usage_row rows[3] = {0};
    for (int i = 0; i < 3; i++) {
        snprintf(rows[i].key_id, sizeof rows[i].key_id, "kst-acme-%s", i == 2 ? "bbbbbbbbbb" : "aaaaaaaaaa");
        snprintf(rows[i].account, sizeof rows[i].account, "acme");
        rows[i].at = hour + (i == 1) * 3600;
        rows[i].counts[KS_USAGE_VALID] = 10 + i;
        rows[i].counts[KS_USAGE_RATE_LIMITED] = i;
    }
    ASSERT_EQ_INT(S->ops->usage_add(S, rows, 3), KS_OK);
    close_store();
    /* Back to version 15: both tables keyed (key_id, at), indexed by account and by time. */
    static const char *const tables[] = {"usage_hours", "usage_days"};
    for (int t = 0; t < 2; t++) {
        char sql[1024];
        snprintf(sql, sizeof sql,
                 "CREATE TABLE old(key_id TEXT NOT NULL, account TEXT NOT NULL, at INTEGER NOT NULL,"
                 " valid INTEGER NOT NULL DEFAULT 0, invalid_token INTEGER NOT NULL DEFAULT 0,"
                 " inactive INTEGER NOT NULL DEFAULT 0, expired INTEGER NOT NULL DEFAULT 0,"
                 " forbidden INTEGER NOT NULL DEFAULT 0, address_not_allowed INTEGER NOT NULL DEFAULT 0,"
                 " rate_limited INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (key_id, at)) WITHOUT ROWID;"
                 "INSERT INTO old SELECT * FROM %s; DROP TABLE %s; ALTER TABLE old RENAME TO %s;"
                 "CREATE INDEX %s_by_account ON %s(account, at); CREATE INDEX %s_by_at ON %s(at);",
                 tables[t], tables[t], tables[t], tables[t], tables[t], tables[t], tables[t]);
        ASSERT_EQ_INT(exec_sql(PATH, sql), SQLITE_OK);
    }
    ASSERT_EQ_INT(exec_sql(PATH, "PRAGMA user_version = 15"), SQLITE_OK);
    char pk[512];
    ASSERT(query_text(PATH, "SELECT sql FROM sqlite_master WHERE name = 'usage_hours'", pk, sizeof pk));
    ASSERT(strstr(pk, "PRIMARY KEY (key_id, at)") != NULL);

    S = open_path(PATH);
    char v[32], want[32];
    ASSERT(query_text(PATH, "PRAGMA user_version", v, sizeof v));
    snprintf(want, sizeof want, "%d", KS_SQLITE_SCHEMA_VERSION);
    ASSERT_EQ_STR(v, want);
    for (int t = 0; t < 2; t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT sql FROM sqlite_master WHERE name = '%s'", tables[t]);
        ASSERT(query_text(PATH, sql, pk, sizeof pk));
        ASSERT(strstr(pk, "PRIMARY KEY (at, key_id)") != NULL);
    }
    ASSERT_EQ_INT(S->ops->usage_add(S, rows, 1), KS_OK); /* the flush adds to a migrated row */
    ks_usage_row *got = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(S->ops->usage_list(S, "acme", "kst-acme-aaaaaaaaaa", 0, hour, hour + 7200, &got, &n), KS_OK);
    int ok = n == 2 && got[0].at == hour && got[0].counts[KS_USAGE_VALID] == 20 && got[1].at == hour + 3600 &&
             got[1].counts[KS_USAGE_VALID] == 11 && got[1].counts[KS_USAGE_RATE_LIMITED] == 1;
    free(got);
    ASSERT(ok);
    ASSERT_EQ_INT(S->ops->usage_list(S, "acme", "kst-acme-aaaaaaaaaa", 1, hour - 86400, hour + 86400, &got, &n),
                  KS_OK);
    ok = n == 1 && got[0].counts[KS_USAGE_VALID] == 31 && got[0].counts[KS_USAGE_RATE_LIMITED] == 1;
    free(got);
    ASSERT(ok);
    ASSERT_EQ_INT(S->ops->usage_top(S, "acme", 1, hour - 86400, hour + 86400, 10, &got, &n), KS_OK);
    ok = n == 2 && strcmp(got[0].key_id, "kst-acme-aaaaaaaaaa") == 0 && strcmp(got[1].key_id, "kst-acme-bbbbbbbbbb") == 0 &&
         got[1].counts[KS_USAGE_VALID] == 12;
    free(got);
    ASSERT(ok);
    close_store();
}

static void test_journal_mode_wal(void)
{
    fresh();
    char mode[32];
    /* Seen from a second connection while the store is open, and after close. */
    ASSERT(query_text(PATH, "PRAGMA journal_mode", mode, sizeof mode));
    ASSERT_EQ_STR(mode, "wal");
    close_store();
    ASSERT(query_text(PATH, "PRAGMA journal_mode", mode, sizeof mode));
    ASSERT_EQ_STR(mode, "wal");
}

static void test_newer_schema_refused(void)
{
    fresh();
    close_store();
    ASSERT_EQ_INT(exec_sql(PATH, "PRAGMA user_version = 9999"), SQLITE_OK);
    char err[256] = "";
    ks_store *s = ks_store_sqlite_open(PATH, err, sizeof err);
    if (s)
        s->ops->close(s);
    ASSERT(s == NULL);
    ASSERT(err[0] != '\0');
}

static void test_not_a_database_refused(void)
{
    char path[128];
    ctx_path(&CTX, path, sizeof path);
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    for (int i = 0; i < 64; i++)
        fputs("this is not an SQLite database, just text.\n", f);
    fclose(f);
    char err[256] = "";
    ks_store *s = ks_store_sqlite_open(path, err, sizeof err);
    if (s)
        s->ops->close(s);
    ASSERT(s == NULL);
    ASSERT(err[0] != '\0');

    char missing[192];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.db", CTX.dir);
    err[0] = '\0';
    s = ks_store_sqlite_open(missing, err, sizeof err);
    if (s)
        s->ops->close(s);
    ASSERT(s == NULL);
    ASSERT(err[0] != '\0');
}

static void test_store_open_picks_sqlite(void)
{
    char path[128], err[256] = "";
    ctx_path(&CTX, path, sizeof path);
    ks_store *s = ks_store_open(path, err, sizeof err);
    ASSERT(s != NULL);
    int is_sqlite = s->ops->backend && strcmp(s->ops->backend, "sqlite") == 0;
    s->ops->close(s);
    ASSERT(is_sqlite);
    ASSERT_EQ_INT(access(path, F_OK), 0);
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    snprintf(CTX.dir, sizeof CTX.dir, "/tmp/keystile-unit-sqlite-XXXXXX");
    if (!mkdtemp(CTX.dir)) {
        perror("mkdtemp");
        return 1;
    }

    int conf_passed = 0, conf_failed = 0;
    store_conformance_run(open_fresh, &CTX, &conf_passed, &conf_failed);

    RUN(test_reopen_keeps_data);
    close_store();
    RUN(test_user_version_set);
    close_store();
    RUN(test_migration_from_5_audit_via_address);
    RUN(test_migration_from_15_usage_order);
    RUN(test_journal_mode_wal);
    close_store();
    RUN(test_newer_schema_refused);
    close_store();
    RUN(test_not_a_database_refused);
    RUN(test_store_open_picks_sqlite);

    unit_rm_dir(CTX.dir);
    unit_passed += conf_passed;
    unit_failed += conf_failed;
    return unit_report("store-sqlite (conformance + sqlite)");
}
