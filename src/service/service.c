/*
 * service.c - management actions: store transaction, then index update, under
 * one write lock. See service.h. Tokens are made here, hashed at once, handed
 * to the caller and never written anywhere else.
 */
#include "service/service.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/roles.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "service/change_feed.h"
#include "service/login_keys.h"
#include "service/share_links.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int ks_service_init(ks_service *svc, ks_store *store, const ks_secret *secret, int with_index)
{
    memset(svc, 0, sizeof *svc);
    svc->store = store;
    ks_store_set_write_observer(store, ks_metrics_store_write); /* the store reports, metrics records */
    svc->secret = *secret;
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
    if (!svc->index)
        return KS_ERR_NOMEM;
    rc = ks_index_load(svc->index, store);
    if (rc != KS_OK) {
        ks_index_free(svc->index);
        svc->index = NULL;
    }
    return rc;
}

void ks_service_close(ks_service *svc)
{
    ks_change_feed_stop(svc);
    if (svc->flusher_running) {
        pthread_mutex_lock(&svc->flusher_lock);
        svc->flusher_stop = 1;
        pthread_cond_signal(&svc->flusher_wake);
        pthread_mutex_unlock(&svc->flusher_lock);
        pthread_join(svc->flusher, NULL);
        svc->flusher_running = 0;
    }
    if (svc->index)
        ks_service_flush_last_used(svc, 0);
    ks_index_free(svc->index);
    svc->index = NULL;
    ks_login_keys_free(svc);
    pthread_rwlock_destroy(&svc->signing_lock);
    sodium_memzero(&svc->secret, sizeof svc->secret);
    pthread_mutex_destroy(&svc->write_lock);
    pthread_mutex_destroy(&svc->flusher_lock);
    pthread_cond_destroy(&svc->flusher_wake);
    pthread_mutex_destroy(&svc->group_lock);
    pthread_cond_destroy(&svc->group_done);
}

#define FLUSH_SLICE 4096 /* last-used rows per transaction */

/* Waits up to ms (the flusher thread); 1 when the service is stopping. */
static int flusher_wait(ks_service *svc, long ms)
{
    struct timespec until;
    ks_clock_deadline(&until, ms);
    pthread_mutex_lock(&svc->flusher_lock);
    int wait = 0;
    while (!svc->flusher_stop && wait != ETIMEDOUT)
        wait = pthread_cond_timedwait(&svc->flusher_wake, &svc->flusher_lock, &until);
    int stopping = svc->flusher_stop;
    pthread_mutex_unlock(&svc->flusher_lock);
    return stopping;
}

int ks_service_flush_last_used(ks_service *svc, int spread_ms)
{
    ks_last_used *items;
    size_t n;
    int rc = ks_index_collect_last_used(svc->index, &items, &n);
    /* In slices of a few thousand rows, each its own short transaction: a
     * renewal waiting for the store lock then waits for one slice, not for
     * a flush of every token used in the last interval. Spread out, the
     * slices also never take a core for long: with 70,000 keys in use a
     * whole flush is about 0.8 s of CPU, enough to push verify's p99 at
     * full load past a millisecond when it comes at once. */
    size_t slices = (n + FLUSH_SLICE - 1) / FLUSH_SLICE;
    long pause_ms = spread_ms > 0 && slices > 1 ? spread_ms / (long)slices : 0;
    for (size_t done = 0; rc == KS_OK && done < n; done += FLUSH_SLICE) {
        size_t slice = n - done < FLUSH_SLICE ? n - done : FLUSH_SLICE;
        if (done > 0 && pause_ms > 0 && flusher_wait(svc, pause_ms))
            pause_ms = 0; /* stopping: write the rest at once */
        rc = svc->store->ops->last_used_flush(svc->store, items + done, slice);
        if (rc == KS_OK)
            ks_index_mark_flushed(svc->index, items + done, slice);
    }
    free(items);
    return rc;
}

#define SIGNING_KEYS_RELOAD_S 30.0

