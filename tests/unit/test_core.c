/*
 * test_core.c - unit tests of src/core: credential formats (account names, key
 * ids, tokens), the server secret and keyed hash, the token-slot state machine,
 * durations and alerts, roles and names, and the error table.
 *
 * Expected values are computed here independently of the code under test
 * (own base62/CRC32 encoder, own civil-date arithmetic, literal tables from
 * API.md), so a test does not merely restate the implementation.
 */
#include "unit.h"

#include "core/clock.h"
#include "core/credential.h"
#include "core/error.h"
#include "core/model.h"
#include "core/roles.h"
#include "core/secret.h"
#include "core/token_age.h"
#include "core/token_slots.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
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

/* Unix seconds of a UTC civil time (days-from-civil, independent of libc). */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 + s;
}

static ks_digest digest_of(unsigned char fill)
{
    ks_digest d;
    memset(d.bytes, fill, sizeof d.bytes);
    return d;
}

/* A fresh private directory under /tmp, removed by rm_tree. */
static void make_tmpdir(char *out, size_t n)
{
    snprintf(out, n, "/tmp/keystile-unit-core-XXXXXX");
    if (!mkdtemp(out))
        out[0] = '\0';
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
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
    rm_tree(dir);
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
    rm_tree(dir);
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
    rm_tree(dir);
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
    rm_tree(dir);
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
    rm_tree(dir);
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
    rm_tree(dir);
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

static void test_digest_equal(void)
{
    ks_digest a = digest_of(0x5a), b = digest_of(0x5a);
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

/* ------------------------------------------------------------ token slots */

/* Field by field: struct copies need not copy padding bytes. */
static int tokens_equal(const ks_token *a, const ks_token *b)
{
    return a->present == b->present && memcmp(a->hash.bytes, b->hash.bytes, KS_DIGEST_LEN) == 0 &&
           a->created_at == b->created_at && a->last_used_at == b->last_used_at;
}

static void assert_slots_same(const ks_token_slots *a, const ks_token_slots *b)
{
    ASSERT(tokens_equal(&a->current, &b->current));
    ASSERT_EQ_INT(a->old.present, b->old.present);
    if (a->old.present)
        ASSERT(tokens_equal(&a->old, &b->old));
}

static void test_slots_init(void)
{
    ks_token_slots s;
    memset(&s, 0xAB, sizeof s);
    ks_digest h = digest_of(1);
    ks_slots_init(&s, &h, 1000);
    ASSERT_EQ_INT(s.current.present, 1);
    ASSERT(ks_digest_equal(&s.current.hash, &h));
    ASSERT_EQ_INT(s.current.created_at, 1000);
    ASSERT_EQ_INT(s.current.last_used_at, 0);
    ASSERT_EQ_INT(s.old.present, 0);
    ks_digest other = digest_of(2);
    ASSERT_EQ_INT(ks_slots_match(&s, &h), KS_SLOT_CURRENT);
    ASSERT_EQ_INT(ks_slots_match(&s, &other), KS_SLOT_NONE);
}

static void test_slots_renew_later(void)
{
    ks_digest h1 = digest_of(1), h2 = digest_of(2), h3 = digest_of(3);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1000);
    s.current.last_used_at = 1500;
    ks_token before = s.current;
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h2, 2000), KS_OK);
    ASSERT_EQ_INT(s.current.present, 1);
    ASSERT(ks_digest_equal(&s.current.hash, &h2));
    ASSERT_EQ_INT(s.current.created_at, 2000);
    ASSERT_EQ_INT(s.current.last_used_at, 0);
    ASSERT_EQ_INT(s.old.present, 1);
    ASSERT(tokens_equal(&s.old, &before)); /* old == previous current */
    /* Both verify. */
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_CURRENT);
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_OLD);
    ASSERT_EQ_INT(ks_slots_match(&s, &h3), KS_SLOT_NONE);
}

static void test_slots_renew_now(void)
{
    ks_digest h1 = digest_of(1), h2 = digest_of(2);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1000);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_NOW, &h2, 2000), KS_OK);
    ASSERT_EQ_INT(s.current.present, 1);
    ASSERT(ks_digest_equal(&s.current.hash, &h2));
    ASSERT_EQ_INT(s.current.created_at, 2000);
    ASSERT_EQ_INT(s.old.present, 0);
    /* The previous token stops verifying at once. */
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_NONE);
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_CURRENT);
}

