/*
 * service.h - Keystile's management actions: each validates nothing about
 * HTTP, runs one store transaction (with its audit entry) and then updates the
 * verify index, all under one write lock so the index applies writes in the
 * order the store committed them.
 *
 * Inputs are assumed syntactically valid (the HTTP layer checks fields);
 * semantic errors come back as KS_ERR_* codes (NOT_FOUND, INVALID for an
 * unknown role, the 409s, STORAGE). A new token is written into token_out
 * (KS_TOKEN_LEN + 1 bytes); the caller shows it once and wipes it.
 * Output records are the caller's to free.
 */
#ifndef KS_SERVICE_SERVICE_H
#define KS_SERVICE_SERVICE_H

#include "core/netaddr.h"
#include "core/model.h"
#include "core/secret.h"
#include "index/key_index.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>

#define KS_WEBHOOK_DENY_MAX 32 /* --webhook-deny ranges */

/* How webhooks are delivered (serve --webhook-deny). */
typedef struct {
    ks_cidr deny[KS_WEBHOOK_DENY_MAX]; /* targets no delivery may connect to */
    size_t n_deny;
} ks_webhook_options;

typedef struct {
    ks_store *store;
    ks_index *index;        /* NULL for offline use (account create) */
    ks_secret secret;
    ks_token_hasher token_hasher; /* the secret's keyed hash, set up once (verify's) */
    pthread_mutex_t write_lock;
    pthread_t flusher;      /* last-used flusher thread */
    int flusher_running;
    int flusher_stop;
    pthread_mutex_t flusher_lock;
    pthread_cond_t flusher_wake;
    int flush_interval_ms;
    struct ks_signing_key_s *signing_keys; /* login token keys (login_keys.c) */
    size_t n_signing_keys;
    pthread_rwlock_t signing_lock;
    struct ks_change_feed *feed; /* follower of other nodes' writes (change_feed.c), or NULL */
    int64_t feed_seq;       /* newest change-log seq the index reflects */
    atomic_int storage_down; /* the follower cannot reach the store (/healthz: degraded) */
    int max_staleness_ms;   /* stale after this long without the store (0 = never; change_feed.h) */
    _Atomic int64_t feed_heard_ms; /* ks_clock_monotonic() in ms of the follower's last good poll */
    /* Group commit of token-slot writes (group_commit.c): writes that
     * arrive while one batch syncs form the next batch, one fsync for all. */
    pthread_mutex_t group_lock;
    pthread_cond_t group_done;
    struct ks_slot_write *group_head, *group_tail; /* waiting writes */
    int group_leader;       /* a thread is running a batch */
    _Atomic int64_t share_purged_at; /* last purge of dead share links */
    ks_webhook_options webhook_options;     /* set before ks_webhook_worker_start */
    struct ks_webhook_worker *webhook_worker; /* the delivery thread (webhook_worker.c), or NULL */
    struct ks_sweeper *sweeper;             /* the sweeps' thread (sweeper.c), or NULL */
    struct ks_heartbeat *heartbeat;         /* this node's heartbeat (heartbeat.c), or NULL */
    struct ks_usage *usage;                 /* verifies counted per key (usage.c), or NULL */
} ks_service;

/* Who acts: the caller's key id (audit actor), the account it acts in, how
 * it authenticated (audit "via", NULL = "system") and from where (NULL = no
 * network address, the command line). */
typedef struct {
    const char *actor;
    const char *account;
    const char *via;
    const char *address;
} ks_actor;

/* Sets up the service over an open store. With with_index, loads the verify
 * index from the store (noting first the change-log head, from which
 * ks_change_feed_start follows). KS_OK or the store's error. */
int ks_service_init(ks_service *svc, ks_store *store, const ks_secret *secret, int with_index);
/* Stops the change feed and the flusher (flushing once more), frees the
 * index; the store stays open. */
void ks_service_close(ks_service *svc);

/* Starts the thread that flushes last-used times every interval_ms. */
int ks_service_start_flusher(ks_service *svc, int interval_ms);
/* Writes the last-used times not in the store yet, in slices of 4096 rows,
 * each its own transaction; with spread_ms > 0 the slices are spaced over
 * about that long (at once if the service stops meanwhile). The first
 * failed slice ends it with its code; what was not written is written by
 * the next call. scope: every key's, or only those auto-delete reads
 * (key_index.h). */
