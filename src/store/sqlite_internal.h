/*
 * sqlite_internal.h - what the files of the SQLite backend share: the store
 * struct, cached prepared statements, transactions and row readers.
 * Not for use outside src/store/sqlite_*.c.
 *
 * The files, bottom to top (each calls only files listed before it):
 * sqlite_db.c (statements, errors, transactions, group commit), then
 * sqlite_audit.c, sqlite_roles.c, sqlite_keys.c (keys, bulk import),
 * sqlite_external.c, sqlite_secrets.c (signing keys, share links, sessions),
 * sqlite_changes.c, sqlite_accounts.c (accounts, settings, index load), and
 * sqlite_store.c (open, migrations, the ops table) on top. The same suffixes
 * as the PostgreSQL backend (pg_internal.h).
 */
#ifndef KS_STORE_SQLITE_INTERNAL_H
#define KS_STORE_SQLITE_INTERNAL_H

#include "store/store_common.h"

#include <pthread.h>
#include <sqlite3.h>

typedef enum {
    Q_AUDIT_INSERT,
    Q_ACCOUNT_INSERT,
    Q_ACCOUNT_GET,
    Q_ACCOUNT_PUT,
    Q_ACCOUNT_LIST,
    Q_ROLE_INSERT,
    Q_ROLE_RESOURCE_INSERT,
    Q_ROLE_RESOURCES_DELETE,
    Q_ROLE_GET,
    Q_ROLE_LIST,
    Q_ROLE_RESOURCES_OF,
    Q_ROLE_RENAME,
    Q_ROLE_DELETE,
    Q_ROLE_IN_USE,
    Q_KEY_INSERT,
    Q_KEY_SEQ,
    Q_KEY_GET,
    Q_TOKEN_FIND,
    Q_KEY_LIST,
    Q_KEY_SET_NAME,
    Q_KEY_SET_ACTIVE,
    Q_KEY_SET_CIDRS,  /* a key's limits (core/key_limits.h) */
    Q_KEY_SET_RATE,
    Q_KEY_DELETE,
    Q_OWNER_COUNT,
    Q_KEY_ROLES_DELETE,
    Q_KEY_ROLE_INSERT,
    Q_KEY_ROLES_OF,
    Q_TOKEN_UPSERT,
    Q_TOKEN_DELETE,
    Q_TOKENS_OF,
    Q_TOKEN_LAST_USED,
    Q_TOKEN_LAST_USED_AT_SEQ,
    Q_KEY_SEQ_OF_ID,
    Q_LOAD_KEYS,
    Q_LOAD_TOKENS,
    Q_LOAD_KEY_ROLES,
    Q_AUDIT_LIST,
    Q_LOAD_GRANTS,
    Q_GRANTS_OF,
    Q_GRANT_INSERT,
    Q_GRANT_SET_ACTIVE,
    Q_GRANT_DELETE,
    Q_GRANT_EXISTS,
    Q_KEY_HOME,
    Q_EXTERNAL_LIST,
    Q_SESSION_INSERT,
    Q_SESSION_GET,
    Q_SESSION_TOUCH,
    Q_SESSION_DELETE,
    Q_SESSION_PURGE,
    Q_SIGNING_LIST,
    Q_SIGNING_ADD,
    Q_SIGNING_RETIRE,
    Q_SHARE_INSERT,
    Q_SHARE_GET,
    Q_SHARE_BURN,
    Q_SHARE_PURGE,
    Q_SECRET_PUT,     /* the server secret's fingerprint */
    Q_SECRET_GET,
    Q_HOLDS_DATA,
    Q_CHANGE_INSERT,  /* the change log (sqlite_changes.c) */
    Q_CHANGES_HEAD,
    Q_CHANGES_SINCE,
    Q_CHANGES_COMPACT,
    Q_PERSON_GET,
    Q_PERSON_GET_ID,
    Q_PERSON_INSERT,
    Q_MEMBERSHIPS_OF,
    Q_MEMBERSHIP_GET,
    Q_MEMBERSHIP_INSERT,
    Q_MEMBERSHIP_SET_ACTIVE,
    Q_MEMBERSHIP_DELETE,
    Q_MEMBERSHIP_ROLES_OF,
    Q_MEMBERSHIP_ROLES_DELETE,
    Q_MEMBERSHIP_ROLE_INSERT,
    Q_MEMBER_LIST,
    Q_MEMBER_GET,
    Q_PERSON_SESSIONS_END,
    Q_PERSON_SESSION_INSERT,
    Q_INVITATION_INSERT,
    Q_INVITATION_GET,
    Q_INVITATIONS_USE,
    Q_INVITATIONS_PURGE,
    Q_PERSON_SET_PASSWORD,
    Q_PERSON_SET_TOTP,
    Q_PERSON_TOTP_STEP,
    Q_PERSON_EXISTS,
    Q_PERSON_SIGNED_IN,
    Q_SIGNIN_FAILURE_ADD,
    Q_SIGNIN_FAILURE_PURGE,
    Q_SIGNIN_FAILURES,
    Q_SIGNIN_FAILURES_CLEAR,
    Q_OUTBOX_INSERT,
    Q_WEBHOOK_INSERT,
    Q_WEBHOOK_LIST,
    Q_WEBHOOK_GET,
    Q_WEBHOOK_UPDATE,
    Q_WEBHOOK_DELETE,
    Q_DELIVERY_LIST,
    Q_DELIVERY_DUE,
    Q_DELIVERY_LOCK,
    Q_DELIVERY_FINISH,
    Q_DELIVERY_RELEASE,
    Q_OUTBOX_STATS,
    Q_DELIVERY_PURGE,
    Q_OLD_TOKENS_DUE,
    Q_NOTICES_DUE,
    Q_NOTICE_SET,
    Q_UNUSED_DUE,
    Q_NODE_BEAT,      /* node heartbeats (sqlite_nodes.c) */
    Q_NODE_LEAVE,
    Q_NODE_PRUNE,
    Q_NODE_COUNT,
    Q_USAGE_ADD_H,  /* usage (*_usage.c): hours, then days in the same order */
    Q_USAGE_KEY_H,
    Q_USAGE_ACCOUNT_H,
    Q_USAGE_TOP_H,
    Q_USAGE_PRUNE_H,
    Q_USAGE_ADD_D,
    Q_USAGE_KEY_D,
    Q_USAGE_ACCOUNT_D,
    Q_USAGE_TOP_D,
    Q_USAGE_PRUNE_D,
    Q_TX_BEGIN,       /* transaction control, prepared once like the rest */
    Q_TX_BEGIN_READ,
    Q_TX_COMMIT,
    Q_TX_SAVEPOINT,
    Q_TX_RELEASE,
    Q_COUNT
} sq_query;

