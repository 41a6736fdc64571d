/*
 * model.h - the records Keystile keeps: accounts' settings, roles, keys, audit.
 *
 * Plain structs owned by whoever filled them; each has a _free function that
 * releases what it points to (the struct itself is not freed) and is safe on a
 * zeroed struct. A string list owns its strings.
 */
#ifndef KS_CORE_MODEL_H
#define KS_CORE_MODEL_H

#include "core/credential.h"
#include "core/token_slots.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char **items; /* owned strings */
    size_t count;
} ks_strlist;

/* Appends a copy of s. KS_OK or KS_ERR_NOMEM. */
int ks_strlist_add(ks_strlist *l, const char *s);
/* 1 when the list holds s. */
int ks_strlist_contains(const ks_strlist *l, const char *s);
/* Deep copy of src into dst (dst zeroed first). KS_OK or KS_ERR_NOMEM. */
int ks_strlist_copy(ks_strlist *dst, const ks_strlist *src);
void ks_strlist_free(ks_strlist *l);

typedef struct {
    int token_duration_months; /* 3 or 6 */
    int enforce_duration;      /* outdated tokens fail with `expired` */
    int auto_delete_old_token_hours; /* 1-720, 0 = off (null in the API) */
    int renewal_notice_days;   /* 0-60: lead time of key.renewal_due */
    int deactivate_unused_days; /* 30-730: the sweeps deactivate keys unused that long; 0 = off (null) */
    int leaked_token_action;   /* KS_LEAKED_ALERT (default) or KS_LEAKED_REVOKE */
} ks_settings;

#define KS_DEACTIVATE_UNUSED_DAYS_MIN 30
#define KS_DEACTIVATE_UNUSED_DAYS_MAX 730

/* leaked_token_action: what a true positive of secret scanning does besides
 * the audit entry and the token.leaked event. */
enum { KS_LEAKED_ALERT = 0, KS_LEAKED_REVOKE = 1 };
/* "alert" or "revoke"; an unknown value reads as "alert". */
const char *ks_leaked_token_action_name(int action);
/* KS_LEAKED_ALERT for "alert", KS_LEAKED_REVOKE for "revoke", -1 for
 * anything else (NULL too). */
int ks_leaked_token_action_parse(const char *name);

#define KS_AUTO_DELETE_HOURS_MAX 720
#define KS_RENEWAL_NOTICE_DAYS_MAX 60
#define KS_RENEWAL_NOTICE_DAYS_DEFAULT 14
#define KS_SETTINGS_DEFAULT                                                                  \
    ((ks_settings){.token_duration_months = 3, .enforce_duration = 0,                         \
                   .auto_delete_old_token_hours = 0, .renewal_notice_days = KS_RENEWAL_NOTICE_DAYS_DEFAULT})

typedef struct {
    char *name;
    ks_strlist resources;
    int builtin;
} ks_role;
void ks_role_free(ks_role *r);

typedef enum { KS_KEY_ACTIVE = 1, KS_KEY_INACTIVE = 0 } ks_key_status;

/* A key's rate limit (core/key_limits.h): `limit` verifies at once,
 * refilled at `limit` per period_seconds; limit 0 = none. */
typedef struct {
    int64_t limit;
    int32_t period_seconds;
} ks_rate_limit;

/* An external grant: another account gives this key roles there. */
typedef struct {
    char account[KS_ACCOUNT_MAX + 1]; /* the granting account */
    int active;                       /* ks_key_status of the grant */
    int64_t created_at;               /* when it was added */
    ks_strlist roles;                 /* role names in the granting account */
} ks_grant;

typedef struct {
    char key_id[KS_KEY_ID_MAX + 1];
    char account[KS_ACCOUNT_MAX + 1]; /* home account */
    char *name;
    int active;            /* ks_key_status */
    int64_t created_at;
    int64_t seq;           /* store order: larger is newer; the list cursor */
    ks_token_slots slots;  /* hashes only, never a token */
    ks_strlist roles;      /* role names in the home account */
    ks_grant *grants;      /* external grants, ordered by account */
    size_t n_grants;
    ks_strlist allowed_cidrs; /* normalised ranges (core/key_limits.h); none = any address */
    ks_rate_limit rate_limit; /* limit 0 = none */
} ks_key;

