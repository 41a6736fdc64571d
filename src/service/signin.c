/*
 * signin.c - a person signs in (email, password, TOTP), changes its
 * password, and enrols or removes TOTP (see people.h).
 *
 * Same answer, same time: an unknown email, a person without a password
 * (invited, not accepted) and a wrong password all cost one Argon2id
 * verification (against a dummy hash when there is no real one) and one
 * recorded failure, and answer KS_ERR_UNAUTHENTICATED.
 *
 * Failed sign-ins are kept in the store by the keyed hash of the email
 * tried, so with PostgreSQL every node counts the same failures and the
 * lockout holds across the cluster; a success forgets them.
 *
 * TOTP secrets are sealed with crypto_secretbox under a key derived
 * (crypto_kdf) from the server secret with the person's id as subkey id:
 * the database alone cannot open them, nor move one to another person.
 */
#include "service/people.h"
#include "service/service_internal.h"
#include "core/clock.h"
#include "core/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOTP_SEAL_CONTEXT "kstotp01" /* crypto_kdf context: 8 bytes */
#define SIGNIN_FAILURE_DOMAIN "signin-failure:"
#define FAILURES_READ_MAX 64

_Static_assert(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + KS_TOTP_SECRET_LEN <= KS_SEALED_MAX_PERSON,
               "sealed TOTP secret fits the person record");

static void totp_key(const ks_service *svc, int64_t person_id, unsigned char key[crypto_secretbox_KEYBYTES])
{
    crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, (uint64_t)person_id, TOTP_SEAL_CONTEXT,
                               svc->secret.bytes);
}

static void totp_seal(const ks_service *svc, int64_t person_id, const unsigned char secret[KS_TOTP_SECRET_LEN],
                      unsigned char sealed[KS_SEALED_MAX_PERSON], size_t *len)
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    totp_key(svc, person_id, key);
    randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, secret, KS_TOTP_SECRET_LEN, sealed, key);
    *len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + KS_TOTP_SECRET_LEN;
    sodium_memzero(key, sizeof key);
}

/* KS_OK with the person's TOTP secret, KS_ERR_NOT_FOUND when it has none,
 * KS_ERR_INTERNAL when it does not open (another server secret). */
static int totp_open(const ks_service *svc, const ks_person *p, unsigned char secret[KS_TOTP_SECRET_LEN])
{
    if (p->totp_sealed_len == 0)
        return KS_ERR_NOT_FOUND;
    if (p->totp_sealed_len != crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + KS_TOTP_SECRET_LEN)
        return KS_ERR_INTERNAL;
    unsigned char key[crypto_secretbox_KEYBYTES];
    totp_key(svc, p->id, key);
    int ok = crypto_secretbox_open_easy(secret, p->totp_sealed + crypto_secretbox_NONCEBYTES,
                                        p->totp_sealed_len - crypto_secretbox_NONCEBYTES, p->totp_sealed, key) == 0;
    sodium_memzero(key, sizeof key);
    return ok ? KS_OK : KS_ERR_INTERNAL;
}

int ks_person_totp_use(ks_service *svc, const ks_person *person, const char *code, int64_t now)
{
    unsigned char secret[KS_TOTP_SECRET_LEN];
    int64_t step = 0;
    int rc = totp_open(svc, person, secret);
    if (rc == KS_OK)
        rc = ks_totp_check(secret, now, code, &step);
    sodium_memzero(secret, sizeof secret);
    if (rc == KS_OK && step <= person->totp_last_step)
        rc = KS_ERR_GONE; /* this code (or a later one) was used already */
    if (rc == KS_OK)
        rc = svc->store->ops->person_totp_step_use(svc->store, person->id, step); /* GONE if another won */
    return rc;
}

/* The keyed hash failures are counted under (the email as given, lower
 * case when it is an email at all). */
