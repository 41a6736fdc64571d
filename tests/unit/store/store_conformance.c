/*
 * store_conformance.c - the runner of the store conformance suite
 * (store_conformance.h): every test of the conformance_*.c tables, each on a
 * fresh, empty store, with the deferred frees run and the store closed after
 * it whether it passed or failed.
 */
#include "store_conformance.h"

#include <stdlib.h>

#include "conformance_util.h" /* brings unit.h, pointed at conf_jmp */

static ks_store *(*conf_open)(void *ctx);
static void *conf_ctx;
static int conf_passed, conf_failed;

static void run_one(const conf_test *t)
{
    if (!unit_selected(t->name))
        return; /* KS_UNIT_ONLY names other tests */
    audit_clock = 0;
    store = conf_open(conf_ctx);
    if (!store) {
        fprintf(stderr, "FAILED %s: open_fresh returned NULL\n", t->name);
        conf_failed++;
        return;
    }
    /* RUN of unit.h, jumping back through the suite's conf_jmp and
     * reporting the test's own name. */
    if (setjmp(conf_jmp) == 0) {
        t->fn();
        conf_passed++;
    } else {
        fprintf(stderr, "FAILED %s (store conformance, %s)\n", t->name, store->ops->backend);
        conf_failed++;
    }
    conf_run_deferred();
    store->ops->close(store);
    store = NULL;
}

int store_conformance_run(ks_store *(*open_fresh)(void *ctx), void *ctx, int *n_passed,
                          int *n_failed)
{
    static const conf_test *const TABLES[] = {
        conf_tests_accounts, conf_tests_keys, conf_tests_slots,
        conf_tests_external, conf_tests_sessions, conf_tests_audit, conf_tests_changes,
        conf_tests_people, conf_tests_rotation, conf_tests_limits, conf_tests_leaks,
    };
    conf_open = open_fresh;
    conf_ctx = ctx;
    conf_passed = conf_failed = 0;
    const char *backend = "?";
    ks_store *probe = open_fresh(ctx);
    if (probe) {
        backend = probe->ops->backend ? probe->ops->backend : "?";
        probe->ops->close(probe);
    }

    for (size_t i = 0; i < sizeof TABLES / sizeof *TABLES; i++)
        for (const conf_test *t = TABLES[i]; t->fn; t++)
            run_one(t);

    printf("store-conformance (%s): %d passed, %d failed\n", backend, conf_passed, conf_failed);
    if (n_passed)
        *n_passed = conf_passed;
    if (n_failed)
        *n_failed = conf_failed;
    return conf_failed;
}
