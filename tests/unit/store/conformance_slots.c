/*
 * conformance_slots.c - store conformance: token-slot transitions, loading
 * (load_all / load_account) and last-used times (see conformance_util.h).
 */
#include <stdlib.h>

#include "conformance_util.h" /* brings unit.h, pointed at conf_jmp */

/* ============================================================ token slots */

/* The key's slots are (current = cur_gen made at cur_at, old = old_gen at old_at or none). */
static void expect_slots(const char *account, const char *id, int cur_gen, int64_t cur_at,
                         int old_gen, int64_t old_at)
{
    ks_key *k = must_get_key(account, id);
    ks_digest c = tok(id, cur_gen);
    ASSERT_EQ_INT(k->slots.current.present, 1);
    if (!digest_eq(&k->slots.current.hash, &c))
        UNIT_FAIL("current token of %s is not generation %d", id, cur_gen);
    ASSERT_EQ_INT(k->slots.current.created_at, cur_at);
    if (old_gen < 0) {
        ASSERT_EQ_INT(k->slots.old.present, 0);
    } else {
        ks_digest o = tok(id, old_gen);
        ASSERT_EQ_INT(k->slots.old.present, 1);
        if (!digest_eq(&k->slots.old.hash, &o))
            UNIT_FAIL("old token of %s is not generation %d", id, old_gen);
        ASSERT_EQ_INT(k->slots.old.created_at, old_at);
    }
}

static void test_slots_renew_later_then_undo(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_digest g1 = tok(id, 1), g2 = tok(id, 2);
    size_t before = audit_count("acme");

    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g1, T0 + 100), KS_OK);
    expect_audit("acme", before, "key.renew", id);
    expect_slots("acme", id, 1, T0 + 100, 0, T0);

    /* 409s leave everything as it was, with no audit. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g2, T0 + 200), KS_ERR_OLD_TOKEN_EXISTS);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g2, T0 + 200), KS_ERR_OLD_TOKEN_EXISTS);
    expect_slots("acme", id, 1, T0 + 100, 0, T0);
    ASSERT_EQ_INT(audit_count("acme"), before + 1);

    /* Undo: the previous current is back with its created_at; no old. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 300), KS_OK);
    expect_audit("acme", before + 1, "key.undo_renewal", id);
    expect_slots("acme", id, 0, T0, -1, 0);

    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 400), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_DELETE_OLD, NULL, T0 + 400), KS_ERR_NO_OLD_TOKEN);
    expect_slots("acme", id, 0, T0, -1, 0);
    ASSERT_EQ_INT(audit_count("acme"), before + 2);
}

static void test_slots_renew_later_then_delete_old(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_digest g1 = tok(id, 1), g2 = tok(id, 2);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g1, T0 + 100), KS_OK);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_DELETE_OLD, NULL, T0 + 200), KS_OK);
    expect_audit("acme", before, "key.delete_old_token", id);
    expect_slots("acme", id, 1, T0 + 100, -1, 0);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_DELETE_OLD, NULL, T0 + 300), KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 300), KS_ERR_NO_OLD_TOKEN);
    expect_slots("acme", id, 1, T0 + 100, -1, 0);
    ASSERT_EQ_INT(audit_count("acme"), before + 1);
    /* A new renewal can start. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g2, T0 + 400), KS_OK);
    expect_slots("acme", id, 2, T0 + 400, 1, T0 + 100);
}

static void test_slots_renew_now(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_digest g1 = tok(id, 1), g2 = tok(id, 2), g3 = tok(id, 3);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g1, T0 + 100), KS_OK);
    expect_audit("acme", before, "key.renew", id);
    expect_slots("acme", id, 1, T0 + 100, -1, 0);
    /* No old token: delete old / undo are refused. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 150), KS_ERR_NO_OLD_TOKEN);
    expect_slots("acme", id, 1, T0 + 100, -1, 0);
    /* Renew now again is fine; then with an old token it is refused. */
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g2, T0 + 200), KS_OK);
    expect_slots("acme", id, 2, T0 + 200, -1, 0);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g3, T0 + 300), KS_OK);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_NOW, &g1, T0 + 400), KS_ERR_OLD_TOKEN_EXISTS);
    expect_slots("acme", id, 3, T0 + 300, 2, T0 + 200);
    ASSERT_EQ_INT(audit_count("acme"), before + 3);
}

