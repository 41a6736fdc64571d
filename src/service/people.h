/*
 * people.h - people as principals (API.md "People"): members of accounts
 * with roles, invited by a one-time link, signing in with email, password
 * and (once enrolled) a TOTP code.
 *
 * A person's authority in an account is what the roles of its ACTIVE
 * membership there give, exactly as a key's roles do (service/authority.h
 * and the delegation checks of http/authorize.c apply unchanged); a person
 * holding Owner counts for the last-Owner rule (store: member_update /
 * member_remove). The audit actor of a person is "user:<email>".
 *
 * Secrets: the password only as Argon2id (core/person.h); the TOTP secret
 * sealed (secretbox) with a key derived from the server secret and the
 * person's id; an invitation id only as its keyed hash, like tokens. None
 * reaches a log, an audit entry or an error message.
 *
 * Errors: KS_ERR_INVALID (a bad email, password or role), NOT_FOUND,
 * NAME_TAKEN (already a member), LAST_OWNER, GONE (a used or expired
 * invitation, a TOTP code used already), UNAUTHENTICATED (wrong
 * credentials), RATE_LIMITED (too many failed sign-ins), store errors.
 */
#ifndef KS_SERVICE_PEOPLE_H
#define KS_SERVICE_PEOPLE_H

#include "core/person.h"
#include "core/totp.h"
#include "service/sessions.h"

#define KS_ACTOR_MAX (5 + KS_EMAIL_MAX + 1)  /* "user:" + email */
#define KS_INVITE_ID_MAX 64                  /* base64url of 32 random bytes */
#define KS_INVITE_LIFETIME (72 * 3600)
#define KS_SIGNIN_WINDOW (15 * 60)           /* failures counted over 15 minutes */
#define KS_SIGNIN_MAX_FAILURES 5             /* then 429 until the window passes */
#define KS_TOTP_ISSUER "Keystile"

/* "user:<email>" into out. */
void ks_person_actor(const char *email, char out[KS_ACTOR_MAX]);

/* The person's standing in account `target` at `now`, as verify would give
 * a key's: KS_VERIFY_OK with roles and resources of its active membership
 * there (target_account = account = target; key_id ""), FORBIDDEN when it
 * has no active membership there, UNKNOWN_KEY when the person is gone.
 * target NULL: OK with no roles (signed in, no account named). email_out
 * (may be NULL) gets the email. KS_OK (then *vr tells), else a store error
 * or NOMEM; free *vr with ks_verify_result_free either way. */
__attribute__((warn_unused_result))
int ks_person_resolve(ks_service *svc, int64_t person_id, const char *target, ks_verify_result *vr,
                      char email_out[KS_EMAIL_MAX + 1]);

/* ---- management of an account's people (people.c) ---- */

/* Adds the person of `email` (made when new) to who->account with roles.
 * When the person has no password yet, a one-time invitation (72 h) is
 * stored and its id written to invite_id_out; else invite_id_out is "".
 * *out receives the member as stored (free with ks_member_free). */
int ks_people_invite(ks_service *svc, const ks_actor *who, const char *email, const ks_strlist *roles,
                     ks_member *out, char invite_id_out[KS_INVITE_ID_MAX]);
/* Changes roles (NULL = keep) and/or status (-1 = keep) of a member;
 * deactivating ends the person's sessions. *out as in ks_people_invite. */
int ks_people_update(ks_service *svc, const ks_actor *who, const char *email, const ks_strlist *roles, int status,
                     ks_member *out);
/* Removes the person from who->account (its other accounts stay) and ends
 * its sessions. */
int ks_people_remove(ks_service *svc, const ks_actor *who, const char *email);
int ks_people_list(ks_service *svc, const char *account, ks_member **out, size_t *n);
int ks_people_get(ks_service *svc, const char *account, const char *email, ks_member *out);

/* The invitation of this id: NOT_FOUND, GONE, or KS_OK with its email. */
int ks_invitation_check(ks_service *svc, const char *id, char email_out[KS_EMAIL_MAX + 1]);
/* Sets the password of the invited person (ks_password_check rules) and
 * uses the invitation up; audited as user.invite_accept in the inviting
 * account (address may be NULL). email_out gets the email. */
int ks_invitation_accept(ks_service *svc, const char *id, const char *password, size_t len, const char *address,
                         char email_out[KS_EMAIL_MAX + 1]);

/* ---- signing in and one's own settings (signin.c) ---- */

/* Signs in by email, password and, when the person has TOTP on, a code.
 * Every call costs one Argon2id verification, whether the email exists
 * or not. After KS_SIGNIN_MAX_FAILURES failures for the email within
 * KS_SIGNIN_WINDOW: KS_ERR_RATE_LIMITED with *retry_after (seconds)
 * without looking at the password. A missing TOTP code with a right
 * password: KS_ERR_UNAUTHENTICATED with *totp_required = 1 (not counted as
 * a failure); a wrong or reused code is a failure. On KS_OK the session
 * is made as ks_session_create_person_at(..., "session", ...). */
int ks_person_sign_in(ks_service *svc, const char *email, const char *password, size_t len, const char *totp,
                      const char *address, int64_t now, char cookie_out[KS_SESSION_TEXT_MAX],
                      char csrf_out[KS_SESSION_TEXT_MAX], int64_t *retry_after, int *totp_required);

/* Changes the password after checking the current one (UNAUTHENTICATED
 * when wrong; INVALID for a new one outside the rules), ending every other
 * session of the person (keep_cookie's stays). Audited user.password_change
 * in the person's active accounts by who (actor, via, address). */
int ks_person_password_change(ks_service *svc, const ks_actor *who, int64_t person_id, const char *current,
                              size_t current_len, const char *new_password, size_t new_len,
                              const char *keep_cookie);

/* TOTP enrolment: a new secret, stored sealed and not yet required;
 * secret_out (base32) and uri_out (otpauth://, KS_TOTP_URI_MAX) are shown
 * to the person once. A person with TOTP on must remove it first
 * (KS_ERR_NAME_TAKEN). */
int ks_person_totp_enrol(ks_service *svc, const ks_actor *who, int64_t person_id,
                         char secret_out[KS_TOTP_BASE32_MAX], char uri_out[KS_TOTP_URI_MAX]);
/* Confirms enrolment with a code of the new secret: from then on sign-in
 * needs a code. UNAUTHENTICATED for a wrong code, NOT_FOUND when nothing
 * is being enrolled. */
int ks_person_totp_confirm(ks_service *svc, const ks_actor *who, int64_t person_id, const char *code, int64_t now);
/* Turns TOTP off, given a current code. NOT_FOUND when it is off. */
int ks_person_totp_remove(ks_service *svc, const ks_actor *who, int64_t person_id, const char *code, int64_t now);

/* Checks a TOTP code of the person's (enabled or pending) secret at now and
 * uses it up: KS_OK, UNAUTHENTICATED (wrong), GONE (used already). */
__attribute__((warn_unused_result))
int ks_person_totp_use(ks_service *svc, const ks_person *person, const char *code, int64_t now);

/* Audits `action` (target the email) in every account where the person
 * of person_id is an active member, by who; failures are ignored (logged
 * by nobody: the action itself happened). */
void ks_person_audit(ks_service *svc, const ks_actor *who, int64_t person_id, const char *action,
                     const char *target);

#endif
