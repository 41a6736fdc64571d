/*
 * client.c - configuration, one HTTP exchange over libcurl, API errors and
 * the paging loop of the client commands; see client.h.
 */
#include "cli/client.h"
#include "cli/cli.h"
#include "cli/client_args.h"
#include "cli/table.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CLIENT_PATH_MAX (64u << 10)
#define CLIENT_CONNECT_TIMEOUT_S 10L
#define CLIENT_TIMEOUT_S 300L
#define KEY_ID_SUFFIX_LEN 10

static int account_name_valid(const char *s, size_t n)
{
    if (n < 1 || n > KS_CLIENT_ACCOUNT_MAX || s[0] < 'a' || s[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

int ks_key_id_account(const char *key, char *account)
{
    size_t n = strlen(key);
    if (strncmp(key, "kst-", 4) != 0 || n < 4 + 1 + 1 + KEY_ID_SUFFIX_LEN)
        return -1;
    const char *suffix = key + n - KEY_ID_SUFFIX_LEN;
    if (suffix[-1] != '-')
        return -1;
    for (size_t i = 0; i < KEY_ID_SUFFIX_LEN; i++)
        if (!((suffix[i] >= 'a' && suffix[i] <= 'z') || (suffix[i] >= '2' && suffix[i] <= '7')))
            return -1;
    size_t len = (size_t)(suffix - 1 - (key + 4));
    if (!account_name_valid(key + 4, len))
        return -1;
    memcpy(account, key + 4, len);
    account[len] = '\0';
    return 0;
}

/* 1 when s holds a byte that must not go into an HTTP header. */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            return 1;
    return 0;
}

/* The URL as shown in messages: user:password@ of the authority hidden. */
static void url_for_humans(const char *url, char *out, size_t n)
{
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    const char *end = auth + strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', (size_t)(end - auth));
    char raw[1024];
    if (at)
        snprintf(raw, sizeof raw, "%.*s***%s", (int)(auth - url), url, at);
    else
        snprintf(raw, sizeof raw, "%s", url);
    ks_text_sanitize(out, n, raw);
}

static int config_error(const char *msg, const char *detail)
{
    fprintf(stderr, "keystile: %s%s\n", msg, detail ? detail : "");
    return KS_EXIT_USAGE;
}

int ks_client_open(ks_client *c, const ks_args *a, int need_account)
{
    memset(c, 0, sizeof *c);
    c->json = ks_args_has(a, "json");
    const char *url = ks_args_value(a, "url");
    if (!url)
        url = getenv("KEYSTILE_URL");
    if (!url || !*url)
        return config_error("no server URL: set KEYSTILE_URL (e.g. http://127.0.0.1:8080) or pass --url", NULL);
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return config_error("the server URL must start with http:// or https://", NULL);
    if (has_control(url))
        return config_error("the server URL contains control characters", NULL);
    if (!(c->base_url = strdup(url)))
        return config_error("out of memory", NULL);
    size_t n = strlen(c->base_url);
    while (n > 0 && c->base_url[n - 1] == '/')
        c->base_url[--n] = '\0';

    c->key = ks_args_value(a, "key");
    if (!c->key)
        c->key = getenv("KEYSTILE_KEY");
    c->token = ks_args_value(a, "token");
    if (!c->token)
        c->token = getenv("KEYSTILE_TOKEN");
    if (!c->key || !*c->key)
        return config_error("no API key: set KEYSTILE_KEY or pass --key", NULL);
    if (!c->token || !*c->token)
        return config_error("no API token: set KEYSTILE_TOKEN (or pass --token, which other users may see in the process list)", NULL);
    if (has_control(c->key) || strlen(c->key) > 200)
        return config_error("the API key is not a key id (kst-ACCOUNT-xxxxxxxxxx)", NULL);
    if (has_control(c->token) || strlen(c->token) > 200)
        return config_error("the API token is malformed (control characters, or too long)", NULL);

    if (need_account) {
        const char *acc = ks_args_value(a, "account");
        if (acc) {
            if (!account_name_valid(acc, strlen(acc)))
                return config_error("--account must be an account name: 1-40 of a-z 0-9 -, starting with a letter", NULL);
            snprintf(c->account, sizeof c->account, "%s", acc);
        } else if (ks_key_id_account(c->key, c->account) != 0) {
            char shown[256];
            ks_text_sanitize(shown, sizeof shown, c->key);
            fprintf(stderr, "keystile: cannot tell the account from the API key '%s' (expected kst-ACCOUNT-xxxxxxxxxx): pass --account\n", shown);
            return KS_EXIT_USAGE;
        }
    }
    if (!(c->curl = curl_easy_init())) {
        fprintf(stderr, "keystile: cannot initialise libcurl\n");
        return KS_EXIT_FAIL;
    }
    return 0;
}

void ks_client_close(ks_client *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->base_url);
    memset(c, 0, sizeof *c);
}

void ks_client_path_account(ks_client *c, ks_strbuf *b)
{
    ks_strbuf_init(b, CLIENT_PATH_MAX);
    ks_strbuf_puts(b, "/api/v1/accounts");
    ks_client_path_segment(c, b, c->account);
}

void ks_client_path_item(ks_client *c, ks_strbuf *b, const char *collection, const char *item)
{
    ks_client_path_account(c, b);
    ks_strbuf_puts(b, "/");
    ks_strbuf_puts(b, collection);
    if (item)
        ks_client_path_segment(c, b, item);
}

static void append_escaped(ks_client *c, ks_strbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (n > CLIENT_PATH_MAX) {
        b->failed = 1;
        return;
    }
    char *e = curl_easy_escape(c->curl, s, (int)n);
    if (!e) {
        b->failed = 1;
        return;
    }
    ks_strbuf_puts(b, e);
    curl_free(e);
}

void ks_client_path_segment(ks_client *c, ks_strbuf *b, const char *segment)
{
    ks_strbuf_puts(b, "/");
    append_escaped(c, b, segment);
}

void ks_client_path_query(ks_client *c, ks_strbuf *b, const char *name, const char *value)
{
    if (!value)
        return;
    ks_strbuf_puts(b, b->data && strchr(b->data, '?') ? "&" : "?");
    ks_strbuf_puts(b, name);
    ks_strbuf_puts(b, "=");
    append_escaped(c, b, value);
}

typedef struct {
    ks_strbuf *body;  /* where the answer goes */
    int too_large;    /* the answer passed body->max */
} sink;

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
    sink *s = userdata;
    size_t n = size * nmemb;
    ks_strbuf_append(s->body, data, n);
    if (s->body->failed) {
        s->too_large = 1;
        return 0; /* aborts the transfer */
    }
    return n;
}

