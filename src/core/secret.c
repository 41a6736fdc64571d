/* secret.c - server secret file and keyed token hashing. */
#include "core/secret.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_exact(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    unsigned char extra;
    return read(fd, &extra, 1) == 0 ? 0 : -1; /* must be exactly n bytes */
}

static int secret_create(const char *path, ks_secret *out, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create secret file %s: %s", path, strerror(errno));
        return KS_ERR_INTERNAL;
    }
    randombytes_buf(out->bytes, KS_SECRET_LEN);
    ssize_t w = write(fd, out->bytes, KS_SECRET_LEN);
    int rc = (w == KS_SECRET_LEN && fsync(fd) == 0) ? KS_OK : KS_ERR_INTERNAL;
    close(fd);
    if (rc != KS_OK) {
        snprintf(err, errlen, "cannot write secret file %s", path);
        unlink(path);
        sodium_memzero(out, sizeof *out);
    }
    return rc;
}

int ks_secret_load(const char *path, int create, ks_secret *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && create)
            return secret_create(path, out, err, errlen);
        snprintf(err, errlen, "cannot open secret file %s: %s", path, strerror(errno));
        return KS_ERR_INTERNAL;
    }
    struct stat st;
    int rc = KS_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "secret file %s is not a regular file", path);
        rc = KS_ERR_INVALID;
    } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen, "secret file %s is accessible by group or others (mode %03o); run chmod 600 on it",
                 path, (unsigned)(st.st_mode & 0777));
        rc = KS_ERR_INVALID;
    } else if (read_exact(fd, out->bytes, KS_SECRET_LEN) != 0) {
        snprintf(err, errlen, "secret file %s must hold exactly %d bytes", path, KS_SECRET_LEN);
        sodium_memzero(out, sizeof *out);
        rc = KS_ERR_INVALID;
    }
    close(fd);
    return rc;
}

void ks_token_hash(const ks_secret *secret, const char *token, size_t len, ks_digest *out)
{
    crypto_generichash(out->bytes, KS_DIGEST_LEN, (const unsigned char *)token, len,
                       secret->bytes, KS_SECRET_LEN);
}

void ks_token_hasher_init(ks_token_hasher *h, const ks_secret *secret)
{
    crypto_generichash_init(&h->keyed, secret->bytes, KS_SECRET_LEN, KS_DIGEST_LEN);
}

void ks_token_hasher_hash(const ks_token_hasher *h, const char *token, size_t len, ks_digest *out)
{
    crypto_generichash_state s = h->keyed; /* holds the key's block: wiped below */
    crypto_generichash_update(&s, (const unsigned char *)token, len);
    crypto_generichash_final(&s, out->bytes, KS_DIGEST_LEN);
    sodium_memzero(&s, sizeof s);
}

void ks_token_hasher_wipe(ks_token_hasher *h)
{
    sodium_memzero(h, sizeof *h);
}

/* libsodium's fixed-size constant-time compare: 16 bytes a step (about 30
 * instructions) where sodium_memcmp goes byte by byte through a volatile
 * pointer (about 270); verify makes two of these per request. */
_Static_assert(KS_DIGEST_LEN == crypto_verify_32_BYTES, "a digest is what crypto_verify_32 compares");

int ks_digest_equal(const ks_digest *a, const ks_digest *b)
{
    return crypto_verify_32(a->bytes, b->bytes) == 0;
}
