/* error.c - the single table from Keystile error codes to HTTP status and API code. */
#include "core/error.h"

static const ks_error_info_t ERROR_TABLE[] = {
    [0] = {200, "ok", "ok"},
    [-KS_ERR_INVALID] = {400, "invalid_request", "The request is not valid."},
    [-KS_ERR_UNAUTHENTICATED] = {401, "unauthenticated", "Missing or invalid credentials."},
    [-KS_ERR_EXPIRED] = {401, "expired", "The API token is outdated and this account enforces the token duration; renew it."},
    [-KS_ERR_FORBIDDEN] = {403, "forbidden", "The credential lacks the permission for this action in this account."},
    [-KS_ERR_NOT_FOUND] = {404, "not_found", "Not found."},
    [-KS_ERR_METHOD] = {405, "method_not_allowed", "This method is not allowed on this path."},
    [-KS_ERR_OLD_TOKEN_EXISTS] = {409, "old_token_exists", "The key still has an old token: delete it or undo the renewal first."},
    [-KS_ERR_NO_OLD_TOKEN] = {409, "no_old_token", "The key has no old token."},
    [-KS_ERR_NAME_TAKEN] = {409, "name_taken", "That name is already taken."},
    [-KS_ERR_ROLE_IN_USE] = {409, "role_in_use", "The role is still given to at least one key."},
    [-KS_ERR_BUILTIN_ROLE] = {409, "builtin_role", "Built-in roles cannot be changed or deleted."},
    [-KS_ERR_GONE] = {410, "gone", "This link was already used or has expired."},
    [-KS_ERR_TOO_LARGE] = {413, "payload_too_large", "The request body is larger than 64 KiB."},
    [-KS_ERR_MEDIA_TYPE] = {415, "unsupported_media_type", "Send the body as JSON with the header Content-Type: application/json."},
    [-KS_ERR_RATE_LIMITED] = {429, "rate_limited", "Too many requests."},
    [-KS_ERR_INTERNAL] = {500, "internal", "Internal error."},
    [-KS_ERR_STORAGE] = {503, "storage_unavailable", "The store cannot take writes right now; verify keeps working."},
    [-KS_ERR_NOMEM] = {500, "internal", "Internal error."},
    [-KS_ERR_LAST_OWNER] = {409, "last_owner", "This is the account's last active key holding Owner: give Owner to another active key first."},
};

const ks_error_info_t *ks_error_info(int err)
{
    int i = -err;
    if (i < 0 || i >= (int)(sizeof ERROR_TABLE / sizeof ERROR_TABLE[0]) || !ERROR_TABLE[i].code)
        return &ERROR_TABLE[-KS_ERR_INTERNAL];
    return &ERROR_TABLE[i];
}