/* Appends "Name: value" to list; returns the new list, NULL when out of memory. */
static struct curl_slist *header_add(struct curl_slist *list, const char *name, const char *value)
{
    ks_strbuf line;
    ks_strbuf_init(&line, 1024);
    ks_strbuf_printf(&line, "%s: %s", name, value);
    struct curl_slist *next = line.failed ? NULL : curl_slist_append(list, line.data);
    ks_strbuf_free(&line); /* wipes the copy that held the token */
    return next;
}

/* Frees the header list after wiping every line (one holds the token). */
static void headers_free(struct curl_slist *list)
{
    for (struct curl_slist *h = list; h; h = h->next)
        sodium_memzero(h->data, strlen(h->data));
    curl_slist_free_all(list);
}

int ks_client_send(ks_client *c, const char *method, const char *path, const json_t *body,
                   size_t max_body, ks_response *res)
{
    memset(res, 0, sizeof *res);
    ks_strbuf_init(&res->body, max_body);
    if (path[0] != '/') { /* ks_strbuf_str of a failed path: too long, or out of memory */
        fprintf(stderr, "keystile: the request is too long\n");
        return KS_EXIT_FAIL;
    }
    char shown[1024];
    url_for_humans(c->base_url, shown, sizeof shown);
    int rc = KS_EXIT_FAIL;
    char *payload = NULL;
    struct curl_slist *headers = NULL;
    ks_strbuf url;
    ks_strbuf_init(&url, CLIENT_PATH_MAX * 2);
    ks_strbuf_puts(&url, c->base_url);
    ks_strbuf_puts(&url, path);
    int sends_body = body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                     strcmp(method, "PATCH") == 0;
    if (body && !(payload = json_dumps(body, JSON_COMPACT))) {
        fprintf(stderr, "keystile: out of memory\n");
        goto out;
    }
    headers = header_add(NULL, "X-API-Key", c->key);
    int ok = headers && !url.failed;
    ok = ok && header_add(headers, "X-API-Token", c->token);
    ok = ok && curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    ok = ok && (!sends_body || header_add(headers, "Content-Type", "application/json"));
    if (!ok) {
        fprintf(stderr, "keystile: out of memory\n");
        goto out;
    }
    sink s = {&res->body, 0};
    CURL *curl = c->curl;
    curl_easy_reset(curl);
    c->errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url.data);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "keystile-cli/1");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CLIENT_CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, CLIENT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    if (sends_body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload ? payload : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(payload ? strlen(payload) : 0));
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        if (s.too_large)
            fprintf(stderr, "keystile: the answer of the server at %s is larger than %zu MiB\n", shown,
                    max_body >> 20);
        else
            fprintf(stderr, "keystile: cannot reach the Keystile server at %s: %s\n", shown,
                    c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
    rc = 0;
out:
    headers_free(headers);
    ks_strbuf_free(&url);
    free(payload);
    return rc;
}

