/*
 * fuzz_jwt.c - login tokens (src/core/jwt.h): ks_jwt_verify on hostile
 * input, and ks_jwt_sign / ks_jwt_verify round trips.
 *
 * Two fixed Ed25519 signing keys (from fixed seeds) and a fixed `now`; the
 * RNG behind libsodium is deterministic (fuzz_rng.h), so the `jti` of a
 * signed token, and with it every token, depends on the input only.
 *
 * Each input is used three ways (abort() when a property fails):
 *  1. as a Bearer token: ks_jwt_verify on exactly its bytes must not crash;
 *     when it accepts, the claims are bounded strings, now < exp, and the
 *     token is nothing but base64url and dots (only our own tokens pass);
 *  2. as claims: the input split at NUL bytes gives sub, account and roles;
 *     when ks_jwt_sign succeeds, the token verifies under either key set
 *     holding its key, with the same sub, account and token fingerprint,
 *     iat = now and exp = now + 6 h, exactly when sub and account fit their
 *     maximum lengths; it fails at exp, with only the other key, with the
 *     right kid but another public key, more than 60 s before its iat, and
 *     once its key has been retired for 6 h;
 *  3. as edits of that signed token: each (position, byte) pair of the
 *     input is applied alone, then all together, plus truncation at each
 *     chosen position; whenever the result differs from the token, verify
 *     must refuse it (the signature covers header and payload, base64url is
 *     decoded strictly, so no other byte string may pass).
 * Known bug "jwt-b64-high-bytes" (see fuzz/README.md) can be tolerated with
 * KS_FUZZ_KNOWN_BUGS=jwt-b64-high-bytes.
 */
#include "fuzz_rng.h"
#include "fuzz_util.h"

#include "core/error.h"
#include "core/jwt.h"

#define NOW 1800000000LL /* 2027-01-15 */

static ks_signing_key keys[2];       /* [0] signs; [1] retired, still verifies */
static ks_signing_key impostor;      /* keys[0]'s kid with another public key */

static void make_key(ks_signing_key *k, const char *kid, unsigned char seed_byte)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    memset(k, 0, sizeof *k);
    memset(seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair(k->public_key, k->secret_key, seed);
    snprintf(k->kid, sizeof k->kid, "%s", kid);
    k->created_at = NOW - 86400;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rng_install();
    make_key(&keys[0], "0123456789abcdef", 1);
    make_key(&keys[1], "fedcba9876543210", 2);
    keys[1].retired_at = NOW - 3600;
    make_key(&impostor, "0123456789abcdef", 3);
    return 0;
}

/* ks_jwt_verify on exactly len bytes (a heap copy, so over-reads show). */
static int verify(const char *jwt, size_t len, const ks_signing_key *ks, size_t n, int64_t now, ks_jwt_claims *c)
{
    char *copy = fuzz_exact((const uint8_t *)jwt, len);
    memset(c, 0x5A, sizeof *c);
    int rc = ks_jwt_verify(copy, len, ks, n, now, c);
    free(copy);
    FUZZ_CHECK(rc == KS_OK || rc == KS_ERR_UNAUTHENTICATED, "verify returned %d", rc);
    if (rc == KS_OK) {
        FUZZ_CHECK(memchr(c->sub, '\0', sizeof c->sub) && memchr(c->account, '\0', sizeof c->account),
                   "claims not NUL-terminated");
        FUZZ_CHECK(now < c->exp, "accepted at %lld with exp %lld", (long long)now, (long long)c->exp);
    }
    return rc;
}

/* 1 when edited differs from jwt only by bytes >= 0x80 in the signature
 * where jwt has '_': known bug "jwt-b64-high-bytes" (libsodium 1.0.18's
 * sodium_base642bin decodes every byte >= 0x80 as '_'). */
static int only_high_byte_aliases(const char *jwt, size_t len, const char *edited, size_t edited_len)
{
    const char *sig = strrchr(jwt, '.');
    if (edited_len != len || !sig)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (edited[i] != jwt[i] && !(jwt + i > sig && jwt[i] == '_' && (unsigned char)edited[i] >= 0x80))
            return 0;
    return 1;
}

/* Verify must refuse every byte string other than the signed token. */
static void check_edited(const char *jwt, size_t len, const char *edited, size_t edited_len, const char *what)
{
    if (edited_len == len && memcmp(edited, jwt, len) == 0)
        return;
    if (fuzz_known_bug("jwt-b64-high-bytes") && only_high_byte_aliases(jwt, len, edited, edited_len))
        return;
    ks_jwt_claims c;
    int rc = verify(edited, edited_len, keys, 2, NOW, &c);
    FUZZ_CHECK(rc != KS_OK, "%s of a signed token still verifies: '%.*s'", what, (int)edited_len, edited);
}

