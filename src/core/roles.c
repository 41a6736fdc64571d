/* roles.c - built-in roles and the validity rules of role names and resources. */
#include "core/roles.h"

#include <stdint.h>
#include <string.h>

/* Every management resource: Owner holds them all. */
static const char *const OWNER_RESOURCES[] = {
    KS_RES_VIEW_KEYS, KS_RES_EDIT_KEYS, KS_RES_RENEW_TOKEN, KS_RES_EDIT_SETTINGS,
    KS_RES_EDIT_ROLES, KS_RES_VIEW_AUDIT, KS_RES_EDIT_USERS, KS_RES_EDIT_WEBHOOKS,
};
static const char *const USER_ADMIN_RESOURCES[] = {
    KS_RES_VIEW_KEYS, KS_RES_EDIT_KEYS, KS_RES_RENEW_TOKEN, KS_RES_EDIT_SETTINGS, KS_RES_EDIT_USERS,
};
static const ks_builtin_role BUILTIN_ROLES[] = {
    {KS_ROLE_OWNER, OWNER_RESOURCES, sizeof OWNER_RESOURCES / sizeof *OWNER_RESOURCES},
    {KS_ROLE_USER_ADMIN, USER_ADMIN_RESOURCES, sizeof USER_ADMIN_RESOURCES / sizeof *USER_ADMIN_RESOURCES},
};

const char *const *ks_management_resources(size_t *n)
{
    *n = sizeof OWNER_RESOURCES / sizeof *OWNER_RESOURCES;
    return OWNER_RESOURCES;
}

int ks_resource_is_management(const char *resource)
{
    for (size_t i = 0; i < sizeof OWNER_RESOURCES / sizeof *OWNER_RESOURCES; i++)
        if (strcmp(OWNER_RESOURCES[i], resource) == 0)
            return 1;
    return 0;
}

const ks_builtin_role *ks_builtin_roles(size_t *n)
{
    *n = sizeof BUILTIN_ROLES / sizeof *BUILTIN_ROLES;
    return BUILTIN_ROLES;
}

int ks_role_is_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof BUILTIN_ROLES / sizeof *BUILTIN_ROLES; i++)
        if (strcmp(BUILTIN_ROLES[i].name, name) == 0)
            return 1;
    return 0;
}

long ks_utf8_length(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        int extra;
        unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (*p < 0x80) extra = 0;
        else if (*p >= 0xC2 && *p <= 0xDF) extra = 1;
        else if ((*p & 0xF0) == 0xE0) {
            extra = 2;
            if (*p == 0xE0) lo = 0xA0;      /* no overlong forms */
            else if (*p == 0xED) hi = 0x9F; /* no UTF-16 surrogates */
        } else if (*p >= 0xF0 && *p <= 0xF4) {
            extra = 3;
            if (*p == 0xF0) lo = 0x90;      /* no overlong forms */
            else if (*p == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
        } else return -1;
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xC0) != 0x80 || (i == 0 && (*p < lo || *p > hi)))
                return -1;
        }
        n++;
    }
    return n;
}

/* The code points of the "invisible" set (see roles.h): bidirectional
 * controls and zero-width characters. */
static int invisible(uint32_t cp)
{
    return cp == 0x061C || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

int ks_has_invisible_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        int extra;
        if (*p < 0x80) { cp = *p; extra = 0; }
        else if ((*p & 0xE0) == 0xC0) { cp = *p & 0x1F; extra = 1; }
        else if ((*p & 0xF0) == 0xE0) { cp = *p & 0x0F; extra = 2; }
        else if ((*p & 0xF8) == 0xF0) { cp = *p & 0x07; extra = 3; }
        else return 0; /* not UTF-8: the length check refuses it */
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (*p & 0x3F);
        }
        if (invisible(cp))
            return 1;
    }
    return 0;
}

int ks_has_control_chars(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return 1;
    return 0;
}

int ks_role_name_valid(const char *name)
{
    long n = ks_utf8_length(name);
    size_t len = strlen(name);
    if (n < 1 || n > KS_ROLE_NAME_MAX || ks_has_control_chars(name) || ks_has_invisible_chars(name))
        return 0;
    return name[0] != ' ' && name[len - 1] != ' ';
}

int ks_resource_valid(const char *resource)
{
    size_t n = strlen(resource);
    if (n < 1 || n > KS_RESOURCE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = resource[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("._:/*-", c)))
            return 0;
    }
    return 1;
}
