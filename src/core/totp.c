/* totp.c - RFC 6238 codes through liboath (see totp.h). */
#include "core/totp.h"
#include "core/error.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ready;

static void oath_start(void)
{
    oath_ready = oath_init() == OATH_OK;
}

static int ready(void)
{
    pthread_once(&oath_once, oath_start);
    return oath_ready;
}

void ks_totp_secret_new(unsigned char secret[KS_TOTP_SECRET_LEN])
{
    randombytes_buf(secret, KS_TOTP_SECRET_LEN);
}

int ks_totp_secret_base32(const unsigned char secret[KS_TOTP_SECRET_LEN], char out[KS_TOTP_BASE32_MAX])
{
    char *text = NULL;
    size_t len = 0;
    if (!ready() || oath_base32_encode((const char *)secret, KS_TOTP_SECRET_LEN, &text, &len) != OATH_OK)
        return KS_ERR_NOMEM;
    while (len > 0 && text[len - 1] == '=') /* 20 bytes need none; keep it general */
        len--;
    int rc = len < KS_TOTP_BASE32_MAX ? KS_OK : KS_ERR_INTERNAL;
    if (rc == KS_OK) {
        memcpy(out, text, len);
        out[len] = '\0';
    }
    sodium_memzero(text, strlen(text));
    free(text);
    return rc;
}

int ks_totp_code(const unsigned char secret[KS_TOTP_SECRET_LEN], int64_t now, char out[KS_TOTP_DIGITS + 1])
{
    if (!ready() || oath_totp_generate((const char *)secret, KS_TOTP_SECRET_LEN, (time_t)now, KS_TOTP_STEP, 0,
                                       KS_TOTP_DIGITS, out) != OATH_OK)
        return KS_ERR_INTERNAL;
    return KS_OK;
}

/* liboath's strcmp-like callback: 0 when the candidate equals the code
 * given, compared in constant time (both are 6 digits). */
static int code_differs(void *handle, const char *candidate)
{
    const char *given = handle;
    return strlen(candidate) != KS_TOTP_DIGITS || sodium_memcmp(given, candidate, KS_TOTP_DIGITS) != 0;
}

int ks_totp_check(const unsigned char secret[KS_TOTP_SECRET_LEN], int64_t now, const char *code, int64_t *step)
{
    *step = 0;
    if (!code || strlen(code) != KS_TOTP_DIGITS || strspn(code, "0123456789") != KS_TOTP_DIGITS || !ready())
        return KS_ERR_UNAUTHENTICATED;
    char given[KS_TOTP_DIGITS + 1];
    memcpy(given, code, sizeof given);
    int pos = 0;
    uint64_t counter = 0;
    int rc = oath_totp_validate3_callback((const char *)secret, KS_TOTP_SECRET_LEN, (time_t)now, KS_TOTP_STEP, 0,
                                          KS_TOTP_DIGITS, KS_TOTP_WINDOW, &pos, &counter, code_differs, given);
    sodium_memzero(given, sizeof given);
    if (rc < 0) /* liboath returns the matching position (>= 0) or an error */
        return KS_ERR_UNAUTHENTICATED;
    *step = (int64_t)counter;
    return KS_OK;
}

/* Percent-encodes s (RFC 3986 unreserved kept) onto out at *n; 0 when full. */
static int put_encoded(char *out, size_t cap, size_t *n, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    *p == '-' || *p == '.' || *p == '_' || *p == '~';
        size_t need = plain ? 1 : 3;
        if (*n + need >= cap)
            return 0;
        if (plain) {
            out[(*n)++] = (char)*p;
        } else {
            out[(*n)++] = '%';
            out[(*n)++] = hex[*p >> 4];
            out[(*n)++] = hex[*p & 15];
        }
    }
    out[*n] = '\0';
    return 1;
}

static int put_plain(char *out, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (*n + len >= cap)
        return 0;
    memcpy(out + *n, s, len + 1);
    *n += len;
    return 1;
}

int ks_totp_uri(const char *issuer, const char *email, const char *secret_base32, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return KS_ERR_INVALID;
    out[0] = '\0';
    char tail[64];
    snprintf(tail, sizeof tail, "&algorithm=SHA1&digits=%d&period=%d", KS_TOTP_DIGITS, KS_TOTP_STEP);
    int ok = put_plain(out, cap, &n, "otpauth://totp/") && put_encoded(out, cap, &n, issuer) &&
             put_plain(out, cap, &n, ":") && put_encoded(out, cap, &n, email) &&
             put_plain(out, cap, &n, "?secret=") && put_plain(out, cap, &n, secret_base32) &&
             put_plain(out, cap, &n, "&issuer=") && put_encoded(out, cap, &n, issuer) &&
             put_plain(out, cap, &n, tail);
    if (!ok) {
        sodium_memzero(out, cap);
        return KS_ERR_INVALID;
    }
    return KS_OK;
}
