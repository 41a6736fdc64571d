/*
 * fuzz_json.c - request body decoding (src/http/json_input.h) as the
 * handlers run it.
 *
 * The input is a request body. It is decoded for every endpoint that takes
 * one, with that endpoint's allowed fields, and run through the same getters
 * in the same order as its handler (src/http/api_keys.c, api_roles.c,
 * api_account.c, api_external.c), up to the point where the handler would
 * call the service. Runs without a server: the request lives on the stack,
 * errors land in req.res, which is freed after each endpoint. jansson uses
 * the wiping allocator, as in the server.
 *
 * Properties (abort() when violated):
 *  - a getter returning -1, a NULL from ks_json_body_parse, or a handler's
 *    own rejection leaves a 400 invalid_request error body; a body every
 *    step accepts leaves no response at all;
 *  - a string a getter accepts has its length in characters within the
 *    bounds, is valid UTF-8, has no NUL inside and no control characters
 *    (tab, CR and LF only for free text);
 *  - an accepted string array holds at most max items, each valid and all
 *    distinct; a rejected one is left empty (freed);
 *  - an accepted enum is the index of the exact choice string.
 */
#include "fuzz_util.h"

#include "core/error.h"
#include "core/roles.h"
#include "core/token_age.h"
#include "http/json_input.h"

#define KEY_NAME_MAX 100 /* as in api_keys.c */

static const char *const STATUS[] = {"inactive", "active", NULL};
static const char *const MODES[] = {"later", "now", NULL};

/* The request as the server would hand it to a handler. */
static void request_init(ks_http_request *req, const char *body, size_t len)
{
    memset(req, 0, sizeof *req);
    req->method = "POST";
    req->body = body;
    req->body_len = len;
}

/* 1 when the response is the 400 invalid_request error of API.md.
 * Known bug "error-body-utf8": an error message quoting input bytes cut in
 * the middle of a UTF-8 character makes json_pack fail in ks_http_error,
 * leaving a 400 without a body. */
static int is_invalid_request(const ks_http_request *req)
{
    if (req->res.status == 400 && !req->res.body && fuzz_known_bug("error-body-utf8"))
        return 1;
    json_t *err = json_object_get(req->res.body, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *message = json_string_value(json_object_get(err, "message"));
    return req->res.status == 400 && code && strcmp(code, "invalid_request") == 0 && message && *message;
}

/* Checks the outcome of one endpoint and frees the response. */
static void finish(ks_http_request *req, const char *endpoint, int rejected)
{
    if (rejected)
        FUZZ_CHECK(is_invalid_request(req), "%s: rejected body without a 400 (status %d)", endpoint,
                   req->res.status);
    else
        FUZZ_CHECK(req->res.status == 0 && !req->res.body, "%s: accepted body left status %d", endpoint,
                   req->res.status);
    ks_http_response_free(&req->res);
}

static int has_control(const char *s, int allow_whitespace)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 || *p == 0x7F) && !(allow_whitespace && (*p == '\t' || *p == '\n' || *p == '\r')))
            return 1;
    return 0;
}

/* Checks what a string getter returned; rc as the getter's. */
static void check_string(const ks_http_request *req, json_t *body, const char *field, int rc, const char *s,
                         size_t min_chars, size_t max_chars, int allow_whitespace)
{
    json_t *v = json_object_get(body, field);
    FUZZ_CHECK((rc == 0) == (v == NULL), "'%s': rc %d but field %s", field, rc, v ? "present" : "absent");
    if (rc == -1)
        FUZZ_CHECK(is_invalid_request(req), "'%s': -1 without a 400", field);
    if (rc != 1)
        return;
    long n = ks_utf8_length(s);
    FUZZ_CHECK(n >= (long)min_chars && n <= (long)max_chars, "'%s': %ld characters accepted", field, n);
    FUZZ_CHECK(strlen(s) == json_string_length(v), "'%s': NUL inside accepted", field);
    FUZZ_CHECK(!has_control(s, allow_whitespace), "'%s': control character accepted", field);
    FUZZ_CHECK(s == json_string_value(v), "'%s': result does not point into the body", field);
}

