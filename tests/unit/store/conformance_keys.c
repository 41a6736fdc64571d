/*
 * conformance_keys.c - store conformance: key insert and get, key lists
 * (filters, order, paging), update and delete (see conformance_util.h).
 */
#include "core/token_age.h"

#include <stdlib.h>

#include "conformance_util.h" /* brings unit.h, pointed at conf_jmp */

/* ================================================================ keys */

static void test_key_insert_get(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_role reader = {(char *)"Reader", slist(R("orders.read")), 0};
    ks_audit_entry a = aud("acme", "role.create", "Reader");
    ASSERT_EQ_INT(store->ops->role_create(store, "acme", &reader, &a), KS_OK);

    size_t before = audit_count("acme");
    ASSERT_EQ_INT(put_key("acme", 1, "ERP sync", R("Reader", "User Administrator - RESTRICTED"),
                          T0 + 5), KS_OK);
    expect_audit("acme", before, "key.create", kid("acme", 1));
    ks_key *k = must_get_key("acme", kid("acme", 1));
    ASSERT_EQ_STR(k->key_id, kid("acme", 1));
    ASSERT_EQ_STR(k->account, "acme");
    ASSERT_EQ_STR(k->name, "ERP sync");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_EQ_INT(k->created_at, T0 + 5);
    ks_digest d = tok(kid("acme", 1), 0);
    ASSERT_EQ_INT(k->slots.current.present, 1);
    ASSERT(digest_eq(&k->slots.current.hash, &d));
    ASSERT_EQ_INT(k->slots.current.created_at, T0 + 5);
    ASSERT_EQ_INT(k->slots.old.present, 0);
    ASSERT_SET(&k->roles, R("Reader", "User Administrator - RESTRICTED"));

    /* seq grows with every insert; owner key is older. */
    ks_key *owner = must_get_key("acme", kid("acme", 0));
    ASSERT(k->seq > owner->seq);

    /* An inactive key with no roles and a name in UTF-8. */
    ks_key k2;
    key_build(&k2, "acme", 2, "Caf\xc3\xa9 \xe2\x80\x94 sync", R0, T0 + 6);
    k2.active = KS_KEY_INACTIVE;
    a = aud("acme", "key.create", k2.key_id);
    ASSERT_EQ_INT(store->ops->key_insert(store, &k2, &a), KS_OK);
    ks_key *g2 = must_get_key("acme", kid("acme", 2));
    ASSERT_EQ_INT(g2->active, KS_KEY_INACTIVE);
    ASSERT_EQ_INT(g2->roles.count, 0);
    ASSERT_EQ_STR(g2->name, "Caf\xc3\xa9 \xe2\x80\x94 sync");
    ASSERT(g2->seq > k->seq);

    /* A key inserted with both slots (e.g. a copy) keeps both. */
    ks_key k3;
    key_build(&k3, "acme", 3, "two tokens", R("Owner"), T0);
    ks_digest nd = tok(kid("acme", 3), 1);
    ASSERT_EQ_INT(ks_slots_apply(&k3.slots, KS_SLOT_OP_RENEW_LATER, &nd, T0 + 9), KS_OK);
    a = aud("acme", "key.create", k3.key_id);
    ASSERT_EQ_INT(store->ops->key_insert(store, &k3, &a), KS_OK);
    ks_key *g3 = must_get_key("acme", kid("acme", 3));
    ks_digest od = tok(kid("acme", 3), 0);
    ASSERT(digest_eq(&g3->slots.current.hash, &nd));
    ASSERT_EQ_INT(g3->slots.current.created_at, T0 + 9);
    ASSERT_EQ_INT(g3->slots.old.present, 1);
    ASSERT(digest_eq(&g3->slots.old.hash, &od));
    ASSERT_EQ_INT(g3->slots.old.created_at, T0);
}

