/*
 * pg_keys.c - the key operations of the PostgreSQL backend: insert, read,
 * list, update, delete and token-slot transitions (last-used batches:
 * pg_last_used.c).
 *
 * A write locks the key's row first (SELECT ... FOR UPDATE), so two nodes
 * acting on one key take turns: the second sees the first one's result (a
 * renewal racing a renewal gets old_token_exists, not a lost token).
 */
#include "store/pg_internal.h"
#include "store/store_common.h"
#include "core/error.h"
#include "core/key_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pg_key_limits_from_row(const PGresult *r, int row, int col, ks_key *k)
{
    k->rate_limit.limit = pg_get_int(r, row, col + 1);
    k->rate_limit.period_seconds = (int32_t)pg_get_int(r, row, col + 2);
    if (!(k->name = pg_get_strdup(r, row, 3)))
        return KS_ERR_NOMEM;
    int rc = ks_allowed_cidrs_split(PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col), &k->allowed_cidrs);
    return rc == KS_ERR_INVALID ? KS_ERR_INTERNAL : rc;
}

int pg_key_seq(pg_store *s, const char *account, const char *key_id, int lock, int64_t *seq)
{
    pg_params p = {0};
    pg_text(&p, key_id);
    pg_text(&p, account);
    int rc;
    PGresult *r = pg_exec(s, lock ? P_KEY_LOCK : P_KEY_SEQ, &p, &rc);
    if (!r)
        return rc;
    if (PQntuples(r) == 1)
        *seq = pg_get_int(r, 0, 0);
    else
        rc = KS_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

void pg_token_from_row(const PGresult *r, int row, int col_hash, ks_token *t)
{
    size_t len;
    memset(t, 0, sizeof *t);
    if (pg_get_bytes(r, row, col_hash, t->hash.bytes, KS_DIGEST_LEN, &len) == 0 && len == KS_DIGEST_LEN)
        t->present = 1;
    t->created_at = pg_get_int(r, row, col_hash + 1);
    t->last_used_at = pg_get_int(r, row, col_hash + 2);
    t->ends_at = pg_get_int(r, row, col_hash + 3);
    t->notices = (int)pg_get_int(r, row, col_hash + 4);
    ks_store_netaddr_read(PQgetvalue(r, row, col_hash + 5), &t->last_used_from);
}

/* Fills the slots, roles, grants and grant roles of the key with this seq. */
static int key_fill(pg_store *s, int64_t seq, ks_key *out)
{
    memset(&out->slots, 0, sizeof out->slots);
    pg_params p = {0};
    pg_int(&p, seq);
    int rc;
    PGresult *r = pg_exec(s, P_TOKENS_OF, &p, &rc);
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r); i++)
        pg_token_from_row(r, i, 1, pg_get_int(r, i, 0) == 0 ? &out->slots.current : &out->slots.old);
    PQclear(r);
    if (!(r = pg_exec(s, P_GRANTS_OF, &p, &rc)))
        return rc;
    for (int i = 0; rc == KS_OK && i < PQntuples(r); i++) {
        ks_grant *g = ks_key_add_grant(out, PQgetvalue(r, i, 0));
        if (!g) {
            rc = KS_ERR_NOMEM;
            break;
        }
        g->active = (int)pg_get_int(r, i, 1);
        g->created_at = pg_get_int(r, i, 2);
    }
    PQclear(r);
    if (rc != KS_OK || !(r = pg_exec(s, P_KEY_ROLES_ALL, &p, &rc)))
        return rc;
    for (int i = 0; rc == KS_OK && i < PQntuples(r); i++) {
        const char *in = PQgetvalue(r, i, 0), *role = PQgetvalue(r, i, 1);
        ks_grant *g = (ks_grant *)ks_key_grant(out, in);
        if (strcmp(in, out->account) == 0)
            rc = ks_strlist_add(&out->roles, role);
        else if (g)
            rc = ks_strlist_add(&g->roles, role);
    }
    PQclear(r);
    return rc;
}

