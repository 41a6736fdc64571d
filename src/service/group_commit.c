/*
 * group_commit.c - token-slot writes (renew, delete old token, undo
 * renewal) made durable in batches: writes that arrive while one batch
 * syncs form the next batch, and the whole batch takes one commit (one
 * fsync) when the store can batch. See service_internal.h.
 */
#include "service/service_internal.h"
#include "core/error.h"
#include "service/share_links.h"

#include <string.h>


#define GROUP_MAX 64 /* writes per batch */

void ks_service_slot_batch_run(ks_service *svc, ks_slot_write *batch)
{
    ks_store *st = svc->store;
    pthread_mutex_lock(&svc->write_lock);
    /* A batch also when alone with a share link: one commit for both. */
    int grouped = (batch->next || batch->share) && st->ops->batch_begin && st->ops->batch_begin(st) == KS_OK;
    for (ks_slot_write *w = batch; w; w = w->next) {
        w->rc = st->ops->key_apply_slots(st, w->who->account, w->key_id, &w->change, w->audit.at, &w->audit,
                                         &w->after);
        if (w->rc == KS_OK && w->share)
            w->share_rc = ks_share_store(svc, w->key_id, w->share);
    }
    if (grouped) {
        int rc = st->ops->batch_end(st, 1);
        for (ks_slot_write *w = batch; rc != KS_OK && w; w = w->next)
            if (w->rc == KS_OK)
                w->rc = rc;
    }
    /* The store read each key back in its transaction: that is what the
     * index and the caller get, with no second read. */
    for (ks_slot_write *w = batch; w; w = w->next)
        w->rc = ks_service_index_publish_key(svc, &w->after, w->rc, w->out);
    pthread_mutex_unlock(&svc->write_lock);
}

void ks_service_slot_write_init(ks_slot_write *w, const ks_actor *who, const char *key_id,
                                const ks_slot_change *change, const char *action, const char *detail,
                                const ks_event *event, ks_key *out)
{
    memset(w, 0, sizeof *w);
    w->who = who;
    w->key_id = key_id;
    w->change = *change;
    w->audit = ks_service_audit_of(who, action, key_id, detail);
    w->audit.event = event;
    w->out = out;
}

int ks_service_slots_change(ks_service *svc, const ks_actor *who, const char *key_id, const ks_slot_change *change,
                            const char *action, const char *detail, const ks_event *event, ks_key *out,
                            const ks_share_record *share, int *share_rc)
{
    ks_slot_write w;
    ks_service_slot_write_init(&w, who, key_id, change, action, detail, event, out);
    w.share = share;
    pthread_mutex_lock(&svc->group_lock);
    if (svc->group_tail)
        svc->group_tail->next = &w;
    else
        svc->group_head = &w;
    svc->group_tail = &w;
    while (!w.done) {
        if (svc->group_leader) {
            pthread_cond_wait(&svc->group_done, &svc->group_lock);
            continue;
        }
        svc->group_leader = 1;
        ks_slot_write *batch = svc->group_head, *last = batch;
        for (int n = 1; n < GROUP_MAX && last->next; n++)
            last = last->next;
        svc->group_head = last->next;
        if (!svc->group_head)
            svc->group_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&svc->group_lock);
        ks_service_slot_batch_run(svc, batch);
        pthread_mutex_lock(&svc->group_lock);
        for (ks_slot_write *b = batch, *next; b; b = next) {
            next = b->next; /* b may return (and its frame go) once done is set */
            b->done = 1;
        }
        svc->group_leader = 0;
        pthread_cond_broadcast(&svc->group_done);
    }
    pthread_mutex_unlock(&svc->group_lock);
    if (share_rc)
        *share_rc = w.share_rc;
    return w.rc;
}
