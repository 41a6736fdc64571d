/*
 * json_input.h - decoding request bodies with errors that name the field.
 *
 * A body is a JSON object of known fields: ks_json_body_parse rejects bad
 * JSON, non-objects, duplicate keys and fields not in `allowed`. The getters
 * return 1 when the field is present and valid, 0 when absent, and -1 when
 * present but invalid, after setting a 400 on the request that names it.
 */
#ifndef KS_HTTP_JSON_INPUT_H
#define KS_HTTP_JSON_INPUT_H

#include "http/http.h"
#include "core/model.h"

/* Parses req's body (empty = {} when allow_empty). NULL after setting a 400. */
json_t *ks_json_body_parse(ks_http_request *req, const char *const *allowed, int allow_empty);

/* A string of min_chars..max_chars UTF-8 characters without control chars. */
int ks_json_get_string(ks_http_request *req, json_t *obj, const char *field, size_t min_chars,
                       size_t max_chars, const char **out);

/* Like ks_json_get_string, but tab, CR and LF are allowed (free text such as
 * key names, which exports must then quote), and bidirectional-control and
 * zero-width characters are refused (ks_has_invisible_chars: a name must
 * read as what it is). */
int ks_json_get_text(ks_http_request *req, json_t *obj, const char *field, size_t min_chars,
                     size_t max_chars, const char **out);

/* One of the NULL-terminated `choices`; *out is its index. */
int ks_json_get_enum(ks_http_request *req, json_t *obj, const char *field,
                     const char *const *choices, int *out);

int ks_json_get_bool(ks_http_request *req, json_t *obj, const char *field, int *out);
int ks_json_get_int(ks_http_request *req, json_t *obj, const char *field, long long *out);

/* An array of at most max_items unique strings, each checked by valid(). */
int ks_json_get_string_array(ks_http_request *req, json_t *obj, const char *field, size_t max_items,
                             int (*valid)(const char *), const char *what, ks_strlist *out);

#endif
