/*
 * test_roles_errors.c - unit tests of src/core/roles.c (built-in roles, role
 * names, UTF-8 and control-character helpers, resources) and
 * src/core/error.c (the error table of API.md, literal here).
 */
#include "unit.h"

#include "core/error.h"
#include "core/roles.h"

/* ------------------------------------------------------------------ roles */

static const ks_builtin_role *find_builtin(const char *name)
{
    size_t n = 0;
    const ks_builtin_role *r = ks_builtin_roles(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].name, name) == 0)
            return &r[i];
    return NULL;
}

static int role_has(const ks_builtin_role *r, const char *res)
{
    for (size_t i = 0; i < r->n_resources; i++)
        if (strcmp(r->resources[i], res) == 0)
            return 1;
    return 0;
}

static void test_builtin_roles(void)
{
    size_t n = 0;
    ks_builtin_roles(&n);
    ASSERT_EQ_INT(n, 2);
    const ks_builtin_role *owner = find_builtin("Owner");
    const ks_builtin_role *admin = find_builtin("User Administrator - RESTRICTED");
    ASSERT(owner && admin);
    static const char *const ALL[] = {"view-api-keys", "edit-api-keys", "renew-api-token",
                                      "edit-api-keys-settings", "edit-users", "edit-roles",
                                      "view-audit-log", "edit-webhooks"};
    ASSERT_EQ_INT(owner->n_resources, 8);
    for (size_t i = 0; i < 8; i++)
        ASSERT(role_has(owner, ALL[i]));
    ASSERT_EQ_INT(admin->n_resources, 5);
    for (size_t i = 0; i < 5; i++)
        ASSERT(role_has(admin, ALL[i]));
    ASSERT(!role_has(admin, "edit-roles"));
    ASSERT(!role_has(admin, "view-audit-log"));
    ASSERT(!role_has(admin, "edit-webhooks"));
    /* Every resource of a built-in role is a management resource, and the
     * management resources are exactly Owner's. */
    size_t n_mgmt = 0;
    ks_management_resources(&n_mgmt);
    ASSERT_EQ_INT(n_mgmt, owner->n_resources);
    for (size_t i = 0; i < 8; i++)
        ASSERT(ks_resource_is_management(ALL[i]));
    ASSERT(!ks_resource_is_management("orders.read"));
    ASSERT(!ks_resource_is_management("edit-api-keys2"));
    /* No duplicates (the counts above would otherwise hide a missing one). */
    for (size_t i = 0; i < owner->n_resources; i++)
        for (size_t j = i + 1; j < owner->n_resources; j++)
            ASSERT(strcmp(owner->resources[i], owner->resources[j]) != 0);
    for (size_t i = 0; i < admin->n_resources; i++) {
        ASSERT(ks_resource_valid(admin->resources[i]));
        for (size_t j = i + 1; j < admin->n_resources; j++)
            ASSERT(strcmp(admin->resources[i], admin->resources[j]) != 0);
    }
    ASSERT_EQ_STR(KS_ROLE_OWNER, "Owner");
    ASSERT_EQ_STR(KS_ROLE_USER_ADMIN, "User Administrator - RESTRICTED");
}

static void test_role_is_builtin(void)
{
    ASSERT_EQ_INT(ks_role_is_builtin("Owner"), 1);
    ASSERT_EQ_INT(ks_role_is_builtin("User Administrator - RESTRICTED"), 1);
    static const char *const NOT[] = {"owner", "OWNER", "Owner ", " Owner", "User Administrator",
                                      "User Administrator - Restricted", "", "Reader"};
    for (size_t i = 0; i < sizeof NOT / sizeof *NOT; i++)
        if (ks_role_is_builtin(NOT[i]))
            UNIT_FAIL("\"%s\" taken for a built-in role", NOT[i]);
}