static void test_key_get_not_found(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "one", R0, T0), KS_OK);
    int rc = 0;
    ASSERT(get_key("beta", kid("acme", 1), &rc) == NULL); /* other account */
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT(get_key("acme", kid("acme", 999), &rc) == NULL); /* unknown id */
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT(get_key("ghost", kid("ghost", 1), &rc) == NULL); /* unknown account */
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT(get_key("acme", "kst-acme-notakeyid", &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
}

static void test_key_insert_invalid_role(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    /* "Reader" exists in beta only: it is not a role of acme. */
    ks_role reader = {(char *)"Reader", slist(R("orders.read")), 0};
    ks_audit_entry a = aud("beta", "role.create", "Reader");
    ASSERT_EQ_INT(store->ops->role_create(store, "beta", &reader, &a), KS_OK);
    size_t before = audit_count("acme");
    ASSERT_EQ_INT(put_key("acme", 1, "bad", R("No such role"), T0), KS_ERR_INVALID);
    ASSERT_EQ_INT(put_key("acme", 2, "bad", R("Owner", "No such role"), T0), KS_ERR_INVALID);
    ASSERT_EQ_INT(put_key("acme", 3, "bad", R("Reader"), T0), KS_ERR_INVALID);
    ASSERT_EQ_INT(put_key("acme", 4, "bad", R("owner"), T0), KS_ERR_INVALID); /* names are exact */
    int rc;
    for (int n = 1; n <= 4; n++) {
        ASSERT(get_key("acme", kid("acme", n), &rc) == NULL);
        ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    }
    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 1);
    /* The same id can be inserted once the roles are right. */
    ASSERT_EQ_INT(put_key("acme", 1, "good", R("Owner"), T0), KS_OK);
    ASSERT_EQ_STR(must_get_key("acme", kid("acme", 1))->name, "good");
}

static void test_key_insert_unknown_account(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    /* store.h: KS_ERR_NOT_FOUND for no such account. */
    int rc = put_key("ghost", 1, "orphan", R0, T0);
    int rc_get;
    ks_key *k = get_key("ghost", kid("ghost", 1), &rc_get);
    size_t audits = audit_count("ghost");
    ASSERT(k == NULL);
    ASSERT_EQ_INT(audits, 0);
    if (rc != KS_ERR_NOT_FOUND)
        UNIT_FAIL("key_insert into unknown account \"ghost\" (no roles) = %d, want "
                  "KS_ERR_NOT_FOUND (%d)", rc, KS_ERR_NOT_FOUND);
}

static void test_key_insert_duplicate_id(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "first", R("Owner"), T0), KS_OK);
    size_t before = audit_count("acme");
    ASSERT(put_key("acme", 1, "second", R0, T0 + 1) != KS_OK);
    ks_key *k = must_get_key("acme", kid("acme", 1));
    ASSERT_EQ_STR(k->name, "first");
    ASSERT_SET(&k->roles, R("Owner"));
    ASSERT_EQ_INT(k->created_at, T0);
    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 2);
}

static void test_key_list_order_and_paging(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    for (int i = 1; i <= 11; i++) {
        char name[32];
        snprintf(name, sizeof name, "key %02d", i);
        ASSERT_EQ_INT(put_key("acme", i, name, R0, T0 + i), KS_OK);
        if (i % 3 == 0)
            ASSERT_EQ_INT(put_key("beta", i, name, R0, T0 + i), KS_OK);
    }
    /* All in one page: newest first, the owner key last, nothing of beta. */
    idlist *l = xcalloc(sizeof *l);
    ks_key_filter f = filter(NULL, -1, -1, T0, 500);
    ASSERT_EQ_INT(list_page("acme", &f, l), KS_OK);
    ASSERT_EQ_INT(l->n, 12);
    ASSERT_EQ_INT(l->next, 0);
    for (int i = 0; i < 11; i++)
        ASSERT_EQ_STR(l->ids[i], kid("acme", 11 - i));
    ASSERT_EQ_STR(l->ids[11], kid("acme", 0));

    /* Every limit: paging returns every key exactly once, in the same order. */
    for (int limit = 1; limit <= 13; limit++) {
        idlist *p = xcalloc(sizeof *p);
        list_all("acme", filter(NULL, -1, -1, T0, limit), p);
        if (p->n != 12)
            UNIT_FAIL("limit %d: %d keys over all pages, want 12", limit, p->n);
        for (int i = 0; i <= 11; i++)
            if (!idlist_has(p, kid("acme", i)))
                UNIT_FAIL("limit %d: key %d missing from the pages", limit, i);
        for (int i = 0; i < 12; i++)
            ASSERT_EQ_STR(p->ids[i], l->ids[i]);
    }

    /* A page of exactly the remaining keys is the last one (next_seq 0). */
    idlist *first = xcalloc(sizeof *first);
    f = filter(NULL, -1, -1, T0, 6);
    ASSERT_EQ_INT(list_page("acme", &f, first), KS_OK);
    ASSERT_EQ_INT(first->n, 6);
    ASSERT(first->next > 0);
    idlist *second = xcalloc(sizeof *second);
    f.before_seq = first->next;
    ASSERT_EQ_INT(list_page("acme", &f, second), KS_OK);
    ASSERT_EQ_INT(second->n, 6);
    ASSERT_EQ_INT(second->next, 0);

    /* before_seq in the middle: only older keys. */
    idlist *older = xcalloc(sizeof *older);
    f = filter(NULL, -1, -1, T0, 500);
    f.before_seq = l->seqs[3]; /* seq of key 8 */
    ASSERT_EQ_INT(list_page("acme", &f, older), KS_OK);
    ASSERT_EQ_INT(older->n, 8);
    ASSERT_EQ_STR(older->ids[0], kid("acme", 7));

    ASSERT_EQ_INT(count_all("beta", NULL, -1, -1, T0), 4);
}

