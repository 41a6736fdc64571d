/*
 * store_common.h - the backend-neutral logic of the store, written once
 * above both backends (sqlite_*.c, pg_*.c) over a few primitives each
 * backend gives: page building (validation and trimming of the key and
 * audit lists), the per-account part of the index load, and the token-slot
 * transition (read, core/token_slots rules, write, audit, change).
 * Not for use outside src/store/.
 *
 * Every function here runs inside the caller's lock or transaction and
 * frees what it allocated when it fails; the caller commits or rolls back.
 */
#ifndef KS_STORE_COMMON_H
#define KS_STORE_COMMON_H

#include "store/store.h"

/* The operations of ks_store_ops that every backend gives, a row each. A
 * backend declares its function <prefix>_<operation> for each row with
 * KS_STORE_OPERATION_TYPE (so the compiler checks it against its slot) and
 * fills its table from the same rows: a new operation is a field in store.h
 * and a row here, and both backends fail to link until they give it. */
#define KS_STORE_OPERATIONS(X)                                                 \
    X(close)                                                                   \
    X(account_create) X(settings_get) X(settings_put)                          \
    X(key_insert) X(key_get) X(key_list) X(key_update) X(key_delete)           \
    X(key_apply_slots) X(token_find)                                           \
    X(role_list) X(role_create) X(role_update) X(role_delete)                  \
    X(external_list) X(external_add) X(external_update) X(external_remove)     \
    X(session_create) X(session_get) X(session_touch) X(session_delete)        \
    X(session_purge)                                                           \
    X(person_get) X(person_get_by_id) X(person_memberships)                    \
    X(member_list) X(member_get) X(member_add) X(member_update)                \
    X(member_remove) X(invitation_get) X(invitation_accept)                    \
    X(person_password_set) X(person_totp_set) X(person_totp_step_use)          \
    X(person_signed_in) X(signin_failure_add) X(signin_failures)               \
    X(signin_failures_clear) X(person_session_create)                          \
    X(signing_key_list) X(signing_key_add) X(signing_key_retire)               \
    X(share_create) X(share_take) X(share_purge)                               \
    X(audit_list) X(audit_append)                                              \
    X(load_all) X(load_account) X(last_used_order) X(last_used_flush)          \
    X(changes_head) X(changes_since) X(changes_wait) X(changes_compact)        \
    X(secret_check) X(holds_data)                                              \
    X(webhook_create) X(webhook_list) X(webhook_get) X(webhook_update)         \
    X(webhook_delete) X(delivery_list) X(delivery_claim) X(delivery_finish)    \
    X(outbox_stats) X(delivery_purge)                                          \
    X(old_tokens_due) X(notices_due) X(notice_mark) X(sweep_lock)            \
    X(node_heartbeat) X(usage_add) X(usage_list) X(usage_top) X(usage_prune)  \
    X(unused_keys_due)

/* The function type of the ks_store_ops slot `op`, e.g.
 * `KS_STORE_OPERATION_TYPE(key_get) sq_key_get;` declares sq_key_get. */
#define KS_STORE_OPERATION_TYPE(op) __typeof__(*((ks_store_ops *)0)->op)

/* The logger ks_store_set_logger set, or NULL: log nothing. */
ks_store_logger ks_store_get_logger(void);

/* Logs that an existing database's schema is being migrated (from > 0):
 * a migration may copy tables and take minutes on a large database, and a
 * server that is silent meanwhile looks hung. */
void ks_store_log_migration(const char *backend, int from, int to);

/* What a backend gives the neutral logic, each call inside its transaction
 * (or under its lock). Every one returns KS_OK or a store error. */
typedef struct {
    /* The account's settings: KS_ERR_NOT_FOUND for an unknown account. */
    int (*settings_get)(ks_store *s, const char *account, ks_settings *out);
    /* The account's roles, resources included; *out freed by the caller
     * with ks_roles_free; nothing is returned on error. */
    int (*role_list)(ks_store *s, const char *account, ks_role **out, size_t *n);
    /* The key (account, key_id), locked for this transaction's update where
     * the backend needs it, and its seq: KS_ERR_NOT_FOUND when absent; on
     * error *out is freed. */
    int (*key_read_for_update)(ks_store *s, const char *account, const char *key_id, int64_t *seq,
                               ks_key *out);
    /* Writes both token slots of the key with this seq. */
    int (*tokens_write)(ks_store *s, int64_t seq, const ks_token_slots *slots);
    /* Appends the audit entry (NULL = none). */
    int (*audit_insert)(ks_store *s, const ks_audit_entry *audit);
    /* Appends a change-log row; NULL when the backend has no change feed. */
    int (*change)(ks_store *s, ks_change_kind kind, const char *account, const char *key_id);
} ks_store_prims;