static void test_slots_renew_with_old_refused(void)
{
    ks_digest h1 = digest_of(1), h2 = digest_of(2), h3 = digest_of(3);
    static const ks_slot_op OPS[] = {KS_SLOT_OP_RENEW_LATER, KS_SLOT_OP_RENEW_NOW};
    for (size_t i = 0; i < 2; i++) {
        ks_token_slots s;
        ks_slots_init(&s, &h1, 1000);
        ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h2, 2000), KS_OK);
        ks_token_slots snap = s;
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], &h3, 3000), KS_ERR_OLD_TOKEN_EXISTS);
        assert_slots_same(&s, &snap);
        ASSERT_EQ_INT(ks_slots_match(&s, &h3), KS_SLOT_NONE);
        ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_OLD);
        ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_CURRENT);
    }
}

static void test_slots_delete_old(void)
{
    ks_digest h1 = digest_of(1), h2 = digest_of(2);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1000);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h2, 2000), KS_OK);
    ks_token cur = s.current;
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_DELETE_OLD, NULL, 3000), KS_OK);
    ASSERT_EQ_INT(s.old.present, 0);
    ASSERT(tokens_equal(&s.current, &cur));
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_NONE);
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_CURRENT);
    /* Renewing is allowed again afterwards. */
    ks_digest h3 = digest_of(3);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h3, 4000), KS_OK);
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_OLD);
}

static void test_slots_undo_renewal(void)
{
    ks_digest h1 = digest_of(1), h2 = digest_of(2);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1000);
    s.current.last_used_at = 1234;
    ks_token prev = s.current;
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h2, 2000), KS_OK);
    ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_UNDO_RENEWAL, NULL, 3000), KS_OK);
    /* current = the previous current, with its created_at. */
    ASSERT(tokens_equal(&s.current, &prev));
    ASSERT_EQ_INT(s.current.created_at, 1000);
    ASSERT_EQ_INT(s.old.present, 0);
    ASSERT_EQ_INT(ks_slots_match(&s, &h1), KS_SLOT_CURRENT);
    ASSERT_EQ_INT(ks_slots_match(&s, &h2), KS_SLOT_NONE); /* the newer dies at once */
}

static void test_slots_no_old_refused(void)
{
    ks_digest h1 = digest_of(1), h2 = digest_of(2);
    static const ks_slot_op OPS[] = {KS_SLOT_OP_DELETE_OLD, KS_SLOT_OP_UNDO_RENEWAL};
    for (size_t i = 0; i < 2; i++) {
        /* Fresh key. */
        ks_token_slots s;
        ks_slots_init(&s, &h1, 1000);
        ks_token_slots snap = s;
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], &h2, 2000), KS_ERR_NO_OLD_TOKEN);
        assert_slots_same(&s, &snap);
        /* After renew now (no old either). */
        ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_NOW, &h2, 2000), KS_OK);
        snap = s;
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], NULL, 3000), KS_ERR_NO_OLD_TOKEN);
        assert_slots_same(&s, &snap);
        /* After a completed renewal + delete old, a second delete/undo fails. */
        ASSERT_EQ_INT(ks_slots_apply(&s, KS_SLOT_OP_RENEW_LATER, &h1, 4000), KS_OK);
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], NULL, 5000), KS_OK);
        snap = s;
        ASSERT_EQ_INT(ks_slots_apply(&s, OPS[i], NULL, 6000), KS_ERR_NO_OLD_TOKEN);
        assert_slots_same(&s, &snap);
    }
}

