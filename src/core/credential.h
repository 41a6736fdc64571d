/*
 * credential.h - formats of account names, API keys and API tokens (API.md "Words").
 *
 *   account: 1-40 of [a-z0-9-], starting with a letter
 *   key:     "kst-" account "-" 10 chars of lower-case RFC 4648 base32 (a-z, 2-7)
 *   token:   "kstt_" 43 base62 chars (256 random bits) + 6 base62 chars of the
 *            CRC32 (IEEE) of those 43, left-padded with '0'.
 *
 * Pure functions, no I/O except the CSPRNG (libsodium randombytes). Generators
 * cannot fail once sodium_init() has run. Checkers return KS_OK or KS_ERR_INVALID.
 */
#ifndef KS_CORE_CREDENTIAL_H
#define KS_CORE_CREDENTIAL_H

#include <stddef.h>

#define KS_ACCOUNT_MAX 40                 /* longest account name */
#define KS_KEY_RANDOM_LEN 10              /* base32 chars after the account */
#define KS_KEY_ID_MAX (4 + KS_ACCOUNT_MAX + 1 + KS_KEY_RANDOM_LEN) /* 55 */
#define KS_TOKEN_PREFIX "kstt_"
#define KS_TOKEN_BODY_LEN 43              /* base62 chars of random */
#define KS_TOKEN_CRC_LEN 6                /* base62 chars of CRC32 */
#define KS_TOKEN_LEN (5 + KS_TOKEN_BODY_LEN + KS_TOKEN_CRC_LEN) /* 54 */

/* True when `name` is a valid account name. */
int ks_account_name_valid(const char *name);

/* Writes a fresh key id for `account` into out (KS_KEY_ID_MAX + 1 bytes).
 * Returns KS_ERR_INVALID if the account name is not valid. */
int ks_key_id_generate(const char *account, char out[KS_KEY_ID_MAX + 1]);

/* Checks the key format and copies its account into account_out
 * (KS_ACCOUNT_MAX + 1 bytes, may be NULL). KS_ERR_INVALID when malformed. */
__attribute__((warn_unused_result))
int ks_key_id_parse(const char *key, char *account_out);

/* Writes a fresh token (KS_TOKEN_LEN chars + NUL). The caller wipes it after use. */
void ks_token_generate(char out[KS_TOKEN_LEN + 1]);

/* KS_OK when `token` (len bytes, no NUL needed) has the token format and a
 * matching checksum; KS_ERR_INVALID otherwise (a typo is caught here, before
 * any lookup). */
__attribute__((warn_unused_result))
int ks_token_check_format(const char *token, size_t len);

#endif
