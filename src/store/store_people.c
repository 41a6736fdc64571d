/* store_people.c - the people store's rules, once for both backends
 * (store_people.h), and the record frees of store.h's people types. */
#include "store/store_people.h"
#include "core/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void ks_membership_free(ks_membership *m)
{
    if (m)
        ks_strlist_free(&m->roles);
}

void ks_memberships_free(ks_membership *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        ks_membership_free(&items[i]);
    free(items);
}

void ks_member_free(ks_member *m)
{
    if (!m)
        return;
    ks_membership_free(&m->membership);
    sodium_memzero(&m->person, sizeof m->person); /* a password hash, a sealed secret */
}

void ks_members_free(ks_member *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        ks_member_free(&items[i]);
    free(items);
}

/* The person and its membership in account: NOT_FOUND when either is
 * missing. */
static int member_find(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                       ks_person *person, int *active)
{
    int rc = p->person_find(s, email, person);
    if (rc == KS_OK)
        rc = p->membership_find(s, person->id, account, active);
    return rc;
}

static int member_add_body(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                            const ks_strlist *roles, int64_t now, const ks_invitation *inv, int *invited,
                            const ks_audit_entry *audit)
{
    ks_person person;
    int active, rc;
    *invited = 0;
    if ((rc = p->person_insert(s, email, now)) != KS_OK || (rc = p->person_find(s, email, &person)) != KS_OK)
        return rc;
    rc = p->membership_find(s, person.id, account, &active);
    if (rc == KS_OK)
        rc = KS_ERR_NAME_TAKEN;
    else if (rc == KS_ERR_NOT_FOUND)
        rc = p->membership_insert(s, person.id, account, now);
    if (rc == KS_OK && roles && roles->count)
        if ((rc = p->roles_exist(s, account, roles)) == KS_OK)
            rc = p->membership_roles_write(s, person.id, account, roles);
    /* Only a person who cannot sign in yet gets a link to set a password. */
    if (rc == KS_OK && inv && !person.password_hash[0]) {
        rc = p->invitation_insert(s, person.id, account, inv, now);
        *invited = rc == KS_OK;
    }
    if (rc == KS_OK)
        rc = p->audit_insert(s, audit);
    sodium_memzero(&person, sizeof person);
    if (rc != KS_OK)
        *invited = 0;
    return rc;
}

/* KS_ERR_LAST_OWNER when the change took the account's last active Owner
 * away (there were `before`). */
static int owner_kept(ks_store *s, const ks_people_prims *p, const char *account, int64_t before)
{
    int64_t after = 0;
    int rc = p->owner_count(s, account, 0, &after);
    if (rc != KS_OK)
        return rc;
    return before > 0 && after == 0 ? KS_ERR_LAST_OWNER : KS_OK;
}

static int member_update_body(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                               const ks_strlist *roles, int status, const ks_audit_entry *audit)
{
    ks_person person;
    int active = 0;
    int64_t owners = 0;
    int rc = p->owner_count(s, account, 1, &owners); /* the guard first: PostgreSQL locks the account */
    if (rc == KS_OK)
        rc = member_find(s, p, account, email, &person, &active);
    if (rc == KS_OK && status >= 0)
        rc = p->membership_set_active(s, person.id, account, status);
    if (rc == KS_OK && roles && (rc = p->roles_exist(s, account, roles)) == KS_OK)
        rc = p->membership_roles_write(s, person.id, account, roles);
    if (rc == KS_OK)
        rc = owner_kept(s, p, account, owners);
    /* Deactivated: its sessions end now, on every node (they live here). */
    if (rc == KS_OK && status == KS_KEY_INACTIVE)
        rc = p->person_sessions_end(s, person.id, NULL);
    if (rc == KS_OK)
        rc = p->audit_insert(s, audit);
    sodium_memzero(&person, sizeof person);
    return rc;
}

static int member_remove_body(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                               const ks_audit_entry *audit)
{
    ks_person person;
    int active = 0;
    int64_t owners = 0;
    int rc = p->owner_count(s, account, 1, &owners);
    if (rc == KS_OK)
        rc = member_find(s, p, account, email, &person, &active);
    if (rc == KS_OK)
        rc = p->membership_delete(s, person.id, account); /* its roles go with it */
    if (rc == KS_OK)
        rc = owner_kept(s, p, account, owners);
    if (rc == KS_OK)
        rc = p->person_sessions_end(s, person.id, NULL);
    if (rc == KS_OK)
        rc = p->audit_insert(s, audit);
    sodium_memzero(&person, sizeof person);
    return rc;
}

