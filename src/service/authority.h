/*
 * authority.h - who may do what. A principal's authority in an account is
 * the set of management resources (core/roles.h) that its roles there give
 * it: a key's own roles in its home account, an external grant's roles in
 * the granting account. API resources (orders.read ...) are not authority.
 *
 * The rules of API.md "Delegation", all stated as "subset of the caller's":
 *   - what a key, grant or role is given (its roles' or its own management
 *     resources) must be held by the caller;
 *   - a key, grant or role acted on must hold nothing the caller lacks.
 * The HTTP layer applies them per route (http/authorize.c, from the route
 * table); this module only computes authorities, reading the store.
 *
 * An authority is a bit set over ks_management_resources(): bit i is
 * resource i. Store reads go through a scope, which reads the account's role
 * definitions at most once per request. Errors: the store's (NOT_FOUND for a
 * key, grant or role that does not exist, STORAGE, NOMEM); nothing changes.
 */
#ifndef KS_SERVICE_AUTHORITY_H
#define KS_SERVICE_AUTHORITY_H

#include "service/service.h"

#include <stdint.h>

typedef uint32_t ks_authority;

/* The authority that a list of resources gives (other resources ignored). */
ks_authority ks_authority_of_resources(const ks_strlist *resources);

/* Every management resource: what the Owner role gives. Any authority is a
 * subset of it, so a caller holding it passes every delegation check. */
ks_authority ks_authority_all(void);

/* The first management resource in `need` that `have` lacks, in the order
 * of ks_management_resources(); NULL when need is a subset of have. */
__attribute__((warn_unused_result))
const char *ks_authority_missing(ks_authority have, ks_authority need);

/* The account whose authorities a request computes, and what it read. */
typedef struct {
    ks_service *svc;
    const char *account;
    ks_role *roles;      /* the account's role definitions, once read */
    size_t n_roles;
    int roles_read;
} ks_authority_scope;

void ks_authority_scope_init(ks_authority_scope *scope, ks_service *svc, const char *account);
void ks_authority_scope_free(ks_authority_scope *scope);

/* What holding the named roles gives in the account (names that are not
 * roles of the account give nothing: the caller reports them). */
__attribute__((warn_unused_result))
int ks_authority_of_roles(ks_authority_scope *scope, const ks_strlist *roles, ks_authority *out);

/* A generated key of the account: its own roles. NOT_FOUND when the account
 * has no such key. */
__attribute__((warn_unused_result))
int ks_authority_of_key(ks_authority_scope *scope, const char *key_id, ks_authority *out);

/* A key of another account with a grant here: the grant's roles, whether
 * the grant is active or not. NOT_FOUND when there is no such grant. */
__attribute__((warn_unused_result))
int ks_authority_of_grant(ks_authority_scope *scope, const char *key_id, ks_authority *out);

/* A member of the account (a person, by email): its membership's roles,
 * whether active or not. NOT_FOUND when the person is not a member. */
__attribute__((warn_unused_result))
int ks_authority_of_member(ks_authority_scope *scope, const char *email, ks_authority *out);

/* A role of the account: the management resources it holds. NOT_FOUND when
 * the account has no such role. */
__attribute__((warn_unused_result))
int ks_authority_of_role(ks_authority_scope *scope, const char *role, ks_authority *out);

#endif