int ks_service_flush_last_used(ks_service *svc, ks_last_used_scope scope, int spread_ms);

int ks_service_account_create(ks_service *svc, const char *account, const char *actor,
                              ks_key *owner_out, char *token_out);

/* ks_service_key_create with the key's limits (normalised allowed_cidrs,
 * NULL = none; rate_limit NULL or limit 0 = none; checked by the caller,
 * core/key_limits.h). */
int ks_service_key_create_limited(ks_service *svc, const ks_actor *who, const char *name, const ks_strlist *roles,
                                  const ks_strlist *allowed_cidrs, const ks_rate_limit *rate_limit, ks_key *out,
                                  char *token_out);
int ks_service_key_create(ks_service *svc, const ks_actor *who, const char *name,
                          const ks_strlist *roles, ks_key *out, char *token_out);
int ks_service_key_get(ks_service *svc, const char *account, const char *key_id, ks_key *out);
int ks_service_key_list(ks_service *svc, const char *account, const ks_key_filter *filter,
                        ks_key_page *out);
int ks_service_key_update(ks_service *svc, const ks_actor *who, const char *key_id,
                          const ks_key_patch *patch, ks_key *out);
int ks_service_key_delete(ks_service *svc, const ks_actor *who, const char *key_id);
/* Renews; token_out gets the new token. With share_id_out (KS_SHARE_ID_MAX
 * bytes, see share_links.h), a one-time link to it is written in the same
 * transaction and its id put there; "" when only the link failed. */
int ks_service_key_renew(ks_service *svc, const ks_actor *who, const char *key_id,
                         ks_delete_old mode, ks_key *out, char *token_out, char *share_id_out);
/* Renew with, for delete_old later, a deadline for the old token
 * (old_ends_at, Unix seconds; 0 = none): it stops verifying then on every
 * node, and the sweeps delete it (actor system). KS_ERR_INVALID for a
 * deadline with `now`, or not in the future (the HTTP layer checks the
 * 30-day bound and names the field). */
int ks_service_key_renew_until(ks_service *svc, const ks_actor *who, const char *key_id, ks_delete_old mode,
                               int64_t old_ends_at, ks_key *out, char *token_out, char *share_id_out);
int ks_service_key_delete_old(ks_service *svc, const ks_actor *who, const char *key_id, ks_key *out);
int ks_service_key_undo_renewal(ks_service *svc, const ks_actor *who, const char *key_id, ks_key *out);

int ks_service_settings_get(ks_service *svc, const char *account, ks_settings *out);
int ks_service_settings_put(ks_service *svc, const ks_actor *who, const ks_settings *settings);

int ks_service_role_list(ks_service *svc, const char *account, ks_role **out, size_t *n);
int ks_service_role_create(ks_service *svc, const ks_actor *who, const ks_role *role);
int ks_service_role_update(ks_service *svc, const ks_actor *who, const char *name,
                           const char *new_name, const ks_strlist *resources);
int ks_service_role_delete(ks_service *svc, const ks_actor *who, const char *name);

/* External keys: keys of other accounts granted roles in who->account. */
int ks_service_external_list(ks_service *svc, const char *account, ks_key **out, size_t *n);
int ks_service_external_add(ks_service *svc, const ks_actor *who, const char *key_id,
                            const ks_strlist *roles, ks_key *out);
int ks_service_external_update(ks_service *svc, const ks_actor *who, const char *key_id,
                               const ks_strlist *roles, int status, ks_key *out);
int ks_service_external_remove(ks_service *svc, const ks_actor *who, const char *key_id);

/* The account's audit entries matching filter, newest first (see
 * audit_list in store.h; free out with ks_audit_page_free). */
int ks_service_audit_list(ks_service *svc, const char *account, const ks_audit_filter *filter,
                          ks_audit_page *out);

/* Audits an event that changes nothing else (a sign-in, a login-token
 * issue, a share-link reveal, a failed authentication) in who->account,
 * with who's actor, via and address, at the clock's now. detail is a JSON
 * object as text (NULL = {}), never a token. KS_OK, KS_ERR_NOT_FOUND when
 * the account does not exist (nothing is written), or the store's error. */
int ks_service_audit_event(ks_service *svc, const ks_actor *who, const char *action,
                           const char *target, const char *detail);

#endif
