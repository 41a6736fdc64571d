/*
 * pg_internal.h - what the files of the PostgreSQL backend share: the store
 * struct, the statement table, parameters, transactions and row readers.
 * Not for use outside src/store/pg_*.c.
 *
 * One connection for the operations, serialised by a mutex (management calls
 * are rare next to verify, which never reaches the store), and a second one
 * only the change-feed follower uses, to LISTEN. Every statement is prepared
 * once per connection (PQprepare, lazily) and run with bound parameters;
 * nothing is ever spliced into SQL text.
 *
 * Connection loss: a failed call marks the connection broken and returns
 * KS_ERR_STORAGE; the next call reconnects (at most one attempt a second, so
 * with the database away writes fail at once instead of queueing behind
 * connect timeouts). A transaction that fails at BEGIN on a dead connection
 * is retried once on a fresh one: nothing was sent, nothing can be doubled.
 *
 * The files, bottom to top (each calls only files listed before it):
 * pg_db.c (statements, connections, errors, transactions, change rows), then
 * pg_audit.c, pg_roles.c, pg_keys.c, pg_external.c, pg_secrets.c,
 * pg_changes.c, pg_accounts.c (accounts, settings, index load), and
 * pg_store.c (migrations, the ops table, open) on top. The same suffixes as
 * the SQLite backend (sqlite_internal.h).
 */
#ifndef KS_STORE_PG_INTERNAL_H
#define KS_STORE_PG_INTERNAL_H

#include "store/store_common.h"

#include <libpq-fe.h>
#include <pthread.h>

typedef enum {
    P_AUDIT_INSERT,
    P_CHANGE_LOCK,
    P_CHANGE_INSERT,
    P_ACCOUNT_INSERT,
    P_ACCOUNT_GET,
    P_ACCOUNT_PUT,
    P_ACCOUNT_LIST,
    P_ROLE_INSERT,
    P_ROLE_RESOURCE_INSERT,
    P_ROLE_RESOURCES_DELETE,
    P_ROLE_GET,
    P_ROLE_LOCK,
    P_ROLE_LIST,
    P_ROLE_RENAME,
    P_ROLE_DELETE,
    P_ROLE_IN_USE,
    P_KEY_INSERT,
    P_KEY_SEQ,
    P_KEY_LOCK,
    P_KEY_GET,
    P_TOKEN_FIND,
    P_KEY_LIST,
    P_KEY_SET_NAME,
    P_KEY_SET_ACTIVE,
    P_KEY_SET_CIDRS,  /* a key's limits (core/key_limits.h) */
    P_KEY_SET_RATE,
    P_KEY_DELETE,
    P_OWNER_COUNT,
    P_ACCOUNT_LOCK,
    P_KEY_ROLES_DELETE,
    P_KEY_ROLE_INSERT,
    P_KEY_ROLES_ALL,
    P_TOKEN_UPSERT,
    P_TOKEN_DELETE,
    P_TOKENS_OF,
    P_TOKEN_LAST_USED,
    P_LOAD_KEYS,
    P_LOAD_TOKENS,
    P_LOAD_KEY_ROLES,
    P_LOAD_GRANTS,
    P_GRANTS_OF,
    P_GRANT_INSERT,
    P_GRANT_SET_ACTIVE,
    P_GRANT_DELETE,
    P_GRANT_EXISTS,
    P_KEY_HOME,
    P_EXTERNAL_LIST,
    P_SESSION_INSERT,
    P_SESSION_GET,
    P_SESSION_TOUCH,
    P_SESSION_DELETE,
    P_SESSION_PURGE,
    P_SIGNING_LIST,
    P_SIGNING_ADD,
    P_SIGNING_RETIRE,
    P_SHARE_INSERT,
    P_SHARE_GET,
    P_SHARE_BURN,
    P_SHARE_PURGE,
    P_AUDIT_LIST,
    P_CHANGES_HEAD,
    P_CHANGES_SINCE,
    P_CHANGES_COMPACT,
    P_SECRET_GET,
    P_SECRET_PUT,
    P_HOLDS_DATA,
    P_PERSON_GET,
    P_PERSON_GET_ID,
    P_PERSON_INSERT,
    P_MEMBERSHIPS_OF,
    P_MEMBERSHIP_GET,
    P_MEMBERSHIP_INSERT,
    P_MEMBERSHIP_SET_ACTIVE,
    P_MEMBERSHIP_DELETE,
    P_MEMBERSHIP_ROLES_OF,
    P_MEMBERSHIP_ROLES_DELETE,
    P_MEMBERSHIP_ROLE_INSERT,
    P_MEMBER_LIST,
    P_MEMBER_GET,
    P_PERSON_SESSIONS_END,
    P_PERSON_SESSION_INSERT,
    P_INVITATION_INSERT,
    P_INVITATION_GET,
    P_INVITATIONS_USE,
    P_INVITATIONS_PURGE,
    P_PERSON_SET_PASSWORD,
    P_PERSON_SET_TOTP,
    P_PERSON_TOTP_STEP,
    P_PERSON_EXISTS,
    P_PERSON_SIGNED_IN,
    P_SIGNIN_FAILURE_ADD,
    P_SIGNIN_FAILURE_PURGE,
    P_SIGNIN_FAILURES,
    P_SIGNIN_FAILURES_CLEAR,
    P_OUTBOX_INSERT,
    P_WEBHOOK_INSERT,
    P_WEBHOOK_LIST,
    P_WEBHOOK_GET,
    P_WEBHOOK_UPDATE,
    P_WEBHOOK_DELETE,
    P_DELIVERY_LIST,
    P_DELIVERY_CLAIM,
    P_DELIVERY_FINISH,
    P_OUTBOX_STATS,
    P_DELIVERY_PURGE,
    P_OLD_TOKENS_DUE,
    P_NOTICES_DUE,
    P_NOTICE_SET,
    P_SWEEP_LOCK,
    P_SWEEP_UNLOCK,
    P_UNUSED_DUE,
    P_NODE_BEAT,      /* node heartbeats (pg_nodes.c) */
    P_NODE_LEAVE,
    P_NODE_PRUNE,
    P_NODE_COUNT,
    P_USAGE_ADD_H,  /* usage (*_usage.c): hours, then days in the same order */
    P_USAGE_KEY_H,
    P_USAGE_ACCOUNT_H,
    P_USAGE_TOP_H,
    P_USAGE_PRUNE_H,
    P_USAGE_ADD_D,
    P_USAGE_KEY_D,
    P_USAGE_ACCOUNT_D,
    P_USAGE_TOP_D,
    P_USAGE_PRUNE_D,
    P_COUNT
} pg_query;

