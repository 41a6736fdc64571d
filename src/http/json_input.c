/* json_input.c - request body decoding with field-naming errors (jansson). */
#include "http/json_input.h"
#include "core/error.h"
#include "core/roles.h"

#include <string.h>

json_t *ks_json_body_parse(ks_http_request *req, const char *const *allowed, int allow_empty)
{
    if (req->body_len == 0) {
        if (allow_empty)
            return json_object();
        ks_http_error(req, KS_ERR_INVALID, "The request needs a JSON object body.");
        return NULL;
    }
    json_error_t jerr;
    json_t *obj = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        ks_http_errorf(req, KS_ERR_INVALID, "The body is not valid JSON (line %d, column %d): %s",
                       jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        ks_http_error(req, KS_ERR_INVALID, "The body must be a JSON object.");
        return NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        int known = 0;
        for (size_t i = 0; allowed[i]; i++)
            known |= strcmp(allowed[i], key) == 0;
        if (!known) {
            ks_http_errorf(req, KS_ERR_INVALID, "Unknown field '%.64s'.", key);
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

/* 1 when s has a control character other than the allowed whitespace. */
static int has_forbidden_controls(const char *s, int allow_whitespace)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 || *p == 0x7F) && !(allow_whitespace && (*p == '\t' || *p == '\n' || *p == '\r')))
            return 1;
    return 0;
}

static int get_string(ks_http_request *req, json_t *obj, const char *field, size_t min_chars,
                      size_t max_chars, int allow_whitespace, const char **out)
{
    json_t *v = json_object_get(obj, field);
    if (!v)
        return 0;
    const char *s = json_string_value(v);
    long n = s ? ks_utf8_length(s) : -1;
    if (!s || n < (long)min_chars || n > (long)max_chars || has_forbidden_controls(s, allow_whitespace) ||
        strlen(s) != json_string_length(v)) {
        ks_http_errorf(req, KS_ERR_INVALID, "Field '%s' must be a string of %zu to %zu characters without control characters.",
                       field, min_chars, max_chars);
        return -1;
    }
    if (allow_whitespace && ks_has_invisible_chars(s)) { /* a name: what it shows is what it is */
        ks_http_errorf(req, KS_ERR_INVALID, "Field '%s' must not contain bidirectional-control or zero-width "
                       "characters.", field);
        return -1;
    }
    *out = s;
    return 1;
}

int ks_json_get_string(ks_http_request *req, json_t *obj, const char *field, size_t min_chars,
                       size_t max_chars, const char **out)
{
    return get_string(req, obj, field, min_chars, max_chars, 0, out);
}

int ks_json_get_text(ks_http_request *req, json_t *obj, const char *field, size_t min_chars,
                     size_t max_chars, const char **out)
{
    return get_string(req, obj, field, min_chars, max_chars, 1, out);
}

int ks_json_get_enum(ks_http_request *req, json_t *obj, const char *field,
                     const char *const *choices, int *out)
{
    json_t *v = json_object_get(obj, field);
    if (!v)
        return 0;
    const char *s = json_string_value(v);
    for (int i = 0; s && choices[i]; i++) {
        if (strcmp(s, choices[i]) == 0) {
            *out = i;
            return 1;
        }
    }
    char list[128] = "";
    for (int i = 0; choices[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    ks_http_errorf(req, KS_ERR_INVALID, "Field '%s' must be one of: %s.", field, list);
    return -1;
}

int ks_json_get_bool(ks_http_request *req, json_t *obj, const char *field, int *out)
{
    json_t *v = json_object_get(obj, field);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        ks_http_errorf(req, KS_ERR_INVALID, "Field '%s' must be true or false.", field);
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

int ks_json_get_int(ks_http_request *req, json_t *obj, const char *field, long long *out)
{
    json_t *v = json_object_get(obj, field);
    if (!v)
        return 0;
    if (!json_is_integer(v)) {
        ks_http_errorf(req, KS_ERR_INVALID, "Field '%s' must be an integer.", field);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

int ks_json_get_string_array(ks_http_request *req, json_t *obj, const char *field, size_t max_items,
                             int (*valid)(const char *), const char *what, ks_strlist *out)
{
    json_t *v = json_object_get(obj, field);
    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) > max_items) {
        ks_http_errorf(req, KS_ERR_INVALID, "Field '%s' must be an array of at most %zu %s.", field,
                       max_items, what);
        return -1;
    }
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        const char *s = json_string_value(item);
        if (!s || strlen(s) != json_string_length(item) || !valid(s)) {
            ks_http_errorf(req, KS_ERR_INVALID, "Field '%s' item %zu is not a valid %s.", field, i, what);
            ks_strlist_free(out);
            return -1;
        }
        if (!ks_strlist_contains(out, s) && ks_strlist_add(out, s) != KS_OK) {
            ks_http_error(req, KS_ERR_NOMEM, NULL);
            ks_strlist_free(out);
            return -1;
        }
    }
    return 1;
}
