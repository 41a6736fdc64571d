/*
 * conformance_rotation.c - store conformance of rotation on autopilot:
 * old-token deadlines kept with the slots, the sweeps' reads (old tokens
 * due, notices owed) and notice marks (once per token), the sweeps'
 * settings, webhooks, and the outbox written in the transaction of the
 * write that raised the event, claimed once and finished.
 */
#include "conformance_util.h"
#include "core/token_age.h"

#include <string.h>

/* An event of type for account (body fixed), optionally for one webhook. */
static ks_event event_of(const char *id, const char *type, const char *webhook_id, int64_t at)
{
    return (ks_event){.id = id, .type = type, .body = "{\"type\":\"x\"}", .webhook_id = webhook_id, .at = at};
}

/* A webhook of account "acme" subscribed to events, with a fake sealed secret. */
static void put_webhook(const char *id, const char *url, const char *const *events, int enabled)
{
    ks_webhook w = {0};
    snprintf(w.id, sizeof w.id, "%s", id);
    snprintf(w.account, sizeof w.account, "acme");
    w.url = (char *)url;
    w.events = slist(events);
    w.enabled = enabled;
    static int64_t made;
    w.created_at = T0 + ++made; /* later ones list first */
    w.sealed_len = 40;
    memset(w.sealed_secret, 0x5a, w.sealed_len);
    ks_audit_entry a = aud("acme", "webhook.create", id);
    ASSERT_EQ_INT(store->ops->webhook_create(store, &w, &a), KS_OK);
}

static ks_delivery_page *deliveries(const char *webhook_id, int limit, int64_t before)
{
    ks_delivery_page *p = xcalloc(sizeof *p);
    ASSERT_EQ_INT(store->ops->delivery_list(store, "acme", webhook_id, before, limit, p), KS_OK);
    defer(p, (void (*)(void *))ks_delivery_page_free);
    return p;
}

static void test_settings_of_the_sweeps(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_settings st;
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &st), KS_OK);
    ASSERT_EQ_INT(st.auto_delete_old_token_hours, 0);
    ASSERT_EQ_INT(st.renewal_notice_days, 14);
    st.auto_delete_old_token_hours = 720;
    st.renewal_notice_days = 0;
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);
    ks_settings got;
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.auto_delete_old_token_hours, 720);
    ASSERT_EQ_INT(got.renewal_notice_days, 0);
    st.renewal_notice_days = 61; /* outside the range: the store refuses it too */
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_ERR_INVALID);
    st.renewal_notice_days = 5;
    st.auto_delete_old_token_hours = 0; /* off: stored as NULL */
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);
    ASSERT_EQ_INT(store->ops->settings_get(store, "acme", &got), KS_OK);
    ASSERT_EQ_INT(got.auto_delete_old_token_hours, 0);
    ASSERT_EQ_INT(got.renewal_notice_days, 5);
}

