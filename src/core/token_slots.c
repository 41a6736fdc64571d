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
    switch (op) {
    case KS_SLOT_OP_RENEW_LATER:
        if (s->old.present)
            return KS_ERR_OLD_TOKEN_EXISTS;
        s->old = s->current;
        token_set(&s->current, new_hash, now);
        return KS_OK;
    case KS_SLOT_OP_RENEW_NOW:
        if (s->old.present)
            return KS_ERR_OLD_TOKEN_EXISTS;
        token_set(&s->current, new_hash, now);
        return KS_OK;
    case KS_SLOT_OP_DELETE_OLD:
        if (!s->old.present)
            return KS_ERR_NO_OLD_TOKEN;
        memset(&s->old, 0, sizeof s->old);
        return KS_OK;
    case KS_SLOT_OP_UNDO_RENEWAL:
        if (!s->old.present)
            return KS_ERR_NO_OLD_TOKEN;
        s->current = s->old;
        memset(&s->old, 0, sizeof s->old);
        return KS_OK;
    }
    return KS_ERR_INVALID;
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
