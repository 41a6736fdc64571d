/*
 * conformance_audit.c - store conformance: the audit log's `via` and
 * `address`, standalone entries (audit_append), and the paged, filtered
 * list (audit_list with a ks_audit_filter): every entry exactly once across
 * pages, newest first, exact actor and action filters, bad limits refused.
 */
#include <stdlib.h>
#include <string.h>

#include "conformance_util.h" /* brings unit.h, pointed at conf_jmp */

static void page_free(void *p)
{
    ks_audit_page_free(p);
    free(p);
}

/* audit_list with these arguments, or the test fails; freed after it. */
static ks_audit_page *audit_page(const char *account, int limit, int64_t before, const char *actor,
                                const char *action)
{
    ks_audit_page *p = calloc(1, sizeof *p);
    if (!p)
        UNIT_FAIL("out of memory in test");
    defer(p, page_free);
    ks_audit_filter f = {.before_id = before, .actor = actor, .action = action, .limit = limit};
    int rc = store->ops->audit_list(store, account, &f, p);
    if (rc != KS_OK)
        UNIT_FAIL("audit_list(%s, limit %d, before %lld) = %d", account, limit, (long long)before, rc);
    return p;
}

/* audit_append of one entry by actor with via / address. */
static int append(const char *account, const char *actor, const char *action, const char *via,
                  const char *address)
{
    ks_audit_entry a = aud(account, action, account);
    a.actor = actor;
    a.via = via;
    a.address = address;
    return store->ops->audit_append(store, &a);
}

static void test_audit_via_and_address_round_trip(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK); /* via NULL: "system" */
    ks_settings st = {.token_duration_months = 6, .enforce_duration = 0, .renewal_notice_days = 14};
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    a.actor = kid("acme", 0);
    a.via = "session";
    a.address = "2001:db8::7";
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);
    ASSERT_EQ_INT(append("acme", kid("acme", 0), "login.issue", "token", "192.0.2.10"), KS_OK);

    audit_set *all = get_audit("acme", 100);
    ASSERT_EQ_INT(all->n, 3);
    ASSERT_EQ_STR(all->items[0].action, "login.issue");
    ASSERT_EQ_STR(all->items[0].via, "token");
    ASSERT_EQ_STR(all->items[0].address, "192.0.2.10");
    ASSERT_EQ_STR(all->items[0].actor, kid("acme", 0));
    ASSERT_EQ_STR(all->items[0].target, "acme");
    ASSERT_EQ_STR(all->items[0].detail, "{\"by\":\"conformance\"}");
    ASSERT_EQ_INT(all->items[0].at, T0 + audit_clock);
    ASSERT_EQ_STR(all->items[1].via, "session");
    ASSERT_EQ_STR(all->items[1].address, "2001:db8::7");
    ASSERT_EQ_STR(all->items[2].action, "account.create");
    ASSERT_EQ_STR(all->items[2].via, "system");
    ASSERT(all->items[2].address == NULL); /* the command line has no address */
}