static void test_slots_sequence(void)
{
    /* A longer walk: every reachable state keeps exactly one current token
     * and at most one old; match agrees with the model at each step. */
    ks_digest h[6];
    for (int i = 0; i < 6; i++)
        h[i] = digest_of((unsigned char)(10 + i));
    ks_token_slots s;
    ks_slots_init(&s, &h[0], 100);
    int cur = 0, old = -1;
    struct { ks_slot_op op; int newh; int want; } steps[] = {
        {KS_SLOT_OP_RENEW_LATER, 1, KS_OK},
        {KS_SLOT_OP_RENEW_LATER, 2, KS_ERR_OLD_TOKEN_EXISTS},
        {KS_SLOT_OP_UNDO_RENEWAL, -1, KS_OK},
        {KS_SLOT_OP_UNDO_RENEWAL, -1, KS_ERR_NO_OLD_TOKEN},
        {KS_SLOT_OP_RENEW_NOW, 3, KS_OK},
        {KS_SLOT_OP_RENEW_LATER, 4, KS_OK},
        {KS_SLOT_OP_RENEW_NOW, 5, KS_ERR_OLD_TOKEN_EXISTS},
        {KS_SLOT_OP_DELETE_OLD, -1, KS_OK},
        {KS_SLOT_OP_DELETE_OLD, -1, KS_ERR_NO_OLD_TOKEN},
        {KS_SLOT_OP_RENEW_NOW, 5, KS_OK},
    };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        ks_token_slots snap = s;
        int rc = ks_slots_apply(&s, steps[i].op, steps[i].newh >= 0 ? &h[steps[i].newh] : NULL,
                                (int64_t)(200 + i));
        if (rc != steps[i].want)
            UNIT_FAIL("step %zu: rc %d, want %d", i, rc, steps[i].want);
        if (rc != KS_OK) {
            assert_slots_same(&s, &snap);
        } else {
            switch (steps[i].op) {
            case KS_SLOT_OP_RENEW_LATER: old = cur; cur = steps[i].newh; break;
            case KS_SLOT_OP_RENEW_NOW: cur = steps[i].newh; break;
            case KS_SLOT_OP_DELETE_OLD: old = -1; break;
            case KS_SLOT_OP_UNDO_RENEWAL: cur = old; old = -1; break;
            }
        }
        ASSERT_EQ_INT(s.current.present, 1);
        ASSERT_EQ_INT(s.old.present, old >= 0);
        for (int j = 0; j < 6; j++) {
            ks_slot want = j == cur ? KS_SLOT_CURRENT : j == old ? KS_SLOT_OLD : KS_SLOT_NONE;
            if (ks_slots_match(&s, &h[j]) != want)
                UNIT_FAIL("step %zu: hash %d matches %d, want %d", i, j,
                          (int)ks_slots_match(&s, &h[j]), (int)want);
        }
    }
}

static void test_slots_match_ignores_empty_slot(void)
{
    /* An absent old slot never matches, even when its bytes equal d. */
    ks_digest h1 = digest_of(1), zero = digest_of(0);
    ks_token_slots s;
    ks_slots_init(&s, &h1, 1);
    ASSERT_EQ_INT(ks_slots_match(&s, &zero), KS_SLOT_NONE);
    s.old.hash = digest_of(7);
    s.old.present = 0;
    ks_digest seven = digest_of(7);
    ASSERT_EQ_INT(ks_slots_match(&s, &seven), KS_SLOT_NONE);
    ASSERT_EQ_STR(ks_slot_name(KS_SLOT_CURRENT), "current");
    ASSERT_EQ_STR(ks_slot_name(KS_SLOT_OLD), "old");
}

/* ------------------------------------------------------------- durations */

static void check_add(int64_t from, int months, int64_t want)
{
    int64_t got = ks_time_add_months(from, months);
    if (got != want) {
        char a[KS_TIME_STR_LEN], b[KS_TIME_STR_LEN], c[KS_TIME_STR_LEN];
        ks_time_format(from, a);
        ks_time_format(got, b);
        ks_time_format(want, c);
        UNIT_FAIL("ks_time_add_months(%s, %d) = %s, want %s", a, months, b, c);
    }
}

