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
} ks_settings;

#define KS_SETTINGS_DEFAULT ((ks_settings){3, 0})

typedef struct {
    char *name;
    ks_strlist resources;
    int builtin;
} ks_role;
void ks_role_free(ks_role *r);

typedef enum { KS_KEY_ACTIVE = 1, KS_KEY_INACTIVE = 0 } ks_key_status;

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
} ks_key;

/* The grant of `account` on key k, or NULL. */
const ks_grant *ks_key_grant(const ks_key *k, const char *account);
/* Appends an empty grant for account; returns it, NULL on NOMEM. */
ks_grant *ks_key_add_grant(ks_key *k, const char *account);
void ks_key_free(ks_key *k);

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
} ks_audit_entry;

typedef struct {
    int64_t id;
    int64_t at;
    char *actor, *action, *target, *detail;
    char *via, *address; /* NULL when not recorded */
} ks_audit_record;
void ks_audit_record_free(ks_audit_record *r);

#endif
