/*
 * test_store_pg_feed.c - the change-feed follower of the service on the
 * PostgreSQL backend: another node's writes reach this node's index by
 * catch-up and by the follower thread, with and without the NOTIFY wake-up;
 * the follower is degraded while the database is away and recovers after.
 *
 * Runs on its own private cluster (pg_cluster.h), like test_store_pg.c.
 */
#include "unit.h"
#include "pg_cluster.h"

#include "core/error.h"
#include "service/change_feed.h"
#include "service/login_keys.h"
#include "service/service.h"

#include <stdlib.h>
#include <unistd.h>

/* ---- the service's change feed ---- */

typedef struct {
    ks_service svc;
    int open;
} node;

static node NODES[2];

static void nodes_close(void)
{
    for (int i = 0; i < 2; i++)
        if (NODES[i].open) {
            ks_service_close(&NODES[i].svc);
            NODES[i].open = 0;
        }
    pg_close_stores();
}

static void node_start(int i, ks_store *s)
{
    ks_secret secret;
    memset(secret.bytes, 7, sizeof secret.bytes);
    ASSERT_EQ_INT(ks_service_init(&NODES[i].svc, s, &secret, 1), KS_OK);
    NODES[i].open = 1;
    ASSERT_EQ_INT(ks_login_keys_load(&NODES[i].svc), KS_OK);
}

static void counts(int i, size_t *total, size_t *active)
{
    ks_index_count(NODES[i].svc.index, total, active);
}

static int counts_are(int i, size_t want_total, size_t want_active)
{
    size_t t, a;
    counts(i, &t, &a);
    return t == want_total && a == want_active;
}

/* Waits up to `seconds` for node i's index to hold want keys; the time it took. */
static double wait_counts(int i, size_t want_total, size_t want_active, double seconds)
{
    double t0 = pg_now_s();
    while (!counts_are(i, want_total, want_active) && pg_now_s() - t0 < seconds)
        usleep(2000);
    return pg_now_s() - t0;
}

static void test_feed_catch_up_applies_other_nodes_writes(void)
{
    pg_fresh(2);
    node_start(0, ST[0]);
    node_start(1, ST[1]);
    ks_service *a = &NODES[0].svc, *b = &NODES[1].svc;
    ks_key owner = {0}, k2 = {0};
    char token[KS_TOKEN_LEN + 1];
    ASSERT_EQ_INT(ks_service_account_create(a, "acme", "cli", &owner, token), KS_OK);
    ks_key_free(&owner);
    ASSERT(counts_are(1, 0, 0));
    ASSERT_EQ_INT(ks_change_feed_catch_up(b), KS_OK);
    ASSERT(counts_are(1, 1, 1));
    ks_actor who = {.actor = "cli", .account = "acme"};
    ASSERT_EQ_INT(ks_service_key_create(a, &who, "second", NULL, &k2, token), KS_OK);
    ks_key_patch off = {NULL, NULL, KS_KEY_INACTIVE, NULL, NULL};
    ks_key upd = {0};
    ASSERT_EQ_INT(ks_service_key_update(a, &who, k2.key_id, &off, &upd), KS_OK);
    ks_key_free(&upd);
    ASSERT_EQ_INT(ks_change_feed_catch_up(b), KS_OK);
    ASSERT(counts_are(1, 2, 1));
    ASSERT_EQ_INT(ks_service_key_delete(a, &who, k2.key_id), KS_OK);
    ASSERT_EQ_INT(ks_change_feed_catch_up(b), KS_OK);
    ASSERT(counts_are(1, 1, 1));
    ks_key_free(&k2);
    /* Signing keys rotated on A reach B. */
    char kid[KS_JWT_KID_LEN + 1];
    size_t before = b->n_signing_keys;
    ASSERT_EQ_INT(ks_login_keys_rotate(a, kid), KS_OK);
    ASSERT_EQ_INT(ks_change_feed_catch_up(b), KS_OK);
    ASSERT_EQ_INT(b->n_signing_keys, before + 1);
    /* Nothing new: nothing to do, the cursor stays. */
    int64_t seq = b->feed_seq;
    ASSERT_EQ_INT(ks_change_feed_catch_up(b), KS_OK);
    ASSERT_EQ_INT(b->feed_seq, seq);
    ASSERT(!ks_change_feed_degraded(b));
}

