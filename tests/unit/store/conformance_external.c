/*
 * conformance_external.c - store conformance: external grants, keys of one
 * account given roles in another (external_list / add / update / remove),
 * and how they meet key_get, roles, key deletion and loading.
 *
 * Fixture: acme's keys 1 and 2 are the external keys; beta has the custom
 * roles "Reader" and "Writer", gamma has "Ops". Audit entries of grant calls
 * go to the granting account.
 */
#include <stdlib.h>

#include "conformance_util.h" /* brings unit.h, pointed at conf_jmp */

/* ------------------------------------------------------------ helpers */

typedef struct {
    ks_key *items;
    size_t n;
} key_set;

static void key_set_free(void *p)
{
    key_set *k = p;
    ks_keys_free(k->items, k->n);
    free(k);
}

/* external_list, or the test fails; freed after the test. */
static key_set *ext_list(const char *account)
{
    key_set *k = calloc(1, sizeof *k);
    if (!k)
        UNIT_FAIL("out of memory in test");
    int rc = store->ops->external_list(store, account, &k->items, &k->n);
    if (rc != KS_OK) {
        k->items = NULL;
        k->n = 0;
    }
    defer(k, key_set_free);
    if (rc != KS_OK)
        UNIT_FAIL("external_list(%s) = %d", account, rc);
    return k;
}

static int ext_add(const char *account, const char *key_id, const char *const *roles,
                   int64_t now)
{
    ks_strlist r = slist(roles);
    ks_audit_entry a = aud(account, "external.add", key_id);
    return store->ops->external_add(store, account, key_id, &r, now, &a);
}

/* roles NULL = keep, status -1 = keep. */
static int ext_update(const char *account, const char *key_id, const char *const *roles,
                      int status)
{
    ks_strlist r = {0};
    if (roles)
        r = slist(roles);
    ks_audit_entry a = aud(account, "external.update", key_id);
    return store->ops->external_update(store, account, key_id, roles ? &r : NULL, status, &a);
}

static int ext_remove(const char *account, const char *key_id)
{
    ks_audit_entry a = aud(account, "external.remove", key_id);
    return store->ops->external_remove(store, account, key_id, &a);
}

static int delete_role(const char *account, const char *name)
{
    ks_audit_entry a = aud(account, "role.delete", name);
    return store->ops->role_delete(store, account, name, &a);
}

/* The grant of `account` on the key, or the test fails. */
static const ks_grant *must_grant(const ks_key *k, const char *account)
{
    const ks_grant *g = ks_key_grant(k, account);
    if (!g)
        UNIT_FAIL("key %s has no grant of %s (%zu grants)", k->key_id, account, k->n_grants);
    return g;
}

/* acme (keys 1 "partner" with home role Reader, 2 "second"), beta (roles
 * Reader, Writer), gamma (role Ops). No grants yet. */
static void ext_fixture(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("gamma", 6, 1), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("acme.read")), KS_OK);
    ASSERT_EQ_INT(create_role("beta", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(create_role("beta", "Writer", R("orders.write")), KS_OK);
    ASSERT_EQ_INT(create_role("gamma", "Ops", R("ops:*")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "partner", R("Reader"), T0 + 1), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "second", R0, T0 + 2), KS_OK);
}

/* ============================================================== tests */

