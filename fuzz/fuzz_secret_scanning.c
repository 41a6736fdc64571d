/*
 * fuzz_secret_scanning.c - GitHub's secret scanning inputs
 * (core/secret_scanning.h): the report body, the keys file, and the
 * signature check over a body.
 *
 * Input: any bytes, read as a report body, as a keys file, and as a signed
 * body.
 *
 * Properties (abort() when violated):
 *  - ks_leak_report_parse returns KS_OK or KS_ERR_INVALID (with a message);
 *    on KS_OK there are 1 to KS_LEAK_ITEMS_MAX items, each with a token of
 *    1 to KS_LEAK_TOKEN_MAX bytes and no NUL inside (token_len is its
 *    length), a non-empty type, and url/source strings; re-serialising the
 *    items and parsing them again gives the same strings;
 *  - ks_github_keys_parse returns KS_OK (1 to KS_GITHUB_KEYS_MAX keys) or
 *    KS_ERR_INVALID with a message;
 *  - with a P-256 key made at start and a signature of a fixed body, the
 *    check passes for exactly that body and key id: any other input as the
 *    body, the input as the signature (unless it is that signature with
 *    whitespace added), or another key id, is KS_ERR_UNAUTHENTICATED.
 */
#include "fuzz_util.h"

#include "core/error.h"
#include "core/secret_scanning.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

static const char KNOWN_BODY[] = "[{\"token\":\"kstt_x\",\"type\":\"keystile_api_token\"}]";
static ks_github_keys *keys;
static char signature[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    FUZZ_CHECK(pkey && bio && PEM_write_bio_PUBKEY(bio, pkey) == 1, "key made");
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    json_t *doc = json_pack("{s:[{s:s, s:s%, s:b}]}", "public_keys", "key_identifier", "k1", "key", pem, (size_t)n,
                            "is_current", 1);
    char *text = json_dumps(doc, 0);
    char err[256];
    FUZZ_CHECK(ks_github_keys_parse(text, strlen(text), &keys, err, sizeof err) == KS_OK, "keys: %s", err);
    free(text);
    json_decref(doc);
    BIO_free(bio);
    unsigned char der[128];
    size_t der_len = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FUZZ_CHECK(ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
                   EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)KNOWN_BODY, strlen(KNOWN_BODY)) == 1,
               "signed");
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    sodium_bin2base64(signature, sizeof signature, der, der_len, sodium_base64_VARIANT_ORIGINAL);
    FUZZ_CHECK(ks_github_signature_check(keys, "k1", signature, KNOWN_BODY, strlen(KNOWN_BODY)) == KS_OK,
               "the known body verifies");
    return 0;
}

static void check_report(const char *data, size_t size)
{
    ks_leak_report r, again;
    char err[256] = "";
    int rc = ks_leak_report_parse(data, size, &r, err, sizeof err);
    FUZZ_CHECK(rc == KS_OK || rc == KS_ERR_INVALID, "report parse returned %d", rc);
    if (rc != KS_OK) {
        FUZZ_CHECK(err[0] != '\0', "an error says why");
        return;
    }
    FUZZ_CHECK(r.n >= 1 && r.n <= KS_LEAK_ITEMS_MAX, "%zu items", r.n);
    json_t *arr = json_array();
    for (size_t i = 0; i < r.n; i++) {
        const ks_leak_item *it = &r.items[i];
        FUZZ_CHECK(it->token_len >= 1 && it->token_len <= KS_LEAK_TOKEN_MAX && strlen(it->token) == it->token_len,
                   "item %zu token", i);
        FUZZ_CHECK(it->type && *it->type && it->url && it->source, "item %zu fields", i);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "token", it->token, "type", it->type, "url",
                                             it->url, "source", it->source));
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    FUZZ_CHECK(text && ks_leak_report_parse(text, strlen(text), &again, err, sizeof err) == KS_OK,
               "the re-serialised report parses: %s", err);
    FUZZ_CHECK(again.n == r.n, "same count");
    for (size_t i = 0; i < r.n; i++)
        FUZZ_CHECK(strcmp(again.items[i].token, r.items[i].token) == 0 &&
                       strcmp(again.items[i].type, r.items[i].type) == 0 &&
                       strcmp(again.items[i].url, r.items[i].url) == 0 &&
                       strcmp(again.items[i].source, r.items[i].source) == 0,
                   "item %zu round trip", i);
    free(text);
    ks_leak_report_free(&again);
    ks_leak_report_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    check_report(text, size);

    ks_github_keys *k = NULL;
    char err[256] = "";
    int rc = ks_github_keys_parse(text, size, &k, err, sizeof err);
    FUZZ_CHECK(rc == KS_OK || rc == KS_ERR_INVALID, "keys parse returned %d", rc);
    if (rc == KS_OK)
        FUZZ_CHECK(ks_github_keys_count(k) >= 1 && ks_github_keys_count(k) <= KS_GITHUB_KEYS_MAX, "key count");
    else
        FUZZ_CHECK(k == NULL && err[0], "no keys and a message on error");
    ks_github_keys_free(k);

    int same = size == strlen(KNOWN_BODY) && memcmp(data, KNOWN_BODY, size) == 0;
    rc = ks_github_signature_check(keys, "k1", signature, text, size);
    FUZZ_CHECK(rc == (same ? KS_OK : KS_ERR_UNAUTHENTICATED), "signature over the input: %d", rc);
    rc = ks_github_signature_check(keys, "k2", signature, KNOWN_BODY, strlen(KNOWN_BODY));
    FUZZ_CHECK(rc == KS_ERR_UNAUTHENTICATED, "another key id");
    char sig[KS_GITHUB_SIGNATURE_MAX + 2];
    size_t n = size < sizeof sig - 1 ? size : sizeof sig - 1;
    memcpy(sig, data, n);
    sig[n] = '\0';
    char bare[sizeof sig]; /* without the whitespace the decoder skips */
    size_t m = 0;
    for (size_t i = 0; sig[i]; i++)
        if (!strchr(" \t\r\n", sig[i]))
            bare[m++] = sig[i];
    bare[m] = '\0';
    if (strcmp(bare, signature) != 0) {
        rc = ks_github_signature_check(keys, "k1", sig, KNOWN_BODY, strlen(KNOWN_BODY));
        FUZZ_CHECK(rc == KS_ERR_UNAUTHENTICATED, "the input as a signature: %d", rc);
    }
    return 0;
}