static void test_time_add_months(void)
{
    check_add(utc(2025, 1, 31, 10, 20, 30), 1, utc(2025, 2, 28, 10, 20, 30));
    check_add(utc(2024, 1, 31, 10, 20, 30), 1, utc(2024, 2, 29, 10, 20, 30)); /* leap */
    check_add(utc(2024, 11, 30, 0, 0, 0), 3, utc(2025, 2, 28, 0, 0, 0));
    check_add(utc(2023, 11, 30, 23, 59, 59), 3, utc(2024, 2, 29, 23, 59, 59));
    check_add(utc(2024, 12, 15, 8, 0, 0), 3, utc(2025, 3, 15, 8, 0, 0)); /* year end */
    check_add(utc(2024, 10, 31, 12, 0, 0), 6, utc(2025, 4, 30, 12, 0, 0));
    check_add(utc(2024, 8, 31, 12, 0, 0), 6, utc(2025, 2, 28, 12, 0, 0));
    check_add(utc(2023, 8, 31, 12, 0, 0), 6, utc(2024, 2, 29, 12, 0, 0));
    check_add(utc(2024, 2, 29, 1, 2, 3), 12, utc(2025, 2, 28, 1, 2, 3));
    check_add(utc(2024, 2, 29, 1, 2, 3), 48, utc(2028, 2, 29, 1, 2, 3));
    check_add(utc(2100, 1, 31, 0, 0, 0), 1, utc(2100, 2, 28, 0, 0, 0)); /* not leap */
    check_add(utc(2000, 1, 31, 0, 0, 0), 1, utc(2000, 2, 29, 0, 0, 0)); /* leap */
    check_add(utc(2025, 3, 31, 0, 0, 0), 1, utc(2025, 4, 30, 0, 0, 0));
    check_add(utc(2025, 5, 31, 0, 0, 0), 1, utc(2025, 6, 30, 0, 0, 0));
    check_add(utc(2025, 1, 15, 12, 0, 0), 3, utc(2025, 4, 15, 12, 0, 0));
    check_add(utc(2025, 9, 30, 6, 0, 0), 3, utc(2025, 12, 30, 6, 0, 0));
    check_add(utc(2025, 10, 1, 0, 0, 0), 3, utc(2026, 1, 1, 0, 0, 0));
    check_add(utc(2025, 12, 31, 23, 59, 59), 1, utc(2026, 1, 31, 23, 59, 59));
    check_add(utc(2025, 12, 31, 23, 59, 59), 2, utc(2026, 2, 28, 23, 59, 59));
    check_add(utc(2025, 6, 10, 0, 0, 0), 0, utc(2025, 6, 10, 0, 0, 0));
    check_add(utc(2025, 6, 10, 0, 0, 0), 24, utc(2027, 6, 10, 0, 0, 0));
    /* Literal anchors, in case utc() and the code shared a mistake. */
    ASSERT_EQ_INT(utc(2025, 1, 15, 12, 0, 0), 1736942400);
    ASSERT_EQ_INT(ks_time_add_months(1736942400, 3), 1744718400);
    ASSERT_EQ_INT(ks_time_add_months(1736942400, 6), 1752580800);
}

static void test_time_format(void)
{
    char out[KS_TIME_STR_LEN];
    ks_time_format(0, out);
    ASSERT_EQ_STR(out, "1970-01-01T00:00:00Z");
    ks_time_format(1709164800, out);
    ASSERT_EQ_STR(out, "2024-02-29T00:00:00Z");
    ks_time_format(1795831943, out);
    ASSERT_EQ_STR(out, "2026-11-28T02:12:23Z");
    ks_time_format(946684799, out);
    ASSERT_EQ_STR(out, "1999-12-31T23:59:59Z");
    ks_time_format(utc(2038, 1, 19, 3, 14, 8), out); /* past 32-bit time_t */
    ASSERT_EQ_STR(out, "2038-01-19T03:14:08Z");
    ASSERT_EQ_INT(strlen(out), KS_TIME_STR_LEN - 1);
}

static void test_clock_offset(void)
{
    int saved = ks_clock_offset_days();
    ks_clock_set_offset_days(0);
    int64_t a = ks_clock_now();
    ks_clock_set_offset_days(100);
    int64_t b = ks_clock_now();
    ASSERT_EQ_INT(ks_clock_offset_days(), 100);
    ks_clock_set_offset_days(saved);
    int64_t d = b - a - 100 * 86400;
    ASSERT(d >= 0 && d <= 2);
    ASSERT(a > 1700000000); /* a plausible real clock */
}

static void test_token_outdated_boundary(void)
{
    static const int MONTHS[] = {3, 6};
    static const int64_t CREATED[] = {1736942400 /* 2025-01-15T12:00Z */, 1732924800 /* 2024-11-30 */};
    for (size_t m = 0; m < 2; m++) {
        for (size_t c = 0; c < 2; c++) {
            int64_t created = CREATED[c];
            int64_t exp = ks_token_expires_at(created, MONTHS[m]);
            ASSERT_EQ_INT(exp, ks_time_add_months(created, MONTHS[m]));
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], created), 0);
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], exp - 1), 0);
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], exp), 0);
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], exp + 1), 1);
            ASSERT_EQ_INT(ks_token_outdated(created, MONTHS[m], exp + 86400 * 400), 1);
        }
    }
    /* Independent anchors. */
    ASSERT_EQ_INT(ks_token_expires_at(1736942400, 3), 1744718400);
    ASSERT_EQ_INT(ks_token_expires_at(utc(2024, 11, 30, 0, 0, 0), 3), utc(2025, 2, 28, 0, 0, 0));
    ASSERT_EQ_INT(ks_token_outdated(utc(2024, 11, 30, 0, 0, 0), 3, utc(2025, 2, 28, 0, 0, 0)), 0);
    ASSERT_EQ_INT(ks_token_outdated(utc(2024, 11, 30, 0, 0, 0), 3, utc(2025, 2, 28, 0, 0, 1)), 1);
}

