/*
 * store_people.h - the backend-neutral part of the people store (people,
 * memberships, invitations): the bodies of the write transactions, written
 * once over primitives that each backend gives (sqlite_people.c,
 * pg_people.c), so both keep the same rules: who is created when, when an
 * invitation is stored, the last-Owner guard around a membership change,
 * and which sessions end with it. Not for use outside src/store/.
 *
 * The bodies run inside one write transaction (the backend's, through
 * the write_tx primitive) and return KS_OK or an error after which it
 * rolls back.
 */
#ifndef KS_STORE_PEOPLE_H
#define KS_STORE_PEOPLE_H

#include "store/store.h"

/* The primitives, each inside the caller's transaction. */
typedef struct {
    /* The person of this email: KS_ERR_NOT_FOUND when none. */
    int (*person_find)(ks_store *s, const char *email, ks_person *out);
    /* Makes the person unless the email exists (no error then). */
    int (*person_insert)(ks_store *s, const char *email, int64_t now);
    /* The membership's status: KS_ERR_NOT_FOUND when there is none. */
    int (*membership_find)(ks_store *s, int64_t person_id, const char *account, int *active);
    /* Adds an active membership: KS_ERR_NOT_FOUND for an unknown account. */
    int (*membership_insert)(ks_store *s, int64_t person_id, const char *account, int64_t now);
    int (*membership_set_active)(ks_store *s, int64_t person_id, const char *account, int active);
    int (*membership_delete)(ks_store *s, int64_t person_id, const char *account);
    /* KS_ERR_INVALID when a role does not exist in the account. */
    int (*roles_exist)(ks_store *s, const char *account, const ks_strlist *roles);
    /* Replaces the membership's roles. */
    int (*membership_roles_write)(ks_store *s, int64_t person_id, const char *account, const ks_strlist *roles);
    /* Active principals of the account holding Owner there (keys at home
     * and members), into *n; with lock, the backend first serialises the
     * account's Owner-changing writes (PostgreSQL: the account row lock). */
    int (*owner_count)(ks_store *s, const char *account, int lock, int64_t *n);
    /* Deletes the person's sessions but keep (NULL = all). */
    int (*person_sessions_end)(ks_store *s, int64_t person_id, const ks_digest *keep);
    int (*invitation_insert)(ks_store *s, int64_t person_id, const char *account, const ks_invitation *inv,
                             int64_t now);
    /* The invitation and its state: KS_ERR_NOT_FOUND when unknown. */
    int (*invitation_read)(ks_store *s, const ks_digest *id_hash, ks_invitation_record *out, int64_t *expires_at,
                           int *used);
    /* Marks every unused invitation of the person used at now. */
    int (*invitations_use)(ks_store *s, int64_t person_id, int64_t now);
    int (*password_write)(ks_store *s, int64_t person_id, const char *password_hash);
    /* Appends the audit entry (NULL = none). */
    int (*audit_insert)(ks_store *s, const ks_audit_entry *audit);
    /* Runs fn(s, arg) in one write transaction of the backend (its
     * sq_write_tx / pg_write_tx): fn's result, or a storage error. */
    int (*write_tx)(ks_store *s, int (*fn)(ks_store *s, void *arg), void *arg);
} ks_people_prims;

/* The read of invitation_get, inside the caller's transaction (or lock). */
int ks_people_invitation_get_tx(ks_store *s, const ks_people_prims *p, const ks_digest *id_hash, int64_t now,
                                ks_invitation_record *out);

/* member_add, member_update, member_remove, invitation_accept and
 * person_password_set (see store.h), each in one write transaction of the
 * backend (p->write_tx); a backend's operation only names its primitives. */
int ks_people_member_add(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                         const ks_strlist *roles, int64_t now, const ks_invitation *inv, int *invited,
                         const ks_audit_entry *audit);
int ks_people_member_update(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                            const ks_strlist *roles, int status, const ks_audit_entry *audit);
int ks_people_member_remove(ks_store *s, const ks_people_prims *p, const char *account, const char *email,
                            const ks_audit_entry *audit);
int ks_people_invitation_accept(ks_store *s, const ks_people_prims *p, const ks_digest *id_hash, int64_t now,
                                const char *password_hash, const ks_audit_entry *audit);
int ks_people_password_set(ks_store *s, const ks_people_prims *p, int64_t person_id, const char *password_hash,
                           const ks_digest *keep);

#endif
