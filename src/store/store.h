/*
 * store.h - the store interface: durable records behind Keystile.
 *
 * One interface (a table of function pointers), two backends: SQLite
 * (sqlite_*.c, the embedded default) and PostgreSQL (pg_*.c, several nodes on
 * one database). Every write is one transaction that also appends its audit
 * entry (and, with PostgreSQL, a change-log row): it either happens whole and
 * durably (acknowledged writes survive a crash) or not at all.
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
#include "core/person.h"

#include <stdatomic.h>

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

#define KS_AUDIT_PAGE_MAX 500

typedef struct {
    int64_t before_id;  /* only entries with id below this; 0 = from the newest */
    const char *actor;  /* exact actor, NULL = any */
    const char *action; /* exact action, NULL = any */
    int limit;          /* 1..KS_AUDIT_PAGE_MAX */
} ks_audit_filter;

typedef struct {
    ks_audit_record *items; /* newest first */
    size_t count;
    int64_t next_id;        /* before_id for the next page, 0 when this is the last */
} ks_audit_page;
void ks_audit_page_free(ks_audit_page *p);

typedef struct {
    const char *name;         /* NULL = unchanged */
    const ks_strlist *roles;  /* NULL = unchanged */
    int status;               /* -1 = unchanged, else ks_key_status */
    const ks_strlist *allowed_cidrs;  /* normalised (core/key_limits.h); NULL = unchanged */
    const ks_rate_limit *rate_limit;  /* NULL = unchanged; limit 0 removes it */
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
    ks_netaddr from;      /* the caller's address of that verify; family 0 = unknown */
    int64_t key_seq;      /* the store's row of the key (ks_key.seq, from the verify index
                             or last_used_order); 0 = found by key_id */
} ks_last_used;

/* A row of the change log (see change_feed in ks_store_ops): what a node
 * reloads into its verify index after another node's write. */
typedef enum {
    KS_CHANGE_KEY = 1,          /* one key (home account, key id): reload it, or drop it when gone */
    KS_CHANGE_ACCOUNT = 2,      /* an account's settings and roles */
    KS_CHANGE_ACCOUNT_KEYS = 3, /* an account and every key of it (new account, role rename) */
    KS_CHANGE_SIGNING_KEYS = 4, /* the login token signing keys */
} ks_change_kind;

typedef struct {
    int64_t seq;                      /* commit order: a larger seq committed later */
    int kind;                         /* ks_change_kind */
    char account[KS_ACCOUNT_MAX + 1]; /* "" for KS_CHANGE_SIGNING_KEYS */
    char key_id[KS_KEY_ID_MAX + 1];   /* "" unless KS_CHANGE_KEY */
} ks_change;

#define KS_SEALED_MAX 160 /* nonce + secretbox of a signing key or a token */
#define KS_SEALED_MAX_PERSON 64 /* nonce + secretbox of a 20-byte TOTP secret */

/* A web admin session as stored (session_get): a key's (key_id and
 * token_hash set, person_id 0) or a person's (person_id set, key_id ""). */
typedef struct {
    char key_id[KS_KEY_ID_MAX + 1];
    ks_digest token_hash;   /* keyed hash of the API token that signed in */
    int64_t person_id;      /* the person signed in, 0 for a key's session */
    char via[8];            /* a person's: "session" (password) or "oidc"; "" for a key's */
    int64_t created_at;     /* sign-in */
    int64_t last_seen_at;
} ks_session_record;

/* A person (people.c of each backend): one per email, across accounts. */
typedef struct {
    int64_t id;
    char email[KS_EMAIL_MAX + 1];             /* lower case */
    char password_hash[KS_PASSWORD_HASH_MAX]; /* Argon2id text; "" = none yet (invited) */
    unsigned char totp_sealed[KS_SEALED_MAX_PERSON]; /* TOTP secret, sealed by the service */
    size_t totp_sealed_len;                   /* 0 = no TOTP secret */
    int totp_enabled;                         /* 1 once confirmed; 0 = none or enrolment pending */
    int64_t totp_last_step;                   /* the newest TOTP step a code was used for */
    int64_t created_at;
    int64_t last_sign_in_at;                  /* 0 = never */
    int sso;                                  /* signed in by SSO at least once */
} ks_person;

