/* jwt.c - EdDSA JWTs with libsodium (signatures, base64url) and jansson (JSON). */
#include "core/jwt.h"
#include "core/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define FP_BYTES 16
/* The BLAKE2b key of token fingerprints: only separates them from every
 * other hash of a token digest (the digest itself is keyed with the secret). */
static const char FP_DOMAIN[] = "keystile login token binding v1";

void ks_jwt_token_fingerprint(const ks_digest *token_hash, char out[KS_JWT_FP_LEN + 1])
{
    unsigned char fp[FP_BYTES];
    crypto_generichash(fp, sizeof fp, token_hash->bytes, KS_DIGEST_LEN, (const unsigned char *)FP_DOMAIN,
                       sizeof FP_DOMAIN - 1);
    sodium_bin2base64(out, KS_JWT_FP_LEN + 1, fp, sizeof fp, B64);
    sodium_memzero(fp, sizeof fp);
}

void ks_signing_key_generate(ks_signing_key *key, int64_t now)
{
    memset(key, 0, sizeof *key);
    crypto_sign_keypair(key->public_key, key->secret_key);
    unsigned char rnd[KS_JWT_KID_LEN / 2];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(key->kid, sizeof key->kid, rnd, sizeof rnd);
    key->created_at = now;
}

/* base64url of a JSON object (stealing it); malloc'd, NULL on NOMEM. */
static char *encode_json(json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(obj);
    if (!text)
        return NULL;
    size_t len = strlen(text);
    char *out = malloc(sodium_base64_ENCODED_LEN(len, B64));
    if (out)
        sodium_bin2base64(out, sodium_base64_ENCODED_LEN(len, B64), (const unsigned char *)text, len, B64);
    json_free_t json_free_fn;
    json_get_alloc_funcs(NULL, &json_free_fn);
    json_free_fn(text);
    return out;
}

int ks_jwt_sign(const ks_signing_key *key, const char *key_id, const char *account,
                const ks_strlist *roles, const char *token_fp, int64_t now, char **out)
{
    unsigned char jti_raw[16];
    char jti[33];
    randombytes_buf(jti_raw, sizeof jti_raw);
    sodium_bin2hex(jti, sizeof jti, jti_raw, sizeof jti_raw);
    json_t *role_arr = json_array();
    for (size_t i = 0; role_arr && i < roles->count; i++)
        json_array_append_new(role_arr, json_string(roles->items[i]));
    char *header = encode_json(json_pack("{s:s, s:s, s:s}", "alg", "EdDSA", "typ", "JWT", "kid", key->kid));
    char *payload = encode_json(json_pack("{s:s, s:s, s:o, s:I, s:I, s:s, s:s}", "sub", key_id, "account", account,
                                          "roles", role_arr, "iat", (json_int_t)now,
                                          "exp", (json_int_t)(now + KS_JWT_LIFETIME), "jti", jti,
                                          "tfp", token_fp));
    int rc = KS_ERR_NOMEM;
    if (header && payload) {
        size_t signed_len = strlen(header) + 1 + strlen(payload);
        size_t sig_len = sodium_base64_ENCODED_LEN(crypto_sign_BYTES, B64);
        char *jwt = malloc(signed_len + 1 + sig_len);
        if (jwt) {
            snprintf(jwt, signed_len + 1, "%s.%s", header, payload);
            unsigned char sig[crypto_sign_BYTES];
            crypto_sign_detached(sig, NULL, (const unsigned char *)jwt, signed_len, key->secret_key);
            jwt[signed_len] = '.';
            sodium_bin2base64(jwt + signed_len + 1, sig_len, sig, sizeof sig, B64);
            *out = jwt;
            rc = KS_OK;
        }
    }
    free(header);
    free(payload);
    return rc;
}

