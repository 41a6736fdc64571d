/*
 * test_totp.c - unit tests of src/core/totp.c with a fixed clock: the
 * SHA-1 test vectors of RFC 6238 (appendix B; our codes are 6 digits, the
 * last 6 of the RFC's 8), the window of one step of drift either way (-1,
 * 0, +1 accepted with the step they matched, -2 and +2 refused), malformed
 * codes, base32 of a secret, and the otpauth:// URI of Google
 * Authenticator's key-URI format. That a code works once is the caller's
 * part (the step given back); tests/unit/service/test_people.c checks it.
 */
#include "unit.h"

#include "core/error.h"
#include "core/totp.h"

#include <liboath/oath.h>
#include <sodium.h>

/* RFC 6238's SHA-1 seed: the 20 ASCII bytes "12345678901234567890". */
static const unsigned char RFC_SECRET[KS_TOTP_SECRET_LEN] = "12345678901234567890";

static void test_rfc6238_vectors(void)
{
    static const struct {
        int64_t t;
        const char *code8; /* RFC 6238 appendix B, SHA1 column */
    } V[] = {
        {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
        {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000LL, "65353130"},
    };
    for (size_t i = 0; i < sizeof V / sizeof *V; i++) {
        char code[KS_TOTP_DIGITS + 1];
        ASSERT_EQ_INT(ks_totp_code(RFC_SECRET, V[i].t, code), KS_OK);
        ASSERT_EQ_STR(code, V[i].code8 + 2);
        int64_t step = -1;
        ASSERT_EQ_INT(ks_totp_check(RFC_SECRET, V[i].t, V[i].code8 + 2, &step), KS_OK);
        ASSERT_EQ_INT(step, V[i].t / KS_TOTP_STEP);
    }
}

/* The code of the step `delta` steps away from now's, checked at now. */
static int check_at_delta(int64_t now, int delta, int64_t *step)
{
    char code[KS_TOTP_DIGITS + 1];
    if (ks_totp_code(RFC_SECRET, now + delta * KS_TOTP_STEP, code) != KS_OK)
        return -1;
    return ks_totp_check(RFC_SECRET, now, code, step);
}

static void test_drift_window(void)
{
    /* Several instants, at the start, middle and end of a step. */
    const int64_t NOW[] = {1111111110, 1111111125, 1111111139, 2000000000};
    for (size_t i = 0; i < sizeof NOW / sizeof *NOW; i++) {
        int64_t now = NOW[i], s = now / KS_TOTP_STEP, step = 0;
        for (int d = -1; d <= 1; d++) {
            if (check_at_delta(now, d, &step) != KS_OK)
                UNIT_FAIL("code of step %+d refused at %" PRId64, d, now);
            ASSERT_EQ_INT(step, s + d);
        }
        /* Two steps away is too far either way (the codes differ from the
         * accepted ones for these instants: checked, so the test means it). */
        for (int d = -2; d <= 2; d += 4) {
            char far[KS_TOTP_DIGITS + 1], near[KS_TOTP_DIGITS + 1];
            ASSERT_EQ_INT(ks_totp_code(RFC_SECRET, now + d * KS_TOTP_STEP, far), KS_OK);
            for (int n = -1; n <= 1; n++) {
                ASSERT_EQ_INT(ks_totp_code(RFC_SECRET, now + n * KS_TOTP_STEP, near), KS_OK);
                ASSERT(strcmp(far, near) != 0);
            }
            step = 99;
            if (check_at_delta(now, d, &step) != KS_ERR_UNAUTHENTICATED)
                UNIT_FAIL("code of step %+d accepted at %" PRId64, d, now);
            ASSERT_EQ_INT(step, 0);
        }
    }
}

static void test_malformed_codes(void)
{
    int64_t step;
    const int64_t now = 59;
    /* 287082 is the right code at 59: each of these differs in form only. */
    const char *bad[] = {"", "28708", "2870820", "28708a", " 287082", "287082 ", "+28708", "２８７０８２"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (ks_totp_check(RFC_SECRET, now, bad[i], &step) != KS_ERR_UNAUTHENTICATED)
            UNIT_FAIL("'%s' accepted", bad[i]);
    ASSERT_EQ_INT(ks_totp_check(RFC_SECRET, now, NULL, &step), KS_ERR_UNAUTHENTICATED);
    ASSERT_EQ_INT(ks_totp_check(RFC_SECRET, now, "287082", &step), KS_OK);
    /* Another secret does not take the code. */
    unsigned char other[KS_TOTP_SECRET_LEN];
    memcpy(other, RFC_SECRET, sizeof other);
    other[0] ^= 1;
    ASSERT_EQ_INT(ks_totp_check(other, now, "287082", &step), KS_ERR_UNAUTHENTICATED);
}

static void test_secret_base32(void)
{
    char b32[KS_TOTP_BASE32_MAX];
    ASSERT_EQ_INT(ks_totp_secret_base32(RFC_SECRET, b32), KS_OK);
    /* RFC 4648 base32 of "12345678901234567890", no padding needed. */
    ASSERT_EQ_STR(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    /* A new secret is random and round-trips through base32. */
    unsigned char a[KS_TOTP_SECRET_LEN], b[KS_TOTP_SECRET_LEN];
    ks_totp_secret_new(a);
    ks_totp_secret_new(b);
    ASSERT(memcmp(a, b, sizeof a) != 0);
    ASSERT_EQ_INT(ks_totp_secret_base32(a, b32), KS_OK);
    ASSERT_EQ_INT((int)strlen(b32), 32);
    char *raw = NULL;
    size_t len = 0;
    ASSERT_EQ_INT(oath_base32_decode(b32, strlen(b32), &raw, &len), OATH_OK);
    int same = len == sizeof a && memcmp(raw, a, sizeof a) == 0;
    free(raw);
    ASSERT(same);
}

static void test_otpauth_uri(void)
{
    char uri[KS_TOTP_URI_MAX];
    ASSERT_EQ_INT(ks_totp_uri("Keystile", "ada@example.com", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", uri, sizeof uri),
                  KS_OK);
    ASSERT_EQ_STR(uri, "otpauth://totp/Keystile:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                       "&issuer=Keystile&algorithm=SHA1&digits=6&period=30");
    /* Label and issuer are percent-encoded (a space, '+', ':' and '&' would
     * otherwise change the URI's meaning). */
    ASSERT_EQ_INT(ks_totp_uri("Acme Keys", "a+b:c&d@x.io", "AAAA", uri, sizeof uri), KS_OK);
    ASSERT_EQ_STR(uri, "otpauth://totp/Acme%20Keys:a%2Bb%3Ac%26d%40x.io?secret=AAAA&issuer=Acme%20Keys"
                       "&algorithm=SHA1&digits=6&period=30");
    /* Too small a buffer: an error and nothing half-written. */
    char small[40];
    memset(small, 'z', sizeof small);
    ASSERT_EQ_INT(ks_totp_uri("Keystile", "ada@example.com", "GEZDGNBVGY3TQOJQ", small, sizeof small),
                  KS_ERR_INVALID);
    ASSERT_EQ_STR(small, "");
    ASSERT_EQ_INT(ks_totp_uri("Keystile", "ada@example.com", "GEZDGNBVGY3TQOJQ", small, 0), KS_ERR_INVALID);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_rfc6238_vectors);
    RUN(test_drift_window);
    RUN(test_malformed_codes);
    RUN(test_secret_base32);
    RUN(test_otpauth_uri);
    return unit_report("totp");
}
