/*
 * fuzz_credentials.c - ks_credentials_from (src/http/auth.h) and the format
 * checks verify runs on its result before any lookup.
 *
 * Input: "KEY\nTOKEN" (the X-API-Key and X-API-Token headers), or, without a
 * newline, "KEY:TOKEN" split at the first ':' as HTTP Basic is; an input with
 * neither is tried as a lone key and as a lone token (the other half absent).
 * Both halves are C strings (an embedded NUL ends them, as in a header).
 *
 * Properties (abort() when violated):
 *  - the struct's strings are NUL-terminated inside their arrays, token_len
 *    is the token's length, present is "both halves non-empty", and a
 *    missing half leaves the struct all zero;
 *  - a value up to one byte over its maximum is copied unchanged; a longer
 *    one keeps its first max + 1 bytes, so it stays detectably over-long;
 *  - the pre-lookup verdict of ks_verify (missing_credentials,
 *    malformed_token, or a key that cannot be a key) is the same for the
 *    copied credentials as for the raw header values;
 *  - ks_credentials_wipe leaves only zero bytes.
 */
#include "fuzz_util.h"

#include "core/credential.h"
#include "core/error.h"
#include "http/auth.h"

/* ks_verify's checks before the index lookup (src/verify/verify.c), with
 * KS_VERIFY_OK standing for "goes on to the lookup". */
static ks_verify_reason format_verdict(const char *key, const char *token, size_t token_len)
{
    if (!key || !*key || !token || token_len == 0)
        return KS_VERIFY_MISSING_CREDENTIALS;
    if (ks_token_check_format(token, token_len) != KS_OK)
        return KS_VERIFY_MALFORMED_TOKEN;
    if (strnlen(key, KS_KEY_ID_MAX + 1) > KS_KEY_ID_MAX || ks_key_id_parse(key, NULL) != KS_OK)
        return KS_VERIFY_UNKNOWN_KEY;
    return KS_VERIFY_OK;
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* Checks that dst (of capacity cap) holds src, cut to cap - 1 bytes. */
static void check_copy(const char *what, const char *dst, size_t cap, const char *src)
{
    FUZZ_CHECK(memchr(dst, '\0', cap) != NULL, "%s is not NUL-terminated", what);
    size_t n = strlen(src), kept = n < cap - 1 ? n : cap - 1;
    FUZZ_CHECK(strlen(dst) == kept, "%s keeps %zu of %zu bytes, expected %zu", what, strlen(dst), n, kept);
    FUZZ_CHECK(memcmp(dst, src, kept) == 0, "%s is not a prefix of the input", what);
}

static void check_one(const char *key, const char *token)
{
    ks_credentials c;
    memset(&c, 0xA5, sizeof c); /* garbage in: the function must overwrite all of it */
    ks_credentials_from(key, token, &c);
    if (!key || !token) {
        FUZZ_CHECK(all_zero(&c, sizeof c), "a missing half must leave the credentials empty");
        FUZZ_CHECK(format_verdict(c.key, c.token, c.token_len) == KS_VERIFY_MISSING_CREDENTIALS,
                   "empty credentials are not missing");
        return;
    }
    check_copy("key", c.key, sizeof c.key, key);
    check_copy("token", c.token, sizeof c.token, token);
    FUZZ_CHECK(c.token_len == strlen(c.token), "token_len %zu != %zu", c.token_len, strlen(c.token));
    FUZZ_CHECK(c.present == (*key && *token), "present is %d for key len %zu, token len %zu", c.present,
               strlen(key), strlen(token));

    ks_verify_reason raw = format_verdict(key, token, strlen(token));
    ks_verify_reason copied = format_verdict(c.key, c.token, c.token_len);
    FUZZ_CHECK(raw == copied, "verdict %s on the headers but %s on the copy", ks_verify_reason_name(raw),
               ks_verify_reason_name(copied));
    if (copied == KS_VERIFY_OK) {
        FUZZ_CHECK(c.present, "well-formed credentials not present");
        FUZZ_CHECK(strcmp(c.key, key) == 0 && strcmp(c.token, token) == 0, "well-formed values changed");
    }
    ks_credentials_wipe(&c);
    FUZZ_CHECK(all_zero(&c, sizeof c), "ks_credentials_wipe left bytes");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    size_t n = strlen(s);
    char *sep = memchr(s, '\n', n);
    if (!sep)
        sep = memchr(s, ':', n);
    if (sep) {
        *sep = '\0';
        check_one(s, sep + 1);
    } else {
        check_one(s, NULL);
        check_one(NULL, s);
        check_one(s, s);
    }
    free(s);
    return 0;
}
