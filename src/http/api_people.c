/*
 * api_people.c - the people of an account and invitations:
 *   GET    /api/v1/accounts/{a}/users            200 {"items":[person...]}
 *   POST   /api/v1/accounts/{a}/users            201 person (+ "invite_url" when it has no password yet)
 *   PATCH  /api/v1/accounts/{a}/users/{email}    200 person (roles and/or status)
 *   DELETE /api/v1/accounts/{a}/users/{email}    204
 *   GET    /invite/{id}                          the page that sets a password
 *   POST   /api/v1/invites/{id}/accept           200 {"email"}; 410 gone once used or expired
 * The router authorises the /accounts routes (edit-users, and the
 * delegation checks: roles given, person acted on). Person object:
 * {"email","status","roles","created_at","last_sign_in_at","totp","sso"}.
 */
#include "http/api.h"
#include "http/json_input.h"
#include "http/roles_input.h"
#include "http/key_json.h"
#include "core/error.h"
#include "core/roles.h"
#include "service/people.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *ks_person_to_json(const ks_member *m)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:b, s:b}", "email", m->person.email, "status",
                     m->membership.active ? "active" : "inactive", "roles", ks_strlist_to_json(&m->membership.roles),
                     "created_at", ks_time_to_json(m->person.created_at), "last_sign_in_at",
                     ks_time_to_json(m->person.last_sign_in_at), "totp", m->person.totp_enabled != 0, "sso",
                     m->person.sso != 0);
}

static void person_error(ks_http_request *req, int rc)
{
    if (rc == KS_ERR_NOT_FOUND)
        ks_http_error(req, rc, "No such person in this account.");
    else if (rc == KS_ERR_NAME_TAKEN)
        ks_http_error(req, rc, "This person is already a member of the account: edit it instead.");
    else if (rc == KS_ERR_LAST_OWNER)
        ks_http_error(req, rc, "This is the account's last active principal holding Owner: give Owner to "
                               "another active key or person first.");
    else
        ks_http_error(req, rc, NULL);
}

void ks_api_users_list(ks_http_request *req)
{
    ks_member *items = NULL;
    size_t n = 0;
    int rc = ks_people_list(req->svc, ks_http_account(req), &items, &n);
    if (rc != KS_OK) {
        ks_http_error(req, rc, NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, ks_person_to_json(&items[i]));
    ks_members_free(items, n);
    if (!arr)
        ks_http_error(req, KS_ERR_NOMEM, NULL);
    else
        ks_http_json(req, 200, json_pack("{s:o}", "items", arr));
}

/* The public base URL (--public-url, else from the Host header). */
static void base_url(ks_http_request *req, char *out, size_t cap)
{
    const char *host = ks_http_header_get(req, MHD_HTTP_HEADER_HOST);
    if (req->server_public_url && *req->server_public_url)
        snprintf(out, cap, "%s", req->server_public_url);
    else
        snprintf(out, cap, "%s://%s", req->tls ? "https" : "http", host ? host : "127.0.0.1");
}

static int email_valid(const char *s)
{
    char norm[KS_EMAIL_MAX + 1];
    return ks_email_normalize(s, norm) == KS_OK;
}

void ks_api_users_invite(ks_http_request *req)
{
    static const char *const FIELDS[] = {"email", "roles", NULL};
    ks_strlist roles = {0};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    const char *email = NULL;
    if (!body)
        goto out;
    json_t *e = json_object_get(body, "email");
    if (!json_is_string(e) || !email_valid(json_string_value(e))) {
        ks_http_error(req, KS_ERR_INVALID, "Field 'email' is required: an email address of at most 254 bytes.");
        goto out;
    }
    email = json_string_value(e);
    if (ks_json_get_string_array(req, body, "roles", KS_KEY_ROLES_MAX, ks_role_name_valid, "role name", &roles) < 0 ||
        !ks_http_roles_exist(req, &roles))
        goto out;
    ks_member m;
    char id[KS_INVITE_ID_MAX];
    int rc = ks_people_invite(req->svc, &req->who, email, &roles, &m, id);
    if (rc != KS_OK) {
        person_error(req, rc);
    } else {
        json_t *obj = ks_person_to_json(&m);
        if (obj && id[0]) {
            char url[600 + KS_INVITE_ID_MAX], base[512];
            base_url(req, base, sizeof base);
            snprintf(url, sizeof url, "%s/invite/%s", base, id);
            json_object_set_new(obj, "invite_url", json_string(url));
            sodium_memzero(url, sizeof url);
            req->res.secret_body = 1; /* the link sets a password: wipe it once sent */
        }
        if (obj)
            ks_http_json(req, 201, obj);
        else
            ks_http_error(req, KS_ERR_NOMEM, NULL);
        ks_member_free(&m);
    }
    sodium_memzero(id, sizeof id);
out:
    json_decref(body);
    ks_strlist_free(&roles);
}

void ks_api_users_update(ks_http_request *req)
{
    ks_strlist roles = {0};
    int has_roles, status;
    json_t *body = ks_http_roles_status_patch(req, &roles, &has_roles, &status);
    if (!body)
        goto out;
    if (has_roles && !ks_http_roles_exist(req, &roles))
        goto out;
    ks_member m;
    int rc = ks_people_update(req->svc, &req->who, ks_http_target(req), has_roles ? &roles : NULL,
                              status, &m);
    if (rc == KS_OK)
        ks_http_json(req, 200, ks_person_to_json(&m));
    else
        person_error(req, rc);
    ks_member_free(&m);
out:
    json_decref(body);
    ks_strlist_free(&roles);
}

void ks_api_users_remove(ks_http_request *req)
{
    int rc = ks_people_remove(req->svc, &req->who, ks_http_target(req));
    if (rc == KS_OK)
        ks_http_json(req, 204, NULL);
    else
        person_error(req, rc);
}

/* ---- invitations ---- */

/* The page uses nothing up: a link preview in a chat app cannot burn it.
 * It is web/invite.html, embedded with the web admin (api_web.c): it reads
 * the id from its own address and POSTs the password to .../accept. */
void ks_api_invite_page(ks_http_request *req)
{
    if (!ks_api_web_serve_file(req, "/invite.html"))
        ks_http_error(req, KS_ERR_NOT_FOUND, "No such endpoint.");
}

void ks_api_invite_accept(ks_http_request *req)
{
    static const char *const FIELDS[] = {"password", NULL};
    json_t *body = ks_json_body_parse(req, FIELDS, 0);
    if (!body)
        return;
    json_t *pw = json_object_get(body, "password");
    const char *id = req->n_segments > 3 ? req->segments[3] : "";
    char email[KS_EMAIL_MAX + 1];
    if (!json_is_string(pw) || ks_password_check(json_string_value(pw), json_string_length(pw)) != KS_OK) {
        ks_http_errorf(req, KS_ERR_INVALID, "Field 'password' is required: %d to %d bytes.", KS_PASSWORD_MIN,
                       KS_PASSWORD_MAX);
    } else {
        int rc = ks_invitation_accept(req->svc, id, json_string_value(pw), json_string_length(pw),
                                      ks_http_client_address(req)[0] ? ks_http_client_address(req) : NULL, email);
        if (rc == KS_OK)
            ks_http_json(req, 200, json_pack("{s:s}", "email", email));
        else if (rc == KS_ERR_NOT_FOUND)
            ks_http_error(req, rc, "No such invitation.");
        else if (rc == KS_ERR_GONE)
            ks_http_error(req, rc, "This invitation was already used or has expired: ask for a new one.");
        else
            ks_http_error(req, rc, NULL);
    }
    json_decref(body); /* the wiping allocator clears the password */
}
