/* person.c - email and password rules for people (see person.h). */
#include "core/person.h"
#include "core/error.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

int ks_email_normalize(const char *email, char out[KS_EMAIL_MAX + 1])
{
    size_t n = email ? strnlen(email, KS_EMAIL_MAX + 1) : 0;
    if (n == 0 || n > KS_EMAIL_MAX)
        return KS_ERR_INVALID;
    const char *at = strchr(email, '@');
    if (!at || at == email || !at[1] || strchr(at + 1, '@'))
        return KS_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c <= 0x20 || c == 0x7f)
            return KS_ERR_INVALID;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[n] = '\0';
    return KS_OK;
}

int ks_password_check(const char *password, size_t len)
{
    if (!password || len < KS_PASSWORD_MIN || len > KS_PASSWORD_MAX || memchr(password, '\0', len))
        return KS_ERR_INVALID;
    return KS_OK;
}

/* The bound on simultaneous Argon2id computations (see person.h): a
 * counting semaphore made of a mutex and a condition, so that it also
 * records the peak for the tests. */
static pthread_mutex_t argon_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t argon_free = PTHREAD_COND_INITIALIZER;
static int argon_running, argon_peak, argon_bound;

int ks_password_concurrency(void)
{
    pthread_mutex_lock(&argon_lock);
    if (argon_bound == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        long half = cpus > 1 ? cpus / 2 : 1;
        argon_bound = (int)(half < KS_PASSWORD_CONCURRENCY_MAX ? half : KS_PASSWORD_CONCURRENCY_MAX);
    }
    int bound = argon_bound;
    pthread_mutex_unlock(&argon_lock);
    return bound;
}

static void argon_enter(void)
{
    int bound = ks_password_concurrency();
    pthread_mutex_lock(&argon_lock);
    while (argon_running >= bound)
        pthread_cond_wait(&argon_free, &argon_lock);
    argon_running++;
    if (argon_running > argon_peak)
        argon_peak = argon_running;
    pthread_mutex_unlock(&argon_lock);
}

static void argon_leave(void)
{
    pthread_mutex_lock(&argon_lock);
    argon_running--;
    pthread_cond_signal(&argon_free);
    pthread_mutex_unlock(&argon_lock);
}

int ks_password_peak(void)
{
    pthread_mutex_lock(&argon_lock);
    int peak = argon_peak;
    pthread_mutex_unlock(&argon_lock);
    return peak;
}

int ks_password_hash(const char *password, size_t len, char out[KS_PASSWORD_HASH_MAX])
{
    _Static_assert(crypto_pwhash_STRBYTES <= KS_PASSWORD_HASH_MAX, "hash buffer");
    int rc = ks_password_check(password, len);
    if (rc != KS_OK)
        return rc;
    argon_enter();
    int failed = crypto_pwhash_str_alg(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0;
    argon_leave();
    return failed ? KS_ERR_NOMEM : KS_OK;
}

static char dummy_hash[KS_PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
    unsigned char rnd[24];
    char pw[sizeof rnd * 2 + 1];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(pw, sizeof pw, rnd, sizeof rnd);
    if (ks_password_hash(pw, strlen(pw), dummy_hash) != KS_OK)
        dummy_hash[0] = '\0'; /* verify then fails fast: out of memory anyway */
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(rnd, sizeof rnd);
}

const char *ks_password_dummy_hash(void)
{
    pthread_once(&dummy_once, dummy_make);
    return dummy_hash;
}

int ks_password_verify(const char *hash, const char *password, size_t len)
{
    int real = hash && strncmp(hash, crypto_pwhash_argon2id_STRPREFIX, strlen(crypto_pwhash_argon2id_STRPREFIX)) == 0 &&
               strnlen(hash, KS_PASSWORD_HASH_MAX) < KS_PASSWORD_HASH_MAX;
    const char *against = real ? hash : ks_password_dummy_hash();
    if (!password || len > KS_PASSWORD_MAX) { /* still spend the time */
        password = "";
        len = 0;
        real = 0;
    }
    argon_enter();
    int ok = crypto_pwhash_str_verify(against, password, len) == 0;
    argon_leave();
    return real && ok;
}
