/*
 * pg_people.c - people, memberships, invitations, failed sign-ins and
 * persons' sessions in the PostgreSQL backend. The write rules are
 * store_people.c's, over the primitives below (the same as sqlite_people.c);
 * this file only reads and writes rows. Membership changes that may take an
 * account's last Owner away lock the account's row first, as key changes do,
 * so two nodes cannot each remove one of the last two Owners. Sessions live
 * here, so ending a person's sessions ends them on every node at once.
 */
#include "store/pg_internal.h"
#include "store/store_people.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The PERSON_COLS columns (0..8) of row `row` into *out. */
static int person_from_row(const PGresult *r, int row, ks_person *out)
{
    memset(out, 0, sizeof *out);
    out->id = pg_get_int(r, row, 0);
    pg_get_str(r, row, 1, out->email, sizeof out->email);
    pg_get_str(r, row, 2, out->password_hash, sizeof out->password_hash);
    if (!PQgetisnull(r, row, 3) &&
        pg_get_bytes(r, row, 3, out->totp_sealed, sizeof out->totp_sealed, &out->totp_sealed_len) != 0)
        return KS_ERR_INTERNAL;
    out->totp_enabled = (int)pg_get_int(r, row, 4);
    out->totp_last_step = pg_get_int(r, row, 5);
    out->created_at = pg_get_int(r, row, 6);
    out->last_sign_in_at = pg_get_int(r, row, 7);
    out->sso = (int)pg_get_int(r, row, 8);
    return KS_OK;
}

static int roles_of(pg_store *s, int64_t person_id, const char *account, ks_strlist *out)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_text(&p, account);
    int rc;
    PGresult *r = pg_exec(s, P_MEMBERSHIP_ROLES_OF, &p, &rc);
    for (int i = 0; r && rc == KS_OK && i < PQntuples(r); i++)
        rc = ks_strlist_add(out, PQgetvalue(r, i, 0));
    PQclear(r);
    return rc;
}

/* ---- primitives (inside the caller's transaction) ---- */

static int prim_person_find(ks_store *base, const char *email, ks_person *out)
{
    pg_params p = {0};
    pg_text(&p, email);
    int rc;
    PGresult *r = pg_exec((pg_store *)base, P_PERSON_GET, &p, &rc);
    if (r)
        rc = PQntuples(r) == 1 ? person_from_row(r, 0, out) : KS_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

static int prim_person_insert(ks_store *base, const char *email, int64_t now)
{
    pg_params p = {0};
    pg_text(&p, email);
    pg_int(&p, now);
    return pg_run((pg_store *)base, P_PERSON_INSERT, &p);
}

static int prim_membership_find(ks_store *base, int64_t person_id, const char *account, int *active)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_text(&p, account);
    int rc;
    PGresult *r = pg_exec((pg_store *)base, P_MEMBERSHIP_GET, &p, &rc);
    if (r && PQntuples(r) == 1)
        *active = (int)pg_get_int(r, 0, 0);
    else if (r)
        rc = KS_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

static int prim_membership_insert(ks_store *base, int64_t person_id, const char *account, int64_t now)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_text(&p, account);
    pg_int(&p, now);
    return pg_run((pg_store *)base, P_MEMBERSHIP_INSERT, &p); /* an unknown account: NOT_FOUND */
}

static int prim_membership_set_active(ks_store *base, int64_t person_id, const char *account, int active)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_text(&p, account);
    pg_int(&p, active);
    return pg_run((pg_store *)base, P_MEMBERSHIP_SET_ACTIVE, &p);
}

static int prim_membership_delete(ks_store *base, int64_t person_id, const char *account)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_text(&p, account);
    return pg_run((pg_store *)base, P_MEMBERSHIP_DELETE, &p);
}

static int prim_roles_exist(ks_store *base, const char *account, const ks_strlist *roles)
{
    return pg_roles_exist((pg_store *)base, account, roles);
}

