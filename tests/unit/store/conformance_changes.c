/*
 * conformance_changes.c - the change log (changes_head, changes_since,
 * changes_compact) and the server secret's fingerprint (secret_check,
 * holds_data), the same on every backend: a running server follows the log
 * to see what other processes (other nodes, offline commands) wrote.
 */
#include "conformance_util.h"

#include <stdio.h>
#include <string.h>

#define MAX_CHANGES 64

typedef struct {
    ks_change items[MAX_CHANGES];
    size_t n;
} change_list;

static change_list *changes_after(int64_t after)
{
    change_list *c = xcalloc(sizeof *c);
    ASSERT_EQ_INT(store->ops->changes_since(store, after, c->items, MAX_CHANGES, &c->n), KS_OK);
    return c;
}

#define ASSERT_CHANGE(c, i, k, acct, key)                 \
    do {                                                  \
        ASSERT_EQ_INT((c)->items[i].kind, k);             \
        ASSERT_EQ_STR((c)->items[i].account, acct);       \
        ASSERT_EQ_STR((c)->items[i].key_id, key);         \
    } while (0)

static void test_change_log_names_each_write(void)
{
    ASSERT(store->ops->change_feed);
    int64_t head = -1;
    ASSERT_EQ_INT(store->ops->changes_head(store, &head), KS_OK);
    ASSERT_EQ_INT(head, 0);
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "k", R0, T0), KS_OK);
    set_status("beta", kid("beta", 1), 0);
    ks_settings st = {.token_duration_months = 6, .enforce_duration = 1, .renewal_notice_days = 14};
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);
    ASSERT_EQ_INT(create_role("acme", "Reader", R("orders.read")), KS_OK);
    ASSERT_EQ_INT(update_role("acme", "Reader", "Readers", NULL), KS_OK);
    ks_strlist granted = slist(R("Readers"));
    a = aud("acme", "external.add", kid("beta", 1));
    ASSERT_EQ_INT(store->ops->external_add(store, "acme", kid("beta", 1), &granted, T0, &a), KS_OK);
    ks_stored_signing_key sk = {.kid = "kid1", .sealed_len = 10, .created_at = 1};
    ASSERT_EQ_INT(store->ops->signing_key_add(store, &sk), KS_OK);
    /* no change: a failed write, last use */
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_ERR_NAME_TAKEN);
    ks_last_used lu = {.hash = tok(kid("beta", 1), 0), .last_used_at = T0 + 5};
    snprintf(lu.key_id, sizeof lu.key_id, "%s", kid("beta", 1));
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &lu, 1), KS_OK);
    a = aud("beta", "key.delete", kid("beta", 1));
    ASSERT_EQ_INT(store->ops->key_delete(store, "beta", kid("beta", 1), &a), KS_OK);

    change_list *c = changes_after(0);
    ASSERT_EQ_INT((int)c->n, 10);
    for (size_t i = 1; i < c->n; i++)
        ASSERT(c->items[i].seq > c->items[i - 1].seq);
    ASSERT_CHANGE(c, 0, KS_CHANGE_ACCOUNT_KEYS, "acme", "");
    ASSERT_CHANGE(c, 1, KS_CHANGE_ACCOUNT_KEYS, "beta", "");
    ASSERT_CHANGE(c, 2, KS_CHANGE_KEY, "beta", kid("beta", 1));
    ASSERT_CHANGE(c, 3, KS_CHANGE_KEY, "beta", kid("beta", 1));
    ASSERT_CHANGE(c, 4, KS_CHANGE_ACCOUNT, "acme", "");
    ASSERT_CHANGE(c, 5, KS_CHANGE_ACCOUNT, "acme", "");
    ASSERT_CHANGE(c, 6, KS_CHANGE_ACCOUNT_KEYS, "acme", ""); /* a rename */
    ASSERT_CHANGE(c, 7, KS_CHANGE_KEY, "beta", kid("beta", 1)); /* under its home account */
    ASSERT_CHANGE(c, 8, KS_CHANGE_SIGNING_KEYS, "", "");
    ASSERT_CHANGE(c, 9, KS_CHANGE_KEY, "beta", kid("beta", 1));
    ASSERT_EQ_INT(store->ops->changes_head(store, &head), KS_OK);
    ASSERT(head == c->items[9].seq);
    /* read again from the middle, and once more with nothing new */
    change_list *tail = changes_after(c->items[7].seq);
    ASSERT_EQ_INT((int)tail->n, 2);
    ASSERT_EQ_INT((int)changes_after(head)->n, 0);
    /* a later write is seen by the next read */
    ASSERT_EQ_INT(put_key("acme", 2, "later", R0, T0), KS_OK);
    change_list *more = changes_after(head);
    ASSERT_EQ_INT((int)more->n, 1);
    ASSERT_CHANGE(more, 0, KS_CHANGE_KEY, "acme", kid("acme", 2));
}

static void test_change_log_paging_and_compaction(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    for (int i = 1; i <= 3; i++)
        ASSERT_EQ_INT(put_key("acme", i, "k", R0, T0), KS_OK);
    for (int round = 0; round < 3; round++)
        for (int i = 1; i <= 3; i++)
            set_status("acme", kid("acme", i), round % 2);
    ks_change page[5];
    size_t n;
    int64_t after = 0, total = 0, last = 0;
    do {
        ASSERT_EQ_INT(store->ops->changes_since(store, after, page, 5, &n), KS_OK);
        for (size_t i = 0; i < n; i++) {
            ASSERT(page[i].seq > last);
            last = page[i].seq;
        }
        total += (int64_t)n;
        if (n)
            after = page[n - 1].seq;
    } while (n == 5);
    ASSERT_EQ_INT((int)total, 13);
    ASSERT_EQ_INT(store->ops->changes_compact(store), KS_OK);
    change_list *c = changes_after(0);
    ASSERT_EQ_INT((int)c->n, 4); /* the newest row of each subject */
    ASSERT_CHANGE(c, 0, KS_CHANGE_ACCOUNT_KEYS, "acme", "");
    ASSERT(c->items[3].seq == last);
    int64_t head;
    ASSERT_EQ_INT(store->ops->changes_head(store, &head), KS_OK);
    ASSERT(head == last);
}

static ks_digest fill(unsigned char b)
{
    ks_digest d;
    memset(d.bytes, b, sizeof d.bytes);
    return d;
}

static void test_secret_fingerprint_and_holds_data(void)
{
    int holds = -1;
    ASSERT_EQ_INT(store->ops->holds_data(store, &holds), KS_OK);
    ASSERT_EQ_INT(holds, 0); /* new and empty: a secret may be made for it */
    ks_digest a = fill(1), b = fill(2);
    ASSERT_EQ_INT(store->ops->secret_check(store, &a), KS_OK); /* recorded */
    ASSERT_EQ_INT(store->ops->holds_data(store, &holds), KS_OK);
    ASSERT_EQ_INT(holds, 1);
    ASSERT_EQ_INT(store->ops->secret_check(store, &a), KS_OK);
    ASSERT_EQ_INT(store->ops->secret_check(store, &b), KS_ERR_INVALID);
}

static void test_holds_data_with_an_account(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    int holds = 0;
    ASSERT_EQ_INT(store->ops->holds_data(store, &holds), KS_OK);
    ASSERT_EQ_INT(holds, 1);
}

const conf_test conf_tests_changes[] = {
    CONF_TEST(test_change_log_names_each_write),
    CONF_TEST(test_change_log_paging_and_compaction),
    CONF_TEST(test_secret_fingerprint_and_holds_data),
    CONF_TEST(test_holds_data_with_an_account),
    {NULL, NULL},
};
