/*
 * conformance_limits.c - a key's limits in the store (allowed_cidrs and
 * rate_limit, core/key_limits.h): written by key_insert, changed by
 * key_update (each alone, the other kept), read back the same by key_get,
 * key_list and load_all, untouched by slot transitions.
 */
#include "conformance_util.h"
#include "core/key_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_limits_insert_get_list_load(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_key k;
    key_build(&k, "acme", 1, "limited", R("Owner"), T0);
    const char *const ranges[] = {"203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32", NULL};
    k.allowed_cidrs = slist(ranges);
    k.rate_limit = (ks_rate_limit){100, 60};
    ks_audit_entry a = aud("acme", "key.create", k.key_id);
    ASSERT_EQ_INT(store->ops->key_insert(store, &k, &a), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "plain", R("Owner"), T0), KS_OK);

    ks_key *got = must_get_key("acme", kid("acme", 1));
    ASSERT_EQ_INT(got->allowed_cidrs.count, 3);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ_STR(got->allowed_cidrs.items[i], ranges[i]); /* in the order given */
    ASSERT_EQ_INT(got->rate_limit.limit, 100);
    ASSERT_EQ_INT(got->rate_limit.period_seconds, 60);
    ks_key *plain = must_get_key("acme", kid("acme", 2));
    ASSERT_EQ_INT(plain->allowed_cidrs.count, 0);
    ASSERT_EQ_INT(plain->rate_limit.limit, 0);
    ASSERT_EQ_INT(plain->rate_limit.period_seconds, 0);

    ks_key_filter f = filter(NULL, -1, -1, T0, 10);
    ks_key_page page;
    ASSERT_EQ_INT(store->ops->key_list(store, "acme", &f, &page), KS_OK);
    int seen = 0;
    for (size_t i = 0; i < page.count; i++)
        if (strcmp(page.items[i].key_id, kid("acme", 1)) == 0) {
            seen = 1;
            ASSERT_EQ_INT(page.items[i].allowed_cidrs.count, 3);
            ASSERT_EQ_STR(page.items[i].allowed_cidrs.items[2], "2001:db8::/32");
            ASSERT_EQ_INT(page.items[i].rate_limit.limit, 100);
        } else {
            ASSERT_EQ_INT(page.items[i].allowed_cidrs.count, 0);
            ASSERT_EQ_INT(page.items[i].rate_limit.limit, 0);
        }
    ks_key_page_free(&page);
    ASSERT(seen);

    collector *c = new_collector();
    ks_store_loader loader = {c, collect_account, collect_key};
    ASSERT_EQ_INT(store->ops->load_all(store, &loader), KS_OK);
    const ks_key *loaded = loaded_find_key(c, kid("acme", 1));
    ASSERT(loaded != NULL);
    ASSERT_EQ_INT(loaded->allowed_cidrs.count, 3);
    ASSERT_EQ_STR(loaded->allowed_cidrs.items[0], "203.0.113.7/32");
    ASSERT_EQ_INT(loaded->rate_limit.limit, 100);
    ASSERT_EQ_INT(loaded->rate_limit.period_seconds, 60);
    loaded = loaded_find_key(c, kid("acme", 2));
    ASSERT(loaded != NULL);
    ASSERT_EQ_INT(loaded->allowed_cidrs.count, 0);
    ASSERT_EQ_INT(loaded->rate_limit.limit, 0);
}