static int prim_membership_roles_write(ks_store *base, int64_t person_id, const char *account,
                                       const ks_strlist *roles)
{
    pg_store *s = (pg_store *)base;
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_text(&p, account);
    int rc = pg_run(s, P_MEMBERSHIP_ROLES_DELETE, &p);
    for (size_t i = 0; rc == KS_OK && i < roles->count; i++) {
        pg_params q = {0};
        pg_int(&q, person_id);
        pg_text(&q, account);
        pg_text(&q, roles->items[i]);
        pg_int(&q, (int64_t)i);
        rc = pg_run(s, P_MEMBERSHIP_ROLE_INSERT, &q);
    }
    return rc;
}

static int prim_owner_count(ks_store *base, const char *account, int lock, int64_t *n)
{
    return pg_owner_count((pg_store *)base, account, lock, n);
}

static int prim_person_sessions_end(ks_store *base, int64_t person_id, const ks_digest *keep)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    if (keep)
        pg_bytes(&p, keep->bytes, KS_DIGEST_LEN);
    else
        pg_text(&p, NULL);
    return pg_run((pg_store *)base, P_PERSON_SESSIONS_END, &p);
}

static int prim_invitation_insert(ks_store *base, int64_t person_id, const char *account, const ks_invitation *inv,
                                  int64_t now)
{
    pg_store *s = (pg_store *)base;
    pg_params purge = {0};
    pg_int(&purge, now - 7 * 86400); /* on the way: those dead for a week */
    int rc = pg_run(s, P_INVITATIONS_PURGE, &purge);
    if (rc != KS_OK)
        return rc;
    pg_params p = {0};
    pg_bytes(&p, inv->id_hash.bytes, KS_DIGEST_LEN);
    pg_int(&p, person_id);
    pg_text(&p, account);
    pg_int(&p, now);
    pg_int(&p, inv->expires_at);
    return pg_run(s, P_INVITATION_INSERT, &p);
}

static int prim_invitation_read(ks_store *base, const ks_digest *id_hash, ks_invitation_record *out,
                                int64_t *expires_at, int *used)
{
    pg_params p = {0};
    pg_bytes(&p, id_hash->bytes, KS_DIGEST_LEN);
    int rc;
    PGresult *r = pg_exec((pg_store *)base, P_INVITATION_GET, &p, &rc); /* FOR UPDATE: one accept wins */
    if (r && PQntuples(r) == 1) {
        pg_get_str(r, 0, 0, out->email, sizeof out->email);
        pg_get_str(r, 0, 1, out->account, sizeof out->account);
        out->person_id = pg_get_int(r, 0, 2);
        *expires_at = pg_get_int(r, 0, 3);
        *used = !PQgetisnull(r, 0, 4);
    } else if (r) {
        rc = KS_ERR_NOT_FOUND;
    }
    PQclear(r);
    return rc;
}

static int prim_invitations_use(ks_store *base, int64_t person_id, int64_t now)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_int(&p, now);
    return pg_run((pg_store *)base, P_INVITATIONS_USE, &p);
}

static int prim_password_write(ks_store *base, int64_t person_id, const char *password_hash)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_text(&p, password_hash);
    int rc;
    PGresult *r = pg_exec((pg_store *)base, P_PERSON_SET_PASSWORD, &p, &rc);
    if (r && pg_changed(r) == 0)
        rc = KS_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

static int prim_audit_insert(ks_store *base, const ks_audit_entry *audit)
{
    return pg_audit_insert((pg_store *)base, audit);
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
    .write_tx = pg_write_tx_store,
};

/* ---- reads ---- */

struct person_get_args {
    const char *email;
    ks_person *out;
};

static int person_get_in_tx(pg_store *s, void *arg)
{
    struct person_get_args *a = arg;
    return prim_person_find(&s->base, a->email, a->out);
}

int pg_person_get(ks_store *base, const char *email, ks_person *out)
{
    struct person_get_args a = {email, out};
    return pg_read_tx((pg_store *)base, person_get_in_tx, &a);
}

struct person_by_id_args {
    int64_t person_id;
    ks_person *out;
};

