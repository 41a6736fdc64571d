/*
 * pg_cluster.h - a private PostgreSQL cluster for the PostgreSQL tests
 * (test_store_pg.c, test_store_pg_feed.c).
 *
 *   static int run_tests(void) { RUN(test_x); ...; return unit_report("x"); }
 *   int main(void) { return pg_cluster_main(run_tests, "x"); }
 *
 * pg_cluster_main starts a cluster (tests/pg/cluster.sh, under
 * $KEYSTILE_ROOT or ".") in a mkdtemp directory on a free loopback port,
 * creates the database keystile_test (PG_URI), runs the tests in a child
 * process and destroys the cluster whatever happened to the child.
 *
 * Every file of tests/unit/store/ but test_*.c is linked into every store
 * test (test_store_sqlite too), so what pg_cluster.c defines carries the pg_
 * prefix. The helpers that fail the running test (pg_open_uri, pg_fresh)
 * are static inline here, so their ASSERTs reach the including file's
 * unit.h state: include this header after "unit.h".
 */
#ifndef KS_TESTS_PG_CLUSTER_H
#define KS_TESTS_PG_CLUSTER_H

#include "store/store.h"

extern char PG_URI[192]; /* the test database */

/* Runs tests/pg/cluster.sh cmd on the cluster ("start" needs port; "stop",
 * "restart", "destroy" take 0): 0 or -1. */
int pg_cluster(const char *cmd, int port);
/* A free loopback TCP port, or -1. */
int pg_free_port(void);
/* Runs SQL on a fresh connection to database db ("" = the test database). */
int pg_admin(const char *db, const char *sql);
/* The first column of the first row of a query, as an integer (-1 on error). */
long long pg_admin_value(const char *sql);
/* An empty test database: DROP SCHEMA public CASCADE, CREATE SCHEMA public. */
int pg_reset_schema(void);
/* Monotonic seconds. */
double pg_now_s(void);

#define NSTORES 4
extern ks_store *ST[NSTORES]; /* stores of the running test ("nodes") */
/* Closes every open store of ST. */
void pg_close_stores(void);

int pg_cluster_main(int (*run_tests)(void), const char *suite);

#ifdef UNIT_FAIL
/* ks_store_open of the test database, or the test fails. */
static inline ks_store *pg_open_uri(void)
{
    char err[256] = "";
    ks_store *s = ks_store_open(PG_URI, err, sizeof err);
    if (!s)
        UNIT_FAIL("ks_store_open: %s", err);
    return s;
}

/* An empty schema and n stores on it, ST[0..n-1]. */
static inline void pg_fresh(int n)
{
    ASSERT_EQ_INT(pg_reset_schema(), 0);
    for (int i = 0; i < n; i++)
        ST[i] = pg_open_uri();
}
#endif

#endif
