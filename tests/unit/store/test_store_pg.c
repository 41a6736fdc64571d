/*
 * test_store_pg.c - the store conformance suite on the PostgreSQL backend,
 * plus what only it has: the change log (kinds, order, paging, compaction,
 * nothing missed under concurrent writers), migrations by several nodes at
 * once, the secret fingerprint, row locks between two nodes, reconnecting
 * after a lost connection or a database restart. The change-feed follower
 * of the service is tested in test_store_pg_feed.c.
 *
 * It runs on a private PostgreSQL cluster (pg_cluster.h: started for this
 * binary, destroyed whatever happens to the tests). Each conformance test
 * gets a fresh schema (DROP SCHEMA public CASCADE).
 */
#include "unit.h"
#include "store_conformance.h"
#include "pg_cluster.h"

#include "core/error.h"
#include "core/roles.h"
#include "store/pg_schema.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* ------------------------------------------------------------ fixtures */

/* The conformance suite's store: a fresh schema each time. */
static ks_store *open_fresh(void *ctx)
{
    (void)ctx;
    char err[256] = "";
    if (pg_reset_schema() != 0)
        return NULL;
    ks_store *s = ks_store_pg_open(PG_URI, err, sizeof err);
    if (!s)
        fprintf(stderr, "ks_store_pg_open: %s\n", err);
    return s;
}

/* Per-thread buffers: renewal threads call this at once, and in a shared one
 * a digit already made 'a' was made 0x92, a key id that is not UTF-8 (22021,
 * KS_ERR_INVALID on both nodes). */
static const char *key_id_of(const char *account, int n)
{
    static _Thread_local char ids[8][KS_KEY_ID_MAX + 1];
    char *id = ids[n % 8];
    snprintf(id, KS_KEY_ID_MAX + 1, "kst-%s-%010d", account, n);
    for (char *p = id + strlen(id) - 10; *p; p++)
        *p = (char)('a' + (*p - '0'));
    return id;
}

static ks_digest digest(int n)
{
    ks_digest d;
    memset(d.bytes, 0, sizeof d.bytes);
    memcpy(d.bytes, &n, sizeof n);
    d.bytes[31] = 0x5a;
    return d;
}

static ks_audit_entry audit(const char *account, const char *action)
{
    ks_audit_entry a = {.at = 1736942400, .actor = "cli", .action = action, .target = account, .detail = "{}"};
    snprintf(a.account, sizeof a.account, "%s", account);
    return a;
}

static int make_account_on(ks_store *s, const char *account)
{
    ks_settings st = KS_SETTINGS_DEFAULT;
    ks_audit_entry a = audit(account, "account.create");
    return s->ops->account_create(s, account, &st, NULL, &a);
}

static int put_key_on(ks_store *s, const char *account, int n)
{
    ks_key k = {0};
    snprintf(k.key_id, sizeof k.key_id, "%s", key_id_of(account, n));
    snprintf(k.account, sizeof k.account, "%s", account);
    k.name = "k";
    k.active = 1;
    k.created_at = 1736942400;
    ks_digest d = digest(n);
    ks_slots_init(&k.slots, &d, k.created_at);
    ks_audit_entry a = audit(account, "key.create");
    return s->ops->key_insert(s, &k, &a);
}

static int set_active(ks_store *s, const char *account, int n, int active)
{
    ks_key_patch patch = {.name = NULL, .roles = NULL, .status = active};
    ks_audit_entry a = audit(account, "key.update");
    return s->ops->key_update(s, account, key_id_of(account, n), &patch, &a);
}

typedef struct {
    ks_change items[64];
    size_t n;
} changes;

static changes *all_changes(ks_store *s, int64_t after)
{
    static changes c;
    ASSERT_EQ_INT(s->ops->changes_since(s, after, c.items, 64, &c.n), KS_OK);
    return &c;
}

#define ASSERT_CHANGE(c, i, k, acct, key)                 \
    do {                                                  \
        ASSERT_EQ_INT((c)->items[i].kind, (k));           \
        ASSERT_EQ_STR((c)->items[i].account, (acct));     \
        ASSERT_EQ_STR((c)->items[i].key_id, (key));       \
    } while (0)

/* ------------------------------------------------------------ tests */