static int person_by_id_in_tx(pg_store *s, void *arg)
{
    struct person_by_id_args *a = arg;
    pg_params p = {0};
    pg_int(&p, a->person_id);
    int rc;
    PGresult *r = pg_exec(s, P_PERSON_GET_ID, &p, &rc);
    if (r)
        rc = PQntuples(r) == 1 ? person_from_row(r, 0, a->out) : KS_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

int pg_person_get_by_id(ks_store *base, int64_t person_id, ks_person *out)
{
    struct person_by_id_args a = {person_id, out};
    return pg_read_tx((pg_store *)base, person_by_id_in_tx, &a);
}

struct memberships_args {
    int64_t person_id;
    ks_membership *items;          /* out */
    size_t n;
};

static int memberships_in_tx(pg_store *s, void *arg)
{
    struct memberships_args *a = arg;
    pg_params p = {0};
    pg_int(&p, a->person_id);
    int rc;
    PGresult *r = pg_exec(s, P_MEMBERSHIPS_OF, &p, &rc);
    int rows = r ? PQntuples(r) : 0;
    if (r && !(a->items = calloc(rows ? (size_t)rows : 1, sizeof *a->items)))
        rc = KS_ERR_NOMEM;
    for (int i = 0; rc == KS_OK && i < rows; i++) {
        ks_membership *m = &a->items[a->n++];
        pg_get_str(r, i, 0, m->account, sizeof m->account);
        m->active = (int)pg_get_int(r, i, 1);
        m->created_at = pg_get_int(r, i, 2);
    }
    PQclear(r);
    for (size_t i = 0; rc == KS_OK && i < a->n; i++)
        rc = roles_of(s, a->person_id, a->items[i].account, &a->items[i].roles);
    return rc;
}

int pg_person_memberships(ks_store *base, int64_t person_id, ks_membership **out, size_t *n)
{
    struct memberships_args a = {person_id, NULL, 0};
    *out = NULL;
    *n = 0;
    int rc = pg_read_tx((pg_store *)base, memberships_in_tx, &a);
    if (rc != KS_OK) {
        ks_memberships_free(a.items, a.n);
        return rc;
    }
    *out = a.items;
    *n = a.n;
    return KS_OK;
}

struct members_args {
    const char *account, *email;   /* email NULL: the whole list */
    ks_member *items;              /* out */
    size_t n;
};

static int members_in_tx(pg_store *s, void *arg)
{
    struct members_args *a = arg;
    pg_params p = {0};
    pg_text(&p, a->account);
    if (a->email)
        pg_text(&p, a->email);
    int rc;
    PGresult *r = pg_exec(s, a->email ? P_MEMBER_GET : P_MEMBER_LIST, &p, &rc);
    int rows = r ? PQntuples(r) : 0;
    if (r && !(a->items = calloc(rows ? (size_t)rows : 1, sizeof *a->items)))
        rc = KS_ERR_NOMEM;
    for (int i = 0; rc == KS_OK && i < rows; i++) {
        ks_member *m = &a->items[a->n++];
        rc = person_from_row(r, i, &m->person);
        snprintf(m->membership.account, sizeof m->membership.account, "%s", a->account);
        m->membership.active = (int)pg_get_int(r, i, 9);
        m->membership.created_at = pg_get_int(r, i, 10);
    }
    PQclear(r);
    for (size_t i = 0; rc == KS_OK && i < a->n; i++)
        rc = roles_of(s, a->items[i].person.id, a->account, &a->items[i].membership.roles);
    return rc;
}

int pg_member_list(ks_store *base, const char *account, ks_member **out, size_t *n)
{
    struct members_args a = {account, NULL, NULL, 0};
    *out = NULL;
    *n = 0;
    int rc = pg_read_tx((pg_store *)base, members_in_tx, &a);
    if (rc != KS_OK) {
        ks_members_free(a.items, a.n);
        return rc;
    }
    *out = a.items;
    *n = a.n;
    return KS_OK;
}

int pg_member_get(ks_store *base, const char *account, const char *email, ks_member *out)
{
    struct members_args a = {account, email, NULL, 0};
    memset(out, 0, sizeof *out);
    int rc = pg_read_tx((pg_store *)base, members_in_tx, &a);
    if (rc == KS_OK && a.n == 1) {
        *out = a.items[0];
        free(a.items);
        return KS_OK;
    }
    ks_members_free(a.items, a.n);
    return rc == KS_OK ? KS_ERR_NOT_FOUND : rc;
}

/* ---- writes: store_people.c's operations over this backend's primitives ---- */

struct invitation_args {
    const ks_digest *id_hash;
    int64_t now;
    ks_invitation_record *out;
};

static int invitation_get_in_tx(pg_store *s, void *arg)
{
    struct invitation_args *a = arg;
    return ks_people_invitation_get_tx(&s->base, &PRIMS, a->id_hash, a->now, a->out);
}

int pg_invitation_get(ks_store *base, const ks_digest *id_hash, int64_t now, ks_invitation_record *out)
{
    struct invitation_args a = {id_hash, now, out};
    return pg_write_tx((pg_store *)base, invitation_get_in_tx, &a); /* FOR UPDATE needs a writable transaction */
}

int pg_member_add(ks_store *base, const char *account, const char *email, const ks_strlist *roles, int64_t now,
                  const ks_invitation *inv, int *invited, const ks_audit_entry *audit)
{
    return ks_people_member_add(base, &PRIMS, account, email, roles, now, inv, invited, audit);
}

int pg_member_update(ks_store *base, const char *account, const char *email, const ks_strlist *roles, int status,
                     const ks_audit_entry *audit)
{
    return ks_people_member_update(base, &PRIMS, account, email, roles, status, audit);
}

int pg_member_remove(ks_store *base, const char *account, const char *email, const ks_audit_entry *audit)
{
    return ks_people_member_remove(base, &PRIMS, account, email, audit);
}

int pg_invitation_accept(ks_store *base, const ks_digest *id_hash, int64_t now, const char *password_hash,
                         const ks_audit_entry *audit)
{
    return ks_people_invitation_accept(base, &PRIMS, id_hash, now, password_hash, audit);
}

int pg_person_password_set(ks_store *base, int64_t person_id, const char *password_hash, const ks_digest *keep)
{
    return ks_people_password_set(base, &PRIMS, person_id, password_hash, keep);
}

/* One UPDATE of a person by id: NOT_FOUND when there is no such person;
 * with gone_if_unchanged, KS_ERR_GONE when the person is there but the
 * statement's condition changed nothing. */
struct person_update_args {
    pg_query q;
    const pg_params *p;
    int64_t person_id;
    int gone_if_unchanged;
};

static int person_update_in_tx(pg_store *s, void *arg)
{
    const struct person_update_args *a = arg;
    int rc;
    PGresult *r = pg_exec(s, a->q, a->p, &rc);
    int64_t changed = r ? pg_changed(r) : 0;
    PQclear(r);
    if (rc != KS_OK || changed > 0)
        return rc;
    pg_params p = {0};
    pg_int(&p, a->person_id);
    r = pg_exec(s, P_PERSON_EXISTS, &p, &rc);
    int exists = r && PQntuples(r) == 1;
    PQclear(r);
    if (rc != KS_OK)
        return rc;
    if (!exists)
        return KS_ERR_NOT_FOUND;
    return a->gone_if_unchanged ? KS_ERR_GONE : KS_OK;
}

int pg_person_totp_set(ks_store *base, int64_t person_id, const unsigned char *sealed, size_t sealed_len,
                       int enabled)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    if (sealed)
        pg_bytes(&p, sealed, sealed_len);
    else
        pg_text(&p, NULL);
    pg_int(&p, sealed ? enabled : 0);
    struct person_update_args a = {P_PERSON_SET_TOTP, &p, person_id, 0};
    return pg_write_tx((pg_store *)base, person_update_in_tx, &a);
}

