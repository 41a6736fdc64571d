/*
 * change_feed.h - the follower of the store's change log: how one node
 * learns of the writes of the others sharing its PostgreSQL database.
 *
 * A thread per node: it asks the store for changes past the last one it
 * applied (changes_since: the poll of the change sequence is the truth),
 * reloads what each names into the verify index (a key, an account, its
 * keys, the login signing keys) under the service's write lock, then waits
 * for the database's notification of a new change (LISTEN/NOTIFY, the
 * wake-up) or at most KS_FEED_POLL_MS, so a lost notification costs well
 * under a second. Own writes come back too: reloading is idempotent, and it
 * repairs the index after a write whose commit outcome a broken connection
 * hid.
 *
 * When the store cannot be reached the node is degraded: verify keeps
 * answering from memory, /healthz says so (ks_change_feed_degraded), writes
 * fail with KS_ERR_STORAGE; the follower keeps trying, and when the database
 * is back it catches up from where it stopped. Past --max-staleness without
 * the store the node is stale (ks_change_feed_stale): verify stops answering
 * from memory (503) until the follower has caught up again. With a store without a feed
 * (SQLite) nothing starts and the node is never degraded.
 */
#ifndef KS_SERVICE_CHANGE_FEED_H
#define KS_SERVICE_CHANGE_FEED_H

#include "service/service.h"

#define KS_FEED_POLL_MS 400            /* longest wait between two polls */
#define KS_FEED_COMPACT_SECONDS 600    /* how often a node compacts the change log */

/* Starts the follower thread when the store has a change feed (else does
 * nothing). Call after ks_service_init with an index. KS_OK or
 * KS_ERR_INTERNAL (no thread). */
int ks_change_feed_start(ks_service *svc);

/* Stops and joins the follower (no-op when none runs). */
void ks_change_feed_stop(ks_service *svc);

/* Applies every change committed so far (the follower's step; also usable
 * without the thread). KS_OK, or the store's error (the changes not applied
 * are retried by the next call). */
int ks_change_feed_catch_up(ks_service *svc);

/* 1 while the follower cannot reach the store. */
int ks_change_feed_degraded(const ks_service *svc);

/* Stale: with svc->max_staleness_ms set (--max-staleness, PostgreSQL),
 * 1 when the follower has not completed a poll of the store for longer
 * than that at monotonic time `now` (seconds, ks_clock_monotonic): the
 * index may miss revocations made on other nodes for that long, so verify
 * answers 503 and /healthz 503 stale. Measured at the time of asking, so a
 * follower stuck inside a call to the store does not hide it. 0 without a
 * follower. One atomic load when no limit is set. */
int ks_change_feed_stale(const ks_service *svc, double now);

#endif
