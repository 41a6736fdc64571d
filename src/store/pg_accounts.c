/*
 * pg_accounts.c - accounts, settings and the verify index load in the
 * PostgreSQL backend. Every write is one transaction with
 * its audit entry and change-log row (pg_internal.h); loads read one
 * REPEATABLE READ snapshot, so the index never mixes two moments.
 */
#include "store/pg_internal.h"
#include "store/store_common.h"
#include "core/error.h"
#include "core/roles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_PAGE 2000 /* keys per page of the index load */

struct account_args {
    const char *account;
    const ks_settings *settings;
    const ks_key *owner;           /* create: NULL = no first key */
    const ks_audit_entry *audit;
};

/* The settings after the duration as parameters: the two of the sweeps
 * (auto-delete off: NULL), then leaked_token_action. */
static void settings_params_add(pg_params *p, const ks_settings *st)
{
    if (st->auto_delete_old_token_hours > 0)
        pg_int(p, st->auto_delete_old_token_hours);
    else
        pg_text(p, NULL);
    pg_int(p, st->renewal_notice_days);
    pg_text(p, ks_leaked_token_action_name(st->leaked_token_action));
}

/* The rows of pg_account_create: the account, its built-in roles, the owner
 * key; NAME_TAKEN for an existing account. */
static int account_create_in_tx(pg_store *s, void *arg)
{
    const struct account_args *a = arg;
    pg_params p = {0};
    pg_text(&p, a->account);
    pg_int(&p, a->settings->token_duration_months);
    pg_int(&p, a->settings->enforce_duration);
    pg_int(&p, a->owner ? a->owner->created_at : (a->audit ? a->audit->at : 0));
    settings_params_add(&p, a->settings);
    int rc = pg_run(s, P_ACCOUNT_INSERT, &p);
    size_t n_builtin;
    const ks_builtin_role *builtin = ks_builtin_roles(&n_builtin);
    for (size_t i = 0; rc == KS_OK && i < n_builtin; i++)
        rc = pg_role_insert_tx(s, a->account, builtin[i].name, builtin[i].resources, builtin[i].n_resources, 1);
    if (rc == KS_OK && a->owner)
        rc = pg_key_insert_tx(s, a->owner);
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_ACCOUNT_KEYS, a->account, NULL);
    return rc;
}

int pg_account_create(ks_store *base, const char *account, const ks_settings *settings,
                      const ks_key *owner, const ks_audit_entry *audit)
{
    struct account_args a = {account, settings, owner, audit};
    return pg_write_tx((pg_store *)base, account_create_in_tx, &a);
}

