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

int pg_external_list(ks_store *base, const char *account, ks_key **out, size_t *n)
{
    pg_store *s = (pg_store *)base;
    *out = NULL;
    *n = 0;
    int rc = pg_begin(s, 1);
    if (rc != KS_OK)
        return rc;
    pg_params p = {0};
    pg_text(&p, account);
    PGresult *r = pg_exec(s, P_EXTERNAL_LIST, &p, &rc);
    int rows = r ? PQntuples(r) : 0;
    ks_key *keys = calloc(rows ? (size_t)rows : 1, sizeof *keys);
    size_t count = 0;
    if (!keys && rc == KS_OK)
        rc = KS_ERR_NOMEM;
    for (int i = 0; rc == KS_OK && i < rows; i++, count++)
        rc = pg_key_read_seq(s, pg_get_int(r, i, 0), &keys[i]);
    PQclear(r);
    rc = pg_end(s, rc);
    if (rc != KS_OK) {
        ks_keys_free(keys, count);
        return rc;
    }
    *out = keys;
    *n = count;
    return KS_OK;
}

int pg_external_add(ks_store *base, const char *account, const char *key_id, const ks_strlist *roles,
                    int64_t now, const ks_audit_entry *audit)
{
    pg_store *s = (pg_store *)base;
    int64_t seq;
    char home[KS_ACCOUNT_MAX + 1];
    int rc = pg_begin(s, 0);
    if (rc != KS_OK)
        return rc;
    if ((rc = key_home(s, key_id, &seq, home)) == KS_OK && strcmp(home, account) == 0)
        rc = KS_ERR_INVALID;
    if (rc == KS_OK) {
        rc = grant_exists(s, seq, account);
        rc = rc == KS_OK ? KS_ERR_NAME_TAKEN : rc == KS_ERR_NOT_FOUND ? KS_OK : rc;
    }
    if (rc == KS_OK)
        rc = pg_roles_exist(s, account, roles);
    if (rc == KS_OK) {
        pg_params p = {0};
        pg_int(&p, seq);
        pg_text(&p, account);
        pg_int(&p, now);
        rc = pg_run(s, P_GRANT_INSERT, &p); /* NOT_FOUND: no such granting account */
    }
    if (rc == KS_OK)
        rc = pg_key_roles_write(s, seq, account, roles);
    if (rc == KS_OK)
        rc = pg_audit_insert(s, audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_KEY, home, key_id);
    return pg_end(s, rc);
}

int pg_external_update(ks_store *base, const char *account, const char *key_id,
                       const ks_strlist *roles, int status, const ks_audit_entry *audit)
{
    pg_store *s = (pg_store *)base;
    int64_t seq;
    char home[KS_ACCOUNT_MAX + 1];
    int rc = pg_begin(s, 0);
    if (rc != KS_OK)
        return rc;
    if ((rc = key_home(s, key_id, &seq, home)) == KS_OK)
        rc = grant_exists(s, seq, account);
    if (rc == KS_OK && roles && (rc = pg_roles_exist(s, account, roles)) == KS_OK)
        rc = pg_key_roles_write(s, seq, account, roles);
    if (rc == KS_OK && status >= 0) {
        pg_params p = {0};
        pg_int(&p, seq);
        pg_text(&p, account);
        pg_int(&p, status);
        rc = pg_run(s, P_GRANT_SET_ACTIVE, &p);
    }
    if (rc == KS_OK)
        rc = pg_audit_insert(s, audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_KEY, home, key_id);
    return pg_end(s, rc);
}

int pg_external_remove(ks_store *base, const char *account, const char *key_id,
                       const ks_audit_entry *audit)
{
    pg_store *s = (pg_store *)base;
    int64_t seq;
    char home[KS_ACCOUNT_MAX + 1];
    ks_strlist none = {0};
    int rc = pg_begin(s, 0);
    if (rc != KS_OK)
        return rc;
    if ((rc = key_home(s, key_id, &seq, home)) == KS_OK && (rc = grant_exists(s, seq, account)) == KS_OK)
        rc = pg_key_roles_write(s, seq, account, &none);
    if (rc == KS_OK) {
        pg_params p = {0};
        pg_int(&p, seq);
        pg_text(&p, account);
        rc = pg_run(s, P_GRANT_DELETE, &p);
    }
    if (rc == KS_OK)
        rc = pg_audit_insert(s, audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_KEY, home, key_id);
    return pg_end(s, rc);
}
