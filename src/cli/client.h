/*
 * client.h - the HTTP side of the client commands (keys, settings, roles,
 * external, verify): where the server is, which credential to send, one
 * request/response exchange over libcurl, API errors turned into messages,
 * and the paging loop of list calls.
 *
 * Credentials: --url/--key/--token/--account, else $KEYSTILE_URL,
 * $KEYSTILE_KEY, $KEYSTILE_TOKEN; the account defaults to the one inside the
 * key id (kst-<account>-<10 chars>). The token goes in an X-API-Token header
 * whose copies are wiped after use; response bodies are wiped when freed,
 * since create and renew answers carry a fresh token.
 *
 * Every function that fails prints why (prefix "keystile: ") and returns an
 * exit code: KS_EXIT_FAIL for API errors and connection failures,
 * KS_EXIT_USAGE for bad configuration. Redirects are not followed (they
 * would carry the credential elsewhere); only http and https are spoken.
 */
#ifndef KS_CLI_CLIENT_H
#define KS_CLI_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>

typedef struct ks_args ks_args;

#define KS_CLIENT_ACCOUNT_MAX 40
#define KS_CLIENT_JSON_MAX (16u << 20)    /* largest JSON answer read */
#define KS_CLIENT_EXPORT_MAX (256u << 20) /* largest export read */

/* A growable string with a maximum size; a failed append is sticky. */
typedef struct {
    char *data;  /* NUL-terminated once anything was appended; NULL before */
    size_t len;  /* bytes used, without the NUL */
    size_t cap;  /* bytes allocated */
    size_t max;  /* appends past this many bytes fail */
    int failed;  /* an append failed (too long or out of memory) */
} ks_strbuf;