int pg_settings_get_tx(pg_store *s, const char *account, ks_settings *out)
{
    pg_params p = {0};
    pg_text(&p, account);
    int rc;
    PGresult *r = pg_exec(s, P_ACCOUNT_GET, &p, &rc);
    if (!r)
        return rc;
    if (PQntuples(r) == 1) {
        out->token_duration_months = (int)pg_get_int(r, 0, 0);
        out->enforce_duration = (int)pg_get_int(r, 0, 1);
        out->auto_delete_old_token_hours = (int)pg_get_int(r, 0, 2); /* NULL reads as 0: off */
        out->renewal_notice_days = (int)pg_get_int(r, 0, 3);
        char action[16];
        pg_get_str(r, 0, 4, action, sizeof action);
        out->leaked_token_action = ks_leaked_token_action_parse(action) == KS_LEAKED_REVOKE ? KS_LEAKED_REVOKE
                                                                                            : KS_LEAKED_ALERT;
        out->deactivate_unused_days = (int)pg_get_int(r, 0, 5); /* NULL reads as 0: off */
    } else {
        rc = KS_ERR_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

struct settings_get_args {
    const char *account;
    ks_settings *out;
};

static int settings_get_in_tx(pg_store *s, void *arg)
{
    struct settings_get_args *a = arg;
    return pg_settings_get_tx(s, a->account, a->out);
}

int pg_settings_get(ks_store *base, const char *account, ks_settings *out)
{
    struct settings_get_args a = {account, out};
    return pg_read_tx((pg_store *)base, settings_get_in_tx, &a);
}

/* The update of pg_settings_put: NOT_FOUND for no such account. */
static int settings_put_in_tx(pg_store *s, void *arg)
{
    const struct account_args *a = arg;
    pg_params p = {0};
    pg_text(&p, a->account);
    pg_int(&p, a->settings->token_duration_months);
    pg_int(&p, a->settings->enforce_duration);
    settings_params_add(&p, a->settings);
    if (a->settings->deactivate_unused_days > 0)
        pg_int(&p, a->settings->deactivate_unused_days);
    else
        pg_text(&p, NULL);
    int rc;
    PGresult *r = pg_exec(s, P_ACCOUNT_PUT, &p, &rc);
    if (r && pg_changed(r) == 0)
        rc = KS_ERR_NOT_FOUND;
    PQclear(r);
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_ACCOUNT, a->account, NULL);
    return rc;
}

int pg_settings_put(ks_store *base, const char *account, const ks_settings *settings,
                    const ks_audit_entry *audit)
{
    struct account_args a = {account, settings, NULL, audit};
    return pg_write_tx((pg_store *)base, settings_put_in_tx, &a);
}

/* ---- loading the index ---- */

/* The reads the neutral account load (store_common.c) makes, in the
 * load's snapshot. */
static int prim_settings_get(ks_store *base, const char *account, ks_settings *out)
{
    return pg_settings_get_tx((pg_store *)base, account, out);
}

static int prim_role_list(ks_store *base, const char *account, ks_role **out, size_t *n)
{
    return pg_role_list_tx((pg_store *)base, account, out, n);
}

static const ks_store_prims PRIMS = {.settings_get = prim_settings_get, .role_list = prim_role_list};

struct load_args {
    ks_store *base;
    const char *account;           /* pg_load_account: the one account */
    const ks_store_loader *loader;
};

/* One account and its keys, in the load's snapshot. */
static int load_account_in_tx(pg_store *s, void *arg)
{
    const struct load_args *a = arg;
    int rc = ks_store_load_one_account(a->base, &PRIMS, a->account, a->loader);
    if (rc == KS_OK && a->loader->on_key)
        rc = pg_load_keys(s, a->account, a->loader);
    return rc;
}

int pg_load_account(ks_store *base, const char *account, const ks_store_loader *loader)
{
    struct load_args a = {base, account, loader};
    return pg_read_tx((pg_store *)base, load_account_in_tx, &a);
}

/* Every account, then every key, in the load's snapshot. */
static int load_all_in_tx(pg_store *s, void *arg)
{
    const struct load_args *a = arg;
    int rc;
    PGresult *r = pg_exec(s, P_ACCOUNT_LIST, NULL, &rc);
    for (int i = 0; rc == KS_OK && i < PQntuples(r); i++)
        rc = ks_store_load_one_account(a->base, &PRIMS, PQgetvalue(r, i, 0), a->loader);
    PQclear(r);
    if (rc == KS_OK)
        rc = pg_load_keys(s, NULL, a->loader);
    return rc;
}

int pg_load_all(ks_store *base, const ks_store_loader *loader)
{
    struct load_args a = {base, NULL, loader};
    return pg_read_tx((pg_store *)base, load_all_in_tx, &a);
}

/* The rows of one page of the load, walked together in key seq order. */
typedef struct {
    PGresult *keys, *tokens, *roles, *grants;
    int t, r, g; /* next row of each */
} load_page;

/* Builds key row i of the page (tokens, grants, roles) and hands it over. */
static int load_page_key(load_page *pg, int i, const ks_store_loader *loader)
{
    ks_key key = {0};
    key.seq = pg_get_int(pg->keys, i, 0);
    pg_get_str(pg->keys, i, 1, key.key_id, sizeof key.key_id);
    pg_get_str(pg->keys, i, 2, key.account, sizeof key.account);
    key.active = (int)pg_get_int(pg->keys, i, 4);
    key.created_at = pg_get_int(pg->keys, i, 5);
    int rc = pg_key_limits_from_row(pg->keys, i, 6, &key);
    for (; pg->t < PQntuples(pg->tokens) && pg_get_int(pg->tokens, pg->t, 0) <= key.seq; pg->t++)
        if (pg_get_int(pg->tokens, pg->t, 0) == key.seq)
            pg_token_from_row(pg->tokens, pg->t, 2,
                           pg_get_int(pg->tokens, pg->t, 1) == 0 ? &key.slots.current : &key.slots.old);
    for (; rc == KS_OK && pg->g < PQntuples(pg->grants) && pg_get_int(pg->grants, pg->g, 0) <= key.seq; pg->g++) {
        if (pg_get_int(pg->grants, pg->g, 0) != key.seq)
            continue;
        ks_grant *g = ks_key_add_grant(&key, PQgetvalue(pg->grants, pg->g, 1));
        if (!g) {
            rc = KS_ERR_NOMEM;
            break;
        }
        g->active = (int)pg_get_int(pg->grants, pg->g, 2);
        g->created_at = pg_get_int(pg->grants, pg->g, 3);
    }
    for (; rc == KS_OK && pg->r < PQntuples(pg->roles) && pg_get_int(pg->roles, pg->r, 0) <= key.seq; pg->r++) {
        if (pg_get_int(pg->roles, pg->r, 0) != key.seq)
            continue;
        const char *in = PQgetvalue(pg->roles, pg->r, 1), *role = PQgetvalue(pg->roles, pg->r, 2);
        ks_grant *g = (ks_grant *)ks_key_grant(&key, in);
        if (strcmp(in, key.account) == 0)
            rc = ks_strlist_add(&key.roles, role);
        else if (g)
            rc = ks_strlist_add(&g->roles, role);
    }
    if (rc == KS_OK && loader->on_key)
        rc = loader->on_key(loader->ctx, &key);
    ks_key_free(&key);
    return rc;
}

/* Keys in pages of LOAD_PAGE: each page is four queries (keys, then the
 * tokens, roles and grants of that seq range), merged in one pass. */
int pg_load_keys(pg_store *s, const char *account, const ks_store_loader *loader)
{
    int64_t after = 0;
    int rc = KS_OK;
    for (;;) {
        load_page pg = {0};
        pg_params p = {0};
        pg_text(&p, account);
        pg_int(&p, after);
        pg_int(&p, LOAD_PAGE);
        if (!(pg.keys = pg_exec(s, P_LOAD_KEYS, &p, &rc)))
            return rc;
        int n = PQntuples(pg.keys);
        if (n > 0) {
            pg_params q = {0};
            pg_text(&q, account);
            pg_int(&q, after);
            pg_int(&q, pg_get_int(pg.keys, n - 1, 0));
            if ((pg.tokens = pg_exec(s, P_LOAD_TOKENS, &q, &rc)) &&
                (pg.roles = pg_exec(s, P_LOAD_KEY_ROLES, &q, &rc)) &&
                (pg.grants = pg_exec(s, P_LOAD_GRANTS, &q, &rc)))
                for (int i = 0; rc == KS_OK && i < n; i++)
                    rc = load_page_key(&pg, i, loader);
            after = pg_get_int(pg.keys, n - 1, 0);
        }
        PQclear(pg.keys);
        PQclear(pg.tokens);
        PQclear(pg.roles);
        PQclear(pg.grants);
        if (rc != KS_OK || n < LOAD_PAGE)
            return rc;
    }
}