static void test_role_name_valid(void)
{
    char buf[512];
    static const char *const GOOD[] = {
        "a", "Reader", "Orders - read only", "User Administrator - RESTRICTED",
        "r\xc3\xb4le", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x94\x91 keys", "a  b",
    };
    static const char *const BAD[] = {
        "", " ", " a", "a ", "  Reader", "Reader  ", "a\tb", "a\nb", "a\rb", "\x1b[31m", "a\x7f",
        "a\x01", "\xff", "a\xfe", "\x80", "\xc3", "a\xc3", "\xe2\x82", "\xc0\xaf", "\xc1\xbf",
        "\xf5\x80\x80\x80", "\xc3\x28",
    };
    for (size_t i = 0; i < sizeof GOOD / sizeof *GOOD; i++)
        if (!ks_role_name_valid(GOOD[i]))
            UNIT_FAIL("rejected role name \"%s\"", GOOD[i]);
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++)
        if (ks_role_name_valid(BAD[i]))
            UNIT_FAIL("accepted role name #%zu", i);
    /* 100 characters, counted as code points, not bytes. */
    memset(buf, 'r', 100);
    buf[100] = '\0';
    ASSERT(ks_role_name_valid(buf));
    buf[100] = 'r';
    buf[101] = '\0';
    ASSERT(!ks_role_name_valid(buf));
    for (int i = 0; i < 100; i++)
        memcpy(buf + 2 * i, "\xc3\xa9", 2); /* e acute: 2 bytes, 1 char */
    buf[200] = '\0';
    ASSERT_EQ_INT(ks_utf8_length(buf), 100);
    ASSERT(ks_role_name_valid(buf));
    memcpy(buf + 200, "\xc3\xa9", 3);
    ASSERT(!ks_role_name_valid(buf));
    for (int i = 0; i < 100; i++)
        memcpy(buf + 4 * i, "\xf0\x9f\x94\x91", 4);
    buf[400] = '\0';
    ASSERT(ks_role_name_valid(buf));
}

static void test_role_name_rejects_all_invalid_utf8(void)
{
    /* RFC 3629: overlong forms, UTF-16 surrogates and code points above
     * U+10FFFF are not UTF-8. Each is reported, then the test fails once. */
    static const struct { const char *s; const char *what; } BAD[] = {
        {"a\xe0\x80\xaf", "overlong 3-byte '/' (E0 80 AF)"},
        {"a\xe0\x9f\xbf", "overlong 3-byte U+07FF (E0 9F BF)"},
        {"a\xed\xa0\x80", "UTF-16 surrogate U+D800 (ED A0 80)"},
        {"a\xed\xbf\xbf", "UTF-16 surrogate U+DFFF (ED BF BF)"},
        {"a\xf0\x80\x80\xaf", "overlong 4-byte '/' (F0 80 80 AF)"},
        {"a\xf0\x8f\xbf\xbf", "overlong 4-byte U+FFFF (F0 8F BF BF)"},
        {"a\xf4\x90\x80\x80", "U+110000, above U+10FFFF (F4 90 80 80)"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        if (ks_role_name_valid(BAD[i].s)) {
            fprintf(stderr, "  ks_role_name_valid accepted %s\n", BAD[i].what);
            bad++;
        }
        if (ks_utf8_length(BAD[i].s) != -1) {
            fprintf(stderr, "  ks_utf8_length(%s) = %ld, want -1\n", BAD[i].what,
                    ks_utf8_length(BAD[i].s));
            bad++;
        }
    }
    ASSERT_EQ_INT(bad, 0);
}

static void test_utf8_and_control_helpers(void)
{
    ASSERT_EQ_INT(ks_utf8_length(""), 0);
    ASSERT_EQ_INT(ks_utf8_length("abc"), 3);
    ASSERT_EQ_INT(ks_utf8_length("\xc3\xa9t\xc3\xa9"), 3);
    ASSERT_EQ_INT(ks_utf8_length("\xe2\x82\xac"), 1);
    ASSERT_EQ_INT(ks_utf8_length("\xf0\x9f\x94\x91"), 1);
    ASSERT_EQ_INT(ks_utf8_length("\xf4\x8f\xbf\xbf"), 1); /* U+10FFFF */
    ASSERT_EQ_INT(ks_utf8_length("\xef\xbf\xbd"), 1);
    ASSERT_EQ_INT(ks_utf8_length("\xe2\x82"), -1);
    ASSERT_EQ_INT(ks_utf8_length("\xc0\x80"), -1);
    ASSERT_EQ_INT(ks_utf8_length("\xff"), -1);
    ASSERT_EQ_INT(ks_has_control_chars("plain text"), 0);
    ASSERT_EQ_INT(ks_has_control_chars("\xc3\xa9"), 0);
    ASSERT_EQ_INT(ks_has_control_chars("a\tb"), 1);
    ASSERT_EQ_INT(ks_has_control_chars("\x1f"), 1);
    ASSERT_EQ_INT(ks_has_control_chars("x\x7f"), 1);
}

static void test_resource_valid(void)
{
    static const char *const GOOD[] = {
        "orders.read", "a", "Z", "0", "view-api-keys", "api/v1:orders/*", "x_y-z.w", "*",
        "a:b:c", "Orders.Write",
    };
    static const char *const BAD[] = {
        "", " ", "orders read", "orders,read", "orders\n", "r\xc3\xa9", "a;b", "a\"b", "a'b",
        "a\\b", "a?b", "a#b", "a%b", "a\x01", " orders.read", "orders.read ",
    };
    for (size_t i = 0; i < sizeof GOOD / sizeof *GOOD; i++)
        if (!ks_resource_valid(GOOD[i]))
            UNIT_FAIL("rejected resource \"%s\"", GOOD[i]);
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++)
        if (ks_resource_valid(BAD[i]))
            UNIT_FAIL("accepted resource #%zu \"%s\"", i, BAD[i]);
    char buf[200];
    memset(buf, 'r', 128);
    buf[128] = '\0';
    ASSERT(ks_resource_valid(buf));
    buf[128] = 'r';
    buf[129] = '\0';
    ASSERT(!ks_resource_valid(buf));
}