static void test_renewal_alert_boundaries(void)
{
    const int64_t created = utc(2025, 1, 15, 12, 0, 0);
    struct { int months; int64_t expires, high; } cases[] = {
        {3, utc(2025, 4, 15, 12, 0, 0), utc(2025, 7, 15, 12, 0, 0)},
        {6, utc(2025, 7, 15, 12, 0, 0), utc(2025, 10, 15, 12, 0, 0)},
    };
    for (size_t i = 0; i < 2; i++) {
        int m = cases[i].months;
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, created), KS_ALERT_NONE);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].expires - 1), KS_ALERT_NONE);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].expires), KS_ALERT_NONE);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].expires + 1), KS_ALERT_RECOMMENDED);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].high - 1), KS_ALERT_RECOMMENDED);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].high), KS_ALERT_RECOMMENDED);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, cases[i].high + 1), KS_ALERT_HIGHLY_RECOMMENDED);
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, utc(2030, 1, 1, 0, 0, 0)),
                      KS_ALERT_HIGHLY_RECOMMENDED);
        /* A token from the future (clock skew) is no reason to alert. */
        ASSERT_EQ_INT(ks_renewal_alert_of(created, m, created - 86400), KS_ALERT_NONE);
    }
    ASSERT_EQ_STR(ks_renewal_alert_name(KS_ALERT_NONE), "none");
    ASSERT_EQ_STR(ks_renewal_alert_name(KS_ALERT_RECOMMENDED), "recommended");
    ASSERT_EQ_STR(ks_renewal_alert_name(KS_ALERT_HIGHLY_RECOMMENDED), "highly_recommended");
}

static void test_token_duration_valid(void)
{
    ASSERT(ks_token_duration_valid(3));
    ASSERT(ks_token_duration_valid(6));
    static const int BAD[] = {-3, 0, 1, 2, 4, 5, 7, 12, 36};
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++)
        if (ks_token_duration_valid(BAD[i]))
            UNIT_FAIL("duration %d accepted", BAD[i]);
}

/* ------------------------------------------------------------------ roles */

static const ks_builtin_role *find_builtin(const char *name)
{
    size_t n = 0;
    const ks_builtin_role *r = ks_builtin_roles(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].name, name) == 0)
            return &r[i];
    return NULL;
}

static int role_has(const ks_builtin_role *r, const char *res)
{
    for (size_t i = 0; i < r->n_resources; i++)
        if (strcmp(r->resources[i], res) == 0)
            return 1;
    return 0;
}

static void test_builtin_roles(void)
{
    size_t n = 0;
    ks_builtin_roles(&n);
    ASSERT_EQ_INT(n, 2);
    const ks_builtin_role *owner = find_builtin("Owner");
    const ks_builtin_role *admin = find_builtin("User Administrator - RESTRICTED");
    ASSERT(owner && admin);
    static const char *const ALL[] = {"view-api-keys", "edit-api-keys", "renew-api-token",
                                      "edit-api-keys-settings", "edit-roles", "view-audit-log"};
    ASSERT_EQ_INT(owner->n_resources, 6);
    for (size_t i = 0; i < 6; i++)
        ASSERT(role_has(owner, ALL[i]));
    ASSERT_EQ_INT(admin->n_resources, 4);
    for (size_t i = 0; i < 4; i++)
        ASSERT(role_has(admin, ALL[i]));
    ASSERT(!role_has(admin, "edit-roles"));
    ASSERT(!role_has(admin, "view-audit-log"));
    /* No duplicates (the counts above would otherwise hide a missing one). */
    for (size_t i = 0; i < owner->n_resources; i++)
        for (size_t j = i + 1; j < owner->n_resources; j++)
            ASSERT(strcmp(owner->resources[i], owner->resources[j]) != 0);
    for (size_t i = 0; i < admin->n_resources; i++) {
        ASSERT(ks_resource_valid(admin->resources[i]));
        for (size_t j = i + 1; j < admin->n_resources; j++)
            ASSERT(strcmp(admin->resources[i], admin->resources[j]) != 0);
    }
    ASSERT_EQ_STR(KS_ROLE_OWNER, "Owner");
    ASSERT_EQ_STR(KS_ROLE_USER_ADMIN, "User Administrator - RESTRICTED");
}