/* Checks what ks_json_get_string_array returned. */
static void check_array(const ks_http_request *req, const char *field, int rc, const ks_strlist *l,
                        size_t max_items, int (*valid)(const char *))
{
    if (rc == -1)
        FUZZ_CHECK(is_invalid_request(req), "'%s': -1 without a 400", field);
    if (rc != 1) {
        FUZZ_CHECK(l->count == 0 && l->items == NULL, "'%s': rc %d left %zu items", field, rc, l->count);
        return;
    }
    FUZZ_CHECK(l->count <= max_items, "'%s': %zu items accepted", field, l->count);
    for (size_t i = 0; i < l->count; i++) {
        FUZZ_CHECK(valid(l->items[i]), "'%s': invalid item %zu accepted", field, i);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(l->items[i], l->items[j]) != 0, "'%s': duplicate item %zu", field, i);
    }
}

static void check_enum(const ks_http_request *req, json_t *body, const char *field, int rc, int out,
                       const char *const *choices)
{
    if (rc == -1)
        FUZZ_CHECK(is_invalid_request(req), "'%s': -1 without a 400", field);
    if (rc != 1)
        return;
    json_t *v = json_object_get(body, field);
    FUZZ_CHECK(out >= 0 && out <= 1, "'%s': index %d", field, out);
    FUZZ_CHECK(json_is_string(v) && json_string_length(v) == strlen(choices[out]) &&
                   strcmp(json_string_value(v), choices[out]) == 0,
               "'%s': accepted a value other than '%s'", field, choices[out]);
}

/* POST /keys: {name, roles} (ks_api_keys_create). */
static void keys_create(const char *data, size_t len)
{
    static const char *const FIELDS[] = {"name", "roles", NULL};
    ks_http_request req;
    request_init(&req, data, len);
    ks_strlist roles = {0};
    int rejected = 1;
    json_t *body = ks_json_body_parse(&req, FIELDS, 0);
    if (!body)
        goto out;
    const char *name = NULL;
    int has_name = ks_json_get_text(&req, body, "name", 1, KEY_NAME_MAX, &name);
    check_string(&req, body, "name", has_name, name, 1, KEY_NAME_MAX, 1);
    if (has_name < 0)
        goto out;
    if (has_name == 0) {
        ks_http_error(&req, KS_ERR_INVALID, "Field 'name' is required (1 to 100 characters).");
        goto out;
    }
    int rc = ks_json_get_string_array(&req, body, "roles", KS_KEY_ROLES_MAX, ks_role_name_valid, "role name", &roles);
    check_array(&req, "roles", rc, &roles, KS_KEY_ROLES_MAX, ks_role_name_valid);
    rejected = rc < 0;
out:
    finish(&req, "keys create", rejected);
    json_decref(body);
    ks_strlist_free(&roles);
}

/* PATCH /keys/{key}: any of {name, roles, status} (ks_api_keys_update). */
static void keys_update(const char *data, size_t len)
{
    static const char *const FIELDS[] = {"name", "roles", "status", NULL};
    ks_http_request req;
    request_init(&req, data, len);
    ks_strlist roles = {0};
    int rejected = 1;
    json_t *body = ks_json_body_parse(&req, FIELDS, 0);
    if (!body)
        goto out;
    const char *name = NULL;
    int status = -1;
    int has_name = ks_json_get_text(&req, body, "name", 1, KEY_NAME_MAX, &name);
    check_string(&req, body, "name", has_name, name, 1, KEY_NAME_MAX, 1);
    int has_status = has_name < 0 ? -1 : ks_json_get_enum(&req, body, "status", STATUS, &status);
    if (has_name >= 0)
        check_enum(&req, body, "status", has_status, status, STATUS);
    int has_roles = has_status < 0 ? -1 :
        ks_json_get_string_array(&req, body, "roles", KS_KEY_ROLES_MAX, ks_role_name_valid, "role name", &roles);
    if (has_status >= 0)
        check_array(&req, "roles", has_roles, &roles, KS_KEY_ROLES_MAX, ks_role_name_valid);
    if (has_name < 0 || has_status < 0 || has_roles < 0)
        goto out;
    if (!has_name && !has_status && !has_roles) {
        ks_http_error(&req, KS_ERR_INVALID, "Send at least one of the fields 'name', 'roles', 'status'.");
        goto out;
    }
    rejected = 0;
out:
    finish(&req, "keys update", rejected);
    json_decref(body);
    ks_strlist_free(&roles);
}