int ks_people_invitation_get_tx(ks_store *s, const ks_people_prims *p, const ks_digest *id_hash, int64_t now,
                                ks_invitation_record *out)
{
    int64_t expires_at = 0;
    int used = 0;
    memset(out, 0, sizeof *out);
    int rc = p->invitation_read(s, id_hash, out, &expires_at, &used);
    if (rc == KS_OK && (used || now >= expires_at))
        rc = KS_ERR_GONE;
    return rc;
}

static int invitation_accept_body(ks_store *s, const ks_people_prims *p, const ks_digest *id_hash, int64_t now,
                                   const char *password_hash, const ks_audit_entry *audit)
{
    ks_invitation_record inv;
    int rc = ks_people_invitation_get_tx(s, p, id_hash, now, &inv);
    if (rc == KS_OK)
        rc = p->password_write(s, inv.person_id, password_hash);
    if (rc == KS_OK)
        rc = p->invitations_use(s, inv.person_id, now); /* this one and any other still open */
    if (rc == KS_OK)
        rc = p->audit_insert(s, audit);
    return rc;
}

static int password_set_body(ks_store *s, const ks_people_prims *p, int64_t person_id, const char *password_hash,
                              const ks_digest *keep)
{
    int rc = p->password_write(s, person_id, password_hash);
    if (rc == KS_OK)
        rc = p->person_sessions_end(s, person_id, keep);
    return rc;
}

/* ---- the operations: each body above in one write transaction ---- */

/* The arguments of one operation, for its transaction callback. */
typedef struct {
    const ks_people_prims *p;
    const char *account, *email;
    const ks_strlist *roles;
    int status;
    int64_t now;
    const ks_invitation *inv;
    int *invited;
    const ks_digest *id_hash;
    int64_t person_id;
    const char *password_hash;
    const ks_digest *keep;
    const ks_audit_entry *audit;
} people_write;

static int member_add_in_tx(ks_store *s, void *arg)
{
    const people_write *a = arg;
    return member_add_body(s, a->p, a->account, a->email, a->roles, a->now, a->inv, a->invited, a->audit);
}

int ks_people_member_add(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                         const ks_strlist *roles, int64_t now, const ks_invitation *inv, int *invited,
                         const ks_audit_entry *audit)
{
    people_write a = {.p = p, .account = account, .email = email, .roles = roles, .now = now, .inv = inv,
                      .invited = invited, .audit = audit};
    int rc = p->write_tx(s, member_add_in_tx, &a);
    if (rc != KS_OK)
        *invited = 0;
    return rc;
}

static int member_update_in_tx(ks_store *s, void *arg)
{
    const people_write *a = arg;
    return member_update_body(s, a->p, a->account, a->email, a->roles, a->status, a->audit);
}

int ks_people_member_update(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                            const ks_strlist *roles, int status, const ks_audit_entry *audit)
{
    people_write a = {.p = p, .account = account, .email = email, .roles = roles, .status = status,
                      .audit = audit};
    return p->write_tx(s, member_update_in_tx, &a);
}

static int member_remove_in_tx(ks_store *s, void *arg)
{
    const people_write *a = arg;
    return member_remove_body(s, a->p, a->account, a->email, a->audit);
}

int ks_people_member_remove(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                            const ks_audit_entry *audit)
{
    people_write a = {.p = p, .account = account, .email = email, .audit = audit};
    return p->write_tx(s, member_remove_in_tx, &a);
}

static int invitation_accept_in_tx(ks_store *s, void *arg)
{
    const people_write *a = arg;
    return invitation_accept_body(s, a->p, a->id_hash, a->now, a->password_hash, a->audit);
}

int ks_people_invitation_accept(ks_store *s, const ks_people_prims *p, const ks_digest *id_hash, int64_t now,
                                const char *password_hash, const ks_audit_entry *audit)
{
    people_write a = {.p = p, .id_hash = id_hash, .now = now, .password_hash = password_hash, .audit = audit};
    return p->write_tx(s, invitation_accept_in_tx, &a);
}

static int password_set_in_tx(ks_store *s, void *arg)
{
    const people_write *a = arg;
    return password_set_body(s, a->p, a->person_id, a->password_hash, a->keep);
}

int ks_people_password_set(ks_store *s, const ks_people_prims *p, int64_t person_id, const char *password_hash,
                           const ks_digest *keep)
{
    people_write a = {.p = p, .person_id = person_id, .password_hash = password_hash, .keep = keep};
    return p->write_tx(s, password_set_in_tx, &a);
}