static void test_feed_thread_follows_with_and_without_notify(void)
{
    pg_fresh(2);
    node_start(0, ST[0]);
    node_start(1, ST[1]);
    ks_service *a = &NODES[0].svc, *b = &NODES[1].svc;
    ASSERT_EQ_INT(ks_change_feed_start(b), KS_OK);
    ks_key owner = {0}, k = {0};
    char token[KS_TOKEN_LEN + 1];
    ASSERT_EQ_INT(ks_service_account_create(a, "acme", "cli", &owner, token), KS_OK);
    ks_key_free(&owner);
    wait_counts(1, 1, 1, 2.0); /* by the first poll, or the wake-up once listening */
    ASSERT(counts_are(1, 1, 1));
    usleep(100 * 1000);        /* the follower is LISTENing by now */
    ks_actor who = {.actor = "cli", .account = "acme"};
    ASSERT_EQ_INT(ks_service_key_create(a, &who, "loud", NULL, &k, token), KS_OK);
    ks_key_free(&k);
    double took = wait_counts(1, 2, 2, 2.0);
    ASSERT(counts_are(1, 2, 2));
    ASSERT(took < 0.35); /* woken by NOTIFY, before the 400 ms poll */
    /* Without the notification, the poll still finds it within a second. */
    ASSERT_EQ_INT(pg_admin("", "ALTER TABLE changes DISABLE TRIGGER changes_notify"), 0);
    ASSERT_EQ_INT(ks_service_key_create(a, &who, "quiet", NULL, &k, token), KS_OK);
    ks_key_free(&k);
    took = wait_counts(1, 3, 3, 3.0);
    ASSERT(counts_are(1, 3, 3));
    ASSERT(took < 1.0);
    ASSERT_EQ_INT(pg_admin("", "ALTER TABLE changes ENABLE TRIGGER changes_notify"), 0);
}

static void test_feed_degraded_while_database_away(void)
{
    pg_fresh(2);
    node_start(0, ST[0]);
    node_start(1, ST[1]);
    ks_service *a = &NODES[0].svc, *b = &NODES[1].svc;
    ks_key owner = {0}, k = {0};
    char token[KS_TOKEN_LEN + 1];
    ASSERT_EQ_INT(ks_service_account_create(a, "acme", "cli", &owner, token), KS_OK);
    ks_key_free(&owner);
    ASSERT_EQ_INT(ks_change_feed_start(b), KS_OK);
    wait_counts(1, 1, 1, 2.0);
    ASSERT(counts_are(1, 1, 1));
    ASSERT_EQ_INT(pg_cluster("stop", 0), 0);
    double t0 = pg_now_s();
    while (!ks_change_feed_degraded(b) && pg_now_s() - t0 < 3)
        usleep(10 * 1000);
    ASSERT(ks_change_feed_degraded(b));
    ASSERT(pg_now_s() - t0 < 1.5);
    ASSERT(counts_are(1, 1, 1)); /* the index is kept */
    ks_actor who = {.actor = "cli", .account = "acme"};
    ASSERT_EQ_INT(ks_service_key_create(a, &who, "down", NULL, &k, token), KS_ERR_STORAGE);
    ks_key_free(&k);
    ASSERT_EQ_INT(pg_cluster("restart", 0), 0);
    /* A's first write after the restart reaches B, which is no longer degraded. */
    int rc = KS_ERR_STORAGE;
    t0 = pg_now_s();
    while (rc != KS_OK && pg_now_s() - t0 < 5) {
        memset(&k, 0, sizeof k);
        if ((rc = ks_service_key_create(a, &who, "back", NULL, &k, token)) != KS_OK)
            usleep(50 * 1000);
        ks_key_free(&k);
    }
    ASSERT_EQ_INT(rc, KS_OK);
    wait_counts(1, 2, 2, 3.0);
    ASSERT(counts_are(1, 2, 2));
    t0 = pg_now_s();
    while (ks_change_feed_degraded(b) && pg_now_s() - t0 < 3)
        usleep(10 * 1000);
    ASSERT(!ks_change_feed_degraded(b));
}

/* ------------------------------------------------------------ main */

static int run_tests(void)
{
    RUN(test_feed_catch_up_applies_other_nodes_writes);
    nodes_close();
    RUN(test_feed_thread_follows_with_and_without_notify);
    nodes_close();
    RUN(test_feed_degraded_while_database_away);
    nodes_close();
    return unit_report("store-pg-feed (change feed on postgresql)");
}

int main(void)
{
    return pg_cluster_main(run_tests, "store-pg-feed");
}
