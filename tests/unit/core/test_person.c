/*
 * test_person.c - unit tests of src/core/person.c: the email rules, the
 * password rules at their edges (11/12/1024/1025 bytes, NUL), Argon2id
 * hashing and verifying, the dummy hash that a wrong email is checked
 * against (the same algorithm and cost as a real hash, so the same time),
 * and the bound on Argon2id computations running at once.
 */
#include "unit.h"

#include "core/error.h"
#include "core/person.h"

#include <pthread.h>
#include <sodium.h>
#include <unistd.h>

static char *filled(size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        UNIT_FAIL("out of memory");
    memset(p, 'x', n);
    p[n] = '\0';
    return p;
}

static void test_email_normalize(void)
{
    char out[KS_EMAIL_MAX + 1];
    ASSERT_EQ_INT(ks_email_normalize("Ada.Lovelace@Example.COM", out), KS_OK);
    ASSERT_EQ_STR(out, "ada.lovelace@example.com");
    ASSERT_EQ_INT(ks_email_normalize("a@b", out), KS_OK);
    ASSERT_EQ_STR(out, "a@b");
    const char *bad[] = {"", "nobody", "@example.com", "ada@", "a@b@c", "a b@c.d", "a@c\td", "a\x7f@c.d"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (ks_email_normalize(bad[i], out) != KS_ERR_INVALID)
            UNIT_FAIL("'%s' taken as an email", bad[i]);
    ASSERT_EQ_INT(ks_email_normalize(NULL, out), KS_ERR_INVALID);
    /* 254 bytes in all is the most. */
    char email[300];
    memset(email, 'a', sizeof email);
    memcpy(email + 254 - 6, "@x.com", 6);
    email[254] = '\0';
    ASSERT_EQ_INT(ks_email_normalize(email, out), KS_OK);
    ASSERT_EQ_INT((int)strlen(out), 254);
    memset(email, 'a', sizeof email);
    memcpy(email + 255 - 6, "@x.com", 6);
    email[255] = '\0';
    ASSERT_EQ_INT(ks_email_normalize(email, out), KS_ERR_INVALID);
}

static void test_password_lengths(void)
{
    char *p11 = filled(11), *p12 = filled(12), *p1024 = filled(1024), *p1025 = filled(1025);
    ASSERT_EQ_INT(ks_password_check(p11, 11), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_password_check(p12, 12), KS_OK);
    ASSERT_EQ_INT(ks_password_check(p1024, 1024), KS_OK);
    ASSERT_EQ_INT(ks_password_check(p1025, 1025), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_password_check("", 0), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_password_check(NULL, 12), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_password_check("twelve\0bytes", 12), KS_ERR_INVALID); /* NUL inside */

    /* Hashing refuses what the rules refuse, without hashing. */
    char hash[KS_PASSWORD_HASH_MAX];
    ASSERT_EQ_INT(ks_password_hash(p11, 11, hash), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_password_hash(p1025, 1025, hash), KS_ERR_INVALID);
    /* The longest password hashes and verifies; one byte more never does. */
    ASSERT_EQ_INT(ks_password_hash(p1024, 1024, hash), KS_OK);
    ASSERT_EQ_INT(ks_password_verify(hash, p1024, 1024), 1);
    ASSERT_EQ_INT(ks_password_verify(hash, p1025, 1025), 0);
    ASSERT_EQ_INT(ks_password_verify(hash, p1024, 1023), 0);
    free(p11);
    free(p12);
    free(p1024);
    free(p1025);
}

static void test_hash_and_verify(void)
{
    const char *pw = "correct horse battery";
    char h1[KS_PASSWORD_HASH_MAX], h2[KS_PASSWORD_HASH_MAX];
    ASSERT_EQ_INT(ks_password_hash(pw, strlen(pw), h1), KS_OK);
    ASSERT_EQ_INT(ks_password_hash(pw, strlen(pw), h2), KS_OK);
    /* Argon2id, interactive limits (64 MiB, 2 passes), salted: two hashes differ. */
    ASSERT(strncmp(h1, "$argon2id$v=19$m=65536,t=2,p=1$", 31) == 0);
    ASSERT(strcmp(h1, h2) != 0);
    ASSERT(strstr(h1, pw) == NULL);
    ASSERT_EQ_INT(ks_password_verify(h1, pw, strlen(pw)), 1);
    ASSERT_EQ_INT(ks_password_verify(h2, pw, strlen(pw)), 1);
    ASSERT_EQ_INT(ks_password_verify(h1, "correct horse battery!", 22), 0);
    ASSERT_EQ_INT(ks_password_verify(h1, "Correct horse battery", 21), 0);
    ASSERT_EQ_INT(ks_password_verify(h1, NULL, 0), 0);
    /* No hash, an empty one or a malformed one: never a match. */
    ASSERT_EQ_INT(ks_password_verify(NULL, pw, strlen(pw)), 0);
    ASSERT_EQ_INT(ks_password_verify("", pw, strlen(pw)), 0);
    ASSERT_EQ_INT(ks_password_verify("$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", pw, strlen(pw)), 0);
    ASSERT_EQ_INT(ks_password_verify("plain text", "plain text", 10), 0);
}

/* The length of "$argon2id$v=19$m=65536,t=2,p=1$": what precedes the salt. */
static size_t params_len(const char *h)
{
    int dollars = 0;
    for (size_t i = 0; h[i]; i++)
        if (h[i] == '$' && ++dollars == 4)
            return i + 1;
    return 0;
}

static void test_dummy_hash(void)
{
    const char *d = ks_password_dummy_hash();
    ASSERT(d != NULL);
    /* Made once per process: the same pointer and text every time. */
    ASSERT(d == ks_password_dummy_hash());
    /* The same algorithm and cost as a real hash, so checking a wrong email
     * against it costs what checking a wrong password does. */
    char real[KS_PASSWORD_HASH_MAX];
    ASSERT_EQ_INT(ks_password_hash("some password", 13, real), KS_OK);
    size_t params = params_len(real);
    ASSERT(params > 20 && params == params_len(d) && strncmp(d, real, params) == 0);
    ASSERT_EQ_INT((int)strlen(d), (int)strlen(real));
    /* And nothing matches it: it is the hash of a random password. */
    ASSERT_EQ_INT(ks_password_verify(d, "", 0), 0);
    ASSERT_EQ_INT(ks_password_verify(d, "some password", 13), 0);
}

static const char *shared_hash;

static void *verify_once(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)ks_password_verify(shared_hash, "a password here", 15);
}

