/*
 * test_jwt.c - the claim checks of login tokens (core/jwt.c, pure): exp -
 * iat at most 6 h, iat at most 60 s ahead, a token fingerprint present,
 * and a retired signing key verifying nothing 6 h after its retirement.
 * Tokens with hand-made claims are signed here with a fixed Ed25519 key,
 * so only the claim under test differs from one Keystile would accept.
 */
#include "unit.h"
#include "core/error.h"
#include "core/jwt.h"

#include <stdlib.h>

#define NOW 1800000000LL
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define FP "AAAAAAAAAAAAAAAAAAAAAA" /* 22 chars, as a fingerprint */

static ks_signing_key key;

static void make_key(void)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    memset(&key, 0, sizeof key);
    memset(seed, 7, sizeof seed);
    crypto_sign_seed_keypair(key.public_key, key.secret_key, seed);
    snprintf(key.kid, sizeof key.kid, "0123456789abcdef");
    key.created_at = NOW - 86400;
}

/* base64url of text into out (cap bytes). */
static void b64(const char *text, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, (const unsigned char *)text, strlen(text), B64);
}

/* A JWT of `payload` (JSON text) signed by key, header as Keystile writes it. */
static char *craft(const char *payload)
{
    char header[256], body[1024];
    b64("{\"alg\":\"EdDSA\",\"kid\":\"0123456789abcdef\",\"typ\":\"JWT\"}", header, sizeof header);
    b64(payload, body, sizeof body);
    size_t signed_len = strlen(header) + 1 + strlen(body);
    char *jwt = malloc(signed_len + 1 + sodium_base64_ENCODED_LEN(crypto_sign_BYTES, B64));
    if (!jwt)
        abort();
    snprintf(jwt, signed_len + 1, "%s.%s", header, body);
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, (const unsigned char *)jwt, signed_len, key.secret_key);
    jwt[signed_len] = '.';
    sodium_bin2base64(jwt + signed_len + 1, sodium_base64_ENCODED_LEN(crypto_sign_BYTES, B64), sig, sizeof sig, B64);
    return jwt;
}

/* ks_jwt_verify at now of a token with these iat/exp (and tfp). */
static int verify_claims(long long iat, long long exp, const char *tfp, int64_t now)
{
    char payload[512];
    if (tfp)
        snprintf(payload, sizeof payload,
                 "{\"account\":\"acme\",\"exp\":%lld,\"iat\":%lld,\"jti\":\"x\",\"roles\":[],"
                 "\"sub\":\"kst-acme-aaaaaaaaaa\",\"tfp\":\"%s\"}", exp, iat, tfp);
    else
        snprintf(payload, sizeof payload,
                 "{\"account\":\"acme\",\"exp\":%lld,\"iat\":%lld,\"jti\":\"x\",\"roles\":[],"
                 "\"sub\":\"kst-acme-aaaaaaaaaa\"}", exp, iat);
    char *jwt = craft(payload);
    ks_jwt_claims c;
    int rc = ks_jwt_verify(jwt, strlen(jwt), &key, 1, now, &c);
    free(jwt);
    return rc;
}

static void test_crafted_token_like_ours_verifies(void)
{
    make_key();
    ASSERT_EQ_INT(verify_claims(NOW, NOW + KS_JWT_LIFETIME, FP, NOW), KS_OK);
    ASSERT_EQ_INT(verify_claims(NOW - 100, NOW + 100, FP, NOW), KS_OK);
}

