/*
 * sqlite_accounts.c - accounts, settings and the verify index load in the
 * SQLite backend. Every write is one sq_write_tx transaction with its audit
 * entry.
 */
#include "store/sqlite_internal.h"
#include "store/store_common.h"
#include "core/error.h"
#include "core/roles.h"

#include <string.h>

/* ---- accounts and settings ---- */

struct account_args {
    const char *account;
    const ks_settings *settings;
    const ks_key *owner;           /* account_create: NULL for no owner key */
    const ks_audit_entry *audit;
};

/* Q_ACCOUNT_INSERT or Q_ACCOUNT_PUT with the account and its settings bound
 * (?1..?3, ?5..?7); NULL when the statement cannot be prepared. */
static sqlite3_stmt *account_stmt(sq_store *s, sq_query q, const struct account_args *a)
{
    sqlite3_stmt *st = sq_stmt(s, q);
    if (st) {
        sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, a->settings->token_duration_months);
        sqlite3_bind_int(st, 3, a->settings->enforce_duration);
        if (a->settings->auto_delete_old_token_hours > 0)
            sqlite3_bind_int(st, 5, a->settings->auto_delete_old_token_hours);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_int(st, 6, a->settings->renewal_notice_days);
        sqlite3_bind_text(st, 7, ks_leaked_token_action_name(a->settings->leaked_token_action), -1, SQLITE_STATIC);
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
    if (rc == KS_OK)
        rc = sq_audit_insert(s, a->audit);
    return rc == KS_OK ? sq_change(s, KS_CHANGE_ACCOUNT_KEYS, a->account, NULL) : rc;
}

int sq_account_create(ks_store *base, const char *account, const ks_settings *settings,
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
        out->auto_delete_old_token_hours = sqlite3_column_int(st, 2); /* NULL reads as 0: off */
        out->renewal_notice_days = sqlite3_column_int(st, 3);
        out->leaked_token_action = ks_leaked_token_action_parse((const char *)sqlite3_column_text(st, 4)) ==
                                   KS_LEAKED_REVOKE ? KS_LEAKED_REVOKE : KS_LEAKED_ALERT;
        out->deactivate_unused_days = sqlite3_column_int(st, 5); /* NULL reads as 0: off */
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? KS_OK : rc == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(rc);
}

int sq_settings_get(ks_store *base, const char *account, ks_settings *out)
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
    if (a->settings->deactivate_unused_days > 0)
        sqlite3_bind_int(st, 8, a->settings->deactivate_unused_days);
    else
        sqlite3_bind_null(st, 8);
    int rc = sq_exec_stmt(st);
    if (rc != KS_OK)
        return rc == KS_ERR_INTERNAL ? KS_ERR_INVALID : rc; /* a CHECK on the settings' ranges */
    if (sqlite3_changes(s->db) == 0)
        return KS_ERR_NOT_FOUND;
    rc = sq_audit_insert(s, a->audit);
    return rc == KS_OK ? sq_change(s, KS_CHANGE_ACCOUNT, a->account, NULL) : rc;
}

int sq_settings_put(ks_store *base, const char *account, const ks_settings *settings,
                           const ks_audit_entry *audit)
{
    struct account_args a = {account, settings, NULL, audit};
    return sq_write_tx((sq_store *)base, settings_put_in_tx, &a);
}

/* ---- loading the index ---- */

/* The reads the neutral account load (store_common.c) makes, under s->lock. */
static int prim_settings_get(ks_store *base, const char *account, ks_settings *out)
{
    return settings_get_locked((sq_store *)base, account, out);
}

static int prim_role_list(ks_store *base, const char *account, ks_role **out, size_t *n)
{
    return sq_role_list_locked((sq_store *)base, account, out, n);
}

static const ks_store_prims PRIMS = {.settings_get = prim_settings_get, .role_list = prim_role_list};

int sq_load_account(ks_store *base, const char *account, const ks_store_loader *loader)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = ks_store_load_one_account(base, &PRIMS, account, loader);
    if (rc == KS_OK && loader->on_key)
        rc = sq_load_keys(s, account, loader);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_load_all(ks_store *base, const ks_store_loader *loader)
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
        rc = ks_store_load_one_account(base, &PRIMS, accounts.items[i], loader);
    if (rc == KS_OK)
        rc = sq_load_keys(s, NULL, loader);
    pthread_mutex_unlock(&s->lock);
    ks_strlist_free(&accounts);
    return rc;
}
