/*
 * key_json.h - the key object of API.md as JSON, and role objects.
 */
#ifndef KS_HTTP_KEY_JSON_H
#define KS_HTTP_KEY_JSON_H

#include "core/model.h"

#include <jansson.h>

/* A key's rate_limit as API.md gives it: null, or {"limit","period_seconds"}. */
json_t *ks_rate_limit_to_json(const ks_rate_limit *r);
/* The key object at time `now` under the account's settings; NULL on NOMEM. */
json_t *ks_key_to_json(const ks_key *key, const ks_settings *settings, int64_t now);

/* The key object of an external key as seen from the granting account:
 * type "external", the grant's roles and status, no tokens; plus "account"
 * (the key's home account), "added_at" (the grant) and "home_status".
 * home_settings are those of the key's home account. NULL on NOMEM. */
json_t *ks_external_key_to_json(const ks_key *key, const ks_grant *grant,
                                const ks_settings *home_settings, int64_t now);

/* {"name","resources","builtin"}; NULL on NOMEM. */
json_t *ks_role_to_json(const ks_role *role);

/* RFC 3339 string, or JSON null for 0. */
json_t *ks_time_to_json(int64_t t);

/* A JSON array of strings. */
json_t *ks_strlist_to_json(const ks_strlist *list);

#endif
