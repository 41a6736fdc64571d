/*
 * sqlite_keys.c - the key operations of the SQLite backend: insert, read, list,
 * update, delete, token-slot transitions and the streaming load of every key
 * for the verify index (last-used batches: sqlite_last_used.c).
 */
#include "store/sqlite_internal.h"
#include "store/store_common.h"
#include "core/error.h"
#include "core/key_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sq_key_seq(sq_store *s, const char *account, const char *key_id, int64_t *seq)
{
    sqlite3_stmt *st = sq_stmt(s, Q_KEY_SEQ);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? KS_OK : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
}

static void token_from_row(sqlite3_stmt *st, int col_hash, ks_token *t)
{
    memset(t, 0, sizeof *t);
    const void *blob = sqlite3_column_blob(st, col_hash);
    if (blob && sqlite3_column_bytes(st, col_hash) == KS_DIGEST_LEN) {
        memcpy(t->hash.bytes, blob, KS_DIGEST_LEN);
        t->present = 1;
    }
    t->created_at = sqlite3_column_int64(st, col_hash + 1);
    t->last_used_at = sqlite3_column_int64(st, col_hash + 2); /* NULL reads as 0 */
    t->ends_at = sqlite3_column_int64(st, col_hash + 3);
    t->notices = sqlite3_column_int(st, col_hash + 4);
    ks_store_netaddr_read((const char *)sqlite3_column_text(st, col_hash + 5), &t->last_used_from);
}

/* Reads the key's external grants and their roles. */
static int grants_fill(sq_store *s, int64_t seq, ks_key *out)
{
    sqlite3_stmt *st = sq_stmt(s, Q_GRANTS_OF);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    int rc = KS_OK, step;
    while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        ks_grant *g = ks_key_add_grant(out, (const char *)sqlite3_column_text(st, 0));
        if (!g) {
            rc = KS_ERR_NOMEM;
            break;
        }
        g->active = sqlite3_column_int(st, 1);
        g->created_at = sqlite3_column_int64(st, 2);
    }
    if (rc == KS_OK && step != SQLITE_DONE)
        rc = sq_error(step);
    sqlite3_reset(st);
    for (size_t i = 0; rc == KS_OK && i < out->n_grants; i++) {
        if (!(st = sq_stmt(s, Q_KEY_ROLES_OF)))
            return KS_ERR_INTERNAL;
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, out->grants[i].account, -1, SQLITE_STATIC);
        while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
            rc = ks_strlist_add(&out->grants[i].roles, (const char *)sqlite3_column_text(st, 0));
        if (rc == KS_OK && step != SQLITE_DONE)
            rc = sq_error(step);
        sqlite3_reset(st);
    }
    return rc;
}

int sq_key_fill(sq_store *s, int64_t seq, ks_key *out)
{
    memset(&out->slots, 0, sizeof out->slots);
    sqlite3_stmt *st = sq_stmt(s, Q_TOKENS_OF);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        token_from_row(st, 1, sqlite3_column_int(st, 0) == 0 ? &out->slots.current : &out->slots.old);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return sq_error(step);
    if (!(st = sq_stmt(s, Q_KEY_ROLES_OF)))
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, out->account, -1, SQLITE_STATIC);
    int rc = KS_OK;
    while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = ks_strlist_add(&out->roles, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc == KS_OK && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = sq_error(step);
    return rc == KS_OK ? grants_fill(s, seq, out) : rc;
}

/* Reads the key columns of a Q_KEY_GET / Q_KEY_LIST / Q_LOAD_KEYS row. */
static int key_from_row(sqlite3_stmt *st, ks_key *k)
{
    memset(k, 0, sizeof *k);
    k->seq = sqlite3_column_int64(st, 0);
    const char *id = (const char *)sqlite3_column_text(st, 1);
    const char *account = (const char *)sqlite3_column_text(st, 2);
    snprintf(k->key_id, sizeof k->key_id, "%s", id ? id : "");
    snprintf(k->account, sizeof k->account, "%s", account ? account : "");
    k->active = sqlite3_column_int(st, 4);
    k->created_at = sqlite3_column_int64(st, 5);
    k->rate_limit.limit = sqlite3_column_int64(st, 7);
    k->rate_limit.period_seconds = sqlite3_column_int(st, 8);
    if (!(k->name = sq_column_strdup(st, 3)))
        return KS_ERR_NOMEM;
    int rc = ks_allowed_cidrs_split((const char *)sqlite3_column_text(st, 6), &k->allowed_cidrs);
    return rc == KS_ERR_INVALID ? KS_ERR_INTERNAL : rc;
}

