/* verify.c - credential check against the in-memory index (see verify.h). */
#include "verify/verify.h"
#include "core/error.h"
#include "core/token_age.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ks_verify_reason_name(ks_verify_reason reason)
{
    static const char *const NAMES[] = {
        "ok", "missing_credentials", "malformed_token", "unknown_key",
        "invalid_token", "inactive", "expired", "forbidden",
    };
    return (unsigned)reason < sizeof NAMES / sizeof *NAMES ? NAMES[reason] : "invalid_token";
}

void ks_verify_result_free(ks_verify_result *r)
{
    ks_strlist_free(&r->roles);
    ks_strlist_free(&r->resources);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Copies the roles and the union of their resources (sorted, unique). */
static int collect_grant(const ks_index_account *acct, const ks_strlist *roles, ks_verify_result *out)
{
    for (size_t i = 0; i < roles->count; i++) {
        if (ks_strlist_add(&out->roles, roles->items[i]) != KS_OK)
            return KS_ERR_NOMEM;
        const ks_index_role *role = ks_index_find_role(acct, roles->items[i]);
        for (size_t j = 0; role && j < role->resources.count; j++)
            if (!ks_strlist_contains(&out->resources, role->resources.items[j]) &&
                ks_strlist_add(&out->resources, role->resources.items[j]) != KS_OK)
                return KS_ERR_NOMEM;
    }
    if (out->resources.count > 1)
        qsort(out->resources.items, out->resources.count, sizeof *out->resources.items, compare_strings);
    return KS_OK;
}

/* The checks that need the index; called under its read lock. */
static int verify_locked(ks_index *idx, const ks_digest *digest, const ks_verify_request *req,
                         int64_t now, ks_verify_result *out)
{
    const ks_index_key *key = ks_index_find_key(idx, req->key);
    if (!key) {
        out->reason = KS_VERIFY_UNKNOWN_KEY;
        return KS_OK;
    }
    /* digest NULL: the caller proved the identity otherwise (a session). */
    ks_slot slot = digest ? ks_slots_match(&key->slots, digest) : KS_SLOT_CURRENT;
    if (slot == KS_SLOT_NONE) {
        out->reason = KS_VERIFY_INVALID_TOKEN;
        return KS_OK;
    }
    snprintf(out->account, sizeof out->account, "%s", key->account);
    out->slot = slot;
    if (!key->active) {
        out->reason = KS_VERIFY_INACTIVE;
        return KS_OK;
    }
    const ks_index_account *home = ks_index_find_account(idx, key->account);
    const ks_token *token = slot == KS_SLOT_OLD ? &key->slots.old : &key->slots.current;
    int months = home ? home->settings.token_duration_months : 3;
    out->outdated = ks_token_outdated(token->created_at, months, now);
    if (out->outdated && home && home->settings.enforce_duration) {
        out->reason = KS_VERIFY_EXPIRED;
        return KS_OK;
    }
    const char *target = req->target ? req->target : key->account;
    snprintf(out->target_account, sizeof out->target_account, "%s", target);
    /* At home the key's own roles count; elsewhere only an active external grant's. */
    const ks_strlist *roles = NULL;
    const ks_index_account *acct = NULL;
    if (strcmp(target, key->account) == 0) {
        roles = &key->roles;
        acct = home;
    } else {
        for (size_t i = 0; i < key->n_grants && !roles; i++)
            if (key->grants[i].active && strcmp(key->grants[i].account, target) == 0)
                roles = &key->grants[i].roles;
        acct = roles ? ks_index_find_account(idx, target) : NULL;
    }
    if (!roles || !acct) {
        out->reason = KS_VERIFY_FORBIDDEN;
        return KS_OK;
    }
    if (collect_grant(acct, roles, out) != KS_OK)
        return KS_ERR_NOMEM;
    if (req->resource && !ks_strlist_contains(&out->resources, req->resource)) {
        out->reason = KS_VERIFY_FORBIDDEN;
        return KS_OK;
    }
    out->reason = KS_VERIFY_OK;
    if (digest)
        ks_index_touch(key, slot, now);
    return KS_OK;
}

int ks_verify(ks_index *idx, const ks_secret *secret, const ks_verify_request *req, int64_t now,
              ks_verify_result *out)
{
    memset(out, 0, sizeof *out);
    out->slot = KS_SLOT_NONE;
    if (!req->key || !*req->key || !req->token || req->token_len == 0) {
        out->reason = KS_VERIFY_MISSING_CREDENTIALS;
        return KS_OK;
    }
    if (ks_token_check_format(req->token, req->token_len) != KS_OK) {
        out->reason = KS_VERIFY_MALFORMED_TOKEN;
        return KS_OK;
    }
    if (strnlen(req->key, KS_KEY_ID_MAX + 1) > KS_KEY_ID_MAX || ks_key_id_parse(req->key, NULL) != KS_OK) {
        out->reason = KS_VERIFY_UNKNOWN_KEY;
        return KS_OK;
    }
    snprintf(out->key_id, sizeof out->key_id, "%s", req->key);
    ks_digest digest;
    ks_token_hash(secret, req->token, req->token_len, &digest);
    ks_index_read_lock(idx);
    int rc = verify_locked(idx, &digest, req, now, out);
    ks_index_read_unlock(idx);
    sodium_memzero(&digest, sizeof digest);
    if (rc != KS_OK)
        ks_verify_result_free(out);
    return rc;
}

int ks_verify_key_id(ks_index *idx, const char *key_id, const char *target, const char *resource,
                     int64_t now, ks_verify_result *out)
{
    memset(out, 0, sizeof *out);
    out->slot = KS_SLOT_NONE;
    if (!key_id || ks_key_id_parse(key_id, NULL) != KS_OK) {
        out->reason = KS_VERIFY_UNKNOWN_KEY;
        return KS_OK;
    }
    snprintf(out->key_id, sizeof out->key_id, "%s", key_id);
    ks_verify_request req = {key_id, NULL, 0, target, resource};
    ks_index_read_lock(idx);
    int rc = verify_locked(idx, NULL, &req, now, out);
    ks_index_read_unlock(idx);
    if (rc != KS_OK)
        ks_verify_result_free(out);
    return rc;
}
