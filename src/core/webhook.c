/* webhook.c - event types, ids and Standard Webhooks signing (webhook.h). */
#include "core/webhook.h"
#include "core/error.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Every event type of API.md, in its order. */
static const char *const EVENT_TYPES[] = {
    "key.created",
    "key.deleted",
    "key.activated",
    "key.deactivated",
    "token.renewed",
    "token.renewal_undone",
    "token.old_deleted",
    "key.renewal_due",
    "key.renewal_recommended",
    "key.renewal_highly_recommended",
    "token.leaked",
};

const char *const *ks_event_types(size_t *n)
{
    *n = sizeof EVENT_TYPES / sizeof *EVENT_TYPES;
    return EVENT_TYPES;
}

int ks_event_type_valid(const char *type)
{
    for (size_t i = 0; i < sizeof EVENT_TYPES / sizeof *EVENT_TYPES; i++)
        if (strcmp(EVENT_TYPES[i], type) == 0)
            return 1;
    return 0;
}

static const char BASE32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* prefix + n random base32 characters into out. */
static void random_id(const char *prefix, size_t n, char *out)
{
    size_t p = strlen(prefix);
    memcpy(out, prefix, p);
    unsigned char rnd[32]; /* one draw: each byte's low 5 bits are uniform over 32 */
    randombytes_buf(rnd, n);
    for (size_t i = 0; i < n; i++)
        out[p + i] = BASE32[rnd[i] & 31u];
    out[p + n] = '\0';
}

/* A webhook id's random part fits random_id's one draw (an event id's, 26, too). */
_Static_assert(KS_WEBHOOK_ID_MAX - 3 <= 32, "a webhook id's random part fits one draw");

void ks_webhook_id_generate(char out[KS_WEBHOOK_ID_MAX + 1])
{
    random_id("wh_", KS_WEBHOOK_ID_MAX - 3, out);
}

void ks_event_id_generate(char out[KS_EVENT_ID_MAX + 1])
{
    random_id("msg_", 26, out);
}

int ks_webhook_id_valid(const char *id)
{
    if (strncmp(id, "wh_", 3) != 0 || strlen(id) != KS_WEBHOOK_ID_MAX)
        return 0;
    for (const char *c = id + 3; *c; c++)
        if (!strchr(BASE32, *c))
            return 0;
    return 1;
}

int ks_webhook_secret_encode(const unsigned char *key, size_t len, char *out, size_t outlen)
{
    size_t need = 6 + sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    if (len == 0 || outlen < need)
        return KS_ERR_INVALID;
    memcpy(out, "whsec_", 6);
    sodium_bin2base64(out + 6, outlen - 6, key, len, sodium_base64_VARIANT_ORIGINAL);
    return KS_OK;
}

int ks_webhook_secret_decode(const char *text, unsigned char *out, size_t max, size_t *len)
{
    *len = 0;
    if (strncmp(text, "whsec_", 6) != 0)
        return KS_ERR_INVALID;
    const char *b64 = text + 6, *end = NULL;
    size_t n = 0;
    if (sodium_base642bin(out, max, b64, strlen(b64), NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        *end != '\0' || n == 0)
        return KS_ERR_INVALID;
    *len = n;
    return KS_OK;
}

int ks_webhook_sign(const unsigned char *key, size_t key_len, const char *msg_id, int64_t timestamp,
                    const char *body, size_t body_len, char out[KS_WEBHOOK_SIGNATURE_MAX])
{
    out[0] = '\0';
    if (key_len == 0 || !msg_id || !*msg_id)
        return KS_ERR_INVALID;
    char ts[24];
    snprintf(ts, sizeof ts, "%" PRId64, timestamp);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, KS_WEBHOOK_SIGNATURE_MAX - 3, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(&st, sizeof st);
    return KS_OK;
}

int64_t ks_webhook_retry_delay(int attempts, double random01)
{
    int64_t delay = 5;
    for (int i = 1; i < attempts && delay < 3600; i++)
        delay *= 2;
    if (delay > 3600)
        delay = 3600;
    if (random01 < 0 || random01 >= 1)
        random01 = 0;
    return delay / 2 + (int64_t)((double)(delay - delay / 2) * random01);
}