static void test_slots_not_found(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_digest g1 = tok(id, 1);
    size_t ba = audit_count("acme"), bb = audit_count("beta");
    for (int op = KS_SLOT_OP_RENEW_LATER; op <= KS_SLOT_OP_UNDO_RENEWAL; op++) {
        ASSERT_EQ_INT(apply("beta", id, (ks_slot_op)op, &g1, T0 + 1), KS_ERR_NOT_FOUND);
        ASSERT_EQ_INT(apply("acme", kid("acme", 42), (ks_slot_op)op, &g1, T0 + 1), KS_ERR_NOT_FOUND);
        ASSERT_EQ_INT(apply("ghost", kid("ghost", 1), (ks_slot_op)op, &g1, T0 + 1), KS_ERR_NOT_FOUND);
    }
    expect_slots("acme", id, 0, T0, -1, 0);
    ASSERT_EQ_INT(audit_count("acme"), ba);
    ASSERT_EQ_INT(audit_count("beta"), bb);
}

/* The address text as the store reads it back ("" for none). */
static const char *addr_text(const ks_netaddr *a)
{
    static char buf[KS_NETADDR_TEXT_MAX];
    ks_netaddr_format(a, buf, sizeof buf);
    return buf;
}

static ks_netaddr addr(const char *text)
{
    ks_netaddr a;
    ASSERT_EQ_INT(ks_netaddr_parse(text, strlen(text), &a), KS_OK);
    return a;
}

static void test_slots_keep_last_used(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_last_used lu;
    memset(&lu, 0, sizeof lu);
    snprintf(lu.key_id, sizeof lu.key_id, "%s", id);
    lu.hash = tok(id, 0);
    lu.last_used_at = T0 + 50;
    lu.from = addr("2001:db8::7");
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &lu, 1), KS_OK);
    ks_digest g1 = tok(id, 1);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &g1, T0 + 100), KS_OK);
    ks_key *k = must_get_key("acme", id);
    /* The old token is the same token: it keeps its last use and caller; the new one has none. */
    ASSERT_EQ_INT(k->slots.old.last_used_at, T0 + 50);
    ASSERT_EQ_STR(addr_text(&k->slots.old.last_used_from), "2001:db8::7");
    ASSERT_EQ_INT(k->slots.current.last_used_at, 0);
    ASSERT_EQ_INT(k->slots.current.last_used_from.family, 0);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_UNDO_RENEWAL, NULL, T0 + 200), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_EQ_INT(k->slots.current.last_used_at, T0 + 50);
    ASSERT_EQ_STR(addr_text(&k->slots.current.last_used_from), "2001:db8::7");
}

/* ================================================================ load */

/* Two accounts with custom roles, keys in every slot state and role set. */
static void load_fixture(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 6, 1), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read", "orders.list")), KS_OK);
    ASSERT_EQ_INT(create_role("beta", "Ops", R("ops:*")), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "renewed", R("Reader", "Owner"), T0 + 1), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "plain", R0, T0 + 2), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "ops key", R("Ops"), T0 + 3), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 3, "inactive", R("User Administrator - RESTRICTED"), T0 + 4),
                  KS_OK);
    ks_digest g = tok(kid("acme", 1), 1);
    ASSERT_EQ_INT(apply("acme", kid("acme", 1), KS_SLOT_OP_RENEW_LATER, &g, T0 + 100), KS_OK);
    set_status("acme", kid("acme", 3), KS_KEY_INACTIVE);
    ks_last_used lu;
    memset(&lu, 0, sizeof lu);
    snprintf(lu.key_id, sizeof lu.key_id, "%s", kid("acme", 2));
    lu.hash = tok(kid("acme", 2), 0);
    lu.last_used_at = T0 + 500;
    lu.from = addr("203.0.113.7");
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &lu, 1), KS_OK);
}