static void *flusher_main(void *arg)
{
    ks_service *svc = arg;
    /* Background work at niceness 5: a flush of many last-used times
     * yields to verifies that wake up, yet at full load still gets about a
     * fifth of a core. Writes waiting for the store lock wait for one slice
     * of the flush at most (see above). */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
    /* Last-used times every interval, their slices spread over half of it,
     * so each reaches the store within 1.5 intervals; signing keys rotated
     * by another process (the CLI, another node) every 30 s. */
    double interval = svc->flush_interval_ms / 1000.0, now = ks_clock_monotonic(); /* monotonic */
    double next_flush = now + interval, next_keys = now + SIGNING_KEYS_RELOAD_S;
    for (;;) {
        double due = next_flush < next_keys ? next_flush : next_keys;
        now = ks_clock_monotonic();
        if (flusher_wait(svc, due > now ? (long)((due - now) * 1000.0) + 1 : 0))
            break;
        now = ks_clock_monotonic();
        if (now >= next_flush) {
            next_flush = now + interval;
            if (ks_service_flush_last_used(svc, svc->flush_interval_ms / 2) != KS_OK)
                ks_log("warn", "last_used flush failed; will retry", NULL);
        }
        if (now >= next_keys) {
            next_keys = now + SIGNING_KEYS_RELOAD_S;
            ks_login_keys_load(svc);
        }
    }
    return NULL;
}

int ks_service_start_flusher(ks_service *svc, int interval_ms)
{
    svc->flush_interval_ms = interval_ms > 0 ? interval_ms : 2000;
    if (pthread_create(&svc->flusher, NULL, flusher_main, svc) != 0)
        return KS_ERR_INTERNAL;
    svc->flusher_running = 1;
    return KS_OK;
}

/* ---- helpers ---- */

/* Serialises a JSON detail object (stealing the reference); NULL on NOMEM. */
static char *detail_text(json_t *detail)
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

static ks_audit_entry audit_of(const ks_actor *who, const char *action, const char *target,
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

/* After a write that read `key` back from the store (rc: how that went):
 * puts it into the index, then hands it to out, with this node's last-used
 * times, or frees it. Returns rc, or the index's NOMEM (under write_lock). */
static int index_publish_key(ks_service *svc, ks_key *key, int rc, ks_key *out)
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
    return index_publish_key(svc, &key, rc, out);
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

static json_t *roles_json(const ks_strlist *roles)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && roles && i < roles->count; i++)
        json_array_append_new(arr, json_string(roles->items[i]));
    return arr;
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
    ks_audit_entry audit = audit_of(&who, "account.create", account, NULL);
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
    ks_key key = {0};
    ks_digest hash;
    int64_t now = ks_clock_now();
    snprintf(key.account, sizeof key.account, "%s", who->account);
    key.active = KS_KEY_ACTIVE;
    key.created_at = now;
    if (!(key.name = strdup(name)) || (roles && ks_strlist_copy(&key.roles, roles) != KS_OK)) {
        ks_key_free(&key);
        return KS_ERR_NOMEM;
    }
    token_new(svc, token_out, &hash);
    ks_slots_init(&key.slots, &hash, now);
    char *detail = detail_text(json_pack("{s:s, s:o}", "name", name, "roles", roles_json(roles)));
    int rc = KS_ERR_NAME_TAKEN;
    pthread_mutex_lock(&svc->write_lock);
    /* 50 random bits per id: a collision is rare, but take a new id if it comes. */
    for (int attempt = 0; attempt < 3 && rc == KS_ERR_NAME_TAKEN; attempt++) {
        if ((rc = ks_key_id_generate(who->account, key.key_id)) != KS_OK)
            break;
        ks_audit_entry audit = audit_of(who, "key.create", key.key_id, detail);
        rc = svc->store->ops->key_insert(svc->store, &key, &audit);
    }
    if (rc == KS_OK)
        rc = index_refresh_key(svc, who->account, key.key_id, out);
    pthread_mutex_unlock(&svc->write_lock);
    free(detail);
    ks_key_free(&key);
    if (rc != KS_OK)
        sodium_memzero(token_out, KS_TOKEN_LEN + 1);
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
        json_object_set_new(d, "roles", roles_json(patch->roles));
    if (d && patch->status >= 0)
        json_object_set_new(d, "status", json_string(patch->status ? "active" : "inactive"));
    char *detail = detail_text(d);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = audit_of(who, "key.update", key_id, detail);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->key_update(svc->store, who->account, key_id, patch, &audit);
    if (rc == KS_OK)
        rc = index_refresh_key(svc, who->account, key_id, out);
    pthread_mutex_unlock(&svc->write_lock);
    free(detail);
    return rc;
}