void ks_strbuf_init(ks_strbuf *b, size_t max);
void ks_strbuf_append(ks_strbuf *b, const char *s, size_t n);
void ks_strbuf_puts(ks_strbuf *b, const char *s);
void ks_strbuf_printf(ks_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far ("" when empty, or when failed). */
const char *ks_strbuf_str(const ks_strbuf *b);
/* Wipes and frees the contents; the buffer can be reused after ks_strbuf_init. */
void ks_strbuf_free(ks_strbuf *b);

/* One client session: server, credential, account and the curl handle. */
typedef struct ks_client {
    char *base_url;                          /* without trailing '/' */
    const char *key;                         /* key id (argv or environment) */
    const char *token;                       /* token (argv or environment), never printed */
    char account[KS_CLIENT_ACCOUNT_MAX + 1]; /* account of the paths; "" when not needed */
    int json;                                /* --json: print the API's JSON */
    CURL *curl;                              /* reused, so paging keeps its connection */
    char errbuf[CURL_ERROR_SIZE];            /* libcurl's detail of a failed transfer */
} ks_client;

/* An HTTP answer. */
typedef struct {
    long status;    /* HTTP status, 0 before an answer */
    ks_strbuf body; /* the body as received (wiped when freed) */
} ks_response;

/* Fills c from the parsed arguments and environment. need_account: the
 * command works on an account (path /api/v1/accounts/{a}/...). Returns 0,
 * or KS_EXIT_USAGE / KS_EXIT_FAIL after a message. Pair with ks_client_close
 * whatever it returns. */
int ks_client_open(ks_client *c, const ks_args *a, int need_account);
void ks_client_close(ks_client *c);

/* Parses "kst-<account>-<10 chars>" into account (size KS_CLIENT_ACCOUNT_MAX + 1).
 * Returns 0, or -1 when key is not in that format. */
int ks_key_id_account(const char *key, char *account);

/* Starts a path "/api/v1/accounts/<account>" in b (max 64 KiB). */
void ks_client_path_account(ks_client *c, ks_strbuf *b);
/* Starts "/api/v1/accounts/<account>/<collection>[/<item>]" in b (max 64 KiB);
 * item (a key id, a role name) is URL-encoded; NULL adds none. */
void ks_client_path_item(ks_client *c, ks_strbuf *b, const char *collection, const char *item);
/* Appends "/" and the URL-encoded segment. */
void ks_client_path_segment(ks_client *c, ks_strbuf *b, const char *segment);
/* Appends "?name=value" or "&name=value", value URL-encoded; NULL value adds nothing. */
void ks_client_path_query(ks_client *c, ks_strbuf *b, const char *name, const char *value);

/* Sends method to base_url + path (which starts with '/'; "" from a failed
 * ks_strbuf is refused) with the credential, and body as JSON when
 * not NULL. Fills res (any HTTP status) and returns 0; returns KS_EXIT_FAIL
 * after a message when no answer came (connection, TLS, timeout, too large:
 * max_body bytes). Free res with ks_response_free either way. */
int ks_client_send(ks_client *c, const char *method, const char *path, const json_t *body,
                   size_t max_body, ks_response *res);
void ks_response_free(ks_response *res);

/* Prints the API error of a non-2xx answer: "keystile: <code>: <message>". */
void ks_client_print_api_error(const ks_client *c, const ks_response *res);

/* ks_client_send for JSON calls: returns the parsed 2xx body (json_null()
 * for an empty one, e.g. 204), or NULL with *exit_code set after printing
 * the API error. The caller owns the result (json_decref). */
json_t *ks_client_call(ks_client *c, const char *method, const char *path, const json_t *body,
                       int *exit_code);

/* ks_client_call on /api/v1/accounts/<account>/<collection>[/<item>][suffix],
 * e.g. ("keys", key, "/renew"); item URL-encoded, NULL for none. */
json_t *ks_client_call_item(ks_client *c, const char *method, const char *collection, const char *item,
                            const char *suffix, const json_t *body, int *exit_code);

/* Walks a list: GET path (which may already carry a query), starting at
 * cursor `start` (NULL: the first page), and then each next_cursor, appending every item to the new array *items, until the end
 * or `limit` items (0: no limit). page_size > 0 is sent as limit= on each
 * request (never more than what is still needed); 0 sends no limit. *next is
 * the cursor after the last item taken (json_null() at the end of the list).
 * Returns 0, or an exit code after a message (*items and *next then NULL). */
int ks_client_list(ks_client *c, const char *path, const char *start, long limit, long page_size,
                   json_t **items, json_t **next);

struct ks_table;
/* The rest of a list command once its path is built: walks the list with
 * ks_client_list from --cursor (limit items at most, 0: all; page_size per
 * request, 0 for a list that does not page), then prints
 * {"items","next_cursor"} ({"items"} when it does not page) with --json, else `table`
 * with one row per item by add_row, and a note on stderr when --limit left
 * `noun` (e.g. "keys") out. Frees path and table. Returns an exit code. */
int ks_client_list_print(ks_client *c, const ks_args *a, ks_strbuf *path, long limit, long page_size,
                         struct ks_table *table, void (*add_row)(struct ks_table *, const json_t *),
                         const char *noun);

/* Prints one object as a command's result: its JSON with --json, else
 * message, a blank line and `table` with the object as its one row (by
 * add_row). Frees table. Returns an exit code. */
int ks_client_item_print(const ks_client *c, const json_t *obj, const char *message, struct ks_table *table,
                         void (*add_row)(struct ks_table *, const json_t *));

/* A delete command's end: asks `question` (ks_confirm: --yes answers it),
 * then DELETEs the item a->positional of `collection` and prints `done`
 * (nothing with --json). Returns an exit code. */
int ks_client_delete_item(ks_client *c, const ks_args *a, const char *collection, const char *question,
                          const char *done);

/* Prints v as indented JSON and a newline on stdout. Returns 0 or KS_EXIT_FAIL. */
int ks_print_json(const json_t *v);

/* Value of a string member, or fallback when missing or not a string. */
const char *ks_json_str(const json_t *obj, const char *name, const char *fallback);

/* Wipes the string member `name` of obj (the fresh token of create/renew). */
void ks_json_wipe_string(json_t *obj, const char *name);

#endif
