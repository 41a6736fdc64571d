/*
 * test_model.c - unit tests of src/core/model.c: the string list and the
 * free functions of the model structs.
 */
#include "unit.h"

#include "core/error.h"
#include "core/model.h"

/* ------------------------------------------------------------------ model */

static void test_strlist(void)
{
    ks_strlist l = {0}, copy = {0};
    ASSERT_EQ_INT(ks_strlist_contains(&l, "a"), 0);
    ASSERT_EQ_INT(ks_strlist_add(&l, "Owner"), KS_OK);
    ASSERT_EQ_INT(ks_strlist_add(&l, "Reader"), KS_OK);
    ASSERT_EQ_INT(l.count, 2);
    ASSERT(ks_strlist_contains(&l, "Reader"));
    ASSERT(!ks_strlist_contains(&l, "reader"));
    int rc = ks_strlist_copy(&copy, &l);
    ks_strlist_free(&l);
    ASSERT_EQ_INT(l.count, 0);
    ASSERT(l.items == NULL);
    if (rc != KS_OK || copy.count != 2 || strcmp(copy.items[0], "Owner") != 0 ||
        strcmp(copy.items[1], "Reader") != 0) {
        ks_strlist_free(&copy);
        UNIT_FAIL("ks_strlist_copy did not copy [Owner, Reader]");
    }
    ks_strlist_free(&copy);
    ks_strlist_free(&copy); /* safe twice / on a zeroed list */
    ks_key k = {0};
    ks_key_free(&k);
    ks_role r = {0};
    ks_role_free(&r);
    ks_audit_record a = {0};
    ks_audit_record_free(&a);
}

int main(void)
{
    RUN(test_strlist);
    return unit_report("model");
}
