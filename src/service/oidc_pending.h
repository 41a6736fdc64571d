/*
 * oidc_pending.h - the state of a single sign-on that has left for the
 * identity provider and not come back yet: `state`, `nonce`, the PKCE code
 * verifier and the redirect URI, sealed into one cookie.
 *
 * Why a sealed cookie: any node can finish a sign-in that another node began
 * (with PostgreSQL, several nodes share the secret and nothing else needs to
 * be shared), the server keeps nothing per visitor who never comes back, and
 * the browser that began the sign-in is the only one that can finish it (a
 * `state` alone, seen in a URL, is useless without the cookie).
 *
 * The cookie is "o1." + base64url(nonce || crypto_secretbox(plaintext)), the
 * key derived from the server secret for this use only (BLAKE2b keyed with
 * the secret over a fixed label), so it is authenticated and its values are
 * unreadable: the PKCE verifier never shows in clear. Bounded: at most
 * KS_OIDC_COOKIE_MAX bytes (a redirect URI of at most KS_OIDC_REDIRECT_MAX),
 * and it opens only for KS_OIDC_PENDING_SECONDS after it was made.
 *
 * Single use: the callback claims the pending state in a per-process table
 * (ks_oidc_used) before anything else; a second claim of the same state is
 * refused, and the table holds at most KS_OIDC_USED_MAX unexpired entries
 * (when full, new claims are refused rather than old ones forgotten early).
 * Across nodes a replay is still refused by the provider: its code is single
 * use and bound to the PKCE verifier.
 */
#ifndef KS_SERVICE_OIDC_PENDING_H
#define KS_SERVICE_OIDC_PENDING_H

#include "core/secret.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define KS_OIDC_PENDING_SECONDS 600   /* a sign-in must come back within 10 minutes */
#define KS_OIDC_RANDOM_LEN 32         /* bytes of state, nonce and PKCE verifier */
#define KS_OIDC_TEXT_MAX 48           /* base64url of 32 bytes is 43 chars */
#define KS_OIDC_REDIRECT_MAX 512      /* longest redirect URI */
#define KS_OIDC_COOKIE_MAX 1024       /* longest sealed cookie value */
#define KS_OIDC_USED_MAX 4096         /* most sign-ins claimed and not yet expired */

/* One pending sign-in. */
typedef struct {
    int64_t created;                              /* Unix seconds */
    unsigned char state[KS_OIDC_RANDOM_LEN];
    unsigned char nonce[KS_OIDC_RANDOM_LEN];
    unsigned char verifier[KS_OIDC_RANDOM_LEN];
    char redirect_uri[KS_OIDC_REDIRECT_MAX + 1];  /* where the provider sends the browser back */
} ks_oidc_pending;

/* A fresh pending sign-in at `now` with random state, nonce and verifier.
 * KS_OK, or KS_ERR_INVALID when redirect_uri is empty or too long. */
int ks_oidc_pending_new(ks_oidc_pending *out, const char *redirect_uri, int64_t now);

/* The text forms sent on the wire (base64url, no padding) of the random
 * values: `state` and `nonce` parameters, and the PKCE code verifier. */
void ks_oidc_pending_text(const unsigned char raw[KS_OIDC_RANDOM_LEN], char out[KS_OIDC_TEXT_MAX]);

/* The sealing key of pending cookies, derived from the server secret. */
void ks_oidc_pending_key(const ks_secret *secret, unsigned char key[32]);

/* Seals *p into out (a NUL-terminated cookie value). KS_OK, or
 * KS_ERR_INTERNAL when it would not fit (it always does for a valid *p). */
int ks_oidc_pending_seal(const ks_oidc_pending *p, const unsigned char key[32], char out[KS_OIDC_COOKIE_MAX]);

/* Opens a cookie value into *out at `now`. KS_OK; KS_ERR_INVALID when it is
 * missing, too long, malformed or does not authenticate under `key`;
 * KS_ERR_GONE when it was made more than KS_OIDC_PENDING_SECONDS ago (or
 * claims to be from more than a minute in the future). *out is wiped on
 * failure. */
__attribute__((warn_unused_result))
int ks_oidc_pending_open(const char *cookie, const unsigned char key[32], int64_t now, ks_oidc_pending *out);

/* 1 when the `state` parameter that came back is the pending one's (constant
 * time), else 0. */
__attribute__((warn_unused_result))
int ks_oidc_pending_state_matches(const ks_oidc_pending *p, const char *state_param);

/* The table of claimed sign-ins (single use). */
typedef struct {
    pthread_mutex_t lock;
    struct ks_oidc_used_entry {
        unsigned char state[KS_OIDC_RANDOM_LEN];
        int64_t expires;                   /* Unix seconds; 0 = free slot */
    } entries[KS_OIDC_USED_MAX];
} ks_oidc_used;

void ks_oidc_used_init(ks_oidc_used *u);
void ks_oidc_used_destroy(ks_oidc_used *u);

/* Claims p's state at `now`: KS_OK the first time; KS_ERR_GONE when it was
 * claimed before (a replay); KS_ERR_RATE_LIMITED when the table is full of
 * unexpired claims. A claim is forgotten once the pending state could no
 * longer open anyway. */
__attribute__((warn_unused_result))
int ks_oidc_used_claim(ks_oidc_used *u, const ks_oidc_pending *p, int64_t now);

#endif
