/*
 * test_group_commit.c - group commit of token-slot writes (service.c
 * slots_change / slot_batch_run) on a real SQLite store: THREADS threads
 * renew at once through ks_service_key_renew, two threads per key, plus one
 * thread renewing a key that does not exist. Checked:
 *  - every call returns exactly once, with its own result: KS_OK and a key
 *    whose current token is the very token handed to that caller (and
 *    KS_ERR_NOT_FOUND for the missing key only, without failing the writes
 *    batched with it);
 *  - every write is durable: after closing and reopening the store, each
 *    key's current token is one of the tokens handed out for it, the one the
 *    index verifies, and the audit holds exactly one key.renew per
 *    acknowledged renewal (by target);
 *  - results are correct: of all the tokens handed out for a key, only the
 *    last one verifies (renew now deletes the old token).
 */
#include "service_fixture.h"
#include "core/clock.h"
#include "core/error.h"
#include "service/service.h"
#include "verify/verify.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#define KEYS 4
#define THREADS (2 * KEYS + 1) /* two per key, one on a missing key */
#define RENEWS 25              /* per thread */

static char dir[64];
static char db_path[128];
static ks_secret secret;
static ks_service svc;
static ks_store *store;
static char key_ids[KEYS][KS_KEY_ID_MAX + 1];
static char missing_key[KS_KEY_ID_MAX + 1];
static const ks_actor who = {"cli", "acme", NULL, NULL};

/* What one renewal call gave back. */
typedef struct {
    int rc;
    int returns;                  /* times the call returned: exactly 1 */
    int own_token_current;        /* the returned key's current token is ours */
    int old_present;              /* the returned key still has an old token */
    char token[KS_TOKEN_LEN + 1];
} renewal;

typedef struct {
    const char *key_id;
    renewal done[RENEWS];
    pthread_t thread;
} renewer;

static renewer renewers[THREADS];
static pthread_barrier_t start_line;

static ks_digest hash_of(const char *token)
{
    ks_digest d;
    ks_token_hash(&secret, token, strlen(token), &d);
    return d;
}

static void *renewer_main(void *arg)
{
    renewer *r = arg;
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < RENEWS; i++) {
        renewal *d = &r->done[i];
        ks_key out = {0};
        d->rc = ks_service_key_renew(&svc, &who, r->key_id, KS_DELETE_OLD_NOW, &out, d->token, NULL);
        d->returns++;
        if (d->rc == KS_OK) {
            ks_digest h = hash_of(d->token);
            d->own_token_current = out.slots.current.present && ks_digest_equal(&out.slots.current.hash, &h);
            d->old_present = out.slots.old.present;
        }
        ks_key_free(&out);
    }
    return NULL;
}

static void open_store(void)
{
    store = fixture_service_open(db_path, &secret, &svc);
}

static void close_store(void)
{
    fixture_service_close(&store, &svc);
}

/* The reason ks_verify gives for key_id + token at home. */
static ks_verify_reason verify_reason(const char *key_id, const char *token)
{
    ks_verify_request req = {key_id, token, strlen(token), NULL, NULL, NULL, NULL, 0, 0};
    ks_verify_result res;
    ASSERT_EQ_INT(ks_verify(svc.index, &secret, &req, ks_clock_now(), &res), KS_OK);
    ks_verify_reason reason = res.reason;
    ks_verify_result_free(&res);
    return reason;
}

/* key.renew entries of acme with target key_id (every page). */
static size_t renew_audits(const char *key_id)
{
    size_t n = 0;
    ks_audit_filter f = {0, NULL, "key.renew", KS_AUDIT_PAGE_MAX};
    for (;;) {
        ks_audit_page page = {0};
        ASSERT_EQ_INT(store->ops->audit_list(store, "acme", &f, &page), KS_OK);
        for (size_t i = 0; i < page.count; i++)
            if (page.items[i].target && strcmp(page.items[i].target, key_id) == 0)
                n++;
        f.before_id = page.next_id;
        ks_audit_page_free(&page);
        if (!f.before_id)
            return n;
    }
}