static void test_limits_update(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R("Owner"), T0), KS_OK);
    const char *id = kid("acme", 1);
    const char *const two[] = {"192.0.2.0/24", "::1/128", NULL};
    ks_strlist cidrs = slist(two);
    ks_rate_limit rate = {5, 10};

    /* allowed_cidrs alone */
    size_t before = audit_count("acme");
    ks_key_patch p = {.status = -1, .allowed_cidrs = &cidrs};
    ks_audit_entry a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_OK);
    expect_audit("acme", before, "key.update", id);
    ks_key *k = must_get_key("acme", id);
    ASSERT_EQ_INT(k->allowed_cidrs.count, 2);
    ASSERT_EQ_STR(k->allowed_cidrs.items[1], "::1/128");
    ASSERT_EQ_INT(k->rate_limit.limit, 0);

    /* rate_limit alone: the ranges stay */
    p = (ks_key_patch){.status = -1, .rate_limit = &rate};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_EQ_INT(k->allowed_cidrs.count, 2);
    ASSERT_EQ_INT(k->rate_limit.limit, 5);
    ASSERT_EQ_INT(k->rate_limit.period_seconds, 10);

    /* a name change keeps both; a renewal too */
    p = (ks_key_patch){.name = "renamed", .status = -1};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_OK);
    ks_digest next = tok(id, 1);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &next, T0 + 10), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_EQ_STR(k->name, "renamed");
    ASSERT_EQ_INT(k->allowed_cidrs.count, 2);
    ASSERT_EQ_INT(k->rate_limit.limit, 5);

    /* both removed: empty list, limit 0 (period 0 with it) */
    ks_strlist none = {0};
    ks_rate_limit off = {0, 0};
    p = (ks_key_patch){.status = -1, .allowed_cidrs = &none, .rate_limit = &off};
    a = aud("acme", "key.update", id);
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", id, &p, &a), KS_OK);
    k = must_get_key("acme", id);
    ASSERT_EQ_INT(k->allowed_cidrs.count, 0);
    ASSERT_EQ_INT(k->rate_limit.limit, 0);
    ASSERT_EQ_INT(k->rate_limit.period_seconds, 0);

    /* an unknown key changes nothing */
    p = (ks_key_patch){.status = -1, .rate_limit = &rate};
    a = aud("acme", "key.update", kid("acme", 9));
    ASSERT_EQ_INT(store->ops->key_update(store, "acme", kid("acme", 9), &p, &a), KS_ERR_NOT_FOUND);
}

static void test_node_heartbeats(void)
{
    int live = -1;
    ASSERT_EQ_INT(store->ops->node_heartbeat(store, "", 0, T0, T0 - 3600, &live), KS_OK);
    ASSERT_EQ_INT(live, 0); /* nobody yet */
    ASSERT_EQ_INT(store->ops->node_heartbeat(store, "node-a", T0, T0 - 10, T0 - 3600, &live), KS_OK);
    ASSERT_EQ_INT(live, 1);
    ASSERT_EQ_INT(store->ops->node_heartbeat(store, "node-b", T0 + 2, T0 - 8, T0 - 3600, &live), KS_OK);
    ASSERT_EQ_INT(live, 2);
    /* a's row again, later: still two rows, one per node */
    ASSERT_EQ_INT(store->ops->node_heartbeat(store, "node-a", T0 + 5, T0 - 5, T0 - 3600, &live), KS_OK);
    ASSERT_EQ_INT(live, 2);
    /* b not heard of for more than 10 s: not live */
    ASSERT_EQ_INT(store->ops->node_heartbeat(store, "node-a", T0 + 13, T0 + 3, T0 - 3600, &live), KS_OK);
    ASSERT_EQ_INT(live, 1);
    /* pruned rows are gone even for a wide window */
    ASSERT_EQ_INT(store->ops->node_heartbeat(store, "node-a", T0 + 14, T0 - 100, T0 + 4, &live), KS_OK);
    ASSERT_EQ_INT(live, 1);
    /* leaving removes the row at once */
    ASSERT_EQ_INT(store->ops->node_heartbeat(store, "node-a", 0, T0 - 100, T0 - 3600, &live), KS_OK);
    ASSERT_EQ_INT(live, 0);
}

static ks_usage_row urow(const char *key_id, int64_t at, int64_t valid, int64_t refused)
{
    ks_usage_row r = {0};
    snprintf(r.key_id, sizeof r.key_id, "%s", key_id);
    snprintf(r.account, sizeof r.account, "acme");
    r.at = at;
    r.counts[KS_USAGE_VALID] = valid;
    r.counts[KS_USAGE_RATE_LIMITED] = refused;
    return r;
}

