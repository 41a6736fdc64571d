/*
 * leaks.c - a reported leaked token: true or false positive, then the
 * audit entry, the event and the action in one transaction (leaks.h).
 */
#include "service/leaks.h"
#include "core/clock.h"
#include "core/credential.h"
#include "core/error.h"
#include "metrics/metrics.h"
#include "service/events.h"
#include "service/service_internal.h"
#include "service/webhooks.h"
#include "verify/verify.h"

#include <sodium.h>
#include <string.h>

#define LEAK_ACTOR "secret-scanning:github"

/* 1 when the key's token of keyed hash `digest` verifies now. */
static int token_verifies(ks_service *svc, const char *key_id, const ks_digest *digest)
{
    if (!svc->index || ks_index_read_lock(svc->index) != 0)
        return 0;
    ks_token_binding binding = {digest, NULL};
    ks_verify_found found;
    ks_verify_bound_in(svc->index, key_id, strlen(key_id), &binding, NULL, NULL, ks_clock_now(), &found);
    ks_index_read_unlock(svc->index);
    return found.reason == KS_VERIFY_OK;
}

/* Deactivates the key under write_lock, with the leak's audit entry, and
 * puts it into the index. */
static int deactivate(ks_service *svc, const ks_leak_outcome *o, const ks_audit_entry *audit)
{
    ks_key_patch patch = {.name = NULL, .roles = NULL, .status = 0};
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->key_update(svc->store, o->account, o->key_id, &patch, audit);
    if (rc == KS_OK) {
        ks_key key = {0};
        int got = svc->store->ops->key_get(svc->store, o->account, o->key_id, &key);
        rc = ks_service_index_publish_key(svc, &key, got, NULL);
    }
    pthread_mutex_unlock(&svc->write_lock);
    return rc;
}

/* Writes the entry and event (and the revocation when `revoke`). */
static int act(ks_service *svc, const ks_leak_outcome *o, const ks_actor *who, int revoke, const char *refused,
               const char *url, const char *source)
{
    const char *slot = ks_slot_name(o->slot);
    const char *action = ks_leaked_token_action_name(revoke ? KS_LEAKED_REVOKE : KS_LEAKED_ALERT);
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "slot", slot, "url", url, "source", source, "action", action);
    if (d && refused)
        json_object_set_new(d, "revoke_refused", json_string(refused));
    char *detail = ks_service_detail_text(d);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "token.leaked", o->key_id, detail);
    ks_service_event ev;
    int rc = ks_service_event_init(&ev, "token.leaked", o->account, o->key_id,
                                   json_pack("{s:s, s:s, s:s, s:s}", "slot", slot, "url", url, "source", source,
                                             "action", action),
                                   audit.at);
    if (rc != KS_OK) {
        free(detail);
        return rc;
    }
    audit.event = &ev.event;
    if (!revoke) {
        rc = svc->store->ops->audit_append(svc->store, &audit);
    } else if (o->slot == KS_SLOT_OLD) {
        ks_slot_change change = {.op = KS_SLOT_OP_DELETE_OLD};
        rc = ks_service_slots_change(svc, who, o->key_id, &change, "token.leaked", detail, &ev.event, NULL, NULL,
                                     NULL);
    } else {
        rc = deactivate(svc, o, &audit);
    }
    ks_service_event_free(&ev);
    free(detail);
    if (rc == KS_OK)
        ks_webhook_worker_notify(svc);
    return rc;
}

int ks_service_token_leaked(ks_service *svc, const char *token, size_t len, const char *url, const char *source,
                            const char *address, ks_leak_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->slot = KS_SLOT_NONE;
    if (len != KS_TOKEN_LEN || ks_token_check_format(token, len) != KS_OK) {
        ks_metrics_leak(KS_METRICS_LEAK_FALSE_POSITIVE);
        return KS_OK; /* not ours: no lookup */
    }
    ks_digest digest;
    ks_token_hash(&svc->secret, token, len, &digest);
    int rc = svc->store->ops->token_find(svc->store, &digest, out->account, out->key_id, &out->slot);
    if (rc == KS_OK && !token_verifies(svc, out->key_id, &digest))
        rc = KS_ERR_NOT_FOUND;
    sodium_memzero(&digest, sizeof digest);
    if (rc == KS_ERR_NOT_FOUND) {
        memset(out, 0, sizeof *out);
        out->slot = KS_SLOT_NONE;
        ks_metrics_leak(KS_METRICS_LEAK_FALSE_POSITIVE);
        return KS_OK;
    }
    if (rc != KS_OK)
        return rc;
    out->true_positive = 1;
    ks_settings settings;
    if ((rc = svc->store->ops->settings_get(svc->store, out->account, &settings)) != KS_OK)
        return rc;
    ks_actor who = {LEAK_ACTOR, out->account, "system", address};
    int revoke = settings.leaked_token_action == KS_LEAKED_REVOKE;
    rc = act(svc, out, &who, revoke, NULL, url, source);
    if (rc == KS_ERR_LAST_OWNER && revoke) {
        revoke = 0; /* the last active Owner stays: say so in the entry */
        rc = act(svc, out, &who, 0, "last_owner", url, source);
    }
    if (rc != KS_OK)
        return rc;
    out->action = revoke ? KS_LEAKED_REVOKE : KS_LEAKED_ALERT;
    ks_metrics_leak(revoke ? KS_METRICS_LEAK_REVOKED : KS_METRICS_LEAK_ALERTED);
    return KS_OK;
}
