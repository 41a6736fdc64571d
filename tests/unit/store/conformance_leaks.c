/*
 * conformance_leaks.c - store conformance of leaked tokens: token_find
 * finds the key and slot holding a token by its keyed hash (current and
 * old, across accounts, gone once the token is), and the setting
 * leaked_token_action round-trips (default alert).
 */
#include "conformance_util.h"

static void test_token_find(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    ASSERT_EQ_INT(put_key("beta", 1, "b1", R0, T0), KS_OK);
    char account[KS_ACCOUNT_MAX + 1], key_id[KS_KEY_ID_MAX + 1];
    ks_slot slot = KS_SLOT_NONE;
    ks_digest d = tok(kid("beta", 1), 0);
    ASSERT_EQ_INT(store->ops->token_find(store, &d, account, key_id, &slot), KS_OK);
    ASSERT_EQ_STR(account, "beta");
    ASSERT_EQ_STR(key_id, kid("beta", 1));
    ASSERT_EQ_INT(slot, KS_SLOT_CURRENT);
    /* renew later: the first token is now the old one, the new one current */
    ks_digest d1 = tok(kid("beta", 1), 1);
    ASSERT_EQ_INT(apply("beta", kid("beta", 1), KS_SLOT_OP_RENEW_LATER, &d1, T0 + DAY), KS_OK);
    ASSERT_EQ_INT(store->ops->token_find(store, &d, account, key_id, &slot), KS_OK);
    ASSERT_EQ_INT(slot, KS_SLOT_OLD);
    ASSERT_EQ_INT(store->ops->token_find(store, &d1, account, key_id, &slot), KS_OK);
    ASSERT_EQ_INT(slot, KS_SLOT_CURRENT);
    ASSERT_EQ_STR(key_id, kid("beta", 1));
    /* deleted old token: no longer found */
    ASSERT_EQ_INT(apply("beta", kid("beta", 1), KS_SLOT_OP_DELETE_OLD, NULL, T0 + DAY), KS_OK);
    ASSERT_EQ_INT(store->ops->token_find(store, &d, account, key_id, &slot), KS_ERR_NOT_FOUND);
    ks_digest never = tok("kst-nobody-aaaaaaaaaa", 9);
    ASSERT_EQ_INT(store->ops->token_find(store, &never, account, key_id, &slot), KS_ERR_NOT_FOUND);
    /* the Owner key of acme is found in acme */
    ks_digest owner = tok(kid("acme", 0), 0);
    ASSERT_EQ_INT(store->ops->token_find(store, &owner, account, key_id, &slot), KS_OK);
    ASSERT_EQ_STR(account, "acme");
}

static void test_leaked_token_action_setting(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_settings st;
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &st), KS_OK);
    ASSERT_EQ_INT(st.leaked_token_action, KS_LEAKED_ALERT);
    st.leaked_token_action = KS_LEAKED_REVOKE;
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);
    ks_settings got;
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.leaked_token_action, KS_LEAKED_REVOKE);
    ASSERT_EQ_INT(got.renewal_notice_days, st.renewal_notice_days);
    st.leaked_token_action = KS_LEAKED_ALERT;
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.leaked_token_action, KS_LEAKED_ALERT);
}

const conf_test conf_tests_leaks[] = {
    CONF_TEST(test_token_find),
    CONF_TEST(test_leaked_token_action_setting),
    {NULL, NULL},
};