typedef struct {
    ks_store base;
    sqlite3 *db;
    pthread_mutex_t lock;          /* one caller at a time on the connection */
    sqlite3_stmt *stmts[Q_COUNT];  /* prepared lazily, kept until close */
    double tx_started;             /* ks_clock_monotonic() at BEGIN, for the write histogram */
    int batch;                     /* inside batch_begin/batch_end: writes are savepoints */
    int in_op;                     /* a write's savepoint is open (batch only) */
    int64_t data_version;          /* PRAGMA data_version when the change log was last read to its end */
    int data_version_known;
    int64_t log_end;               /* the last seq of that read (sqlite_changes.c) */
} sq_store;

/* The cached statement for q, reset and with bindings cleared; NULL on error. */
sqlite3_stmt *sq_stmt(sq_store *s, sq_query q);

/* Maps a SQLite result code to a Keystile error code. */
int sq_error(int rc);

/* For a failed insert: KS_ERR_NOT_FOUND when a foreign key (the account)
 * is missing, KS_ERR_NAME_TAKEN for a duplicate, else sq_error(rc). */
int sq_insert_error(int rc);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. commit returns KS_OK or KS_ERR_STORAGE. */
int sq_begin(sq_store *s);
int sq_commit(sq_store *s);
void sq_rollback(sq_store *s);

/* Runs fn(s, arg) inside one write transaction under s->lock: commits when
 * it returns KS_OK, rolls back otherwise; returns fn's code, sq_begin's when
 * the transaction cannot start (fn is not called), or the commit's
 * (KS_ERR_STORAGE, or KS_ERR_NOMEM) when that fails. Inside a group-commit
 * batch it is a savepoint of the batch, as sq_begin/sq_commit already are. */
int sq_write_tx(sq_store *s, int (*fn)(sq_store *s, void *arg), void *arg);
/* The same for a callback over the neutral ks_store (store_people.c). */
int sq_write_tx_store(ks_store *base, int (*fn)(ks_store *s, void *arg), void *arg);

/* Runs fn(s, arg), a read of several statements, as one read transaction
 * (deferred) under s->lock, like pg_read_tx: its statements see one
 * snapshot and take SQLite's file locks once, where each autocommit
 * statement locks and unlocks (fcntl calls) on its own. Inside a
 * transaction already (a batch, a write) fn runs in it. Returns fn's code;
 * when BEGIN fails, fn still runs, each statement reading on its own. */
int sq_read_tx(sq_store *s, int (*fn)(sq_store *s, void *arg), void *arg);

/* Runs SQL text without parameters (pragmas, migrations), logging a failure. */
int sq_exec_sql(sq_store *s, const char *sql);

/* Runs the parameterless one-row query q under s->lock (not inside a
 * transaction of this thread), its first column into *out. */
