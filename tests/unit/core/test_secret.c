/*
 * test_secret.c - unit tests of src/core/secret.c: the server secret file
 * (create, reload, mode and size checks), the keyed token hash and the
 * constant-time digest compare.
 */
#include "unit.h"

#include "core_util.h"

#include "core/credential.h"
#include "core/error.h"
#include "core/secret.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

/* A fresh private directory under /tmp, removed by unit_rm_dir. */
static void make_tmpdir(char *out, size_t n)
{
    snprintf(out, n, "/tmp/keystile-unit-core-XXXXXX");
    if (!mkdtemp(out))
        out[0] = '\0';
}

static int write_file(const char *path, const void *data, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, data, n);
    close(fd);
    if (chmod(path, mode) != 0)
        return -1;
    return w == (ssize_t)n ? 0 : -1;
}

/* ------------------------------------------------------------------ secret */

static void test_secret_create_and_reload(void)
{
    char dir[64], path[128], err[256];
    make_tmpdir(dir, sizeof dir);
    ASSERT(dir[0]);
    snprintf(path, sizeof path, "%s/server.secret", dir);
    ks_secret a, b, c;
    memset(&a, 0, sizeof a);
    int rc = ks_secret_load(path, 1, &a, err, sizeof err);
    struct stat st;
    int st_rc = stat(path, &st);
    rc = rc == KS_OK ? ks_secret_load(path, 0, &b, err, sizeof err) : rc;
    int rc3 = ks_secret_load(path, 1, &c, err, sizeof err); /* exists: loads, no new one */
    unit_rm_dir(dir);
    ASSERT_EQ_INT(rc, KS_OK);
    ASSERT_EQ_INT(st_rc, 0);
    ASSERT(S_ISREG(st.st_mode));
    ASSERT_EQ_INT(st.st_mode & 0777, 0600);
    ASSERT_EQ_INT(st.st_size, 32);
    ASSERT(memcmp(a.bytes, b.bytes, KS_SECRET_LEN) == 0);
    ASSERT_EQ_INT(rc3, KS_OK);
    ASSERT(memcmp(a.bytes, c.bytes, KS_SECRET_LEN) == 0);
    static const unsigned char ZERO[KS_SECRET_LEN];
    ASSERT(memcmp(a.bytes, ZERO, KS_SECRET_LEN) != 0);
}

static void test_secret_two_files_differ(void)
{
    char dir[64], p1[128], p2[128], err[256];
    make_tmpdir(dir, sizeof dir);
    ASSERT(dir[0]);
    snprintf(p1, sizeof p1, "%s/one", dir);
    snprintf(p2, sizeof p2, "%s/two", dir);
    ks_secret a, b;
    int r1 = ks_secret_load(p1, 1, &a, err, sizeof err);
    int r2 = ks_secret_load(p2, 1, &b, err, sizeof err);
    unit_rm_dir(dir);
    ASSERT_EQ_INT(r1, KS_OK);
    ASSERT_EQ_INT(r2, KS_OK);
    ASSERT(memcmp(a.bytes, b.bytes, KS_SECRET_LEN) != 0);
}

static void test_secret_loads_given_bytes(void)
{
    char dir[64], path[128], err[256];
    make_tmpdir(dir, sizeof dir);
    ASSERT(dir[0]);
    snprintf(path, sizeof path, "%s/s", dir);
    unsigned char raw[32];
    for (int i = 0; i < 32; i++)
        raw[i] = (unsigned char)(i * 7 + 1);
    int wrc = write_file(path, raw, 32, 0600);
    ks_secret s;
    int rc = ks_secret_load(path, 0, &s, err, sizeof err);
    unit_rm_dir(dir);
    ASSERT_EQ_INT(wrc, 0);
    ASSERT_EQ_INT(rc, KS_OK);
    ASSERT(memcmp(s.bytes, raw, 32) == 0);
}

static void test_secret_refuses_open_mode(void)
{
    char dir[64], path[128], err[256];
    make_tmpdir(dir, sizeof dir);
    ASSERT(dir[0]);
    snprintf(path, sizeof path, "%s/s", dir);
    unsigned char raw[32] = {1, 2, 3};
    static const mode_t MODES[] = {0644, 0640, 0604, 0660, 0606, 0700 | 0070};
    int results[sizeof MODES / sizeof *MODES];
    int errs_set = 1;
    for (size_t i = 0; i < sizeof MODES / sizeof *MODES; i++) {
        ks_secret s;
        err[0] = '\0';
        results[i] = write_file(path, raw, 32, MODES[i]) == 0
                         ? ks_secret_load(path, 1, &s, err, sizeof err)
                         : 999;
        errs_set &= err[0] != '\0';
    }
    /* The same file at 0600 loads: only the mode was wrong. */
    ks_secret ok;
    int rc_ok = write_file(path, raw, 32, 0600) == 0 ? ks_secret_load(path, 0, &ok, err, sizeof err) : 999;
    unit_rm_dir(dir);
    for (size_t i = 0; i < sizeof MODES / sizeof *MODES; i++)
        if (results[i] != KS_ERR_INVALID)
            UNIT_FAIL("mode %03o: got %d, want KS_ERR_INVALID", (unsigned)MODES[i], results[i]);
    ASSERT(errs_set);
    ASSERT_EQ_INT(rc_ok, KS_OK);
}

