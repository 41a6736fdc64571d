/*
 * usage.h - verifies counted per key, per minute and by outcome (API.md
 * "Per-key limits and usage"), in per-thread memory, written to the
 * store's hour and day tables with the last-used flush.
 *
 * Verify counts with ks_usage_count_verify: an answer of valid, the bulk
 * of them, in the key's index entry (a collection takes those too); any
 * other outcome, like ks_usage_count, in the calling thread's own table: no
 * lock, no allocation after the thread's first count, no shared cache
 * line. Each thread has two tables; a count
 * runs inside an epoch read section of the index (index/epoch.h): verify's
 * own (ks_usage_count_in_section), or one of its own (ks_usage_count). A collection swaps every
 * thread's active table for its empty spare (an atomic pointer exchange),
 * waits one grace period (every section that could still count into an old
 * table has ended), then owns the old tables alone: they are read, cleared
 * and kept as the next spares. A count that
 * finds its table full (more than KS_USAGE_CELLS distinct keys and minutes
 * in one flush interval) goes to a shared overflow list under a mutex, so
 * nothing is ever dropped.
 *
 * ks_usage_flush collects and writes everything counted so far (one store
 * transaction); the flusher calls it with the last-used flush, a read of
 * usage calls it first (so a read includes what this node has not written
 * yet), and the service's close calls it last: after a clean stop the
 * counts in the store are exact.
 */
#ifndef KS_SERVICE_USAGE_H
#define KS_SERVICE_USAGE_H

#include "index/key_index.h"
#include "service/service.h"
#include "verify/verify.h"

/* (key, minute) cells per thread table: 16 MB of 64-byte cells, 7.5 MB for
 * the rest of ids over 26 bytes and 512 KB of tags, all of it address space
 * until used (about 64 bytes of memory per key and minute counted); two per
 * counting thread. Enough for 190,000 keys a minute per thread between two
 * flushes (SQLite's every 60 s) before counts go to the slower overflow. */
#define KS_USAGE_CELLS 262144
#define KS_USAGE_PROBES 32   /* cells looked at before a count goes to the overflow */
#define KS_USAGE_HOURS_KEPT_DAYS 35 /* hour rows are pruned by the sweeps after 35 days */
#define KS_USAGE_DAYS_KEPT 400      /* day rows after 400 days */

/* The outcome a verify of a known key is counted under; -1 for a reason
 * that is not counted (no key: missing, malformed, unknown). */
int ks_usage_outcome_of(ks_verify_reason reason);

/* The outcome names of API.md, in KS_USAGE_* order. */
extern const char *const KS_USAGE_OUTCOME_NAMES[KS_USAGE_OUTCOMES];

/* Counts one verify of key_id (key_len bytes) at Unix time `now` under
 * `outcome` (0..KS_USAGE_OUTCOMES-1). Never fails (out of memory on a
 * thread's first count: into the overflow list). */
void ks_usage_count(ks_service *svc, const char *key_id, size_t key_len, int outcome, int64_t now);
/* The same from inside an epoch read section (ks_index_read_lock, as
 * verify's answer holds it while it reads the key): no section of its own.
 * The caller's section is what a collection waits for. */
void ks_usage_count_in_section(ks_service *svc, const char *key_id, size_t key_len, int outcome, int64_t now);

/* Counts verify's answer for the key it found (inside verify's read
 * section, with the entry it read): a valid one in the entry itself
 * (index/key_index.h "Valid uses": one atomic add on a line the check has
 * just read), any other outcome as ks_usage_count_in_section. */
void ks_usage_count_verify(ks_service *svc, const ks_index_key *key, int outcome, int64_t now);

/* Writes everything counted so far to the store (usage_add). On failure
 * the counts are kept for the next flush. KS_OK or the store's error. */
int ks_usage_flush(ks_service *svc);

/* Sets up / frees the counters of svc (ks_service_init / close). */
int ks_usage_init(ks_service *svc);
void ks_usage_free(ks_service *svc);

#endif