static void test_role_is_builtin(void)
{
    ASSERT_EQ_INT(ks_role_is_builtin("Owner"), 1);
    ASSERT_EQ_INT(ks_role_is_builtin("User Administrator - RESTRICTED"), 1);
    static const char *const NOT[] = {"owner", "OWNER", "Owner ", " Owner", "User Administrator",
                                      "User Administrator - Restricted", "", "Reader"};
    for (size_t i = 0; i < sizeof NOT / sizeof *NOT; i++)
        if (ks_role_is_builtin(NOT[i]))
            UNIT_FAIL("\"%s\" taken for a built-in role", NOT[i]);
}

static void test_role_name_valid(void)
{
    char buf[512];
    static const char *const GOOD[] = {
        "a", "Reader", "Orders - read only", "User Administrator - RESTRICTED",
        "r\xc3\xb4le", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x94\x91 keys", "a  b",
    };
    static const char *const BAD[] = {
        "", " ", " a", "a ", "  Reader", "Reader  ", "a\tb", "a\nb", "a\rb", "\x1b[31m", "a\x7f",
        "a\x01", "\xff", "a\xfe", "\x80", "\xc3", "a\xc3", "\xe2\x82", "\xc0\xaf", "\xc1\xbf",
        "\xf5\x80\x80\x80", "\xc3\x28",
    };
    for (size_t i = 0; i < sizeof GOOD / sizeof *GOOD; i++)
        if (!ks_role_name_valid(GOOD[i]))
            UNIT_FAIL("rejected role name \"%s\"", GOOD[i]);
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++)
        if (ks_role_name_valid(BAD[i]))
            UNIT_FAIL("accepted role name #%zu", i);
    /* 100 characters, counted as code points, not bytes. */
    memset(buf, 'r', 100);
    buf[100] = '\0';
    ASSERT(ks_role_name_valid(buf));
    buf[100] = 'r';
    buf[101] = '\0';
    ASSERT(!ks_role_name_valid(buf));
    for (int i = 0; i < 100; i++)
        memcpy(buf + 2 * i, "\xc3\xa9", 2); /* e acute: 2 bytes, 1 char */
    buf[200] = '\0';
    ASSERT_EQ_INT(ks_utf8_length(buf), 100);
    ASSERT(ks_role_name_valid(buf));
    memcpy(buf + 200, "\xc3\xa9", 3);
    ASSERT(!ks_role_name_valid(buf));
    for (int i = 0; i < 100; i++)
        memcpy(buf + 4 * i, "\xf0\x9f\x94\x91", 4);
    buf[400] = '\0';
    ASSERT(ks_role_name_valid(buf));
}