/* Reads the key columns of a P_KEY_GET / P_KEY_LIST row. */
static int key_from_row(const PGresult *r, int row, ks_key *k)
{
    memset(k, 0, sizeof *k);
    k->seq = pg_get_int(r, row, 0);
    pg_get_str(r, row, 1, k->key_id, sizeof k->key_id);
    pg_get_str(r, row, 2, k->account, sizeof k->account);
    k->active = (int)pg_get_int(r, row, 4);
    k->created_at = pg_get_int(r, row, 5);
    return pg_key_limits_from_row(r, row, 6, k);
}

int pg_key_read_seq(pg_store *s, int64_t seq, ks_key *out)
{
    pg_params p = {0};
    pg_int(&p, seq);
    int rc;
    memset(out, 0, sizeof *out);
    PGresult *r = pg_exec(s, P_KEY_GET, &p, &rc);
    if (r)
        rc = PQntuples(r) == 1 ? key_from_row(r, 0, out) : KS_ERR_NOT_FOUND;
    PQclear(r);
    if (rc == KS_OK)
        rc = key_fill(s, seq, out);
    if (rc != KS_OK)
        ks_key_free(out);
    return rc;
}

int pg_roles_exist(pg_store *s, const char *account, const ks_strlist *roles)
{
    for (size_t i = 0; i < roles->count; i++) {
        pg_params p = {0};
        pg_text(&p, account);
        pg_text(&p, roles->items[i]);
        int rc;
        PGresult *r = pg_exec(s, P_ROLE_GET, &p, &rc);
        if (!r)
            return rc;
        rc = PQntuples(r) == 0 ? KS_ERR_INVALID : KS_OK;
        PQclear(r);
        if (rc != KS_OK)
            return rc;
    }
    return KS_OK;
}

int pg_key_roles_write(pg_store *s, int64_t seq, const char *account, const ks_strlist *roles)
{
    pg_params p = {0};
    pg_int(&p, seq);
    pg_text(&p, account);
    int rc = pg_run(s, P_KEY_ROLES_DELETE, &p);
    for (size_t i = 0; rc == KS_OK && i < roles->count; i++) {
        pg_params q = {0};
        pg_int(&q, seq);
        pg_text(&q, account);
        pg_text(&q, roles->items[i]);
        pg_int(&q, (int64_t)i);
        /* A role deleted since pg_roles_exist fails the foreign key. */
        if ((rc = pg_run(s, P_KEY_ROLE_INSERT, &q)) == KS_ERR_NOT_FOUND)
            rc = KS_ERR_INVALID;
    }
    return rc;
}

static int token_write(pg_store *s, int64_t seq, int slot, const ks_token *t)
{
    char from[KS_NETADDR_TEXT_MAX];
    pg_params p = {0};
    pg_int(&p, seq);
    pg_int(&p, slot);
    if (!t->present)
        return pg_run(s, P_TOKEN_DELETE, &p);
    pg_bytes(&p, t->hash.bytes, KS_DIGEST_LEN);
    pg_int(&p, t->created_at);
    if (t->last_used_at)
        pg_int(&p, t->last_used_at);
    else
        pg_text(&p, NULL);
    if (t->ends_at)
        pg_int(&p, t->ends_at);
    else
        pg_text(&p, NULL);
    pg_int(&p, t->notices);
    pg_text(&p, ks_store_netaddr_text(&t->last_used_from, from));
    return pg_run(s, P_TOKEN_UPSERT, &p);
}

static int tokens_write(pg_store *s, int64_t seq, const ks_token_slots *slots)
{
    int rc = token_write(s, seq, 0, &slots->current);
    return rc == KS_OK ? token_write(s, seq, 1, &slots->old) : rc;
}

int pg_key_insert_tx(pg_store *s, const ks_key *key)
{
    int rc = pg_roles_exist(s, key->account, &key->roles);
    if (rc != KS_OK)
        return rc;
    pg_params p = {0};
    pg_text(&p, key->key_id);
    pg_text(&p, key->account);
    pg_text(&p, key->name);
    pg_int(&p, key->active);
    pg_int(&p, key->created_at);
    char *cidrs = ks_allowed_cidrs_join(&key->allowed_cidrs);
    if (!cidrs)
        return KS_ERR_NOMEM;
    pg_text(&p, cidrs);
    pg_int(&p, key->rate_limit.limit);
    pg_int(&p, key->rate_limit.limit ? key->rate_limit.period_seconds : 0);
    PGresult *r = pg_exec(s, P_KEY_INSERT, &p, &rc);
    free(cidrs);
    if (!r)
        return rc; /* NAME_TAKEN: an id collision, the caller makes a new id */
    int64_t seq = pg_get_int(r, 0, 0);
    PQclear(r);
    rc = tokens_write(s, seq, &key->slots);
    return rc == KS_OK ? pg_key_roles_write(s, seq, key->account, &key->roles) : rc;
}

