/*
 * grant_text.c - the roles/resources part of the verify answer, rendered
 * once per role set when the index builds its view (verify.h
 * ks_verify_grant_text), so an answer copies bytes instead of building JSON.
 */
#include "verify/verify.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* JSON text of an array of strings, in malloc memory (jansson may use its
 * own allocator, see http/response.c); NULL on NOMEM. A string that is not
 * valid UTF-8 is left out, as json_array_append_new did before. */
static char *json_strings(const char *const *items, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_string(items[i]));
    char *dumped = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    char *text = dumped ? strdup(dumped) : NULL;
    json_free_t json_free_fn;
    json_get_alloc_funcs(NULL, &json_free_fn);
    if (dumped)
        json_free_fn(dumped);
    return text;
}

char *ks_verify_grant_text(const char *const *roles, size_t n_roles, const char *const *resources,
                           size_t n_resources, size_t *len)
{
    static const char ROLES[] = "\"roles\":", RESOURCES[] = ",\"resources\":";
    char *roles_json = json_strings(roles, n_roles);
    char *res_json = json_strings(resources, n_resources);
    char *text = NULL;
    if (!roles_json || !res_json)
        goto out;
    size_t n = sizeof ROLES - 1 + strlen(roles_json) + sizeof RESOURCES - 1 + strlen(res_json);
    if (!(text = malloc(n + 1)))
        goto out;
    char *p = stpcpy(text, ROLES);
    p = stpcpy(p, roles_json);
    p = stpcpy(p, RESOURCES);
    stpcpy(p, res_json);
    *len = n;
out:
    free(roles_json);
    free(res_json);
    return text;
}