static void failure_key(const ks_service *svc, const char *email, ks_digest *out)
{
    char norm[KS_EMAIL_MAX + 1];
    const char *name = ks_email_normalize(email, norm) == KS_OK ? norm : email;
    crypto_generichash_state st;
    crypto_generichash_init(&st, svc->secret.bytes, KS_SECRET_LEN, KS_DIGEST_LEN);
    crypto_generichash_update(&st, (const unsigned char *)SIGNIN_FAILURE_DOMAIN, strlen(SIGNIN_FAILURE_DOMAIN));
    crypto_generichash_update(&st, (const unsigned char *)name, strnlen(name, KS_EMAIL_MAX + 1));
    crypto_generichash_final(&st, out->bytes, KS_DIGEST_LEN);
}

/* KS_ERR_RATE_LIMITED with *retry_after when the email has had
 * KS_SIGNIN_MAX_FAILURES failures in the window before now. */
static int lockout_check(ks_service *svc, const ks_digest *key, int64_t now, int64_t *retry_after)
{
    int64_t times[FAILURES_READ_MAX];
    size_t n = 0;
    int rc = svc->store->ops->signin_failures(svc->store, key, now - KS_SIGNIN_WINDOW + 1, times,
                                              FAILURES_READ_MAX, &n);
    if (rc != KS_OK || n < KS_SIGNIN_MAX_FAILURES)
        return rc;
    /* Free again once fewer than the maximum remain in the window. */
    int64_t until = times[n - KS_SIGNIN_MAX_FAILURES] + KS_SIGNIN_WINDOW;
    *retry_after = until > now ? until - now : 1;
    return KS_ERR_RATE_LIMITED;
}

int ks_person_sign_in(ks_service *svc, const char *email, const char *password, size_t len, const char *totp,
                      const char *address, int64_t now, char cookie_out[KS_SESSION_TEXT_MAX],
                      char csrf_out[KS_SESSION_TEXT_MAX], int64_t *retry_after, int *totp_required)
{
    *retry_after = 0;
    *totp_required = 0;
    ks_digest key;
    failure_key(svc, email ? email : "", &key);
    int rc = lockout_check(svc, &key, now, retry_after);
    if (rc != KS_OK)
        return rc;
    char norm[KS_EMAIL_MAX + 1];
    ks_person person;
    memset(&person, 0, sizeof person);
    int found = ks_email_normalize(email, norm) == KS_OK &&
                svc->store->ops->person_get(svc->store, norm, &person) == KS_OK;
    /* One Argon2id whatever happens above: a dummy hash for nobody. */
    int ok = ks_password_verify(found ? person.password_hash : NULL, password, len) && found;
    if (ok && person.totp_enabled) {
        if (!totp || !*totp) {
            *totp_required = 1; /* the person's next step, not a guess */
            sodium_memzero(&person, sizeof person);
            return KS_ERR_UNAUTHENTICATED;
        }
        ok = ks_person_totp_use(svc, &person, totp, now) == KS_OK;
    }
    if (!ok) {
        /* Not audited per account: a write only for known emails would tell
         * them apart by time. The failure count below is the same for all. */
        sodium_memzero(&person, sizeof person);
        rc = svc->store->ops->signin_failure_add(svc->store, &key, now, now - KS_SIGNIN_WINDOW);
        return rc == KS_OK ? KS_ERR_UNAUTHENTICATED : rc;
    }
    sodium_memzero(&person, sizeof person);
    rc = ks_session_create_person_at(svc, norm, "session", address, now, cookie_out, csrf_out);
    if (rc == KS_ERR_NOT_FOUND) { /* no active membership anywhere: as a wrong password */
        rc = svc->store->ops->signin_failure_add(svc->store, &key, now, now - KS_SIGNIN_WINDOW);
        return rc == KS_OK ? KS_ERR_UNAUTHENTICATED : rc;
    }
    if (rc == KS_OK)
        (void)svc->store->ops->signin_failures_clear(svc->store, &key); /* best effort */
    return rc;
}