int sq_roles_exist(sq_store *s, const char *account, const ks_strlist *roles)
{
    for (size_t i = 0; i < roles->count; i++) {
        sqlite3_stmt *st = sq_stmt(s, Q_ROLE_GET);
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, roles->items[i], -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step == SQLITE_DONE)
            return KS_ERR_INVALID;
        if (step != SQLITE_ROW)
            return sq_error(step);
    }
    return KS_OK;
}

int sq_key_roles_write(sq_store *s, int64_t seq, const char *account, const ks_strlist *roles)
{
    sqlite3_stmt *st = sq_stmt(s, Q_KEY_ROLES_DELETE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    for (size_t i = 0; rc == KS_OK && i < roles->count; i++) {
        if (!(st = sq_stmt(s, Q_KEY_ROLE_INSERT)))
            return KS_ERR_INTERNAL;
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, roles->items[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)i);
        rc = sq_exec_stmt(st);
    }
    return rc;
}

static int token_write(sq_store *s, int64_t seq, int slot, const ks_token *t)
{
    char from[KS_NETADDR_TEXT_MAX];
    sqlite3_stmt *st = sq_stmt(s, t->present ? Q_TOKEN_UPSERT : Q_TOKEN_DELETE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int(st, 2, slot);
    if (t->present) {
        sqlite3_bind_blob(st, 3, t->hash.bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, t->created_at);
        if (t->last_used_at)
            sqlite3_bind_int64(st, 5, t->last_used_at);
        else
            sqlite3_bind_null(st, 5);
        if (t->ends_at)
            sqlite3_bind_int64(st, 6, t->ends_at);
        else
            sqlite3_bind_null(st, 6);
        sqlite3_bind_int(st, 7, t->notices);
        sqlite3_bind_text(st, 8, ks_store_netaddr_text(&t->last_used_from, from), -1, SQLITE_TRANSIENT);
    }
    return sq_exec_stmt(st);
}

int sq_tokens_write(sq_store *s, int64_t seq, const ks_token_slots *slots)
{
    int rc = token_write(s, seq, 0, &slots->current);
    return rc == KS_OK ? token_write(s, seq, 1, &slots->old) : rc;
}

int sq_key_insert_tx(sq_store *s, const ks_key *key)
{
    int rc = sq_roles_exist(s, key->account, &key->roles);
    if (rc != KS_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, Q_KEY_INSERT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, key->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, key->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, key->active);
    sqlite3_bind_int64(st, 5, key->created_at);
    char *cidrs = ks_allowed_cidrs_join(&key->allowed_cidrs);
    if (!cidrs) {
        sqlite3_reset(st);
        return KS_ERR_NOMEM;
    }
    sqlite3_bind_text(st, 6, cidrs, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, key->rate_limit.limit);
    sqlite3_bind_int(st, 8, key->rate_limit.limit ? key->rate_limit.period_seconds : 0);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    free(cidrs);
    if (step != SQLITE_DONE)
        return sq_insert_error(step); /* NAME_TAKEN: an id collision, the caller makes a new id */
    int64_t seq = sqlite3_last_insert_rowid(s->db);
    rc = sq_tokens_write(s, seq, &key->slots);
    return rc == KS_OK ? sq_key_roles_write(s, seq, key->account, &key->roles) : rc;
}

/* The arguments of the key writes, for sq_write_tx. */
struct key_args {
    const char *account;
    const char *key_id;
    const ks_key *key;             /* insert */
    const ks_key_patch *patch;     /* update */
    const ks_slot_change *change;  /* apply_slots: the transition, at now */
    int64_t now;
    const ks_audit_entry *audit;
    ks_key *out;                   /* apply_slots: the key after, or NULL */
};

/* The rows of sq_key_insert: INVALID for an unknown role, NAME_TAKEN for
 * an id collision, NOT_FOUND for an unknown account. */
static int key_insert_in_tx(sq_store *s, void *arg)
{
    const struct key_args *a = arg;
    int rc = sq_key_insert_tx(s, a->key);
    if (rc == KS_OK)
        rc = sq_audit_insert(s, a->audit);
    return rc == KS_OK ? sq_change(s, KS_CHANGE_KEY, a->key->account, a->key->key_id) : rc;
}

int sq_key_insert(ks_store *base, const ks_key *key, const ks_audit_entry *audit)
{
    struct key_args a = {.key = key, .audit = audit};
    return sq_write_tx((sq_store *)base, key_insert_in_tx, &a);
}

int sq_key_read_seq(sq_store *s, int64_t seq, ks_key *out)
{
    int rc;
    sqlite3_stmt *st = sq_stmt(s, Q_KEY_GET);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    int step = sqlite3_step(st);
    rc = step == SQLITE_ROW ? key_from_row(st, out) : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
    sqlite3_reset(st);
    if (rc == KS_OK)
        rc = sq_key_fill(s, seq, out);
    if (rc != KS_OK)
        ks_key_free(out);
    return rc;
}

static int key_read_locked(sq_store *s, const char *account, const char *key_id, ks_key *out)
{
    int64_t seq;
    int rc = sq_key_seq(s, account, key_id, &seq);
    return rc == KS_OK ? sq_key_read_seq(s, seq, out) : rc;
}

/* The arguments of sq_key_get's read, for sq_read_tx. */
struct key_get_args {
    const char *account;
    const char *key_id;
    ks_key *out;
};

static int key_get_in_tx(sq_store *s, void *arg)
{
    struct key_get_args *a = arg;
    return key_read_locked(s, a->account, a->key_id, a->out);
}

int sq_key_get(ks_store *base, const char *account, const char *key_id, ks_key *out)
{
    memset(out, 0, sizeof *out);
    struct key_get_args a = {account, key_id, out};
    return sq_read_tx((sq_store *)base, key_get_in_tx, &a); /* five statements, one snapshot */
}

/* The arguments and results of sq_key_list's read, for sq_read_tx. */
struct key_list_args {
    const char *account;
    const ks_key_filter *f;
    int limit;
    ks_key *items;          /* limit + 1 of them */
    size_t n;               /* read so far */
};

/* The page and each key's rows, one snapshot. */
static int key_list_in_tx(sq_store *s, void *arg)
{
    struct key_list_args *a = arg;
    const ks_key_filter *f = a->f;
    int rc = KS_OK, step = SQLITE_DONE;
    sqlite3_stmt *st = sq_stmt(s, Q_KEY_LIST);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, a->account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->before_seq > 0 ? f->before_seq : INT64_MAX);
    if (f->q && *f->q)
        sqlite3_bind_text(st, 3, f->q, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, f->status);
    sqlite3_bind_int(st, 5, f->outdated);
    sqlite3_bind_int64(st, 6, f->now);
    sqlite3_bind_int(st, 7, a->limit + 1); /* one more tells whether a next page exists */
    while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = key_from_row(st, &a->items[a->n++]);
    if (rc == KS_OK && step != SQLITE_DONE)
        rc = sq_error(step);
    sqlite3_reset(st);
    for (size_t i = 0; rc == KS_OK && i < a->n; i++)
        rc = sq_key_fill(s, a->items[i].seq, &a->items[i]);
    return rc;
}