static void test_store_open_picks_pg(void)
{
    pg_fresh(1);
    ASSERT_EQ_STR(ST[0]->ops->backend, "postgresql");
    ASSERT(ST[0]->ops->change_feed);
    ASSERT_EQ_INT(pg_admin_value("SELECT version FROM keystile_schema"), KS_PG_SCHEMA_VERSION);
    ASSERT_EQ_INT(pg_admin_value("SELECT count(*) FROM keystile_schema"), 1);
}

static void test_newer_schema_refused(void)
{
    pg_fresh(1);
    pg_close_stores();
    ASSERT_EQ_INT(pg_admin("", "UPDATE keystile_schema SET version = 99"), 0);
    char err[256] = "";
    ks_store *s = ks_store_pg_open(PG_URI, err, sizeof err);
    if (s)
        s->ops->close(s);
    ASSERT(s == NULL);
    ASSERT(strstr(err, "newer") != NULL);
}

/* A version 2 database (audit without via and address, sessions without
 * their token) migrates to the newest: its old audit entries read back with
 * both NULL, new ones record them. */
static void test_migration_from_2_audit_via_address(void)
{
    pg_fresh(1);
    ASSERT_EQ_INT(make_account_on(ST[0], "acme"), KS_OK);
    pg_close_stores();
    /* Back to version 9 first: no token's last caller. */
    ASSERT_EQ_INT(pg_admin("", "ALTER TABLE tokens DROP COLUMN last_used_from;"), 0);
    /* Back to version 8 then: no leaked-token setting, no token hash index. */
    ASSERT_EQ_INT(pg_admin("", "DROP INDEX tokens_by_hash; ALTER TABLE accounts DROP COLUMN leaked_token_action;"), 0);
    /* Back before the per-key limits then. */
    ASSERT_EQ_INT(pg_admin("", "ALTER TABLE keys DROP COLUMN allowed_cidrs, DROP COLUMN rate_limit,"
                            " DROP COLUMN rate_period; DROP TABLE node_heartbeats, usage_hours, usage_days;"
                            "ALTER TABLE accounts DROP COLUMN deactivate_unused_days;"), 0);
    /* Back to version 5 then: no rotation (deadlines, notices, webhooks). */
    ASSERT_EQ_INT(pg_admin("", "DROP TABLE webhook_deliveries; DROP TABLE webhooks; DROP INDEX tokens_old;"
                            "ALTER TABLE tokens DROP COLUMN ends_at, DROP COLUMN notices;"
                            "ALTER TABLE accounts DROP COLUMN auto_delete_old_token_hours, DROP COLUMN renewal_notice_days;"), 0);
    /* Back to version 4 first: no people, sessions of keys only. */
    ASSERT_EQ_INT(pg_admin("", "DROP INDEX sessions_by_person;"
                            "ALTER TABLE sessions DROP CONSTRAINT sessions_one_principal,"
                            " DROP COLUMN person_id, DROP COLUMN via,"
                            " ALTER COLUMN key_id SET NOT NULL, ALTER COLUMN token_hash SET NOT NULL;"
                            "DROP TABLE signin_failures, invitations, membership_roles, memberships, people;"), 0);
    ASSERT_EQ_INT(pg_admin("", "ALTER TABLE audit DROP COLUMN via, DROP COLUMN address;"
                            "DROP INDEX sessions_by_created; ALTER TABLE sessions DROP COLUMN token_hash;"
                            "UPDATE keystile_schema SET version = 2"), 0);
    ST[0] = pg_open_uri();
    ASSERT_EQ_INT(pg_admin_value("SELECT version FROM keystile_schema"), KS_PG_SCHEMA_VERSION);
    ks_audit_entry a = audit("acme", "session.create");
    a.via = "login";
    a.address = "::1";
    ASSERT_EQ_INT(ST[0]->ops->audit_append(ST[0], &a), KS_OK);
    ks_audit_filter f = {.limit = 10};
    ks_audit_page p = {0};
    ASSERT_EQ_INT(ST[0]->ops->audit_list(ST[0], "acme", &f, &p), KS_OK);
    int ok = p.count == 2 && strcmp(p.items[0].via, "login") == 0 && strcmp(p.items[0].address, "::1") == 0 &&
             !p.items[1].via && !p.items[1].address && strcmp(p.items[1].action, "account.create") == 0;
    ks_audit_page_free(&p);
    ASSERT(ok);
}

