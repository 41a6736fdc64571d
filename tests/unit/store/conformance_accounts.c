/*
 * conformance_accounts.c - store conformance: accounts, settings, roles and
 * the audit log (see conformance_util.h for the conventions).
 */
#include <stdlib.h>

#include "conformance_util.h" /* brings unit.h, pointed at conf_jmp */

/* ============================================================ accounts */

static void test_account_create(void)
{
    ASSERT_EQ_INT(make_account("acme", 6, 1), KS_OK);
    ks_settings st = {0};
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &st), KS_OK);
    ASSERT_EQ_INT(st.token_duration_months, 6);
    ASSERT_EQ_INT(st.enforce_duration, 1);

    /* Built-in roles present, flagged builtin, with their resources. */
    int rc;
    role_set *roles = get_roles("acme", &rc);
    ASSERT_EQ_INT(rc, KS_OK);
    ASSERT_EQ_INT(roles->n, 2);
    const ks_role *owner = find_role(roles, "Owner");
    const ks_role *admin = find_role(roles, "User Administrator - RESTRICTED");
    ASSERT(owner && admin);
    ASSERT(owner->builtin);
    ASSERT(admin->builtin);
    ASSERT_SET(&owner->resources, R("view-api-keys", "edit-api-keys", "renew-api-token",
                                    "edit-api-keys-settings", "edit-roles", "view-audit-log",
                                    "edit-users", "edit-webhooks"));
    ASSERT_SET(&admin->resources,
               R("view-api-keys", "edit-api-keys", "renew-api-token", "edit-api-keys-settings", "edit-users"));

    /* The owner key reads back whole. */
    ks_key *k = must_get_key("acme", kid("acme", 0));
    ASSERT_EQ_STR(k->key_id, kid("acme", 0));
    ASSERT_EQ_STR(k->account, "acme");
    ASSERT_EQ_STR(k->name, "Owner key");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(k->created_at, T0);
    ASSERT(k->seq > 0);
    ASSERT_EQ_INT(k->slots.current.present, 1);
    ks_digest d0 = tok(kid("acme", 0), 0);
    ASSERT(digest_eq(&k->slots.current.hash, &d0));
    ASSERT_EQ_INT(k->slots.current.created_at, T0);
    ASSERT_EQ_INT(k->slots.current.last_used_at, 0);
    ASSERT_EQ_INT(k->slots.old.present, 0);
    ASSERT_SET(&k->roles, R("Owner"));

    /* Its audit entry. */
    audit_set *a = get_audit("acme", 100);
    ASSERT_EQ_INT(a->n, 1);
    ASSERT_EQ_STR(a->items[0].action, "account.create");
    ASSERT_EQ_STR(a->items[0].target, "acme");
    ASSERT_EQ_STR(a->items[0].actor, "cli");
    ASSERT_EQ_INT(a->items[0].at, T0 + audit_clock);
}

static void test_account_create_name_taken(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    size_t audits = audit_count("acme");
    ks_settings st = {.token_duration_months = 6, .enforce_duration = 1, .renewal_notice_days = 14};
    ks_key owner;
    key_build(&owner, "acme", 77, "Second owner", R("Owner"), T0 + DAY);
    ks_audit_entry a = aud("acme", "account.create", "acme");
    ASSERT_EQ_INT(store->ops->account_create(store, "acme", &st, &owner, &a), KS_ERR_NAME_TAKEN);
    /* Nothing of the second attempt was written. */
    int rc;
    ASSERT(get_key("acme", kid("acme", 77), &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ks_settings got;
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.token_duration_months, 3);
    ASSERT_EQ_INT(got.enforce_duration, 0);
    ASSERT_EQ_INT(audit_count("acme"), audits);
    ASSERT_EQ_INT(get_roles("acme", NULL)->n, 2);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 1);
}