static void test_key_list_q(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "ERP sync", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "Shop Frontend", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 3, "erp backup", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 4, "100% done", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "ERP beta", R0, T0), KS_OK);

    ASSERT_EQ_INT(count_all("acme", "erp", -1, -1, T0), 2);
    ASSERT_EQ_INT(count_all("acme", "ERP", -1, -1, T0), 2);
    ASSERT_EQ_INT(count_all("acme", "eRp S", -1, -1, T0), 1);
    ASSERT_EQ_INT(count_all("acme", "FRONT", -1, -1, T0), 1);
    ASSERT_EQ_INT(count_all("acme", "ontend", -1, -1, T0), 1);
    ASSERT_EQ_INT(count_all("acme", "nomatch", -1, -1, T0), 0);
    ASSERT_EQ_INT(count_all("acme", "", -1, -1, T0), 5); /* empty = any */
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 5);
    /* Wildcard characters are plain text. */
    ASSERT_EQ_INT(count_all("acme", "%", -1, -1, T0), 1);
    ASSERT_EQ_INT(count_all("acme", "_", -1, -1, T0), 0);
    ASSERT_EQ_INT(count_all("acme", "0% d", -1, -1, T0), 1);
    /* Key ids match too, case-insensitively. */
    ASSERT_EQ_INT(count_all("acme", "kst-acme-", -1, -1, T0), 5);
    ASSERT_EQ_INT(count_all("acme", "KST-ACME-", -1, -1, T0), 5);
    char upper[KS_KEY_ID_MAX + 1];
    snprintf(upper, sizeof upper, "%s", kid("acme", 2));
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    idlist *l = xcalloc(sizeof *l);
    list_all("acme", filter(upper, -1, -1, T0, 50), l);
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 2));
    /* The last 10 chars alone (the random part). */
    const char *id3 = kid("acme", 3);
    list_all("acme", filter(id3 + strlen(id3) - 10, -1, -1, T0, 50), l);
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 3));
    /* q with paging: every match once. */
    list_all("acme", filter("e", -1, -1, T0, 1), l);
    assert_unique(l);
    ASSERT_EQ_INT(l->n, 5); /* every key id has the "e" of "acme" */
}

static void test_key_list_status(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    for (int i = 1; i <= 6; i++)
        ASSERT_EQ_INT(put_key("acme", i, i % 2 ? "odd" : "even", R0, T0 + i), KS_OK);
    set_status("acme", kid("acme", 1), KS_KEY_INACTIVE);
    set_status("acme", kid("acme", 2), KS_KEY_INACTIVE);
    set_status("acme", kid("acme", 3), KS_KEY_INACTIVE);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_ACTIVE, -1, T0), 4);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_INACTIVE, -1, T0), 3);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 7);
    ASSERT_EQ_INT(count_all("acme", "odd", KS_KEY_INACTIVE, -1, T0), 2);
    ASSERT_EQ_INT(count_all("acme", "even", KS_KEY_ACTIVE, -1, T0), 2);
    idlist *l = xcalloc(sizeof *l);
    list_all("acme", filter(NULL, KS_KEY_INACTIVE, -1, T0, 2), l);
    ASSERT_EQ_INT(l->n, 3);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 3));
    ASSERT_EQ_STR(l->ids[1], kid("acme", 2));
    ASSERT_EQ_STR(l->ids[2], kid("acme", 1));
    set_status("acme", kid("acme", 2), KS_KEY_ACTIVE);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_INACTIVE, -1, T0), 2);
}

