/*
 * oidc_person.h - how a finished single sign-on becomes a session: the
 * person of the verified email signs in, if one exists (nobody is created).
 * The function is the people work's (branch `people`, service/sessions.h);
 * this header declares the same signature so the OIDC routes build before
 * it lands. Identical declarations may repeat, so it stays valid after.
 */
#ifndef KS_SERVICE_OIDC_PERSON_H
#define KS_SERVICE_OIDC_PERSON_H

#include "service/sessions.h"

/* Starts a session at `now` for the active person of `email` (lower case),
 * audited with `via`; cookie_out / csrf_out as ks_session_create.
 * KS_OK, KS_ERR_NOT_FOUND when no such active person, or a store error. */
int ks_session_create_person(ks_service *svc, const char *email, const char *via, int64_t now,
                             char cookie_out[KS_SESSION_TEXT_MAX], char csrf_out[KS_SESSION_TEXT_MAX]);

#endif