/* A person's place in one account. */
typedef struct {
    char account[KS_ACCOUNT_MAX + 1];
    int active;             /* ks_key_status of the membership */
    int64_t created_at;     /* when the person was added to the account */
    ks_strlist roles;       /* role names in that account */
} ks_membership;
void ks_membership_free(ks_membership *m);
void ks_memberships_free(ks_membership *items, size_t n);

/* A person as a member of an account (member_list / member_get). */
typedef struct {
    ks_person person;
    ks_membership membership;
} ks_member;
void ks_member_free(ks_member *m);
void ks_members_free(ks_member *items, size_t n);

/* A one-time invitation to set a password, by the keyed hash of its id. */
typedef struct {
    ks_digest id_hash;
    int64_t expires_at;
} ks_invitation;

/* What invitation_get finds. */
typedef struct {
    char email[KS_EMAIL_MAX + 1];
    char account[KS_ACCOUNT_MAX + 1]; /* the account that invited */
    int64_t person_id;
} ks_invitation_record;


typedef struct {
    char kid[17];
    unsigned char public_key[32];
    unsigned char sealed[KS_SEALED_MAX]; /* the secret key, sealed by the service */
    size_t sealed_len;
    int64_t created_at;
    int64_t retired_at;                  /* 0 = signing new tokens */
} ks_stored_signing_key;

/* A key whose old token the sweeps should delete (old_tokens_due). */
typedef struct {
    char account[KS_ACCOUNT_MAX + 1];
    char key_id[KS_KEY_ID_MAX + 1];
    int auto_delete_hours;            /* the account's setting (0 = off), for the recheck */
    int64_t ends_at;                  /* the old token's deadline, 0 = none */
} ks_old_token_due;

/* A key the sweeps deactivate for lack of use (unused_keys_due). */
typedef struct {
    char account[KS_ACCOUNT_MAX + 1];
    char key_id[KS_KEY_ID_MAX + 1];
    int days;                         /* the account's deactivate_unused_days */
    int64_t last_used_at;             /* its newest token use, 0 = never */
} ks_unused_due;

/* A current token owed a renewal notice (notices_due), with what the
 * notice sweep needs to tell which (core/token_age.h) and to word it. */
typedef struct {
    char account[KS_ACCOUNT_MAX + 1];
    char key_id[KS_KEY_ID_MAX + 1];
    char *name;                       /* the key's name */
    int64_t created_at;               /* the token's: names it in notice_mark */
    int notices;                      /* KS_NOTICE_* already raised */
    int months;                       /* the account's duration */
    int notice_days;                  /* its renewal_notice_days */
} ks_notice_due;
void ks_notices_due_free(ks_notice_due *items, size_t n);

/* One notice to record (notice_mark): the bit, and its event. */
typedef struct {
    const char *account;
    const char *key_id;
    int64_t created_at;               /* only while this is still the current token */
    int notice;                       /* one KS_NOTICE_* bit */
    const ks_event *event;
    int marked;                       /* out: 1 when recorded now, 0 when it was not owed */
} ks_notice_mark;

#define KS_DELIVERY_PAGE_MAX 500

typedef struct {
    ks_delivery *items;               /* newest first */
    size_t count;
    int64_t next_id;                  /* before_id of the next page, 0 = last page */
} ks_delivery_page;
void ks_delivery_page_free(ks_delivery_page *p);
void ks_deliveries_free(ks_delivery *items, size_t n);
void ks_webhooks_free(ks_webhook *items, size_t n);

/* Verifies of a key by outcome (API.md "Per-key limits and usage"). */
enum {
    KS_USAGE_VALID,
    KS_USAGE_INVALID_TOKEN,
    KS_USAGE_INACTIVE,
    KS_USAGE_EXPIRED,
    KS_USAGE_FORBIDDEN,
    KS_USAGE_ADDRESS_NOT_ALLOWED,
    KS_USAGE_RATE_LIMITED,
    KS_USAGE_OUTCOMES
};

/* Counts of one key (or, read back summed, of an account: key_id "") in
 * the bucket starting at `at` (Unix seconds: any second of the hour they
 * belong to when written, the flush writes its start; an hour or a day
 * when read). */
typedef struct {
    char key_id[KS_KEY_ID_MAX + 1];
    char account[KS_ACCOUNT_MAX + 1];
    int64_t at;
    int64_t counts[KS_USAGE_OUTCOMES];
} ks_usage_row;

