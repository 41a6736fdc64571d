/*
 * key_view.h - how the client commands show API objects as text: key rows and
 * the detail view of one key, external key rows, and the notice around a
 * fresh token. Missing fields show as "-" (a newer or older server may omit
 * one); nothing here prints a token except ks_print_new_token.
 */
#ifndef KS_CLI_KEY_VIEW_H
#define KS_CLI_KEY_VIEW_H

#include "cli/client.h"
#include "cli/table.h"

#include <jansson.h>

/* "a, b, c" from an array of strings, "-" when empty; into buf (size n). */
const char *ks_join_strings(const json_t *arr, char *buf, size_t n);

/* One field of an API object shown as a table cell: its text, its array of
 * strings joined by ", " ("-" when empty), or a boolean as yes / no. A
 * missing or mistyped field shows as "-". */
typedef enum { KS_FIELD_TEXT, KS_FIELD_LIST, KS_FIELD_YES_NO } ks_field_kind;
typedef struct {
    const char *label; /* "Key:" for labelled rows, NULL in table rows */
    const char *name;  /* the JSON member */
    ks_field_kind kind;
} ks_field;

/* Adds the cells of fields[0..n) of obj to t, each after its label when the
 * field has one (two-column "Label: value" tables). */
void ks_table_add_fields(ks_table *t, const json_t *obj, const ks_field *fields, size_t n);

/* Tables of keys: KEY NAME ROLES STATUS CREATED OUTDATED ALERT TOKENS. */
ks_table *ks_keys_table_new(void);
void ks_keys_table_add(ks_table *t, const json_t *key);

/* Tables of external keys: KEY ACCOUNT NAME ROLES STATUS CREATED OUTDATED ALERT. */
ks_table *ks_external_table_new(void);
void ks_external_table_add(ks_table *t, const json_t *key);

/* Prints one key: its fields, then a table of its token slots (dates only). */
int ks_key_print_detail(const json_t *key);

/* Output of create and renew: with --json the whole answer; else the key and
 * the token on stdout. Either way a warning to store the token goes to stderr,
 * and the token is wiped from resp afterwards. extra: a sentence for stderr
 * after the warning, or NULL. Returns an exit code. */
int ks_print_new_token(const ks_client *c, json_t *resp, const char *headline, const char *extra);

/* Prints a one-line message then, unless --json, the key; with --json only the key as JSON. */
int ks_print_key_result(const ks_client *c, const json_t *key, const char *message);

#endif
