/* credential.c - generate and check account names, key ids and tokens. */
#include "core/credential.h"
#include "core/error.h"

#include <sodium.h>
#include <string.h>
#include <zlib.h>

static const char BASE62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char BASE32_LOWER[] = "abcdefghijklmnopqrstuvwxyz234567";

int ks_account_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > KS_ACCOUNT_MAX || name[0] < 'a' || name[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

int ks_key_id_generate(const char *account, char out[KS_KEY_ID_MAX + 1])
{
    if (!ks_account_name_valid(account))
        return KS_ERR_INVALID;
    size_t n = strlen(account);
    memcpy(out, "kst-", 4);
    memcpy(out + 4, account, n);
    out[4 + n] = '-';
    unsigned char rnd[KS_KEY_RANDOM_LEN];
    randombytes_buf(rnd, sizeof rnd);
    for (size_t i = 0; i < KS_KEY_RANDOM_LEN; i++)
        out[5 + n + i] = BASE32_LOWER[rnd[i] & 31];
    out[5 + n + KS_KEY_RANDOM_LEN] = '\0';
    return KS_OK;
}

static int is_base32_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

int ks_key_id_parse(const char *key, char *account_out)
{
    size_t n = key ? strnlen(key, KS_KEY_ID_MAX + 1) : 0;
    if (n < 4 + 1 + 1 + KS_KEY_RANDOM_LEN || n > KS_KEY_ID_MAX || memcmp(key, "kst-", 4) != 0)
        return KS_ERR_INVALID;
    size_t account_len = n - 4 - 1 - KS_KEY_RANDOM_LEN;
    if (key[4 + account_len] != '-')
        return KS_ERR_INVALID;
    char account[KS_ACCOUNT_MAX + 1];
    memcpy(account, key + 4, account_len);
    account[account_len] = '\0';
    if (!ks_account_name_valid(account))
        return KS_ERR_INVALID;
    for (size_t i = 4 + account_len + 1; i < n; i++)
        if (!is_base32_lower(key[i]))
            return KS_ERR_INVALID;
    if (account_out)
        memcpy(account_out, account, account_len + 1);
    return KS_OK;
}

/* Writes the CRC32 of body as KS_TOKEN_CRC_LEN base62 digits, most significant first. */
static void token_checksum(const char *body, char out[KS_TOKEN_CRC_LEN])
{
    unsigned long crc = crc32(0L, (const Bytef *)body, KS_TOKEN_BODY_LEN);
    for (int i = KS_TOKEN_CRC_LEN - 1; i >= 0; i--) {
        out[i] = BASE62[crc % 62];
        crc /= 62;
    }
}

void ks_token_generate(char out[KS_TOKEN_LEN + 1])
{
    memcpy(out, KS_TOKEN_PREFIX, 5);
    char *body = out + 5;
    /* 43 uniform base62 digits carry log2(62^43) = 256.03 bits of entropy.
     * A digit is a random byte's low 6 bits, drawn again when they are 62 or
     * 63 (rejection keeps it uniform); the bytes come in one draw of 64 (one
     * getrandom call, where a randombytes_uniform per digit made 43), which
     * runs out only with probability below 1e-9, and then draws again. */
    unsigned char rnd[64];
    size_t used = sizeof rnd;
    for (size_t i = 0; i < KS_TOKEN_BODY_LEN;) {
        if (used == sizeof rnd) {
            randombytes_buf(rnd, sizeof rnd);
            used = 0;
        }
        unsigned digit = rnd[used++] & 63u;
        if (digit < 62)
            body[i++] = BASE62[digit];
    }
    sodium_memzero(rnd, sizeof rnd);
    token_checksum(body, body + KS_TOKEN_BODY_LEN);
    out[KS_TOKEN_LEN] = '\0';
}

static int is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int ks_token_check_format(const char *token, size_t len)
{
    if (!token || len != KS_TOKEN_LEN || memcmp(token, KS_TOKEN_PREFIX, 5) != 0)
        return KS_ERR_INVALID;
    const char *body = token + 5;
    for (size_t i = 0; i < KS_TOKEN_BODY_LEN + KS_TOKEN_CRC_LEN; i++)
        if (!is_base62(body[i]))
            return KS_ERR_INVALID;
    char crc[KS_TOKEN_CRC_LEN];
    token_checksum(body, crc);
    /* The checksum is public information; a plain compare leaks nothing secret. */
    return memcmp(crc, body + KS_TOKEN_BODY_LEN, KS_TOKEN_CRC_LEN) == 0 ? KS_OK : KS_ERR_INVALID;
}