/* After a failed account_create of `account`, nothing of it exists. */
static void assert_no_account(const char *account, const char *owner_id)
{
    ks_settings st;
    ASSERT_EQ_INT(store->ops->settings_get(store, account, &st), KS_ERR_NOT_FOUND);
    int rc;
    ASSERT(get_key(account, owner_id, &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    role_set *roles = get_roles(account, &rc);
    ASSERT(rc == KS_OK || rc == KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(roles->n, 0);
    ASSERT_EQ_INT(audit_count(account), 0);
}

static void test_account_create_rollback(void)
{
    /* 1. The owner key names a role that does not exist: INVALID, no trace. */
    ks_settings st = {.token_duration_months = 3, .enforce_duration = 0, .renewal_notice_days = 14};
    ks_key owner;
    key_build(&owner, "acme", 0, "Owner key", R("Owner", "No such role"), T0);
    ks_audit_entry a = aud("acme", "account.create", "acme");
    ASSERT_EQ_INT(store->ops->account_create(store, "acme", &st, &owner, &a), KS_ERR_INVALID);
    assert_no_account("acme", kid("acme", 0));

    /* 2. The owner key id is already taken (by a key of another account):
     *    the account row and its built-in roles written before must go too. */
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    key_build(&owner, "acme", 0, "Owner key", R("Owner"), T0);
    snprintf(owner.key_id, sizeof owner.key_id, "%s", kid("beta", 0));
    snprintf(owner.account, sizeof owner.account, "acme");
    a = aud("acme", "account.create", "acme");
    ASSERT(store->ops->account_create(store, "acme", &st, &owner, &a) != KS_OK);
    assert_no_account("acme", kid("acme", 0));
    /* beta's key is untouched. */
    ks_key *b = must_get_key("beta", kid("beta", 0));
    ASSERT_EQ_STR(b->name, "Owner key");

    /* 3. The name is free again: a correct create works, with 2 roles only. */
    ASSERT_EQ_INT(make_account("acme", 6, 0), KS_OK);
    ASSERT_EQ_INT(get_roles("acme", NULL)->n, 2);
    ASSERT_EQ_INT(audit_count("acme"), 1);
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &st), KS_OK);
    ASSERT_EQ_INT(st.token_duration_months, 6);
}

static void test_accounts_are_isolated(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 6, 1), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "acme one", R("Owner"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "beta one", R0, T0), KS_OK);
    int rc;
    ASSERT(get_key("beta", kid("acme", 1), &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT(get_key("acme", kid("beta", 0), &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 2);
    ASSERT_EQ_INT(count_all("beta", NULL, -1, -1, T0), 2);
    ks_settings st;
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &st), KS_OK);
    ASSERT_EQ_INT(st.token_duration_months, 3);
    ASSERT_EQ_INT(st.enforce_duration, 0);
    ASSERT_EQ_INT(store->ops->settings_get(store, "beta", &st), KS_OK);
    ASSERT_EQ_INT(st.token_duration_months, 6);
    ASSERT_EQ_INT(st.enforce_duration, 1);
    ASSERT_EQ_INT(audit_count("acme"), 2);
    ASSERT_EQ_INT(audit_count("beta"), 2);
}

/* ============================================================ settings */

static void test_settings_get_put(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    size_t before = audit_count("acme");
    ks_settings want = {.token_duration_months = 6, .enforce_duration = 1, .renewal_notice_days = 14};
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &want, &a), KS_OK);
    expect_audit("acme", before, "settings.update", "acme");
    ks_settings got = {0};
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.token_duration_months, 6);
    ASSERT_EQ_INT(got.enforce_duration, 1);
    /* The other account is untouched. */
    ASSERT_EQ_INT(store->ops->settings_get(store, "beta", &got), KS_OK);
    ASSERT_EQ_INT(got.token_duration_months, 3);
    ASSERT_EQ_INT(got.enforce_duration, 0);
    /* And back. */
    want.token_duration_months = 3;
    want.enforce_duration = 0;
    a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &want, &a), KS_OK);
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.token_duration_months, 3);
    ASSERT_EQ_INT(got.enforce_duration, 0);
    ASSERT_EQ_INT(audit_count("acme"), before + 2);
}