/* Decodes one base64url part into a JSON object; NULL when invalid. */
static json_t *decode_json(const char *part, size_t len)
{
    unsigned char buf[KS_JWT_MAX];
    size_t n;
    if (sodium_base642bin(buf, sizeof buf - 1, part, len, NULL, &n, NULL, B64) != 0)
        return NULL;
    json_t *obj = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

int ks_jwt_verify(const char *jwt, size_t len, const ks_signing_key *keys, size_t n_keys,
                  int64_t now, ks_jwt_claims *claims)
{
    memset(claims, 0, sizeof *claims);
    if (len == 0 || len > KS_JWT_MAX)
        return KS_ERR_UNAUTHENTICATED;
    /* Only the base64url alphabet and dots: libsodium 1.0.18 decodes bytes
     * 0x80-0xFF like '_', which would give one token many spellings. */
    for (size_t i = 0; i < len; i++) {
        char c = jwt[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return KS_ERR_UNAUTHENTICATED;
    }
    const char *dot1 = memchr(jwt, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt)) : NULL;
    if (!dot1 || !dot2)
        return KS_ERR_UNAUTHENTICATED;
    unsigned char sig[crypto_sign_BYTES];
    size_t sig_len;
    const char *sig_text = dot2 + 1;
    if (sodium_base642bin(sig, sizeof sig, sig_text, len - (size_t)(sig_text - jwt), NULL, &sig_len, NULL, B64) != 0 ||
        sig_len != sizeof sig)
        return KS_ERR_UNAUTHENTICATED;
    int rc = KS_ERR_UNAUTHENTICATED;
    json_t *header = decode_json(jwt, (size_t)(dot1 - jwt));
    json_t *payload = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    const ks_signing_key *key = NULL;
    for (size_t i = 0; kid && i < n_keys && !key; i++)
        if (strcmp(keys[i].kid, kid) == 0)
            key = &keys[i];
    /* A retired key verifies nothing once every token it signed has expired. */
    if (!header || !payload || !alg || strcmp(alg, "EdDSA") != 0 || !key ||
        (key->retired_at != 0 && now - KS_JWT_LIFETIME >= key->retired_at) ||
        crypto_sign_verify_detached(sig, (const unsigned char *)jwt, (size_t)(dot2 - jwt), key->public_key) != 0)
        goto out;
    const char *sub = json_string_value(json_object_get(payload, "sub"));
    const char *account = json_string_value(json_object_get(payload, "account"));
    const char *tfp = json_string_value(json_object_get(payload, "tfp"));
    json_t *exp = json_object_get(payload, "exp"), *iat = json_object_get(payload, "iat");
    if (!sub || !account || !tfp || !json_is_integer(exp) || !json_is_integer(iat) ||
        strlen(sub) > KS_KEY_ID_MAX || strlen(account) > KS_ACCOUNT_MAX || strlen(tfp) != KS_JWT_FP_LEN)
        goto out;
    claims->exp = json_integer_value(exp);
    claims->iat = json_integer_value(iat);
    /* exp > now by then, so exp - KS_JWT_LIFETIME cannot overflow (iat - exp could). */
    if (claims->iat >= claims->exp || claims->iat > now + KS_JWT_MAX_SKEW || now >= claims->exp ||
        claims->iat < claims->exp - KS_JWT_LIFETIME)
        goto out;
    snprintf(claims->sub, sizeof claims->sub, "%s", sub);
    snprintf(claims->account, sizeof claims->account, "%s", account);
    memcpy(claims->token_fp, tfp, KS_JWT_FP_LEN + 1);
    rc = KS_OK;
out:
    json_decref(header);
    json_decref(payload);
    return rc;
}

void *ks_jwk_of(const ks_signing_key *key)
{
    char x[sodium_base64_ENCODED_LEN(crypto_sign_PUBLICKEYBYTES, B64)];
    sodium_bin2base64(x, sizeof x, key->public_key, sizeof key->public_key, B64);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", x,
                     "kid", key->kid, "alg", "EdDSA", "use", "sig");
}
