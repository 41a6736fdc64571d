/*
 * fuzz_token.c - the credential formats of src/core/credential.h.
 *
 * Each input is used four ways:
 *  1. as arbitrary bytes: ks_token_check_format (in a buffer of exactly the
 *     input's size, so an over-read is an ASan error), ks_key_id_parse and
 *     ks_account_name_valid (on the input as a C string); each answer must
 *     equal that of the independent reference checker below (a bitwise
 *     CRC-32, not zlib);
 *  2. as the body of a token: the input's bytes mapped to base62 plus the
 *     reference checksum must pass, and the input-chosen single-byte
 *     mutations of it must fail;
 *  3. as the seed of libsodium's RNG (replaced by a deterministic one, so a
 *     crash reproduces): a token from ks_token_generate must pass and every
 *     input-chosen single-byte change or adjacent swap of it must fail; a
 *     key from ks_key_id_generate for an input-derived account must parse
 *     back to that account;
 *  4. LLVMFuzzerInitialize also checks all 54 x 255 single-byte mutations
 *     of a few generated tokens, once.
 * A violated property calls abort() (FUZZ_CHECK).
 */
#include "fuzz_rng.h"
#include "fuzz_util.h"

#include "core/credential.h"
#include "core/error.h"

static const char BASE62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char BASE32_LOWER[] = "abcdefghijklmnopqrstuvwxyz234567";

/* ---- reference checkers, written from API.md "Words", not from the code ---- */