static void check_signed(const char *sub, const char *account, const ks_strlist *roles, const uint8_t *data,
                         size_t size)
{
    char *jwt = NULL;
    ks_digest token_hash;
    char fp[KS_JWT_FP_LEN + 1];
    crypto_generichash(token_hash.bytes, sizeof token_hash.bytes, data, size, NULL, 0);
    ks_jwt_token_fingerprint(&token_hash, fp);
    if (ks_jwt_sign(&keys[0], sub, account, roles, fp, NOW, &jwt) != KS_OK)
        return; /* jansson refuses strings that are not UTF-8 */
    size_t len = strlen(jwt);
    ks_jwt_claims c;
    int fits = strlen(sub) <= KS_KEY_ID_MAX && strlen(account) <= KS_ACCOUNT_MAX;
    int rc = verify(jwt, len, keys, 2, NOW, &c);
    FUZZ_CHECK((rc == KS_OK) == fits, "signed token verify rc %d (sub %zu, account %zu bytes)", rc, strlen(sub),
               strlen(account));
    if (rc == KS_OK) {
        FUZZ_CHECK(strcmp(c.sub, sub) == 0 && strcmp(c.account, account) == 0 && strcmp(c.token_fp, fp) == 0,
                   "claims changed");
        FUZZ_CHECK(c.iat == NOW && c.exp == NOW + KS_JWT_LIFETIME, "iat %lld exp %lld", (long long)c.iat,
                   (long long)c.exp);
        FUZZ_CHECK(verify(jwt, len, keys, 1, NOW + KS_JWT_LIFETIME - 1, &c) == KS_OK, "fails just before exp");
    }
    FUZZ_CHECK(verify(jwt, len, keys, 2, NOW + KS_JWT_LIFETIME, &c) != KS_OK, "verifies at exp");
    FUZZ_CHECK(verify(jwt, len, &keys[1], 1, NOW, &c) != KS_OK, "verifies with the other key only");
    FUZZ_CHECK(verify(jwt, len, &impostor, 1, NOW, &c) != KS_OK, "verifies with a forged kid");
    FUZZ_CHECK(verify(jwt, len, keys, 2, NOW - KS_JWT_MAX_SKEW - 1, &c) != KS_OK, "verifies before its iat");
    ks_signing_key retired = keys[0];
    retired.retired_at = NOW - KS_JWT_LIFETIME;
    FUZZ_CHECK(verify(jwt, len, &retired, 1, NOW, &c) != KS_OK, "verifies 6 h after its key retired");
    sodium_memzero(&retired, sizeof retired);

    char *edited = malloc(len + 1);
    if (!edited)
        abort();
    memcpy(edited, jwt, len);
    for (size_t i = 0; i + 1 < size && i < 64; i += 2) {
        size_t pos = data[i] % len;
        char one[KS_JWT_MAX];
        if (len <= sizeof one) {
            memcpy(one, jwt, len);
            one[pos] = (char)data[i + 1];
            check_edited(jwt, len, one, len, "a one-byte change");
        }
        edited[pos] = (char)data[i + 1];
        check_edited(jwt, len, jwt, pos, "a truncation");
    }
    check_edited(jwt, len, edited, len, "a set of changes");
    memcpy(edited, jwt, len);
    edited[len] = '=';
    check_edited(jwt, len, edited, len + 1, "an appended '='");
    free(edited);
    free(jwt);
}

static const char JWT_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ks_jwt_claims c;
    if (verify((const char *)data, size, keys, 2, NOW, &c) == KS_OK) {
        /* Only a token we signed can pass, and we only write base64url. */
        size_t ok = 0;
        while (ok < size && data[ok] && strchr(JWT_CHARS, data[ok]))
            ok++;
        FUZZ_CHECK(ok == size || (data[ok] >= 0x80 && fuzz_known_bug("jwt-b64-high-bytes")),
                   "accepted a token with byte 0x%02x at %zu", data[ok], ok);
    }

    /* sub \0 account \0 role \0 role ... */
    fuzz_rng_seed((uint64_t)fuzz_crc32(data, size) << 32 | size);
    char *parts = fuzz_cstr(data, size);
    const char *sub = parts, *account = "";
    ks_strlist roles = {0};
    size_t at = strlen(parts) + 1;
    if (at <= size) {
        account = parts + at;
        at += strlen(account) + 1;
    }
    while (at <= size && roles.count < 8) {
        if (ks_strlist_add(&roles, parts + at) != KS_OK)
            abort();
        at += strlen(parts + at) + 1;
    }
    check_signed(sub, account, &roles, data, size);
    ks_strlist_free(&roles);
    free(parts);
    return 0;
}