void ks_response_free(ks_response *res)
{
    ks_strbuf_free(&res->body);
    memset(res, 0, sizeof *res);
}

void ks_client_print_api_error(const ks_client *c, const ks_response *res)
{
    char shown[1024];
    url_for_humans(c->base_url, shown, sizeof shown);
    json_t *doc = res->body.len ? json_loadb(res->body.data, res->body.len, 0, NULL) : NULL;
    json_t *err = json_object_get(doc, "error");
    const char *code = ks_json_str(err, "code", NULL), *msg = ks_json_str(err, "message", NULL);
    if (code) {
        char code_s[128], msg_s[1024];
        ks_text_sanitize(code_s, sizeof code_s, code);
        ks_text_sanitize(msg_s, sizeof msg_s, msg ? msg : "");
        fprintf(stderr, "keystile: %s: %s\n", code_s, msg_s);
    } else if (res->status >= 300 && res->status < 400) {
        fprintf(stderr, "keystile: the server at %s answered with a redirect (HTTP %ld), which is not followed: check --url / KEYSTILE_URL\n",
                shown, res->status);
    } else {
        fprintf(stderr, "keystile: the server at %s answered HTTP %ld without a Keystile error: check --url / KEYSTILE_URL\n",
                shown, res->status);
    }
    json_decref(doc);
}

json_t *ks_client_call(ks_client *c, const char *method, const char *path, const json_t *body,
                       int *exit_code)
{
    ks_response res;
    json_t *out = NULL;
    *exit_code = ks_client_send(c, method, path, body, KS_CLIENT_JSON_MAX, &res);
    if (*exit_code != 0)
        goto done;
    if (res.status < 200 || res.status > 299) {
        ks_client_print_api_error(c, &res);
        *exit_code = KS_EXIT_FAIL;
        goto done;
    }
    if (res.body.len == 0) {
        out = json_null();
        goto done;
    }
    json_error_t jerr;
    out = json_loadb(res.body.data, res.body.len, 0, &jerr);
    if (!out) {
        char shown[1024];
        url_for_humans(c->base_url, shown, sizeof shown);
        fprintf(stderr, "keystile: the server at %s answered HTTP %ld with a body that is not JSON\n", shown,
                res.status);
        *exit_code = KS_EXIT_FAIL;
    }
done:
    ks_response_free(&res);
    return out;
}

json_t *ks_client_call_item(ks_client *c, const char *method, const char *collection, const char *item,
                            const char *suffix, const json_t *body, int *exit_code)
{
    ks_strbuf path;
    ks_client_path_item(c, &path, collection, item);
    if (suffix)
        ks_strbuf_puts(&path, suffix);
    json_t *res = NULL;
    if (path.failed) {
        fprintf(stderr, "keystile: request too long\n");
        *exit_code = KS_EXIT_FAIL;
    } else {
        res = ks_client_call(c, method, path.data, body, exit_code);
    }
    ks_strbuf_free(&path);
    return res;
}

