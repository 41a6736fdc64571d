/*
 * test_credential.c - unit tests of src/core/credential.c: tokens (format,
 * checksum, randomness), key ids (generate, parse) and account names.
 *
 * Expected checksums come from an own base62/CRC32 encoder following API.md,
 * so a test does not merely restate the implementation.
 */
#include "unit.h"

#include "core/credential.h"
#include "core/error.h"

#include <sodium.h>
#include <zlib.h>

/* ---------------------------------------------------------------- helpers */

static const char TEST_BASE62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int test_is_base62(char c)
{
    return c && strchr(TEST_BASE62, c) != NULL;
}

/* The 6 checksum chars of API.md: base62 of crc32(body[0..43)), zero-padded. */
static void expected_checksum(const char *body, char out[7])
{
    unsigned long crc = crc32(0L, (const Bytef *)body, 43);
    for (int i = 5; i >= 0; i--) {
        out[i] = TEST_BASE62[crc % 62];
        crc /= 62;
    }
    out[6] = '\0';
}

/* ------------------------------------------------------------------ tokens */

static void test_token_generate_format(void)
{
    char seen_first_crc_zero = 0;
    for (int i = 0; i < 3000; i++) {
        char tok[KS_TOKEN_LEN + 1];
        memset(tok, 'x', sizeof tok);
        ks_token_generate(tok);
        ASSERT_EQ_INT(strlen(tok), 54);
        ASSERT_EQ_INT(KS_TOKEN_LEN, 54);
        ASSERT(memcmp(tok, "kstt_", 5) == 0);
        for (int j = 5; j < 54; j++)
            ASSERT(test_is_base62(tok[j]));
        char crc[7];
        expected_checksum(tok + 5, crc);
        ASSERT_EQ_STR(tok + 48, crc);
        ASSERT_EQ_INT(ks_token_check_format(tok, 54), KS_OK);
        if (tok[48] == '0')
            seen_first_crc_zero = 1;
    }
    /* About 21% of CRCs are below 62^5 and must be left-padded with '0'. */
    ASSERT(seen_first_crc_zero);
}

