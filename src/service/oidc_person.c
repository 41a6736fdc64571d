/*
 * oidc_person.c - TEMPORARY: until persons exist (branch `people` brings
 * the real ks_session_create_person in service/sessions.c), there is no
 * person to sign in, so every single sign-on ends in "no user with this
 * email". Delete this file when merging `people`.
 */
#include "service/oidc_person.h"
#include "core/error.h"

int ks_session_create_person(ks_service *svc, const char *email, const char *via, int64_t now,
                             char cookie_out[KS_SESSION_TEXT_MAX], char csrf_out[KS_SESSION_TEXT_MAX])
{
    (void)svc, (void)email, (void)via, (void)now;
    cookie_out[0] = csrf_out[0] = '\0';
    return KS_ERR_NOT_FOUND;
}
