/*
 * service.c - management actions: store transaction, then index update, under
 * one write lock. See service.h. Tokens are made here, hashed at once, handed
 * to the caller and never written anywhere else.
 *
 * Also here: init and close. Elsewhere in src/service/: the last-used
 * flusher thread (flusher.c), the group commit of token-slot writes
 * (group_commit.c), audit entries and details (audit.c).
 */
#include "service/service_internal.h"
#include "service/heartbeat.h"
#include "service/usage.h"
#include "log/log.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/roles.h"
#include "metrics/metrics.h"
#include "service/change_feed.h"
#include "service/events.h"
#include "service/webhooks.h"
#include "service/login_keys.h"
#include "service/share_links.h"
#include "verify/verify.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ks_service_init(ks_service *svc, ks_store *store, const ks_secret *secret, int with_index)
{
    memset(svc, 0, sizeof *svc);
    svc->store = store;
    ks_store_set_write_observer(store, ks_metrics_store_write); /* the store reports, metrics records */
    svc->secret = *secret;
    ks_token_hasher_init(&svc->token_hasher, secret);
    pthread_mutex_init(&svc->write_lock, NULL);
    pthread_mutex_init(&svc->flusher_lock, NULL);
    pthread_cond_init(&svc->flusher_wake, NULL);
    pthread_rwlock_init(&svc->signing_lock, NULL);
    pthread_mutex_init(&svc->group_lock, NULL);
    pthread_cond_init(&svc->group_done, NULL);
    if (!with_index)
        return KS_OK;
    /* Changes committed from here on are replayed by the feed, even those
     * the load below already saw (reloading is idempotent). */
    int rc = store->ops->changes_head(store, &svc->feed_seq);
    if (rc != KS_OK)
        return rc;
    svc->index = ks_index_new();
    if (!svc->index || ks_usage_init(svc) != KS_OK)
        return KS_ERR_NOMEM;
    ks_index_set_view_text(svc->index, ks_verify_grant_text); /* what verify answers copy */
    rc = ks_index_load(svc->index, store);
    if (rc != KS_OK) {
        ks_index_free(svc->index);
        svc->index = NULL;
    }
    return rc;
}

void ks_service_close(ks_service *svc)
{
    ks_sweeper_stop(svc);
    ks_heartbeat_stop(svc);
    ks_webhook_worker_stop(svc);
    ks_change_feed_stop(svc);
    ks_service_flusher_stop(svc);
    if (svc->index)
        ks_service_flush_last_used(svc, KS_LAST_USED_ALL, 0);
    if (svc->usage && ks_usage_flush(svc) != KS_OK)
        ks_log("error", "usage counts could not be written at stop", NULL);
    ks_usage_free(svc);
    ks_index_free(svc->index);
    svc->index = NULL;
    ks_login_keys_free(svc);
    pthread_rwlock_destroy(&svc->signing_lock);
    sodium_memzero(&svc->secret, sizeof svc->secret);
    ks_token_hasher_wipe(&svc->token_hasher);
    pthread_mutex_destroy(&svc->write_lock);
    pthread_mutex_destroy(&svc->flusher_lock);
    pthread_cond_destroy(&svc->flusher_wake);
    pthread_mutex_destroy(&svc->group_lock);
    pthread_cond_destroy(&svc->group_done);
}

/* ---- helpers ---- */
/* After a write that read `key` back from the store (rc: how that went):
 * puts it into the index, then hands it to out, with this node's last-used
 * times, or frees it. Returns rc, or the index's NOMEM (under write_lock). */
int ks_service_index_publish_key(ks_service *svc, ks_key *key, int rc, ks_key *out)
{
    if (rc == KS_OK && svc->index)
        rc = ks_index_put_key(svc->index, key);
    if (rc == KS_OK && out) {
        *out = *key;
        if (svc->index)
            ks_index_merge_last_used(svc->index, out, 1);
    } else {
        ks_key_free(key);
    }
    return rc;
}

/* Re-reads a key after a write and puts it into the index (under write_lock). */
static int index_refresh_key(ks_service *svc, const char *account, const char *key_id, ks_key *out)
{
    ks_key key = {0};
    int rc = svc->store->ops->key_get(svc->store, account, key_id, &key);
    return ks_service_index_publish_key(svc, &key, rc, out);
}

static int index_refresh_account(ks_service *svc, const char *account, int with_keys)
{
    return svc->index ? ks_index_reload_account(svc->index, svc->store, account, with_keys) : KS_OK;
}

