/*
 * sqlite_people.c - people, memberships, invitations, failed sign-ins and
 * persons' sessions in the SQLite backend. The write rules are
 * store_people.c's, over the primitives below; this file only reads and
 * writes rows. Only hashes and sealed secrets reach the database.
 */
#include "store/sqlite_internal.h"
#include "store/store_people.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the PERSON_COLS columns (0..8) of a row into *out. */
static int person_from_row(sqlite3_stmt *st, ks_person *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(st, 0);
    const char *email = (const char *)sqlite3_column_text(st, 1);
    const char *hash = (const char *)sqlite3_column_text(st, 2);
    snprintf(out->email, sizeof out->email, "%s", email ? email : "");
    snprintf(out->password_hash, sizeof out->password_hash, "%s", hash ? hash : "");
    int n = sqlite3_column_bytes(st, 3);
    if (n > (int)sizeof out->totp_sealed)
        return KS_ERR_INTERNAL;
    if (n > 0)
        memcpy(out->totp_sealed, sqlite3_column_blob(st, 3), (size_t)n);
    out->totp_sealed_len = (size_t)n;
    out->totp_enabled = sqlite3_column_int(st, 4);
    out->totp_last_step = sqlite3_column_int64(st, 5);
    out->created_at = sqlite3_column_int64(st, 6);
    out->last_sign_in_at = sqlite3_column_int64(st, 7);
    out->sso = sqlite3_column_int(st, 8);
    return KS_OK;
}

static int roles_of(sq_store *s, int64_t person_id, const char *account, ks_strlist *out)
{
    sqlite3_stmt *st = sq_stmt(s, Q_MEMBERSHIP_ROLES_OF);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_TRANSIENT);
    int rc = KS_OK, step;
    while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = ks_strlist_add(out, (const char *)sqlite3_column_text(st, 0));
    if (rc == KS_OK && step != SQLITE_DONE)
        rc = sq_error(step);
    sqlite3_reset(st);
    return rc;
}

/* ---- primitives (inside the caller's transaction) ---- */

static int prim_person_find(ks_store *base, const char *email, ks_person *out)
{
    sqlite3_stmt *st = sq_stmt((sq_store *)base, Q_PERSON_GET);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int rc = step == SQLITE_ROW ? person_from_row(st, out) : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
    sqlite3_reset(st);
    return rc;
}

static int prim_person_insert(ks_store *base, const char *email, int64_t now)
{
    sqlite3_stmt *st = sq_stmt((sq_store *)base, Q_PERSON_INSERT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    return sq_exec_stmt(st);
}

static int prim_membership_find(ks_store *base, int64_t person_id, const char *account, int *active)
{
    sqlite3_stmt *st = sq_stmt((sq_store *)base, Q_MEMBERSHIP_GET);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *active = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? KS_OK : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
}

static int prim_membership_insert(ks_store *base, int64_t person_id, const char *account, int64_t now)
{
    sqlite3_stmt *st = sq_stmt((sq_store *)base, Q_MEMBERSHIP_INSERT);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? KS_OK : sq_insert_error(step); /* an unknown account: NOT_FOUND */
}

static int prim_membership_set_active(ks_store *base, int64_t person_id, const char *account, int active)
{
    sqlite3_stmt *st = sq_stmt((sq_store *)base, Q_MEMBERSHIP_SET_ACTIVE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, active);
    return sq_exec_stmt(st);
}

static int prim_membership_delete(ks_store *base, int64_t person_id, const char *account)
{
    sqlite3_stmt *st = sq_stmt((sq_store *)base, Q_MEMBERSHIP_DELETE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    return sq_exec_stmt(st);
}

static int prim_roles_exist(ks_store *base, const char *account, const ks_strlist *roles)
{
    return sq_roles_exist((sq_store *)base, account, roles);
}

static int prim_membership_roles_write(ks_store *base, int64_t person_id, const char *account,
                                       const ks_strlist *roles)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = sq_stmt(s, Q_MEMBERSHIP_ROLES_DELETE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    for (size_t i = 0; rc == KS_OK && i < roles->count; i++) {
        if (!(st = sq_stmt(s, Q_MEMBERSHIP_ROLE_INSERT)))
            return KS_ERR_INTERNAL;
        sqlite3_bind_int64(st, 1, person_id);
        sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, roles->items[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)i);
        rc = sq_exec_stmt(st);
    }
    return rc;
}

static int prim_owner_count(ks_store *base, const char *account, int lock, int64_t *n)
{
    (void)lock; /* BEGIN IMMEDIATE already holds SQLite's one write lock */
    return sq_owner_count((sq_store *)base, account, n);
}

static int prim_person_sessions_end(ks_store *base, int64_t person_id, const ks_digest *keep)
{
    sqlite3_stmt *st = sq_stmt((sq_store *)base, Q_PERSON_SESSIONS_END);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, person_id);
    if (keep)
        sqlite3_bind_blob(st, 2, keep->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
    return sq_exec_stmt(st);
}

static int prim_invitation_insert(ks_store *base, int64_t person_id, const char *account, const ks_invitation *inv,
                                  int64_t now)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = sq_stmt(s, Q_INVITATIONS_PURGE); /* on the way: those dead for a week */
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, now - 7 * 86400);
    int rc = sq_exec_stmt(st);
    if (rc != KS_OK)
        return rc;
    if (!(st = sq_stmt(s, Q_INVITATION_INSERT)))
        return KS_ERR_INTERNAL;
    sqlite3_bind_blob(st, 1, inv->id_hash.bytes, KS_DIGEST_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, person_id);
    sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, inv->expires_at);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? KS_OK : sq_insert_error(step);
}

