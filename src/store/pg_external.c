/*
 * pg_external.c - external grants in the PostgreSQL backend: a key of another
 * account given roles in this one. As in SQLite, the grant row lives in
 * external_grants and its roles in key_roles under the granting account. The
 * change-log row names the key under its home account: that is where the
 * index entry (grants included) is reloaded from.
 */
#include "store/pg_internal.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds (and locks) the key's row: seq and home account; NOT_FOUND when unknown. */
static int key_home(pg_store *s, const char *key_id, int64_t *seq, char home[KS_ACCOUNT_MAX + 1])
{
    pg_params p = {0};
    pg_text(&p, key_id);
    int rc;
    PGresult *r = pg_exec(s, P_KEY_HOME, &p, &rc);
    if (!r)
        return rc;
    if (PQntuples(r) == 1) {
        *seq = pg_get_int(r, 0, 0);
        pg_get_str(r, 0, 1, home, KS_ACCOUNT_MAX + 1);
    } else {
        rc = KS_ERR_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

static int grant_exists(pg_store *s, int64_t seq, const char *account)
{
    pg_params p = {0};
    pg_int(&p, seq);
    pg_text(&p, account);
    int rc;
    PGresult *r = pg_exec(s, P_GRANT_EXISTS, &p, &rc);
    if (!r)
        return rc;
    rc = PQntuples(r) > 0 ? KS_OK : KS_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

struct external_list_args {
    const char *account;
    ks_key *keys;                  /* out: the granted keys, owned by the caller */
    size_t count;                  /* out: keys read into keys */
};

static int external_list_in_tx(pg_store *s, void *arg)
{
    struct external_list_args *a = arg;
    pg_params p = {0};
    pg_text(&p, a->account);
    int rc;
    PGresult *r = pg_exec(s, P_EXTERNAL_LIST, &p, &rc);
    int rows = r ? PQntuples(r) : 0;
    a->keys = calloc(rows ? (size_t)rows : 1, sizeof *a->keys);
    if (!a->keys && rc == KS_OK)
        rc = KS_ERR_NOMEM;
    for (int i = 0; rc == KS_OK && i < rows; i++, a->count++)
        rc = pg_key_read_seq(s, pg_get_int(r, i, 0), &a->keys[i]);
    PQclear(r);
    return rc;
}

int pg_external_list(ks_store *base, const char *account, ks_key **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct external_list_args a = {account, NULL, 0};
    int rc = pg_read_tx((pg_store *)base, external_list_in_tx, &a);
    if (rc != KS_OK) {
        ks_keys_free(a.keys, a.count);
        return rc;
    }
    *out = a.keys;
    *n = a.count;
    return KS_OK;
}

struct external_args {
    const char *account;           /* the granting account */
    const char *key_id;            /* the key of another account */
    const ks_strlist *roles;       /* update: NULL keeps them */
    int status;                    /* update: -1 keeps it */
    int64_t now;                   /* add: the grant's creation time */
    const ks_audit_entry *audit;
};

/* The grant of pg_external_add: INVALID for a key of this account,
 * NAME_TAKEN when granted already, NOT_FOUND for an unknown key or account. */
static int external_add_in_tx(pg_store *s, void *arg)
{
    const struct external_args *a = arg;
    int64_t seq;
    char home[KS_ACCOUNT_MAX + 1];
    int rc;
    if ((rc = key_home(s, a->key_id, &seq, home)) == KS_OK && strcmp(home, a->account) == 0)
        rc = KS_ERR_INVALID;
    if (rc == KS_OK) {
        rc = grant_exists(s, seq, a->account);
        rc = rc == KS_OK ? KS_ERR_NAME_TAKEN : rc == KS_ERR_NOT_FOUND ? KS_OK : rc;
    }
    if (rc == KS_OK)
        rc = pg_roles_exist(s, a->account, a->roles);
    if (rc == KS_OK) {
        pg_params p = {0};
        pg_int(&p, seq);
        pg_text(&p, a->account);
        pg_int(&p, a->now);
        rc = pg_run(s, P_GRANT_INSERT, &p); /* NOT_FOUND: no such granting account */
    }
    if (rc == KS_OK)
        rc = pg_key_roles_write(s, seq, a->account, a->roles);
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_KEY, home, a->key_id);
    return rc;
}

int pg_external_add(ks_store *base, const char *account, const char *key_id, const ks_strlist *roles,
                    int64_t now, const ks_audit_entry *audit)
{
    struct external_args a = {account, key_id, roles, -1, now, audit};
    return pg_write_tx((pg_store *)base, external_add_in_tx, &a);
}

/* The changes of pg_external_update: NOT_FOUND when no such grant. */
static int external_update_in_tx(pg_store *s, void *arg)
{
    const struct external_args *a = arg;
    int64_t seq;
    char home[KS_ACCOUNT_MAX + 1];
    int rc;
    if ((rc = key_home(s, a->key_id, &seq, home)) == KS_OK)
        rc = grant_exists(s, seq, a->account);
    if (rc == KS_OK && a->roles && (rc = pg_roles_exist(s, a->account, a->roles)) == KS_OK)
        rc = pg_key_roles_write(s, seq, a->account, a->roles);
    if (rc == KS_OK && a->status >= 0) {
        pg_params p = {0};
        pg_int(&p, seq);
        pg_text(&p, a->account);
        pg_int(&p, a->status);
        rc = pg_run(s, P_GRANT_SET_ACTIVE, &p);
    }
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_KEY, home, a->key_id);
    return rc;
}

int pg_external_update(ks_store *base, const char *account, const char *key_id,
                       const ks_strlist *roles, int status, const ks_audit_entry *audit)
{
    struct external_args a = {account, key_id, roles, status, 0, audit};
    return pg_write_tx((pg_store *)base, external_update_in_tx, &a);
}

/* The removal of pg_external_remove: NOT_FOUND when no such grant. */
static int external_remove_in_tx(pg_store *s, void *arg)
{
    const struct external_args *a = arg;
    int64_t seq;
    char home[KS_ACCOUNT_MAX + 1];
    ks_strlist none = {0};
    int rc;
    if ((rc = key_home(s, a->key_id, &seq, home)) == KS_OK && (rc = grant_exists(s, seq, a->account)) == KS_OK)
        rc = pg_key_roles_write(s, seq, a->account, &none);
    if (rc == KS_OK) {
        pg_params p = {0};
        pg_int(&p, seq);
        pg_text(&p, a->account);
        rc = pg_run(s, P_GRANT_DELETE, &p);
    }
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_KEY, home, a->key_id);
    return rc;
}

int pg_external_remove(ks_store *base, const char *account, const char *key_id,
                       const ks_audit_entry *audit)
{
    struct external_args a = {account, key_id, NULL, -1, 0, audit};
    return pg_write_tx((pg_store *)base, external_remove_in_tx, &a);
}