static void test_settings_unknown_account(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_settings got = {0};
    ASSERT_EQ_INT(store->ops->settings_get(store, "ghost", &got), KS_ERR_NOT_FOUND);
    ks_settings want = {.token_duration_months = 6, .enforce_duration = 1, .renewal_notice_days = 14};
    ks_audit_entry a = aud("ghost", "settings.update", "ghost");
    ASSERT_EQ_INT(store->ops->settings_put(store, "ghost", &want, &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("ghost"), 0); /* a failed write writes no audit */
    ASSERT_EQ_INT(store->ops->settings_get(store, "ghost", &got), KS_ERR_NOT_FOUND);
}

/* ================================================================ roles */

static void test_role_create_list(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read", "orders.list")), KS_OK);
    expect_audit("acme", before, "role.create", "Reader");
    ASSERT_EQ_INT(create_role("acme", "Nothing", R0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Caf\xc3\xa9 \xe2\x80\x94 ops", R("ops:*")), KS_OK);
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 5);
    const ks_role *r = find_role(roles, "Reader");
    ASSERT(r != NULL);
    ASSERT_EQ_INT(r->builtin, 0);
    ASSERT_SET(&r->resources, R("orders.read", "orders.list"));
    r = find_role(roles, "Nothing");
    ASSERT(r != NULL);
    ASSERT_EQ_INT(r->resources.count, 0);
    r = find_role(roles, "Caf\xc3\xa9 \xe2\x80\x94 ops");
    ASSERT(r != NULL);
    ASSERT_SET(&r->resources, R("ops:*"));
    ASSERT(find_role(roles, "Owner")->builtin);
    /* The same name in another account is another role. */
    ASSERT_EQ_INT(get_roles("beta", NULL)->n, 2);
    ASSERT_EQ_INT(create_role("beta", "Reader", R("stock.read")), KS_OK);
    ASSERT_SET(&find_role(get_roles("beta", NULL), "Reader")->resources, R("stock.read"));
    ASSERT_SET(&find_role(get_roles("acme", NULL), "Reader")->resources,
               R("orders.read", "orders.list"));
}

static void test_role_create_name_taken(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(create_role("acme", "Reader", R("other.thing")), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(create_role("acme", "Owner", R("x")), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(create_role("acme", "User Administrator - RESTRICTED", R0), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(audit_count("acme"), before);
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 3);
    ASSERT_SET(&find_role(roles, "Reader")->resources, R("orders.read"));
    ASSERT_EQ_INT(find_role(roles, "Owner")->resources.count, 8);
    ASSERT_EQ_INT(find_role(roles, "User Administrator - RESTRICTED")->resources.count, 5);
    ASSERT(!ks_strlist_contains(&find_role(roles, "Owner")->resources, "x"));
}

static void test_role_create_unknown_account(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    /* store.h: KS_ERR_NOT_FOUND for no such account. */
    int rc = create_role("ghost", "Reader", R("orders.read"));
    size_t audits = audit_count("ghost");
    int rc_list;
    role_set *roles = get_roles("ghost", &rc_list);
    ASSERT_EQ_INT(audits, 0);
    ASSERT_EQ_INT(roles->n, 0);
    if (rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("role_create in unknown account \"ghost\" = %d, want KS_ERR_NOT_FOUND (%d)", rc,
                  KS_ERR_NOT_FOUND);
}

static void test_role_update(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(create_role("beta", "Reader", R("stock.read")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "holder", R("Reader", "Owner"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "beta holder", R("Reader"), T0), KS_OK);

    /* Rename: the key holds the role under its new name. */
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(update_role("acme", "Reader", "Viewer", NULL), KS_OK);
    expect_audit("acme", before, "role.update", "Reader");
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 3);
    ASSERT(find_role(roles, "Reader") == NULL);
    ASSERT(find_role(roles, "Viewer") != NULL);
    ASSERT_SET(&find_role(roles, "Viewer")->resources, R("orders.read"));
    ASSERT_EQ_INT(find_role(roles, "Viewer")->builtin, 0);
    ASSERT_SET(&must_get_key("acme", kid("acme", 1))->roles, R("Viewer", "Owner"));
    /* The other account's role and key are untouched. */
    ASSERT_SET(&find_role(get_roles("beta", NULL), "Reader")->resources, R("stock.read"));
    ASSERT_SET(&must_get_key("beta", kid("beta", 1))->roles, R("Reader"));
    /* The old name is free, and naming it in a key is invalid. */
    ASSERT_EQ_INT(put_key("acme", 2, "x", R("Reader"), T0), KS_ERR_INVALID);

    /* Resources only: replaced, not merged. */
    ASSERT_EQ_INT(update_role("acme", "Viewer", NULL, R("orders.list", "stock.read")), KS_OK);
    roles = get_roles("acme", NULL);
    ASSERT_SET(&find_role(roles, "Viewer")->resources, R("orders.list", "stock.read"));
    /* Both at once; an empty resource list empties the role. */
    ASSERT_EQ_INT(update_role("acme", "Viewer", "Auditor", R("audit.read")), KS_OK);
    roles = get_roles("acme", NULL);
    ASSERT(find_role(roles, "Viewer") == NULL);
    ASSERT_SET(&find_role(roles, "Auditor")->resources, R("audit.read"));
    ASSERT_EQ_INT(update_role("acme", "Auditor", NULL, R0), KS_OK);
    ASSERT_EQ_INT(find_role(get_roles("acme", NULL), "Auditor")->resources.count, 0);
    /* Renaming to its own name is no conflict. */
    ASSERT_EQ_INT(update_role("acme", "Auditor", "Auditor", R("a.b")), KS_OK);
    ASSERT_SET(&find_role(get_roles("acme", NULL), "Auditor")->resources, R("a.b"));
    ASSERT_SET(&must_get_key("acme", kid("acme", 1))->roles, R("Auditor", "Owner"));
    ASSERT_EQ_INT(audit_count("acme"), before + 5);
}

static void test_role_update_errors_change_nothing(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Writer", R("orders.write")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "holder", R("Reader"), T0), KS_OK);
    size_t before = audit_count("acme");

    /* Taken names, including built-in ones; resources of the same call not applied. */
    ASSERT_EQ_INT(update_role("acme", "Reader", "Writer", R("changed")), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(update_role("acme", "Reader", "Owner", R("changed")), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(update_role("acme", "Reader", "User Administrator - RESTRICTED", NULL),
                  KS_ERR_NAME_TAKEN);
    /* Built-in roles cannot be edited. */
    ASSERT_EQ_INT(update_role("acme", "Owner", "Boss", NULL), KS_ERR_BUILTIN_ROLE);
    ASSERT_EQ_INT(update_role("acme", "Owner", NULL, R("orders.read")), KS_ERR_BUILTIN_ROLE);
    ASSERT_EQ_INT(update_role("acme", "User Administrator - RESTRICTED", NULL, R0),
                  KS_ERR_BUILTIN_ROLE);
    /* Unknown role, unknown account. */
    ASSERT_EQ_INT(update_role("acme", "Nope", "Other", NULL), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(update_role("acme", "reader", NULL, R("x")), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(update_role("ghost", "Reader", NULL, R("x")), KS_ERR_NOT_FOUND);

    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(audit_count("ghost"), 0);
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 4);
    ASSERT_SET(&find_role(roles, "Reader")->resources, R("orders.read"));
    ASSERT_SET(&find_role(roles, "Writer")->resources, R("orders.write"));
    ASSERT_SET(&find_role(roles, "Owner")->resources,
               R("view-api-keys", "edit-api-keys", "renew-api-token", "edit-api-keys-settings",
                 "edit-roles", "view-audit-log", "edit-users", "edit-webhooks"));
    ASSERT_SET(&find_role(roles, "User Administrator - RESTRICTED")->resources,
               R("view-api-keys", "edit-api-keys", "renew-api-token", "edit-api-keys-settings", "edit-users"));
    ASSERT_SET(&must_get_key("acme", kid("acme", 1))->roles, R("Reader"));
}

static void test_role_delete(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(create_role("beta", "Reader", R("stock.read")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "holder", R("Owner", "Reader"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "beta holder", R("Reader"), T0), KS_OK);
    size_t before = audit_count("acme");
    ks_audit_entry a;

    /* Held by a key: ROLE_IN_USE, nothing changes. */
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(store->ops->role_delete(store, "acme", "Reader", &a), KS_ERR_ROLE_IN_USE);
    /* Built-in: BUILTIN_ROLE (even when no key holds it). */
    a = aud("acme", "role.delete", "Owner");
    ASSERT_EQ_INT(store->ops->role_delete(store, "acme", "Owner", &a), KS_ERR_BUILTIN_ROLE);
    a = aud("acme", "role.delete", "User Administrator - RESTRICTED");
    ASSERT_EQ_INT(store->ops->role_delete(store, "acme", "User Administrator - RESTRICTED", &a),
                  KS_ERR_BUILTIN_ROLE);
    a = aud("acme", "role.delete", "Nope");
    ASSERT_EQ_INT(store->ops->role_delete(store, "acme", "Nope", &a), KS_ERR_NOT_FOUND);
    a = aud("ghost", "role.delete", "Reader");
    ASSERT_EQ_INT(store->ops->role_delete(store, "ghost", "Reader", &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(get_roles("acme", NULL)->n, 3);
    ASSERT_SET(&must_get_key("acme", kid("acme", 1))->roles, R("Owner", "Reader"));

    /* Once no key holds it, it goes. */
    ks_strlist owner_only = slist(R("Owner"));
    ks_key_patch p = {NULL, &owner_only, -1, NULL, NULL};
    a = aud("acme", "key.update", kid("acme", 1));
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", kid("acme", 1), &p, &a), KS_OK);
    before = audit_count("acme");
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(store->ops->role_delete(store, "acme", "Reader", &a), KS_OK);
    expect_audit("acme", before, "role.delete", "Reader");
    role_set *roles = get_roles("acme", NULL);
    ASSERT_EQ_INT(roles->n, 2);
    ASSERT(find_role(roles, "Reader") == NULL);
    /* beta's role of the same name is still there, and still held. */
    ASSERT(find_role(get_roles("beta", NULL), "Reader") != NULL);
    ASSERT_SET(&must_get_key("beta", kid("beta", 1))->roles, R("Reader"));
    /* Deleted: cannot be granted, delete again is NOT_FOUND. */
    ASSERT_EQ_INT(put_key("acme", 2, "x", R("Reader"), T0), KS_ERR_INVALID);
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(store->ops->role_delete(store, "acme", "Reader", &a), KS_ERR_NOT_FOUND);
    /* Created again, it starts from its new resources only. */
    ASSERT_EQ_INT(create_role("acme", "Reader", R("new.one")), KS_OK);
    ASSERT_SET(&find_role(get_roles("acme", NULL), "Reader")->resources, R("new.one"));
}

/* ================================================================ audit */

static void test_audit_list(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "one", R0, T0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "beta", R0, T0), KS_OK);
    ks_settings st = {.token_duration_months = 6, .enforce_duration = 0, .renewal_notice_days = 14};
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    a.actor = kid("acme", 0);
    a.detail = "{\"token_duration_months\":6}";
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);

    audit_set *all = get_audit("acme", 100);
    ASSERT_EQ_INT(all->n, 4);
    static const char *const ACTIONS[] = {"settings.update", "role.create", "key.create",
                                          "account.create"};
    for (size_t i = 0; i < 4; i++) {
        ASSERT_EQ_STR(all->items[i].action, ACTIONS[i]);
        if (i > 0) {
            ASSERT(all->items[i].id < all->items[i - 1].id);
            ASSERT(all->items[i].at < all->items[i - 1].at);
        }
    }
    ASSERT_EQ_STR(all->items[0].actor, kid("acme", 0));
    ASSERT_EQ_STR(all->items[0].target, "acme");
    ASSERT_EQ_STR(all->items[0].detail, "{\"token_duration_months\":6}");
    ASSERT_EQ_INT(all->items[0].at, a.at);
    ASSERT_EQ_STR(all->items[1].target, "Reader");
    ASSERT_EQ_STR(all->items[2].target, kid("acme", 1));

    /* limit: the newest ones. */
    audit_set *two = get_audit("acme", 2);
    ASSERT_EQ_INT(two->n, 2);
    ASSERT_EQ_STR(two->items[0].action, "settings.update");
    ASSERT_EQ_STR(two->items[1].action, "role.create");
    ASSERT_EQ_INT(two->items[0].id, all->items[0].id);
    audit_set *one = get_audit("acme", 1);
    ASSERT_EQ_INT(one->n, 1);
    ASSERT_EQ_STR(one->items[0].action, "settings.update");

    /* Accounts do not see each other's entries. */
    audit_set *b = get_audit("beta", 100);
    ASSERT_EQ_INT(b->n, 2);
    ASSERT_EQ_STR(b->items[0].action, "key.create");
    ASSERT_EQ_STR(b->items[0].target, kid("beta", 1));
    ASSERT_EQ_STR(b->items[1].action, "account.create");
    ASSERT_EQ_INT(get_audit("ghost", 100)->n, 0);
}

static void test_audit_not_written_by_failed_writes(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "holder", R("Reader"), T0), KS_OK);
    const char *id = kid("acme", 1);
    size_t before = audit_count("acme");
    ks_digest g = tok(id, 9);

    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(put_key("acme", 2, "x", R("Nope"), T0), KS_ERR_INVALID);
    ks_strlist bad = slist(R("Nope"));
    ks_key_patch p = {"y", &bad, -1, NULL, NULL};
    ks_audit_entry a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_ERR_INVALID);
    a = aud("acme", "key.delete", "x");
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", kid("acme", 77), &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_DELETE_OLD, NULL, T0), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g, T0), KS_OK);
    before++;
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g, T0), KS_ERR_OLD_TOKEN_EXISTS);
    ASSERT_EQ_INT(create_role("acme", "Reader", R0), KS_ERR_NAME_TAKEN);
    ASSERT_EQ_INT(update_role("acme", "Owner", NULL, R0), KS_ERR_BUILTIN_ROLE);
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(store->ops->role_delete(store, "acme", "Reader", &a), KS_ERR_ROLE_IN_USE);
    ASSERT_EQ_INT(audit_count("acme"), before);
    audit_set *last = get_audit("acme", 1);
    ASSERT_EQ_STR(last->items[0].action, "key.renew");
}

const conf_test conf_tests_accounts[] = {
    CONF_TEST(test_account_create),
    CONF_TEST(test_account_create_name_taken),
    CONF_TEST(test_account_create_rollback),
    CONF_TEST(test_accounts_are_isolated),
    CONF_TEST(test_settings_get_put),
    CONF_TEST(test_settings_unknown_account),
    CONF_TEST(test_role_create_list),
    CONF_TEST(test_role_create_name_taken),
    CONF_TEST(test_role_create_unknown_account),
    CONF_TEST(test_role_update),
    CONF_TEST(test_role_update_errors_change_nothing),
    CONF_TEST(test_role_delete),
    CONF_TEST(test_audit_list),
    CONF_TEST(test_audit_not_written_by_failed_writes),
    {NULL, NULL},
};