static int prim_invitation_read(ks_store *base, const ks_digest *id_hash, ks_invitation_record *out,
                                int64_t *expires_at, int *used)
{
    sqlite3_stmt *st = sq_stmt((sq_store *)base, Q_INVITATION_GET);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_blob(st, 1, id_hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *email = (const char *)sqlite3_column_text(st, 0);
        const char *account = (const char *)sqlite3_column_text(st, 1);
        snprintf(out->email, sizeof out->email, "%s", email ? email : "");
        snprintf(out->account, sizeof out->account, "%s", account ? account : "");
        out->person_id = sqlite3_column_int64(st, 2);
        *expires_at = sqlite3_column_int64(st, 3);
        *used = sqlite3_column_type(st, 4) != SQLITE_NULL;
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW ? KS_OK : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
}

static int prim_invitations_use(ks_store *base, int64_t person_id, int64_t now)
{
    sqlite3_stmt *st = sq_stmt((sq_store *)base, Q_INVITATIONS_USE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_int64(st, 2, now);
    return sq_exec_stmt(st);
}

static int prim_password_write(ks_store *base, int64_t person_id, const char *password_hash)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = sq_stmt(s, Q_PERSON_SET_PASSWORD);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_text(st, 2, password_hash, -1, SQLITE_STATIC);
    int rc = sq_exec_stmt(st);
    return rc == KS_OK && sqlite3_changes(s->db) == 0 ? KS_ERR_NOT_FOUND : rc;
}

static int prim_audit_insert(ks_store *base, const ks_audit_entry *audit)
{
    return audit ? sq_audit_insert((sq_store *)base, audit) : KS_OK;
}

static const ks_people_prims PRIMS = {
    .person_find = prim_person_find,
    .person_insert = prim_person_insert,
    .membership_find = prim_membership_find,
    .membership_insert = prim_membership_insert,
    .membership_set_active = prim_membership_set_active,
    .membership_delete = prim_membership_delete,
    .roles_exist = prim_roles_exist,
    .membership_roles_write = prim_membership_roles_write,
    .owner_count = prim_owner_count,
    .person_sessions_end = prim_person_sessions_end,
    .invitation_insert = prim_invitation_insert,
    .invitation_read = prim_invitation_read,
    .invitations_use = prim_invitations_use,
    .password_write = prim_password_write,
    .audit_insert = prim_audit_insert,
    .write_tx = sq_write_tx_store,
};

/* ---- reads ---- */

int sq_person_get(ks_store *base, const char *email, ks_person *out)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = prim_person_find(base, email, out);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_person_get_by_id(ks_store *base, int64_t person_id, ks_person *out)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_PERSON_GET_ID);
    if (st) {
        sqlite3_bind_int64(st, 1, person_id);
        int step = sqlite3_step(st);
        rc = step == SQLITE_ROW ? person_from_row(st, out) : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_person_memberships(ks_store *base, int64_t person_id, ks_membership **out, size_t *n)
{
    sq_store *s = (sq_store *)base;
    ks_membership *items = NULL;
    size_t count = 0, cap = 0;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->lock);
    int rc = KS_OK, step = SQLITE_DONE;
    sqlite3_stmt *st = sq_stmt(s, Q_MEMBERSHIPS_OF);
    if (!st)
        rc = KS_ERR_INTERNAL;
    else
        sqlite3_bind_int64(st, 1, person_id);
    while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 4;
            ks_membership *grown = realloc(items, cap * sizeof *grown);
            if (!grown) {
                rc = KS_ERR_NOMEM;
                break;
            }
            items = grown;
        }
        ks_membership *m = &items[count++];
        memset(m, 0, sizeof *m);
        const char *account = (const char *)sqlite3_column_text(st, 0);
        snprintf(m->account, sizeof m->account, "%s", account ? account : "");
        m->active = sqlite3_column_int(st, 1);
        m->created_at = sqlite3_column_int64(st, 2);
    }
    if (rc == KS_OK && step != SQLITE_DONE)
        rc = sq_error(step);
    if (st)
        sqlite3_reset(st);
    for (size_t i = 0; rc == KS_OK && i < count; i++)
        rc = roles_of(s, person_id, items[i].account, &items[i].roles);
    pthread_mutex_unlock(&s->lock);
    if (rc != KS_OK) {
        ks_memberships_free(items, count);
        return rc;
    }
    *out = items;
    *n = count;
    return KS_OK;
}