static void check_loaded_acme(const collector *c)
{
    const loaded_account *acme = loaded_find_account(c, "acme");
    ASSERT(acme != NULL);
    ASSERT_EQ_INT(acme->settings.token_duration_months, 3);
    ASSERT_EQ_INT(acme->settings.enforce_duration, 0);
    ASSERT_EQ_INT(acme->n_roles, 3);
    ASSERT(loaded_role(acme, "Owner") && loaded_role(acme, "Owner")->builtin);
    ASSERT_EQ_INT(loaded_role(acme, "Owner")->resources.count, 8);
    const ks_role *ua = loaded_role(acme, "User Administrator - RESTRICTED");
    ASSERT(ua && ua->builtin);
    ASSERT_SET(&ua->resources,
               R("view-api-keys", "edit-api-keys", "renew-api-token", "edit-api-keys-settings", "edit-users"));
    const ks_role *reader = loaded_role(acme, "Reader");
    ASSERT(reader && !reader->builtin);
    ASSERT_SET(&reader->resources, R("orders.read", "orders.list"));

    const ks_key *k0 = loaded_find_key(c, kid("acme", 0));
    const ks_key *k1 = loaded_find_key(c, kid("acme", 1));
    const ks_key *k2 = loaded_find_key(c, kid("acme", 2));
    const ks_key *k3 = loaded_find_key(c, kid("acme", 3));
    ASSERT(k0 && k1 && k2 && k3);
    ASSERT_EQ_STR(k0->account, "acme");
    ASSERT_SET(&k0->roles, R("Owner"));
    ASSERT_EQ_STR(k1->name, "renewed");
    ASSERT_EQ_STR(k1->account, "acme");
    ASSERT_EQ_INT(k1->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(k1->created_at, T0 + 1);
    ASSERT_SET(&k1->roles, R("Reader", "Owner"));
    ks_digest c1 = tok(kid("acme", 1), 1), o1 = tok(kid("acme", 1), 0);
    ASSERT_EQ_INT(k1->slots.current.present, 1);
    ASSERT(digest_eq(&k1->slots.current.hash, &c1));
    ASSERT_EQ_INT(k1->slots.current.created_at, T0 + 100);
    ASSERT_EQ_INT(k1->slots.old.present, 1);
    ASSERT(digest_eq(&k1->slots.old.hash, &o1));
    ASSERT_EQ_INT(k1->slots.old.created_at, T0 + 1);
    ASSERT_EQ_INT(k2->roles.count, 0);
    ASSERT_EQ_INT(k2->slots.old.present, 0);
    ASSERT_EQ_INT(k2->slots.current.last_used_at, T0 + 500);
    ASSERT_EQ_STR(addr_text(&k2->slots.current.last_used_from), "203.0.113.7");
    ASSERT_EQ_INT(k1->slots.current.last_used_from.family, 0);
    ks_digest c2 = tok(kid("acme", 2), 0);
    ASSERT(digest_eq(&k2->slots.current.hash, &c2));
    ASSERT_EQ_INT(k3->active, KS_KEY_INACTIVE);
    ASSERT_SET(&k3->roles, R("User Administrator - RESTRICTED"));
}

static void test_load_all(void)
{
    load_fixture();
    collector *c = new_collector();
    ks_store_loader loader = {c, collect_account, collect_key};
    ASSERT_EQ_INT(store->ops->load_all(store, &loader), KS_OK);
    ASSERT(!c->overflow);
    ASSERT_EQ_INT(c->n_accounts, 2);
    ASSERT_EQ_INT(c->n_keys, 6);
    check_loaded_acme(c);
    const loaded_account *beta = loaded_find_account(c, "beta");
    ASSERT(beta != NULL);
    ASSERT_EQ_INT(beta->settings.token_duration_months, 6);
    ASSERT_EQ_INT(beta->settings.enforce_duration, 1);
    ASSERT_EQ_INT(beta->n_roles, 3);
    ASSERT_SET(&loaded_role(beta, "Ops")->resources, R("ops:*"));
    ASSERT(loaded_role(beta, "Reader") == NULL);
    const ks_key *b0 = loaded_find_key(c, kid("beta", 0));
    const ks_key *b1 = loaded_find_key(c, kid("beta", 1));
    ASSERT(b0 && b1);
    ASSERT_EQ_STR(b1->account, "beta");
    ASSERT_SET(&b1->roles, R("Ops"));
    ASSERT_EQ_STR(b1->name, "ops key");
    /* Every key, the same as key_get says. */
    for (int i = 0; i < c->n_keys; i++) {
        ks_key *g = must_get_key(c->keys[i].account, c->keys[i].key_id);
        ASSERT_EQ_STR(g->name, c->keys[i].name);
        ASSERT_EQ_INT(g->active, c->keys[i].active);
        ASSERT(digest_eq(&g->slots.current.hash, &c->keys[i].slots.current.hash));
        ASSERT_EQ_INT(g->slots.old.present, c->keys[i].slots.old.present);
        ASSERT_EQ_INT(g->roles.count, c->keys[i].roles.count);
    }
}

static void test_load_empty_store(void)
{
    collector *c = new_collector();
    ks_store_loader loader = {c, collect_account, collect_key};
    ASSERT_EQ_INT(store->ops->load_all(store, &loader), KS_OK);
    ASSERT_EQ_INT(c->calls, 0);
}

static void test_load_account(void)
{
    load_fixture();
    collector *c = new_collector();
    ks_store_loader loader = {c, collect_account, collect_key};
    ASSERT_EQ_INT(store->ops->load_account(store, "acme", &loader), KS_OK);
    ASSERT(!c->overflow);
    ASSERT_EQ_INT(c->n_accounts, 1);
    ASSERT_EQ_STR(c->accounts[0].account, "acme");
    ASSERT_EQ_INT(c->n_keys, 4);
    for (int i = 0; i < c->n_keys; i++)
        ASSERT_EQ_STR(c->keys[i].account, "acme");
    check_loaded_acme(c);

    collector *b = new_collector();
    loader.ctx = b;
    ASSERT_EQ_INT(store->ops->load_account(store, "beta", &loader), KS_OK);
    ASSERT_EQ_INT(b->n_accounts, 1);
    ASSERT_EQ_STR(b->accounts[0].account, "beta");
    ASSERT_EQ_INT(b->n_keys, 2);
    ASSERT(loaded_find_key(b, kid("beta", 1)) != NULL);
    ASSERT(loaded_find_key(b, kid("acme", 1)) == NULL);
}

static void test_load_account_without_keys(void)
{
    load_fixture();
    /* With on_key NULL, load_account reads settings and roles only. */
    collector *c = new_collector();
    ks_store_loader loader = {c, collect_account, NULL};
    ASSERT_EQ_INT(store->ops->load_account(store, "beta", &loader), KS_OK);
    ASSERT_EQ_INT(c->calls, 1);
    ASSERT_EQ_INT(c->n_keys, 0);
    ASSERT_EQ_STR(c->accounts[0].account, "beta");
    ASSERT_EQ_INT(c->accounts[0].settings.token_duration_months, 6);
    ASSERT_EQ_INT(c->accounts[0].n_roles, 3);
    ASSERT(loaded_role(&c->accounts[0], "Ops") != NULL);
}

static void test_load_callback_stops(void)
{
    load_fixture();
    /* A non-zero return stops the load and is returned. */
    collector *c = new_collector();
    c->stop_at = 1;
    c->stop_rc = 7;
    ks_store_loader loader = {c, collect_account, collect_key};
    ASSERT_EQ_INT(store->ops->load_all(store, &loader), 7);
    ASSERT_EQ_INT(c->calls, 1);

    collector *d = new_collector();
    loader.ctx = d;
    loader.on_account = NULL; /* keys only */
    d->stop_at = 2;
    d->stop_rc = -42;
    ASSERT_EQ_INT(store->ops->load_all(store, &loader), -42);
    ASSERT_EQ_INT(d->calls, 2);
    ASSERT_EQ_INT(d->n_keys, 2);

    collector *e = new_collector();
    loader.ctx = e;
    loader.on_account = collect_account;
    e->stop_at = 3; /* acme + its first key */
    e->stop_rc = 5;
    ASSERT_EQ_INT(store->ops->load_account(store, "acme", &loader), 5);
    ASSERT_EQ_INT(e->calls, 3);
}

/* ============================================================ last used */

static ks_last_used last_used(const char *key_id, int gen, int64_t at)
{
    ks_last_used lu;
    memset(&lu, 0, sizeof lu);
    snprintf(lu.key_id, sizeof lu.key_id, "%s", key_id);
    lu.hash = tok(key_id, gen);
    lu.last_used_at = at;
    return lu;
}

static void test_last_used_flush(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "a1", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "a2", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "b1", R0, T0), KS_OK);
    const char *a1 = kid("acme", 1), *a2 = kid("acme", 2), *b1 = kid("beta", 1);
    ks_digest g1 = tok(a1, 1);
    ASSERT_EQ_INT(apply("acme", a1, KS_SLOT_OP_RENEW_LATER, &g1, T0 + 10), KS_OK);
    size_t audits = audit_count("acme");

    ASSERT_EQ_INT(store->ops->last_used_flush(store, NULL, 0), KS_OK);

    /* One batch: a1's old token, a2, beta's key, an unknown key, and a hash
     * that is no token of a2 (it is a1's). */
    ks_last_used batch[6];
    batch[0] = last_used(a1, 0, T0 + 1000);       /* old slot of a1 */
    batch[1] = last_used(a2, 0, T0 + 2000);
    batch[2] = last_used(b1, 0, T0 + 3000);
    batch[3] = last_used(kid("acme", 99), 0, T0 + 4000);
    batch[4] = last_used(a2, 5, T0 + 5000);       /* no such token of a2 */
    batch[5] = last_used(a2, 0, T0 + 1500);       /* older than [1]: ignored */
    batch[4].hash = tok(a1, 1);                   /* a1's current, named as a2's */
    ASSERT_EQ_INT(store->ops->last_used_flush(store, batch, 6), KS_OK);

    ks_key *k1 = must_get_key("acme", a1);
    ASSERT_EQ_INT(k1->slots.old.last_used_at, T0 + 1000);
    ASSERT_EQ_INT(k1->slots.current.last_used_at, 0); /* not touched by [4] */
    ks_key *k2 = must_get_key("acme", a2);
    ASSERT_EQ_INT(k2->slots.current.last_used_at, T0 + 2000);
    ks_key *kb = must_get_key("beta", b1);
    ASSERT_EQ_INT(kb->slots.current.last_used_at, T0 + 3000);
    int rc;
    ASSERT(get_key("acme", kid("acme", 99), &rc) == NULL);

    /* Never back in time; forward works; per slot. */
    ks_last_used back = last_used(a2, 0, T0 + 100);
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &back, 1), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", a2)->slots.current.last_used_at, T0 + 2000);
    ks_last_used same = last_used(a2, 0, T0 + 2000);
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &same, 1), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", a2)->slots.current.last_used_at, T0 + 2000);
    ks_last_used fwd = last_used(a2, 0, T0 + 9000);
    fwd.from = addr("198.51.100.4");
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &fwd, 1), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", a2)->slots.current.last_used_at, T0 + 9000);
    ASSERT_EQ_STR(addr_text(&must_get_key("acme", a2)->slots.current.last_used_from), "198.51.100.4");
    /* An older use does not overwrite the caller either. */
    ks_last_used older = last_used(a2, 0, T0 + 8000);
    older.from = addr("192.0.2.1");
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &older, 1), KS_OK);
    ASSERT_EQ_STR(addr_text(&must_get_key("acme", a2)->slots.current.last_used_from), "198.51.100.4");
    /* A newer use from an unknown address (a Unix socket) clears it. */
    ks_last_used unknown = last_used(a2, 0, T0 + 9500);
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &unknown, 1), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", a2)->slots.current.last_used_from.family, 0);
    ks_last_used cur1 = last_used(a1, 1, T0 + 7000);
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &cur1, 1), KS_OK);
    k1 = must_get_key("acme", a1);
    ASSERT_EQ_INT(k1->slots.current.last_used_at, T0 + 7000);
    ASSERT_EQ_INT(k1->slots.old.last_used_at, T0 + 1000);
    /* Nothing else about the keys changed. */
    ASSERT_EQ_STR(k1->name, "a1");
    ASSERT_EQ_INT(k1->slots.current.created_at, T0 + 10);
    ASSERT_EQ_INT(audit_count("acme"), audits);
}