int sq_key_list(ks_store *base, const char *account, const ks_key_filter *f, ks_key_page *out)
{
    memset(out, 0, sizeof *out);
    struct key_list_args a = {account, f, ks_key_filter_limit(f), NULL, 0};
    if (!(a.items = calloc((size_t)a.limit + 1, sizeof *a.items)))
        return KS_ERR_NOMEM;
    int rc = sq_read_tx((sq_store *)base, key_list_in_tx, &a);
    return ks_key_page_finish(out, a.items, a.n, a.limit, rc);
}

/* Active principals of `account` holding Owner there (keys at home and
 * members), into *n. */
int sq_owner_count(sq_store *s, const char *account, int64_t *n)
{
    sqlite3_stmt *st = sq_stmt(s, Q_OWNER_COUNT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    *n = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return step == SQLITE_ROW ? KS_OK : sq_error(step);
}

/* After a change inside the transaction: KS_ERR_LAST_OWNER when it took
 * the account's last active Owner key away (there were `before`). */
static int owner_kept(sq_store *s, const char *account, int64_t before)
{
    int64_t after = 0;
    int rc = sq_owner_count(s, account, &after);
    if (rc != KS_OK)
        return rc;
    return before > 0 && after == 0 ? KS_ERR_LAST_OWNER : KS_OK;
}

/* The limits a patch changes (allowed_cidrs, rate_limit), if any. */
static int key_limits_write(sq_store *s, int64_t seq, const ks_key_patch *patch)
{
    int rc = KS_OK;
    if (patch->allowed_cidrs) {
        char *cidrs = ks_allowed_cidrs_join(patch->allowed_cidrs);
        sqlite3_stmt *st = cidrs ? sq_stmt(s, Q_KEY_SET_CIDRS) : NULL;
        if (!st) {
            free(cidrs);
            return cidrs ? KS_ERR_INTERNAL : KS_ERR_NOMEM;
        }
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, cidrs, -1, SQLITE_STATIC);
        rc = sq_exec_stmt(st);
        free(cidrs);
    }
    if (rc == KS_OK && patch->rate_limit) {
        sqlite3_stmt *st = sq_stmt(s, Q_KEY_SET_RATE);
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_int64(st, 2, patch->rate_limit->limit);
        sqlite3_bind_int(st, 3, patch->rate_limit->limit ? patch->rate_limit->period_seconds : 0);
        rc = sq_exec_stmt(st);
    }
    return rc;
}