int pg_person_totp_step_use(ks_store *base, int64_t person_id, int64_t step)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_int(&p, step);
    struct person_update_args a = {P_PERSON_TOTP_STEP, &p, person_id, 1};
    return pg_write_tx((pg_store *)base, person_update_in_tx, &a);
}

int pg_person_signed_in(ks_store *base, int64_t person_id, int64_t now, int via_sso)
{
    pg_params p = {0};
    pg_int(&p, person_id);
    pg_int(&p, now);
    pg_int(&p, via_sso ? 1 : 0);
    struct person_update_args a = {P_PERSON_SIGNED_IN, &p, person_id, 0};
    return pg_write_tx((pg_store *)base, person_update_in_tx, &a);
}

/* ---- failed sign-ins ---- */

struct failure_args {
    const ks_digest *email_hash;
    int64_t now, purge_before, since;
    int64_t *times;
    size_t max, n;
};

static int failure_add_in_tx(pg_store *s, void *arg)
{
    const struct failure_args *a = arg;
    pg_params purge = {0};
    pg_int(&purge, a->purge_before);
    int rc = pg_run(s, P_SIGNIN_FAILURE_PURGE, &purge);
    if (rc != KS_OK)
        return rc;
    pg_params p = {0};
    pg_bytes(&p, a->email_hash->bytes, KS_DIGEST_LEN);
    pg_int(&p, a->now);
    return pg_run(s, P_SIGNIN_FAILURE_ADD, &p);
}

