/*
 * dormant.c - the sweep of keys nobody uses any more (API.md "Per-key
 * limits and usage", settings deactivate_unused_days): a key none of whose
 * tokens verified for that many days (from its creation when none ever
 * did) is deactivated by `system`, audited as any key.update and raising
 * key.deactivated. A key whose deactivation would leave its account
 * without an active Owner is kept: that is logged and audited
 * (key.deactivate_skipped) once per key per process, not at every sweep.
 */
#include "service/dormant.h"
#include "core/error.h"
#include "log/log.h"
#include "service/service_internal.h"

#include <stdlib.h>
#include <string.h>

#define DORMANT_BATCH 500
#define SKIPPED_MAX 1024 /* keys whose skip was audited (then logged at most once more per restart) */

static pthread_mutex_t skipped_lock = PTHREAD_MUTEX_INITIALIZER;
static char skipped[SKIPPED_MAX][KS_KEY_ID_MAX + 1];
static size_t n_skipped;

/* 1 the first time key_id is reported as skipped (in this process). */
static int first_skip(const char *key_id)
{
    pthread_mutex_lock(&skipped_lock);
    int first = 1;
    for (size_t i = 0; i < n_skipped && first; i++)
        first = strcmp(skipped[i], key_id) != 0;
    if (first && n_skipped < SKIPPED_MAX)
        memcpy(skipped[n_skipped++], key_id, strnlen(key_id, KS_KEY_ID_MAX) + 1);
    pthread_mutex_unlock(&skipped_lock);
    return first;
}

int ks_service_sweep_dormant(ks_service *svc, int64_t now, size_t *deactivated, int *full)
{
    *deactivated = 0;
    ks_unused_due *due = NULL;
    size_t n = 0;
    int rc = svc->store->ops->unused_keys_due(svc->store, now, DORMANT_BATCH, &due, &n);
    *full = rc == KS_OK && n == DORMANT_BATCH;
    for (size_t i = 0; rc == KS_OK && i < n; i++) {
        ks_actor who = {"system", due[i].account, "system", NULL};
        ks_key_patch off = {.status = KS_KEY_INACTIVE};
        ks_key after = {0};
        int one = ks_service_key_update(svc, &who, due[i].key_id, &off, &after);
        ks_key_free(&after);
        if (one == KS_OK) {
            (*deactivated)++;
            ks_log("info", "key deactivated: unused", "{s:s, s:s, s:i}", "account", due[i].account, "key",
                   due[i].key_id, "days", due[i].days);
        } else if (one == KS_ERR_LAST_OWNER) {
            if (!first_skip(due[i].key_id))
                continue;
            ks_log("warn", "unused key kept: it is the account's last active Owner", "{s:s, s:s, s:i}", "account",
                   due[i].account, "key", due[i].key_id, "days", due[i].days);
            char *detail = ks_service_detail_text(json_pack("{s:s, s:i}", "reason", "last_owner",
                                                            "deactivate_unused_days", due[i].days));
            ks_audit_entry audit = ks_service_audit_of(&who, "key.deactivate_skipped", due[i].key_id, detail);
            if (svc->store->ops->audit_append(svc->store, &audit) != KS_OK)
                ks_log("warn", "could not audit a kept unused key", NULL);
            free(detail);
        } else if (one != KS_ERR_NOT_FOUND) {
            rc = one; /* the store: the next sweep tries again */
        }
    }
    free(due);
    return rc;
}
