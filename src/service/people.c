/*
 * people.c - an account's people: invite, change, remove, list; invitations;
 * a person's standing in an account (see people.h). Signing in, passwords
 * and TOTP are in signin.c.
 */
#include "service/people.h"
#include "service/service_internal.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/roles.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ks_person_actor(const char *email, char out[KS_ACTOR_MAX])
{
    snprintf(out, KS_ACTOR_MAX, "user:%s", email);
}

/* Adds to vr the sorted, unique resources of the named roles, from the
 * account's role definitions. */
static int resources_of(ks_service *svc, const char *account, const ks_strlist *roles, ks_strlist *out)
{
    ks_role *defs = NULL;
    size_t n = 0;
    int rc = ks_service_role_list(svc, account, &defs, &n);
    for (size_t i = 0; rc == KS_OK && i < roles->count; i++)
        for (size_t j = 0; rc == KS_OK && j < n; j++)
            if (strcmp(defs[j].name, roles->items[i]) == 0)
                for (size_t k = 0; rc == KS_OK && k < defs[j].resources.count; k++)
                    if (!ks_strlist_contains(out, defs[j].resources.items[k]))
                        rc = ks_strlist_add(out, defs[j].resources.items[k]);
    ks_roles_free(defs, n);
    if (rc == KS_OK && out->count > 1) {
        int sorted; /* a few dozen at most: insertion sort, as verify's resources are sorted */
        do {
            sorted = 1;
            for (size_t i = 1; i < out->count; i++)
                if (strcmp(out->items[i - 1], out->items[i]) > 0) {
                    char *t = out->items[i - 1];
                    out->items[i - 1] = out->items[i];
                    out->items[i] = t;
                    sorted = 0;
                }
        } while (!sorted);
    }
    return rc;
}

int ks_person_resolve(ks_service *svc, int64_t person_id, const char *target, ks_verify_result *vr,
                      char email_out[KS_EMAIL_MAX + 1])
{
    memset(vr, 0, sizeof *vr);
    vr->slot = KS_SLOT_NONE;
    vr->reason = KS_VERIFY_UNKNOWN_KEY;
    ks_person person;
    int rc = svc->store->ops->person_get_by_id(svc->store, person_id, &person);
    if (rc == KS_ERR_NOT_FOUND)
        return KS_OK; /* gone: unknown */
    if (rc != KS_OK)
        return rc;
    if (email_out)
        memcpy(email_out, person.email, sizeof person.email);
    sodium_memzero(&person, sizeof person);
    if (!target) {
        vr->reason = KS_VERIFY_OK;
        return KS_OK;
    }
    snprintf(vr->account, sizeof vr->account, "%s", target);
    snprintf(vr->target_account, sizeof vr->target_account, "%s", target);
    ks_membership *ms = NULL;
    size_t n = 0;
    rc = svc->store->ops->person_memberships(svc->store, person_id, &ms, &n);
    vr->reason = KS_VERIFY_FORBIDDEN;
    for (size_t i = 0; rc == KS_OK && i < n; i++) {
        if (strcmp(ms[i].account, target) != 0 || !ms[i].active)
            continue;
        if ((rc = ks_strlist_copy(&vr->roles, &ms[i].roles)) == KS_OK &&
            (rc = resources_of(svc, target, &ms[i].roles, &vr->resources)) == KS_OK)
            vr->reason = KS_VERIFY_OK;
    }
    ks_memberships_free(ms, n);
    return rc;
}

/* ---- an account's people ---- */

/* {"email","roles"} or {"email","roles","status"} as audit detail. */
static char *member_detail(const char *email, const ks_strlist *roles, int status)
{
    json_t *d = json_pack("{s:s}", "email", email);
    if (d && roles)
        json_object_set_new(d, "roles", ks_service_detail_strings(roles));
    if (d && status >= 0)
        json_object_set_new(d, "status", json_string(status == KS_KEY_ACTIVE ? "active" : "inactive"));
    return ks_service_detail_text(d);
}