/* The grant of `account` on key k, or NULL. */
const ks_grant *ks_key_grant(const ks_key *k, const char *account);
/* Appends an empty grant for account; returns it, NULL on NOMEM. */
ks_grant *ks_key_add_grant(ks_key *k, const char *account);
void ks_key_free(ks_key *k);

/* A webhook event raised by a write (core/events.h): the store writes it
 * to the outbox in the write's own transaction, one delivery per enabled
 * webhook of the account subscribed to `type` (or only to webhook_id). */
typedef struct {
    const char *id;         /* "msg_...": the webhook-id header, one per event */
    const char *type;       /* e.g. "token.renewed" */
    const char *body;       /* the JSON delivered; never a token */
    const char *webhook_id; /* only this webhook, whatever it subscribes to (test
                               events); NULL = every enabled webhook subscribed */
    int64_t at;             /* when it was raised */
} ks_event;

typedef struct {
    int64_t at;
    char account[KS_ACCOUNT_MAX + 1];
    const char *actor;  /* key id of the caller, or "cli" */
    const char *action; /* e.g. "key.renew" */
    const char *target; /* key id, role name or account */
    const char *detail; /* a JSON object as text; never a token */
    const char *via;    /* how the actor authenticated: "token", "session", "login",
                           "oidc", "system"; NULL = "system" */
    const char *address; /* the client address, NULL = none (the command line) */
    const ks_event *event; /* the webhook event of this write, NULL = none */
} ks_audit_entry;

typedef struct {
    int64_t id;
    int64_t at;
    char *actor, *action, *target, *detail;
    char *via, *address; /* NULL when not recorded */
} ks_audit_record;
void ks_audit_record_free(ks_audit_record *r);

#define KS_WEBHOOK_ID_MAX 24   /* "wh_" + 20 base32 characters */
#define KS_EVENT_ID_MAX 40     /* "msg_" + 26 base32 characters */
#define KS_WEBHOOK_URL_MAX 2048
#define KS_WEBHOOK_SEALED_MAX 96 /* nonce + secretbox of a 32-byte signing secret */

/* A webhook endpoint of an account. The signing secret is kept sealed
 * (secretbox under a key derived from the server secret): the service
 * opens it to sign, nobody reads it back through the API. */
typedef struct {
    char id[KS_WEBHOOK_ID_MAX + 1];
    char account[KS_ACCOUNT_MAX + 1];
    char *url;
    ks_strlist events;       /* event types it subscribes to */
    int enabled;
    int64_t created_at;
    unsigned char sealed_secret[KS_WEBHOOK_SEALED_MAX];
    size_t sealed_len;
} ks_webhook;
void ks_webhook_free(ks_webhook *w);

typedef enum {
    KS_DELIVERY_PENDING = 0,   /* waiting for its (next) attempt */
    KS_DELIVERY_DELIVERED = 1, /* the receiver answered 2xx */
    KS_DELIVERY_FAILED = 2,    /* no 2xx for 24 h: given up */
} ks_delivery_status;

/* One event for one webhook: a row of the outbox. */
typedef struct {
    int64_t id;                          /* outbox order; the list cursor */
    char webhook_id[KS_WEBHOOK_ID_MAX + 1];
    char account[KS_ACCOUNT_MAX + 1];
    char event_id[KS_EVENT_ID_MAX + 1];
    char *event;                         /* type */
    char *body;
    int status;                          /* ks_delivery_status */
    int attempts;
    int response_code;                   /* of the last attempt, 0 = no answer */
    int64_t created_at, last_attempt_at, next_attempt_at;
    /* set by delivery_claim only: where and with what to sign */
    char *url;
    unsigned char sealed_secret[KS_WEBHOOK_SEALED_MAX];
    size_t sealed_len;
} ks_delivery;
void ks_delivery_free(ks_delivery *d);

#endif
