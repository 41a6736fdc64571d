/*
 * verify.c - credential check against the in-memory index (see verify.h).
 *
 * ks_verify_found_in is the whole decision and touches nothing but the
 * index: no lock, no allocation, no calendar arithmetic (expiry instants are
 * precomputed in the entry). ks_verify and ks_verify_bound wrap it for the
 * management calls and copy what it found into a ks_verify_result.
 * ks_verify_bound_in is the same decision for a session or login token:
 * only the slot is found another way (by the token it was made with).
 */
#include "verify/verify.h"
#include "core/clock.h"
#include "core/error.h"
#include "index/limits.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define REASON(code, name, status, failed) \
    [code] = {name, status, "{\"valid\":false,\"reason\":\"" name "\"}", failed}
static const ks_verify_reason_row REASONS[KS_VERIFY_REASONS] = {
    REASON(KS_VERIFY_OK, "ok", 200, 0),
    REASON(KS_VERIFY_MISSING_CREDENTIALS, "missing_credentials", 401, 0),
    REASON(KS_VERIFY_MALFORMED_TOKEN, "malformed_token", 401, 1),
    REASON(KS_VERIFY_UNKNOWN_KEY, "unknown_key", 401, 1),
    REASON(KS_VERIFY_INVALID_TOKEN, "invalid_token", 401, 1),
    REASON(KS_VERIFY_INACTIVE, "inactive", 401, 0),
    REASON(KS_VERIFY_EXPIRED, "expired", 401, 0),
    REASON(KS_VERIFY_FORBIDDEN, "forbidden", 403, 0),
    REASON(KS_VERIFY_ADDRESS_NOT_ALLOWED, "address_not_allowed", 403, 0),
    REASON(KS_VERIFY_RATE_LIMITED, "rate_limited", 429, 0),
};
#undef REASON

const ks_verify_reason_row *ks_verify_reason_row_of(ks_verify_reason reason)
{
    return &REASONS[(unsigned)reason < KS_VERIFY_REASONS ? reason : KS_VERIFY_INVALID_TOKEN];
}

const char *ks_verify_reason_name(ks_verify_reason reason)
{
    return ks_verify_reason_row_of(reason)->name;
}

void ks_verify_result_free(ks_verify_result *r)
{
    ks_strlist_free(&r->roles);
    ks_strlist_free(&r->resources);
}

/* 1 when the sorted list holds s. */
static int sorted_contains(const char *const *items, size_t n, const char *s)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(items[mid], s);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The key's allowed ranges (index/limits.h), when the request gives the
 * caller's address (then kept in *addr for the touch): 0 after setting
 * out->reason to address_not_allowed. */
static int address_allowed(const ks_index_key *key, const ks_verify_request *req, ks_netaddr *addr,
                           const ks_netaddr **known, ks_verify_found *out)
{
    if (!req || !req->client || key->limits->n_cidrs == 0)
        return 1;
    req->client(req->client_ctx, addr);
    *known = addr;
    if (ks_index_limits_address_ok(key->limits, addr))
        return 1;
    out->reason = KS_VERIFY_ADDRESS_NOT_ALLOWED;
    return 0;
}

/* Records the success as the slot's last use, with the caller's address
 * (known already, or asked for now) when the request gives one. Only
 * called for the first success of the slot in a second. */
__attribute__((noinline)) static void touch_slot(const ks_index_key *key, ks_slot slot, int64_t now,
                                                 const ks_verify_request *req, const ks_netaddr *known)
{
    ks_netaddr a;
    if (!known && req && req->client) {
        req->client(req->client_ctx, &a);
        known = &a;
    }
    ks_index_touch(key, slot, now, known);
}

/* The checks from the lookup on, for the entry `key` (NULL: unknown) whose
 * token in `slot` was presented (KS_SLOT_NONE: none matched). With touch,
 * a success is recorded as the slot's last use (with req's caller address
 * when it gives one). With req (the caller's address known), the key's
 * limits are checked too; the bucket at monotonic mono_ns (0: read now). */