/* A new token and its hash; the plaintext goes to token_out only. */
static void token_new(const ks_service *svc, char *token_out, ks_digest *hash)
{
    ks_token_generate(token_out);
    ks_token_hash(&svc->secret, token_out, KS_TOKEN_LEN, hash);
}

/* ---- accounts ---- */

int ks_service_account_create(ks_service *svc, const char *account, const char *actor,
                              ks_key *owner_out, char *token_out)
{
    if (!ks_account_name_valid(account))
        return KS_ERR_INVALID;
    ks_key owner = {0};
    ks_digest hash;
    int rc = KS_ERR_NOMEM;
    int64_t now = ks_clock_now();
    snprintf(owner.account, sizeof owner.account, "%s", account);
    if (!(owner.name = strdup("Owner key")) || ks_strlist_add(&owner.roles, KS_ROLE_OWNER) != KS_OK)
        goto out;
    owner.active = KS_KEY_ACTIVE;
    owner.created_at = now;
    token_new(svc, token_out, &hash);
    ks_slots_init(&owner.slots, &hash, now);
    ks_key_id_generate(account, owner.key_id);
    ks_actor who = {.actor = actor, .account = account};
    ks_audit_entry audit = ks_service_audit_of(&who, "account.create", account, NULL);
    ks_settings defaults = KS_SETTINGS_DEFAULT;
    pthread_mutex_lock(&svc->write_lock);
    rc = svc->store->ops->account_create(svc->store, account, &defaults, &owner, &audit);
    if (rc == KS_OK)
        rc = index_refresh_account(svc, account, 1);
    pthread_mutex_unlock(&svc->write_lock);
out:
    if (rc == KS_OK && owner_out)
        *owner_out = owner;
    else
        ks_key_free(&owner);
    if (rc != KS_OK)
        sodium_memzero(token_out, KS_TOKEN_LEN + 1);
    return rc;
}

/* ---- keys ---- */

int ks_service_key_create(ks_service *svc, const ks_actor *who, const char *name,
                          const ks_strlist *roles, ks_key *out, char *token_out)
{
    return ks_service_key_create_limited(svc, who, name, roles, NULL, NULL, out, token_out);
}

int ks_service_key_create_limited(ks_service *svc, const ks_actor *who, const char *name, const ks_strlist *roles,
                                  const ks_strlist *allowed_cidrs, const ks_rate_limit *rate_limit, ks_key *out,
                                  char *token_out)
{
    ks_key key = {0};
    ks_digest hash;
    int64_t now = ks_clock_now();
    snprintf(key.account, sizeof key.account, "%s", who->account);
    key.active = KS_KEY_ACTIVE;
    key.created_at = now;
    if (rate_limit && rate_limit->limit > 0)
        key.rate_limit = *rate_limit;
    if (!(key.name = strdup(name)) || (roles && ks_strlist_copy(&key.roles, roles) != KS_OK) ||
        (allowed_cidrs && ks_strlist_copy(&key.allowed_cidrs, allowed_cidrs) != KS_OK)) {
        ks_key_free(&key);
        return KS_ERR_NOMEM;
    }
    token_new(svc, token_out, &hash);
    ks_slots_init(&key.slots, &hash, now);
    json_t *d = json_pack("{s:s, s:o}", "name", name, "roles", ks_service_detail_strings(roles));
    if (d && key.allowed_cidrs.count)
        json_object_set_new(d, "allowed_cidrs", ks_service_detail_strings(&key.allowed_cidrs));
    if (d && key.rate_limit.limit)
        json_object_set_new(d, "rate_limit", json_pack("{s:I, s:i}", "limit", (json_int_t)key.rate_limit.limit,
                                                       "period_seconds", (int)key.rate_limit.period_seconds));
    char *detail = ks_service_detail_text(d);
    int rc = KS_ERR_NAME_TAKEN;
    pthread_mutex_lock(&svc->write_lock);
    /* 50 random bits per id: a collision is rare, but take a new id if it comes. */
    for (int attempt = 0; attempt < 3 && rc == KS_ERR_NAME_TAKEN; attempt++) {
        if ((rc = ks_key_id_generate(who->account, key.key_id)) != KS_OK)
            break;
        ks_service_event ev;
        if ((rc = ks_service_event_init(&ev, "key.created", who->account, key.key_id,
                                        json_pack("{s:s}", "name", name), now)) != KS_OK)
            break;
        ks_audit_entry audit = ks_service_audit_of(who, "key.create", key.key_id, detail);
        audit.event = &ev.event;
        rc = svc->store->ops->key_insert(svc->store, &key, &audit);
        ks_service_event_free(&ev);
    }
    if (rc == KS_OK)
        rc = index_refresh_key(svc, who->account, key.key_id, out);
    pthread_mutex_unlock(&svc->write_lock);
    free(detail);
    ks_key_free(&key);
    if (rc != KS_OK)
        sodium_memzero(token_out, KS_TOKEN_LEN + 1);
    else
        ks_webhook_worker_notify(svc);
    return rc;
}

