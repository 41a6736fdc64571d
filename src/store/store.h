/*
 * store.h - the store interface: durable records behind Keystile.
 *
 * One interface (a table of function pointers), several backends: SQLite
 * (store_sqlite.c, the embedded default) and, later, PostgreSQL. Every write
 * is one transaction that also appends its audit entry: it either happens
 * whole and durably (acknowledged writes survive a crash) or not at all.
 * Token-slot writes load the slots, apply core/token_slots.h and write them
 * back inside that transaction, so the renewal rules live in the core only.
 *
 * Errors: KS_ERR_NOT_FOUND (no such account / key / role in that account),
 * KS_ERR_INVALID (a named role does not exist), the 409 codes of the action,
 * KS_ERR_STORAGE (the database cannot take the write: full disk, I/O, busy),
 * KS_ERR_NOMEM. Output records are owned by the caller (free with model.h).
 * A store object may be called from several threads; it serialises itself.
 */
#ifndef KS_STORE_STORE_H
#define KS_STORE_STORE_H

#include "core/model.h"

typedef struct ks_store ks_store;

typedef struct {
    const char *q;      /* case-insensitive substring of name or key id, NULL = any */
    int status;         /* -1 any, KS_KEY_ACTIVE, KS_KEY_INACTIVE */
    int outdated;       /* -1 any, 1 outdated only, 0 up to date only */
    int64_t now;        /* the clock, for `outdated` */
    int64_t before_seq; /* only keys with seq below this; 0 = from the newest */
    int limit;          /* 1..500 */
} ks_key_filter;

typedef struct {
    ks_key *items;      /* newest first */
    size_t count;
    int64_t next_seq;   /* before_seq for the next page, 0 when this is the last */
} ks_key_page;
void ks_key_page_free(ks_key_page *p);

typedef struct {
    const char *name;         /* NULL = unchanged */
    const ks_strlist *roles;  /* NULL = unchanged */
    int status;               /* -1 = unchanged, else ks_key_status */
} ks_key_patch;

/* Callbacks of load_all / load_account; a non-zero return stops the load and
 * is returned. Records passed in are only valid during the call. With on_key
 * NULL, load_account reads the account's settings and roles only. */
typedef struct {
    void *ctx;
    int (*on_account)(void *ctx, const char *account, const ks_settings *settings,
                      const ks_role *roles, size_t n_roles);
    int (*on_key)(void *ctx, const ks_key *key);
} ks_store_loader;

typedef struct {
    char key_id[KS_KEY_ID_MAX + 1];
    ks_digest hash;       /* which token of the key */
    int64_t last_used_at;
} ks_last_used;

#define KS_SEALED_MAX 160 /* nonce + secretbox of a signing key or a token */

typedef struct {
    char kid[17];
    unsigned char public_key[32];
    unsigned char sealed[KS_SEALED_MAX]; /* the secret key, sealed by the service */
    size_t sealed_len;
    int64_t created_at;
    int64_t retired_at;                  /* 0 = signing new tokens */
} ks_stored_signing_key;

