/*
 * roleset.c - role sets of an account and their rendered views (see
 * key_index.h). Writers only, under the index's write lock.
 *
 * A view is one allocation: the struct, the name and resource pointer
 * arrays, then the text the index's view_text function made of them (the
 * verify layer's ks_verify_grant_text; the index does not know its
 * format). Resources are the sorted (strcmp), de-duplicated union of the resources of the named roles that
 * exist in the account; a name with no role contributes nothing.
 */
#include "index/index_internal.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const ks_role *role_find(const ks_role *roles, size_t n_roles, const char *name)
{
    for (size_t i = 0; i < n_roles; i++)
        if (strcmp(roles[i].name, name) == 0)
            return &roles[i];
    return NULL;
}

/* Renders the view of `names` under the role definitions `roles`, its
 * text by text_fn (NULL: ""). */
static ks_index_view *view_render(ks_index_view_text_fn text_fn, const ks_role *roles, size_t n_roles,
                                  char *const *names, size_t n)
{
    size_t cap = 0, count = 0;
    for (size_t i = 0; i < n; i++) {
        const ks_role *r = role_find(roles, n_roles, names[i]);
        cap += r ? r->resources.count : 0;
    }
    const char **res = malloc((cap ? cap : 1) * sizeof *res);
    if (!res)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const ks_role *r = role_find(roles, n_roles, names[i]);
        for (size_t j = 0; r && j < r->resources.count; j++)
            res[count++] = r->resources.items[j];
    }
    qsort(res, count, sizeof *res, compare_strings);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++)
        if (unique == 0 || strcmp(res[unique - 1], res[i]) != 0)
            res[unique++] = res[i];
    size_t json_len = 0;
    char *json = text_fn ? text_fn((const char *const *)names, n, res, unique, &json_len) : NULL;
    ks_index_view *v = NULL;
    if (text_fn && !json)
        goto out;
    size_t text = 0;
    for (size_t i = 0; i < n; i++)
        text += strlen(names[i]) + 1;
    for (size_t i = 0; i < unique; i++)
        text += strlen(res[i]) + 1;
    size_t size = sizeof *v + (n + unique) * sizeof(char *) + text + json_len + 1;
    v = malloc(size);
    if (!v)
        goto out;
    const char **ptrs = (const char **)(v + 1);
    char *p = (char *)(ptrs + n + unique);
    v->roles = ptrs;
    v->n_roles = n;
    v->resources = ptrs + n;
    v->n_resources = unique;
    for (size_t i = 0; i < n + unique; i++) {
        const char *s = i < n ? names[i] : res[i - n];
        size_t len = strlen(s) + 1;
        memcpy(p, s, len);
        ptrs[i] = p;
        p += len;
    }
    v->json = p;
    v->json_len = json_len;
    if (json_len)
        memcpy(p, json, json_len);
    p[json_len] = '\0';
out:
    free(json);
    free(res);
    return v;
}

static uint64_t names_hash(char *const *names, size_t n)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        for (const unsigned char *c = (const unsigned char *)names[i];; c++) {
            h = (h ^ *c) * 1099511628211ULL;
            if (!*c)
                break;
        }
    return h;
}

static int names_equal(const ks_index_roleset *rs, char *const *names, size_t n)
{
    if (rs->n_names != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rs->names[i], names[i]) != 0)
            return 0;
    return 1;
}

void ks_roleset_free(void *p)
{
    ks_index_roleset *rs = p;
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n_names; i++)
        free(rs->names[i]);
    free(rs->names);
    free((void *)atomic_load(&rs->view));
    free(rs);
}

/* Doubles the set table when it passes one set per bucket (best effort). */
static void sets_grow(ks_index_account *a)
{
    if (a->n_sets <= a->sets_mask)
        return;
    size_t n = (a->sets_mask + 1) * 2;
    ks_index_roleset **grown = calloc(n, sizeof *grown);
    if (!grown)
        return;
    for (size_t i = 0; i <= a->sets_mask; i++)
        for (ks_index_roleset *rs = a->sets[i], *next; rs; rs = next) {
            next = rs->next;
            rs->next = grown[rs->hash & (n - 1)];
            grown[rs->hash & (n - 1)] = rs;
        }
    free(a->sets);
    a->sets = grown;
    a->sets_mask = n - 1;
}