static void test_lifetime_at_most_6_hours(void)
{
    make_key();
    ASSERT_EQ_INT(verify_claims(NOW, NOW + KS_JWT_LIFETIME, FP, NOW), KS_OK);
    ASSERT_EQ_INT(verify_claims(NOW, NOW + KS_JWT_LIFETIME + 1, FP, NOW), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(verify_claims(NOW - 3600, NOW + 86400, FP, NOW), KS_ERR_UNAUTHENTICATED);
    /* far-apart values must not overflow into acceptance */
    ASSERT_EQ_INT(verify_claims(-9223372036854775807LL, 9223372036854775807LL, FP, NOW), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(verify_claims(-9223372036854775807LL, NOW + 10, FP, NOW), KS_ERR_UNAUTHENTICATED);
    /* exp not after iat */
    ASSERT_EQ_INT(verify_claims(NOW + 10, NOW + 10, FP, NOW), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(verify_claims(NOW + 20, NOW + 10, FP, NOW), KS_ERR_UNAUTHENTICATED);
}

static void test_iat_at_most_60_seconds_ahead(void)
{
    make_key();
    ASSERT_EQ_INT(verify_claims(NOW + KS_JWT_MAX_SKEW, NOW + 3600, FP, NOW), KS_OK);
    ASSERT_EQ_INT(verify_claims(NOW + KS_JWT_MAX_SKEW + 1, NOW + 3600, FP, NOW), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(verify_claims(NOW + 3600, NOW + 7200, FP, NOW), KS_ERR_UNAUTHENTICATED);
    /* and a real token seen by a server whose clock is behind */
    char *jwt = NULL;
    ks_strlist roles = {0};
    ASSERT_EQ_INT(ks_jwt_sign(&key, "kst-acme-aaaaaaaaaa", "acme", &roles, FP, NOW, &jwt), KS_OK);
    ks_jwt_claims c;
    ASSERT_EQ_INT(ks_jwt_verify(jwt, strlen(jwt), &key, 1, NOW - 60, &c), KS_OK);
    ASSERT_EQ_INT(ks_jwt_verify(jwt, strlen(jwt), &key, 1, NOW - 61, &c), KS_ERR_UNAUTHENTICATED);
    free(jwt);
}

static void test_fingerprint_claim_required(void)
{
    make_key();
    ASSERT_EQ_INT(verify_claims(NOW, NOW + 60, NULL, NOW), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(verify_claims(NOW, NOW + 60, "", NOW), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(verify_claims(NOW, NOW + 60, "AAAAAAAAAAAAAAAAAAAAA", NOW), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(verify_claims(NOW, NOW + 60, "AAAAAAAAAAAAAAAAAAAAAAA", NOW), KS_ERR_UNAUTHENTICATED);
    /* signed by us: the claims carry it back */
    char *jwt = NULL;
    ks_strlist roles = {0};
    ks_digest d;
    memset(d.bytes, 3, sizeof d.bytes);
    char fp[KS_JWT_FP_LEN + 1];
    ks_jwt_token_fingerprint(&d, fp);
    ASSERT_EQ_INT(ks_jwt_sign(&key, "kst-acme-aaaaaaaaaa", "acme", &roles, fp, NOW, &jwt), KS_OK);
    ks_jwt_claims c;
    ASSERT_EQ_INT(ks_jwt_verify(jwt, strlen(jwt), &key, 1, NOW, &c), KS_OK);
    ASSERT_EQ_STR(c.token_fp, fp);
    free(jwt);
}

static void test_fingerprint(void)
{
    ks_digest a, b;
    memset(a.bytes, 1, sizeof a.bytes);
    memset(b.bytes, 1, sizeof b.bytes);
    b.bytes[31] = 2;
    char fa[KS_JWT_FP_LEN + 1], fa2[KS_JWT_FP_LEN + 1], fb[KS_JWT_FP_LEN + 1];
    ks_jwt_token_fingerprint(&a, fa);
    ks_jwt_token_fingerprint(&a, fa2);
    ks_jwt_token_fingerprint(&b, fb);
    ASSERT_EQ_INT(strlen(fa), KS_JWT_FP_LEN);
    ASSERT_EQ_STR(fa, fa2);
    ASSERT(strcmp(fa, fb) != 0);
    for (size_t i = 0; i < KS_JWT_FP_LEN; i++)
        ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", fa[i]));
    /* not a plain unkeyed hash of the digest */
    unsigned char plain[16];
    char plain64[32];
    crypto_generichash(plain, sizeof plain, a.bytes, sizeof a.bytes, NULL, 0);
    sodium_bin2base64(plain64, sizeof plain64, plain, sizeof plain, B64);
    ASSERT(strcmp(fa, plain64) != 0);
}

static void test_retired_key_verifies_nothing_after_6_hours(void)
{
    make_key();
    int64_t retired = NOW;
    key.retired_at = retired;
    /* A token it signed after its retirement (another node had not reloaded
     * yet, or the key leaked) stays within 6 h of the retirement. */
    int64_t iat = retired + 600;
    ASSERT_EQ_INT(verify_claims(iat, iat + KS_JWT_LIFETIME, FP, retired + KS_JWT_LIFETIME - 1), KS_OK);
    ASSERT_EQ_INT(verify_claims(iat, iat + KS_JWT_LIFETIME, FP, retired + KS_JWT_LIFETIME), KS_ERR_UNAUTHENTICATED);
    /* An active key has no such limit. */
    key.retired_at = 0;
    ASSERT_EQ_INT(verify_claims(iat, iat + KS_JWT_LIFETIME, FP, retired + KS_JWT_LIFETIME), KS_OK);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_crafted_token_like_ours_verifies);
    RUN(test_lifetime_at_most_6_hours);
    RUN(test_iat_at_most_60_seconds_ahead);
    RUN(test_fingerprint_claim_required);
    RUN(test_fingerprint);
    RUN(test_retired_key_verifies_nothing_after_6_hours);
    return unit_report("jwt");
}