static void test_deadline_kept_and_due(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    const char *id = kid("acme", 1);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    ks_digest d = tok(id, 1);
    ks_audit_entry a = aud("acme", "key.renew", id);
    ks_slot_change renew = {.op = KS_SLOT_OP_RENEW_LATER, .new_hash = &d, .old_ends_at = T0 + 2 * DAY};
    ks_key after = {0};
    ASSERT_EQ_INT(store->ops->key_apply_slots(store, "acme", id, &renew, T0 + DAY, &a, &after), KS_OK);
    int64_t ends = after.slots.old.ends_at;
    ks_key_free(&after);
    ASSERT_EQ_INT(ends, T0 + 2 * DAY);
    ASSERT_EQ_INT(must_get_key("acme", id)->slots.old.ends_at, T0 + 2 * DAY);
    collector *c = new_collector();
    ks_store_loader l = {c, collect_account, collect_key};
    ASSERT_EQ_INT(store->ops->load_all(store, &l), KS_OK);
    ASSERT_EQ_INT(loaded_find_key(c, id)->slots.old.ends_at, T0 + 2 * DAY);

    ks_old_token_due *due = NULL;
    size_t n = 9;
    ASSERT_EQ_INT(store->ops->old_tokens_due(store, T0 + 2 * DAY - 1, 10, &due, &n), KS_OK);
    free(due);
    ASSERT_EQ_INT(n, 0);
    ASSERT_EQ_INT(store->ops->old_tokens_due(store, T0 + 2 * DAY, 10, &due, &n), KS_OK);
    defer(due, free);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_STR(due[0].key_id, id);
    ASSERT_EQ_STR(due[0].account, "acme");
    /* The sweep's transition checks again inside its transaction. */
    size_t before = audit_count("acme");
    ks_slot_change sweep = {.op = KS_SLOT_OP_SWEEP_OLD};
    a = aud("acme", "key.delete_old_token", id);
    ASSERT_EQ_INT(store->ops->key_apply_slots(store, "acme", id, &sweep, T0 + 2 * DAY - 1, &a, NULL),
                  KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(audit_count("acme"), before);
    ASSERT_EQ_INT(store->ops->key_apply_slots(store, "acme", id, &sweep, T0 + 2 * DAY, &a, NULL), KS_OK);
    expect_audit("acme", before, "key.delete_old_token", id);
    ASSERT_EQ_INT(must_get_key("acme", id)->slots.old.present, 0);
    ASSERT_EQ_INT(store->ops->old_tokens_due(store, T0 + 9 * DAY, 10, &due, &n), KS_OK);
    free(due);
    ASSERT_EQ_INT(n, 0);
}

static void test_auto_delete_due_when_safe(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ks_settings st = {.token_duration_months = 3, .auto_delete_old_token_hours = 24, .renewal_notice_days = 14};
    ks_audit_entry a = aud("acme", "settings.update", "acme");
    ASSERT_EQ_INT(store->ops->settings_put(store, "acme", &st, &a), KS_OK);
    const char *id = kid("acme", 1);
    ASSERT_EQ_INT(put_key("acme", 1, "k", R0, T0), KS_OK);
    ks_digest d = tok(id, 1);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &d, T0 + DAY), KS_OK);
    ks_old_token_due *due = NULL;
    size_t n = 0;
    /* The new token has not verified: never due. */
    ASSERT_EQ_INT(store->ops->old_tokens_due(store, T0 + 30 * DAY, 10, &due, &n), KS_OK);
    free(due);
    ASSERT_EQ_INT(n, 0);
    /* New used an hour after the renewal, old last an hour after that. */
    ks_last_used lu[2] = {{.hash = d, .last_used_at = T0 + DAY + 3600},
                          {.hash = tok(id, 0), .last_used_at = T0 + DAY + 7200}};
    snprintf(lu[0].key_id, sizeof lu[0].key_id, "%s", id);
    snprintf(lu[1].key_id, sizeof lu[1].key_id, "%s", id);
    ASSERT_EQ_INT(store->ops->last_used_flush(store, lu, 2), KS_OK);
    ASSERT_EQ_INT(store->ops->old_tokens_due(store, T0 + 2 * DAY + 7199, 10, &due, &n), KS_OK);
    free(due);
    ASSERT_EQ_INT(n, 0);
    ASSERT_EQ_INT(store->ops->old_tokens_due(store, T0 + 2 * DAY + 7200, 10, &due, &n), KS_OK);
    defer(due, free);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_INT(due[0].auto_delete_hours, 24);
    ks_slot_change sweep = {.op = KS_SLOT_OP_SWEEP_OLD, .auto_delete_hours = 24};
    a = aud("acme", "key.delete_old_token", id);
    ASSERT_EQ_INT(store->ops->key_apply_slots(store, "acme", id, &sweep, T0 + 2 * DAY + 7199, &a, NULL),
                  KS_ERR_NO_OLD_TOKEN);
    ASSERT_EQ_INT(store->ops->key_apply_slots(store, "acme", id, &sweep, T0 + 2 * DAY + 7200, &a, NULL), KS_OK);
}

