/*
 * secret_scanning.c - GitHub's keys file, signature and report body (see
 * secret_scanning.h). JSON by jansson, keys and ECDSA by OpenSSL EVP,
 * base64 by libsodium.
 */
#include "core/secret_scanning.h"
#include "core/error.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char id[KS_GITHUB_KEY_ID_MAX + 1];
    EVP_PKEY *key;
} github_key;

struct ks_github_keys {
    github_key keys[KS_GITHUB_KEYS_MAX];
    size_t n;
};

void ks_github_keys_free(ks_github_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        EVP_PKEY_free(k->keys[i].key);
    free(k);
}

size_t ks_github_keys_count(const ks_github_keys *k)
{
    return k->n;
}

/* An EC P-256 public key from PEM text; NULL when it is not one. */
static EVP_PKEY *p256_from_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    char group[64];
    size_t glen = 0;
    if (key && (!EVP_PKEY_is_a(key, "EC") ||
                !EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &glen) ||
                strcmp(group, "prime256v1") != 0)) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    return key;
}

int ks_github_keys_parse(const char *text, size_t len, ks_github_keys **out, char *err, size_t errlen)
{
    *out = NULL;
    if (len > KS_GITHUB_KEYS_FILE_MAX) {
        snprintf(err, errlen, "larger than %d bytes", KS_GITHUB_KEYS_FILE_MAX);
        return KS_ERR_INVALID;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    json_t *list = doc ? json_object_get(doc, "public_keys") : NULL;
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > KS_GITHUB_KEYS_MAX) {
        if (!doc)
            snprintf(err, errlen, "not JSON (line %d: %s)", jerr.line, jerr.text);
        else
            snprintf(err, errlen, "expected {\"public_keys\":[...]} with 1 to %d keys", KS_GITHUB_KEYS_MAX);
        json_decref(doc);
        return KS_ERR_INVALID;
    }
    ks_github_keys *k = calloc(1, sizeof *k);
    if (!k) {
        json_decref(doc);
        return KS_ERR_NOMEM;
    }
    int rc = KS_OK;
    for (size_t i = 0; i < json_array_size(list) && rc == KS_OK; i++) {
        json_t *item = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(item, "key_identifier"));
        const char *pem = json_string_value(json_object_get(item, "key"));
        if (!id || !*id || strlen(id) > KS_GITHUB_KEY_ID_MAX || !pem) {
            snprintf(err, errlen, "public_keys[%zu]: needs \"key_identifier\" (1 to %d bytes) and \"key\"", i,
                     KS_GITHUB_KEY_ID_MAX);
            rc = KS_ERR_INVALID;
        } else if (!(k->keys[k->n].key = p256_from_pem(pem))) {
            snprintf(err, errlen, "public_keys[%zu] (%.64s): \"key\" is not an EC P-256 public key in PEM", i, id);
            rc = KS_ERR_INVALID;
        } else {
            memcpy(k->keys[k->n].id, id, strlen(id) + 1);
            k->n++;
        }
    }
    json_decref(doc);
    if (rc != KS_OK) {
        ks_github_keys_free(k);
        return rc;
    }
    *out = k;
    return KS_OK;
}

int ks_github_signature_check(const ks_github_keys *k, const char *key_id, const char *signature_b64,
                              const char *body, size_t len)
{
    const github_key *gk = NULL;
    for (size_t i = 0; key_id && i < k->n && !gk; i++)
        if (strcmp(k->keys[i].id, key_id) == 0)
            gk = &k->keys[i];
    size_t b64_len = signature_b64 ? strnlen(signature_b64, KS_GITHUB_SIGNATURE_MAX + 1) : 0;
    if (!gk || b64_len == 0 || b64_len > KS_GITHUB_SIGNATURE_MAX)
        return KS_ERR_UNAUTHENTICATED;
    unsigned char der[KS_GITHUB_SIGNATURE_MAX];
    size_t der_len = 0;
    if (sodium_base642bin(der, sizeof der, signature_b64, b64_len, " \t\r\n", &der_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || der_len == 0)
        return KS_ERR_UNAUTHENTICATED;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return KS_ERR_NOMEM;
    int ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, gk->key) == 1 &&
             EVP_DigestVerify(ctx, der, der_len, (const unsigned char *)body, len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? KS_OK : KS_ERR_UNAUTHENTICATED;
}

/* A string field of item: *out its value ("" when absent and optional).
 * 0, or -1 after writing why into err. */
static int string_field(json_t *item, size_t i, const char *name, int required, size_t max, const char **out,
                        char *err, size_t errlen)
{
    json_t *v = json_object_get(item, name);
    *out = "";
    if (!v && !required)
        return 0;
    if (!json_is_string(v) || (required && json_string_length(v) == 0) || json_string_length(v) > max) {
        snprintf(err, errlen, "item %zu: field '%s' must be a string of %s to %zu bytes", i, name,
                 required ? "1" : "0", max);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int ks_leak_report_parse(const char *body, size_t len, ks_leak_report *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    if (!json_is_array(doc) || json_array_size(doc) == 0 || json_array_size(doc) > KS_LEAK_ITEMS_MAX) {
        snprintf(err, errlen, doc ? "the body must be an array of 1 to %d matches" : "the body is not JSON",
                 KS_LEAK_ITEMS_MAX);
        json_decref(doc);
        return KS_ERR_INVALID;
    }
    out->n = json_array_size(doc);
    out->items = calloc(out->n, sizeof *out->items);
    out->json = doc;
    if (!out->items) {
        ks_leak_report_free(out);
        return KS_ERR_NOMEM;
    }
    for (size_t i = 0; i < out->n; i++) {
        json_t *item = json_array_get(doc, i);
        ks_leak_item *it = &out->items[i];
        if (!json_is_object(item) ||
            string_field(item, i, "token", 1, KS_LEAK_TOKEN_MAX, &it->token, err, errlen) != 0 ||
            string_field(item, i, "type", 1, KS_LEAK_FIELD_MAX, &it->type, err, errlen) != 0 ||
            string_field(item, i, "url", 0, KS_LEAK_URL_MAX, &it->url, err, errlen) != 0 ||
            string_field(item, i, "source", 0, KS_LEAK_FIELD_MAX, &it->source, err, errlen) != 0) {
            if (!json_is_object(item))
                snprintf(err, errlen, "item %zu: must be an object {\"token\",\"type\",\"url\",\"source\"}", i);
            ks_leak_report_free(out);
            return KS_ERR_INVALID;
        }
        it->token_len = json_string_length(json_object_get(item, "token"));
    }
    return KS_OK;
}

void ks_leak_report_free(ks_leak_report *r)
{
    free(r->items);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}
