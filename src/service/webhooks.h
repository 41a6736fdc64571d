/*
 * webhooks.h - webhooks of an account (API.md "Rotation on autopilot"):
 * managing them, their deliveries, test events, and the delivery worker.
 *
 * A webhook's signing secret ("whsec_" + base64 of 32 random bytes) is
 * shown once, in the create answer; the store keeps it sealed (libsodium
 * secretbox under a key derived from the server secret), since the worker
 * must read it to sign. Events reach the outbox in the transaction of the
 * write that raised them (events.h); the worker (webhook_worker.c) sends
 * them: libcurl multi, at most KS_WEBHOOK_IN_FLIGHT at once, 10 s per
 * attempt, retried with exponential backoff and jitter for 24 h
 * (core/webhook.h), at least once. With PostgreSQL each delivery is taken
 * by one node (store delivery_claim).
 *
 * Targets: http or https URLs of at most 2048 bytes. Operators may forbid
 * address ranges (serve --webhook-deny CIDR): a URL naming a denied address
 * is refused at create and edit, and every connection a delivery makes is
 * checked against the ranges after name resolution (so a name that
 * resolves into one fails that attempt). Nothing is denied by default.
 *
 * Errors: KS_ERR_INVALID (a bad URL or event; the message is the HTTP
 * layer's), KS_ERR_FORBIDDEN (a denied target), KS_ERR_NOT_FOUND, store
 * errors.
 */
#ifndef KS_SERVICE_WEBHOOKS_H
#define KS_SERVICE_WEBHOOKS_H

#include "core/netaddr.h"
#include "core/webhook.h"
#include "service/service.h"

#define KS_WEBHOOK_IN_FLIGHT 16      /* deliveries under way at once, per node */
#define KS_WEBHOOK_TIMEOUT_S 10      /* one attempt */
#define KS_WEBHOOK_LEASE_S 60        /* a claimed delivery is this node's for that long */

/* KS_OK for an http(s) URL with a host, KS_ERR_INVALID otherwise, and
 * KS_ERR_FORBIDDEN when its host is an address in a denied range. */
int ks_service_webhook_url_check(const ks_service *svc, const char *url);

/* Creates a webhook of who->account (enabled) and writes its secret, once,
 * into secret_out. */
int ks_service_webhook_create(ks_service *svc, const ks_actor *who, const char *url, const ks_strlist *events,
                              ks_webhook *out, char secret_out[KS_WEBHOOK_SECRET_TEXT_MAX]);
int ks_service_webhook_list(ks_service *svc, const char *account, ks_webhook **out, size_t *n);
int ks_service_webhook_get(ks_service *svc, const char *account, const char *id, ks_webhook *out);
/* url NULL, events NULL, enabled -1: keep. out gets the webhook after. */
int ks_service_webhook_update(ks_service *svc, const ks_actor *who, const char *id, const char *url,
                              const ks_strlist *events, int enabled, ks_webhook *out);
int ks_service_webhook_delete(ks_service *svc, const ks_actor *who, const char *id);
int ks_service_webhook_deliveries(ks_service *svc, const char *account, const char *id, int64_t before_id,
                                  int limit, ks_delivery_page *out);
/* Queues a "webhook.test" event for this webhook only; its id into id_out. */
int ks_service_webhook_test(ks_service *svc, const ks_actor *who, const char *id,
                            char id_out[KS_EVENT_ID_MAX + 1]);

/* Opens a sealed secret into key (KS_WEBHOOK_SECRET_BYTES_MAX bytes), *len
 * set; KS_ERR_INTERNAL when it does not open (another server secret). */
int ks_service_webhook_secret_open(const ks_service *svc, const unsigned char *sealed, size_t sealed_len,
                                   unsigned char *key, size_t *len);

/* The delivery worker (webhook_worker.c): start after ks_service_init with
 * an index; stop joins it (ks_service_close calls it). wake makes it look
 * at the outbox now (a webhook enabled again: its pending deliveries).
 * notify, after a write with an event, wakes it only when a write of this
 * process queued a delivery since it last looked (store outbox_writes): an
 * event no webhook subscribes to costs no wake-up and no outbox read.
 * Other nodes' rows are found by the worker's once-a-second look. */
int ks_webhook_worker_start(ks_service *svc, const ks_webhook_options *options);
void ks_webhook_worker_stop(ks_service *svc);
void ks_webhook_worker_wake(ks_service *svc);
void ks_webhook_worker_notify(ks_service *svc);

/* The sweeps (sweeper.c): at start and every interval_s seconds, on one
 * node at a time (store sweep_lock): old tokens past their deadline or
 * safe to auto-delete are deleted as Delete Old Token would (actor
 * `system`, audited, token.old_deleted), and renewal notices are raised
 * once per token. ks_service_sweep_once runs one pass (also without the
 * thread); it returns KS_OK or the first store error. */
int ks_sweeper_start(ks_service *svc, int interval_s);
void ks_sweeper_stop(ks_service *svc);
int ks_service_sweep_once(ks_service *svc);

#endif