static void test_key_list_outdated(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    /* owner created at T0; key 1 at T0; key 2 two months later. */
    ASSERT_EQ_INT(put_key("acme", 1, "old one", R0, T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "newer", R0, T0 + 60 * DAY), KS_OK);
    const int64_t exp1 = ks_token_expires_at(T0, 3); /* 2025-04-15T12:00:00Z */
    ASSERT_EQ_INT(exp1, 1744718400);

    /* now far in the past: nothing outdated. */
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, T0 - 400 * DAY), 0);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 0, T0 - 400 * DAY), 3);
    /* Exactly at expiry: not yet outdated; one second later: outdated. */
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp1), 0);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 0, exp1), 3);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp1 + 1), 2);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 0, exp1 + 1), 1);
    idlist *l = xcalloc(sizeof *l);
    list_all("acme", filter(NULL, -1, 0, exp1 + 1, 50), l);
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 2));
    /* now far in the future: everything outdated. */
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, T0 + 3650 * DAY), 3);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 0, T0 + 3650 * DAY), 0);
    /* Combined with q and status. */
    ASSERT_EQ_INT(count_all("acme", "old", -1, 1, exp1 + 1), 1);
    set_status("acme", kid("acme", 1), KS_KEY_INACTIVE);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_ACTIVE, 1, exp1 + 1), 1);
    ASSERT_EQ_INT(count_all("acme", NULL, KS_KEY_INACTIVE, 1, exp1 + 1), 1);

    /* The account's duration decides: with 6 months nothing is outdated yet. */
    ks_settings six = {.token_duration_months = 6, .enforce_duration = 0, .renewal_notice_days = 14};
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &six, &a), KS_OK);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp1 + 1), 0);
    const int64_t exp6 = ks_token_expires_at(T0, 6);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp6), 0);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp6 + 1), 2);

    /* The current token decides: renewing makes the key up to date. */
    ks_digest nd = tok(kid("acme", 1), 1);
    a = aud("acme", "key.renew", kid("acme", 1));
    ASSERT_EQ_INT(store->ops->key_apply_slots(store, "acme", kid("acme", 1), &(ks_slot_change){.op = KS_SLOT_OP_RENEW_LATER, .new_hash = &nd},
                                              exp6, &a, NULL), KS_OK);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, 1, exp6 + 1), 1);
    list_all("acme", filter(NULL, -1, 1, exp6 + 1, 50), l);
    ASSERT_EQ_INT(l->n, 1);
    ASSERT_EQ_STR(l->ids[0], kid("acme", 0));
}

static void test_key_update(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_role reader = {(char *)"Reader", slist(R("orders.read")), 0};
    ks_audit_entry a = aud("acme", "role.create", "Reader");
    ASSERT_EQ_INT(store->ops->role_create(store, "acme", &reader, &a), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "ERP sync", R("Owner"), T0), KS_OK);
    const char *id = kid("acme", 1);
    ks_key *orig = must_get_key("acme", id);

    /* Name only. */
    size_t before = audit_count("acme");
    ks_key_patch p = {"ERP sync (prod)", NULL, -1, NULL, NULL};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_OK);
    expect_audit("acme", before, "key.update", id);
    ks_key *k = must_get_key("acme", id);
    ASSERT_EQ_STR(k->name, "ERP sync (prod)");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_SET(&k->roles, R("Owner"));
    ASSERT_EQ_INT(k->seq, orig->seq);
    ASSERT_EQ_INT(k->created_at, orig->created_at);
    ASSERT(digest_eq(&k->slots.current.hash, &orig->slots.current.hash));

    /* Status only. */
    p = (ks_key_patch){NULL, NULL, KS_KEY_INACTIVE, NULL, NULL};
    a = aud("acme", "key.deactivate", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_EQ_INT(k->active, KS_KEY_INACTIVE);
    ASSERT_EQ_STR(k->name, "ERP sync (prod)");
    ASSERT_SET(&k->roles, R("Owner"));
    ASSERT(digest_eq(&k->slots.current.hash, &orig->slots.current.hash)); /* tokens kept */

    /* Roles only (replaced, not added). */
    ks_strlist roles = slist(R("Reader", "User Administrator - RESTRICTED"));
    p = (ks_key_patch){NULL, &roles, -1, NULL, NULL};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_SET(&k->roles, R("Reader", "User Administrator - RESTRICTED"));
    ASSERT_EQ_INT(k->active, KS_KEY_INACTIVE);

    /* All at once; then an empty role list clears the roles. */
    roles = slist(R("Owner"));
    p = (ks_key_patch){"renamed", &roles, KS_KEY_ACTIVE, NULL, NULL};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_EQ_STR(k->name, "renamed");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_SET(&k->roles, R("Owner"));
    roles = slist(R0);
    p = (ks_key_patch){NULL, &roles, -1, NULL, NULL};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", id)->roles.count, 0);
    ASSERT_EQ_INT(audit_count("acme"), before + 5);

    /* The owner key is untouched by all this. */
    ks_key *owner = must_get_key("acme", kid("acme", 0));
    ASSERT_EQ_STR(owner->name, "Owner key");
    ASSERT_SET(&owner->roles, R("Owner"));
}

