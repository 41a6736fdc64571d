/*
 * test_routes.c - the route table's access rules (src/http/router.c).
 *
 * Every route must say who may call it, and the delegation checks must
 * follow from what a route does, so that a route added without them fails
 * here: a state-changing route on a key, grant or role in the path acts on
 * that principal (TARGET_*), and a route whose body names roles or
 * resources gives them (GRANTS_*). The HTTP matrix (tests/http/
 * test_delegation.py) then checks the outcomes against a live server.
 */
#include "unit.h"
#include "core/roles.h"
#include "http/http.h"

#include <string.h>

/* Segment i of pattern into out ("" past the end). */
static void segment(const char *pattern, int i, char *out, size_t cap)
{
    const char *p = pattern + 1;
    for (; i > 0 && p; i--) {
        p = strchr(p, '/');
        if (p)
            p++;
    }
    size_t n = p ? strcspn(p, "/") : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p ? p : "", n);
    out[n] = '\0';
}

static int is_write(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* The checks a route must carry, derived from its method and pattern. */
static unsigned expected_checks(const ks_route *r)
{
    char family[32], target[32], action[32];
    segment(r->pattern, 4, family, sizeof family);
    segment(r->pattern, 5, target, sizeof target);
    segment(r->pattern, 6, action, sizeof action);
    if (!is_write(r->method))
        return 0;
    unsigned want = 0;
    int on_one = strcmp(target, "*") == 0;
    if (strcmp(family, "keys") == 0) {
        if (on_one)
            want |= KS_CHECK_TARGET_KEY;
        if (!*action && (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0))
            want |= KS_CHECK_GRANTS_ROLES;
    } else if (strcmp(family, "external-keys") == 0) {
        if (on_one)
            want |= KS_CHECK_TARGET_GRANT;
        if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0)
            want |= KS_CHECK_GRANTS_ROLES;
    } else if (strcmp(family, "users") == 0) {
        if (on_one)
            want |= KS_CHECK_TARGET_PERSON;
        if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0)
            want |= KS_CHECK_GRANTS_ROLES;
    } else if (strcmp(family, "roles") == 0) {
        if (on_one)
            want |= KS_CHECK_TARGET_ROLE;
        if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0)
            want |= KS_CHECK_GRANTS_RESOURCES;
    }
    return want;
}

static void test_every_route_has_a_rule(void)
{
    size_t n;
    const ks_route *routes = ks_http_routes(&n);
    ASSERT(n > 20);
    for (size_t i = 0; i < n; i++) {
        const ks_route *r = &routes[i];
        if (r->rule.access != KS_ACCESS_PUBLIC && r->rule.access != KS_ACCESS_MANAGEMENT)
            UNIT_FAIL("route %s %s has no access rule", r->method, r->pattern);
        int under_account = strncmp(r->pattern, "/api/v1/accounts/*/", 19) == 0;
        if (under_account != (r->rule.access == KS_ACCESS_MANAGEMENT))
            UNIT_FAIL("route %s %s: management routes are exactly those under /api/v1/accounts/{a}/",
                      r->method, r->pattern);
        if (r->rule.access == KS_ACCESS_PUBLIC) {
            ASSERT(r->rule.resource == NULL && r->rule.checks == 0);
            continue;
        }
        if (!r->rule.resource || !ks_resource_is_management(r->rule.resource) ||
            (r->rule.alt_resource && !ks_resource_is_management(r->rule.alt_resource)))
            UNIT_FAIL("route %s %s needs no management resource", r->method, r->pattern);
    }
}

static void test_delegation_checks_follow_from_the_route(void)
{
    size_t n;
    const ks_route *routes = ks_http_routes(&n);
    for (size_t i = 0; i < n; i++) {
        const ks_route *r = &routes[i];
        unsigned want = r->rule.access == KS_ACCESS_MANAGEMENT ? expected_checks(r) : 0;
        if (r->rule.checks != want)
            UNIT_FAIL("route %s %s has checks 0x%x, its kind needs 0x%x", r->method, r->pattern,
                      r->rule.checks, want);
        /* A check on the path's target needs a target segment. */
        char target[32];
        segment(r->pattern, 5, target, sizeof target);
        if ((r->rule.checks & (KS_CHECK_TARGET_KEY | KS_CHECK_TARGET_GRANT | KS_CHECK_TARGET_ROLE |
                               KS_CHECK_TARGET_PERSON)) &&
            strcmp(target, "*") != 0)
            UNIT_FAIL("route %s %s checks a target it does not have", r->method, r->pattern);
    }
}

