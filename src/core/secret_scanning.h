/*
 * secret_scanning.h - GitHub's secret scanning partner call, the pure parts:
 * the public keys file (`serve --github-keys FILE`), the ECDSA P-256
 * signature over the raw body, and the body itself.
 *
 * Keys file: the JSON of GitHub's public keys endpoint
 * (https://api.github.com/meta/public_keys/secret_scanning),
 * {"public_keys":[{"key_identifier":"...","key":"-----BEGIN PUBLIC KEY-----...",
 * "is_current":true}, ...]}. Every listed key is accepted (GitHub signs with
 * a retired key for a while after a rotation); each must be an EC P-256
 * public key in PEM. Other fields are ignored.
 *
 * Signature: header Github-Public-Key-Identifier names the key,
 * Github-Public-Key-Signature is the base64 of an ASN.1 DER ECDSA signature
 * of SHA-256 over the raw body, checked with OpenSSL's EVP_DigestVerify (no
 * hand-written ECDSA).
 *
 * Body: [{"token","type","url","source"}, ...], 1 to KS_LEAK_ITEMS_MAX items;
 * token and type are required strings, url and source optional strings.
 *
 * Errors are KS_ERR_* codes; a failed call leaves nothing allocated. No
 * I/O: the caller reads the keys file and the request.
 */
#ifndef KS_CORE_SECRET_SCANNING_H
#define KS_CORE_SECRET_SCANNING_H

#include <stddef.h>

#define KS_GITHUB_KEYS_FILE_MAX (256 * 1024) /* bytes of a keys file */
#define KS_GITHUB_KEYS_MAX 64               /* keys in a file */
#define KS_GITHUB_KEY_ID_MAX 256            /* bytes of a key identifier */
#define KS_GITHUB_SIGNATURE_MAX 512         /* bytes of the base64 signature header */
#define KS_LEAK_ITEMS_MAX 1000              /* items in one call */
#define KS_LEAK_TOKEN_MAX 1024              /* bytes of a reported token (ours are 54) */
#define KS_LEAK_URL_MAX 2048                /* bytes of its url */
#define KS_LEAK_FIELD_MAX 128               /* bytes of type and source */

typedef struct ks_github_keys ks_github_keys;

/* Parses a keys file of len bytes. KS_OK with *out (free with
 * ks_github_keys_free); KS_ERR_INVALID with the reason in err (errlen bytes;
 * it names the key by its position); KS_ERR_NOMEM. A file with no key is
 * invalid. */
__attribute__((warn_unused_result))
int ks_github_keys_parse(const char *text, size_t len, ks_github_keys **out, char *err, size_t errlen);

void ks_github_keys_free(ks_github_keys *keys);

/* The number of keys. */
size_t ks_github_keys_count(const ks_github_keys *keys);

/* KS_OK when signature_b64 is a valid signature of body (len bytes) by the
 * key named key_id; KS_ERR_UNAUTHENTICATED for an unknown key id, a
 * signature that is not base64 or does not verify; KS_ERR_NOMEM. */
__attribute__((warn_unused_result))
int ks_github_signature_check(const ks_github_keys *keys, const char *key_id, const char *signature_b64,
                              const char *body, size_t len);

/* One reported match. The strings point into the parsed report. */
typedef struct {
    const char *token;
    size_t token_len;
    const char *type;
    const char *url;    /* "" when absent */
    const char *source; /* "" when absent */
} ks_leak_item;

typedef struct {
    ks_leak_item *items;
    size_t n;
    void *json;         /* the parsed document the strings live in */
} ks_leak_report;

/* Parses a report body. KS_OK with *out (free with ks_leak_report_free);
 * KS_ERR_INVALID with a message naming the item and field in err;
 * KS_ERR_NOMEM. */
__attribute__((warn_unused_result))
int ks_leak_report_parse(const char *body, size_t len, ks_leak_report *out, char *err, size_t errlen);

void ks_leak_report_free(ks_leak_report *r);

#endif
