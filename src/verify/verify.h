/*
 * verify.h - THE hot path: is this key + token valid, and may it use
 * `resource` in account `target`? Answered from the in-memory index only.
 *
 * Order of checks (each failure is final):
 *   missing_credentials  key or token absent
 *   malformed_token      token fails the format/checksum (the hot path checks
 *                        the alphabet and checksum only for a token that
 *                        matched no slot, with the same answer)
 *   unknown_key          no such key
 *   invalid_token        token matches neither slot (constant-time compare), or
 *                        is an old token past its deadline (ends_at)
 *   inactive             key deactivated (said only to holders of its token)
 *   expired              account enforces the duration and this token is outdated
 *   address_not_allowed  the key has allowed_cidrs and the caller's address is
 *                        in none (only when the request gives the address)
 *   forbidden            no grant in `target` (the key's own roles at home, an
 *                        active external grant elsewhere), or its roles lack `resource`
 *   rate_limited         the key's rate limit is spent: only an answer that would
 *                        be 200 takes a token of its bucket (index/limits.h)
 * Management calls use the same function for authentication and then
 * check their resource on the returned resources.
 */
#ifndef KS_VERIFY_VERIFY_H
#define KS_VERIFY_VERIFY_H

#include "core/jwt.h"
#include "core/model.h"
#include "core/secret.h"
#include "core/netaddr.h"
#include "core/rate_bucket.h"
#include "index/key_index.h"

typedef enum {
    KS_VERIFY_OK = 0,
    KS_VERIFY_MISSING_CREDENTIALS,
    KS_VERIFY_MALFORMED_TOKEN,
    KS_VERIFY_UNKNOWN_KEY,
    KS_VERIFY_INVALID_TOKEN,
    KS_VERIFY_INACTIVE,
    KS_VERIFY_EXPIRED,
    KS_VERIFY_FORBIDDEN,
    KS_VERIFY_ADDRESS_NOT_ALLOWED, /* the caller's address is outside the key's allowed_cidrs */
    KS_VERIFY_RATE_LIMITED, /* the key's rate limit is spent; also the HTTP layer's answer to a
                               client address past its failed-credential limit */
} ks_verify_reason;

typedef struct {
    const char *key;      /* X-API-Key, NULL when absent */
    const char *token;    /* X-API-Token, NULL when absent */
    size_t token_len;
    const char *target;   /* account=, NULL = the key's home account */
    const char *resource; /* resource=, NULL = none required */
    /* The caller's address, asked for only when the key has allowed_cidrs
     * or a rate limit; NULL: the key's limits are not checked (management
     * calls, which the limits do not cover). */
    void (*client)(void *ctx, ks_netaddr *out);
    void *client_ctx;
    /* The request's arrival on the monotonic clock in nanoseconds (the
     * HTTP handler has read it already, for its latency); 0: a key with a
     * rate limit reads the clock itself. */
    int64_t mono_ns;
    /* ks_index_key_prefetch(idx, key) when the caller took it early, in the
     * same read section (so the key's table slot is on its way while the
     * caller does other work); 0: verify takes it. */
    uint64_t key_hash;
} ks_verify_request;

typedef struct {
    ks_verify_reason reason;
    char key_id[KS_KEY_ID_MAX + 1];
    char account[KS_ACCOUNT_MAX + 1];        /* the key's home account */
    char target_account[KS_ACCOUNT_MAX + 1]; /* the account asked about */
    ks_slot slot;                            /* which token matched */
    int outdated;                            /* that token is past its duration */
    ks_strlist roles;                        /* role names in the target account */
    ks_strlist resources;                    /* sorted, unique union of their resources */
} ks_verify_result;

/* Runs the checks above at time `now`; fills *out (free with
 * ks_verify_result_free). Returns KS_OK, or KS_ERR_NOMEM (out->reason is
 * then meaningless). Records last use of the token on success. */
__attribute__((warn_unused_result))
int ks_verify(ks_index *idx, const ks_secret *secret, const ks_verify_request *req, int64_t now,
              ks_verify_result *out);

/* The API token a web admin session or a login token was made with. Exactly
 * one of the two is set; with neither, nothing matches. */
typedef struct {
    const ks_digest *token_hash; /* a session: the token's keyed hash (ks_token_hash) */
    const char *token_fp;        /* a login token: ks_jwt_token_fingerprint of it
                                    (KS_JWT_FP_LEN chars) */
} ks_token_binding;

