/*
 * sessions.h - web admin sessions: a random cookie whose keyed hash is kept
 * in the store (so sessions survive a restart and no plaintext is on disk),
 * 8 hours idle expiry, and a CSRF token derived from the cookie with the
 * server secret (so it needs no storage and cannot be guessed from outside).
 */
#ifndef KS_SERVICE_SESSIONS_H
#define KS_SERVICE_SESSIONS_H

#include "service/service.h"

#define KS_SESSION_COOKIE "keystile_session"
#define KS_SESSION_IDLE_SECONDS (8 * 3600)
#define KS_SESSION_TEXT_MAX 64 /* base64url of 32 bytes is 43 chars */

/* Starts a session for key_id: cookie_out and csrf_out receive the values.
 * KS_OK, KS_ERR_NOT_FOUND (key gone) or a store error. */
int ks_session_create(ks_service *svc, const char *key_id, char cookie_out[KS_SESSION_TEXT_MAX],
                      char csrf_out[KS_SESSION_TEXT_MAX]);

/* Looks the cookie up: on success fills key_id_out and csrf_out and renews
 * the idle timer. KS_ERR_UNAUTHENTICATED when unknown or idle too long. */
int ks_session_resolve(ks_service *svc, const char *cookie, int64_t now,
                       char key_id_out[KS_KEY_ID_MAX + 1], char csrf_out[KS_SESSION_TEXT_MAX]);

/* Ends the session of this cookie (no error if it was already gone). */
int ks_session_end(ks_service *svc, const char *cookie);

/* 1 when the given CSRF header matches the expected value (constant time). */
int ks_session_csrf_ok(const char *expected, const char *given);

#endif
