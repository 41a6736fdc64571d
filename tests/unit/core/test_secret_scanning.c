/*
 * test_secret_scanning.c - core/secret_scanning.h with keys made here by
 * OpenSSL: the keys file (P-256 only, errors naming the key), the
 * signature check (the right key id and body only, base64 with or without
 * line breaks), and the report body (shape, limits, the item named in
 * errors).
 */
#include "unit.h"

#include "core/error.h"
#include "core/secret_scanning.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

static char *pem_of(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, k);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(bio);
    return out;
}

/* A keys file of (id, key) pairs, NULL-terminated; malloc'd text. */
static char *keys_file(const char *id1, EVP_PKEY *k1, const char *id2, EVP_PKEY *k2)
{
    json_t *list = json_array();
    const char *ids[2] = {id1, id2};
    EVP_PKEY *ks[2] = {k1, k2};
    for (int i = 0; i < 2 && ids[i]; i++) {
        char *pem = pem_of(ks[i]);
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "key_identifier", ids[i], "key", pem, "is_current", i == 0));
        free(pem);
    }
    json_t *doc = json_pack("{s:o}", "public_keys", list);
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    return text;
}

static void sign(EVP_PKEY *k, const char *body, char *b64, size_t cap, int wrapped)
{
    unsigned char der[128];
    size_t n = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k);
    EVP_DigestSign(ctx, der, &n, (const unsigned char *)body, strlen(body));
    EVP_MD_CTX_free(ctx);
    char plain[256];
    sodium_bin2base64(plain, sizeof plain, der, n, sodium_base64_VARIANT_ORIGINAL);
    if (!wrapped) {
        snprintf(b64, cap, "%s", plain);
        return;
    }
    size_t w = 0;
    for (size_t i = 0; plain[i] && w + 2 < cap; i++) { /* a line break every 20 characters */
        if (i && i % 20 == 0)
            b64[w++] = '\n';
        b64[w++] = plain[i];
    }
    b64[w] = '\0';
}

