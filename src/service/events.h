/*
 * events.h - the webhook events the service raises (API.md "Rotation on
 * autopilot"): each is built before its write and handed to the store with
 * the write's audit entry (ks_audit_entry.event), so the store puts it in
 * the outbox in the same transaction as the change.
 *
 * A body is {"type","timestamp","data":{"account","key",...}}: the event
 * type, when it was raised (RFC 3339 UTC), the account and key it is
 * about, and what the event adds. It never holds a token.
 */
#ifndef KS_SERVICE_EVENTS_H
#define KS_SERVICE_EVENTS_H

#include "core/model.h"

#include <jansson.h>

typedef struct {
    ks_event event;                 /* points into this struct */
    char id[KS_EVENT_ID_MAX + 1];
    char *body;                     /* malloc'd */
} ks_service_event;

/* Builds an event of `type` raised at `at` about key_id (NULL: none) of
 * account, its data holding "account", "key" and every field of `extra`
 * (stolen; NULL = none). KS_OK or KS_ERR_NOMEM (then *e holds nothing). */
int ks_service_event_init(ks_service_event *e, const char *type, const char *account, const char *key_id,
                          json_t *extra, int64_t at);

/* Frees the body; safe on a zeroed struct. */
void ks_service_event_free(ks_service_event *e);

#endif