typedef struct {
    const char *backend; /* "sqlite" or "postgresql" */
    void (*close)(ks_store *s);

    /* Accounts and settings. account_create makes the account, its built-in
     * roles and its first (Owner) key; KS_ERR_NAME_TAKEN if it exists. */
    int (*account_create)(ks_store *s, const char *account, const ks_settings *settings,
                          const ks_key *owner, const ks_audit_entry *audit);
    int (*settings_get)(ks_store *s, const char *account, ks_settings *out);
    int (*settings_put)(ks_store *s, const char *account, const ks_settings *settings,
                        const ks_audit_entry *audit);

    /* Keys. key_insert fills nothing back; seq is assigned by the store.
     * key_update (of status or roles) and key_delete refuse, with
     * KS_ERR_LAST_OWNER and no change, to leave an account that had an
     * active key holding Owner at home with none (checked in the write's
     * transaction; PostgreSQL serialises these writes per account). */
    int (*key_insert)(ks_store *s, const ks_key *key, const ks_audit_entry *audit);
    int (*key_get)(ks_store *s, const char *account, const char *key_id, ks_key *out);
    int (*key_list)(ks_store *s, const char *account, const ks_key_filter *filter,
                    ks_key_page *out);
    int (*key_update)(ks_store *s, const char *account, const char *key_id,
                      const ks_key_patch *patch, const ks_audit_entry *audit);
    int (*key_delete)(ks_store *s, const char *account, const char *key_id,
                      const ks_audit_entry *audit);
    /* key_apply_slots: one token-slot transition (core/token_slots rules,
     * ks_slots_change), read, applied and written in one transaction. With
     * out (may be NULL), success also gives the key as it is after the
     * change, read in that transaction, so the caller need not read it
     * again; free it with ks_key_free. */
    /* token_find: the key holding a token of keyed hash `hash` in either
     * slot (a leaked token names no key): its account, key id and slot.
     * KS_ERR_NOT_FOUND when no key holds it. Reads an index on the hash. */
    int (*token_find)(ks_store *s, const ks_digest *hash, char account[KS_ACCOUNT_MAX + 1],
                      char key_id[KS_KEY_ID_MAX + 1], ks_slot *slot);
    int (*key_apply_slots)(ks_store *s, const char *account, const char *key_id, const ks_slot_change *change,
                           int64_t now, const ks_audit_entry *audit, ks_key *out);

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

    /* Web admin sessions, by the keyed hash of the session cookie, each
     * with the keyed hash of the API token that signed in (the same digest
     * the key's token slot holds; never a plaintext). session_create gives
     * KS_ERR_NOT_FOUND for an unknown key; session_get KS_ERR_NOT_FOUND for
     * an unknown hash (and for a session stored without a token hash);
     * session_touch sets last_seen_at; session_purge removes the sessions
     * last seen before idle_before or created before created_before. */
    int (*session_create)(ks_store *s, const ks_digest *hash, const char *key_id, const ks_digest *token_hash,
                          int64_t now);
    int (*session_get)(ks_store *s, const ks_digest *hash, ks_session_record *out);
    int (*session_touch)(ks_store *s, const ks_digest *hash, int64_t now);
    int (*session_delete)(ks_store *s, const ks_digest *hash);
    int (*session_purge)(ks_store *s, int64_t idle_before, int64_t created_before);

    /* People (API.md "People"; both backends' *_people.c). Emails are given
     * lower case (ks_email_normalize). A membership's roles and status are
     * per account; a person's sessions are ended (deleted, so on every
     * node at once) in the same transaction that deactivates or removes a
     * membership of it or sets its password. member_update / member_remove
     * keep the last-Owner rule: an account that had an active principal
     * (key at home or member) holding Owner keeps one, else
     * KS_ERR_LAST_OWNER and no change.
     *
     * person_get (person_get_by_id): NOT_FOUND for an unknown email (id).
     * person_memberships: every
     * account of the person, by account name. member_list: the account's
     * members by email; member_get: NOT_FOUND when the person is not a
     * member there. member_add makes the person when new, then the
     * membership (active): NAME_TAKEN when it exists, INVALID for an
     * unknown role, NOT_FOUND for an unknown account; with inv, it also
     * stores that invitation when the person has no password yet, and
     * sets *invited to 1 then (else 0). member_update (roles NULL = keep,
     * status -1 = keep) and member_remove: NOT_FOUND when not a member. */
    int (*person_get)(ks_store *s, const char *email, ks_person *out);
    int (*person_get_by_id)(ks_store *s, int64_t person_id, ks_person *out);
    int (*person_memberships)(ks_store *s, int64_t person_id, ks_membership **out, size_t *n);
    int (*member_list)(ks_store *s, const char *account, ks_member **out, size_t *n);
    int (*member_get)(ks_store *s, const char *account, const char *email, ks_member *out);
    int (*member_add)(ks_store *s, const char *account, const char *email, const ks_strlist *roles,
                      int64_t now, const ks_invitation *inv, int *invited, const ks_audit_entry *audit);
    int (*member_update)(ks_store *s, const char *account, const char *email, const ks_strlist *roles,
                         int status, const ks_audit_entry *audit);
    int (*member_remove)(ks_store *s, const char *account, const char *email, const ks_audit_entry *audit);

    /* Invitations. invitation_get: NOT_FOUND for an unknown id hash, GONE
     * when used or past expires_at. invitation_accept sets the person's
     * password hash and uses the invitation up (and every other of that
     * person), in one transaction, with the same errors, writing audit
     * (whose account must be the invitation's). */
    int (*invitation_get)(ks_store *s, const ks_digest *id_hash, int64_t now, ks_invitation_record *out);
    int (*invitation_accept)(ks_store *s, const ks_digest *id_hash, int64_t now, const char *password_hash,
                             const ks_audit_entry *audit);

    /* A person's own settings (NOT_FOUND for an unknown id).
     * person_password_set replaces the hash and ends every session of the
     * person but keep (NULL = all). person_totp_set stores the sealed
     * secret (NULL = none) and whether it is confirmed; a new secret resets
     * totp_last_step to 0. person_totp_step_use records that a code of
     * `step` was used: KS_ERR_GONE, and no change, when a code of that step
     * or a later one was used already (a code works once).
     * person_signed_in sets last_sign_in_at (and sso when via_sso). */
    int (*person_password_set)(ks_store *s, int64_t person_id, const char *password_hash,
                               const ks_digest *keep);
    int (*person_totp_set)(ks_store *s, int64_t person_id, const unsigned char *sealed, size_t sealed_len,
                           int enabled);
    int (*person_totp_step_use)(ks_store *s, int64_t person_id, int64_t step);
    int (*person_signed_in)(ks_store *s, int64_t person_id, int64_t now, int via_sso);

    /* Failed sign-ins, by the keyed hash of the email tried (known or
     * not), kept in the database so that every node counts them.
     * signin_failure_add records one at `now` and drops those before
     * purge_before; signin_failures gives the times of those at or after
     * `since`, oldest first, at most max of them (*n their count);
     * signin_failures_clear forgets the email's failures. */
    int (*signin_failure_add)(ks_store *s, const ks_digest *email_hash, int64_t now, int64_t purge_before);
    int (*signin_failures)(ks_store *s, const ks_digest *email_hash, int64_t since, int64_t *times, size_t max,
                           size_t *n);
    int (*signin_failures_clear)(ks_store *s, const ks_digest *email_hash);

    /* A person's web admin session (read back by session_get, ended as
     * any other): NOT_FOUND for an unknown person. via: "session" or
     * "oidc". */
    int (*person_session_create)(ks_store *s, const ks_digest *hash, int64_t person_id, const char *via,
                                 int64_t now);

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

    /* Audit. audit_list gives the account's entries matching the filter,
     * newest first (KS_ERR_INVALID for a limit outside 1..500; an unknown
     * account has no entries). audit_append writes one standalone entry,
     * for an event that changes nothing else (a sign-in, a failed
     * authentication): KS_ERR_NOT_FOUND when audit->account does not exist. */
    int (*audit_list)(ks_store *s, const char *account, const ks_audit_filter *filter,
                      ks_audit_page *out);
    int (*audit_append)(ks_store *s, const ks_audit_entry *audit);

    /* Everything, for building the verify index at start; or one account. */
    int (*load_all)(ks_store *s, const ks_store_loader *loader);
    int (*load_account)(ks_store *s, const char *account, const ks_store_loader *loader);

    /* Last-used times from the verify index (*_last_used.c).
     * last_used_order sorts items into the order the store writes fastest,
     * before the caller cuts them into last_used_flush batches, and may note
     * in each item's key_seq where its key's row is (SQLite: sorted by it,
     * an item given with key_seq 0 found by key id first, in short read
     * transactions; PostgreSQL: sorted by key id, key_seq 0). On failure
     * items hold the same set in some order, with key_seq 0, and a flush of
     * them is as right as before.
     * last_used_flush writes a batch in one transaction (a later time never
     * goes back; a token since gone is skipped); items need not have been
     * ordered. */
    int (*last_used_order)(ks_store *s, ks_last_used *items, size_t n);
    int (*last_used_flush)(ks_store *s, const ks_last_used *items, size_t n);

    /* Change feed, for several nodes on one database. With change_feed set,
     * every write that changes what verify or login sees (keys, grants,
     * roles, settings, accounts, signing keys) appends a ks_change in its
     * own transaction, and seqs are handed out in commit order, so a reader
     * that has seen seq N has seen every change up to N. changes_head gives
     * the newest seq (0 when none); changes_since copies at most max changes
     * with seq > after, oldest first, into out; changes_wait blocks until a
     * new change is announced, wake_fd (-1 = none) is readable, or timeout_ms
     * passed (KS_OK in all three cases; KS_ERR_STORAGE when the database is
     * out of reach, after having waited); changes_compact deletes rows that
     * a newer row for the same thing makes useless (reloading is idempotent).
     * With change_feed 0 (SQLite: one process owns the file) these report
     * nothing: head 0, no changes, and wait only waits. */
    int change_feed;
    int (*changes_head)(ks_store *s, int64_t *seq);
    int (*changes_since)(ks_store *s, int64_t after, ks_change *out, size_t max, size_t *n);
    int (*changes_wait)(ks_store *s, int timeout_ms, int wake_fd);
    int (*changes_compact)(ks_store *s);

    /* The fingerprint of the server secret (see ks_store_secret_fingerprint):
     * the first call records it, later ones compare it; KS_ERR_INVALID when
     * the database was set up with another secret (every node of a cluster
     * must use the same secret file, and a SQLite database is only ever
     * opened with the secret it was set up with). A database made before
     * fingerprints were recorded records the first one it is opened with. */
    int (*secret_check)(ks_store *s, const ks_digest *fingerprint);
    /* *out = 1 when the database holds anything a secret protects (an
     * account, or a recorded fingerprint), 0 when it is new and empty: only
     * then may a missing secret file be made anew. */
    int (*holds_data)(ks_store *s, int *out);

    /* Bulk import, for tools and benchmarks (bench/seed.c): inserts n new
     * keys with their tokens and home roles (grants are not imported) in one
     * transaction, with one audit entry for the whole batch (audit may be
     * NULL). All or nothing: KS_ERR_NAME_TAKEN when a key id exists,
     * KS_ERR_INVALID for an unknown role, KS_ERR_NOT_FOUND for an unknown
     * account. NULL when the backend has no bulk path. */
    int (*key_import)(ks_store *s, const ks_key *keys, size_t n, const ks_audit_entry *audit);

    /* Group commit (NULL when the backend has none): between batch_begin and
     * batch_end, the writes this thread makes share one transaction, each
     * still all or nothing on its own (a write that fails leaves no trace
     * and the others go on). batch_end(s, 1) then makes every write of the
     * batch durable at once, with one sync, or none of them: KS_OK or
     * KS_ERR_STORAGE; batch_end(s, 0) drops them all. Other threads' calls
     * wait meanwhile, and nothing of the batch is visible to them before it
     * is durable. */
    int (*batch_begin)(ks_store *s);
    int (*batch_end)(ks_store *s, int commit);

    /* Webhooks (*_webhooks.c). A write's event (audit->event) is put in
     * the outbox by the write itself, in its transaction: one delivery row
     * per enabled webhook of the account subscribed to its type (or for
     * event->webhook_id only); no subscriber, no row.
     * webhook_create: KS_ERR_NOT_FOUND for an unknown account,
     * KS_ERR_NAME_TAKEN for an id taken. webhook_list: the account's,
     * newest first. webhook_get / _update / _delete: KS_ERR_NOT_FOUND when
     * the account has no such webhook; update takes url NULL, events NULL
     * and enabled -1 as "keep"; delete takes its deliveries with it. */
    int (*webhook_create)(ks_store *s, const ks_webhook *w, const ks_audit_entry *audit);
    int (*webhook_list)(ks_store *s, const char *account, ks_webhook **out, size_t *n);
    int (*webhook_get)(ks_store *s, const char *account, const char *id, ks_webhook *out);
    int (*webhook_update)(ks_store *s, const char *account, const char *id, const char *url,
                          const ks_strlist *events, int enabled, const ks_audit_entry *audit);
    int (*webhook_delete)(ks_store *s, const char *account, const char *id, const ks_audit_entry *audit);
    /* The webhook's deliveries, newest first, with id below before_id (0 =
     * from the newest), limit 1..500 (else KS_ERR_INVALID). */
    int (*delivery_list)(ks_store *s, const char *account, const char *webhook_id, int64_t before_id, int limit,
                         ks_delivery_page *out);
    /* Takes at most max pending deliveries of enabled webhooks that are due
     * at now and not taken, oldest due first, and marks them taken until
     * lease_until, in one transaction (PostgreSQL: FOR UPDATE SKIP LOCKED,
     * so two nodes never take the same one). Each comes with its webhook's
     * url and sealed secret; free *out with ks_deliveries_free. */
    int (*delivery_claim)(ks_store *s, int64_t now, int64_t lease_until, size_t max, ks_delivery **out,
                          size_t *n);
    /* Records an attempt of a taken delivery and releases it: status
     * (ks_delivery_status), the answer's code (0 = none), when, and for a
     * pending one when to try again. KS_ERR_NOT_FOUND when it is gone. */
    int (*delivery_finish)(ks_store *s, int64_t id, int status, int response_code, int64_t now,
                           int64_t next_attempt_at);
    /* Releases every taken delivery: for a backend one process owns
     * (SQLite), when that process starts after a crash. NULL with
     * PostgreSQL, whose takes other nodes may hold. */
    int (*delivery_release)(ks_store *s);
    /* Pending deliveries (of every account) and when the oldest was made
     * (0 when none). */
    int (*outbox_stats)(ks_store *s, int64_t *pending, int64_t *oldest_created_at);
    /* Deletes delivered and failed deliveries made before `before`. */
    int (*delivery_purge)(ks_store *s, int64_t before);

    /* Sweeps (*_sweeps.c). old_tokens_due: at most max keys whose old
     * token core/token_slots.h's ks_slots_old_due says to delete at now
     * (the caller deletes each with KS_SLOT_OP_SWEEP_OLD, which checks
     * again in its transaction). notices_due: at most max active keys
     * whose current token is owed a renewal notice at now (free with
     * ks_notices_due_free). notice_mark: records the notices in one
     * transaction, each with its event, skipping (marked = 0) those whose
     * key has another current token by now or has the notice already: each
     * notice is raised once per token, whichever node tries. sweep_lock:
     * take (1) or give back (0) the right to sweep: *held is 1 when this
     * store holds it. PostgreSQL: a session advisory lock, so one node at
     * a time sweeps; SQLite: always held (one process). */
    int (*old_tokens_due)(ks_store *s, int64_t now, size_t max, ks_old_token_due **out, size_t *n);
    int (*notices_due)(ks_store *s, int64_t now, size_t max, ks_notice_due **out, size_t *n);
    int (*notice_mark)(ks_store *s, ks_notice_mark *items, size_t n);
    int (*sweep_lock)(ks_store *s, int take, int *held);

    /* Nodes sharing the database (*_nodes.c), for per-key rate limits
     * (API.md "Per-key limits and usage"): node_heartbeat records that
     * node_id (this process) is alive at `now`, drops the rows of nodes
     * not heard of since prune_before, and counts in *live the nodes heard
     * of at or after live_since (this one included), in one transaction.
     * node_id "" with now 0 only counts. A node leaving gives now 0 for
     * its own id: its row goes. */
    int (*node_heartbeat)(ks_store *s, const char *node_id, int64_t now, int64_t live_since, int64_t prune_before,
                          int *live);

    /* Usage (*_usage.c): usage_add adds each row's counts (its `at` any
     * second of a minute) to the key's hour and day rows, in one
     * transaction. usage_list gives the buckets (day: 1 for days, 0 for
     * hours) with `at` in [from, to) that counted anything, oldest first,
     * of one key (key_id) or summed over the account's keys (key_id NULL;
     * the rows' key_id is then ""). usage_top gives at most max keys of the
     * account by their verifies in that range, most first (ties by key
     * id), each row the key's sums. usage_prune deletes hour rows before
     * hours_before and day rows before days_before. Free *out with free(). */
    int (*usage_add)(ks_store *s, const ks_usage_row *rows, size_t n);
    int (*usage_list)(ks_store *s, const char *account, const char *key_id, int day, int64_t from, int64_t to,
                      ks_usage_row **out, size_t *n);
    int (*usage_top)(ks_store *s, const char *account, int day, int64_t from, int64_t to, size_t max,
                     ks_usage_row **out, size_t *n);
    int (*usage_prune)(ks_store *s, int64_t hours_before, int64_t days_before);

    /* Dormant keys (*_dormant.c): at most max active keys of accounts with
     * deactivate_unused_days set none of whose tokens verified in that
     * many days before now (counted from the key's creation when none ever
     * did), oldest use first. Free *out with free(). */
    int (*unused_keys_due)(ks_store *s, int64_t now, size_t max, ks_unused_due **out, size_t *n);
} ks_store_ops;