/* A row of Q_MEMBER_LIST / Q_MEMBER_GET into *out, roles included. */
static int member_from_row(sq_store *s, sqlite3_stmt *st, const char *account, ks_member *out)
{
    memset(out, 0, sizeof *out);
    int rc = person_from_row(st, &out->person);
    snprintf(out->membership.account, sizeof out->membership.account, "%s", account);
    out->membership.active = sqlite3_column_int(st, 9);
    out->membership.created_at = sqlite3_column_int64(st, 10);
    return rc;
}

int sq_member_list(ks_store *base, const char *account, ks_member **out, size_t *n)
{
    sq_store *s = (sq_store *)base;
    ks_member *items = NULL;
    size_t count = 0, cap = 0;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->lock);
    int rc = KS_OK, step = SQLITE_DONE;
    sqlite3_stmt *st = sq_stmt(s, Q_MEMBER_LIST);
    if (!st)
        rc = KS_ERR_INTERNAL;
    else
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    while (rc == KS_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 8;
            ks_member *grown = realloc(items, cap * sizeof *grown);
            if (!grown) {
                rc = KS_ERR_NOMEM;
                break;
            }
            items = grown;
        }
        rc = member_from_row(s, st, account, &items[count++]);
    }
    if (rc == KS_OK && step != SQLITE_DONE)
        rc = sq_error(step);
    if (st)
        sqlite3_reset(st);
    for (size_t i = 0; rc == KS_OK && i < count; i++)
        rc = roles_of(s, items[i].person.id, account, &items[i].membership.roles);
    pthread_mutex_unlock(&s->lock);
    if (rc != KS_OK) {
        ks_members_free(items, count);
        return rc;
    }
    *out = items;
    *n = count;
    return KS_OK;
}

int sq_member_get(ks_store *base, const char *account, const char *email, ks_member *out)
{
    sq_store *s = (sq_store *)base;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_MEMBER_GET);
    if (st) {
        sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        rc = step == SQLITE_ROW ? member_from_row(s, st, account, out)
             : step == SQLITE_DONE ? KS_ERR_NOT_FOUND : sq_error(step);
        sqlite3_reset(st);
    }
    if (rc == KS_OK)
        rc = roles_of(s, out->person.id, account, &out->membership.roles);
    pthread_mutex_unlock(&s->lock);
    if (rc != KS_OK)
        ks_member_free(out);
    return rc;
}

/* ---- writes: store_people.c's operations over this backend's primitives ---- */

int sq_invitation_get(ks_store *base, const ks_digest *id_hash, int64_t now, ks_invitation_record *out)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = ks_people_invitation_get_tx(base, &PRIMS, id_hash, now, out);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_member_add(ks_store *base, const char *account, const char *email, const ks_strlist *roles, int64_t now,
                  const ks_invitation *inv, int *invited, const ks_audit_entry *audit)
{
    return ks_people_member_add(base, &PRIMS, account, email, roles, now, inv, invited, audit);
}

int sq_member_update(ks_store *base, const char *account, const char *email, const ks_strlist *roles, int status,
                     const ks_audit_entry *audit)
{
    return ks_people_member_update(base, &PRIMS, account, email, roles, status, audit);
}

int sq_member_remove(ks_store *base, const char *account, const char *email, const ks_audit_entry *audit)
{
    return ks_people_member_remove(base, &PRIMS, account, email, audit);
}

int sq_invitation_accept(ks_store *base, const ks_digest *id_hash, int64_t now, const char *password_hash,
                         const ks_audit_entry *audit)
{
    return ks_people_invitation_accept(base, &PRIMS, id_hash, now, password_hash, audit);
}

int sq_person_password_set(ks_store *base, int64_t person_id, const char *password_hash, const ks_digest *keep)
{
    return ks_people_password_set(base, &PRIMS, person_id, password_hash, keep);
}

