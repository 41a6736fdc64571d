/* model.c - freeing and copying the plain records of model.h. */
#include "core/model.h"
#include "core/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ks_strlist_add(ks_strlist *l, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return KS_ERR_NOMEM;
    char **grown = realloc(l->items, (l->count + 1) * sizeof *grown);
    if (!grown) {
        free(copy);
        return KS_ERR_NOMEM;
    }
    grown[l->count++] = copy;
    l->items = grown;
    return KS_OK;
}

int ks_strlist_contains(const ks_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return 1;
    return 0;
}

int ks_strlist_copy(ks_strlist *dst, const ks_strlist *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->count; i++) {
        if (ks_strlist_add(dst, src->items[i]) != KS_OK) {
            ks_strlist_free(dst);
            return KS_ERR_NOMEM;
        }
    }
    return KS_OK;
}

void ks_strlist_free(ks_strlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

void ks_role_free(ks_role *r)
{
    free(r->name);
    r->name = NULL;
    ks_strlist_free(&r->resources);
}

void ks_key_free(ks_key *k)
{
    free(k->name);
    k->name = NULL;
    ks_strlist_free(&k->roles);
    ks_strlist_free(&k->allowed_cidrs);
    for (size_t i = 0; i < k->n_grants; i++)
        ks_strlist_free(&k->grants[i].roles);
    free(k->grants);
    k->grants = NULL;
    k->n_grants = 0;
}

const ks_grant *ks_key_grant(const ks_key *k, const char *account)
{
    for (size_t i = 0; i < k->n_grants; i++)
        if (strcmp(k->grants[i].account, account) == 0)
            return &k->grants[i];
    return NULL;
}

ks_grant *ks_key_add_grant(ks_key *k, const char *account)
{
    ks_grant *grown = realloc(k->grants, (k->n_grants + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    k->grants = grown;
    ks_grant *g = &grown[k->n_grants++];
    memset(g, 0, sizeof *g);
    snprintf(g->account, sizeof g->account, "%s", account);
    return g;
}

void ks_audit_record_free(ks_audit_record *r)
{
    free(r->actor);
    free(r->action);
    free(r->target);
    free(r->detail);
    free(r->via);
    free(r->address);
    memset(r, 0, sizeof *r);
}

void ks_webhook_free(ks_webhook *w)
{
    free(w->url);
    w->url = NULL;
    ks_strlist_free(&w->events);
    sodium_memzero(w->sealed_secret, sizeof w->sealed_secret);
}

void ks_delivery_free(ks_delivery *d)
{
    free(d->event);
    free(d->body);
    free(d->url);
    sodium_memzero(d->sealed_secret, sizeof d->sealed_secret);
    d->event = d->body = d->url = NULL;
}

const char *ks_leaked_token_action_name(int action)
{
    return action == KS_LEAKED_REVOKE ? "revoke" : "alert";
}

int ks_leaked_token_action_parse(const char *name)
{
    if (name && strcmp(name, "alert") == 0)
        return KS_LEAKED_ALERT;
    if (name && strcmp(name, "revoke") == 0)
        return KS_LEAKED_REVOKE;
    return -1;
}