typedef struct {
    ks_store base;
    pthread_mutex_t lock;          /* one caller at a time on conn */
    char *uri;                     /* the libpq URI we were opened with */
    PGconn *conn;                  /* NULL or broken until the next reconnect */
    unsigned char prepared[P_COUNT]; /* prepared on this conn */
    double next_connect;           /* monotonic seconds: no attempt before */
    double tx_started;             /* ks_clock_monotonic() at BEGIN, for the write histogram */
    int in_tx;                     /* a transaction is open on conn */
    int tx_read_only;              /* it is a read (not timed as a store write) */
    int sweep_locked;              /* conn holds the sweep lock (sweep_lock); a new conn does not */
    PGconn *listen;                /* LISTENing connection of the follower (its thread only) */
    double next_listen_connect;
} pg_store;

/* Bound parameters of one statement: text values (NULL is SQL NULL) and
 * binary bytea; integers are formatted into the struct itself. */
#define PG_PARAMS_MAX 10
typedef struct {
    int n;
    const char *values[PG_PARAMS_MAX];
    int lengths[PG_PARAMS_MAX];
    int formats[PG_PARAMS_MAX];
    char nums[PG_PARAMS_MAX][24];
} pg_params;

void pg_text(pg_params *p, const char *v);
void pg_int(pg_params *p, int64_t v);
void pg_bytes(pg_params *p, const void *b, size_t n);

/* Runs statement q with p (NULL = none) in the caller's transaction. Returns
 * the result (tuples or command OK; PQclear it) or NULL with *rc set from the
 * SQLSTATE: 23505 KS_ERR_NAME_TAKEN, 23503 KS_ERR_NOT_FOUND, 23514/22xxx
 * KS_ERR_INVALID, connection trouble, timeouts, serialisation failures and
 * full disks KS_ERR_STORAGE, anything else KS_ERR_INTERNAL (logged). */
PGresult *pg_exec(pg_store *s, pg_query q, const pg_params *p, int *rc);

/* pg_exec for a statement whose rows are not needed: KS_OK or its error. */
int pg_run(pg_store *s, pg_query q, const pg_params *p);

/* Runs SQL text without parameters (BEGIN, COMMIT, migrations). */
int pg_exec_sql(pg_store *s, const char *sql);

/* Number of rows the last command changed (UPDATE / DELETE / INSERT). */
int64_t pg_changed(PGresult *r);