static void test_concurrent_renewals(void)
{
    snprintf(db_path, sizeof db_path, "%s/group.db", dir);
    randombytes_buf(secret.bytes, sizeof secret.bytes);
    open_store();
    ks_key owner = {0};
    char token[KS_TOKEN_LEN + 1];
    ASSERT_EQ_INT(ks_service_account_create(&svc, "acme", "cli", &owner, token), KS_OK);
    ks_key_free(&owner);
    ks_strlist roles = {0};
    ASSERT_EQ_INT(ks_strlist_add(&roles, "Owner"), KS_OK);
    for (int k = 0; k < KEYS; k++) {
        ks_key key = {0};
        int rc = ks_service_key_create(&svc, &who, "group", &roles, &key, token);
        snprintf(key_ids[k], sizeof key_ids[k], "%s", key.key_id);
        ks_key_free(&key);
        ASSERT_EQ_INT(rc, KS_OK);
    }
    ks_strlist_free(&roles);
    ASSERT_EQ_INT(ks_key_id_generate("acme", missing_key), KS_OK);

    ASSERT_EQ_INT(pthread_barrier_init(&start_line, NULL, THREADS), 0);
    for (int t = 0; t < THREADS; t++) {
        renewers[t].key_id = t < 2 * KEYS ? key_ids[t % KEYS] : missing_key;
        ASSERT_EQ_INT(pthread_create(&renewers[t].thread, NULL, renewer_main, &renewers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(renewers[t].thread, NULL);
    pthread_barrier_destroy(&start_line);

    /* every call returned once with its own result */
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < RENEWS; i++) {
            const renewal *d = &renewers[t].done[i];
            ASSERT_EQ_INT(d->returns, 1);
            if (t < 2 * KEYS) {
                ASSERT_EQ_INT(d->rc, KS_OK);
                ASSERT_EQ_INT(d->own_token_current, 1);
                ASSERT_EQ_INT(d->old_present, 0);
                ASSERT_EQ_INT(strlen(d->token), KS_TOKEN_LEN);
            } else {
                ASSERT_EQ_INT(d->rc, KS_ERR_NOT_FOUND);
                ASSERT_EQ_STR(d->token, ""); /* wiped */
            }
        }

    /* durable: reopen the store from disk and check against it */
    close_store();
    open_store();
    for (int k = 0; k < KEYS; k++) {
        ks_key stored = {0};
        ASSERT_EQ_INT(store->ops->key_get(store, "acme", key_ids[k], &stored), KS_OK);
        int current_found = 0, verifying = 0;
        for (int t = k; t < 2 * KEYS; t += KEYS)
            for (int i = 0; i < RENEWS; i++) {
                const char *tok = renewers[t].done[i].token;
                ks_digest h = hash_of(tok);
                int is_current = ks_digest_equal(&stored.slots.current.hash, &h);
                current_found += is_current;
                ks_verify_reason reason = verify_reason(key_ids[k], tok);
                verifying += reason == KS_VERIFY_OK;
                if (!is_current && reason != KS_VERIFY_INVALID_TOKEN)
                    UNIT_FAIL("key %d: a replaced token gives %s", k, ks_verify_reason_name(reason));
            }
        int old_present = stored.slots.old.present;
        ks_key_free(&stored);
        ASSERT_EQ_INT(current_found, 1);
        ASSERT_EQ_INT(verifying, 1);
        ASSERT_EQ_INT(old_present, 0);
        ASSERT_EQ_INT(renew_audits(key_ids[k]), 2 * RENEWS);
    }
    ASSERT_EQ_INT(renew_audits(missing_key), 0);
    close_store();
}

int main(void)
{
    if (fixture_dir_make(dir, sizeof dir, "ks-group") != 0)
        return 1;
    if (sodium_init() < 0)
        return 1;
    RUN(test_concurrent_renewals);
    if (store)
        close_store();
    unit_rm_dir(dir);
    return unit_report("group commit");
}
