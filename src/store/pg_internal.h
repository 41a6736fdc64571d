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

#include "store/store.h"

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
    P_KEY_LIST,
    P_KEY_SET_NAME,
    P_KEY_SET_ACTIVE,
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
#define PG_PARAMS_MAX 8
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
int pg_read_tx(pg_store *s, int (*fn)(pg_store *s, void *arg), void *arg);

/* Appends the audit entry (in the caller's transaction; NULL = none), and
 * the outbox rows of its event (audit->event) with pg_outbox_insert. */
int pg_audit_insert(pg_store *s, const ks_audit_entry *audit);
/* The outbox rows of event e of account (store.h webhook_create), in the
 * caller's transaction. */
int pg_outbox_insert(pg_store *s, const char *account, const ks_event *e);

/* The audit log (pg_audit.c). */
int pg_audit_list(ks_store *base, const char *account, const ks_audit_filter *filter,
                  ks_audit_page *out);
int pg_audit_append(ks_store *base, const ks_audit_entry *audit);

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

/* Opens a connection with Keystile's settings (timeouts, keepalives,
 * application name); NULL with a reason in err (never the password). */
PGconn *pg_connect(const char *uri, char *err, size_t errlen);

/* Shared pieces of the operations (in the caller's transaction). */
int pg_key_seq(pg_store *s, const char *account, const char *key_id, int lock, int64_t *seq);
int pg_key_read_seq(pg_store *s, int64_t seq, ks_key *out);
int pg_roles_exist(pg_store *s, const char *account, const ks_strlist *roles);
int pg_key_roles_write(pg_store *s, int64_t seq, const char *account, const ks_strlist *roles);
int pg_key_insert_tx(pg_store *s, const ks_key *key);
/* Inserts a role and its resources in the caller's transaction (pg_roles.c). */
int pg_role_insert_tx(pg_store *s, const char *account, const char *name,
                      const char *const *resources, size_t n, int builtin);
int pg_role_list_tx(pg_store *s, const char *account, ks_role **out, size_t *n);
int pg_settings_get_tx(pg_store *s, const char *account, ks_settings *out);
int pg_load_keys(pg_store *s, const char *account, const ks_store_loader *loader);

/* Accounts, settings, loads (pg_accounts.c), roles (pg_roles.c). */
int pg_account_create(ks_store *base, const char *account, const ks_settings *settings,
                      const ks_key *owner, const ks_audit_entry *audit);
int pg_settings_get(ks_store *base, const char *account, ks_settings *out);
int pg_settings_put(ks_store *base, const char *account, const ks_settings *settings,
                    const ks_audit_entry *audit);
int pg_role_list(ks_store *base, const char *account, ks_role **out, size_t *n);
int pg_role_create(ks_store *base, const char *account, const ks_role *role, const ks_audit_entry *audit);
int pg_role_update(ks_store *base, const char *account, const char *name, const char *new_name,
                   const ks_strlist *resources, const ks_audit_entry *audit);
int pg_role_delete(ks_store *base, const char *account, const char *name, const ks_audit_entry *audit);
int pg_load_all(ks_store *base, const ks_store_loader *loader);
int pg_load_account(ks_store *base, const char *account, const ks_store_loader *loader);

/* Keys (pg_keys.c). */
int pg_key_insert(ks_store *base, const ks_key *key, const ks_audit_entry *audit);
int pg_key_get(ks_store *base, const char *account, const char *key_id, ks_key *out);
int pg_key_list(ks_store *base, const char *account, const ks_key_filter *f, ks_key_page *out);
int pg_key_update(ks_store *base, const char *account, const char *key_id,
                  const ks_key_patch *patch, const ks_audit_entry *audit);
int pg_key_delete(ks_store *base, const char *account, const char *key_id, const ks_audit_entry *audit);
int pg_key_apply_slots(ks_store *base, const char *account, const char *key_id, const ks_slot_change *change,
                       int64_t now, const ks_audit_entry *audit, ks_key *out);
int pg_last_used_flush(ks_store *base, const ks_last_used *items, size_t n);

