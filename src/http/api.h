/*
 * api.h - the route handlers, one file per resource family:
 * api_verify.c (verify, healthz), api_keys.c (keys and token renewal),
 * api_roles.c (roles), api_account.c (settings, audit), api_external.c
 * (external keys), api_export.c (CSV / XLSX export), api_webhooks.c
 * (webhooks and their deliveries).
 * Path parameters: segments[3] is the account, segments[5] the key or role.
 */
#ifndef KS_HTTP_API_H
#define KS_HTTP_API_H

#include "http/http.h"

void ks_api_healthz(ks_http_request *req);

/* Serves an embedded web admin file for a GET; 0 when no file matches. */
int ks_api_web_serve(ks_http_request *req);
/* Serves the embedded file at `path` ("/invite.html") with the web admin's
 * headers (strict CSP, no framing), whatever the request path is: for routes
 * whose page is a file of web/ (GET /invite/{id}). 0 when no such file. */
int ks_api_web_serve_file(ks_http_request *req, const char *path);
void ks_api_verify(ks_http_request *req);
void ks_api_secret_scanning_github(ks_http_request *req); /* api_secret_scanning.c */
void ks_api_metrics(ks_http_request *req);

void ks_api_session_create(ks_http_request *req);
void ks_api_session_show(ks_http_request *req);
void ks_api_session_delete(ks_http_request *req);

void ks_api_login(ks_http_request *req);
/* single sign-on (api_oidc.c) */
void ks_api_oidc_config(ks_http_request *req);
void ks_api_oidc_login(ks_http_request *req);
void ks_api_oidc_callback(ks_http_request *req);
void ks_api_jwks(ks_http_request *req);
void ks_api_share_page(ks_http_request *req);
void ks_api_share_reveal(ks_http_request *req);

/* Makes a one-time share link for a new token; writes its URL into out. */
int ks_http_share_url(ks_http_request *req, const char *key_id, const char *token, char *out, size_t cap);
/* The URL of the share link with id `id` (made already), into out. */
void ks_http_share_url_of(ks_http_request *req, const char *id, char *out, size_t cap);

void ks_api_keys_list(ks_http_request *req);
void ks_api_keys_create(ks_http_request *req);
void ks_api_keys_show(ks_http_request *req);
void ks_api_keys_usage(ks_http_request *req);   /* api_usage.c */
void ks_api_account_usage(ks_http_request *req);
void ks_api_keys_update(ks_http_request *req);
void ks_api_keys_delete(ks_http_request *req);
void ks_api_keys_renew(ks_http_request *req);
void ks_api_keys_delete_old_token(ks_http_request *req);
void ks_api_keys_undo_renewal(ks_http_request *req);

void ks_api_keys_export(ks_http_request *req);

void ks_api_external_list(ks_http_request *req);
void ks_api_external_add(ks_http_request *req);
void ks_api_external_update(ks_http_request *req);
void ks_api_external_remove(ks_http_request *req);

void ks_api_roles_list(ks_http_request *req);
void ks_api_roles_create(ks_http_request *req);
void ks_api_roles_update(ks_http_request *req);
void ks_api_roles_delete(ks_http_request *req);

/* People (api_people.c) and the signed-in principal (api_me.c). */
void ks_api_users_list(ks_http_request *req);
void ks_api_users_invite(ks_http_request *req);
void ks_api_users_update(ks_http_request *req);
void ks_api_users_remove(ks_http_request *req);
void ks_api_invite_page(ks_http_request *req);
void ks_api_invite_accept(ks_http_request *req);
void ks_api_me(ks_http_request *req);
void ks_api_me_password(ks_http_request *req);
void ks_api_me_totp_enrol(ks_http_request *req);
void ks_api_me_totp_confirm(ks_http_request *req);
void ks_api_me_totp_remove(ks_http_request *req);
/* The person object of API.md; NULL on NOMEM. */
json_t *ks_person_to_json(const ks_member *m);
/* The "me" objects: a person's (by id; *rc the error when NULL) and a key's. */
json_t *ks_me_person_json(ks_service *svc, int64_t person_id, int *rc);
json_t *ks_me_key_json(const ks_verify_result *vr);
void ks_api_webhooks_list(ks_http_request *req);
void ks_api_webhooks_create(ks_http_request *req);
void ks_api_webhooks_show(ks_http_request *req);
void ks_api_webhooks_update(ks_http_request *req);
void ks_api_webhooks_delete(ks_http_request *req);
void ks_api_webhooks_deliveries(ks_http_request *req);
void ks_api_webhooks_test(ks_http_request *req);

void ks_api_settings_get(ks_http_request *req);
void ks_api_settings_put(ks_http_request *req);
void ks_api_audit_list(ks_http_request *req);

#endif