ks_index_roleset *ks_roleset_acquire(ks_index *idx, ks_index_account *a, char *const *names, size_t n)
{
    if (!a->sets) {
        if (!(a->sets = calloc(8, sizeof *a->sets)))
            return NULL;
        a->sets_mask = 7;
    }
    uint64_t h = names_hash(names, n);
    for (ks_index_roleset *rs = a->sets[h & a->sets_mask]; rs; rs = rs->next)
        if (rs->hash == h && names_equal(rs, names, n)) {
            rs->refs++;
            return rs;
        }
    ks_index_roleset *rs = calloc(1, sizeof *rs);
    if (!rs || !(rs->names = calloc(n ? n : 1, sizeof *rs->names))) {
        free(rs);
        return NULL;
    }
    for (; rs->n_names < n; rs->n_names++)
        if (!(rs->names[rs->n_names] = strdup(names[rs->n_names]))) {
            ks_roleset_free(rs);
            return NULL;
        }
    ks_index_view *v = view_render(idx->view_text, a->roles, a->n_roles, rs->names, n);
    if (!v) {
        ks_roleset_free(rs);
        return NULL;
    }
    atomic_init(&rs->view, v);
    rs->hash = h;
    rs->refs = 1;
    rs->next = a->sets[h & a->sets_mask];
    a->sets[h & a->sets_mask] = rs;
    a->n_sets++;
    sets_grow(a);
    return rs;
}

void ks_roleset_release(ks_index *idx, ks_index_account *a, ks_index_roleset *rs)
{
    if (--rs->refs > 0)
        return;
    for (ks_index_roleset **p = &a->sets[rs->hash & a->sets_mask]; *p; p = &(*p)->next)
        if (*p == rs) {
            *p = rs->next;
            a->n_sets--;
            break;
        }
    ks_index_retire_(idx, rs, ks_roleset_free);
}

static void roles_free(ks_role *roles, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ks_role_free(&roles[i]);
    free(roles);
}

int ks_account_set_roles(ks_index *idx, ks_index_account *a, const ks_role *roles, size_t n_roles)
{
    ks_role *copy = calloc(n_roles ? n_roles : 1, sizeof *copy);
    if (!copy)
        return KS_ERR_NOMEM;
    for (size_t i = 0; i < n_roles; i++) {
        copy[i].builtin = roles[i].builtin;
        if (!(copy[i].name = strdup(roles[i].name)) ||
            ks_strlist_copy(&copy[i].resources, &roles[i].resources) != KS_OK) {
            roles_free(copy, n_roles);
            return KS_ERR_NOMEM;
        }
    }
    /* Render every set under the new definitions first: all or nothing. */
    ks_index_view **views = calloc(a->n_sets ? a->n_sets : 1, sizeof *views);
    size_t n = 0;
    int rc = views ? KS_OK : KS_ERR_NOMEM;
    for (size_t b = 0; rc == KS_OK && a->sets && b <= a->sets_mask; b++)
        for (ks_index_roleset *rs = a->sets[b]; rc == KS_OK && rs; rs = rs->next)
            if (!(views[n++] = view_render(idx->view_text, copy, n_roles, rs->names, rs->n_names)))
                rc = KS_ERR_NOMEM;
    if (rc != KS_OK) {
        for (size_t i = 0; views && i < n; i++)
            free(views[i]);
        free(views);
        roles_free(copy, n_roles);
        return rc;
    }
    n = 0;
    for (size_t b = 0; a->sets && b <= a->sets_mask; b++)
        for (ks_index_roleset *rs = a->sets[b]; rs; rs = rs->next) {
            const ks_index_view *old = atomic_load(&rs->view);
            atomic_store_explicit(&rs->view, views[n++], memory_order_release);
            ks_index_retire_(idx, (void *)old, free);
        }
    free(views);
    roles_free(a->roles, a->n_roles);
    a->roles = copy;
    a->n_roles = n_roles;
    return KS_OK;
}

void ks_account_free(ks_index_account *a)
{
    for (size_t b = 0; a->sets && b <= a->sets_mask; b++)
        for (ks_index_roleset *rs = a->sets[b], *next; rs; rs = next) {
            next = rs->next;
            ks_roleset_free(rs);
        }
    free(a->sets);
    roles_free(a->roles, a->n_roles);
    free(a);
}