int ks_person_password_change(ks_service *svc, const ks_actor *who, int64_t person_id, const char *current,
                              size_t current_len, const char *new_password, size_t new_len,
                              const char *keep_cookie)
{
    ks_person person;
    int rc = ks_password_check(new_password, new_len);
    if (rc != KS_OK)
        return rc;
    if ((rc = svc->store->ops->person_get_by_id(svc->store, person_id, &person)) != KS_OK)
        return rc;
    int ok = ks_password_verify(person.password_hash, current, current_len);
    sodium_memzero(&person, sizeof person);
    if (!ok)
        return KS_ERR_UNAUTHENTICATED;
    char hash[KS_PASSWORD_HASH_MAX];
    if ((rc = ks_password_hash(new_password, new_len, hash)) != KS_OK)
        return rc;
    ks_digest keep;
    if (keep_cookie)
        ks_token_hash(&svc->secret, keep_cookie, strlen(keep_cookie), &keep);
    rc = svc->store->ops->person_password_set(svc->store, person_id, hash, keep_cookie ? &keep : NULL);
    sodium_memzero(hash, sizeof hash);
    if (rc == KS_OK)
        ks_person_audit(svc, who, person_id, "user.password_change", who->actor + 5);
    return rc;
}

int ks_person_totp_enrol(ks_service *svc, const ks_actor *who, int64_t person_id,
                         char secret_out[KS_TOTP_BASE32_MAX], char uri_out[KS_TOTP_URI_MAX])
{
    ks_person person;
    secret_out[0] = uri_out[0] = '\0';
    int rc = svc->store->ops->person_get_by_id(svc->store, person_id, &person);
    if (rc != KS_OK)
        return rc;
    if (person.totp_enabled) {
        sodium_memzero(&person, sizeof person);
        return KS_ERR_NAME_TAKEN;
    }
    unsigned char secret[KS_TOTP_SECRET_LEN], sealed[KS_SEALED_MAX_PERSON];
    size_t sealed_len = 0;
    ks_totp_secret_new(secret);
    totp_seal(svc, person_id, secret, sealed, &sealed_len);
    rc = ks_totp_secret_base32(secret, secret_out);
    if (rc == KS_OK)
        rc = ks_totp_uri(KS_TOTP_ISSUER, person.email, secret_out, uri_out, KS_TOTP_URI_MAX);
    if (rc == KS_OK)
        rc = svc->store->ops->person_totp_set(svc->store, person_id, sealed, sealed_len, 0);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(&person, sizeof person);
    if (rc != KS_OK) {
        sodium_memzero(secret_out, KS_TOTP_BASE32_MAX);
        sodium_memzero(uri_out, KS_TOTP_URI_MAX);
    }
    return rc;
}

int ks_person_totp_confirm(ks_service *svc, const ks_actor *who, int64_t person_id, const char *code, int64_t now)
{
    ks_person person;
    int rc = svc->store->ops->person_get_by_id(svc->store, person_id, &person);
    if (rc == KS_OK && (person.totp_sealed_len == 0 || person.totp_enabled))
        rc = KS_ERR_NOT_FOUND; /* nothing being enrolled */
    if (rc == KS_OK) {
        rc = ks_person_totp_use(svc, &person, code, now);
        if (rc == KS_ERR_GONE)
            rc = KS_ERR_UNAUTHENTICATED;
    }
    if (rc == KS_OK)
        rc = svc->store->ops->person_totp_set(svc->store, person_id, person.totp_sealed, person.totp_sealed_len, 1);
    sodium_memzero(&person, sizeof person);
    if (rc == KS_OK)
        ks_person_audit(svc, who, person_id, "user.totp_enable", who->actor + 5);
    return rc;
}

int ks_person_totp_remove(ks_service *svc, const ks_actor *who, int64_t person_id, const char *code, int64_t now)
{
    ks_person person;
    int rc = svc->store->ops->person_get_by_id(svc->store, person_id, &person);
    if (rc == KS_OK && !person.totp_enabled)
        rc = KS_ERR_NOT_FOUND;
    if (rc == KS_OK) {
        rc = ks_person_totp_use(svc, &person, code, now);
        if (rc == KS_ERR_GONE)
            rc = KS_ERR_UNAUTHENTICATED;
    }
    if (rc == KS_OK)
        rc = svc->store->ops->person_totp_set(svc->store, person_id, NULL, 0, 0);
    sodium_memzero(&person, sizeof person);
    if (rc == KS_OK)
        ks_person_audit(svc, who, person_id, "user.totp_disable", who->actor + 5);
    return rc;
}
