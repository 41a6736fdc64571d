/* sessions.c - web admin sessions (see sessions.h). */
#include "service/sessions.h"
#include "core/clock.h"
#include "core/error.h"
#include "service/people.h"
#include "service/service_internal.h"

#include <sodium.h>
#include <string.h>

#define SESSION_RANDOM_BYTES 32
#define TOUCH_EVERY_SECONDS 60

static void csrf_of(const ks_service *svc, const char *cookie, char out[KS_SESSION_TEXT_MAX])
{
    unsigned char mac[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, svc->secret.bytes, KS_SECRET_LEN, sizeof mac);
    crypto_generichash_update(&st, (const unsigned char *)"csrf", 5); /* domain separation */
    crypto_generichash_update(&st, (const unsigned char *)cookie, strlen(cookie));
    crypto_generichash_final(&st, mac, sizeof mac);
    sodium_bin2base64(out, KS_SESSION_TEXT_MAX, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void cookie_hash(const ks_service *svc, const char *cookie, ks_digest *out)
{
    ks_token_hash(&svc->secret, cookie, strlen(cookie), out);
}

int ks_session_create(ks_service *svc, const char *key_id, const ks_digest *token_hash, int64_t now,
                      char cookie_out[KS_SESSION_TEXT_MAX], char csrf_out[KS_SESSION_TEXT_MAX])
{
    unsigned char rnd[SESSION_RANDOM_BYTES];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(cookie_out, KS_SESSION_TEXT_MAX, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    ks_digest hash;
    cookie_hash(svc, cookie_out, &hash);
    /* Sign-ins are rare: purge sessions past their limits on the way. */
    svc->store->ops->session_purge(svc->store, now - KS_SESSION_IDLE_SECONDS, now - KS_SESSION_MAX_SECONDS);
    int rc = svc->store->ops->session_create(svc->store, &hash, key_id, token_hash, now);
    if (rc != KS_OK) {
        sodium_memzero(cookie_out, KS_SESSION_TEXT_MAX);
        return rc;
    }
    csrf_of(svc, cookie_out, csrf_out);
    return KS_OK;
}

/* A fresh cookie into cookie_out and its keyed hash into *hash; purges
 * the sessions past their limits on the way (sign-ins are rare). */
static void cookie_new(ks_service *svc, int64_t now, char cookie_out[KS_SESSION_TEXT_MAX], ks_digest *hash)
{
    unsigned char rnd[SESSION_RANDOM_BYTES];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2base64(cookie_out, KS_SESSION_TEXT_MAX, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(rnd, sizeof rnd);
    cookie_hash(svc, cookie_out, hash);
    svc->store->ops->session_purge(svc->store, now - KS_SESSION_IDLE_SECONDS, now - KS_SESSION_MAX_SECONDS);
}

int ks_session_create_person_at(ks_service *svc, const char *email, const char *via, const char *address,
                                int64_t now, char cookie_out[KS_SESSION_TEXT_MAX],
                                char csrf_out[KS_SESSION_TEXT_MAX])
{
    char norm[KS_EMAIL_MAX + 1];
    cookie_out[0] = csrf_out[0] = '\0';
    if (!via || (strcmp(via, "session") != 0 && strcmp(via, "oidc") != 0) ||
        ks_email_normalize(email, norm) != KS_OK)
        return KS_ERR_INVALID;
    ks_person person;
    ks_membership *ms = NULL;
    size_t n = 0, active = 0;
    int rc = svc->store->ops->person_get(svc->store, norm, &person);
    if (rc == KS_OK)
        rc = svc->store->ops->person_memberships(svc->store, person.id, &ms, &n);
    for (size_t i = 0; rc == KS_OK && i < n; i++)
        active += ms[i].active != 0;
    int64_t person_id = rc == KS_OK ? person.id : 0;
    sodium_memzero(&person, sizeof person);
    if (rc == KS_OK && active == 0)
        rc = KS_ERR_NOT_FOUND; /* nothing to sign in to */
    ks_digest hash;
    if (rc == KS_OK) {
        cookie_new(svc, now, cookie_out, &hash);
        rc = svc->store->ops->person_session_create(svc->store, &hash, person_id, via, now);
    }
    if (rc == KS_OK) {
        (void)svc->store->ops->person_signed_in(svc->store, person_id, now, strcmp(via, "oidc") == 0);
        char actor[KS_ACTOR_MAX];
        ks_person_actor(norm, actor);
        for (size_t i = 0; i < n; i++) {
            if (!ms[i].active)
                continue;
            ks_actor who = {actor, ms[i].account, via, address};
            ks_audit_entry audit = ks_service_audit_of(&who, "session.create", norm, NULL);
            (void)svc->store->ops->audit_append(svc->store, &audit);
        }
        csrf_of(svc, cookie_out, csrf_out);
    } else {
        sodium_memzero(cookie_out, KS_SESSION_TEXT_MAX);
    }
    ks_memberships_free(ms, n);
    return rc;
}

int ks_session_create_person(ks_service *svc, const char *email, const char *via, int64_t now,
                             char cookie_out[KS_SESSION_TEXT_MAX], char csrf_out[KS_SESSION_TEXT_MAX])
{
    return ks_session_create_person_at(svc, email, via, NULL, now, cookie_out, csrf_out);
}

int ks_session_lookup(ks_service *svc, const char *cookie, int64_t now, ks_session *out)
{
    memset(out, 0, sizeof *out);
    if (!cookie || strlen(cookie) >= KS_SESSION_TEXT_MAX)
        return KS_ERR_UNAUTHENTICATED;
    ks_digest hash;
    ks_session_record rec;
    cookie_hash(svc, cookie, &hash);
    int rc = svc->store->ops->session_get(svc->store, &hash, &rec);
    if (rc == KS_ERR_NOT_FOUND)
        return KS_ERR_UNAUTHENTICATED;
    if (rc != KS_OK)
        return rc;
    /* Ended by age or by idleness: gone for good. A clock behind the
     * sign-in (another node's, a moved test clock) is no reason to end it. */
    if (now - rec.last_seen_at > KS_SESSION_IDLE_SECONDS || now - rec.created_at >= KS_SESSION_MAX_SECONDS) {
        svc->store->ops->session_delete(svc->store, &hash);
        sodium_memzero(&rec, sizeof rec);
        return KS_ERR_UNAUTHENTICATED;
    }
    if (now - rec.last_seen_at > TOUCH_EVERY_SECONDS)
        svc->store->ops->session_touch(svc->store, &hash, now); /* best effort */
    memcpy(out->key_id, rec.key_id, sizeof out->key_id);
    out->token_hash = rec.token_hash;
    out->person_id = rec.person_id;
    memcpy(out->via, rec.via, sizeof out->via);
    sodium_memzero(&rec, sizeof rec);
    csrf_of(svc, cookie, out->csrf);
    return KS_OK;
}

int ks_session_resolve(ks_service *svc, const char *cookie, const char *target, int64_t now, ks_session *out,
                       ks_verify_result *vr)
{
    memset(vr, 0, sizeof *vr);
    vr->slot = KS_SLOT_NONE;
    int rc = ks_session_lookup(svc, cookie, now, out);
    if (rc != KS_OK)
        return rc;
    if (out->person_id)
        return ks_person_resolve(svc, out->person_id, target, vr, out->email);
    ks_token_binding binding = {.token_hash = &out->token_hash, .token_fp = NULL};
    return ks_verify_bound(svc->index, out->key_id, &binding, target, NULL, now, vr);
}

int ks_session_end(ks_service *svc, const char *cookie)
{
    if (!cookie || strlen(cookie) >= KS_SESSION_TEXT_MAX)
        return KS_OK;
    ks_digest hash;
    cookie_hash(svc, cookie, &hash);
    return svc->store->ops->session_delete(svc->store, &hash);
}

int ks_session_csrf_ok(const char *expected, const char *given)
{
    size_t n = strlen(expected);
    return given && strlen(given) == n && sodium_memcmp(expected, given, n) == 0;
}
