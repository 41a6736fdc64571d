/*
 * test_resource_map_live.c - verify/resource_map_live.h: the map a server
 * uses, swapped on reload while readers match:
 *  - open reads the file; a bad one fails naming the file and the line;
 *  - resolve copies the first match's resource, or KS_RESOURCE_UNMAPPED for
 *    no match and for an unreadable path;
 *  - reload swaps in a good file, keeps the map in use on a bad or missing
 *    one (with the reason);
 *  - four reader threads resolving without pause while the main thread
 *    reloads 300 times between two maps always get one of the two answers
 *    (never a freed or half-built map: run under ASan by make test
 *    SANITIZE=1), and close frees every retired map (LeakSanitizer).
 */
#include "unit.h"

#include "core/error.h"
#include "verify/resource_map_live.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

static char dir[] = "/tmp/keystile-unit-mapXXXXXX";
static char path[256];

static void write_map(const char *text)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    fputs(text, f);
    fclose(f);
    rename(tmp, path); /* whole files only, as an editor or a deploy writes them */
}

static const char *resolve(ks_resource_map_live *live, const char *method, const char *uri, char *out)
{
    if (ks_resource_map_live_resolve(live, method, uri, out) != KS_OK)
        return "error";
    return strcmp(out, KS_RESOURCE_UNMAPPED) == 0 ? "-" : out;
}

static void test_open_resolve_reload(void)
{
    char err[512], out[KS_RESOURCE_MAX + 1];
    ks_resource_map_live *live = NULL;
    write_map("GET /a/* a.read\n* /b/** b.any\n");
    ASSERT_EQ_INT(ks_resource_map_live_open(path, &live, err, sizeof err), KS_OK);
    ASSERT_EQ_INT((int)ks_resource_map_live_rule_count(live), 2);
    ASSERT_EQ_STR(resolve(live, "GET", "/a/1?q", out), "a.read");
    ASSERT_EQ_STR(resolve(live, "POST", "/a/1", out), "-");
    ASSERT_EQ_STR(resolve(live, "PUT", "/b", out), "b.any");
    ASSERT_EQ_STR(resolve(live, "GET", "/a/../b/x", out), "b.any");
    ASSERT_EQ_STR(resolve(live, "GET", "/a/%2", out), "-");
    ASSERT_EQ_STR(resolve(live, "GET", "/..", out), "-");
    char longm[KS_RESOURCE_METHOD_MAX + 8];
    memset(longm, 'G', sizeof longm - 1);
    longm[sizeof longm - 1] = '\0';
    ASSERT_EQ_STR(resolve(live, longm, "/b", out), "-");

    size_t rules = 0;
    write_map("GET /a/* a.write\n");
    ASSERT_EQ_INT(ks_resource_map_live_reload(live, &rules, err, sizeof err), KS_OK);
    ASSERT_EQ_INT((int)rules, 1);
    ASSERT_EQ_STR(resolve(live, "GET", "/a/1", out), "a.write");
    ASSERT_EQ_STR(resolve(live, "PUT", "/b", out), "-");

    write_map("GET /a/* a.other\nGET /x/**/y bad\n");
    ASSERT_EQ_INT(ks_resource_map_live_reload(live, &rules, err, sizeof err), KS_ERR_INVALID);
    ASSERT(strstr(err, path) != NULL);
    ASSERT(strstr(err, "line 2") != NULL);
    ASSERT_EQ_STR(resolve(live, "GET", "/a/1", out), "a.write"); /* kept */
    unlink(path);
    ASSERT_EQ_INT(ks_resource_map_live_reload(live, &rules, err, sizeof err), KS_ERR_INVALID);
    ASSERT(strstr(err, "cannot open") != NULL);
    ASSERT_EQ_STR(resolve(live, "GET", "/a/1", out), "a.write");
    ks_resource_map_live_close(live);

    write_map("GET a x\n");
    live = (ks_resource_map_live *)1;
    ASSERT_EQ_INT(ks_resource_map_live_open(path, &live, err, sizeof err), KS_ERR_INVALID);
    ASSERT(live == NULL);
    ASSERT(strstr(err, "line 1") != NULL);
}

static ks_resource_map_live *shared;
static atomic_int stop, bad;
static atomic_long resolved;

static void *reader(void *arg)
{
    char out[KS_RESOURCE_MAX + 1];
    (void)arg;
    while (!atomic_load(&stop)) {
        if (ks_resource_map_live_resolve(shared, "GET", "/orders/42", out) != KS_OK ||
            (strcmp(out, "orders.one") != 0 && strcmp(out, "orders.two") != 0))
            atomic_fetch_add(&bad, 1);
        atomic_fetch_add(&resolved, 1);
    }
    return NULL;
}

static void test_reload_under_readers(void)
{
    char err[512];
    /* 200 rules before the one the readers hit, so a map takes a while to build */
    static char one[200 * 40 + 64], two[200 * 40 + 64];
    size_t n1 = 0, n2 = 0;
    for (int i = 0; i < 200; i++) {
        n1 += (size_t)snprintf(one + n1, sizeof one - n1, "GET /svc%d/* s%d\n", i, i);
        n2 += (size_t)snprintf(two + n2, sizeof two - n2, "POST /svc%d/* s%d\n", i, i);
    }
    snprintf(one + n1, sizeof one - n1, "GET /orders/* orders.one\n");
    snprintf(two + n2, sizeof two - n2, "* /orders/** orders.two\n");
    write_map(one);
    ASSERT_EQ_INT(ks_resource_map_live_open(path, &shared, err, sizeof err), KS_OK);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, reader, NULL);
    size_t rules;
    for (int i = 0; i < 300; i++) {
        write_map(i % 2 ? one : two);
        ASSERT_EQ_INT(ks_resource_map_live_reload(shared, &rules, err, sizeof err), KS_OK);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ_INT(atomic_load(&bad), 0);
    ASSERT(atomic_load(&resolved) > 0);
    ks_resource_map_live_close(shared);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/resources.map", dir);
    RUN(test_open_resolve_reload);
    RUN(test_reload_under_readers);
    unlink(path);
    rmdir(dir);
    return unit_report("resource_map_live");
}
