/*
 * pg_roles.c - the roles of an account in the PostgreSQL backend: built-in
 * ones (made with the account) and custom ones, with their resources. Every
 * write is one transaction with its audit entry and change-log row.
 */
#include "store/pg_internal.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int pg_role_insert_tx(pg_store *s, const char *account, const char *name,
                      const char *const *resources, size_t n, int builtin)
{
    pg_params p = {0};
    pg_text(&p, account);
    pg_text(&p, name);
    pg_int(&p, builtin);
    int rc = pg_run(s, P_ROLE_INSERT, &p);
    for (size_t i = 0; rc == KS_OK && i < n; i++) {
        pg_params q = {0};
        pg_text(&q, account);
        pg_text(&q, name);
        pg_int(&q, (int64_t)i);
        pg_text(&q, resources[i]);
        rc = pg_run(s, P_ROLE_RESOURCE_INSERT, &q);
    }
    return rc;
}

int pg_role_list_tx(pg_store *s, const char *account, ks_role **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    pg_params p = {0};
    pg_text(&p, account);
    int rc;
    PGresult *r = pg_exec(s, P_ROLE_LIST, &p, &rc);
    if (!r)
        return rc;
    int rows = PQntuples(r);
    ks_role *roles = calloc(rows ? (size_t)rows : 1, sizeof *roles);
    size_t count = 0;
    if (!roles)
        rc = KS_ERR_NOMEM;
    /* One row per (role, resource), roles in order: a new name starts a role. */
    for (int i = 0; rc == KS_OK && i < rows; i++) {
        const char *name = PQgetvalue(r, i, 0);
        if (count == 0 || strcmp(roles[count - 1].name, name) != 0) {
            ks_role *role = &roles[count++];
            role->builtin = (int)pg_get_int(r, i, 1);
            if (!(role->name = strdup(name))) {
                rc = KS_ERR_NOMEM;
                break;
            }
        }
        if (!PQgetisnull(r, i, 2))
            rc = ks_strlist_add(&roles[count - 1].resources, PQgetvalue(r, i, 2));
    }
    PQclear(r);
    if (rc != KS_OK) {
        ks_roles_free(roles, count);
        return rc;
    }
    *out = roles;
    *n = count;
    return KS_OK;
}

struct role_list_args {
    const char *account;
    ks_role **out;
    size_t *n;
};

static int role_list_in_tx(pg_store *s, void *arg)
{
    struct role_list_args *a = arg;
    return pg_role_list_tx(s, a->account, a->out, a->n);
}

int pg_role_list(ks_store *base, const char *account, ks_role **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct role_list_args a = {account, out, n};
    return pg_read_tx((pg_store *)base, role_list_in_tx, &a);
}

/* KS_OK when the role exists and is not built-in (and locks its row);
 * KS_ERR_NOT_FOUND or KS_ERR_BUILTIN_ROLE otherwise. */
static int role_lock_editable(pg_store *s, const char *account, const char *name)
{
    pg_params p = {0};
    pg_text(&p, account);
    pg_text(&p, name);
    int rc;
    PGresult *r = pg_exec(s, P_ROLE_LOCK, &p, &rc);
    if (!r)
        return rc;
    rc = PQntuples(r) == 0 ? KS_ERR_NOT_FOUND : pg_get_int(r, 0, 0) ? KS_ERR_BUILTIN_ROLE : KS_OK;
    PQclear(r);
    return rc;
}

static int role_resources_write(pg_store *s, const char *account, const char *role, const ks_strlist *res)
{
    pg_params p = {0};
    pg_text(&p, account);
    pg_text(&p, role);
    int rc = pg_run(s, P_ROLE_RESOURCES_DELETE, &p);
    for (size_t i = 0; rc == KS_OK && i < res->count; i++) {
        pg_params q = {0};
        pg_text(&q, account);
        pg_text(&q, role);
        pg_int(&q, (int64_t)i);
        pg_text(&q, res->items[i]);
        rc = pg_run(s, P_ROLE_RESOURCE_INSERT, &q);
    }
    return rc;
}

/* The rows of pg_role_create: NAME_TAKEN for an existing role. */
static int role_create_in_tx(pg_store *s, void *arg)
{
    const ks_role_write *a = arg;
    int rc = pg_role_insert_tx(s, a->account, a->name, (const char *const *)a->resources->items,
                               a->resources->count, 0);
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_ACCOUNT, a->account, NULL);
    return rc;
}

int pg_role_create(ks_store *base, const char *account, const ks_role *role, const ks_audit_entry *audit)
{
    ks_role_write a = {account, role->name, &role->resources, NULL, audit};
    return pg_write_tx((pg_store *)base, role_create_in_tx, &a);
}

/* The writes of pg_role_update: NOT_FOUND / BUILTIN_ROLE when the role may
 * not be edited, NAME_TAKEN when new_name exists. */
static int role_update_in_tx(pg_store *s, void *arg)
{
    const ks_role_write *a = arg;
    const char *final_name = a->name;
    int renamed = a->new_name && strcmp(a->new_name, a->name) != 0;
    int rc = role_lock_editable(s, a->account, a->name);
    if (rc == KS_OK && renamed) {
        pg_params p = {0};
        pg_text(&p, a->account);
        pg_text(&p, a->name);
        pg_text(&p, a->new_name);
        rc = pg_run(s, P_ROLE_RENAME, &p);
        if (rc == KS_ERR_NOT_FOUND || rc == KS_ERR_INVALID)
            rc = KS_ERR_NAME_TAKEN; /* any constraint, as in SQLite */
        final_name = a->new_name;
    }
    if (rc == KS_OK && a->resources)
        rc = role_resources_write(s, a->account, final_name, a->resources);
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    /* A rename moves the role on every key that holds it. */
    if (rc == KS_OK)
        rc = pg_change(s, renamed ? KS_CHANGE_ACCOUNT_KEYS : KS_CHANGE_ACCOUNT, a->account, NULL);
    return rc;
}

int pg_role_update(ks_store *base, const char *account, const char *name, const char *new_name,
                   const ks_strlist *resources, const ks_audit_entry *audit)
{
    ks_role_write a = {account, name, resources, new_name, audit};
    return pg_write_tx((pg_store *)base, role_update_in_tx, &a);
}

/* The delete of pg_role_delete: NOT_FOUND / BUILTIN_ROLE as for an update,
 * ROLE_IN_USE while a key (or grant) holds the role. */
static int role_delete_in_tx(pg_store *s, void *arg)
{
    const ks_role_write *a = arg;
    pg_params p = {0};
    pg_text(&p, a->account);
    pg_text(&p, a->name);
    int rc = role_lock_editable(s, a->account, a->name);
    if (rc == KS_OK) {
        PGresult *r = pg_exec(s, P_ROLE_IN_USE, &p, &rc);
        if (r && PQntuples(r) > 0)
            rc = KS_ERR_ROLE_IN_USE;
        PQclear(r);
    }
    if (rc == KS_OK && (rc = pg_run(s, P_ROLE_DELETE, &p)) == KS_ERR_NOT_FOUND)
        rc = KS_ERR_ROLE_IN_USE; /* a key took the role meanwhile: ON DELETE RESTRICT */
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_ACCOUNT, a->account, NULL);
    return rc;
}

int pg_role_delete(ks_store *base, const char *account, const char *name, const ks_audit_entry *audit)
{
    ks_role_write a = {account, name, NULL, NULL, audit};
    return pg_write_tx((pg_store *)base, role_delete_in_tx, &a);
}