/* POST /keys/{key}/renew: optional {delete_old} (ks_api_keys_renew). */
static void keys_renew(const char *data, size_t len)
{
    static const char *const FIELDS[] = {"delete_old", NULL};
    ks_http_request req;
    request_init(&req, data, len);
    int mode = 0, rejected = 1;
    json_t *body = ks_json_body_parse(&req, FIELDS, 1);
    if (!body)
        goto out;
    int rc = ks_json_get_enum(&req, body, "delete_old", MODES, &mode);
    check_enum(&req, body, "delete_old", rc, mode, MODES);
    rejected = rc < 0;
out:
    FUZZ_CHECK(len != 0 || body, "renew: an empty body must mean {}");
    finish(&req, "keys renew", rejected);
    json_decref(body);
}

/* POST /roles {name, resources} (ks_api_roles_create) and PATCH /roles/{name}
 * with any of them (ks_api_roles_update). */
static void roles_create_or_update(const char *data, size_t len, int update)
{
    static const char *const FIELDS[] = {"name", "resources", NULL};
    const char *endpoint = update ? "roles update" : "roles create";
    ks_http_request req;
    request_init(&req, data, len);
    ks_strlist resources = {0};
    int rejected = 1;
    json_t *body = ks_json_body_parse(&req, FIELDS, 0);
    if (!body)
        goto out;
    const char *name = NULL;
    int has_name = ks_json_get_string(&req, body, "name", 1, KS_ROLE_NAME_MAX, &name);
    check_string(&req, body, "name", has_name, name, 1, KS_ROLE_NAME_MAX, 0);
    if (has_name < 0)
        goto out;
    if ((!update && has_name == 0) || (has_name && !ks_role_name_valid(name))) {
        ks_http_error(&req, KS_ERR_INVALID, "Field 'name': 1 to 100 characters, no leading or trailing space.");
        goto out;
    }
    int has_res = ks_json_get_string_array(&req, body, "resources", KS_ROLE_RESOURCES_MAX, ks_resource_valid,
                                           "resource", &resources);
    check_array(&req, "resources", has_res, &resources, KS_ROLE_RESOURCES_MAX, ks_resource_valid);
    if (has_res < 0)
        goto out;
    if (update && !has_name && !has_res) {
        ks_http_error(&req, KS_ERR_INVALID, "Send at least one of the fields 'name', 'resources'.");
        goto out;
    }
    if (has_name)
        FUZZ_CHECK(*name != ' ' && name[strlen(name) - 1] != ' ', "%s: role name with edge space", endpoint);
    rejected = 0;
out:
    finish(&req, endpoint, rejected);
    json_decref(body);
    ks_strlist_free(&resources);
}

/* PUT /settings: {token_duration_months, enforce_duration} (ks_api_settings_put). */
static void settings_put(const char *data, size_t len)
{
    static const char *const FIELDS[] = {"token_duration_months", "enforce_duration", NULL};
    ks_http_request req;
    request_init(&req, data, len);
    int rejected = 1;
    json_t *body = ks_json_body_parse(&req, FIELDS, 0);
    if (!body)
        goto out;
    long long months = 3;
    int enforce = 0;
    int has_months = ks_json_get_int(&req, body, "token_duration_months", &months);
    if (has_months < 0)
        goto out;
    if (has_months) {
        json_t *v = json_object_get(body, "token_duration_months");
        FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) == months, "months read wrongly");
    }
    /* The handler checks (int)months: see the note on 2^32 + 3 in fuzz/README.md. */
    if (has_months && !ks_token_duration_valid((int)months)) {
        ks_http_error(&req, KS_ERR_INVALID, "Field 'token_duration_months' must be 3 or 6.");
        goto out;
    }
    int has_enforce = ks_json_get_bool(&req, body, "enforce_duration", &enforce);
    if (has_enforce < 0)
        goto out;
    if (has_enforce)
        FUZZ_CHECK(enforce == json_is_true(json_object_get(body, "enforce_duration")), "bool read wrongly");
    if (!has_months && !has_enforce) {
        ks_http_error(&req, KS_ERR_INVALID, "Send 'token_duration_months' and/or 'enforce_duration'.");
        goto out;
    }
    rejected = 0;
