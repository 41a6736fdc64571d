/*
 * token_slots.h - the token-slot state machine of a key (API.md "Token slots and
 * renewal"): a key has a current token and at most one old token.
 *
 *   renew later : needs no old token  -> old = current, current = new
 *   renew now   : needs no old token  -> current = new (previous dies at once)
 *   delete old  : needs an old token  -> old = none
 *   undo renewal: needs an old token  -> current = old, old = none (newer dies)
 *
 * Pure functions on a value: both store backends load the slots inside their
 * transaction, apply one of these and write the result back, so the rules live
 * here only. A refused transition returns its 409 code and leaves *s unchanged.
 */
#ifndef KS_CORE_TOKEN_SLOTS_H
#define KS_CORE_TOKEN_SLOTS_H

#include "core/secret.h"
#include <stdint.h>

typedef enum { KS_SLOT_CURRENT = 0, KS_SLOT_OLD = 1, KS_SLOT_NONE = -1 } ks_slot;

typedef struct {
    int present;          /* 0 when the slot is empty */
    ks_digest hash;       /* keyed hash of the token */
    int64_t created_at;   /* when the token was made */
    int64_t last_used_at; /* last successful verify, 0 = never */
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
} ks_slot_op;

/* Makes slots for a new key whose only token has digest `hash`. */
void ks_slots_init(ks_token_slots *s, const ks_digest *hash, int64_t now);

/* Applies op (new_hash is used by the renew ops only). Returns KS_OK,
 * KS_ERR_OLD_TOKEN_EXISTS or KS_ERR_NO_OLD_TOKEN; on error *s is unchanged. */
int ks_slots_apply(ks_token_slots *s, ks_slot_op op, const ks_digest *new_hash, int64_t now);

/* Which slot holds a token with digest d. Both slots are compared in constant
 * time whatever the outcome. */
__attribute__((warn_unused_result))
ks_slot ks_slots_match(const ks_token_slots *s, const ks_digest *d);

/* Name of a slot for the API ("current" / "old"). */
const char *ks_slot_name(ks_slot slot);

#endif
