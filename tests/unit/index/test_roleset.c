/*
 * test_roleset.c - role sets and their views (src/index/roleset.c), seen
 * through the index's keys:
 *  - keys of one account with the same role names (in the same order) share
 *    one set; another order or another list is another set;
 *  - a view holds the names in the key's order, the sorted, unique union of
 *    their roles' resources, and that grant as JSON text (made by the
 *    view-text function the service sets, verify's ks_verify_grant_text);
 *  - views follow role edits (same set, new resources) and renames (a name
 *    with no role contributes nothing until the keys are put again);
 *  - a set is freed when its last key (or grant) goes: the account's set
 *    count drops, and the names come back as a new set with one reference.
 * Set internals (refs, the account's n_sets) are read through
 * index_internal.h.
 */
#include "unit.h"
#include "core/error.h"
#include "index/index_internal.h"
#include "verify/verify.h"

#define K1 "kst-acme-aaaaaaaaaa"
#define K2 "kst-acme-bbbbbbbbbb"
#define K3 "kst-acme-cccccccccc"
#define K4 "kst-acme-dddddddddd"
#define KB "kst-beta-eeeeeeeeee"

static ks_index *idx;

static ks_role role_make(const char *name, const char *const *resources)
{
    ks_role r = {0};
    r.name = strdup(name);
    for (; *resources; resources++)
        ASSERT_EQ_INT(ks_strlist_add(&r.resources, *resources), KS_OK);
    return r;
}

/* Puts account acme (or another) with the roles given, then frees them. */
static void account_put(const char *account, ks_role *roles, size_t n)
{
    ks_settings s = KS_SETTINGS_DEFAULT;
    int rc = ks_index_put_account(idx, account, &s, roles, n);
    for (size_t i = 0; i < n; i++)
        ks_role_free(&roles[i]);
    ASSERT_EQ_INT(rc, KS_OK);
}

static void key_put(const char *key_id, const char *account, const char *const *roles)
{
    ks_key k = {0};
    snprintf(k.key_id, sizeof k.key_id, "%s", key_id);
    snprintf(k.account, sizeof k.account, "%s", account);
    k.active = KS_KEY_ACTIVE;
    k.slots.current.present = 1;
    k.slots.current.created_at = 1000;
    int rc = KS_OK;
    for (; *roles && rc == KS_OK; roles++)
        rc = ks_strlist_add(&k.roles, *roles);
    if (rc == KS_OK)
        rc = ks_index_put_key(idx, &k);
    ks_key_free(&k);
    ASSERT_EQ_INT(rc, KS_OK);
}

/* The role set of key_id (the index is only written by this thread). */
static const ks_index_roleset *set_of(const char *key_id)
{
    const ks_index_key *k = ks_index_find_key(idx, key_id, strlen(key_id));
    ASSERT(k);
    return k->roles;
}

static size_t sets_in(const char *key_id)
{
    const ks_index_key *k = ks_index_find_key(idx, key_id, strlen(key_id));
    ASSERT(k);
    return ((const struct ks_index_account *)k->account)->n_sets;
}

