/*
 * test_resource_map.c - core/resource_map.h: the file format and its
 * errors (naming the line), `*` and a final `**`, first match wins across
 * the method's table and `*`'s, and path normalisation against traversal
 * and encoding tricks (`..`, `%2e%2e`, `%2F`, `//`, `..;`, queries).
 */
#include "unit.h"

#include "core/error.h"
#include "core/resource_map.h"

static ks_resource_map *parse(const char *text)
{
    ks_resource_map *m = NULL;
    char err[256];
    int rc = ks_resource_map_parse(text, strlen(text), &m, err, sizeof err);
    if (rc != KS_OK)
        fprintf(stderr, "parse: %s\n", err);
    return m;
}

/* The resource for method and uri, "-" for no match, "!" when the path
 * cannot be read. */
static const char *match(const ks_resource_map *m, const char *method, const char *uri)
{
    ks_resource_path p;
    if (ks_resource_path_normalize(uri, strlen(uri), &p) != KS_OK)
        return "!";
    const char *r = ks_resource_map_match(m, method, strlen(method), &p);
    return r ? r : "-";
}

static const char MAP[] =
    "# orders\n"
    "GET    /orders            orders.list\n"
    "GET    /orders/*          orders.read\n"
    "POST   /orders            orders.write   # a trailing comment\n"
    "*      /orders/*/items/** orders.items\n"
    "DELETE /orders/*          orders.delete\n"
    "\n"
    "  GET /static/**  public.read\n"
    "* /admin/** admin\n"
    "GET /a%20b/* spaced\n"
    "* /health health\n"
    "GET / root\n";

static void test_match_rules(void)
{
    ks_resource_map *m = parse(MAP);
    ASSERT(m != NULL);
    ASSERT_EQ_INT((int)ks_resource_map_rule_count(m), 10);
    ASSERT_EQ_STR(match(m, "GET", "/orders"), "orders.list");
    ASSERT_EQ_STR(match(m, "GET", "/orders/"), "orders.list"); /* trailing / dropped */
    ASSERT_EQ_STR(match(m, "GET", "/orders/42"), "orders.read");
    ASSERT_EQ_STR(match(m, "GET", "/orders/42?x=/admin"), "orders.read"); /* query cut */
    ASSERT_EQ_STR(match(m, "POST", "/orders"), "orders.write");
    ASSERT_EQ_STR(match(m, "PUT", "/orders"), "-");
    ASSERT_EQ_STR(match(m, "get", "/orders"), "-"); /* methods compare exactly */
    ASSERT_EQ_STR(match(m, "DELETE", "/orders/7"), "orders.delete");
    ASSERT_EQ_STR(match(m, "PUT", "/orders/7/items"), "orders.items"); /* ** takes zero segments */
    ASSERT_EQ_STR(match(m, "PUT", "/orders/7/items/3/notes"), "orders.items");
    ASSERT_EQ_STR(match(m, "GET", "/orders/7/other"), "-");
    ASSERT_EQ_STR(match(m, "GET", "/static"), "public.read");
    ASSERT_EQ_STR(match(m, "GET", "/static/css/site.css"), "public.read");
    ASSERT_EQ_STR(match(m, "HEAD", "/static/x"), "-");
    ASSERT_EQ_STR(match(m, "PATCH", "/admin/users/1"), "admin");
    ASSERT_EQ_STR(match(m, "GET", "/a%20b/x"), "spaced");
    ASSERT_EQ_STR(match(m, "GET", "/a b/x"), "spaced");
    ASSERT_EQ_STR(match(m, "GET", "/health"), "health");
    ASSERT_EQ_STR(match(m, "GET", "/"), "root");
    ASSERT_EQ_STR(match(m, "GET", "/nothing"), "-");
    ks_resource_map_free(m);
}

/* First match wins, whether the earlier rule is the method's or `*`'s, and
 * whether it is literal, `*` or `**`. */
static void test_first_match_wins(void)
{
    ks_resource_map *m = parse("* /x/** first\nGET /x/y second\nGET /p/* one\nGET /p/q two\n"
                               "GET /z/q lit\n* /z/* star\n");
    ASSERT(m != NULL);
    ASSERT_EQ_STR(match(m, "GET", "/x/y"), "first");
    ASSERT_EQ_STR(match(m, "GET", "/p/q"), "one");
    ASSERT_EQ_STR(match(m, "GET", "/z/q"), "lit");
    ASSERT_EQ_STR(match(m, "POST", "/z/q"), "star");
    ks_resource_map_free(m);
}

