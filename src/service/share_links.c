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

int ks_share_seal(const ks_service *svc, const char *token, char id_out[KS_SHARE_ID_MAX], ks_share_record *rec)
{
    unsigned char rnd[ID_BYTES], key[crypto_secretbox_KEYBYTES];
    size_t token_len = strlen(token);
    rec->sealed_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + token_len;
    if (rec->sealed_len > sizeof rec->sealed)
        return KS_ERR_INVALID;
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(id_out, KS_SHARE_ID_MAX, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    link_key(svc, id_out, key);
    randombytes_buf(rec->sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(rec->sealed + crypto_secretbox_NONCEBYTES, (const unsigned char *)token, token_len,
                          rec->sealed, key);
    sodium_memzero(key, sizeof key);
    ks_token_hash(&svc->secret, id_out, strlen(id_out), &rec->id_hash);
    rec->created_at = ks_clock_now();
    rec->expires_at = rec->created_at + KS_SHARE_LIFETIME;
    return KS_OK;
}

int ks_share_store(ks_service *svc, const char *key_id, const ks_share_record *rec)
{
    /* Drop links a week past their expiry now and then; until then a used
     * or expired link answers 410 gone rather than 404. */
    int64_t last = atomic_load(&svc->share_purged_at);
    if (rec->created_at - last >= 60 && atomic_compare_exchange_strong(&svc->share_purged_at, &last, rec->created_at))
        svc->store->ops->share_purge(svc->store, rec->created_at - KS_SHARE_TOMBSTONE);
    return svc->store->ops->share_create(svc->store, &rec->id_hash, key_id, rec->sealed, rec->sealed_len,
                                         rec->created_at, rec->expires_at);
}

int ks_share_create(ks_service *svc, const char *key_id, const char *token, char id_out[KS_SHARE_ID_MAX])
{
    ks_share_record rec;
    int rc = ks_share_seal(svc, token, id_out, &rec);
    if (rc == KS_OK)
        rc = ks_share_store(svc, key_id, &rec);
    ks_share_record_wipe(&rec);
    if (rc != KS_OK)
        sodium_memzero(id_out, KS_SHARE_ID_MAX);
    return rc;
}

void ks_share_record_wipe(ks_share_record *rec)
{
    sodium_memzero(rec, sizeof *rec);
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
