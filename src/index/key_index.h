/*
 * key_index.h - the in-memory verify index: key id -> {status, token hashes,
 * roles}, and account -> {settings, roles -> resources}.
 *
 * Built from the store at start and kept current by the service after each
 * committed write, so verify never touches the disk. Readers take a shared
 * lock for the few hundred nanoseconds a verify needs; writers build the new
 * entry outside the lock and only swap pointers under the exclusive lock, so a
 * reader sees a key before or after a write, never half of it. The lock
 * prefers writers, so a stream of verifies cannot starve a revocation.
 *
 * Last use: a successful verify stores the time in the entry (an atomic, no
 * lock upgrade); ks_index_collect_last_used gathers what changed since the
 * previous call for the service to flush in one store transaction.
 */
#ifndef KS_INDEX_KEY_INDEX_H
#define KS_INDEX_KEY_INDEX_H

#include "core/model.h"
#include "store/store.h"

#include <stdatomic.h>

typedef struct ks_index ks_index;

typedef struct ks_index_role {
    char *name;
    ks_strlist resources;
} ks_index_role;

typedef struct ks_index_account {
    struct ks_index_account *next; /* hash chain */
    char name[KS_ACCOUNT_MAX + 1];
    ks_settings settings;
    ks_index_role *roles;
    size_t n_roles;
} ks_index_account;

typedef struct ks_index_key {
    struct ks_index_key *next;   /* hash chain */
    char key_id[KS_KEY_ID_MAX + 1];
    char account[KS_ACCOUNT_MAX + 1];
    int active;
    ks_token_slots slots;        /* hashes and creation times; last_used below */
    _Atomic int64_t last_used[2];    /* per slot: newest successful verify */
    _Atomic int64_t last_flushed[2]; /* per slot: what the store has */
    ks_strlist roles;            /* role names in the home account */
    ks_grant *grants;            /* external grants (copies) */
    size_t n_grants;
} ks_index_key;

/* New empty index; NULL when out of memory. */
ks_index *ks_index_new(void);
void ks_index_free(ks_index *idx);

/* Fills the index from the store (load_all). KS_OK or the store's error. */
int ks_index_load(ks_index *idx, ks_store *store);

/* Reloads one account's settings and roles from the store, and with
 * with_keys all its keys too (needed after a role rename). */
int ks_index_reload_account(ks_index *idx, ks_store *store, const char *account, int with_keys);

/* Inserts or replaces an account / a key (copies the record). KS_OK or NOMEM. */
int ks_index_put_account(ks_index *idx, const char *account, const ks_settings *settings,
                         const ks_role *roles, size_t n_roles);
int ks_index_put_key(ks_index *idx, const ks_key *key);
void ks_index_remove_key(ks_index *idx, const char *key_id);

/* Reading: hold the shared lock around find calls and any use of what they
 * return; never call a put/remove while holding it. */
void ks_index_read_lock(ks_index *idx);
void ks_index_read_unlock(ks_index *idx);
const ks_index_key *ks_index_find_key(const ks_index *idx, const char *key_id);
const ks_index_account *ks_index_find_account(const ks_index *idx, const char *account);
const ks_index_role *ks_index_find_role(const ks_index_account *acct, const char *role);

/* Records a successful verify of `slot` at `now` (call under the read lock). */
void ks_index_touch(const ks_index_key *key, ks_slot slot, int64_t now);

/* Collects the last-used times not yet flushed into a new array (*out, free
 * it) and marks them flushed. KS_OK or NOMEM. */
int ks_index_collect_last_used(ks_index *idx, ks_last_used **out, size_t *n);

/* Number of keys, total and active (for /healthz and metrics). */
void ks_index_count(ks_index *idx, size_t *total, size_t *active);

#endif