static void test_token_generate_unique_and_spread(void)
{
    enum { N = 500 };
    static char toks[N][KS_TOKEN_LEN + 1];
    int used[128] = {0};
    for (int i = 0; i < N; i++) {
        ks_token_generate(toks[i]);
        for (int j = 5; j < 48; j++)
            used[(unsigned char)toks[i][j]] = 1;
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            ASSERT(strcmp(toks[i], toks[j]) != 0);
    /* 500 * 43 uniform draws: every base62 char shows up in the body. */
    for (const char *c = TEST_BASE62; *c; c++)
        ASSERT(used[(unsigned char)*c]);
}

/* The body's digits are uniform over base62: Pearson's chi-square of
 * 20,000 tokens (860,000 digits, 61 degrees of freedom) stays below 130
 * (p < 1e-6 for uniform digits). A byte taken modulo 62 would give '0'..'7'
 * a fifth more weight, about 5,000 here. */
static void test_token_digits_uniform(void)
{
    enum { N = 20000 };
    const char *digits = TEST_BASE62;
    long count[62] = {0};
    char tok[KS_TOKEN_LEN + 1];
    for (int i = 0; i < N; i++) {
        ks_token_generate(tok);
        for (int j = 5; j < 5 + KS_TOKEN_BODY_LEN; j++) {
            const char *at = strchr(digits, tok[j]);
            ASSERT(at != NULL && *at != '\0');
            count[at - digits]++;
        }
    }
    double expected = (double)N * KS_TOKEN_BODY_LEN / 62, chi2 = 0;
    for (int d = 0; d < 62; d++)
        chi2 += (count[d] - expected) * (count[d] - expected) / expected;
    if (chi2 >= 130)
        UNIT_FAIL("token digits not uniform: chi-square %.1f over 61 degrees of freedom", chi2);
}

static void test_token_known_checksum_accepted(void)
{
    /* Hand-built token: the check must follow API.md exactly, not only
     * accept what the generator makes. */
    char tok[KS_TOKEN_LEN + 1];
    memcpy(tok, "kstt_", 5);
    memset(tok + 5, 'A', 43);
    char crc[7];
    expected_checksum(tok + 5, crc);
    memcpy(tok + 48, crc, 6);
    tok[54] = '\0';
    ASSERT_EQ_INT(ks_token_check_format(tok, 54), KS_OK);

    /* Find a body whose CRC needs padding (crc < 62^5) and check it. */
    int found = 0;
    for (int i = 0; i < 62 * 62 && !found; i++) {
        memset(tok + 5, '0', 43);
        tok[5 + 41] = TEST_BASE62[i / 62];
        tok[5 + 42] = TEST_BASE62[i % 62];
        unsigned long c = crc32(0L, (const Bytef *)(tok + 5), 43);
        if (c < 916132832UL) { /* 62^5 */
            expected_checksum(tok + 5, crc);
            ASSERT(crc[0] == '0');
            memcpy(tok + 48, crc, 6);
            ASSERT_EQ_INT(ks_token_check_format(tok, 54), KS_OK);
            /* Without the padding (checksum shifted) it is refused. */
            char bad[KS_TOKEN_LEN + 1];
            memcpy(bad, tok, 48);
            memcpy(bad + 48, crc + 1, 5);
            bad[53] = '0';
            bad[54] = '\0';
            ASSERT_EQ_INT(ks_token_check_format(bad, 54), KS_ERR_INVALID);
            found = 1;
        }
    }
    ASSERT(found);
}

static void test_token_check_uses_len_not_nul(void)
{
    char buf[KS_TOKEN_LEN + 8];
    ks_token_generate(buf);
    memcpy(buf + KS_TOKEN_LEN, "EXTRA", 6); /* no NUL after 54 chars */
    ASSERT_EQ_INT(ks_token_check_format(buf, 54), KS_OK);
    ASSERT_EQ_INT(ks_token_check_format(buf, 59), KS_ERR_INVALID);
}

static void test_token_single_char_changes_rejected(void)
{
    static const char SUBS[] = {'0', 'z', 'A', '_', '-', '+', '/', '=', ' ', '.'};
    for (int round = 0; round < 20; round++) {
        char tok[KS_TOKEN_LEN + 1];
        ks_token_generate(tok);
        ASSERT_EQ_INT(ks_token_check_format(tok, 54), KS_OK);
        for (int pos = 0; pos < KS_TOKEN_LEN; pos++) {
            const char orig = tok[pos];
            char cands[16];
            int nc = 0;
            for (size_t k = 0; k < sizeof SUBS; k++)
                cands[nc++] = SUBS[k];
            /* Neighbouring alphabet char and case swap. */
            const char *p = strchr(TEST_BASE62, orig);
            if (p)
                cands[nc++] = p[1] ? p[1] : TEST_BASE62[0];
            if (orig >= 'a' && orig <= 'z')
                cands[nc++] = (char)(orig - 32);
            else if (orig >= 'A' && orig <= 'Z')
                cands[nc++] = (char)(orig + 32);
            for (int k = 0; k < nc; k++) {
                if (cands[k] == orig)
                    continue;
                tok[pos] = cands[k];
                if (ks_token_check_format(tok, 54) != KS_ERR_INVALID)
                    UNIT_FAIL("accepted token with pos %d changed '%c' -> '%c': %s", pos, orig,
                              cands[k], tok);
                tok[pos] = orig;
            }
        }
        ASSERT_EQ_INT(ks_token_check_format(tok, 54), KS_OK);
    }
}

static void test_token_wrong_length_or_prefix_rejected(void)
{
    char tok[KS_TOKEN_LEN + 2];
    ks_token_generate(tok);
    for (size_t len = 0; len < 54; len++)
        ASSERT_EQ_INT(ks_token_check_format(tok, len), KS_ERR_INVALID);
    /* One char too many (a valid base62 char appended). */
    tok[54] = 'a';
    tok[55] = '\0';
    ASSERT_EQ_INT(ks_token_check_format(tok, 55), KS_ERR_INVALID);
    tok[54] = '\0';
    ASSERT_EQ_INT(ks_token_check_format("", 0), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_token_check_format(NULL, 54), KS_ERR_INVALID);

    static const char *const PREFIXES[] = {"KSTT_", "kstt-", "ksta_", "kst__", "xstt_", "kst_t"};
    for (size_t i = 0; i < sizeof PREFIXES / sizeof *PREFIXES; i++) {
        char bad[KS_TOKEN_LEN + 1];
        memcpy(bad, tok, sizeof bad);
        memcpy(bad, PREFIXES[i], 5);
        ASSERT_EQ_INT(ks_token_check_format(bad, 54), KS_ERR_INVALID);
    }
    /* The body without the prefix, padded to 54 chars, is no token. */
    char noprefix[KS_TOKEN_LEN + 1];
    memcpy(noprefix, tok + 5, 49);
    memcpy(noprefix + 49, "00000", 6);
    ASSERT_EQ_INT(ks_token_check_format(noprefix, 54), KS_ERR_INVALID);
}

/* ------------------------------------------------------------------ key ids */

static int is_b32(char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); }