int ks_client_list(ks_client *c, const char *path, const char *start, long limit, long page_size,
                   json_t **items, json_t **next)
{
    int rc = 0;
    char *cursor = start && *start ? strdup(start) : NULL;
    json_t *all = json_array();
    *items = *next = NULL;
    if (!all || (start && *start && !cursor)) {
        free(cursor);
        json_decref(all);
        fprintf(stderr, "keystile: out of memory\n");
        return KS_EXIT_FAIL;
    }
    for (;;) {
        size_t have = json_array_size(all);
        ks_strbuf p;
        ks_strbuf_init(&p, CLIENT_PATH_MAX);
        ks_strbuf_puts(&p, path);
        if (page_size > 0) {
            long want = page_size;
            if (limit > 0 && limit - (long)have < want)
                want = limit - (long)have;
            ks_strbuf_puts(&p, strchr(path, '?') ? "&" : "?");
            ks_strbuf_printf(&p, "limit=%ld", want);
        }
        ks_client_path_query(c, &p, "cursor", cursor);
        json_t *page = p.failed ? NULL : ks_client_call(c, "GET", p.data, NULL, &rc);
        if (p.failed) {
            fprintf(stderr, "keystile: request too long\n");
            rc = KS_EXIT_FAIL;
        }
        ks_strbuf_free(&p);
        if (!page)
            break;
        json_t *got = json_object_get(page, "items");
        if (!json_is_array(got)) {
            fprintf(stderr, "keystile: unexpected answer from the server: no \"items\" list\n");
            json_decref(page);
            rc = KS_EXIT_FAIL;
            break;
        }
        size_t i, taken = 0;
        json_t *item;
        json_array_foreach(got, i, item) {
            if (limit > 0 && (long)json_array_size(all) >= limit)
                break;
            json_array_append(all, item);
            taken++;
        }
        json_t *nc = json_object_get(page, "next_cursor");
        const char *ncs = json_is_string(nc) && json_string_length(nc) ? json_string_value(nc) : NULL;
        int cut = taken < json_array_size(got);
        int full = limit > 0 && (long)json_array_size(all) >= limit;
        if (ncs && !cut && !full) {
            if (cursor && strcmp(cursor, ncs) == 0) {
                fprintf(stderr, "keystile: the server returned the same next_cursor twice; stopping\n");
                json_decref(page);
                rc = KS_EXIT_FAIL;
                break;
            }
            free(cursor);
            if (!(cursor = strdup(ncs))) {
                fprintf(stderr, "keystile: out of memory\n");
                json_decref(page);
                rc = KS_EXIT_FAIL;
                break;
            }
            json_decref(page);
            continue;
        }
        *next = ncs && !cut ? json_string(ncs) : json_null();
        json_decref(page);
        break;
    }
    free(cursor);
    if (rc != 0 || !*next) {
        json_decref(all);
        json_decref(*next);
        *next = NULL;
        if (rc == 0) {
            fprintf(stderr, "keystile: out of memory\n");
            rc = KS_EXIT_FAIL;
        }
        return rc;
    }
    *items = all;
    return 0;
}

int ks_client_list_print(ks_client *c, const ks_args *a, ks_strbuf *path, long limit, long page_size,
                         ks_table *table, void (*add_row)(ks_table *, const json_t *), const char *noun)
{
    json_t *items = NULL, *next = NULL;
    int rc;
    if (path->failed) {
        fprintf(stderr, "keystile: request too long\n");
        rc = KS_EXIT_FAIL;
    } else {
        rc = ks_client_list(c, path->data, ks_args_value(a, "cursor"), limit, page_size, &items, &next);
    }
    ks_strbuf_free(path);
    if (rc == 0 && c->json) {
        json_t *doc = page_size > 0 ? json_pack("{s:O, s:O}", "items", items, "next_cursor", next)
                                    : json_pack("{s:O}", "items", items); /* a list that does not page */
        rc = doc ? ks_print_json(doc) : KS_EXIT_FAIL;
        json_decref(doc);
    } else if (rc == 0) {
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
            add_row(table, item);
        rc = ks_table_print(table, stdout) == 0 ? KS_EXIT_OK : KS_EXIT_FAIL;
        if (rc == KS_EXIT_OK && json_is_string(next))
            fprintf(stderr, "keystile: showing the first %zu %s; more exist (drop --limit to see all)\n",
                    json_array_size(items), noun);
    }
    ks_table_free(table);
    json_decref(items);
    json_decref(next);
    return rc;
}

int ks_print_json(const json_t *v)
{
    if (json_dumpf(v, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF) {
        fprintf(stderr, "keystile: cannot write the output\n");
        return KS_EXIT_FAIL;
    }
    return 0;
}

const char *ks_json_str(const json_t *obj, const char *name, const char *fallback)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s ? s : fallback;
}

void ks_json_wipe_string(json_t *obj, const char *name)
{
    json_t *s = json_object_get(obj, name);
    if (json_is_string(s))
        sodium_memzero((char *)json_string_value(s), json_string_length(s));
}

int ks_client_item_print(const ks_client *c, const json_t *obj, const char *message, struct ks_table *table,
                         void (*add_row)(struct ks_table *, const json_t *))
{
    int rc = KS_EXIT_FAIL;
    if (c->json) {
        rc = ks_print_json(obj);
    } else if (table) {
        printf("%s\n\n", message);
        add_row(table, obj);
        rc = ks_table_print(table, stdout) == 0 ? KS_EXIT_OK : KS_EXIT_FAIL;
    }
    ks_table_free(table);
    return rc;
}

int ks_client_delete_item(ks_client *c, const ks_args *a, const char *collection, const char *question,
                          const char *done)
{
    int rc = ks_confirm(a, question);
    if (rc != 0)
        return rc;
    json_t *res = ks_client_call_item(c, "DELETE", collection, a->positional, NULL, NULL, &rc);
    if (!res)
        return rc;
    if (!c->json)
        printf("%s\n", done);
    json_decref(res);
    return KS_EXIT_OK;
}