int ks_service_key_get(ks_service *svc, const char *account, const char *key_id, ks_key *out)
{
    int rc = svc->store->ops->key_get(svc->store, account, key_id, out);
    if (rc == KS_OK && svc->index)
        ks_index_merge_last_used(svc->index, out, 1);
    return rc;
}

int ks_service_key_list(ks_service *svc, const char *account, const ks_key_filter *filter,
                        ks_key_page *out)
{
    int rc = svc->store->ops->key_list(svc->store, account, filter, out);
    if (rc == KS_OK && svc->index)
        ks_index_merge_last_used(svc->index, out->items, out->count);
    return rc;
}

int ks_service_key_update(ks_service *svc, const ks_actor *who, const char *key_id,
                          const ks_key_patch *patch, ks_key *out)
{
    json_t *d = json_object();
    if (d && patch->name)
        json_object_set_new(d, "name", json_string(patch->name));
    if (d && patch->roles)
        json_object_set_new(d, "roles", ks_service_detail_strings(patch->roles));
    if (d && patch->status >= 0)
        json_object_set_new(d, "status", json_string(patch->status ? "active" : "inactive"));
    if (d && patch->allowed_cidrs)
        json_object_set_new(d, "allowed_cidrs", ks_service_detail_strings(patch->allowed_cidrs));
    if (d && patch->rate_limit)
        json_object_set_new(d, "rate_limit",
                            patch->rate_limit->limit
                                ? json_pack("{s:I, s:i}", "limit", (json_int_t)patch->rate_limit->limit,
                                            "period_seconds", (int)patch->rate_limit->period_seconds)
                                : json_null());
    char *detail = ks_service_detail_text(d);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "key.update", key_id, detail);
    ks_service_event ev = {0};
    pthread_mutex_lock(&svc->write_lock);
    int rc = KS_OK;
    if (patch->status >= 0) {
        /* key.activated / key.deactivated only when the status changes
         * (under write_lock, so this node's writes cannot slip between). */
        ks_key before = {0};
        rc = svc->store->ops->key_get(svc->store, who->account, key_id, &before);
        if (rc == KS_OK && (before.active != 0) != (patch->status != 0))
            rc = ks_service_event_init(&ev, patch->status ? "key.activated" : "key.deactivated", who->account,
                                       key_id, NULL, audit.at);
        ks_key_free(&before);
        audit.event = ev.body ? &ev.event : NULL;
    }
    if (rc == KS_OK)
        rc = svc->store->ops->key_update(svc->store, who->account, key_id, patch, &audit);
    if (rc == KS_OK)
        rc = index_refresh_key(svc, who->account, key_id, out);
    pthread_mutex_unlock(&svc->write_lock);
    ks_service_event_free(&ev);
    free(detail);
    if (rc == KS_OK)
        ks_webhook_worker_notify(svc);
    return rc;
}

int ks_service_key_delete(ks_service *svc, const ks_actor *who, const char *key_id)
{
    ks_audit_entry audit = ks_service_audit_of(who, "key.delete", key_id, NULL);
    ks_service_event ev;
    int rc = ks_service_event_init(&ev, "key.deleted", who->account, key_id, NULL, audit.at);
    if (rc != KS_OK)
        return rc;
    audit.event = &ev.event;
    pthread_mutex_lock(&svc->write_lock);
    rc = svc->store->ops->key_delete(svc->store, who->account, key_id, &audit);
    if (rc == KS_OK && svc->index)
        ks_index_remove_key(svc->index, key_id);
    pthread_mutex_unlock(&svc->write_lock);
    ks_service_event_free(&ev);
    if (rc == KS_OK)
        ks_webhook_worker_notify(svc);
    return rc;
}


int ks_service_key_renew(ks_service *svc, const ks_actor *who, const char *key_id,
                         ks_delete_old mode, ks_key *out, char *token_out, char *share_id_out)
{
    return ks_service_key_renew_until(svc, who, key_id, mode, 0, out, token_out, share_id_out);
}

/* A slot transition by `who` with its audit entry and the event `type`
 * (data: extra, stolen), through the group commit. */