static void test_notices_once_per_token(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    /* Made a month before the owner key, so its notices come first. */
    const char *id = kid("acme", 1);
    int64_t made = T0 - 30 * DAY;
    ASSERT_EQ_INT(put_key("acme", 1, "ERP", R0, made), KS_OK);
    int64_t expires = ks_token_expires_at(made, 3);
    ks_notice_due *due = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(store->ops->notices_due(store, expires - 14 * DAY - 1, 10, &due, &n), KS_OK);
    ks_notices_due_free(due, n);
    ASSERT_EQ_INT(n, 0);
    ASSERT_EQ_INT(store->ops->notices_due(store, expires - 14 * DAY, 10, &due, &n), KS_OK);
    ASSERT_EQ_INT(n, 1);
    int ok = strcmp(due[0].key_id, id) == 0 && strcmp(due[0].name, "ERP") == 0 && due[0].created_at == made &&
             due[0].notices == 0 && due[0].months == 3 && due[0].notice_days == 14;
    ks_notices_due_free(due, n);
    ASSERT(ok);
    put_webhook("wh_aaaaaaaaaaaaaaaaaaaa", "http://127.0.0.1:9/", R("key.renewal_due"), 1);
    ks_event e = event_of("msg_1", "key.renewal_due", NULL, expires - 14 * DAY);
    ks_notice_mark m[2] = {{"acme", id, made, KS_NOTICE_DUE, &e, 0}, {"acme", id, made, KS_NOTICE_DUE, &e, 0}};
    ASSERT_EQ_INT(store->ops->notice_mark(store, m, 2), KS_OK);
    ASSERT_EQ_INT(m[0].marked, 1);
    ASSERT_EQ_INT(m[1].marked, 0); /* once */
    ASSERT_EQ_INT(deliveries("wh_aaaaaaaaaaaaaaaaaaaa", 10, 0)->count, 1);
    ASSERT_EQ_INT(must_get_key("acme", id)->slots.current.notices, KS_NOTICE_DUE);
    ASSERT_EQ_INT(store->ops->notices_due(store, expires - DAY, 10, &due, &n), KS_OK);
    ks_notices_due_free(due, n);
    ASSERT_EQ_INT(n, 0); /* nothing more owed before expiry */
    /* A mark for another token (an older created_at) records nothing. */
    ks_notice_mark stale = {"acme", id, made - 1, KS_NOTICE_RECOMMENDED, &e, 0};
    ASSERT_EQ_INT(store->ops->notice_mark(store, &stale, 1), KS_OK);
    ASSERT_EQ_INT(stale.marked, 0);
    ASSERT_EQ_INT(store->ops->notices_due(store, expires + 1, 10, &due, &n), KS_OK);
    ks_notices_due_free(due, n);
    ASSERT_EQ_INT(n, 1);
    /* Renewal notices belong to a token: the renewed key owes none, and the
     * old token keeps its marks. */
    ks_digest d = tok(id, 1);
    ASSERT_EQ_INT(apply("acme", id, KS_SLOT_OP_RENEW_LATER, &d, expires + 2), KS_OK);
    ASSERT_EQ_INT(must_get_key("acme", id)->slots.current.notices, 0);
    ASSERT_EQ_INT(must_get_key("acme", id)->slots.old.notices, KS_NOTICE_DUE);
    ASSERT_EQ_INT(store->ops->notices_due(store, expires + 3, 10, &due, &n), KS_OK);
    ks_notices_due_free(due, n);
    ASSERT_EQ_INT(n, 0);
}