int pg_signin_failure_add(ks_store *base, const ks_digest *email_hash, int64_t now, int64_t purge_before)
{
    struct failure_args a = {email_hash, now, purge_before, 0, NULL, 0, 0};
    return pg_write_tx((pg_store *)base, failure_add_in_tx, &a);
}

static int failures_in_tx(pg_store *s, void *arg)
{
    struct failure_args *a = arg;
    pg_params p = {0};
    pg_bytes(&p, a->email_hash->bytes, KS_DIGEST_LEN);
    pg_int(&p, a->since);
    pg_int(&p, (int64_t)a->max);
    int rc;
    PGresult *r = pg_exec(s, P_SIGNIN_FAILURES, &p, &rc);
    for (int i = 0; r && i < PQntuples(r) && a->n < a->max; i++)
        a->times[a->n++] = pg_get_int(r, i, 0);
    PQclear(r);
    return rc;
}

int pg_signin_failures(ks_store *base, const ks_digest *email_hash, int64_t since, int64_t *times, size_t max,
                       size_t *n)
{
    struct failure_args a = {email_hash, 0, 0, since, times, max, 0};
    int rc = pg_read_tx((pg_store *)base, failures_in_tx, &a);
    *n = rc == KS_OK ? a.n : 0;
    return rc;
}

static int failures_clear_in_tx(pg_store *s, void *arg)
{
    const ks_digest *email_hash = arg;
    pg_params p = {0};
    pg_bytes(&p, email_hash->bytes, KS_DIGEST_LEN);
    return pg_run(s, P_SIGNIN_FAILURES_CLEAR, &p);
}

int pg_signin_failures_clear(ks_store *base, const ks_digest *email_hash)
{
    return pg_write_tx((pg_store *)base, failures_clear_in_tx, (void *)email_hash);
}

struct person_session_args {
    const ks_digest *hash;
    int64_t person_id;
    const char *via;
    int64_t now;
};

static int person_session_in_tx(pg_store *s, void *arg)
{
    const struct person_session_args *a = arg;
    pg_params p = {0};
    pg_bytes(&p, a->hash->bytes, KS_DIGEST_LEN);
    pg_int(&p, a->person_id);
    pg_text(&p, a->via);
    pg_int(&p, a->now);
    return pg_run(s, P_PERSON_SESSION_INSERT, &p); /* an unknown person: NOT_FOUND (foreign key) */
}

int pg_person_session_create(ks_store *base, const ks_digest *hash, int64_t person_id, const char *via,
                             int64_t now)
{
    struct person_session_args a = {hash, person_id, via, now};
    return pg_write_tx((pg_store *)base, person_session_in_tx, &a);
}