struct key_insert_args {
    const ks_key *key;
    const ks_audit_entry *audit;
};

/* The rows of pg_key_insert: NAME_TAKEN for an id collision, INVALID for an
 * unknown role. */
static int key_insert_in_tx(pg_store *s, void *arg)
{
    const struct key_insert_args *a = arg;
    int rc = pg_key_insert_tx(s, a->key);
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_KEY, a->key->account, a->key->key_id);
    return rc;
}

int pg_key_insert(ks_store *base, const ks_key *key, const ks_audit_entry *audit)
{
    struct key_insert_args a = {key, audit};
    return pg_write_tx((pg_store *)base, key_insert_in_tx, &a);
}

struct key_get_args {
    const char *account;
    const char *key_id;
    ks_key *out;
};

static int key_get_in_tx(pg_store *s, void *arg)
{
    struct key_get_args *a = arg;
    int64_t seq;
    int rc = pg_key_seq(s, a->account, a->key_id, 0, &seq);
    return rc == KS_OK ? pg_key_read_seq(s, seq, a->out) : rc;
}

int pg_key_get(ks_store *base, const char *account, const char *key_id, ks_key *out)
{
    memset(out, 0, sizeof *out);
    struct key_get_args a = {account, key_id, out};
    int rc = pg_read_tx((pg_store *)base, key_get_in_tx, &a);
    if (rc != KS_OK)
        ks_key_free(out);
    return rc;
}

struct key_list_args {
    const char *account;
    const ks_key_filter *filter;
    int limit;
    ks_key *items;                 /* limit + 1 slots, owned by the caller */
    size_t n;                      /* out: keys read into items */
};

/* The page read of pg_key_list, one row more than the limit, each key filled. */
static int key_list_in_tx(pg_store *s, void *arg)
{
    struct key_list_args *a = arg;
    const ks_key_filter *f = a->filter;
    pg_params p = {0};
    pg_text(&p, a->account);
    pg_int(&p, f->before_seq > 0 ? f->before_seq : INT64_MAX);
    pg_text(&p, f->q && *f->q ? f->q : NULL);
    pg_int(&p, f->status);
    pg_int(&p, f->outdated);
    pg_int(&p, f->now);
    pg_int(&p, a->limit + 1); /* one more tells whether a next page exists */
    int rc;
    PGresult *r = pg_exec(s, P_KEY_LIST, &p, &rc);
    for (int i = 0; rc == KS_OK && i < PQntuples(r); i++)
        rc = key_from_row(r, i, &a->items[a->n++]);
    PQclear(r);
    for (size_t i = 0; rc == KS_OK && i < a->n; i++)
        rc = key_fill(s, a->items[i].seq, &a->items[i]);
    return rc;
}

int pg_key_list(ks_store *base, const char *account, const ks_key_filter *f, ks_key_page *out)
{
    memset(out, 0, sizeof *out);
    int limit = ks_key_filter_limit(f);
    ks_key *items = calloc((size_t)limit + 1, sizeof *items);
    if (!items)
        return KS_ERR_NOMEM;
    struct key_list_args a = {account, f, limit, items, 0};
    int rc = pg_read_tx((pg_store *)base, key_list_in_tx, &a);
    return ks_key_page_finish(out, items, a.n, limit, rc);
}

int pg_owner_count(pg_store *s, const char *account, int lock, int64_t *n)
{
    pg_params p = {0};
    pg_text(&p, account);
    int rc = lock ? pg_run(s, P_ACCOUNT_LOCK, &p) : KS_OK;
    PGresult *r = rc == KS_OK ? pg_exec(s, P_OWNER_COUNT, &p, &rc) : NULL;
    if (!r)
        return rc;
    *n = PQntuples(r) == 1 ? pg_get_int(r, 0, 0) : 0;
    PQclear(r);
    return KS_OK;
}