/* ------------------------------------------------------------------ errors */

static void test_error_table(void)
{
    static const struct { int err; int status; const char *code; } ROWS[] = {
        {KS_ERR_INVALID, 400, "invalid_request"},
        {KS_ERR_UNAUTHENTICATED, 401, "unauthenticated"},
        {KS_ERR_EXPIRED, 401, "expired"},
        {KS_ERR_FORBIDDEN, 403, "forbidden"},
        {KS_ERR_NOT_FOUND, 404, "not_found"},
        {KS_ERR_METHOD, 405, "method_not_allowed"},
        {KS_ERR_OLD_TOKEN_EXISTS, 409, "old_token_exists"},
        {KS_ERR_NO_OLD_TOKEN, 409, "no_old_token"},
        {KS_ERR_NAME_TAKEN, 409, "name_taken"},
        {KS_ERR_ROLE_IN_USE, 409, "role_in_use"},
        {KS_ERR_BUILTIN_ROLE, 409, "builtin_role"},
        {KS_ERR_GONE, 410, "gone"},
        {KS_ERR_TOO_LARGE, 413, "payload_too_large"},
        {KS_ERR_MEDIA_TYPE, 415, "unsupported_media_type"},
        {KS_ERR_RATE_LIMITED, 429, "rate_limited"},
        {KS_ERR_INTERNAL, 500, "internal"},
        {KS_ERR_STORAGE, 503, "storage_unavailable"},
        {KS_ERR_NOMEM, 500, "internal"},
        {KS_ERR_LAST_OWNER, 409, "last_owner"},
    };
    for (size_t i = 0; i < sizeof ROWS / sizeof *ROWS; i++) {
        const ks_error_info_t *e = ks_error_info(ROWS[i].err);
        ASSERT(e != NULL);
        if (e->http_status != ROWS[i].status || !e->code || strcmp(e->code, ROWS[i].code) != 0)
            UNIT_FAIL("code %d: got %d \"%s\", want %d \"%s\"", ROWS[i].err, e->http_status,
                      e->code ? e->code : "(null)", ROWS[i].status, ROWS[i].code);
        ASSERT(e->message && e->message[0]);
    }
    /* Unknown codes map to 500 internal. */
    static const int UNKNOWN[] = {-20, -100, -1000, 1, 42, -2147483647};
    for (size_t i = 0; i < sizeof UNKNOWN / sizeof *UNKNOWN; i++) {
        const ks_error_info_t *e = ks_error_info(UNKNOWN[i]);
        ASSERT(e != NULL);
        ASSERT_EQ_INT(e->http_status, 500);
        ASSERT_EQ_STR(e->code, "internal");
    }
}

int main(void)
{
    RUN(test_builtin_roles);
    RUN(test_role_is_builtin);
    RUN(test_role_name_valid);
    RUN(test_role_name_rejects_all_invalid_utf8);
    RUN(test_utf8_and_control_helpers);
    RUN(test_resource_valid);
    RUN(test_error_table);
    return unit_report("roles-errors");
}
