/*
 * secret.h - the server secret and the keyed hash of tokens.
 *
 * Tokens are never stored: only BLAKE2b-256 keyed with a 32-byte server secret
 * (libsodium crypto_generichash). The secret lives in a file of exactly 32 bytes,
 * mode 0600, created on first use beside the database; a file that others can
 * read, or of the wrong size, is refused. Digests compare in constant time.
 */
#ifndef KS_CORE_SECRET_H
#define KS_CORE_SECRET_H

#include <sodium.h>
#include <stddef.h>

#define KS_SECRET_LEN 32
#define KS_DIGEST_LEN 32

typedef struct { unsigned char bytes[KS_SECRET_LEN]; } ks_secret;
typedef struct { unsigned char bytes[KS_DIGEST_LEN]; } ks_digest;

/* Loads the secret from `path`; when the file does not exist and `create` is
 * set, makes a new random one (mode 0600, written with O_EXCL and fsync).
 * On failure returns KS_ERR_INVALID (bad file) or KS_ERR_INTERNAL (I/O) and
 * writes a reason into err (never the secret). */
int ks_secret_load(const char *path, int create, ks_secret *out, char *err, size_t errlen);

/* digest = BLAKE2b-256(key = secret, data = token[0..len)). */
void ks_token_hash(const ks_secret *secret, const char *token, size_t len, ks_digest *out);

/* ks_token_hash with the secret already taken in: the keyed BLAKE2b state
 * after its key block, made once. A hash copies it, adds the token and
 * finishes, about 240 instructions fewer than ks_token_hash (its key setup),
 * for verify's one hash per request. The same digest. */
typedef struct { crypto_generichash_state keyed; } ks_token_hasher;
void ks_token_hasher_init(ks_token_hasher *h, const ks_secret *secret);
void ks_token_hasher_hash(const ks_token_hasher *h, const char *token, size_t len, ks_digest *out);
void ks_token_hasher_wipe(ks_token_hasher *h);

/* 1 when a and b are equal, compared in constant time. */
__attribute__((warn_unused_result))
int ks_digest_equal(const ks_digest *a, const ks_digest *b);

#endif
