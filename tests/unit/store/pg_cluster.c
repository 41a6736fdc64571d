/*
 * pg_cluster.c - a private PostgreSQL cluster for the PostgreSQL tests: see
 * pg_cluster.h.
 */
#include "log/log.h"
#include "store/store.h"
#include "pg_cluster.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char PG_URI[192]; /* the test database */
static char DIR_[64];     /* the cluster's directory */
static char BASE[128];    /* postgresql://postgres@127.0.0.1:PORT/ */
static const char *ROOT;  /* the repository (for tests/pg/cluster.sh) */

/* ------------------------------------------------------------ cluster */

int pg_cluster(const char *cmd, int port)
{
    char line[512];
    snprintf(line, sizeof line, "sh '%s/tests/pg/cluster.sh' %s '%s' %d >/dev/null", ROOT, cmd, DIR_, port);
    if (port == 0)
        snprintf(line, sizeof line, "sh '%s/tests/pg/cluster.sh' %s '%s' >/dev/null", ROOT, cmd, DIR_);
    return system(line) == 0 ? 0 : -1;
}

int pg_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Runs SQL on a fresh connection to database db ("" = the test database). */
int pg_admin(const char *db, const char *sql)
{
    char uri[256];
    snprintf(uri, sizeof uri, "%s%s", BASE, *db ? db : "keystile_test");
    PGconn *c = PQconnectdb(uri);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PQclear(PQexec(c, "SET client_min_messages = warning"));
        PGresult *r = PQexec(c, sql);
        ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
        if (!ok)
            fprintf(stderr, "admin SQL failed: %s: %s", sql, PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

/* The first column of the first row of a query, as an integer (-1 on error). */
long long pg_admin_value(const char *sql)
{
    PGconn *c = PQconnectdb(PG_URI);
    long long v = -1;
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

int pg_reset_schema(void)
{
    return pg_admin("", "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
}

double pg_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ks_store *ST[NSTORES]; /* stores of the running test ("nodes") */

void pg_close_stores(void)
{
    for (int i = 0; i < NSTORES; i++)
        if (ST[i]) {
            ST[i]->ops->close(ST[i]);
            ST[i] = NULL;
        }
}

/* ------------------------------------------------------------ main */

int pg_cluster_main(int (*run_tests)(void), const char *suite)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    ks_store_set_logger(ks_log); /* server notices and failed statements, as the server logs them */
    ROOT = getenv("KEYSTILE_ROOT") ? getenv("KEYSTILE_ROOT") : ".";
    snprintf(DIR_, sizeof DIR_, "/tmp/keystile-unit-pg-XXXXXX");
    int port = pg_free_port();
    if (!mkdtemp(DIR_) || port < 0 || pg_cluster("start", port) != 0) {
        fprintf(stderr, "cannot start a PostgreSQL cluster in %s (tests/pg/cluster.sh)\n", DIR_);
        pg_cluster("destroy", 0);
        printf("%s: 0 passed, 1 failed\n", suite);
        return 1;
    }
    snprintf(BASE, sizeof BASE, "postgresql://postgres@127.0.0.1:%d/", port);
    snprintf(PG_URI, sizeof PG_URI, "%skeystile_test?sslmode=disable", BASE);
    if (pg_admin("postgres", "CREATE DATABASE keystile_test") != 0) {
        pg_cluster("destroy", 0);
        printf("%s: 0 passed, 1 failed\n", suite);
        return 1;
    }
    fflush(stdout);
    fflush(stderr);
    /* The tests run in a child: whatever becomes of it, the cluster goes. */
    pid_t child = fork();
    if (child == 0) {
        int rc = run_tests();
        fflush(stdout);
        exit(rc);
    }
    int status = 1;
    if (child < 0 || waitpid(child, &status, 0) < 0)
        status = 1;
    pg_cluster("destroy", 0);
    if (!WIFEXITED(status)) {
        printf("%s: the test process died (status %d): 0 passed, 1 failed\n", suite, status);
        return 1;
    }
    return WEXITSTATUS(status);
}