/* Before a change that may take Owner away: locks the account's row, so two
 * nodes removing two Owners at once cannot both see the other one stay,
 * and counts the active Owner principals into *before. */
static int owner_guard_begin(pg_store *s, const char *account, int64_t *before)
{
    return pg_owner_count(s, account, 1, before);
}

/* After the change: KS_ERR_LAST_OWNER when it took the last one away. */
static int owner_guard_end(pg_store *s, const char *account, int64_t before)
{
    int64_t after = 0;
    int rc = pg_owner_count(s, account, 0, &after);
    if (rc != KS_OK)
        return rc;
    return before > 0 && after == 0 ? KS_ERR_LAST_OWNER : KS_OK;
}

struct key_write_args {
    const char *account;
    const char *key_id;
    const ks_key_patch *patch;     /* update only */
    const ks_audit_entry *audit;
};

/* The changes of pg_key_update. A change of status or roles may take the
 * account's last Owner away: the account row is locked first (the guard),
 * then the key's row, in that order in every writer. */
static int key_update_in_tx(pg_store *s, void *arg)
{
    const struct key_write_args *a = arg;
    const ks_key_patch *patch = a->patch;
    int64_t seq, owners = 0;
    int guard = patch->status >= 0 || patch->roles != NULL;
    int rc = KS_OK;
    if (guard)
        rc = owner_guard_begin(s, a->account, &owners);
    if (rc == KS_OK)
        rc = pg_key_seq(s, a->account, a->key_id, 1, &seq);
    if (rc == KS_OK && patch->name) {
        pg_params p = {0};
        pg_int(&p, seq);
        pg_text(&p, patch->name);
        rc = pg_run(s, P_KEY_SET_NAME, &p);
    }
    if (rc == KS_OK && patch->status >= 0) {
        pg_params p = {0};
        pg_int(&p, seq);
        pg_int(&p, patch->status);
        rc = pg_run(s, P_KEY_SET_ACTIVE, &p);
    }
    if (rc == KS_OK && patch->allowed_cidrs) {
        char *cidrs = ks_allowed_cidrs_join(patch->allowed_cidrs);
        pg_params p = {0};
        pg_int(&p, seq);
        pg_text(&p, cidrs);
        rc = cidrs ? pg_run(s, P_KEY_SET_CIDRS, &p) : KS_ERR_NOMEM;
        free(cidrs);
    }
    if (rc == KS_OK && patch->rate_limit) {
        pg_params p = {0};
        pg_int(&p, seq);
        pg_int(&p, patch->rate_limit->limit);
        pg_int(&p, patch->rate_limit->limit ? patch->rate_limit->period_seconds : 0);
        rc = pg_run(s, P_KEY_SET_RATE, &p);
    }
    if (rc == KS_OK && patch->roles && (rc = pg_roles_exist(s, a->account, patch->roles)) == KS_OK)
        rc = pg_key_roles_write(s, seq, a->account, patch->roles);
    if (rc == KS_OK && guard)
        rc = owner_guard_end(s, a->account, owners);
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_KEY, a->account, a->key_id);
    return rc;
}

int pg_key_update(ks_store *base, const char *account, const char *key_id,
                  const ks_key_patch *patch, const ks_audit_entry *audit)
{
    struct key_write_args a = {account, key_id, patch, audit};
    return pg_write_tx((pg_store *)base, key_update_in_tx, &a);
}

/* The delete of pg_key_delete, under the last-Owner guard (account row
 * locked first, then the key's row). */
static int key_delete_in_tx(pg_store *s, void *arg)
{
    const struct key_write_args *a = arg;
    int64_t seq, owners = 0;
    int rc;
    if ((rc = owner_guard_begin(s, a->account, &owners)) == KS_OK &&
        (rc = pg_key_seq(s, a->account, a->key_id, 1, &seq)) == KS_OK) {
        pg_params p = {0};
        pg_int(&p, seq);
        rc = pg_run(s, P_KEY_DELETE, &p);
    }
    if (rc == KS_OK)
        rc = owner_guard_end(s, a->account, owners);
    if (rc == KS_OK)
        rc = pg_audit_insert(s, a->audit);
    if (rc == KS_OK)
        rc = pg_change(s, KS_CHANGE_KEY, a->account, a->key_id);
    return rc;
}

