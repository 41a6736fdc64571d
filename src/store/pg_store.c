/*
 * pg_store.c - the top of the PostgreSQL backend of store.h: schema
 * migrations, closing, the ops table and opening. The statements,
 * connections and transactions are in pg_db.c; the operations in
 * pg_accounts.c, pg_roles.c, pg_keys.c, pg_external.c, pg_secrets.c,
 * pg_changes.c and pg_audit.c.
 */
#include "store/pg_internal.h"
#include "store/pg_schema.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- schema ---- */

static int migrate(pg_store *s, char *err, size_t errlen)
{
    int rc = pg_exec_sql(s, "BEGIN");
    if (rc == KS_OK)
        rc = pg_exec_sql(s, "SET LOCAL lock_timeout = '120s'");
    if (rc == KS_OK)
        rc = pg_exec_sql(s, "SELECT pg_advisory_xact_lock(" STR(KS_PG_LOCK_CLASS) ", " STR(KS_PG_LOCK_MIGRATE) ")");
    if (rc == KS_OK)
        rc = pg_exec_sql(s, "CREATE TABLE IF NOT EXISTS keystile_schema(version int NOT NULL)");
    int version = -1;
    PGresult *r = rc == KS_OK ? PQexec(s->conn, "SELECT version FROM keystile_schema") : NULL;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
        version = PQntuples(r) == 1 ? (int)pg_get_int(r, 0, 0) : PQntuples(r) == 0 ? 0 : -1;
    PQclear(r);
    if (rc != KS_OK || version < 0) {
        snprintf(err, errlen, "cannot read the schema version: %.*s", (int)strcspn(PQerrorMessage(s->conn), "\n"),
                 PQerrorMessage(s->conn));
        goto fail;
    }
    if (version > KS_PG_SCHEMA_VERSION) {
        snprintf(err, errlen, "database schema version %d is newer than this keystile (%d)", version,
                 KS_PG_SCHEMA_VERSION);
        goto fail;
    }
    for (int v = version; v < KS_PG_SCHEMA_VERSION; v++) {
        if (pg_exec_sql(s, KS_PG_MIGRATIONS[v]) != KS_OK) {
            snprintf(err, errlen, "migration %d failed: %.*s", v + 1, (int)strcspn(PQerrorMessage(s->conn), "\n"),
                     PQerrorMessage(s->conn));
            goto fail;
        }
    }
    if (version < KS_PG_SCHEMA_VERSION) {
        pg_params p = {0};
        pg_int(&p, KS_PG_SCHEMA_VERSION);
        const char *sql = version == 0 ? "INSERT INTO keystile_schema(version) VALUES ($1::int)"
                                       : "UPDATE keystile_schema SET version = $1::int";
        r = PQexecParams(s->conn, sql, 1, NULL, p.values, p.lengths, p.formats, 0);
        int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            snprintf(err, errlen, "cannot record the schema version");
            goto fail;
        }
    }
    if (pg_exec_sql(s, "COMMIT") != KS_OK) {
        snprintf(err, errlen, "cannot commit the schema migration");
        goto fail;
    }
    return KS_OK;
fail:
    PQclear(PQexec(s->conn, "ROLLBACK"));
    return KS_ERR_STORAGE;
}

static void pg_close(ks_store *base)
{
    pg_store *s = (pg_store *)base;
    if (!s)
        return;
    pg_listen_close(s);
    if (s->conn)
        PQfinish(s->conn);
    free(s->uri);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const ks_store_ops PG_OPS = {
    .backend = "postgresql",
    .close = pg_close,
    .account_create = pg_account_create,
    .settings_get = pg_settings_get,
    .settings_put = pg_settings_put,
    .key_insert = pg_key_insert,
    .key_get = pg_key_get,
    .key_list = pg_key_list,
    .key_update = pg_key_update,
    .key_delete = pg_key_delete,
    .key_apply_slots = pg_key_apply_slots,
    .role_list = pg_role_list,
    .role_create = pg_role_create,
    .role_update = pg_role_update,
    .role_delete = pg_role_delete,
    .external_list = pg_external_list,
    .external_add = pg_external_add,
    .external_update = pg_external_update,
    .external_remove = pg_external_remove,
    .session_create = pg_session_create,
    .session_get = pg_session_get,
    .session_touch = pg_session_touch,
    .session_delete = pg_session_delete,
    .session_purge = pg_session_purge,
    .signing_key_list = pg_signing_key_list,
    .signing_key_add = pg_signing_key_add,
    .signing_key_retire = pg_signing_key_retire,
    .share_create = pg_share_create,
    .share_take = pg_share_take,
    .share_purge = pg_share_purge,
    .audit_list = pg_audit_list,
    .audit_append = pg_audit_append,
    .load_all = pg_load_all,
    .load_account = pg_load_account,
    .last_used_flush = pg_last_used_flush,
    .change_feed = 1,
    .changes_head = pg_changes_head,
    .changes_since = pg_changes_since,
    .changes_wait = pg_changes_wait,
    .changes_compact = pg_changes_compact,
    .secret_check = pg_secret_check,
    .webhook_create = pg_webhook_create,
    .webhook_list = pg_webhook_list,
    .webhook_get = pg_webhook_get,
    .webhook_update = pg_webhook_update,
    .webhook_delete = pg_webhook_delete,
    .delivery_list = pg_delivery_list,
    .delivery_claim = pg_delivery_claim,
    .delivery_finish = pg_delivery_finish,
    .delivery_release = NULL /* other nodes may hold takes */,
    .outbox_stats = pg_outbox_stats,
    .delivery_purge = pg_delivery_purge,
    .old_tokens_due = pg_old_tokens_due,
    .notices_due = pg_notices_due,
    .notice_mark = pg_notice_mark,
    .sweep_lock = pg_sweep_lock,
};

ks_store *ks_store_pg_open(const char *uri, char *err, size_t errlen)
{
    pg_store *s = calloc(1, sizeof *s);
    if (!s || !(s->uri = strdup(uri))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &PG_OPS;
    pthread_mutex_init(&s->lock, NULL);
    if (!(s->conn = pg_connect(uri, err, errlen)) || migrate(s, err, errlen) != KS_OK) {
        pg_close(&s->base);
        return NULL;
    }
    return &s->base;
}
