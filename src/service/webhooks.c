/*
 * webhooks.c - managing webhooks (webhooks.h): create with a sealed secret
 * shown once, list, edit, delete, deliveries, test events, and the URL
 * checks (libcurl's URL parser, the operator's denied ranges).
 */
#include "service/webhooks.h"
#include "core/clock.h"
#include "core/error.h"
#include "service/events.h"
#include "service/service_internal.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEAL_CONTEXT "kswhsec1" /* crypto_kdf context: 8 bytes */

/* 1 when the socket address sa is in a --webhook-deny range. */
static int deny_contains(const ks_service *svc, const struct sockaddr *sa)
{
    ks_netaddr a;
    ks_netaddr_from_sockaddr(sa, &a);
    return a.family && ks_cidr_list_contains(svc->webhook_options.deny, svc->webhook_options.n_deny, &a);
}

static void seal_key(const ks_service *svc, unsigned char key[crypto_secretbox_KEYBYTES])
{
    crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, 2, SEAL_CONTEXT, svc->secret.bytes);
}

int ks_service_webhook_secret_open(const ks_service *svc, const unsigned char *sealed, size_t sealed_len,
                                   unsigned char *key, size_t *len)
{
    *len = 0;
    size_t over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    if (sealed_len <= over || sealed_len - over > KS_WEBHOOK_SECRET_BYTES_MAX)
        return KS_ERR_INTERNAL;
    unsigned char k[crypto_secretbox_KEYBYTES];
    seal_key(svc, k);
    int ok = crypto_secretbox_open_easy(key, sealed + crypto_secretbox_NONCEBYTES,
                                        sealed_len - crypto_secretbox_NONCEBYTES, sealed, k) == 0;
    sodium_memzero(k, sizeof k);
    if (!ok)
        return KS_ERR_INTERNAL;
    *len = sealed_len - over;
    return KS_OK;
}

/* Seals key[0..len) into w. */
static void secret_seal(const ks_service *svc, const unsigned char *key, size_t len, ks_webhook *w)
{
    unsigned char k[crypto_secretbox_KEYBYTES];
    seal_key(svc, k);
    randombytes_buf(w->sealed_secret, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(w->sealed_secret + crypto_secretbox_NONCEBYTES, key, len, w->sealed_secret, k);
    w->sealed_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    sodium_memzero(k, sizeof k);
}

/* The address in host (an IP literal, IPv6 in brackets or not) as a
 * socket address; 0 when host is a name. */
static int host_address(const char *host, struct sockaddr_storage *out)
{
    char buf[64];
    size_t n = strlen(host);
    if (n >= sizeof buf)
        return 0;
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        memcpy(buf, host, n + 1);
    }
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return 1;
    }
    if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        return 1;
    }
    return 0;
}