/* A new invitation id (id_out) and what the store keeps of it. */
static void invitation_new(const ks_service *svc, char id_out[KS_INVITE_ID_MAX], ks_invitation *inv)
{
    unsigned char rnd[32];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(id_out, KS_INVITE_ID_MAX, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    ks_token_hash(&svc->secret, id_out, strlen(id_out), &inv->id_hash);
    inv->expires_at = ks_clock_now() + KS_INVITE_LIFETIME;
}

int ks_people_invite(ks_service *svc, const ks_actor *who, const char *email, const ks_strlist *roles,
                     ks_member *out, char invite_id_out[KS_INVITE_ID_MAX])
{
    char norm[KS_EMAIL_MAX + 1];
    invite_id_out[0] = '\0';
    memset(out, 0, sizeof *out);
    if (ks_email_normalize(email, norm) != KS_OK)
        return KS_ERR_INVALID;
    ks_invitation inv;
    invitation_new(svc, invite_id_out, &inv);
    char *detail = member_detail(norm, roles, -1);
    if (!detail) {
        sodium_memzero(invite_id_out, KS_INVITE_ID_MAX);
        return KS_ERR_NOMEM;
    }
    ks_audit_entry audit = ks_service_audit_of(who, "user.invite", norm, detail);
    int invited = 0;
    int rc = svc->store->ops->member_add(svc->store, who->account, norm, roles, audit.at, &inv, &invited, &audit);
    free(detail);
    if (rc != KS_OK || !invited)
        sodium_memzero(invite_id_out, KS_INVITE_ID_MAX);
    if (rc == KS_OK)
        rc = svc->store->ops->member_get(svc->store, who->account, norm, out);
    return rc;
}

int ks_people_update(ks_service *svc, const ks_actor *who, const char *email, const ks_strlist *roles, int status,
                     ks_member *out)
{
    char norm[KS_EMAIL_MAX + 1];
    memset(out, 0, sizeof *out);
    if (ks_email_normalize(email, norm) != KS_OK)
        return KS_ERR_NOT_FOUND; /* no such member can exist */
    char *detail = member_detail(norm, roles, status);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "user.update", norm, detail);
    int rc = svc->store->ops->member_update(svc->store, who->account, norm, roles, status, &audit);
    free(detail);
    if (rc == KS_OK)
        rc = svc->store->ops->member_get(svc->store, who->account, norm, out);
    return rc;
}

int ks_people_remove(ks_service *svc, const ks_actor *who, const char *email)
{
    char norm[KS_EMAIL_MAX + 1];
    if (ks_email_normalize(email, norm) != KS_OK)
        return KS_ERR_NOT_FOUND;
    char *detail = member_detail(norm, NULL, -1);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "user.remove", norm, detail);
    int rc = svc->store->ops->member_remove(svc->store, who->account, norm, &audit);
    free(detail);
    return rc;
}

int ks_people_list(ks_service *svc, const char *account, ks_member **out, size_t *n)
{
    return svc->store->ops->member_list(svc->store, account, out, n);
}

int ks_people_get(ks_service *svc, const char *account, const char *email, ks_member *out)
{
    char norm[KS_EMAIL_MAX + 1];
    memset(out, 0, sizeof *out);
    if (ks_email_normalize(email, norm) != KS_OK)
        return KS_ERR_NOT_FOUND;
    return svc->store->ops->member_get(svc->store, account, norm, out);
}

/* ---- invitations ---- */

/* The keyed hash of an invitation id; KS_ERR_NOT_FOUND for an id that
 * cannot be one (too long). */
static int invitation_hash(const ks_service *svc, const char *id, ks_digest *out)
{
    size_t n = id ? strnlen(id, KS_INVITE_ID_MAX) : 0;
    if (n == 0 || n >= KS_INVITE_ID_MAX)
        return KS_ERR_NOT_FOUND;
    ks_token_hash(&svc->secret, id, n, out);
    return KS_OK;
}

int ks_invitation_check(ks_service *svc, const char *id, char email_out[KS_EMAIL_MAX + 1])
{
    ks_digest hash;
    ks_invitation_record rec;
    email_out[0] = '\0';
    int rc = invitation_hash(svc, id, &hash);
    if (rc == KS_OK)
        rc = svc->store->ops->invitation_get(svc->store, &hash, ks_clock_now(), &rec);
    if (rc == KS_OK)
        memcpy(email_out, rec.email, sizeof rec.email);
    return rc;
}

int ks_invitation_accept(ks_service *svc, const char *id, const char *password, size_t len, const char *address,
                         char email_out[KS_EMAIL_MAX + 1])
{
    ks_digest hash;
    ks_invitation_record rec;
    char pw_hash[KS_PASSWORD_HASH_MAX];
    int64_t now = ks_clock_now();
    email_out[0] = '\0';
    int rc = invitation_hash(svc, id, &hash);
    if (rc == KS_OK)
        rc = svc->store->ops->invitation_get(svc->store, &hash, now, &rec); /* 404 / 410 before the hash's cost */
    if (rc != KS_OK)
        return rc;
    if ((rc = ks_password_hash(password, len, pw_hash)) != KS_OK)
        return rc;
    char actor[KS_ACTOR_MAX];
    ks_person_actor(rec.email, actor);
    ks_actor who = {actor, rec.account, "session", address};
    ks_audit_entry audit = ks_service_audit_of(&who, "user.invite_accept", rec.email, NULL);
    rc = svc->store->ops->invitation_accept(svc->store, &hash, now, pw_hash, &audit);
    sodium_memzero(pw_hash, sizeof pw_hash);
    if (rc == KS_OK)
        memcpy(email_out, rec.email, sizeof rec.email);
    return rc;
}

void ks_person_audit(ks_service *svc, const ks_actor *who, int64_t person_id, const char *action,
                     const char *target)
{
    ks_membership *ms = NULL;
    size_t n = 0;
    if (svc->store->ops->person_memberships(svc->store, person_id, &ms, &n) != KS_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!ms[i].active)
            continue;
        ks_actor in = *who;
        in.account = ms[i].account;
        ks_audit_entry audit = ks_service_audit_of(&in, action, target, NULL);
        (void)svc->store->ops->audit_append(svc->store, &audit);
    }
    ks_memberships_free(ms, n);
}
