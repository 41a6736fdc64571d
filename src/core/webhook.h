/*
 * webhook.h - the webhook events and how a delivery is signed (API.md
 * "Rotation on autopilot"), as pure functions.
 *
 * Events: one table of the types a webhook may subscribe to, plus
 * "webhook.test", which only the "send test event" call raises, for one
 * webhook whatever it subscribes to.
 *
 * Signing follows Standard Webhooks (standardwebhooks.com): the secret is
 * "whsec_" + base64 of random bytes; a delivery carries webhook-id,
 * webhook-timestamp (Unix seconds) and webhook-signature
 * "v1,<base64 of HMAC-SHA256 over id.timestamp.body under the decoded
 * secret>". The HMAC and the base64 are libsodium's.
 *
 * Errors: KS_ERR_INVALID for a malformed secret or a too small buffer.
 */
#ifndef KS_CORE_WEBHOOK_H
#define KS_CORE_WEBHOOK_H

#include "core/model.h"

#include <stddef.h>
#include <stdint.h>

#define KS_EVENT_TEST "webhook.test"
#define KS_WEBHOOK_SECRET_LEN 32        /* random bytes of a new secret */
#define KS_WEBHOOK_SECRET_BYTES_MAX 64  /* longest decoded secret accepted */
#define KS_WEBHOOK_SECRET_TEXT_MAX 96   /* "whsec_" + base64 of 64 bytes + NUL */
#define KS_WEBHOOK_SIGNATURE_MAX 48     /* "v1," + 44 base64 chars + NUL */
#define KS_WEBHOOK_EVENTS_MAX 16        /* event types in one subscription */

/* The event types a webhook may subscribe to; *n receives their count. */
const char *const *ks_event_types(size_t *n);

/* 1 when `type` is in that table. */
int ks_event_type_valid(const char *type);

/* Fresh random ids: "wh_" + 20 and "msg_" + 26 lower-case base32 chars. */
void ks_webhook_id_generate(char out[KS_WEBHOOK_ID_MAX + 1]);
void ks_event_id_generate(char out[KS_EVENT_ID_MAX + 1]);

/* 1 when id has the form ks_webhook_id_generate makes. */
int ks_webhook_id_valid(const char *id);

/* "whsec_" + base64 (standard alphabet, padded) of key[0..len). KS_OK or
 * KS_ERR_INVALID when out (outlen bytes) is too small. */
int ks_webhook_secret_encode(const unsigned char *key, size_t len, char *out, size_t outlen);

/* The bytes of a "whsec_..." text into out (at most max), *len set. KS_OK
 * or KS_ERR_INVALID (no prefix, bad base64, empty, longer than max). */
int ks_webhook_secret_decode(const char *text, unsigned char *out, size_t max, size_t *len);

/* The webhook-signature value of a delivery: "v1," + base64 of
 * HMAC-SHA256(key, msg_id "." timestamp "." body). KS_OK, or
 * KS_ERR_INVALID for an empty key or id. */
__attribute__((warn_unused_result))
int ks_webhook_sign(const unsigned char *key, size_t key_len, const char *msg_id, int64_t timestamp,
                    const char *body, size_t body_len, char out[KS_WEBHOOK_SIGNATURE_MAX]);

/* The retry schedule: the delay in seconds before attempt number
 * `attempts` + 1 after `attempts` failed ones: 5 s doubling up to an hour,
 * then cut to a random point in its upper half (jitter, from `random01`
 * in [0, 1)), so receivers coming back are not hit by every sender at once. */
int64_t ks_webhook_retry_delay(int attempts, double random01);

#define KS_WEBHOOK_RETRY_SECONDS (24 * 3600) /* retried this long after the event */

#endif
