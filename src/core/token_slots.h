/*
 * token_slots.h - the token-slot state machine of a key (API.md "Token slots and
 * renewal"): a key has a current token and at most one old token.
 *
 *   renew later : needs no old token  -> old = current, current = new;
 *                 the old token may get a deadline (ends_at)
 *   renew now   : needs no old token  -> current = new (previous dies at once)
 *   delete old  : needs an old token  -> old = none
 *   undo renewal: needs an old token  -> current = old, old = none (newer dies)
 *   sweep old   : as delete old; the sweeps use it (actor `system`) once
 *                 ks_slots_old_due says so, which the store checks in the
 *                 same transaction
 *
 * An old token past its deadline is gone: it matches nothing from that
 * second on (verify checks ks_token_alive), and every transition first
 * drops it, so undo renewal cannot bring it back and a renewal does not
 * meet it as "old token exists".
 *
 * Pure functions on a value: both store backends load the slots inside their
 * transaction, apply one of these and write the result back, so the rules live
 * here only. A refused transition returns its 409 code and leaves *s unchanged.
 */
#ifndef KS_CORE_TOKEN_SLOTS_H
#define KS_CORE_TOKEN_SLOTS_H

#include "core/netaddr.h"
#include "core/secret.h"
#include <stdint.h>

typedef enum { KS_SLOT_CURRENT = 0, KS_SLOT_OLD = 1, KS_SLOT_NONE = -1 } ks_slot;

/* Renewal notices raised for a token (bits of ks_token.notices): each is
 * raised once per token, by the notice sweep. */
enum {
    KS_NOTICE_DUE = 1 << 0,                /* key.renewal_due: within the notice days of expiry */
    KS_NOTICE_RECOMMENDED = 1 << 1,        /* key.renewal_recommended: past the duration */
    KS_NOTICE_HIGHLY_RECOMMENDED = 1 << 2, /* key.renewal_highly_recommended: 3 months past */
};

typedef struct {
    int present;          /* 0 when the slot is empty */
    ks_digest hash;       /* keyed hash of the token */
    int notices;          /* KS_NOTICE_* bits raised for this token */
    int64_t created_at;   /* when the token was made */
    int64_t last_used_at; /* last successful verify, 0 = never */
    ks_netaddr last_used_from; /* the caller's address of that verify; family 0 = unknown */
    int64_t ends_at;      /* old slot only: the instant it stops verifying, 0 = none */
} ks_token;

typedef struct {
    ks_token current; /* always present on a live key */
    ks_token old;     /* present only during a renewal overlap */
} ks_token_slots;

typedef enum { KS_DELETE_OLD_LATER = 0, KS_DELETE_OLD_NOW = 1 } ks_delete_old;

typedef enum {
    KS_SLOT_OP_RENEW_LATER,
    KS_SLOT_OP_RENEW_NOW,
    KS_SLOT_OP_DELETE_OLD,
    KS_SLOT_OP_UNDO_RENEWAL,
    KS_SLOT_OP_SWEEP_OLD,
} ks_slot_op;

#define KS_OLD_TOKEN_DEADLINE_MAX (30 * 86400) /* old_token_expires_at: at most 30 days ahead */

/* Makes slots for a new key whose only token has digest `hash`. */
void ks_slots_init(ks_token_slots *s, const ks_digest *hash, int64_t now);

/* Applies op (new_hash is used by the renew ops only). Returns KS_OK,
 * KS_ERR_OLD_TOKEN_EXISTS or KS_ERR_NO_OLD_TOKEN; on error *s is unchanged. */
int ks_slots_apply(ks_token_slots *s, ks_slot_op op, const ks_digest *new_hash, int64_t now);

/* One transition with its arguments, as the store applies it. */
typedef struct {
    ks_slot_op op;
    const ks_digest *new_hash; /* renew ops: the new token's digest */
    int64_t old_ends_at;       /* renew later: the old token's deadline, 0 = none */
    int auto_delete_hours;     /* sweep old: the account's auto_delete_old_token_hours
                                  (0 = off), for the ks_slots_old_due check */
} ks_slot_change;

/* Applies c at `now`: ks_slots_apply, where renew later gives the old token
 * the deadline c->old_ends_at (KS_ERR_INVALID for a deadline with another
 * op or not after now), and sweep old first checks ks_slots_old_due
 * (KS_ERR_NO_OLD_TOKEN when the old token is not due, or gone). On error
 * *s is unchanged. */
int ks_slots_change(ks_token_slots *s, const ks_slot_change *c, int64_t now);

/* 1 when t is present and, if it has a deadline, `now` is before it. */
static inline int ks_token_alive(const ks_token *t, int64_t now)
{
    return t->present && (t->ends_at == 0 || now < t->ends_at);
}

/* 1 when the sweeps should delete the old token at `now`: it is past its
 * deadline; or auto_delete_hours > 0 (the account's
 * auto_delete_old_token_hours) and the current token has verified since
 * the renewal while the old one has not verified for that many hours,
 * counted from its last use or from the renewal, whichever is later. */
int ks_slots_old_due(const ks_token_slots *s, int64_t now, int auto_delete_hours);

/* Which slot holds a token with digest d. Both slots are compared in constant
 * time whatever the outcome. */
__attribute__((warn_unused_result))
ks_slot ks_slots_match(const ks_token_slots *s, const ks_digest *d);

/* Name of a slot for the API ("current" / "old"). */
const char *ks_slot_name(ks_slot slot);

#endif
