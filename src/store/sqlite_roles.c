/*
 * sqlite_roles.c - the roles of an account in the SQLite backend: the role
 * rows and their ordered resources, listing, create, rename/update and
 * delete. The built-in roles are inserted with the account
 * (sqlite_store.c), through sq_role_insert_tx.
 */
#include "store/sqlite_internal.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int sq_role_insert_tx(sq_store *s, const char *account, const char *name,
                      const char *const *resources, size_t n, int builtin)
{
    sqlite3_stmt *st = sq_stmt(s, Q_ROLE_INSERT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, builtin);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sq_insert_error(rc);
    for (size_t i = 0; i < n; i++) {
        st = sq_stmt(s, Q_ROLE_RESOURCE_INSERT);
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
        sqlite3_bind_text(st, 4, resources[i], -1, SQLITE_STATIC);
        if ((rc = sq_exec_stmt(st)) != KS_OK)
            return rc;
    }
    return KS_OK;
}

static int role_resources_read(sq_store *s, const char *account, const char *role, ks_strlist *out)
{
    sqlite3_stmt *st = sq_stmt(s, Q_ROLE_RESOURCES_OF);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (ks_strlist_add(out, (const char *)sqlite3_column_text(st, 0)) != KS_OK) {
            sqlite3_reset(st);
            return KS_ERR_NOMEM;
        }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KS_OK : sq_error(rc);
}

int sq_role_list_locked(sq_store *s, const char *account, ks_role **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    ks_role *roles = NULL;
    sqlite3_stmt *st = sq_stmt(s, Q_ROLE_LIST);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    int rc = KS_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            ks_role *grown = realloc(roles, cap * sizeof *grown);
            if (!grown) { rc = KS_ERR_NOMEM; break; }
            roles = grown;
        }
        ks_role *r = &roles[(*n)++];
        memset(r, 0, sizeof *r);
        r->builtin = sqlite3_column_int(st, 1);
        if (!(r->name = sq_column_strdup(st, 0))) { rc = KS_ERR_NOMEM; break; }
    }
    if (rc == KS_OK && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = sq_error(step);
    sqlite3_reset(st);
    /* Resources in a second pass: the role statement must be reset first. */
    for (size_t i = 0; rc == KS_OK && i < *n; i++)
        rc = role_resources_read(s, account, roles[i].name, &roles[i].resources);
    if (rc != KS_OK) {
        ks_roles_free(roles, *n);
        *n = 0;
        return rc;
    }
    *out = roles;
    return KS_OK;
}

int sq_role_list(ks_store *base, const char *account, ks_role **out, size_t *n)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = sq_role_list_locked(s, account, out, n);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* KS_OK when role exists and is not built-in; NOT_FOUND or BUILTIN_ROLE else. */
static int role_check_editable(sq_store *s, const char *account, const char *name)
{
    sqlite3_stmt *st = sq_stmt(s, Q_ROLE_GET);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int builtin = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        return KS_ERR_NOT_FOUND;
    if (step != SQLITE_ROW)
        return sq_error(step);
    return builtin ? KS_ERR_BUILTIN_ROLE : KS_OK;
}

static int role_resources_write(sq_store *s, const char *account, const char *role, const ks_strlist *res)
{
    sqlite3_stmt *st = sq_stmt(s, Q_ROLE_RESOURCES_DELETE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    for (size_t i = 0; rc == KS_OK && i < res->count; i++) {
        if (!(st = sq_stmt(s, Q_ROLE_RESOURCE_INSERT)))
            return KS_ERR_INTERNAL;
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
        sqlite3_bind_text(st, 4, res->items[i], -1, SQLITE_STATIC);
        rc = sq_exec_stmt(st);
    }
    return rc;
}

/* The rows of sq_role_create: NAME_TAKEN for an existing role. */
static int role_create_in_tx(sq_store *s, void *arg)
{
    const ks_role_write *a = arg;
    int rc = sq_role_insert_tx(s, a->account, a->name, (const char *const *)a->resources->items,
                               a->resources->count, 0);
    if (rc == KS_OK)
        rc = sq_audit_insert(s, a->audit);
    return rc == KS_OK ? sq_change(s, KS_CHANGE_ACCOUNT, a->account, NULL) : rc;
}

int sq_role_create(ks_store *base, const char *account, const ks_role *role,
                   const ks_audit_entry *audit)
{
    ks_role_write a = {account, role->name, &role->resources, NULL, audit};
    return sq_write_tx((sq_store *)base, role_create_in_tx, &a);
}

/* The writes of sq_role_update: NOT_FOUND / BUILTIN_ROLE when the role may
 * not be edited, NAME_TAKEN when new_name exists. */
static int role_update_in_tx(sq_store *s, void *arg)
{
    const ks_role_write *a = arg;
    int rc = role_check_editable(s, a->account, a->name);
    if (rc != KS_OK)
        return rc;
    const char *final_name = a->name;
    if (a->new_name && strcmp(a->new_name, a->name) != 0) {
        sqlite3_stmt *st = sq_stmt(s, Q_ROLE_RENAME);
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, a->new_name, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if ((step & 0xff) == SQLITE_CONSTRAINT)
            return KS_ERR_NAME_TAKEN;
        if ((rc = sq_error(step)) != KS_OK)
            return rc;
        final_name = a->new_name;
    }
    if (a->resources && (rc = role_resources_write(s, a->account, final_name, a->resources)) != KS_OK)
        return rc;
    rc = sq_audit_insert(s, a->audit);
    return rc == KS_OK ? sq_change(s, final_name != a->name ? KS_CHANGE_ACCOUNT_KEYS : KS_CHANGE_ACCOUNT,
                                   a->account, NULL) : rc;
}

int sq_role_update(ks_store *base, const char *account, const char *name,
                   const char *new_name, const ks_strlist *resources,
                   const ks_audit_entry *audit)
{
    ks_role_write a = {account, name, resources, new_name, audit};
    return sq_write_tx((sq_store *)base, role_update_in_tx, &a);
}

/* The delete of sq_role_delete: NOT_FOUND / BUILTIN_ROLE as for an update,
 * ROLE_IN_USE while a key (or grant) holds the role. */
static int role_delete_in_tx(sq_store *s, void *arg)
{
    const ks_role_write *a = arg;
    int rc = role_check_editable(s, a->account, a->name);
    if (rc != KS_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, Q_ROLE_IN_USE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return KS_ERR_ROLE_IN_USE;
    if (step != SQLITE_DONE)
        return sq_error(step);
    if (!(st = sq_stmt(s, Q_ROLE_DELETE)))
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
    if ((rc = sq_exec_stmt(st)) != KS_OK)
        return rc;
    rc = sq_audit_insert(s, a->audit);
    return rc == KS_OK ? sq_change(s, KS_CHANGE_ACCOUNT, a->account, NULL) : rc;
}

int sq_role_delete(ks_store *base, const char *account, const char *name,
                   const ks_audit_entry *audit)
{
    ks_role_write a = {account, name, NULL, NULL, audit};
    return sq_write_tx((sq_store *)base, role_delete_in_tx, &a);
}