static void test_key_id_generate_and_parse(void)
{
    static const char *const ACCOUNTS[] = {
        "a", "acme", "acme-shop", "x1", "z9-9-9", "a-", "abcdefghijklmnopqrstuvwxyz0123456789-abc",
    };
    int used[128] = {0};
    for (size_t i = 0; i < sizeof ACCOUNTS / sizeof *ACCOUNTS; i++) {
        const char *acc = ACCOUNTS[i];
        ASSERT(ks_account_name_valid(acc));
        for (int r = 0; r < 300; r++) {
            char id[KS_KEY_ID_MAX + 1];
            ASSERT_EQ_INT(ks_key_id_generate(acc, id), KS_OK);
            size_t n = strlen(acc);
            ASSERT_EQ_INT(strlen(id), 4 + n + 1 + 10);
            ASSERT(memcmp(id, "kst-", 4) == 0);
            ASSERT(memcmp(id + 4, acc, n) == 0);
            ASSERT(id[4 + n] == '-');
            for (size_t j = 5 + n; j < 15 + n; j++) {
                ASSERT(is_b32(id[j]));
                used[(unsigned char)id[j]] = 1;
            }
            char parsed[KS_ACCOUNT_MAX + 1];
            memset(parsed, 'x', sizeof parsed);
            ASSERT_EQ_INT(ks_key_id_parse(id, parsed), KS_OK);
            ASSERT_EQ_STR(parsed, acc);
            ASSERT_EQ_INT(ks_key_id_parse(id, NULL), KS_OK);
        }
    }
    /* 2100 * 10 draws of 32 symbols: the whole alphabet is used. */
    for (const char *c = "abcdefghijklmnopqrstuvwxyz234567"; *c; c++)
        ASSERT(used[(unsigned char)*c]);
    ASSERT_EQ_INT(KS_KEY_ID_MAX, 55);
}

static void test_key_id_generate_unique(void)
{
    enum { N = 400 };
    static char ids[N][KS_KEY_ID_MAX + 1];
    for (int i = 0; i < N; i++)
        ASSERT_EQ_INT(ks_key_id_generate("acme", ids[i]), KS_OK);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            ASSERT(strcmp(ids[i], ids[j]) != 0);
}

static void test_key_id_generate_rejects_bad_account(void)
{
    static const char *const BAD[] = {
        "", "1acme", "-acme", "Acme", "ac me", "ac_me", "acme!", "\xc3\xa9t\xc3\xa9",
        "abcdefghijklmnopqrstuvwxyz0123456789-abcd", /* 41 */
    };
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        char id[KS_KEY_ID_MAX + 1];
        if (ks_key_id_generate(BAD[i], id) != KS_ERR_INVALID)
            UNIT_FAIL("ks_key_id_generate accepted account \"%s\"", BAD[i]);
    }
}

