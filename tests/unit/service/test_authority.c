/*
 * test_authority.c - the authority bit sets of service/authority.h, without
 * a store:
 *  - ks_authority_all is exactly what the Owner role's resources give, and
 *    nothing is missing from it (the HTTP layer skips the delegation checks'
 *    store reads for a caller holding it, so it must be neither smaller,
 *    which would let a lesser caller skip them, nor larger);
 *  - lacking any one management resource is not "all", and that resource
 *    is the one reported missing;
 *  - API resources give no authority.
 */
#include "unit.h"
#include "core/roles.h"
#include "service/authority.h"

#include <string.h>

static ks_authority of(const char *const *resources, size_t n)
{
    ks_strlist list = {0};
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ_INT(ks_strlist_add(&list, resources[i]), 0);
    ks_authority a = ks_authority_of_resources(&list);
    ks_strlist_free(&list);
    return a;
}

static void test_all_is_what_owner_gives(void)
{
    size_t n_roles;
    const ks_builtin_role *roles = ks_builtin_roles(&n_roles);
    int seen_owner = 0;
    for (size_t i = 0; i < n_roles; i++) {
        ks_authority a = of(roles[i].resources, roles[i].n_resources);
        if (strcmp(roles[i].name, KS_ROLE_OWNER) == 0) {
            seen_owner = 1;
            ASSERT(a == ks_authority_all());
        } else {
            ASSERT(a != ks_authority_all()); /* User Admin: less than Owner */
        }
        ASSERT(ks_authority_missing(ks_authority_all(), a) == NULL);
    }
    ASSERT(seen_owner);
}

static void test_lacking_one_resource_is_not_all(void)
{
    size_t n;
    const char *const *all = ks_management_resources(&n);
    ASSERT(n > 0 && n < 32);
    for (size_t skip = 0; skip < n; skip++) {
        const char *some[32];
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (i != skip)
                some[k++] = all[i];
        ks_authority mine = of(some, k);
        ASSERT(mine != ks_authority_all());
        const char *missing = ks_authority_missing(mine, ks_authority_all());
        ASSERT(missing != NULL);
        ASSERT_EQ_STR(missing, all[skip]);
    }
}

static void test_api_resources_give_nothing(void)
{
    const char *const api[] = {"orders.read", "orders.write", "invoices"};
    ASSERT(of(api, 3) == 0);
    ASSERT(ks_authority_missing(0, of(api, 3)) == NULL);
}

int main(void)
{
    RUN(test_all_is_what_owner_gives);
    RUN(test_lacking_one_resource_is_not_all);
    RUN(test_api_resources_give_nothing);
    return unit_report("authority");
}
