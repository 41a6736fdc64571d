/*
 * sqlite_external.c - external grants in the SQLite backend: a key of another
 * account given roles in this one. The grant row lives in external_grants,
 * its roles in key_roles under the granting account, so role renames cascade
 * and role deletion sees them as "in use".
 */
#include "store/sqlite_internal.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds the key's seq and home account; NOT_FOUND when unknown. */
static int key_home(sq_store *s, const char *key_id, int64_t *seq, char home[KS_ACCOUNT_MAX + 1])
{
    sqlite3_stmt *st = sq_stmt(s, Q_KEY_HOME);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        const char *a = (const char *)sqlite3_column_text(st, 1);
        snprintf(home, KS_ACCOUNT_MAX + 1, "%s", a ? a : "");
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW ? KS_OK : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
}

static int grant_exists(sq_store *s, int64_t seq, const char *account)
{
    sqlite3_stmt *st = sq_stmt(s, Q_GRANT_EXISTS);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? KS_OK : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
}

/* The seq of key_id when it holds a grant in account; NOT_FOUND otherwise. */
static int granted_seq(sq_store *s, const char *account, const char *key_id, int64_t *seq)
{
    char home[KS_ACCOUNT_MAX + 1];
    int rc = key_home(s, key_id, seq, home);
    return rc == KS_OK ? grant_exists(s, *seq, account) : rc;
}

/* The arguments and results of sq_external_list's read, for sq_read_tx. */
struct external_list_args {
    const char *account;
    ks_key *keys;           /* the keys read, n of them */
    size_t n;
};

/* The list and each key's rows, one snapshot. */
static int external_list_in_tx(sq_store *s, void *arg)
{
    struct external_list_args *a = arg;
    int64_t *seqs = NULL;
    size_t count = 0, cap = 0;
    int rc = KS_OK, step = SQLITE_DONE;
    sqlite3_stmt *st = sq_stmt(s, Q_EXTERNAL_LIST);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
    while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *grown = realloc(seqs, cap * sizeof *grown);
            if (!grown) { rc = KS_ERR_NOMEM; break; }
            seqs = grown;
        }
        seqs[count++] = sqlite3_column_int64(st, 0);
    }
    if (rc == KS_OK && step != SQLITE_DONE)
        rc = sq_error(step);
    sqlite3_reset(st);
    if (rc == KS_OK && !(a->keys = calloc(count ? count : 1, sizeof *a->keys)))
        rc = KS_ERR_NOMEM;
    for (size_t i = 0; rc == KS_OK && i < count; i++, a->n++)
        rc = sq_key_read_seq(s, seqs[i], &a->keys[i]);
    free(seqs);
    return rc;
}

int sq_external_list(ks_store *base, const char *account, ks_key **out, size_t *n)
{
    struct external_list_args a = {account, NULL, 0};
    int rc = sq_read_tx((sq_store *)base, external_list_in_tx, &a);
    if (rc != KS_OK) {
        ks_keys_free(a.keys, a.n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    *out = a.keys;
    *n = a.n;
    return KS_OK;
}

/* The arguments of the grant writes, for sq_write_tx. */
struct grant_args {
    const char *account;           /* the granting account */
    const char *key_id;
    const ks_strlist *roles;       /* add: the roles; update: NULL keeps them */
    int64_t now;                   /* add */
    int status;                    /* update: 0/1, or < 0 to keep it */
    const ks_audit_entry *audit;
};

/* The audit entry, then the change-log row of the key (by its home
 * account, which its id names) that a grant write changed. */
static int grant_written(sq_store *s, const char *key_id, const ks_audit_entry *audit)
{
    char home[KS_ACCOUNT_MAX + 1];
    int rc = sq_audit_insert(s, audit);
    if (rc == KS_OK && ks_key_id_parse(key_id, home) == KS_OK)
        rc = sq_change(s, KS_CHANGE_KEY, home, key_id);
    return rc;
}

/* The rows of sq_external_add: NOT_FOUND for an unknown key or account,
 * INVALID for the key's own account or an unknown role, NAME_TAKEN when
 * the grant exists. */
static int external_add_in_tx(sq_store *s, void *arg)
{
    const struct grant_args *a = arg;
    int64_t seq;
    char home[KS_ACCOUNT_MAX + 1];
    int rc = key_home(s, a->key_id, &seq, home);
    if (rc != KS_OK)
        return rc;
    if (strcmp(home, a->account) == 0)
        return KS_ERR_INVALID;
    if ((rc = grant_exists(s, seq, a->account)) == KS_OK)
        return KS_ERR_NAME_TAKEN;
    if (rc != KS_ERR_NOT_FOUND || (rc = sq_roles_exist(s, a->account, a->roles)) != KS_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, Q_GRANT_INSERT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, a->account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, a->now);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return sq_insert_error(step); /* NOT_FOUND: no such granting account */
    if ((rc = sq_key_roles_write(s, seq, a->account, a->roles)) != KS_OK)
        return rc;
    return grant_written(s, a->key_id, a->audit);
}

int sq_external_add(ks_store *base, const char *account, const char *key_id, const ks_strlist *roles,
                    int64_t now, const ks_audit_entry *audit)
{
    struct grant_args a = {.account = account, .key_id = key_id, .roles = roles, .now = now,
                           .audit = audit};
    return sq_write_tx((sq_store *)base, external_add_in_tx, &a);
}

/* The updates of sq_external_update: NOT_FOUND when the key holds no grant
 * in account, INVALID for an unknown role. */
static int external_update_in_tx(sq_store *s, void *arg)
{
    const struct grant_args *a = arg;
    int64_t seq;
    int rc = granted_seq(s, a->account, a->key_id, &seq);
    if (rc != KS_OK)
        return rc;
    if (a->roles && ((rc = sq_roles_exist(s, a->account, a->roles)) != KS_OK ||
                     (rc = sq_key_roles_write(s, seq, a->account, a->roles)) != KS_OK))
        return rc;
    if (a->status >= 0) {
        sqlite3_stmt *st = sq_stmt(s, Q_GRANT_SET_ACTIVE);
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, a->account, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, a->status);
        if ((rc = sq_exec_stmt(st)) != KS_OK)
            return rc;
    }
    return grant_written(s, a->key_id, a->audit);
}

int sq_external_update(ks_store *base, const char *account, const char *key_id,
                       const ks_strlist *roles, int status, const ks_audit_entry *audit)
{
    struct grant_args a = {.account = account, .key_id = key_id, .roles = roles, .status = status,
                           .audit = audit};
    return sq_write_tx((sq_store *)base, external_update_in_tx, &a);
}

/* The deletes of sq_external_remove (the grant's roles, then the grant):
 * NOT_FOUND when the key holds no grant in account. */
static int external_remove_in_tx(sq_store *s, void *arg)
{
    const struct grant_args *a = arg;
    int64_t seq;
    ks_strlist none = {0};
    int rc;
    if ((rc = granted_seq(s, a->account, a->key_id, &seq)) != KS_OK ||
        (rc = sq_key_roles_write(s, seq, a->account, &none)) != KS_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, Q_GRANT_DELETE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, a->account, -1, SQLITE_STATIC);
    if ((rc = sq_exec_stmt(st)) != KS_OK)
        return rc;
    return grant_written(s, a->key_id, a->audit);
}

int sq_external_remove(ks_store *base, const char *account, const char *key_id,
                       const ks_audit_entry *audit)
{
    struct grant_args a = {.account = account, .key_id = key_id, .audit = audit};
    return sq_write_tx((sq_store *)base, external_remove_in_tx, &a);
}