static inline void decide_slot(const ks_index *idx, const ks_index_key *key, ks_slot slot, int touch,
                               const ks_verify_request *req, const char *target, const char *resource, int64_t now,
                               int64_t mono_ns, ks_verify_found *out)
{
    if (!key) {
        out->reason = KS_VERIFY_UNKNOWN_KEY;
        return;
    }
    out->key = key;
    /* An old token past its deadline (renew's old_token_expires_at) is
     * gone from that second on, on every node, before any sweep deletes it. */
    if (slot == KS_SLOT_OLD && !ks_index_old_alive(key, now))
        slot = KS_SLOT_NONE;
    if (slot == KS_SLOT_NONE) {
        out->reason = KS_VERIFY_INVALID_TOKEN;
        return;
    }
    out->slot = slot;
    if (!key->active) {
        out->reason = KS_VERIFY_INACTIVE;
        return;
    }
    ks_settings home;
    int home_known = ks_index_account_settings(key->account, &home);
    out->outdated = now > ks_index_token_expiry(key, slot, home.token_duration_months);
    if (out->outdated && home.enforce_duration) {
        out->reason = KS_VERIFY_EXPIRED;
        return;
    }
    ks_netaddr addr;
    const ks_netaddr *known = NULL; /* the caller's address, once asked for */
    if (__builtin_expect(key->limits != NULL, 0) && !address_allowed(key, req, &addr, &known, out))
        return;
    out->reason = KS_VERIFY_FORBIDDEN;
    /* At home the key's own roles count; elsewhere only an active external grant's. */
    size_t home_len;
    const char *home_name = ks_index_account_name(key->account, &home_len);
    const ks_index_roleset *roles = NULL;
    if (!target || (strncmp(target, home_name, home_len) == 0 && target[home_len] == '\0')) {
        out->target = key->account;
        roles = home_known ? key->roles : NULL;
    } else {
        for (uint32_t i = 0; i < key->n_grants && !roles; i++) {
            const ks_index_grant *g = &key->grants[i];
            size_t len;
            const char *name = ks_index_account_name(g->account, &len);
            ks_settings unused;
            if (g->active && strncmp(target, name, len) == 0 && target[len] == '\0' &&
                ks_index_account_settings(g->account, &unused)) {
                out->target = g->account;
                roles = g->roles;
            }
        }
    }
    if (!roles)
        return;
    out->view = ks_index_roleset_view(roles);
    if (resource && !sorted_contains(out->view->resources, out->view->n_resources, resource))
        return;
    if (__builtin_expect(key->limits != NULL, 0) && req && req->client && key->limits->rate_limit > 0) {
        if (!mono_ns)
            mono_ns = (int64_t)(ks_clock_monotonic() * 1e9);
        ks_index_limits_take(idx, key->limits, mono_ns, &out->rate);
        if (!out->rate.allowed) {
            out->reason = KS_VERIFY_RATE_LIMITED;
            return;
        }
    }
    out->reason = KS_VERIFY_OK;
    if (touch && ks_index_touch_due(key, slot, now))
        touch_slot(key, slot, now, req, known);
}

/* decide_slot for a token of keyed hash `digest` (NULL matches no token:
 * nothing is accepted without one). */
static inline void decide(const ks_index *idx, const ks_index_key *key, const ks_digest *digest,
                          const ks_verify_request *req, const char *target, const char *resource, int64_t now,
                          int64_t mono_ns, ks_verify_found *out)
{
    ks_slot slot = key && digest ? ks_index_slots_match(key, digest) : KS_SLOT_NONE;
    decide_slot(idx, key, slot, digest != NULL, req, target, resource, now, mono_ns, out);
}

/* Which slot holds the token with fingerprint fp (KS_JWT_FP_LEN chars): as
 * ks_index_slots_match, both slots compared in constant time. */
static ks_slot slot_match_fingerprint(const ks_index_key *key, const char *fp)
{
    static const ks_digest none; /* an absent slot: compared all the same, never matched */
    int match[2];
    for (int i = 0; i < 2; i++) {
        char mine[KS_JWT_FP_LEN + 1];
        const ks_index_token *t = ks_index_slot(key, i);
        ks_jwt_token_fingerprint(t ? &t->hash : &none, mine);
        match[i] = (t != NULL) & (sodium_memcmp(mine, fp, KS_JWT_FP_LEN) == 0);
        sodium_memzero(mine, sizeof mine);
    }
    if (match[0])
        return KS_SLOT_CURRENT;
    return match[1] ? KS_SLOT_OLD : KS_SLOT_NONE;
}

void ks_verify_bound_in(ks_index *idx, const char *key_id, size_t key_len, const ks_token_binding *binding,
                        const char *target, const char *resource, int64_t now, ks_verify_found *out)
{
    memset(out, 0, sizeof *out);
    out->slot = KS_SLOT_NONE;
    const ks_index_key *key = ks_index_find_key(idx, key_id, key_len);
    ks_slot slot = KS_SLOT_NONE;
    if (key && binding->token_hash)
        slot = ks_index_slots_match(key, binding->token_hash);
    else if (key && binding->token_fp && strnlen(binding->token_fp, KS_JWT_FP_LEN + 1) == KS_JWT_FP_LEN)
        slot = slot_match_fingerprint(key, binding->token_fp);
    decide_slot(idx, key, slot, 0, NULL, target, resource, now, 0, out);
}