/* The view of key_id's set holds exactly these names, resources and JSON. */
static void expect_view(const char *key_id, const char *const *names, const char *const *resources,
                        const char *json)
{
    const ks_index_view *v = ks_index_roleset_view(set_of(key_id));
    ASSERT(v);
    size_t n = 0;
    for (; names[n]; n++) {
        ASSERT(n < v->n_roles);
        ASSERT_EQ_STR(v->roles[n], names[n]);
    }
    ASSERT_EQ_INT(v->n_roles, n);
    for (n = 0; resources[n]; n++) {
        ASSERT(n < v->n_resources);
        ASSERT_EQ_STR(v->resources[n], resources[n]);
    }
    ASSERT_EQ_INT(v->n_resources, n);
    ASSERT_EQ_STR(v->json, json);
    ASSERT_EQ_INT(v->json_len, strlen(json));
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define L0 ((const char *const[]){NULL})

static void setup(void)
{
    idx = ks_index_new();
    ASSERT(idx);
    ks_index_set_view_text(idx, ks_verify_grant_text); /* as ks_service_init does */
    ks_role roles[] = {role_make("Reader", L("docs", "wiki")), role_make("Writer", L("docs", "billing")),
                       role_make("Empty", L0)};
    account_put("acme", roles, 3);
    key_put(K1, "acme", L("Reader"));
    key_put(K2, "acme", L("Reader"));
    key_put(K3, "acme", L("Reader", "Writer"));
    key_put(K4, "acme", L("Writer", "Reader"));
}

static void test_same_roles_share_a_set(void)
{
    setup();
    ASSERT(set_of(K1) == set_of(K2));
    ASSERT(set_of(K1) != set_of(K3));
    ASSERT(set_of(K3) != set_of(K4)); /* the order of the names is part of the set */
    ASSERT_EQ_INT(set_of(K1)->refs, 2);
    ASSERT_EQ_INT(set_of(K3)->refs, 1);
    ASSERT_EQ_INT(sets_in(K1), 3);
    /* the same names in another account are another set */
    ks_role beta[] = {role_make("Reader", L("other"))};
    account_put("beta", beta, 1);
    key_put(KB, "beta", L("Reader"));
    ASSERT(set_of(KB) != set_of(K1));
    expect_view(KB, L("Reader"), L("other"), "\"roles\":[\"Reader\"],\"resources\":[\"other\"]");
    ASSERT_EQ_INT(sets_in(K1), 3);
    ks_index_free(idx);
}

static void test_view_is_sorted_union(void)
{
    setup();
    expect_view(K1, L("Reader"), L("docs", "wiki"), "\"roles\":[\"Reader\"],\"resources\":[\"docs\",\"wiki\"]");
    expect_view(K3, L("Reader", "Writer"), L("billing", "docs", "wiki"),
                "\"roles\":[\"Reader\",\"Writer\"],\"resources\":[\"billing\",\"docs\",\"wiki\"]");
    expect_view(K4, L("Writer", "Reader"), L("billing", "docs", "wiki"),
                "\"roles\":[\"Writer\",\"Reader\"],\"resources\":[\"billing\",\"docs\",\"wiki\"]");
    /* a role without resources, a name with no role, no roles at all */
    key_put(K2, "acme", L("Empty", "Nobody"));
    expect_view(K2, L("Empty", "Nobody"), L0, "\"roles\":[\"Empty\",\"Nobody\"],\"resources\":[]");
    key_put(K2, "acme", L0);
    expect_view(K2, L0, L0, "\"roles\":[],\"resources\":[]");
    ks_index_free(idx);
}

static void test_views_follow_role_edits(void)
{
    setup();
    const ks_index_roleset *before = set_of(K1);
    const ks_index_view *old_view = ks_index_roleset_view(before);
    ks_role edited[] = {role_make("Reader", L("wiki", "api")), role_make("Writer", L("docs", "billing")),
                        role_make("Empty", L("audit"))};
    account_put("acme", edited, 3);
    ASSERT(set_of(K1) == before); /* same set, new view */
    ASSERT(ks_index_roleset_view(before) != old_view);
    expect_view(K1, L("Reader"), L("api", "wiki"), "\"roles\":[\"Reader\"],\"resources\":[\"api\",\"wiki\"]");
    expect_view(K3, L("Reader", "Writer"), L("api", "billing", "docs", "wiki"),
                "\"roles\":[\"Reader\",\"Writer\"],\"resources\":[\"api\",\"billing\",\"docs\",\"wiki\"]");
    /* a role deleted: its name contributes nothing */
    ks_role fewer[] = {role_make("Writer", L("docs", "billing"))};
    account_put("acme", fewer, 1);
    expect_view(K1, L("Reader"), L0, "\"roles\":[\"Reader\"],\"resources\":[]");
    expect_view(K3, L("Reader", "Writer"), L("billing", "docs"),
                "\"roles\":[\"Reader\",\"Writer\"],\"resources\":[\"billing\",\"docs\"]");
    ks_index_free(idx);
}

/* A rename is a new role definition plus the keys put again with the new
 * name (as ks_index_reload_account with keys does): the old set goes when
 * its last key leaves it. */
static void test_views_follow_rename(void)
{
    setup();
    ks_role renamed[] = {role_make("Viewer", L("docs", "wiki")), role_make("Writer", L("docs", "billing")),
                         role_make("Empty", L0)};
    account_put("acme", renamed, 3);
    expect_view(K1, L("Reader"), L0, "\"roles\":[\"Reader\"],\"resources\":[]");
    size_t sets = sets_in(K1);
    key_put(K1, "acme", L("Viewer"));
    ASSERT_EQ_INT(sets_in(K1), sets + 1); /* Viewer made, Reader still held by K2 */
    ASSERT_EQ_INT(set_of(K2)->refs, 1);
    key_put(K2, "acme", L("Viewer"));
    ASSERT_EQ_INT(sets_in(K1), sets); /* Reader freed at zero references */
    ASSERT(set_of(K1) == set_of(K2));
    ASSERT_EQ_INT(set_of(K1)->refs, 2);
    expect_view(K2, L("Viewer"), L("docs", "wiki"), "\"roles\":[\"Viewer\"],\"resources\":[\"docs\",\"wiki\"]");
    key_put(K3, "acme", L("Viewer", "Writer"));
    key_put(K4, "acme", L("Writer", "Viewer"));
    expect_view(K4, L("Writer", "Viewer"), L("billing", "docs", "wiki"),
                "\"roles\":[\"Writer\",\"Viewer\"],\"resources\":[\"billing\",\"docs\",\"wiki\"]");
    ASSERT_EQ_INT(sets_in(K1), 3);
    ks_index_free(idx);
}

static void test_set_freed_at_zero_refs(void)
{
    setup();
    ASSERT_EQ_INT(sets_in(K1), 3);
    ks_index_remove_key(idx, K3);
    ASSERT_EQ_INT(sets_in(K1), 2);
    ks_index_remove_key(idx, K1);
    ASSERT_EQ_INT(sets_in(K2), 2); /* K2 still holds Reader */
    ASSERT_EQ_INT(set_of(K2)->refs, 1);
    ks_index_remove_key(idx, K2);
    ASSERT_EQ_INT(sets_in(K4), 1);
    /* the names come back as a new set with one reference */
    key_put(K1, "acme", L("Reader"));
    ASSERT_EQ_INT(set_of(K1)->refs, 1);
    ASSERT_EQ_INT(sets_in(K1), 2);
    expect_view(K1, L("Reader"), L("docs", "wiki"), "\"roles\":[\"Reader\"],\"resources\":[\"docs\",\"wiki\"]");
    /* a key moved to other roles releases its old set */
    key_put(K4, "acme", L("Reader"));
    ASSERT_EQ_INT(sets_in(K1), 1);
    ASSERT_EQ_INT(set_of(K1)->refs, 2);
    ks_index_free(idx);
}

int main(void)
{
    RUN(test_same_roles_share_a_set);
    RUN(test_view_is_sorted_union);
    RUN(test_views_follow_role_edits);
    RUN(test_views_follow_rename);
    RUN(test_set_freed_at_zero_refs);
    return unit_report("roleset");
}
