/*
 * oidc_pending.c - sealed pending sign-ins and their single-use table (see
 * oidc_pending.h). Layout of the sealed plaintext, all fixed but the URI:
 *   version (1 byte, 1) | created (8 bytes, big-endian two's complement) |
 *   state (32) | nonce (32) | verifier (32) | redirect URI (the rest, no NUL)
 */
#include "service/oidc_pending.h"
#include "core/error.h"

#include <sodium.h>
#include <string.h>

#define COOKIE_PREFIX "o1."
#define PLAIN_FIXED (1 + 8 + 3 * KS_OIDC_RANDOM_LEN)
#define PLAIN_MAX (PLAIN_FIXED + KS_OIDC_REDIRECT_MAX)
#define BOX_MAX (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + PLAIN_MAX)
#define FUTURE_SLACK 60 /* seconds a cookie may claim to be from the future (clock steps) */

int ks_oidc_pending_new(ks_oidc_pending *out, const char *redirect_uri, int64_t now)
{
    size_t len = redirect_uri ? strlen(redirect_uri) : 0;
    if (len == 0 || len > KS_OIDC_REDIRECT_MAX)
        return KS_ERR_INVALID;
    memset(out, 0, sizeof *out);
    out->created = now;
    randombytes_buf(out->state, sizeof out->state);
    randombytes_buf(out->nonce, sizeof out->nonce);
    randombytes_buf(out->verifier, sizeof out->verifier);
    memcpy(out->redirect_uri, redirect_uri, len + 1);
    return KS_OK;
}

