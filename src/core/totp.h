/*
 * totp.h - time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits,
 * 30 s steps from the Unix epoch, one step of drift either way) through
 * liboath, and the otpauth:// URI of Google Authenticator's key-URI format
 * that authenticator apps scan.
 *
 * A secret is 20 random bytes (the RFC 4226 recommendation), shown to the
 * person once in base32 (RFC 4648, no padding). "Usable once" is the
 * caller's part: ks_totp_check gives the step a code matched, and the
 * caller accepts only steps above the last one used (store: totp_step_use).
 */
#ifndef KS_CORE_TOTP_H
#define KS_CORE_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define KS_TOTP_SECRET_LEN 20
#define KS_TOTP_BASE32_MAX 40   /* 32 chars for 20 bytes, and the NUL */
#define KS_TOTP_DIGITS 6
#define KS_TOTP_STEP 30
#define KS_TOTP_WINDOW 1        /* steps of drift accepted either way */
#define KS_TOTP_URI_MAX 1024

/* A new random secret. */
void ks_totp_secret_new(unsigned char secret[KS_TOTP_SECRET_LEN]);

/* The secret in base32 without padding. KS_OK or KS_ERR_NOMEM. */
int ks_totp_secret_base32(const unsigned char secret[KS_TOTP_SECRET_LEN], char out[KS_TOTP_BASE32_MAX]);

/* The code of `secret` for the step holding `now` (KS_TOTP_DIGITS digits and
 * a NUL). KS_OK or KS_ERR_INTERNAL. For tests and tools: the server only
 * checks codes. */
int ks_totp_code(const unsigned char secret[KS_TOTP_SECRET_LEN], int64_t now, char out[KS_TOTP_DIGITS + 1]);

/* Checks `code` (exactly 6 ASCII digits) at `now`, comparing in constant
 * time: KS_OK with *step the time step (now / 30, give or take
 * KS_TOTP_WINDOW) it matched, else KS_ERR_UNAUTHENTICATED. */
__attribute__((warn_unused_result))
int ks_totp_check(const unsigned char secret[KS_TOTP_SECRET_LEN], int64_t now, const char *code, int64_t *step);

/* otpauth://totp/<issuer>:<email>?secret=..&issuer=..&algorithm=SHA1&digits=6&period=30,
 * label and issuer percent-encoded, into out. KS_OK, or KS_ERR_INVALID when
 * it does not fit in cap bytes. */
int ks_totp_uri(const char *issuer, const char *email, const char *secret_base32, char *out, size_t cap);

#endif
