/*
 * key_json.h - the key object of API.md as JSON, and role objects.
 */
#ifndef KS_HTTP_KEY_JSON_H
#define KS_HTTP_KEY_JSON_H

#include "core/model.h"

#include <jansson.h>

/* The key object at time `now` under the account's settings; NULL on NOMEM. */
json_t *ks_key_to_json(const ks_key *key, const ks_settings *settings, int64_t now);

/* {"name","resources","builtin"}; NULL on NOMEM. */
json_t *ks_role_to_json(const ks_role *role);

/* RFC 3339 string, or JSON null for 0. */
json_t *ks_time_to_json(int64_t t);

/* A JSON array of strings. */
json_t *ks_strlist_to_json(const ks_strlist *list);

#endif