static void test_role_name_rejects_all_invalid_utf8(void)
{
    /* RFC 3629: overlong forms, UTF-16 surrogates and code points above
     * U+10FFFF are not UTF-8. Each is reported, then the test fails once. */
    static const struct { const char *s; const char *what; } BAD[] = {
        {"a\xe0\x80\xaf", "overlong 3-byte '/' (E0 80 AF)"},
        {"a\xe0\x9f\xbf", "overlong 3-byte U+07FF (E0 9F BF)"},
        {"a\xed\xa0\x80", "UTF-16 surrogate U+D800 (ED A0 80)"},
        {"a\xed\xbf\xbf", "UTF-16 surrogate U+DFFF (ED BF BF)"},
        {"a\xf0\x80\x80\xaf", "overlong 4-byte '/' (F0 80 80 AF)"},
        {"a\xf0\x8f\xbf\xbf", "overlong 4-byte U+FFFF (F0 8F BF BF)"},
        {"a\xf4\x90\x80\x80", "U+110000, above U+10FFFF (F4 90 80 80)"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        if (ks_role_name_valid(BAD[i].s)) {
            fprintf(stderr, "  ks_role_name_valid accepted %s\n", BAD[i].what);
            bad++;
        }
        if (ks_utf8_length(BAD[i].s) != -1) {
            fprintf(stderr, "  ks_utf8_length(%s) = %ld, want -1\n", BAD[i].what,
                    ks_utf8_length(BAD[i].s));
            bad++;
        }
    }
    ASSERT_EQ_INT(bad, 0);
}

static void test_utf8_and_control_helpers(void)
{
    ASSERT_EQ_INT(ks_utf8_length(""), 0);
    ASSERT_EQ_INT(ks_utf8_length("abc"), 3);
    ASSERT_EQ_INT(ks_utf8_length("\xc3\xa9t\xc3\xa9"), 3);
    ASSERT_EQ_INT(ks_utf8_length("\xe2\x82\xac"), 1);
    ASSERT_EQ_INT(ks_utf8_length("\xf0\x9f\x94\x91"), 1);
    ASSERT_EQ_INT(ks_utf8_length("\xf4\x8f\xbf\xbf"), 1); /* U+10FFFF */
    ASSERT_EQ_INT(ks_utf8_length("\xef\xbf\xbd"), 1);
    ASSERT_EQ_INT(ks_utf8_length("\xe2\x82"), -1);
    ASSERT_EQ_INT(ks_utf8_length("\xc0\x80"), -1);
    ASSERT_EQ_INT(ks_utf8_length("\xff"), -1);
    ASSERT_EQ_INT(ks_has_control_chars("plain text"), 0);
    ASSERT_EQ_INT(ks_has_control_chars("\xc3\xa9"), 0);
    ASSERT_EQ_INT(ks_has_control_chars("a\tb"), 1);
    ASSERT_EQ_INT(ks_has_control_chars("\x1f"), 1);
    ASSERT_EQ_INT(ks_has_control_chars("x\x7f"), 1);
}

static void test_resource_valid(void)
{
    static const char *const GOOD[] = {
        "orders.read", "a", "Z", "0", "view-api-keys", "api/v1:orders/*", "x_y-z.w", "*",
        "a:b:c", "Orders.Write",
    };
    static const char *const BAD[] = {
        "", " ", "orders read", "orders,read", "orders\n", "r\xc3\xa9", "a;b", "a\"b", "a'b",
        "a\\b", "a?b", "a#b", "a%b", "a\x01", " orders.read", "orders.read ",
    };
    for (size_t i = 0; i < sizeof GOOD / sizeof *GOOD; i++)
        if (!ks_resource_valid(GOOD[i]))
            UNIT_FAIL("rejected resource \"%s\"", GOOD[i]);
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++)
        if (ks_resource_valid(BAD[i]))
            UNIT_FAIL("accepted resource #%zu \"%s\"", i, BAD[i]);
    char buf[200];
    memset(buf, 'r', 128);
    buf[128] = '\0';
    ASSERT(ks_resource_valid(buf));
    buf[128] = 'r';
    buf[129] = '\0';
    ASSERT(!ks_resource_valid(buf));
}

/* ------------------------------------------------------------------ errors */

static void test_error_table(void)
{
    static const struct { int err; int status; const char *code; } ROWS[] = {
        {KS_ERR_INVALID, 400, "invalid_request"},
        {KS_ERR_UNAUTHENTICATED, 401, "unauthenticated"},
        {KS_ERR_EXPIRED, 401, "expired"},
        {KS_ERR_FORBIDDEN, 403, "forbidden"},
        {KS_ERR_NOT_FOUND, 404, "not_found"},
        {KS_ERR_METHOD, 405, "method_not_allowed"},
        {KS_ERR_OLD_TOKEN_EXISTS, 409, "old_token_exists"},
        {KS_ERR_NO_OLD_TOKEN, 409, "no_old_token"},
        {KS_ERR_NAME_TAKEN, 409, "name_taken"},
        {KS_ERR_ROLE_IN_USE, 409, "role_in_use"},
        {KS_ERR_BUILTIN_ROLE, 409, "builtin_role"},
        {KS_ERR_GONE, 410, "gone"},
        {KS_ERR_TOO_LARGE, 413, "payload_too_large"},
        {KS_ERR_MEDIA_TYPE, 415, "unsupported_media_type"},
        {KS_ERR_RATE_LIMITED, 429, "rate_limited"},
        {KS_ERR_INTERNAL, 500, "internal"},
        {KS_ERR_STORAGE, 503, "storage_unavailable"},
        {KS_ERR_NOMEM, 500, "internal"},
    };
    for (size_t i = 0; i < sizeof ROWS / sizeof *ROWS; i++) {
        const ks_error_info_t *e = ks_error_info(ROWS[i].err);
        ASSERT(e != NULL);
        if (e->http_status != ROWS[i].status || !e->code || strcmp(e->code, ROWS[i].code) != 0)
            UNIT_FAIL("code %d: got %d \"%s\", want %d \"%s\"", ROWS[i].err, e->http_status,
                      e->code ? e->code : "(null)", ROWS[i].status, ROWS[i].code);
        ASSERT(e->message && e->message[0]);
    }
    /* Unknown codes map to 500 internal. */
    static const int UNKNOWN[] = {-19, -100, -1000, 1, 42, -2147483647};
    for (size_t i = 0; i < sizeof UNKNOWN / sizeof *UNKNOWN; i++) {
        const ks_error_info_t *e = ks_error_info(UNKNOWN[i]);
        ASSERT(e != NULL);
        ASSERT_EQ_INT(e->http_status, 500);
        ASSERT_EQ_STR(e->code, "internal");
    }
}

