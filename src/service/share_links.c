/* share_links.c - one-time token links (see share_links.h). */
#include "service/share_links.h"
#include "core/clock.h"
#include "core/error.h"

#include <sodium.h>
#include <string.h>

#define ID_BYTES 32

/* The sealing key of one link: keyed BLAKE2b(server secret, "share" || id). */
static void link_key(const ks_service *svc, const char *id, unsigned char key[crypto_secretbox_KEYBYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, svc->secret.bytes, KS_SECRET_LEN, crypto_secretbox_KEYBYTES);
    crypto_generichash_update(&st, (const unsigned char *)"share", 6);
    crypto_generichash_update(&st, (const unsigned char *)id, strlen(id));
    crypto_generichash_final(&st, key, crypto_secretbox_KEYBYTES);
}

int ks_share_create(ks_service *svc, const char *key_id, const char *token, char id_out[KS_SHARE_ID_MAX])
{
    unsigned char rnd[ID_BYTES], key[crypto_secretbox_KEYBYTES], sealed[KS_SEALED_MAX];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(id_out, KS_SHARE_ID_MAX, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    size_t token_len = strlen(token);
    size_t sealed_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + token_len;
    if (sealed_len > sizeof sealed)
        return KS_ERR_INVALID;
    link_key(svc, id_out, key);
    randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, (const unsigned char *)token, token_len, sealed, key);
    sodium_memzero(key, sizeof key);
    ks_digest hash;
    ks_token_hash(&svc->secret, id_out, strlen(id_out), &hash);
    int64_t now = ks_clock_now();
    /* Drop links a week past their expiry on the way; until then a used or
     * expired link answers 410 gone rather than 404. */
    svc->store->ops->share_purge(svc->store, now - KS_SHARE_TOMBSTONE);
    int rc = svc->store->ops->share_create(svc->store, &hash, key_id, sealed, sealed_len, now, now + KS_SHARE_LIFETIME);
    if (rc != KS_OK)
        sodium_memzero(id_out, KS_SHARE_ID_MAX);
    return rc;
}

int ks_share_reveal(ks_service *svc, const char *id, char key_out[KS_KEY_ID_MAX + 1],
                    char token_out[KS_TOKEN_LEN + 1])
{
    if (!id || strlen(id) >= KS_SHARE_ID_MAX)
        return KS_ERR_NOT_FOUND;
    ks_digest hash;
    unsigned char sealed[KS_SEALED_MAX], key[crypto_secretbox_KEYBYTES];
    size_t sealed_len = 0;
    ks_token_hash(&svc->secret, id, strlen(id), &hash);
    int rc = svc->store->ops->share_take(svc->store, &hash, ks_clock_now(), key_out, sealed, &sealed_len);
    if (rc != KS_OK)
        return rc;
    size_t plain_len = sealed_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    link_key(svc, id, key);
    if (sealed_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES || plain_len != KS_TOKEN_LEN ||
        crypto_secretbox_open_easy((unsigned char *)token_out, sealed + crypto_secretbox_NONCEBYTES,
                                   sealed_len - crypto_secretbox_NONCEBYTES, sealed, key) != 0)
        rc = KS_ERR_INTERNAL;
    else
        token_out[KS_TOKEN_LEN] = '\0';
    sodium_memzero(key, sizeof key);
    sodium_memzero(sealed, sizeof sealed);
    return rc;
}