/* Writes that change what a principal may do are the ones the contract
 * names: make sure none of them slipped through as unchecked. */
static void test_known_principal_actions_are_checked(void)
{
    static const struct {
        const char *method, *pattern;
        unsigned checks;
    } MUST[] = {
        {"POST", "/api/v1/accounts/*/keys", KS_CHECK_GRANTS_ROLES},
        {"PATCH", "/api/v1/accounts/*/keys/*", KS_CHECK_TARGET_KEY | KS_CHECK_GRANTS_ROLES},
        {"DELETE", "/api/v1/accounts/*/keys/*", KS_CHECK_TARGET_KEY},
        {"POST", "/api/v1/accounts/*/users", KS_CHECK_GRANTS_ROLES},
        {"PATCH", "/api/v1/accounts/*/users/*", KS_CHECK_TARGET_PERSON | KS_CHECK_GRANTS_ROLES},
        {"DELETE", "/api/v1/accounts/*/users/*", KS_CHECK_TARGET_PERSON},
        {"POST", "/api/v1/accounts/*/keys/*/renew", KS_CHECK_TARGET_KEY},
        {"POST", "/api/v1/accounts/*/keys/*/undo-renewal", KS_CHECK_TARGET_KEY},
        {"DELETE", "/api/v1/accounts/*/keys/*/old-token", KS_CHECK_TARGET_KEY},
        {"POST", "/api/v1/accounts/*/external-keys", KS_CHECK_GRANTS_ROLES},
        {"PATCH", "/api/v1/accounts/*/external-keys/*", KS_CHECK_TARGET_GRANT | KS_CHECK_GRANTS_ROLES},
        {"DELETE", "/api/v1/accounts/*/external-keys/*", KS_CHECK_TARGET_GRANT},
        {"POST", "/api/v1/accounts/*/roles", KS_CHECK_GRANTS_RESOURCES},
        {"PATCH", "/api/v1/accounts/*/roles/*", KS_CHECK_TARGET_ROLE | KS_CHECK_GRANTS_RESOURCES},
        {"DELETE", "/api/v1/accounts/*/roles/*", KS_CHECK_TARGET_ROLE},
    };
    size_t n;
    const ks_route *routes = ks_http_routes(&n);
    for (size_t m = 0; m < sizeof MUST / sizeof *MUST; m++) {
        const ks_route *found = NULL;
        for (size_t i = 0; i < n && !found; i++)
            if (strcmp(routes[i].method, MUST[m].method) == 0 && strcmp(routes[i].pattern, MUST[m].pattern) == 0)
                found = &routes[i];
        if (!found)
            UNIT_FAIL("route %s %s is missing", MUST[m].method, MUST[m].pattern);
        ASSERT_EQ_INT(found->rule.checks, MUST[m].checks);
    }
}

/* The server's flags (KS_ROUTE_*): exactly the answers from memory run on
 * the worker thread and count as hot; a management route never does, as it
 * may wait for the store. Management routes name their account segment. */
static void test_route_flags(void)
{
    static const char *const HOT[] = {"/healthz", "/metrics", "/api/v1/verify"};
    size_t n;
    const ks_route *routes = ks_http_routes(&n);
    for (size_t i = 0; i < n; i++) {
        int hot = 0;
        for (size_t h = 0; h < sizeof HOT / sizeof *HOT; h++)
            hot |= strcmp(routes[i].pattern, HOT[h]) == 0;
        unsigned want = hot ? (KS_ROUTE_HOT | KS_ROUTE_ON_WORKER) : 0;
        if (routes[i].flags != want)
            UNIT_FAIL("route %s %s has flags %u, want %u", routes[i].method, routes[i].pattern, routes[i].flags,
                      want);
        if (routes[i].rule.access == KS_ACCESS_MANAGEMENT) {
            char seg[64];
            segment(routes[i].pattern, KS_PARAM_ACCOUNT, seg, sizeof seg);
            ASSERT_EQ_INT(strcmp(seg, "*"), 0);
        }
    }
}

int main(void)
{
    RUN(test_every_route_has_a_rule);
    RUN(test_delegation_checks_follow_from_the_route);
    RUN(test_known_principal_actions_are_checked);
    RUN(test_route_flags);
    return unit_report("routes");
}