int ks_service_key_delete(ks_service *svc, const ks_actor *who, const char *key_id)
{
    ks_audit_entry audit = audit_of(who, "key.delete", key_id, NULL);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->key_delete(svc->store, who->account, key_id, &audit);
    if (rc == KS_OK && svc->index)
        ks_index_remove_key(svc->index, key_id);
    pthread_mutex_unlock(&svc->write_lock);
    return rc;
}

/* A token-slot write waiting for its batch (on its caller's stack). */
typedef struct ks_slot_write {
    const ks_actor *who;
    const char *key_id;
    ks_slot_op op;
    const ks_digest *new_hash;
    ks_audit_entry audit;
    ks_key *out;
    ks_key after;               /* the key as the store has it after the write */
    const ks_share_record *share; /* a link to write with it, or NULL */
    int rc;
    int share_rc;               /* of writing `share` */
    int done;                   /* under group_lock: rc and out are final */
    struct ks_slot_write *next;
} ks_slot_write;

#define GROUP_MAX 64 /* writes per batch */

/* Runs a batch of slot writes: store (which applies core/token_slots), all
 * in one transaction made durable by one commit when the store can, then
 * the index, in that order, under write_lock. A failed commit fails every
 * write of the batch, and then none reaches the index. */
static void slot_batch_run(ks_service *svc, ks_slot_write *batch)
{
    ks_store *st = svc->store;
    pthread_mutex_lock(&svc->write_lock);
    /* A batch also when alone with a share link: one commit for both. */
    int grouped = (batch->next || batch->share) && st->ops->batch_begin && st->ops->batch_begin(st) == KS_OK;
    for (ks_slot_write *w = batch; w; w = w->next) {
        w->rc = st->ops->key_apply_slots(st, w->who->account, w->key_id, w->op, w->new_hash, w->audit.at,
                                         &w->audit, &w->after);
        if (w->rc == KS_OK && w->share)
            w->share_rc = ks_share_store(svc, w->key_id, w->share);
    }
    if (grouped) {
        int rc = st->ops->batch_end(st, 1);
        for (ks_slot_write *w = batch; rc != KS_OK && w; w = w->next)
            if (w->rc == KS_OK)
                w->rc = rc;
    }
    /* The store read each key back in its transaction: that is what the
     * index and the caller get, with no second read. */
    for (ks_slot_write *w = batch; w; w = w->next)
        w->rc = index_publish_key(svc, &w->after, w->rc, w->out);
    pthread_mutex_unlock(&svc->write_lock);
}

/* One token-slot transition, acknowledged once durable. Concurrent ones are
 * group-committed: the first waiting thread runs the queued writes as one
 * batch while the next ones queue up behind it. */
static int slots_change(ks_service *svc, const ks_actor *who, const char *key_id, ks_slot_op op,
                        const ks_digest *new_hash, const char *action, const char *detail,
                        ks_key *out, const ks_share_record *share, int *share_rc)
{
    ks_slot_write w = {.who = who, .key_id = key_id, .op = op, .new_hash = new_hash,
                       .audit = audit_of(who, action, key_id, detail), .out = out, .share = share,
                       .rc = KS_OK, .share_rc = KS_OK};
    pthread_mutex_lock(&svc->group_lock);
    if (svc->group_tail)
        svc->group_tail->next = &w;
    else
        svc->group_head = &w;
    svc->group_tail = &w;
    while (!w.done) {
        if (svc->group_leader) {
            pthread_cond_wait(&svc->group_done, &svc->group_lock);
            continue;
        }
        svc->group_leader = 1;
        ks_slot_write *batch = svc->group_head, *last = batch;
        for (int n = 1; n < GROUP_MAX && last->next; n++)
            last = last->next;
        svc->group_head = last->next;
        if (!svc->group_head)
            svc->group_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&svc->group_lock);
        slot_batch_run(svc, batch);
        pthread_mutex_lock(&svc->group_lock);
        for (ks_slot_write *b = batch, *next; b; b = next) {
            next = b->next; /* b may return (and its frame go) once done is set */
            b->done = 1;
        }
        svc->group_leader = 0;
        pthread_cond_broadcast(&svc->group_done);
    }
    pthread_mutex_unlock(&svc->group_lock);
    if (share_rc)
        *share_rc = w.share_rc;
    return w.rc;
}