/* The updates of sq_key_update: NOT_FOUND for an unknown key, INVALID for
 * an unknown role, LAST_OWNER when it would leave no active Owner key. */
static int key_update_in_tx(sq_store *s, void *arg)
{
    const struct key_args *a = arg;
    int64_t seq, owners = 0;
    int rc = sq_key_seq(s, a->account, a->key_id, &seq);
    if (rc == KS_OK && (a->patch->status >= 0 || a->patch->roles))
        rc = sq_owner_count(s, a->account, &owners);
    if (rc != KS_OK)
        return rc;
    if (a->patch->name) {
        sqlite3_stmt *st = sq_stmt(s, Q_KEY_SET_NAME);
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_text(st, 2, a->patch->name, -1, SQLITE_STATIC);
        if ((rc = sq_exec_stmt(st)) != KS_OK)
            return rc;
    }
    if (a->patch->status >= 0) {
        sqlite3_stmt *st = sq_stmt(s, Q_KEY_SET_ACTIVE);
        if (!st)
            return KS_ERR_INTERNAL;
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_int(st, 2, a->patch->status);
        if ((rc = sq_exec_stmt(st)) != KS_OK)
            return rc;
    }
    if ((rc = key_limits_write(s, seq, a->patch)) != KS_OK)
        return rc;
    if (a->patch->roles && ((rc = sq_roles_exist(s, a->account, a->patch->roles)) != KS_OK ||
                            (rc = sq_key_roles_write(s, seq, a->account, a->patch->roles)) != KS_OK))
        return rc;
    if ((a->patch->status >= 0 || a->patch->roles) && (rc = owner_kept(s, a->account, owners)) != KS_OK)
        return rc;
    rc = sq_audit_insert(s, a->audit);
    return rc == KS_OK ? sq_change(s, KS_CHANGE_KEY, a->account, a->key_id) : rc;
}

int sq_key_update(ks_store *base, const char *account, const char *key_id,
                  const ks_key_patch *patch, const ks_audit_entry *audit)
{
    struct key_args a = {.account = account, .key_id = key_id, .patch = patch, .audit = audit};
    return sq_write_tx((sq_store *)base, key_update_in_tx, &a);
}

/* The delete of sq_key_delete: NOT_FOUND for an unknown key, LAST_OWNER
 * for the account's last active Owner key. */
static int key_delete_in_tx(sq_store *s, void *arg)
{
    const struct key_args *a = arg;
    int64_t seq, owners = 0;
    int rc = sq_key_seq(s, a->account, a->key_id, &seq);
    if (rc == KS_OK)
        rc = sq_owner_count(s, a->account, &owners);
    if (rc != KS_OK)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, Q_KEY_DELETE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    if ((rc = sq_exec_stmt(st)) != KS_OK || (rc = owner_kept(s, a->account, owners)) != KS_OK)
        return rc;
    rc = sq_audit_insert(s, a->audit);
    return rc == KS_OK ? sq_change(s, KS_CHANGE_KEY, a->account, a->key_id) : rc;
}