static void test_unreachable_database_refused(void)
{
    char uri[192], err[256] = "";
    snprintf(uri, sizeof uri, "postgresql://nobody:hunter2@127.0.0.1:%d/x?connect_timeout=2", pg_free_port());
    ks_store *s = ks_store_open(uri, err, sizeof err);
    if (s)
        s->ops->close(s);
    ASSERT(s == NULL);
    ASSERT(strstr(err, "cannot connect") != NULL);
    ASSERT(strstr(err, "hunter2") == NULL);
}

static void test_redact_location(void)
{
    char out[256];
    ks_store_location_redact("postgresql://ks:s3cret@db:5432/keys?sslmode=require", out, sizeof out);
    ASSERT_EQ_STR(out, "postgresql://ks:***@db:5432/keys?sslmode=require");
    ks_store_location_redact("postgres://db/keys?user=a&password=s3cret&x=1", out, sizeof out);
    ASSERT_EQ_STR(out, "postgres://db/keys?user=a&password=***&x=1");
    ks_store_location_redact("postgresql://ks@db/keys", out, sizeof out);
    ASSERT_EQ_STR(out, "postgresql://ks@db/keys");
    ks_store_location_redact("/var/lib/keystile/k.db", out, sizeof out);
    ASSERT_EQ_STR(out, "/var/lib/keystile/k.db");
    ASSERT(ks_store_location_is_pg("postgres://x") && ks_store_location_is_pg("postgresql://x"));
    ASSERT(!ks_store_location_is_pg("postgresql.db"));
}

static void test_secret_fingerprint(void)
{
    pg_fresh(2);
    ks_secret a, b;
    memset(a.bytes, 1, sizeof a.bytes);
    memset(b.bytes, 2, sizeof b.bytes);
    ks_digest fa, fb;
    ks_store_secret_fingerprint(&a, &fa);
    ks_store_secret_fingerprint(&b, &fb);
    ASSERT(memcmp(fa.bytes, fb.bytes, sizeof fa.bytes) != 0);
    ASSERT_EQ_INT(ST[0]->ops->secret_check(ST[0], &fa), KS_OK);  /* recorded */
    ASSERT_EQ_INT(ST[1]->ops->secret_check(ST[1], &fa), KS_OK);  /* same secret: fine */
    ASSERT_EQ_INT(ST[1]->ops->secret_check(ST[1], &fb), KS_ERR_INVALID);
}

typedef struct {
    ks_store *s;
    char err[256];
} opener;

static void *open_thread(void *arg)
{
    opener *o = arg;
    o->s = ks_store_pg_open(PG_URI, o->err, sizeof o->err);
    return NULL;
}

static void test_concurrent_migrations(void)
{
    ASSERT_EQ_INT(pg_reset_schema(), 0);
    opener o[6];
    pthread_t t[6];
    memset(o, 0, sizeof o);
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, open_thread, &o[i]);
    int ok = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        if (o[i].s) {
            ok++;
            o[i].s->ops->close(o[i].s);
        } else {
            fprintf(stderr, "  open %d: %s\n", i, o[i].err);
        }
    }
    ASSERT_EQ_INT(ok, 6);
    ASSERT_EQ_INT(pg_admin_value("SELECT count(*) FROM keystile_schema"), 1);
    ASSERT_EQ_INT(pg_admin_value("SELECT version FROM keystile_schema"), KS_PG_SCHEMA_VERSION);
}