out:
    finish(&req, "settings put", rejected);
    json_decref(body);
}

/* POST /external-keys: {key, roles} (ks_api_external_add), in account "acme". */
static void external_add(const char *data, size_t len)
{
    static const char *const FIELDS[] = {"key", "roles", NULL};
    ks_http_request req;
    request_init(&req, data, len);
    ks_strlist roles = {0};
    int rejected = 1;
    json_t *body = ks_json_body_parse(&req, FIELDS, 0);
    if (!body)
        goto out;
    const char *key_id = NULL;
    char home[KS_ACCOUNT_MAX + 1];
    int has_key = ks_json_get_string(&req, body, "key", 1, KS_KEY_ID_MAX, &key_id);
    check_string(&req, body, "key", has_key, key_id, 1, KS_KEY_ID_MAX, 0);
    if (has_key < 0)
        goto out;
    if (!has_key || ks_key_id_parse(key_id, home) != KS_OK) {
        ks_http_error(&req, KS_ERR_INVALID, "Field 'key' must be an API key id.");
        goto out;
    }
    FUZZ_CHECK(ks_account_name_valid(home), "key '%s' parsed to a bad account", key_id);
    if (strcmp(home, "acme") == 0) {
        ks_http_error(&req, KS_ERR_INVALID, "Field 'key' is a key of this account.");
        goto out;
    }
    int rc = ks_json_get_string_array(&req, body, "roles", KS_KEY_ROLES_MAX, ks_role_name_valid, "role name", &roles);
    check_array(&req, "roles", rc, &roles, KS_KEY_ROLES_MAX, ks_role_name_valid);
    rejected = rc < 0;
out:
    finish(&req, "external add", rejected);
    json_decref(body);
    ks_strlist_free(&roles);
}

/* PATCH /external-keys/{key}: any of {roles, status} (ks_api_external_update). */
static void external_update(const char *data, size_t len)
{
    static const char *const FIELDS[] = {"roles", "status", NULL};
    ks_http_request req;
    request_init(&req, data, len);
    ks_strlist roles = {0};
    int rejected = 1, status = -1;
    json_t *body = ks_json_body_parse(&req, FIELDS, 0);
    if (!body)
        goto out;
    int has_status = ks_json_get_enum(&req, body, "status", STATUS, &status);
    check_enum(&req, body, "status", has_status, status, STATUS);
    int has_roles = has_status < 0 ? -1 :
        ks_json_get_string_array(&req, body, "roles", KS_KEY_ROLES_MAX, ks_role_name_valid, "role name", &roles);
    if (has_status >= 0)
        check_array(&req, "roles", has_roles, &roles, KS_KEY_ROLES_MAX, ks_role_name_valid);
    if (has_status < 0 || has_roles < 0)
        goto out;
    if (!has_status && !has_roles) {
        ks_http_error(&req, KS_ERR_INVALID, "Send at least one of the fields 'roles', 'status'.");
        goto out;
    }
    rejected = 0;
out:
    finish(&req, "external update", rejected);
    json_decref(body);
    ks_strlist_free(&roles);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ks_http_json_use_wiping_allocator();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > KS_HTTP_BODY_MAX) /* the server answers 413 before decoding */
        return 0;
    char *body = fuzz_cstr(data, size); /* the server's bodies are NUL-terminated */
    keys_create(body, size);
    keys_update(body, size);
    keys_renew(body, size);
    roles_create_or_update(body, size, 0);
    roles_create_or_update(body, size, 1);
    settings_put(body, size);
    external_add(body, size);
    external_update(body, size);
    free(body);
    return 0;
}
