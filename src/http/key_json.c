/* key_json.c - rendering keys and roles as the JSON objects of API.md. */
#include "http/key_json.h"
#include "core/clock.h"
#include "core/token_age.h"

json_t *ks_time_to_json(int64_t t)
{
    if (t == 0)
        return json_null();
    char buf[KS_TIME_STR_LEN];
    ks_time_format(t, buf);
    return json_string(buf);
}

json_t *ks_strlist_to_json(const ks_strlist *list)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < list->count; i++)
        json_array_append_new(arr, json_string(list->items[i]));
    return arr;
}

/* A caller's address as text, or null when unknown. */
static json_t *netaddr_to_json(const ks_netaddr *a)
{
    if (a->family == 0)
        return json_null();
    char text[KS_NETADDR_TEXT_MAX];
    ks_netaddr_format(a, text, sizeof text);
    return json_string(text);
}

static json_t *token_to_json(const char *slot, const ks_token *t, int months)
{
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "slot", slot, "created_at", ks_time_to_json(t->created_at),
                     "expires_at", ks_time_to_json(ks_token_expires_at(t->created_at, months)),
                     "last_used_at", ks_time_to_json(t->last_used_at),
                     "last_used_from", netaddr_to_json(&t->last_used_from),
                     "ends_at", ks_time_to_json(t->ends_at));
}

json_t *ks_rate_limit_to_json(const ks_rate_limit *r)
{
    if (r->limit <= 0)
        return json_null();
    return json_pack("{s:I, s:i}", "limit", (json_int_t)r->limit, "period_seconds", (int)r->period_seconds);
}

json_t *ks_key_to_json(const ks_key *key, const ks_settings *settings, int64_t now)
{
    int months = settings->token_duration_months;
    const ks_token *current = &key->slots.current;
    json_t *tokens = json_array();
    if (!tokens)
        return NULL;
    json_array_append_new(tokens, token_to_json("current", current, months));
    /* An old token past its deadline is gone (verify refuses it), even
     * before the sweep deletes its row. */
    if (ks_token_alive(&key->slots.old, now))
        json_array_append_new(tokens, token_to_json("old", &key->slots.old, months));
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:b, s:s, s:o, s:o, s:o}",
                     "key", key->key_id, "name", key->name, "type", "generated",
                     "roles", ks_strlist_to_json(&key->roles),
                     "status", key->active ? "active" : "inactive",
                     "created_at", ks_time_to_json(key->created_at),
                     "outdated", ks_token_outdated(current->created_at, months, now),
                     "renewal_alert", ks_renewal_alert_name(ks_renewal_alert_of(current->created_at, months, now)),
                     "tokens", tokens,
                     "allowed_cidrs", ks_strlist_to_json(&key->allowed_cidrs),
                     "rate_limit", ks_rate_limit_to_json(&key->rate_limit));
}

json_t *ks_external_key_to_json(const ks_key *key, const ks_grant *grant,
                                const ks_settings *home_settings, int64_t now)
{
    int months = home_settings->token_duration_months;
    int64_t current = key->slots.current.created_at;
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:b, s:s}",
                     "key", key->key_id, "name", key->name, "type", "external",
                     "account", key->account,
                     "roles", ks_strlist_to_json(&grant->roles),
                     "status", grant->active ? "active" : "inactive",
                     "home_status", key->active ? "active" : "inactive",
                     "created_at", ks_time_to_json(key->created_at),
                     "added_at", ks_time_to_json(grant->created_at),
                     "outdated", ks_token_outdated(current, months, now),
                     "renewal_alert", ks_renewal_alert_name(ks_renewal_alert_of(current, months, now)));
}

json_t *ks_role_to_json(const ks_role *role)
{
    return json_pack("{s:s, s:o, s:b}", "name", role->name, "resources",
                     ks_strlist_to_json(&role->resources), "builtin", role->builtin);
}