typedef struct {
    const char *backend; /* "sqlite" */
    void (*close)(ks_store *s);

    /* Accounts and settings. account_create makes the account, its built-in
     * roles and its first (Owner) key; KS_ERR_NAME_TAKEN if it exists. */
    int (*account_create)(ks_store *s, const char *account, const ks_settings *settings,
                          const ks_key *owner, const ks_audit_entry *audit);
    int (*settings_get)(ks_store *s, const char *account, ks_settings *out);
    int (*settings_put)(ks_store *s, const char *account, const ks_settings *settings,
                        const ks_audit_entry *audit);

    /* Keys. key_insert fills nothing back; seq is assigned by the store. */
    int (*key_insert)(ks_store *s, const ks_key *key, const ks_audit_entry *audit);
    int (*key_get)(ks_store *s, const char *account, const char *key_id, ks_key *out);
    int (*key_list)(ks_store *s, const char *account, const ks_key_filter *filter,
                    ks_key_page *out);
    int (*key_update)(ks_store *s, const char *account, const char *key_id,
                      const ks_key_patch *patch, const ks_audit_entry *audit);
    int (*key_delete)(ks_store *s, const char *account, const char *key_id,
                      const ks_audit_entry *audit);
    int (*key_apply_slots)(ks_store *s, const char *account, const char *key_id, ks_slot_op op,
                           const ks_digest *new_hash, int64_t now, const ks_audit_entry *audit);

    /* Roles (built-in ones included in lists, flagged builtin). role_update
     * renames (new_name, NULL = keep) and/or replaces resources (NULL = keep). */
    int (*role_list)(ks_store *s, const char *account, ks_role **out, size_t *n);
    int (*role_create)(ks_store *s, const char *account, const ks_role *role,
                       const ks_audit_entry *audit);
    int (*role_update)(ks_store *s, const char *account, const char *name, const char *new_name,
                       const ks_strlist *resources, const ks_audit_entry *audit);
    int (*role_delete)(ks_store *s, const char *account, const char *name,
                       const ks_audit_entry *audit);

    /* External keys: keys of other accounts granted roles in `account`.
     * external_list returns them (full records, grants included) newest grant
     * first; add gives KS_ERR_NOT_FOUND for an unknown key, KS_ERR_INVALID for
     * the account's own key or an unknown role, KS_ERR_NAME_TAKEN when the
     * grant exists; update (roles NULL = keep, status -1 = keep) and remove
     * give KS_ERR_NOT_FOUND when there is no grant. */
    int (*external_list)(ks_store *s, const char *account, ks_key **out, size_t *n);
    int (*external_add)(ks_store *s, const char *account, const char *key_id,
                        const ks_strlist *roles, int64_t now, const ks_audit_entry *audit);
    int (*external_update)(ks_store *s, const char *account, const char *key_id,
                           const ks_strlist *roles, int status, const ks_audit_entry *audit);
    int (*external_remove)(ks_store *s, const char *account, const char *key_id,
                           const ks_audit_entry *audit);

    /* Web admin sessions, by the keyed hash of the session cookie.
     * session_get gives KS_ERR_NOT_FOUND for an unknown hash; session_touch
     * sets last_seen_at; session_purge removes sessions idle since `before`. */
    int (*session_create)(ks_store *s, const ks_digest *hash, const char *key_id, int64_t now);
    int (*session_get)(ks_store *s, const ks_digest *hash, char key_id[KS_KEY_ID_MAX + 1],
                       int64_t *last_seen_at);
    int (*session_touch)(ks_store *s, const ks_digest *hash, int64_t now);
    int (*session_delete)(ks_store *s, const ks_digest *hash);
    int (*session_purge)(ks_store *s, int64_t before);

    /* Login token signing keys, oldest first. */
    int (*signing_key_list)(ks_store *s, ks_stored_signing_key **out, size_t *n);
    int (*signing_key_add)(ks_store *s, const ks_stored_signing_key *key);
    int (*signing_key_retire)(ks_store *s, const char *kid, int64_t at);

    /* One-time share links, by the keyed hash of their id. share_take returns
     * the sealed token and erases it in the same transaction: KS_ERR_NOT_FOUND
     * for an unknown link, KS_ERR_GONE once revealed or past expires_at. */
    int (*share_create)(ks_store *s, const ks_digest *id_hash, const char *key_id,
                        const unsigned char *sealed, size_t sealed_len, int64_t now, int64_t expires_at);
    int (*share_take)(ks_store *s, const ks_digest *id_hash, int64_t now,
                      char key_id[KS_KEY_ID_MAX + 1], unsigned char sealed[KS_SEALED_MAX], size_t *sealed_len);
    int (*share_purge)(ks_store *s, int64_t before);

    /* Audit, newest first, at most `limit`. */
    int (*audit_list)(ks_store *s, const char *account, int limit, ks_audit_record **out,
                      size_t *n);

    /* Everything, for building the verify index at start; or one account. */
    int (*load_all)(ks_store *s, const ks_store_loader *loader);
    int (*load_account)(ks_store *s, const char *account, const ks_store_loader *loader);

    /* Batch of last-used times (one transaction; a later time never goes back). */
    int (*last_used_flush)(ks_store *s, const ks_last_used *items, size_t n);
} ks_store_ops;

struct ks_store {
    const ks_store_ops *ops;
};

/* Opens the store named by `location` (a file path: SQLite), creating and
 * migrating the schema as needed. NULL on failure with a reason in err. */
ks_store *ks_store_open(const char *location, char *err, size_t errlen);

/* The SQLite backend (store_sqlite.c). */
ks_store *ks_store_sqlite_open(const char *path, char *err, size_t errlen);

void ks_audit_records_free(ks_audit_record *items, size_t n);
void ks_keys_free(ks_key *items, size_t n);
void ks_roles_free(ks_role *items, size_t n);

#endif
