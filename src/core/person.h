/*
 * person.h - the rules for people (API.md "People"): how an email is named
 * and compared, and how a password is checked and stored.
 *
 * Email: case-insensitive, stored lower case (ASCII folding), at most 254
 * bytes, one '@' with a non-empty local part and domain, no space or control
 * character. We do not try to implement RFC 5321: an invitation that reaches
 * nobody is harmless, a rejected real address is not.
 *
 * Passwords: 12 to 1024 bytes (any bytes but NUL), stored only as Argon2id
 * (libsodium crypto_pwhash_str, INTERACTIVE limits: 64 MiB, about 0.1 s on
 * one core here). ks_password_verify costs the same whether the hash given
 * is a real one or ks_password_dummy_hash(), so a wrong email and a wrong
 * password answer in the same time. Every call wipes what it copied.
 *
 * Memory and cores: each Argon2id computation takes 64 MiB and a core for
 * about 0.1 s, so at most ks_password_concurrency() of them run at once in
 * the process (hash and verify alike): half the online CPUs, at least 1 and
 * at most KS_PASSWORD_CONCURRENCY_MAX (4); further callers wait their turn.
 * N simultaneous sign-ins then take at most 4 x 64 MiB = 256 MiB, not
 * N x 64 MiB, and leave at least half the cores to the verify workers
 * (bench/signin_load.py measures it).
 */
#ifndef KS_CORE_PERSON_H
#define KS_CORE_PERSON_H

#include <stddef.h>

#define KS_EMAIL_MAX 254
#define KS_PASSWORD_MIN 12
#define KS_PASSWORD_MAX 1024
#define KS_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define KS_PASSWORD_CONCURRENCY_MAX 4 /* Argon2id computations at once, 64 MiB each */

/* Lower-cases a valid email into out (KS_EMAIL_MAX + 1 bytes). KS_OK, or
 * KS_ERR_INVALID when it is not an email by the rules above. */
int ks_email_normalize(const char *email, char out[KS_EMAIL_MAX + 1]);

/* KS_OK when a password of len bytes may be set: 12-1024 bytes, no NUL;
 * else KS_ERR_INVALID. */
int ks_password_check(const char *password, size_t len);

/* Argon2id of the password into out (crypto_pwhash_str text). KS_OK,
 * KS_ERR_INVALID (ks_password_check), or KS_ERR_NOMEM (the 64 MiB could
 * not be had). */
int ks_password_hash(const char *password, size_t len, char out[KS_PASSWORD_HASH_MAX]);

/* 1 when password matches hash (constant time inside libsodium); 0
 * otherwise, also for an empty or malformed hash, which is then checked
 * against the dummy hash so that it takes the same time. */
__attribute__((warn_unused_result))
int ks_password_verify(const char *hash, const char *password, size_t len);

/* A valid Argon2id hash (of a random password, made once per process) to
 * verify against when there is no real one. Thread-safe. */
const char *ks_password_dummy_hash(void);

/* How many Argon2id computations may run at once (see above). */
int ks_password_concurrency(void);

/* The most Argon2id computations that ran at once so far in the process
 * (never above ks_password_concurrency()); for tests and metrics. */
int ks_password_peak(void);

#endif