static void test_key_id_parse_rejects_malformed(void)
{
    static const char *const BAD[] = {
        "",
        "kst-acme-",
        "KST-acme-abcdefghij",          /* upper-case prefix */
        "kst-Acme-abcdefghij",          /* upper-case account */
        "kst-acme-abcdEfghij",          /* upper-case random */
        "kst-acme-ABCDEFGHIJ",
        "kst-acme-abcdefghi",           /* 9 random chars */
        "kst-acme-abcdefghijk",         /* 11 random chars */
        "kst-acmeabcdefghij",           /* missing dash */
        "kstacme-abcdefghij",           /* missing first dash */
        "kst_acme-abcdefghij",
        "kst--abcdefghij",              /* empty account */
        "kst-1acme-abcdefghij",         /* account starts with a digit */
        "kst--acme-abcdefghij",         /* account starts with a dash */
        "kst-ac_me-abcdefghij",
        "kst-ac.me-abcdefghij",
        "kst-acme-abcdefghi0",          /* 0, 1, 8, 9 are not base32 */
        "kst-acme-1bcdefghij",
        "kst-acme-abcd8fghij",
        "kst-acme-abcde9ghij",
        "kst-acme-abcdefghi!",
        "kst-acme-abcdefghi-",
        "kst-acme-abcdefgh j",
        " kst-acme-abcdefghij",
        "kst-acme-abcdefghij ",
        "kst-abcdefghijklmnopqrstuvwxyz0123456789-abcd-abcdefghij", /* 41-char account */
        "kst-acme-abcdefghij\n",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        char acc[KS_ACCOUNT_MAX + 1] = "untouched";
        if (ks_key_id_parse(BAD[i], acc) != KS_ERR_INVALID)
            UNIT_FAIL("ks_key_id_parse accepted \"%s\"", BAD[i]);
    }
    ASSERT_EQ_INT(ks_key_id_parse(NULL, NULL), KS_ERR_INVALID);
    /* Boundaries that are valid. */
    char acc[KS_ACCOUNT_MAX + 1];
    ASSERT_EQ_INT(ks_key_id_parse("kst-a-abcdefghij", acc), KS_OK);
    ASSERT_EQ_STR(acc, "a");
    ASSERT_EQ_INT(ks_key_id_parse("kst-acme-k3v7q2m7xa", acc), KS_OK);
    ASSERT_EQ_STR(acc, "acme");
    ASSERT_EQ_INT(ks_key_id_parse("kst-my-shop-2345672345", acc), KS_OK);
    ASSERT_EQ_STR(acc, "my-shop");
    ASSERT_EQ_INT(ks_key_id_parse("kst-abcdefghijklmnopqrstuvwxyz0123456789-abc-zzzzzzzzzz", acc), KS_OK);
    ASSERT_EQ_STR(acc, "abcdefghijklmnopqrstuvwxyz0123456789-abc");
}

static void test_account_name_valid(void)
{
    static const char *const GOOD[] = {
        "a", "acme", "a1", "a-b", "acme-2024", "z", "a-", "a--b",
        "abcdefghijklmnopqrstuvwxyz0123456789-abc", /* 40 */
    };
    static const char *const BAD[] = {
        "", "1", "1a", "-a", "A", "Acme", "acmE", "ac me", "ac_me", "ac.me", "acme/", "acme\n",
        "\xc3\xa9", "a\xc3\xa9",
        "abcdefghijklmnopqrstuvwxyz0123456789-abcd", /* 41 */
    };
    for (size_t i = 0; i < sizeof GOOD / sizeof *GOOD; i++)
        if (!ks_account_name_valid(GOOD[i]))
            UNIT_FAIL("rejected account \"%s\"", GOOD[i]);
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++)
        if (ks_account_name_valid(BAD[i]))
            UNIT_FAIL("accepted account \"%s\"", BAD[i]);
    ASSERT(!ks_account_name_valid(NULL));
    ASSERT_EQ_INT(KS_ACCOUNT_MAX, 40);
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    RUN(test_token_generate_format);
    RUN(test_token_generate_unique_and_spread);
    RUN(test_token_digits_uniform);
    RUN(test_token_known_checksum_accepted);
    RUN(test_token_check_uses_len_not_nul);
    RUN(test_token_single_char_changes_rejected);
    RUN(test_token_wrong_length_or_prefix_rejected);
    RUN(test_key_id_generate_and_parse);
    RUN(test_key_id_generate_unique);
    RUN(test_key_id_generate_rejects_bad_account);
    RUN(test_key_id_parse_rejects_malformed);
    RUN(test_account_name_valid);
    return unit_report("credential");
}
