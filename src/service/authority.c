/* authority.c - management authority of principals (see authority.h). */
#include "service/authority.h"
#include "core/error.h"
#include "core/roles.h"
#include "service/people.h"

#include <string.h>

/* Bit of a management resource, 0 for any other resource. */
static ks_authority bit_of(const char *resource)
{
    size_t n;
    const char *const *all = ks_management_resources(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i], resource) == 0)
            return (ks_authority)1 << i;
    return 0;
}

ks_authority ks_authority_of_resources(const ks_strlist *resources)
{
    ks_authority a = 0;
    for (size_t i = 0; resources && i < resources->count; i++)
        a |= bit_of(resources->items[i]);
    return a;
}

ks_authority ks_authority_all(void)
{
    size_t n;
    ks_management_resources(&n);
    ks_authority all = 0;
    for (size_t i = 0; i < n; i++)
        all |= (ks_authority)1 << i; /* bit_of's bits */
    return all;
}

const char *ks_authority_missing(ks_authority have, ks_authority need)
{
    size_t n;
    const char *const *all = ks_management_resources(&n);
    ks_authority lacking = need & ~have;
    for (size_t i = 0; i < n; i++)
        if (lacking & ((ks_authority)1 << i))
            return all[i];
    return NULL;
}

void ks_authority_scope_init(ks_authority_scope *scope, ks_service *svc, const char *account)
{
    memset(scope, 0, sizeof *scope);
    scope->svc = svc;
    scope->account = account;
}

void ks_authority_scope_free(ks_authority_scope *scope)
{
    ks_roles_free(scope->roles, scope->n_roles);
    memset(scope, 0, sizeof *scope);
}

static int read_roles(ks_authority_scope *scope)
{
    if (scope->roles_read)
        return KS_OK;
    int rc = ks_service_role_list(scope->svc, scope->account, &scope->roles, &scope->n_roles);
    scope->roles_read = rc == KS_OK;
    return rc;
}

int ks_authority_of_roles(ks_authority_scope *scope, const ks_strlist *roles, ks_authority *out)
{
    *out = 0;
    int rc = read_roles(scope);
    for (size_t i = 0; rc == KS_OK && roles && i < roles->count; i++)
        for (size_t j = 0; j < scope->n_roles; j++)
            if (strcmp(scope->roles[j].name, roles->items[i]) == 0)
                *out |= ks_authority_of_resources(&scope->roles[j].resources);
    return rc;
}

int ks_authority_of_key(ks_authority_scope *scope, const char *key_id, ks_authority *out)
{
    ks_key key = {0};
    *out = 0;
    int rc = ks_service_key_get(scope->svc, scope->account, key_id, &key);
    if (rc == KS_OK)
        rc = ks_authority_of_roles(scope, &key.roles, out);
    ks_key_free(&key);
    return rc;
}

int ks_authority_of_grant(ks_authority_scope *scope, const char *key_id, ks_authority *out)
{
    char home[KS_ACCOUNT_MAX + 1];
    ks_key key = {0};
    *out = 0;
    if (ks_key_id_parse(key_id, home) != KS_OK || strcmp(home, scope->account) == 0)
        return KS_ERR_NOT_FOUND;
    int rc = ks_service_key_get(scope->svc, home, key_id, &key);
    const ks_grant *grant = rc == KS_OK ? ks_key_grant(&key, scope->account) : NULL;
    if (rc == KS_OK)
        rc = grant ? ks_authority_of_roles(scope, &grant->roles, out) : KS_ERR_NOT_FOUND;
    ks_key_free(&key);
    return rc;
}

int ks_authority_of_member(ks_authority_scope *scope, const char *email, ks_authority *out)
{
    ks_member m;
    *out = 0;
    int rc = ks_people_get(scope->svc, scope->account, email, &m);
    if (rc == KS_OK)
        rc = ks_authority_of_roles(scope, &m.membership.roles, out);
    ks_member_free(&m);
    return rc;
}

int ks_authority_of_role(ks_authority_scope *scope, const char *role, ks_authority *out)
{
    *out = 0;
    int rc = read_roles(scope);
    for (size_t j = 0; rc == KS_OK && j < scope->n_roles; j++)
        if (strcmp(scope->roles[j].name, role) == 0) {
            *out = ks_authority_of_resources(&scope->roles[j].resources);
            return KS_OK;
        }
    return rc == KS_OK ? KS_ERR_NOT_FOUND : rc;
}