static void test_usage_add_list_top_prune(void)
{
    const int64_t H = 3600, D = 86400, base = T0 - T0 % D; /* a day's start */
    char a[KS_KEY_ID_MAX + 1], b[KS_KEY_ID_MAX + 1];
    snprintf(a, sizeof a, "%s", kid("acme", 1));
    snprintf(b, sizeof b, "%s", kid("acme", 2));
    ks_usage_row rows[] = {
        urow(a, base + 60, 3, 1),          /* hour 0, minute 1 */
        urow(a, base + 59 * 60 + 59, 2, 0), /* hour 0, last second */
        urow(a, base + H + 5, 1, 0),       /* hour 1 */
        urow(b, base + H + 120, 7, 2),     /* hour 1 */
        urow(b, base + D + 10, 4, 0),      /* the next day */
    };
    ASSERT_EQ_INT(store->ops->usage_add(store, rows, 5), KS_OK);
    ASSERT_EQ_INT(store->ops->usage_add(store, rows, 1), KS_OK); /* adds again */

    ks_usage_row *out = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(store->ops->usage_list(store, "acme", a, 0, base, base + 2 * D, &out, &n), KS_OK);
    ASSERT_EQ_INT(n, 2);
    ASSERT_EQ_INT(out[0].at, base);
    ASSERT_EQ_INT(out[0].counts[KS_USAGE_VALID], 3 + 2 + 3);
    ASSERT_EQ_INT(out[0].counts[KS_USAGE_RATE_LIMITED], 2);
    ASSERT_EQ_INT(out[1].at, base + H);
    ASSERT_EQ_INT(out[1].counts[KS_USAGE_VALID], 1);
    free(out);

    /* the account, summed per hour; [from, to) */
    ASSERT_EQ_INT(store->ops->usage_list(store, "acme", NULL, 0, base + H, base + D + H, &out, &n), KS_OK);
    ASSERT_EQ_INT(n, 2);
    ASSERT_EQ_INT(out[0].at, base + H);
    ASSERT_EQ_INT(out[0].counts[KS_USAGE_VALID], 8);
    ASSERT_EQ_INT(out[0].counts[KS_USAGE_RATE_LIMITED], 2);
    ASSERT_EQ_INT(out[1].at, base + D);
    ASSERT_EQ_INT(out[1].counts[KS_USAGE_VALID], 4);
    free(out);

    /* days */
    ASSERT_EQ_INT(store->ops->usage_list(store, "acme", NULL, 1, base, base + 2 * D, &out, &n), KS_OK);
    ASSERT_EQ_INT(n, 2);
    ASSERT_EQ_INT(out[0].counts[KS_USAGE_VALID], 3 + 2 + 3 + 1 + 7);
    ASSERT_EQ_INT(out[1].counts[KS_USAGE_VALID], 4);
    free(out);

    /* top keys: b (13) before a (11); at most max */
    ASSERT_EQ_INT(store->ops->usage_top(store, "acme", 0, base, base + 2 * D, 10, &out, &n), KS_OK);
    ASSERT_EQ_INT(n, 2);
    ASSERT_EQ_STR(out[0].key_id, b);
    ASSERT_EQ_INT(out[0].counts[KS_USAGE_VALID], 11);
    ASSERT_EQ_INT(out[0].counts[KS_USAGE_RATE_LIMITED], 2);
    ASSERT_EQ_STR(out[1].key_id, a);
    free(out);
    ASSERT_EQ_INT(store->ops->usage_top(store, "acme", 0, base, base + 2 * D, 1, &out, &n), KS_OK);
    ASSERT_EQ_INT(n, 1);
    free(out);
    /* another account sees nothing */
    ASSERT_EQ_INT(store->ops->usage_list(store, "other", NULL, 0, base, base + 2 * D, &out, &n), KS_OK);
    ASSERT_EQ_INT(n, 0);
    free(out);

    /* prune: hours before the next day, days before the second day */
    ASSERT_EQ_INT(store->ops->usage_prune(store, base + D, base + 1), KS_OK);
    ASSERT_EQ_INT(store->ops->usage_list(store, "acme", NULL, 0, base, base + 2 * D, &out, &n), KS_OK);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_INT(out[0].at, base + D);
    free(out);
    ASSERT_EQ_INT(store->ops->usage_list(store, "acme", NULL, 1, base, base + 2 * D, &out, &n), KS_OK);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_INT(out[0].at, base + D);
    free(out);
}