static void test_keys_and_signatures(void)
{
    EVP_PKEY *a = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *b = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char err[256];
    ks_github_keys *keys = NULL;
    char *text = keys_file("ka", a, "kb", b);
    ASSERT_EQ_INT(ks_github_keys_parse(text, strlen(text), &keys, err, sizeof err), KS_OK);
    free(text);
    ASSERT_EQ_INT((int)ks_github_keys_count(keys), 2);
    const char *body = "[{\"token\":\"kstt_x\",\"type\":\"keystile_api_token\"}]";
    char sig_a[300], sig_b[300], wrapped[300];
    sign(a, body, sig_a, sizeof sig_a, 0);
    sign(b, body, sig_b, sizeof sig_b, 0);
    sign(a, body, wrapped, sizeof wrapped, 1);
    ASSERT_EQ_INT(ks_github_signature_check(keys, "ka", sig_a, body, strlen(body)), KS_OK);
    ASSERT_EQ_INT(ks_github_signature_check(keys, "kb", sig_b, body, strlen(body)), KS_OK); /* not current: accepted */
    ASSERT_EQ_INT(ks_github_signature_check(keys, "ka", wrapped, body, strlen(body)), KS_OK);
    ASSERT_EQ_INT(ks_github_signature_check(keys, "kb", sig_a, body, strlen(body)), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(ks_github_signature_check(keys, "kc", sig_a, body, strlen(body)), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(ks_github_signature_check(keys, NULL, sig_a, body, strlen(body)), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(ks_github_signature_check(keys, "ka", NULL, body, strlen(body)), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(ks_github_signature_check(keys, "ka", "", body, strlen(body)), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(ks_github_signature_check(keys, "ka", "!!!", body, strlen(body)), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(ks_github_signature_check(keys, "ka", sig_a, body, strlen(body) - 1), KS_ERR_UNAUTHENTICATED);
    char flipped[300];
    snprintf(flipped, sizeof flipped, "%s", sig_a);
    flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
    ASSERT_EQ_INT(ks_github_signature_check(keys, "ka", flipped, body, strlen(body)), KS_ERR_UNAUTHENTICATED);
    ks_github_keys_free(keys);

    /* Only EC P-256, and errors name the key. */
    text = keys_file("ka", a, "big", p384);
    ASSERT_EQ_INT(ks_github_keys_parse(text, strlen(text), &keys, err, sizeof err), KS_ERR_INVALID);
    ASSERT(keys == NULL && strstr(err, "public_keys[1]") && strstr(err, "P-256"));
    free(text);
    text = keys_file("ed", ed, NULL, NULL);
    ASSERT_EQ_INT(ks_github_keys_parse(text, strlen(text), &keys, err, sizeof err), KS_ERR_INVALID);
    free(text);
    static const char *const BAD[] = {"", "{}", "[]", "{\"public_keys\":[]}", "{\"public_keys\":[{\"key\":\"x\"}]}",
                                      "{\"public_keys\":[{\"key_identifier\":\"a\",\"key\":\"not pem\"}]}", "nope"};
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        err[0] = '\0';
        ASSERT_EQ_INT(ks_github_keys_parse(BAD[i], strlen(BAD[i]), &keys, err, sizeof err), KS_ERR_INVALID);
        ASSERT(keys == NULL && err[0]);
    }
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(ed);
}

static void test_report_body(void)
{
    ks_leak_report r;
    char err[256];
    const char *ok = "[{\"token\":\"kstt_a\",\"type\":\"keystile_api_token\",\"url\":\"https://x\",\"source\":\"content\"},"
                     "{\"token\":\"b\",\"type\":\"t\",\"extra\":1}]";
    ASSERT_EQ_INT(ks_leak_report_parse(ok, strlen(ok), &r, err, sizeof err), KS_OK);
    ASSERT_EQ_INT((int)r.n, 2);
    ASSERT_EQ_STR(r.items[0].token, "kstt_a");
    ASSERT_EQ_INT((int)r.items[0].token_len, 6);
    ASSERT_EQ_STR(r.items[0].url, "https://x");
    ASSERT_EQ_STR(r.items[1].url, "");
    ASSERT_EQ_STR(r.items[1].source, "");
    ks_leak_report_free(&r);
    static const struct { const char *body, *says; } BAD[] = {
        {"", "not JSON"}, {"{}", "array"}, {"[]", "array"}, {"[1]", "item 0"},
        {"[{\"token\":\"a\",\"type\":\"t\"},{\"type\":\"t\"}]", "item 1: field 'token'"},
        {"[{\"token\":\"\",\"type\":\"t\"}]", "item 0: field 'token'"},
        {"[{\"token\":\"a\"}]", "field 'type'"},
        {"[{\"token\":\"a\",\"type\":\"t\",\"url\":5}]", "field 'url'"},
        {"[{\"token\":\"a\\u0000b\",\"type\":\"t\"}]", "not JSON"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        ASSERT_EQ_INT(ks_leak_report_parse(BAD[i].body, strlen(BAD[i].body), &r, err, sizeof err), KS_ERR_INVALID);
        if (!strstr(err, BAD[i].says))
            fprintf(stderr, "%s -> %s\n", BAD[i].body, err);
        ASSERT(strstr(err, BAD[i].says) != NULL);
    }
    /* limits: 1,000 items, 1,024-byte tokens */
    json_t *many = json_array();
    for (int i = 0; i < KS_LEAK_ITEMS_MAX + 1; i++)
        json_array_append_new(many, json_pack("{s:s, s:s}", "token", "t", "type", "x"));
    char *text = json_dumps(many, JSON_COMPACT);
    ASSERT_EQ_INT(ks_leak_report_parse(text, strlen(text), &r, err, sizeof err), KS_ERR_INVALID);
    free(text);
    json_array_remove(many, 0);
    text = json_dumps(many, JSON_COMPACT);
    ASSERT_EQ_INT(ks_leak_report_parse(text, strlen(text), &r, err, sizeof err), KS_OK);
    ks_leak_report_free(&r);
    free(text);
    json_decref(many);
    char big[KS_LEAK_TOKEN_MAX + 64];
    char tok[KS_LEAK_TOKEN_MAX + 2];
    memset(tok, 'a', KS_LEAK_TOKEN_MAX + 1);
    tok[KS_LEAK_TOKEN_MAX + 1] = '\0';
    snprintf(big, sizeof big, "[{\"token\":\"%s\",\"type\":\"t\"}]", tok);
    ASSERT_EQ_INT(ks_leak_report_parse(big, strlen(big), &r, err, sizeof err), KS_ERR_INVALID);
    tok[KS_LEAK_TOKEN_MAX] = '\0';
    snprintf(big, sizeof big, "[{\"token\":\"%s\",\"type\":\"t\"}]", tok);
    ASSERT_EQ_INT(ks_leak_report_parse(big, strlen(big), &r, err, sizeof err), KS_OK);
    ks_leak_report_free(&r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_keys_and_signatures);
    RUN(test_report_body);
    return unit_report("secret_scanning");
}