static int same_last_used(const ks_last_used *a, const ks_last_used *b)
{
    return strcmp(a->key_id, b->key_id) == 0 && memcmp(a->hash.bytes, b->hash.bytes, KS_DIGEST_LEN) == 0 &&
           a->last_used_at == b->last_used_at;
}

/* last_used_order keeps the batch (reordered, key_seq in ascending order
 * where it notes one), and the flush of an ordered batch writes what an
 * unordered one does; a noted key_seq never lets an item touch another
 * key's token (a key deleted since, its seq taken by another). */
static void test_last_used_order(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    for (int n = 1; n <= 4; n++)
        ASSERT_EQ_INT(put_key("acme", n, "k", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "b1", R0, T0), KS_OK);
    const char *a1 = kid("acme", 1), *b1 = kid("beta", 1);
    ks_digest g1 = tok(a1, 1);
    ASSERT_EQ_INT(apply("acme", a1, KS_SLOT_OP_RENEW_LATER, &g1, T0 + 10), KS_OK);
    ASSERT_EQ_INT(store->ops->last_used_order(store, NULL, 0), KS_OK);

    ks_last_used batch[8], given[8];
    batch[0] = last_used(b1, 0, T0 + 100);
    for (int n = 4; n >= 1; n--)
        batch[5 - n] = last_used(kid("acme", n), 0, T0 + 100 * n); /* a4 .. a1 (a1's old token) */
    batch[5] = last_used(a1, 1, T0 + 600);                       /* a1's current */
    batch[6] = last_used(kid("acme", 99), 0, T0 + 700);          /* no such key */
    batch[7] = last_used(kid("acme", 0), 0, T0 + 800);           /* the owner key */
    /* The verify index hands most items their key's seq; an item without
     * one (0) is for the store to look up. */
    for (size_t i = 0; i < 8; i++)
        batch[i].key_seq = i % 2 && i != 6 ? must_get_key(strncmp(batch[i].key_id, "kst-beta", 8) == 0 ? "beta" : "acme",
                                                          batch[i].key_id)->seq : 0;
    memcpy(given, batch, sizeof batch);
    ASSERT_EQ_INT(store->ops->last_used_order(store, batch, 8), KS_OK);
    int noted = 0;
    for (size_t i = 0; i < 8; i++) {
        int found = 0;
        for (size_t j = 0; j < 8; j++)
            found += same_last_used(&batch[i], &given[j]);
        ASSERT_EQ_INT(found, 1); /* every item once: the same set */
        if (batch[i].key_seq) /* a noted seq is the key's row */
            ASSERT_EQ_INT(batch[i].key_seq,
                          must_get_key(strncmp(batch[i].key_id, "kst-beta", 8) == 0 ? "beta" : "acme", batch[i].key_id)->seq);
        if (i > 0 && batch[i].key_seq && batch[i - 1].key_seq)
            ASSERT(batch[i - 1].key_seq <= batch[i].key_seq);
        if (strcmp(batch[i].key_id, kid("acme", 99)) == 0)
            ASSERT_EQ_INT((int)batch[i].key_seq, 0);
        else
            noted += batch[i].key_seq != 0;
    }
    ASSERT(noted == 0 || noted == 7); /* a store notes every known key, or none */

    /* Between order and flush, a2 is deleted and made again (new token);
     * and a3's item names a1's row (as a stale seq could) with a3's token. */
    ks_audit_entry audit = aud("acme", "key.delete", kid("acme", 2));
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", kid("acme", 2), &audit), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "again", R0, T0 + 50), KS_OK);
    ks_digest g2 = tok(kid("acme", 2), 1); /* a token of its own: put_key reuses tok(id, 0) */
    ASSERT_EQ_INT(apply("acme", kid("acme", 2), KS_SLOT_OP_RENEW_NOW, &g2, T0 + 60), KS_OK);
    int64_t a1_seq = 0;
    for (size_t i = 0; i < 8; i++)
        if (strcmp(batch[i].key_id, a1) == 0)
            a1_seq = batch[i].key_seq;
    for (size_t i = 0; i < 8; i++)
        if (strcmp(batch[i].key_id, kid("acme", 3)) == 0 && a1_seq)
            batch[i].key_seq = a1_seq;
    ASSERT_EQ_INT(store->ops->last_used_flush(store, batch, 8), KS_OK);

    ks_key *k1 = must_get_key("acme", a1);
    ASSERT_EQ_INT(k1->slots.old.last_used_at, T0 + 100);
    ASSERT_EQ_INT(k1->slots.current.last_used_at, T0 + 600);
    ASSERT_EQ_INT(must_get_key("acme", kid("acme", 4))->slots.current.last_used_at, T0 + 400);
    ASSERT_EQ_INT(must_get_key("acme", kid("acme", 2))->slots.current.last_used_at, 0); /* the new key's token */
    ASSERT_EQ_INT(must_get_key("beta", b1)->slots.current.last_used_at, T0 + 100);
    ASSERT_EQ_INT(must_get_key("acme", kid("acme", 0))->slots.current.last_used_at, T0 + 800);
    int64_t a3_at = must_get_key("acme", kid("acme", 3))->slots.current.last_used_at;
    ASSERT(a3_at == 0 || a3_at == T0 + 300); /* found by its seq (none: it named a1's), or by key id */
}

const conf_test conf_tests_slots[] = {
    CONF_TEST(test_slots_renew_later_then_undo),
    CONF_TEST(test_slots_renew_later_then_delete_old),
    CONF_TEST(test_slots_renew_now),
    CONF_TEST(test_slots_not_found),
    CONF_TEST(test_slots_keep_last_used),
    CONF_TEST(test_load_all),
    CONF_TEST(test_load_empty_store),
    CONF_TEST(test_load_account),
    CONF_TEST(test_load_account_without_keys),
    CONF_TEST(test_load_callback_stops),
    CONF_TEST(test_last_used_flush),
    CONF_TEST(test_last_used_order),
    {NULL, NULL},
};