/* ------------------------------------------------------------------ model */

static void test_strlist(void)
{
    ks_strlist l = {0}, copy = {0};
    ASSERT_EQ_INT(ks_strlist_contains(&l, "a"), 0);
    ASSERT_EQ_INT(ks_strlist_add(&l, "Owner"), KS_OK);
    ASSERT_EQ_INT(ks_strlist_add(&l, "Reader"), KS_OK);
    ASSERT_EQ_INT(l.count, 2);
    ASSERT(ks_strlist_contains(&l, "Reader"));
    ASSERT(!ks_strlist_contains(&l, "reader"));
    int rc = ks_strlist_copy(&copy, &l);
    ks_strlist_free(&l);
    ASSERT_EQ_INT(l.count, 0);
    ASSERT(l.items == NULL);
    if (rc != KS_OK || copy.count != 2 || strcmp(copy.items[0], "Owner") != 0 ||
        strcmp(copy.items[1], "Reader") != 0) {
        ks_strlist_free(&copy);
        UNIT_FAIL("ks_strlist_copy did not copy [Owner, Reader]");
    }
    ks_strlist_free(&copy);
    ks_strlist_free(&copy); /* safe twice / on a zeroed list */
    ks_key k = {0};
    ks_key_free(&k);
    ks_role r = {0};
    ks_role_free(&r);
    ks_audit_record a = {0};
    ks_audit_record_free(&a);
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    RUN(test_token_generate_format);
    RUN(test_token_generate_unique_and_spread);
    RUN(test_token_known_checksum_accepted);
    RUN(test_token_check_uses_len_not_nul);
    RUN(test_token_single_char_changes_rejected);
    RUN(test_token_wrong_length_or_prefix_rejected);
    RUN(test_key_id_generate_and_parse);
    RUN(test_key_id_generate_unique);
    RUN(test_key_id_generate_rejects_bad_account);
    RUN(test_key_id_parse_rejects_malformed);
    RUN(test_account_name_valid);
    RUN(test_secret_create_and_reload);
    RUN(test_secret_two_files_differ);
    RUN(test_secret_loads_given_bytes);
    RUN(test_secret_refuses_open_mode);
    RUN(test_secret_refuses_wrong_size);
    RUN(test_secret_missing_without_create);
    RUN(test_token_hash);
    RUN(test_digest_equal);
    RUN(test_slots_init);
    RUN(test_slots_renew_later);
    RUN(test_slots_renew_now);
    RUN(test_slots_renew_with_old_refused);
    RUN(test_slots_delete_old);
    RUN(test_slots_undo_renewal);
    RUN(test_slots_no_old_refused);
    RUN(test_slots_sequence);
    RUN(test_slots_match_ignores_empty_slot);
    RUN(test_time_add_months);
    RUN(test_time_format);
    RUN(test_clock_offset);
    RUN(test_token_outdated_boundary);
    RUN(test_renewal_alert_boundaries);
    RUN(test_token_duration_valid);
    RUN(test_builtin_roles);
    RUN(test_role_is_builtin);
    RUN(test_role_name_valid);
    RUN(test_role_name_rejects_all_invalid_utf8);
    RUN(test_utf8_and_control_helpers);
    RUN(test_resource_valid);
    RUN(test_error_table);
    RUN(test_strlist);
    return unit_report("core");
}