static int ref_is_base62(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int ref_account_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 40 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

/* 1 and the account in account_out (41 bytes) when s is "kst-<account>-<10 base32>". */
static int ref_key_valid(const char *s, char *account_out)
{
    size_t n = strlen(s);
    if (n < 4 + 1 + 1 + 10 || strncmp(s, "kst-", 4) != 0 || s[n - 11] != '-')
        return 0;
    for (size_t i = n - 10; i < n; i++)
        if (!strchr(BASE32_LOWER, s[i]) || !s[i])
            return 0;
    size_t account_len = n - 11 - 4;
    if (account_len > 40)
        return 0;
    char account[41];
    memcpy(account, s + 4, account_len);
    account[account_len] = '\0';
    if (!ref_account_valid(account))
        return 0;
    memcpy(account_out, account, account_len + 1);
    return 1;
}

/* The 6 base62 digits of the CRC-32 of a 43-char body, most significant first. */
static void ref_checksum(const char *body, char out[6])
{
    uint32_t crc = fuzz_crc32((const unsigned char *)body, 43);
    for (int i = 5; i >= 0; i--) {
        out[i] = BASE62[crc % 62];
        crc /= 62;
    }
}

static int ref_token_valid(const char *t, size_t len)
{
    if (len != 54 || memcmp(t, "kstt_", 5) != 0)
        return 0;
    for (size_t i = 5; i < 54; i++)
        if (!ref_is_base62((unsigned char)t[i]))
            return 0;
    char crc[6];
    ref_checksum(t + 5, crc);
    return memcmp(crc, t + 48, 6) == 0;
}

/* ---- checks ---- */

/* Every single-byte change of a valid token must fail the format check. */
static void check_all_mutations(const char token[KS_TOKEN_LEN + 1])
{
    char t[KS_TOKEN_LEN];
    for (size_t pos = 0; pos < KS_TOKEN_LEN; pos++) {
        for (int v = 0; v < 256; v++) {
            if ((char)v == token[pos])
                continue;
            memcpy(t, token, KS_TOKEN_LEN);
            t[pos] = (char)v;
            FUZZ_CHECK(ks_token_check_format(t, KS_TOKEN_LEN) != KS_OK,
                       "mutation at %zu to 0x%02x of %s passes", pos, v, token);
        }
    }
}

/* A token that must pass, and the input-chosen mutations of it that must fail. */
static void check_valid_token(const char *token, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(ks_token_check_format(token, KS_TOKEN_LEN) == KS_OK, "valid token %.54s fails", token);
    FUZZ_CHECK(ref_token_valid(token, KS_TOKEN_LEN), "token %.54s fails the reference", token);
    /* Not the same string once shortened or lengthened. */
    FUZZ_CHECK(ks_token_check_format(token, KS_TOKEN_LEN - 1) != KS_OK, "truncated token passes");
    char longer[KS_TOKEN_LEN + 1];
    memcpy(longer, token, KS_TOKEN_LEN);
    longer[KS_TOKEN_LEN] = token[KS_TOKEN_LEN - 1];
    FUZZ_CHECK(ks_token_check_format(longer, KS_TOKEN_LEN + 1) != KS_OK, "lengthened token passes");
    char t[KS_TOKEN_LEN];
    for (size_t i = 0; i + 1 < size && i < 64; i += 2) {
        size_t pos = data[i] % KS_TOKEN_LEN;
        char v = (char)data[i + 1];
        memcpy(t, token, KS_TOKEN_LEN);
        if (t[pos] != v) {
            t[pos] = v;
            FUZZ_CHECK(ks_token_check_format(t, KS_TOKEN_LEN) != KS_OK,
                       "token %.54s with byte %zu set to 0x%02x passes", token, pos, (unsigned char)v);
        }
        /* An adjacent transposition is a burst of at most 16 bits: CRC-32 sees it. */
        memcpy(t, token, KS_TOKEN_LEN);
        size_t a = data[i] % (KS_TOKEN_LEN - 1);
        if (t[a] != t[a + 1]) {
            char c = t[a];
            t[a] = t[a + 1];
            t[a + 1] = c;
            FUZZ_CHECK(ks_token_check_format(t, KS_TOKEN_LEN) != KS_OK,
                       "token %.54s with bytes %zu,%zu swapped passes", token, a, a + 1);
        }
    }
}

static void check_arbitrary_bytes(const uint8_t *data, size_t size)
{
    char *exact = fuzz_exact(data, size);
    int ok = ks_token_check_format(exact, size) == KS_OK, ref = ref_token_valid(exact, size);
    FUZZ_CHECK(ok == ref, "token check says %d, reference %d", ok, ref);
    free(exact);

    char *s = fuzz_cstr(data, size);
    FUZZ_CHECK(ks_account_name_valid(s) == ref_account_valid(s), "account check differs on '%.80s'", s);
    char *account = malloc(KS_ACCOUNT_MAX + 1); /* exact size: ASan sees an overflow */
    char ref_account[KS_ACCOUNT_MAX + 1];
    if (!account)
        abort();
    int parsed = ks_key_id_parse(s, account) == KS_OK;
    FUZZ_CHECK(parsed == ref_key_valid(s, ref_account), "key parse says %d on '%.80s'", parsed, s);
    if (parsed) {
        FUZZ_CHECK(strcmp(account, ref_account) == 0, "account '%s' != '%s'", account, ref_account);
        FUZZ_CHECK(strlen(s) <= KS_KEY_ID_MAX, "over-long key '%s' parsed", s);
        FUZZ_CHECK(ks_key_id_parse(s, NULL) == KS_OK, "parse with NULL account_out differs");
    }
    free(account);
    free(s);
}

/* A token whose body is the input mapped to base62, with the reference checksum. */
static void check_token_from_input(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    char token[KS_TOKEN_LEN + 1];
    memcpy(token, "kstt_", 5);
    for (size_t i = 0; i < KS_TOKEN_BODY_LEN; i++)
        token[5 + i] = BASE62[data[i % size] % 62];
    ref_checksum(token + 5, token + 5 + KS_TOKEN_BODY_LEN);
    token[KS_TOKEN_LEN] = '\0';
    check_valid_token(token, data, size);
}

static void check_generated(const uint8_t *data, size_t size)
{
    fuzz_rng_seed((uint64_t)fuzz_crc32(data, size) << 32 | size);
    char token[KS_TOKEN_LEN + 1];
    ks_token_generate(token);
    FUZZ_CHECK(strlen(token) == KS_TOKEN_LEN, "generated token has length %zu", strlen(token));
    check_valid_token(token, data, size);

    /* An account from the input: its lower-case letters, digits and dashes. */
    char account[KS_ACCOUNT_MAX + 2];
    size_t n = 0;
    for (size_t i = 0; i < size && n < sizeof account - 1; i++)
        if ((data[i] >= 'a' && data[i] <= 'z') || (data[i] >= '0' && data[i] <= '9') || data[i] == '-')
            account[n++] = (char)data[i];
    account[n] = '\0';
    char key[KS_KEY_ID_MAX + 1], back[KS_ACCOUNT_MAX + 1];
    int rc = ks_key_id_generate(account, key);
    FUZZ_CHECK((rc == KS_OK) == ref_account_valid(account), "key generate rc %d for '%s'", rc, account);
    if (rc == KS_OK) {
        FUZZ_CHECK(ks_key_id_parse(key, back) == KS_OK, "generated key '%s' does not parse", key);
        FUZZ_CHECK(strcmp(back, account) == 0, "key '%s' parses to account '%s'", key, back);
        FUZZ_CHECK(strlen(key) == 4 + n + 1 + KS_KEY_RANDOM_LEN, "key '%s' has the wrong length", key);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_rng_install();
    for (int i = 0; i < 4; i++) {
        char token[KS_TOKEN_LEN + 1];
        ks_token_generate(token);
        FUZZ_CHECK(ks_token_check_format(token, KS_TOKEN_LEN) == KS_OK, "generated %s fails", token);
        check_all_mutations(token);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_arbitrary_bytes(data, size);
    check_token_from_input(data, size);
    check_generated(data, size);
    return 0;
}