static void test_unused_keys_due(void)
{
    const int64_t D = 86400;
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK); /* its Owner key kid(acme, 0), created at T0 */
    ASSERT_EQ_INT(put_key("acme", 1, "never used", R("Owner"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 2, "used lately", R("Owner"), T0), KS_OK);
    ASSERT_EQ_INT(put_key("acme", 3, "inactive", R("Owner"), T0), KS_OK);
    set_status("acme", kid("acme", 3), KS_KEY_INACTIVE);
    ks_last_used lu = {0};
    snprintf(lu.key_id, sizeof lu.key_id, "%s", kid("acme", 2));
    lu.hash = tok(kid("acme", 2), 0);
    lu.last_used_at = T0 + 50 * D;
    ASSERT_EQ_INT(store->ops->last_used_flush(store, &lu, 1), KS_OK);

    ks_unused_due *due = NULL;
    size_t n = 0;
    /* the setting off: nothing is due */
    ASSERT_EQ_INT(store->ops->unused_keys_due(store, T0 + 100 * D, 10, &due, &n), KS_OK);
    ASSERT_EQ_INT(n, 0);
    free(due);
    ks_settings st = KS_SETTINGS_DEFAULT;
    st.deactivate_unused_days = 30;
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);
    ks_settings back;
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &back), KS_OK);
    ASSERT_EQ_INT(back.deactivate_unused_days, 30);
    /* day 29: none; day 31: the never-used ones (from creation); day 81: the used one too */
    ASSERT_EQ_INT(store->ops->unused_keys_due(store, T0 + 29 * D, 10, &due, &n), KS_OK);
    ASSERT_EQ_INT(n, 0);
    free(due);
    ASSERT_EQ_INT(store->ops->unused_keys_due(store, T0 + 31 * D, 10, &due, &n), KS_OK);
    ASSERT_EQ_INT(n, 2);
    for (size_t i = 0; i < n; i++) {
        ASSERT(strcmp(due[i].key_id, kid("acme", 0)) == 0 || strcmp(due[i].key_id, kid("acme", 1)) == 0);
        ASSERT_EQ_STR(due[i].account, "acme");
        ASSERT_EQ_INT(due[i].days, 30);
        ASSERT_EQ_INT(due[i].last_used_at, 0);
    }
    free(due);
    ASSERT_EQ_INT(store->ops->unused_keys_due(store, T0 + 81 * D, 10, &due, &n), KS_OK);
    ASSERT_EQ_INT(n, 3);
    ASSERT_EQ_STR(due[2].key_id, kid("acme", 2)); /* oldest use first: the used one last */
    ASSERT_EQ_INT(due[2].last_used_at, T0 + 50 * D);
    free(due);
    ASSERT_EQ_INT(store->ops->unused_keys_due(store, T0 + 81 * D, 1, &due, &n), KS_OK);
    ASSERT_EQ_INT(n, 1);
    free(due);
    /* off again; an out-of-range value is refused */
    st.deactivate_unused_days = 0;
    a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &back), KS_OK);
    ASSERT_EQ_INT(back.deactivate_unused_days, 0);
    st.deactivate_unused_days = 10;
    a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_ERR_INVALID);
}

const conf_test conf_tests_limits[] = {
    CONF_TEST(test_unused_keys_due),
    CONF_TEST(test_usage_add_list_top_prune),
    CONF_TEST(test_node_heartbeats),
    CONF_TEST(test_limits_insert_get_list_load),
    CONF_TEST(test_limits_update),
    {NULL, NULL},
};
