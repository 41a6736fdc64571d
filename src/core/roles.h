/*
 * roles.h - resources, the built-in roles and the rules for names.
 *
 * A role is a named set of resources per account. Every account has two
 * built-in roles that cannot be edited or deleted: "Owner" (every management
 * resource) and "User Administrator - RESTRICTED" (the four *-api-* ones and
 * edit-users). Management resources are the built-in ones above; every other
 * resource (orders.read ...) is an API permission of the account.
 */
#ifndef KS_CORE_ROLES_H
#define KS_CORE_ROLES_H

#include <stddef.h>

#define KS_RES_VIEW_KEYS "view-api-keys"
#define KS_RES_EDIT_KEYS "edit-api-keys"
#define KS_RES_RENEW_TOKEN "renew-api-token"
#define KS_RES_EDIT_SETTINGS "edit-api-keys-settings"
#define KS_RES_EDIT_ROLES "edit-roles"
#define KS_RES_VIEW_AUDIT "view-audit-log"
#define KS_RES_EDIT_USERS "edit-users"
#define KS_RES_EDIT_WEBHOOKS "edit-webhooks"

#define KS_ROLE_OWNER "Owner"
#define KS_ROLE_USER_ADMIN "User Administrator - RESTRICTED"

#define KS_ROLE_NAME_MAX 100      /* characters */
#define KS_RESOURCE_MAX 128       /* bytes */
#define KS_ROLE_RESOURCES_MAX 100 /* resources in one role */
#define KS_KEY_ROLES_MAX 50       /* roles on one key */

typedef struct {
    const char *name;
    const char *const *resources;
    size_t n_resources;
} ks_builtin_role;

/* The management resources, in a fixed order; *n receives their count. */
const char *const *ks_management_resources(size_t *n);

/* 1 when `resource` is a management resource (delegation bounds these). */
int ks_resource_is_management(const char *resource);

/* The built-in roles; *n receives their count. */
const ks_builtin_role *ks_builtin_roles(size_t *n);

/* 1 when `name` is a built-in role name. */
int ks_role_is_builtin(const char *name);

/* 1 when `name` is 1-100 UTF-8 characters with no control characters, no
 * invisible characters (ks_has_invisible_chars) and no leading or trailing
 * space. */
int ks_role_name_valid(const char *name);

/* 1 when a resource is 1-128 bytes of letters, digits and . _ : / * -. */
int ks_resource_valid(const char *resource);

/* Number of UTF-8 code points in s, or -1 when s is not valid UTF-8. */
long ks_utf8_length(const char *s);

/* 1 when s (UTF-8) has a character that changes how a name reads without
 * being seen: a bidirectional control (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069) or a zero-width or invisible format
 * character (U+180E, U+200B-U+200D, U+2060-U+2065, U+206A-U+206F, U+FEFF).
 * Names refuse them (API.md "Abuse limits"): "Pay\u202Eroll" shows as
 * another name than it is. */
int ks_has_invisible_chars(const char *s);

/* 1 when s has a control character (C0 or DEL). */
int ks_has_control_chars(const char *s);

#endif