/* Eight threads verifying at once never run more than
 * ks_password_concurrency() Argon2id computations together (half the
 * CPUs, 1 to 4). */
static void test_concurrency_bound(void)
{
    char hash[KS_PASSWORD_HASH_MAX];
    ASSERT_EQ_INT(ks_password_hash("a password here", 15, hash), KS_OK);
    shared_hash = hash;
    int bound = ks_password_concurrency();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    ASSERT_EQ_INT(bound, cpus < 4 ? 1 : cpus / 2 > KS_PASSWORD_CONCURRENCY_MAX ? KS_PASSWORD_CONCURRENCY_MAX : cpus / 2);
    pthread_t t[8];
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        ASSERT_EQ_INT(pthread_create(&t[i], NULL, verify_once, NULL), 0);
    int matched = 0;
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        void *r;
        pthread_join(t[i], &r);
        matched += (int)(intptr_t)r;
    }
    ASSERT_EQ_INT(matched, (int)(sizeof t / sizeof *t));
    int peak = ks_password_peak();
    if (peak < 1 || peak > bound)
        UNIT_FAIL("peak of Argon2id computations at once: %d, want 1..%d", peak, bound);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_email_normalize);
    RUN(test_password_lengths);
    RUN(test_hash_and_verify);
    RUN(test_dummy_hash);
    RUN(test_concurrency_bound);
    return unit_report("person");
}