/* The checks of ks_verify for key_id as if its holder presented the token
 * of `binding`, so a session or login token works exactly while that token
 * verifies: invalid_token once it left the key's slots (renew now, undo
 * renewal, delete old token), inactive, expired (its own age), unknown_key,
 * forbidden as for the token. Both present slots are compared in constant
 * time. No last use is recorded (only verify calls count). KS_OK or
 * KS_ERR_NOMEM, as ks_verify; free *out with ks_verify_result_free. */
__attribute__((warn_unused_result))
int ks_verify_bound(ks_index *idx, const char *key_id, const ks_token_binding *binding, const char *target,
                    const char *resource, int64_t now, ks_verify_result *out);

/* What ks_verify_found saw, pointing into the index: valid only inside the
 * read section it was made in. Fields are set as far as the checks got. */
typedef struct {
    ks_verify_reason reason;
    const ks_index_key *key;          /* from INVALID_TOKEN on */
    ks_slot slot;                     /* from INACTIVE on */
    int outdated;                     /* from EXPIRED on */
    const ks_index_account *target;   /* from FORBIDDEN on; NULL when no grant */
    const ks_index_view *view;        /* the grant there, NULL when no grant */
    ks_rate_outcome rate;             /* OK or RATE_LIMITED of a key with a rate limit
                                         (rate.limit > 0): its bucket after this verify */
} ks_verify_found;

/* The hot path: ks_verify without copying or allocating anything. Call it
 * between ks_index_read_lock and ks_index_read_unlock and use *out before
 * unlocking. `digest` is the token's keyed hash (ks_token_hash), computed by
 * the caller before entering the section; NULL matches no token
 * (invalid_token): sessions and login tokens use ks_verify_bound_in. Only the lookup and later checks run
 * here: the credential's presence and format are the caller's (as
 * ks_verify_token_in checks them). */
void ks_verify_found_in(ks_index *idx, const char *key_id, size_t key_len, const ks_digest *digest,
                        const char *target, const char *resource, int64_t now, ks_verify_found *out);

/* ks_verify_bound without copying: inside a read section, as
 * ks_verify_found_in. */
void ks_verify_bound_in(ks_index *idx, const char *key_id, size_t key_len, const ks_token_binding *binding,
                        const char *target, const char *resource, int64_t now, ks_verify_found *out);

/* The hot path for a key + token: every check of ks_verify, in order,
 * without copying or allocating. The token is matched by the tag its slot
 * remembered when a verify proved it before (key_index.h "token tags"),
 * else by its keyed hash (the secret's, set up in hasher), which then
 * leaves the tag; both while the key's entry is fetched from memory.
 * Call it inside a read section of idx and use *out before leaving it. */
void ks_verify_token_in(ks_index *idx, const ks_token_hasher *hasher, const ks_verify_request *req, int64_t now,
                        ks_verify_found *out);

void ks_verify_result_free(ks_verify_result *r);

/* The grant part of a 200 verify body, "\"roles\":[...],\"resources\":[...]",
 * escaped by jansson (a string that is not valid UTF-8 is left out), in
 * malloc memory of *len bytes; NULL when out of memory. Made once per role
 * set: it is the index's view text (ks_index_set_view_text), which the
 * verify answer copies (grant_text.c). */
char *ks_verify_grant_text(const char *const *roles, size_t n_roles, const char *const *resources,
                           size_t n_resources, size_t *len);

/* One row per reason, the only place a reason is spelled out: its name in
 * the API ("missing_credentials", ...; "ok" for KS_VERIFY_OK), the status
 * of the verify answer (200, 401, 403 or 429), the body of a failed answer,
 * {"valid":false,"reason":"<name>"}, as a constant string, and whether it
 * counts as a failed credential of the client address. A credential that
 * is right but not usable (inactive, expired, forbidden) is not a guess and
 * does not count; neither does a request without one. */
typedef struct {
    const char *name;
    int http_status;
    const char *failure_body;
    int failed_credential; /* a wrong credential (malformed, unknown key, wrong token):
                              counted against the client address (API.md "Abuse limits") */
} ks_verify_reason_row;

#define KS_VERIFY_REASONS (KS_VERIFY_RATE_LIMITED + 1) /* rows in the table */

/* The row of `reason`; a value outside the enum gets invalid_token's row. */
const ks_verify_reason_row *ks_verify_reason_row_of(ks_verify_reason reason);

/* ks_verify_reason_row_of(reason)->name. */
const char *ks_verify_reason_name(ks_verify_reason reason);

#endif