static void test_audit_append_needs_the_account(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(append("ghost", "unknown", "auth.failed", "token", "127.0.0.1"), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(audit_count("ghost"), 0);
    ASSERT_EQ_INT(append("acme", "unknown", "auth.failed", "token", "127.0.0.1"), KS_OK);
    ASSERT_EQ_INT(audit_count("acme"), 2);
    ASSERT_EQ_INT(store->ops->audit_append(store, NULL), KS_ERR_INVALID);
}

static void test_audit_pages_walk_every_entry_once(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    for (int i = 0; i < 22; i++) {
        ASSERT_EQ_INT(append("acme", i % 2 ? "kst-acme-aaaaaaaaaa" : "cli", "session.create", "token", NULL),
                      KS_OK);
        ASSERT_EQ_INT(append("beta", "cli", "session.create", "token", NULL), KS_OK);
    }
    audit_set *all = get_audit("acme", 1000);
    ASSERT_EQ_INT(all->n, 23);
    /* Pages of 5: 5, 5, 5, 5, 3, each cursor the last id of its page. */
    int64_t before = 0;
    size_t seen = 0;
    for (int page = 0; page < 5; page++) {
        ks_audit_page *p = audit_page("acme", 5, before, NULL, NULL);
        ASSERT_EQ_INT(p->count, page < 4 ? 5 : 3);
        for (size_t i = 0; i < p->count; i++, seen++)
            ASSERT_EQ_INT(p->items[i].id, all->items[seen].id);
        if (page < 4) {
            ASSERT_EQ_INT(p->next_id, p->items[p->count - 1].id);
        } else {
            ASSERT_EQ_INT(p->next_id, 0);
        }
        before = p->next_id;
    }
    ASSERT_EQ_INT(seen, 23);
    /* A page exactly at the end has no next page. */
    ks_audit_page *exact = audit_page("acme", 23, 0, NULL, NULL);
    ASSERT_EQ_INT(exact->count, 23);
    ASSERT_EQ_INT(exact->next_id, 0);
    /* A cursor below every id: an empty last page. */
    ks_audit_page *none = audit_page("acme", 5, all->items[22].id, NULL, NULL);
    ASSERT_EQ_INT(none->count, 0);
    ASSERT_EQ_INT(none->next_id, 0);
    /* An unknown account: nothing, no error. */
    ASSERT_EQ_INT(audit_page("ghost", 5, 0, NULL, NULL)->count, 0);
}

static void test_audit_filters_are_exact(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    const char *k1 = kid("acme", 1), *k2 = kid("acme", 2);
    for (int i = 0; i < 7; i++) {
        ASSERT_EQ_INT(append("acme", k1, "session.create", "token", "127.0.0.1"), KS_OK);
        ASSERT_EQ_INT(append("acme", k2, i % 2 ? "login.issue" : "session.create", "token", NULL), KS_OK);
        ASSERT_EQ_INT(append("beta", k1, "session.create", "token", NULL), KS_OK);
    }
    ks_audit_page *p = audit_page("acme", 500, 0, k1, NULL);
    ASSERT_EQ_INT(p->count, 7);
    for (size_t i = 0; i < p->count; i++)
        ASSERT_EQ_STR(p->items[i].actor, k1);
    p = audit_page("acme", 500, 0, NULL, "login.issue");
    ASSERT_EQ_INT(p->count, 3);
    p = audit_page("acme", 500, 0, k2, "session.create");
    ASSERT_EQ_INT(p->count, 4);
    for (size_t i = 0; i < p->count; i++) {
        ASSERT_EQ_STR(p->items[i].actor, k2);
        ASSERT_EQ_STR(p->items[i].action, "session.create");
    }
    /* Exact, not a prefix or a substring; case matters. */
    ASSERT_EQ_INT(audit_page("acme", 500, 0, NULL, "session")->count, 0);
    ASSERT_EQ_INT(audit_page("acme", 500, 0, NULL, "SESSION.CREATE")->count, 0);
    ASSERT_EQ_INT(audit_page("acme", 500, 0, "kst-acme", NULL)->count, 0);
    ASSERT_EQ_INT(audit_page("acme", 500, 0, NULL, "account.create")->count, 1);
    /* Filters page too: 7 entries of k1 in pages of 3. */
    ks_audit_page *a = audit_page("acme", 3, 0, k1, NULL);
    ASSERT_EQ_INT(a->count, 3);
    ASSERT(a->next_id != 0);
    ks_audit_page *b = audit_page("acme", 3, a->next_id, k1, NULL);
    ASSERT_EQ_INT(b->count, 3);
    ks_audit_page *c = audit_page("acme", 3, b->next_id, k1, NULL);
    ASSERT_EQ_INT(c->count, 1);
    ASSERT_EQ_INT(c->next_id, 0);
    ASSERT(b->items[0].id < a->items[2].id);
    ASSERT(c->items[0].id < b->items[2].id);
}

static void test_audit_list_bad_limit(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    static const int BAD[] = {0, -1, KS_AUDIT_PAGE_MAX + 1};
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        ks_audit_filter f = {.limit = BAD[i]};
        ks_audit_page p = {0};
        ASSERT_EQ_INT(store->ops->audit_list(store, "acme", &f, &p), KS_ERR_INVALID);
        ASSERT_EQ_INT(p.count, 0);
        ASSERT(p.items == NULL);
    }
    ASSERT_EQ_INT(audit_page("acme", KS_AUDIT_PAGE_MAX, 0, NULL, NULL)->count, 1);
}

const conf_test conf_tests_audit[] = {
    CONF_TEST(test_audit_via_and_address_round_trip),
    CONF_TEST(test_audit_append_needs_the_account),
    CONF_TEST(test_audit_pages_walk_every_entry_once),
    CONF_TEST(test_audit_filters_are_exact),
    CONF_TEST(test_audit_list_bad_limit),
    {NULL, NULL},
};
