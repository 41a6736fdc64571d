/*
 * audit.c - the audit side of the service: the entry every action writes
 * in its transaction (ks_service_audit_of), the JSON detail texts, and the
 * audit calls of service.h (list, an event that changes nothing else).
 */
#include "service/service_internal.h"
#include "core/clock.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ks_service_detail_text(json_t *detail)
{
    char *dumped = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(detail);
    /* jansson may use its own allocator (see http/response.c): hand back malloc memory. */
    char *text = dumped ? strdup(dumped) : NULL;
    json_free_t json_free_fn;
    json_get_alloc_funcs(NULL, &json_free_fn);
    json_free_fn(dumped);
    return text;
}

ks_audit_entry ks_service_audit_of(const ks_actor *who, const char *action, const char *target,
                                   const char *detail)
{
    ks_audit_entry a = {0};
    a.at = ks_clock_now();
    snprintf(a.account, sizeof a.account, "%s", who->account);
    a.actor = who->actor;
    a.action = action;
    a.target = target;
    a.detail = detail ? detail : "{}";
    a.via = who->via ? who->via : "system";
    a.address = who->address;
    return a;
}

json_t *ks_service_detail_strings(const ks_strlist *roles)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && roles && i < roles->count; i++)
        json_array_append_new(arr, json_string(roles->items[i]));
    return arr;
}

/* ---- audit ---- */

int ks_service_audit_list(ks_service *svc, const char *account, const ks_audit_filter *filter,
                          ks_audit_page *out)
{
    return svc->store->ops->audit_list(svc->store, account, filter, out);
}

int ks_service_audit_event(ks_service *svc, const ks_actor *who, const char *action,
                           const char *target, const char *detail)
{
    if (!who->account || !ks_account_name_valid(who->account))
        return KS_ERR_NOT_FOUND;
    ks_audit_entry audit = ks_service_audit_of(who, action, target, detail);
    return svc->store->ops->audit_append(svc->store, &audit);
}