static void test_change_log_kinds(void)
{
    pg_fresh(1);
    ks_store *s = ST[0];
    int64_t head = -1;
    ASSERT_EQ_INT(s->ops->changes_head(s, &head), KS_OK);
    ASSERT_EQ_INT(head, 0);
    ASSERT_EQ_INT(make_account_on(s, "acme"), KS_OK);
    ASSERT_EQ_INT(make_account_on(s, "beta"), KS_OK);
    ASSERT_EQ_INT(put_key_on(s, "beta", 1), KS_OK);
    ASSERT_EQ_INT(set_active(s, "beta", 1, 0), KS_OK);
    ks_audit_entry a = audit("beta", "x");
    ks_digest d = digest(77);
    ASSERT_EQ_INT(s->ops->key_apply_slots(s, "beta", key_id_of("beta", 1), &(ks_slot_change){.op = KS_SLOT_OP_RENEW_LATER, .new_hash = &d}, 1736942500, &a, NULL), KS_OK);
    ks_settings st = {.token_duration_months = 6, .enforce_duration = 1, .renewal_notice_days = 14};
    ASSERT_EQ_INT(s->ops->settings_put(s, "acme", &st, &a), KS_OK);
    ks_role role = {.name = "Reader", .resources = {0}, .builtin = 0};
    ASSERT_EQ_INT(s->ops->role_create(s, "acme", &role, &a), KS_OK);
    ASSERT_EQ_INT(s->ops->role_update(s, "acme", "Reader", "Readers", NULL, &a), KS_OK);
    const char *res[] = {"orders.read"};
    ks_strlist rl = {(char **)res, 1};
    ASSERT_EQ_INT(s->ops->role_update(s, "acme", "Readers", NULL, &rl, &a), KS_OK);
    const char *roles[] = {"Readers"};
    ks_strlist granted = {(char **)roles, 1};
    ASSERT_EQ_INT(s->ops->external_add(s, "acme", key_id_of("beta", 1), &granted, 1736942600, &a), KS_OK);
    ks_stored_signing_key sk = {.kid = "kid1", .sealed_len = 10, .created_at = 1};
    ASSERT_EQ_INT(s->ops->signing_key_add(s, &sk), KS_OK);
    /* No change: sessions, last use, failed writes. */
    ks_digest sh = digest(500);
    ASSERT_EQ_INT(s->ops->session_create(s, &sh, key_id_of("beta", 1), &d, 1736942700), KS_OK);
    ks_last_used lu = {.hash = d, .last_used_at = 1736942800};
    snprintf(lu.key_id, sizeof lu.key_id, "%s", key_id_of("beta", 1));
    ASSERT_EQ_INT(s->ops->last_used_flush(s, &lu, 1), KS_OK);
    ASSERT_EQ_INT(set_active(s, "acme", 42, 0), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(make_account_on(s, "acme"), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(s->ops->key_delete(s, "beta", key_id_of("beta", 1), &a), KS_OK);

    changes *c = all_changes(s, 0);
    ASSERT_EQ_INT(c->n, 12);
    for (size_t i = 1; i < c->n; i++)
        ASSERT(c->items[i].seq > c->items[i - 1].seq);
    ASSERT_CHANGE(c, 0, KS_CHANGE_ACCOUNT_KEYS, "acme", "");
    ASSERT_CHANGE(c, 1, KS_CHANGE_ACCOUNT_KEYS, "beta", "");
    ASSERT_CHANGE(c, 2, KS_CHANGE_KEY, "beta", key_id_of("beta", 1));
    ASSERT_CHANGE(c, 3, KS_CHANGE_KEY, "beta", key_id_of("beta", 1));
    ASSERT_CHANGE(c, 4, KS_CHANGE_KEY, "beta", key_id_of("beta", 1));
    ASSERT_CHANGE(c, 5, KS_CHANGE_ACCOUNT, "acme", "");
    ASSERT_CHANGE(c, 6, KS_CHANGE_ACCOUNT, "acme", "");
    ASSERT_CHANGE(c, 7, KS_CHANGE_ACCOUNT_KEYS, "acme", ""); /* a rename */
    ASSERT_CHANGE(c, 8, KS_CHANGE_ACCOUNT, "acme", "");
    ASSERT_CHANGE(c, 9, KS_CHANGE_KEY, "beta", key_id_of("beta", 1)); /* under its home account */
    ASSERT_CHANGE(c, 10, KS_CHANGE_SIGNING_KEYS, "", "");
    ASSERT_CHANGE(c, 11, KS_CHANGE_KEY, "beta", key_id_of("beta", 1));
    ASSERT_EQ_INT(s->ops->changes_head(s, &head), KS_OK);
    ASSERT_EQ_INT(head, c->items[11].seq);
}

static void test_changes_paging_and_compaction(void)
{
    pg_fresh(1);
    ks_store *s = ST[0];
    ASSERT_EQ_INT(make_account_on(s, "acme"), KS_OK);
    for (int i = 1; i <= 3; i++)
        ASSERT_EQ_INT(put_key_on(s, "acme", i), KS_OK);
    for (int round = 0; round < 3; round++)
        for (int i = 1; i <= 3; i++)
            ASSERT_EQ_INT(set_active(s, "acme", i, round % 2), KS_OK);
    /* 1 + 3 + 9 changes, read 5 at a time. */
    ks_change page[5];
    size_t n;
    int64_t after = 0, total = 0, last = 0;
    do {
        ASSERT_EQ_INT(s->ops->changes_since(s, after, page, 5, &n), KS_OK);
        for (size_t i = 0; i < n; i++) {
            ASSERT(page[i].seq > last);
            last = page[i].seq;
        }
        total += (int64_t)n;
        if (n)
            after = page[n - 1].seq;
    } while (n == 5);
    ASSERT_EQ_INT(total, 13);
    int64_t head;
    ASSERT_EQ_INT(s->ops->changes_head(s, &head), KS_OK);
    ASSERT_EQ_INT(head, last);
    /* Compaction keeps the newest row of each subject: the account, 3 keys. */
    ASSERT_EQ_INT(s->ops->changes_compact(s), KS_OK);
    changes *c = all_changes(s, 0);
    ASSERT_EQ_INT(c->n, 4);
    ASSERT_CHANGE(c, 0, KS_CHANGE_ACCOUNT_KEYS, "acme", "");
    ASSERT_EQ_INT(c->items[3].seq, head);
    ASSERT_EQ_INT(s->ops->changes_head(s, &head), KS_OK);
    ASSERT_EQ_INT(head, c->items[3].seq);
    /* A reader that had seen up to any point still gets every subject changed since. */
    c = all_changes(s, head - 2);
    ASSERT_EQ_INT(c->n, 2);
}

/* ---- concurrency between "nodes" ---- */

typedef struct {
    ks_store *s;
    int first, count;
    int failures;
    atomic_int *done;
} writer_arg;

static void *writer_thread(void *arg)
{
    writer_arg *w = arg;
    for (int i = 0; i < w->count; i++)
        if (set_active(w->s, "acme", w->first + i % 5, i % 2) != KS_OK)
            w->failures++;
    atomic_fetch_add(w->done, 1);
    return NULL;
}

/* Two nodes write while a third follows: every change is seen exactly once,
 * in increasing seq order (seqs are handed out in commit order). */
static void test_no_change_missed_under_concurrency(void)
{
    pg_fresh(3);
    ASSERT_EQ_INT(make_account_on(ST[0], "acme"), KS_OK);
    for (int i = 1; i <= 10; i++)
        ASSERT_EQ_INT(put_key_on(ST[0], "acme", i), KS_OK);
    int64_t after, start;
    ASSERT_EQ_INT(ST[2]->ops->changes_head(ST[2], &after), KS_OK);
    start = after;
    atomic_int done = 0;
    writer_arg w[2] = {{ST[0], 1, 150, 0, &done}, {ST[1], 6, 150, 0, &done}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, writer_thread, &w[i]);
    int64_t seen = 0;
    ks_change page[16];
    size_t n;
    int last_round = 0;
    while (!last_round) {
        last_round = atomic_load(&done) == 2; /* one more full read after both ended */
        do {
            ASSERT_EQ_INT(ST[2]->ops->changes_since(ST[2], after, page, 16, &n), KS_OK);
            for (size_t i = 0; i < n; i++) {
                ASSERT(page[i].seq > after);
                after = page[i].seq;
            }
            seen += (int64_t)n;
        } while (n == 16);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ_INT(w[0].failures + w[1].failures, 0);
    ASSERT_EQ_INT(seen, 300);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM changes WHERE seq > %lld", (long long)start);
    ASSERT_EQ_INT(pg_admin_value(sql), 300);
}

typedef struct {
    ks_store *s;
    int rc;
    int gen;
} renew_arg;

static void *renew_thread(void *arg)
{
    renew_arg *r = arg;
    ks_digest d = digest(r->gen);
    ks_audit_entry a = audit("acme", "key.renew");
    r->rc = r->s->ops->key_apply_slots(r->s, "acme", key_id_of("acme", 1), &(ks_slot_change){.op = KS_SLOT_OP_RENEW_LATER, .new_hash = &d},
                                       1736942400 + r->gen, &a, NULL);
    return NULL;
}

/* Two nodes renewing one key at once: the row lock makes one of them see
 * the other's old token (409), never two renewals that both "won". */
static void test_concurrent_renewals_two_nodes(void)
{
    pg_fresh(2);
    ASSERT_EQ_INT(make_account_on(ST[0], "acme"), KS_OK);
    ASSERT_EQ_INT(put_key_on(ST[0], "acme", 1), KS_OK);
    for (int round = 0; round < 15; round++) {
        renew_arg r[2] = {{ST[0], -1, 100 + 2 * round}, {ST[1], -1, 101 + 2 * round}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            ASSERT_EQ_INT(pthread_create(&t[i], NULL, renew_thread, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        if ((r[0].rc == KS_OK) == (r[1].rc == KS_OK))
            UNIT_FAIL("round %d: node results %d and %d, want one KS_OK and one OLD_TOKEN_EXISTS", round,
                      r[0].rc, r[1].rc);
        ASSERT(r[0].rc == KS_ERR_OLD_TOKEN_EXISTS || r[1].rc == KS_ERR_OLD_TOKEN_EXISTS);
        ks_audit_entry a = audit("acme", "key.delete_old_token");
        ASSERT_EQ_INT(ST[0]->ops->key_apply_slots(ST[0], "acme", key_id_of("acme", 1), &(ks_slot_change){.op = KS_SLOT_OP_DELETE_OLD, .new_hash = NULL}, 1736942400, &a, NULL), KS_OK);
    }
}

/* ---- connection loss ---- */

static void test_reconnects_after_backend_killed(void)
{
    pg_fresh(1);
    ASSERT_EQ_INT(make_account_on(ST[0], "acme"), KS_OK);
    /* With a timeout, pg_terminate_backend waits until the backend is gone. */
    ASSERT_EQ_INT(pg_admin("", "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                            " WHERE application_name = 'keystile' AND pid <> pg_backend_pid()"), 0);
    /* The dead idle connection is noticed at BEGIN and replaced at once. */
    ks_settings st;
    ASSERT_EQ_INT(ST[0]->ops->settings_get(ST[0], "acme", &st), KS_OK);
    ASSERT_EQ_INT(put_key_on(ST[0], "acme", 1), KS_OK);
}

static void test_database_down_then_back(void)
{
    pg_fresh(1);
    ks_store *s = ST[0];
    ASSERT_EQ_INT(make_account_on(s, "acme"), KS_OK);
    ASSERT_EQ_INT(pg_cluster("stop", 0), 0);
    ks_settings st;
    double t0 = pg_now_s();
    ASSERT_EQ_INT(s->ops->settings_get(s, "acme", &st), KS_ERR_STORAGE);
    for (int i = 0; i < 20; i++) /* fails fast, again and again */
        ASSERT_EQ_INT(put_key_on(s, "acme", 100 + i), KS_ERR_STORAGE);
    ASSERT(pg_now_s() - t0 < 1.0);
    ASSERT_EQ_INT(s->ops->changes_wait(s, 50, -1), KS_ERR_STORAGE);
    ASSERT_EQ_INT(pg_cluster("restart", 0), 0);
    int rc = KS_ERR_STORAGE;
    t0 = pg_now_s();
    while (rc != KS_OK && pg_now_s() - t0 < 5) {
        rc = put_key_on(s, "acme", 1);
        if (rc != KS_OK)
            usleep(50 * 1000);
    }
    ASSERT_EQ_INT(rc, KS_OK);
    ASSERT(pg_now_s() - t0 < 2.0);
    ASSERT_EQ_INT(s->ops->settings_get(s, "acme", &st), KS_OK);
}

/* ------------------------------------------------------------ main */

static int run_tests(void)
{
    int conf_passed = 0, conf_failed = 0;
    store_conformance_run(open_fresh, NULL, &conf_passed, &conf_failed);

    RUN(test_store_open_picks_pg);
    pg_close_stores();
    RUN(test_newer_schema_refused);
    pg_close_stores();
    RUN(test_migration_from_2_audit_via_address);
    pg_close_stores();
    RUN(test_unreachable_database_refused);
    RUN(test_redact_location);
    RUN(test_secret_fingerprint);
    pg_close_stores();
    RUN(test_concurrent_migrations);
    RUN(test_change_log_kinds);
    pg_close_stores();
    RUN(test_changes_paging_and_compaction);
    pg_close_stores();
    RUN(test_no_change_missed_under_concurrency);
    pg_close_stores();
    RUN(test_concurrent_renewals_two_nodes);
    pg_close_stores();
    RUN(test_reconnects_after_backend_killed);
    pg_close_stores();
    RUN(test_database_down_then_back);
    pg_close_stores();

    unit_passed += conf_passed;
    unit_failed += conf_failed;
    return unit_report("store-pg (conformance + postgresql)");
}

int main(void)
{
    return pg_cluster_main(run_tests, "store-pg");
}