int pg_key_delete(ks_store *base, const char *account, const char *key_id, const ks_audit_entry *audit)
{
    struct key_write_args a = {account, key_id, NULL, audit};
    return pg_write_tx((pg_store *)base, key_delete_in_tx, &a);
}

/* The primitives of the neutral slot transition (store_common.c). */
static int prim_key_read_for_update(ks_store *base, const char *account, const char *key_id, int64_t *seq,
                                    ks_key *out)
{
    pg_store *s = (pg_store *)base;
    int rc = pg_key_seq(s, account, key_id, 1, seq); /* FOR UPDATE: renewals of one key serialise */
    return rc == KS_OK ? pg_key_read_seq(s, *seq, out) : rc;
}

static int prim_tokens_write(ks_store *base, int64_t seq, const ks_token_slots *slots)
{
    return tokens_write((pg_store *)base, seq, slots);
}

static int prim_audit_insert(ks_store *base, const ks_audit_entry *audit)
{
    return pg_audit_insert((pg_store *)base, audit);
}

static int prim_change(ks_store *base, ks_change_kind kind, const char *account, const char *key_id)
{
    return pg_change((pg_store *)base, kind, account, key_id);
}

static const ks_store_prims PRIMS = {.key_read_for_update = prim_key_read_for_update,
                                     .tokens_write = prim_tokens_write,
                                     .audit_insert = prim_audit_insert,
                                     .change = prim_change};

struct apply_slots_args {
    ks_store *base;
    const char *account;
    const char *key_id;
    const ks_slot_change *change;
    int64_t now;
    const ks_audit_entry *audit;
    ks_key key;                    /* out: the key after the transition */
};

/* The neutral read -> ks_slots_apply -> write -> audit -> change flow. */
static int apply_slots_in_tx(pg_store *s, void *arg)
{
    struct apply_slots_args *a = arg;
    return ks_store_apply_slots_tx(a->base, &PRIMS, a->account, a->key_id, a->change, a->now, a->audit,
                                   &a->key);
}

int pg_key_apply_slots(ks_store *base, const char *account, const char *key_id, const ks_slot_change *change,
                       int64_t now, const ks_audit_entry *audit, ks_key *out)
{
    struct apply_slots_args a = {.base = base, .account = account, .key_id = key_id, .change = change,
                                .now = now, .audit = audit}; /* .key zeroed */
    int rc = pg_write_tx((pg_store *)base, apply_slots_in_tx, &a);
    if (rc == KS_OK && out)
        *out = a.key;
    else
        ks_key_free(&a.key); /* nothing, or the key read before a failed commit */
    return rc;
}

struct token_find_args {
    const ks_digest *hash;
    char *account, *key_id;
    ks_slot *slot;
};

static int token_find_in_tx(pg_store *s, void *arg)
{
    struct token_find_args *a = arg;
    pg_params p = {0};
    pg_bytes(&p, a->hash->bytes, sizeof a->hash->bytes);
    int rc;
    PGresult *r = pg_exec(s, P_TOKEN_FIND, &p, &rc);
    if (!r)
        return rc;
    if (PQntuples(r) == 1) {
        pg_get_str(r, 0, 0, a->account, KS_ACCOUNT_MAX + 1);
        pg_get_str(r, 0, 1, a->key_id, KS_KEY_ID_MAX + 1);
        *a->slot = pg_get_int(r, 0, 2) == 1 ? KS_SLOT_OLD : KS_SLOT_CURRENT;
    } else {
        rc = KS_ERR_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

int pg_token_find(ks_store *base, const ks_digest *hash, char account[KS_ACCOUNT_MAX + 1],
                  char key_id[KS_KEY_ID_MAX + 1], ks_slot *slot)
{
    struct token_find_args a = {hash, account, key_id, slot};
    return pg_read_tx((pg_store *)base, token_find_in_tx, &a);
}