int ks_service_key_renew(ks_service *svc, const ks_actor *who, const char *key_id,
                         ks_delete_old mode, ks_key *out, char *token_out, char *share_id_out)
{
    ks_digest hash;
    ks_share_record share;
    int share_rc = KS_ERR_INTERNAL;
    token_new(svc, token_out, &hash);
    int with_share = share_id_out && ks_share_seal(svc, token_out, share_id_out, &share) == KS_OK;
    const char *detail = mode == KS_DELETE_OLD_NOW ? "{\"delete_old\":\"now\"}" : "{\"delete_old\":\"later\"}";
    int rc = slots_change(svc, who, key_id,
                          mode == KS_DELETE_OLD_NOW ? KS_SLOT_OP_RENEW_NOW : KS_SLOT_OP_RENEW_LATER,
                          &hash, "key.renew", detail, out, with_share ? &share : NULL, &share_rc);
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
    return slots_change(svc, who, key_id, KS_SLOT_OP_DELETE_OLD, NULL, "key.delete_old_token", NULL, out, NULL,
                        NULL);
}

int ks_service_key_undo_renewal(ks_service *svc, const ks_actor *who, const char *key_id, ks_key *out)
{
    return slots_change(svc, who, key_id, KS_SLOT_OP_UNDO_RENEWAL, NULL, "key.undo_renewal", NULL, out, NULL,
                        NULL);
}

/* ---- settings ---- */

int ks_service_settings_get(ks_service *svc, const char *account, ks_settings *out)
{
    return svc->store->ops->settings_get(svc->store, account, out);
}

int ks_service_settings_put(ks_service *svc, const ks_actor *who, const ks_settings *settings)
{
    char *detail = detail_text(json_pack("{s:i, s:b}", "token_duration_months",
                                         settings->token_duration_months, "enforce_duration",
                                         settings->enforce_duration));
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = audit_of(who, "settings.update", who->account, detail);
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
    char *detail = detail_text(json_pack("{s:o}", "resources", roles_json(&role->resources)));
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = audit_of(who, "role.create", role->name, detail);
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
        json_object_set_new(d, "resources", roles_json(resources));
    char *detail = detail_text(d);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = audit_of(who, "role.update", name, detail);
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
    ks_audit_entry audit = audit_of(who, "role.delete", name, NULL);
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
    char *detail = detail_text(json_pack("{s:o}", "roles", roles_json(roles)));
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = audit_of(who, "external.add", key_id, detail);
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
        json_object_set_new(d, "roles", roles_json(roles));
    if (d && status >= 0)
        json_object_set_new(d, "status", json_string(status ? "active" : "inactive"));
    char *detail = detail_text(d);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = audit_of(who, "external.update", key_id, detail);
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
    ks_audit_entry audit = audit_of(who, "external.remove", key_id, NULL);
    pthread_mutex_lock(&svc->write_lock);
    int rc = svc->store->ops->external_remove(svc->store, who->account, key_id, &audit);
    if (rc == KS_OK)
        rc = index_refresh_foreign_key(svc, key_id, NULL);
    pthread_mutex_unlock(&svc->write_lock);
    return rc;
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
    ks_audit_entry audit = audit_of(who, action, target, detail);
    return svc->store->ops->audit_append(svc->store, &audit);
}