static int slots_change_with_event(ks_service *svc, const ks_actor *who, const char *key_id,
                                   const ks_slot_change *change, const char *action, const char *detail,
                                   const char *type, json_t *extra, ks_key *out, const ks_share_record *share,
                                   int *share_rc)
{
    ks_service_event ev;
    int rc = ks_service_event_init(&ev, type, who->account, key_id, extra, ks_clock_now());
    if (rc != KS_OK)
        return rc;
    rc = ks_service_slots_change(svc, who, key_id, change, action, detail, &ev.event, out, share, share_rc);
    ks_service_event_free(&ev);
    if (rc == KS_OK)
        ks_webhook_worker_notify(svc);
    return rc;
}

int ks_service_key_renew_until(ks_service *svc, const ks_actor *who, const char *key_id, ks_delete_old mode,
                               int64_t old_ends_at, ks_key *out, char *token_out, char *share_id_out)
{
    ks_digest hash;
    ks_share_record share;
    int share_rc = KS_ERR_INTERNAL;
    if (old_ends_at != 0 && mode != KS_DELETE_OLD_LATER)
        return KS_ERR_INVALID;
    token_new(svc, token_out, &hash);
    int with_share = share_id_out && ks_share_seal(svc, token_out, share_id_out, &share) == KS_OK;
    char ends[KS_TIME_STR_LEN] = "";
    if (old_ends_at)
        ks_time_format(old_ends_at, ends);
    const char *mode_name = mode == KS_DELETE_OLD_NOW ? "now" : "later";
    char *detail = ks_service_detail_text(old_ends_at ? json_pack("{s:s, s:s}", "delete_old", mode_name,
                                                                  "old_token_expires_at", ends)
                                                      : json_pack("{s:s}", "delete_old", mode_name));
    json_t *extra = json_pack("{s:s, s:o}", "delete_old", mode_name, "old_token_expires_at",
                              old_ends_at ? json_string(ends) : json_null());
    ks_slot_change change = {.op = mode == KS_DELETE_OLD_NOW ? KS_SLOT_OP_RENEW_NOW : KS_SLOT_OP_RENEW_LATER,
                             .new_hash = &hash, .old_ends_at = old_ends_at};
    int rc = detail ? slots_change_with_event(svc, who, key_id, &change, "key.renew", detail, "token.renewed",
                                              extra, out, with_share ? &share : NULL, &share_rc)
                    : (json_decref(extra), KS_ERR_NOMEM);
    free(detail);
    if (rc != KS_OK)
        sodium_memzero(token_out, KS_TOKEN_LEN + 1);
    if (share_id_out && (rc != KS_OK || !with_share || share_rc != KS_OK))
        sodium_memzero(share_id_out, KS_SHARE_ID_MAX); /* "": no link */
    if (with_share)
        ks_share_record_wipe(&share);
    return rc;
}

int ks_service_key_delete_old(ks_service *svc, const ks_actor *who, const char *key_id, ks_key *out)
{
    ks_slot_change change = {.op = KS_SLOT_OP_DELETE_OLD};
    return slots_change_with_event(svc, who, key_id, &change, "key.delete_old_token", NULL, "token.old_deleted",
                                   json_pack("{s:s}", "reason", "requested"), out, NULL, NULL);
}

int ks_service_key_undo_renewal(ks_service *svc, const ks_actor *who, const char *key_id, ks_key *out)
{
    ks_slot_change change = {.op = KS_SLOT_OP_UNDO_RENEWAL};
    return slots_change_with_event(svc, who, key_id, &change, "key.undo_renewal", NULL, "token.renewal_undone",
                                   NULL, out, NULL, NULL);
}

/* ---- settings ---- */

int ks_service_settings_get(ks_service *svc, const char *account, ks_settings *out)
{
    return svc->store->ops->settings_get(svc->store, account, out);
}

int ks_service_settings_put(ks_service *svc, const ks_actor *who, const ks_settings *settings)
{
    json_t *auto_delete = settings->auto_delete_old_token_hours > 0
                              ? json_integer(settings->auto_delete_old_token_hours) : json_null();
    json_t *unused = settings->deactivate_unused_days > 0 ? json_integer(settings->deactivate_unused_days)
                                                          : json_null();
    char *detail = ks_service_detail_text(json_pack("{s:i, s:b, s:o, s:i, s:o, s:s}", "token_duration_months",
                                         settings->token_duration_months, "enforce_duration",
                                         settings->enforce_duration, "auto_delete_old_token_hours", auto_delete,
                                         "renewal_notice_days", settings->renewal_notice_days,
                                         "deactivate_unused_days", unused, "leaked_token_action",
                                         ks_leaked_token_action_name(settings->leaked_token_action)));
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "settings.update", who->account, detail);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->settings_put(svc->store, who->account, settings, &audit);
    if (rc == KS_OK)
        rc = index_refresh_account(svc, who->account, 0);
    pthread_mutex_unlock(&svc->write_lock);
    free(detail);
    return rc;
}