/* What a role write (role_create, role_update, role_delete) hands to its
 * transaction's callback in either backend. */
typedef struct {
    const char *account;
    const char *name;              /* the role written, renamed or deleted */
    const ks_strlist *resources;   /* create: its resources; update: NULL keeps them */
    const char *new_name;          /* update: NULL or the same name keeps it */
    const ks_audit_entry *audit;
} ks_role_write;

/* The limit a key list reads (limit + 1 rows, the one more telling whether
 * a next page exists): the filter's, at least 1. */
int ks_key_filter_limit(const ks_key_filter *f);

/* KS_ERR_INVALID for an audit filter outside its ranges (limit 1..500,
 * before_id >= 0), else KS_OK. */
int ks_audit_filter_check(const ks_audit_filter *f);

/* Hands items[0..n) (read with limit + 1 rows, newest first) to out as one
 * page: on rc != KS_OK frees them all and returns rc; else drops the extra
 * row, if any, and sets the next page's cursor. Takes ownership of items. */
int ks_key_page_finish(ks_key_page *out, ks_key *items, size_t n, int limit, int rc);
int ks_audit_page_finish(ks_audit_page *out, ks_audit_record *items, size_t n, int limit, int rc);

/* The webhook's event list as stored: ",type,type," (so one type is found
 * with instr/strpos of ",type,"); malloc'd, NULL on NOMEM. */
char *ks_store_events_join(const ks_strlist *events);
/* The reverse: the types of a stored list into out (zeroed first). KS_OK
 * or KS_ERR_NOMEM. */
int ks_store_events_split(const char *text, ks_strlist *out);

/* As ks_key_page_finish, for a page of deliveries. */
int ks_delivery_page_finish(ks_delivery_page *out, ks_delivery *items, size_t n, int limit, int rc);

/* What a backend's claim step gets: it fills items (room for max) with the
 * deliveries due at now, leasing them until lease_until, and sets n. */
typedef struct {
    int64_t now, lease_until;
    size_t max, n;
    ks_delivery *items;
} ks_delivery_claim_args;

/* store.h's delivery_claim over a backend: allocates room for max, runs
 * claim (given a ks_delivery_claim_args) as one write_tx, and hands the
 * array to *out; on failure nothing is handed out. */
int ks_store_delivery_claim(ks_store *s, int (*write_tx)(ks_store *s, int (*fn)(ks_store *s, void *arg), void *arg),
                            int (*claim)(ks_store *s, void *arg), int64_t now, int64_t lease_until, size_t max,
                            ks_delivery **out, size_t *n);

/* The on_account call of load_all / load_account for one account: reads its
 * settings and roles through p and hands them to the loader. */
int ks_store_load_one_account(ks_store *s, const ks_store_prims *p, const char *account,
                              const ks_store_loader *loader);

/* The body of key_apply_slots, inside the caller's write transaction: reads
 * the key, applies the core's rules (ks_slots_change), writes the slots back,
 * appends the audit entry and the change row. On KS_OK the key as it is
 * after the change is in *key (the caller's to free); on failure nothing is
 * left to free and the caller rolls back. */
int ks_store_apply_slots_tx(ks_store *s, const ks_store_prims *p, const char *account, const char *key_id,
                            const ks_slot_change *change, int64_t now, const ks_audit_entry *audit,
                            ks_key *key);

/* A token's last caller as its column's text (tokens.last_used_from):
 * written into buf (KS_NETADDR_TEXT_MAX bytes) and returned, or NULL (the
 * column's NULL) for no address. */
const char *ks_store_netaddr_text(const ks_netaddr *a, char *buf);
/* The column's text back (NULL or unreadable: family 0). */
void ks_store_netaddr_read(const char *text, ks_netaddr *out);

#endif
