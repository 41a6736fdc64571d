/*
 * sessions.h - web admin sessions: a random cookie whose keyed hash is kept
 * in the store (so sessions survive a restart, work on every node, and no
 * plaintext is on disk), and a CSRF token derived from the cookie with the
 * server secret (so it needs no storage and cannot be guessed from outside).
 *
 * A session is bound to the API token that signed in: the store keeps that
 * token's keyed hash (the digest its key's slot holds), and every use checks
 * it against the in-memory index as verify would (ks_verify_bound), so the
 * session stops working the moment the token stops verifying (renew now,
 * undo renewal, delete old token, deactivate, delete key, enforced
 * duration), on every node, since every node's index follows the change
 * feed. A session also ends KS_SESSION_MAX_SECONDS after sign-in whatever
 * its use, and after KS_SESSION_IDLE_SECONDS without use.
 *
 * A person's session (ks_session_create_person) is bound to the person:
 * its authority in an account is read from the store on every use (the
 * person's active membership there, service/people.h), and the store
 * deletes the person's sessions in the transaction that deactivates or
 * removes a membership or sets the password, so they end on every node at
 * once.
 */
#ifndef KS_SERVICE_SESSIONS_H
#define KS_SERVICE_SESSIONS_H

#include "service/service.h"
#include "verify/verify.h"

#define KS_SESSION_COOKIE "keystile_session"
#define KS_SESSION_IDLE_SECONDS 3600        /* ends after 1 h without use */
#define KS_SESSION_MAX_SECONDS (12 * 3600)  /* and 12 h after sign-in in any case */
#define KS_SESSION_TEXT_MAX 64 /* base64url of 32 bytes is 43 chars */

/* A session found by its cookie: a key's (key_id set) or a person's
 * (person_id set; email filled by ks_session_resolve). */
typedef struct {
    char key_id[KS_KEY_ID_MAX + 1];   /* "" for a person's session */
    ks_digest token_hash;             /* the token that signed in (keyed hash) */
    int64_t person_id;                /* 0 for a key's session */
    char via[8];                      /* a person's: "session" or "oidc" (audit "via") */
    char email[KS_EMAIL_MAX + 1];     /* a person's, once resolved */
    char csrf[KS_SESSION_TEXT_MAX];   /* what X-CSRF-Token must say */
} ks_session;

/* Starts a session at `now` for key_id, signed in with the token whose
 * keyed hash is token_hash: cookie_out and csrf_out receive the values.
 * KS_OK, KS_ERR_NOT_FOUND (key gone) or a store error. */
int ks_session_create(ks_service *svc, const char *key_id, const ks_digest *token_hash, int64_t now,
                      char cookie_out[KS_SESSION_TEXT_MAX], char csrf_out[KS_SESSION_TEXT_MAX]);

/* Starts a session at `now` for the existing person of `email` (already
 * verified: by password and TOTP, or by the OpenID Connect provider) who
 * has at least one active membership; via is "session" (password) or
 * "oidc" and becomes the audit "via" of what the session does. Records the
 * sign-in (last_sign_in_at; sso for "oidc") and audits session.create in
 * each account where the person is active (actor "user:<email>", address
 * NULL: the HTTP layer audits with the address when it has one, see
 * ks_session_create_person_at). Nobody is created. cookie_out and csrf_out
 * receive the values. KS_OK, KS_ERR_NOT_FOUND (no such person, or not
 * active anywhere), KS_ERR_INVALID (a bad email or via) or a store error. */
int ks_session_create_person(ks_service *svc, const char *email, const char *via, int64_t now,
                             char cookie_out[KS_SESSION_TEXT_MAX], char csrf_out[KS_SESSION_TEXT_MAX]);

/* ks_session_create_person with the client address for the audit entries
 * (NULL = none). */
int ks_session_create_person_at(ks_service *svc, const char *email, const char *via, const char *address,
                                int64_t now, char cookie_out[KS_SESSION_TEXT_MAX],
                                char csrf_out[KS_SESSION_TEXT_MAX]);

/* Looks the cookie up at `now` and renews its idle timer; fills *out. Only
 * the session's own limits are checked here, not its token (see
 * ks_session_resolve): enough to sign out. KS_ERR_UNAUTHENTICATED when
 * unknown, idle too long or past its maximum age; else KS_OK or a store
 * error. Wipe *out after use. */
int ks_session_lookup(ks_service *svc, const char *cookie, int64_t now, ks_session *out);

/* ks_session_lookup, then the checks of verify for the session's key and
 * token in account `target` (NULL: the key's home account) at `now`, into
 * *vr (free it with ks_verify_result_free whatever the result). KS_OK means
 * *vr tells the outcome (KS_VERIFY_OK: the token still verifies); else
 * KS_ERR_UNAUTHENTICATED as ks_session_lookup, KS_ERR_NOMEM or a store
 * error. For a person's session *vr is the person's standing in target
 * (ks_person_resolve in people.h) and out->email is filled. */
__attribute__((warn_unused_result))
int ks_session_resolve(ks_service *svc, const char *cookie, const char *target, int64_t now, ks_session *out,
                       ks_verify_result *vr);

/* Ends the session of this cookie (no error if it was already gone). */
int ks_session_end(ks_service *svc, const char *cookie);

/* 1 when the given CSRF header matches the expected value (constant time). */
__attribute__((warn_unused_result))
int ks_session_csrf_ok(const char *expected, const char *given);

#endif
