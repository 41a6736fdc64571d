/*
 * service_internal.h - what the files of the service share (service.c,
 * audit.c, flusher.c, group_commit.c). Not for use outside src/service/.
 */
#ifndef KS_SERVICE_SERVICE_INTERNAL_H
#define KS_SERVICE_SERVICE_INTERNAL_H

#include "service/service.h"
#include "service/share_links.h"

#include <jansson.h>

/* ---- audit.c ---- */
/* The audit entry of an action by `who` now (detail NULL = "{}"); points
 * into its arguments. */
ks_audit_entry ks_service_audit_of(const ks_actor *who, const char *action, const char *target,
                                   const char *detail);
/* Serialises a JSON detail object (stealing the reference) into malloc
 * memory, keys sorted; NULL on NOMEM (also for detail NULL). */
char *ks_service_detail_text(json_t *detail);
/* A JSON array of the strings of `list` (NULL: empty); NULL on NOMEM. */
json_t *ks_service_detail_strings(const ks_strlist *list);

/* ---- service.c ---- */
/* After a write that read `key` back from the store (rc: how that went):
 * puts it into the index, then hands it to out, with this node's last-used
 * times, or frees it. Returns rc, or the index's NOMEM (under write_lock). */
int ks_service_index_publish_key(ks_service *svc, ks_key *key, int rc, ks_key *out);

/* ---- flusher.c ---- */
/* Stops the flusher thread if it runs (it writes nothing more). */
void ks_service_flusher_stop(ks_service *svc);

/* ---- group_commit.c ---- */
/* One token-slot transition of key_id in who's account, with its audit
 * entry (action, detail) and, when share is set, a share link written in
 * the same transaction (*share_rc: how that went). Acknowledged once
 * durable: concurrent calls are group-committed, the first waiting thread
 * running the queued writes as one batch while the next ones queue up
 * behind it. KS_OK with the key as written in *out, or the store's error
 * (then nothing of it reached the index). */
int ks_service_slots_change(ks_service *svc, const ks_actor *who, const char *key_id, const ks_slot_change *change,
                            const char *action, const char *detail, const ks_event *event, ks_key *out,
                            const ks_share_record *share, int *share_rc);

/* One write of a batch (group_commit.c), for callers that make many at once
 * (the sweeps): init fills it (the audit entry at the clock's now, carrying
 * event), then chain them by `next` and run them with
 * ks_service_slot_batch_run: store (which applies core/token_slots), all in
 * one transaction made durable by one commit when the store can, then the
 * index, in that order, under write_lock. A failed commit fails every write
 * of the batch, and then none reaches the index. Each write's rc is its
 * outcome. */
typedef struct ks_slot_write ks_slot_write;
struct ks_slot_write {
    const ks_actor *who;
    const char *key_id;
    ks_slot_change change;
    ks_audit_entry audit;
    ks_key *out;
    ks_key after;               /* the key as the store has it after the write */
    const ks_share_record *share; /* a link to write with it, or NULL */
    int rc;
    int share_rc;               /* of writing `share` */
    int done;                   /* under group_lock: rc and out are final */
    struct ks_slot_write *next;
};
void ks_service_slot_write_init(ks_slot_write *w, const ks_actor *who, const char *key_id,
                                const ks_slot_change *change, const char *action, const char *detail,
                                const ks_event *event, ks_key *out);
void ks_service_slot_batch_run(ks_service *svc, ks_slot_write *batch);

#endif