static void test_key_update_errors_change_nothing(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "ERP sync", R("Owner"), T0), KS_OK);
    const char *id = kid("acme", 1);
    size_t before = audit_count("acme");
    size_t before_beta = audit_count("beta");

    /* An invalid role among valid ones, with a name and status change in the
     * same patch: nothing of the patch is applied. */
    ks_strlist roles = slist(R("User Administrator - RESTRICTED", "No such role"));
    ks_key_patch p = {"changed", &roles, KS_KEY_INACTIVE, NULL, NULL};
    ks_audit_entry a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_ERR_INVALID);
    ks_key *k = must_get_key("acme", id);
    ASSERT_EQ_STR(k->name, "ERP sync");
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_SET(&k->roles, R("Owner"));
    ASSERT_EQ_INT(audit_count("acme"), before);

    /* Unknown key, and a key of another account. */
    p = (ks_key_patch){"x", NULL, -1, NULL, NULL};
    a = aud("acme", "key.update", "nope");
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", kid("acme", 99), &p, &a), KS_ERR_NOT_FOUND);
    a = aud("beta", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "beta", id, &p, &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_STR(must_get_key("acme", id)->name, "ERP sync");
    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(audit_count("beta"), before_beta);
}

static void test_key_delete(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ks_role reader = {(char *)"Reader", slist(R("orders.read")), 0};
    ks_audit_entry a = aud("acme", "role.create", "Reader");
    ASSERT_EQ_INT(store->ops->role_create(store, "acme", &reader, &a), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "to delete", R("Reader"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "stays", R0, T0), KS_OK);
    const char *id = kid("acme", 1);

    /* Not from another account. */
    size_t before_beta = audit_count("beta");
    a = aud("beta", "key.delete", id);
    ASSERT_EQ_INT(store->ops->key_delete(store, "beta", id, &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("beta"), before_beta);
    must_get_key("acme", id);

    size_t before = audit_count("acme");
    a = aud("acme", "key.delete", id);
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", id, &a), KS_OK);
    expect_audit("acme", before, "key.delete", id);
    int rc;
    ASSERT(get_key("acme", id, &rc) == NULL);
    ASSERT_EQ_INT(rc, KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(count_all("acme", NULL, -1, -1, T0), 2);
    must_get_key("acme", kid("acme", 2));

    /* Again: not found, no audit. */
    a = aud("acme", "key.delete", id);
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", id, &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("acme"), before + 1);

    /* Its grants are gone: the role it held can be deleted now. */
    a = aud("acme", "role.delete", "Reader");
    ASSERT_EQ_INT(store->ops->role_delete(store, "acme", "Reader", &a), KS_OK);

    /* Its token no longer takes last-used updates (and nothing breaks). */
    ks_last_used lu;
    memset(&lu, 0, sizeof lu);
    snprintf(lu.key_id, sizeof lu.key_id, "%s", id);
    lu.hash = tok(id, 0);
    lu.last_used_at = T0 + 5;
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &lu, 1), KS_OK);
    ASSERT(get_key("acme", id, &rc) == NULL);

    /* The id can be used again for a new key. */
    ASSERT_EQ_INT(put_key("acme", 1, "reborn", R0, T0 + 10), KS_OK);
    ks_key *k = must_get_key("acme", id);
    ASSERT_EQ_STR(k->name, "reborn");
    ASSERT_EQ_INT(k->roles.count, 0);
    ASSERT_EQ_INT(k->slots.current.last_used_at, 0);
}