int sq_key_delete(ks_store *base, const char *account, const char *key_id,
                  const ks_audit_entry *audit)
{
    struct key_args a = {.account = account, .key_id = key_id, .audit = audit};
    return sq_write_tx((sq_store *)base, key_delete_in_tx, &a);
}

/* The primitives of the neutral slot transition (store_common.c). */
static int prim_key_read_for_update(ks_store *base, const char *account, const char *key_id, int64_t *seq,
                                    ks_key *out)
{
    sq_store *s = (sq_store *)base;
    int rc = sq_key_seq(s, account, key_id, seq); /* BEGIN IMMEDIATE holds the write lock already */
    return rc == KS_OK ? sq_key_read_seq(s, *seq, out) : rc;
}

static int prim_tokens_write(ks_store *base, int64_t seq, const ks_token_slots *slots)
{
    return sq_tokens_write((sq_store *)base, seq, slots);
}

static int prim_audit_insert(ks_store *base, const ks_audit_entry *audit)
{
    return sq_audit_insert((sq_store *)base, audit);
}

static int prim_change(ks_store *base, ks_change_kind kind, const char *account, const char *key_id)
{
    return sq_change((sq_store *)base, kind, account, key_id);
}

static const ks_store_prims PRIMS = {.key_read_for_update = prim_key_read_for_update,
                                     .tokens_write = prim_tokens_write,
                                     .audit_insert = prim_audit_insert,
                                     .change = prim_change};

/* The slot transition of sq_key_apply_slots: NOT_FOUND for an unknown key,
 * else ks_slots_apply's refusal. The key it loaded goes to a->out on
 * success (a commit failure after that is the caller's to free), else it is
 * freed. */
static int key_apply_slots_in_tx(sq_store *s, void *arg)
{
    const struct key_args *a = arg;
    ks_key key;
    int rc = ks_store_apply_slots_tx(&s->base, &PRIMS, a->account, a->key_id, a->change, a->now, a->audit,
                                     &key);
    if (rc == KS_OK && a->out)
        *a->out = key;
    else if (rc == KS_OK)
        ks_key_free(&key);
    return rc;
}

int sq_key_apply_slots(ks_store *base, const char *account, const char *key_id, const ks_slot_change *change,
                       int64_t now, const ks_audit_entry *audit, ks_key *out)
{
    ks_key after = {0};
    struct key_args a = {.account = account, .key_id = key_id, .change = change,
                         .now = now, .audit = audit, .out = out ? &after : NULL};
    int rc = sq_write_tx((sq_store *)base, key_apply_slots_in_tx, &a);
    if (rc == KS_OK && out)
        *out = after;
    else
        ks_key_free(&after); /* the commit failed after the read */
    return rc;
}

/* Walks keys, tokens and key roles ordered by key seq in one merge pass, so
 * loading a million keys costs three sequential scans, not 3M lookups. */