static void test_external_add_list_get(void)
{
    ext_fixture();
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2);
    ASSERT_EQ_INT(ext_list("beta")->n, 0);
    ASSERT_EQ_INT(must_get_key("acme", a1)->n_grants, 0);

    size_t before_beta = audit_count("beta"), before_acme = audit_count("acme");
    ASSERT_EQ_INT(ext_add("beta", a1, R("Reader"), T0 + 100), KS_OK);
    expect_audit("beta", before_beta, "external.add", a1);
    ASSERT_EQ_INT(ext_add("beta", a2, R("Reader", "Writer"), T0 + 200), KS_OK);
    expect_audit("beta", before_beta + 1, "external.add", a2);
    ASSERT_EQ_INT(ext_add("gamma", a1, R0, T0 + 300), KS_OK); /* a grant without roles */
    ASSERT_EQ_INT(audit_count("acme"), before_acme);

    /* key_get: the grants, ordered by account; the home record unchanged. */
    ks_key *k1 = must_get_key("acme", a1);
    ASSERT_EQ_INT(k1->n_grants, 2);
    ASSERT_EQ_STR(k1->grants[0].account, "beta");
    ASSERT_EQ_STR(k1->grants[1].account, "gamma");
    ASSERT_EQ_INT(k1->grants[0].active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(k1->grants[0].created_at, T0 + 100);
    ASSERT_SET(&k1->grants[0].roles, R("Reader"));
    ASSERT_EQ_INT(k1->grants[1].active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(k1->grants[1].created_at, T0 + 300);
    ASSERT_EQ_INT(k1->grants[1].roles.count, 0);
    ASSERT_EQ_STR(k1->account, "acme");
    ASSERT_SET(&k1->roles, R("Reader"));
    ks_key *k2 = must_get_key("acme", a2);
    ASSERT_EQ_INT(k2->n_grants, 1);
    ASSERT_SET(&must_grant(k2, "beta")->roles, R("Reader", "Writer"));
    ASSERT_EQ_INT(k2->roles.count, 0);

    /* external_list: full records, newest grant first. */
    key_set *b = ext_list("beta");
    ASSERT_EQ_INT(b->n, 2);
    ASSERT_EQ_STR(b->items[0].key_id, a2);
    ASSERT_EQ_STR(b->items[1].key_id, a1);
    ASSERT_EQ_STR(b->items[1].account, "acme");
    ASSERT_EQ_STR(b->items[1].name, "partner");
    ASSERT_EQ_INT(b->items[1].active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(b->items[1].created_at, T0 + 1);
    ASSERT_SET(&b->items[1].roles, R("Reader"));
    ks_digest t1 = tok(a1, 0);
    ASSERT_EQ_INT(b->items[1].slots.current.present, 1);
    ASSERT(digest_eq(&b->items[1].slots.current.hash, &t1));
    ASSERT_EQ_INT(b->items[1].n_grants, 2);
    ASSERT_SET(&must_grant(&b->items[1], "beta")->roles, R("Reader"));
    ASSERT_EQ_INT(must_grant(&b->items[1], "gamma")->created_at, T0 + 300);
    ASSERT_SET(&must_grant(&b->items[0], "beta")->roles, R("Reader", "Writer"));
    key_set *g = ext_list("gamma");
    ASSERT_EQ_INT(g->n, 1);
    ASSERT_EQ_STR(g->items[0].key_id, a1);
    ASSERT_EQ_INT(ext_list("acme")->n, 0);

    /* A granted key stays its home account's key: not in beta's key list. */
    ASSERT_EQ_INT(count_all("beta", NULL, -1, -1, T0), 1);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 3);
    int rc;
    ASSERT(get_key("beta", a1, &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
}

static void test_external_add_errors(void)
{
    ext_fixture();
    const char *a1 = kid("acme", 1);
    ASSERT_EQ_INT(ext_add("beta", a1, R("Reader"), T0 + 100), KS_OK);
    size_t before_acme = audit_count("acme"), before_beta = audit_count("beta");
    size_t before_gamma = audit_count("gamma");

    /* An unknown key. */
    ASSERT_EQ_INT(ext_add("beta", kid("acme", 99), R0, T0 + 200), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(ext_add("beta", kid("ghost", 1), R("Reader"), T0 + 200), KS_ERR_NOT_FOUND);
    /* The account's own key, the owner key included. */
    ASSERT_EQ_INT(ext_add("acme", a1, R0, T0 + 200), KS_ERR_INVALID);
    ASSERT_EQ_INT(ext_add("acme", kid("acme", 0), R("Reader"), T0 + 200), KS_ERR_INVALID);
    /* An unknown role: roles are the granting account's ("Reader" is acme's,
     * not gamma's), names are exact. */
    ASSERT_EQ_INT(ext_add("gamma", a1, R("Reader"), T0 + 200), KS_ERR_INVALID);
    ASSERT_EQ_INT(ext_add("gamma", a1, R("Ops", "ops"), T0 + 200), KS_ERR_INVALID);
    /* An existing grant, even with other roles. */
    ASSERT_EQ_INT(ext_add("beta", a1, R("Writer"), T0 + 200), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(ext_add("beta", a1, R("Reader"), T0 + 200), KS_ERR_NAME_TAKEN);

    /* Nothing written: no audit, the one grant as it was. */
    ASSERT_EQ_INT(audit_count("acme"), before_acme);
    ASSERT_EQ_INT(audit_count("beta"), before_beta);
    ASSERT_EQ_INT(audit_count("gamma"), before_gamma);
    ks_key *k = must_get_key("acme", a1);
    ASSERT_EQ_INT(k->n_grants, 1);
    ASSERT_EQ_INT(must_grant(k, "beta")->created_at, T0 + 100);
    ASSERT_SET(&must_grant(k, "beta")->roles, R("Reader"));
    ASSERT_EQ_INT(ext_list("gamma")->n, 0);
    ASSERT_EQ_INT(ext_list("acme")->n, 0);
    ASSERT_EQ_INT(ext_list("beta")->n, 1);
    /* The failed gamma grant left no role use behind. */
    ASSERT_EQ_INT(delete_role("gamma", "Ops"), KS_OK);
}

static void test_external_unknown_account(void)
{
    ext_fixture();
    const char *a1 = kid("acme", 1);
    /* store.h: KS_ERR_NOT_FOUND for no such account; nothing written. */
    int rc = ext_add("ghost", a1, R0, T0 + 100);
    size_t audits = audit_count("ghost");
    size_t grants = must_get_key("acme", a1)->n_grants;
    ASSERT_EQ_INT(ext_update("ghost", a1, R0, 0), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(ext_remove("ghost", a1), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audits, 0);
    ASSERT_EQ_INT(grants, 0);
    ASSERT_EQ_INT(audit_count("ghost"), 0);
    if (rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("external_add in unknown account \"ghost\" (no roles) = %d, want "
                  "KS_ERR_NOT_FOUND (%d)", rc, KS_ERR_NOT_FOUND);
}

static void test_external_update(void)
{
    ext_fixture();
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2);
    ASSERT_EQ_INT(ext_add("beta", a1, R("Reader"), T0 + 100), KS_OK);
    ASSERT_EQ_INT(ext_add("gamma", a1, R("Ops"), T0 + 150), KS_OK);

    /* Roles only. */
    size_t before = audit_count("beta");
    ASSERT_EQ_INT(ext_update("beta", a1, R("Writer", "Reader"), -1), KS_OK);
    expect_audit("beta", before, "external.update", a1);
    ks_key *k = must_get_key("acme", a1);
    const ks_grant *g = must_grant(k, "beta");
    ASSERT_SET(&g->roles, R("Writer", "Reader"));
    ASSERT_EQ_INT(g->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(g->created_at, T0 + 100);
    ASSERT_SET(&must_grant(k, "gamma")->roles, R("Ops")); /* other grants untouched */
    ASSERT_SET(&k->roles, R("Reader"));                    /* and the home roles */

    /* Status only. */
    ASSERT_EQ_INT(ext_update("beta", a1, NULL, KS_KEY_INACTIVE), KS_OK);
    expect_audit("beta", before + 1, "external.update", a1);
    g = must_grant(must_get_key("acme", a1), "beta");
    ASSERT_EQ_INT(g->active, KS_KEY_INACTIVE);
    ASSERT_SET(&g->roles, R("Writer", "Reader"));
    ASSERT_EQ_INT(must_grant(must_get_key("acme", a1), "gamma")->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(must_get_key("acme", a1)->active, KS_KEY_ACTIVE);
    key_set *l = ext_list("beta"); /* an inactive grant is still listed */
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_INT(must_grant(&l->items[0], "beta")->active, KS_KEY_INACTIVE);

    /* Both; then no roles at all (the grant stays). */
    ASSERT_EQ_INT(ext_update("beta", a1, R("Reader"), KS_KEY_ACTIVE), KS_OK);
    g = must_grant(must_get_key("acme", a1), "beta");
    ASSERT_EQ_INT(g->active, KS_KEY_ACTIVE);
    ASSERT_SET(&g->roles, R("Reader"));
    ASSERT_EQ_INT(ext_update("beta", a1, R0, -1), KS_OK);
    g = must_grant(must_get_key("acme", a1), "beta");
    ASSERT_EQ_INT(g->roles.count, 0);
    ASSERT_EQ_INT(g->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(audit_count("beta"), before + 4);
    ASSERT_EQ_INT(ext_update("beta", a1, R("Reader"), -1), KS_OK);

    /* Errors change nothing and write no audit. */
    before = audit_count("beta");
    size_t before_acme = audit_count("acme"), before_gamma = audit_count("gamma");
    ASSERT_EQ_INT(ext_update("beta", a2, R("Reader"), -1), KS_ERR_NOT_FOUND); /* no grant */
    ASSERT_EQ_INT(ext_update("beta", kid("acme", 99), NULL, 0), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(ext_update("acme", a1, NULL, 0), KS_ERR_NOT_FOUND); /* its own account */
    ASSERT_EQ_INT(ext_update("beta", a1, R("Writer", "Nope"), KS_KEY_INACTIVE), KS_ERR_INVALID);
    ASSERT_EQ_INT(ext_update("beta", a1, R("Ops"), -1), KS_ERR_INVALID); /* gamma's role */
    ASSERT_EQ_INT(audit_count("beta"), before);
    ASSERT_EQ_INT(audit_count("acme"), before_acme);
    ASSERT_EQ_INT(audit_count("gamma"), before_gamma);
    k = must_get_key("acme", a1);
    ASSERT_EQ_INT(k->n_grants, 2);
    g = must_grant(k, "beta");
    ASSERT_EQ_INT(g->active, KS_KEY_ACTIVE);
    ASSERT_SET(&g->roles, R("Reader"));
    ASSERT_EQ_INT(must_get_key("acme", a2)->n_grants, 0);
}

static void test_external_remove(void)
{
    ext_fixture();
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2);
    ASSERT_EQ_INT(ext_add("beta", a1, R("Reader"), T0 + 100), KS_OK);
    ASSERT_EQ_INT(ext_add("gamma", a1, R("Ops"), T0 + 150), KS_OK);
    ASSERT_EQ_INT(ext_add("beta", a2, R("Writer"), T0 + 160), KS_OK);

    size_t before = audit_count("beta");
    ASSERT_EQ_INT(ext_remove("beta", a1), KS_OK);
    expect_audit("beta", before, "external.remove", a1);
    ks_key *k = must_get_key("acme", a1);
    ASSERT_EQ_INT(k->n_grants, 1);
    ASSERT_EQ_STR(k->grants[0].account, "gamma");
    ASSERT_SET(&k->grants[0].roles, R("Ops"));
    ASSERT_SET(&k->roles, R("Reader"));
    key_set *l = ext_list("beta");
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->items[0].key_id, a2);
    ASSERT_EQ_INT(ext_list("gamma")->n, 1);
    /* Its roles went with it: beta's Reader is no longer in use. */
    ASSERT_EQ_INT(delete_role("beta", "Reader"), KS_OK);

    /* Errors: no grant (any more), unknown key, the key's own account. */
    before = audit_count("beta");
    size_t before_acme = audit_count("acme");
    ASSERT_EQ_INT(ext_remove("beta", a1), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(ext_remove("beta", kid("acme", 99)), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(ext_remove("acme", a1), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("beta"), before);
    ASSERT_EQ_INT(audit_count("acme"), before_acme);
    ASSERT_EQ_INT(must_get_key("acme", a1)->n_grants, 1);
    ASSERT_EQ_INT(must_get_key("acme", a2)->n_grants, 1);

    /* Granted again: a new grant. */
    ASSERT_EQ_INT(ext_add("beta", a1, R("Writer"), T0 + 900), KS_OK);
    const ks_grant *g = must_grant(must_get_key("acme", a1), "beta");
    ASSERT_EQ_INT(g->created_at, T0 + 900);
    ASSERT_SET(&g->roles, R("Writer"));
    l = ext_list("beta");
    ASSERT_EQ_INT(l->n, 2);
    ASSERT_EQ_STR(l->items[0].key_id, a1); /* the newest grant */
}

static void test_external_roles(void)
{
    ext_fixture();
    const char *a1 = kid("acme", 1);
    ASSERT_EQ_INT(ext_add("beta", a1, R("Reader"), T0 + 100), KS_OK);

    /* A granted role cannot be deleted. */
    size_t before = audit_count("beta");
    ASSERT_EQ_INT(delete_role("beta", "Reader"), KS_ERR_ROLE_IN_USE);
    ASSERT_EQ_INT(audit_count("beta"), before);
    ASSERT(find_role(get_roles("beta", NULL), "Reader") != NULL);
    ASSERT_EQ_INT(delete_role("beta", "Writer"), KS_OK); /* one not granted can */

    /* A rename renames it inside the grant, not the home role of that name. */
    ASSERT_EQ_INT(update_role("beta", "Reader", "Viewer", NULL), KS_OK);
    ks_key *k = must_get_key("acme", a1);
    ASSERT_SET(&must_grant(k, "beta")->roles, R("Viewer"));
    ASSERT_SET(&k->roles, R("Reader"));
    key_set *l = ext_list("beta");
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_SET(&must_grant(&l->items[0], "beta")->roles, R("Viewer"));
    ASSERT_EQ_INT(delete_role("beta", "Viewer"), KS_ERR_ROLE_IN_USE);
    /* A rename in the home account leaves the grant alone. */
    ASSERT_EQ_INT(update_role("acme", "Reader", "Auditor", NULL), KS_OK);
    k = must_get_key("acme", a1);
    ASSERT_SET(&k->roles, R("Auditor"));
    ASSERT_SET(&must_grant(k, "beta")->roles, R("Viewer"));

    /* Once the grant no longer names it, it can go. */
    ASSERT_EQ_INT(ext_update("beta", a1, R0, -1), KS_OK);
    ASSERT_EQ_INT(delete_role("beta", "Viewer"), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", a1)->n_grants, 1);
}

static void test_external_key_delete(void)
{
    ext_fixture();
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2);
    ASSERT_EQ_INT(ext_add("beta", a1, R("Reader"), T0 + 100), KS_OK);
    ASSERT_EQ_INT(ext_add("gamma", a1, R("Ops"), T0 + 150), KS_OK);
    ASSERT_EQ_INT(ext_add("beta", a2, R("Writer"), T0 + 160), KS_OK);

    ks_audit_entry a = aud("acme", "key.delete", a1);
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", a1, &a), KS_OK);
    key_set *l = ext_list("beta");
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->items[0].key_id, a2);
    ASSERT_EQ_INT(ext_list("gamma")->n, 0);
    ASSERT_EQ_INT(ext_update("beta", a1, R0, -1), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(ext_remove("gamma", a1), KS_ERR_NOT_FOUND);
    /* The roles it held there are free. */
    ASSERT_EQ_INT(delete_role("beta", "Reader"), KS_OK);
    ASSERT_EQ_INT(delete_role("gamma", "Ops"), KS_OK);
    ASSERT_EQ_INT(delete_role("beta", "Writer"), KS_ERR_ROLE_IN_USE); /* a2's */

    /* A new key with the same id starts without grants. */
    ASSERT_EQ_INT(put_key("acme", 1, "reborn", R0, T0 + 500), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", a1)->n_grants, 0);
    ASSERT_EQ_INT(ext_list("beta")->n, 1);
}

static void test_external_load(void)
{
    ext_fixture();
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2);
    ASSERT_EQ_INT(ext_add("beta", a1, R("Reader", "Writer"), T0 + 100), KS_OK);
    ASSERT_EQ_INT(ext_add("gamma", a1, R("Ops"), T0 + 150), KS_OK);
    ASSERT_EQ_INT(ext_update("gamma", a1, NULL, KS_KEY_INACTIVE), KS_OK);

    /* load_all: every key once, under its home account, with its grants. */
    collector *c = new_collector();
    ks_store_loader loader = {c, collect_account, collect_key};
    ASSERT_EQ_INT(store->ops->load_all(store, &loader), KS_OK);
    ASSERT(!c->overflow);
    ASSERT_EQ_INT(c->n_accounts, 3);
    ASSERT_EQ_INT(c->n_keys, 5);
    const ks_key *k = loaded_find_key(c, a1);
    ASSERT(k != NULL);
    ASSERT_EQ_STR(k->account, "acme");
    ASSERT_SET(&k->roles, R("Reader"));
    ASSERT_EQ_INT(k->n_grants, 2);
    const ks_grant *g = must_grant(k, "beta");
    ASSERT_EQ_INT(g->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(g->created_at, T0 + 100);
    ASSERT_SET(&g->roles, R("Reader", "Writer"));
    g = must_grant(k, "gamma");
    ASSERT_EQ_INT(g->active, KS_KEY_INACTIVE);
    ASSERT_EQ_INT(g->created_at, T0 + 150);
    ASSERT_SET(&g->roles, R("Ops"));
    ASSERT_EQ_INT(loaded_find_key(c, a2)->n_grants, 0);

    /* load_account of a granting account: its own keys and the keys granted
     * there (inactive grants too), with their home account and roles. */
    collector *b = new_collector();
    loader.ctx = b;
    ASSERT_EQ_INT(store->ops->load_account(store, "beta", &loader), KS_OK);
    ASSERT_EQ_INT(b->n_accounts, 1);
    ASSERT_EQ_STR(b->accounts[0].account, "beta");
    ASSERT_EQ_INT(b->n_keys, 2);
    ASSERT(loaded_find_key(b, kid("beta", 0)) != NULL);
    ASSERT(loaded_find_key(b, a2) == NULL);
    k = loaded_find_key(b, a1);
    ASSERT(k != NULL);
    ASSERT_EQ_STR(k->account, "acme");
    ASSERT_EQ_STR(k->name, "partner");
    ASSERT_SET(&k->roles, R("Reader"));
    ASSERT_SET(&must_grant(k, "beta")->roles, R("Reader", "Writer"));
    ks_digest t1 = tok(a1, 0);
    ASSERT(digest_eq(&k->slots.current.hash, &t1));

    collector *gm = new_collector();
    loader.ctx = gm;
    ASSERT_EQ_INT(store->ops->load_account(store, "gamma", &loader), KS_OK);
    ASSERT_EQ_INT(gm->n_keys, 2);
    k = loaded_find_key(gm, a1);
    ASSERT(k != NULL);
    ASSERT_EQ_INT(must_grant(k, "gamma")->active, KS_KEY_INACTIVE);

    /* The home account loads the key once, with its grants. */
    collector *h = new_collector();
    loader.ctx = h;
    ASSERT_EQ_INT(store->ops->load_account(store, "acme", &loader), KS_OK);
    ASSERT_EQ_INT(h->n_keys, 3);
    k = loaded_find_key(h, a1);
    ASSERT(k != NULL);
    ASSERT_EQ_INT(k->n_grants, 2);

    /* A removed grant no longer brings the key in. */
    ASSERT_EQ_INT(ext_remove("beta", a1), KS_OK);
    collector *b2 = new_collector();
    loader.ctx = b2;
    ASSERT_EQ_INT(store->ops->load_account(store, "beta", &loader), KS_OK);
    ASSERT_EQ_INT(b2->n_keys, 1);
    ASSERT(loaded_find_key(b2, a1) == NULL);
}

const conf_test conf_tests_external[] = {
    CONF_TEST(test_external_add_list_get),
    CONF_TEST(test_external_add_errors),
    CONF_TEST(test_external_unknown_account),
    CONF_TEST(test_external_update),
    CONF_TEST(test_external_remove),
    CONF_TEST(test_external_roles),
    CONF_TEST(test_external_key_delete),
    CONF_TEST(test_external_load),
    {NULL, NULL},
};
