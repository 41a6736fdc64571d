/* events.c - building webhook event bodies (events.h). */
#include "service/events.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/webhook.h"

#include <stdlib.h>
#include <string.h>

int ks_service_event_init(ks_service_event *e, const char *type, const char *account, const char *key_id,
                          json_t *extra, int64_t at)
{
    memset(e, 0, sizeof *e);
    char ts[KS_TIME_STR_LEN];
    ks_time_format(at, ts);
    json_t *data = json_pack("{s:s}", "account", account);
    if (data && key_id)
        json_object_set_new(data, "key", json_string(key_id));
    if (data && extra)
        json_object_update(data, extra);
    json_decref(extra);
    json_t *body = data ? json_pack("{s:s, s:s, s:o}", "type", type, "timestamp", ts, "data", data) : NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return KS_ERR_NOMEM;
    /* jansson may use its own allocator: keep malloc memory. */
    e->body = strdup(text);
    json_free_t json_free_fn;
    json_get_alloc_funcs(NULL, &json_free_fn);
    json_free_fn(text);
    if (!e->body)
        return KS_ERR_NOMEM;
    ks_event_id_generate(e->id);
    e->event.id = e->id;
    e->event.type = type;
    e->event.body = e->body;
    e->event.at = at;
    return KS_OK;
}

void ks_service_event_free(ks_service_event *e)
{
    free(e->body);
    memset(e, 0, sizeof *e);
}
