/*
 * test_webhook.c - Standard Webhooks signing (core/webhook.h) against the
 * reference vector of the Standard Webhooks specification, the secret
 * format, ids, the event table and the retry schedule.
 */
#include "core/error.h"
#include "core/webhook.h"
#include "unit.h"

#include <sodium.h>
#include <string.h>

/* The reference vector of standard-webhooks (libraries' test suites). */
#define REF_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define REF_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define REF_TS 1614265330
#define REF_BODY "{\"test\": 2432232314}"
#define REF_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void test_reference_vector(void)
{
    unsigned char key[KS_WEBHOOK_SECRET_BYTES_MAX];
    size_t len;
    ASSERT_EQ_INT(ks_webhook_secret_decode(REF_SECRET, key, sizeof key, &len), KS_OK);
    ASSERT_EQ_INT(len, 24);
    char sig[KS_WEBHOOK_SIGNATURE_MAX];
    ASSERT_EQ_INT(ks_webhook_sign(key, len, REF_ID, REF_TS, REF_BODY, strlen(REF_BODY), sig), KS_OK);
    ASSERT_EQ_STR(sig, REF_SIG);
    /* Any change to id, timestamp or body changes the signature. */
    ASSERT_EQ_INT(ks_webhook_sign(key, len, REF_ID, REF_TS + 1, REF_BODY, strlen(REF_BODY), sig), KS_OK);
    ASSERT(strcmp(sig, REF_SIG) != 0);
    ASSERT_EQ_INT(ks_webhook_sign(key, len, "msg_other", REF_TS, REF_BODY, strlen(REF_BODY), sig), KS_OK);
    ASSERT(strcmp(sig, REF_SIG) != 0);
    ASSERT_EQ_INT(ks_webhook_sign(key, len, REF_ID, REF_TS, "{\"test\": 2432232315}", strlen(REF_BODY), sig), KS_OK);
    ASSERT(strcmp(sig, REF_SIG) != 0);
    ASSERT_EQ_INT(ks_webhook_sign(key, 0, REF_ID, REF_TS, REF_BODY, strlen(REF_BODY), sig), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_webhook_sign(key, len, "", REF_TS, REF_BODY, strlen(REF_BODY), sig), KS_ERR_INVALID);
}

static void test_secret_format(void)
{
    unsigned char key[KS_WEBHOOK_SECRET_LEN], back[KS_WEBHOOK_SECRET_BYTES_MAX];
    randombytes_buf(key, sizeof key);
    char text[KS_WEBHOOK_SECRET_TEXT_MAX];
    ASSERT_EQ_INT(ks_webhook_secret_encode(key, sizeof key, text, sizeof text), KS_OK);
    ASSERT_EQ_INT(strncmp(text, "whsec_", 6), 0);
    ASSERT_EQ_INT(strlen(text), 6 + 44);
    size_t len;
    ASSERT_EQ_INT(ks_webhook_secret_decode(text, back, sizeof back, &len), KS_OK);
    ASSERT_EQ_INT(len, sizeof key);
    ASSERT_EQ_INT(memcmp(key, back, len), 0);
    char small[20];
    ASSERT_EQ_INT(ks_webhook_secret_encode(key, sizeof key, small, sizeof small), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_webhook_secret_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", back, sizeof back, &len), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_webhook_secret_decode("whsec_", back, sizeof back, &len), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_webhook_secret_decode("whsec_!!!!", back, sizeof back, &len), KS_ERR_INVALID);
    ASSERT_EQ_INT(ks_webhook_secret_decode(REF_SECRET, back, 8, &len), KS_ERR_INVALID); /* too long for 8 */
}

static void test_ids_and_events(void)
{
    char a[KS_WEBHOOK_ID_MAX + 1], b[KS_WEBHOOK_ID_MAX + 1], m[KS_EVENT_ID_MAX + 1];
    ks_webhook_id_generate(a);
    ks_webhook_id_generate(b);
    ASSERT_EQ_INT(ks_webhook_id_valid(a), 1);
    ASSERT(strcmp(a, b) != 0);
    ASSERT_EQ_INT(ks_webhook_id_valid("wh_short"), 0);
    ASSERT_EQ_INT(ks_webhook_id_valid("xx_aaaaaaaaaaaaaaaaaaaa"), 0);
    ks_event_id_generate(m);
    ASSERT_EQ_INT(strncmp(m, "msg_", 4), 0);
    ASSERT_EQ_INT(strlen(m), 30);
    /* 200 ids, 5,200 draws: every base32 character shows up, only those. */
    int seen[128] = {0}, kinds = 0;
    for (int i = 0; i < 200; i++) {
        ks_event_id_generate(m);
        for (const char *c = m + 4; *c; c++) {
            ASSERT(strchr("abcdefghijklmnopqrstuvwxyz234567", *c) != NULL);
            kinds += !seen[(unsigned char)*c]++;
        }
    }
    ASSERT_EQ_INT(kinds, 32);
    size_t n;
    const char *const *types = ks_event_types(&n);
    ASSERT_EQ_INT(n, 11);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ_INT(ks_event_type_valid(types[i]), 1);
    ASSERT_EQ_INT(ks_event_type_valid("token.leaked"), 1);
    ASSERT_EQ_INT(ks_event_type_valid(KS_EVENT_TEST), 0); /* raised on request only, not subscribed */
    ASSERT_EQ_INT(ks_event_type_valid("key.created "), 0);
}

static void test_retry_schedule(void)
{
    /* 5 s doubling to an hour, each cut to its upper half by the jitter. */
    ASSERT_EQ_INT(ks_webhook_retry_delay(1, 0.0), 2);
    ASSERT_EQ_INT(ks_webhook_retry_delay(1, 0.999), 4);
    ASSERT_EQ_INT(ks_webhook_retry_delay(2, 0.0), 5);
    ASSERT_EQ_INT(ks_webhook_retry_delay(3, 0.0), 10);
    ASSERT_EQ_INT(ks_webhook_retry_delay(30, 0.0), 1800);
    ASSERT_EQ_INT(ks_webhook_retry_delay(30, 0.9999), 3599);
    ASSERT_EQ_INT(ks_webhook_retry_delay(5, 7.0), ks_webhook_retry_delay(5, 0.0)); /* out of range: no jitter */
    int64_t total = 0;
    int attempts = 0;
    while (total < KS_WEBHOOK_RETRY_SECONDS)
        total += ks_webhook_retry_delay(++attempts, 0.5);
    ASSERT(attempts > 20 && attempts < 60); /* a day of retries is a few dozen attempts */
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(test_reference_vector);
    RUN(test_secret_format);
    RUN(test_ids_and_events);
    RUN(test_retry_schedule);
    return unit_report("webhook");
}
