/*
 * store_conformance.h - the conformance suite of the store interface (store.h).
 *
 * Written only against ks_store_ops, so every backend (SQLite now, PostgreSQL
 * later) runs the very same tests (in conformance_*.c, by subject; see
 * conformance_util.h):
 *
 *   static ks_store *open_fresh(void *ctx) { ... a new, empty store ... }
 *   int failed = store_conformance_run(open_fresh, ctx, &passed, &failed_n);
 *
 * Each test gets a fresh, empty store from open_fresh and the suite closes it
 * (ops->close) after the test, whether it passed or failed; removing the
 * backing files or database is the caller's business. A NULL from open_fresh
 * counts as a failed test.
 *
 * Prints "store-conformance (<backend>): N passed, M failed" and returns M
 * (0 when everything passed); *n_passed and *n_failed receive the counts
 * (either may be NULL).
 */
#ifndef KS_TESTS_STORE_CONFORMANCE_H
#define KS_TESTS_STORE_CONFORMANCE_H

#include "store/store.h"

int store_conformance_run(ks_store *(*open_fresh)(void *ctx), void *ctx, int *n_passed,
                          int *n_failed);

#endif
