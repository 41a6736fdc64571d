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
    ks_store_log_migration("postgresql", version, KS_PG_SCHEMA_VERSION);
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

void pg_close(ks_store *base)
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

/* Every row of KS_STORE_OPERATIONS, then what only PostgreSQL has. */
#define PG_OPERATION(op) .op = pg_##op,
static const ks_store_ops PG_OPS = {
    .backend = "postgresql",
    KS_STORE_OPERATIONS(PG_OPERATION)
    .change_feed = 1,
    .delivery_release = NULL, /* other nodes may hold takes */
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