/* Called after each write transaction's commit (durable or failed) with
 * the seconds it took from BEGIN; reads are not reported. The store's only
 * way up: the service points it at its metrics, the store includes no
 * layer above core/. Called with the store's lock held: keep it short and
 * do not call the store from it. */
typedef void (*ks_store_write_observer)(double seconds);

struct ks_store {
    const ks_store_ops *ops;
    ks_store_write_observer on_write; /* NULL = nobody listens (the default) */
    /* Counts the writes of this process whose event queued at least one
     * delivery row, counted inside the write's transaction (so before its
     * commit): the webhook worker sleeps on when it has not moved. */
    _Atomic uint64_t outbox_writes;
};

/* Sets (or, with NULL, clears) the write observer; call it before the store
 * is shared between threads. */
void ks_store_set_write_observer(ks_store *s, ks_store_write_observer on_write);

/* Where the store's own log lines go: server notices of PostgreSQL (warn,
 * "postgresql") and statements that failed for an unexpected reason (error,
 * "postgresql statement failed"). The shape of log.h's ks_log: a level, a
 * message, and fields as a jansson pack format with its values; the service
 * passes ks_log itself, so the store includes no layer above core/. */
typedef void (*ks_store_logger)(const char *level, const char *msg, const char *fmt, ...);