/* One UPDATE of a person by id as its own transaction: NOT_FOUND when no
 * such person (the statement changed nothing and the person is absent). */
struct person_update_args {
    sqlite3_stmt *st;
    int64_t person_id;
    int gone_if_unchanged; /* a person there but no row changed: KS_ERR_GONE */
};

static int person_update_in_tx(sq_store *s, void *arg)
{
    const struct person_update_args *a = arg;
    int rc = sq_exec_stmt(a->st);
    if (rc != KS_OK || sqlite3_changes(s->db) > 0)
        return rc;
    sqlite3_stmt *st = sq_stmt(s, Q_PERSON_EXISTS);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, a->person_id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        return KS_ERR_NOT_FOUND;
    if (step != SQLITE_ROW)
        return sq_error(step);
    return a->gone_if_unchanged ? KS_ERR_GONE : KS_OK;
}

int sq_person_totp_set(ks_store *base, int64_t person_id, const unsigned char *sealed, size_t sealed_len,
                       int enabled)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_PERSON_SET_TOTP);
    if (st) {
        sqlite3_bind_int64(st, 1, person_id);
        if (sealed)
            sqlite3_bind_blob(st, 2, sealed, (int)sealed_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, sealed ? enabled : 0);
        struct person_update_args a = {st, person_id, 0};
        rc = sq_write_tx(s, person_update_in_tx, &a);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_person_totp_step_use(ks_store *base, int64_t person_id, int64_t step)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_PERSON_TOTP_STEP);
    if (st) {
        sqlite3_bind_int64(st, 1, person_id);
        sqlite3_bind_int64(st, 2, step);
        struct person_update_args a = {st, person_id, 1};
        rc = sq_write_tx(s, person_update_in_tx, &a);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_person_signed_in(ks_store *base, int64_t person_id, int64_t now, int via_sso)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_PERSON_SIGNED_IN);
    if (st) {
        sqlite3_bind_int64(st, 1, person_id);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int(st, 3, via_sso ? 1 : 0);
        struct person_update_args a = {st, person_id, 0};
        rc = sq_write_tx(s, person_update_in_tx, &a);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- failed sign-ins ---- */

struct failure_args {
    const ks_digest *email_hash;
    int64_t now, purge_before;
};

static int failure_add_in_tx(sq_store *s, void *arg)
{
    const struct failure_args *a = arg;
    sqlite3_stmt *st = sq_stmt(s, Q_SIGNIN_FAILURE_PURGE);
    if (!st)
        return KS_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, a->purge_before);
    int rc = sq_exec_stmt(st);
    if (rc != KS_OK)
        return rc;
    if (!(st = sq_stmt(s, Q_SIGNIN_FAILURE_ADD)))
        return KS_ERR_INTERNAL;
    sqlite3_bind_blob(st, 1, a->email_hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->now);
    return sq_exec_stmt(st);
}

int sq_signin_failure_add(ks_store *base, const ks_digest *email_hash, int64_t now, int64_t purge_before)
{
    struct failure_args a = {email_hash, now, purge_before};
    return sq_write_tx((sq_store *)base, failure_add_in_tx, &a);
}

int sq_signin_failures(ks_store *base, const ks_digest *email_hash, int64_t since, int64_t *times, size_t max,
                       size_t *n)
{
    sq_store *s = (sq_store *)base;
    *n = 0;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL, step = SQLITE_DONE;
    sqlite3_stmt *st = sq_stmt(s, Q_SIGNIN_FAILURES);
    if (st) {
        rc = KS_OK;
        sqlite3_bind_blob(st, 1, email_hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, since);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
        while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
            times[(*n)++] = sqlite3_column_int64(st, 0);
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            rc = sq_error(step);
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_signin_failures_clear(ks_store *base, const ks_digest *email_hash)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_SIGNIN_FAILURES_CLEAR);
    if (st) {
        sqlite3_bind_blob(st, 1, email_hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        rc = sq_write_one(s, st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sq_person_session_create(ks_store *base, const ks_digest *hash, int64_t person_id, const char *via,
                             int64_t now)
{
    sq_store *s = (sq_store *)base;
    pthread_mutex_lock(&s->lock);
    int rc = KS_ERR_INTERNAL;
    sqlite3_stmt *st = sq_stmt(s, Q_PERSON_SESSION_INSERT);
    if (st) {
        sqlite3_bind_blob(st, 1, hash->bytes, KS_DIGEST_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, person_id);
        sqlite3_bind_text(st, 3, via, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        rc = sq_write_one(s, st); /* an unknown person fails the foreign key: NOT_FOUND */
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