int sq_load_keys(sq_store *s, const char *account, const ks_store_loader *loader)
{
    sqlite3_stmt *keys = NULL, *tokens = NULL, *roles = NULL, *grants = NULL;
    /* Three statements stepped together: use private ones, not the cache. */
    int rc = KS_OK;
    const char *sql_keys = sqlite3_sql(sq_stmt(s, Q_LOAD_KEYS));
    const char *sql_tokens = sqlite3_sql(sq_stmt(s, Q_LOAD_TOKENS));
    const char *sql_roles = sqlite3_sql(sq_stmt(s, Q_LOAD_KEY_ROLES));
    const char *sql_grants = sqlite3_sql(sq_stmt(s, Q_LOAD_GRANTS));
    if (!sql_keys || !sql_tokens || !sql_roles || !sql_grants ||
        sqlite3_prepare_v2(s->db, sql_grants, -1, &grants, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, sql_keys, -1, &keys, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, sql_tokens, -1, &tokens, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, sql_roles, -1, &roles, NULL) != SQLITE_OK) {
        rc = KS_ERR_INTERNAL;
        goto out;
    }
    if (account) {
        sqlite3_bind_text(keys, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(tokens, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(roles, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(grants, 1, account, -1, SQLITE_STATIC);
    }
    int t_step = sqlite3_step(tokens), r_step = sqlite3_step(roles), g_step = sqlite3_step(grants), k_step;
    while (rc == KS_OK && (k_step = sqlite3_step(keys)) == SQLITE_ROW) {
        ks_key key;
        if ((rc = key_from_row(keys, &key)) != KS_OK) {
            ks_key_free(&key);
            break;
        }
        while (t_step == SQLITE_ROW && sqlite3_column_int64(tokens, 0) <= key.seq) {
            if (sqlite3_column_int64(tokens, 0) == key.seq)
                token_from_row(tokens, 2, sqlite3_column_int(tokens, 1) == 0 ? &key.slots.current
                                                                               : &key.slots.old);
            t_step = sqlite3_step(tokens);
        }
        while (rc == KS_OK && g_step == SQLITE_ROW && sqlite3_column_int64(grants, 0) <= key.seq) {
            if (sqlite3_column_int64(grants, 0) == key.seq) {
                ks_grant *g = ks_key_add_grant(&key, (const char *)sqlite3_column_text(grants, 1));
                if (!g) {
                    rc = KS_ERR_NOMEM;
                    break;
                }
                g->active = sqlite3_column_int(grants, 2);
                g->created_at = sqlite3_column_int64(grants, 3);
            }
            g_step = sqlite3_step(grants);
        }
        while (rc == KS_OK && r_step == SQLITE_ROW && sqlite3_column_int64(roles, 0) <= key.seq) {
            if (sqlite3_column_int64(roles, 0) == key.seq) {
                const char *in = (const char *)sqlite3_column_text(roles, 1);
                const char *role = (const char *)sqlite3_column_text(roles, 2);
                ks_grant *g = (ks_grant *)ks_key_grant(&key, in);
                if (strcmp(in, key.account) == 0)
                    rc = ks_strlist_add(&key.roles, role);
                else if (g)
                    rc = ks_strlist_add(&g->roles, role);
            }
            r_step = sqlite3_step(roles);
        }
        if (rc == KS_OK && loader->on_key)
            rc = loader->on_key(loader->ctx, &key);
        ks_key_free(&key);
    }
    if (rc == KS_OK && k_step != SQLITE_DONE)
        rc = sq_error(k_step);
out:
    sqlite3_finalize(keys);
    sqlite3_finalize(tokens);
    sqlite3_finalize(roles);
    sqlite3_finalize(grants);
    return rc;
}

/* ---- bulk import (store.h key_import): one transaction, hence one fsync,
 * for a whole batch, with the rows key_insert writes; for seeding, see
 * bench/seed.c ---- */

struct import_args {
    const ks_key *keys;
    size_t n;
    const ks_audit_entry *audit;
};

/* The rows of sq_key_import; the first key that fails (as sq_key_insert
 * would) stops the import and its code is returned. */
static int key_import_in_tx(sq_store *s, void *arg)
{
    const struct import_args *a = arg;
    int rc = KS_OK;
    for (size_t i = 0; rc == KS_OK && i < a->n; i++)
        rc = sq_key_insert_tx(s, &a->keys[i]);
    return rc == KS_OK ? sq_audit_insert(s, a->audit) : rc;
}

int sq_key_import(ks_store *base, const ks_key *keys, size_t n, const ks_audit_entry *audit)
{
    struct import_args a = {keys, n, audit};
    return sq_write_tx((sq_store *)base, key_import_in_tx, &a);
}

int sq_token_find(ks_store *base, const ks_digest *hash, char account[KS_ACCOUNT_MAX + 1],
                  char key_id[KS_KEY_ID_MAX + 1], ks_slot *slot)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_TOKEN_FIND);
    if (st) {
        sqlite3_bind_blob(st, 1, hash->bytes, sizeof hash->bytes, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            snprintf(account, KS_ACCOUNT_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
            snprintf(key_id, KS_KEY_ID_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 1));
            *slot = sqlite3_column_int(st, 2) == 1 ? KS_SLOT_OLD : KS_SLOT_CURRENT;
        }
        rc = step == SQLITE_ROW ? KS_OK : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
