/* token_slots.c - renew / delete old / undo renewal as pure transitions. */
#include "core/token_slots.h"
#include "core/error.h"

#include <string.h>

void ks_slots_init(ks_token_slots *s, const ks_digest *hash, int64_t now)
{
    memset(s, 0, sizeof *s);
    s->current.present = 1;
    s->current.hash = *hash;
    s->current.created_at = now;
}

static void token_set(ks_token *t, const ks_digest *hash, int64_t now)
{
    memset(t, 0, sizeof *t);
    t->present = 1;
    t->hash = *hash;
    t->created_at = now;
}

int ks_slots_apply(ks_token_slots *s, ks_slot_op op, const ks_digest *new_hash, int64_t now)
{
    ks_slot_change c = {.op = op, .new_hash = new_hash};
    return ks_slots_change(s, &c, now);
}

int ks_slots_change(ks_token_slots *s, const ks_slot_change *c, int64_t now)
{
    ks_slot_op op = c->op;
    const ks_digest *new_hash = c->new_hash;
    int64_t old_ends_at = c->old_ends_at;
    if (old_ends_at != 0 && (op != KS_SLOT_OP_RENEW_LATER || old_ends_at <= now))
        return KS_ERR_INVALID;
    if (op == KS_SLOT_OP_SWEEP_OLD && !ks_slots_old_due(s, now, c->auto_delete_hours))
        return KS_ERR_NO_OLD_TOKEN;
    /* An old token past its deadline is gone already (the sweep's
     * deletion only tidies up): nothing below may see it. The sweep itself
     * deletes it as it is. */
    ks_token_slots was = *s;
    if (op != KS_SLOT_OP_SWEEP_OLD && s->old.present && !ks_token_alive(&s->old, now))
        memset(&s->old, 0, sizeof s->old);
    int rc = KS_OK;
    switch (op) {
    case KS_SLOT_OP_RENEW_LATER:
        if (s->old.present) {
            rc = KS_ERR_OLD_TOKEN_EXISTS;
            break;
        }
        s->old = s->current;
        s->old.ends_at = old_ends_at;
        token_set(&s->current, new_hash, now);
        break;
    case KS_SLOT_OP_RENEW_NOW:
        if (s->old.present) {
            rc = KS_ERR_OLD_TOKEN_EXISTS;
            break;
        }
        token_set(&s->current, new_hash, now);
        break;
    case KS_SLOT_OP_DELETE_OLD:
    case KS_SLOT_OP_SWEEP_OLD:
        if (!s->old.present) {
            rc = KS_ERR_NO_OLD_TOKEN;
            break;
        }
        memset(&s->old, 0, sizeof s->old);
        break;
    case KS_SLOT_OP_UNDO_RENEWAL:
        if (!s->old.present) {
            rc = KS_ERR_NO_OLD_TOKEN;
            break;
        }
        s->current = s->old;
        s->current.ends_at = 0;
        memset(&s->old, 0, sizeof s->old);
        break;
    default:
        rc = KS_ERR_INVALID;
    }
    if (rc != KS_OK)
        *s = was;
    return rc;
}

int ks_slots_old_due(const ks_token_slots *s, int64_t now, int auto_delete_hours)
{
    const ks_token *old = &s->old, *cur = &s->current;
    if (!old->present)
        return 0;
    if (old->ends_at != 0 && now >= old->ends_at)
        return 1;
    if (auto_delete_hours <= 0 || !cur->present)
        return 0;
    /* The current token is in use (it verified since the renewal made it),
     * and the old one has been idle long enough. */
    int64_t renewed = cur->created_at;
    int64_t idle_since = old->last_used_at > renewed ? old->last_used_at : renewed;
    return cur->last_used_at >= renewed && cur->last_used_at != 0 &&
           now - idle_since >= (int64_t)auto_delete_hours * 3600;
}

ks_slot ks_slots_match(const ks_token_slots *s, const ks_digest *d)
{
    int is_current = s->current.present & ks_digest_equal(&s->current.hash, d);
    int is_old = s->old.present & ks_digest_equal(&s->old.hash, d);
    if (is_current)
        return KS_SLOT_CURRENT;
    return is_old ? KS_SLOT_OLD : KS_SLOT_NONE;
}

const char *ks_slot_name(ks_slot slot)
{
    return slot == KS_SLOT_OLD ? "old" : "current";
}