int sq_query_int(sq_store *s, sq_query q, int64_t *out);
/* The sweeps' due-lists: runs q with ?1 = now and ?2 = max under the store
 * lock into a fresh array of max items of `size` bytes, row() filling one
 * item from the statement's current row (KS_OK or an error, which ends the
 * read). On success *out holds *n items (free it, and with release_n what
 * the items own); on failure nothing is handed out. */
int sq_due_list(sq_store *s, sq_query q, int64_t now, size_t max, size_t size,
                int (*row)(sqlite3_stmt *st, void *item), void (*release_n)(void *items, size_t n), void **out,
                size_t *n);

/* Runs a statement that returns no row; KS_OK or an error code. */
int sq_exec_stmt(sqlite3_stmt *st);

/* Appends the audit entry (in the caller's transaction), and the outbox
 * rows of its event (audit->event) with sq_outbox_insert. */
int sq_audit_insert(sq_store *s, const ks_audit_entry *audit);
/* The outbox rows of event e of account (store.h webhook_create), in the
 * caller's transaction. */
int sq_outbox_insert(sq_store *s, const char *account, const ks_event *e);

/* strdup of a text column ("" when NULL); NULL only on out of memory. */
char *sq_column_strdup(sqlite3_stmt *st, int col);

/* The seq of key_id in account; KS_ERR_NOT_FOUND when absent. */
int sq_key_seq(sq_store *s, const char *account, const char *key_id, int64_t *seq);

/* Fills out->slots and out->roles of the key with this seq. */
int sq_key_fill(sq_store *s, int64_t seq, ks_key *out);

/* Checks that every role exists in account: KS_ERR_INVALID naming none. */
int sq_roles_exist(sq_store *s, const char *account, const ks_strlist *roles);

/* Replaces the key's roles in account. */
int sq_key_roles_write(sq_store *s, int64_t seq, const char *account, const ks_strlist *roles);

/* Writes both token slots of a key (deleting an empty one). */
int sq_tokens_write(sq_store *s, int64_t seq, const ks_token_slots *slots);

/* Inserts key, its tokens and roles in the caller's transaction. */
int sq_key_insert_tx(sq_store *s, const ks_key *key);

/* Inserts a role and its resources in the caller's transaction:
 * NAME_TAKEN for an existing name, NOT_FOUND for an unknown account. */
int sq_role_insert_tx(sq_store *s, const char *account, const char *name,
                      const char *const *resources, size_t n, int builtin);
/* The roles of account with their resources (caller holds s->lock); the
 * caller frees *out with ks_roles_free. Nothing is returned on error. */
int sq_role_list_locked(sq_store *s, const char *account, ks_role **out, size_t *n);
/* The change log (sqlite_changes.c): sq_change appends a row inside the
 * caller's write transaction. */
int sq_change(sq_store *s, ks_change_kind kind, const char *account, const char *key_id);
/* Active principals of `account` holding Owner there: keys at home and
 * members (sqlite_keys.c). */
int sq_owner_count(sq_store *s, const char *account, int64_t *n);

/* Runs a one-statement write as its own transaction, through sq_write_tx
 * (the statement is prepared and bound by the caller, under s->lock):
 * NOT_FOUND for a missing foreign row, NAME_TAKEN for a duplicate
 * (sqlite_db.c). */
int sq_write_one(sq_store *s, sqlite3_stmt *st);

/* Reads the key row with this seq, tokens, roles and grants included. */
int sq_key_read_seq(sq_store *s, int64_t seq, ks_key *out);
int sq_load_keys(sq_store *s, const char *account, const ks_store_loader *loader);

/* The operations of ks_store_ops (store_common.h's KS_STORE_OPERATIONS),
 * each sq_<operation> in the file of its concept: sqlite_accounts.c
 * (accounts, settings, the index load), sqlite_roles.c, sqlite_keys.c,
 * sqlite_external.c, sqlite_secrets.c (sessions, signing keys, share
 * links, the secret fingerprint and holds_data), sqlite_audit.c,
 * sqlite_changes.c (the change log), sqlite_store.c (close); plus the ones
 * only SQLite has: group
 * commit (sqlite_db.c, see batch_begin in store.h) and bulk import
 * (sqlite_keys.c). */
#define SQ_DECLARE_OPERATION(op) KS_STORE_OPERATION_TYPE(op) sq_##op;
KS_STORE_OPERATIONS(SQ_DECLARE_OPERATION)
KS_STORE_OPERATION_TYPE(batch_begin) sq_batch_begin;
KS_STORE_OPERATION_TYPE(batch_end) sq_batch_end;
KS_STORE_OPERATION_TYPE(key_import) sq_key_import;
/* Releases every taken delivery (store.h delivery_release): SQLite only. */
int sq_delivery_release(ks_store *base);


#endif