void ks_verify_found_in(ks_index *idx, const char *key_id, size_t key_len, const ks_digest *digest,
                        const char *target, const char *resource, int64_t now, ks_verify_found *out)
{
    memset(out, 0, sizeof *out);
    out->slot = KS_SLOT_NONE;
    decide(idx, ks_index_find_key(idx, key_id, key_len), digest, NULL, target, resource, now, 0, out);
}

void ks_verify_token_in(ks_index *idx, const ks_token_hasher *hasher, const ks_verify_request *req, int64_t now,
                        ks_verify_found *out)
{
    memset(out, 0, sizeof *out);
    out->slot = KS_SLOT_NONE;
    /* Start fetching the key's table slot, then its entry, so the memory
     * waits overlap the format check and the keyed hash. */
    size_t key_len = req->key ? strnlen(req->key, KS_KEY_ID_MAX + 1) : 0;
    uint64_t h = req->key_hash;
    if (!h && key_len > 0 && key_len <= KS_KEY_ID_MAX)
        h = ks_index_key_prefetch(idx, req->key, key_len);
    /* The checks before the lookup (missing_credentials, malformed_token),
     * with most of their work left for later: a token whose keyed hash is
     * in one of the key's slots was made with its alphabet and checksum, and
     * a key id the index holds is well formed; only a token that matched no
     * slot needs the token's format checked (below), and an ill-formed or
     * too long key id is simply not found. The length and prefix are
     * checked first: nothing longer is hashed. */
    if (!req->key || !*req->key || !req->token || req->token_len == 0) {
        out->reason = KS_VERIFY_MISSING_CREDENTIALS;
        return;
    }
    if (req->token_len != KS_TOKEN_LEN || memcmp(req->token, KS_TOKEN_PREFIX, sizeof KS_TOKEN_PREFIX - 1) != 0) {
        out->reason = KS_VERIFY_MALFORMED_TOKEN;
        return;
    }
    /* The entry the key's slot points to, fetched while the token is
     * hashed; its key id is compared after (ks_index_key_candidate). */
    ks_index_probe probe;
    const ks_index_key *cand = key_len <= KS_KEY_ID_MAX ? ks_index_key_candidate(idx, h, &probe) : NULL;
    int64_t mono_ns = req->mono_ns; /* for a rate-limited key; 0: read when needed */
    if (cand) {
        /* every line of an entry without an old token (216 bytes, anywhere in a line) */
        const char *at = (const char *)cand;
        __builtin_prefetch(at);
        __builtin_prefetch(at + 64);
        __builtin_prefetch(at + 128);
        __builtin_prefetch(at + ks_index_key_size(KS_SLOT_CURRENT + 1) - 1);
        if (__builtin_expect(probe.limited, 0)) {
            /* Its limits too: their pointer is in the entry's first line,
             * waited for here (for keys with limits only). A rate-limited
             * key's bucket is taken at the request's arrival: the caller's
             * reading, or the clock read now, while the fetches above are
             * under way (read after them, it waited for them: 0.94 instead
             * of 0.96 of a key without limits, bench/RESULTS.md). */
            __builtin_prefetch(cand->limits);
            __builtin_prefetch((const char *)cand->limits + 64);
            if (!mono_ns && (cand->present & KS_INDEX_RATE_LIMITED) && req->client)
                mono_ns = (int64_t)(ks_clock_monotonic() * 1e9);
        }
    }
    /* A token verified before matches its slot's tag (key_index.h "token
     * tags"); any other is proved, or refused, by its keyed hash, and a
     * proved one leaves its tag for the next time. */
    ks_index_tag tag;
    ks_index_tag_of(idx, req->token, req->token_len, &tag);
    const ks_index_key *key = ks_index_key_confirm(cand, &probe, req->key, key_len);
    ks_slot slot = key ? ks_index_slots_match_tag(key, &tag) : KS_SLOT_NONE;
    if (slot == KS_SLOT_NONE) {
        ks_digest digest;
        ks_token_hasher_hash(hasher, req->token, req->token_len, &digest);
        slot = key ? ks_index_slots_match(key, &digest) : KS_SLOT_NONE;
        sodium_memzero(&digest, sizeof digest);
        if (slot != KS_SLOT_NONE)
            ks_index_remember_tag(key, slot, &tag);
    }
    sodium_memzero(&tag, sizeof tag);
    decide_slot(idx, key, slot, 1, req, req->target, req->resource, now, mono_ns, out);
    /* No slot matched (unknown key, invalid token; nothing was taken or
     * touched): a token of the wrong format answers malformed_token, ahead
     * of both, as when it was checked before the lookup. */
    if (out->slot == KS_SLOT_NONE && ks_token_check_format(req->token, req->token_len) != KS_OK) {
        memset(out, 0, sizeof *out);
        out->slot = KS_SLOT_NONE;
        out->reason = KS_VERIFY_MALFORMED_TOKEN;
    }
}