static void test_traversal_and_encoding(void)
{
    ks_resource_map *m = parse("GET /orders/* orders.read\nGET /admin admin\n");
    ASSERT(m != NULL);
    ASSERT_EQ_STR(match(m, "GET", "/orders/../admin"), "admin");
    ASSERT_EQ_STR(match(m, "GET", "/orders/%2e%2e/admin"), "admin");
    ASSERT_EQ_STR(match(m, "GET", "/orders/%2E%2E/admin"), "admin");
    ASSERT_EQ_STR(match(m, "GET", "/orders/.%2e/admin"), "admin");
    ASSERT_EQ_STR(match(m, "GET", "/orders/./1"), "orders.read");
    ASSERT_EQ_STR(match(m, "GET", "//orders//1"), "orders.read");
    ASSERT_EQ_STR(match(m, "GET", "/orders/..;/admin"), "admin");  /* servlet-style ..;x is .. */
    ASSERT_EQ_STR(match(m, "GET", "/orders/1/.."), "-");           /* /orders */
    ASSERT_EQ_STR(match(m, "GET", "/orders%2F1"), "!");            /* an encoded / */
    ASSERT_EQ_STR(match(m, "GET", "/orders/..%2Fadmin"), "!");
    ASSERT_EQ_STR(match(m, "GET", "/orders/a%5C..%5Cadmin"), "!"); /* an encoded \ */
    ASSERT_EQ_STR(match(m, "GET", "/orders/a\\b"), "!");
    ASSERT_EQ_STR(match(m, "GET", "/orders/%00"), "!");
    ASSERT_EQ_STR(match(m, "GET", "/orders/%2"), "!");             /* a cut escape */
    ASSERT_EQ_STR(match(m, "GET", "/orders/%zz"), "!");
    ASSERT_EQ_STR(match(m, "GET", "/.."), "!");                    /* above the root */
    ASSERT_EQ_STR(match(m, "GET", "/orders/../../admin"), "!");
    ASSERT_EQ_STR(match(m, "GET", "orders/1"), "!");               /* not a path */
    ASSERT_EQ_STR(match(m, "GET", "http://h/orders/1"), "!");
    ASSERT_EQ_STR(match(m, "GET", ""), "!");
    ASSERT_EQ_STR(match(m, "GET", "/orders/%252e%252e/admin"), "-"); /* decoded once: /orders/%2e%2e/admin */
    ASSERT_EQ_STR(match(m, "GET", "/orders/%252e%252e"), "orders.read");
    ks_resource_map_free(m);
}

static void test_path_limits(void)
{
    char uri[KS_RESOURCE_PATH_MAX + 16];
    ks_resource_path p;
    size_t n = 0;
    for (int i = 0; i < KS_RESOURCE_PATH_SEGMENTS_MAX; i++)
        n += (size_t)snprintf(uri + n, sizeof uri - n, "/s");
    ASSERT_EQ_INT(ks_resource_path_normalize(uri, n, &p), KS_OK);
    ASSERT_EQ_INT((int)p.n, KS_RESOURCE_PATH_SEGMENTS_MAX);
    ASSERT_EQ_INT(ks_resource_path_normalize("/s/s", 4, &p), KS_OK);
    snprintf(uri + n, sizeof uri - n, "/s");
    ASSERT_EQ_INT(ks_resource_path_normalize(uri, n + 2, &p), KS_ERR_INVALID);
    memset(uri, 'a', sizeof uri);
    uri[0] = '/';
    ASSERT_EQ_INT(ks_resource_path_normalize(uri, KS_RESOURCE_PATH_MAX, &p), KS_OK); /* the longest path */
    ASSERT_EQ_INT(ks_resource_path_normalize(uri, KS_RESOURCE_PATH_MAX + 1, &p), KS_ERR_INVALID);
}

static void expect_error(const char *text, const char *want)
{
    ks_resource_map *m = (ks_resource_map *)1;
    char err[256];
    ASSERT_EQ_INT(ks_resource_map_parse(text, strlen(text), &m, err, sizeof err), KS_ERR_INVALID);
    ASSERT(m == NULL);
    if (!strstr(err, want))
        fprintf(stderr, "error was: %s\n", err);
    ASSERT(strstr(err, want) != NULL);
}

static void test_parse_errors_name_the_line(void)
{
    expect_error("GET /a a\nGET /b\n", "line 2: expected");
    expect_error("GET /a a extra\n", "line 1: expected");
    expect_error("# c\n\nget /a a\n", "line 3: the method");
    expect_error("GET a x\n", "line 1: the path pattern must start");
    expect_error("GET /a/**/b x\n", "'**' may only be the last");
    expect_error("GET /a/b* x\n", "'*' must be a whole segment");
    expect_error("GET /a/../b x\n", "'.' or '..'");
    expect_error("GET /a/%2e%2e/b x\n", "'.' or '..'");
    expect_error("GET /a?x=1 x\n", "no query");
    expect_error("GET /a bad!resource\n", "not a resource name");
    expect_error("GET /a%zz x\n", "percent-escape");
    char big[KS_RESOURCE_MAP_LINE_MAX + 32];
    memset(big, ' ', sizeof big);
    memcpy(big, "GET /a x", 8);
    big[sizeof big - 1] = '\0';
    expect_error(big, "line 1: longer than");
}

static void test_empty_map_matches_nothing(void)
{
    ks_resource_map *m = parse("# nothing yet\n\n");
    ASSERT(m != NULL);
    ASSERT_EQ_INT((int)ks_resource_map_rule_count(m), 0);
    ASSERT_EQ_STR(match(m, "GET", "/"), "-");
    ks_resource_map_free(m);
}

/* A bigger map (the bench's 200 rules): every rule's own path finds it. */
static void test_many_rules(void)
{
    char *text = malloc(200 * 64);
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(text + n, 200 * 64 - n, "%s /api/v%d/r%d/* res.%d\n", i % 2 ? "GET" : "*", i % 3,
                              i, i);
    ks_resource_map *m = NULL;
    char err[128];
    ASSERT_EQ_INT(ks_resource_map_parse(text, n, &m, err, sizeof err), KS_OK);
    free(text);
    for (int i = 0; i < 200; i++) {
        char uri[64], want[32];
        snprintf(uri, sizeof uri, "/api/v%d/r%d/x", i % 3, i);
        snprintf(want, sizeof want, "res.%d", i);
        ASSERT_EQ_STR(match(m, "GET", uri), want);
        ASSERT_EQ_STR(match(m, "POST", uri), i % 2 ? "-" : want);
    }
    ks_resource_map_free(m);
}

int main(void)
{
    RUN(test_match_rules);
    RUN(test_first_match_wins);
    RUN(test_traversal_and_encoding);
    RUN(test_path_limits);
    RUN(test_parse_errors_name_the_line);
    RUN(test_empty_map_matches_nothing);
    RUN(test_many_rules);
    return unit_report("resource_map");
}