int ks_service_webhook_url_check(const ks_service *svc, const char *url)
{
    if (!url || strlen(url) > KS_WEBHOOK_URL_MAX || strlen(url) < 8)
        return KS_ERR_INVALID;
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c >= 0x7F)
            return KS_ERR_INVALID;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL;
    int rc = KS_ERR_INVALID;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host &&
        (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) &&
        curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK) {
        rc = KS_OK;
        struct sockaddr_storage sa;
        if (host_address(host, &sa) &&
            deny_contains(svc, (struct sockaddr *)&sa))
            rc = KS_ERR_FORBIDDEN;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

/* The audit detail of a webhook write: url, events, enabled. */
static char *webhook_detail(const char *url, const ks_strlist *events, int enabled)
{
    json_t *d = json_object();
    if (d && url)
        json_object_set_new(d, "url", json_string(url));
    if (d && events)
        json_object_set_new(d, "events", ks_service_detail_strings(events));
    if (d && enabled >= 0)
        json_object_set_new(d, "enabled", json_boolean(enabled));
    return ks_service_detail_text(d);
}

int ks_service_webhook_create(ks_service *svc, const ks_actor *who, const char *url, const ks_strlist *events,
                              ks_webhook *out, char secret_out[KS_WEBHOOK_SECRET_TEXT_MAX])
{
    memset(out, 0, sizeof *out);
    secret_out[0] = '\0';
    int rc = ks_service_webhook_url_check(svc, url);
    if (rc != KS_OK)
        return rc;
    unsigned char key[KS_WEBHOOK_SECRET_LEN];
    randombytes_buf(key, sizeof key);
    ks_webhook w = {0};
    snprintf(w.account, sizeof w.account, "%s", who->account);
    w.enabled = 1;
    w.created_at = ks_clock_now();
    if (!(w.url = strdup(url)) || ks_strlist_copy(&w.events, events) != KS_OK) {
        ks_webhook_free(&w);
        sodium_memzero(key, sizeof key);
        return KS_ERR_NOMEM;
    }
    secret_seal(svc, key, sizeof key, &w);
    char *detail = webhook_detail(url, events, 1);
    rc = KS_ERR_NAME_TAKEN;
    for (int attempt = 0; detail && attempt < 3 && rc == KS_ERR_NAME_TAKEN; attempt++) {
        ks_webhook_id_generate(w.id);
        ks_audit_entry audit = ks_service_audit_of(who, "webhook.create", w.id, detail);
        rc = svc->store->ops->webhook_create(svc->store, &w, &audit);
    }
    if (!detail)
        rc = KS_ERR_NOMEM;
    free(detail);
    if (rc == KS_OK)
        rc = ks_webhook_secret_encode(key, sizeof key, secret_out, KS_WEBHOOK_SECRET_TEXT_MAX);
    sodium_memzero(key, sizeof key);
    if (rc == KS_OK) {
        *out = w;
        return KS_OK;
    }
    ks_webhook_free(&w);
    return rc;
}

int ks_service_webhook_list(ks_service *svc, const char *account, ks_webhook **out, size_t *n)
{
    return svc->store->ops->webhook_list(svc->store, account, out, n);
}

int ks_service_webhook_get(ks_service *svc, const char *account, const char *id, ks_webhook *out)
{
    if (!ks_webhook_id_valid(id)) {
        memset(out, 0, sizeof *out);
        return KS_ERR_NOT_FOUND;
    }
    return svc->store->ops->webhook_get(svc->store, account, id, out);
}

int ks_service_webhook_update(ks_service *svc, const ks_actor *who, const char *id, const char *url,
                              const ks_strlist *events, int enabled, ks_webhook *out)
{
    memset(out, 0, sizeof *out);
    if (!ks_webhook_id_valid(id))
        return KS_ERR_NOT_FOUND;
    int rc = url ? ks_service_webhook_url_check(svc, url) : KS_OK;
    if (rc != KS_OK)
        return rc;
    char *detail = webhook_detail(url, events, enabled);
    if (!detail)
        return KS_ERR_NOMEM;
    ks_audit_entry audit = ks_service_audit_of(who, "webhook.update", id, detail);
    rc = svc->store->ops->webhook_update(svc->store, who->account, id, url, events, enabled, &audit);
    free(detail);
    if (rc == KS_OK)
        rc = svc->store->ops->webhook_get(svc->store, who->account, id, out);
    if (rc == KS_OK && enabled == 1)
        ks_webhook_worker_wake(svc);
    return rc;
}

int ks_service_webhook_delete(ks_service *svc, const ks_actor *who, const char *id)
{
    if (!ks_webhook_id_valid(id))
        return KS_ERR_NOT_FOUND;
    ks_audit_entry audit = ks_service_audit_of(who, "webhook.delete", id, NULL);
    return svc->store->ops->webhook_delete(svc->store, who->account, id, &audit);
}

int ks_service_webhook_deliveries(ks_service *svc, const char *account, const char *id, int64_t before_id,
                                  int limit, ks_delivery_page *out)
{
    memset(out, 0, sizeof *out);
    ks_webhook w;
    int rc = ks_service_webhook_get(svc, account, id, &w); /* 404 for another account's */
    ks_webhook_free(&w);
    return rc == KS_OK ? svc->store->ops->delivery_list(svc->store, account, id, before_id, limit, out) : rc;
}

int ks_service_webhook_test(ks_service *svc, const ks_actor *who, const char *id,
                            char id_out[KS_EVENT_ID_MAX + 1])
{
    id_out[0] = '\0';
    ks_webhook w;
    int rc = ks_service_webhook_get(svc, who->account, id, &w);
    ks_webhook_free(&w);
    if (rc != KS_OK)
        return rc;
    ks_service_event ev;
    ks_audit_entry audit = ks_service_audit_of(who, "webhook.test", id, NULL);
    if ((rc = ks_service_event_init(&ev, KS_EVENT_TEST, who->account, NULL,
                                    json_pack("{s:s}", "webhook", id), audit.at)) != KS_OK)
        return rc;
    ev.event.webhook_id = id;
    audit.event = &ev.event;
    rc = svc->store->ops->audit_append(svc->store, &audit);
    if (rc == KS_OK) {
        snprintf(id_out, KS_EVENT_ID_MAX + 1, "%s", ev.id);
        ks_webhook_worker_notify(svc);
    }
    ks_service_event_free(&ev);
    return rc;
}