/* External grants (pg_external.c). */
int pg_external_list(ks_store *base, const char *account, ks_key **out, size_t *n);
int pg_external_add(ks_store *base, const char *account, const char *key_id, const ks_strlist *roles,
                    int64_t now, const ks_audit_entry *audit);
int pg_external_update(ks_store *base, const char *account, const char *key_id,
                       const ks_strlist *roles, int status, const ks_audit_entry *audit);
int pg_external_remove(ks_store *base, const char *account, const char *key_id,
                       const ks_audit_entry *audit);

/* Sessions, signing keys, share links, the secret fingerprint (pg_secrets.c). */
int pg_session_create(ks_store *base, const ks_digest *hash, const char *key_id, const ks_digest *token_hash,
                      int64_t now);
int pg_session_get(ks_store *base, const ks_digest *hash, ks_session_record *out);
int pg_session_touch(ks_store *base, const ks_digest *hash, int64_t now);
int pg_session_delete(ks_store *base, const ks_digest *hash);
int pg_session_purge(ks_store *base, int64_t idle_before, int64_t created_before);
int pg_signing_key_list(ks_store *base, ks_stored_signing_key **out, size_t *n);
int pg_signing_key_add(ks_store *base, const ks_stored_signing_key *key);
int pg_signing_key_retire(ks_store *base, const char *kid, int64_t at);
int pg_share_create(ks_store *base, const ks_digest *id_hash, const char *key_id,
                    const unsigned char *sealed, size_t sealed_len, int64_t now, int64_t expires_at);
int pg_share_take(ks_store *base, const ks_digest *id_hash, int64_t now, char key_id[KS_KEY_ID_MAX + 1],
                  unsigned char sealed[KS_SEALED_MAX], size_t *sealed_len);
int pg_share_purge(ks_store *base, int64_t before);
int pg_secret_check(ks_store *base, const ks_digest *fingerprint);

/* Webhooks and their outbox (pg_webhooks.c). */
int pg_webhook_create(ks_store *base, const ks_webhook *w, const ks_audit_entry *audit);
int pg_webhook_list(ks_store *base, const char *account, ks_webhook **out, size_t *n);
int pg_webhook_get(ks_store *base, const char *account, const char *id, ks_webhook *out);
int pg_webhook_update(ks_store *base, const char *account, const char *id, const char *url,
                      const ks_strlist *events, int enabled, const ks_audit_entry *audit);
int pg_webhook_delete(ks_store *base, const char *account, const char *id, const ks_audit_entry *audit);
int pg_delivery_list(ks_store *base, const char *account, const char *webhook_id, int64_t before_id, int limit,
                     ks_delivery_page *out);
int pg_delivery_claim(ks_store *base, int64_t now, int64_t lease_until, size_t max, ks_delivery **out, size_t *n);
int pg_delivery_finish(ks_store *base, int64_t id, int status, int response_code, int64_t now,
                       int64_t next_attempt_at);
int pg_outbox_stats(ks_store *base, int64_t *pending, int64_t *oldest_created_at);
int pg_delivery_purge(ks_store *base, int64_t before);

/* The sweeps' reads, notice marks and lock (pg_sweeps.c). */
int pg_old_tokens_due(ks_store *base, int64_t now, size_t max, ks_old_token_due **out, size_t *n);
int pg_notices_due(ks_store *base, int64_t now, size_t max, ks_notice_due **out, size_t *n);
int pg_notice_mark(ks_store *base, ks_notice_mark *items, size_t n);
int pg_sweep_lock(ks_store *base, int take, int *held);

/* The change feed (pg_changes.c). */
int pg_changes_head(ks_store *base, int64_t *seq);
int pg_changes_since(ks_store *base, int64_t after, ks_change *out, size_t max, size_t *n);
int pg_changes_wait(ks_store *base, int timeout_ms, int wake_fd);
int pg_changes_compact(ks_store *base);
void pg_listen_close(pg_store *s);

/* The channel NOTIFY announces new changes on (pg_schema.h's trigger). */
#define PG_CHANNEL "keystile_changes"

#endif