/* Copies what the checks found into the caller's result. */
static int result_fill(const ks_verify_found *f, const char *target, ks_verify_result *out)
{
    out->reason = f->reason;
    out->slot = f->slot;
    out->outdated = f->outdated;
    if (!f->key || f->reason == KS_VERIFY_INVALID_TOKEN)
        return KS_OK;
    size_t len;
    const char *home = ks_index_account_name(f->key->account, &len);
    memcpy(out->account, home, len);
    out->account[len] = '\0';
    if (f->reason == KS_VERIFY_INACTIVE || f->reason == KS_VERIFY_EXPIRED)
        return KS_OK;
    const char *t = target ? target : out->account;
    size_t tlen = strnlen(t, KS_ACCOUNT_MAX);
    memcpy(out->target_account, t, tlen);
    out->target_account[tlen] = '\0';
    if (!f->view)
        return KS_OK;
    for (size_t i = 0; i < f->view->n_roles; i++)
        if (ks_strlist_add(&out->roles, f->view->roles[i]) != KS_OK)
            return KS_ERR_NOMEM;
    for (size_t i = 0; i < f->view->n_resources; i++)
        if (ks_strlist_add(&out->resources, f->view->resources[i]) != KS_OK)
            return KS_ERR_NOMEM;
    return KS_OK;
}

/* The lookup and what follows for the token of binding, copied into *out;
 * KS_OK or NOMEM. */
static int verify_copy(ks_index *idx, const char *key_id, size_t key_len, const ks_token_binding *binding,
                       const char *target, const char *resource, int64_t now, ks_verify_result *out)
{
    memcpy(out->key_id, key_id, key_len);
    out->key_id[key_len] = '\0';
    if (ks_index_read_lock(idx) != 0)
        return KS_ERR_NOMEM;
    ks_verify_found found;
    ks_verify_bound_in(idx, key_id, key_len, binding, target, resource, now, &found);
    int rc = result_fill(&found, target, out);
    ks_index_read_unlock(idx);
    if (rc != KS_OK)
        ks_verify_result_free(out);
    return rc;
}

int ks_verify(ks_index *idx, const ks_secret *secret, const ks_verify_request *req, int64_t now,
              ks_verify_result *out)
{
    memset(out, 0, sizeof *out);
    out->slot = KS_SLOT_NONE;
    if (ks_index_read_lock(idx) != 0)
        return KS_ERR_NOMEM;
    ks_token_hasher hasher;
    ks_token_hasher_init(&hasher, secret);
    ks_verify_found found;
    ks_verify_token_in(idx, &hasher, req, now, &found);
    ks_token_hasher_wipe(&hasher);
    int rc = KS_OK;
    /* As before the lookup: the key id is reported once it has the key format. */
    if (found.key ||
        (found.reason == KS_VERIFY_UNKNOWN_KEY && strnlen(req->key, KS_KEY_ID_MAX + 1) <= KS_KEY_ID_MAX &&
         ks_key_id_parse(req->key, NULL) == KS_OK)) {
        size_t len = strnlen(req->key, KS_KEY_ID_MAX);
        memcpy(out->key_id, req->key, len);
        out->key_id[len] = '\0';
        rc = result_fill(&found, req->target, out);
    } else {
        out->reason = found.reason;
    }
    ks_index_read_unlock(idx);
    if (rc != KS_OK)
        ks_verify_result_free(out);
    return rc;
}

int ks_verify_bound(ks_index *idx, const char *key_id, const ks_token_binding *binding, const char *target,
                    const char *resource, int64_t now, ks_verify_result *out)
{
    memset(out, 0, sizeof *out);
    out->slot = KS_SLOT_NONE;
    if (!key_id || ks_key_id_parse(key_id, NULL) != KS_OK) {
        out->reason = KS_VERIFY_UNKNOWN_KEY;
        return KS_OK;
    }
    return verify_copy(idx, key_id, strlen(key_id), binding, target, resource, now, out);
}