static void test_webhooks_crud(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    put_webhook("wh_aaaaaaaaaaaaaaaaaaaa", "https://a.example/hook", R("key.created", "token.renewed"), 1);
    put_webhook("wh_bbbbbbbbbbbbbbbbbbbb", "https://b.example/hook", R("key.deleted"), 0);
    ks_webhook *items = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(store->ops->webhook_list(store, "acme", &items, &n), KS_OK);
    int ok = n == 2 && strcmp(items[0].id, "wh_bbbbbbbbbbbbbbbbbbbb") == 0 && items[0].enabled == 0 &&
             strcmp(items[1].url, "https://a.example/hook") == 0 && items[1].events.count == 2 &&
             strcmp(items[1].events.items[1], "token.renewed") == 0 && items[1].sealed_len == 40 &&
             items[1].sealed_secret[39] == 0x5a;
    ks_webhooks_free(items, n);
    ASSERT(ok);
    ks_audit_entry a = aud("acme", "webhook.update", "wh_aaaaaaaaaaaaaaaaaaaa");
    ks_strlist ev = slist(R("key.deleted"));
    ASSERT_EQ_INT(store->ops->webhook_update(store, "acme", "wh_aaaaaaaaaaaaaaaaaaaa", NULL, &ev, 0, &a), KS_OK);
    ks_webhook w;
    ASSERT_EQ_INT(store->ops->webhook_get(store, "acme", "wh_aaaaaaaaaaaaaaaaaaaa", &w), KS_OK);
    ok = strcmp(w.url, "https://a.example/hook") == 0 && w.enabled == 0 && w.events.count == 1;
    ks_webhook_free(&w);
    ASSERT(ok);
    ASSERT_EQ_INT(store->ops->webhook_update(store, "acme", "wh_cccccccccccccccccccc", "https://x/", NULL, -1, &a),
                  KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(store->ops->webhook_get(store, "beta", "wh_aaaaaaaaaaaaaaaaaaaa", &w), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(store->ops->webhook_delete(store, "beta", "wh_aaaaaaaaaaaaaaaaaaaa", &a), KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(store->ops->webhook_delete(store, "acme", "wh_aaaaaaaaaaaaaaaaaaaa", &a), KS_OK);
    ASSERT_EQ_INT(store->ops->webhook_get(store, "acme", "wh_aaaaaaaaaaaaaaaaaaaa", &w), KS_ERR_NOT_FOUND);
}

static void test_outbox_in_the_write(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    ASSERT_EQ_INT(make_account("beta", 3, 0), KS_OK);
    put_webhook("wh_aaaaaaaaaaaaaaaaaaaa", "http://127.0.0.1:9/a", R("key.created", "key.deleted"), 1);
    put_webhook("wh_bbbbbbbbbbbbbbbbbbbb", "http://127.0.0.1:9/b", R("token.renewed"), 1);
    put_webhook("wh_dddddddddddddddddddd", "http://127.0.0.1:9/d", R("key.created"), 0); /* disabled */
    /* outbox_writes counts the writes that queued a delivery (the webhook
     * worker's wake-up test), and only those. */
    uint64_t queued = atomic_load(&store->outbox_writes);
    /* key_insert with an event: one row for the one enabled subscriber. */
    ks_key k;
    key_build(&k, "acme", 1, "k", R0, T0);
    ks_event e = event_of("msg_created", "key.created", NULL, T0 + 5);
    ks_audit_entry a = aud("acme", "key.create", k.key_id);
    a.event = &e;
    ASSERT_EQ_INT(store->ops->key_insert(store, &k, &a), KS_OK);
    ASSERT_EQ_INT(atomic_load(&store->outbox_writes), queued + 1);
    /* A write that fails writes no event. */
    ASSERT_EQ_INT(store->ops->key_insert(store, &k, &a), KS_ERR_NAME_TAKEN);
    ks_delivery_page *p = deliveries("wh_aaaaaaaaaaaaaaaaaaaa", 10, 0);
    ASSERT_EQ_INT(p->count, 1);
    ASSERT_EQ_STR(p->items[0].event_id, "msg_created");
    ASSERT_EQ_STR(p->items[0].event, "key.created");
    ASSERT_EQ_STR(p->items[0].body, "{\"type\":\"x\"}");
    ASSERT_EQ_INT(p->items[0].status, KS_DELIVERY_PENDING);
    ASSERT_EQ_INT(p->items[0].attempts, 0);
    ASSERT_EQ_INT(deliveries("wh_bbbbbbbbbbbbbbbbbbbb", 10, 0)->count, 0);
    ASSERT_EQ_INT(deliveries("wh_dddddddddddddddddddd", 10, 0)->count, 0);
    /* A slot transition carries its event the same way; another account's
     * event reaches none of acme's webhooks. */
    ks_digest d = tok(k.key_id, 1);
    ks_event r = event_of("msg_renewed", "token.renewed", NULL, T0 + 6);
    a = aud("acme", "key.renew", k.key_id);
    a.event = &r;
    ks_slot_change renew = {.op = KS_SLOT_OP_RENEW_LATER, .new_hash = &d};
    queued = atomic_load(&store->outbox_writes); /* a failed write may have counted before its rollback */
    ASSERT_EQ_INT(store->ops->key_apply_slots(store, "acme", k.key_id, &renew, T0 + 6, &a, NULL), KS_OK);
    ASSERT_EQ_INT(atomic_load(&store->outbox_writes), queued + 1);
    ASSERT_EQ_INT(store->ops->key_apply_slots(store, "acme", k.key_id, &renew, T0 + 7, &a, NULL),
                  KS_ERR_OLD_TOKEN_EXISTS); /* refused: no second event */
    queued = atomic_load(&store->outbox_writes);
    ks_audit_entry b = aud("beta", "x", "beta");
    b.event = &r;
    ASSERT_EQ_INT(store->ops->audit_append(store, &b), KS_OK);
    ASSERT_EQ_INT(atomic_load(&store->outbox_writes), queued); /* no subscriber in beta */
    ASSERT_EQ_INT(deliveries("wh_bbbbbbbbbbbbbbbbbbbb", 10, 0)->count, 1);
    /* A test event goes to its webhook only, whatever it subscribes to. */
    ks_event t = event_of("msg_test", "webhook.test", "wh_bbbbbbbbbbbbbbbbbbbb", T0 + 8);
    a = aud("acme", "webhook.test", "wh_bbbbbbbbbbbbbbbbbbbb");
    a.event = &t;
    ASSERT_EQ_INT(store->ops->audit_append(store, &a), KS_OK);
    ASSERT_EQ_INT(atomic_load(&store->outbox_writes), queued + 1);
    p = deliveries("wh_bbbbbbbbbbbbbbbbbbbb", 10, 0);
    ASSERT_EQ_INT(p->count, 2);
    ASSERT_EQ_STR(p->items[0].event_id, "msg_test"); /* newest first */
    ASSERT_EQ_INT(deliveries("wh_aaaaaaaaaaaaaaaaaaaa", 10, 0)->count, 1);
    /* Paging. */
    p = deliveries("wh_bbbbbbbbbbbbbbbbbbbb", 1, 0);
    ASSERT_EQ_INT(p->count, 1);
    ASSERT(p->next_id > 0);
    ks_delivery_page *p2 = deliveries("wh_bbbbbbbbbbbbbbbbbbbb", 1, p->next_id);
    ASSERT_EQ_STR(p2->items[0].event_id, "msg_renewed");
    ASSERT_EQ_INT(p2->next_id, 0);
    ks_delivery_page bad = {0};
    ASSERT_EQ_INT(store->ops->delivery_list(store, "acme", "wh_bbbbbbbbbbbbbbbbbbbb", 0, 501, &bad), KS_ERR_INVALID);
}

static void test_claim_finish_stats(void)
{
    ASSERT_EQ_INT(make_account("acme", 3, 0), KS_OK);
    put_webhook("wh_aaaaaaaaaaaaaaaaaaaa", "http://127.0.0.1:9/a", R("key.deleted"), 1);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "msg_%d", i);
        ks_event e = event_of(id, "key.deleted", NULL, T0 + i);
        ks_audit_entry a = aud("acme", "x", "acme");
        a.event = &e;
        ASSERT_EQ_INT(store->ops->audit_append(store, &a), KS_OK);
    }
    int64_t pending = 0, oldest = 0;
    ASSERT_EQ_INT(store->ops->outbox_stats(store, &pending, &oldest), KS_OK);
    ASSERT_EQ_INT(pending, 3);
    ASSERT_EQ_INT(oldest, T0);
    ks_delivery *got = NULL;
    size_t n = 0;
    ASSERT_EQ_INT(store->ops->delivery_claim(store, T0 + 1, T0 + 61, 2, &got, &n), KS_OK);
    ks_delivery first = got ? got[0] : (ks_delivery){0};
    int ok = n == 2 && strcmp(got[0].url, "http://127.0.0.1:9/a") == 0 && got[0].sealed_len == 40 &&
             strcmp(got[0].event, "key.deleted") == 0;
    int64_t id0 = n ? first.id : 0, id1 = n > 1 ? got[1].id : 0;
    ks_deliveries_free(got, n);
    ASSERT(ok);
    /* Taken ones are not taken again until the lease ends; the third is not due before T0 + 2. */
    ASSERT_EQ_INT(store->ops->delivery_claim(store, T0 + 1, T0 + 61, 10, &got, &n), KS_OK);
    ks_deliveries_free(got, n);
    ASSERT_EQ_INT(n, 0);
    ASSERT_EQ_INT(store->ops->delivery_claim(store, T0 + 2, T0 + 62, 10, &got, &n), KS_OK);
    ks_deliveries_free(got, n);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_INT(store->ops->delivery_finish(store, id0, KS_DELIVERY_DELIVERED, 204, T0 + 3, T0 + 3), KS_OK);
    ASSERT_EQ_INT(store->ops->delivery_finish(store, id1, KS_DELIVERY_PENDING, 500, T0 + 3, T0 + 10), KS_OK);
    ASSERT_EQ_INT(store->ops->delivery_finish(store, 999999, KS_DELIVERY_PENDING, 500, T0 + 3, T0 + 10),
                  KS_ERR_NOT_FOUND);
    ASSERT_EQ_INT(store->ops->delivery_claim(store, T0 + 9, T0 + 69, 10, &got, &n), KS_OK);
    ks_deliveries_free(got, n);
    ASSERT_EQ_INT(n, 0); /* retry not due yet, the third still leased */
    ASSERT_EQ_INT(store->ops->delivery_claim(store, T0 + 10, T0 + 70, 10, &got, &n), KS_OK);
    ok = n == 1 && got[0].id == id1 && got[0].attempts == 1 && got[0].response_code == 500;
    ks_deliveries_free(got, n);
    ASSERT(ok);
    if (store->ops->delivery_release) {
        ASSERT_EQ_INT(store->ops->delivery_release(store), KS_OK);
        ASSERT_EQ_INT(store->ops->delivery_claim(store, T0 + 10, T0 + 70, 10, &got, &n), KS_OK);
        ks_deliveries_free(got, n);
        ASSERT_EQ_INT(n, 2); /* every lease dropped */
    }
    ks_delivery_page *p = deliveries("wh_aaaaaaaaaaaaaaaaaaaa", 10, 0);
    ASSERT_EQ_INT(p->items[2].status, KS_DELIVERY_DELIVERED);
    ASSERT_EQ_INT(p->items[2].response_code, 204);
    ASSERT_EQ_INT(p->items[2].attempts, 1);
    ASSERT_EQ_INT(p->items[2].last_attempt_at, T0 + 3);
    ASSERT_EQ_INT(store->ops->outbox_stats(store, &pending, &oldest), KS_OK);
    ASSERT_EQ_INT(pending, 2);
    ASSERT_EQ_INT(oldest, T0 + 1);
    ASSERT_EQ_INT(store->ops->delivery_purge(store, T0 + 100), KS_OK);
    ASSERT_EQ_INT(deliveries("wh_aaaaaaaaaaaaaaaaaaaa", 10, 0)->count, 2); /* only finished ones go */
    /* Deleting the webhook takes its deliveries with it. */
    ks_audit_entry a = aud("acme", "webhook.delete", "wh_aaaaaaaaaaaaaaaaaaaa");
    ASSERT_EQ_INT(store->ops->webhook_delete(store, "acme", "wh_aaaaaaaaaaaaaaaaaaaa", &a), KS_OK);
    ASSERT_EQ_INT(store->ops->outbox_stats(store, &pending, &oldest), KS_OK);
    ASSERT_EQ_INT(pending, 0);
}

static void test_sweep_lock(void)
{
    int held = 0;
    ASSERT_EQ_INT(store->ops->sweep_lock(store, 1, &held), KS_OK);
    ASSERT_EQ_INT(held, 1);
    ASSERT_EQ_INT(store->ops->sweep_lock(store, 0, &held), KS_OK);
    ASSERT_EQ_INT(held, 0);
}

const conf_test conf_tests_rotation[] = {
    CONF_TEST(test_settings_of_the_sweeps),
    CONF_TEST(test_deadline_kept_and_due),
    CONF_TEST(test_auto_delete_due_when_safe),
    CONF_TEST(test_notices_once_per_token),
    CONF_TEST(test_webhooks_crud),
    CONF_TEST(test_outbox_in_the_write),
    CONF_TEST(test_claim_finish_stats),
    CONF_TEST(test_sweep_lock),
    {NULL, NULL},
};