/* An account keeps an active key holding Owner at home: deleting,
 * deactivating or taking Owner from the last one is refused, changes
 * nothing and leaves no audit entry; external grants do not count. */
static void test_last_owner(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    const char *owner = kid("acme", 0);
    ASSERT_EQ_INT(put_key("acme", 1, "plain", R0, T0), KS_OK);
    size_t before = audit_count("acme");
    ks_audit_entry a = aud("acme", "key.delete", owner);
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", owner, &a), KS_ERR_LAST_OWNER);
    ks_key_patch off = {NULL, NULL, KS_KEY_INACTIVE, NULL, NULL};
    a = aud("acme", "key.update", owner);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", owner, &off, &a), KS_ERR_LAST_OWNER);
    ks_strlist none = slist(R0);
    ks_key_patch drop = {"renamed", &none, -1, NULL, NULL};
    a = aud("acme", "key.update", owner);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", owner, &drop, &a), KS_ERR_LAST_OWNER);
    ASSERT_EQ_INT(audit_count("acme"), before);
    ks_key *k = must_get_key("acme", owner);
    ASSERT_EQ_INT(k->active, KS_KEY_ACTIVE);
    ASSERT_EQ_STR(k->name, "Owner key");
    ASSERT_SET(&k->roles, R("Owner"));
    /* Other changes of the last Owner key go on. */
    ks_key_patch rename = {"still owner", NULL, -1, NULL, NULL};
    a = aud("acme", "key.update", owner);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", owner, &rename, &a), KS_OK);
    ks_strlist owner_role = slist(R("Owner"));
    ks_key_patch same = {NULL, &owner_role, KS_KEY_ACTIVE, NULL, NULL};
    a = aud("acme", "key.update", owner);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", owner, &same, &a), KS_OK);

    /* An external key holding Owner here does not count. */
    ks_strlist ext_roles = slist(R("Owner"));
    a = aud("acme", "external.add", kid("beta", 0));
    ASSERT_EQ_INT(store->ops->external_add(store, "acme", kid("beta", 0), &ext_roles, T0, &a), KS_OK);
    a = aud("acme", "key.delete", owner);
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", owner, &a), KS_ERR_LAST_OWNER);

    /* With a second active Owner key, the first may go; then the second is the last. */
    ASSERT_EQ_INT(put_key("acme", 2, "second owner", R("Owner"), T0), KS_OK);
    a = aud("acme", "key.update", owner);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", owner, &off, &a), KS_OK);
    a = aud("acme", "key.update", kid("acme", 2));
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", kid("acme", 2), &off, &a), KS_ERR_LAST_OWNER);
    a = aud("acme", "key.delete", owner);
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", owner, &a), KS_OK); /* inactive: not counted */
    a = aud("acme", "key.delete", kid("acme", 2));
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", kid("acme", 2), &a), KS_ERR_LAST_OWNER);
    must_get_key("acme", kid("acme", 2));
    /* Keys without Owner are not guarded. */
    a = aud("acme", "key.delete", kid("acme", 1));
    ASSERT_EQ_INT(store->ops->key_delete(store, "acme", kid("acme", 1), &a), KS_OK);
}

const conf_test conf_tests_keys[] = {
    CONF_TEST(test_key_insert_get),
    CONF_TEST(test_key_get_not_found),
    CONF_TEST(test_key_insert_invalid_role),
    CONF_TEST(test_key_insert_unknown_account),
    CONF_TEST(test_key_insert_duplicate_id),
    CONF_TEST(test_key_list_order_and_paging),
    CONF_TEST(test_key_list_q),
    CONF_TEST(test_key_list_status),
    CONF_TEST(test_key_list_outdated),
    CONF_TEST(test_key_update),
    CONF_TEST(test_key_update_errors_change_nothing),
    CONF_TEST(test_key_delete),
    CONF_TEST(test_last_owner),
    {NULL, NULL},
};
