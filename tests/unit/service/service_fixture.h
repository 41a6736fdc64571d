/*
 * service_fixture.h - what the service tests share: a temporary folder
 * (removed with unit.h's unit_rm_dir) and a service over a SQLite store in
 * it. Header-only like unit.h, so a failure here fails the including test
 * (UNIT_FAIL) at the step that called it.
 */
#ifndef KS_TEST_SERVICE_FIXTURE_H
#define KS_TEST_SERVICE_FIXTURE_H

#include "unit.h"

#include "core/error.h"
#include "service/service.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

/* Makes the test's private folder /tmp/NAME-XXXXXX into dir (cap bytes);
 * 0, or -1 after saying why. */
static inline int fixture_dir_make(char *dir, size_t cap, const char *name)
{
    snprintf(dir, cap, "/tmp/%s-XXXXXX", name);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

/* Opens the SQLite store at path and *svc over it (one worker thread);
 * fails the test if either cannot be. */
static inline ks_store *fixture_service_open(const char *path, const ks_secret *secret, ks_service *svc)
{
    char err[256];
    ks_store *store = ks_store_sqlite_open(path, err, sizeof err);
    if (!store)
        UNIT_FAIL("ks_store_sqlite_open: %s", err);
    ASSERT_EQ_INT(ks_service_init(svc, store, secret, 1), KS_OK);
    return store;
}

/* Closes *svc and the store under it, and forgets the store. */
static inline void fixture_service_close(ks_store **store, ks_service *svc)
{
    ks_service_close(svc);
    (*store)->ops->close(*store);
    *store = NULL;
}

#endif
