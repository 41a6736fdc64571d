/*
 * oidc_fetch.c - HTTP requests to the OpenID Connect issuer (see
 * oidc_fetch.h). One easy handle per request: sign-ins are rare.
 */
#include "service/oidc_fetch.h"
#include "service/oidc.h"
#include "core/error.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len;
    int too_large;
} body_buf;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    body_buf *b = user;
    size_t n = size * nmemb;
    if (b->len + n > KS_OIDC_RESPONSE_MAX) {
        b->too_large = 1;
        return 0; /* ends the transfer with an error */
    }
    char *grown = realloc(b->data, b->len + n + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Appends name=value (both escaped) to *form; 0 when out of memory. */
static int form_add(CURL *curl, char **form, size_t *len, const char *name, const char *value)
{
    char *n = curl_easy_escape(curl, name, 0), *v = curl_easy_escape(curl, value, 0);
    int ok = 0;
    if (n && v) {
        size_t add = strlen(n) + strlen(v) + 2;
        char *grown = realloc(*form, *len + add + 1);
        if (grown) {
            *form = grown;
            memcpy(*form + *len, *len ? "&" : "", *len ? 1 : 0);
            *len += *len ? 1 : 0;
            memcpy(*form + *len, n, strlen(n));
            *len += strlen(n);
            (*form)[(*len)++] = '=';
            memcpy(*form + *len, v, strlen(v));
            *len += strlen(v);
            (*form)[*len] = '\0';
            ok = 1;
        }
    }
    if (v)
        sodium_memzero(v, strlen(v));
    curl_free(n);
    curl_free(v);
    return ok;
}

static void wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

int ks_oidc_fetch_json(const char *url, const char *const (*form)[2], const char *basic_user,
                       const char *basic_password, json_t **out, long *status)
{
    *out = NULL;
    if (status)
        *status = 0;
    if (!url || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
        return KS_ERR_STORAGE;
    CURL *curl = curl_easy_init();
    if (!curl)
        return KS_ERR_NOMEM;
    body_buf body = {0};
    char *fields = NULL, *user = NULL, *password = NULL;
    size_t fields_len = 0;
    int rc = KS_ERR_NOMEM;
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    if (!headers)
        goto out;
    if (form) {
        for (size_t i = 0; form[i][0]; i++)
            if (!form_add(curl, &fields, &fields_len, form[i][0], form[i][1]))
                goto out;
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, fields);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)fields_len);
    }
    if (basic_user) {
        char *u = curl_easy_escape(curl, basic_user, 0), *p = curl_easy_escape(curl, basic_password, 0);
        user = u ? strdup(u) : NULL;
        password = p ? strdup(p) : NULL;
        if (p)
            sodium_memzero(p, strlen(p));
        curl_free(u);
        curl_free(p);
        if (!user || !password)
            goto out;
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)KS_OIDC_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)KS_OIDC_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, (long)KS_OIDC_RESPONSE_MAX);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "Keystile");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    rc = KS_ERR_STORAGE;
    if (curl_easy_perform(curl) != CURLE_OK || body.too_large || !body.data)
        goto out;
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    if (status)
        *status = code;
    json_t *doc = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        goto out;
    }
    *out = doc;
    rc = KS_OK;
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    wipe_free(fields);
    wipe_free(user);
    wipe_free(password);
    if (body.data) {
        sodium_memzero(body.data, body.len);
        free(body.data);
    }
    return rc;
}