static void test_secret_refuses_wrong_size(void)
{
    char dir[64], path[128], err[256];
    make_tmpdir(dir, sizeof dir);
    ASSERT(dir[0]);
    snprintf(path, sizeof path, "%s/s", dir);
    unsigned char raw[64] = {9};
    static const size_t SIZES[] = {0, 1, 31, 33, 64};
    int results[sizeof SIZES / sizeof *SIZES];
    for (size_t i = 0; i < sizeof SIZES / sizeof *SIZES; i++) {
        ks_secret s;
        results[i] = write_file(path, raw, SIZES[i], 0600) == 0
                         ? ks_secret_load(path, 1, &s, err, sizeof err)
                         : 999;
    }
    unit_rm_dir(dir);
    for (size_t i = 0; i < sizeof SIZES / sizeof *SIZES; i++)
        if (results[i] != KS_ERR_INVALID)
            UNIT_FAIL("size %zu: got %d, want KS_ERR_INVALID", SIZES[i], results[i]);
}

static void test_secret_missing_without_create(void)
{
    char dir[64], path[128], err[256];
    make_tmpdir(dir, sizeof dir);
    ASSERT(dir[0]);
    snprintf(path, sizeof path, "%s/absent", dir);
    ks_secret s;
    err[0] = '\0';
    int rc = ks_secret_load(path, 0, &s, err, sizeof err);
    int exists = access(path, F_OK) == 0;
    unit_rm_dir(dir);
    ASSERT(rc != KS_OK);
    ASSERT(rc < 0);
    ASSERT(!exists);
    ASSERT(err[0] != '\0');
}

/* ------------------------------------------------------------------ hashing */

static void test_token_hash(void)
{
    ks_secret s1, s2;
    for (int i = 0; i < KS_SECRET_LEN; i++) {
        s1.bytes[i] = (unsigned char)i;
        s2.bytes[i] = (unsigned char)i;
    }
    s2.bytes[31] ^= 1;
    char t1[KS_TOKEN_LEN + 1], t2[KS_TOKEN_LEN + 1];
    ks_token_generate(t1);
    ks_token_generate(t2);
    ks_digest a, a2, b, c, d;
    ks_token_hash(&s1, t1, 54, &a);
    ks_token_hash(&s1, t1, 54, &a2);
    ks_token_hash(&s2, t1, 54, &b);
    ks_token_hash(&s1, t2, 54, &c);
    ks_token_hash(&s1, t1, 53, &d);
    ASSERT(memcmp(a.bytes, a2.bytes, KS_DIGEST_LEN) == 0);
    ASSERT(ks_digest_equal(&a, &a2));
    ASSERT(!ks_digest_equal(&a, &b));
    ASSERT(!ks_digest_equal(&a, &c));
    ASSERT(!ks_digest_equal(&a, &d));

    /* It is BLAKE2b-256 keyed with the secret (secret.h). */
    unsigned char ref[32];
    crypto_generichash(ref, sizeof ref, (const unsigned char *)t1, 54, s1.bytes, sizeof s1.bytes);
    ASSERT(memcmp(ref, a.bytes, 32) == 0);

    /* The hash is not the token: no token bytes show up verbatim. */
    ASSERT(memcmp(a.bytes, t1, 32) != 0 && memcmp(a.bytes, t1 + 5, 32) != 0);
}

/* The hasher set up once gives ks_token_hash's digest, call after call, for
 * any length (a token, one byte short, empty, past a BLAKE2b block) and
 * for its own secret only. */
static void test_token_hasher(void)
{
    ks_secret s1, s2;
    randombytes_buf(s1.bytes, sizeof s1.bytes);
    s2 = s1;
    s2.bytes[0] ^= 1;
    ks_token_hasher h1, h2;
    ks_token_hasher_init(&h1, &s1);
    ks_token_hasher_init(&h2, &s2);
    char t[300];
    randombytes_buf(t, sizeof t);
    const size_t lens[] = {KS_TOKEN_LEN, KS_TOKEN_LEN - 1, 0, 1, 128, 129, 300};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        ks_digest want, got, again, other;
        ks_token_hash(&s1, t, lens[i], &want);
        ks_token_hasher_hash(&h1, t, lens[i], &got);
        ks_token_hasher_hash(&h1, t, lens[i], &again);
        ks_token_hasher_hash(&h2, t, lens[i], &other);
        ASSERT(memcmp(want.bytes, got.bytes, KS_DIGEST_LEN) == 0);
        ASSERT(memcmp(want.bytes, again.bytes, KS_DIGEST_LEN) == 0);
        ASSERT(memcmp(want.bytes, other.bytes, KS_DIGEST_LEN) != 0);
    }
    ks_token_hasher_wipe(&h1);
    static const ks_token_hasher zero;
    ASSERT(memcmp(&h1, &zero, sizeof zero) == 0);
    ks_token_hasher_wipe(&h2);
}

static void test_digest_equal(void)
{
    ks_digest a = core_util_digest_of(0x5a), b = core_util_digest_of(0x5a);
    ASSERT_EQ_INT(ks_digest_equal(&a, &b), 1);
    for (int i = 0; i < KS_DIGEST_LEN; i++) {
        b.bytes[i] ^= 0x01;
        ASSERT_EQ_INT(ks_digest_equal(&a, &b), 0);
        b.bytes[i] ^= 0x01;
    }
    b.bytes[KS_DIGEST_LEN - 1] = 0;
    ASSERT_EQ_INT(ks_digest_equal(&a, &b), 0);
    ASSERT_EQ_INT(ks_digest_equal(&b, &b), 1);
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    RUN(test_secret_create_and_reload);
    RUN(test_secret_two_files_differ);
    RUN(test_secret_loads_given_bytes);
    RUN(test_secret_refuses_open_mode);
    RUN(test_secret_refuses_wrong_size);
    RUN(test_secret_missing_without_create);
    RUN(test_token_hash);
    RUN(test_token_hasher);
    RUN(test_digest_equal);
    return unit_report("secret");
}