/* Runs fn(s, arg) inside one transaction under s->lock, as sq_write_tx does
 * for SQLite: commits when fn returns KS_OK (then reports the write's time
 * to the write observer), rolls back otherwise. Returns fn's code, the
 * begin's when the transaction cannot start (fn is not called; a dead idle
 * connection is retried once on a fresh one), or KS_ERR_STORAGE when the
 * commit fails. pg_read_tx runs fn in a REPEATABLE READ READ ONLY
 * transaction (one snapshot) and reports nothing to the observer. */
int pg_write_tx(pg_store *s, int (*fn)(pg_store *s, void *arg), void *arg);
/* The same for a callback over the neutral ks_store (store_people.c). */
int pg_write_tx_store(ks_store *base, int (*fn)(ks_store *s, void *arg), void *arg);
int pg_read_tx(pg_store *s, int (*fn)(pg_store *s, void *arg), void *arg);

/* Appends the audit entry (in the caller's transaction; NULL = none), and
 * the outbox rows of its event (audit->event) with pg_outbox_insert. */
int pg_audit_insert(pg_store *s, const ks_audit_entry *audit);
/* The outbox rows of event e of account (store.h webhook_create), in the
 * caller's transaction. */
int pg_outbox_insert(pg_store *s, const char *account, const ks_event *e);

/* Appends a change-log row: takes the change-order lock first (held until
 * commit, so seqs are handed out in commit order), so call it last in the
 * transaction, just before its callback returns. account / key_id NULL = "". */
int pg_change(pg_store *s, ks_change_kind kind, const char *account, const char *key_id);

/* Row readers: integer (0 for NULL), text into a fixed buffer, strdup
 * (NULL only when out of memory), bytea into buf (its length in *len, -1
 * when NULL or longer than max). */
int64_t pg_get_int(const PGresult *r, int row, int col);
void pg_get_str(const PGresult *r, int row, int col, char *out, size_t outlen);
char *pg_get_strdup(const PGresult *r, int row, int col);
int pg_get_bytes(const PGresult *r, int row, int col, unsigned char *buf, size_t max, size_t *len);
/* A token from row's columns hash, created_at, last_used_at, ends_at,
 * notices, last_used_from, the first at col_hash (present when the hash is). */
void pg_token_from_row(const PGresult *r, int row, int col_hash, ks_token *t);

/* Opens a connection with Keystile's settings (timeouts, keepalives,
 * application name); NULL with a reason in err (never the password). */
PGconn *pg_connect(const char *uri, char *err, size_t errlen);

/* Shared pieces of the operations (in the caller's transaction). */
int pg_key_seq(pg_store *s, const char *account, const char *key_id, int lock, int64_t *seq);
int pg_key_read_seq(pg_store *s, int64_t seq, ks_key *out);
/* The name (column 3) and limits (allowed_cidrs, rate_limit, rate_period
 * from column col on) of a key row into k. */
int pg_key_limits_from_row(const PGresult *r, int row, int col, ks_key *k);
int pg_roles_exist(pg_store *s, const char *account, const ks_strlist *roles);
int pg_key_roles_write(pg_store *s, int64_t seq, const char *account, const ks_strlist *roles);
int pg_key_insert_tx(pg_store *s, const ks_key *key);
/* Inserts a role and its resources in the caller's transaction (pg_roles.c). */
int pg_role_insert_tx(pg_store *s, const char *account, const char *name,
                      const char *const *resources, size_t n, int builtin);
int pg_role_list_tx(pg_store *s, const char *account, ks_role **out, size_t *n);
int pg_settings_get_tx(pg_store *s, const char *account, ks_settings *out);
int pg_load_keys(pg_store *s, const char *account, const ks_store_loader *loader);

/* Active principals of `account` holding Owner there (keys at home and
 * members), into *n; with lock, the account's row is locked first, so the
 * Owner-changing writes of one account run one at a time (pg_keys.c). */
int pg_owner_count(pg_store *s, const char *account, int lock, int64_t *n);

/* The channel NOTIFY announces new changes on (pg_schema.h's trigger). */
#define PG_CHANNEL "keystile_changes"

/* The operations of ks_store_ops (store_common.h's KS_STORE_OPERATIONS),
 * each pg_<operation> in the file of its concept: pg_accounts.c (accounts,
 * settings, loads), pg_roles.c, pg_keys.c, pg_external.c, pg_secrets.c
 * (sessions, signing keys, share links, the secret fingerprint and
 * holds_data), pg_audit.c, pg_changes.c, pg_store.c (close). */
#define PG_DECLARE_OPERATION(op) KS_STORE_OPERATION_TYPE(op) pg_##op;
KS_STORE_OPERATIONS(PG_DECLARE_OPERATION)
void pg_listen_close(pg_store *s);

#endif