void ks_oidc_pending_text(const unsigned char raw[KS_OIDC_RANDOM_LEN], char out[KS_OIDC_TEXT_MAX])
{
    sodium_bin2base64(out, KS_OIDC_TEXT_MAX, raw, KS_OIDC_RANDOM_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void ks_oidc_pending_key(const ks_secret *secret, unsigned char key[32])
{
    static const char LABEL[] = "keystile oidc pending sign-in v1";
    crypto_generichash(key, 32, (const unsigned char *)LABEL, sizeof LABEL - 1, secret->bytes, sizeof secret->bytes);
}

int ks_oidc_pending_seal(const ks_oidc_pending *p, const unsigned char key[32], char out[KS_OIDC_COOKIE_MAX])
{
    unsigned char plain[PLAIN_MAX], box[BOX_MAX];
    size_t uri_len = strlen(p->redirect_uri);
    if (uri_len == 0 || uri_len > KS_OIDC_REDIRECT_MAX)
        return KS_ERR_INTERNAL;
    size_t n = 0;
    plain[n++] = 1;
    uint64_t created = (uint64_t)p->created;
    for (int i = 7; i >= 0; i--)
        plain[n++] = (unsigned char)(created >> (i * 8));
    memcpy(plain + n, p->state, KS_OIDC_RANDOM_LEN);
    n += KS_OIDC_RANDOM_LEN;
    memcpy(plain + n, p->nonce, KS_OIDC_RANDOM_LEN);
    n += KS_OIDC_RANDOM_LEN;
    memcpy(plain + n, p->verifier, KS_OIDC_RANDOM_LEN);
    n += KS_OIDC_RANDOM_LEN;
    memcpy(plain + n, p->redirect_uri, uri_len);
    n += uri_len;
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, plain, n, box, key);
    size_t box_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    sodium_memzero(plain, sizeof plain);
    size_t prefix = sizeof COOKIE_PREFIX - 1;
    if (prefix + sodium_base64_ENCODED_LEN(box_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > KS_OIDC_COOKIE_MAX)
        return KS_ERR_INTERNAL;
    memcpy(out, COOKIE_PREFIX, prefix);
    sodium_bin2base64(out + prefix, KS_OIDC_COOKIE_MAX - prefix, box, box_len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return KS_OK;
}

int ks_oidc_pending_open(const char *cookie, const unsigned char key[32], int64_t now, ks_oidc_pending *out)
{
    unsigned char box[BOX_MAX], plain[PLAIN_MAX];
    size_t box_len = 0, prefix = sizeof COOKIE_PREFIX - 1;
    int rc = KS_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (!cookie || strlen(cookie) >= KS_OIDC_COOKIE_MAX || strncmp(cookie, COOKIE_PREFIX, prefix) != 0)
        return KS_ERR_INVALID;
    if (sodium_base642bin(box, sizeof box, cookie + prefix, strlen(cookie + prefix), NULL, &box_len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        box_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + PLAIN_FIXED + 1)
        return KS_ERR_INVALID;
    size_t n = box_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (crypto_secretbox_open_easy(plain, box + crypto_secretbox_NONCEBYTES,
                                   box_len - crypto_secretbox_NONCEBYTES, box, key) != 0 ||
        plain[0] != 1)
        goto out;
    uint64_t created = 0;
    for (int i = 1; i <= 8; i++)
        created = (created << 8) | plain[i];
    out->created = (int64_t)created;
    const unsigned char *r = plain + 9;
    memcpy(out->state, r, KS_OIDC_RANDOM_LEN);
    memcpy(out->nonce, r + KS_OIDC_RANDOM_LEN, KS_OIDC_RANDOM_LEN);
    memcpy(out->verifier, r + 2 * KS_OIDC_RANDOM_LEN, KS_OIDC_RANDOM_LEN);
    size_t uri_len = n - PLAIN_FIXED;
    memcpy(out->redirect_uri, plain + PLAIN_FIXED, uri_len);
    out->redirect_uri[uri_len] = '\0';
    if (strlen(out->redirect_uri) != uri_len)
        goto out; /* a NUL inside: not ours */
    if (out->created > now + FUTURE_SLACK || now - out->created > KS_OIDC_PENDING_SECONDS) {
        rc = KS_ERR_GONE;
        goto out;
    }
    rc = KS_OK;
out:
    sodium_memzero(plain, sizeof plain);
    if (rc != KS_OK)
        sodium_memzero(out, sizeof *out);
    return rc;
}

int ks_oidc_pending_state_matches(const ks_oidc_pending *p, const char *state_param)
{
    char expected[KS_OIDC_TEXT_MAX];
    ks_oidc_pending_text(p->state, expected);
    size_t len = strlen(expected);
    int ok = state_param && strlen(state_param) == len && sodium_memcmp(expected, state_param, len) == 0;
    sodium_memzero(expected, sizeof expected);
    return ok;
}

void ks_oidc_used_init(ks_oidc_used *u)
{
    pthread_mutex_init(&u->lock, NULL);
    memset(u->entries, 0, sizeof u->entries);
}

void ks_oidc_used_destroy(ks_oidc_used *u)
{
    pthread_mutex_destroy(&u->lock);
}

int ks_oidc_used_claim(ks_oidc_used *u, const ks_oidc_pending *p, int64_t now)
{
    int rc = KS_ERR_RATE_LIMITED;
    size_t free_slot = KS_OIDC_USED_MAX;
    pthread_mutex_lock(&u->lock);
    for (size_t i = 0; i < KS_OIDC_USED_MAX; i++) {
        struct ks_oidc_used_entry *e = &u->entries[i];
        if (e->expires != 0 && e->expires < now)
            e->expires = 0; /* that state cannot open any more: forget it */
        if (e->expires == 0) {
            if (free_slot == KS_OIDC_USED_MAX)
                free_slot = i;
        } else if (sodium_memcmp(e->state, p->state, KS_OIDC_RANDOM_LEN) == 0) {
            rc = KS_ERR_GONE;
            goto out;
        }
    }
    if (free_slot < KS_OIDC_USED_MAX) {
        memcpy(u->entries[free_slot].state, p->state, KS_OIDC_RANDOM_LEN);
        /* the pending state opens until created + KS_OIDC_PENDING_SECONDS */
        u->entries[free_slot].expires = p->created + KS_OIDC_PENDING_SECONDS + 1;
        rc = KS_OK;
    }
out:
    pthread_mutex_unlock(&u->lock);
    return rc;
}