/* ---- roles ---- */

int ks_service_role_list(ks_service *svc, const char *account, ks_role **out, size_t *n)
{
    return svc->store->ops->role_list(svc->store, account, out, n);
}

int ks_service_role_create(ks_service *svc, const ks_actor *who, const ks_role *role)
{
    char *detail = ks_service_detail_text(json_pack("{s:o}", "resources", ks_service_detail_strings(&role->resources)));
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "role.create", role->name, detail);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->role_create(svc->store, who->account, role, &audit);
    if (rc == KS_OK)
        rc = index_refresh_account(svc, who->account, 0);
    pthread_mutex_unlock(&svc->write_lock);
    free(detail);
    return rc;
}

int ks_service_role_update(ks_service *svc, const ks_actor *who, const char *name,
                           const char *new_name, const ks_strlist *resources)
{
    json_t *d = json_object();
    if (d && new_name)
        json_object_set_new(d, "name", json_string(new_name));
    if (d && resources)
        json_object_set_new(d, "resources", ks_service_detail_strings(resources));
    char *detail = ks_service_detail_text(d);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "role.update", name, detail);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->role_update(svc->store, who->account, name, new_name, resources, &audit);
    /* A rename moves the role on every key holding it: reload the account. */
    if (rc == KS_OK)
        rc = index_refresh_account(svc, who->account, new_name != NULL);
    pthread_mutex_unlock(&svc->write_lock);
    free(detail);
    return rc;
}

int ks_service_role_delete(ks_service *svc, const ks_actor *who, const char *name)
{
    ks_audit_entry audit = ks_service_audit_of(who, "role.delete", name, NULL);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->role_delete(svc->store, who->account, name, &audit);
    if (rc == KS_OK)
        rc = index_refresh_account(svc, who->account, 0);
    pthread_mutex_unlock(&svc->write_lock);
    return rc;
}

/* ---- external keys ---- */

int ks_service_external_list(ks_service *svc, const char *account, ks_key **out, size_t *n)
{
    int rc = svc->store->ops->external_list(svc->store, account, out, n);
    if (rc == KS_OK && svc->index)
        ks_index_merge_last_used(svc->index, *out, *n);
    return rc;
}

/* Re-reads a key after a change to one of its grants (under write_lock). */
static int index_refresh_foreign_key(ks_service *svc, const char *key_id, ks_key *out)
{
    char home[KS_ACCOUNT_MAX + 1];
    if (ks_key_id_parse(key_id, home) != KS_OK)
        return KS_ERR_NOT_FOUND;
    return index_refresh_key(svc, home, key_id, out);
}

int ks_service_external_add(ks_service *svc, const ks_actor *who, const char *key_id,
                            const ks_strlist *roles, ks_key *out)
{
    char *detail = ks_service_detail_text(json_pack("{s:o}", "roles", ks_service_detail_strings(roles)));
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "external.add", key_id, detail);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->external_add(svc->store, who->account, key_id, roles, audit.at, &audit);
    if (rc == KS_OK)
        rc = index_refresh_foreign_key(svc, key_id, out);
    pthread_mutex_unlock(&svc->write_lock);
    free(detail);
    return rc;
}

int ks_service_external_update(ks_service *svc, const ks_actor *who, const char *key_id,
                               const ks_strlist *roles, int status, ks_key *out)
{
    json_t *d = json_object();
    if (d && roles)
        json_object_set_new(d, "roles", ks_service_detail_strings(roles));
    if (d && status >= 0)
        json_object_set_new(d, "status", json_string(status ? "active" : "inactive"));
    char *detail = ks_service_detail_text(d);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "external.update", key_id, detail);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->external_update(svc->store, who->account, key_id, roles, status, &audit);
    if (rc == KS_OK)
        rc = index_refresh_foreign_key(svc, key_id, out);
    pthread_mutex_unlock(&svc->write_lock);
    free(detail);
    return rc;
}

int ks_service_external_remove(ks_service *svc, const ks_actor *who, const char *key_id)
{
    ks_audit_entry audit = ks_service_audit_of(who, "external.remove", key_id, NULL);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->external_remove(svc->store, who->account, key_id, &audit);
    if (rc == KS_OK)
        rc = index_refresh_foreign_key(svc, key_id, NULL);
    pthread_mutex_unlock(&svc->write_lock);
    return rc;
}