/* Sets (or, with NULL, clears) the logger of every store in the process.
 * Global rather than per store, because connections log from the moment
 * ks_store_open makes them: call it once, before the first store is opened
 * and before threads start. Without one the store logs nothing. */
void ks_store_set_logger(ks_store_logger logger);

/* Opens the store named by `location` (a file path: SQLite; a postgresql://
 * or postgres:// URI: PostgreSQL), creating and migrating the schema as
 * needed. NULL on failure with a reason in err (never a password). */
ks_store *ks_store_open(const char *location, char *err, size_t errlen);

/* 1 when location names a PostgreSQL database (postgresql:// or postgres://). */
int ks_store_location_is_pg(const char *location);

/* location with the password of a URI replaced by "***", for logs. */
void ks_store_location_redact(const char *location, char *out, size_t outlen);

/* The fingerprint secret_check records: BLAKE2b keyed with the secret of a
 * fixed text, so it tells secrets apart without revealing them. */
void ks_store_secret_fingerprint(const ks_secret *secret, ks_digest *out);

/* The SQLite backend (sqlite_*.c). */
ks_store *ks_store_sqlite_open(const char *path, char *err, size_t errlen);

/* The PostgreSQL backend (pg_*.c): uri is a libpq connection URI. Runs the
 * schema migrations under an advisory lock, so nodes may start together. */
ks_store *ks_store_pg_open(const char *uri, char *err, size_t errlen);

void ks_audit_records_free(ks_audit_record *items, size_t n);
void ks_keys_free(ks_key *items, size_t n);
void ks_roles_free(ks_role *items, size_t n);

#endif
