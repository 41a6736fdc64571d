/*
 * cmd_users.c - `keystile users list|invite|edit|remove`: the people of the
 * account (GET/POST /users, PATCH/DELETE /users/{email}). A person's roles
 * and status are per account; removing a person takes it out of this
 * account only. The invitation link of a new person is printed once, on
 * standard output only.
 */
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/key_view.h"

#include <limits.h>
#include <stdio.h>

static const char *const USER_HEADERS[] = {"EMAIL", "STATUS", "ROLES", "TOTP", "SSO", "CREATED", "LAST-SIGN-IN"};
#define N_USER_COLUMNS (sizeof USER_HEADERS / sizeof *USER_HEADERS)

static ks_table *users_table_new(void)
{
    return ks_table_new(N_USER_COLUMNS, USER_HEADERS);
}

static void users_table_add(ks_table *t, const json_t *person)
{
    static const ks_field ROW[] = {
        {NULL, "email", KS_FIELD_TEXT},      {NULL, "status", KS_FIELD_TEXT},     {NULL, "roles", KS_FIELD_LIST},
        {NULL, "totp", KS_FIELD_YES_NO},     {NULL, "sso", KS_FIELD_YES_NO},      {NULL, "created_at", KS_FIELD_TEXT},
        {NULL, "last_sign_in_at", KS_FIELD_TEXT},
    };
    ks_table_add_fields(t, person, ROW, sizeof ROW / sizeof *ROW);
}

int ks_cmd_users_list(ks_client *c, const ks_args *a)
{
    long limit = 0;
    int rc = ks_args_long(a, "limit", 1, LONG_MAX, &limit);
    if (rc == KS_EXIT_USAGE || (rc = ks_client_open(c, a, 1)) != 0)
        return rc;
    ks_strbuf path;
    ks_client_path_item(c, &path, "users", NULL);
    return ks_client_list_print(c, a, &path, limit, 0, users_table_new(), users_table_add, "users");
}

int ks_cmd_users_invite(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    json_t *body = json_pack("{s:s, s:o}", "email", a->positional, "roles", ks_args_json_array(a, "role"));
    if (!body) {
        fprintf(stderr, "keystile: EMAIL and --role must be UTF-8 text\n");
        return KS_EXIT_USAGE;
    }
    json_t *person = ks_client_call_item(c, "POST", "users", NULL, NULL, body, &rc);
    json_decref(body);
    if (!person)
        return rc;
    const char *email = ks_json_str(person, "email", a->positional);
    const char *url = ks_json_str(person, "invite_url", NULL);
    char message[1024];
    if (url)
        snprintf(message, sizeof message,
                 "Invited %s to account %s. Send them this link to set a password (one-time, valid 72 hours):\n%s",
                 email, c->account, url);
    else
        snprintf(message, sizeof message,
                 "Added %s to account %s; they already have a password and can sign in now.", email, c->account);
    rc = ks_client_item_print(c, person, message, users_table_new(), users_table_add);
    json_decref(person);
    return rc;
}

int ks_cmd_users_edit(ks_client *c, const ks_args *a)
{
    int rc;
    json_t *body = ks_args_roles_status_body(a, 1, &rc);
    if (!body)
        return rc;
    if ((rc = ks_client_open(c, a, 1)) != 0) {
        json_decref(body);
        return rc;
    }
    json_t *person = ks_client_call_item(c, "PATCH", "users", a->positional, NULL, body, &rc);
    json_decref(body);
    if (!person)
        return rc;
    char message[512];
    snprintf(message, sizeof message, "Updated %s in account %s.", ks_json_str(person, "email", a->positional),
             c->account);
    rc = ks_client_item_print(c, person, message, users_table_new(), users_table_add);
    json_decref(person);
    return rc;
}

int ks_cmd_users_remove(ks_client *c, const ks_args *a)
{
    int rc = ks_client_open(c, a, 1);
    if (rc != 0)
        return rc;
    char question[512], done[512];
    snprintf(question, sizeof question, "Remove %s from account %s (and end their sessions)?", a->positional,
             c->account);
    snprintf(done, sizeof done, "Removed %s from account %s; their other accounts are unchanged.", a->positional,
             c->account);
    return ks_client_delete_item(c, a, "users", question, done);
}
